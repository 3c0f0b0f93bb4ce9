"""A claim-detection model learned from decided data: which candidates are cues, how far a cue
reaches, and where a claim's source and content begin and end.

Decided data is a list of `ClaimExample`s: a text, its attributions (source / cue / content as
lists of (start, end) character pieces, any of them possibly missing) and its negatives
(attributions an analyst rejected). `train_claim_model` parses the texts with the project's
spaCy pipeline and learns four logistic regressions over sparse parse features:

- cue: is this candidate (annotation.claims.cue_candidates) a cue? Its features are the
  lemma, the dependency context, quotation marks, headlines, and whether the built-in
  lexicon knows the lemma (the prior that small data leans on). (The contextual vector of
  spaCy's tok2vec, `Doc.tensor`, can join them with USE_TENSOR; measured, it added 0.1
  point of F1 for twice the fitting time, so it is off.)
- extent: does the word next to a cue belong to it ("said in a statement", "have come out
  against", "in support of")?
- parts: the open choices of the rules that build source and content (keep a trailing
  clause in the content, run on over the object's complement, keep a relative clause in the
  source, resume the content in the quotation after the cue), taught by replaying the rules
  on the decided attributions;
- reading: which of the rules' readings of a source or content to take (the subject or the
  noun phrase after an inverted cue; the complement, the object and its complement, the
  whole clause for "appeared to", the quotation before the cue…), or none.

The probability a candidate needs is chosen by cross-validation on the training data; when
the built-in lexicon does better there (very little data), the model backs off to it.
`ClaimModel` is a cue decider for `annotation.claims.detect_claims`, and serialises to
versioned, gzip-compressed JSON (`to_bytes` / `from_bytes`): never pickle, so a model from
someone else's project file cannot run code.
"""
from __future__ import annotations

import gzip
import json
import math
import os
import random
import zlib
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .brat import parse_ann
from .claims import (
    QUOTES,
    ClaimSuggestion,
    CueCandidate,
    Decision,
    PartOption,
    QuoteIndex,
    build_frame,
    char_span,
    content_chars,
    cue_candidates,
    detect_claims,
)
from .cues import ADDRESSEE_VERBS, builtin_keys, builtin_lexicon
from .pipeline import model_version
from .progress import Progress, ShouldCancel, stop_if_cancelled
from .scoring import MODES, PRF, pieces, score

if TYPE_CHECKING:
    from spacy.tokens import Token

FORMAT = "credence-claim-model"
VERSION = 2  # 2: context features of cues (words nearby, reporting verbs above and in the
             # sentence); a version-1 model reads as it is (it has no weights for them)
ROLES = ("cue", "source", "content")
MIN_TRAINING_DOCUMENTS = 5
THRESHOLDS = (0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55)
# In a document not marked done, an analyst's explicit rejection counts more than an unmarked
# candidate (which teaches nothing there); in a complete one every candidate not decided a cue
# is a non-cue alike, so a project reviewed to match gold data learns what the gold teaches.
NEGATIVE_WEIGHT = 3.0
MIN_FEATURE_COUNT = 2    # rarer features carry no weight: they would only memorise
USE_TENSOR = False
# Below this probability the best reading of a part is none (a wrong part costs precision).
# Cross-validated on polnear-train: source 0.35 / 0.4 / 0.45 / 0.5 / 0.6 give source F1 .7427 /
# .7433 / .7436 / .7440 / .7449, but from 0.45 the seed article's denial ("…but Zaman-Alwasl's
# local source denied", a reading at 0.44) loses its source: 0.4 is the highest that keeps it.
READING_FLOOR = {"source": 0.4, "content": 0.4}
EXTENT_PROBABILITY = 0.6  # a word joins a cue this surely (cross-validated: cues are mostly short)
MAX_EXTENT = 8           # tokens a cue may grow on each side of its head
MAX_MODEL_BYTES = 512 * 1024 * 1024  # decompressed: larger is no model of ours

Pieces = tuple[tuple[int, int], ...]


class ClaimModelError(ValueError):
    """Bytes or a file that are not a usable claim model (damaged, foreign, or too new)."""


class NotEnoughData(ValueError):
    """Too little decided data to learn from (the message says how much is needed)."""


# --- decided data -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Attribution:
    """One attribution: each part a tuple of (start, end) character pieces, or None when absent."""
    source: Pieces | None = None
    cue: Pieces | None = None
    content: Pieces | None = None

    def part(self, role: str) -> Pieces | None:
        return {"source": self.source, "cue": self.cue, "content": self.content}[role]


@dataclass
class ClaimExample:
    """A text and what an analyst decided about it.

    `attributions` are right; `negatives` were rejected (their cue is no cue there). With
    `complete` (a document marked done, or gold data) every other candidate is a non-cue too;
    without it only the decided attributions and negatives teach the model.
    """
    text: str
    attributions: list[Attribution] = field(default_factory=list)
    negatives: list[Attribution] = field(default_factory=list)
    complete: bool = True
    name: str = ""


def _pieces(value) -> Pieces | None:
    if value is None:
        return None
    return tuple((int(a), int(b)) for a, b in value)


def attribution(source=None, cue=None, content=None) -> Attribution:
    """An Attribution from (start, end) pairs or lists of them (None for a missing part)."""
    def norm(v):
        if v is None:
            return None
        if len(v) == 2 and all(isinstance(x, int) for x in v):
            return ((int(v[0]), int(v[1])),)
        return _pieces(v)
    return Attribution(norm(source), norm(cue), norm(content))


def read_brat_dir(root: Path, limit: int | None = None) -> list[tuple[str, str, str]]:
    """(name, text, .ann text) per article of a PolNeAR-style folder (text/NAME.txt,
    attributions/NAME_ANNOTATOR.ann); the first .ann in sorted order is gold."""
    root = Path(root)
    text_dir, ann_dir = root / "text", root / "attributions"
    if not text_dir.is_dir() or not ann_dir.is_dir():
        raise ClaimModelError(f"{root} is not laid out like PolNeAR (text/NAME.txt, "
                              f"attributions/NAME_ANNOTATOR.ann)")
    first: dict[str, Path] = {}
    for ann in sorted(ann_dir.glob("*.ann")):
        name = ann.stem.rsplit("_", 1)[0] if "_" in ann.stem else ann.stem
        if (text_dir / f"{name}.txt").is_file():
            first.setdefault(name, ann)
    names = sorted(first)[:limit] if limit is not None else sorted(first)
    return [(n, (text_dir / f"{n}.txt").read_text(encoding="utf-8"),
             first[n].read_text(encoding="utf-8")) for n in names]


def example_from_brat(text: str, ann: str, name: str = "") -> ClaimExample:
    """One article's gold attributions (brat E lines tying Source, Cue and Content spans)."""
    spans, claims, _ = parse_ann(text, ann)
    by_key = {s.key: tuple(pieces(s.start, s.end, s.fragments)) for s in spans}
    atts = [Attribution(*(by_key.get(getattr(c, r)) if getattr(c, r) else None
                          for r in ("source", "cue", "content"))) for c in claims]
    return ClaimExample(text=text, attributions=atts, name=name)


