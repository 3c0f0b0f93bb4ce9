"""Analyst decisions: each one a transaction, logged in `events`, undoable as one step."""
from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from annotation.model import (
    CLAIM_LABELS,
    CLAIM_PART_COLUMNS,
    CLAIM_ROLES,
    CREDIBILITY,
    DOC_STATUSES,
    LINK_KINDS,
    RELIABILITY,
    STANCES,
    Claim,
    Span,
)
from annotation.sources import display_source_name, normalise_source_name
from annotation.tokens import TokenEdges
from storage.changes import Changes
from storage.project import Project, ProjectError, now
from storage.sources import candidate_name, claim_source_text, find_source, pair_key

_PK: dict[str, tuple[str, ...]] = {
    "spans": ("id",), "claims": ("id",), "sources": ("id",), "documents": ("id",),
    "claim_links": ("id",), "doc_labels": ("document_id", "label"),
    "source_aliases": ("norm_alias",), "labels": ("name",),
    "source_not_same": ("norm_a", "norm_b"),
}


Range = tuple[int, int]
# A claim part: one (start, end) range, or the pieces of one part that the text interrupts.
Part = Range | Sequence[Range]


class UndecidedSuggestions(ValueError):
    """A document cannot be marked done while suggestions in it are undecided."""

    def __init__(self, count: int):
        self.count = count
        super().__init__(f"{count} suggestion(s) in this article are still undecided: decide them, "
                         "or mark it done rejecting them")


@dataclass
class _Change:
    table: str
    key: dict[str, Any]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    document_id: int | None


@dataclass
class Decision:
    """One decision being made: the rows it writes; once stored, `changes` says what changed."""
    action: str
    writes: list[_Change] = field(default_factory=list)
    id: int | None = None
    count: int | None = None
    message: str = ""
    focus: tuple[str, int] | None = None
    skipped: dict[str, int] = field(default_factory=dict)
    changes: Changes | None = None  # set when the outermost decision is stored


@dataclass
class UndoEntry:
    group_id: int
    action: str
    focus: tuple[str, int] | None = None


