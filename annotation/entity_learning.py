"""Entities that learn from the analyst.

Two things, both from decided data:

- `EntityDecisions`: what the analyst decided about texts. A label decided for a text is
  suggested on that text's other whole-token mentions; a (text, label) pair whose latest
  decision is a rejection is never suggested again. Applied to the model's entities at
  annotation time (`EntityDecisions.apply`).
- `train_entity_model`: the pipeline's NER fine-tuned on documents an analyst finished,
  starting from the base model, with spaCy's public training API (`Example`,
  `Language.resume_training`, `Language.update`). To keep what the base model knew, each
  epoch mixes in the base model's own entities on other documents (corrected by the
  decisions, so a systematic error the analyst fixed is not taught again).

An `EntityModel` is the fine-tuned NER component's bytes (`component.to_bytes()`, spaCy's
msgpack: no pickle) in a small versioned envelope; `entity_pipeline` loads the base pipeline
and puts them in its NER (`component.from_bytes()`).
"""
from __future__ import annotations

import hashlib
import json
import random
import struct
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .claim_model import NotEnoughData
from .pipeline import NER_ONLY_DISABLE, model_version
from .progress import Progress, ShouldCancel, stop_if_cancelled
from .scoring import PRF

if TYPE_CHECKING:
    from spacy.matcher import PhraseMatcher

FORMAT = "credence-entity-model"
VERSION = 1
MAGIC = b"CREDENCE-ENTITY-MODEL\n"
MAX_HEADER = 1 << 20
MIN_TRAINING_DOCUMENTS = 8
EPOCHS = 10                # at most; fewer when the data is large (UPDATE_BUDGET)
UPDATE_BUDGET = 2000       # document updates per training: ~2 min of one CPU core at 7,000 words/s
BATCH_SIZE = 8
DROPOUT = 0.2
REHEARSAL_PER_EXAMPLE = 1.0  # base-model documents mixed in per decided document, each epoch
LEARN_RATE: float | None = 0.0002  # a fifth of the pipeline's own: keeps more of what it knew

Entity = tuple[int, int, str]


class EntityModelError(ValueError):
    """Bytes that are not a usable entity model (damaged, foreign, too new, other base model)."""


@dataclass
class EntityExample:
    """A text and its entities as decided (complete: every other token is outside any entity)."""
    text: str
    entities: list[Entity] = field(default_factory=list)
    name: str = ""


# --- decisions carried to other mentions ---------------------------------------------------

@dataclass
class EntitySuggestion:
    start: int
    end: int
    label: str
    decided: bool = False  # placed or relabelled by an analyst's decision, not by the model