def examples_from_brat_dir(root: Path, limit: int | None = None) -> list[ClaimExample]:
    """Decided data from a PolNeAR-style brat folder: one complete example per article."""
    return [example_from_brat(text, ann, name) for name, text, ann in read_brat_dir(root, limit)]


# --- logistic regression over sparse string features (+ an optional dense vector) ------------

@dataclass
class Logistic:
    """P(y=1) = sigmoid(bias + sum of the weights of the features present + dense · w_dense)."""
    bias: float = 0.0
    weights: dict[str, float] = field(default_factory=dict)
    dense: list[float] | None = None  # weights of the standardised dense vector
    dense_mean: list[float] | None = None
    dense_scale: list[float] | None = None

    def logit(self, features: Iterable[str], vector=None) -> float:
        w = self.weights
        z = self.bias + sum(w.get(f, 0.0) for f in features)
        if self.dense is not None and vector is not None and len(vector) == len(self.dense):
            z += float(((np.asarray(vector) - self._mean) / self._scale) @ self._dense)
        return z

    def probability(self, features: Iterable[str], vector=None) -> float:
        return _sigmoid(self.logit(features, vector))

    def probabilities(self, rows: list[list[str]], vectors=None) -> list[float]:
        """`probability` of many examples at once (`vectors`: a matrix, one row each, or None)."""
        w = self.weights
        z = np.asarray([self.bias + sum(w.get(f, 0.0) for f in feats) for feats in rows])
        if (self.dense is not None and vectors is not None and len(rows)
                and vectors.shape[1] == len(self.dense)):
            z = z + ((np.asarray(vectors, dtype=np.float32) - self._mean) / self._scale) @ self._dense
        return (1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))).tolist()

    def __post_init__(self):
        self._cache()

    def _cache(self) -> None:
        if self.dense is not None:
            self._dense = np.asarray(self.dense, dtype=np.float32)
            self._mean = np.asarray(self.dense_mean, dtype=np.float32)
            self._scale = np.asarray(self.dense_scale, dtype=np.float32)

    def to_data(self) -> dict:
        names = sorted(self.weights)
        return {"bias": self.bias, "features": names, "weights": [self.weights[f] for f in names],
                "dense": self.dense, "dense_mean": self.dense_mean,
                "dense_scale": self.dense_scale}

    @classmethod
    def from_data(cls, data: dict) -> Logistic:
        names, weights = data["features"], data["weights"]
        if not isinstance(names, list) or not isinstance(weights, list) or len(names) != len(weights):
            raise TypeError("features and weights differ")
        dense = data.get("dense")
        parts = [dense, data.get("dense_mean"), data.get("dense_scale")]
        if dense is not None:
            if not all(isinstance(p, list) and len(p) == len(dense) for p in parts):
                raise TypeError("dense weights damaged")
            parts = [[float(x) for x in p] for p in parts if isinstance(p, list)]  # all are lists
        return cls(bias=float(data["bias"]), weights={str(f): float(w) for f, w in zip(names, weights)},
                   dense=parts[0], dense_mean=parts[1], dense_scale=parts[2])


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def fit_logistic(rows: Sequence[list[str]], labels: Sequence[float], *,
                 weights: Sequence[float] | None = None, vectors=None, l2: float = 3e-5,
                 iterations: int = 120, min_count: int = MIN_FEATURE_COUNT) -> Logistic:
    """Weighted logistic regression (full-batch Adam, L2) over sparse string features.

    `vectors`: an optional dense matrix, one row per example (standardised before fitting).
    """
    n = len(rows)
    counts: dict[str, int] = {}
    for feats in rows:
        for f in feats:
            counts[f] = counts.get(f, 0) + 1
    vocab = {f: j for j, f in enumerate(f for f, c in counts.items() if c >= min_count)}
    r_idx, c_idx = [], []
    for i, feats in enumerate(rows):
        for f in feats:
            j = vocab.get(f)
            if j is not None:
                r_idx.append(i)
                c_idx.append(j)
    ra, ca = np.asarray(r_idx, dtype=np.int64), np.asarray(c_idx, dtype=np.int64)
    y = np.asarray(labels, dtype=float)
    sw = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    sw = sw / sw.sum() if n else sw
    d = len(vocab)
    X = None
    if vectors is not None and n:
        X = np.asarray(vectors, dtype=np.float64)
        mean = X.mean(axis=0)
        scale = X.std(axis=0) + 1e-6
        X = (X - mean) / scale
    w, b = np.zeros(d), 0.0
    v_w = np.zeros(X.shape[1] if X is not None else 0)  # used only with X
    adam = _Adam([w.shape, (1,)] + ([v_w.shape] if X is not None else []))
    for _ in range(iterations if n else 0):
        z = b + np.bincount(ra, weights=w[ca], minlength=n)
        if X is not None:
            z = z + X @ v_w
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
        err = (p - y) * sw
        grads = [np.bincount(ca, weights=err[ra], minlength=d) + l2 * w, np.array([err.sum()])]
        if X is not None:
            grads.append(X.T @ err + l2 * v_w)
        steps = adam.step(grads)
        w -= steps[0]
        b -= float(steps[1][0])
        if X is not None:
            v_w -= steps[2]
    names = list(vocab)
    model = Logistic(bias=round(float(b), 4),
                     weights={names[j]: round(float(w[j]), 4) for j in range(d) if abs(w[j]) >= 1e-3})
    if X is not None:
        model.dense = [round(float(x), 5) for x in v_w]
        model.dense_mean = [round(float(x), 5) for x in mean]
        model.dense_scale = [round(float(x), 5) for x in scale]
        model._cache()
    return model


class _Adam:
    def __init__(self, shapes, lr: float = 0.1, beta1: float = 0.9, beta2: float = 0.999):
        self.m = [np.zeros(s) for s in shapes]
        self.v = [np.zeros(s) for s in shapes]
        self.lr, self.b1, self.b2, self.t = lr, beta1, beta2, 0

    def step(self, grads):
        self.t += 1
        corr = math.sqrt(1 - self.b2 ** self.t) / (1 - self.b1 ** self.t)
        out = []
        for k, g in enumerate(grads):
            self.m[k] = self.b1 * self.m[k] + (1 - self.b1) * g
            self.v[k] = self.b2 * self.v[k] + (1 - self.b2) * g * g
            out.append(self.lr * corr * self.m[k] / (np.sqrt(self.v[k]) + 1e-8))
        return out


# --- features ---------------------------------------------------------------------------------

_BUILTIN = builtin_keys()
_CLOSED = ("ADP", "PART", "AUX", "DET", "PUNCT", "ADV", "CCONJ", "SCONJ", "PRON", "SYM")


def _word(x) -> str:
    return x.lower_ if x.pos_ in _CLOSED else x.lemma_.lower()


