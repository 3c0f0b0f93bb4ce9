"""Pre-annotation: run the spaCy model over documents and store its suggestions, all or nothing."""
from __future__ import annotations

from dataclasses import dataclass

from annotation.claim_model import default_claim_model
from annotation.claims import detect_claims
from annotation.cues import builtin_lexicon
from annotation.model import CLAIM_LABELS, CLAIM_PART_COLUMNS
from annotation.pipeline import load_model, model_version
from annotation.progress import Progress, ShouldCancel, stop_if_cancelled
from storage.project import Project, now
from storage.review import find_or_create_source


@dataclass
class AnnotateSummary:
    documents: int = 0
    entities: int = 0
    claims: int = 0
    skipped_existing: int = 0
    model: str = ""
    lexicon: str = ""

    def line(self) -> str:
        s = (f"annotated {self.documents} documents with {self.model}: {self.entities} entity "
             f"suggestions, {self.claims} claims")
        if self.skipped_existing:
            s += f" ({self.skipped_existing} already present, left as they were)"
        return s


def annotate(project: Project, *, model: str | None = None, n_process: int = 1, claims: bool = True,
             batch_size: int = 64, force: bool = False, doc_ids: list[int] | None = None,
             progress: Progress | None = None, should_cancel: ShouldCancel | None = None,
             nlp=None) -> AnnotateSummary:
    """Suggest entities (and claims) for documents not yet annotated by this model.

    Spans already present at the same offsets (suggested, or decided by an analyst) are never
    duplicated or changed. The whole run is one transaction: cancelled or killed, it adds nothing.
    """
    model = model or project.model_name
    nlp = nlp or load_model(model, claims=claims)
    version = model_version(nlp)
    detector = _claim_detector() if claims else None  # the learned lexicon, loaded once
    summary = AnnotateSummary(model=version)
    if detector is not None:
        summary.lexicon = detector.lexicon_name
    if doc_ids is None:
        # A document marked done holds no undecided suggestion, ever: the model leaves it alone.
        sql = "SELECT id FROM documents WHERE status != 'done'"
        args: tuple = ()
        if not force:
            sql += " AND (annotated_with IS NOT ? OR annotated_with IS NULL)"
            args = (_run_key(version, claims),)
        doc_ids = [r[0] for r in project.conn.execute(sql + " ORDER BY id", args)]
    total = len(doc_ids)
    if progress:
        progress(0, total)
    labels_seen: set[str] = set()
    stamp = now()
    with project.atomic():
        texts = _texts(project, doc_ids)
        pipe = nlp.pipe(texts, batch_size=batch_size, n_process=n_process, as_tuples=True)
        for i, (doc, doc_id) in enumerate(pipe, 1):
            stop_if_cancelled(should_cancel, "annotation cancelled")
            existing = {(s, e) for s, e in project.conn.execute(
                'SELECT start, "end" FROM spans WHERE document_id = ?', (doc_id,))}
            rows = []
            for ent in doc.ents:
                rng = (ent.start_char, ent.end_char)
                if rng in existing:
                    summary.skipped_existing += 1
                    continue
                existing.add(rng)
                labels_seen.add(ent.label_)
                rows.append({"document_id": doc_id, "start": rng[0], "end": rng[1],
                             "label": ent.label_, "origin": "model", "status": "suggested",
                             "model": version, "created_at": stamp, "updated_at": stamp})
            if rows:
                project.db["spans"].insert_all(rows, batch_size=1000)
                summary.entities += len(rows)
            if detector is not None:
                summary.claims += _store_claims(project, doc_id, doc, detector, version, stamp)
            project.conn.execute("UPDATE documents SET annotated_with = ?, updated_at = ? WHERE id = ?",
                                 (_run_key(version, claims), stamp, doc_id))
            summary.documents += 1
            if progress and (i % 10 == 0 or i == total):
                progress(i, total)
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


def _run_key(version: str, claims: bool) -> str:
    return version + ("+claims" if claims else "")


class _Detector:
    """Claim detection with the user's learned claim model, else the built-in lexicon (loaded once)."""

    def __init__(self):
        self.model = default_claim_model()
        self.lexicon_name = (self.model or builtin_lexicon()).describe()

    def __call__(self, doc):
        return detect_claims(doc, self.model)


def _claim_detector() -> _Detector:
    return _Detector()


def _store_claims(project: Project, doc_id: int, doc, detector: _Detector, version: str,
                  stamp: str) -> int:
    existing_cues = {(s, e) for s, e in project.conn.execute(
        'SELECT s.start, s."end" FROM claims c JOIN spans s ON s.id = c.cue_span_id'
        " WHERE c.document_id = ?", (doc_id,))}
    n = 0
    for sug in detector(doc):
        if sug.cue is not None and tuple(sug.cue) in existing_cues:
            continue
        ids = {}
        for role, rng in (("Content", sug.content), ("Cue", sug.cue), ("Source", sug.source)):
            if rng is None or rng[0] >= rng[1]:
                continue
            ids[role] = project.db["spans"].insert({
                "document_id": doc_id, "start": rng[0], "end": rng[1], "label": role,
                "origin": "model", "status": "suggested", "model": version,
                "created_at": stamp, "updated_at": stamp}).last_pk
        if not ids:
            continue
        source_id = None
        if sug.source is not None:
            source_id = find_or_create_source(project, doc.text[sug.source[0]:sug.source[1]])
        project.db["claims"].insert({
            "document_id": doc_id,
            **{CLAIM_PART_COLUMNS[role]: span_id for role, span_id in ids.items()},
            "source_id": source_id, "origin": "model", "status": "suggested", "model": version,
            "created_at": stamp, "updated_at": stamp})
        n += 1
    return n
