"""Related claims: for one claim, the claims in other articles most likely about the same thing.

Three signals, scored together (`WEIGHTS`):
- the words of its content: the claims' full-text index (FTS5) finds the claims holding its
  rarest words; each is scored by the share of the claim's words it holds, each word weighted
  by its rarity (idf = ln(1 + N / claims holding it): never negative, unlike bm25's in a small
  project, and the same weights for finding and for scoring);
- the entities named inside the contents: the share of the claim's entities (by normalised
  name) the other claim names too, each weighted as its rarest word;
- how close the two articles' dates are (the score halves every `DATE_HALF_LIFE_DAYS`).

The fast path asks the index only for the claim's rarest words (at most `POSTINGS_BUDGET` index
entries) and scores the `CANDIDATES` hits holding most of their weight, with the claims of the articles nearest in date
(`NEAR_DATE_DAYS`) that share a word; `exhaustive=True` is the plain reference path (every word,
every claim sharing one scored), which the tests hold the fast one against.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from functools import lru_cache
from typing import Any

from annotation.dates import days_apart, parse_date
from annotation.model import CLAIM_LABELS
from annotation.sources import display_source_name, normalise_source_name
from annotation.terms import index_terms, query_terms
from storage.project import Project, ProjectError
from storage.schema import day_of

# Chosen on half of FA-KES's multi-outlet events and checked on the other half (bench/
# bench_related.py): reports of one event come out within a day or two of each other, so the
# date weighs nearly as much as the words; a first guess (0.6 / 0.25 / 0.15, a week's
# half-life) found another outlet's report in the top 5 for 42 % of the held-out claims, these
# for 65 %.
WEIGHTS = {"text": 0.5, "entities": 0.1, "date": 0.4}
DATE_HALF_LIFE_DAYS = 2.0
CANDIDATES = 200          # hits of the index the fast path reranks
POSTINGS_BUDGET = 10_000  # index entries the fast path reads (its rarest words first)
MIN_TERMS = 3             # words asked for even past the budget
MAX_TERMS = 16
NEAR_DATE_DAYS = 2           # the fast path also weighs the claims of articles this near in date,
NEAR_DATE_CANDIDATES = 200   # at most this many, nearest first
TIE_DATES_MAX = 5000         # claims tied at the candidates' cut ordered by date (more: by id)

_CLAIM_LABELS_SQL = ", ".join(f"'{lab}'" for lab in CLAIM_LABELS)
_DAY = day_of("d.date")  # the indexed ISO day of an article's date
# Entity names recur across thousands of claims: normalise each once.
_entity_key = lru_cache(maxsize=65536)(normalise_source_name)


@dataclass
class ClaimInfo:
    """What lists of claims show about a claim beside its content."""
    id: int
    document_id: int
    document: str            # the article's title, else its name
    date: str | None
    outlet: str | None       # who published the article (documents.source)
    source_name: str | None  # who the claim is attributed to (registry entry, else its span)
    source_id: int | None
    reliability: str | None  # the registry entry's grade
    credibility: int | None
    stance: str | None
    status: str


@dataclass
class RelatedClaim(ClaimInfo):
    """A claim in another article (what lists show about it), with why it is related (each
    part of the score)."""
    snippet: str             # the claim's content
    score: float
    text_score: float
    entity_score: float
    date_score: float
    shared_entities: list[str] = field(default_factory=list)
    days_apart: int | None = None
    link: str | None = None  # the kind of link the two claims already have

    @property
    def claim_id(self) -> int:
        return self.id

    def to_json(self) -> dict[str, Any]:
        fields = asdict(self)
        return {"claim_id": fields.pop("id"), **fields}


def claim_content(project: Project, claim_id: int) -> str | None:
    """The claim's content text as the index holds it (None: the claim has no content)."""
    project.claim(claim_id)  # ProjectError for an unknown claim
    row = project.conn.execute("SELECT content FROM claims_fts WHERE rowid = ?",
                               (claim_id,)).fetchone()
    return row[0] if row else None


