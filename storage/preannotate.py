"""Pre-annotation: run the spaCy model over documents and store its suggestions, all or nothing."""
from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from annotation.chunks import pipe_chunked
from annotation.claim_model import ClaimModel, default_claim_model
from annotation.claims import detect_claims
from annotation.cues import builtin_lexicon
from annotation.entity_learning import EntityDecisions, EntitySuggestion, entity_pipeline
from annotation.model import CLAIM_LABELS, CLAIM_PART_COLUMNS
from annotation.pipeline import load_model, model_version
from annotation.progress import Progress, ShouldCancel, stop_if_cancelled
from storage.models import StoredModel, load_claim_model, load_entity_model, model_in_use, suggestion_tag
from storage.project import Project, now
from storage.training import entity_decisions

BASE = "base"  # `annotate --model base`: the shipped pipeline and cue lexicon, no project model


@dataclass
class AnnotateSummary:
    documents: int = 0
    entities: int = 0
    claims: int = 0
    skipped_existing: int = 0
    replaced: int = 0  # undecided suggestions of an earlier run that this run no longer makes
    model: str = ""
    lexicon: str = ""

    def line(self) -> str:
        s = (f"annotated {self.documents} documents with {self.model}: {self.entities} entity "
             f"suggestions, {self.claims} claims")
        if self.skipped_existing:
            s += f" ({self.skipped_existing} already present, left as they were)"
        if self.replaced:
            s += f"; replaced {self.replaced} undecided suggestions of an earlier run"
        return s


def annotate(project: Project, *, model: str | None = None, n_process: int = 1, claims: bool = True,
             batch_size: int = 64, force: bool = False, doc_ids: list[int] | None = None,
             progress: Progress | None = None, should_cancel: ShouldCancel | None = None,
             nlp=None, parsed: list[tuple[Any, int]] | None = None) -> AnnotateSummary:
    """Suggest entities (and claims) for documents not yet annotated by these models.

    `model`: None for the project's own (its spaCy pipeline with the models in use, see
    storage/models.py), "base" for the shipped pipeline and cue lexicon, or another spaCy
    pipeline's name. The analyst's entity decisions apply either way (a decided label carried to
    other mentions, a rejected (text, label) pair never suggested again).

    Re-annotating a document replaces only its undecided model suggestions: those this run
    makes again stay as they are (recording this run's model), the others go; a decided span or
    claim is never changed, and nothing is suggested where one lies. Documents marked done are
    left alone. The whole run is one transaction: cancelled or killed, it changes nothing.
    `parsed`: (Doc, document id) pairs the run's pipeline already made (`pipe_chunked` with
    `nlp` and, when the project uses its own entity model, that model's NER: see
    storage/background_annotation.py), e.g. on a background thread: only stored, so the
    transaction lasts milliseconds, not the parse.
    """
    run = choose_models(project, model, claims=claims, nlp=nlp, parse=parsed is None)
    nlp = run.nlp
    version = run.entity_tag
    detector = run.detector
    summary = AnnotateSummary(model=version)
    if detector is not None:
        summary.lexicon = detector.lexicon_name
    full_run = doc_ids is None and parsed is None
    if parsed is not None:
        doc_ids = [doc_id for _doc, doc_id in parsed]
    elif doc_ids is None:
        # A document marked done holds no undecided suggestion, ever: the model leaves it alone.
        sql = "SELECT id FROM documents WHERE status != 'done'"
        args: tuple = ()
        if not force:
            sql += " AND (annotated_with IS NOT ? OR annotated_with IS NULL)"
            args = (run.key,)
        doc_ids = [r[0] for r in project.conn.execute(sql + " ORDER BY id", args)]
    total = len(doc_ids)
    if progress:
        progress(0, total)
    labels_seen: set[str] = set()
    stamp = now()
    with project.atomic():
        if parsed is None:
            texts = _texts(project, doc_ids)
            # Long texts are parsed in paragraph-aligned chunks; each doc's text is its document's.
            pipe = pipe_chunked(nlp, texts, batch_size=batch_size, n_process=n_process,
                                should_cancel=should_cancel)
        else:
            pipe = iter(parsed)
        for i, (doc, doc_id) in enumerate(pipe, 1):
            stop_if_cancelled(should_cancel, "annotation cancelled")
            summary.entities += _store_entities(project, doc_id, doc, run, stamp, summary,
                                                labels_seen)
            if detector is not None:
                summary.claims += _store_claims(project, doc_id, doc, detector, run.claim_tag, stamp,
                                                summary)
            project.conn.execute("UPDATE documents SET annotated_with = ?, updated_at = ? WHERE id = ?",
                                 (run.key, stamp, doc_id))
            summary.documents += 1
            if progress and (i % 10 == 0 or i == total):
                progress(i, total)
        if full_run:
            # Articles annotated earlier get the analyst's newer decisions too (no new parse).
            refreshed = refresh_decisions(project, run, skip=set(doc_ids), stamp=stamp,
                                          summary=summary, labels_seen=labels_seen,
                                          should_cancel=should_cancel)
            if refreshed:
                project.refresh_counts(refreshed)
        project.refresh_counts(doc_ids)
        project.ensure_labels(labels_seen - set(CLAIM_LABELS), "entity")
    return summary


