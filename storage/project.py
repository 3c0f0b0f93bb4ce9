"""The project file: open safely (one writer, our schema only), read and write documents and spans."""
from __future__ import annotations

import contextlib
import errno
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from annotation.model import (
    CLAIM_COLUMNS,
    CLAIM_PART_COLUMNS,
    SPAN_COLUMNS,
    Claim,
    Document,
    Source,
    Span,
)
from annotation.pipeline import DEFAULT_MODEL
from storage import schema
from storage.analyst import analyst_name

APP_VERSION = "0.1.0"
SQLITE_HEADER = b"SQLite format 3\x00"

# Colours chosen for legibility on a white page; keys 1-9/0 relabel in the review view.
# The entity labels are the default model's (OntoNotes) scheme, and MISC.
DEFAULT_LABELS: list[tuple[str, str, str, str | None]] = [
    # name, kind, colour, key
    ("PERSON", "entity", "#f4a6a6", "1"),
    ("ORG", "entity", "#9fc5f8", "2"),
    ("GPE", "entity", "#b6d7a8", "3"),
    ("LOC", "entity", "#d9ead3", "4"),
    ("NORP", "entity", "#ffd966", "5"),
    ("DATE", "entity", "#d5a6bd", "6"),
    ("CARDINAL", "entity", "#cfe2f3", "7"),
    ("EVENT", "entity", "#f9cb9c", "8"),
    ("FAC", "entity", "#e6b8af", "9"),
    ("MISC", "entity", "#dddddd", "0"),
    # The rest of the model's scheme: no key of their own, assigned with E (the label picker).
    ("TIME", "entity", "#ead1dc", None),
    ("PERCENT", "entity", "#d0e0e3", None),
    ("MONEY", "entity", "#c5e1a5", None),
    ("QUANTITY", "entity", "#e1d5f5", None),
    ("ORDINAL", "entity", "#b4e0d3", None),
    ("PRODUCT", "entity", "#fce5cd", None),
    ("WORK_OF_ART", "entity", "#f6d2e0", None),
    ("LAW", "entity", "#d7ccc8", None),
    ("LANGUAGE", "entity", "#c8e6f5", None),
    ("Source", "claim", "#6aa84f", None),
    ("Cue", "claim", "#cc0000", None),
    ("Content", "claim", "#3d85c6", None),
    ("Attribution", "claim", "#999999", None),
    ("credible", "document", "#93c47d", None),
    ("not credible", "document", "#e06666", None),
]


# What each label means, shown as the annotation guideline until the project writes its own
# (the entity types' wording is spaCy's glossary of the OntoNotes scheme).
DEFAULT_GUIDELINES: dict[str, str] = {
    "PERSON": "People, including fictional",
    "NORP": "Nationalities or religious or political groups",
    "FAC": "Buildings, airports, highways, bridges, etc.",
    "ORG": "Companies, agencies, institutions, armed groups, etc.",
    "GPE": "Countries, cities, states",
    "LOC": "Non-GPE locations, mountain ranges, bodies of water",
    "PRODUCT": "Objects, vehicles, foods, etc. (not services)",
    "EVENT": "Named hurricanes, battles, wars, sports events, etc.",
    "WORK_OF_ART": "Titles of books, songs, etc.",
    "LAW": "Named documents made into laws",
    "LANGUAGE": "Any named language",
    "DATE": "Absolute or relative dates or periods",
    "TIME": "Times smaller than a day",
    "PERCENT": "Percentage, including \"%\"",
    "MONEY": "Monetary values, including unit",
    "QUANTITY": "Measurements, as of weight or distance",
    "ORDINAL": "\"first\", \"second\", etc.",
    "CARDINAL": "Numerals that do not fall under another type",
    "MISC": "Named entities of no other type",
    "Source": "Who the claim is attributed to: a person, group, outlet or document",
    "Cue": "The words that attribute it: said, told, according to, denied…",
    "Content": "What is claimed: the reported statement itself",
    "Attribution": "A whole attribution (source, cue and content) as one span",
    "credible": "The article as a whole is credible",
    "not credible": "The article as a whole is not credible",
}


