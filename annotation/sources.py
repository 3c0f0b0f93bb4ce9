"""Source names: matching ("Reuters", "REUTERS" and "Reuters's" are one registry entry) and the
variants worth suggesting as the same source ("Reuters) Ceasefire", "the Reuters news agency").

Every rule about what makes two source names the same lives here; storage/ only applies them.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeGuard

_POSSESSIVE = re.compile(r"['’`]s?\b", re.UNICODE)
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_LEADING = ("the ", "a ", "an ")
# Where a span the model proposed glues other text to a name: "Reuters) Ceasefire",
# "REUTERS/Bassam Khabieh", "The Syrian Observatory for Human Rights (SOHR".
_SEPARATORS = re.compile(r"[()\[\]{}/|\\\"“”«»„;:,]|\s[-–—]+\s|\s[-–—]+$|^[-–—]+\s")
# Words that stand for a source named elsewhere: never a registry entry of their own.
PRONOUNS = frozenset(
    "i me my we us our you your he him his she her it its they them their this that these those "
    "which who whom whose what one someone somebody anyone everyone everybody".split())
# Little words that are no part of an acronym ("SOHR": Syrian Observatory for Human Rights).
_ACRONYM_SKIP = frozenset("for of the and in on at to de al el".split())
# Words around a known name that make the whole another source: "a source in Damascus",
# "Russia and the US".
_PLACE_WORDS = frozenset("in at from near of for to by on with inside outside across".split())
_AND = frozenset(("and", "or", "&"))
_LITTLE = _PLACE_WORDS | _AND | frozenset(("a", "an", "the"))  # never a name on their own
MAX_NAME_WORDS = 8      # longer "names" the model proposed are sentences ("All the information…")
MAX_EXTRA_WORDS = 3     # "Saudi Arabia Reuters", "The Britain-based Syrian Observatory…"
MAX_DROPPED_WORDS = 4   # "the Observatory" for "Syrian Observatory for Human Rights"


@lru_cache(maxsize=1 << 16)  # the registry dialog reads every candidate name on each open
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


def is_source_name(text: str) -> bool:
    """Whether a source span's text can name a registry entry: "He", "it" or "which" stand for a
    source named elsewhere, and are not (all-capital "WHO" is the World Health Organization)."""
    norm = normalise_source_name(text)
    if not norm:
        return False
    if norm in PRONOUNS:
        letters = [c for c in text if c.isalpha()]
        return len(letters) > 1 and all(c.isupper() for c in letters)
    return True


def name_tokens(name: str) -> tuple[str, ...]:
    """The words of a name as matching sees them (the normalised key, split)."""
    return tuple(normalise_source_name(name).split())


def _has_capital(name: str) -> bool:
    """Whether a name is written with a capital (after a leading article): "Reuters", "the UN",
    not "the group" or "local activists" (descriptions, not names)."""
    words = name.split(maxsplit=1)
    if len(words) == 2 and words[0].casefold() in ("the", "a", "an"):
        name = words[1]
    return any(c.isupper() for c in name)


def _written_as_names(name: str) -> set[str]:
    """The words of `name` written with a capital, casefolded: "US officials" -> {"us"}."""
    return {w.casefold() for w in _NON_WORD.split(name) if any(c.isupper() for c in w)}


def _modifies(tokens: tuple[str, ...], a: int, b: int) -> bool:
    """Whether the run tokens[a:b] only qualifies the rest: "(a source in) Damascus", "(the
    decision by) Johnson", "Turkey(-based)"."""
    return (a > 0 and tokens[a - 1] in _PLACE_WORDS) or (b < len(tokens) and tokens[b] == "based")


def _initials(tokens: tuple[str, ...]) -> set[str]:
    if len(tokens) < 2:
        return set()
    every = "".join(t[0] for t in tokens)
    significant = "".join(t[0] for t in tokens if t not in _ACRONYM_SKIP)
    return {x for x in (every, significant) if len(x) >= 2}


def _runs(tokens: tuple[str, ...], most_left_out: int) -> Iterable[tuple[int, int]]:
    """(start, end) of the contiguous runs of tokens that leave out 1..most_left_out of them,
    longest first."""
    n = len(tokens)
    for length in range(n - 1, max(0, n - most_left_out - 1), -1):
        for start in range(n - length + 1):
            yield start, start + length


@dataclass(frozen=True)
class NameMatch:
    """A name that looks like a variant of a known one: who owns the known name, and why."""
    owner: int        # the key the known name was added under (a registry entry id)
    known: str        # the known name it matches
    reason: str
    kind: str = ""    # the rule: "same", "glued", "words", "initials", "spelled", "part"

    @property
    def strength(self) -> int:
        """How sure the match is (lower: surer): a pair of names found both ways keeps the surer."""
        return MATCH_KINDS.index(self.kind) if self.kind in MATCH_KINDS else len(MATCH_KINDS)


    @property
    def reverse_reason(self) -> str:
        """The reason read the other way round: the known name as a variant of `name`."""
        return _REVERSED.get(self.kind, self.reason)