def _texts(project: Project, doc_ids: list[int]):
    # Stream texts in chunks so a 100,000-article project is never all in memory.
    for i in range(0, len(doc_ids), 500):
        chunk = doc_ids[i:i + 500]
        rows = dict(project.conn.execute(
            f"SELECT id, text FROM documents WHERE id IN ({','.join('?' * len(chunk))})", chunk))
        for doc_id in chunk:
            yield rows[doc_id], doc_id


@dataclass
class ModelRun:
    """The models one annotation run suggests with, and what their suggestions record."""
    nlp: object
    entity_tag: str              # spans.model of the entities the pipeline's NER suggests
    claim_tag: str               # claims.model (and its parts' spans.model)
    detector: _Detector | None
    decisions: EntityDecisions
    key: str                     # documents.annotated_with: annotated by exactly these models
    entity_model: StoredModel | None = None
    claim_model: StoredModel | None = None

    @property
    def decided_tag(self) -> str:
        """spans.model of an entity the analyst's decisions placed or relabelled."""
        return self.entity_tag + "+decisions"

    def entities(self, doc) -> list[EntitySuggestion]:
        if not self.decisions:
            return [EntitySuggestion(e.start_char, e.end_char, e.label_) for e in doc.ents]
        return self.decisions.apply(doc, self.nlp)


def choose_models(project: Project, model: str | None = None, *, claims: bool = True,
                  nlp=None, parse: bool = True) -> ModelRun:
    """The pipeline, claim detector and decisions a run uses (see `annotate` for `model`).
    Without `parse` the documents come parsed (`nlp`'s tokenizer is all the run needs): the
    project's entity model is not loaded as a pipeline here."""
    own = model is None
    name = project.model_name if model in (None, BASE) else model
    base_nlp = nlp or load_model(name, claims=claims)
    base_version = model_version(base_nlp)
    entity_model = model_in_use(project, "entities") if own else None
    claim_model = model_in_use(project, "claims") if own and claims else None
    run_nlp = base_nlp
    if entity_model is not None and parse:
        # The same pipeline with the project's fine-tuned NER (the parse is the base model's).
        run_nlp = entity_pipeline(load_entity_model(project, entity_model), parse=claims)
    detector = None
    if claims:
        if claim_model is not None:
            detector = _Detector(load_claim_model(project, claim_model))
        else:
            detector = _Detector(None if model == BASE else default_claim_model())
    entity_tag = suggestion_tag(base_version, entity_model)
    claim_tag = suggestion_tag(base_version, claim_model)
    key = entity_tag
    if claims:
        key += f"+{claim_model.tag}" if claim_model is not None else "+claims"
    return ModelRun(nlp=run_nlp, entity_tag=entity_tag, claim_tag=claim_tag, detector=detector,
                    decisions=EntityDecisions(entity_decisions(project)), key=key,
                    entity_model=entity_model, claim_model=claim_model)


class _Detector:
    """Claim detection with a learned claim model, else the built-in lexicon (loaded once)."""

    def __init__(self, model: ClaimModel | None):
        self.model = model
        self.lexicon_name = (self.model or builtin_lexicon()).describe()

    def __call__(self, doc):
        return detect_claims(doc, self.model)


def _store_entities(project: Project, doc_id: int, doc, run: ModelRun, stamp: str,
                    summary: AnnotateSummary, labels_seen: set[str]) -> int:
    """Store this run's entity suggestions for one document, replacing undecided ones of an
    earlier run that it does not make again; returns how many were added."""
    wanted: dict[tuple[int, int, str], tuple[str | None, bool]] = {}
    for sug in run.entities(doc):
        wanted.setdefault((sug.start, sug.end, sug.label),
                          (run.decided_tag if sug.decided else run.entity_tag, sug.decided))
    return _reconcile_entities(project, doc_id, wanted, stamp, summary, labels_seen)