class Review:
    """The analyst's decisions on one open project, with an undo/redo stack for this session."""

    def __init__(self, project: Project):
        self.project = project
        self._undo: list[UndoEntry] = []
        self._redo: list[UndoEntry] = []
        self._current: Decision | None = None

    # -- the decision machinery -------------------------------------------------------------------
    @contextlib.contextmanager
    def decision(self, action: str) -> Iterator[Decision]:
        """Group writes into one stored, logged, undoable step (nested calls join the outer one).

        Once the block is stored, the yielded Decision's `changes` says what changed."""
        if self._current is not None:
            yield self._current
            return
        d = self._current = Decision(action)
        try:
            with self.project.atomic():
                yield d
                if d.writes:
                    group = self._log(d, action)
                    self._after_write(d.writes)
                    self._undo.append(UndoEntry(group, action, d.focus or _focus_of(d.writes)))
                    self._redo.clear()
        finally:
            self._current = None
        d.changes = self._record(d)

    def _record(self, d: Decision) -> Changes:
        changes = Changes(action=d.action, id=d.id, count=d.count, message=d.message,
                          focus=d.focus or _focus_of(d.writes), skipped=dict(d.skipped),
                          undo_text=self.undo_text(), redo_text=self.redo_text())
        for c in d.writes:
            changes.add(c.table, _key_value(c.table, c.key), c.document_id)
        return changes

    def _result(self, d: Decision) -> Changes:
        """What a decision method returns: the stored step's changes (so far, when nested)."""
        return d.changes if d.changes is not None else self._record(d)

    def _log(self, decision: Decision, action: str) -> int:
        group = self.project.conn.execute(
            "SELECT coalesce(max(group_id), 0) + 1 FROM events").fetchone()[0]
        self.project.log_events([
            {"action": action, "entity": c.table, "entity_id": c.key.get("id"),
             "document_id": c.document_id, "before": _with_key(c.key, c.before),
             "after": _with_key(c.key, c.after), "group_id": group}
            for c in decision.writes])
        return group

    def _after_write(self, changes: list[_Change]) -> None:
        """Keep the documents' list counts: moved by what each written row's status was and is
        (a recount of a 160,000-span article took 80 ms a decision); `Project.refresh_counts`
        is the reference, and `check` compares the two."""
        deltas: dict[int, list[int]] = {}
        for c in changes:
            if c.document_id is None or c.table not in ("spans", "claims"):
                continue
            if c.before is not None and c.after is not None and "status" not in c.after:
                continue  # an update that left the status as it was
            old = c.before.get("status") if c.before is not None else None
            new = c.after.get("status") if c.after is not None else None
            d = deltas.setdefault(c.document_id, [0, 0, 0])
            if c.table == "spans":
                d[0] += _counted(new) - _counted(old)
                d[1] += (new == "suggested") - (old == "suggested")
            else:
                d[2] += _counted(new) - _counted(old)
        self.project.conn.executemany(
            "UPDATE documents SET n_spans = n_spans + ?, n_suggested = n_suggested + ?,"
            " n_claims = n_claims + ? WHERE id = ?",
            [(*d, doc_id) for doc_id, d in deltas.items() if any(d)])

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
        if "status" in changed and table in ("spans", "claims") and old.get("annotator") is None:
            # A model suggestion an analyst decided is the analyst's from now on (for agreement);
            # an imported annotator's span keeps its annotator, the events log says who decided.
            changed["annotator"] = self.project.who
        if "updated_at" in old:
            changed["updated_at"] = now()
        _write(self.project, table, key, changed)
        self._wrote(_Change(table, key, {k: old[k] for k in changed}, changed, document_id))

    def _insert(self, table: str, row: dict[str, Any], document_id: int | None) -> int:
        pk = self.project.db.table(table).insert(row).last_pk
        if pk is None:  # sqlite-utils sets it after every insert
            raise ProjectError(f"no {table} row was inserted")
        key = {"id": pk} if _PK[table] == ("id",) else {k: row[k] for k in _PK[table]}
        full = self._row(table, key)
        self._wrote(_Change(table, key, None, full, document_id))
        return pk

    def _delete(self, table: str, key: dict[str, Any], document_id: int | None) -> None:
        old = self._row(table, key)
        if old is None:
            return
        _delete(self.project, table, key)
        self._wrote(_Change(table, key, old, None, document_id))

    def _wrote(self, change: _Change) -> None:
        """Remember a row written by the current decision (rows are written only inside one)."""
        if self._current is None:
            raise RuntimeError("a row written outside `with Review.decision(...)`")
        self._current.writes.append(change)

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

    def undo(self) -> Changes:
        """Undo the last decision of this session; the changes say what it put back."""
        if not self._undo:
            return Changes(message="Nothing to undo", undo_text=None, redo_text=self.redo_text())
        entry = self._undo.pop()
        changes = self._replay(entry, backwards=True)
        self._redo.append(entry)
        return self._finish_replay(changes, entry, "Undid")

    def redo(self) -> Changes:
        if not self._redo:
            return Changes(message="Nothing to redo", undo_text=self.undo_text(), redo_text=None)
        entry = self._redo.pop()
        changes = self._replay(entry, backwards=False)
        self._undo.append(entry)
        return self._finish_replay(changes, entry, "Redid")

    def _finish_replay(self, changes: Changes, entry: UndoEntry, verb: str) -> Changes:
        changes.undo_text, changes.redo_text = self.undo_text(), self.redo_text()
        changes.message = f"{verb} {entry.action}"
        changes.focus = entry.focus
        return changes

    def _replay(self, entry: UndoEntry, backwards: bool) -> Changes:
        rows = self.project.conn.execute(
            "SELECT entity, before, after, document_id FROM events WHERE group_id = ? ORDER BY id",
            (entry.group_id,)).fetchall()
        if backwards:
            rows = rows[::-1]
        changes = Changes(action=("undo " if backwards else "redo ") + entry.action)
        with self.project.atomic():
            events = []
            for table, before_json, after_json, doc_id in rows:
                before = json.loads(before_json) if before_json else None
                after = json.loads(after_json) if after_json else None
                old, new = (after, before) if backwards else (before, after)
                key_source = new or old
                if key_source is None:
                    raise ProjectError(f"event of group {entry.group_id} has neither a before nor an after")
                key = {k: key_source[k] for k in _PK[table]}
                if new is None:
                    _delete(self.project, table, key)
                elif old is None:
                    self.project.db.table(table).insert(new, replace=True)
                else:
                    _write(self.project, table, key, {k: v for k, v in new.items() if k not in key})
                changes.add(table, _key_value(table, key), doc_id)
                events.append({"action": changes.action, "entity": table,
                               "entity_id": key.get("id"), "document_id": doc_id,
                               "before": old, "after": new, "group_id": None})
            self.project.log_events(events)
            if changes.documents:
                self.project.refresh_counts(changes.documents)
        return changes

    # -- spans ------------------------------------------------------------------------------------
    def accept(self, span_ids: Iterable[int]) -> Changes:
        return self._set_status(span_ids, "accepted", "accept")

    def reject(self, span_ids: Iterable[int]) -> Changes:
        return self._set_status(span_ids, "rejected", "reject")

    def reset(self, span_ids: Iterable[int]) -> Changes:
        """Back to suggested (the analyst changed their mind)."""
        return self._set_status(span_ids, "suggested", "reset")

    def _set_status(self, span_ids: Iterable[int], status: str, action: str) -> Changes:
        with self.decision(action) as d:
            for sid in span_ids:
                span = self.project.span(sid)
                d.focus = d.focus or ("span", sid)
                self._update("spans", {"id": sid}, span.document_id, status=status)
                if status == "suggested":
                    self._reopen(span.document_id)
                else:
                    self._touch_document(span.document_id)
        return self._result(d)

    def relabel(self, span_id: int, label: str) -> Changes:
        """A corrected label is an analyst decision: the span becomes accepted."""
        self._require_label(label)
        span = self.project.span(span_id)
        with self.decision(f"relabel as {label}") as d:
            d.focus = ("span", span_id)
            self._update("spans", {"id": span_id}, span.document_id, label=label, status="accepted")
            self._touch_document(span.document_id)
        return self._result(d)

    def set_bounds(self, span_id: int, start: int, end: int) -> Changes:
        span = self.project.span(span_id)
        self._check_range(span.document_id, start, end)
        with self.decision("move boundary") as d:
            d.focus = ("span", span_id)
            self._update("spans", {"id": span_id}, span.document_id, start=start, end=end,
                         fragments=None, status="accepted")
            self._touch_document(span.document_id)
        return self._result(d)

    def create_span(self, doc_id: int, start: int, end: int, label: str) -> Changes:
        """A span the machine missed (`.id` is the new span); an identical suggestion is
        accepted and relabelled instead."""
        self._require_label(label)
        self._check_range(doc_id, start, end)
        with self.decision(f"create {label}") as d:
            row = self.project.conn.execute(
                'SELECT id FROM spans WHERE document_id = ? AND start = ? AND "end" = ? AND label = ?',
                (doc_id, start, end, label)).fetchone()
            if row:
                self._update("spans", {"id": row[0]}, doc_id, status="accepted")
                span_id = row[0]
            else:
                span_id = self._insert("spans", self._span_row(doc_id, start, end, label), doc_id)
            d.id, d.focus = span_id, ("span", span_id)
            self._touch_document(doc_id)
        return self._result(d)

    def delete_span(self, span_id: int) -> Changes:
        span = self.project.span(span_id)
        with self.decision("delete span") as d:
            d.focus = ("span", span_id)
            cols = tuple(CLAIM_PART_COLUMNS.values())
            for c in self.project.conn.execute(
                    f"SELECT id, {', '.join(cols)} FROM claims WHERE ? IN ({', '.join(cols)})",
                    (span_id,)).fetchall():
                self._update("claims", {"id": c[0]}, span.document_id,
                             **{col: None for col, v in zip(cols, c[1:]) if v == span_id})
            self._delete("spans", {"id": span_id}, span.document_id)
        return self._result(d)

    def apply_to_all(self, span_id: int, decision: str, *, scope: str = "document") -> Changes:
        """Decide every mention of this span's text at once: 'accept', 'reject' or a label.

        scope is 'document' or 'project'. A mention is the same text as whole spaCy tokens.
        Mentions that are not spans yet are created when the decision is to accept or relabel,
        unless they would overlap an accepted entity or lie in a longer suggestion (claim parts
        are another layer); suggestions overlapping an accepted entity are not accepted; spans
        an analyst already decided are left alone. The changes' `count` is how many spans were
        decided or created, `skipped` how many mentions were left out and why, and `message`
        says both.
        """
        span = self.project.span(span_id)
        text = self.project.document_text(span.document_id)[span.start:span.end]
        if not text.strip():
            return Changes(action="apply to all", count=0, undo_text=self.undo_text(),
                           redo_text=self.redo_text(), message="Nothing to apply: the span is blank")
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
        reject = decision == "reject"
        with self.decision(f"{decision} every '{_short(text)}' in the {scope}") as d:
            d.focus = ("span", span_id)
            n = 0
            for doc_id in doc_ids:
                n += self._apply_in(doc_id, text, span_id, label, reject, d.skipped)
                self._touch_document(doc_id)
            d.count = n
            where = "this article" if scope == "document" else "the project"
            d.message = (f"{'Rejected' if reject else 'Accepted'} {n} mention(s) of “{_short(text)}”"
                         f" in {where}" + _skipped_text(d.skipped))
        return self._result(d)

    def _apply_in(self, doc_id: int, text: str, origin_id: int, label: str, reject: bool,
                  skipped: dict[str, int]) -> int:
        """Apply-to-all in one document; returns how many spans it decided or created."""
        doc_text = self.project.document_text(doc_id)
        tokens = TokenEdges(doc_text)
        starts, ends = set(tokens.starts), set(tokens.ends)
        entities = [s for s in self.project.spans(doc_id) if s.label not in CLAIM_LABELS]
        by_range: dict[tuple[int, int], list[Span]] = {}
        for s in entities:
            by_range.setdefault((s.start, s.end), []).append(s)
        # What a newly accepted entity must not overlap: the accepted entities; a new one must
        # not overlap any entity not rejected (a longer suggestion there is the analyst's to decide).
        taken = [(s.start, s.end) for s in entities if s.status == "accepted" and s.id != origin_id]
        suggested = [(s.start, s.end) for s in entities if s.status == "suggested"]
        n = 0
        for m in re.finditer(re.escape(text), doc_text):
            rng = m.span()
            # The span itself first, then those with the label wanted, then the others.
            found = sorted(by_range.get(rng, []),
                           key=lambda s: (s.id != origin_id, s.label != label, s.id))
            undecided = [s for s in found if s.id == origin_id or s.status == "suggested"]
            if (found or reject) and not undecided:
                continue  # an analyst's earlier decision stands (or nothing to reject)
            if all(s.id != origin_id for s in found) and not (rng[0] in starts and rng[1] in ends):
                _count(skipped, "inside a longer token")
                continue
            for s in undecided:
                if reject:
                    self._update("spans", {"id": s.id}, doc_id, status="rejected")
                elif s.id != origin_id and _overlaps(rng, taken):
                    _count(skipped, "overlapping an accepted entity")
                    continue
                else:
                    self._update("spans", {"id": s.id}, doc_id, label=label, status="accepted")
                    taken.append(rng)
                n += 1
            if not found and not reject:
                if _overlaps(rng, taken):
                    _count(skipped, "overlapping an accepted entity")
                    continue
                if _overlaps(rng, suggested):
                    _count(skipped, "inside a longer suggestion")
                    continue
                self._insert("spans", self._span_row(doc_id, rng[0], rng[1], label), doc_id)
                taken.append(rng)
                n += 1
        return n

    def _documents_mentioning(self, text: str) -> list[int]:
        phrase = '"' + " ".join(re.findall(r"\w+", text)).replace('"', '""') + '"'
        if phrase == '""':
            return []
        return [r[0] for r in self.project.conn.execute(
            "SELECT rowid FROM documents_fts WHERE documents_fts MATCH ? ORDER BY rowid",
            (f"text : {phrase}",))]

    # -- documents --------------------------------------------------------------------------------
    def set_document_status(self, doc_id: int, status: str, *,
                            resolve: str | None = None) -> Changes:
        """Mark a document new, in review or done. A done document has no undecided suggestion:
        when some remain, `resolve="reject"` rejects them in the same step (one undo brings them
        back); without it, UndecidedSuggestions says how many there are and nothing changes."""
        if status not in DOC_STATUSES:
            raise ValueError(f"unknown status {status!r}; one of {', '.join(DOC_STATUSES)}")
        if resolve not in (None, "reject"):
            raise ValueError(f"unknown resolve {resolve!r}: 'reject' or nothing")
        left = self.project.undecided_count(doc_id) if status == "done" else 0
        if left and resolve is None:
            raise UndecidedSuggestions(left)
        action = f"mark {status}" + (f" rejecting {left} undecided" if left else "")
        with self.decision(action) as d:
            if left:
                for (cid,) in self.project.conn.execute(
                        "SELECT id FROM claims WHERE document_id = ? AND status = 'suggested'",
                        (doc_id,)).fetchall():
                    self._update("claims", {"id": cid}, doc_id, status="rejected")
                for (sid,) in self.project.conn.execute(
                        "SELECT id FROM spans WHERE document_id = ? AND status = 'suggested'",
                        (doc_id,)).fetchall():
                    self._update("spans", {"id": sid}, doc_id, status="rejected")
                d.count = left
            self._update("documents", {"id": doc_id}, doc_id, status=status)
            d.message = f"Article marked {status}" + (
                f"; rejected the {left} undecided suggestion(s) (Undo brings them back)" if left else "")
        return self._result(d)

    def _reopen(self, doc_id: int) -> None:
        """A suggestion made undecided again: its document cannot stay done."""
        if self.project.document_status(doc_id) == "done":
            self._update("documents", {"id": doc_id}, doc_id, status="in review")
        else:
            self._touch_document(doc_id)

    def _touch_document(self, doc_id: int) -> None:
        if self.project.document_status(doc_id) == "new":
            self._update("documents", {"id": doc_id}, doc_id, status="in review")

    def add_document_label(self, doc_id: int, label: str) -> Changes:
        self._require_label(label)
        with self.decision(f"label document {label}") as d:
            key = {"document_id": doc_id, "label": label}
            if self._row("doc_labels", key) is None:
                self._insert("doc_labels", {**key, "origin": "analyst", "created_at": now()}, doc_id)
        return self._result(d)

    def remove_document_label(self, doc_id: int, label: str) -> Changes:
        with self.decision(f"remove document label {label}") as d:
            self._delete("doc_labels", {"document_id": doc_id, "label": label}, doc_id)
        return self._result(d)

    def toggle_document_label(self, doc_id: int, label: str) -> Changes:
        """Add the label, or remove it if present; `count` is 1 when the document now carries it."""
        with self.decision(f"toggle document label {label}") as d:
            if label in self.project.doc_labels(doc_id):
                self.remove_document_label(doc_id, label)
                d.count = 0
            else:
                self.add_document_label(doc_id, label)
                d.count = 1
        return self._result(d)

    # -- claims -----------------------------------------------------------------------------------
    def create_claim(self, doc_id: int, content: Part | None, cue: Part | None = None,
                     source: Part | None = None) -> Changes:
        """A claim the analyst marks (`.id` is the claim): its parts become accepted spans, its
        source a registry entry. A part is a (start, end) range or a list of them (one part in
        pieces: `“…,” he said, “…”` is one content). A claim has its content, its cue or both."""
        if content is None and cue is None:
            raise ValueError("a claim needs its content or its cue")
        parts = {role: _pieces(rng) for role, rng in (("Content", content), ("Cue", cue),
                                                     ("Source", source)) if rng is not None}
        for pcs in parts.values():
            for a, b in pcs:
                self._check_range(doc_id, a, b)
        with self.decision("create claim") as d:
            ids = {role: self._insert("spans", self._part_row(doc_id, pcs, role), doc_id)
                   for role, pcs in parts.items()}
            source_id = None
            if "Source" in parts:
                name = candidate_name(self._hull_text(doc_id, parts["Source"]))
                source_id = self.source_for_name(name) if name else None
            claim_id = self._insert("claims", {
                "document_id": doc_id,
                **{CLAIM_PART_COLUMNS[role]: span_id for role, span_id in ids.items()},
                "source_id": source_id, "origin": "analyst", "status": "accepted",
                "annotator": self.project.who, "created_at": now(), "updated_at": now()}, doc_id)
            d.id, d.focus = claim_id, ("claim", claim_id)
            self._touch_document(doc_id)
        return self._result(d)

    def set_claim_part(self, claim_id: int, role: str, rng: Part | None) -> Changes:
        """Set (or clear) a claim's content, cue or source span (`.id` is the new part's span);
        `rng` a (start, end) range or a list of them (a part in pieces)."""
        if role not in CLAIM_ROLES:
            raise ValueError(f"unknown claim part {role!r}")
        claim = self.project.claim(claim_id)
        column = CLAIM_PART_COLUMNS[role]
        pcs = _pieces(rng) if rng is not None else None
        for a, b in pcs or ():
            self._check_range(claim.document_id, a, b)
        with self.decision(f"set claim {role.lower()}") as d:
            d.focus = ("claim", claim_id)
            old_span = getattr(claim, column)
            new_id = None
            if pcs is not None:
                new_id = self._insert("spans", self._part_row(claim.document_id, pcs, role),
                                      claim.document_id)
            values: dict[str, Any] = {column: new_id}
            if role == "Source":
                # Setting a claim's source confirms it: its name is found or made in the registry
                # ("he", "which" name no one: the analyst picks the entry by hand).
                name = candidate_name(self._hull_text(claim.document_id, pcs)) if pcs else None
                values["source_id"] = self.source_for_name(name) if name else None
            self._update("claims", {"id": claim_id}, claim.document_id, **values)
            if old_span is not None:
                self._delete("spans", {"id": old_span}, claim.document_id)
            d.id = new_id
        return self._result(d)

    def accept_claim(self, claim_id: int) -> Changes:
        return self._set_claim_status(claim_id, "accepted")

    def reject_claim(self, claim_id: int) -> Changes:
        return self._set_claim_status(claim_id, "rejected")

    def _set_claim_status(self, claim_id: int, status: str) -> Changes:
        claim = self.project.claim(claim_id)
        with self.decision(f"{status[:-2]} claim") as d:
            d.focus = ("claim", claim_id)
            self._update("claims", {"id": claim_id}, claim.document_id, status=status)
            for sid in claim.part_ids():
                self._update("spans", {"id": sid}, claim.document_id, status=status)
            if status == "accepted":
                # Accepting confirms the source the model proposed: it joins the registry (one
                # entry per name; undoing the accept removes an entry it made). Rejecting leaves
                # the registry as it is.
                self._confirm_source(claim)
            self._touch_document(claim.document_id)
        return self._result(d)

    def grade_claim(self, claim_id: int, credibility: int | None) -> Changes:
        """Information credibility 1–6 (None: ungraded, which is not 6)."""
        if credibility is not None and credibility not in CREDIBILITY:
            raise ValueError("credibility is 1–6: " + ", ".join(f"{k} {v}" for k, v in CREDIBILITY.items()))
        claim = self.project.claim(claim_id)
        with self.decision(f"grade claim {credibility or 'ungraded'}") as d:
            d.focus = ("claim", claim_id)
            self._update("claims", {"id": claim_id}, claim.document_id, credibility=credibility)
            if claim.status == "suggested" and credibility is not None:
                # Grading is a judgement on the claim: a suggested claim is accepted with it.
                self._set_claim_status(claim_id, "accepted")
                d.message = f"Graded the claim {credibility} and accepted it"
            self._touch_document(claim.document_id)
        return self._result(d)

    def set_claim_note(self, claim_id: int, note: str | None) -> Changes:
        claim = self.project.claim(claim_id)
        with self.decision("claim note") as d:
            d.focus = ("claim", claim_id)
            self._update("claims", {"id": claim_id}, claim.document_id, note=note or None)
        return self._result(d)

    def set_claim_stance(self, claim_id: int, stance: str | None) -> Changes:
        """How the claim's source commits to it: asserts, denies or hedges (None: not set)."""
        stance = stance or None
        if stance is not None and stance not in STANCES:
            raise ValueError(f"unknown stance {stance!r}; one of {', '.join(STANCES)}")
        claim = self.project.claim(claim_id)
        with self.decision(f"stance {stance or 'cleared'}") as d:
            d.focus = ("claim", claim_id)
            self._update("claims", {"id": claim_id}, claim.document_id, stance=stance)
            d.message = (f"Stance: {stance} ({STANCES[stance]})" if stance else "Stance cleared")
        return self._result(d)

    def set_claim_source(self, claim_id: int, source_id: int | None) -> Changes:
        """Link the claim to a registry entry (its source span stays as it is)."""
        claim = self.project.claim(claim_id)
        if source_id is not None:
            self.project.source(source_id)
        with self.decision("link claim source") as d:
            d.focus = ("claim", claim_id)
            self._update("claims", {"id": claim_id}, claim.document_id, source_id=source_id)
        return self._result(d)

    def link_claims(self, from_claim: int, to_claim: int, kind: str) -> Changes:
        """Link two claims, usually of different articles (`.id` is the link). Two claims have one
        link at most: linking them again changes its kind (and direction) in one undoable step."""
        if kind not in LINK_KINDS:
            raise ValueError(f"unknown link {kind!r}; one of {', '.join(LINK_KINDS)}")
        if from_claim == to_claim:
            raise ValueError("a claim cannot be linked to itself")
        a, b = self.project.claim(from_claim), self.project.claim(to_claim)
        if "rejected" in (a.status, b.status):
            raise ValueError("a rejected claim cannot be linked")
        row = self.project.conn.execute(
            "SELECT id, from_claim, to_claim, kind FROM claim_links WHERE (from_claim = ?1 AND"
            " to_claim = ?2) OR (from_claim = ?2 AND to_claim = ?1) ORDER BY id LIMIT 1",
            (a.id, b.id)).fetchone()
        with self.decision(f"link claims: {kind}") as d:
            d.focus = ("claim", a.id)
            if row is None:
                d.id = self._insert("claim_links", {
                    "from_claim": a.id, "to_claim": b.id, "kind": kind, "created_at": now(),
                    "annotator": self.project.who}, a.document_id)
                d.message = f"Linked: {kind} claim {b.id}"
            elif (row[1], row[2], row[3]) == (a.id, b.id, kind) or (
                    row[3] == kind and kind != "cites"):
                d.id = row[0]
                d.message = f"Already linked: {kind} claim {b.id}"
            else:
                d.id = row[0]
                self._update("claim_links", {"id": row[0]}, a.document_id, from_claim=a.id,
                             to_claim=b.id, kind=kind, annotator=self.project.who)
                d.message = f"Link changed: {row[3]} -> {kind} claim {b.id}"
        return self._result(d)

    def unlink_claims(self, link_id: int) -> Changes:
        row = self.project.conn.execute(
            "SELECT l.from_claim, l.kind, c.document_id FROM claim_links l"
            " JOIN claims c ON c.id = l.from_claim WHERE l.id = ?", (link_id,)).fetchone()
        if row is None:
            raise ProjectError(f"no claim link {link_id}")
        with self.decision(f"remove link: {row[1]}") as d:
            d.focus = ("claim", row[0])
            self._delete("claim_links", {"id": link_id}, row[2])
            d.message = f"Removed the link ({row[1]})"
        return self._result(d)

    # -- the label scheme ---------------------------------------------------------------------------
    def set_label_description(self, label: str, description: str | None) -> Changes:
        """The annotation guideline of a label (blank: back to the default meaning)."""
        self._require_label(label)
        text = (description or "").strip() or None
        with self.decision(f"guideline for {label}") as d:
            self._update("labels", {"name": label}, None, description=text)
        return self._result(d)

    # -- the source registry ------------------------------------------------------------------------
    # It holds what an analyst confirmed: a claim accepted (its source span's name), a claim's
    # source graded or set, a source created. The model's names wait on their suggested claims.
    def source_for_name(self, name: str, *, create: bool = True) -> int | None:
        """The registry entry whose name or alias matches `name`; a new entry when none does."""
        return find_or_create_source(self.project, name, create=create,
                                     insert=lambda row: self._insert("sources", row, None)
                                     if self._current else None)

    def _confirm_source(self, claim: Claim) -> int | None:
        """Link a claim to the registry entry its source span names (made when new)."""
        if claim.source_id is not None:
            return claim.source_id
        name = candidate_name(claim_source_text(self.project, claim.id))
        if name is None:
            return None
        source_id = self.source_for_name(name)
        self._update("claims", {"id": claim.id}, claim.document_id, source_id=source_id)
        return source_id

    def grade_source(self, source_id: int, reliability: str | None) -> Changes:
        """Source reliability A–F (None: ungraded, which is not F)."""
        reliability = _reliability(reliability)
        self.project.source(source_id)
        with self.decision(f"grade source {reliability or 'ungraded'}") as d:
            self._update("sources", {"id": source_id}, None, reliability=reliability)
        return self._result(d)

    def grade_claim_source(self, claim_id: int, reliability: str | None) -> Changes:
        """Grade a claim's source: one not in the registry yet (the name the model proposed) is
        confirmed first, and the claim linked to it; the claim's own status stays as it is."""
        reliability = _reliability(reliability)
        claim = self.project.claim(claim_id)
        with self.decision(f"grade source {reliability or 'ungraded'}") as d:
            d.focus = ("claim", claim_id)
            source_id = self._confirm_source(claim)
            if source_id is None:
                raise ValueError("this claim's source names no one (or it has none): select its "
                                 "source and press C then S, or pick its registry entry")
            d.id = source_id
            self.grade_source(source_id, reliability)
        return self._result(d)

    def create_source(self, name: str, reliability: str | None = None) -> Changes:
        """`.id` is the registry entry (an existing one when the name or an alias matches)."""
        with self.decision("create source") as d:
            d.id = source_id = self.source_for_name(name)
            if source_id is None:
                raise ValueError("a source needs a name with at least one letter or digit")
            if reliability is not None:
                self.grade_source(source_id, reliability)
        return self._result(d)

    def rename_source(self, source_id: int, name: str) -> Changes:
        with self.decision("rename source") as d:
            self._update("sources", {"id": source_id}, None, name=display_source_name(name))
        return self._result(d)

    def add_alias(self, source_id: int, alias: str) -> Changes:
        """Another name of the same source: claims with that name link to this entry."""
        norm = normalise_source_name(alias)
        if not norm:
            raise ValueError("an alias needs at least one letter or digit")
        src = self.project.source(source_id)
        with self.decision(f"alias {alias} for {src.name}") as d:
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
        return self._result(d)

    def merge_sources(self, keep_id: int, other_id: int) -> Changes:
        """Fold `other` into `keep`: its claims, name and aliases move; `keep`'s grade stays
        (or `other`'s if `keep` has none). `unmerge_source(keep, other's name)` splits it off."""
        if keep_id == other_id:
            return Changes(action="merge sources", undo_text=self.undo_text(),
                           redo_text=self.redo_text())
        keep, other = self.project.source(keep_id), self.project.source(other_id)
        with self.decision(f"merge source {other.name} into {keep.name}") as d:
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
            d.id = keep_id
            d.message = f"Merged “{other.name}” into “{keep.name}”"
        return self._result(d)

    def merge_name(self, keep_id: int, name: str) -> Changes:
        """Make `name` a name of the entry `keep_id`: another entry of that name is merged into
        it; a name not in the registry (a candidate on suggested claims) becomes its alias, so
        accepting those claims links them here."""
        other = find_source(self.project, name)
        if other == keep_id:
            return Changes(action="merge sources", undo_text=self.undo_text(),
                           redo_text=self.redo_text(), message=f"“{name}” is a name of it already")
        if other is not None:
            return self.merge_sources(keep_id, other)
        keep = self.project.source(keep_id)
        with self.decision(f"merge source {name} into {keep.name}") as d:
            self.add_alias(keep_id, display_source_name(name) or name)
            d.id = keep_id
            d.message = f"“{name}” is now a name of “{keep.name}”"
        return self._result(d)

    def unmerge_source(self, source_id: int, alias: str) -> Changes:
        """Split a name off an entry: the alias leaves it. When the name was an entry of its own
        before a merge, that entry comes back (its id, grade, note and the aliases it brought,
        and the claims the merge moved); claims whose source span says the name go with it.
        A name that only ever was an alias, and that no linked claim says, is just removed.
        `.id` is the entry split off (None when none was needed)."""
        src = self.project.source(source_id)
        norm = normalise_source_name(alias)
        matching = [a for a in src.aliases if normalise_source_name(a) == norm]
        if not norm or not matching:
            raise ValueError(f"{alias!r} is not an alias of {src.name!r}")
        former, keep_before, keep_after, moved_claims = self._merge_record(source_id, norm)
        names = [matching[0]]
        if former is not None:
            names += [a for a in _aliases(former.get("aliases")) if any(
                normalise_source_name(a) == normalise_source_name(b) for b in src.aliases)]
        norms = {normalise_source_name(n) for n in names}
        with self.decision(f"unmerge source {matching[0]} from {src.name}") as d:
            for n in norms:
                row = self._row("source_aliases", {"norm_alias": n})
                if row is not None and row["source_id"] == source_id:
                    self._delete("source_aliases", {"norm_alias": n}, None)
            values: dict[str, Any] = {"aliases": json.dumps(
                [a for a in src.aliases if normalise_source_name(a) not in norms], ensure_ascii=False)}
            for col in ("reliability", "note"):
                # What the merge changed on this entry goes back, unless changed since.
                if keep_before is not None and col in keep_after \
                        and getattr(src, col) == keep_after[col]:
                    values[col] = keep_before.get(col)
            self._update("sources", {"id": source_id}, None, **values)
            claims = [(cid, doc) for cid, doc, text in self.project.conn.execute(
                "SELECT c.id, c.document_id, substr(d.text, s.start + 1, s.\"end\" - s.start)"
                " FROM claims c JOIN documents d ON d.id = c.document_id"
                " LEFT JOIN spans s ON s.id = c.source_span_id WHERE c.source_id = ?",
                (source_id,)).fetchall()
                if cid in moved_claims or (text and normalise_source_name(text) in norms)]
            if former is None and not claims:
                d.message = f"“{matching[0]}” is no longer a name of “{src.name}”"
            else:
                row = {"name": matching[0], "norm_name": norm, "aliases": "[]", "reliability": None,
                       "note": None, "created_at": now()}
                if former is not None:
                    row.update({k: former.get(k) for k in ("name", "reliability", "note", "created_at")})
                    row["aliases"] = json.dumps([n for n in names[1:]], ensure_ascii=False)
                    if self._row("sources", {"id": former["id"]}) is None:
                        row["id"] = former["id"]  # the same entry as before the merge
                new_id = self._insert("sources", row, None)
                for n in names[1:]:
                    self._insert("source_aliases", {"norm_alias": normalise_source_name(n),
                                                    "source_id": new_id, "alias": n}, None)
                for cid, doc in claims:
                    self._update("claims", {"id": cid}, doc, source_id=new_id)
                d.id = new_id
                d.message = (f"“{row['name']}” split off “{src.name}” with {len(claims)} claim(s)")
        return self._result(d)

    def _merge_record(self, keep_id: int, norm: str) -> tuple[
            dict | None, dict | None, dict, set[int]]:
        """What the last merge of an entry named `norm` into `keep_id` did, from the events log:
        the entry it removed, the kept entry's values before and after, the claims it moved."""
        row = self.project.conn.execute(
            "SELECT group_id, before FROM events WHERE entity = 'sources' AND after IS NULL"
            " AND group_id IS NOT NULL AND before IS NOT NULL AND json_valid(before)"
            " AND json_extract(before, '$.norm_name') = ? ORDER BY id DESC LIMIT 1",
            (norm,)).fetchone()
        if row is None:
            return None, None, {}, set()
        group, former = row[0], json.loads(row[1])
        keep_before, keep_after, moved = None, {}, set()
        for entity, entity_id, before, after in self.project.conn.execute(
                "SELECT entity, entity_id, before, after FROM events WHERE group_id = ?", (group,)):
            b = json.loads(before) if before else None
            a = json.loads(after) if after else None
            if entity == "sources" and entity_id == keep_id and b and a:
                keep_before, keep_after = b, a
            elif entity == "claims" and b and a and b.get("source_id") == former.get("id") \
                    and a.get("source_id") == keep_id:
                moved.add(entity_id)
        if keep_before is None:
            return None, None, {}, set()  # that entry went into another one, not this
        return former, keep_before, keep_after, moved

    def mark_not_same(self, name_a: str, name_b: str, *, key: tuple[str, str] | None = None) -> Changes:
        """Two names the analyst says are different sources: their merge is not suggested again.
        `key`: the pair as a suggestion holds it (normalised, sorted), when the caller has it."""
        a, b = key if key is not None else pair_key(name_a, name_b)
        if not a or not b or a == b:
            raise ValueError("two different names are needed")
        with self.decision(f"not the same source: {name_a} and {name_b}") as d:
            if self._row("source_not_same", {"norm_a": a, "norm_b": b}) is None:
                self._insert("source_not_same", {"norm_a": a, "norm_b": b, "created_at": now()}, None)
            d.message = f"“{name_a}” and “{name_b}” are different sources: not suggested again"
        return self._result(d)

    def set_source_note(self, source_id: int, note: str | None) -> Changes:
        with self.decision("source note") as d:
            self._update("sources", {"id": source_id}, None, note=note or None)
        return self._result(d)

    # -- checks -----------------------------------------------------------------------------------
    def _span_row(self, doc_id: int, start: int, end: int, label: str) -> dict[str, Any]:
        """A span the analyst makes: accepted, and theirs."""
        stamp = now()
        return {"document_id": doc_id, "start": start, "end": end, "label": label,
                "origin": "analyst", "status": "accepted", "annotator": self.project.who,
                "model": None, "fragments": None, "created_at": stamp, "updated_at": stamp}

    def _part_row(self, doc_id: int, pcs: list[Range], label: str) -> dict[str, Any]:
        """A claim part the analyst marks: one span, its pieces kept as fragments when several."""
        row = self._span_row(doc_id, pcs[0][0], pcs[-1][1], label)
        if len(pcs) > 1:
            row["fragments"] = json.dumps([[a, b] for a, b in pcs])
        return row

    def _hull_text(self, doc_id: int, pcs: list[Range]) -> str:
        """A part's text as the article has it, first piece to last (as claim_source_text reads it)."""
        return self.project.document_text(doc_id)[pcs[0][0]:pcs[-1][1]]

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
    found = find_source(project, name)
    if found is not None or not create:
        return found
    new = {"name": display_source_name(name), "norm_name": norm, "aliases": "[]",
           "created_at": now()}
    if insert is not None:
        pk = insert(new)
        if pk is not None:
            return pk
    return project.db.table("sources").insert(new).last_pk