class ProjectError(Exception):
    """A problem the user can cause (wrong file, locked, too new): one clear message."""


class ProjectLocked(ProjectError):
    pass


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _lock(path: Path, timeout: float = 1.0) -> int:
    """Take an exclusive advisory lock on the project file; released by the OS if we die."""
    fd = os.open(path, os.O_RDWR)
    try:
        import fcntl
    except ImportError:  # Windows: no advisory lock, SQLite's own locking still applies
        return fd
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() > deadline:
                os.close(fd)
                raise ProjectLocked(
                    f"{path} is open elsewhere (another Credence window or command is using it); "
                    "close it there first") from None
            time.sleep(0.05)


@dataclass
class DocumentRow:
    """What the document list shows: no texts."""
    id: int
    name: str | None
    title: str | None
    source: str | None
    date: str | None
    status: str
    n_spans: int
    n_suggested: int
    n_claims: int


@dataclass
class StatusCounts:
    """What the status bar shows: articles, how many are done, suggestions left to decide."""
    documents: int
    done: int
    suggestions_left: int


@dataclass
class Counts:
    documents: int
    documents_by_status: dict[str, int]
    spans_by_label_status: dict[str, dict[str, int]]
    claims: int
    claims_by_credibility: dict[str, int]
    sources: int
    sources_by_reliability: dict[str, int]
    doc_labels: dict[str, int] = field(default_factory=dict)


