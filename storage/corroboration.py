"""Corroboration: a claim's links both ways, the independent sources behind them, the credibility
grade that evidence suggests (shown, never stored without the analyst), and the registry
entries that keep backing claims that turn out doubtful.

What counts as one source. Each linked claim is traced to
- its registry entry (who the claim is attributed to; aliases are one entry already), or for a
  claim no analyst confirmed, the name its source span proposes (as the entry of that name when
  there is one),
- the outlet that published its article (the article's `source`, as a registry entry when one
  carries that name or alias), and
- its words (the content's words in order, when there are at least `SYNDICATED_MIN_WORDS`).
Claims sharing any of these are one source: the same speaker quoted twice, the same outlet
reporting twice, or one report syndicated (the same words republished by other outlets). Claims
joined by a "cites" link are one source too (one repeats the other). Linked claims that share
any of these with the claim being graded are not independent of it, and are left out.

The grade rule (`suggest_grade`), on the independent sources, where a source graded E
(unreliable) is listed but not counted, and a source counts as firm unless all its claims hedge:
1. contradicted by a source graded A or B: 4 (doubtful) if any source supports, else 5;
2. else at least two firm sources support and none contradicts: 1 (confirmed);
3. else some support and none contradicts: 2 (probably true);
4. else some support and some contradict: 3 (possibly true);
5. else only contradictions (from sources not graded A–B): 4 (doubtful);
6. no evidence: no suggestion.
A "same claim" link counts as a contradiction when one of the two claims asserts and the other
denies; "cites" links are not evidence.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from annotation.model import CREDIBILITY
from annotation.sources import normalise_source_name
from annotation.terms import fingerprint
from storage.project import Project
from storage.related import ClaimInfo, claim_contents, claims_info
from storage.review import find_or_create_source

SYNDICATED_MIN_WORDS = 5
REPEATEDLY = 2  # backing this many discredited claims marks a registry entry
_GRADE_ORDER = "ABCDE"  # F (cannot be judged) and ungraded rank after every grade
_WORDS = {
    "supports": ("supports", "supported by"),
    "contradicts": ("contradicts", "contradicted by"),
    "same claim": ("same claim as", "same claim as"),
    "cites": ("cites", "cited by"),
}


@dataclass
class LinkedClaim:
    """A claim linked to the current one, and how: `outgoing` when the link was made from it."""
    link_id: int
    kind: str
    outgoing: bool
    annotator: str | None
    info: ClaimInfo
    snippet: str

    @property
    def claim_id(self) -> int:
        return self.info.id

    @property
    def words(self) -> str:
        """The link read from the current claim: "supports", "contradicted by"…"""
        out, back = _WORDS.get(self.kind, (self.kind, self.kind))
        return out if self.outgoing else back


@dataclass
class SourceGroup:
    """One independent source: the names it goes by here, its best grade, its claims."""
    names: list[str]
    reliability: str | None
    claims: list[int]
    firm: bool = True  # some claim of it asserts (or has no stance): not only hedged reports

    @property
    def counted(self) -> bool:
        """A source graded E (unreliable) is shown but does not count as evidence."""
        return self.reliability != "E"

    @property
    def reliable(self) -> bool:
        return self.reliability in ("A", "B")

    @property
    def label(self) -> str:
        name = " / ".join(self.names) or "unnamed source"
        return f"{name} [{self.reliability}]" if self.reliability else name


@dataclass
class Evidence:
    """What the claim's links say about it, by independent source."""
    claim_id: int
    supporting: list[SourceGroup] = field(default_factory=list)
    contradicting: list[SourceGroup] = field(default_factory=list)
    not_independent: list[int] = field(default_factory=list)  # linked claims left out

    @property
    def n_supporting(self) -> int:
        return sum(g.counted for g in self.supporting)

    @property
    def n_contradicting(self) -> int:
        return sum(g.counted for g in self.contradicting)

    @property
    def empty(self) -> bool:
        return not (self.supporting or self.contradicting or self.not_independent)


@dataclass
class GradeSuggestion:
    grade: int | None
    reason: str

    @property
    def text(self) -> str:
        if self.grade is None:
            return self.reason
        return f"{self.grade} ({CREDIBILITY[self.grade]}): {self.reason}"


