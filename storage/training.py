"""Training the project's own models from what it knows to be right, without writing anything.

Decided data (`collect`): documents marked done, every accepted, created, relabelled or
rejected span and claim (rejections are negatives), and imported gold annotations (origin
"import", status accepted), which count as decided. `train` holds part of it out, learns a
model from the rest, scores that model and the one in use on the held-out part (the evidence
shown before switching), then learns the model to keep from all of it. It returns
`TrainedModel`s: storing one (storage/models.py) is the only write, made by the caller once
the analyst has seen the evidence. Cancelled or killed at any moment, the project is as before.

Held-out documents are taken first among those the model in use did not learn from, so the
comparison is fair; how many of them the old model had seen is reported.
"""
from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from annotation.claim_model import MIN_TRAINING_DOCUMENTS as MIN_CLAIM_DOCUMENTS
from annotation.claim_model import (
    Attribution,
    ClaimExample,
    ClaimModel,
    NotEnoughData,
    attribution,
    default_claim_model,
    parse_texts,
    score_claim_model,
    train_claim_model,
)
from annotation.entity_learning import MIN_TRAINING_DOCUMENTS as MIN_ENTITY_DOCUMENTS
from annotation.entity_learning import (
    EntityDecisions,
    EntityExample,
    entity_pipeline,
    rehearsal_examples,
    score_entities,
    train_entity_model,
)
from annotation.model import CLAIM_LABELS, CLAIM_PART_COLUMNS
from annotation.pipeline import load_model, model_version
from annotation.progress import Progress, ShouldCancel, stop_if_cancelled
from annotation.scoring import PRF, pieces
from storage.models import (
    KINDS,
    StoredModel,
    TrainedModel,
    load_claim_model,
    load_entity_model,
    model_in_use,
    size_text,
)
from storage.project import Project

HOLDOUT_FRACTION = 0.2
MIN_HOLDOUT = 2
MAX_HOLDOUT = 150
REHEARSAL_DOCUMENTS = 200  # at most this many other documents lend the base model's own entities
HASH_CHARS = 16            # document hashes kept in provenance: enough to tell documents apart
ROLES = ("cue", "source", "content")


# --- decided data ------------------------------------------------------------------------------

@dataclass
class DocRef:
    id: int
    hash: str
    name: str | None


@dataclass
class DecidedData:
    """A snapshot of what the project knows to be right (read in one transaction)."""
    claims: list[tuple[DocRef, ClaimExample]] = field(default_factory=list)
    claim_decisions: int = 0
    entities: list[tuple[DocRef, EntityExample]] = field(default_factory=list)
    entity_decisions: int = 0
    decisions: list[tuple[str, str, str, str]] = field(default_factory=list)  # (text, label, status, at)
    rehearsal: list[str] = field(default_factory=list)  # texts of other documents
    base_model: str = ""

    def claim_documents_with_claims(self) -> int:
        return sum(1 for _, ex in self.claims if ex.attributions)


def collect(project: Project, *, rehearsal_limit: int = REHEARSAL_DOCUMENTS) -> DecidedData:
    """Everything training learns from, read in one read transaction (a consistent snapshot)."""
    conn = project.conn
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        data = DecidedData(base_model=project.model_name)
        docs = {r[0]: (DocRef(r[0], r[1][:HASH_CHARS], r[2]), r[3], r[4]) for r in conn.execute(
            "SELECT id, content_hash, name, status, text FROM documents")}
        _collect_claims(conn, docs, data)
        _collect_entities(conn, docs, data)
        data.decisions = entity_decisions(project)
        used = {ref.id for ref, _ in data.entities}
        others = [i for i, (_, status, _) in docs.items() if status != "done" and i not in used]
        random.Random(11).shuffle(others)
        data.rehearsal = [docs[i][2] for i in sorted(others[:rehearsal_limit])]
    finally:
        if own:
            conn.execute("COMMIT")
    return data


def _first_annotator(rows: list[tuple], origin_at: int, annotator_at: int) -> list[tuple]:
    """Imported annotations of one annotator only (the first by name, as train-claims reads a
    folder): several annotators' versions of one article would teach it twice, or contradict."""
    imported = {r[annotator_at] or "" for r in rows if r[origin_at] == "import"}
    if len(imported) <= 1:
        return rows
    first = min(imported)
    return [r for r in rows if r[origin_at] != "import" or (r[annotator_at] or "") == first]


