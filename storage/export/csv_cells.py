"""CSV a spreadsheet shows and never runs: every CSV export writes its cells through here."""
from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

from storage.export.values import dumps

# Full-width = + - @ too: some spreadsheet locales (Japanese Excel) read them as formula starts.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_cell(value: Any) -> Any:
    """A cell a spreadsheet will show as text, never run: formula-like strings get a leading '."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        value = dumps(value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_csv(f: IO[str], header: list[str], rows: Iterable[Iterable[Any]]) -> int:
    """The header, then the rows with every cell neutralised; returns how many rows."""
    writer = csv.writer(f)
    writer.writerow([csv_cell(h) for h in header])
    n = 0
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
        n += 1
    return n
