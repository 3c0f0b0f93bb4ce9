"""brat standoff (.ann) reading and writing, PolNeAR style: T spans tied into claims by E lines."""
from __future__ import annotations

import re

from .model import ClaimRecord, SpanRecord

# "T3<TAB>Label 10 20;25 30<TAB>surface" — the surface is optional in what we accept.
_T_LINE = re.compile(r"^(T\d+)\t(\S+) (\d+ \d+(?:;\d+ \d+)*)(?:\t(.*))?$")
_ID_LINE = re.compile(r"^(?:[TERAMN]\d+|#\d*|\*)\t")
# Offsets longer than this are no offsets (and int() of thousands of digits is slow or refused).
_MAX_DIGITS = 18
_E_ARG = re.compile(r"^([^:\s]+):([TE]\d+)$")
# E-line roles that name the attribution itself (its trigger span in brat terms).
_ATTRIBUTION_ROLES = ("Attribution", "Attribution-no-source")


def parse_ann(text: str, ann: str, annotator: str | None = None
              ) -> tuple[list[SpanRecord], list[ClaimRecord], list[str]]:
    """Read a .ann against its text: spans, claims (from E lines) and a list of problems found.

    Flawed lines (malformed, offsets outside the text, surface differing from the text at the
    offsets) are reported, never fatal; a span whose surface differs is still kept (offsets win).
    An E line with a second content (PolNeAR's `Content2`) becomes a second claim sharing
    the attribution, source and cue.
    """
    spans: list[SpanRecord] = []
    claims: list[ClaimRecord] = []
    problems: list[str] = []
    keys: set[str | None] = set()
    events: list[tuple[int, str, list[str]]] = []
    for n, line in enumerate(ann.splitlines(), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        if not _ID_LINE.match(line):
            # Typically the rest of a surface text that held a line break.
            problems.append(f"line {n}: malformed line (no brat id and tab): {line[:80]!r}")
            continue
        kind = line[0]
        if kind == "T":
            span = _parse_t(line, text, n, problems)
            if span is not None:
                span.annotator = annotator
                if span.key in keys:
                    problems.append(f"line {n}: duplicate id {span.key}; kept the first")
                    continue
                keys.add(span.key)
                spans.append(span)
        elif kind == "E":
            parts = line.split("\t")
            if len(parts) < 2 or not re.fullmatch(r"E\d+", parts[0]):
                problems.append(f"line {n}: malformed E line: {line[:80]!r}")
                continue
            events.append((n, parts[0], parts[1].split()))
        # Other lines (notes, relations, attributes, normalisations) are not part of our model.
    for n, key, args in events:
        claims.extend(_parse_e(n, key, args, keys, annotator, problems))
    return spans, claims, problems


def _parse_t(line: str, text: str, n: int, problems: list[str]) -> SpanRecord | None:
    m = _T_LINE.match(line)
    if not m:
        problems.append(f"line {n}: malformed T line: {line[:80]!r}")
        return None
    key, label, offsets, surface = m.groups()
    numbers = offsets.replace(";", " ").split()
    if any(len(x) > _MAX_DIGITS or not x.isascii() for x in numbers):
        problems.append(f"line {n}: {key} has an offset that is not a plain whole number of at "
                        f"most {_MAX_DIGITS} digits; span skipped")
        return None
    fragments = [[int(a), int(b)] for a, b in (p.split() for p in offsets.split(";"))]
    for a, b in fragments:
        if not (0 <= a < b <= len(text)):
            problems.append(f"line {n}: {key} offsets {a}-{b} lie outside the text "
                            f"(length {len(text)}); span skipped")
            return None
    if surface is not None:
        # brat joins the pieces of a discontinuous span with one space in the surface text.
        at_offsets = " ".join(text[a:b] for a, b in fragments)
        if _squash(surface) != _squash(at_offsets):
            problems.append(f"line {n}: {key} surface {surface[:40]!r} differs from the text at "
                            f"its offsets {at_offsets[:40]!r}; kept the offsets")
    start = min(a for a, _ in fragments)
    end = max(b for _, b in fragments)
    return SpanRecord(start=start, end=end, label=label, origin="import", status="accepted",
                      fragments=fragments if len(fragments) > 1 else None, key=key)


def _squash(s: str) -> str:
    # Writers replace line breaks in the surface; compare modulo whitespace.
    return " ".join(s.split())


def _parse_e(n: int, key: str, args: list[str], keys: set[str | None], annotator: str | None,
             problems: list[str]) -> list[ClaimRecord]:
    roles: dict[str, str] = {}
    contents: list[str] = []
    for arg in args:
        m = _E_ARG.match(arg)
        if not m:
            problems.append(f"line {n}: {key} has a malformed argument {arg!r}")
            continue
        role, ref = m.groups()
        if ref not in keys:
            problems.append(f"line {n}: {key} refers to {ref}, which is not a usable span")
            continue
        if role in _ATTRIBUTION_ROLES:
            roles["attribution"] = ref
        elif role.startswith("Content"):
            contents.append(ref)
        elif role in ("Source", "Cue"):
            roles[role.lower()] = ref
        else:
            problems.append(f"line {n}: {key} has an unknown role {role!r}; ignored")
    if not roles and not contents:
        problems.append(f"line {n}: {key} ties no spans together; skipped")
        return []
    out = []
    for i, content in enumerate(contents or [None]):
        out.append(ClaimRecord(content=content, cue=roles.get("cue"), source=roles.get("source"),
                               attribution=roles.get("attribution"), origin="import",
                               status="accepted", annotator=annotator,
                               key=key if i == 0 else f"{key}.{i + 1}"))
    return out


def write_ann(text: str, spans: list[SpanRecord], claims: list[ClaimRecord]) -> str:
    """PolNeAR-style .ann: one T line per span (ids renumbered) and one E line per claim.

    Claims refer to spans by `key`; a claim with no attribution span gets one copied from
    its cue (brat events need a trigger), labelled `Attribution` or `Attribution-no-source`.
    """
    lines: list[str] = []
    ids: dict[str, str] = {}
    labels: dict[str, str] = {}
    by_key: dict[str, SpanRecord] = {}
    counter = 0

    def emit(span: SpanRecord) -> str:
        nonlocal counter
        counter += 1
        tid = f"T{counter}"
        frags = span.fragments or [[span.start, span.end]]
        offsets = ";".join(f"{a} {b}" for a, b in frags)
        surface = " ".join(text[a:b] for a, b in frags)
        # A newline inside the surface would break the line-based format.
        surface = surface.replace("\r", " ").replace("\n", " ")
        lines.append(f"{tid}\t{span.label} {offsets}\t{surface}")
        return tid

    for i, span in enumerate(spans):
        tid = emit(span)
        key = span.key or f"_span{i}"
        ids[key] = tid
        labels[key] = span.label
        by_key[key] = span
    for e, claim in enumerate(claims, start=1):
        trigger = trigger_label = None
        if claim.attribution:
            trigger = ids.get(claim.attribution)
            trigger_label = labels.get(claim.attribution) if trigger else None
        if trigger is None and claim.cue in by_key:
            cue = by_key[claim.cue]
            trigger_label = "Attribution" if claim.source in ids else "Attribution-no-source"
            trigger = emit(SpanRecord(cue.start, cue.end, trigger_label, fragments=cue.fragments))
        args = []
        if trigger:
            args.append(f"{trigger_label}:{trigger}")
        for role, ref in (("Source", claim.source), ("Cue", claim.cue), ("Content", claim.content)):
            if ref and ref in ids:
                args.append(f"{role}:{ids[ref]}")
        if args:
            lines.append(f"E{e}\t" + " ".join(args))
    return "\n".join(lines) + ("\n" if lines else "")
