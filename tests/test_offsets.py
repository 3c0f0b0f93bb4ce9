"""Code-point offsets ↔ Qt positions: emoji, non-BMP, combining marks, RTL, CRLF."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ui.offsets import OffsetMap, display_text

SAMPLES = [
    "plain ASCII text",
    "Homs 😀 shelled 🇸🇾 today",                 # emoji, a flag (two astral code points)
    "𝔊𝔬𝔱𝔥𝔦𝔠 and 𠜎 CJK extension B",              # non-BMP letters
    "e\u0301te\u0301 cafe\u0301 — combining acute",  # combining marks: one unit each
    "قال المرصد السوري إن 12 شخصا قتلوا",          # RTL Arabic
    "mixed עברית 😀 and e\u0301 at once\r\nnext line\rthird\u2029fourth",
]


def _qt_doc(text: str):
    from PySide6.QtGui import QTextDocument
    doc = QTextDocument()
    doc.setPlainText(display_text(text))
    return doc


def _qt_slice(doc, a: int, b: int) -> str:
    from PySide6.QtGui import QTextCursor
    c = QTextCursor(doc)
    c.setPosition(a)
    c.setPosition(b, QTextCursor.KeepAnchor)
    return c.selectedText()


def _shown(text: str) -> str:
    """What Qt reports for a slice of display_text: separators become U+2029."""
    return display_text(text).replace("\n", "\u2029")


@pytest.mark.parametrize("text", SAMPLES)
def test_every_offset_round_trips(text):
    m = OffsetMap(text)
    assert m.qt_length == len(text.encode("utf-16-le")) // 2
    for i in range(len(text) + 1):
        assert m.from_qt(m.to_qt(i)) == i


@pytest.mark.parametrize("text", SAMPLES)
def test_qt_document_shows_the_same_characters_at_converted_positions(qapp, text):
    doc = _qt_doc(text)
    m = OffsetMap(text)
    # One Qt position per UTF-16 unit, plus the document's final paragraph mark.
    assert doc.characterCount() - 1 == m.qt_length
    for i in range(len(text)):
        for j in range(i + 1, min(len(text), i + 6) + 1):
            a, b = m.range_to_qt(i, j)
            assert _qt_slice(doc, a, b) == _shown(text[i:j]), (i, j)


def test_emoji_shifts_positions_after_it():
    text = "a😀b"
    m = OffsetMap(text)
    assert [m.to_qt(i) for i in range(4)] == [0, 1, 3, 4]
    assert m.from_qt(2) == 1  # inside the surrogate pair: snaps to the emoji's start
    assert m.range_from_qt(0, 2) == (0, 2)  # a half-selected emoji is taken whole


def test_combining_marks_and_rtl_need_no_shift():
    for text in ("e\u0301", "قال"):
        m = OffsetMap(text)
        assert [m.to_qt(i) for i in range(len(text) + 1)] == list(range(len(text) + 1))


def test_out_of_range_is_clamped():
    m = OffsetMap("ab😀")
    assert m.to_qt(-5) == 0 and m.to_qt(99) == 4
    assert m.from_qt(99) == 3


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_round_trip_property(text):
    m = OffsetMap(text)
    for i in range(len(text) + 1):
        q = m.to_qt(i)
        assert m.from_qt(q) == i
        assert q == len(text[:i].encode("utf-16-le")) // 2
