"""doccano JSONL: one document a line. Spans twice, for both of doccano's sequence-labelling
imports: "label" ([start, end, label], the plain JSONL import) and "entities" with "relations"
(the "JSONL(Relation)" import of a project with relation labelling), where each claim's parts
are joined: source -> cue -> content. The document's identity and status in "meta"; with
`--all`, each span's status in "span_status"."""
from __future__ import annotations

from typing import Any

from annotation.progress import Progress
from storage.export.claim_relations import part_relations
from storage.export.files import Destination
from storage.export.selection import ExportDoc, Rows, naming
from storage.export.summary import ExportSummary
from storage.export.values import dumps


def line(doc: ExportDoc) -> tuple[dict[str, Any], int]:
    """The document's JSON object, and how many of its claims have a relation."""
    entity_of = {s.id: i for i, s in enumerate(doc.spans)}
    entities = [{"id": i, "start_offset": s.start, "end_offset": s.end, "label": s.label}
                for i, s in enumerate(doc.spans)]
    relations: list[dict[str, Any]] = []
    related = 0
    for claim in doc.claims:
        pairs = [(entity_of[a], entity_of[b], label) for a, b, label in part_relations(claim)
                 if a in entity_of and b in entity_of]
        related += bool(pairs)
        relations += [{"id": len(relations) + i, "from_id": a, "to_id": b, "type": label}
                      for i, (a, b, label) in enumerate(pairs)]
    return ({"text": doc.text, "label": [[s.start, s.end, s.label] for s in doc.spans],
             "entities": entities, "relations": relations, "meta": doc.meta_out()}, related)


def write(rows: Rows, dest: Destination, summary: ExportSummary, progress: Progress) -> None:
    """One document a line; with `--all`, each span's status in "span_status", parallel to
    "label" (doccano keeps other keys as the example's metadata)."""
    everything = rows.sel.everything
    hulls = 0
    with dest.file(newline="\n") as f:
        for doc in rows.documents(claims=True, progress=progress):
            with naming(doc):
                obj, related = line(doc)
                if everything:
                    obj["span_status"] = [s.status for s in doc.spans]
                f.write(dumps(obj))
                f.write("\n")
            summary.documents += 1
            summary.spans += len(doc.spans)
            summary.claims += related
            hulls += sum(1 for s in doc.spans if s.fragments and len(s.fragments) > 1)
    summary.note(hulls, f"doccano: {hulls} discontinuous spans written as one span from first to "
                        "last fragment")
    summary.note(summary.claims, f"doccano: grades and links of {summary.claims} claims not "
                                 "representable (their parts are joined by relations; "
                                 "claims-jsonl holds them)")
