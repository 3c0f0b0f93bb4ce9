"""Reporting-cue lexicons: a built-in one from linguistic knowledge, or one learned from brat data.

A cue key is `lemma|KIND` where KIND is VERB, NOUN, ADJ or PHRASE ("according to"). The
built-in lexicon is a list of keys. A learned one carries a cue model (logistic regression
over the parse features of claims.cue_features: lemma, dependency, children, quotes…), the
learned cue extent (which neighbours — auxiliaries, negation, particles, prepositions —
belong to a cue) and which verbs take what is claimed as their object; its probability
threshold is chosen by cross-validation on the training data. Nothing derived from a
corpus ships with the app: users learn their own with `main.py train-claims`.
"""
from __future__ import annotations

import json
import math
import os
import random
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

LEXICON_FILE = "claim-cues.json"
FORMAT = "credence-cue-lexicon/1"

# General communication, report, belief and evidence verbs (from linguistic knowledge,
# e.g. the reporting-verb lists of grammars), not tuned on any corpus.
_BUILTIN_VERBS = """
say tell report add deny assure claim announce state confirm explain note argue insist
warn write accuse acknowledge admit allege assert comment complain concede contend declare
disclose emphasize emphasise estimate indicate maintain mention predict promise recall
remark reveal reply respond stress tweet urge vow cite quote testify suggest believe think
show find conclude demonstrate prove agree disagree criticize criticise blame threaten
pledge propose recommend reckon fear hope worry doubt expect suspect speculate caution
complain lament boast brag concede counter retort repeat reiterate affirm proclaim
describe characterize characterise call dismiss reject acknowledge question ask answer
inform notify advise observe point signal hint imply insinuate shout yell scream whisper
""".split()
_BUILTIN_NOUNS = """
claim statement report allegation announcement accusation assertion belief view opinion
suggestion testimony warning denial comment remark assurance argument contention
insistence charge admission estimate prediction promise pledge conclusion finding
evidence indication sign word news rumor rumour speculation fear hope concern
""".split()
_BUILTIN_PHRASES = ["according to"]
# Verbs whose direct object is the addressee, not what is said ("told reporters").
_ADDRESSEE_VERBS = set("tell inform notify advise assure ask warn urge remind brief email "
                       "text call thank".split())


@dataclass
class CueLexicon:
    """Which cue keys count, with their precision; candidates at or above `threshold` are cues."""
    cues: dict[str, float]
    threshold: float = 0.5
    origin: str = "built-in"
    meta: dict = field(default_factory=dict)
    # Per key: how often its direct object is the content (learned); absent keys use a default.
    dobj_content: dict[str, float] = field(default_factory=dict)
    # Learned cue model: {"bias": b, "weights": {feature: w}} (logistic regression over
    # claims.cue_features). With a model, `threshold` is the probability a candidate needs.
    model: dict | None = None
    # Learned cue extent: per extent key (claims.extent_keys), how often that neighbour is in the cue.
    extent: dict[str, float] = field(default_factory=dict)

    def cue_probability(self, features: list[str]) -> float:
        """Probability, under the learned model, that a candidate with these features is a cue."""
        w = self.model["weights"]
        z = self.model["bias"] + sum(w.get(f, 0.0) for f in features)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def dobj_is_content(self, key: str) -> bool:
        """Is the direct object of this cue what is claimed ("denied the report"), not an addressee?"""
        if key in self.dobj_content:
            return self.dobj_content[key] >= 0.5
        return key.split("|")[0] not in _ADDRESSEE_VERBS

    def accepts(self, key: str) -> bool:
        p = self.cues.get(key)
        return p is not None and p >= self.threshold

    def weight(self, key: str) -> float:
        return self.cues.get(key, 0.0)

    def save(self, path: str | os.PathLike) -> Path:
        """Write as JSON (atomically: a crash leaves the old file)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"format": FORMAT, "threshold": self.threshold, "meta": self.meta,
                "cues": dict(sorted(self.cues.items())),
                "dobj_content": dict(sorted(self.dobj_content.items()))}
        if self.extent:
            data["extent"] = dict(sorted(self.extent.items()))
        if self.model is not None:
            data["model"] = {"bias": self.model["bias"], "weights": dict(sorted(self.model["weights"].items()))}
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "CueLexicon":
        """Read a lexicon written by `save`; a bad file raises LexiconError with one clear line."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise LexiconError(f"cannot read cue lexicon {path}: {e}") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise LexiconError(f"{path} is not a cue lexicon (expected format {FORMAT})")
        cues = {str(k): float(v) for k, v in data.get("cues", {}).items()}
        dobj = {str(k): float(v) for k, v in (data.get("dobj_content") or {}).items()}
        model = data.get("model")
        if model is not None:
            try:
                model = {"bias": float(model["bias"]),
                         "weights": {str(k): float(v) for k, v in model["weights"].items()}}
            except (KeyError, TypeError, ValueError, AttributeError):
                raise LexiconError(f"{path}: the cue model in it is damaged") from None
        return cls(cues=cues, threshold=float(data.get("threshold", 0.5)), origin=str(path),
                   meta=data.get("meta") or {}, dobj_content=dobj, model=model,
                   extent={str(k): float(v) for k, v in (data.get("extent") or {}).items()})

    @property
    def name(self) -> str:
        return self.describe()

    def describe(self) -> str:
        """One line saying which lexicon this is (shown by commands that use it)."""
        n = sum(1 for k in self.cues if self.accepts(k))
        if self.origin == "built-in":
            return f"built-in cue lexicon ({n} cues)"
        if self.model is not None:
            return (f"learned cue model {self.origin} ({len(self.model['weights'])} features, "
                    f"threshold {self.threshold:.2f})")
        return f"learned cue lexicon {self.origin} ({n} cues, threshold {self.threshold:.2f})"


