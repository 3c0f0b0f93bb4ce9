"""CoNLL IOB2: `token<TAB>tag` lines, a blank line between sentences, `-DOCSTART-` between
documents. One layer of entities: overlapping spans and claim parts are left out (counted)."""
from __future__ import annotations

import re
from functools import lru_cache

from annotation.model import Span
from annotation.progress import Progress
from storage.export.files import Destination
from storage.export.selection import Rows, naming
from storage.export.summary import ExportSummary
from storage.export.tokens import Trimmed, tokenize

Piece = tuple[int, int]
# Tokens that may follow a sentence's final punctuation and still belong to that sentence.
CLOSERS = frozenset('"\')]}»”’›')
_SPACE = re.compile(r"\s")


@lru_cache(maxsize=1)
def sentence_punct() -> frozenset[str]:
    """What ends a sentence: the punctuation spaCy's sentencizer splits after."""
    from spacy.pipeline import Sentencizer  # imported with spaCy by the tokenizer
    return frozenset(Sentencizer.default_punct_chars)


def write(rows: Rows, dest: Destination, summary: ExportSummary, progress: Progress) -> None:
    claim_labels, _ = rows.label_kinds()
    trimmed = Trimmed()
    dropped = dropped_docs = claim_parts = 0
    with dest.file(newline="\n") as f:
        for doc in rows.documents(progress=progress):
            with naming(doc):
                entities = [s for s in doc.spans if s.label not in claim_labels]
                claim_parts += len(doc.spans) - len(entities)
                spans, cuts = trimmed.of(doc.text, entities)
                kept, lost = non_overlapping(spans)
                if lost:
                    dropped += lost
                    dropped_docs += 1
                tok = tokenize(doc.text, cuts)
                tags = ["O"] * len(tok.starts)
                for s, ps in kept:
                    for a, b in ps:
                        first, last = tok.index(a, b)
                        tags[first] = "B-" + s.label
                        tags[first + 1:last + 1] = ["I-" + s.label] * (last - first)
                lines = conll_lines(tok.words(), tags)
            f.write("-DOCSTART-\tO\n\n")
            f.write("\n".join(lines))
            f.write("\n" if lines else "")
            summary.documents += 1
            summary.spans += len(kept)
    summary.note(dropped, f"CoNLL: dropped {dropped} overlapping spans in {dropped_docs} documents")
    summary.note(claim_parts, f"CoNLL: {claim_parts} claim-part spans (Source/Cue/Content/"
                              "Attribution) excluded")
    trimmed.notes("CoNLL", summary)


def non_overlapping(spans: list[tuple[Span, list[Piece]]]) -> tuple[list[tuple[Span, list[Piece]]], int]:
    """Keep the longest spans first, then the earliest; whatever overlaps a kept one is dropped.
    Returns the kept spans in text order and how many were dropped."""
    candidates = [(s, ps) for s, ps in spans if ps]
    order = sorted(candidates, key=lambda x: (-sum(b - a for a, b in x[1]), x[1][0][0]))
    taken: set[int] = set()  # characters of the kept pieces
    kept = []
    for s, ps in order:
        chars = {c for a, b in ps for c in range(a, b)}
        if chars & taken:
            continue
        taken |= chars
        kept.append((s, ps))
    kept.sort(key=lambda x: x[1][0][0])
    return kept, len(candidates) - len(kept)


def conll_lines(words: list[str], tags: list[str]) -> list[str]:
    """Token TAB tag lines, with a blank line after each sentence (the sentencizer's
    punctuation, or a line break), never inside an entity; whitespace tokens are left out,
    and whitespace inside a token (it would break the two columns) becomes "_"."""
    punct = sentence_punct()
    lines: list[str] = []
    open_sentence = pending = False
    for word, tag in zip(words, tags):
        if word.isspace():
            pending = pending or "\n" in word
            continue
        if pending and open_sentence and word not in CLOSERS and word not in punct \
                and not tag.startswith("I-"):
            lines.append("")
            open_sentence = False
        if word in punct:
            pending = True
        elif word not in CLOSERS:
            pending = False
        lines.append(_SPACE.sub("_", word) + "\t" + tag)
        open_sentence = True
    if open_sentence:
        lines.append("")
    return lines
