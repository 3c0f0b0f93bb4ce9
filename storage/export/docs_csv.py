"""One CSV row per document: identity, status, labels, counts of spans and claims, meta columns."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from annotation.progress import Progress
from storage.export.csv_cells import write_csv
from storage.export.files import Destination
from storage.export.selection import Rows, describe
from storage.export.summary import ExportError, ExportSummary
from storage.export.values import BadJSON, MetaReader

COLUMNS = ["id", "name", "title", "source", "url", "date", "status", "labels", "spans", "claims"]


def write(rows: Rows, dest: Destination, summary: ExportSummary, progress: Progress) -> None:
    conn, sel = rows.conn, rows.sel
    keys = _meta_keys(rows)
    n_spans = dict(conn.execute(f"SELECT document_id, count(*) FROM spans WHERE {sel.span_ok}"
                                f" AND {sel.doc_in()} GROUP BY document_id"))
    n_claims = dict(conn.execute(
        f"SELECT document_id, count(*) FROM ({sel.claims_sql('c.document_id AS document_id')})"
        " GROUP BY document_id"))
    total = rows.document_count()

    def lines() -> Iterator[list[Any]]:
        for n, (doc_id, name, title, source, url, date, status, meta, labels) in enumerate(conn.execute(
                "SELECT d.id, d.name, d.title, d.source, d.url, d.date, d.status, d.meta,"
                " (SELECT group_concat(label, '; ') FROM"
                "  (SELECT label FROM doc_labels l WHERE l.document_id = d.id ORDER BY label))"
                f" FROM documents d {sel.doc_where} ORDER BY d.id"), start=1):
            values = _meta(rows.meta, meta, doc_id, name)
            spans, claims = n_spans.get(doc_id, 0), n_claims.get(doc_id, 0)
            summary.spans += spans
            summary.claims += claims
            if n % 50 == 0 or n == total:
                progress(n, total)
            yield [doc_id, name, title, source, url, date, status, labels, spans, claims,
                   *(values.get(k) if isinstance(values, dict) else None for k in keys)]

    with dest.file(encoding="utf-8-sig") as f:
        summary.documents = write_csv(f, COLUMNS + [k if k not in COLUMNS else f"meta.{k}"
                                                    for k in keys], lines())


def _meta(reader: MetaReader, text: str | None, doc_id: int, name: str | None) -> Any:
    try:
        return reader.load(text)
    except BadJSON as exc:
        raise ExportError(f"cannot export {describe(doc_id, name)}: {exc}") from None


def _meta_keys(rows: Rows) -> list[str]:
    """Every meta key of the selection's documents, in order of first appearance."""
    keys: dict[str, None] = {}
    reader = MetaReader()  # a pass of its own: the rows' reader counts each change once
    for doc_id, name, meta in rows.conn.execute(
            f"SELECT id, name, meta FROM documents {rows.sel.doc_where} ORDER BY id"):
        values = _meta(reader, meta, doc_id, name)
        if isinstance(values, dict):
            keys.update(dict.fromkeys(values))
    return list(keys)
