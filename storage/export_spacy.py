"""Exports that need tokens: spaCy DocBin, Prodigy JSONL and CoNLL IOB2."""
from __future__ import annotations

import contextlib
import json
import re
from bisect import bisect_right
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from annotation.model import Span
from storage.export_rows import (
    ExportDoc, ExportSummary, Selection, atomic_file, document_count, iter_documents, label_kinds,
    report_progress,
)
from storage.project import ProgressCallback, Project


@lru_cache(maxsize=1)
def blank_nlp():
    """A blank English pipeline: its tokenizer is all that writing training data needs."""
    import spacy
    return spacy.blank("en")


@contextlib.contextmanager
def _msgpack_extensions_looked_up_once():
    """srsly searches every installed package's entry points for msgpack extensions on each
    pack (about 1 ms, several times a document: most of a DocBin export). Look once per export."""
    import srsly.msgpack as sm
    registry = sm.msgpack_encoders
    if "get_all" in vars(registry):  # another export already holds the snapshot
        yield
        return
    found = registry.get_all()

    def get_all() -> dict[str, Any]:
        return dict(found)

    registry.get_all = get_all  # an instance attribute shadows the method for this export only
    try:
        yield
    finally:
        if vars(registry).get("get_all") is get_all:
            del registry.get_all


def trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The piece without surrounding whitespace (spaCy will not train on entities edged by it)."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def pieces(span: Span) -> list[tuple[int, int]]:
    """A span's contiguous parts: its fragments when discontinuous, else the span itself."""
    if span.fragments and len(span.fragments) > 1:
        return [(a, b) for a, b in span.fragments]
    return [(span.start, span.end)]


class Tokens:
    """The blank tokenizer's tokens, split further wherever a span starts or ends inside one,
    so that every span lines up with token boundaries and none has to be widened or dropped."""

    def __init__(self, text: str, cuts: set[int]):
        from spacy.attrs import IDX, LENGTH, SPACY
        self.text = text
        self._doc = blank_nlp().make_doc(text)
        # Whole columns at once: creating a Token object per token costs more than tokenizing.
        idx, length, space = (self._doc.to_array([IDX, LENGTH, SPACY]).T.tolist()
                              if len(self._doc) else ([], [], []))
        cut_list = sorted(cuts)
        words: list[str] = []
        spaces: list[bool] = []
        starts: list[int] = []
        self.split = 0
        n_cuts = len(cut_list)
        i = 0  # tokens and cuts are both in text order: walk them together
        for pos, n, ws in zip(idx, length, space):
            end = pos + n
            while i < n_cuts and cut_list[i] <= pos:
                i += 1
            while i < n_cuts and cut_list[i] < end:
                cut = cut_list[i]
                words.append(text[pos:cut])
                spaces.append(False)
                starts.append(pos)
                pos = cut
                i += 1
                self.split += 1
            words.append(text[pos:end])
            spaces.append(bool(ws))
            starts.append(pos)
        self.words = words
        self.spaces = spaces
        self.starts = starts

    def index(self, start: int, end: int) -> tuple[int, int]:
        """Token indices (first, last inclusive) covering characters start..end."""
        return bisect_right(self.starts, start) - 1, bisect_right(self.starts, end - 1) - 1

    def doc(self):
        """A spaCy Doc of these tokens (the tokenizer's own when nothing had to be split)."""
        if not self.split:
            return self._doc
        from spacy.tokens import Doc
        return Doc(blank_nlp().vocab, words=self.words, spaces=self.spaces)


def _claim_record(doc: ExportDoc, by_id: dict[int, Span]) -> Iterator[dict[str, Any]]:
    """Claims with their parts as character offsets, for formats with room for free data."""
    for c in doc.claims:
        parts = {}
        for role, sid in (("content", c.content), ("cue", c.cue), ("source", c.source),
                          ("attribution", c.attribution)):
            s = by_id.get(sid) if sid is not None else None
            parts[role] = [s.start, s.end] if s is not None else None
        yield {"id": c.id, **parts, "source_name": c.source_name or _source_text(doc, by_id, c.source),
               "reliability": c.reliability, "credibility": c.credibility, "stance": c.stance,
               "status": c.status, "origin": c.origin}


def _source_text(doc: ExportDoc, by_id: dict[int, Span], sid: int | None) -> str | None:
    s = by_id.get(sid) if sid is not None else None
    return doc.text[s.start:s.end] if s is not None else None


