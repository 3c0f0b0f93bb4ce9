"""What every export shares: the rows to write (streamed, grouped by document), safe files, CSV."""
from __future__ import annotations

import contextlib
import csv
import gc
import json
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import IO, Any

from annotation.model import CLAIM_LABELS, Span
from annotation.progress import Progress
from storage.project import Project, ProjectError


class ExportError(ProjectError):
    """A problem with the export the user can fix (no such folder, path is a folder): one message."""


@dataclass
class ExportSummary:
    """What an export wrote, and what its format could not hold."""
    format: str
    out: Path
    documents: int = 0
    spans: int = 0
    claims: int = 0
    # Each entry says what was left out or changed, and how much ("CoNLL: dropped 3 …").
    not_represented: list[str] = field(default_factory=list)

    def line(self) -> str:
        text = (f"exported {self.documents} documents, {self.spans} spans, {self.claims} claims "
                f"as {self.format} to {self.out}")
        if self.not_represented:
            text += "; not represented: " + "; ".join(self.not_represented)
        return text


@dataclass
class ExportClaim:
    """A claim as exports see it: part span ids are None when that part is not exported."""
    id: int
    content: int | None
    cue: int | None
    source: int | None
    attribution: int | None
    source_id: int | None
    credibility: int | None
    stance: str | None
    note: str | None
    origin: str
    status: str
    annotator: str | None
    model: str | None
    source_name: str | None
    reliability: str | None


@dataclass
class ExportDoc:
    id: int
    name: str | None
    title: str | None
    source: str | None
    url: str | None
    date: str | None
    text: str
    status: str
    meta: dict[str, Any]
    labels: list[str] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    claims: list[ExportClaim] = field(default_factory=list)

    def meta_out(self) -> dict[str, Any]:
        """The document's identity for formats with a free metadata object."""
        out = {"name": self.name, "title": self.title, "source": self.source, "url": self.url,
               "date": self.date, "document_id": self.id, "status": self.status}
        if self.labels:
            out["labels"] = self.labels
        if self.meta:
            out["meta"] = self.meta
        return out


class Selection:
    """The SQL conditions of one export: which documents, spans and claims it holds."""

    def __init__(self, only_reviewed: bool, ids: tuple[int, int] | None = None):
        """`ids`: only documents whose id is in first..last (one part of an export)."""
        self.only_reviewed = only_reviewed
        self.ids = ids
        # Analyst-created spans are stored as accepted, so "accepted" is all reviewed work.
        self.span_ok = "status = 'accepted'" if only_reviewed else "status != 'rejected'"
        self._range = f" BETWEEN {int(ids[0])} AND {int(ids[1])}" if ids is not None else ""
        conditions = (["status = 'done'"] if only_reviewed else []) \
            + ([f"id{self._range}"] if ids is not None else [])
        self.doc_ok = " AND ".join(conditions) or "1"
        self.doc_where = f"WHERE {self.doc_ok}" if conditions else ""

    def part(self, first: int, last: int) -> Selection:
        """The same selection, of the documents whose id is in first..last."""
        return Selection(self.only_reviewed, (first, last))

    def doc_in(self, alias: str = "") -> str:
        """Condition on a row's document_id: its document is part of the export."""
        col = f"{alias}.document_id" if alias else "document_id"
        # The id range is also put on the row's own column: its index then reads only the part.
        ranged = f"{col}{self._range}" if self.ids is not None else ""
        if self.only_reviewed:
            return f"{col} IN (SELECT id FROM documents WHERE {self.doc_ok})" \
                + (f" AND {ranged}" if ranged else "")
        return ranged or "1"

    def claims_sql(self, columns: str, extra_joins: str = "") -> str:
        """Claims of the selection with at least one exported part; parts not exported are NULL."""
        ok = self.span_ok.replace("status", "{a}.status")
        joins = "".join(
            f" LEFT JOIN spans {a} ON {a}.id = c.{col} AND {ok.format(a=a)}"
            for a, col in (("sc", "content_span_id"), ("su", "cue_span_id"),
                           ("ss", "source_span_id"), ("sa", "attribution_span_id")))
        return (f"SELECT {columns} FROM claims c{joins} LEFT JOIN sources src ON src.id = c.source_id"
                f"{extra_joins} WHERE {ok.format(a='c')} AND {self.doc_in('c')}"
                " AND (sc.id IS NOT NULL OR su.id IS NOT NULL OR ss.id IS NOT NULL"
                " OR sa.id IS NOT NULL)")

    def claims_without_parts(self, project: Project) -> int:
        """Claims of the selection none of whose parts are exported (left out, reported)."""
        ok = self.span_ok.replace("status", "c.status")
        total = project.conn.execute(
            f"SELECT count(*) FROM claims c WHERE {ok} AND {self.doc_in('c')}").fetchone()[0]
        kept = project.conn.execute(f"SELECT count(*) FROM ({self.claims_sql('c.id')})").fetchone()[0]
        return total - kept


