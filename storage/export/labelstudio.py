"""Label Studio tasks (one JSON array): accepted spans as annotations, suggestions as predictions,
and each claim's parts joined by relations (source -> cue -> content) in the same result list."""
from __future__ import annotations

from typing import Any

from annotation.progress import Progress
from storage.export.claim_relations import part_relations
from storage.export.files import Destination
from storage.export.selection import ExportDoc, Rows, naming
from storage.export.summary import ExportSummary
from storage.export.values import dumps


def region_id(span_id: int) -> str:
    return f"s{span_id}"


def task(doc: ExportDoc, counts: dict[str, int] | None = None) -> dict[str, Any]:
    """One task: the text and identity in "data"; reviewed spans as the annotation, suggested
    spans (with `--all`) as a prediction of the models that made them; a claim's parts joined
    by relations ({"type": "relation", "from_id", "to_id", "direction", "labels"}) where both
    ends are in the same result list."""
    accepted: list[dict[str, Any]] = []
    suggested: list[dict[str, Any]] = []
    models: list[str] = []
    where: dict[int, list[dict[str, Any]]] = {}
    for s in doc.spans:
        item = {"id": region_id(s.id), "from_name": "label", "to_name": "text", "type": "labels",
                "origin": "manual" if s.status != "suggested" else "prediction",
                "value": {"start": s.start, "end": s.end, "text": doc.text[s.start:s.end],
                          "labels": [s.label]}}
        if s.status == "suggested":
            suggested.append(item)
            where[s.id] = suggested
            if s.model and s.model not in models:
                models.append(s.model)
        else:
            accepted.append(item)
            where[s.id] = accepted
    for claim in doc.claims:
        related = False
        for a, b, label in part_relations(claim):
            if a not in where or b not in where:
                continue
            if where[a] is not where[b]:  # one part reviewed, the other still a suggestion
                if counts is not None:
                    counts["split"] = counts.get("split", 0) + 1
                continue
            where[a].append({"from_id": region_id(a), "to_id": region_id(b), "type": "relation",
                             "direction": "right", "labels": [label]})
            related = True
            if counts is not None:
                counts["relations"] = counts.get("relations", 0) + 1
        if related and counts is not None:
            counts["claims"] = counts.get("claims", 0) + 1
    out: dict[str, Any] = {"data": {"text": doc.text, **doc.meta_out()}}
    if accepted or doc.status == "done":
        out["annotations"] = [{"result": accepted, "was_cancelled": False, "ground_truth": False}]
    if suggested:
        out["predictions"] = [{"model_version": ", ".join(models) or "credence", "result": suggested}]
    return out


def write(rows: Rows, dest: Destination, summary: ExportSummary, progress: Progress) -> None:
    hulls = 0
    counts: dict[str, int] = {}
    with dest.file(newline="\n") as f:
        f.write("[")
        for doc in rows.documents(claims=True, progress=progress):
            with naming(doc):
                line = dumps(task(doc, counts))
            f.write("\n" if summary.documents == 0 else ",\n")
            f.write(line)
            summary.documents += 1
            summary.spans += len(doc.spans)
            hulls += sum(1 for s in doc.spans if s.fragments and len(s.fragments) > 1)
        f.write("\n]\n")
    summary.claims = counts.get("claims", 0)
    summary.note(hulls, f"Label Studio: {hulls} discontinuous spans written as one span from first "
                        "to last fragment")
    split = counts.get("split", 0)
    summary.note(split, f"Label Studio: {split} claim relations left out (one part reviewed, the "
                        "other a suggestion: results and predictions are separate lists)")
    summary.note(summary.claims, f"Label Studio: grades and links of {summary.claims} claims not "
                                 "representable (their parts are joined by relations; "
                                 "claims-jsonl holds them)")