def _reliability(grade: str | None) -> str | None:
    if grade is None:
        return None
    grade = grade.upper()
    if grade not in RELIABILITY:
        raise ValueError("reliability is A–F: " + ", ".join(f"{k} {v}" for k, v in RELIABILITY.items()))
    return grade


def _aliases(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(a) for a in value]
    try:
        parsed = json.loads(value or "[]")
    except (TypeError, ValueError):
        return []
    return [str(a) for a in parsed] if isinstance(parsed, list) else []


def _key_value(table: str, key: dict[str, Any]) -> Any:
    """A row's primary key as Changes holds it: the id, or a tuple for a composite key."""
    values = tuple(key[k] for k in _PK[table])
    return values[0] if len(values) == 1 else values


def _focus_of(writes: list[_Change]) -> tuple[str, int] | None:
    """The item a step was about, when the decision did not say: its first claim, else span."""
    for kind, table in (("claim", "claims"), ("span", "spans")):
        for c in writes:
            if c.table == table:
                return (kind, c.key["id"])
    return None


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


def _pieces(part: Part) -> list[Range]:
    """A claim part's pieces, in text order: a (start, end) range is one piece. Pieces that
    overlap or touch are one (a part never holds the same character twice)."""
    if len(part) == 2 and all(isinstance(x, int) for x in part):
        raw = [(int(part[0]), int(part[1]))]  # type: ignore[arg-type]
    else:
        raw = []
        for piece in part:
            if not (isinstance(piece, (tuple, list)) and len(piece) == 2
                    and all(isinstance(x, int) for x in piece)):
                raise ValueError(f"a claim part is (start, end) or a list of them, not {part!r}")
            raw.append((int(piece[0]), int(piece[1])))
    if not raw:
        raise ValueError("a claim part needs at least one (start, end) piece")
    out: list[Range] = []
    for a, b in sorted(raw):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _overlaps(rng: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(a < rng[1] and rng[0] < b for a, b in taken)


def _counted(status: str | None) -> int:
    """Whether a row of this status (None: no row) counts in n_spans / n_claims."""
    return int(status is not None and status != "rejected")


def _count(counter: dict[str, int], reason: str) -> None:
    counter[reason] = counter.get(reason, 0) + 1


def _skipped_text(skipped: dict[str, int]) -> str:
    return "; skipped " + ", ".join(f"{n} {why}" for why, n in skipped.items()) if skipped else ""


def _short(text: str, n: int = 30) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"
