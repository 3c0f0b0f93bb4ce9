"""Store imported documents: normalise, de-duplicate by content hash, all in one transaction."""
from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field

from annotation.limits import BATCH_DOCUMENTS, MAX_REPORTED
from annotation.model import CLAIM_PART_COLUMNS, SPAN_COLUMNS, NewDocument
from annotation.normalise import Normalised, identity, normalise
from annotation.progress import Progress
from annotation.readers import ReadResult
from storage.project import Project, now


@dataclass
class ImportSummary:
    read: int = 0
    added: int = 0
    duplicates: int = 0
    spans: int = 0
    claims: int = 0
    # Lines or records the reader skipped, each "file:line: why" (partial files say so); at
    # most MAX_REPORTED are listed, `unlisted` counts the others.
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    document_ids: list[int] = field(default_factory=list)
    unlisted: int = 0
    # Symbolic links inside an imported folder that lead out of it and were not followed.
    symlinks_skipped: list[str] = field(default_factory=list)

    @property
    def n_skipped(self) -> int:
        return len(self.skipped) + self.unlisted

    def skip(self, message: str) -> None:
        if len(self.skipped) < MAX_REPORTED:
            self.skipped.append(message)
        else:
            self.unlisted += 1

    def note(self, notes: ReadResult) -> None:
        """Add what a reader skipped and warned about."""
        room = max(0, MAX_REPORTED - len(self.skipped))
        self.skipped += notes.skipped[:room]
        self.unlisted += notes.unlisted + max(0, len(notes.skipped) - room)
        self.warnings += notes.warnings[:max(0, MAX_REPORTED - len(self.warnings))]

    def line(self) -> str:
        parts = [f"read {self.read}", f"added {self.added} documents"]
        if self.duplicates:
            parts.append(f"{self.duplicates} already in the project (merged as sightings)")
        if self.spans:
            parts.append(f"{self.spans} spans")
        if self.claims:
            parts.append(f"{self.claims} claims")
        if self.n_skipped:
            parts.append(f"skipped {self.n_skipped}")
        if self.symlinks_skipped:
            parts.append(f"{len(self.symlinks_skipped)} symbolic link(s) out of the folder not "
                         "followed")
        return ", ".join(parts)


def content_hash(raw_text: str) -> str:
    """The same article, however wrapped or spaced, hashes the same."""
    # str.split() splits on exactly the characters regex \s matches, three times faster.
    return hashlib.sha256(" ".join(raw_text.split()).encode("utf-8")).hexdigest()


# json.dumps without its per-call argument handling (two calls a document).
_dumps = json.JSONEncoder().encode
_dumps_meta = json.JSONEncoder(ensure_ascii=False, default=str).encode

# Documents stored per batch: enough to amortise the statements, small enough to stream.
_CHUNK = BATCH_DOCUMENTS
_DOC_COLUMNS = ("id", "name", "title", "source", "url", "date", "raw_text", "text", "content_hash",
                "offset_map", "status", "meta", "n_spans", "n_suggested", "n_claims", "created_at",
                "updated_at")
# The columns of `spans` and `claims` follow annotation/model.py (Span's fields; the claim part
# columns by role, in the order of ClaimRecord's role fields).
_SPAN_COLUMNS = (*SPAN_COLUMNS, "created_at", "updated_at")
_ROLES = ("Content", "Cue", "Source", "Attribution")  # ClaimRecord.content, .cue, .source, .attribution
_CLAIM_COLUMNS = ("document_id", *(CLAIM_PART_COLUMNS[r] for r in _ROLES), "origin", "status",
                  "annotator", "model", "created_at", "updated_at")


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return (f"INSERT INTO {table} ({', '.join(f'[{c}]' for c in columns)})"
            f" VALUES ({', '.join('?' * len(columns))})")