class DocInfo:
    """Per-sentence facts the features of every candidate of a Doc share, computed in one pass."""

    def __init__(self, doc):
        n = len(doc)
        self.sent_start = [0] * n
        self.sent_end = [0] * n
        self.sent_index = [0] * n        # which sentence of the article
        self.in_quote = [False] * n      # an odd number of quote marks before it in its sentence
        self.sent_quote = [False] * n    # its sentence holds a quote mark
        self.headline = [False] * n      # its sentence reads like a headline
        self.sent_builtin = [0] * n      # words of its sentence the built-in lexicon knows
        for index, sent in enumerate(doc.sents):
            marks = 0
            words = caps = known = 0
            has_quote = False
            for x in sent:
                self.in_quote[x.i] = marks % 2 == 1
                text = x.text
                if text in QUOTES:
                    has_quote = True
                    if text not in ("'", "’"):
                        marks += 1
                if x.is_alpha:
                    words += 1
                    caps += text[0].isupper()
                known += f"{x.lemma_.lower()}|{x.pos_}" in _BUILTIN
            last = doc[sent.end - 1].text
            head = last not in ".!?\"”'’" and words >= 3 and caps >= 0.6 * words
            for i in range(sent.start, sent.end):
                self.sent_start[i] = sent.start
                self.sent_end[i] = sent.end
                self.sent_index[i] = index
                self.sent_quote[i] = has_quote
                self.headline[i] = head
                self.sent_builtin[i] = known


def _vectors(doc, ids: list[int]):
    """The rows of spaCy's tok2vec output (`Doc.tensor`) for these tokens, or None without one."""
    tensor = doc.tensor
    if tensor is None or getattr(tensor, "ndim", 0) != 2 or tensor.shape[0] != len(doc):
        return None
    return np.asarray(tensor)[ids]


def cue_features(doc, cand: CueCandidate, info: DocInfo | None = None) -> list[str]:
    """Sparse features of one cue candidate: lemma, parse context, quotation marks, prior."""
    info = info or DocInfo(doc)
    t = cand.head
    key = cand.key
    kind = key.rsplit("|", 1)[1]
    f = [f"k={key}", f"pos={kind}", f"dep={t.dep_}", f"tag={t.tag_}", f"k={key}|dep={t.dep_}",
         f"pos={kind}|dep={t.dep_}", f"hpos={t.head.pos_}|dep={t.dep_}", f"k={key}|tag={t.tag_}",
         f"low={t.lower_}"]
    if key in _BUILTIN:
        f += ["builtin", f"builtin|dep={t.dep_}", f"builtin|tag={t.tag_}"]
    if t.dep_ in ("xcomp", "acl", "amod", "compound", "pobj", "dobj", "acomp", "conj", "advcl",
                  "relcl", "ccomp"):
        f.append(f"hlem={t.head.lemma_.lower()}|dep={t.dep_}")
        f.append(f"k={key}|hlem={t.head.lemma_.lower()}")
    for d in sorted({c.dep_ for c in t.children}):
        f.append(f"c={d}")
        if d in ("ccomp", "xcomp", "dobj", "nsubj", "nsubjpass", "prep", "agent", "mark",
                 "poss", "acl", "relcl", "dative", "advcl", "aux", "neg", "prt", "auxpass"):
            f.append(f"k={key}|c={d}")
    for c in t.children:
        if c.dep_ == "prep":
            f += [f"k={key}|prep={c.lower_}", f"prep={c.lower_}"]
        elif c.dep_ in ("ccomp", "acl") and any(m.dep_ == "mark" for m in c.children):
            mark = next(m for m in c.children if m.dep_ == "mark").lower_
            f += [f"cmark={mark}", f"k={key}|cmark={mark}"]
        elif c.dep_ in ("nsubj", "nsubjpass", "poss"):
            # No entity types: the parse that trains the model may run without NER.
            f.append(f"subj={c.dep_}|{c.pos_}|{c.lemma_.lower() if c.pos_ != 'PROPN' else '-'}")
            f.append(f"k={key}|subj={c.pos_}")
        elif c.dep_ in ("dobj", "attr", "oprd") and c.i > t.i:
            f.append(f"k={key}|obj={c.lemma_.lower()}")
    doc_len = len(doc)
    nxt = doc[t.i + 1] if t.i + 1 < doc_len else None
    prv = doc[t.i - 1] if t.i > 0 else None
    if nxt is not None:
        f.append(f"k={key}|next={nxt.lower_}")
        if nxt.is_punct:
            f.append(f"next={nxt.text if nxt.text in ',:.' else 'Q' if nxt.text in QUOTES else 'P'}")
        f.append(f"pos={kind}|npos={nxt.pos_}")
    if prv is not None:
        f.append(f"prevw={prv.lower_}|k={key}")
        if prv.is_punct:
            f.append(f"prev={prv.text if prv.text in ',:.' else 'Q' if prv.text in QUOTES else 'P'}")
        f.append(f"pos={kind}|ppos={prv.pos_}")
    if kind == "PUNCT":
        f.append(f"colon_left={min(t.i - info.sent_start[t.i], 7)}")
        f.append(f"colon_quote={nxt is not None and nxt.text in QUOTES}")
    if info.in_quote[t.i]:
        f += ["inquote", f"k={key}|inquote"]
    if info.sent_quote[t.i]:
        f.append("sent_has_quote")
    f.append(f"first={t.i == info.sent_start[t.i]}")
    if info.headline[t.i]:
        f += ["headline", f"headline|pos={kind}"]
    f += _context_features(doc, t, key, kind, info)
    return f


def _context_features(doc, t, key: str, kind: str, info: DocInfo) -> list[str]:
    """What surrounds a candidate: the words two and three away, quote marks close by, the
    verbs it hangs from (a reporting verb above it), how many reporting verbs its sentence has
    and where in the article and in the sentence it stands."""
    n = len(doc)
    i = t.i
    f = []
    for d in (2, 3):
        if i + d < n:
            f.append(f"k={key}|next{d}={doc[i + d].lower_}")
        if i - d >= 0:
            f.append(f"prev{d}={doc[i - d].lower_}|pos={kind}")
    f.append(f"k={key}|bi={doc[i + 1].lower_ if i + 1 < n else '-'}_{doc[i + 2].lower_ if i + 2 < n else '-'}")
    start, end = info.sent_start[i], info.sent_end[i]
    rq = any(doc[j].text in QUOTES for j in range(i + 1, min(i + 4, end)))
    lq = any(doc[j].text in QUOTES for j in range(max(start, i - 3), i))
    f += [f"rq={rq}|pos={kind}", f"lq={lq}|pos={kind}", f"k={key}|rq={rq}", f"k={key}|lq={lq}"]
    comp = next((c for c in t.children if c.dep_ in ("ccomp", "xcomp")), None)
    if comp is not None:
        f.append(f"comp_quote={any(x.text in QUOTES for x in comp.subtree)}")
        f.append(f"comp_subj={any(c.dep_ in ('nsubj', 'nsubjpass') for c in comp.children)}|pos={kind}")
    up = _ancestors(t, 3)
    for k, (dep, h) in enumerate(up):
        if f"{h.lemma_.lower()}|{h.pos_}" in _BUILTIN:
            f += [f"anc{k}_builtin|{dep}", f"anc_builtin|pos={kind}"]
            break
    if up:
        dep, h = up[0]
        f.append(f"a1={h.lemma_.lower()}|{h.pos_}|pos={kind}")
        if len(up) > 1:
            f.append(f"a2={up[1][1].lemma_.lower()}|{up[1][0]}|{dep}")
    others = info.sent_builtin[i] - (key in _BUILTIN)
    f += [f"sent_builtin={min(others, 2)}|pos={kind}", f"k={key}|sent_builtin={min(others, 1)}",
          f"sidx={min(info.sent_index[i], 5)}|pos={kind}", f"spos={min((i - start) // 4, 5)}|pos={kind}"]
    if info.sent_quote[i]:
        f.append(f"k={key}|sent_has_quote")
    return f


