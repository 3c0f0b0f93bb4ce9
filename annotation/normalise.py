"""Normalise scraped article text for reading, keeping a map from every character back to the raw text.

What `normalise` does to the raw text:
- lines are split on CRLF, CR or LF and stripped of leading/trailing whitespace;
- lines inside one paragraph are joined with a single space: a hard-wrapped line is one that
  does not end a sentence, or whose successor does not start one (starts lower-case);
- a blank line, or a dropped boilerplate line, always ends a paragraph;
- a line whose whole stripped text matches a boilerplate pattern is dropped;
- a paragraph repeating an earlier one (compared whitespace-collapsed) is dropped;
- paragraphs are joined by "\\n\\n".

The offset map: a list of runs `[norm_start, raw_start, length]`; inside a run normalised
character `norm_start + i` is raw character `raw_start + i`. Every normalised character maps to
exactly one raw character: kept characters to themselves, a joining space to the raw line break
it replaces, and the two characters of a paragraph separator to raw whitespace between the two
paragraphs (the line break ending the first, and the whitespace just before the second; both the
same raw character when there is only one). The map is monotonic (non-decreasing).
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

# Whole-line patterns, matched case-insensitively on the stripped, whitespace-collapsed line;
# "*" matches anything. Lines are page furniture, never article text.
DEFAULT_BOILERPLATE: tuple[str, ...] = (
    "Comments About This Article",
    "Please fill the fields below.",
    "Share this article",
    "Share this article:",
    "Share this:",
    "Share on Facebook",
    "Share on Twitter",
    "Advertisement",
    "Advertisements",
    "ADVERTISEMENT - CONTINUE READING BELOW",
    "Click here to *",
    "All rights reserved",
    "All rights reserved.",
    "* All rights reserved",
    "* All rights reserved.",
    "Read more:",
    "Related articles",
    "Related Articles:",
    "Print this article",
    "Email this article",
    "Leave a comment",
    "Skip to main content",
)

# Repeats shorter than this are kept: "* * *", "Yes." or a one-word quote are structure, not
# the scraper's duplicated paragraphs.
MIN_DUPLICATE_CHARS = 20
# Boilerplate is short; longer lines are article text and are not even matched.
_MAX_BOILERPLATE_LINE = 200

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# A line ends a sentence: terminal punctuation, maybe followed by closing quotes/brackets, or a
# closing quote ('' counts, a lone ' does not: it is more often a possessive).
_ENDS_SENTENCE = re.compile(r"(?:[.!?…。！？؟][\"'”’»)\]]*|[\"”»]|'')\Z")
_OPENERS = "\"'“‘«([¡¿"
_BULLET = re.compile(r"[-–—•*·]\s")


@dataclass
class Normalised:
    """Normalised text and its map back to the raw text (runs of [norm_start, raw_start, length])."""
    text: str
    offset_map: list[list[int]]


def identity(raw: str) -> Normalised:
    """The raw text as is: one run mapping every character to itself."""
    return Normalised(raw, [[0, 0, len(raw)]] if raw else [])


@lru_cache(maxsize=16)
def _boilerplate_regex(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    parts = []
    for p in patterns:
        p = " ".join(p.split())
        if p:
            parts.append(".*".join(re.escape(piece) for piece in p.split("*")))
    if not parts:
        return None
    return re.compile("(?:" + "|".join(parts) + ")", re.IGNORECASE | re.DOTALL)


_DEFAULT_RE = _boilerplate_regex(DEFAULT_BOILERPLATE)


def _continues(prev: str, line: str) -> bool:
    """Whether `line` continues the paragraph that `prev` (both stripped, non-empty) ended."""
    if not _ENDS_SENTENCE.search(prev[-6:]):
        return not _BULLET.match(line)
    first = line.lstrip(_OPENERS)[:1]
    return first.islower()


def _lines(raw: str) -> list[tuple[int, int, str]]:
    """(start, break_index, line) of every line; the last line's break_index is len(raw)."""
    if "\r" not in raw:
        # The common case, without a regex: str.split is several times faster.
        out = []
        pos = 0
        for line in raw.split("\n"):
            end = pos + len(line)
            out.append((pos, end, line))
            pos = end + 1
        return out
    out, pos = [], 0
    for m in _LINE_BREAK.finditer(raw):
        out.append((pos, m.start(), raw[pos:m.start()]))
        pos = m.end()
    out.append((pos, len(raw), raw[pos:]))
    return out


