"""Placeholder until the normaliser lands: identity mapping (replaced by the real one)."""
from __future__ import annotations
from dataclasses import dataclass


@dataclass
class Normalised:
    text: str
    offset_map: list[list[int]]


def identity(raw: str) -> Normalised:
    return Normalised(raw, [[0, 0, len(raw)]] if raw else [])


def normalise(raw: str, boilerplate=None) -> Normalised:
    return identity(raw)