class Project:
    """One `.credence` SQLite file. Open for writing holds an exclusive lock until close()."""

    def __init__(self, path: str | os.PathLike, *, readonly: bool = False, create: bool = True,
                 who: str | None = None):
        self.path = Path(path)
        self.readonly = readonly
        # Every decision and analyst-made row records who made it (storage/analyst.py).
        self.who = who or analyst_name()
        self._lock_fd: int | None = None
        exists = self.path.exists()
        if self.path.is_dir():
            raise ProjectError(f"{self.path} is a folder, not a Credence project file")
        if exists and not self.path.is_file():  # a FIFO would block the open, a device never end
            raise ProjectError(f"{self.path} is not a regular file (a device, pipe or socket): "
                               "not a Credence project")
        if exists:
            _check_header(self.path)
        elif readonly or not create:
            raise ProjectError(f"{self.path}: no such project file")
        else:
            if not self.path.parent.exists():
                raise ProjectError(f"{self.path.parent}: no such folder")
            try:
                self.path.touch()
            except OSError as exc:
                raise ProjectError(f"cannot create {self.path}: {exc.strerror}") from None
        if not readonly:
            try:
                self._lock_fd = _lock(self.path)
            except PermissionError:
                raise ProjectError(f"{self.path} is read-only: open it read-only or copy it") from None
        try:
            # Inspect through a read-only connection first: a refused file (or a -wal beside it
            # that belongs to another database) is never checkpointed into or written to.
            self.conn = self._connect(readonly=True)
            try:
                version, empty = self._inspect()
            except BaseException:
                self.conn.close()
                self.conn = None  # type: ignore[assignment]
                raise
            if not readonly:
                self.conn.close()
                self.conn = self._connect()
            self.db = sqlite_utils.Database(self.conn, execute_plugins=False)
            self._prepare(version, empty)
        except sqlite3.OperationalError as exc:
            self.close()
            error = storage_error(self.path, exc)
            if error is exc:
                raise
            raise error from exc
        except BaseException:
            self.close()
            raise

    # -- opening ---------------------------------------------------------------------------
    def _connect(self, readonly: bool | None = None) -> sqlite3.Connection:
        if self.readonly if readonly is None else readonly:
            conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True,
                                   isolation_level=None, check_same_thread=False)
        else:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        # A file from elsewhere must not run code: no functions from its schema, no extensions.
        conn.execute("PRAGMA trusted_schema = OFF")
        conn.execute("PRAGMA busy_timeout = 1500")
        return conn

    def _inspect(self) -> tuple[int, bool]:
        """Refuse what is not a sound Credence file of a version we read: (version, empty)."""
        try:
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]
            app_id = self.conn.execute("PRAGMA application_id").fetchone()[0]
            n_objects = self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            if (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF == 14:  # SQLITE_CANTOPEN
                raise ProjectError(
                    f"{self.path}: cannot open it: SQLite could not create {self.path.name}-wal "
                    "and -shm beside it (is the folder read-only?): copy it to a writable folder"
                ) from None
            raise ProjectError(f"{self.path} is damaged or not a project file ({_brief(exc)}); "
                               "`python main.py check PROJECT --restore` can restore a backup") from None
        if app_id not in (0, schema.APP_ID):
            raise ProjectError(f"{self.path} is an SQLite file but not a Credence project"
                               + _wal_hint(self.path))
        if n_objects == 0 and version == 0:
            if self.readonly:
                raise ProjectError(f"{self.path} is empty: not a Credence project")
            return 0, True
        if app_id != schema.APP_ID:
            raise ProjectError(f"{self.path} is an SQLite file but not a Credence project"
                               + _wal_hint(self.path))
        if version > schema.SCHEMA_VERSION:
            raise ProjectError(
                f"{self.path} was written by a newer Credence (schema {version}); "
                f"this version reads schema {schema.SCHEMA_VERSION} and older: update Credence")
        try:
            problems = schema.schema_problems(self.conn, version)
        except sqlite3.DatabaseError as exc:
            raise ProjectError(f"{self.path} is damaged ({_brief(exc)}); "
                               "`python main.py check PROJECT --restore` can restore a backup") from None
        if problems:
            raise ProjectError(f"{self.path} is not a sound Credence project: {problems[0]}"
                               + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
                               + _wal_hint(self.path))
        return version, False

    def _prepare(self, version: int, empty: bool) -> None:
        if empty:
            self._create()
            return
        # The schema is now known to be exactly ours: our own FTS triggers may run.
        self.conn.execute("PRAGMA trusted_schema = ON")
        if not self.readonly:
            self._set_journal()
            if version < schema.SCHEMA_VERSION:
                schema.migrate(self.conn, version)

    def _set_journal(self) -> None:
        # WAL: readers (export, stats) never block the writer; NORMAL survives a killed process.
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self.conn.execute("PRAGMA foreign_keys = ON")

    def _create(self) -> None:
        self.conn.execute("PRAGMA trusted_schema = ON")
        self._set_journal()
        schema.migrate(self.conn, 0)
        with self.atomic():
            self.db.table("meta").insert_all([
                {"key": "schema_version", "value": str(schema.SCHEMA_VERSION)},
                {"key": "app_version", "value": APP_VERSION},
                {"key": "created_at", "value": now()},
                {"key": "model", "value": DEFAULT_MODEL},
            ])
            self.db.table("labels").insert_all(
                {"name": n, "kind": k, "colour": c, "key": key} for n, k, c, key in DEFAULT_LABELS)

    def close(self) -> None:
        conn = getattr(self, "conn", None)
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                if not self.readonly:
                    conn.execute("PRAGMA optimize")
            conn.close()
            self.conn = None  # type: ignore[assignment]
        # Only after SQLite has closed: closing another fd of the file drops its POSIX locks.
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def atomic(self) -> Iterator[sqlite_utils.Database]:
        """One transaction: all of it is stored, or none of it."""
        if self.readonly:
            raise ProjectError(f"{self.path} is open read-only")
        try:
            with self.db.atomic() as db:
                yield db
        except sqlite3.OperationalError as exc:
            error = storage_error(self.path, exc)
            if error is exc:
                raise  # not the disk's doing: a bug, which must fail loudly
            raise error from exc

    # -- settings ------------------------------------------------------------------------------
    def setting(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_setting(self, key: str, value: str | None) -> None:
        with self.atomic():
            self.db.table("meta").upsert({"key": key, "value": value}, pk="key")

    @property
    def model_name(self) -> str:
        return self.setting("model") or DEFAULT_MODEL

    @property
    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    # -- labels --------------------------------------------------------------------------------
    def labels(self, kind: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT name, kind, colour, key, description FROM labels"
        args: tuple = ()
        if kind:
            sql += " WHERE kind = ?"
            args = (kind,)
        out = [dict(zip(("name", "kind", "colour", "key", "description"), r))
               for r in self.conn.execute(sql + " ORDER BY rowid", args)]
        for lab in out:  # no guideline written yet: the default meaning of the label
            lab["description"] = lab["description"] or DEFAULT_GUIDELINES.get(lab["name"])
        return out

    def ensure_labels(self, names: Iterable[str], kind: str = "entity") -> None:
        """Add labels met in data (model scheme, imports) that the project does not know yet."""
        known = {r[0] for r in self.conn.execute("SELECT name FROM labels")}
        new = sorted(set(names) - known)
        if new:
            with self.atomic():
                self.db.table("labels").insert_all({"name": n, "kind": kind, "colour": _colour_for(n)}
                                                   for n in new)

    # -- documents ------------------------------------------------------------------------------
    def document(self, doc_id: int) -> Document:
        row = self.conn.execute(
            "SELECT id, name, title, source, url, date, coalesce(raw_text, text), text, content_hash,"
            " offset_map,"
            " status, meta FROM documents WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            raise ProjectError(f"no document {doc_id} in {self.path}")
        id_, name, title, source, url, date, raw_text, text, content_hash = row[:9]
        return Document(id_, name, title, source, url, date, raw_text, text, content_hash,
                        json.loads(row[9]), row[10], json.loads(row[11]))

    def document_text(self, doc_id: int) -> str:
        """The text the analyst reads (without the raw text and offset map `document` reads)."""
        row = self.conn.execute("SELECT text FROM documents WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            raise ProjectError(f"no document {doc_id} in {self.path}")
        return row[0]

    def document_status(self, doc_id: int) -> str:
        row = self.conn.execute("SELECT status FROM documents WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            raise ProjectError(f"no document {doc_id} in {self.path}")
        return row[0]

    def undecided_count(self, doc_id: int) -> int:
        """Suggestions an analyst has not decided in a document, counted as the list's "Left"
        column counts them (spans, a claim's parts included), plus any suggested claim whose
        parts are all decided."""
        parts = ", ".join(CLAIM_PART_COLUMNS.values())
        return self.conn.execute(
            "SELECT (SELECT count(*) FROM spans WHERE document_id = ?1 AND status = 'suggested')"
            " + (SELECT count(*) FROM claims c WHERE c.document_id = ?1 AND c.status = 'suggested'"
            f"      AND NOT EXISTS (SELECT 1 FROM spans s WHERE s.id IN ({parts})"
            "                       AND s.status = 'suggested'))", (doc_id,)).fetchone()[0]

    def has_unannotated_documents(self) -> bool:
        """Whether some document has not been through pre-annotation yet."""
        return self.conn.execute(
            "SELECT 1 FROM documents WHERE annotated_with IS NULL LIMIT 1").fetchone() is not None

    def document_count(self, *, status: str | None = None, label: str | None = None,
                       search: str | None = None) -> int:
        """How many documents the list holds with these filters (a windowed list needs the total)."""
        if label and not status and not (search and search.strip()):
            # Every doc_labels row is one document's (primary key, foreign key): the label index
            # alone answers, where the join probes every matching document (~10x slower).
            return self.conn.execute("SELECT count(*) FROM doc_labels WHERE label = ?",
                                     (label,)).fetchone()[0]
        if search and search.strip() and not status and not label:
            # The index holds one row per document (kept by triggers): count it alone.
            return self.conn.execute("SELECT count(*) FROM documents_fts WHERE documents_fts MATCH ?",
                                     (fts_query(search),)).fetchone()[0]
        sql, args = self._document_query("count(*)", status, label, search)
        return self.conn.execute(sql, args).fetchone()[0]

    def document_rows(self, *, status: str | None = None, label: str | None = None,
                      search: str | None = None, limit: int | None = None,
                      offset: int = 0) -> list[DocumentRow]:
        """The document list, filtered by status, document label and full-text search."""
        columns = ("d.id, d.name, d.title, d.source, d.date, d.status, d.n_spans, d.n_suggested,"
                   " d.n_claims")
        if search and search.strip() and not status and not label and limit is not None:
            # A page of search hits: the index yields hits in id order and stops at the page's
            # end, where matching every hit first costs twice as long (30,000 hits of 100,000).
            sql = (f"SELECT {columns} FROM documents d WHERE d.id IN (SELECT rowid FROM"
                   " documents_fts WHERE documents_fts MATCH ? ORDER BY rowid LIMIT ? OFFSET ?)"
                   " ORDER BY d.id")
            return [DocumentRow(*r) for r in self.conn.execute(
                sql, (fts_query(search), limit, offset))]
        sql, args = self._document_query(columns, status, label, search)
        sql += " ORDER BY d.id"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            args += [limit, offset]
        return [DocumentRow(*r) for r in self.conn.execute(sql, args)]

    def document_ids(self, *, status: str | None = None, label: str | None = None,
                     search: str | None = None) -> list[int]:
        """Ids of the documents matching the filters, in list order; a search SQLite refuses
        raises ValueError with its reason."""
        sql, args = self._document_query("d.id", status, label, search)
        try:
            return [r[0] for r in self.conn.execute(sql + " ORDER BY d.id", args)]
        except sqlite3.OperationalError as exc:
            if not (search and search.strip()):
                raise
            raise ValueError(f"search not understood: {exc}") from None

    def document_rows_by_id(self, ids: list[int]) -> list[DocumentRow | None]:
        """The list's rows for these documents, in this order (None for one deleted meanwhile)."""
        found: dict[int, DocumentRow] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            for r in self.conn.execute(
                    "SELECT id, name, title, source, date, status, n_spans, n_suggested, n_claims"
                    f" FROM documents WHERE id IN ({','.join('?' * len(chunk))})", chunk):
                found[r[0]] = DocumentRow(*r)
        return [found.get(i) for i in ids]

    def _document_query(self, columns: str, status: str | None, label: str | None,
                        search: str | None) -> tuple[str, list[Any]]:
        sql = f"SELECT {columns} FROM documents d"
        where, args = [], []
        if search and search.strip():
            # IN, not a join: SQLite then walks documents in id order and stops at the page's
            # end, where a join sorts every hit first (0.9 s for 30,000 hits of 100,000).
            where.append("d.id IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?)")
            args.append(fts_query(search))
        if status:
            where.append("d.status = ?")
            args.append(status)
        if label:
            where.append("d.id IN (SELECT document_id FROM doc_labels WHERE label = ?)")
            args.append(label)
        if where:
            sql += " WHERE " + " AND ".join(where)
        return sql, args

    def doc_labels(self, doc_id: int) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT label FROM doc_labels WHERE document_id = ? ORDER BY label", (doc_id,))]

    # -- spans and claims -----------------------------------------------------------------------
    def spans(self, doc_id: int, *, statuses: Iterable[str] | None = None) -> list[Span]:
        sql = f"SELECT {_SPAN_COLUMNS} FROM spans WHERE document_id = ?"
        args: list[Any] = [doc_id]
        if statuses is not None:
            statuses = list(statuses)
            sql += f" AND status IN ({','.join('?' * len(statuses))})"
            args += statuses
        rows = self.conn.execute(sql + " ORDER BY start, \"end\", id", args)
        return [_span(r) for r in rows]

    def span(self, span_id: int) -> Span:
        r = self.conn.execute(f"SELECT {_SPAN_COLUMNS} FROM spans WHERE id = ?", (span_id,)).fetchone()
        if r is None:
            raise ProjectError(f"no span {span_id}")
        return _span(r)

    def spans_by_id(self, span_ids: Iterable[int]) -> list[Span]:
        """These spans as stored now (ids no longer stored are left out)."""
        ids = list(span_ids)
        out: list[Span] = []
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            out += [_span(r) for r in self.conn.execute(
                f"SELECT {_SPAN_COLUMNS} FROM spans WHERE id IN ({','.join('?' * len(chunk))})",
                chunk)]
        return out

    def claims_by_id(self, claim_ids: Iterable[int]) -> list[Claim]:
        ids = list(claim_ids)
        out: list[Claim] = []
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            out += [Claim(*r) for r in self.conn.execute(
                f"SELECT {_CLAIM_COLUMNS} FROM claims WHERE id IN ({','.join('?' * len(chunk))})",
                chunk)]
        return out

    def claims(self, doc_id: int) -> list[Claim]:
        rows = self.conn.execute(
            f"SELECT {_CLAIM_COLUMNS} FROM claims WHERE document_id = ? ORDER BY id", (doc_id,))
        return [Claim(*r) for r in rows]

    def claim(self, claim_id: int) -> Claim:
        r = self.conn.execute(f"SELECT {_CLAIM_COLUMNS} FROM claims WHERE id = ?",
                              (claim_id,)).fetchone()
        if r is None:
            raise ProjectError(f"no claim {claim_id}")
        return Claim(*r)

    def source(self, source_id: int) -> Source:
        r = self.conn.execute("SELECT id, name, norm_name, aliases, reliability, note FROM sources"
                              " WHERE id = ?", (source_id,)).fetchone()
        if r is None:
            raise ProjectError(f"no source {source_id}")
        return Source(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5])

    def sources(self) -> list[Source]:
        return [Source(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5]) for r in self.conn.execute(
            "SELECT id, name, norm_name, aliases, reliability, note FROM sources ORDER BY name")]

    def source_claim_counts(self) -> dict[int, int]:
        """Claims not rejected per registry entry (entries without any are left out)."""
        return dict(self.conn.execute(
            "SELECT source_id, count(*) FROM claims WHERE source_id IS NOT NULL"
            " AND status != 'rejected' GROUP BY source_id").fetchall())

    def refresh_counts(self, doc_ids: Iterable[int] | None = None) -> None:
        """Recompute the per-document counts the list shows (inside the caller's transaction)."""
        sql = ("UPDATE documents SET"
               " n_spans = (SELECT count(*) FROM spans s WHERE s.document_id = documents.id"
               "            AND s.status != 'rejected'),"
               " n_suggested = (SELECT count(*) FROM spans s WHERE s.document_id = documents.id"
               "            AND s.status = 'suggested'),"
               " n_claims = (SELECT count(*) FROM claims c WHERE c.document_id = documents.id"
               "            AND c.status != 'rejected')")
        if doc_ids is None:
            self.conn.execute(sql)
        else:
            ids = list(set(doc_ids))
            for i in range(0, len(ids), 500):
                chunk = ids[i:i + 500]
                self.conn.execute(sql + f" WHERE id IN ({','.join('?' * len(chunk))})", chunk)

    # -- counts ---------------------------------------------------------------------------------
    def status_counts(self) -> StatusCounts:
        by_status = dict(self.conn.execute(
            "SELECT status, count(*) FROM documents GROUP BY status").fetchall())
        left = self.conn.execute("SELECT coalesce(sum(n_suggested), 0) FROM documents").fetchone()[0]
        return StatusCounts(sum(by_status.values()), by_status.get("done", 0), left)

    def counts(self) -> Counts:
        q = self.conn.execute
        by_status = dict(q("SELECT status, count(*) FROM documents GROUP BY status").fetchall())
        spans: dict[str, dict[str, int]] = {}
        for label, status, n in q("SELECT label, status, count(*) FROM spans GROUP BY label, status"):
            spans.setdefault(label, {})[status] = n
        cred = {str(k) if k is not None else "ungraded": n for k, n in q(
            "SELECT credibility, count(*) FROM claims WHERE status != 'rejected'"
            " GROUP BY credibility")}
        rel = {k if k is not None else "ungraded": n for k, n in q(
            "SELECT reliability, count(*) FROM sources GROUP BY reliability")}
        return Counts(
            documents=q("SELECT count(*) FROM documents").fetchone()[0],
            documents_by_status=by_status,
            spans_by_label_status=spans,
            claims=q("SELECT count(*) FROM claims WHERE status != 'rejected'").fetchone()[0],
            claims_by_credibility=cred,
            sources=q("SELECT count(*) FROM sources").fetchone()[0],
            sources_by_reliability=rel,
            doc_labels=dict(q("SELECT label, count(*) FROM doc_labels GROUP BY label").fetchall()),
        )

    # -- events ---------------------------------------------------------------------------------
    def record(self, action: str, what: str) -> None:
        """Log work done on the project outside decisions (an import, a pre-annotation run, a
        restore): who did it, when, and its one-line outcome. Not undoable."""
        with self.atomic():
            self.log_events([{"action": action, "entity": "project", "entity_id": None,
                              "document_id": None, "before": None, "after": {"summary": what},
                              "group_id": None}])

    def log_events(self, events: list[dict[str, Any]]) -> None:
        """Append decisions to the audit log (inside the caller's transaction)."""
        at = now()
        self.db.table("events").insert_all(
            {"at": at, "who": self.who, **e,
             "before": _dump(e.get("before")), "after": _dump(e.get("after"))} for e in events)


_SPAN_COLUMNS = ", ".join(f'"{c}"' for c in SPAN_COLUMNS)
_CLAIM_COLUMNS = ", ".join(f'"{c}"' for c in CLAIM_COLUMNS)


def _span(r: tuple) -> Span:
    id_, document_id, start, end, label, origin, status, annotator, model = r[:9]
    return Span(id_, document_id, start, end, label, origin, status, annotator, model,
                json.loads(r[9]) if r[9] else None)


def fts_query(text: str) -> str:
    """Turn what a user types into a safe FTS5 query: every word must appear (prefix match)."""
    words = [w.replace('"', '""') for w in text.split()]
    return " ".join(f'"{w}"*' for w in words)


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _check_header(path: Path) -> None:
    try:
        with open(path, "rb") as f:
            head = f.read(100)
    except PermissionError:
        raise ProjectError(f"{path}: permission denied") from None
    if len(head) == 0:
        return  # an empty file becomes a new project
    if not head.startswith(SQLITE_HEADER) or len(head) < 100:
        raise ProjectError(f"{path} is not a Credence project (not an SQLite file)")


# SQLite's primary result codes for a disk that refuses the write (full, failing, read-only).
_STORAGE_ERRORS = {
    13: "the disk is full: free some space and try again",
    10: "the disk reported an error while saving",
    8: "it is read-only here: open it read-only or copy it somewhere writable",
    14: "cannot open it for writing (is its folder read-only?)",
}


def storage_error(path: Path, exc: sqlite3.OperationalError) -> Exception:
    """A disk-level SQLite failure as one clear ProjectError (the transaction was rolled back);
    any other SQLite error is returned as it is (a bug, which must fail loudly)."""
    code = getattr(exc, "sqlite_errorcode", None)
    why = _STORAGE_ERRORS.get(code & 0xFF) if isinstance(code, int) else None
    if why is None:
        return exc
    return ProjectError(f"{path}: could not save: {why}; nothing of the last step was stored")


def _wal_hint(path: Path) -> str:
    wal = Path(f"{path}-wal")
    if wal.exists() and wal.stat().st_size > 0:
        return (f" (a {wal.name} file beside it may belong to another database: "
                "move it away and open again)")
    return ""


def _brief(exc: BaseException, limit: int = 160) -> str:
    """SQLite's message on one short line (a damaged schema's error quotes its SQL)."""
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _colour_for(name: str) -> str:
    import hashlib
    h = int(hashlib.md5(name.encode()).hexdigest()[:6], 16)
    # Pastel: mix a hashed hue with white so text stays legible over it.
    r, g, b = (h >> 16) & 255, (h >> 8) & 255, h & 255
    return "#%02x%02x%02x" % ((r + 510) // 3, (g + 510) // 3, (b + 510) // 3)

