"""Article dates as imported (ISO, US "4/5/2017", "05 Apr 2017"…) read as calendar days."""
from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache

_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})")
_SLASHED = re.compile(r"^\s*(\d{1,2})[/.](\d{1,2})[/.](\d{2,4})\b")
_WORDS = ("%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%a %d %b %Y", "%Y %b %d")


@lru_cache(maxsize=8192)
def parse_date(text: str | None) -> date | None:
    """The day an article is dated, or None when the text is not a date we read.

    Slashed dates are month first (US, as FA-KES writes them) unless the first number cannot
    be a month."""
    if not text:
        return None
    try:
        m = _ISO.match(text)
        if m:
            return date(int(m[1]), int(m[2]), int(m[3]))
        m = _SLASHED.match(text)
        if m:
            a, b, y = int(m[1]), int(m[2]), int(m[3])
            y += 2000 if y < 100 else 0
            month, day = (b, a) if a > 12 else (a, b)
            return date(y, month, day)
    except ValueError:
        return None
    cleaned = " ".join(text.replace(",", " ").split())
    for fmt in _WORDS:
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    return None


def days_apart(a: str | None, b: str | None) -> int | None:
    """Whole days between two article dates; None when either is missing or unreadable."""
    da, db = parse_date(a), parse_date(b)
    if da is None or db is None:
        return None
    return abs((da - db).days)
