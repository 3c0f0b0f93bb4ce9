"""Long texts through spaCy: paragraph-aligned chunks, put back together as one Doc.

spaCy refuses a text longer than `nlp.max_length` (E088, 1,000,000 characters by default) and
its parser's memory grows with the text. A long article is cut into chunks at paragraph
breaks (failing that at a line break, a sentence end, a space), each chunk is parsed on its
own, and the chunks' Docs are joined with `Doc.from_docs`: the joined Doc's text is the
article's text character for character, so every entity and claim offset taken from it is an
offset into the article. Ordinary texts take the plain path: one `nlp.pipe` Doc each.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Any, TypeVar

from .progress import ShouldCancel, stop_if_cancelled

# Texts up to this long are parsed whole (news articles are); longer ones in chunks of at most
# this many characters, one at a time: the parser's memory grows with the characters it holds
# (measured: ~200 MB over the loaded model for 50,000 characters, ~370 MB for 100,000).
CHUNK_CHARS = 50_000

Context = TypeVar("Context")

# Where a chunk may end, best first: after a blank line (a paragraph break), after a line
# break, after a sentence's end, after any white space. Each match ends where the next chunk
# starts (white space stays with the chunk before it).
_BREAKS = (
    re.compile(r"\n[ \t\r\f\v]*\n\s*"),
    re.compile(r"\n\s*"),
    re.compile(r"[.!?…][\"'”’»)\]]*\s+"),
    re.compile(r"\s+"),
)


def chunk_bounds(text: str, max_chars: int = CHUNK_CHARS) -> list[tuple[int, int]]:
    """(start, end) of each chunk: consecutive, covering the text, each at most `max_chars`
    long, cut at the best break of the later half of each window (see _BREAKS)."""
    if max_chars < 2:
        raise ValueError("max_chars must be at least 2")
    bounds = []
    start, n = 0, len(text)
    while n - start > max_chars:
        end = _cut(text, start, start + max_chars)
        bounds.append((start, end))
        start = end
    bounds.append((start, n))
    return bounds


def _cut(text: str, start: int, limit: int) -> int:
    """The end of the chunk that starts at `start` and may not reach past `limit`: never
    between a character and the combining marks that belong to it."""
    window = text[start:limit]
    floor = len(window) // 2  # a break in the first half would make many small chunks
    for pattern in _BREAKS:
        ends = [start + m.end() for m in pattern.finditer(window, floor)]
        for end in reversed(ends):
            if not unicodedata.combining(text[end]):
                return end
    # No break at all in half a chunk (a run of letters): cut anyway.
    end = limit
    while end > start + 1 and unicodedata.combining(text[end]):
        end -= 1
    return end


def pipe_chunked(nlp, items: Iterable[tuple[str, Context]], *, batch_size: int = 64,
                 n_process: int = 1, max_chars: int = CHUNK_CHARS,
                 should_cancel: ShouldCancel | None = None) -> Iterator[tuple[Any, Context]]:
    """`nlp.pipe(items, as_tuples=True)` for texts of any length: yields (Doc, context) in the
    order given, one Doc per text whose `.text` is that text.

    Runs of ordinary texts go through one `nlp.pipe` as they are (the plain path); a text longer
    than `max_chars` is parsed chunk by chunk (chunk_bounds), one chunk at a time so the
    parser's memory stays that of one chunk, and its chunks are joined (join_docs). Between
    two chunks `should_cancel` is asked (a long text takes minutes): Cancelled when it says so."""
    max_chars = min(max_chars, nlp.max_length)
    stream = iter(items)
    held: list[tuple[str, Context]] = []  # the long text that ended the last run

    def run() -> Iterator[tuple[str, Context]]:
        for text, context in stream:
            if len(text) > max_chars:
                held.append((text, context))
                return
            yield text, context

    while True:
        first = next(stream, None)
        if first is None:
            return
        if len(first[0]) <= max_chars:
            # Not started for nothing: with n_process > 1 each pipe starts its workers.
            yield from nlp.pipe(chain([first], run()), batch_size=batch_size,
                                n_process=n_process, as_tuples=True)
        else:
            held.append(first)
        while held:
            text, context = held.pop()
            yield parse_long(nlp, text, max_chars, should_cancel), context


def parse_long(nlp, text: str, max_chars: int = CHUNK_CHARS,
               should_cancel: ShouldCancel | None = None) -> Any:
    """One Doc of a text of any length, parsed in paragraph-aligned chunks."""
    import numpy  # spaCy's own dependency: loaded with it, only when a long text comes
    docs = []
    for doc in nlp.pipe((text[a:b] for a, b in chunk_bounds(text, max_chars)), batch_size=1):
        doc.tensor = numpy.zeros((0,), dtype="float32")  # tok2vec's output: large, not kept
        docs.append(doc)
        stop_if_cancelled(should_cancel, "annotation cancelled")
    return join_docs(docs)


def join_docs(docs: list) -> Any:
    """One Doc of consecutive chunk Docs, its text exactly theirs joined (nothing inserted);
    the tensors (tok2vec's output, large and not needed afterwards) are left out."""
    from spacy.tokens import Doc
    # spaCy's doc.pyi leaves out from_docs' keyword `exclude` (doc.pyx has it since 3.3).
    return Doc.from_docs(docs, ensure_whitespace=False,
                         exclude=["tensor", "user_data"])  # type: ignore[call-arg]