def related_claims(project: Project, claim_id: int, k: int = 10, *, exhaustive: bool = False,
                   budget: int = POSTINGS_BUDGET,
                   weights: dict[str, float] | None = None) -> list[RelatedClaim]:
    """The k claims in other articles most related to this one, best first (rejected claims
    left out); empty when the claim has no content or no word of it is in another claim.

    `budget`: index entries the fast path reads at most; `exhaustive` reads them all.
    `weights` of the three signals (default `WEIGHTS`), for measuring what each one adds."""
    weigh = WEIGHTS if weights is None else {**{key: 0.0 for key in WEIGHTS}, **weights}
    if k <= 0:
        return []
    conn = project.conn
    row = conn.execute("SELECT c.document_id, d.date FROM claims c JOIN documents d"
                       " ON d.id = c.document_id WHERE c.id = ?", (claim_id,)).fetchone()
    if row is None:
        raise ProjectError(f"no claim {claim_id}")
    doc_id, own_date = row
    content = claim_content(project, claim_id)
    if not content:
        return []
    words = query_terms(content)
    counts = _term_counts(project, words)
    terms = _choose_terms(words, counts, None if exhaustive else budget)
    if not terms:
        return []
    n_claims = conn.execute("SELECT max(id) FROM claims").fetchone()[0] or 1
    idf = {w: math.log(1 + n_claims / counts[w]) for w in words if counts.get(w)}
    # The claims holding the chosen words, best first by the weight of the words they hold
    # (each word's list read from the index as it is: no per-claim ranking to compute).
    weight: dict[int, float] = {}
    for t in terms:
        w = idf[t]
        for (cid,) in conn.execute("SELECT rowid FROM claims_fts WHERE claims_fts MATCH ?",
                                   (f'"{t}"',)):
            weight[cid] = weight.get(cid, 0.0) + w
    weight.pop(claim_id, None)
    hits = sorted(weight, key=lambda c: (-weight[c], c))
    limit = CANDIDATES + 50  # room for the claim's own article and rejected claims
    if not exhaustive and len(hits) > limit:
        # Claims holding the same words tie: the cut keeps those nearest in date.
        edge = weight[hits[limit - 1]]
        above = [c for c in hits if weight[c] > edge]
        tied = [c for c in hits if weight[c] == edge]
        if len(tied) <= TIE_DATES_MAX:
            tied = _by_date(project, tied, own_date)
        hits = (above + tied)[:limit]
    ranks = {cid: -weight[cid] for cid in hits}
    found = _candidates(project, hits, doc_id)
    if not exhaustive:
        def nearness(c: tuple[int, int, str | None]) -> tuple[float, float, int]:
            days = days_apart(own_date, c[2])  # ties of weight: nearest in date first
            return (-weight[c[0]], days if days is not None else math.inf, c[0])
        found = sorted(found, key=nearness)[:CANDIDATES]
        if weigh["date"] > 0:
            # Reports of the same event share the day more than rare words: the claims of the
            # articles nearest in date join the candidates (those sharing no word drop out below).
            seen = {c[0] for c in found}
            found += [c for c in _near_in_date(project, own_date, doc_id) if c[0] not in seen]
    if not found:
        return []
    total = sum(idf.values())
    contents = claim_contents(project, [c[0] for c in found])
    contents[claim_id] = content
    holds = {c[0]: set(index_terms(contents.get(c[0], ""))) for c in found}
    # Only claims sharing a word of the claim's are related (the plain path's hits, exactly).
    found = [c for c in found if any(t in holds[c[0]] for t in idf)]
    if not found:
        return []
    # Words and dates first; entities (at most `weigh["entities"]` more) only for the claims
    # that could still reach the top k with them: the same top k as scoring every one.
    partial = {}
    for cid, _doc, date in found:
        text = sum(v for t, v in idf.items() if t in holds[cid]) / total if total else 0.0
        days = days_apart(own_date, date)
        when = 0.5 ** (days / DATE_HALF_LIFE_DAYS) if days is not None else 0.0
        partial[cid] = (weigh["text"] * text + weigh["date"] * when, text, when, days)
    if len(found) > k:
        kth = sorted((v[0] for v in partial.values()), reverse=True)[k - 1]
        found = [c for c in found if partial[c[0]][0] + weigh["entities"] >= kth - 1e-9]
    ids = [c[0] for c in found]
    entities = _entities(project, [claim_id] + ids, contents)
    mine = entities.get(claim_id, {})
    # An entity weighs as its rarest word: sharing "Douma" says more than sharing "Syria".
    entity_weight = {e: max((idf[t] for t in index_terms(name) if t in idf), default=0.0)
                     for e, name in mine.items()}
    entity_total = sum(entity_weight.values())
    scored = []
    for cid, _doc, _date in found:
        base, text, when, days = partial[cid]
        theirs = entities.get(cid, {})
        shared = sorted(set(mine) & set(theirs))
        ent = (sum(entity_weight[e] for e in shared) / entity_total) if entity_total else 0.0
        score = base + weigh["entities"] * ent
        scored.append((-round(score, 6), ranks.get(cid, 0.0), cid, text, ent, when, days,
                       [theirs[n] for n in shared]))
    # Equal scores: nearest in date, then the most weight of words, then the claim id.
    scored.sort(key=lambda s: (s[0], s[6] if s[6] is not None else math.inf, s[1], s[2]))
    best = scored[:k]
    infos = claims_info(project, [s[2] for s in best])
    links = _links(project, claim_id)
    out = []
    for neg, _rank, cid, text, ent, when, days, shared_names in best:
        i = infos[cid]
        out.append(RelatedClaim(
            **vars(i), snippet=contents.get(cid, ""), score=-neg, text_score=round(text, 6),
            entity_score=round(ent, 6), date_score=round(when, 6),
            shared_entities=shared_names, days_apart=days, link=links.get(cid)))
    return out


