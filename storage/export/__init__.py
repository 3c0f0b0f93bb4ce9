"""Export a project: training data (spaCy, Prodigy, doccano, Label Studio, brat, CoNLL) and
reports (documents and claims as CSV or JSONL).

`export()` is the one entry point; `preview()` counts what it would write. The package:

- `registry`    every format: name, title, file suffix, writer (a new format: one module + one line)
- one module per format: `spacy_docbin`, `prodigy`, `doccano`, `labelstudio`, `brat`, `conll`,
  `docs_csv`, `claims` (claims-csv and claims-jsonl)
- `selection`   what an export holds (decided work, or `everything`) and its rows, document by document
- `files`       destinations that cannot hurt the project, work folders, atomic writes, file names
- `tokens`      spaCy's blank English tokenizer, tokens split at span edges, trimmed spans
- `values`      stored JSON read safely, strict JSON out;  `csv_cells`  CSV that never runs formulas
- `parallel`, `worker`  token exports shared out to worker processes (a plain one-process path beside)
- `summary`     ExportSummary and ExportError
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from annotation.progress import Progress, ShouldCancel, reporter, stop_if_cancelled
from storage.export.csv_cells import csv_cell, write_csv
from storage.export.files import Destination, WorkFolder, check_destination, safe_file_name
from storage.export.registry import FORMATS, Format
from storage.export.selection import Rows, Selection, snapshot
from storage.export.summary import ExportError, ExportSummary
from storage.project import Project

__all__ = ["FORMATS", "ExportError", "ExportSummary", "Format", "csv_cell", "export", "preview",
           "safe_file_name", "write_csv"]


def _format(fmt: str) -> Format:
    found = FORMATS.get(fmt)
    if found is None:
        raise ExportError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return found


def _selection(f: Format, everything: bool) -> Selection:
    return Selection(everything=everything, any_status=f.every_document)


def export(project: Project, fmt: str, out: str | os.PathLike, *, everything: bool = False,
           progress: Progress | None = None,
           should_cancel: ShouldCancel | None = None) -> ExportSummary:
    """Write the project as `fmt` to `out`, all or nothing.

    By default what an analyst decided (documents marked done, their accepted spans and
    claims; reports: every document, every accepted claim); `everything` (`--all`) adds every
    document and every suggestion not rejected. Raises ExportError (a ProjectError, one line)
    for an unknown format, a destination it must not write, or a document it cannot write.
    """
    f = _format(fmt)
    out = Path(out)
    check_destination(out, project.path, folder=f.folder)
    stop_if_cancelled(should_cancel, "export cancelled")
    summary = ExportSummary(fmt, out)
    try:
        with WorkFolder(out) as work, snapshot(project):
            rows = Rows(project, _selection(f, everything))
            f.write(rows, Destination(out, work, project.path), summary,
                    reporter(progress, should_cancel, "export cancelled"))
            if f.writes_claims:
                lost = rows.claims_without_parts()
                summary.note(lost, f"{lost} claims left out: none of their parts is exported"
                                   + (" (rejected)" if everything else " (not accepted)"))
    except sqlite3.DatabaseError as exc:
        raise ExportError(f"{project.path}: cannot read the project ({exc}); nothing was "
                          "exported (`python main.py check PROJECT` says more)") from exc
    changed = rows.meta.changed
    summary.note(changed, f"{changed} meta values written differently (NaN or Infinity as null; "
                          "huge integers and deep nesting as text)")
    return summary


def preview(project: Project, fmt: str, *, everything: bool = False) -> ExportSummary:
    """What `export` would write (documents, spans, claims), counted without writing anything."""
    f = _format(fmt)
    summary = ExportSummary(fmt, Path())
    with snapshot(project):
        rows = Rows(project, _selection(f, everything))
        summary.claims = rows.claim_count()
        if f.claims_only:
            summary.documents = project.conn.execute(
                f"SELECT count(DISTINCT document_id) FROM ({rows.sel.claims_sql('c.document_id')})"
            ).fetchone()[0]
        else:
            summary.documents = rows.document_count()
            summary.spans = rows.span_count()
    return summary
