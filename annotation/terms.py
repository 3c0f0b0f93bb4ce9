"""The words of a claim as the claims' search index sees them, for asking it about related claims.

The index (SQLite FTS5, tokenizer `unicode61 remove_diacritics 2`) folds case and accents and
splits on anything that is not a letter or digit; `index_terms` does the same here, so a word
of a claim can be looked up in the index's term counts.
"""
from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[^\W_]+", re.UNICODE)

# Words that say nothing about what a claim is about (function words, reporting verbs).
STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each either few for from further
had has have having he her here hers herself him himself his how i if in into is it its itself just
me more most my myself no nor not now of off on once only or other our ours ourselves out over own
same she should so some such than that the their theirs them themselves then there these they this
those through to too under until up very was we were what when where which while who whom why will
with would you your yours yourself yourselves said says say saying told tell tells according
reported reports stated states added adding claimed claims announced noted cited amid since
""".split())


def fold(text: str) -> str:
    """Lower case without accents, as the index folds a word."""
    if text.isascii():  # most news text: nothing to take off
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def index_terms(text: str) -> list[str]:
    """Every word of the text as the index stores it, in order."""
    return _WORD.findall(fold(text))


def query_terms(text: str) -> list[str]:
    """The distinct words worth searching for: no function words, no single characters."""
    seen: dict[str, None] = {}
    for word in index_terms(text):
        if len(word) > 1 and word not in STOPWORDS:
            seen.setdefault(word, None)
    return list(seen)


def fingerprint(text: str) -> str:
    """The words of a text, joined: two reports repeating a claim word for word share it."""
    return " ".join(index_terms(text))
