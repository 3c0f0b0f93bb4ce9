"""What one export holds, and its rows read document by document.

By default an export holds what an analyst decided: the documents marked done with their
accepted spans (analyst-created spans are stored as accepted) and accepted claims. With
`everything` (`--all`) it holds every document and every span and claim not rejected, each
with its status where the format has room for it. Reports (docs-csv, claims) take documents
of any status.
"""
from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from operator import attrgetter
from typing import Any

from annotation.model import CLAIM_COLUMNS, CLAIM_LABELS, CLAIM_PART_COLUMNS, Claim, Span
from annotation.progress import Progress
from storage.export.summary import ExportError
from storage.export.values import BadJSON, MetaReader, load_json
from storage.project import Project
from storage.sources import candidate_name


@dataclass(frozen=True)
class Selection:
    """Which documents, spans and claims one export holds, as SQL conditions."""
    everything: bool = False  # --all: also suggestions, and documents not marked done
    any_status: bool = False  # documents of any status (reports), not only those marked done
    ids: tuple[int, int] | None = None  # only documents whose id is in first..last (one part)

    def part(self, first: int, last: int) -> Selection:
        return replace(self, ids=(int(first), int(last)))

    @property
    def span_ok(self) -> str:
        """Condition on a span's or claim's `status`."""
        return "status != 'rejected'" if self.everything else "status = 'accepted'"

    @property
    def _done_only(self) -> bool:
        return not (self.everything or self.any_status)

    @property
    def _range(self) -> str:
        return f" BETWEEN {self.ids[0]} AND {self.ids[1]}" if self.ids is not None else ""

    @property
    def doc_where(self) -> str:
        """WHERE clause (or nothing) on `documents`."""
        conditions = (["status = 'done'"] if self._done_only else []) \
            + ([f"id{self._range}"] if self.ids is not None else [])
        return f"WHERE {' AND '.join(conditions)}" if conditions else ""

    def doc_in(self, alias: str = "") -> str:
        """Condition on a row's document_id: its document is part of the export."""
        col = f"{alias}.document_id" if alias else "document_id"
        conditions = []
        if self._done_only:
            conditions.append(f"{col} IN (SELECT id FROM documents {self.doc_where})")
        if self.ids is not None:  # on the row's own column too: its index then reads only the part
            conditions.append(f"{col}{self._range}")
        return " AND ".join(conditions) or "1"

    def claims_sql(self, columns: str, extra_joins: str = "") -> str:
        """Claims of the selection with at least one exported part (parts not exported are
        NULL), with their source (`src`)."""
        ok = self.span_ok.replace("status", "{a}.status")
        joins = "".join(
            f" LEFT JOIN spans {a} ON {a}.id = c.{col} AND {ok.format(a=a)}"
            for a, col in _PART_ALIASES)
        return (f"SELECT {columns} FROM claims c{joins} LEFT JOIN sources src ON src.id = c.source_id"
                f"{extra_joins} WHERE {ok.format(a='c')} AND {self.doc_in('c')}"
                " AND (" + " OR ".join(f"{a}.id IS NOT NULL" for a, _ in _PART_ALIASES) + ")")


# The alias each part's span is joined as (a part not exported reads NULL).
_PART_ALIAS = {"Content": "sc", "Cue": "su", "Source": "ss", "Attribution": "sa"}
_PART_ALIASES = tuple((_PART_ALIAS[role], col) for role, col in CLAIM_PART_COLUMNS.items())


@dataclass
class ExportClaim(Claim):
    """A claim as exports see it: a part's span id is None when that part is not exported;
    with its registry source's name and reliability."""
    source_name: str | None = None
    reliability: str | None = None

    def parts(self) -> dict[str, int | None]:
        """The exported span id of each part, by lower-case role ("content", "cue", …)."""
        return {role.lower(): getattr(self, col) for role, col in CLAIM_PART_COLUMNS.items()}


# Claim's columns in its field order (a part read from its exported span), then the source's.
_ROLE_OF_COLUMN = {col: role for role, col in CLAIM_PART_COLUMNS.items()}
_CLAIM_COLUMNS = ", ".join(
    [f"{_PART_ALIAS[_ROLE_OF_COLUMN[col]]}.id" if col in _ROLE_OF_COLUMN else f"c.{col}"
     for col in CLAIM_COLUMNS] + ["src.name", "src.reliability"])