def _term_counts(project: Project, words: list[str]) -> dict[str, int]:
    """How many claims hold each word (the index's own counts)."""
    counts: dict[str, int] = {}
    for i in range(0, len(words), 500):
        chunk = words[i:i + 500]
        counts.update(project.conn.execute(
            f"SELECT term, doc FROM claims_fts_terms WHERE term IN ({','.join('?' * len(chunk))})",
            chunk).fetchall())
    return counts


def _choose_terms(words: list[str], counts: dict[str, int], budget: int | None) -> list[str]:
    """The words to ask the index for: those other claims have, rarest first; the fast path
    stops once they would read more than the budget of index entries."""
    known = sorted((w for w in words if counts.get(w, 0) > 1), key=lambda w: (counts[w], w))
    if budget is None:
        return known
    chosen: list[str] = []
    total = 0
    for w in known:
        if len(chosen) >= MAX_TERMS or (len(chosen) >= MIN_TERMS and total + counts[w] > budget):
            break
        chosen.append(w)
        total += counts[w]
    return chosen


def _near_in_date(project: Project, date: str | None, own_doc: int,
                  limit: int = NEAR_DATE_CANDIDATES) -> list[tuple[int, int, str | None]]:
    """(claim, article, article date) of the claims in the articles nearest in date (within
    `NEAR_DATE_DAYS`, same day first), outside the claim's own article, not rejected."""
    day = parse_date(date)
    if day is None:
        return []
    low = (day - timedelta(days=NEAR_DATE_DAYS)).isoformat()
    high = (day + timedelta(days=NEAR_DATE_DAYS)).isoformat()
    return project.conn.execute(
        f"SELECT c.id, c.document_id, d.date FROM documents d JOIN claims c"
        f" ON c.document_id = d.id WHERE {_DAY} BETWEEN ? AND ? AND d.id != ?"
        f" AND c.status != 'rejected' ORDER BY abs(julianday({_DAY}) - julianday(?)), c.id"
        " LIMIT ?", (low, high, own_doc, day.isoformat(), limit)).fetchall()