def _ancestors(t: Token, n: int) -> list[tuple[str, Token]]:
    """(dependency label, head) of up to n steps from t towards the root."""
    out: list[tuple[str, Token]] = []
    x = t
    for _ in range(n):
        if x.head.i == x.i:
            break
        out.append((x.dep_, x.head))
        x = x.head
    return out


def _relation(x, ids: set[int]) -> str:
    if x.head.i in ids and x.head.i != x.i:
        return "child"
    if any(x.doc[i].head.i == x.i for i in ids):
        return "head"
    if x.head.head.i in ids:
        return "gchild"
    return "other"


def extent_features(doc, cand: CueCandidate, x, ids: set[int]) -> list[str]:
    """Features for "does token x, next to the cue's tokens `ids`, belong to the cue?"."""
    t = cand.head
    side = "L" if x.i < t.i else "R"
    dist = min(abs(x.i - t.i), 5)
    rel = _relation(x, ids)
    w = _word(x)
    lem, kind = cand.key.rsplit("|", 1)
    hw = _word(x.head)
    f = [f"{side}|bias", f"{side}|{rel}", f"{side}|{rel}|{x.dep_}", f"{side}|{x.dep_}|{w}",
         f"{side}|{rel}|{x.dep_}|{w}", f"{side}|{x.pos_}", f"{side}|{x.dep_}|{w}|{lem}",
         f"{side}|{x.dep_}|{lem}", f"{side}|d={dist}", f"{side}|d={dist}|{x.dep_}",
         f"{side}|{rel}|{x.pos_}|h={x.head.dep_}", f"{side}|kind={kind}|{x.dep_}",
         f"{side}|w={w}", f"{side}|kind={kind}|{rel}", f"{side}|tag={x.tag_}|{x.dep_}",
         f"{side}|{rel}|{x.dep_}|hw={hw}", f"{side}|{x.dep_}|hw={hw}|{lem}"]
    obj = next((c for c in x.children if c.dep_ in ("pobj", "pcomp")), None)
    if obj is not None:
        f += [f"{side}|{w}|obj={_word(obj)}", f"{side}|{w}|obj={_word(obj)}|{lem}",
              f"{side}|{w}|objtag={obj.tag_}"]
    if any(c.dep_ == "prep" and c.lower_ == "of" for c in x.children):
        f += [f"{side}|{x.dep_}|has_of", f"{side}|{w}|has_of"]
    nxt = doc[x.i + 1] if x.i + 1 < len(doc) else None
    if side == "R" and nxt is not None:
        f.append(f"R|{w}|next={nxt.text if nxt.is_punct else nxt.pos_}")
    return f


_PREMODIFIERS = ("det", "amod", "compound", "poss", "nummod", "quantmod", "nmod", "advmod", "case")


def _unit(doc, j: int, step: int, end: int) -> tuple[int, int, Token]:
    """The stretch a cue grows over next: one token, or to the right a noun phrase's
    pre-modifiers with their noun ("released [a statement]"), represented by the noun."""
    x = doc[j]
    h = x.head
    if step > 0 and x.dep_ in _PREMODIFIERS and j < h.i < min(j + 5, end) and all(
            j <= doc[k].head.i <= h.i for k in range(j, h.i)):
        return j, h.i, h
    return j, j, x


def grow_cue(doc, cand: CueCandidate, decide) -> set[int]:
    """A cue's token ids: its head grown to each side, stretch by stretch, while
    `decide(features, first, last)` takes the next stretch (within the sentence)."""
    t = cand.head
    ids = {t.i}
    sent = t.sent
    for step in (-1, 1):
        j = t.i + step
        while sent.start <= j < sent.end and abs(j - t.i) <= MAX_EXTENT and not doc[j].is_space:
            lo, hi, rep = _unit(doc, j, step, sent.end)
            feats = extent_features(doc, cand, rep, ids)
            if hi > lo:
                feats = feats + [f"R|unit|{rep.dep_}", f"R|unit|{rep.dep_}|{_word(rep)}"]
            if not decide(feats, lo, hi):
                break
            ids.update(range(lo, hi + 1))
            j = (hi if step > 0 else lo) + step
    return ids


def _bucket(n: int) -> str:
    return "1" if n <= 1 else "2-3" if n <= 3 else "4-8" if n <= 8 else "9-20" if n <= 20 else "21+"


def decision_features(doc, d: Decision) -> list[str]:
    """Features of an open choice while building a part (see annotation.claims.Decision)."""
    if d.kind == "content-resume":
        return _resume_features(doc, d)
    k, c, a = d.kind, d.child, d.anchor
    lem = d.cue.key.rsplit("|", 1)[0]
    w = _word(c)
    first = c.left_edge
    before = doc[first.i - 1] if first.i > 0 else None
    pb = before.text if before is not None and before.is_punct else "w"
    sub = list(c.subtree)
    has_quote = any(x.text in QUOTES for x in sub)
    mark = next((m.lower_ for m in c.children if m.dep_ in ("mark", "prep", "aux") and m.i < c.i), "-")
    f = [f"{k}|bias", f"{k}|default={d.default}", f"{k}|dep={c.dep_}", f"{k}|dep={c.dep_}|w={w}",
         f"{k}|adep={a.dep_}|dep={c.dep_}", f"{k}|cue={lem}|dep={c.dep_}",
         f"{k}|cue={lem}|dep={c.dep_}|w={w}", f"{k}|pb={pb}", f"{k}|dep={c.dep_}|pb={pb}",
         f"{k}|len={_bucket(len(sub))}", f"{k}|dep={c.dep_}|len={_bucket(len(sub))}",
         f"{k}|quote={has_quote}", f"{k}|mark={mark}", f"{k}|dep={c.dep_}|mark={mark}",
         f"{k}|pos={c.pos_}", f"{k}|apos={a.pos_}|dep={c.dep_}",
         f"{k}|gap={_bucket(first.i - a.i)}", f"{k}|w={w}", f"{k}|dep={c.dep_}|tag={c.tag_}",
         f"{k}|adep={a.dep_}|dep={c.dep_}|pb={pb}", f"{k}|cue={lem}|dep={c.dep_}|pb={pb}",
         f"{k}|dep={c.dep_}|own_subj={any(x.dep_ in ('nsubj', 'nsubjpass') for x in c.children)}",
         f"{k}|dep={c.dep_}|last={c.i == max(x.i for x in c.head.rights)}"]
    obj = next((x for x in c.children if x.dep_ in ("pobj", "pcomp")), None)
    if obj is not None:
        f += [f"{k}|dep={c.dep_}|w={w}|obj={_word(obj)}", f"{k}|w={w}|objtag={obj.tag_}"]
    return f


