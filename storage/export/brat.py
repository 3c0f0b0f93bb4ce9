"""brat standoff: a folder of texts and .ann files (claims as PolNeAR-style E lines).

One annotator a document: `NAME.txt` + `NAME.ann`, as the brat tool shows them. When some
document carries spans of several annotators (an imported PolNeAR folder, two analysts'
work), every document is written in the layout the brat import reads for that:
`text/NAME.txt` + `attributions/NAME_ANNOTATOR.ann`, one .ann per annotator.
"""
from __future__ import annotations

import re
from pathlib import Path

from annotation.brat import write_ann
from annotation.model import ClaimRecord, SpanRecord
from annotation.progress import Progress
from storage.export.files import Destination, safe_file_name
from storage.export.selection import ExportClaim, ExportDoc, Rows, naming
from storage.export.summary import ExportSummary

_EVENTS = ("Attribution", "Attribution-no-source")
# An annotator's part of a file name: no "_", which separates it from the document's name.
_NOT_IN_ANNOTATOR = re.compile(r"[^A-Za-z0-9.\-]+")
UNATTRIBUTED = "unattributed"  # the .ann of spans that name no annotator


def annotator_file_part(annotator: str | None) -> str:
    part = _NOT_IN_ANNOTATOR.sub("-", annotator or "").strip(".-")
    return part or UNATTRIBUTED


class _Counts:
    def __init__(self) -> None:
        self.suggested = self.graded = self.untied = 0
        self.renamed: set[str | None] = set()


def write(rows: Rows, dest: Destination, summary: ExportSummary, progress: Progress) -> None:
    by_annotator = several_annotators(rows)
    counts = _Counts()
    used: set[str] = {"annotation"}  # keep annotation.txt/.ann apart from annotation.conf
    labels: set[str] = set()
    with dest.folder() as folder:
        if by_annotator:
            (folder / "text").mkdir()
            (folder / "attributions").mkdir()
        for doc in rows.documents(claims=True, progress=progress):
            with naming(doc):
                name = safe_file_name(doc.name or doc.title, doc.id, used)
                if by_annotator:
                    _write_text(folder / "text" / f"{name}.txt", doc.text)
                    for annotator, (spans, claims) in _groups(doc, counts).items():
                        part = annotator_file_part(annotator)
                        if part != annotator:
                            counts.renamed.add(annotator)
                        _write_ann(folder / "attributions" / f"{name}_{part}.ann", doc, spans, claims)
                else:
                    _write_text(folder / f"{name}.txt", doc.text)
                    _write_ann(folder / f"{name}.ann", doc, doc.spans, doc.claims)
            labels.update(s.label for s in doc.spans)
            counts.suggested += sum(1 for s in doc.spans if s.status == "suggested")
            counts.graded += sum(1 for c in doc.claims
                                 if c.credibility is not None or c.reliability is not None or c.stance)
            summary.documents += 1
            summary.spans += len(doc.spans)
            summary.claims += len(doc.claims)
        (folder / "annotation.conf").write_text(_conf(labels), encoding="utf-8")
    if by_annotator:
        summary.not_represented.append(
            "brat: several annotators: written as text/NAME.txt + attributions/NAME_ANNOTATOR.ann")
    summary.note(counts.suggested, f"brat: span status not representable ({counts.suggested} "
                                   "suggested spans written like the others)")
    summary.note(counts.graded, f"brat: grades of {counts.graded} claims (credibility, reliability, "
                                "stance) not written")
    summary.note(counts.untied, f"brat: {counts.untied} claim parts are another annotator's spans: "
                                "left out of their claims' E lines")
    summary.note(len(counts.renamed), f"brat: {len(counts.renamed)} annotator names changed to fit "
                                      f"a file name (no '_'; no name: {UNATTRIBUTED})")


def several_annotators(rows: Rows) -> bool:
    """Whether some exported document holds spans of more than one named annotator (the
    model's suggestions name none: they go with the document's one annotator)."""
    sel = rows.sel
    return rows.conn.execute(
        f"SELECT 1 FROM spans WHERE {sel.span_ok} AND {sel.doc_in()} GROUP BY document_id"
        " HAVING count(DISTINCT annotator) > 1 LIMIT 1").fetchone() is not None


def _groups(doc: ExportDoc, counts: _Counts
            ) -> dict[str | None, tuple[list, list[ExportClaim]]]:
    """The document's spans by annotator; each claim with the spans of its first part."""
    groups: dict[str | None, tuple[list, list[ExportClaim]]] = {}
    owner = {}
    named = {s.annotator for s in doc.spans if s.annotator is not None}
    # Spans that name no annotator (suggestions) belong to the document's one annotator.
    unnamed = next(iter(named)) if len(named) == 1 else None
    for s in doc.spans:
        annotator = s.annotator if s.annotator is not None else unnamed
        groups.setdefault(annotator, ([], []))[0].append(s)
        owner[s.id] = annotator
    for c in doc.claims:
        parts = [sid for sid in c.parts().values() if sid is not None and sid in owner]
        if not parts:
            continue
        annotator = owner[parts[0]]
        counts.untied += sum(1 for sid in parts if owner[sid] != annotator)
        groups[annotator][1].append(c)
    return groups


def _write_text(path: Path, text: str) -> None:
    with open(path, "x", encoding="utf-8", newline="") as f:
        f.write(text)


def _write_ann(path: Path, doc: ExportDoc, spans: list, claims: list[ExportClaim]) -> None:
    records = [SpanRecord(s.start, s.end, s.label, origin=s.origin, status=s.status,
                          annotator=s.annotator, model=s.model,
                          fragments=s.fragments if s.fragments and len(s.fragments) > 1 else None,
                          key=str(s.id)) for s in spans]
    claim_records = [ClaimRecord(content=_key(c.content_span_id), cue=_key(c.cue_span_id),
                                 source=_key(c.source_span_id),
                                 attribution=_key(c.attribution_span_id), origin=c.origin, status=c.status,
                                 annotator=c.annotator, model=c.model, key=str(c.id))
                     for c in claims]
    with open(path, "x", encoding="utf-8", newline="\n") as f:
        f.write(write_ann(doc.text, records, claim_records))


def _key(span_id: int | None) -> str | None:
    return str(span_id) if span_id is not None else None


def _conf(labels: set[str]) -> str:
    """Enough configuration for brat to show the folder: every label, attributions as events."""
    entities = sorted(labels - set(_EVENTS))
    events = [f"{e}\tSource?:<ENTITY>, Cue?:<ENTITY>, Content*:<ENTITY>" for e in _EVENTS]
    return ("[entities]\n" + "".join(f"{e}\n" for e in entities)
            + "\n[relations]\n\n[events]\n" + "\n".join(events) + "\n\n[attributes]\n")