def normalise(raw: str, boilerplate: Sequence[str] | None = None) -> Normalised:
    """Join hard-wrapped lines, drop repeated paragraphs and page boilerplate; map back to raw."""
    if boilerplate is None:
        bp_re = _DEFAULT_RE
    else:
        bp_re = _boilerplate_regex(tuple(boilerplate))

    # Paragraphs as lists of lines (content_start, content_end, break_index): the stripped
    # line is raw[content_start:content_end]; break_index is where its line break sits.
    paragraphs: list[list[tuple[int, int, int]]] = []
    current: list[tuple[int, int, int]] = []
    prev_text = ""
    for pos, brk, line in _lines(raw):
        stripped = line.strip()
        if not stripped:
            if current:
                paragraphs.append(current)
                current = []
        elif (bp_re is not None and len(stripped) <= _MAX_BOILERPLATE_LINE
              and bp_re.fullmatch(" ".join(stripped.split()))):
            if current:
                paragraphs.append(current)
                current = []
        else:
            start = pos + (len(line) - len(line.lstrip()))
            entry = (start, start + len(stripped), brk)
            if current and not _continues(prev_text, stripped):
                paragraphs.append(current)
                current = []
            current.append(entry)
            prev_text = stripped
    if current:
        paragraphs.append(current)

    pieces: list[str] = []
    runs: list[list[int]] = []
    npos = 0

    def add(raw_start: int, length: int) -> None:
        nonlocal npos
        if runs:
            last = runs[-1]
            if last[0] + last[2] == npos and last[1] + last[2] == raw_start:
                last[2] += length
                npos += length
                return
        runs.append([npos, raw_start, length])
        npos += length

    seen: set[str] = set()
    prev_break = -1
    for para in paragraphs:
        texts = [raw[s:e] for s, e, _ in para]
        if len(paragraphs) > 1:
            key = " ".join(" ".join(texts).split())
            if len(key) >= MIN_DUPLICATE_CHARS:
                if key in seen:
                    continue
                seen.add(key)
        if pieces:
            # Both separator characters map to raw whitespace between the two paragraphs.
            second = para[0][0] - 1
            pieces.append("\n\n")
            add(prev_break, 1)
            add(second if second > prev_break else prev_break, 1)
        for i, (s, e, _brk) in enumerate(para):
            if i:
                pieces.append(" ")
                add(para[i - 1][2], 1)  # the joining space stands for the line break
            pieces.append(texts[i])
            add(s, e - s)
        prev_break = para[-1][2]
    return Normalised("".join(pieces), runs)


def _char_to_raw(offset_map: list[list[int]], i: int) -> int:
    k = bisect_right(offset_map, i, key=lambda r: r[0]) - 1
    run = offset_map[k]
    return run[1] + (i - run[0])


def text_length(offset_map: list[list[int]]) -> int:
    """Length of the normalised text the map belongs to."""
    return offset_map[-1][0] + offset_map[-1][2] if offset_map else 0


def to_raw(offset_map: list[list[int]], start: int, end: int) -> tuple[int, int]:
    """Normalised span → raw span: raw start of its first character, raw index of its last + 1."""
    length = text_length(offset_map)
    if not 0 <= start <= end <= length:
        raise ValueError(f"span {start}-{end} lies outside the text (length {length})")
    if not offset_map:
        return 0, 0
    if start == end:
        # An empty span sits just after the previous character (or at the very start).
        p = _char_to_raw(offset_map, start - 1) + 1 if start else _char_to_raw(offset_map, 0)
        return p, p
    return _char_to_raw(offset_map, start), _char_to_raw(offset_map, end - 1) + 1


def to_norm(offset_map: list[list[int]], raw_start: int, raw_end: int) -> tuple[int, int] | None:
    """Raw span → the normalised span of the characters kept from it; None if all were dropped."""
    if not offset_map or raw_end <= raw_start:
        return None
    raws = [r[1] for r in offset_map]
    # First normalised character whose raw index is >= raw_start.
    j = bisect_left(raws, raw_start)
    if j > 0 and raw_start < raws[j - 1] + offset_map[j - 1][2]:
        first = offset_map[j - 1][0] + raw_start - raws[j - 1]
    elif j < len(offset_map):
        first = offset_map[j][0]
    else:
        return None
    # Last normalised character whose raw index is <= raw_end - 1.
    last_raw = raw_end - 1
    i = bisect_right(raws, last_raw) - 1
    if i < 0:
        return None
    run = offset_map[i]
    last = run[0] + min(last_raw - run[1], run[2] - 1)
    if last < first:
        return None
    return first, last + 1