_CLAIM_COLUMNS = ("c.id, c.document_id, sc.id, su.id, ss.id, sa.id, c.source_id, c.credibility,"
                  " c.stance, c.note, c.origin, c.status, c.annotator, c.model, src.name,"
                  " src.reliability")


_SPAN_ORDER = itemgetter(2, 3, 0)


class _Follower:
    """Walks a cursor ordered by document id alongside the documents cursor (a merge join)."""

    def __init__(self, rows: Iterable[tuple], doc_col: int = 1):
        self._rows = iter(rows)
        self._col = doc_col
        self._next = next(self._rows, None)

    def take(self, doc_id: int) -> list[tuple]:
        out = []
        col = self._col
        while self._next is not None and self._next[col] <= doc_id:
            if self._next[col] == doc_id:
                out.append(self._next)
            self._next = next(self._rows, None)
        return out


@contextlib.contextmanager
def snapshot(project: Project) -> Iterator[None]:
    """One read transaction, so every query of an export sees the same state of the file."""
    conn = project.conn
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    finally:
        conn.execute("COMMIT")


def document_count(project: Project, sel: Selection) -> int:
    return project.conn.execute(f"SELECT count(*) FROM documents {sel.doc_where}").fetchone()[0]


def iter_documents(project: Project, sel: Selection, *, spans: bool = True,
                   claims: bool = False, raw_spans: bool = False,
                   ids: tuple[int, int] | None = None) -> Iterator[ExportDoc]:
    """Documents of the selection with their labels, spans and claims: one query per table.
    With raw_spans, doc.spans holds the rows as tuples (id, document_id, start, end, label,
    origin, status, annotator, model, fragments as JSON text) instead of Span objects.
    `ids`: only the documents whose id is in first..last (one part of an export)."""
    conn = project.conn
    if ids is not None:
        sel = sel.part(*ids)
    docs = conn.execute("SELECT id, name, title, source, url, date, text, status, meta"
                        f" FROM documents {sel.doc_where} ORDER BY id")
    labels = _Follower(conn.execute(
        f"SELECT label, document_id FROM doc_labels WHERE {sel.doc_in()} ORDER BY document_id, label"))
    span_rows = _Follower(conn.execute(
        "SELECT id, document_id, start, \"end\", label, origin, status, annotator, model, fragments"
        f" FROM spans WHERE {sel.span_ok} AND {sel.doc_in()}"
        # The index gives this order; the rest of it (end, id) is sorted per document below,
        # which costs less than SQLite's sort of the whole table.
        " ORDER BY document_id, start")) if spans else None
    claim_rows = _Follower(conn.execute(
        sel.claims_sql(_CLAIM_COLUMNS) + " ORDER BY c.document_id, c.id")) if claims else None
    for d in docs:
        doc = ExportDoc(d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], json.loads(d[8] or "{}"))
        doc.labels = [r[0] for r in labels.take(doc.id)]
        if span_rows is not None:
            rows = span_rows.take(doc.id)
            rows.sort(key=_SPAN_ORDER)  # start, end, id
            doc.spans = rows if raw_spans else [
                Span(*r[:9], json.loads(r[9]) if r[9] else None) for r in rows]
        if claim_rows is not None:
            doc.claims = [ExportClaim(r[0], *r[2:]) for r in claim_rows.take(doc.id)]
        yield doc