class EntityDecisions:
    """What the analyst decided about entity texts: labels to carry, pairs never to suggest.

    Built from decisions (text, label, status "accepted"/"rejected", when). Per (text, label)
    the latest decision stands; a text's label is the one accepted most often among the pairs
    still standing (ties: the latest). Mentions are carried only for texts with a capital
    letter or a digit: a lowercase word ("one", "today") is the model's to judge in context.
    """

    def __init__(self, decisions: Iterable[tuple[str, str, str, str]] = ()):
        latest: dict[tuple[str, str], tuple[str, str]] = {}
        accepted: dict[tuple[str, str], int] = {}
        for text, label, status, at in decisions:
            text = text.strip()
            if not text or status not in ("accepted", "rejected"):
                continue
            key = (text, label)
            if key not in latest or (at or "") >= latest[key][1]:
                latest[key] = (status, at or "")
            if status == "accepted":
                accepted[key] = accepted.get(key, 0) + 1
        self.blocked = frozenset(k for k, (status, _) in latest.items() if status == "rejected")
        best: dict[str, tuple[int, str, str]] = {}
        for (text, label), (status, at) in latest.items():
            if status != "accepted":
                continue
            score = (accepted.get((text, label), 0), at, label)
            if text not in best or score > best[text]:
                best[text] = score
        self.labels: dict[str, str] = {t: s[2] for t, s in best.items()
                                       if any(c.isupper() or c.isdigit() for c in t)}
        self._matchers: dict[int, PhraseMatcher] = {}

    def __bool__(self) -> bool:
        return bool(self.labels or self.blocked)

    def fingerprint(self) -> str:
        """Changes whenever what `apply` does changes (for caches and run keys)."""
        h = hashlib.sha256()
        for t, lab in sorted(self.labels.items()):
            h.update(f"L\0{t}\0{lab}\n".encode())
        for t, lab in sorted(self.blocked):
            h.update(f"B\0{t}\0{lab}\n".encode())
        return h.hexdigest()[:12]

    def _matcher(self, nlp) -> PhraseMatcher:
        """A PhraseMatcher over the decided texts (tokens as the pipeline makes them); `nlp` is
        a pipeline or a tokenizer."""
        key = id(nlp.vocab)
        if key not in self._matchers:
            from spacy.matcher import PhraseMatcher
            matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
            tokenize = getattr(nlp, "tokenizer", nlp)
            by_label: dict[str, list[str]] = {}
            for text, label in self.labels.items():
                by_label.setdefault(label, []).append(text)
            for label, texts in sorted(by_label.items()):
                matcher.add(label, list(tokenize.pipe(sorted(texts))))
            self._matchers[key] = matcher
        return self._matchers[key]

    def apply(self, doc, nlp, ents: Sequence[Entity] | None = None) -> list[EntitySuggestion]:
        """The entities to suggest in `doc` (made by `nlp`, a pipeline or its tokenizer): the
        model's (`ents`, default doc.ents) with the decisions applied. A decided mention takes
        the place of model entities it overlaps, unless a longer model entity holds it
        ("Syrian" inside "the Syrian Observatory")."""
        text = doc.text
        if ents is None:
            ents = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
        model: list[EntitySuggestion] = []
        for s, e, label in ents:
            t = text[s:e].strip()
            if (t, label) in self.blocked:
                continue
            decided = self.labels.get(t)
            if decided is not None and decided != label:
                model.append(EntitySuggestion(s, e, decided, True))
            else:
                model.append(EntitySuggestion(s, e, label, False))
        if not self.labels:
            return model
        strings = nlp.vocab.strings
        at = {(m.start, m.end) for m in model}
        mentions = []
        for match_id, start, end in self._matcher(nlp)(doc):
            span = doc[start:end]
            rng = (span.start_char, span.end_char)
            if rng not in at:
                mentions.append(EntitySuggestion(rng[0], rng[1], strings[match_id], True))
        chosen: list[EntitySuggestion] = []
        for m in sorted(mentions, key=lambda m: (m.start - m.end, m.start)):
            if any(_overlap(m, c) for c in chosen):
                continue
            if any(_overlap(m, x) and x.start <= m.start and m.end <= x.end for x in model):
                continue  # inside a longer model entity: the model's reading stands
            chosen.append(m)
        out = chosen + [x for x in model if not any(_overlap(x, c) for c in chosen)]
        return sorted(out, key=lambda x: (x.start, x.end))


def _overlap(a: EntitySuggestion, b: EntitySuggestion) -> bool:
    return a.start < b.end and b.start < a.end


# --- the fine-tuned NER ------------------------------------------------------------------------

@dataclass
class EntityModel:
    """A fine-tuned NER component for the base pipeline `base_name` (its version `base_model`)."""
    ner: bytes
    labels: list[str]
    base_name: str
    base_model: str
    provenance: dict = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        header = json.dumps({"format": FORMAT, "version": VERSION, "labels": self.labels,
                             "base_name": self.base_name, "base_model": self.base_model,
                             "provenance": self.provenance},
                            ensure_ascii=False, sort_keys=True).encode("utf-8")
        return MAGIC + struct.pack(">Q", len(header)) + header + self.ner

    @classmethod
    def from_bytes(cls, data: bytes) -> EntityModel:
        """Read `to_bytes` output; anything else raises EntityModelError (one clear line)."""
        data = bytes(data)
        if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 8:
            raise EntityModelError(f"not an entity model (expected format {FORMAT!r})")
        (n,) = struct.unpack(">Q", data[len(MAGIC):len(MAGIC) + 8])
        if n > MAX_HEADER or len(MAGIC) + 8 + n > len(data):
            raise EntityModelError("the entity model is damaged (its header is cut or too long)")
        try:
            header = json.loads(data[len(MAGIC) + 8:len(MAGIC) + 8 + n].decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise EntityModelError("the entity model is damaged (its header is not JSON)") from None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise EntityModelError(f"not an entity model (expected format {FORMAT!r})")
        version = header.get("version")
        if not isinstance(version, int) or version > VERSION:
            raise EntityModelError(f"the entity model is version {version!r}; this Credence reads "
                                   f"up to version {VERSION}: update Credence")
        labels, base_name, base_model = (header.get("labels"), header.get("base_name"),
                                         header.get("base_model"))
        if (not isinstance(labels, list) or not all(isinstance(x, str) for x in labels)
                or not isinstance(base_name, str) or not isinstance(base_model, str)):
            raise EntityModelError("the entity model is damaged (its header is incomplete)")
        provenance = header.get("provenance")
        if not isinstance(provenance, dict):
            provenance = {}
        return cls(data[len(MAGIC) + 8 + n:], labels, base_name, base_model, provenance)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.ner).hexdigest()[:16]


