"""Values every format can write: stored JSON read safely, and strict JSON out.

A document's `meta` comes from whoever made the imported file, and JSON readers accept what
some formats cannot write: NaN and Infinity (not JSON at all), integers of thousands of
digits (msgpack, and so spaCy's DocBin, holds 64 bits), nesting hundreds deep (msgpack stops
at 512 levels, Python's recursion at about 1,000), lone UTF-16 surrogates (not UTF-8).
`MetaReader` reads such values into ones every format writes the same way: null, the
integer's digits as text, the nested value's JSON text, U+FFFD; and counts how many it
changed, for the export's summary.
"""
from __future__ import annotations

import json
from typing import Any

# Containers nested deeper than this are written as their JSON text (a string).
MAX_DEPTH = 64
_INT_MIN, _INT_MAX = -(1 << 63), (1 << 63) - 1

# json.dumps(..., ensure_ascii=False) that raises on NaN and Infinity instead of writing them,
# and does not look for containers that hold themselves (exports write values read from JSON
# and built here: none can), which costs a dict lookup per container.
dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, check_circular=False).encode


class BadJSON(ValueError):
    """A stored JSON column that does not parse."""


def load_json(text: str | None, default: Any = None) -> Any:
    """A stored JSON column that holds plain data (offsets, fragments). Raises BadJSON."""
    if text is None or text == "":
        return default
    try:
        return json.loads(text)
    except RecursionError:
        raise BadJSON("its JSON is nested too deeply to read") from None
    except ValueError as exc:
        raise BadJSON(f"its JSON is malformed ({exc})") from None


class MetaReader:
    """Reads `documents.meta` into values every format can write; `changed` counts the values
    it had to change (NaN / Infinity, huge integers, deep nesting, lone surrogates)."""

    def __init__(self) -> None:
        self.changed = 0

    def load(self, text: str | None) -> Any:
        """The stored JSON text as portable values. Raises BadJSON."""
        if text is None or text == "":
            return {}
        text = self._flatten_deep(text)
        try:
            value = json.loads(text, parse_int=self._integer, parse_constant=self._constant)
        except RecursionError:  # only an unclosed one is still this deep: it is malformed
            raise BadJSON("its meta JSON is malformed (unclosed, nested too deeply)") from None
        except ValueError as exc:
            raise BadJSON(f"its meta JSON is malformed ({exc})") from None
        return self._portable(value)

    def _flatten_deep(self, text: str) -> str:
        """The text with every container nested deeper than MAX_DEPTH replaced by a JSON
        string of its text: read without recursion, so no nesting is too deep to export."""
        if text.count("[") + text.count("{") <= MAX_DEPTH:
            return text  # cannot be that deep: nearly every document
        out: list[str] = []
        depth = 0
        copied = 0  # text[:copied] is in `out`
        start = -1
        in_string = escaped = False
        for i, ch in enumerate(text):
            if in_string:
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == '"':
                    in_string = False
            elif ch == '"':
                in_string = True
            elif ch in "[{":
                depth += 1
                if depth == MAX_DEPTH + 1:
                    start = i
            elif ch in "]}":
                if depth == MAX_DEPTH + 1 and start >= 0:
                    out += [text[copied:start], json.dumps(text[start:i + 1])]
                    copied = i + 1
                    self.changed += 1
                depth -= 1
        if depth > MAX_DEPTH and start >= 0:  # never closed: malformed, and said so by json
            return text
        return "".join(out) + text[copied:]

    def _integer(self, digits: str) -> int | str:
        # Python refuses to read integers of more than 4,300 digits: they stay text.
        if len(digits) <= 18:
            return int(digits)
        if len(digits) <= 20:
            value = int(digits)
            if _INT_MIN <= value <= _INT_MAX:
                return value
        self.changed += 1
        return digits

    def _constant(self, _name: str) -> None:  # NaN, Infinity, -Infinity
        self.changed += 1
        return None

    def _portable(self, value: Any) -> Any:
        """Lone surrogates (from "\\ud800" escapes) replaced: every format writes UTF-8."""
        if isinstance(value, str):
            return self._text(value)
        if isinstance(value, dict):
            return {self._text(k): self._portable(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._portable(v) for v in value]
        return value

    def _text(self, value: str) -> str:
        if value.isascii():
            return value
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            self.changed += 1
            return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in value)
        return value