class _Cuts:
    """Span pieces trimmed of whitespace, and the tallies of what trimming changed."""

    def __init__(self) -> None:
        self.trimmed = 0
        self.blank = 0
        self.discontinuous = 0
        self.fragments = 0

    def of(self, doc: ExportDoc) -> tuple[list[tuple[Span, list[tuple[int, int]]]], set[int]]:
        out = []
        cuts: set[int] = set()
        for s in doc.spans:
            ps = pieces(s)
            if len(ps) > 1:
                self.discontinuous += 1
                self.fragments += len(ps)
            kept = []
            for a, b in ps:
                t = trim(doc.text, a, b)
                if t is None:
                    continue
                if t != (a, b):
                    self.trimmed += 1
                kept.append(t)
                cuts.update(t)
            if not kept:
                self.blank += 1
            out.append((s, kept))
        return out, cuts

    def notes(self, fmt: str, summary: ExportSummary) -> None:
        if self.blank:
            summary.not_represented.append(f"{fmt}: {self.blank} spans of only whitespace dropped")
        if self.trimmed:
            summary.not_represented.append(
                f"{fmt}: {self.trimmed} spans trimmed of surrounding whitespace")
        if self.discontinuous:
            summary.not_represented.append(
                f"{fmt}: {self.discontinuous} discontinuous spans written as "
                f"{self.fragments} separate fragments")


def export_spacy(project: Project, sel: Selection, out: Path, summary: ExportSummary,
                 progress: ProgressCallback | None) -> None:
    """DocBin: entities in doc.ents (no overlaps), every span in doc.spans["sc"], labels in cats."""
    from spacy.tokens import DocBin
    from spacy.tokens import Span as SpacySpan
    from spacy.util import filter_spans
    claim_labels, doc_labels = label_kinds(project)
    total = document_count(project, sel)
    docbin = DocBin(store_user_data=True)
    cuts = _Cuts()
    overlapping = unaligned = 0
    with _msgpack_extensions_looked_up_once():
        for n, edoc in enumerate(iter_documents(project, sel, claims=True), start=1):
            spans, cut_set = cuts.of(edoc)
            tok = Tokens(edoc.text, cut_set)
            doc = tok.doc()
            sc, claim_parts, ents, status, ids = [], [], [], [], []
            for s, ps in spans:
                written = False
                for a, b in ps:
                    first, last = tok.index(a, b)
                    if tok.starts[first] == a and tok.starts[last] + len(tok.words[last]) == b:
                        span = SpacySpan(doc, first, last + 1, label=s.label)
                    else:  # cannot happen with the cuts; widen rather than lose the span
                        span = doc.char_span(a, b, label=s.label, alignment_mode="expand")
                    if span is None:
                        continue
                    written = True
                    sc.append(span)
                    status.append(s.status)
                    ids.append(s.id)
                    if s.label in claim_labels:
                        claim_parts.append(span)
                    else:
                        ents.append(span)
                if written:
                    summary.spans += 1
                elif ps:
                    unaligned += 1
            kept = filter_spans(ents)
            overlapping += len(ents) - len(kept)
            doc.ents = kept
            doc.spans["sc"] = sc
            if claim_parts:
                doc.spans["claims"] = claim_parts
            if doc_labels:
                have = set(edoc.labels)
                doc.cats = {lab: 1.0 if lab in have else 0.0 for lab in doc_labels}
            by_id = {s.id: s for s in edoc.spans}
            claims = list(_claim_record(edoc, by_id))
            summary.claims += len(claims)
            doc.user_data.update({
                "name": edoc.name, "title": edoc.title, "source": edoc.source, "date": edoc.date,
                "url": edoc.url, "document_id": edoc.id, "status": edoc.status, "meta": edoc.meta,
                # Parallel to doc.spans["sc"]: where each span came from and its review status.
                "span_ids": ids, "span_status": status, "claims": claims,
            })
            docbin.add(doc)
            summary.documents += 1
            report_progress(progress, n, total)
        data = docbin.to_bytes()
    with atomic_file(out, binary=True) as f:
        f.write(data)
    cuts.notes("spaCy", summary)
    if out.suffix != ".spacy":
        summary.not_represented.append(
            f"spaCy: `spacy train` only reads files ending in .spacy: rename {out.name}")
    if unaligned:
        summary.not_represented.append(f"spaCy: spans not aligned to tokens: {unaligned}")
    if overlapping:
        summary.not_represented.append(
            f"spaCy: {overlapping} overlapping entity spans left out of doc.ents "
            "(all spans are in doc.spans['sc'])")


