"""A scripted analyst for the learning tests and bench/bench_learning.py: reviews an article by
gold annotations through the storage API (storage/review.py), as an analyst in the app would.

Claims: a suggested claim whose cue matches a gold cue (overlap of half the longer span) is
accepted, its parts first set to the gold ones where they differ; other suggested claims are
rejected; gold attributions no suggestion found are created. A gold part in several pieces
(`“…,” he said, “…”`) is marked in its pieces, so a project reviewed by the gold holds what
importing the gold would (the same decided data for training). Entities: by default
every suggestion is accepted (PolNeAR has no entity gold); `entity_fixes` decides them
instead. Then the article is marked done.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from annotation.claim_model import Attribution
from annotation.model import CLAIM_LABELS, CLAIM_PART_COLUMNS
from annotation.scoring import pieces, spans_match
from storage.review import Review

Range = tuple[int, int]
Pieces = tuple[Range, ...]


@dataclass
class ReviewCounts:
    accepted: int = 0
    corrected: int = 0  # accepted after setting a part to the gold one
    rejected: int = 0
    created: int = 0
    entity_decisions: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    def add(self, other: ReviewCounts) -> None:
        for k in ("accepted", "corrected", "rejected", "created", "entity_decisions"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        for k, v in other.by_kind.items():
            self.by_kind[k] = self.by_kind.get(k, 0) + v


def part_pieces(part) -> Pieces | None:
    """A gold part as the analyst marks it: its pieces in text order (None when absent)."""
    if not part:
        return None
    return tuple(sorted((int(a), int(b)) for a, b in part))


def review_claims_by_gold(review: Review, doc_id: int, gold: list[Attribution]) -> ReviewCounts:
    """Decide every suggested claim of one article by the gold attributions; create the missed."""
    project = review.project
    counts = ReviewCounts()
    targets = []
    for att in gold:
        t = {role: part_pieces(att.part(role.lower())) for role in ("Cue", "Source", "Content")}
        if t["Content"] is not None or t["Cue"] is not None:
            targets.append(t)  # as the gold has it: a cue without content, a content without cue
    used: set[int] = set()
    for claim in project.claims(doc_id):
        if claim.status != "suggested":
            continue
        cue = project.span(claim.cue_span_id) if claim.cue_span_id else None
        match = None
        if cue is not None:
            match = next((i for i, t in enumerate(targets) if i not in used and t["Cue"]
                          and spans_match(pieces(cue.start, cue.end, cue.fragments),
                                          list(t["Cue"]))), None)
        if match is None:
            review.reject_claim(claim.id)
            counts.rejected += 1
            continue
        used.add(match)
        fixed = False
        for role in ("Cue", "Source", "Content"):
            sid = getattr(claim, CLAIM_PART_COLUMNS[role])
            now = project.span(sid) if sid else None
            want = targets[match][role]
            current = tuple(pieces(now.start, now.end, now.fragments)) if now else None
            if current != want:
                review.set_claim_part(claim.id, role, want)
                fixed = True
        review.accept_claim(claim.id)
        counts.accepted += 1
        counts.corrected += fixed
    for i, t in enumerate(targets):
        if i not in used:
            review.create_claim(doc_id, t["Content"], t["Cue"], t["Source"])
            counts.created += 1
    return counts


def review_entities(review: Review, doc_id: int,
                    fixes: Callable[[str, list], tuple[list, list, list]] | None = None) -> ReviewCounts:
    """Decide the entity suggestions of one article: all accepted, or as `fixes(text, spans)`
    says: (accept ids, [(id, label)] to relabel, ids to reject) and [(start, end, label)] to create."""
    project = review.project
    counts = ReviewCounts()
    spans = [s for s in project.spans(doc_id, statuses=["suggested"]) if s.label not in CLAIM_LABELS]
    if fixes is None:
        if spans:
            review.accept([s.id for s in spans])
            counts.entity_decisions += len(spans)
        return counts
    accept, relabel, reject, create = fixes(project.document_text(doc_id), spans)
    if reject:
        review.reject(reject)
    for sid, label in relabel:
        review.relabel(sid, label)
    if accept:
        review.accept(accept)
    for start, end, label in create:
        review.create_span(doc_id, start, end, label)
    counts.entity_decisions += len(accept) + len(relabel) + len(reject) + len(create)
    counts.by_kind = {"relabel": len(relabel), "reject": len(reject), "create": len(create)}
    return counts


def finish(review: Review, doc_id: int) -> None:
    review.set_document_status(doc_id, "done", resolve="reject")
