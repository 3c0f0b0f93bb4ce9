"""Values every format can write: stored JSON read safely, and strict JSON out.

A document's `meta` comes from whoever made the imported file, and JSON readers accept what
some formats cannot write: NaN and Infinity (not JSON at all), integers of thousands of
digits (msgpack, and so spaCy's DocBin, holds 64 bits), nesting hundreds deep (msgpack stops
at 512 levels), lone UTF-16 surrogates (not UTF-8). `MetaReader` reads such values into ones
every format writes the same way: null, the integer's digits as text, the nested value's
JSON text, U+FFFD; and counts how many it changed, for the export's summary.
"""
from __future__ import annotations

import json
import math
from typing import Any

# Containers nested deeper than this are written as their JSON text (a string).
MAX_DEPTH = 64
_INT_MIN, _INT_MAX = -(1 << 63), (1 << 63) - 1

# json.dumps(..., ensure_ascii=False) that raises on NaN and Infinity instead of writing them.
dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode


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
        try:
            value = json.loads(text, parse_int=self._integer, parse_constant=self._constant)
        except RecursionError:
            raise BadJSON("its meta JSON is nested too deeply to read") from None
        except ValueError as exc:
            raise BadJSON(f"its meta JSON is malformed ({exc})") from None
        return self.portable(value)

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

    def portable(self, value: Any, depth: int = 0) -> Any:
        """A value every format can write (see the module's docstring)."""
        if isinstance(value, str):
            return self._text(value)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int):
            if _INT_MIN <= value <= _INT_MAX:
                return value
            self.changed += 1
            return hex(value) if value.bit_length() > 14_000 else str(value)
        if isinstance(value, float):
            if math.isfinite(value):
                return value
            self.changed += 1
            return None
        if isinstance(value, (dict, list)):
            if depth >= MAX_DEPTH:
                # json.loads read it at this depth, so json.dumps writes it. ASCII-escaped:
                # the text holds no lone surrogate, whatever the value did.
                self.changed += 1
                return json.dumps(value, allow_nan=False)
            if isinstance(value, dict):
                return {self._text(str(k)): self.portable(v, depth + 1) for k, v in value.items()}
            return [self.portable(v, depth + 1) for v in value]
        self.changed += 1
        return self._text(str(value))

    def _text(self, value: str) -> str:
        if value.isascii():
            return value
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate, read from a "\ud800" escape
            self.changed += 1
            return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in value)
        return value
