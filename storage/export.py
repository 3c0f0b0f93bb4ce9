"""Export a project: training data (spaCy, Prodigy, doccano, Label Studio, brat, CoNLL) and reports (CSV, JSONL).

`export()` is the one entry point; each format streams rows with one query per table.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from annotation.model import ClaimRecord, SpanRecord
from annotation.progress import Progress, ShouldCancel, reporter
from storage.export_rows import (
    ExportDoc, ExportError, ExportSummary, Selection, atomic_file, atomic_folder, check_destination,
    csv_cell, document_count, iter_documents, report_progress, safe_file_name, snapshot,
    write_csv,
)
from storage.export_spacy import export_conll, export_prodigy, export_spacy
from storage.project import Project

__all__ = ["FORMATS", "ExportError", "ExportSummary", "csv_cell", "export", "safe_file_name",
           "write_csv"]

Writer = Callable[[Project, Selection, Path, ExportSummary, "Progress | None"], None]


def export(project: Project, fmt: str, out: str | os.PathLike, *, only_reviewed: bool = False,
           progress: Progress | None = None,
           should_cancel: ShouldCancel | None = None) -> ExportSummary:
    """Write the project (or only its reviewed work) as `fmt` to `out`, all or nothing.

    Raises ExportError (a ProjectError) for an unknown format or a destination that cannot be written.
    """
    writer = FORMATS.get(fmt)
    if writer is None:
        raise ExportError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    out = Path(out)
    check_destination(out, folder=fmt == "brat")
    sel = Selection(only_reviewed)
    summary = ExportSummary(fmt, out)
    with snapshot(project):
        writer(project, sel, out, summary, reporter(progress, should_cancel, "export cancelled"))
        if fmt in _WRITES_CLAIMS:
            lost = sel.claims_without_parts(project)
            if lost:
                summary.not_represented.append(
                    f"{lost} claims left out: none of their parts is exported"
                    + (" (not accepted)" if only_reviewed else " (rejected)"))
    return summary


# -- span formats without tokens ----------------------------------------------------------------------
def _unreviewed_note(fmt: str, n: int, summary: ExportSummary) -> None:
    if n:
        summary.not_represented.append(
            f"{fmt}: span status not representable ({n} suggested spans written like the others)")


def _hull_note(fmt: str, n: int, summary: ExportSummary) -> None:
    if n:
        summary.not_represented.append(
            f"{fmt}: {n} discontinuous spans written as one span from first to last fragment")


def _claims_note(fmt: str, n: int, summary: ExportSummary, parts: str = "written as spans") -> None:
    if n:
        summary.not_represented.append(f"{fmt}: {n} claims not written as claims (their parts are "
                                       f"{parts}); use claims-csv or claims-jsonl")


def _discontinuous(doc: ExportDoc) -> int:
    return sum(1 for s in doc.spans if s.fragments and len(s.fragments) > 1)


def export_doccano(project: Project, sel: Selection, out: Path, summary: ExportSummary,
                   progress: Progress | None) -> None:
    """doccano sequence labelling JSONL: {"text", "label": [[start, end, label]], "meta"}."""
    total = document_count(project, sel)
    suggested = hulls = claims = 0
    with atomic_file(out, newline="\n") as f:
        for n, doc in enumerate(iter_documents(project, sel, claims=True), start=1):
            row = {"text": doc.text, "label": [[s.start, s.end, s.label] for s in doc.spans],
                   "meta": doc.meta_out()}
            f.write(json.dumps(row, ensure_ascii=False))
            f.write("\n")
            summary.documents += 1
            summary.spans += len(doc.spans)
            suggested += sum(1 for s in doc.spans if s.status == "suggested")
            hulls += _discontinuous(doc)
            claims += len(doc.claims)
            report_progress(progress, n, total)
    _unreviewed_note("doccano", suggested, summary)
    _hull_note("doccano", hulls, summary)
    _claims_note("doccano", claims, summary)


def export_labelstudio(project: Project, sel: Selection, out: Path, summary: ExportSummary,
                       progress: Progress | None) -> None:
    """Label Studio tasks (one JSON array): reviewed spans as annotations, suggestions as predictions."""
    total = document_count(project, sel)
    hulls = claims = 0
    with atomic_file(out, newline="\n") as f:
        f.write("[")
        for n, doc in enumerate(iter_documents(project, sel, claims=True), start=1):
            accepted, suggested = [], []
            models: list[str] = []
            for s in doc.spans:
                item = {"id": f"s{s.id}", "from_name": "label", "to_name": "text", "type": "labels",
                        "origin": "manual" if s.status != "suggested" else "prediction",
                        "value": {"start": s.start, "end": s.end, "text": doc.text[s.start:s.end],
                                  "labels": [s.label]}}
                if s.status == "suggested":
                    suggested.append(item)
                    if s.model and s.model not in models:
                        models.append(s.model)
                else:
                    accepted.append(item)
            task: dict[str, Any] = {"data": {"text": doc.text, **doc.meta_out()}}
            if accepted or doc.status == "done":
                task["annotations"] = [{"result": accepted, "was_cancelled": False,
                                        "ground_truth": False}]
            if suggested:
                task["predictions"] = [{"model_version": ", ".join(models) or "credence",
                                        "result": suggested}]
            if n > 1:
                f.write(",")
            f.write("\n")
            f.write(json.dumps(task, ensure_ascii=False))
            summary.documents += 1
            summary.spans += len(doc.spans)
            hulls += _discontinuous(doc)
            claims += len(doc.claims)
            report_progress(progress, n, total)
        f.write("\n]\n")
    _hull_note("Label Studio", hulls, summary)
    _claims_note("Label Studio", claims, summary)


_BRAT_EVENTS = ("Attribution", "Attribution-no-source")


def export_brat(project: Project, sel: Selection, out: Path, summary: ExportSummary,
                progress: Progress | None) -> None:
    """A folder of NAME.txt + NAME.ann (claims as PolNeAR-style E lines) and an annotation.conf."""
    from annotation.brat import write_ann
    total = document_count(project, sel)
    used: set[str] = {"annotation"}  # keep annotation.txt/.ann apart from annotation.conf
    suggested = graded = 0
    labels: set[str] = set()
    with atomic_folder(out) as folder:
        for n, doc in enumerate(iter_documents(project, sel, claims=True), start=1):
            name = safe_file_name(doc.name or doc.title, doc.id, used)
            spans = [SpanRecord(s.start, s.end, s.label, origin=s.origin, status=s.status,
                                annotator=s.annotator, model=s.model,
                                fragments=s.fragments if s.fragments and len(s.fragments) > 1 else None,
                                key=str(s.id)) for s in doc.spans]
            claims = [ClaimRecord(content=_key(c.content), cue=_key(c.cue), source=_key(c.source),
                                  attribution=_key(c.attribution), origin=c.origin, status=c.status,
                                  annotator=c.annotator, model=c.model, key=str(c.id))
                      for c in doc.claims]
            with open(folder / f"{name}.txt", "w", encoding="utf-8", newline="") as f:
                f.write(doc.text)
            with open(folder / f"{name}.ann", "w", encoding="utf-8", newline="\n") as f:
                f.write(write_ann(doc.text, spans, claims))
            labels.update(s.label for s in doc.spans)
            suggested += sum(1 for s in doc.spans if s.status == "suggested")
            graded += sum(1 for c in doc.claims
                          if c.credibility is not None or c.reliability is not None or c.stance)
            summary.documents += 1
            summary.spans += len(spans)
            summary.claims += len(claims)
            report_progress(progress, n, total)
        (folder / "annotation.conf").write_text(_brat_conf(labels), encoding="utf-8")
    _unreviewed_note("brat", suggested, summary)
    if graded:
        summary.not_represented.append(
            f"brat: grades of {graded} claims (credibility, reliability, stance) not written")


def _key(span_id: int | None) -> str | None:
    return str(span_id) if span_id is not None else None


def _brat_conf(labels: set[str]) -> str:
    """Enough configuration for brat to show the folder: every label, attributions as events."""
    entities = sorted(labels - set(_BRAT_EVENTS))
    events = [f"{e}\tSource?:<ENTITY>, Cue?:<ENTITY>, Content*:<ENTITY>" for e in _BRAT_EVENTS]
    return ("[entities]\n" + "".join(f"{e}\n" for e in entities)
            + "\n[relations]\n\n[events]\n" + "\n".join(events) + "\n\n[attributes]\n")


# -- reports -------------------------------------------------------------------------------------------
_DOC_COLUMNS = ["id", "name", "title", "source", "url", "date", "status", "labels", "spans", "claims"]


def export_docs_csv(project: Project, sel: Selection, out: Path, summary: ExportSummary,
                    progress: Progress | None) -> None:
    """One row per document: identity, status, labels, counts of spans and claims, meta columns."""
    conn = project.conn
    where = sel.doc_where.replace("status", "d.status")
    keys = [r[0] for r in conn.execute(
        f"SELECT j.key FROM documents d, json_each(d.meta) j {where}"
        " GROUP BY j.key ORDER BY min(d.id), min(j.id)")]
    columns = [k if k not in _DOC_COLUMNS else f"meta.{k}" for k in keys]
    n_spans = dict(conn.execute(f"SELECT document_id, count(*) FROM spans WHERE {sel.span_ok}"
                                f" AND {sel.doc_in()} GROUP BY document_id"))
    n_claims = dict(conn.execute(
        f"SELECT document_id, count(*) FROM ({sel.claims_sql('c.document_id AS document_id')})"
        " GROUP BY document_id"))
    total = document_count(project, sel)

    def rows():
        for n, (doc_id, name, title, source, url, date, status, meta, labels) in enumerate(
                conn.execute("SELECT d.id, d.name, d.title, d.source, d.url, d.date, d.status, d.meta,"
                             " (SELECT group_concat(label, '; ') FROM doc_labels l"
                             "  WHERE l.document_id = d.id)"
                             f" FROM documents d {where} ORDER BY d.id"), start=1):
            values = json.loads(meta or "{}")
            spans, claims = n_spans.get(doc_id, 0), n_claims.get(doc_id, 0)
            summary.spans += spans
            summary.claims += claims
            report_progress(progress, n, total)
            yield [doc_id, name, title, source, url, date, status, labels, spans, claims,
                   *(values.get(k) for k in keys)]

    with atomic_file(out, encoding="utf-8-sig") as f:
        summary.documents = write_csv(f, _DOC_COLUMNS + columns, rows())


_CLAIM_SQL_COLUMNS = (
    "c.id, c.document_id, d.name, d.title,"
    " sc.start, sc.\"end\", substr(d.text, sc.start + 1, sc.\"end\" - sc.start),"
    " su.start, su.\"end\", substr(d.text, su.start + 1, su.\"end\" - su.start),"
    " ss.start, ss.\"end\", substr(d.text, ss.start + 1, ss.\"end\" - ss.start),"
    " src.name, src.reliability, c.credibility, c.status, c.origin, c.stance, c.note,"
    " c.annotator, c.model")
_CLAIM_CSV_COLUMNS = [
    "claim_id", "document_id", "document", "title",
    "content_start", "content_end", "content_text", "cue_start", "cue_end", "cue_text",
    "source_start", "source_end", "source_text", "source_name", "reliability", "credibility",
    "status", "origin", "stance", "note", "annotator", "model"]


def _claim_rows(project: Project, sel: Selection, summary: ExportSummary,
                progress: Progress | None):
    """Claims with their parts' offsets and text (SQLite's substr counts code points, as Python does)."""
    sql = sel.claims_sql(_CLAIM_SQL_COLUMNS, " JOIN documents d ON d.id = c.document_id")
    total = project.conn.execute(f"SELECT count(*) FROM ({sel.claims_sql('c.id')})").fetchone()[0]
    docs: set[int] = set()
    for n, row in enumerate(project.conn.execute(sql + " ORDER BY c.document_id, c.id"), start=1):
        row = list(row)
        if row[13] is None and row[12] is not None:
            row[13] = row[12]  # no registry entry: the source as the article names it
        docs.add(row[1])
        summary.claims += 1
        summary.documents = len(docs)
        report_progress(progress, n, total)
        yield row


def export_claims_csv(project: Project, sel: Selection, out: Path, summary: ExportSummary,
                      progress: Progress | None) -> None:
    """One row per claim: article, content / cue / source offsets and text, source name, grades."""
    with atomic_file(out, encoding="utf-8-sig") as f:
        write_csv(f, _CLAIM_CSV_COLUMNS, _claim_rows(project, sel, summary, progress))


def export_claims_jsonl(project: Project, sel: Selection, out: Path, summary: ExportSummary,
                        progress: Progress | None) -> None:
    """One claim a line: document, title, content / cue / source as {start, end, text} or null, grades."""
    def part(a: int | None, b: int | None, text: str | None) -> dict[str, Any] | None:
        return None if a is None else {"start": a, "end": b, "text": text}

    with atomic_file(out, newline="\n") as f:
        for r in _claim_rows(project, sel, summary, progress):
            f.write(json.dumps({
                "document": r[2], "title": r[3], "content": part(*r[4:7]), "cue": part(*r[7:10]),
                "source": part(*r[10:13]), "source_name": r[13], "reliability": r[14],
                "credibility": r[15], "status": r[16], "origin": r[17], "stance": r[18],
                "note": r[19], "claim_id": r[0], "document_id": r[1],
            }, ensure_ascii=False))
            f.write("\n")


FORMATS: dict[str, Writer] = {
    "spacy": export_spacy,
    "prodigy": export_prodigy,
    "doccano": export_doccano,
    "labelstudio": export_labelstudio,
    "brat": export_brat,
    "conll": export_conll,
    "docs-csv": export_docs_csv,
    "claims-csv": export_claims_csv,
    "claims-jsonl": export_claims_jsonl,
}
_WRITES_CLAIMS = {"spacy", "prodigy", "brat", "docs-csv", "claims-csv", "claims-jsonl"}
