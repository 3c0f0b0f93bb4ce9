"""Offsets: 5,000 random strings (emoji, combining marks, RTL, CRLF, tabs) round-trip between
Python code points and Qt positions, and through normalisation, with no mismatch."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotation.normalise import normalise, to_norm, to_raw
from ui.offsets import OffsetMap, display_text

PIECES = [
    "Homs", "said", "the", "Observatory", " ", "  ", "\t", "\n", "\r\n", "\r", "\n\n", "\r\n\r\n",
    ".", ",", "“quoted”", "😀", "🇸🇾", "👩‍👩‍👧", "𝔊𝔬𝔱𝔥", "𠜎", "e\u0301", "a\u0308\u0323",
    "قال", "المرصد", "עברית", "\u200f", "\u200d", "\u00a0", "—", "…", "Ä", "ß",
    "\ufeff", "\ufffe", "\u2029", "\u2028",
]
TEXTS = st.lists(st.one_of(st.sampled_from(PIECES),
                           st.text(st.characters(blacklist_categories=("Cs",)), max_size=4)),
                 max_size=40).map("".join)
_MISMATCHES: list[str] = []
_TRIED = [0]


def _qt_slice(doc, a: int, b: int) -> str:
    from PySide6.QtGui import QTextCursor
    c = QTextCursor(doc)
    c.setPosition(a)
    c.setPosition(b, QTextCursor.KeepAnchor)
    return c.selectedText()


def _check(raw: str, spans: list[tuple[float, float]]) -> list[str]:
    from PySide6.QtGui import QTextDocument
    bad: list[str] = []
    norm = normalise(raw)
    text = norm.text
    m = OffsetMap(text)
    # Python ↔ Qt: every offset, against UTF-16 arithmetic and a real QTextDocument.
    if m.qt_length != len(text.encode("utf-16-le")) // 2:
        bad.append(f"qt_length of {text!r}")
    for i in range(len(text) + 1):
        q = m.to_qt(i)
        if q != len(text[:i].encode("utf-16-le")) // 2 or m.from_qt(q) != i:
            bad.append(f"offset {i} of {text!r}")
    doc = QTextDocument()
    doc.setPlainText(display_text(text))
    if doc.characterCount() - 1 != m.qt_length:
        bad.append(f"Qt length of {text!r}")
    # Normalised characters map to the raw character they came from (or raw whitespace).
    for i, ch in enumerate(text):
        r = to_raw(norm.offset_map, i, i + 1)[0]
        if not (raw[r] == ch or (ch.isspace() and raw[r].isspace())):
            bad.append(f"char {i} {ch!r} -> raw {r} {raw[r]!r}")
    # Spans (as an analyst would select them) survive Qt and the raw text round trip.
    for a, b in spans:
        s, e = sorted((int(a * len(text)), int(b * len(text))))
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s >= e:
            continue
        qs, qe = m.range_to_qt(s, e)
        if m.range_from_qt(qs, qe) != (s, e):
            bad.append(f"Qt round trip of {s}-{e} in {text!r}")
        shown = _qt_slice(doc, qs, qe)  # Qt reports a paragraph break as U+2029
        if shown != display_text(text)[s:e].replace("\n", "\u2029"):
            bad.append(f"Qt shows {shown!r} for {s}-{e} of {text!r}")
        rs, re_ = to_raw(norm.offset_map, s, e)
        if to_norm(norm.offset_map, rs, re_) != (s, e):
            bad.append(f"normalisation round trip of {s}-{e}: raw {rs}-{re_} in {raw!r}")
    return bad


@pytest.mark.slow
@settings(max_examples=5000, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(raw=TEXTS, spans=st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), max_size=4))
def test_offsets_round_trip_through_qt_and_normalisation(qapp, raw, spans):
    _TRIED[0] += 1
    bad = _check(raw, spans)
    _MISMATCHES.extend(bad)
    assert bad == []


def test_zz_report_offsets(capsys):
    with capsys.disabled():
        print(f"\n[reliability] offsets: {_TRIED[0]} random strings, {len(_MISMATCHES)} mismatches")
    assert _TRIED[0] >= 5000 or _TRIED[0] == 0