def _reconcile_entities(project: Project, doc_id: int,
                        wanted: dict[tuple[int, int, str], tuple[str | None, bool]], stamp: str,
                        summary: AnnotateSummary, labels_seen: set[str]) -> int:
    """Make a document's undecided model entity suggestions `wanted` ((start, end, label) ->
    (the model to record, None to keep the row's; placed by the analyst's decisions?)); rows
    an analyst decided, imported rows and claim parts are never changed, and nothing is added
    at their place (nor, for what decisions placed, across an accepted span)."""
    part_of_claim = _claim_part_ids(project, doc_id)
    rows = project.conn.execute(
        'SELECT id, start, "end", label, origin, status, model FROM spans WHERE document_id = ?',
        (doc_id,)).fetchall()
    existing: set[tuple[int, int]] = set()
    accepted: list[tuple[int, int]] = []
    for sid, start, end, label, origin, status, tag in rows:
        undecided = (origin == "model" and status == "suggested" and label not in CLAIM_LABELS
                     and sid not in part_of_claim)
        if undecided and (start, end, label) not in wanted:
            project.conn.execute("DELETE FROM spans WHERE id = ?", (sid,))
            summary.replaced += 1
            continue
        want = wanted[(start, end, label)][0] if undecided else None
        if want is not None and want != tag:
            project.conn.execute("UPDATE spans SET model = ?, updated_at = ? WHERE id = ?",
                                 (want, stamp, sid))
        existing.add((start, end))
        if status == "accepted" and label not in CLAIM_LABELS:
            accepted.append((start, end))
    out = []
    for (start, end, label), (tag, decided) in wanted.items():
        if (start, end) in existing:
            summary.skipped_existing += 1
            continue
        if decided and any(a < end and start < b for a, b in accepted):
            continue
        existing.add((start, end))
        labels_seen.add(label)
        out.append({"document_id": doc_id, "start": start, "end": end, "label": label,
                    "origin": "model", "status": "suggested", "model": tag,
                    "created_at": stamp, "updated_at": stamp})
    if out:
        project.db.table("spans").insert_all(out, batch_size=1000)
    return len(out)


DECISIONS_APPLIED = "entity_decisions_applied"  # meta: the decisions annotation last applied


def refresh_decisions(project: Project, run: ModelRun, *, skip: AbstractSet[int] = frozenset(),
                      stamp: str | None = None, summary: AnnotateSummary | None = None,
                      labels_seen: set[str] | None = None,
                      should_cancel: ShouldCancel | None = None) -> list[int]:
    """Apply the analyst's entity decisions to the stored suggestions of the documents not
    marked done that an earlier run annotated (not parsing them again: spaCy's tokenizer
    finds the mentions); only when the decisions changed since they were last applied.
    Inside the caller's transaction; returns the documents it went over."""
    from annotation.tokens import tokenizer
    fingerprint = run.decisions.fingerprint()
    if project.setting(DECISIONS_APPLIED) == fingerprint:
        return []
    stamp = stamp or now()
    summary = summary if summary is not None else AnnotateSummary()
    labels_seen = labels_seen if labels_seen is not None else set()
    tok = tokenizer()
    ids = [r[0] for r in project.conn.execute(
        "SELECT id FROM documents WHERE status != 'done' AND annotated_with IS NOT NULL ORDER BY id")
        if r[0] not in skip]
    claim_labels = ",".join("?" * len(CLAIM_LABELS))
    for n, doc_id in enumerate(ids):
        if n % 50 == 0:
            stop_if_cancelled(should_cancel, "annotation cancelled")
        part_of_claim = _claim_part_ids(project, doc_id)
        rows = [r for r in project.conn.execute(
            f'SELECT id, start, "end", label, model FROM spans WHERE document_id = ?'
            f" AND origin = 'model' AND status = 'suggested' AND label NOT IN ({claim_labels})",
            (doc_id, *CLAIM_LABELS)) if r[0] not in part_of_claim]
        if not rows and not run.decisions.labels:
            continue
        tags = {(s, e, lab): tag for _sid, s, e, lab, tag in rows}
        base = next((t for t in tags.values() if t and not t.endswith("+decisions")), run.entity_tag)
        doc = tok(project.document_text(doc_id))
        wanted: dict[tuple[int, int, str], tuple[str | None, bool]] = {}
        for sug in run.decisions.apply(doc, tok, [(s, e, lab) for _sid, s, e, lab, _t in rows]):
            key = (sug.start, sug.end, sug.label)
            wanted.setdefault(key, (f"{base}+decisions", True) if sug.decided and key not in tags
                              else (None, sug.decided))
        _reconcile_entities(project, doc_id, wanted, stamp, summary, labels_seen)
    project.db.table("meta").upsert({"key": DECISIONS_APPLIED, "value": fingerprint}, pk="key")
    return ids


