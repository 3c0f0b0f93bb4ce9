"""Related claims: for one claim, the claims in other articles most likely about the same thing.

Three signals, scored together (`WEIGHTS`):
- the words of its content: the claims' full-text index (FTS5) finds the claims holding its
  rarest words, best bm25 first; each is scored by the share of the claim's words it holds,
  each word weighted by its rarity (idf = ln(1 + N / claims holding it), never negative, unlike
  bm25's in a small project);
- the entities named inside the contents: the share of the claim's entities (by normalised
  name) the other claim names too, each weighted as its rarest word;
- how close the two articles' dates are (the score halves every `DATE_HALF_LIFE_DAYS`).

The fast path asks the index only for the claim's rarest words (at most `POSTINGS_BUDGET` index
entries) and reranks the best `CANDIDATES` hits; `exhaustive=True` is the plain reference path
(every word, every hit scored), which the tests hold the fast one against.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from annotation.dates import days_apart
from annotation.model import CLAIM_LABELS
from annotation.sources import display_source_name, normalise_source_name
from annotation.terms import index_terms, query_terms
from storage.project import Project, ProjectError

# Chosen on half of FA-KES's multi-outlet events and checked on the other half (bench/
# bench_related.py): reports of one event come out within a day or two of each other, so the
# date weighs as much as the words; a first guess (0.6 / 0.25 / 0.15, a week's half-life) found
# another outlet's report in the top 5 for 39 % of the held-out claims, these for 52 %.
WEIGHTS = {"text": 0.5, "entities": 0.1, "date": 0.4}
DATE_HALF_LIFE_DAYS = 2.0
CANDIDATES = 200          # hits of the index the fast path reranks
POSTINGS_BUDGET = 10_000  # index entries the fast path reads (its rarest words first)
MIN_TERMS = 3             # words asked for even past the budget
MAX_TERMS = 16

_CLAIM_LABELS_SQL = ", ".join(f"'{lab}'" for lab in CLAIM_LABELS)
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
class RelatedClaim:
    """A claim in another article, with why it is related (each part of the score)."""
    claim_id: int
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
    snippet: str             # the claim's content
    score: float
    text_score: float
    entity_score: float
    date_score: float
    shared_entities: list[str] = field(default_factory=list)
    days_apart: int | None = None
    link: str | None = None  # the kind of link the two claims already have

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


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
    match = " OR ".join(f'"{t}"' for t in terms)
    sql = "SELECT rowid, rank FROM claims_fts WHERE claims_fts MATCH ? ORDER BY rank"
    args: list[Any] = [match]
    if not exhaustive:
        sql += " LIMIT ?"
        args.append(CANDIDATES + 50)  # room for the claim's own article and rejected claims
    ranks = {cid: r for cid, r in conn.execute(sql, args) if cid != claim_id}
    found = _candidates(project, list(ranks), doc_id)
    if not exhaustive:
        found = sorted(found, key=lambda c: (ranks[c[0]], c[0]))[:CANDIDATES]
    if not found:
        return []
    n_claims = conn.execute("SELECT max(id) FROM claims").fetchone()[0] or 1
    idf = {w: math.log(1 + n_claims / counts[w]) for w in words if counts.get(w)}
    total = sum(idf.values())
    ids = [c[0] for c in found]
    contents = claim_contents(project, ids)
    contents[claim_id] = content
    entities = _entities(project, [claim_id] + ids, contents)
    mine = entities.get(claim_id, {})
    # An entity weighs as its rarest word: sharing "Douma" says more than sharing "Syria".
    entity_weight = {e: max((idf[t] for t in index_terms(name) if t in idf), default=0.0)
                     for e, name in mine.items()}
    entity_total = sum(entity_weight.values())
    scored = []
    for cid, _doc, date in found:
        theirs_words = set(index_terms(contents.get(cid, "")))
        text = sum(v for t, v in idf.items() if t in theirs_words) / total if total else 0.0
        theirs = entities.get(cid, {})
        shared = sorted(set(mine) & set(theirs))
        ent = (sum(entity_weight[e] for e in shared) / entity_total) if entity_total else 0.0
        days = days_apart(own_date, date)
        when = 0.5 ** (days / DATE_HALF_LIFE_DAYS) if days is not None else 0.0
        score = weigh["text"] * text + weigh["entities"] * ent + weigh["date"] * when
        scored.append((-round(score, 6), ranks[cid], cid, text, ent, when, days,
                       [theirs[n] for n in shared]))
    scored.sort(key=lambda s: (s[0], s[1], s[2]))
    best = scored[:k]
    infos = claims_info(project, [s[2] for s in best])
    links = _links(project, claim_id)
    out = []
    for neg, _rank, cid, text, ent, when, days, shared_names in best:
        i = infos[cid]
        out.append(RelatedClaim(
            claim_id=cid, document_id=i.document_id, document=i.document, date=i.date,
            outlet=i.outlet, source_name=i.source_name, source_id=i.source_id,
            reliability=i.reliability, credibility=i.credibility, stance=i.stance, status=i.status,
            snippet=contents.get(cid, ""), score=-neg, text_score=round(text, 6),
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
    chosen, total = [], 0
    for w in known:
        if len(chosen) >= MAX_TERMS or (len(chosen) >= MIN_TERMS and total + counts[w] > budget):
            break
        chosen.append(w)
        total += counts[w]
    return chosen


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
