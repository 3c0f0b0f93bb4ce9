"""Analyst decisions: each one a transaction, logged in `events`, undoable as one step."""
from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from annotation.model import (
    CLAIM_PART_COLUMNS, CLAIM_ROLES, CREDIBILITY, DOC_STATUSES, LINK_KINDS, RELIABILITY,
)
from annotation.sources import display_source_name, normalise_source_name
from storage.project import Project, ProjectError, now

_PK: dict[str, tuple[str, ...]] = {
    "spans": ("id",), "claims": ("id",), "sources": ("id",), "documents": ("id",),
    "claim_links": ("id",), "doc_labels": ("document_id", "label"),
    "source_aliases": ("norm_alias",),
}


@dataclass
class _Change:
    table: str
    key: dict[str, Any]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    document_id: int | None


@dataclass
class _Decision:
    action: str
    changes: list[_Change] = field(default_factory=list)


@dataclass
class UndoEntry:
    group_id: int
    action: str


class Review:
    """The analyst's decisions on one open project, with an undo/redo stack for this session."""

    def __init__(self, project: Project):
        self.project = project
        self._undo: list[UndoEntry] = []
        self._redo: list[UndoEntry] = []
        self._current: _Decision | None = None

    # -- the decision machinery -------------------------------------------------------------------
    @contextlib.contextmanager
    def decision(self, action: str) -> Iterator[_Decision]:
        """Group writes into one stored, logged, undoable step (nested calls join the outer one)."""
        if self._current is not None:
            yield self._current
            return
        self._current = _Decision(action)
        try:
            with self.project.atomic():
                yield self._current
                if self._current.changes:
                    group = self._log(self._current, action)
                    self._after_write(self._current.changes)
                    self._undo.append(UndoEntry(group, action))
                    self._redo.clear()
        finally:
            self._current = None

    def _log(self, decision: _Decision, action: str) -> int:
        group = self.project.conn.execute(
            "SELECT coalesce(max(group_id), 0) + 1 FROM events").fetchone()[0]
        self.project.log_events([
            {"action": action, "entity": c.table, "entity_id": c.key.get("id"),
             "document_id": c.document_id, "before": _with_key(c.key, c.before),
             "after": _with_key(c.key, c.after), "group_id": group}
            for c in decision.changes])
        return group

    def _after_write(self, changes: list[_Change]) -> None:
        docs = {c.document_id for c in changes if c.document_id is not None}
        if docs:
            self.project.refresh_counts(docs)

    def _row(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        where = " AND ".join(f'"{k}" = ?' for k in key)
        cur = self.project.conn.execute(f'SELECT * FROM "{table}" WHERE {where}', tuple(key.values()))
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([d[0] for d in cur.description], row))

    def _update(self, table: str, key: dict[str, Any], document_id: int | None, **values: Any) -> None:
        old = self._row(table, key)
        if old is None:
            raise ProjectError(f"no {table} row {key}")
        changed = {k: v for k, v in values.items() if old.get(k) != v}
        if not changed:
            return
        if "updated_at" in old:
            changed["updated_at"] = now()
        _write(self.project, table, key, changed)
        self._current.changes.append(
            _Change(table, key, {k: old[k] for k in changed}, changed, document_id))

    def _insert(self, table: str, row: dict[str, Any], document_id: int | None) -> int:
        pk = self.project.db[table].insert(row).last_pk
        key = {"id": pk} if _PK[table] == ("id",) else {k: row[k] for k in _PK[table]}
        full = self._row(table, key)
        self._current.changes.append(_Change(table, key, None, full, document_id))
        return pk

    def _delete(self, table: str, key: dict[str, Any], document_id: int | None) -> None:
        old = self._row(table, key)
        if old is None:
            return
        _delete(self.project, table, key)
        self._current.changes.append(_Change(table, key, old, None, document_id))

    # -- undo / redo ------------------------------------------------------------------------------
    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo_text(self) -> str | None:
        return self._undo[-1].action if self._undo else None

    def redo_text(self) -> str | None:
        return self._redo[-1].action if self._redo else None

    def undo(self) -> set[int]:
        """Undo the last decision; returns the documents it touched."""
        if not self._undo:
            return set()
        entry = self._undo.pop()
        docs = self._replay(entry, backwards=True)
        self._redo.append(entry)
        return docs

    def redo(self) -> set[int]:
        if not self._redo:
            return set()
        entry = self._redo.pop()
        docs = self._replay(entry, backwards=False)
        self._undo.append(entry)
        return docs

    def _replay(self, entry: UndoEntry, backwards: bool) -> set[int]:
        rows = self.project.conn.execute(
            "SELECT entity, before, after, document_id FROM events WHERE group_id = ? ORDER BY id",
            (entry.group_id,)).fetchall()
        if backwards:
            rows = rows[::-1]
        docs: set[int] = set()
        with self.project.atomic():
            events = []
            for table, before_json, after_json, doc_id in rows:
                before = json.loads(before_json) if before_json else None
                after = json.loads(after_json) if after_json else None
                old, new = (after, before) if backwards else (before, after)
                key_source = new or old
                key = {k: key_source[k] for k in _PK[table]}
                if new is None:
                    _delete(self.project, table, key)
                elif old is None:
                    self.project.db[table].insert(new, replace=True)
                else:
                    _write(self.project, table, key, {k: v for k, v in new.items() if k not in key})
                if doc_id is not None:
                    docs.add(doc_id)
                events.append({"action": ("undo " if backwards else "redo ") + entry.action,
                               "entity": table, "entity_id": key.get("id"), "document_id": doc_id,
                               "before": old, "after": new, "group_id": None})
            self.project.log_events(events)
            if docs:
                self.project.refresh_counts(docs)
        return docs

    # -- spans ------------------------------------------------------------------------------------
    def accept(self, span_ids: Iterable[int]) -> None:
        self._set_status(span_ids, "accepted", "accept")

    def reject(self, span_ids: Iterable[int]) -> None:
        self._set_status(span_ids, "rejected", "reject")

    def reset(self, span_ids: Iterable[int]) -> None:
        """Back to suggested (the analyst changed their mind)."""
        self._set_status(span_ids, "suggested", "reset")

    def _set_status(self, span_ids: Iterable[int], status: str, action: str) -> None:
        with self.decision(action):
            for sid in span_ids:
                span = self.project.span(sid)
                self._update("spans", {"id": sid}, span.document_id, status=status)
                self._touch_document(span.document_id)

    def relabel(self, span_id: int, label: str) -> None:
        """A corrected label is an analyst decision: the span becomes accepted."""
        self._require_label(label)
        span = self.project.span(span_id)
        with self.decision(f"relabel as {label}"):
            self._update("spans", {"id": span_id}, span.document_id, label=label, status="accepted")
            self._touch_document(span.document_id)

    def set_bounds(self, span_id: int, start: int, end: int) -> None:
        span = self.project.span(span_id)
        self._check_range(span.document_id, start, end)
        with self.decision("move boundary"):
            self._update("spans", {"id": span_id}, span.document_id, start=start, end=end,
                         fragments=None, status="accepted")
            self._touch_document(span.document_id)

    def create_span(self, doc_id: int, start: int, end: int, label: str) -> int:
        """A span the machine missed; an identical suggestion is accepted and relabelled instead."""
        self._require_label(label)
        self._check_range(doc_id, start, end)
        with self.decision(f"create {label}"):
            row = self.project.conn.execute(
                'SELECT id FROM spans WHERE document_id = ? AND start = ? AND "end" = ? AND label = ?',
                (doc_id, start, end, label)).fetchone()
            if row:
                self._update("spans", {"id": row[0]}, doc_id, status="accepted")
                span_id = row[0]
            else:
                span_id = self._insert("spans", _new_span(doc_id, start, end, label), doc_id)
            self._touch_document(doc_id)
        return span_id

    def delete_span(self, span_id: int) -> None:
        span = self.project.span(span_id)
        with self.decision("delete span"):
            cols = tuple(CLAIM_PART_COLUMNS.values())
            for c in self.project.conn.execute(
                    f"SELECT id, {', '.join(cols)} FROM claims WHERE ? IN ({', '.join(cols)})",
                    (span_id,)).fetchall():
                self._update("claims", {"id": c[0]}, span.document_id,
                             **{col: None for col, v in zip(cols, c[1:]) if v == span_id})
            self._delete("spans", {"id": span_id}, span.document_id)

    def apply_to_all(self, span_id: int, decision: str, *, scope: str = "document") -> int:
        """Decide every mention of this span's text at once: 'accept', 'reject' or a label.

        scope is 'document' or 'project'. Mentions that are not spans yet are created when the
        decision is to accept or relabel. Spans an analyst already decided are left alone.
        Returns how many spans were decided or created.
        """
        span = self.project.span(span_id)
        text = self.project.document(span.document_id).text[span.start:span.end]
        if not text.strip():
            return 0
        label = span.label if decision in ("accept", "reject") else decision
        if decision not in ("accept", "reject"):
            self._require_label(label)
        if scope == "document":
            doc_ids = [span.document_id]
        elif scope == "project":
            doc_ids = self._documents_mentioning(text)
            if span.document_id not in doc_ids:
                doc_ids.insert(0, span.document_id)
        else:
            raise ValueError(f"unknown scope {scope!r}")
        pattern = re.compile(r"(?<!\w)" + re.escape(text) + r"(?!\w)")
        n = 0
        with self.decision(f"{decision} every '{_short(text)}' in the {scope}"):
            for doc_id in doc_ids:
                doc_text = self.project.conn.execute(
                    "SELECT text FROM documents WHERE id = ?", (doc_id,)).fetchone()[0]
                spans = self.project.conn.execute(
                    'SELECT id, start, "end", label, status FROM spans WHERE document_id = ?'
                    " AND label NOT IN ('Source', 'Cue', 'Content', 'Attribution')",
                    (doc_id,)).fetchall()
                by_range: dict[tuple[int, int], list[tuple]] = {}
                for s in spans:
                    by_range.setdefault((s[1], s[2]), []).append(s)
                for m in pattern.finditer(doc_text):
                    found = by_range.get((m.start(), m.end()), [])
                    for sid, _s, _e, slabel, status in found:
                        if sid != span_id and status != "suggested":
                            continue  # an analyst's earlier decision stands
                        if decision == "accept":
                            self._update("spans", {"id": sid}, doc_id, status="accepted")
                        elif decision == "reject":
                            self._update("spans", {"id": sid}, doc_id, status="rejected")
                        else:
                            self._update("spans", {"id": sid}, doc_id, label=label,
                                         status="accepted")
                        n += 1
                    if not found and decision != "reject":
                        self._insert("spans", _new_span(doc_id, m.start(), m.end(), label), doc_id)
                        n += 1
                self._touch_document(doc_id)
        return n

    def _documents_mentioning(self, text: str) -> list[int]:
        phrase = '"' + " ".join(re.findall(r"\w+", text)).replace('"', '""') + '"'
        if phrase == '""':
            return []
        return [r[0] for r in self.project.conn.execute(
            "SELECT rowid FROM documents_fts WHERE documents_fts MATCH ? ORDER BY rowid",
            (f"text : {phrase}",))]

    # -- documents --------------------------------------------------------------------------------
    def set_document_status(self, doc_id: int, status: str) -> None:
        if status not in DOC_STATUSES:
            raise ValueError(f"unknown status {status!r}; one of {', '.join(DOC_STATUSES)}")
        with self.decision(f"mark {status}"):
            self._update("documents", {"id": doc_id}, doc_id, status=status)

    def _touch_document(self, doc_id: int) -> None:
        status = self.project.conn.execute("SELECT status FROM documents WHERE id = ?",
                                           (doc_id,)).fetchone()[0]
        if status == "new":
            self._update("documents", {"id": doc_id}, doc_id, status="in review")

    def add_document_label(self, doc_id: int, label: str) -> None:
        self._require_label(label)
        with self.decision(f"label document {label}"):
            key = {"document_id": doc_id, "label": label}
            if self._row("doc_labels", key) is None:
                self._insert("doc_labels", {**key, "origin": "analyst", "created_at": now()}, doc_id)

    def remove_document_label(self, doc_id: int, label: str) -> None:
        with self.decision(f"remove document label {label}"):
            self._delete("doc_labels", {"document_id": doc_id, "label": label}, doc_id)

    def toggle_document_label(self, doc_id: int, label: str, *, exclusive_kind: bool = False) -> bool:
        """Add the label, or remove it if present; returns whether the document now carries it."""
        with self.decision(f"toggle document label {label}"):
            if label in self.project.doc_labels(doc_id):
                self.remove_document_label(doc_id, label)
                return False
            self.add_document_label(doc_id, label)
            return True

    # -- claims -----------------------------------------------------------------------------------
    def create_claim(self, doc_id: int, content: tuple[int, int],
                     cue: tuple[int, int] | None = None,
                     source: tuple[int, int] | None = None) -> int:
        """A claim the analyst marks: its parts become accepted spans, its source a registry entry."""
        with self.decision("create claim"):
            ids = {}
            for role, rng in (("Content", content), ("Cue", cue), ("Source", source)):
                if rng is not None:
                    self._check_range(doc_id, *rng)
                    ids[role] = self._insert("spans", _new_span(doc_id, rng[0], rng[1], role), doc_id)
            source_id = None
            if source is not None:
                text = self.project.document(doc_id).text[source[0]:source[1]]
                source_id = self.source_for_name(text)
            claim_id = self._insert("claims", {
                "document_id": doc_id,
                **{CLAIM_PART_COLUMNS[role]: span_id for role, span_id in ids.items()},
                "source_id": source_id, "origin": "analyst", "status": "accepted",
                "annotator": self.project.who, "created_at": now(), "updated_at": now()}, doc_id)
            self._touch_document(doc_id)
        return claim_id

    def set_claim_part(self, claim_id: int, role: str, rng: tuple[int, int] | None) -> None:
        """Set (or clear) a claim's content, cue or source span."""
        if role not in CLAIM_ROLES:
            raise ValueError(f"unknown claim part {role!r}")
        claim = self.project.claim(claim_id)
        column = CLAIM_PART_COLUMNS[role]
        with self.decision(f"set claim {role.lower()}"):
            old_span = getattr(claim, column)
            new_id = None
            if rng is not None:
                self._check_range(claim.document_id, *rng)
                new_id = self._insert("spans", _new_span(claim.document_id, rng[0], rng[1], role),
                                      claim.document_id)
            values: dict[str, Any] = {column: new_id}
            if role == "Source":
                values["source_id"] = (self.source_for_name(
                    self.project.document(claim.document_id).text[rng[0]:rng[1]]) if rng else None)
            self._update("claims", {"id": claim_id}, claim.document_id, **values)
            if old_span is not None:
                self._delete("spans", {"id": old_span}, claim.document_id)

    def accept_claim(self, claim_id: int) -> None:
        self._set_claim_status(claim_id, "accepted")

    def reject_claim(self, claim_id: int) -> None:
        self._set_claim_status(claim_id, "rejected")

    def _set_claim_status(self, claim_id: int, status: str) -> None:
        claim = self.project.claim(claim_id)
        with self.decision(f"{status[:-2]} claim"):
            self._update("claims", {"id": claim_id}, claim.document_id, status=status)
            for sid in claim.part_ids():
                self._update("spans", {"id": sid}, claim.document_id, status=status)
            self._touch_document(claim.document_id)

    def grade_claim(self, claim_id: int, credibility: int | None) -> None:
        """Information credibility 1–6 (None: ungraded, which is not 6)."""
        if credibility is not None and credibility not in CREDIBILITY:
            raise ValueError("credibility is 1–6: " + ", ".join(f"{k} {v}" for k, v in CREDIBILITY.items()))
        claim = self.project.claim(claim_id)
        with self.decision(f"grade claim {credibility or 'ungraded'}"):
            self._update("claims", {"id": claim_id}, claim.document_id, credibility=credibility)
            self._touch_document(claim.document_id)

    def set_claim_note(self, claim_id: int, note: str | None) -> None:
        claim = self.project.claim(claim_id)
        with self.decision("claim note"):
            self._update("claims", {"id": claim_id}, claim.document_id, note=note or None)

    def set_claim_stance(self, claim_id: int, stance: str | None) -> None:
        claim = self.project.claim(claim_id)
        with self.decision("claim stance"):
            self._update("claims", {"id": claim_id}, claim.document_id, stance=stance or None)

    def set_claim_source(self, claim_id: int, source_id: int | None) -> None:
        """Link the claim to a registry entry (its source span stays as it is)."""
        claim = self.project.claim(claim_id)
        if source_id is not None:
            self.project.source(source_id)
        with self.decision("link claim source"):
            self._update("claims", {"id": claim_id}, claim.document_id, source_id=source_id)

    def link_claims(self, from_claim: int, to_claim: int, kind: str) -> int:
        if kind not in LINK_KINDS:
            raise ValueError(f"unknown link {kind!r}; one of {', '.join(LINK_KINDS)}")
        if from_claim == to_claim:
            raise ValueError("a claim cannot be linked to itself")
        a, b = self.project.claim(from_claim), self.project.claim(to_claim)
        with self.decision(f"link claims: {kind}"):
            return self._insert("claim_links", {"from_claim": a.id, "to_claim": b.id, "kind": kind,
                                                "created_at": now()}, a.document_id)

    def unlink_claims(self, link_id: int) -> None:
        with self.decision("remove claim link"):
            self._delete("claim_links", {"id": link_id}, None)

    # -- the source registry ------------------------------------------------------------------------
    def source_for_name(self, name: str, *, create: bool = True) -> int | None:
        """The registry entry whose name or alias matches `name`; a new entry when none does."""
        return find_or_create_source(self.project, name, create=create,
                                     insert=lambda row: self._insert("sources", row, None)
                                     if self._current else None)

    def grade_source(self, source_id: int, reliability: str | None) -> None:
        """Source reliability A–F (None: ungraded, which is not F)."""
        if reliability is not None:
            reliability = reliability.upper()
            if reliability not in RELIABILITY:
                raise ValueError("reliability is A–F: " + ", ".join(f"{k} {v}" for k, v in RELIABILITY.items()))
        self.project.source(source_id)
        with self.decision(f"grade source {reliability or 'ungraded'}"):
            self._update("sources", {"id": source_id}, None, reliability=reliability)

    def create_source(self, name: str, reliability: str | None = None) -> int:
        with self.decision("create source"):
            sid = self.source_for_name(name)
            if reliability is not None:
                self.grade_source(sid, reliability)
            return sid

    def rename_source(self, source_id: int, name: str) -> None:
        with self.decision("rename source"):
            self._update("sources", {"id": source_id}, None, name=display_source_name(name))

    def add_alias(self, source_id: int, alias: str) -> None:
        """Another name of the same source: claims with that name link to this entry."""
        norm = normalise_source_name(alias)
        if not norm:
            raise ValueError("an alias needs at least one letter or digit")
        src = self.project.source(source_id)
        with self.decision(f"alias {alias} for {src.name}"):
            owner = self.project.conn.execute("SELECT source_id FROM source_aliases WHERE norm_alias = ?",
                                              (norm,)).fetchone()
            other = self.project.conn.execute("SELECT id FROM sources WHERE norm_name = ?",
                                              (norm,)).fetchone()
            if (owner and owner[0] != source_id) or (other and other[0] != source_id):
                raise ValueError(f"{alias!r} already names another source: merge the two instead")
            if owner is None and norm != src.norm_name:
                self._insert("source_aliases", {"norm_alias": norm, "source_id": source_id,
                                                "alias": alias}, None)
                self._update("sources", {"id": source_id}, None,
                             aliases=json.dumps(src.aliases + [alias], ensure_ascii=False))

    def merge_sources(self, keep_id: int, other_id: int) -> None:
        """Fold `other` into `keep`: its claims, name and aliases move; `keep`'s grade stays
        (or `other`'s if `keep` has none)."""
        if keep_id == other_id:
            return
        keep, other = self.project.source(keep_id), self.project.source(other_id)
        with self.decision(f"merge source {other.name} into {keep.name}"):
            for (cid, doc_id) in self.project.conn.execute(
                    "SELECT id, document_id FROM claims WHERE source_id = ?", (other_id,)).fetchall():
                self._update("claims", {"id": cid}, doc_id, source_id=keep_id)
            for (norm,) in self.project.conn.execute(
                    "SELECT norm_alias FROM source_aliases WHERE source_id = ?", (other_id,)).fetchall():
                self._update("source_aliases", {"norm_alias": norm}, None, source_id=keep_id)
            aliases = list(dict.fromkeys(keep.aliases + [other.name] + other.aliases))
            self._update("sources", {"id": keep_id}, None,
                         aliases=json.dumps(aliases, ensure_ascii=False),
                         reliability=keep.reliability or other.reliability,
                         note="\n".join(n for n in (keep.note, other.note) if n) or None)
            self._delete("sources", {"id": other_id}, None)
            self._insert("source_aliases", {"norm_alias": other.norm_name, "source_id": keep_id,
                                            "alias": other.name}, None)

    def set_source_note(self, source_id: int, note: str | None) -> None:
        with self.decision("source note"):
            self._update("sources", {"id": source_id}, None, note=note or None)

    # -- checks -----------------------------------------------------------------------------------
    def _require_label(self, label: str) -> None:
        if not self.project.conn.execute("SELECT 1 FROM labels WHERE name = ?", (label,)).fetchone():
            raise ValueError(f"unknown label {label!r}: add it to the project's labels first")

    def _check_range(self, doc_id: int, start: int, end: int) -> None:
        row = self.project.conn.execute("SELECT length(text) FROM documents WHERE id = ?",
                                        (doc_id,)).fetchone()
        if row is None:
            raise ProjectError(f"no document {doc_id}")
        if not (0 <= start < end <= row[0]):
            raise ValueError(f"span {start}-{end} is outside the text (0-{row[0]}) or empty")


