"""Prodigy JSONL: one task a line, {"text", "meta", "tokens", "spans", "claims", "answer"}.

Spans keep their character offsets and get the indices of their first and last token
(inclusive, as Prodigy counts them), found after trimming surrounding whitespace; tokens are
split where a span starts or ends inside one. Large exports are shared out to worker
processes (storage.export.parallel); the file is byte for byte what one process writes.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from annotation.progress import Progress
from storage.export.files import Destination
from storage.export.parallel import Counts, write_parts
from storage.export.selection import ExportDoc, Rows, naming
from storage.export.summary import ExportSummary
from storage.export.tokens import blank_english, tokenize, trim
from storage.export.values import dumps


def task(doc: ExportDoc) -> tuple[dict[str, Any], int]:
    """The document's task, and how many of its spans align to no token (only whitespace)."""
    text = doc.text
    trimmed = [trim(text, s.start, s.end) for s in doc.spans]
    tok = tokenize(text, {edge for t in trimmed if t for edge in t})
    spans = []
    unaligned = 0
    for s, t in zip(doc.spans, trimmed):
        span: dict[str, Any] = {"start": s.start, "end": s.end, "label": s.label}
        if t:
            span["token_start"], span["token_end"] = tok.index(*t)
        else:
            unaligned += 1
        span["status"] = s.status
        span["origin"] = s.origin
        if s.fragments and len(s.fragments) > 1:
            span["fragments"] = s.fragments
        spans.append(span)
    out: dict[str, Any] = {
        "text": text, "meta": doc.meta_out(),
        "tokens": [{"text": text[a:b], "start": a, "end": b, "id": i, "ws": ws}
                   for i, (a, b, ws) in enumerate(zip(tok.starts, tok.ends, tok.spaces))],
        "spans": spans}
    claims = doc.claim_records()
    if claims:
        out["claims"] = claims
    if doc.status == "done":
        out["answer"] = "accept"
    return out, unaligned


class ProdigyParts:
    """Writes the Prodigy lines of a part of the documents (all of them, in one process)."""

    format = "prodigy"
    streamed = True  # parts are copied into the output in order, as they come

    def __init__(self) -> None:
        blank_english()  # a worker makes its tokenizer before it says it is ready

    def write(self, rows: Rows, write: Callable[[str], Any],
              on_document: Callable[[], None]) -> Counts:
        counts = {"documents": 0, "spans": 0, "claims": 0, "unaligned": 0}
        for doc in rows.documents(claims=True):
            with naming(doc):
                line, unaligned = task(doc)
                write(dumps(line) + "\n")
            counts["documents"] += 1
            counts["spans"] += len(line["spans"])
            counts["claims"] += len(line.get("claims", ()))
            counts["unaligned"] += unaligned
            on_document()
        return counts


def write(rows: Rows, dest: Destination, summary: ExportSummary, progress: Progress) -> None:
    with dest.file(newline="\n") as f:
        counts = write_parts(rows, ProdigyParts(), f, dest.work, progress)
    summary.documents += counts.get("documents", 0)
    summary.spans += counts.get("spans", 0)
    summary.claims += counts.get("claims", 0)
    unaligned = counts.get("unaligned", 0)
    summary.note(unaligned, f"Prodigy: spans not aligned to tokens (only whitespace, no token "
                            f"indices): {unaligned}")