def store_documents(project: Project, docs: Iterable[NewDocument], *, normalise_default: bool = True,
                    imported_from: str | None = None,
                    progress: Progress | None = None, total: int = 0,
                    summary: ImportSummary | None = None) -> ImportSummary:
    """Add documents (and their spans/claims) in one transaction: all or nothing."""
    summary = summary or ImportSummary()
    batch = _Batch(project, summary, normalise_default, imported_from, now())
    chunk: list[NewDocument] = []
    with project.atomic():
        _size_search_buffer(project)
        for doc in docs:
            chunk.append(doc)
            if len(chunk) >= _CHUNK:
                batch.store(chunk)
                chunk = []
                if progress:
                    progress(summary.read, total)
        if chunk:
            batch.store(chunk)
        # The search index, for every new document at once (the schema has no insert trigger).
        project.conn.execute("INSERT INTO documents_fts (rowid, title, text)"
                             " SELECT id, title, text FROM documents WHERE id >= ?", (batch.first_doc,))
        project.ensure_labels(batch.label_names, "entity")
        project.ensure_labels(batch.doc_labels, "document")
    if progress:
        progress(summary.read, total or summary.read)
    return summary


# Bytes of new terms the search index gathers in memory before it writes them out (FTS5's
# 'hashsize', 1 MB by default): 8 MB writes a third less when thousands of articles come in.
_SEARCH_BUFFER = 8_000_000


def _size_search_buffer(project: Project) -> None:
    """Set the search index's buffer (kept in the index's own config table) once per file."""
    conn = project.conn
    row = conn.execute("SELECT v FROM documents_fts_config WHERE k = 'hashsize'").fetchone()
    if row is None or row[0] != _SEARCH_BUFFER:
        try:
            conn.execute("INSERT INTO documents_fts (documents_fts, rank) VALUES ('hashsize', ?)",
                         (_SEARCH_BUFFER,))
        except sqlite3.OperationalError:  # an SQLite without the option: its default serves
            pass