class LexiconError(ValueError):
    """A cue lexicon file the user pointed at (or trained) cannot be used."""


def builtin_lexicon() -> CueLexicon:
    """The general-knowledge lexicon shipped with the app."""
    cues = {f"{w}|VERB": 1.0 for w in _BUILTIN_VERBS}
    cues.update({f"{w}|NOUN": 1.0 for w in _BUILTIN_NOUNS})
    cues.update({f"{p}|PHRASE": 1.0 for p in _BUILTIN_PHRASES})
    return CueLexicon(cues=cues, threshold=0.5, origin="built-in")


def credence_home() -> Path:
    """Where user data lives: $CREDENCE_HOME, else ~/.local/share/credence."""
    env = os.environ.get("CREDENCE_HOME")
    return Path(env).expanduser() if env else Path.home() / ".local" / "share" / "credence"


def learned_lexicon_path() -> Path:
    return credence_home() / LEXICON_FILE


def default_lexicon() -> CueLexicon:
    """The user's learned lexicon when `train-claims` has written one, else the built-in one."""
    path = learned_lexicon_path()
    if path.is_file():
        return CueLexicon.load(path)
    return builtin_lexicon()


# --- learning -----------------------------------------------------------------------------

THRESHOLDS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6)
MIN_COUNT = 2  # a lemma seen once as a cue is too weak evidence on its own


def read_brat_dir(root: Path, limit: int | None = None) -> list[tuple[str, str, str]]:
    """(name, text, ann of the first annotator in sorted order) per article of a PolNeAR-style folder."""
    root = Path(root)
    text_dir, ann_dir = root / "text", root / "attributions"
    if not text_dir.is_dir() or not ann_dir.is_dir():
        raise LexiconError(f"{root} is not laid out like PolNeAR (text/NAME.txt, "
                           f"attributions/NAME_ANNOTATOR.ann)")
    first: dict[str, Path] = {}
    for ann in sorted(ann_dir.glob("*.ann")):
        name = ann.stem.rsplit("_", 1)[0] if "_" in ann.stem else ann.stem
        if (text_dir / f"{name}.txt").is_file():
            first.setdefault(name, ann)
    names = sorted(first)
    if limit is not None:
        names = names[:limit]
    return [(n, (text_dir / f"{n}.txt").read_text(encoding="utf-8"),
             first[n].read_text(encoding="utf-8")) for n in names]


def _gold_cue_chars(text: str, ann: str) -> tuple[list[tuple[int, int]], dict[str, list]]:
    from .brat import parse_ann
    from .scoring import pieces
    spans, _, _ = parse_ann(text, ann)
    by_role: dict[str, list] = {"Cue": [], "Source": [], "Content": []}
    for s in spans:
        if s.label in by_role:
            by_role[s.label].append(pieces(s.start, s.end, s.fragments))
    cue_chars = [p for sp in by_role["Cue"] for p in sp]
    return cue_chars, by_role


def _count(docs_gold: Iterable[tuple[object, list[tuple[int, int]]]]) -> tuple[dict, dict]:
    """Per cue key: candidates seen, and candidates whose head lies inside a gold cue."""
    from .claims import cue_candidates
    seen: dict[str, int] = {}
    hits: dict[str, int] = {}
    for doc, cue_chars in docs_gold:
        for cand in cue_candidates(doc):
            seen[cand.key] = seen.get(cand.key, 0) + 1
            t = cand.head
            if any(a <= t.idx < b for a, b in cue_chars):
                hits[cand.key] = hits.get(cand.key, 0) + 1
    return seen, hits


