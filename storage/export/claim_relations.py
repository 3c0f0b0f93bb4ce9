"""A claim's parts as relations between its spans, for formats that hold relations (Label Studio,
doccano): source -> cue -> content, or source -> content when it has no cue."""
from __future__ import annotations

from storage.export.selection import ExportClaim

# Relation labels, named after the two parts they join.
SOURCE_CUE, CUE_CONTENT, SOURCE_CONTENT = "source-cue", "cue-content", "source-content"
RELATION_TYPES = (SOURCE_CUE, CUE_CONTENT, SOURCE_CONTENT)


def part_relations(claim: ExportClaim) -> list[tuple[int, int, str]]:
    """(from span id, to span id, label) for the claim's exported parts, in reading order of the
    attribution: who said it, how, what."""
    parts = claim.parts()
    source, cue, content = parts["source"], parts["cue"], parts["content"]
    out: list[tuple[int, int, str]] = []
    if source is not None and cue is not None:
        out.append((source, cue, SOURCE_CUE))
    if cue is not None and content is not None:
        out.append((cue, content, CUE_CONTENT))
    if source is not None and cue is None and content is not None:
        out.append((source, content, SOURCE_CONTENT))
    return out
