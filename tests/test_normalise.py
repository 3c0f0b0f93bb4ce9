"""Normalisation: clean paragraphs for reading, and every character maps back to the raw text."""
from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotation.normalise import Normalised, identity, normalise, text_length, to_norm, to_raw
from tests.conftest import shared_path


def _collapse(s: str) -> str:
    return " ".join(s.split())


def _check_map(raw: str, norm: Normalised) -> None:
    """Every normalised char is its raw char (or whitespace standing for whitespace); runs tile
    the text and the map is monotonic."""
    expected = 0
    last_raw = -1
    for n0, r0, length in norm.offset_map:
        assert n0 == expected and length > 0
        assert r0 >= last_raw and r0 + length <= len(raw)
        for i in range(length):
            c, rc = norm.text[n0 + i], raw[r0 + i]
            assert c == rc or (c.isspace() and rc.isspace()), (n0 + i, c, rc)
        expected = n0 + length
        last_raw = r0 + length - 1
    assert expected == len(norm.text) == text_length(norm.offset_map)


def _seed() -> str:
    return shared_path("seed", "homs-offensive.txt").read_text(encoding="utf-8")


def test_seed_reads_as_clean_paragraphs():
    raw = _seed()
    norm = normalise(raw)
    paragraphs = norm.text.split("\n\n")
    assert all("\n" not in p and p == p.strip() for p in paragraphs)
    assert "\n\n\n" not in norm.text
    # The hard-wrapped sentences are whole again.
    assert "National Defense Army, pro-Assad's militia, said 200 fighters" in norm.text
    assert "Homs, 140 km (90 miles) north of Damascus" in norm.text
    assert ("The 13th-century Khalid ibn al-Walid mosque, a prominent central landmark, could be"
            " seen in the footage.") in norm.text
    # The repeated first paragraph appears once; the footer is gone.
    assert norm.text.count("reliable source told Zaman Alwasl") == 1
    assert "Comments About This Article" not in norm.text
    assert "Please fill the fields below" not in norm.text
    assert norm.text.endswith("during the past two years.")
    assert paragraphs[0].startswith("National Defense Army") and paragraphs[0].endswith("Alwasl.")
    assert len(paragraphs) == 14
    _check_map(raw, norm)


def test_seed_every_word_maps_back_to_raw():
    raw = _seed()
    norm = normalise(raw)
    words = list(re.finditer(r"\S+", norm.text))
    assert len(words) > 400
    for m in words:
        rs, re_ = to_raw(norm.offset_map, m.start(), m.end())
        assert raw[rs:re_] == m.group()
        assert to_norm(norm.offset_map, rs, re_) == (m.start(), m.end())
    # Spans across a joined hard wrap map to raw text holding the line break.
    i = norm.text.index("pro-Assad's militia")
    rs, re_ = to_raw(norm.offset_map, i - len("Army, "), i + 3)
    assert raw[rs:re_] in ("Army, pro", "Army,\npro")


def test_seed_spacy_entities_map_back_to_raw(nlp):
    raw = _seed()
    norm = normalise(raw)
    doc = nlp(norm.text)
    assert len(doc.ents) > 20
    for ent in doc.ents:
        rs, re_ = to_raw(norm.offset_map, ent.start_char, ent.end_char)
        assert _collapse(raw[rs:re_]) == _collapse(ent.text), ent
        back = to_norm(norm.offset_map, rs, re_)
        assert back is not None and back[0] <= ent.start_char and back[1] >= ent.end_char


def test_dropped_text_maps_to_none():
    raw = _seed()
    norm = normalise(raw)
    footer = raw.index("Comments About This Article")
    assert to_norm(norm.offset_map, footer, footer + 8) is None
    # The hard-wrapped repeat of the first paragraph (the second copy) was dropped.
    second = raw.index("National Defense Army,\npro-Assad's")
    assert to_norm(norm.offset_map, second, second + 22) is None
    # Trailing spaces are not kept either.
    assert to_norm(normalise("word   \nNext.").offset_map, 4, 7) is None


