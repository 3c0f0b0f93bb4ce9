"""Token edges as spaCy sees them, for snapping a selection or a span boundary to whole tokens."""
from __future__ import annotations

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