def find_or_create_source(project: Project, name: str, *, create: bool = True,
                          insert=None) -> int | None:
    """Registry lookup by normalised name or alias; `insert` records the new row (for undo)."""
    norm = normalise_source_name(name)
    if not norm:
        return None
    row = project.conn.execute("SELECT id FROM sources WHERE norm_name = ?", (norm,)).fetchone()
    if row:
        return row[0]
    row = project.conn.execute("SELECT source_id FROM source_aliases WHERE norm_alias = ?",
                               (norm,)).fetchone()
    if row:
        return row[0]
    if not create:
        return None
    new = {"name": display_source_name(name), "norm_name": norm, "aliases": "[]",
           "created_at": now()}
    if insert is not None:
        pk = insert(new)
        if pk is not None:
            return pk
    return project.db["sources"].insert(new).last_pk


def _new_span(doc_id: int, start: int, end: int, label: str) -> dict[str, Any]:
    stamp = now()
    return {"document_id": doc_id, "start": start, "end": end, "label": label,
            "origin": "analyst", "status": "accepted", "annotator": None, "model": None,
            "fragments": None, "created_at": stamp, "updated_at": stamp}


def _with_key(key: dict[str, Any], values: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if values is None else {**key, **values}


def _write(project: Project, table: str, key: dict[str, Any], values: dict[str, Any]) -> None:
    sets = ", ".join(f'"{k}" = ?' for k in values)
    where = " AND ".join(f'"{k}" = ?' for k in key)
    project.conn.execute(f'UPDATE "{table}" SET {sets} WHERE {where}',
                         (*values.values(), *key.values()))


def _delete(project: Project, table: str, key: dict[str, Any]) -> None:
    where = " AND ".join(f'"{k}" = ?' for k in key)
    project.conn.execute(f'DELETE FROM "{table}" WHERE {where}', tuple(key.values()))


def _short(text: str, n: int = 30) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"