def test_crlf_trailing_spaces_and_blank_lines():
    raw = "First line of a wrapped  \r\nsentence here.\r\n\r\nSecond paragraph.   \r\nThird one.\r\n"
    norm = normalise(raw)
    assert norm.text == ("First line of a wrapped sentence here.\n\nSecond paragraph.\n\nThird one.")
    _check_map(raw, norm)
    # The joining space stands for the raw line break it replaced.
    space = norm.text.index(" sentence")
    assert raw[to_raw(norm.offset_map, space, space + 1)[0]] in "\r\n"


def test_paragraph_rules():
    # Terminal punctuation then a capital: a new paragraph; lower case after a period: a wrap.
    assert normalise("He left the U.S.\nofficials said.").text == "He left the U.S. officials said."
    assert normalise('He said "no."\nThen he left.').text == 'He said "no."\n\nThen he left.'
    assert normalise("A list:\n- one\n- two").text == "A list:\n\n- one\n\n- two"
    # Short repeats are structure, kept; long ones are the scraper's duplicates, dropped.
    assert normalise("* * *\n\nText.\n\n* * *").text == "* * *\n\nText.\n\n* * *"
    long = "A paragraph that is long enough to count."
    assert normalise(f"{long}\n\nOther.\n\n{long}").text == f"{long}\n\nOther."


def test_boilerplate_is_configurable_and_whole_line():
    raw = "Story text.\nShare this article\nADVERTISEMENT\nClick here to subscribe now\nMore text.\n" \
          "© 2017 Reuters. All rights reserved."
    assert normalise(raw).text == "Story text.\n\nMore text."
    # A boilerplate phrase inside a sentence is article text.
    assert normalise("Please share this article.").text == "Please share this article."
    custom = normalise("Keep me.\nSUBSCRIBE NOW\nAdvertisement", boilerplate=["subscribe now"])
    assert custom.text == "Keep me.\n\nAdvertisement"
    assert normalise("Advertisement", boilerplate=[]).text == "Advertisement"


def test_identity_and_edges():
    assert identity("abc") == Normalised("abc", [[0, 0, 3]])
    assert identity("") == Normalised("", [])
    assert normalise("") == Normalised("", [])
    assert normalise(" \n\t\r\n ") == Normalised("", [])
    assert to_raw([], 0, 0) == (0, 0)
    assert to_norm([], 0, 3) is None
    norm = normalise("  Hello.  ")
    assert norm.text == "Hello." and to_raw(norm.offset_map, 0, 6) == (2, 8)
    assert to_raw(norm.offset_map, 6, 6) == (8, 8)


def test_huge_single_line_is_fast():
    import time
    raw = ("word " * 2_000_000) + "\n" + ("more " * 100)
    t = time.perf_counter()
    norm = normalise(raw)
    assert time.perf_counter() - t < 2
    assert norm.text.startswith("word word") and len(norm.offset_map) <= 2


_PIECES = st.sampled_from([
    "a", "B", "word", "Zaman", ".", "!", "?", ",", "'", "''", '"', "”", "(", ")", "-", "–", " ",
    "  ", "\t", "\n", "\n\n", "\r\n", "\r", "\xa0", "\u2028", "😀", "👍🏽", "e\u0301", "\u0301",
    "שלום", "مرحبا", "؟", "\u200f", "日本", "Advertisement", "Share this article",
    "Comments About This Article", "A sentence repeated here for sure.",
])
_TEXT = st.one_of(st.lists(_PIECES, max_size=60).map("".join), st.text(max_size=200))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXT)
def test_property_every_char_maps_to_its_raw_char(raw):
    norm = normalise(raw)
    _check_map(raw, norm)
    assert "\r" not in norm.text and "\n\n\n" not in norm.text
    assert norm.text == norm.text.strip()
    # Every non-empty span maps to a raw span whose text, collapsed, contains the span's words.
    n = len(norm.text)
    for s, e in ((0, n), (0, min(n, 3)), (n // 3, n // 2), (max(0, n - 2), n)):
        if s >= e:
            continue
        rs, re_ = to_raw(norm.offset_map, s, e)
        assert 0 <= rs < re_ <= len(raw)
        back = to_norm(norm.offset_map, rs, re_)
        assert back is not None and back[0] <= s and back[1] >= e
        if "\n" not in norm.text[s:e]:
            # Within one paragraph nothing is dropped: same text, whitespace aside.
            assert _collapse(raw[rs:re_]) == _collapse(norm.text[s:e])