def export_prodigy(project: Project, sel: Selection, out: Path, summary: ExportSummary,
                   progress: ProgressCallback | None) -> None:
    """One task a line: text, tokens, spans with token indices (inclusive end), answer, meta."""
    total = document_count(project, sel)
    unaligned = 0
    with atomic_file(out, newline="\n") as f:
        for n, doc in enumerate(iter_documents(project, sel, claims=True), start=1):
            cut_set = set()
            trimmed = {}
            for s in doc.spans:
                t = trim(doc.text, s.start, s.end)
                trimmed[s.id] = t
                if t:
                    cut_set.update(t)
            tok = Tokens(doc.text, cut_set)
            spans = []
            for s in doc.spans:
                item: dict[str, Any] = {"start": s.start, "end": s.end, "label": s.label}
                t = trimmed[s.id]
                if t is not None:
                    item["token_start"], item["token_end"] = tok.index(*t)
                else:
                    unaligned += 1
                item["status"] = s.status
                item["origin"] = s.origin
                if s.fragments and len(s.fragments) > 1:
                    item["fragments"] = s.fragments
                spans.append(item)
            task: dict[str, Any] = {
                "text": doc.text,
                "meta": doc.meta_out(),
                "tokens": [{"text": w, "start": a, "end": a + len(w), "id": i, "ws": ws}
                           for i, (w, a, ws) in enumerate(zip(tok.words, tok.starts, tok.spaces))],
                "spans": spans,
            }
            by_id = {s.id: s for s in doc.spans}
            claims = list(_claim_record(doc, by_id))
            if claims:
                task["claims"] = claims
            if doc.status == "done":
                task["answer"] = "accept"
            f.write(json.dumps(task, ensure_ascii=False))
            f.write("\n")
            summary.documents += 1
            summary.spans += len(spans)
            summary.claims += len(claims)
            report_progress(progress, n, total)
    if unaligned:
        summary.not_represented.append(
            f"Prodigy: spans not aligned to tokens (only whitespace, no token indices): {unaligned}")


def export_conll(project: Project, sel: Selection, out: Path, summary: ExportSummary,
                 progress: ProgressCallback | None) -> None:
    """CoNLL IOB2: token TAB tag, a blank line between sentences; one layer, so no overlaps."""
    claim_labels, _ = label_kinds(project)
    total = document_count(project, sel)
    cuts = _Cuts()
    dropped = dropped_docs = claim_parts = 0
    with atomic_file(out, newline="\n") as f:
        for n, edoc in enumerate(iter_documents(project, sel), start=1):
            entities = [s for s in edoc.spans if s.label not in claim_labels]
            claim_parts += len(edoc.spans) - len(entities)
            edoc.spans = entities
            spans, cut_set = cuts.of(edoc)
            kept, lost = _non_overlapping(spans)
            if lost:
                dropped += lost
                dropped_docs += 1
            tok = Tokens(edoc.text, cut_set)
            tags = ["O"] * len(tok.words)
            for s, ps in kept:
                for a, b in ps:
                    first, last = tok.index(a, b)
                    tags[first] = f"B-{s.label}"
                    for i in range(first + 1, last + 1):
                        tags[i] = f"I-{s.label}"
            summary.spans += len(kept)
            f.write("-DOCSTART-\tO\n\n")
            lines = _conll_lines(tok.words, tags)
            f.write("\n".join(lines))
            f.write("\n" if lines else "")
            summary.documents += 1
            report_progress(progress, n, total)
    if dropped:
        summary.not_represented.append(
            f"CoNLL: dropped {dropped} overlapping spans in {dropped_docs} documents")
    if claim_parts:
        summary.not_represented.append(
            f"CoNLL: {claim_parts} claim-part spans (Source/Cue/Content/Attribution) excluded")
    cuts.notes("CoNLL", summary)


def _non_overlapping(spans: list[tuple[Span, list[tuple[int, int]]]]
                     ) -> tuple[list[tuple[Span, list[tuple[int, int]]]], int]:
    """Keep the longest spans first, then the earliest; whatever overlaps a kept one is dropped."""
    candidates = [(s, ps) for s, ps in spans if ps]
    order = sorted(candidates, key=lambda x: (-sum(b - a for a, b in x[1]), x[1][0][0]))
    taken: list[tuple[int, int]] = []
    kept = []
    for s, ps in order:
        if any(a < tb and ta < b for a, b in ps for ta, tb in taken):
            continue
        taken.extend(ps)
        kept.append((s, ps))
    kept.sort(key=lambda x: x[1][0][0])
    return kept, len(candidates) - len(kept)


_SPACE = re.compile(r"\s")
# Tokens that may follow a sentence's final punctuation and still belong to that sentence.
_CLOSERS = frozenset('"\')]}»”’›')


def _conll_lines(words: list[str], tags: list[str]) -> list[str]:
    """Token TAB tag lines, with a blank line after each sentence (the sentencizer's punctuation,
    or a line break), never inside an entity; whitespace tokens are left out."""
    punct = _sentence_punct()
    lines: list[str] = []
    open_sentence = pending = False
    for word, tag in zip(words, tags):
        if word.isspace():
            pending = pending or "\n" in word
            continue
        if pending and open_sentence and word not in _CLOSERS and word not in punct \
                and not tag.startswith("I-"):
            lines.append("")
            open_sentence = False
        if word in punct:
            pending = True
        elif word not in _CLOSERS:
            pending = False
        # A tab or space inside a token would break the two-column format.
        lines.append(f"{_SPACE.sub('_', word)}\t{tag}")
        open_sentence = True
    if open_sentence:
        lines.append("")
    return lines


@lru_cache(maxsize=1)
def _sentence_punct() -> frozenset[str]:
    from spacy.pipeline import Sentencizer
    return frozenset(Sentencizer.default_punct_chars)

