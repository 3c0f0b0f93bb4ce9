"""Matching source names: "Reuters", "reuters'" and "the Reuters" are one registry entry."""
from __future__ import annotations

import re
import unicodedata

_POSSESSIVE = re.compile(r"['’`]s?\b", re.UNICODE)
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_LEADING = ("the ", "a ", "an ")


def normalise_source_name(name: str) -> str:
    """A key for matching: case, accents, punctuation, hyphens and a leading article ignored."""
    s = unicodedata.normalize("NFKC", name).casefold().strip()
    s = _POSSESSIVE.sub("", s)
    s = _NON_WORD.sub(" ", s).strip()
    for article in _LEADING:
        if s.startswith(article):
            s = s[len(article):]
            break
    return s


def display_source_name(text: str) -> str:
    """The registry name shown for a source span: its text on one line, without edge punctuation."""
    s = " ".join(text.split())
    return s.strip(" ,.;:\"'“”‘’()[]")
