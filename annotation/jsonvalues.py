"""Strict JSON: values every export can write (no NaN/Infinity, 64-bit integers, bounded nesting,
strings that are valid Unicode). Used by the readers on import and by `check` on stored rows."""
from __future__ import annotations

import json
import math
from typing import Any

from annotation.limits import MAX_INT, MAX_JSON_DEPTH, MIN_INT


class NotStrictJSON(ValueError):
    """Text that Python's json reads but that is not JSON (NaN, Infinity) or not storable."""


def _no_constant(name: str) -> Any:
    raise NotStrictJSON(f"{name} is not a JSON value")


def _int(digits: str) -> int:
    # Refuse before converting: int() of thousands of digits is slow and raises past 4,300.
    if len(digits) > 20:
        raise NotStrictJSON(f"an integer of {len(digits.lstrip('-'))} digits (beyond 64 bits)")
    return int(digits)


class NotStorable:
    """What `raw_decode` puts where JSON holds a value no export can write (NaN, Infinity, an
    integer beyond 64 bits): parsing goes on, and `problem` names it."""

    def __init__(self, what: str):
        self.what = what

    def __repr__(self) -> str:
        return self.what


def _marked_int(digits: str) -> int | NotStorable:
    if len(digits) > 20:
        return NotStorable(f"an integer of {len(digits.lstrip('-'))} digits")
    return int(digits)


_decoder = json.JSONDecoder(parse_constant=_no_constant)
_strict_decoder = json.JSONDecoder(parse_constant=_no_constant, parse_int=_int)
_marking_decoder = json.JSONDecoder(parse_constant=NotStorable, parse_int=_marked_int)


def raw_decode(text: str, pos: int) -> tuple[Any, int]:
    """One JSON value from text[pos:] and where it ends; values no export can write are marked
    (NotStorable), not refused, so a stream of values can go on after them."""
    return _marking_decoder.raw_decode(text, pos)


def loads(text: str, *, check_ints: bool = False) -> Any:
    """json.loads that refuses NaN/Infinity (NotStrictJSON), and with check_ints long integers.

    Raises ValueError (JSONDecodeError, NotStrictJSON) or RecursionError for what is not JSON.
    """
    return (_strict_decoder if check_ints else _decoder).decode(text)


def problem(value: Any, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """Why `value` (parsed JSON) cannot be stored and exported as it is, or None."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        t = type(v)
        if t is str:
            if not v.isascii() and not _encodable(v):
                return "a string holds a lone surrogate (\\ud800-\\udfff), not Unicode text"
        elif t is int:
            if not MIN_INT <= v <= MAX_INT:
                return "an integer beyond 64 bits"
        elif t is float:
            if not math.isfinite(v):
                return "a number out of range (NaN or Infinity)"
        elif t is dict or t is list:
            if depth > max_depth:
                return f"nested more than {max_depth} levels deep"
            if t is dict:
                for k, item in v.items():
                    if type(k) is not str:
                        return "an object key that is not a string"
                    if not k.isascii() and not _encodable(k):
                        return "a key holds a lone surrogate, not Unicode text"
                    stack.append((item, depth + 1))
            else:
                stack.extend((item, depth + 1) for item in v)
        elif v is None or t is bool:
            pass
        elif t is NotStorable:
            return f"{v.what}, not a value JSON can hold"
        else:
            return f"a {t.__name__}, not a JSON value"
    return None


def has_lone_surrogate(value: Any) -> bool:
    """Whether any string (or key) in parsed JSON holds a lone surrogate (a \\ud800 escape):
    SQLite cannot store such a string, whatever field it is in."""
    stack = [value]
    while stack:
        v = stack.pop()
        t = type(v)
        if t is str:
            if not v.isascii() and not _encodable(v):
                return True
        elif t is dict:
            stack.extend(v.keys())
            stack.extend(v.values())
        elif t is list:
            stack.extend(v)
    return False


def _encodable(s: str) -> bool:
    try:
        s.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False
