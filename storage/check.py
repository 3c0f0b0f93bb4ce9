"""`check`: is a project file sound? Reads only; lists each problem, naming the document.

Offsets are Python code points (PRODUCT.md), so lengths are measured in Python: SQLite's
`length()` stops at the first NUL and would call a span after one "outside its text".
"""
from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from annotation import jsonvalues
from annotation.model import CLAIM_PART_COLUMNS
from storage.project import Project, ProjectError

# Problems of one kind listed one by one; beyond, counted.
MAX_LISTED = 20

_QUERIES = {
    "spans whose document is missing":
        "SELECT count(*) FROM spans WHERE document_id NOT IN (SELECT id FROM documents)",
    "claims whose document is missing":
        "SELECT count(*) FROM claims WHERE document_id NOT IN (SELECT id FROM documents)",
    "claims pointing to missing spans":
        "SELECT count(*) FROM claims c WHERE "
        + " OR ".join(f"(c.{col} IS NOT NULL AND c.{col} NOT IN (SELECT id FROM spans))"
                      for col in CLAIM_PART_COLUMNS.values()),
    "claims pointing to missing sources":
        "SELECT count(*) FROM claims WHERE source_id IS NOT NULL"
        " AND source_id NOT IN (SELECT id FROM sources)",
    "claim links to missing claims":
        "SELECT count(*) FROM claim_links WHERE from_claim NOT IN (SELECT id FROM claims)"
        " OR to_claim NOT IN (SELECT id FROM claims)",
    "document labels of missing documents":
        "SELECT count(*) FROM doc_labels WHERE document_id NOT IN (SELECT id FROM documents)",
    "aliases of missing sources":
        "SELECT count(*) FROM source_aliases WHERE source_id NOT IN (SELECT id FROM sources)",
    "credibility grades outside 1–6":
        "SELECT count(*) FROM claims WHERE credibility IS NOT NULL AND credibility NOT BETWEEN 1 AND 6",
    "reliability grades outside A–F":
        "SELECT count(*) FROM sources WHERE reliability IS NOT NULL"
        " AND reliability NOT IN ('A','B','C','D','E','F')",
    "document counts that disagree with the stored spans":
        "SELECT count(*) FROM documents d WHERE n_suggested != (SELECT count(*) FROM spans s"
        " WHERE s.document_id = d.id AND s.status = 'suggested')",
}

# The claims' search index (schema 2 on) holds each claim's content as its document holds it.
_INDEX_QUERIES = {
    "claims missing from the claims' search index, or stale in it":
        "SELECT count(*) FROM claims c JOIN spans s ON s.id = c.content_span_id"
        " JOIN documents d ON d.id = c.document_id LEFT JOIN claims_fts f ON f.rowid = c.id"
        " WHERE f.content IS NOT substr(d.text, s.start + 1, s.\"end\" - s.start)",
    "entries in the claims' search index for no claim's content":
        "SELECT count(*) FROM claims_fts WHERE rowid NOT IN (SELECT c.id FROM claims c"
        " JOIN spans s ON s.id = c.content_span_id)",
}