def _collect_claims(conn, docs: dict, data: DecidedData) -> None:
    cols = ", ".join(f"c.{CLAIM_PART_COLUMNS[r]}" for r in ("Source", "Cue", "Content"))
    by_doc: dict[int, list[tuple]] = {}
    for row in conn.execute(f"SELECT c.document_id, c.status, c.origin, c.annotator, {cols} FROM claims c"
                            " WHERE c.status IN ('accepted', 'rejected')"):
        by_doc.setdefault(row[0], []).append(row)
    done = [i for i, (_, status, _) in docs.items() if status == "done"]
    span_ids = {sid for rows in by_doc.values() for r in rows for sid in r[4:7] if sid is not None}
    spans = _spans_by_id(conn, span_ids)
    for doc_id in sorted(set(by_doc) | set(done)):
        ref, status, text = docs[doc_id]
        rows = _first_annotator(by_doc.get(doc_id, []), 2, 3)
        atts: list[Attribution] = []
        negs: list[Attribution] = []
        for _d, st, _origin, _who, *parts in rows:
            att = attribution(*(spans.get(sid) for sid in parts))
            if att.cue is None and att.content is None:
                continue
            (atts if st == "accepted" else negs).append(att)
        gold = any(r[2] == "import" and r[1] == "accepted" for r in rows)
        data.claims.append((ref, ClaimExample(text=text, attributions=atts, negatives=negs,
                                              complete=status == "done" or gold,
                                              name=ref.name or str(doc_id))))
        data.claim_decisions += len(atts) + len(negs)


def _spans_by_id(conn, ids: set[int]) -> dict[int, list[tuple[int, int]]]:
    out: dict[int, list[tuple[int, int]]] = {}
    ids_list = sorted(ids)
    for i in range(0, len(ids_list), 500):
        chunk = ids_list[i:i + 500]
        for sid, start, end, frags in conn.execute(
                f'SELECT id, start, "end", fragments FROM spans WHERE id IN ({",".join("?" * len(chunk))})',
                chunk):
            out[sid] = pieces(start, end, json.loads(frags) if frags else None)
    return out


def _collect_entities(conn, docs: dict, data: DecidedData) -> None:
    claim_labels = ",".join("?" * len(CLAIM_LABELS))
    by_doc: dict[int, list[tuple]] = {}
    for row in conn.execute(
            f'SELECT document_id, start, "end", label, status, origin, annotator FROM spans'
            f" WHERE status != 'suggested' AND label NOT IN ({claim_labels})", CLAIM_LABELS):
        by_doc.setdefault(row[0], []).append(row)
    for doc_id in sorted(docs):
        ref, status, text = docs[doc_id]
        rows = _first_annotator(by_doc.get(doc_id, []), 5, 6)
        gold = any(r[5] == "import" and r[4] == "accepted" for r in rows)
        if status != "done" and not gold:
            continue
        ents = sorted({(r[1], r[2], r[3]) for r in rows if r[4] == "accepted"})
        data.entities.append((ref, EntityExample(text, ents, ref.name or str(doc_id))))
        data.entity_decisions += len(rows)


def entity_decisions(project: Project) -> list[tuple[str, str, str, str]]:
    """(text, label, status, when) of every decided entity span: accepted (an analyst accepted,
    made or relabelled it, or it was imported as gold) or rejected."""
    claim_labels = ",".join("?" * len(CLAIM_LABELS))
    return [(t, lab, st, at) for t, lab, st, at in project.conn.execute(
        f'SELECT substr(d.text, s.start + 1, s."end" - s.start), s.label, s.status, s.updated_at'
        f" FROM spans s JOIN documents d ON d.id = s.document_id"
        f" WHERE s.status IN ('accepted', 'rejected') AND s.label NOT IN ({claim_labels})",
        CLAIM_LABELS)]


# --- results -----------------------------------------------------------------------------------