MATCH_KINDS = ("same", "glued", "words", "initials", "spelled", "part")
_REVERSED = {"glued": "the name without the text glued to it",
             "words": "the name without the added words",
             "part": "a longer form of the name",
             "initials": "the name its initials stand for",
             "spelled": "the initials of the name"}


class NameIndex:
    """Known source names (registry names and aliases) to match variants against."""

    def __init__(self, names: Iterable[tuple[int, str]] = ()):
        self._exact: dict[str, tuple[int, str]] = {}
        self._named: dict[str, tuple[int, str]] = {}   # keys with a capitalised word: name-like
        self._parts: dict[str, tuple[int, str]] = {}   # runs of longer names: "observatory" → SOHR
        self._acronyms: dict[str, tuple[int, str]] = {}
        self._words: set[str] = set()  # every word of a known name: most names share none
        self._short_acronyms = False   # whether any known name is one all-capital word
        for owner, name in names:
            self.add(owner, name)

    def add(self, owner: int, name: str, key: str | None = None) -> None:
        """A known name of `owner`; `key`: its normalised form when the caller has it."""
        key = normalise_source_name(name) if key is None else key
        tokens = tuple(key.split())
        if not tokens:
            return
        self._exact.setdefault(key, (owner, name))
        if len(tokens) > MAX_NAME_WORDS:
            return  # a sentence, not a name: matched exactly, never in part
        self._words.update(tokens)
        if _has_capital(name):
            self._named.setdefault(key, (owner, name))
        if not _AND & set(tokens):  # "France and Britain" are two sources: neither is its part
            for a, b in _runs(tokens, MAX_DROPPED_WORDS):
                if not _modifies(tokens, a, b) and any(t not in _LITTLE for t in tokens[a:b]):
                    self._parts.setdefault(" ".join(tokens[a:b]), (owner, name))
        for initials in _initials(tokens):
            self._acronyms.setdefault(initials, (owner, name))
        if len(tokens) == 1 and name.strip().isupper() and len(tokens[0]) >= 2:
            self._acronyms.setdefault(tokens[0], (owner, name))
            self._short_acronyms = True

    def owner_of(self, name: str, key: str | None = None) -> int | None:
        """The owner of a name matching exactly (same key), or None."""
        hit = self._exact.get(normalise_source_name(name) if key is None else key)
        return hit[0] if hit else None

    def match(self, name: str, *, exclude: int | None = None, key: str | None = None) -> NameMatch | None:
        """The known name `name` is most likely a variant of (not one owned by `exclude`), or None
        when it matches none or matches exactly (an exact match is the same source already).
        `key`: the normalised name when the caller has it."""
        key = normalise_source_name(name) if key is None else key
        tokens = tuple(key.split())
        if not tokens:
            return None
        exact = self._exact.get(key)
        if exact is not None and exact[0] != exclude:
            return None if exclude is None else NameMatch(
                exact[0], exact[1], "the same name but for case, possessive or punctuation", "same")

        words = set(tokens)
        acronym = len(tokens) == 1 and name.strip().isupper()
        if not (words & self._words or acronym or self._short_acronyms):
            return None  # no word in common with any known name, and no initials to compare

        def hit(found: tuple[int, str] | None) -> TypeGuard[tuple[int, str]]:
            return found is not None and found[0] != exclude

        # 1. Text glued to a known name at a bracket, slash, quote or dash.
        pieces = [p for p in _SEPARATORS.split(display_source_name(name)) if p and p.strip()]
        if len(pieces) > 1:
            for piece in sorted(pieces, key=len, reverse=True):
                found = self._exact.get(normalise_source_name(piece))
                if hit(found):
                    return NameMatch(found[0], found[1], "the name with other text glued to it", "glued")
        # 2. A known name with a few words around it: "Saudi Arabia Reuters", "SANA reporter";
        # not one of several ("Moscow and Damascus"), a place ("a source in Damascus") nor the
        # start of a longer name ("Syrian Observatory" of "Syrian Observatory for Human Rights").
        written: set[str] | None = None
        for a, b in _runs(tokens, MAX_EXTRA_WORDS):
            if _modifies(tokens, a, b) or (b < len(tokens) and tokens[b] in _PLACE_WORDS) \
                    or _AND & set(tokens[:a] + tokens[b:]):
                continue
            found = self._named.get(" ".join(tokens[a:b]))
            if not hit(found):
                continue
            if written is None:
                written = _written_as_names(name)
            if written & set(tokens[a:b]):  # "US officials" does not name "Officials"
                return NameMatch(found[0], found[1], "the name with words added", "words")
        # 3. Part of a longer known name: "the Observatory" of "Syrian Observatory for Human Rights".
        found = self._parts.get(key)
        if hit(found) and _has_capital(name):
            return NameMatch(found[0], found[1], "a shorter form of the name", "part")
        # 4. Initials: "SOHR", "Syrian Arab News Agency".
        if acronym:
            found = self._acronyms.get(tokens[0])
            if hit(found):
                return NameMatch(found[0], found[1], "the initials of the name", "initials")
        if self._short_acronyms:
            for initials in _initials(tokens):
                found = self._acronyms.get(initials)
                if hit(found) and len(name_tokens(found[1])) == 1:
                    return NameMatch(found[0], found[1], "the name spelled out", "spelled")
        return None
