"""Tokens for the formats that need them (spaCy DocBin, Prodigy, CoNLL): spaCy's blank English
tokenizer, with tokens split wherever a span starts or ends inside one, so that no span has
to be widened or dropped; and spans trimmed of the whitespace spaCy will not train on."""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

from annotation.model import Span
from storage.export.summary import ExportSummary

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokenizer import Tokenizer
    from spacy.tokens import Doc

# Chunks (whitespace-separated pieces) the tokenizer remembers: spaCy's default of 10,000 is
# full after a few hundred articles, and every chunk after that goes through the affix rules.
TOKENIZER_CACHE = 1_000_000
# Where a special case must tokenize as the affix rules do before it is left out.
CONTEXTS = ("{0}", " {0} ", "({0})", "{0},", '"{0}.', "a {0} b", "x{0}y", "{0}{0}", "U.S.{0}",
            "Assad's {0} don't", "{0}'s", "-{0}-", "“{0}”", "{0}\n{0}")


@lru_cache(maxsize=1)
def blank_english() -> Language:
    """`spacy.blank("en")` whose tokenizer gives the same tokens faster on whole projects: a
    cache large enough for them, and without the special cases that only make one plain
    token the affix rules make anyway (see `inert_special_cases`)."""
    # spaCy takes a second to import: only the exports that tokenise pay for it.
    import spacy
    from spacy.tokenizer import Tokenizer
    nlp = spacy.blank("en")
    full = nlp.tokenizer
    assert isinstance(full, Tokenizer)
    inert = inert_special_cases(full)
    nlp.tokenizer = _tokenizer(full, {k: v for k, v in full.rules.items() if k not in inert},
                               TOKENIZER_CACHE)
    return nlp


def _tokenizer(like: Tokenizer, rules: dict, cache: int = 10_000) -> Tokenizer:
    from spacy.tokenizer import Tokenizer  # imported with spaCy by blank_english()
    return Tokenizer(like.vocab, rules=rules, prefix_search=like.prefix_search,
                     suffix_search=like.suffix_search, infix_finditer=like.infix_finditer,
                     token_match=like.token_match, url_match=like.url_match,
                     faster_heuristics=like.faster_heuristics, max_cache_size=cache)


def inert_special_cases(full: Tokenizer) -> set[str]:
    """The special cases that make one token with no attribute of its own, which the affix
    rules make anyway, in every one of CONTEXTS: line breaks, spaces, dashes, curly
    apostrophes, emoticons. spaCy's tokenizer caches no chunk of a text after it met a special
    case (tokenizer.pyx `_save_cached`, "See #1250"), so one line break early in an article
    made the rest of it tokenize uncached: ten times slower over a project."""
    from spacy.attrs import IDX, NORM, ORTH, SPACY  # imported with spaCy by blank_english()

    def columns(tokenizer: Tokenizer, text: str) -> list:
        return tokenizer(text).to_array([ORTH, NORM, IDX, SPACY]).tolist()

    bare = _tokenizer(full, {})  # the affix rules alone
    candidates = {key for key, value in full.rules.items()
                  if value == [{ORTH: key}] and len(bare(key)) == 1}
    while True:
        without = _tokenizer(full, {k: v for k, v in full.rules.items() if k not in candidates})
        differ = {key for key in candidates for context in CONTEXTS
                  if columns(without, context.format(key)) != columns(full, context.format(key))}
        if not differ:
            return candidates
        candidates -= differ


def trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The piece without surrounding whitespace; None when nothing else is left."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def pieces(span: Span) -> list[tuple[int, int]]:
    """A span's contiguous parts: its fragments when discontinuous, else the span itself."""
    if span.fragments and len(span.fragments) > 1:
        return [(a, b) for a, b in span.fragments]
    return [(span.start, span.end)]


class Tokens:
    """A text's tokens: each token's character offsets and trailing space, and (made when
    first asked for) a spaCy Doc of them."""

    def __init__(self, text: str, starts: list[int], ends: list[int], spaces: list[bool],
                 doc: Doc | None = None) -> None:
        self.text = text
        self.starts = starts
        self.ends = ends
        self.spaces = spaces
        self._doc = doc  # the tokenizer's, when no token had to be split

    @property
    def doc(self) -> Doc:
        """The tokens as a spaCy Doc: the tokenizer's, or one made of the split tokens."""
        if self._doc is None:
            from spacy.tokens import Doc  # imported with spaCy by blank_english()
            self._doc = Doc(blank_english().vocab, words=self.words(), spaces=self.spaces)
        return self._doc

    def words(self) -> list[str]:
        text = self.text
        return [text[a:b] for a, b in zip(self.starts, self.ends)]

    def index(self, start: int, end: int) -> tuple[int, int]:
        """Token indices (first, last inclusive) covering characters start..end."""
        return bisect_right(self.starts, start) - 1, bisect_right(self.starts, end - 1) - 1


