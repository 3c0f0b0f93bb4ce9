"""The source registry as it is read: entries with their counts, the candidate names the model
proposed (on suggested claims, until an analyst confirms one), and the merges worth suggesting.

The registry (`sources`) holds only what an analyst confirmed: by accepting a claim, grading
or setting a claim's source, or creating a source. Writes are decisions in `storage/review.py`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from annotation.model import Source
from annotation.sources import (
    MATCH_KINDS,
    NameIndex,
    display_source_name,
    is_source_name,
    normalise_source_name,
)
from storage.project import Project


@dataclass
class RegistryEntry(Source):
    """One registry entry as the registry dialog and `sources` list it: the source with its
    claim counts."""
    accepted_claims: int   # accepted claims linked to it
    claims: int            # claims linked to it that are not rejected

    def as_json(self) -> dict:
        return {"id": self.id, "name": self.name, "aliases": self.aliases,
                "reliability": self.reliability, "note": self.note,
                "accepted_claims": self.accepted_claims, "claims": self.claims}


@dataclass(frozen=True)
class MergeSuggestion:
    """Two names that look like one source: `name` (another entry, or a candidate name on
    suggested claims when `other_id` is None) would become a name of the entry `keep_id`."""
    keep_id: int
    keep_name: str
    name: str
    other_id: int | None
    reason: str
    claims: int   # claims the merge moves (the other entry's) or names (suggested claims)
    key: tuple[str, str] = ("", "")  # the pair of normalised names, sorted: what "not the same" records


def pair_key(a: str, b: str, *, normalised: bool = False) -> tuple[str, str]:
    x, y = (a, b) if normalised else (normalise_source_name(a), normalise_source_name(b))
    return (x, y) if x <= y else (y, x)


def registry_entries(project: Project) -> list[RegistryEntry]:
    """Every registry entry by name, with its claim counts (one query)."""
    rows = project.conn.execute(
        "SELECT s.id, s.name, s.norm_name, s.aliases, s.reliability, s.note,"
        " coalesce(n.accepted, 0), coalesce(n.live, 0) FROM sources s"
        " LEFT JOIN (SELECT source_id, sum(status = 'accepted') AS accepted,"
        "            sum(status != 'rejected') AS live FROM claims"
        "            WHERE source_id IS NOT NULL GROUP BY source_id) n ON n.source_id = s.id"
        " ORDER BY s.name COLLATE NOCASE, s.id").fetchall()
    return [RegistryEntry(r[0], r[1], r[2], _aliases(r[3]), r[4], r[5], r[6], r[7]) for r in rows]


def find_source(project: Project, name: str) -> int | None:
    """The registry entry whose name or an alias matches `name` (normalised), or None."""
    norm = normalise_source_name(name)
    if not norm:
        return None
    row = project.conn.execute("SELECT id FROM sources WHERE norm_name = ?", (norm,)).fetchone()
    if row:
        return row[0]
    row = project.conn.execute("SELECT source_id FROM source_aliases WHERE norm_alias = ?",
                               (norm,)).fetchone()
    return row[0] if row else None


def claim_source_text(project: Project, claim_id: int) -> str | None:
    """The text of a claim's source span, as the article has it (None without one)."""
    row = project.conn.execute(
        "SELECT substr(d.text, s.start + 1, s.\"end\" - s.start) FROM claims c"
        " JOIN spans s ON s.id = c.source_span_id JOIN documents d ON d.id = c.document_id"
        " WHERE c.id = ?", (claim_id,)).fetchone()
    return row[0] if row else None


def claim_source(project: Project, claim_id: int) -> int | None:
    """The registry entry a claim's source is: the one it is linked to, else the entry its
    proposed name (source span) matches; None when neither (a name no analyst confirmed yet).
    For counting sources across claims, suggested ones included, without writing anything."""
    row = project.conn.execute("SELECT source_id FROM claims WHERE id = ?", (claim_id,)).fetchone()
    if row is None or row[0] is not None:
        return row[0] if row else None
    name = candidate_name(claim_source_text(project, claim_id))
    return find_source(project, name) if name else None


def candidate_name(text: str | None) -> str | None:
    """The source name a claim's source span proposes, or None when it names no source
    ("he", "which": a name the analyst links by hand)."""
    if not text or not is_source_name(text):
        return None
    return display_source_name(text) or None