_PIPELINES: OrderedDict[tuple[str, str, bool], object] = OrderedDict()  # (base, digest, parse)


def entity_pipeline(model: EntityModel, *, parse: bool = True):
    """The base pipeline with this model's NER (a private copy, cached: two at most); without
    `parse`, the NER alone (what entity-only annotation needs)."""
    key = (model.base_name, model.digest, parse)
    if key in _PIPELINES:
        _PIPELINES.move_to_end(key)
        return _PIPELINES[key]
    nlp = _private_pipeline(model.base_name, ner_only=not parse)
    if model_version(nlp) != model.base_model:
        raise EntityModelError(f"the entity model was fine-tuned from {model.base_model}; the "
                               f"installed pipeline is {model_version(nlp)}: train it again")
    ner = nlp.get_pipe("ner")
    for label in model.labels:
        if label not in ner.labels:
            ner.add_label(label)
    try:
        ner.from_bytes(model.ner, exclude=["vocab"])
    except Exception as exc:  # noqa: BLE001 (whatever spaCy or thinc raise on bytes not ours)
        raise EntityModelError(f"the entity model is damaged ({type(exc).__name__})") from None
    _PIPELINES[key] = nlp
    while len(_PIPELINES) > 2:
        _PIPELINES.popitem(last=False)
    return nlp


def _private_pipeline(base_name: str, ner_only: bool = False):
    """A freshly loaded pipeline nobody else holds (training changes its weights)."""
    import spacy
    return spacy.load(base_name, disable=list(NER_ONLY_DISABLE) if ner_only else [])


def _reference(nlp, ex: EntityExample):
    from spacy.util import filter_spans
    doc = nlp.make_doc(ex.text)
    spans = []
    for s, e, label in ex.entities:
        span = doc.char_span(s, e, label=label, alignment_mode="expand")
        if span is not None and span.text.strip():
            spans.append(span)
    doc.ents = filter_spans(spans)  # tokens outside them are "O": the document is complete
    return doc


def _examples(nlp, items: Sequence[EntityExample]) -> list:
    from spacy.training import Example
    return [Example(nlp.make_doc(ex.text), _reference(nlp, ex)) for ex in items]


def predict_entities(nlp, texts: Sequence[str], *, batch_size: int = 16,
                     should_cancel: ShouldCancel | None = None) -> list[list[Entity]]:
    """The pipeline's entities for each text (NER only: it has its own embedding layer)."""
    disable = [p for p in nlp.pipe_names if p != "ner"]
    out = []
    for doc in nlp.pipe(texts, batch_size=batch_size, disable=disable):
        stop_if_cancelled(should_cancel, "training cancelled")
        out.append([(e.start_char, e.end_char, e.label_) for e in doc.ents])
    return out


def rehearsal_examples(nlp, texts: Sequence[str], decisions: EntityDecisions | None = None, *,
                       should_cancel: ShouldCancel | None = None) -> list[EntityExample]:
    """What the model already says on other documents (with the analyst's decisions applied)."""
    disable = [p for p in nlp.pipe_names if p != "ner"]
    out = []
    for doc in nlp.pipe(texts, batch_size=16, disable=disable):
        stop_if_cancelled(should_cancel, "training cancelled")
        if decisions:
            ents = [(s.start, s.end, s.label) for s in decisions.apply(doc, nlp)]
        else:
            ents = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
        out.append(EntityExample(doc.text, ents))
    return out