def linked_claims(project: Project, claim_id: int) -> list[LinkedClaim]:
    """The claim's links both ways, in the order they were made."""
    rows = project.conn.execute(
        "SELECT id, kind, 1, to_claim, annotator FROM claim_links WHERE from_claim = ?1"
        " UNION ALL SELECT id, kind, 0, from_claim, annotator FROM claim_links WHERE to_claim = ?1"
        " ORDER BY 1", (claim_id,)).fetchall()
    others = [r[3] for r in rows]
    infos = claims_info(project, others)
    contents = claim_contents(project, others)
    return [LinkedClaim(r[0], r[1], bool(r[2]), r[4], infos[r[3]], contents.get(r[3], ""))
            for r in rows if r[3] in infos]


def evidence(project: Project, claim_id: int,
             links: list[LinkedClaim] | None = None) -> Evidence:
    """The independent sources that support or contradict the claim (see the module's rule)."""
    links = linked_claims(project, claim_id) if links is None else links
    ev = Evidence(claim_id)
    own = claims_info(project, [claim_id]).get(claim_id)
    if own is None:
        return ev
    sides: dict[int, str] = {}
    for link in links:
        if link.info.status == "rejected" or link.kind == "cites":
            continue
        side = "contradict" if link.kind == "contradicts" else "support"
        if link.kind == "same claim" and {own.stance, link.info.stance} == {"asserts", "denies"}:
            side = "contradict"
        sides.setdefault(link.claim_id, side)
    if not sides:
        return ev
    members = [claim_id] + list(sides)
    infos = claims_info(project, members)
    contents = claim_contents(project, members)
    groups = _Groups(members)
    by_key: dict[tuple, int] = {}
    outlets: dict[str, tuple[int | None, str | None]] = {}  # name -> (entry, grade)
    for cid in members:
        for key in _keys(project, infos[cid], contents.get(cid, ""), outlets):
            if key in by_key:
                groups.union(by_key[key], cid)
            else:
                by_key[key] = cid
    for a, b in _cites_among(project, members):
        groups.union(a, b)
    mine = groups.find(claim_id)
    found: dict[tuple[str, int], SourceGroup] = {}
    for cid, side in sides.items():
        root = groups.find(cid)
        if root == mine:
            ev.not_independent.append(cid)
            continue
        info = infos[cid]
        group = found.get((side, root))
        if group is None:
            group = found[(side, root)] = SourceGroup([], None, [], firm=False)
            (ev.supporting if side == "support" else ev.contradicting).append(group)
        group.claims.append(cid)
        group.firm = group.firm or info.stance != "hedges"
        name = info.source_name or info.outlet or info.document
        if name and name not in group.names:
            group.names.append(name)
        # A claim's source is who it is attributed to; an unattributed claim is its outlet's.
        if info.source_id is not None:
            grade = info.reliability
        elif info.source_name:  # a name the model proposed: the grade of its entry, if any
            grade = outlets.get(_norm(info.source_name), (None, None))[1]
        else:
            grade = outlets.get(_norm(info.outlet), (None, None))[1] if info.outlet else None
        if _better(grade, group.reliability):
            group.reliability = grade
    return ev


def suggest_grade(ev: Evidence) -> GradeSuggestion:
    """The credibility grade the evidence points to (module docstring: the rule)."""
    sup = [g for g in ev.supporting if g.counted]
    con = [g for g in ev.contradicting if g.counted]
    firm = [g for g in sup if g.firm]

    def names(groups: list[SourceGroup]) -> str:
        return ", ".join(g.label for g in groups)

    reliable = [g for g in con if g.reliable]
    if reliable:
        if sup:
            return GradeSuggestion(4, f"contradicted by {names(reliable)} (graded A–B), though "
                                      f"{len(sup)} independent source(s) support it")
        return GradeSuggestion(5, f"contradicted by {names(reliable)} (graded A–B), "
                                  "no independent support")
    if len(firm) >= 2 and not con:
        return GradeSuggestion(1, f"confirmed by {len(firm)} independent sources: {names(firm)}")
    if sup and not con:
        hedged = " (hedged)" if not firm else ""
        return GradeSuggestion(2, f"supported by one independent source{hedged}: {names(sup)}"
                               if len(sup) == 1 else f"supported by {names(sup)}, "
                               "not firmly by two")
    if sup and con:
        return GradeSuggestion(3, f"supported by {names(sup)}; contradicted by {names(con)}")
    if con:
        return GradeSuggestion(4, f"contradicted by {names(con)}, no independent support")
    left_out = len(ev.not_independent)
    why = ("no independent evidence: the linked claims share its source, outlet or words"
           if left_out else "no evidence yet: link supporting or contradicting claims")
    if any(not g.counted for g in ev.supporting + ev.contradicting):
        why = "only sources graded E (unreliable) are linked"
    return GradeSuggestion(None, why)