@dataclass
class KindResult:
    """What training one kind gave: a model to store (or why not), and the evidence."""
    kind: str
    trained: TrainedModel | None = None
    refused: str | None = None
    old_name: str = ""
    old: dict[str, dict] = field(default_factory=dict)  # role or label -> PRF dict
    new: dict[str, dict] = field(default_factory=dict)
    held_out: int = 0
    held_out_seen_by_old: int = 0
    learned_from: int = 0
    seconds: float = 0.0

    @property
    def keys(self) -> list[str]:
        if self.kind == "claims":
            return list(ROLES)
        labels = sorted((set(self.old) | set(self.new)) - {"ALL"},
                        key=lambda k: -max(self.new.get(k, {}).get("gold", 0),
                                           self.old.get(k, {}).get("gold", 0)))
        return labels + ["ALL"]

    def better(self) -> bool | None:
        """Does the new model score higher on the held-out data? (None without evidence)"""
        if not self.new:
            return None
        if self.kind == "claims":
            return sum(self.new[r]["f1"] for r in ROLES) > sum(self.old[r]["f1"] for r in ROLES)
        return self.new["ALL"]["f1"] > self.old["ALL"]["f1"]

    def lines(self) -> list[str]:
        if self.refused:
            return [f"{self.kind}: not trained: {self.refused}"]
        if self.trained is None:
            raise ValueError(f"{self.kind}: a result neither trained nor refused")
        seen = (f"; the old model had learned from {self.held_out_seen_by_old} of them"
                if self.held_out_seen_by_old else "")
        out = [(f"{self.kind}: learned from {self.trained.documents} documents, "
                f"{self.trained.decisions} decisions in {self.seconds:.0f} s "
                f"({size_text(len(self.trained.data))})"),
               (f"  held out {self.held_out} documents (the new model was measured after learning "
                f"from the other {self.learned_from}{seen}):"),
               f"  {'':<14}{'old F1':>8}{'new F1':>8}  old: {self.old_name}"]
        for k in self.keys:
            o, n = self.old.get(k, {}), self.new.get(k, {})
            gold = max(o.get("gold", 0), n.get("gold", 0))
            out.append(f"  {k:<14}{o.get('f1', 0):8.3f}{n.get('f1', 0):8.3f}"
                       + (f"   ({gold} held-out)" if self.kind == "entities" else ""))
        return out


@dataclass
class TrainingReport:
    results: list[KindResult]
    seconds: float = 0.0

    def lines(self) -> list[str]:
        return [line for r in self.results for line in r.lines()]

    def trained(self) -> list[KindResult]:
        return [r for r in self.results if r.trained is not None]

    def result(self, kind: str) -> KindResult | None:
        return next((r for r in self.results if r.kind == kind), None)


# --- training ----------------------------------------------------------------------------------

class _Phases:
    """Maps the progress of successive phases onto one bar (weights: each phase's share)."""

    def __init__(self, progress: Progress | None, weights: dict[str, float]):
        self.progress = progress
        total = sum(weights.values()) or 1.0
        self.start: dict[str, float] = {}
        self.share: dict[str, float] = {}
        acc = 0.0
        for name, w in weights.items():
            self.start[name], self.share[name] = acc, w / total
            acc += w / total

    def __call__(self, name: str) -> Progress:
        def report(done: int, total: int) -> None:
            if self.progress is not None:
                frac = self.start[name] + self.share[name] * (min(done, total) / total if total else 0)
                self.progress(int(frac * 1000), 1000)
        return report


def _holdout(refs: Sequence[DocRef], candidates: Sequence[int], seen: set[str]) -> list[int]:
    """Indices to hold out: documents the model in use did not learn from first."""
    n = max(MIN_HOLDOUT, min(MAX_HOLDOUT, round(HOLDOUT_FRACTION * len(candidates))))
    rng = random.Random(7)
    unseen = [i for i in candidates if refs[i].hash not in seen]
    others = [i for i in candidates if refs[i].hash in seen]
    rng.shuffle(unseen)
    rng.shuffle(others)
    return sorted((unseen + others)[:n])


def _prf_dict(prf: PRF) -> dict:
    return prf.as_dict()