def _claim_part_ids(project: Project, doc_id: int) -> set[int]:
    cols = ", ".join(CLAIM_PART_COLUMNS.values())
    return {sid for row in project.conn.execute(f"SELECT {cols} FROM claims WHERE document_id = ?",
                                                (doc_id,)) for sid in row if sid is not None}


def _replaceable_claims(project: Project, doc_id: int) -> dict[int, tuple]:
    """Suggested claims no analyst touched: claim id -> (cue, source, content) ranges, and the
    ids of their parts. A claim with a decided part, a grade, a note, a stance or a link is the
    analyst's, whatever its status says."""
    roles = ("Cue", "Source", "Content", "Attribution")
    cols = ", ".join(f"c.{CLAIM_PART_COLUMNS[r]}" for r in roles)
    out: dict[int, tuple] = {}
    for cid, *parts in project.conn.execute(
            f"SELECT c.id, {cols} FROM claims c WHERE c.document_id = ? AND c.status = 'suggested'"
            " AND c.origin = 'model' AND c.credibility IS NULL AND c.note IS NULL"
            " AND c.stance IS NULL AND NOT EXISTS (SELECT 1 FROM claim_links l"
            " WHERE l.from_claim = c.id OR l.to_claim = c.id)", (doc_id,)).fetchall():
        ids = [sid for sid in parts if sid is not None]
        spans = {r[0]: r[1:] for r in project.conn.execute(
            f'SELECT id, start, "end", origin, status FROM spans WHERE id IN ({",".join("?" * len(ids))})',
            ids)} if ids else {}
        if any(spans.get(sid, (0, 0, "model", "suggested"))[2:] != ("model", "suggested") for sid in ids):
            continue
        ranges = tuple(tuple(spans[sid][:2]) if sid in spans else None for sid in parts[:3])
        out[cid] = (ranges, ids)
    return out


def _store_claims(project: Project, doc_id: int, doc, detector: _Detector, version: str,
                  stamp: str, summary: AnnotateSummary | None = None) -> int:
    found = detector(doc)
    made = {(tuple(s.cue) if s.cue else None, tuple(s.source) if s.source else None,
             tuple(s.content) if s.content else None) for s in found}
    for cid, (ranges, part_ids) in _replaceable_claims(project, doc_id).items():
        if ranges in made:  # made again: it stays, and records this run's model
            project.conn.execute("UPDATE claims SET model = ? WHERE id = ? AND model IS NOT ?",
                                 (version, cid, version))
            project.conn.execute(f"UPDATE spans SET model = ? WHERE id IN ({','.join('?' * len(part_ids))})"
                                 " AND model IS NOT ?", (version, *part_ids, version))
            continue
        # An undecided claim this run no longer makes goes, with its undecided parts.
        project.conn.execute("DELETE FROM claims WHERE id = ?", (cid,))
        for sid in part_ids:
            if not project.conn.execute(
                    "SELECT 1 FROM claims WHERE ? IN (" + ", ".join(CLAIM_PART_COLUMNS.values()) + ")",
                    (sid,)).fetchone():
                project.conn.execute("DELETE FROM spans WHERE id = ?", (sid,))
        if summary is not None:
            summary.replaced += 1
    existing_cues = {(s, e) for s, e in project.conn.execute(
        'SELECT s.start, s."end" FROM claims c JOIN spans s ON s.id = c.cue_span_id'
        " WHERE c.document_id = ?", (doc_id,))}
    n = 0
    for sug in found:
        if sug.cue is not None and tuple(sug.cue) in existing_cues:
            continue
        ids = {}
        for role, rng in (("Content", sug.content), ("Cue", sug.cue), ("Source", sug.source)):
            if rng is None or rng[0] >= rng[1]:
                continue
            ids[role] = project.db.table("spans").insert({
                "document_id": doc_id, "start": rng[0], "end": rng[1], "label": role,
                "origin": "model", "status": "suggested", "model": version,
                "created_at": stamp, "updated_at": stamp}).last_pk
        if not ids:
            continue
        # The source the model proposes stays with the claim (its source span) as a candidate:
        # the registry holds only what an analyst confirmed (accepting the claim registers it).
        project.db.table("claims").insert({
            "document_id": doc_id,
            **{CLAIM_PART_COLUMNS[role]: span_id for role, span_id in ids.items()},
            "source_id": None, "origin": "model", "status": "suggested", "model": version,
            "created_at": stamp, "updated_at": stamp})
        n += 1
    return n