def discredited_backing(project: Project) -> dict[int, int]:
    """Per registry entry, how many discredited claims it made or backed (a claim of its
    supports, or is the same claim as, one). A claim is discredited when graded 4 (doubtful) or
    5 (improbable), or, not graded yet, linked as contradicted. Entries with none are left out."""
    rows = project.conn.execute(
        "WITH contradicted AS ("
        "   SELECT from_claim AS id FROM claim_links WHERE kind = 'contradicts'"
        "   UNION SELECT to_claim FROM claim_links WHERE kind = 'contradicts'),"
        " discredited AS ("
        "   SELECT id, source_id FROM claims WHERE status != 'rejected' AND credibility IN (4, 5)"
        "   UNION SELECT c.id, c.source_id FROM claims c JOIN contradicted x ON x.id = c.id"
        "   WHERE c.status != 'rejected' AND c.credibility IS NULL),"
        " backers AS ("
        "   SELECT source_id, id AS claim FROM discredited WHERE source_id IS NOT NULL"
        "   UNION SELECT c.source_id, d.id FROM discredited d JOIN claim_links l"
        "     ON l.from_claim = d.id AND l.kind IN ('supports', 'same claim')"
        "     JOIN claims c ON c.id = l.to_claim"
        "     WHERE c.status != 'rejected' AND c.source_id IS NOT NULL"
        "   UNION SELECT c.source_id, d.id FROM discredited d JOIN claim_links l"
        "     ON l.to_claim = d.id AND l.kind IN ('supports', 'same claim')"
        "     JOIN claims c ON c.id = l.from_claim"
        "     WHERE c.status != 'rejected' AND c.source_id IS NOT NULL)"
        " SELECT source_id, count(DISTINCT claim) FROM backers GROUP BY source_id").fetchall()
    return dict(rows)


# -- helpers ----------------------------------------------------------------------------------------
def _norm(name: str | None) -> str:
    return normalise_source_name(name) if name else ""


def _keys(project: Project, info: ClaimInfo, content: str,
          names: dict[str, tuple[int | None, str | None]]) -> list[tuple]:
    """What ties a claim to a source: its registry entry (or the name its source span proposes,
    for a claim no analyst confirmed), its outlet, its words."""
    keys: list[tuple] = []
    if info.source_id is not None:
        keys.append(("entry", info.source_id))
    elif info.source_name:
        keys.append(_name_key(project, info.source_name, names))
    if info.outlet and _norm(info.outlet):
        keys.append(_name_key(project, info.outlet, names))
    words = fingerprint(content)
    if words.count(" ") + 1 >= SYNDICATED_MIN_WORDS:
        keys.append(("words", words))
    return keys


def _name_key(project: Project, name: str, names: dict[str, tuple[int | None, str | None]]
              ) -> tuple:
    """A name as a source: its registry entry when one carries the name or an alias, else the
    normalised name itself (remembered in `names` with the entry's grade)."""
    norm = _norm(name)
    if norm not in names:
        entry = find_or_create_source(project, name, create=False)
        names[norm] = (entry, project.source(entry).reliability if entry is not None else None)
    entry = names[norm][0]
    return ("entry", entry) if entry is not None else ("name", norm)


def _cites_among(project: Project, ids: list[int]) -> list[tuple[int, int]]:
    qs = ",".join("?" * len(ids))
    return project.conn.execute(
        f"SELECT from_claim, to_claim FROM claim_links WHERE kind = 'cites'"
        f" AND from_claim IN ({qs}) AND to_claim IN ({qs})", (*ids, *ids)).fetchall()


def _better(grade: str | None, than: str | None) -> bool:
    """Whether a reliability grade is better than another: A best, then B…E, then F (cannot be
    judged), then ungraded."""
    def rank(g: str | None) -> int:
        return _GRADE_ORDER.index(g) if g and g in _GRADE_ORDER else (9 if g == "F" else 10)
    return rank(grade) < rank(than)


class _Groups:
    """Union-find over claim ids."""

    def __init__(self, ids: list[int]):
        self.parent = {i: i for i in ids}

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)
