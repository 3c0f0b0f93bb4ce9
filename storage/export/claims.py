"""Claims as reports, one claim a row (CSV) or a line (JSONL): the article, each part's offsets
and text, the source and its reliability, the claim's credibility, status, origin, annotator
and its links to other claims (both ways)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from annotation.progress import Progress
from storage.export.csv_cells import write_csv
from storage.export.files import Destination
from storage.export.selection import CLAIM_EXTRA_FIELDS, Rows
from storage.export.summary import ExportSummary
from storage.export.values import dumps
from storage.sources import candidate_name

# Offsets and text of each part (SQLite's substr counts code points, as Python does).
_SQL_COLUMNS = (
    "c.id, c.document_id, d.name, d.title,"
    " sc.start, sc.\"end\", substr(d.text, sc.start + 1, sc.\"end\" - sc.start),"
    " su.start, su.\"end\", substr(d.text, su.start + 1, su.\"end\" - su.start),"
    " ss.start, ss.\"end\", substr(d.text, ss.start + 1, ss.\"end\" - ss.start),"
    " src.name, src.reliability, c.credibility, c.status, c.origin, c.stance, c.note,"
    " c.annotator, c.model" + "".join(f", c.{f}" for f in CLAIM_EXTRA_FIELDS))
CSV_COLUMNS = [
    "id", "document_id", "document", "title",
    "content_start", "content_end", "content_text", "cue_start", "cue_end", "cue_text",
    "source_start", "source_end", "source_text", "source_name", "reliability", "credibility",
    "status", "origin", "stance", "note", "annotator", "model", *CLAIM_EXTRA_FIELDS, "links"]
_EXTRA = slice(22, 22 + len(CLAIM_EXTRA_FIELDS))  # where the extra fields sit in a row


def _claim_rows(rows: Rows, summary: ExportSummary, progress: Progress) -> Iterator[list[Any]]:
    """Each claim of the selection as the CSV's row, in document order."""
    sql = rows.sel.claims_sql(_SQL_COLUMNS, " JOIN documents d ON d.id = c.document_id")
    total = rows.claim_count()
    links = rows.claim_links()
    documents: set[int] = set()
    for n, row in enumerate(rows.conn.execute(sql + " ORDER BY c.document_id, c.id"), start=1):
        row = list(row)
        if row[13] is None and row[12] is not None:
            # No registry entry: the name the source span proposes (None for "he", "which").
            row[13] = candidate_name(row[12])
        row.append(links.get(row[0], []))
        documents.add(row[1])
        summary.claims += 1
        summary.documents = len(documents)
        if n % 50 == 0 or n == total:
            progress(n, total)
        yield row


def write_csv_file(rows: Rows, dest: Destination, summary: ExportSummary, progress: Progress) -> None:
    """claims-csv: one row per claim; `links` holds the links as JSON."""
    with dest.file(encoding="utf-8-sig") as f:
        write_csv(f, CSV_COLUMNS, _claim_rows(rows, summary, progress))


def _part(start: int | None, end: int | None, text: str | None) -> dict[str, Any] | None:
    return None if start is None else {"start": start, "end": end, "text": text}


def write_jsonl(rows: Rows, dest: Destination, summary: ExportSummary, progress: Progress) -> None:
    """claims-jsonl: one claim a line; content / cue / source as {start, end, text} or null."""
    with dest.file(newline="\n") as f:
        for r in _claim_rows(rows, summary, progress):
            f.write(dumps({
                "document": r[2], "title": r[3], "content": _part(*r[4:7]), "cue": _part(*r[7:10]),
                "source": _part(*r[10:13]), "source_name": r[13], "reliability": r[14],
                "credibility": r[15], "status": r[16], "origin": r[17], "id": r[0],
                "links": r[-1], "annotator": r[20], "stance": r[18], "note": r[19],
                "model": r[21], "document_id": r[1],
                **dict(zip(CLAIM_EXTRA_FIELDS, r[_EXTRA]))}))
            f.write("\n")
