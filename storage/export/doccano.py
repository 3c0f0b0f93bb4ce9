"""doccano sequence labelling JSONL: one document a line, {"text", "label", "meta"}."""
from __future__ import annotations

from annotation.progress import Progress
from storage.export.files import Destination
from storage.export.selection import Rows, naming
from storage.export.summary import ExportSummary
from storage.export.values import dumps


def write(rows: Rows, dest: Destination, summary: ExportSummary, progress: Progress) -> None:
    """Spans as [start, end, label]; the document's identity and status in "meta"; with
    `--all`, each span's status in "span_status", parallel to "label" (doccano keeps other
    keys as the example's metadata)."""
    everything = rows.sel.everything
    hulls = claims = 0
    with dest.file(newline="\n") as f:
        for doc in rows.documents(claims=True, progress=progress):
            with naming(doc):
                line = {"text": doc.text, "label": [[s.start, s.end, s.label] for s in doc.spans],
                        "meta": doc.meta_out()}
                if everything:
                    line["span_status"] = [s.status for s in doc.spans]
                f.write(dumps(line))
                f.write("\n")
            summary.documents += 1
            summary.spans += len(doc.spans)
            hulls += sum(1 for s in doc.spans if s.fragments and len(s.fragments) > 1)
            claims += len(doc.claims)
    summary.note(hulls, f"doccano: {hulls} discontinuous spans written as one span from first to "
                        "last fragment")
    summary.note(claims, f"doccano: {claims} claims not written as claims (their parts are written "
                         "as spans); use claims-csv or claims-jsonl")