def _count_dobj(docs: list, gold: list) -> dict[str, float]:
    """Per cue key: share of gold cues with a direct object (and no clause) whose object is the content."""
    from .claims import cue_candidates
    n: dict[str, int] = {}
    yes: dict[str, int] = {}
    for doc, (cue_chars, by_role) in zip(docs, gold):
        contents = [p for sp in by_role["Content"] for p in sp]
        for cand in cue_candidates(doc):
            t = cand.head
            if not cand.key.endswith("|VERB") or not any(a <= t.idx < b for a, b in cue_chars):
                continue
            if any(c.dep_ in ("ccomp", "xcomp") for c in t.children):
                continue
            obj = next((c for c in t.children if c.dep_ == "dobj" and c.i > t.i), None)
            if obj is None:
                continue
            n[cand.key] = n.get(cand.key, 0) + 1
            if any(a <= obj.idx < b for a, b in contents):
                yes[cand.key] = yes.get(cand.key, 0) + 1
    return {k: round(yes.get(k, 0) / v, 4) for k, v in n.items() if v >= 3}


def _precisions(seen: dict, hits: dict) -> dict[str, float]:
    return {k: round(hits[k] / seen[k], 4) for k in hits if hits[k] >= MIN_COUNT}


PROB_THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5)
MIN_FEATURE_COUNT = 3  # rarer features carry no weight: they would only memorise


def _token_ids(doc, pcs, starts: list[int]) -> list[int]:
    """Indices of the (non-space) tokens starting inside the pieces; `starts`: every token's idx."""
    out = []
    for a, b in pcs:
        out.extend(i for i in range(bisect_left(starts, a), bisect_left(starts, b))
                   if not doc[i].is_space)
    return sorted(set(out))


def _gold_cue_heads(doc, cue_spans: list) -> set[int]:
    """Token indices of the syntactic heads of gold cue spans (the token whose head lies outside)."""
    heads = set()
    starts = [t.idx for t in doc]
    for pcs in cue_spans:
        toks = [doc[i] for i in _token_ids(doc, pcs, starts)]
        ids = {t.i for t in toks}
        top = [t for t in toks if t.head.i not in ids or t.head.i == t.i]
        if top:
            heads.add(top[0].i)
    return heads


def _count_extent(docs: list, cue_spans: list[list]) -> dict[str, float]:
    """Per extent key: share of gold cues whose adjacent dependent of that kind is part of the cue."""
    from .claims import extent_keys
    n: dict[str, int] = {}
    yes: dict[str, int] = {}
    for doc, spans in zip(docs, cue_spans):
        starts = [t.idx for t in doc]
        for pcs in spans:
            inside = set(_token_ids(doc, pcs, starts))
            top = [i for i in sorted(inside) if doc[i].head.i not in inside or doc[i].head.i == i]
            if not top:
                continue
            t = doc[top[0]]
            ids = {t.i}
            for step in (-1, 1):
                j = t.i + step
                while t.sent.start <= j < t.sent.end:
                    keys = extent_keys(doc, t, j, ids)
                    if not keys:
                        break
                    hit = j in inside
                    for k in keys:
                        n[k] = n.get(k, 0) + 1
                        yes[k] = yes.get(k, 0) + hit
                    if not hit:
                        break
                    ids.add(j)
                    j += step
    return {k: round(yes[k] / v, 3) for k, v in n.items() if v >= 3}


def _cue_examples(doc, cue_spans: list) -> list[tuple[list[str], int]]:
    from .claims import cue_candidates, cue_features
    heads = _gold_cue_heads(doc, cue_spans)
    return [(cue_features(doc, c), int(c.head.i in heads)) for c in cue_candidates(doc, broad=True)]


def fit_cue_model(examples: Iterable[tuple[list[str], int]], *, l2: float = 3e-5,
                  iterations: int = 250) -> dict:
    """Logistic regression (full-batch Adam, L2) over sparse string features: {"bias", "weights"}."""
    import numpy as np
    examples = list(examples)
    counts: dict[str, int] = {}
    for feats, _ in examples:
        for f in feats:
            counts[f] = counts.get(f, 0) + 1
    vocab = {f: j for j, f in enumerate(f for f, n in counts.items() if n >= MIN_FEATURE_COUNT)}
    rows, cols = [], []
    for i, (feats, _) in enumerate(examples):
        for f in feats:
            j = vocab.get(f)
            if j is not None:
                rows.append(i)
                cols.append(j)
    rows_a, cols_a = np.asarray(rows), np.asarray(cols)
    y = np.asarray([lab for _, lab in examples], dtype=float)
    n, d = len(examples), len(vocab)
    w, b = np.zeros(d), 0.0
    m, v, mb, vb = np.zeros(d), np.zeros(d), 0.0, 0.0
    lr, beta1, beta2, eps = 0.1, 0.9, 0.999, 1e-8
    for step in range(1, iterations + 1):
        z = b + np.bincount(rows_a, weights=w[cols_a], minlength=n)
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
        err = (p - y) / n
        g = np.bincount(cols_a, weights=err[rows_a], minlength=d) + l2 * w
        gb = err.sum()
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        mb = beta1 * mb + (1 - beta1) * gb
        vb = beta2 * vb + (1 - beta2) * gb * gb
        corr = np.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
        w -= lr * corr * m / (np.sqrt(v) + eps)
        b -= lr * corr * mb / (np.sqrt(vb) + eps)
    names = list(vocab)
    weights = {names[j]: round(float(w[j]), 4) for j in range(d) if abs(w[j]) >= 1e-3}
    return {"bias": round(float(b), 4), "weights": weights}