class _Batch:
    """Stores documents a chunk at a time: one hash look-up and a few executemany per chunk.

    Ids are given here (the next free rowid, as SQLite itself would): spans need their
    document's id and claims their spans' ids before anything is written. The list counts
    (n_spans, n_suggested, n_claims) are computed as rows are made, not queried afterwards.
    """

    def __init__(self, project: Project, summary: ImportSummary, normalise_default: bool,
                 imported_from: str | None, stamp: str):
        self.project = project
        self.summary = summary
        self.normalise_default = normalise_default
        self.imported_from = imported_from
        self.stamp = stamp
        self.boilerplate = _boilerplate(project)
        self.seen: dict[str, int] = {}  # hash -> id of documents stored by this call
        self.label_names: set[str] = set()
        self.doc_labels: set[str] = set()
        q = project.conn.execute
        self.next_doc = q("SELECT coalesce(max(id), 0) + 1 FROM documents").fetchone()[0]
        self.first_doc = self.next_doc
        self.next_span = q("SELECT coalesce(max(id), 0) + 1 FROM spans").fetchone()[0]
        self._reset()

    def _reset(self) -> None:
        self.doc_rows: list[tuple] = []
        self.span_rows: list[tuple] = []
        self.claim_rows: list[tuple] = []
        self.label_rows: list[tuple] = []

    def store(self, chunk: list[NewDocument]) -> None:
        hashes = [content_hash(d.raw_text) for d in chunk]
        known = self._known(set(hashes) - self.seen.keys())
        for doc, h in zip(chunk, hashes):
            self.summary.read += 1
            existing = self.seen.get(h) or known.get(h)
            if existing is not None:
                self.summary.duplicates += 1
                self._flush()  # the sighting compares with the stored row
                _add_sighting(self.project, existing, doc, self.imported_from, self.stamp)
                if doc.spans:
                    self._merge_annotations(existing, doc)
                continue
            self._add(doc, h)
        self._flush()

    def _merge_annotations(self, doc_id: int, doc: NewDocument) -> None:
        """Another annotator's version of a stored text (brat, several .ann files) is kept;
        an annotator whose spans are already on the document adds nothing (re-import)."""
        conn = self.project.conn
        text = conn.execute("SELECT text FROM documents WHERE id = ?", (doc_id,)).fetchone()[0]
        if text != doc.raw_text:
            return  # stored normalised: these offsets would not fit it
        present = {r[0] for r in conn.execute(
            "SELECT DISTINCT coalesce(annotator, '') FROM spans WHERE document_id = ?"
            " AND origin = 'import'", (doc_id,))}
        spans = [s for s in doc.spans if (s.annotator or "") not in present]
        if not spans:
            return
        keep = {s.key for s in spans}
        claims = [c for c in doc.claims
                  if any(k in keep for k in (c.content, c.cue, c.source, c.attribution) if k)]
        merged = NewDocument(doc.raw_text, name=doc.name, spans=spans, claims=claims)
        self._spans_and_claims(doc_id, merged, len(text))
        self.label_names.update(s.label for s in spans)
        self._flush()
        self.project.refresh_counts([doc_id])

    def _known(self, hashes: set[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        hs = list(hashes)
        for i in range(0, len(hs), 500):
            part = hs[i:i + 500]
            found.update((h, doc_id) for doc_id, h in self.project.conn.execute(
                f"SELECT id, content_hash FROM documents WHERE content_hash IN ({','.join('?' * len(part))})",
                part))
        return found

    def _add(self, doc: NewDocument, h: str) -> None:
        want_norm = doc.normalise if doc.normalise is not None else self.normalise_default
        if doc.spans:
            want_norm = False  # imported offsets must stay valid
        norm: Normalised = normalise(doc.raw_text, self.boilerplate) if want_norm else identity(doc.raw_text)
        doc_id = self.next_doc
        self.next_doc += 1
        self.seen[h] = doc_id
        summary = self.summary
        summary.added += 1
        summary.document_ids.append(doc_id)
        stamp = self.stamp
        if doc.labels:
            self.doc_labels.update(doc.labels)
            self.label_rows.extend((doc_id, lab, "import", stamp) for lab in dict.fromkeys(doc.labels))
        n_spans = n_suggested = n_claims = 0
        if doc.spans or doc.claims:
            n_spans, n_suggested, n_claims = self._spans_and_claims(doc_id, doc, len(norm.text))
            self.label_names.update(s.label for s in doc.spans)
        self.doc_rows.append((
            doc_id, doc.name, doc.title, doc.source, doc.url, doc.date,
            None if norm.text == doc.raw_text else doc.raw_text, norm.text, h,
            _dumps(norm.offset_map), "new", _dumps_meta(doc.meta),
            n_spans, n_suggested, n_claims, stamp, stamp))

    def _spans_and_claims(self, doc_id: int, doc: NewDocument, text_len: int) -> tuple[int, int, int]:
        ids: dict[str, int] = {}
        n_visible = n_suggested = 0
        stamp = self.stamp
        summary = self.summary
        where = doc.name or doc.title or f"document {doc_id}"
        for s in doc.spans:
            if not (0 <= s.start < s.end <= text_len):
                summary.skip(f"{where}: span {s.start}-{s.end} {s.label!r} lies outside the text")
                continue
            span_id = self.next_span
            self.next_span += 1
            self.span_rows.append((span_id, doc_id, s.start, s.end, s.label, s.origin, s.status,
                                   s.annotator, s.model,
                                   json.dumps(s.fragments) if s.fragments else None, stamp, stamp))
            summary.spans += 1
            n_visible += s.status != "rejected"
            n_suggested += s.status == "suggested"
            if s.key:
                ids[s.key] = span_id
        n_claims = 0
        for c in doc.claims:
            parts = [ids.get(key) if key else None
                     for key in (getattr(c, role.lower()) for role in _ROLES)]
            if not any(parts):
                summary.skip(f"{where}: claim {c.key or ''} has none of its spans")
                continue
            self.claim_rows.append((doc_id, *parts, c.origin, c.status, c.annotator, c.model,
                                    stamp, stamp))
            summary.claims += 1
            n_claims += c.status != "rejected"
        return n_visible, n_suggested, n_claims

    def _flush(self) -> None:
        conn = self.project.conn
        if self.doc_rows:
            conn.executemany(_insert_sql("documents", _DOC_COLUMNS), self.doc_rows)
        if self.label_rows:
            conn.executemany("INSERT OR IGNORE INTO doc_labels (document_id, label, origin, created_at)"
                             " VALUES (?, ?, ?, ?)", self.label_rows)
        if self.span_rows:
            conn.executemany(_insert_sql("spans", _SPAN_COLUMNS), self.span_rows)
        if self.claim_rows:
            conn.executemany(_insert_sql("claims", _CLAIM_COLUMNS), self.claim_rows)
        self._reset()


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
    project.db.table("sightings").insert({"document_id": doc_id, "name": doc.name, "title": doc.title,
                                    "source": doc.source, "url": doc.url, "date": doc.date,
                                    "meta": meta, "imported_from": imported_from,
                                    "imported_at": stamp})


def _boilerplate(project: Project) -> list[str] | None:
    value = project.setting("boilerplate")
    return json.loads(value) if value else None