# The claim fields exports write by name; any other field of Claim (a new one) is written
# under its own name, so a new claim field is a migration and a dataclass field, no more.
CLAIM_NAMED_FIELDS = frozenset(("id", "document_id", "source_id", "credibility", "stance", "note",
                                "origin", "status", "annotator", "model",
                                *CLAIM_PART_COLUMNS.values()))
CLAIM_EXTRA_FIELDS = tuple(f for f in CLAIM_COLUMNS if f not in CLAIM_NAMED_FIELDS)


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
    meta: Any
    labels: list[str] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)  # in text order: start, end, id
    claims: list[ExportClaim] = field(default_factory=list)

    def meta_out(self) -> dict[str, Any]:
        """The document's identity for formats with a free metadata object."""
        out: dict[str, Any] = {"name": self.name, "title": self.title, "source": self.source,
                               "url": self.url, "date": self.date, "document_id": self.id,
                               "status": self.status}
        if self.labels:
            out["labels"] = self.labels
        if self.meta:
            out["meta"] = self.meta
        return out

    def claim_records(self) -> list[dict[str, Any]]:
        """Claims with their parts as [start, end] in the text, for formats with room for
        free data (spaCy's user data, Prodigy's tasks)."""
        edges = {s.id: [s.start, s.end] for s in self.spans}
        out = []
        for c in self.claims:
            parts: dict[str, list[int] | None] = {
                role: edges.get(sid) if sid is not None else None for role, sid in c.parts().items()}
            source = parts["source"]
            # The registry's name; else the name the source span proposes (None for "he").
            source_name = c.source_name or (
                candidate_name(self.text[source[0]:source[1]]) if source else None)
            out.append({"id": c.id, **parts, "source_name": source_name,
                        "reliability": c.reliability, "credibility": c.credibility,
                        "stance": c.stance, "status": c.status, "origin": c.origin,
                        **{f: getattr(c, f) for f in CLAIM_EXTRA_FIELDS}})
        return out


def describe(doc_id: int, name: str | None) -> str:
    return f"document {doc_id}" + (f" ({name!r})" if name else "")


@contextlib.contextmanager
def naming(doc: ExportDoc) -> Iterator[None]:
    """An error while writing one document names it, in one line."""
    try:
        yield
    except ExportError:
        raise
    except (ValueError, TypeError, OverflowError, RecursionError, KeyError, IndexError) as exc:
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise ExportError(f"cannot export {describe(doc.id, doc.name)}: {reason}") from exc


class _RowsByDocument:
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


_SPAN_ORDER = attrgetter("start", "end", "id")