def learn_cues(train_dir: Path, nlp=None, *, limit: int | None = None, folds: int = 5,
               batch_size: int = 16, n_process: int = 1, docs: list | None = None,
               thresholds: tuple[float, ...] = PROB_THRESHOLDS,
               progress: Callable[[int, int], None] | None = None) -> CueLexicon:
    """Learn a cue model (logistic regression), cue extent and object use from a PolNeAR-style folder.

    The probability threshold maximises the mean overlap F1 of cue, source and content
    over held-out folds of the training data (never the data one reports on). `docs`:
    the articles already parsed, in the folder's order (skips parsing).
    """
    from .claims import _detect
    from .pipeline import load_model
    from .scoring import PRF, score
    nlp = nlp or load_model()
    articles = read_brat_dir(train_dir, limit)
    if not articles:
        raise LexiconError(f"no articles with annotations in {train_dir}")
    if docs is None:
        docs = []
        texts = (t for _, t, _ in articles)
        # NER plays no part in claims: skipping it saves a fifth of the parse.
        disable = [p for p in ("ner",) if p in nlp.pipe_names]
        for i, doc in enumerate(nlp.pipe(texts, batch_size=batch_size, n_process=n_process,
                                         disable=disable), 1):
            docs.append(doc)
            if progress:
                progress(i, len(articles))
    elif len(docs) != len(articles):
        raise ValueError("docs must be the folder's articles, parsed, in order")
    gold = [_gold_cue_chars(t, a) for _, t, a in articles]
    examples = [_cue_examples(doc, g[1]["Cue"]) for doc, g in zip(docs, gold)]

    def fit(ids: list[int], threshold: float, origin: str) -> CueLexicon:
        return CueLexicon(
            cues={}, threshold=threshold, origin=origin,
            model=fit_cue_model(e for i in ids for e in examples[i]),
            extent=_count_extent([docs[i] for i in ids], [gold[i][1]["Cue"] for i in ids]),
            dobj_content=_count_dobj([docs[i] for i in ids], [gold[i] for i in ids]))

    k = max(2, min(folds, len(docs)))
    order = list(range(len(docs)))
    random.Random(13).shuffle(order)  # fixed seed: the same data gives the same lexicon
    fold_of = {idx: n % k for n, idx in enumerate(order)}
    per_threshold = {th: {r: PRF() for r in ("Cue", "Source", "Content")} for th in thresholds}
    for f in range(k):
        lex = fit([i for i in range(len(docs)) if fold_of[i] != f], thresholds[0], "cv")
        held = [i for i in range(len(docs)) if fold_of[i] == f]
        probs = {i: [lex.cue_probability(feats) for feats, _ in examples[i]] for i in held}
        for th in thresholds:
            lex.threshold = th
            for i in held:
                pred = _detect(docs[i], lex, probs[i])
                by_role = {"Cue": [[s.cue] for s in pred],
                           "Source": [[s.source] for s in pred if s.source],
                           "Content": [[s.content] for s in pred if s.content]}
                for role in per_threshold[th]:
                    per_threshold[th][role] += score(by_role[role], gold[i][1][role])

    def mean_f1(th: float) -> float:
        return sum(p.f1 for p in per_threshold[th].values()) / 3

    best = max(thresholds, key=lambda th: (round(mean_f1(th), 4), -th))
    lex = fit(list(range(len(docs))), best, "learned")
    seen, hits = _count(zip(docs, (g[0] for g in gold)))
    lex.cues = _precisions(seen, hits)  # per-lemma precision: for reading, not for deciding
    cv = {str(th): {r: round(p.f1, 4) for r, p in per_threshold[th].items()} for th in thresholds}
    lex.meta = {"trained_on": str(Path(train_dir)), "articles": len(docs), "folds": k,
                "model": f"{nlp.meta.get('lang')}_{nlp.meta.get('name')}-{nlp.meta.get('version')}",
                "cv_f1": cv, "min_count": MIN_COUNT}
    return lex