def _by_date(project: Project, ids: list[int], date: str | None) -> list[int]:
    """These claims nearest in date first (claims of undated articles last, then by id)."""
    day = parse_date(date)
    if day is None or not ids:
        return ids
    qs = ",".join("?" * len(ids))
    return [r[0] for r in project.conn.execute(
        f"SELECT c.id FROM claims c JOIN documents d ON d.id = c.document_id WHERE c.id IN ({qs})"
        f" ORDER BY abs(julianday({_DAY}) - julianday(?)) IS NULL,"
        f" abs(julianday({_DAY}) - julianday(?)), c.id", (*ids, day.isoformat(), day.isoformat()))]


def _chunks(ids: list[int], n: int = 500):
    for i in range(0, len(ids), n):
        chunk = ids[i:i + n]
        yield chunk, ",".join("?" * len(chunk))


def _candidates(project: Project, ids: list[int], own_doc: int) -> list[tuple[int, int, str | None]]:
    """(claim, article, article date) of the hits outside the claim's own article, not rejected."""
    out: list[tuple[int, int, str | None]] = []
    for chunk, qs in _chunks(ids):
        out += project.conn.execute(
            "SELECT c.id, c.document_id, d.date FROM claims c JOIN documents d ON d.id = c.document_id"
            f" WHERE c.id IN ({qs}) AND c.status != 'rejected' AND c.document_id != ?",
            (*chunk, own_doc)).fetchall()
    return out


def claims_info(project: Project, ids: list[int]) -> dict[int, ClaimInfo]:
    """What lists show of these claims: article, date, outlet, source and grades."""
    out: dict[int, ClaimInfo] = {}
    for chunk, qs in _chunks(ids):
        for r in project.conn.execute(
                "SELECT c.id, c.document_id, c.status, c.source_id, c.credibility, c.stance,"
                " coalesce(d.title, d.name, 'article ' || d.id), d.date, d.source, src.name,"
                " src.reliability, CASE WHEN src.id IS NULL AND ss.id IS NOT NULL THEN"
                " substr(d.text, ss.start + 1, ss.\"end\" - ss.start) END"
                " FROM claims c JOIN documents d ON d.id = c.document_id"
                " LEFT JOIN sources src ON src.id = c.source_id"
                " LEFT JOIN spans ss ON ss.id = c.source_span_id"
                f" WHERE c.id IN ({qs})", chunk):
            out[r[0]] = ClaimInfo(
                id=r[0], document_id=r[1], status=r[2], source_id=r[3], credibility=r[4],
                stance=r[5], document=r[6], date=r[7], outlet=r[8], reliability=r[10],
                source_name=r[9] or (display_source_name(r[11]) if r[11] else None))
    return out


def _entities(project: Project, ids: list[int],
              contents: dict[int, str]) -> dict[int, dict[str, str]]:
    """Per claim, the entities inside its content: normalised name -> the name as written.

    Their text is cut from the content the index holds (the same characters as the article's),
    so no article text is read."""
    out: dict[int, dict[str, str]] = {}
    for chunk, qs in _chunks(ids):
        for cid, base, start, end in project.conn.execute(
                "SELECT c.id, cs.start, e.start, e.\"end\""
                " FROM claims c JOIN spans cs ON cs.id = c.content_span_id"
                " JOIN spans e ON e.document_id = c.document_id AND e.start >= cs.start"
                " AND e.start < cs.\"end\""
                f" WHERE c.id IN ({qs}) AND e.status != 'rejected'"
                f" AND e.label NOT IN ({_CLAIM_LABELS_SQL})", chunk):
            text = contents.get(cid, "")[start - base:end - base]
            key = _entity_key(text)
            if key:
                out.setdefault(cid, {}).setdefault(key, " ".join(text.split()))
    return out


def claim_contents(project: Project, ids: list[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for chunk, qs in _chunks(ids):
        out.update(project.conn.execute(
            f"SELECT rowid, content FROM claims_fts WHERE rowid IN ({qs})", chunk).fetchall())
    return out


def _links(project: Project, claim_id: int) -> dict[int, str]:
    """The claims this one is already linked to (either way) and the link's kind."""
    return dict(project.conn.execute(
        "SELECT to_claim, kind FROM claim_links WHERE from_claim = ?1"
        " UNION ALL SELECT from_claim, kind FROM claim_links WHERE to_claim = ?1",
        (claim_id,)).fetchall())