_REPORTING = frozenset(w for w in (k.split("|")[0] for k in _BUILTIN) if " " not in w)


def _resume_features(doc, d: Decision) -> list[str]:
    """`“…,” he said. “…”`: does the content go on in the quotation d.tokens after d.anchor?"""
    k = d.kind
    lo, hi = d.token_range()
    cue = {x.i for x in d.cue.tokens}
    gap = doc[d.anchor.i + 1:lo]
    first = not any(i in cue for i in range(lo, hi + 1)) and any(x.i in cue for x in gap)
    breaks = sum(x.text.count("\n") for x in gap)
    words = [x for x in gap if not (x.is_punct or x.is_space)]
    other_verbs = [x for x in gap if x.pos_ == "VERB" and x.i not in cue]
    tail = doc[hi + 1:min(hi + 4, len(doc))]
    end = next((x.text for x in reversed(gap) if not x.is_space), "-")
    end = end if end in (".", ",", ":", ";") else "w"
    said_after = any(x.lemma_.lower() in _REPORTING for x in tail if x.pos_ == "VERB")
    said_before = any(x.lemma_.lower() in _REPORTING for x in other_verbs)
    lem = d.cue.key.rsplit("|", 1)[0]
    n = _bucket(len(words))
    return [f"{k}|bias", f"{k}|default={d.default}", f"{k}|first={first}", f"{k}|gap={n}",
            f"{k}|breaks={min(breaks, 2)}", f"{k}|end={end}", f"{k}|end={end}|breaks={min(breaks, 2)}",
            f"{k}|verbs={min(len(other_verbs), 2)}", f"{k}|said_after={said_after}",
            f"{k}|said_before={said_before}", f"{k}|len={_bucket(hi - lo + 1)}", f"{k}|cue={lem}",
            f"{k}|first={first}|gap={n}", f"{k}|first={first}|breaks={min(breaks, 2)}",
            f"{k}|para_start={lo == 0 or chr(10) in doc[lo - 1].text}"]


def option_features(doc, cand: CueCandidate, options: list[PartOption], k: int) -> list[str]:
    """Features of the k-th reading of a cue's source or content (annotation.claims.*_options)."""
    opt = options[k]
    t = cand.head
    n = f"{opt.role}:{opt.name}"
    lem, kind = cand.key.rsplit("|", 1)
    toks = opt.tokens or []
    first = toks[0] if toks else t
    ids = {x.i for x in toks}
    deps = {c.dep_ for c in t.children}
    return [f"o={n}", f"o={n}|rank={min(k, 4)}", f"o={n}|rule={options[0].name}",
            f"o={n}|cue={lem}", f"o={n}|dep={t.dep_}", f"o={n}|tag={t.tag_}",
            f"o={n}|len={_bucket(len(toks))}", f"o={n}|q={first.text in QUOTES}",
            f"o={n}|w0={_word(first)}", f"o={n}|has_cue={t.i in ids}",
            f"o={n}|n={min(len(options), 5)}", f"o={n}|passive={'auxpass' in deps}",
            f"o={n}|subj={'nsubj' in deps}", f"o={n}|kind={kind}", f"o={n}|cue={lem}|tag={t.tag_}",
            f"o={n}|xcomp={'xcomp' in deps}", f"o={n}|cue={lem}|rule={options[0].name}",
            f"o={n}|inquote={_quoted(toks)}", f"o={n}|after={first.i > t.i}",
            f"o={n}|pos0={first.pos_}", f"o={n}|other={'|'.join(sorted({o.name for o in options}))}"]


def _quoted(tokens) -> bool:
    """Do the tokens open with, or follow, a quote mark?"""
    if not tokens:
        return False
    return tokens[0].text in QUOTES or tokens[0].i > 0 and tokens[0].doc[tokens[0].i - 1].text in QUOTES


# --- the model --------------------------------------------------------------------------------

@dataclass
class ClaimModel:
    """A learned cue decider for annotation.claims.detect_claims, with where it came from."""
    cue: Logistic
    extent: Logistic
    parts: Logistic
    reading: Logistic = field(default_factory=Logistic)
    threshold: float = 0.5
    dobj_content: dict[str, float] = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    backoff: bool = False  # cross-validation found the built-in lexicon better: use it

    @property
    def learned(self) -> bool:
        return not self.backoff

    # -- the cue decider (annotation.claims.CueDecider) --
    def accept(self, doc, candidates: list[CueCandidate]) -> list[CueCandidate]:
        if self.backoff:
            return builtin_lexicon().accept(doc, candidates)
        probs = self.cue_probabilities(doc, candidates)
        return [CueCandidate(c.head, self.cue_tokens(doc, c), c.key, p)
                for c, p in zip(candidates, probs) if p >= self.threshold]

    def cue_probabilities(self, doc, candidates: list[CueCandidate]) -> list[float]:
        """The probability of each candidate being a cue."""
        info = DocInfo(doc)
        return self.cue.probabilities([cue_features(doc, c, info) for c in candidates],
                                      _vectors(doc, [c.head.i for c in candidates]))

    def cue_tokens(self, doc, cand: CueCandidate) -> list:
        """The cue's tokens: the head grown over neighbours the extent model includes."""
        if cand.key.endswith("|PHRASE"):
            return cand.tokens
        ids = grow_cue(doc, cand, lambda feats, lo, hi: self.extent.probability(feats) >= EXTENT_PROBABILITY)
        return [doc[i] for i in sorted(ids)]

    def dobj_is_content(self, key: str) -> bool:
        if key in self.dobj_content:
            return self.dobj_content[key] >= 0.5
        return key.split("|")[0] not in ADDRESSEE_VERBS

    def keep(self, doc, decision: Decision) -> bool:
        if self.backoff:
            return decision.default
        return self.parts.probability(decision_features(doc, decision)) >= 0.5

    def choose(self, doc, cand: CueCandidate, options: list[PartOption]) -> int | None:
        if self.backoff or not self.reading.weights:
            return 0
        best, best_z = None, -math.inf
        for k, opt in enumerate(options):
            if opt.tokens:
                z = self.reading.logit(option_features(doc, cand, options, k))
                if z > best_z:
                    best, best_z = k, z
        # A reading unlikely to be right is no reading: a wrong part costs precision.
        floor = READING_FLOOR[options[0].role] if options else 0.0
        return best if best is not None and _sigmoid(best_z) >= floor else None

    # -- description and serialisation --
    @property
    def name(self) -> str:
        return self.describe()

    def describe(self) -> str:
        """One line saying what this model is and what it learned from."""
        p = self.provenance
        what = (f"learned claim model ({p.get('documents', '?')} documents, "
                f"{p.get('attributions', '?')} attributions, {p.get('negatives', 0)} negatives")
        if self.backoff:
            return what + "; backs off to the built-in cue lexicon)"
        return what + f", threshold {self.threshold:.2f})"

    def to_bytes(self) -> bytes:
        """Versioned, gzip-compressed JSON (deterministic: the same model gives the same bytes)."""
        data = {"format": FORMAT, "version": VERSION, "provenance": self.provenance,
                "threshold": self.threshold, "backoff": self.backoff,
                "dobj_content": dict(sorted(self.dobj_content.items())),
                "cue": self.cue.to_data(), "extent": self.extent.to_data(),
                "parts": self.parts.to_data(), "reading": self.reading.to_data()}
        raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return gzip.compress(raw, compresslevel=6, mtime=0)

    @classmethod
    def from_bytes(cls, data: bytes) -> ClaimModel:
        """Read bytes written by `to_bytes`; anything else raises ClaimModelError (one clear line)."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ClaimModelError("a claim model is bytes")
        try:
            raw = _gunzip(bytes(data))
            obj = json.loads(raw.decode("utf-8"))
        except (OSError, EOFError, zlib.error, UnicodeDecodeError, ValueError):
            raise ClaimModelError("the claim model is damaged (not gzip-compressed JSON)") from None
        if not isinstance(obj, dict) or obj.get("format") != FORMAT:
            raise ClaimModelError(f"not a claim model (expected format {FORMAT!r}); an old cue "
                                  f"lexicon is no longer read: train again with train-claims")
        version = obj.get("version")
        if not isinstance(version, int) or version > VERSION:
            raise ClaimModelError(f"the claim model is version {version!r}; this Credence reads "
                                  f"up to version {VERSION}: update Credence")
        try:
            provenance = obj.get("provenance") or {}
            if not isinstance(provenance, dict):
                raise TypeError("provenance")
            return cls(cue=Logistic.from_data(obj["cue"]), extent=Logistic.from_data(obj["extent"]),
                       parts=Logistic.from_data(obj["parts"]),
                       reading=Logistic.from_data(obj["reading"]), threshold=float(obj["threshold"]),
                       dobj_content={str(k): float(v) for k, v in obj["dobj_content"].items()},
                       provenance=provenance, backoff=bool(obj.get("backoff", False)))
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ClaimModelError("the claim model is damaged (its parts are incomplete)") from None

    def save(self, path: str | Path) -> Path:
        """Write `to_bytes()` to a file atomically (a crash leaves the old file)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(self.to_bytes())
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> ClaimModel:
        """Read a model file; a missing, damaged or foreign file raises ClaimModelError."""
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as e:
            raise ClaimModelError(f"cannot read claim model {path}: {e.strerror or e}") from None
        try:
            return cls.from_bytes(data)
        except ClaimModelError as e:
            raise ClaimModelError(f"{path}: {e}") from None