def candidate_names(project: Project) -> dict[str, tuple[str, int]]:
    """The names proposed by suggested claims not linked to the registry: normalised name ->
    (the name as most often written, how many suggested claims propose it)."""
    rows = project.conn.execute(
        "SELECT c.document_id, s.start, s.\"end\" FROM claims c JOIN spans s ON s.id = c.source_span_id"
        " WHERE c.status = 'suggested' AND c.source_id IS NULL").fetchall()
    texts = _texts(project, {r[0] for r in rows})   # each article read once, not once per claim
    names: dict[str, tuple[str, str] | None] = {}
    spellings: dict[str, dict[str, int]] = {}
    for doc_id, start, end in rows:
        text = texts.get(doc_id, "")[start:end]
        if text not in names:
            name = candidate_name(text)
            names[text] = (name, normalise_source_name(name)) if name else None
        found = names[text]
        if found is None:
            continue
        by = spellings.setdefault(found[1], {})
        by[found[0]] = by.get(found[0], 0) + 1
    return {norm: (max(by, key=lambda n: (by[n], n)), sum(by.values()))
            for norm, by in spellings.items()}


def _texts(project: Project, doc_ids: set[int]) -> dict[int, str]:
    ids = sorted(doc_ids)
    out: dict[int, str] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        out.update(project.conn.execute(
            f"SELECT id, text FROM documents WHERE id IN ({','.join('?' * len(chunk))})", chunk))
    return out


def not_same_pairs(project: Project) -> set[tuple[str, str]]:
    return {(a, b) for a, b in project.conn.execute("SELECT norm_a, norm_b FROM source_not_same")}


def merge_suggestions(project: Project, entries: list[RegistryEntry] | None = None, *,
                      candidates: dict[str, tuple[str, int]] | None = None) -> list[MergeSuggestion]:
    """Names that look like another name of a registry entry, most claims first:

    - two entries ("Reuters) Ceasefire" and "Reuters"): merging moves the claims of one to
      the other (the one kept: more accepted claims; on a tie, the name the other is a variant
      of: "Reuters", or the full "Syrian Observatory for Human Rights" for "the Observatory");
    - a candidate name on suggested claims and an entry: merging adds the name as an alias,
      so accepting those claims links them to the entry.

    Names differing only by case, possessive or edge punctuation ("REUTERS", "Reuters's") are
    one entry already (`normalise_source_name`). Pairs the analyst said are not the same are
    left out.
    """
    entries = registry_entries(project) if entries is None else entries
    if not entries:
        return []
    if candidates is None:
        candidates = candidate_names(project)
    dismissed = not_same_pairs(project)
    by_id = {e.id: e for e in entries}
    index = NameIndex()
    for e in entries:
        index.add(e.id, e.name, e.norm_name)
        for alias in e.aliases:
            index.add(e.id, alias)
    out: dict[tuple[str, str], MergeSuggestion] = {}
    strength: dict[tuple[str, str], int] = {}
    for e in entries:
        # A pair is often found both ways ("Reuters) Ceasefire" is Reuters with text glued on;
        # "Reuters" is a shorter form of it): the surer rule says which name is the source.
        m = index.match(e.name, exclude=e.id, key=e.norm_name)
        if m is None:
            continue
        keep, other = _keep_first(by_id[m.owner], e)
        key = pair_key(keep.norm_name, other.norm_name, normalised=True)
        if key in dismissed or strength.get(key, len(MATCH_KINDS) + 1) <= m.strength:
            continue
        reason = m.reason if other is e else m.reverse_reason
        out[key] = MergeSuggestion(keep.id, keep.name, other.name, other.id, reason, other.claims, key)
        strength[key] = m.strength
    for norm, (name, n) in candidates.items():
        if index.owner_of(name, norm) is not None:
            continue  # the same name as an entry: accepting links it already
        m = index.match(name, key=norm)
        if m is None:
            continue
        target = by_id[m.owner]
        key = pair_key(target.norm_name, norm, normalised=True)
        if key not in dismissed and key not in out:
            out[key] = MergeSuggestion(target.id, target.name, name, None, m.reason, n, key)
    return sorted(out.values(), key=lambda s: (-s.claims, s.keep_name.casefold(), s.name.casefold()))


def _keep_first(a: RegistryEntry, b: RegistryEntry) -> tuple[RegistryEntry, RegistryEntry]:
    """Which of two entries a merge keeps: the one with more accepted claims, else `a` (the name
    the other was matched to)."""
    return (b, a) if b.accepted_claims > a.accepted_claims else (a, b)


def _aliases(value: str | None) -> list[str]:
    if not value or value == "[]":
        return []
    try:
        aliases = json.loads(value or "[]")
    except ValueError:
        return []
    return [str(a) for a in aliases] if isinstance(aliases, list) else []