def label_kinds(project: Project) -> tuple[set[str], list[str]]:
    """(claim-part labels, document labels of the project in a stable order)."""
    claim = set(CLAIM_LABELS)
    document: list[str] = []
    for name, kind in project.conn.execute("SELECT name, kind FROM labels ORDER BY rowid"):
        if kind == "claim":
            claim.add(name)
        elif kind == "document":
            document.append(name)
    for (name,) in project.conn.execute("SELECT DISTINCT label FROM doc_labels ORDER BY label"):
        if name not in document:
            document.append(name)
    return claim, document


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """The cyclic garbage collector paused for one export: its rows and tokens hold no cycles,
    and otherwise its full passes over everything the export keeps cost a tenth of the time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def report_progress(progress: Progress | None, done: int, total: int, every: int = 50) -> None:
    if progress is not None and (done % every == 0 or done == total):
        progress(done, total)


# -- files ---------------------------------------------------------------------------------------
def check_destination(out: Path, *, folder: bool = False) -> None:
    """One clear message for a destination that cannot be written."""
    parent = out.parent
    if not parent.is_dir():
        raise ExportError(f"{parent}: no such folder (create it first, or choose another --out)")
    if not folder and out.is_dir():
        raise ExportError(f"{out} is a folder: give a file name for this format")
    if folder and out.exists() and not out.is_dir():
        raise ExportError(f"{out} is a file: this format writes a folder")
    if not os.access(parent, os.W_OK):
        raise ExportError(f"{parent}: permission denied")


@contextlib.contextmanager
def atomic_file(out: Path, *, binary: bool = False, newline: str | None = "",
                encoding: str = "utf-8") -> Iterator[IO]:
    """Write beside `out` and rename at the end: a failed or cancelled export leaves nothing half-done."""
    check_destination(out)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; an export is an ordinary file
        if binary:
            f = os.fdopen(fd, "wb")
        else:
            f = os.fdopen(fd, "w", encoding=encoding, newline=newline)
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Files a previous folder export of ours holds; the marker says the folder is ours to replace.
_OWN_SUFFIXES = (".txt", ".ann", ".conf")
EXPORT_MARKER = ".credence-export"


@contextlib.contextmanager
def atomic_folder(out: Path) -> Iterator[Path]:
    """Fill a fresh folder beside `out`, then put it in place of `out` in one rename.

    An existing folder is replaced only when empty or when it is an earlier export of ours
    (marker file, nothing else added): a user's folder of .txt files is never deleted.
    """
    check_destination(out, folder=True)
    if out.is_dir() and any(out.iterdir()):
        if not (out / EXPORT_MARKER).is_file():
            raise ExportError(f"{out} exists and is not empty: choose a new or empty folder")
        foreign = [p.name for p in out.iterdir() if p.name != EXPORT_MARKER
                   and (p.is_dir() or p.suffix not in _OWN_SUFFIXES)]
        if foreign:
            raise ExportError(f"{out} holds other files besides an earlier export (e.g. {foreign[0]!r}): "
                              "choose a new or empty folder")
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part"))
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        yield tmp
        (tmp / EXPORT_MARKER).write_text("written by Credence; this folder is replaced by the next "
                                         "export to it\n", encoding="utf-8")
        if out.is_dir() and any(out.iterdir()):
            old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".old"))
            os.replace(out, old / "x")
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            if out.is_dir():
                out.rmdir()
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


_UNSAFE = re.compile(r"[^\w.\-]+")
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def safe_file_name(name: str | None, doc_id: int, used: set[str], max_len: int = 100) -> str:
    """A file name (no folder parts, unique ignoring case) made from a document's name."""
    base = unicodedata.normalize("NFC", name or "")
    # A trailing "-" is kept (PolNeAR names end in one); a leading one could read as an option.
    base = _UNSAFE.sub("_", base).lstrip("._- ")[:max_len].rstrip("._ ")
    if not base or base.split(".")[0].lower() in _RESERVED:
        base = f"document-{doc_id}" if not base else f"_{base}"
    candidate, n = base, 1
    while candidate.lower() in used:
        n += 1
        candidate = f"{base}-{doc_id}" if n == 2 else f"{base}-{doc_id}-{n}"
    used.add(candidate.lower())
    return candidate


# -- CSV -----------------------------------------------------------------------------------------
# Full-width = + - @ too: some spreadsheet locales (Japanese Excel) read them as formula starts.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_cell(value: Any) -> Any:
    """A cell a spreadsheet will show as text, never run: formula-like strings get a leading '."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_csv(f: IO[str], header: list[str], rows: Iterable[Iterable[Any]]) -> int:
    """Every CSV export goes through here: header, then rows with every cell neutralised."""
    writer = csv.writer(f)
    writer.writerow([csv_cell(h) for h in header])
    n = 0
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
        n += 1
    return n