def _gunzip(data: bytes) -> bytes:
    # Bounded: a small file must not unpack into gigabytes.
    d = zlib.decompressobj(wbits=31)
    out = d.decompress(data, MAX_MODEL_BYTES)
    if d.unconsumed_tail:
        raise ValueError("too large")
    if not d.eof:
        raise EOFError("truncated")
    return out


# --- training ---------------------------------------------------------------------------------

def parse_texts(nlp, texts: list[str], *, n_process: int = 1, batch_size: int = 16,
                progress: Progress | None = None, should_cancel: ShouldCancel | None = None,
                done: int = 0, total: int | None = None) -> list:
    """Parse texts for claims (NER plays no part: skipping it saves a fifth of the parse)."""
    disable = [p for p in ("ner",) if p in nlp.pipe_names]
    total = total if total is not None else len(texts)
    docs = []
    for doc in nlp.pipe(texts, batch_size=batch_size, n_process=n_process, disable=disable):
        stop_if_cancelled(should_cancel, "training cancelled")
        docs.append(doc)
        if progress is not None:
            progress(done + len(docs), total)
    return docs


@dataclass
class _Gold:
    """An example's decided data as token sets of its parsed Doc."""
    cue_heads: dict[int, Attribution]  # top token of each decided cue -> its attribution
    negative_heads: set[int]
    cue_tokens: dict[int, set[int]]    # cue head -> the cue's tokens
    complete: bool


def _token_ids(doc, pcs: Pieces | None, starts: list[int]) -> list[int]:
    out: list[int] = []
    for a, b in pcs or ():
        out.extend(i for i in range(bisect_left(starts, a), bisect_left(starts, b))
                   if not doc[i].is_space)
    return sorted(set(out))


def _top(doc, ids: list[int]) -> int | None:
    """The syntactic head of a token set (the first token whose head lies outside it)."""
    s = set(ids)
    top = [i for i in ids if doc[i].head.i not in s or doc[i].head.i == i]
    return top[0] if top else None


_KIND_ORDER = {"VERB": 0, "NOUN": 1, "ADJ": 2}


def _cue_head(doc, ids: list[int], heads: set[int]) -> int | None:
    """The candidate a decided cue is learned at: its syntactic head when that is a candidate,
    else the candidate highest in the tree within it ("was [critical] of", "'s [attacks] on",
    "in [search] of"); without a candidate inside, the syntactic head (no candidate learns it)."""
    s = set(ids)
    inside = [i for i in ids if i in heads]
    if not inside:
        return _top(doc, ids)

    def depth(i: int) -> int:
        n, x = 0, doc[i]
        while x.head.i != x.i and x.head.i in s:
            x, n = x.head, n + 1
        return n
    return min(inside, key=lambda i: (depth(i), _KIND_ORDER.get(doc[i].pos_, 3), i))


def _align(doc, ex: ClaimExample, heads: set[int]) -> _Gold:
    """An example's decided cues at the Doc's cue candidates (`heads`: their token ids)."""
    starts = [t.idx for t in doc]
    found: dict[int, Attribution] = {}
    tokens: dict[int, set[int]] = {}
    # In text order, so two attributions sharing a cue head are taught the same way whatever
    # order they were decided or stored in.
    for att in sorted(ex.attributions, key=_text_order):
        ids = _token_ids(doc, att.cue, starts)
        top = _cue_head(doc, ids, heads)
        if top is not None and top not in found:
            found[top] = att
            tokens[top] = set(ids)
    negs = set()
    for att in ex.negatives:
        top = _cue_head(doc, _token_ids(doc, att.cue, starts), heads)
        if top is not None and top not in found:
            negs.add(top)
    return _Gold(found, negs, tokens, ex.complete)


def _text_order(att: Attribution) -> tuple:
    return tuple(att.part(r) or () for r in ("cue", "content", "source"))