def check_project(path: Path) -> list[str]:
    """Every problem found, one line each; an empty list means the file is sound."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        return ["no such project file"]
    except OSError as exc:
        return [f"cannot read it: {exc.strerror or exc}"]
    if not stat.S_ISREG(st.st_mode):
        return ["not a regular file (a folder, device or pipe): not a Credence project"]
    if not os.access(path, os.R_OK):
        return ["permission denied"]
    try:
        project = Project(path, readonly=True)
    except ProjectError as exc:
        return [" ".join(str(exc).split())]
    except sqlite3.Error as exc:
        return [f"damaged: {exc}"]
    problems: list[str] = []
    try:
        conn = project.conn
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        if rows != ["ok"]:
            problems += [f"SQLite integrity: {r}" for r in rows[:MAX_LISTED]]
        if conn.execute("PRAGMA foreign_key_check").fetchone():
            problems.append("rows referring to missing rows (foreign keys)")
        meta_version = project.setting("schema_version")
        if meta_version != str(project.schema_version):
            problems.append(f"meta schema_version {meta_version} != file schema {project.schema_version}")
        queries = dict(_QUERIES)
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'claims_fts'").fetchone():
            queries.update(_INDEX_QUERIES)
        for what, sql in queries.items():
            n = conn.execute(sql).fetchone()[0]
            if n:
                problems.append(f"{n} {what}")
        problems += _Rows(conn).problems()
    except sqlite3.DatabaseError as exc:
        problems.append(f"damaged: {exc}")
    finally:
        project.close()
    return problems


class _Rows:
    """Row-level checks in Python: JSON columns, offsets against texts, named by document."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.found: dict[str, list[str]] = defaultdict(list)
        self.counts: dict[str, int] = defaultdict(int)
        self.names: dict[int, str] = {}
        self.lengths: dict[int, int] = {}

    def add(self, kind: str, line: str) -> None:
        self.counts[kind] += 1
        if len(self.found[kind]) < MAX_LISTED:
            self.found[kind].append(line)

    def problems(self) -> list[str]:
        self._documents()
        self._spans()
        self._other_json()
        out: list[str] = []
        for kind, lines in self.found.items():
            out += lines
            if self.counts[kind] > len(lines):
                out.append(f"… and {self.counts[kind] - len(lines)} more {kind}")
        return out

    def doc(self, doc_id: int | None) -> str:
        if doc_id is None:
            return "a row with no document"
        name = self.names.get(doc_id)
        if name is None:
            return f"document {doc_id} (missing)"
        return f"document {doc_id} {name!r}" if name else f"document {doc_id}"

    def _rows(self, sql: str, args: tuple = ()) -> Iterator[tuple]:
        # Bytes, decoded here: a text that is not UTF-8 is one named problem, not a crash.
        self.conn.text_factory = bytes
        try:
            yield from self.conn.execute(sql, args)
        finally:
            self.conn.text_factory = str

    def _documents(self) -> None:
        for doc_id, name, text, raw, meta, offset_map in self._rows(
                "SELECT id, name, text, raw_text, meta, offset_map FROM documents ORDER BY id"):
            self.names[doc_id] = _text(name) or ""
            where = self.doc(doc_id)
            decoded = _decode(text)
            if decoded is None:
                self.add("texts that are not UTF-8", f"{where}: its text is not valid UTF-8")
                continue
            self.lengths[doc_id] = len(decoded)
            raw_len = len(_decode(raw) or "") if raw is not None else len(decoded)
            value = self._json(where, "meta", meta, "documents with bad metadata")
            if value is not _BAD and not isinstance(value, dict):
                self.add("documents with bad metadata", f"{where}: meta is not a JSON object")
            runs = self._json(where, "offset_map", offset_map, "documents with a bad offset map")
            if runs is not _BAD:
                why = _offset_map_problem(runs, len(decoded), raw_len)
                if why:
                    self.add("documents with a bad offset map", f"{where}: offset_map {why}")

    def _spans(self) -> None:
        # SQLite's length() stops at a NUL, so it only under-counts: spans it finds past the end
        # are candidates, measured again against the Python length.
        for sid, doc_id, start, end, label in self.conn.execute(
                'SELECT s.id, s.document_id, s.start, s."end", s.label FROM spans s'
                ' JOIN documents d ON d.id = s.document_id'
                ' WHERE s.start < 0 OR s.start >= s."end" OR s."end" > length(d.text)'
                ' OR typeof(s.start) != \'integer\' OR typeof(s."end") != \'integer\''):
            length = self.lengths.get(doc_id)
            if length is None:
                continue  # its text is already reported
            if type(start) is int and type(end) is int and 0 <= start < end <= length:
                continue
            self.add("spans outside their document's text",
                     f"{self.doc(doc_id)}: span {sid} {_text(label)!r} at {start}-{end} lies outside "
                     f"its text (length {length})")
        for sid, doc_id, start, end, fragments in self._rows(
                'SELECT id, document_id, start, "end", fragments FROM spans'
                " WHERE fragments IS NOT NULL ORDER BY id"):
            where = f"{self.doc(doc_id)}: span {sid}"
            value = self._json(where, "fragments", fragments, "spans with bad fragments")
            if value is _BAD or value is None:
                continue
            why = _fragments_problem(value, start, end, self.lengths.get(doc_id))
            if why:
                self.add("spans with bad fragments", f"{where}: fragments {why}")

    def _other_json(self) -> None:
        for source_id, name, aliases in self._rows("SELECT id, name, aliases FROM sources ORDER BY id"):
            where = f"source {source_id} {_text(name)!r}"
            value = self._json(where, "aliases", aliases, "sources with bad aliases")
            if value is not _BAD and not (isinstance(value, list)
                                          and all(isinstance(a, str) for a in value)):
                self.add("sources with bad aliases", f"{where}: aliases is not a list of names")
        for sid, doc_id, meta in self._rows("SELECT id, document_id, meta FROM sightings ORDER BY id"):
            where = f"{self.doc(doc_id)}: sighting {sid}"
            value = self._json(where, "meta", meta, "sightings with bad metadata")
            if value is not _BAD and not isinstance(value, dict):
                self.add("sightings with bad metadata", f"{where}: meta is not a JSON object")
        for eid, doc_id, before, after in self._rows(
                "SELECT id, document_id, before, after FROM events ORDER BY id"):
            where = f"{self.doc(doc_id) if doc_id is not None else 'the project'}: event {eid}"
            for column, value in (("before", before), ("after", after)):
                if value is not None:
                    self._json(where, column, value, "events with bad JSON")
        for key, value in self._rows("SELECT key, value FROM meta WHERE key = 'boilerplate'"):
            if value is not None:
                self._json("project setting", _text(key) or "", value, "settings with bad JSON")

    def _json(self, where: str, column: str, data: bytes | None, kind: str):
        if data is None:
            self.add(kind, f"{where}: {column} is empty (NULL), not JSON")
            return _BAD
        text = _decode(data) if isinstance(data, bytes) else str(data)
        if text is None:
            self.add(kind, f"{where}: {column} is not valid UTF-8")
            return _BAD
        try:
            value = jsonvalues.loads(text, check_ints=True)
        except (ValueError, RecursionError) as exc:
            why = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc) or "too deeply nested"
            self.add(kind, f"{where}: {column} is not valid JSON ({why})")
            return _BAD
        problem = jsonvalues.problem(value)
        if problem:
            self.add(kind, f"{where}: {column} holds {problem}")
            return _BAD
        return value