def train(project: Project, *, kinds: Sequence[str] = KINDS, nlp=None, n_process: int = 1,
          progress: Progress | None = None, should_cancel: ShouldCancel | None = None,
          data: DecidedData | None = None, message: Callable[[str], None] | None = None
          ) -> TrainingReport:
    """Train the kinds asked for from the project's decided data; nothing is written.

    A kind with too little data is refused (`KindResult.refused` says how much is needed);
    when every kind asked for is refused, NotEnoughData is raised with all the reasons.
    `message(text)` is told which phase runs (for a status line).
    """
    for k in kinds:
        if k not in KINDS:
            raise ValueError(f"unknown model kind {k!r}: one of {', '.join(KINDS)}")
    started = time.monotonic()
    data = data if data is not None else collect(project)
    stop_if_cancelled(should_cancel, "training cancelled")
    nlp = nlp if nlp is not None else load_model(project.model_name)
    in_use = {k: model_in_use(project, k) for k in kinds}
    claims_in_use, entities_in_use = in_use.get("claims"), in_use.get("entities")
    old_claims = load_claim_model(project, claims_in_use) if claims_in_use else None
    old_entities = load_entity_model(project, entities_in_use) if entities_in_use else None
    phases = _Phases(progress, {k: {"claims": 3.0, "entities": 2.0}[k] for k in kinds})
    results = []
    for kind in kinds:
        if message:
            message(f"Training {kind}…")
        if kind == "claims":
            results.append(_train_claims(data, nlp, in_use.get("claims"), old_claims,
                                         n_process=n_process, progress=phases("claims"),
                                         should_cancel=should_cancel))
        else:
            results.append(_train_entities(data, nlp, project.model_name, in_use.get("entities"),
                                           old_entities, progress=phases("entities"),
                                           should_cancel=should_cancel))
    if all(r.refused for r in results):
        raise NotEnoughData("; ".join(r.refused for r in results if r.refused))
    return TrainingReport(results, time.monotonic() - started)


def _seen(stored: StoredModel | None) -> set[str]:
    if stored is None:
        return set()
    return set(stored.provenance.get("document_hashes") or [])


def _train_claims(data: DecidedData, nlp, stored: StoredModel | None, old: ClaimModel | None, *,
                  n_process: int, progress: Progress, should_cancel: ShouldCancel | None) -> KindResult:
    started = time.monotonic()
    result = KindResult("claims")
    refs = [ref for ref, _ in data.claims]
    examples = [ex for _, ex in data.claims]
    with_claims = [i for i, ex in enumerate(examples) if ex.attributions]
    need = MIN_CLAIM_DOCUMENTS + MIN_HOLDOUT
    if len(with_claims) < need:
        result.refused = (f"learning claims needs at least {need} documents with decided claims "
                          f"({MIN_CLAIM_DOCUMENTS} to learn from, {MIN_HOLDOUT} held out to measure "
                          f"it); there are {len(with_claims)}")
        return result
    seen = _seen(stored)
    if old is None and stored is None:
        old = default_claim_model()  # what annotation uses without a project model
    result.old_name = (f"project claims v{stored.version}" if stored else
                       old.describe() if old is not None else "built-in cue lexicon")
    hold = _holdout(refs, with_claims, seen)
    hold_set = set(hold)
    train_idx = [i for i in range(len(examples)) if i not in hold_set]
    phase = _Phases(progress, {"parse": 3.0, "evidence": 3.0, "score": 0.3, "final": 3.5})
    docs = parse_texts(nlp, [ex.text for ex in examples], n_process=n_process,
                       progress=phase("parse"), should_cancel=should_cancel)
    evidence = train_claim_model([examples[i] for i in train_idx], nlp, docs=[docs[i] for i in train_idx],
                                 progress=phase("evidence"), should_cancel=should_cancel)
    held = [examples[i] for i in hold]
    held_docs = [docs[i] for i in hold]
    new_scores = score_claim_model(evidence, held, nlp, docs=held_docs)
    old_scores = score_claim_model(old, held, nlp, docs=held_docs)
    phase("score")(1, 1)
    final = train_claim_model(examples, nlp, docs=docs, progress=phase("final"),
                              should_cancel=should_cancel)
    result.new = {r: _prf_dict(new_scores["overlap"][r]) for r in ROLES}
    result.old = {r: _prf_dict(old_scores["overlap"][r]) for r in ROLES}
    result.held_out = len(hold)
    result.held_out_seen_by_old = sum(1 for i in hold if refs[i].hash in seen)
    result.learned_from = len(train_idx)
    provenance = dict(final.provenance)
    provenance.update({"document_hashes": [r.hash for r in refs],
                       "held_out_hashes": [refs[i].hash for i in hold],
                       "exact": {"new": {r: _prf_dict(new_scores["exact"][r]) for r in ROLES},
                                 "old": {r: _prf_dict(old_scores["exact"][r]) for r in ROLES}}})
    final.provenance = provenance
    result.trained = TrainedModel(
        kind="claims", data=final.to_bytes(), base_model=model_version(nlp), documents=len(examples),
        decisions=data.claim_decisions, provenance=provenance,
        scores=_scores(result, "overlap (half the longer span), as eval-claims"))
    result.seconds = time.monotonic() - started
    return result


