"""Label Studio tasks (one JSON array): accepted spans as annotations, suggestions as predictions."""
from __future__ import annotations

from typing import Any

from annotation.progress import Progress
from storage.export.files import Destination
from storage.export.selection import ExportDoc, Rows, naming
from storage.export.summary import ExportSummary
from storage.export.values import dumps


def task(doc: ExportDoc) -> dict[str, Any]:
    """One task: the text and identity in "data"; reviewed spans as the annotation, suggested
    spans (with `--all`) as a prediction of the models that made them."""
    accepted: list[dict[str, Any]] = []
    suggested: list[dict[str, Any]] = []
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
    out: dict[str, Any] = {"data": {"text": doc.text, **doc.meta_out()}}
    if accepted or doc.status == "done":
        out["annotations"] = [{"result": accepted, "was_cancelled": False, "ground_truth": False}]
    if suggested:
        out["predictions"] = [{"model_version": ", ".join(models) or "credence", "result": suggested}]
    return out


def write(rows: Rows, dest: Destination, summary: ExportSummary, progress: Progress) -> None:
    hulls = claims = 0
    with dest.file(newline="\n") as f:
        f.write("[")
        for doc in rows.documents(claims=True, progress=progress):
            with naming(doc):
                line = dumps(task(doc))
            f.write("\n" if summary.documents == 0 else ",\n")
            f.write(line)
            summary.documents += 1
            summary.spans += len(doc.spans)
            hulls += sum(1 for s in doc.spans if s.fragments and len(s.fragments) > 1)
            claims += len(doc.claims)
        f.write("\n]\n")
    summary.note(hulls, f"Label Studio: {hulls} discontinuous spans written as one span from first "
                        "to last fragment")
    summary.note(claims, f"Label Studio: {claims} claims not written as claims (their parts are "
                         "written as spans); use claims-csv or claims-jsonl")