def train_entity_model(examples: Sequence[EntityExample], base_name: str, *,
                       rehearsal: Sequence[EntityExample] = (), epochs: int = EPOCHS,
                       progress: Progress | None = None, should_cancel: ShouldCancel | None = None,
                       seed: int = 0) -> EntityModel:
    """Fine-tune the base pipeline's NER on decided documents (CPU, a private copy).

    Each epoch goes over every decided example and as many rehearsal examples (the base
    model's own entities on other documents), shuffled with a fixed seed; fewer epochs when
    the data is large (UPDATE_BUDGET document updates in all). Reports one step per batch;
    `should_cancel()` is asked between batches (raises Cancelled).
    """
    from spacy.util import fix_random_seed, minibatch
    examples = list(examples)
    if len(examples) < MIN_TRAINING_DOCUMENTS:
        raise NotEnoughData(f"learning entities needs at least {MIN_TRAINING_DOCUMENTS} documents "
                            f"marked done with their entities; there are {len(examples)}")
    fix_random_seed(seed)
    nlp = _private_pipeline(base_name)
    base_model = model_version(nlp)
    ner = nlp.get_pipe("ner")
    labels = sorted({lab for ex in examples for _, _, lab in ex.entities} - set(ner.labels))
    for label in labels:
        ner.add_label(label)
    train = _examples(nlp, examples)
    extra = _examples(nlp, rehearsal)
    n_extra = min(len(extra), int(REHEARSAL_PER_EXAMPLE * len(train)))
    per_epoch = len(train) + n_extra
    epochs = max(min(3, epochs), min(epochs, UPDATE_BUDGET // max(per_epoch, 1)))
    steps_per_epoch = -(-per_epoch // BATCH_SIZE)
    total = epochs * steps_per_epoch
    rng = random.Random(seed)
    done = 0
    losses: dict[str, float] = {}
    other = [p for p in nlp.pipe_names if p != "ner"]
    with nlp.select_pipes(disable=other):
        optimizer = nlp.resume_training()
        if LEARN_RATE is not None:
            optimizer.learn_rate = LEARN_RATE
        for _epoch in range(epochs):
            pool = train + (rng.sample(extra, n_extra) if n_extra else [])
            rng.shuffle(pool)
            for batch in minibatch(pool, size=BATCH_SIZE):
                stop_if_cancelled(should_cancel, "training cancelled")
                nlp.update(batch, sgd=optimizer, drop=DROPOUT, losses=losses)
                done += 1
                if progress is not None:
                    progress(done, total)
    provenance = {"documents": len(examples), "rehearsal_documents": len(rehearsal),
                  "entities": sum(len(ex.entities) for ex in examples), "epochs": epochs,
                  "added_labels": labels, "final_loss": round(float(losses.get("ner", 0.0)), 3)}
    return EntityModel(ner.to_bytes(exclude=["vocab"]), list(ner.labels), base_name, base_model,
                       provenance)


def score_entities(nlp, examples: Sequence[EntityExample], *,
                   predicted: Sequence[Sequence[Entity]] | None = None,
                   should_cancel: ShouldCancel | None = None) -> dict[str, PRF]:
    """Per-label exact-match precision/recall/F1 of the pipeline's NER (key "ALL": overall)."""
    if predicted is None:
        predicted = predict_entities(nlp, [ex.text for ex in examples], should_cancel=should_cancel)
    out: dict[str, PRF] = {}
    total = PRF()
    for ex, pred in zip(examples, predicted):
        gold = {(s, e, lab) for s, e, lab in ex.entities}
        found = set(pred)
        for lab in {x[2] for x in gold | found}:
            g = {x for x in gold if x[2] == lab}
            p = {x for x in found if x[2] == lab}
            prf = PRF(tp=len(g & p), n_pred=len(p), n_gold=len(g))
            out.setdefault(lab, PRF())
            out[lab] += prf
            total += prf
    out["ALL"] = total
    return out
