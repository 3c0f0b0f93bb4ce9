"""Store imported documents: normalise, de-duplicate by content hash, all in one transaction."""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from annotation.model import NewDocument, SpanRecord
from annotation.normalise import Normalised, identity, normalise
from storage.project import Project, ProgressCallback, now

_WS = re.compile(r"\s+")


@dataclass
class ImportSummary:
    read: int = 0
    added: int = 0
    duplicates: int = 0
    spans: int = 0
    claims: int = 0
    # Lines or records the reader skipped, each "file:line: why" (partial files say so).
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    document_ids: list[int] = field(default_factory=list)

    def line(self) -> str:
        parts = [f"read {self.read}", f"added {self.added} documents"]
        if self.duplicates:
            parts.append(f"{self.duplicates} already in the project (merged as sightings)")
        if self.spans:
            parts.append(f"{self.spans} spans")
        if self.claims:
            parts.append(f"{self.claims} claims")
        if self.skipped:
            parts.append(f"skipped {len(self.skipped)}")
        return ", ".join(parts)


def content_hash(raw_text: str) -> str:
    """The same article, however wrapped or spaced, hashes the same."""
    return hashlib.sha256(_WS.sub(" ", raw_text).strip().encode("utf-8")).hexdigest()


def store_documents(project: Project, docs: Iterable[NewDocument], *, normalise_default: bool = True,
                    imported_from: str | None = None,
                    progress: ProgressCallback | None = None, total: int = 0,
                    summary: ImportSummary | None = None) -> ImportSummary:
    """Add documents (and their spans/claims) in one transaction: all or nothing."""
    summary = summary or ImportSummary()
    stamp = now()
    boilerplate = _boilerplate(project)
    seen: dict[str, int] = {}
    label_names: set[str] = set()
    doc_labels: set[str] = set()
    with project.atomic():
        for doc in docs:
            summary.read += 1
            h = content_hash(doc.raw_text)
            existing = seen.get(h)
            if existing is None:
                row = project.conn.execute("SELECT id FROM documents WHERE content_hash = ?",
                                           (h,)).fetchone()
                existing = row[0] if row else None
            if existing is not None:
                summary.duplicates += 1
                _add_sighting(project, existing, doc, imported_from, stamp)
                continue
            want_norm = doc.normalise if doc.normalise is not None else normalise_default
            if doc.spans:
                want_norm = False  # imported offsets must stay valid
            norm: Normalised = normalise(doc.raw_text, boilerplate) if want_norm else identity(doc.raw_text)
            doc_id = project.db["documents"].insert({
                "name": doc.name, "title": doc.title, "source": doc.source, "url": doc.url,
                "date": doc.date, "raw_text": doc.raw_text, "text": norm.text,
                "content_hash": h, "offset_map": json.dumps(norm.offset_map),
                "status": "new", "meta": json.dumps(doc.meta, ensure_ascii=False, default=str),
                "created_at": stamp, "updated_at": stamp,
            }).last_pk
            seen[h] = doc_id
            summary.added += 1
            summary.document_ids.append(doc_id)
            if doc.labels:
                doc_labels.update(doc.labels)
                project.db["doc_labels"].insert_all(
                    {"document_id": doc_id, "label": lab, "origin": "import", "created_at": stamp}
                    for lab in dict.fromkeys(doc.labels))
            if doc.spans or doc.claims:
                n_spans, n_claims = _store_spans_and_claims(project, doc_id, doc, len(norm.text), stamp,
                                                            summary)
                summary.spans += n_spans
                summary.claims += n_claims
                label_names.update(s.label for s in doc.spans)
            if progress and summary.read % 50 == 0:
                progress(summary.read, total)
        if summary.document_ids:
            project.refresh_counts(summary.document_ids)
        project.ensure_labels(label_names, "entity")
        project.ensure_labels(doc_labels, "document")
    if progress:
        progress(summary.read, total or summary.read)
    return summary


def _store_spans_and_claims(project: Project, doc_id: int, doc: NewDocument, text_len: int,
                            stamp: str, summary: ImportSummary) -> tuple[int, int]:
    ids: dict[str, int] = {}
    n = 0
    where = doc.name or doc.title or f"document {doc_id}"
    for s in doc.spans:
        if not (0 <= s.start < s.end <= text_len):
            summary.skipped.append(f"{where}: span {s.start}-{s.end} {s.label!r} lies outside the text")
            continue
        span_id = project.db["spans"].insert(_span_row(doc_id, s, stamp)).last_pk
        n += 1
        if s.key:
            ids[s.key] = span_id
    n_claims = 0
    for c in doc.claims:
        parts = {role: ids.get(key) if key else None for role, key in
                 (("content", c.content), ("cue", c.cue), ("source", c.source),
                  ("attribution", c.attribution))}
        if not any(parts.values()):
            summary.skipped.append(f"{where}: claim {c.key or ''} has none of its spans")
            continue
        project.db["claims"].insert({
            "document_id": doc_id,
            "content_span_id": parts["content"], "cue_span_id": parts["cue"],
            "source_span_id": parts["source"], "attribution_span_id": parts["attribution"],
            "origin": c.origin, "status": c.status, "annotator": c.annotator, "model": c.model,
            "created_at": stamp, "updated_at": stamp,
        })
        n_claims += 1
    return n, n_claims


def _span_row(doc_id: int, s: SpanRecord, stamp: str) -> dict:
    return {"document_id": doc_id, "start": s.start, "end": s.end, "label": s.label,
            "origin": s.origin, "status": s.status, "annotator": s.annotator, "model": s.model,
            "fragments": json.dumps(s.fragments) if s.fragments else None,
            "created_at": stamp, "updated_at": stamp}


def _add_sighting(project: Project, doc_id: int, doc: NewDocument, imported_from: str | None,
                  stamp: str) -> None:
    """Keep a duplicate's metadata once (another title or source for the same article)."""
    meta = json.dumps(doc.meta, ensure_ascii=False, default=str, sort_keys=True)
    key = (doc.name, doc.title, doc.source, doc.url, doc.date, meta)
    own = project.conn.execute("SELECT name, title, source, url, date, meta FROM documents WHERE id = ?",
                               (doc_id,)).fetchone()
    own_meta = json.dumps(json.loads(own[5]), ensure_ascii=False, sort_keys=True)
    if key == (*own[:5], own_meta):
        return
    for r in project.conn.execute("SELECT name, title, source, url, date, meta FROM sightings"
                                  " WHERE document_id = ?", (doc_id,)):
        if key == tuple(r):
            return
    project.db["sightings"].insert({"document_id": doc_id, "name": doc.name, "title": doc.title,
                                    "source": doc.source, "url": doc.url, "date": doc.date,
                                    "meta": meta, "imported_from": imported_from,
                                    "imported_at": stamp})


def _boilerplate(project: Project) -> list[str] | None:
    value = project.setting("boilerplate")
    return json.loads(value) if value else None