class _Teacher:
    """A cue decider that answers every open choice from one decided attribution, and records
    each choice with its right answer (the rules replayed on decided data)."""
    learned = True

    def __init__(self, doc, att: Attribution, quotes: QuoteIndex):
        starts = [t.idx for t in doc]
        self.gold = {r: list(att.part(r) or ()) for r in ("source", "content")}
        self.inside = {r: set(_token_ids(doc, att.part(r), starts)) for r in ("source", "content")}
        self.text = quotes.text
        self.quotes = quotes.spans
        self.part_rows: list[tuple[list[str], int]] = []
        self.reading_rows: list[tuple[list[str], int]] = []

    def accept(self, doc, candidates):
        return candidates

    def dobj_is_content(self, key: str) -> bool:
        return True  # offer the object as a reading; the decided content says if it is one

    def _label(self, d: Decision) -> int | None:
        inside = self.inside["source" if d.kind.startswith("source") else "content"]
        if not inside:
            return None
        lo, hi = d.token_range()
        doc = d.child.doc
        sub = [i for i in range(lo, hi + 1) if not (doc[i].is_punct or doc[i].is_space)]
        return int(bool(sub) and 2 * sum(i in inside for i in sub) > len(sub))

    def keep(self, doc, d: Decision) -> bool:
        label = self._label(d)
        return d.default if label is None else bool(label)

    def _span(self, cand, opt: PartOption):
        if opt.role == "source":
            return char_span(self.text, opt.tokens)
        cue = (cand.tokens[0].idx, cand.tokens[-1].idx + len(cand.tokens[-1].text))
        return content_chars(self.text, opt.tokens, cue, self.quotes)

    def choose(self, doc, cand, options: list[PartOption]) -> int:
        gold = self.gold[options[0].role]
        if not gold:
            return 0
        # The right reading is the one closest to the decided part (several may overlap it).
        fits = [_fit_to(self._span(cand, opt), gold) for opt in options]
        best = max(range(len(options)), key=lambda k: (fits[k], -k))
        right = None if fits[best] < 0.5 else best
        for k, opt in enumerate(options):
            if opt.tokens:
                self.reading_rows.append((option_features(doc, cand, options, k), int(k == right)))
        if right is None:
            return 0
        # The open choices of the right reading only: the others would teach to cut everything.
        for d in options[right].decisions:
            label = self._label(d)
            if label is not None:
                self.part_rows.append((decision_features(doc, d), label))
        return right


def _fit_to(span: tuple[int, int] | None, gold: list[tuple[int, int]]) -> float:
    """How well a span fits decided pieces: overlap over the longer (1.0 exact, >= .5 a match)."""
    if not span:
        return 0.0
    a, b = span
    glen = sum(e - s for s, e in gold)
    ov = sum(max(0, min(b, e) - max(a, s)) for s, e in gold)
    return ov / max(b - a, glen, 1)


@dataclass
class _Prepared:
    """Everything learning needs from one parsed example, computed once (folds reuse it)."""
    cue_rows: list[list[str]]
    cue_vecs: np.ndarray | None  # one row per cue row; None without Doc.tensor
    cue_labels: list[int]
    cue_weights: list[float]
    extent_rows: list[tuple[list[str], int]]
    part_rows: list[tuple[list[str], int]]
    reading_rows: list[tuple[list[str], int]]
    dobj: dict[str, tuple[int, int]]  # key -> (cues with an object, objects that were content)


def _prepare(doc, ex: ClaimExample) -> _Prepared:
    cands = cue_candidates(doc, broad=True)
    gold = _align(doc, ex, {c.head.i for c in cands})
    rows, labels, weights, kept = [], [], [], []
    info = DocInfo(doc)
    quotes = QuoteIndex(doc)
    extent_rows: list[tuple[list[str], int]] = []
    part_rows: list[tuple[list[str], int]] = []
    reading_rows: list[tuple[list[str], int]] = []
    dobj: dict[str, tuple[int, int]] = {}
    starts = [t.idx for t in doc]
    for cand in cands:
        i = cand.head.i
        if i in gold.cue_heads:
            label, weight = 1, 1.0
        elif i in gold.negative_heads:
            label, weight = 0, 1.0 if gold.complete else NEGATIVE_WEIGHT
        elif gold.complete:
            label, weight = 0, 1.0
        else:
            continue
        rows.append(cue_features(doc, cand, info))
        kept.append(i)
        labels.append(label)
        weights.append(weight)
        if label != 1:
            continue
        att = gold.cue_heads[i]
        inside = gold.cue_tokens[i]
        if not cand.key.endswith("|PHRASE"):
            extent_rows.extend(_extent_rows(doc, cand, inside))
        # Replay the rules on this attribution: what the content and source choices should be.
        teacher = _Teacher(doc, att, quotes)
        grown = cand if cand.key.endswith("|PHRASE") else CueCandidate(
            cand.head, [doc[j] for j in sorted(inside | {i})], cand.key)
        build_frame(doc, grown, teacher, quotes)
        part_rows.extend(teacher.part_rows)
        reading_rows.extend(teacher.reading_rows)
        t = cand.head
        if cand.key.endswith("|VERB") and not any(c.dep_ in ("ccomp", "xcomp") for c in t.children):
            obj = next((c for c in t.children if c.dep_ == "dobj" and c.i > t.i), None)
            if obj is not None:
                content = set(_token_ids(doc, att.content, starts))
                n, yes = dobj.get(cand.key, (0, 0))
                dobj[cand.key] = (n + 1, yes + (obj.i in content))
    vecs = _vectors(doc, kept)
    return _Prepared(rows, vecs, labels, weights, extent_rows, part_rows, reading_rows, dobj)


def _extent_rows(doc, cand: CueCandidate, inside: set[int]) -> list[tuple[list[str], int]]:
    """Replay the growth of a decided cue from its head: one row per neighbour considered."""
    out: list[tuple[list[str], int]] = []

    def decide(feats: list[str], lo: int, hi: int) -> bool:
        words = [i for i in range(lo, hi + 1) if not doc[i].is_punct] or [lo]
        hit = 2 * sum(i in inside for i in words) > len(words)
        out.append((feats, int(hit)))
        return hit
    grow_cue(doc, cand, decide)
    return out


def _fit(prep: Sequence[_Prepared], ids: Sequence[int], threshold: float,
         provenance: dict | None = None) -> ClaimModel:
    """Fit the three regressions and the object table on the prepared examples `ids`."""
    rows: list[list[str]] = []
    labels: list[int] = []
    weights: list[float] = []
    vecs: list[np.ndarray | None] = []
    for i in ids:
        rows += prep[i].cue_rows
        labels += prep[i].cue_labels
        weights += prep[i].cue_weights
        vecs.append(prep[i].cue_vecs)
    widths = {v.shape[1] for v in vecs if v is not None}
    present = [v for v in vecs if v is not None]
    dense = (np.concatenate(present) if USE_TENSOR and rows and len(widths) == 1
             and len(present) == len(vecs) else None)
    cue = fit_logistic(rows, labels, weights=weights, vectors=dense)
    ext = [r for i in ids for r in prep[i].extent_rows]
    extent = fit_logistic([f for f, _ in ext], [y for _, y in ext])
    par = [r for i in ids for r in prep[i].part_rows]
    parts = fit_logistic([f for f, _ in par], [y for _, y in par])
    rea = [r for i in ids for r in prep[i].reading_rows]
    reading = fit_logistic([f for f, _ in rea], [y for _, y in rea])
    counts: dict[str, list[int]] = {}
    for i in ids:
        for key, (n, yes) in prep[i].dobj.items():
            c = counts.setdefault(key, [0, 0])
            c[0] += n
            c[1] += yes
    dobj = {k: round(yes / n, 4) for k, (n, yes) in counts.items() if n >= 3}
    return ClaimModel(cue=cue, extent=extent, parts=parts, reading=reading, threshold=threshold,
                      dobj_content=dobj,
                      provenance=dict(provenance or {}))


