"""Records that cross layers: documents, spans, claims, sources (plain dataclasses)."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

SPAN_ORIGINS = ("model", "analyst", "import")
SPAN_STATUSES = ("suggested", "accepted", "rejected")
DOC_STATUSES = ("new", "in review", "done")
RELIABILITY = {
    "A": "completely reliable",
    "B": "usually reliable",
    "C": "fairly reliable",
    "D": "not usually reliable",
    "E": "unreliable",
    "F": "reliability cannot be judged",
}
CREDIBILITY = {
    1: "confirmed by other sources",
    2: "probably true",
    3: "possibly true",
    4: "doubtful",
    5: "improbable",
    6: "truth cannot be judged",
}
# How two claims in different articles relate. supports / contradicts / same claim weigh as
# evidence on each other's credibility; "cites" says one report repeats the other (so the two
# are not independent of each other).
LINK_KINDS = ("supports", "contradicts", "same claim", "cites")
# A claim's stance: how its source commits to the content (event factuality, as FactBank grades
# it). Corroboration needs exactly this: a denial of the same claim contradicts it, and a hedged
# report confirms less than an assertion.
STANCES = {
    "asserts": "the source states it as fact",
    "denies": "the source says it is not so",
    "hedges": "the source reports it as possible, alleged or unconfirmed",
}
# Labels of the parts of an attribution (PolNeAR / brat naming), kept apart from entities.
CLAIM_ROLES = ("Source", "Cue", "Content")
CLAIM_LABELS = CLAIM_ROLES + ("Attribution",)
# The one place that says which column of `claims` holds which part's span (table order).
CLAIM_PART_COLUMNS = {"Content": "content_span_id", "Cue": "cue_span_id",
                      "Source": "source_span_id", "Attribution": "attribution_span_id"}


@dataclass
class SpanRecord:
    """A span to store: offsets are code points, end-exclusive, into the document's text."""
    start: int
    end: int
    label: str
    origin: str = "model"
    status: str = "suggested"
    annotator: str | None = None
    model: str | None = None
    # Discontinuous spans (brat "a b;c d"): list of [start, end]; start/end are their hull.
    fragments: list[list[int]] | None = None
    key: str | None = None  # importer-local id (e.g. brat "T3"), to tie claims together


@dataclass
class ClaimRecord:
    """A claim to store, referring to spans of the same record by their `key`."""
    content: str | None
    cue: str | None = None
    source: str | None = None
    attribution: str | None = None
    origin: str = "model"
    status: str = "suggested"
    annotator: str | None = None
    model: str | None = None
    key: str | None = None


@dataclass
class NewDocument:
    """One article as an importer read it, before it is stored."""
    raw_text: str
    name: str | None = None
    title: str | None = None
    source: str | None = None
    url: str | None = None
    date: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    spans: list[SpanRecord] = field(default_factory=list)
    claims: list[ClaimRecord] = field(default_factory=list)
    # None: the importer's default for its format; spans force it off.
    normalise: bool | None = None


@dataclass
class Span:
    id: int
    document_id: int
    start: int
    end: int
    label: str
    origin: str
    status: str
    annotator: str | None = None
    model: str | None = None
    fragments: list[list[int]] | None = None


@dataclass
class Document:
    id: int
    name: str | None
    title: str | None
    source: str | None
    url: str | None
    date: str | None
    raw_text: str
    text: str
    content_hash: str
    offset_map: list[list[int]]
    status: str
    meta: dict[str, Any]


@dataclass
class Source:
    id: int
    name: str
    norm_name: str
    aliases: list[str]
    reliability: str | None
    note: str | None


@dataclass
class Claim:
    id: int
    document_id: int
    content_span_id: int | None
    cue_span_id: int | None
    source_span_id: int | None
    attribution_span_id: int | None
    source_id: int | None
    credibility: int | None
    stance: str | None
    note: str | None
    origin: str
    status: str
    annotator: str | None = None
    model: str | None = None

    def part_id(self, role: str) -> int | None:
        """The span id of one part ("Source", "Cue", "Content" or "Attribution")."""
        return getattr(self, CLAIM_PART_COLUMNS[role])

    def part_ids(self) -> list[int]:
        """The span ids of the parts this claim has, content first."""
        return [i for i in (self.content_span_id, self.cue_span_id, self.source_span_id,
                            self.attribution_span_id) if i is not None]


# The columns of `spans` and `claims` read into `Span` and `Claim`, in field order: a new
# claim field is a migration plus a dataclass field; every reader follows.
SPAN_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Span))
CLAIM_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Claim))
