"""FA-KES as benchmark input: the 804 rows, their model entities (cached), and varied copies.

A varied copy has another title and date, a dateline and its sentences in another order, so
its content hash differs; every entity and claim span is moved with its sentence, so spans
stay on the same words (checked by `check_spans`).
"""
from __future__ import annotations

import csv
import hashlib
import json
import random
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from annotation.model import ClaimRecord, NewDocument, SpanRecord  # noqa: E402

FAKES_CSV = ROOT.parent / "shared" / "data" / "fa-kes" / "FA-KES-Dataset.csv"
OUT = ROOT / "bench" / "out"
# Sentence ends: a full stop (or ?/!) then space then a capital or a quote.
_SENT = re.compile(r"(?<=[.!?\"])\s+(?=[A-Z\"])")
# Reporting verbs: the cue of a synthetic claim (source entity, cue, rest of the sentence).
_CUE = re.compile(r"\b(said|says|told|reported|stated|announced|claimed|denied|according to)\b")
_SOURCE_LABELS = {"PERSON", "ORG", "NORP", "GPE"}


def fakes_rows() -> list[dict[str, str]]:
    """The 804 FA-KES rows as dicts (unit_id, article_title, article_content, source, date, ...)."""
    if not FAKES_CSV.exists():
        raise SystemExit(f"needs {FAKES_CSV} (the shared data folder beside the repo)")
    with open(FAKES_CSV, encoding="utf-8", errors="replace", newline="") as f:
        return list(csv.DictReader(f))


def fakes_entities(rows: list[dict[str, str]]) -> tuple[str, list[list[tuple[int, int, str]]]]:
    """(model version, entity offsets per row) from the real NER model, cached in bench/out."""
    from annotation.pipeline import DEFAULT_MODEL, load_model, model_version
    digest = hashlib.sha256("".join(r["article_content"] for r in rows).encode()).hexdigest()[:16]
    cache = OUT / f"fakes-ents-{DEFAULT_MODEL}-{digest}.json"
    if cache.exists():
        data = json.loads(cache.read_text())
        return data["model"], [[tuple(e) for e in ents] for ents in data["ents"]]
    nlp = load_model(claims=False)
    ents = [[(e.start_char, e.end_char, e.label_) for e in doc.ents]
            for doc in nlp.pipe((r["article_content"] for r in rows), batch_size=64)]
    OUT.mkdir(parents=True, exist_ok=True)
    version = model_version(nlp)
    cache.write_text(json.dumps({"model": version, "ents": ents}))
    return version, ents


@dataclass
class _Piece:
    """One sentence (or sentences an entity spans) with its spans relative to its start."""
    text: str
    spans: list[tuple[int, int, str]]
    claims: list[tuple[tuple[int, int], tuple[int, int], tuple[int, int]]]  # source, cue, content


@dataclass
class _Article:
    row: dict[str, str]
    pieces: list[_Piece]


def _pieces(text: str, ents: list[tuple[int, int, str]]) -> list[_Piece]:
    cuts = [m.start() for m in _SENT.finditer(text)]
    # A boundary inside an entity ("U.S. Army") is no boundary.
    cuts = [c for c in cuts if not any(s < c < e for s, e, _ in ents)]
    bounds = [0] + cuts + [len(text)]
    out = []
    for a, b in zip(bounds, bounds[1:]):
        # Strip the separating whitespace: pieces are joined with one space.
        while a < b and text[a].isspace():
            a += 1
        if a >= b:
            continue
        spans = [(s - a, e - a, lab) for s, e, lab in ents if a <= s and e <= b]
        out.append(_Piece(text[a:b], spans, _claims(text[a:b], spans)))
    return out


def _claims(sentence: str, spans: list[tuple[int, int, str]]):
    """At most one claim a sentence: an entity before a reporting verb, the rest is the content."""
    m = _CUE.search(sentence)
    if not m:
        return []
    sources = [(s, e) for s, e, lab in spans if lab in _SOURCE_LABELS and e <= m.start()]
    if not sources:
        return []
    content = (m.end() + 1, len(sentence.rstrip(". ")))
    if content[1] - content[0] < 10:
        return []
    return [(sources[-1], (m.start(), m.end()), content)]


def _articles(rows: list[dict[str, str]], ents: list[list[tuple[int, int, str]]]) -> list[_Article]:
    return [_Article(r, _pieces(r["article_content"], e)) for r, e in zip(rows, ents)]


def _date(text: str) -> date:
    try:
        m, d, y = (int(x) for x in text.split("/"))
        return date(y, m, d)
    except ValueError:
        return date(2016, 1, 1)


def varied_documents(n: int, model: str, rows: list[dict[str, str]],
                     ents: list[list[tuple[int, int, str]]], *, seed: int = 6,
                     spans: bool = True) -> Iterator[NewDocument]:
    """n distinct articles: copy k of row i is row i retitled, redated and its sentences shuffled."""
    arts = _articles(rows, ents)
    rng = random.Random(seed)
    seen: set[str] = set()
    for k in range(n):
        art = arts[k % len(arts)]
        copy = k // len(arts)
        row = art.row
        day = _date(row["date"]) + timedelta(days=copy % 900)
        order = list(art.pieces)
        if copy:
            rng.shuffle(order)
        place = (row.get("location") or "Syria").strip().upper() or "SYRIA"
        marker = 0
        while True:
            head = f"{place}, {day:%d %b %Y}" + (f" (update {marker})" if marker else "") + " — "
            text = head + " ".join(p.text for p in order)
            h = hashlib.sha256(" ".join(text.split()).encode()).digest()
            if h not in seen:
                seen.add(h)
                break
            marker += 1
        doc = NewDocument(
            text, name=f"fakes-{row['unit_id']}-{copy}",
            title=row["article_title"] if not copy else f"{row['article_title']} ({day:%d %b %Y})",
            source=row["source"], date=day.isoformat(),
            meta={"location": row.get("location"), "copy_of": row["unit_id"], "row": k % len(arts)},
            labels=["credible" if row.get("labels") == "1" else "not credible"])
        if spans:
            _place_spans(doc, order, len(head), model)
        yield doc


def _place_spans(doc: NewDocument, order: list[_Piece], pos: int, model: str) -> None:
    out_spans, out_claims = [], []
    for p in order:
        for s, e, lab in p.spans:
            out_spans.append(SpanRecord(pos + s, pos + e, lab, model=model))
        for src, cue, content in p.claims:
            key = f"c{len(out_claims)}"
            for role, (s, e) in (("Source", src), ("Cue", cue), ("Content", content)):
                out_spans.append(SpanRecord(pos + s, pos + e, role, model=model, key=f"{key}{role}"))
            out_claims.append(ClaimRecord(f"{key}Content", f"{key}Cue", f"{key}Source", model=model,
                                          key=key))
        pos += len(p.text) + 1
    doc.spans, doc.claims = out_spans, out_claims


def check_spans(doc: NewDocument, rows: list[dict[str, str]],
                ents: list[list[tuple[int, int, str]]]) -> None:
    """Every placed entity covers the same words as in the original article (a bench self-check)."""
    i = doc.meta["row"]
    original = rows[i]["article_content"]
    want = sorted((original[s:e], lab) for s, e, lab in ents[i])
    got = sorted((doc.raw_text[s.start:s.end], s.label) for s in doc.spans
                 if s.label not in ("Source", "Cue", "Content"))
    # Entities cut by no sentence boundary all survive; the rare ones across two pieces are kept.
    assert got == want or set(got) <= set(want), (i, set(got) - set(want))