class _AtThreshold:
    """A model's decisions at another threshold, reusing the cue probabilities of one pass."""

    def __init__(self, model: ClaimModel):
        self.model = model
        self.threshold = 0.0
        self.learned = True
        self._cache: dict[int, list[CueCandidate]] = {}

    def accept(self, doc, candidates):
        key = id(doc)
        if key not in self._cache:
            saved = self.model.threshold
            self.model.threshold = 0.0 if not candidates else min(THRESHOLDS)
            self._cache[key] = self.model.accept(doc, candidates)
            self.model.threshold = saved
        return [c for c in self._cache[key] if c.score >= self.threshold]

    def dobj_is_content(self, key):
        return self.model.dobj_is_content(key)

    def keep(self, doc, d):
        return self.model.keep(doc, d)

    def choose(self, doc, cand, options):
        return self.model.choose(doc, cand, options)


def _empty_scores() -> dict[str, dict[str, PRF]]:
    return {m: {r: PRF() for r in ROLES} for m in MODES}


def _add_scores(total: dict[str, dict[str, PRF]], found: list[ClaimSuggestion],
                ex: ClaimExample) -> None:
    pred = {"cue": [[s.cue] for s in found], "source": [[s.source] for s in found if s.source],
            "content": [[s.content] for s in found if s.content]}
    gold = {r: [list(p) for a in ex.attributions if (p := a.part(r))] for r in ROLES}
    for m in MODES:
        for r in ROLES:
            total[m][r] += score(pred[r], gold[r], m)


def _mean_f1(scores: dict[str, dict[str, PRF]]) -> float:
    return sum(scores["overlap"][r].f1 for r in ROLES) / len(ROLES)


def _folds(n: int, k: int) -> list[int]:
    order = list(range(n))
    random.Random(13).shuffle(order)  # fixed seed: the same data gives the same model
    fold = [0] * n
    for pos, i in enumerate(order):
        fold[i] = pos % k
    return fold


def _cross_validate(docs, examples, prep, k: int, thresholds: Sequence[float],
                    step=None) -> tuple[dict[float, dict], dict]:
    """Overlap/exact scores per threshold on held-out folds, and the built-in lexicon's."""
    fold = _folds(len(docs), k)
    per = {th: _empty_scores() for th in thresholds}
    base = _empty_scores()
    lexicon = builtin_lexicon()
    for f in range(k):
        model = _fit(prep, [i for i in range(len(docs)) if fold[i] != f], min(thresholds))
        at = _AtThreshold(model)
        for i in (i for i in range(len(docs)) if fold[i] == f):
            for th in thresholds:
                at.threshold = th
                _add_scores(per[th], detect_claims(docs[i], at), examples[i])
            _add_scores(base, detect_claims(docs[i], lexicon), examples[i])
        if step is not None:
            step()
    return per, base


def _as_f1(scores: dict[str, dict[str, PRF]]) -> dict[str, float]:
    return {r: round(scores["overlap"][r].f1, 4) for r in ROLES}


def train_claim_model(examples: Iterable[ClaimExample], nlp, *, n_process: int = 1,
                      folds: int = 5, thresholds: Sequence[float] = THRESHOLDS,
                      progress: Progress | None = None, should_cancel: ShouldCancel | None = None,
                      docs: list | None = None) -> ClaimModel:
    """Learn a claim model from decided data (parsed with `nlp`).

    Steps reported through `progress(done, total)`: one per document parsed, one per
    cross-validation fold, one for the final fit; `should_cancel()` is asked between steps
    (raises annotation.progress.Cancelled). `docs`: the examples already parsed, in order.
    Raises NotEnoughData below MIN_TRAINING_DOCUMENTS documents with decided attributions.
    """
    examples = list(examples)
    decided = sum(1 for e in examples if e.attributions)
    if decided < MIN_TRAINING_DOCUMENTS:
        raise NotEnoughData(f"learning claims needs at least {MIN_TRAINING_DOCUMENTS} documents "
                            f"with decided claims; there are {decided}")
    k = max(2, min(folds, len(examples)))
    total = len(examples) + k + 1
    done = 0

    def step() -> None:
        nonlocal done
        stop_if_cancelled(should_cancel, "training cancelled")
        done += 1
        if progress is not None:
            progress(done, total)

    if docs is None:
        docs = parse_texts(nlp, [e.text for e in examples], n_process=n_process,
                           progress=progress, should_cancel=should_cancel, total=total)
    elif len(docs) != len(examples):
        raise ValueError("docs must be the examples, parsed, in order")
    done = len(examples)
    prep = []
    for doc, ex in zip(docs, examples):
        stop_if_cancelled(should_cancel, "training cancelled")
        prep.append(_prepare(doc, ex))
    per, base = _cross_validate(docs, examples, prep, k, thresholds, step)
    best = max(thresholds, key=lambda th: (round(_mean_f1(per[th]), 4), -th))
    backoff = _mean_f1(base) >= _mean_f1(per[best])
    tensor = next((d.tensor.shape[1] for d in docs if getattr(d.tensor, "ndim", 0) == 2), 0)
    provenance = {
        "documents": len(examples), "attributions": sum(len(e.attributions) for e in examples),
        "negatives": sum(len(e.negatives) for e in examples), "base_model": model_version(nlp),
        "tensor_width": int(tensor), "folds": k, "threshold": best,
        "cv_f1": {str(th): _as_f1(per[th]) for th in thresholds}, "builtin_cv_f1": _as_f1(base)}
    model = _fit(prep, range(len(docs)), best, provenance)
    model.backoff = backoff
    step()
    return model


def score_claim_model(model: ClaimModel | None, examples: Iterable[ClaimExample], nlp, *,
                      n_process: int = 1, docs: list | None = None,
                      progress: Progress | None = None,
                      should_cancel: ShouldCancel | None = None) -> dict[str, dict[str, PRF]]:
    """Precision/recall/F1 of cue, source and content spans: {mode: {role: PRF}}.

    Modes: "overlap" (the PolNeAR convention: overlap covering half the longer span, one to
    one) and "exact". `model` None scores the built-in lexicon.
    """
    examples = list(examples)
    if docs is None:
        docs = parse_texts(nlp, [e.text for e in examples], n_process=n_process,
                           progress=progress, should_cancel=should_cancel)
    total = _empty_scores()
    for doc, ex in zip(docs, examples):
        _add_scores(total, detect_claims(doc, model), ex)
    return total


def credence_home() -> Path:
    """Where user data lives: $CREDENCE_HOME, else ~/.local/share/credence."""
    env = os.environ.get("CREDENCE_HOME")
    return Path(env).expanduser() if env else Path.home() / ".local" / "share" / "credence"


LEARNED_MODEL_FILE = "claim-model.json.gz"


def learned_model_path() -> Path:
    """Where `train-claims` writes the user's claim model by default."""
    return credence_home() / LEARNED_MODEL_FILE


def default_claim_model() -> ClaimModel | None:
    """The user's learned claim model when `train-claims` has written one, else None."""
    path = learned_model_path()
    return ClaimModel.load(path) if path.is_file() else None