def _scores(result: KindResult, convention: str) -> dict[str, Any]:
    return {"held_out": {"documents": result.held_out, "seen_by_old": result.held_out_seen_by_old,
                         "learned_from": result.learned_from},
            "convention": convention, "old_model": result.old_name, "old": result.old,
            "new": result.new}


def _train_entities(data: DecidedData, nlp, base_name: str, stored: StoredModel | None, old,
                    *, progress: Progress, should_cancel: ShouldCancel | None) -> KindResult:
    started = time.monotonic()
    result = KindResult("entities")
    refs = [ref for ref, _ in data.entities]
    examples = [ex for _, ex in data.entities]
    need = MIN_ENTITY_DOCUMENTS + MIN_HOLDOUT
    if len(examples) < need:
        result.refused = (f"learning entities needs at least {need} documents marked done "
                          f"({MIN_ENTITY_DOCUMENTS} to learn from, {MIN_HOLDOUT} held out to measure "
                          f"it); there are {len(examples)}")
        return result
    seen = _seen(stored)
    old_nlp = entity_pipeline(old) if old is not None else nlp
    result.old_name = f"project entities v{stored.version}" if stored else model_version(nlp)
    hold = _holdout(refs, range(len(examples)), seen)
    hold_set = set(hold)
    train_idx = [i for i in range(len(examples)) if i not in hold_set]
    phase = _Phases(progress, {"rehearsal": 1.0, "evidence": 4.0, "score": 0.5, "final": 5.0})
    decisions = EntityDecisions(data.decisions)
    # The base model's own entities on other documents, with the analyst's decisions applied.
    rehearsal = rehearsal_examples(nlp, data.rehearsal, decisions, should_cancel=should_cancel)
    phase("rehearsal")(1, 1)
    evidence = train_entity_model([examples[i] for i in train_idx], base_name, rehearsal=rehearsal,
                                  progress=phase("evidence"), should_cancel=should_cancel)
    held = [examples[i] for i in hold]
    new_scores = score_entities(entity_pipeline(evidence), held, should_cancel=should_cancel)
    old_scores = score_entities(old_nlp, held, should_cancel=should_cancel)
    phase("score")(1, 1)
    final = train_entity_model(examples, base_name, rehearsal=rehearsal, progress=phase("final"),
                               should_cancel=should_cancel)
    result.new = {k: _prf_dict(v) for k, v in new_scores.items()}
    result.old = {k: _prf_dict(v) for k, v in old_scores.items()}
    result.held_out = len(hold)
    result.held_out_seen_by_old = sum(1 for i in hold if refs[i].hash in seen)
    result.learned_from = len(train_idx)
    provenance = dict(final.provenance)
    provenance.update({"document_hashes": [r.hash for r in refs],
                       "held_out_hashes": [refs[i].hash for i in hold]})
    final.provenance = provenance
    result.trained = TrainedModel(
        kind="entities", data=final.to_bytes(), base_model=final.base_model,
        documents=len(examples), decisions=data.entity_decisions, provenance=provenance,
        scores=_scores(result, "exact span and label, per label"))
    result.seconds = time.monotonic() - started
    return result

