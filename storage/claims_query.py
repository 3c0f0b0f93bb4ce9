"""The claims across the project, as the claims view lists them: filtered and sorted in SQL and
read a page at a time, so the view stays fast with 100,000 articles."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from annotation.model import LINK_KINDS, STANCES
from annotation.sources import display_source_name
from storage.project import Project, fts_query
from storage.related import claim_contents
from storage.schema import day_of

UNGRADED = "ungraded"
NO_STANCE = "none"
ANY_LINK, NO_LINK = "any", "none"
NOT_REJECTED = "not rejected"
STATUSES = (NOT_REJECTED, "accepted", "suggested", "rejected")
_DAY = day_of("d.date")
_LINK_COUNT = ("((SELECT count(*) FROM claim_links l WHERE l.from_claim = c.id)"
               " + (SELECT count(*) FROM claim_links l WHERE l.to_claim = c.id))")
# Sort keys: (SQL, which tables it needs). Ties are broken by claim id.
SORTS: dict[str, tuple[str, frozenset[str]]] = {
    "id": ("c.id", frozenset()),
    "date": (_DAY, frozenset({"d"})),
    "article": ("coalesce(d.title, d.name)", frozenset({"d"})),
    "source": ("src.name", frozenset({"src"})),
    "reliability": ("src.reliability", frozenset({"src"})),
    "credibility": ("c.credibility", frozenset()),
    "stance": ("c.stance", frozenset()),
    "status": ("c.status", frozenset()),
    "links": (_LINK_COUNT, frozenset()),
}


@dataclass
class ClaimFilter:
    """What the claims view shows; None everywhere (but status) shows every claim."""
    search: str | None = None        # words of the content (each must appear; prefixes match)
    source: str | None = None        # part of a registry entry's name or alias
    source_id: int | None = None
    credibility: int | str | None = None  # 1–6, or UNGRADED
    reliability: str | None = None   # A–F (the source's), or UNGRADED
    stance: str | None = None        # asserts / denies / hedges, or NO_STANCE
    link: str | None = None          # a link kind, ANY_LINK or NO_LINK
    date_from: str | None = None     # ISO day, inclusive
    date_to: str | None = None
    status: str | None = NOT_REJECTED  # one of STATUSES, None: every claim
    document_id: int | None = None


@dataclass
class ClaimRow:
    id: int
    document_id: int
    document: str
    date: str | None
    day: str | None          # the article's date as an ISO day (None: not a form we read)
    outlet: str | None
    source_name: str | None
    source_id: int | None
    reliability: str | None
    credibility: int | None
    stance: str | None
    status: str
    annotator: str | None
    content: str = ""
    links: dict[str, int] = field(default_factory=dict)  # kind -> how many, both ways

    @property
    def n_links(self) -> int:
        return sum(self.links.values())


def count_claims(project: Project, flt: ClaimFilter) -> int:
    sql, args = _query("count(*)", flt, frozenset())
    return project.conn.execute(sql, args).fetchone()[0]


def claim_ids(project: Project, flt: ClaimFilter, *, sort: str = "id",
              descending: bool = False) -> list[int]:
    """Every claim matching the filter, in the sort's order (ties by claim id): one query when
    the filter or sort changes; rows are then read a page at a time (`claim_rows`)."""
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}; one of {', '.join(SORTS)}")
    key, needs = SORTS[sort]
    sql, args = _query("c.id", flt, needs)
    way = " DESC" if descending else ""
    sql += f" ORDER BY {key}{way}, c.id{way}"
    try:
        return [r[0] for r in project.conn.execute(sql, args)]
    except sqlite3.OperationalError as exc:
        if not (flt.search and flt.search.strip()):
            raise
        raise ValueError(f"search not understood: {exc}") from None


def claim_rows(project: Project, ids: list[int]) -> list[ClaimRow | None]:
    """These claims as the view shows them, in this order (None for one no longer stored)."""
    found: dict[int, ClaimRow] = {}
    spans: dict[int, int] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        for r in project.conn.execute(
                "SELECT c.id, c.document_id, coalesce(d.title, d.name, 'article ' || d.id), d.date,"
                f" {_DAY}, d.source, src.name, c.source_id, src.reliability, c.credibility,"
                " c.stance, c.status, c.annotator, c.source_span_id FROM claims c"
                " JOIN documents d ON d.id = c.document_id"
                " LEFT JOIN sources src ON src.id = c.source_id"
                f" WHERE c.id IN ({','.join('?' * len(chunk))})", chunk):
            found[r[0]] = ClaimRow(*r[:13])
            if r[6] is None and r[13] is not None:
                spans[r[0]] = r[13]
    present = list(found)
    contents = claim_contents(project, present)
    names = _span_texts(project, spans)
    links = _link_counts(project, present)
    for cid, row in found.items():
        row.content = contents.get(cid, "")
        row.links = links.get(cid, {})
        if row.source_name is None and cid in names:
            row.source_name = names[cid]
    return [found.get(i) for i in ids]


def _query(columns: str, flt: ClaimFilter, needs: frozenset[str]) -> tuple[str, list[Any]]:
    where: list[str] = []
    args: list[Any] = []
    joins = set(needs)
    if flt.status and flt.status != NOT_REJECTED:
        if flt.status not in STATUSES:
            raise ValueError(f"unknown status {flt.status!r}")
        where.append("c.status = ?")
        args.append(flt.status)
    elif flt.status == NOT_REJECTED:
        where.append("c.status != 'rejected'")
    if flt.document_id is not None:
        where.append("c.document_id = ?")
        args.append(flt.document_id)
    if flt.search and flt.search.strip():
        where.append("c.id IN (SELECT rowid FROM claims_fts WHERE claims_fts MATCH ?)")
        args.append(fts_query(flt.search))
    if flt.source_id is not None:
        where.append("c.source_id = ?")
        args.append(flt.source_id)
    if flt.source and flt.source.strip():
        pattern = "%" + _like(flt.source.strip()) + "%"
        where.append("c.source_id IN (SELECT id FROM sources WHERE name LIKE ? ESCAPE '\\'"
                     " UNION SELECT source_id FROM source_aliases WHERE alias LIKE ? ESCAPE '\\')")
        args += [pattern, pattern]
    if flt.credibility is not None:
        if flt.credibility == UNGRADED:
            where.append("c.credibility IS NULL")
        else:
            where.append("c.credibility = ?")
            args.append(int(flt.credibility))
    if flt.reliability is not None:
        if flt.reliability == UNGRADED:
            where.append("(c.source_id IS NULL OR c.source_id IN"
                         " (SELECT id FROM sources WHERE reliability IS NULL))")
        else:
            where.append("c.source_id IN (SELECT id FROM sources WHERE reliability = ?)")
            args.append(flt.reliability.upper())
    if flt.stance is not None:
        if flt.stance == NO_STANCE:
            where.append("c.stance IS NULL")
        elif flt.stance in STANCES:
            where.append("c.stance = ?")
            args.append(flt.stance)
        else:
            raise ValueError(f"unknown stance {flt.stance!r}")
    if flt.link is not None:
        if flt.link in (ANY_LINK, NO_LINK):
            linked = "SELECT from_claim FROM claim_links UNION SELECT to_claim FROM claim_links"
            where.append(f"c.id {'NOT ' if flt.link == NO_LINK else ''}IN ({linked})")
        elif flt.link in LINK_KINDS:
            where.append("c.id IN (SELECT from_claim FROM claim_links WHERE kind = ?"
                         " UNION SELECT to_claim FROM claim_links WHERE kind = ?)")
            args += [flt.link, flt.link]
        else:
            raise ValueError(f"unknown link kind {flt.link!r}")
    if flt.date_from:
        where.append(f"{_DAY} >= ?")
        args.append(flt.date_from)
        joins.add("d")
    if flt.date_to:
        where.append(f"{_DAY} <= ?")
        args.append(flt.date_to)
        joins.add("d")
    sql = f"SELECT {columns} FROM claims c"
    if "d" in joins:
        sql += " JOIN documents d ON d.id = c.document_id"
    if "src" in joins:
        sql += " LEFT JOIN sources src ON src.id = c.source_id"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return sql, args


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _span_texts(project: Project, spans: dict[int, int]) -> dict[int, str]:
    """The source span's text of claims without a registry entry."""
    by_span = {s: c for c, s in spans.items()}
    ids = list(by_span)
    out: dict[int, str] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        for sid, text in project.conn.execute(
                "SELECT s.id, substr(d.text, s.start + 1, s.\"end\" - s.start) FROM spans s"
                f" JOIN documents d ON d.id = s.document_id WHERE s.id IN ({','.join('?' * len(chunk))})",
                chunk):
            out[by_span[sid]] = display_source_name(text)
    return out


def _link_counts(project: Project, ids: list[int]) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = {}
    for i in range(0, len(ids), 400):
        chunk = ids[i:i + 400]
        qs = ",".join("?" * len(chunk))
        for cid, kind, n in project.conn.execute(
                f"SELECT from_claim, kind, count(*) FROM claim_links WHERE from_claim IN ({qs})"
                " GROUP BY 1, 2 UNION ALL"
                f" SELECT to_claim, kind, count(*) FROM claim_links WHERE to_claim IN ({qs})"
                " GROUP BY 1, 2", (*chunk, *chunk)):
            counts = out.setdefault(cid, {})
            counts[kind] = counts.get(kind, 0) + n
    return out