_BAD = object()


def _decode(data: bytes | str | None) -> str | None:
    if data is None or isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _text(data: bytes | str | None) -> str | None:
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data


def _is_int(v: object) -> bool:
    return type(v) is int


def _offset_map_problem(runs: object, length: int, raw_length: int) -> str | None:
    """Runs [norm_start, raw_start, length] covering the text in order, inside the raw text."""
    if not isinstance(runs, list):
        return "is not a list of runs"
    at = 0
    for run in runs:
        if not (isinstance(run, list) and len(run) == 3 and all(map(_is_int, run))):
            return f"holds {json.dumps(run)[:40]}, not a run [start, raw start, length]"
        norm, raw, n = run
        if norm < at or n < 0 or raw < 0 or raw + n > raw_length:
            return f"run {run} does not fit the texts (length {length}, raw {raw_length})"
        at = norm + n
    covered = runs[-1][0] + runs[-1][2] if runs else 0
    if covered != length:
        return f"covers {covered} characters where the text has {length}"
    return None


def _fragments_problem(value: object, start: int, end: int, length: int | None) -> str | None:
    if not isinstance(value, list) or not value:
        return "is not a list of [start, end] pieces"
    for piece in value:
        if not (isinstance(piece, list) and len(piece) == 2 and all(map(_is_int, piece))):
            return f"holds {json.dumps(piece)[:40]}, not a [start, end] piece"
        a, b = piece
        if not (start <= a < b <= end) or (length is not None and b > length):
            return f"piece {a}-{b} lies outside the span {start}-{end}"
    return None