def tokenize(text: str, cuts: Iterable[int] = ()) -> Tokens:
    """The blank tokenizer's tokens, split at every offset in `cuts` that falls inside one
    (Prodigy needs only the offsets: the Doc of split tokens is made when asked for)."""
    # Imported with spaCy by blank_english(): only the exports that tokenise pay for it.
    from spacy.attrs import IDX, LENGTH, SPACY
    doc = blank_english().tokenizer(text)
    if not len(doc):
        return Tokens(text, [], [], [], doc)
    # The offsets column by column: a Token object per token costs more.
    idx, length, space = doc.to_array([IDX, LENGTH, SPACY]).T
    starts: list[int] = idx.tolist()
    ends: list[int] = (idx + length).tolist()
    spaces: list[bool] = space.astype(bool).tolist()
    edges = set(starts)
    edges.update(ends)  # nearly every cut is one: a set says so sooner than a search
    inside = sorted({c for c in cuts if c not in edges and _inside(starts, ends, c)})
    if not inside:
        return Tokens(text, starts, ends, spaces, doc)
    new_starts: list[int] = []
    new_ends: list[int] = []
    new_spaces: list[bool] = []
    i = 0  # tokens and cuts are both in text order: walk them together
    for start, end, space in zip(starts, ends, spaces):
        while i < len(inside) and inside[i] <= start:
            i += 1
        while i < len(inside) and inside[i] < end:
            new_starts.append(start)
            new_ends.append(inside[i])
            new_spaces.append(False)
            start = inside[i]
            i += 1
        new_starts.append(start)
        new_ends.append(end)
        new_spaces.append(space)
    return Tokens(text, new_starts, new_ends, new_spaces)


def _inside(starts: list[int], ends: list[int], cut: int) -> bool:
    i = bisect_right(starts, cut) - 1
    return i >= 0 and starts[i] < cut < ends[i]


class Trimmed:
    """Each span's pieces trimmed of whitespace, and the tallies of what trimming changed."""

    def __init__(self) -> None:
        self.trimmed = 0  # pieces that lost whitespace at an edge
        self.blank = 0  # spans of only whitespace (nothing left to write)
        self.discontinuous = 0  # spans written as separate fragments
        self.fragments = 0

    def of(self, text: str, spans: list[Span]) -> tuple[list[tuple[Span, list[tuple[int, int]]]], set[int]]:
        """[(span, its trimmed pieces)] and every piece's edges (where tokens must end)."""
        out = []
        cuts: set[int] = set()
        for s in spans:
            ps = pieces(s)
            if len(ps) > 1:
                self.discontinuous += 1
                self.fragments += len(ps)
            kept = []
            for a, b in ps:
                t = trim(text, a, b)
                if t is None:
                    continue
                if t != (a, b):
                    self.trimmed += 1
                kept.append(t)
                cuts.update(t)
            if not kept:
                self.blank += 1
            out.append((s, kept))
        return out, cuts

    COUNTED = ("trimmed", "blank", "discontinuous", "fragments")

    def counts(self) -> dict[str, int]:
        return {f"cuts_{k}": getattr(self, k) for k in self.COUNTED}

    @classmethod
    def from_counts(cls, counts: dict[str, int]) -> Trimmed:
        made = cls()
        for k in cls.COUNTED:
            setattr(made, k, counts.get(f"cuts_{k}", 0))
        return made

    def notes(self, fmt: str, summary: ExportSummary) -> None:
        summary.note(self.blank, f"{fmt}: {self.blank} spans of only whitespace dropped")
        summary.note(self.trimmed, f"{fmt}: {self.trimmed} spans trimmed of surrounding whitespace")
        summary.note(self.discontinuous, f"{fmt}: {self.discontinuous} discontinuous spans written "
                                         f"as {self.fragments} separate fragments")
