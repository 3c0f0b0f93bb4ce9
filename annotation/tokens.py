"""Token edges as spaCy sees them, for snapping a selection or a span boundary to whole tokens."""
from __future__ import annotations

import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from functools import lru_cache
from typing import Any

Tokenizer = Callable[[str], Any]  # text -> spaCy Doc


@lru_cache(maxsize=4)
def tokenizer(lang: str = "en") -> Tokenizer:
    """spaCy's tokenizer for a language, made once: the blank pipeline's, as the spaCy exports use,
    so a span snapped to these tokens is whole tokens in the exported Doc too."""
    import spacy  # ~1 s to import: only when the first article is snapped (the app warms it early)
    return spacy.blank(lang).tokenizer


class TokenEdges:
    """The start and end offsets (code points) of a text's tokens, white space left out."""

    __slots__ = ("starts", "ends")

    def __init__(self, text: str, tokenize: Tokenizer | None = None):
        doc = (tokenize or tokenizer())(text)
        self.starts = [t.idx for t in doc if not t.is_space]
        self.ends = [t.idx + len(t.text) for t in doc if not t.is_space]

    @classmethod
    def in_pieces(cls, text: str, tokenize: Tokenizer | None = None,
                  piece_chars: int = 10_000) -> TokenEdges:
        """The same edges, the text tokenized a piece at a time, each piece cut after white
        space (which no token crosses). spaCy holds the GIL through one call: a thread doing a
        long article this way lets the UI thread run between pieces."""
        edges = cls.__new__(cls)
        edges.starts, edges.ends = [], []
        tokenize = tokenize or tokenizer()
        start, n = 0, len(text)
        while start < n:
            end = min(n, start + piece_chars)
            if end < n:
                cut = max(text.rfind(" ", start, end), text.rfind("\n", start, end))
                if cut <= start:  # no space in a whole piece: go on to the next one
                    following = [i for i in (text.find(" ", end), text.find("\n", end)) if i >= 0]
                    cut = min(following, default=n - 1)
                end = cut + 1
            doc = tokenize(text[start:end])
            edges.starts += [start + t.idx for t in doc if not t.is_space]
            edges.ends += [start + t.idx + len(t.text) for t in doc if not t.is_space]
            start = end
            time.sleep(0)  # hand the GIL over between pieces
        return edges

    def __len__(self) -> int:
        return len(self.starts)

    def snap(self, start: int, end: int) -> tuple[int, int] | None:
        """The range outwards to whole tokens, without white space at its edges; None when it
        holds no token."""
        i = bisect_right(self.ends, start)        # first token ending after start
        j = bisect_left(self.starts, end) - 1     # last token starting before end
        if i >= len(self.starts) or j < 0 or i > j:
            return None
        return self.starts[i], self.ends[j]

    def move(self, start: int, end: int, which: str) -> tuple[int, int]:
        """A span's range with one edge moved by one token: `which` is grow_end, shrink_end,
        grow_start or shrink_start. A span never becomes empty; at the text's edge nothing moves."""
        starts, ends = self.starts, self.ends
        if which == "grow_end":
            i = bisect_left(starts, end)
            if i < len(starts):
                end = ends[i]
        elif which == "shrink_end":
            j = bisect_left(ends, end) - 1
            if j >= 0 and ends[j] > start and starts[j] >= start:
                end = ends[j]
        elif which == "grow_start":
            j = bisect_right(ends, start) - 1
            if j >= 0:
                start = starts[j]
        elif which == "shrink_start":
            i = bisect_right(starts, start)
            if i < len(starts) and ends[i] <= end:
                start = starts[i]
        else:
            raise ValueError(f"unknown boundary move {which!r}")
        return start, end

    def step(self, offset: int, backwards: bool = False) -> tuple[int, int] | None:
        """The token after (or before) `offset`, for a caret that moves by token."""
        if backwards:
            j = bisect_left(self.starts, offset) - 1
            return (self.starts[j], self.ends[j]) if j >= 0 else None
        i = bisect_right(self.ends, offset)
        return (self.starts[i], self.ends[i]) if i < len(self.starts) else None

    def at(self, offset: int) -> tuple[int, int] | None:
        """The token that holds `offset`, or None between tokens."""
        i = bisect_right(self.starts, offset) - 1
        if i >= 0 and offset < self.ends[i]:
            return self.starts[i], self.ends[i]
        return None