class Rows:
    """The rows one export reads from one project: its documents with their labels, spans and
    claims, one query per table. `meta.changed` counts meta values made portable."""

    def __init__(self, project: Project, sel: Selection) -> None:
        self.project = project
        self.sel = sel
        self.conn: sqlite3.Connection = project.conn
        self.meta = MetaReader()

    def part(self, first: int, last: int) -> Rows:
        """The same export's rows, of documents with ids in first..last (a worker's part)."""
        rows = Rows(self.project, self.sel.part(first, last))
        rows.meta = self.meta
        return rows

    def document_ids(self) -> list[int]:
        return [r[0] for r in self.conn.execute(
            f"SELECT id FROM documents {self.sel.doc_where} ORDER BY id")]

    def document_count(self) -> int:
        return self.conn.execute(f"SELECT count(*) FROM documents {self.sel.doc_where}").fetchone()[0]

    def documents(self, *, claims: bool = False, progress: Progress | None = None
                  ) -> Iterator[ExportDoc]:
        """Documents of the selection in id order, with labels, spans (text order) and claims;
        `progress(done, total)` every 50 documents and at the end."""
        sel, conn = self.sel, self.conn
        total = self.document_count() if progress is not None else 0
        done = 0
        docs = conn.execute("SELECT id, name, title, source, url, date, text, status, meta"
                            f" FROM documents {sel.doc_where} ORDER BY id")
        labels = _RowsByDocument(conn.execute(
            f"SELECT label, document_id FROM doc_labels WHERE {sel.doc_in()}"
            " ORDER BY document_id, label"))
        spans = _RowsByDocument(conn.execute(
            "SELECT id, document_id, start, \"end\", label, origin, status, annotator, model,"
            f" fragments FROM spans WHERE {sel.span_ok} AND {sel.doc_in()}"
            " ORDER BY document_id, start"))  # the index's order; ties sorted per document
        claim_rows = _RowsByDocument(conn.execute(
            sel.claims_sql(_CLAIM_COLUMNS) + " ORDER BY c.document_id, c.id")) if claims else None
        for d in docs:
            try:
                doc = ExportDoc(id=d[0], name=d[1], title=d[2], source=d[3], url=d[4], date=d[5],
                                text=d[6], status=d[7], meta=self.meta.load(d[8]))
                doc.labels = [r[0] for r in labels.take(doc.id)]
                doc.spans = [Span(id=r[0], document_id=r[1], start=r[2], end=r[3], label=r[4],
                                  origin=r[5], status=r[6], annotator=r[7], model=r[8],
                                  fragments=load_json(r[9]) if r[9] else None)
                             for r in spans.take(doc.id)]
            except BadJSON as exc:
                raise ExportError(f"cannot export {describe(d[0], d[1])}: {exc}"
                                  " (`python main.py check PROJECT` lists such problems)") from None
            doc.spans.sort(key=_SPAN_ORDER)
            if claim_rows is not None:
                doc.claims = [ExportClaim(*r) for r in claim_rows.take(doc.id)]
            yield doc
            done += 1
            if progress is not None and (done % 50 == 0 or done == total):
                progress(done, total)

    def claims_without_parts(self) -> int:
        """Claims of the selection none of whose parts are exported (left out, reported)."""
        ok = self.sel.span_ok.replace("status", "c.status")
        total = self.conn.execute(
            f"SELECT count(*) FROM claims c WHERE {ok} AND {self.sel.doc_in('c')}").fetchone()[0]
        return total - self.claim_count()

    def claim_count(self) -> int:
        return self.conn.execute(f"SELECT count(*) FROM ({self.sel.claims_sql('c.id')})").fetchone()[0]

    def span_count(self) -> int:
        return self.conn.execute(
            f"SELECT count(*) FROM spans WHERE {self.sel.span_ok} AND {self.sel.doc_in()}").fetchone()[0]

    def claim_links(self) -> dict[int, list[dict[str, Any]]]:
        """Each claim's links, both ways: {"kind", "claim" (the other), "document" (its name),
        "direction" ("out": this claim is the link's first claim, "in": its second)}."""
        out: dict[int, list[dict[str, Any]]] = {}
        for claim, kind, direction, other, document, _link in self.conn.execute(
                "SELECT l.from_claim, l.kind, 'out', l.to_claim, d.name, l.id FROM claim_links l"
                " JOIN claims o ON o.id = l.to_claim JOIN documents d ON d.id = o.document_id"
                " UNION ALL"
                " SELECT l.to_claim, l.kind, 'in', l.from_claim, d.name, l.id FROM claim_links l"
                " JOIN claims o ON o.id = l.from_claim JOIN documents d ON d.id = o.document_id"
                " ORDER BY 6, 3 DESC"):
            out.setdefault(claim, []).append(
                {"kind": kind, "claim": other, "document": document, "direction": direction})
        return out

    def label_kinds(self) -> tuple[set[str], list[str]]:
        """(claim-part labels, document labels of the project in a stable order)."""
        claim = set(CLAIM_LABELS)
        document: list[str] = []
        for name, kind in self.conn.execute("SELECT name, kind FROM labels ORDER BY rowid"):
            if kind == "claim":
                claim.add(name)
            elif kind == "document":
                document.append(name)
        for (name,) in self.conn.execute("SELECT DISTINCT label FROM doc_labels ORDER BY label"):
            if name not in document:
                document.append(name)
        return claim, document


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
