"""The one place that converts Python code-point offsets to Qt (UTF-16) positions and back.

Spans are stored as code-point offsets into a document's text; QTextDocument counts UTF-16
units, so every character outside the Basic Multilingual Plane (emoji, some CJK, Gothic…)
shifts Qt positions by one. Combining marks and right-to-left text are one unit per code
point and need no correction. Qt also folds "\\r\\n" into one block separator, so the text
shown is `display_text(text)`, which keeps exactly one Qt position per UTF-16 unit.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")


def display_text(text: str) -> str:
    """The text to hand to setPlainText: same length, but no character Qt would merge or drop."""
    # QTextDocument turns "\r\n" into a single paragraph separator: keep one position per unit.
    if "\r" in text:
        text = text.replace("\r", " ")
    # setPlainText drops a leading byte-order mark (U+FEFF / U+FFFE): an invisible word joiner
    # keeps its position.
    if text[:1] in ("\ufeff", "\ufffe"):
        text = "\u2060" + text[1:]
    return text


class OffsetMap:
    """Converts between code-point offsets into `text` and Qt positions in its display."""

    __slots__ = ("_astral", "_astral_qt", "length", "qt_length")

    def __init__(self, text: str):
        # Code-point indices of non-BMP characters (two UTF-16 units each); usually none. Found
        # by the regex engine: a Python loop over a 4.8 MB article takes a third of a second.
        self._astral = [m.start() for m in _ASTRAL.finditer(text)] if not text.isascii() else []
        self._astral_qt = [i + k for k, i in enumerate(self._astral)]
        self.length = len(text)
        self.qt_length = self.length + len(self._astral)

    def to_qt(self, offset: int) -> int:
        """Code-point offset → Qt position (clamped to the text)."""
        offset = max(0, min(offset, self.length))
        if not self._astral:
            return offset
        return offset + bisect_left(self._astral, offset)

    def from_qt(self, position: int) -> int:
        """Qt position → code-point offset; a position inside a surrogate pair snaps to its start."""
        position = max(0, min(position, self.qt_length))
        if not self._astral_qt:
            return position
        # Astral characters that start before `position`.
        k = bisect_left(self._astral_qt, position)
        if k and self._astral_qt[k - 1] + 1 == position:
            return self._astral[k - 1]  # between the two halves of a pair
        return position - k

    def range_to_qt(self, start: int, end: int) -> tuple[int, int]:
        return self.to_qt(start), self.to_qt(end)

    def range_from_qt(self, start: int, end: int) -> tuple[int, int]:
        """A Qt selection → code-point range; a half-selected pair is included whole."""
        s = self.from_qt(start)
        e = self.from_qt(end)
        if self._astral_qt:
            k = bisect_right(self._astral_qt, end - 1) - 1
            if k >= 0 and self._astral_qt[k] + 1 == end:
                e = self._astral[k] + 1
        return s, e
