"""Keyboard-first review: the one table of actions and keys, and the logic behind them.

The table (`action_specs`) feeds the menus, the shortcuts, the context menu and the cheat
sheet, so they cannot disagree. `ReviewController` keeps the open article's spans and claims,
the current item, and turns each action into one `storage.review.Review` decision.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal

from annotation.model import CLAIM_LABELS, CREDIBILITY, RELIABILITY, Claim, Span
from storage.project import Project, ProjectError
from storage.review import Review
from ui.article_view import ArticleView


@dataclass(frozen=True)
class ActionSpec:
    """One command: `name` is the handler method on the main window; `arg` is passed to it."""
    name: str
    text: str
    keys: tuple[str, ...]
    menu: str
    help: str = ""
    arg: Any = None
    checkable: bool = False

    @property
    def id(self) -> str:
        return self.name if self.arg is None else f"{self.name}:{self.arg}"


# Section order in menus and in the cheat sheet.
MENUS = ("File", "Edit", "Review", "Claim", "Article", "Help")

_STATIC: list[ActionSpec] = [
    ActionSpec("new_project", "&New Project…", ("Ctrl+N",), "File", "create a project file"),
    ActionSpec("open_project", "&Open Project…", ("Ctrl+O",), "File", "open a project file"),
    ActionSpec("import_files", "&Import…", ("Ctrl+I",), "File", "import articles (txt, html, csv, jsonl, brat)"),
    ActionSpec("export_files", "&Export…", ("Ctrl+E",), "File", "export the dataset"),
    ActionSpec("preannotate", "Pre-&annotate New Articles", ("Ctrl+Shift+P",), "File",
               "run the model over articles it has not seen"),
    ActionSpec("show_stats", "&Statistics", ("Ctrl+Shift+S",), "File", "counts and agreement"),
    ActionSpec("show_sources", "Source &Registry…", ("Ctrl+R",), "File", "the project's sources and grades"),
    ActionSpec("quit", "&Quit", ("Ctrl+Q",), "File", "close the window (work is already saved)"),

    ActionSpec("undo", "&Undo", ("Ctrl+Z",), "Edit", "undo the last decision (apply-to-all is one step)"),
    ActionSpec("redo", "&Redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "Edit", "redo"),
    ActionSpec("focus_search", "&Find Articles", ("Ctrl+F",), "Edit", "search titles and texts"),
    ActionSpec("focus_article", "Back to the &Article", ("Esc",), "Edit",
               "leave the search box or list; clear the selection"),

    ActionSpec("next_suggestion", "&Next Suggestion", ("J", "Tab"), "Review",
               "go to the next undecided span or claim"),
    ActionSpec("prev_suggestion", "&Previous Suggestion", ("K", "Shift+Tab"), "Review",
               "go to the previous undecided span or claim"),
    ActionSpec("accept", "&Accept", ("A", "Space"), "Review",
               "accept the current span or claim, then go to the next"),
    ActionSpec("reject", "Re&ject", ("X", "Delete"), "Review",
               "reject the current span or claim, then go to the next"),
    ActionSpec("reset", "Back to &Suggested", ("U",), "Review", "undecide the current span or claim"),
    ActionSpec("delete_span", "&Delete Span", ("Shift+Delete",), "Review",
               "remove the current span altogether"),
    ActionSpec("grow_end", "Grow End by a Token", ("Shift+Right",), "Review", "move the end one token right"),
    ActionSpec("shrink_end", "Shrink End by a Token", ("Shift+Left",), "Review", "move the end one token left"),
    ActionSpec("grow_start", "Grow Start by a Token", ("Ctrl+Shift+Left",), "Review",
               "move the start one token left"),
    ActionSpec("shrink_start", "Shrink Start by a Token", ("Ctrl+Shift+Right",), "Review",
               "move the start one token right"),
    ActionSpec("apply_all", "Accept Every Mention in This Article", ("Shift+A",), "Review",
               "give every mention of this text in the article the current label", "document"),
    ActionSpec("reject_all", "Reject Every Mention in This Article", ("Shift+X",), "Review",
               "reject every suggested mention of this text in the article", "document"),
    ActionSpec("apply_all", "Accept Every Mention in the Project", ("Ctrl+Shift+A",), "Review",
               "the same across every article of the project", "project"),
    ActionSpec("reject_all", "Reject Every Mention in the Project", ("Ctrl+Shift+X",), "Review",
               "the same across every article of the project", "project"),

    ActionSpec("mark_claim", "&Mark Claim from Selection", ("M",), "Claim",
               "the selected text becomes a new claim's content"),
    ActionSpec("set_claim_part", "Set &Content from Selection", ("C, T",), "Claim",
               "the selection becomes the current claim's content", "Content"),
    ActionSpec("set_claim_part", "Set C&ue from Selection", ("C, U",), "Claim",
               "the selection becomes the current claim's cue (said, told…)", "Cue"),
    ActionSpec("set_claim_part", "Set &Source from Selection", ("C, S",), "Claim",
               "the selection becomes the current claim's source (linked to the registry)", "Source"),
]


def action_specs(labels: list[dict] | None = None) -> list[ActionSpec]:
    """Every action of the window, with the label keys of this project's label scheme."""
    labels = labels or []
    specs = list(_STATIC)
    for lab in labels:
        if lab["kind"] == "entity" and lab.get("key"):
            specs.append(ActionSpec("label_key", f"Label {lab['name']}", (lab["key"],), "Review",
                                    f"relabel the current span as {lab['name']}; with text selected, "
                                    f"create a {lab['name']} span", lab["name"]))
    for grade, meaning in CREDIBILITY.items():
        specs.append(ActionSpec("grade_claim", f"Credibility {grade}: {meaning}", (f"C, {grade}",),
                                "Claim", f"grade the current claim {grade} ({meaning})", grade))
    specs.append(ActionSpec("grade_claim", "Credibility: Ungraded", ("C, 0",), "Claim",
                            "clear the claim's credibility grade", 0))
    for grade, meaning in RELIABILITY.items():
        specs.append(ActionSpec("grade_source", f"Source Reliability {grade}: {meaning}", (f"S, {grade}",),
                                "Claim", f"grade the current claim's source {grade} ({meaning})", grade))
    specs.append(ActionSpec("grade_source", "Source Reliability: Ungraded", ("S, 0",), "Claim",
                            "clear the source's reliability grade", "0"))
    specs += [
        ActionSpec("next_article", "&Next Article", ("N", "Ctrl+Down"), "Article", "open the next article in the list"),
        ActionSpec("prev_article", "&Previous Article", ("P", "Ctrl+Up"), "Article",
                   "open the previous article in the list"),
        ActionSpec("toggle_done", "Mark Article &Done", ("D", "Ctrl+Return"), "Article",
                   "mark the article done (again: back to in review)"),
    ]
    doc_labels = [lab for lab in labels if lab["kind"] == "document"]
    for i, lab in enumerate(doc_labels[:9], 1):
        specs.append(ActionSpec("toggle_doc_label", f"Label Article “{lab['name']}”", (f"L, {i}",),
                                "Article", f"label the whole article {lab['name']} (again: remove)",
                                lab["name"], checkable=True))
    specs += [
        ActionSpec("cheat_sheet", "&Keyboard Shortcuts", ("?", "F1"), "Help", "this list"),
    ]
    return specs


_TOKEN = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True)
class Item:
    """One thing to decide, in reading order: an entity span, or a claim with all its parts."""
    kind: str  # "span" | "claim"
    id: int
    start: int
    end: int
    status: str

    @property
    def key(self) -> tuple[str, int]:
        return (self.kind, self.id)


class ReviewController(QObject):
    """The open article's review state; every change goes straight through Review (no Save)."""

    current_changed = Signal()
    documents_changed = Signal(object)  # set of document ids whose rows changed
    message = Signal(str)
    undo_changed = Signal()

    def __init__(self, project: Project, review: Review, view: ArticleView,
                 is_busy=lambda: False):
        super().__init__()
        self.project = project
        self.review = review
        self.view = view
        self.is_busy = is_busy
        self.doc_id: int | None = None
        self.text = ""
        self.spans: dict[int, Span] = {}
        self.claims: dict[int, Claim] = {}
        self.part_of: dict[int, int] = {}   # span id -> claim id
        self.items: list[Item] = []
        self._index: dict[tuple[str, int], int] = {}
        self.current: Item | None = None
        self.focus_span: int | None = None  # the span boundary keys move (a claim's part)
        self._tokens: tuple[list[int], list[int]] | None = None
        view.set_colours(project.labels())
        view.clicked.connect(self._on_clicked)

    # -- loading ------------------------------------------------------------------------------------
    def open_document(self, doc_id: int | None) -> None:
        """Show an article and make its first undecided item current."""
        self.doc_id = doc_id
        self._tokens = None
        self.current = None
        self.focus_span = None
        if doc_id is None:
            self.text, self.spans, self.claims = "", {}, {}
            self._rebuild_items()
            self.view.clear_document()
            self.current_changed.emit()
            return
        self.text = self.project.conn.execute("SELECT text FROM documents WHERE id = ?",
                                              (doc_id,)).fetchone()[0]
        self._load()
        self.view.show_document(self.text, self.spans.values())
        first = next((it for it in self.items if it.status == "suggested"), None)
        self._set_current(first or (self.items[0] if self.items else None))

    def reload(self, keep: tuple[str, int] | None = None, *, then_advance: bool = False) -> None:
        """Re-read the article's spans and claims after a decision; redraw only what changed."""
        if self.doc_id is None:
            return
        old = self.current
        self._load()
        self.view.update_spans(self.spans.values())
        if then_advance and old is not None and old.key in self._index:
            self.current = self.items[self._index[old.key]]
            self._advance()
            return
        key = keep or (old.key if old else None)
        item = self.items[self._index[key]] if key in self._index else None
        if item is None and old is not None:
            item = self._next_from(old.start, old.end, suggested_only=False)
        focus = self.focus_span if (item is not None and old is not None and item.key == old.key
                                    and self.focus_span in self.spans) else None
        self._set_current(item, focus=focus, reveal=False)

    def _load(self) -> None:
        self.spans = {s.id: s for s in self.project.spans(self.doc_id)}
        self.claims = {c.id: c for c in self.project.claims(self.doc_id)}
        self._rebuild_items()

    def _rebuild_items(self) -> None:
        part_of: dict[int, int] = {}
        items: list[Item] = []
        for c in self.claims.values():
            parts = [self.spans[p] for p in self._claim_span_ids(c) if p in self.spans]
            for p in parts:
                part_of[p.id] = c.id
            if parts:
                items.append(Item("claim", c.id, min(p.start for p in parts),
                                  max(p.end for p in parts), c.status))
        for s in self.spans.values():
            if s.id not in part_of:
                items.append(Item("span", s.id, s.start, s.end, s.status))
        items.sort(key=lambda it: (it.start, it.end, it.kind, it.id))
        self.part_of = part_of
        self.items = items
        self._index = {it.key: i for i, it in enumerate(items)}

    @staticmethod
    def _claim_span_ids(c: Claim) -> list[int]:
        return c.part_ids()

    # -- the current item -------------------------------------------------------------------------
    def current_span(self) -> Span | None:
        """The span boundary keys and relabelling act on."""
        if self.current is None:
            return None
        if self.current.kind == "span":
            return self.spans.get(self.current.id)
        return self.spans.get(self.focus_span) if self.focus_span else None

    def current_claim(self) -> Claim | None:
        if self.current is not None and self.current.kind == "claim":
            return self.claims.get(self.current.id)
        return None

    def _set_current(self, item: Item | None, focus: int | None = None, reveal: bool = True) -> None:
        self.current = item
        others: list[tuple[int, int]] = []
        rng = None
        if item is None:
            self.focus_span = None
        elif item.kind == "span":
            self.focus_span = item.id
            s = self.spans[item.id]
            rng = (s.start, s.end)
        else:
            c = self.claims[item.id]
            parts = [self.spans[p] for p in self._claim_span_ids(c) if p in self.spans]
            if focus is None or focus not in {p.id for p in parts}:
                focus = c.content_span_id if c.content_span_id in self.spans else parts[0].id
            self.focus_span = focus
            f = self.spans[focus]
            rng = (f.start, f.end)
            others = [(p.start, p.end) for p in parts if p.id != focus]
        self.view.set_current(rng, others, reveal=reveal, band=self._band_of_current())
        self.current_changed.emit()

    def select_item(self, kind: str, item_id: int, focus: int | None = None) -> None:
        i = self._index.get((kind, item_id))
        if i is not None:
            self._set_current(self.items[i], focus=focus)

    def _next_from(self, start: int, end: int, *, suggested_only: bool, backwards: bool = False,
                   skip: tuple[str, int] | None = None) -> Item | None:
        """The first item after (or before) the position, wrapping round the article."""
        items = self.items
        if not items:
            return None
        keys = [(it.start, it.end) for it in items]
        if backwards:
            i = bisect_left(keys, (start, end)) - 1
            order = list(range(i, -1, -1)) + list(range(len(items) - 1, i, -1))
        else:
            i = bisect_right(keys, (start, end))
            order = list(range(i, len(items))) + list(range(0, i))
        for j in order:
            it = items[j]
            if it.key == skip:
                continue
            if not suggested_only or it.status == "suggested":
                return it
        return None

    def next_suggestion(self, backwards: bool = False) -> bool:
        """Make the next undecided item current; False when none is left."""
        cur = self.current
        if cur is not None and cur.key in self._index:
            # Items that start at the same place sort by end: step by index, not position.
            i = self._index[cur.key]
            n = len(self.items)
            rng = range(1, n)
            for d in rng:
                it = self.items[(i - d) % n if backwards else (i + d) % n]
                if it.status == "suggested":
                    self._set_current(it)
                    return True
            if cur.status == "suggested":
                return True
        else:
            it = self._next_from(*(cur.start, cur.end) if cur else (-1, -1), suggested_only=True,
                                 backwards=backwards)
            if it is not None:
                self._set_current(it)
                return True
        self.message.emit("No undecided suggestion left in this article: D marks it done, "
                          "N opens the next")
        return False

    def _advance(self) -> None:
        """After a decision: the next undecided item becomes current."""
        cur = self.current
        if cur is None:
            return
        for d in range(1, len(self.items)):
            it = self.items[(self._index.get(cur.key, 0) + d) % len(self.items)]
            if it.status == "suggested":
                self._set_current(it)
                return
        self._set_current(cur, focus=self.focus_span, reveal=False)
        self.message.emit("Every suggestion in this article is decided: D marks it done, N opens the next")

    def _on_clicked(self, offset: int) -> None:
        """A click on a highlight makes it current: the shortest span under the mouse wins."""
        under = [s for s in self.spans.values() if s.start <= offset < s.end]
        if not under:
            return
        # Entities and cue/source before a claim's long content band.
        under.sort(key=lambda s: (s.label == "Content", s.end - s.start, s.id))
        s = under[0]
        if s.id in self.part_of:
            self.select_item("claim", self.part_of[s.id], focus=s.id)
        else:
            self.select_item("span", s.id)

    # -- guards --------------------------------------------------------------------------------------
    def _can_write(self) -> bool:
        if self.doc_id is None:
            self.message.emit("Open an article first")
            return False
        if self.is_busy():
            self.message.emit("Busy with an import or annotation: decisions wait until it finishes")
            return False
        return True

    def _decide(self, fn, *args, advance: bool = False, keep: tuple[str, int] | None = None,
                **kwargs) -> Any:
        """Run one Review decision, then refresh the view, the list and the Edit menu."""
        try:
            result = fn(*args, **kwargs)
        except (ValueError, ProjectError) as exc:
            self.message.emit(str(exc))
            return None
        self.reload(keep=keep, then_advance=advance)
        self.documents_changed.emit({self.doc_id})
        self.undo_changed.emit()
        return result

    # -- decisions on the current item -----------------------------------------------------------------
    def accept(self) -> None:
        self._status_decision("accept")

    def reject(self) -> None:
        self._status_decision("reject")

    def reset(self) -> None:
        self._status_decision("reset")

    def _status_decision(self, what: str) -> None:
        if not self._can_write():
            return
        cur = self.current
        if cur is None:
            self.message.emit("Nothing to decide here: J goes to the next suggestion")
            return
        if cur.kind == "claim":
            fn = {"accept": self.review.accept_claim, "reject": self.review.reject_claim}.get(what)
            if fn is None:
                self.message.emit("A claim's decision is taken back with Undo (Ctrl+Z)")
            else:
                self._decide(fn, cur.id, advance=True)
            return
        fn = {"accept": self.review.accept, "reject": self.review.reject,
              "reset": self.review.reset}[what]
        self._decide(fn, [cur.id], advance=what != "reset")

    def relabel(self, label: str) -> None:
        """A label key: with text selected, a new span; otherwise relabel the current span."""
        if not self._can_write():
            return
        sel = self.view.selection_range()
        if sel is not None:
            self.create_span(label)
            return
        s = self.current_span()
        if s is None or s.label in CLAIM_LABELS:
            self.message.emit("Select an entity span (J/K or a click) or some text first")
            return
        self._decide(self.review.relabel, s.id, label)

    def create_span(self, label: str) -> int | None:
        if not self._can_write():
            return None
        rng = self.token_range(self.view.selection_range())
        if rng is None:
            self.message.emit("Select some text first")
            return None
        span_id = self._decide(self.review.create_span, self.doc_id, rng[0], rng[1], label)
        self.view.clear_selection()
        if span_id is not None:
            self.select_item("span", span_id)
        return span_id

    def delete_span(self) -> None:
        if not self._can_write():
            return
        s = self.current_span()
        if s is None:
            return
        self._decide(self.review.delete_span, s.id, advance=False)

    def move_boundary(self, which: str) -> None:
        """grow_end / shrink_end / grow_start / shrink_start by one token (\\w+ or a symbol)."""
        if not self._can_write():
            return
        s = self.current_span()
        if s is None:
            self.message.emit("No current span to resize")
            return
        starts, ends = self._token_bounds()
        start, end = s.start, s.end
        if which == "grow_end":
            i = bisect_left(starts, end)
            if i < len(starts):
                end = ends[i]
        elif which == "shrink_end":
            j = bisect_left(ends, end) - 1
            if j >= 0 and ends[j] > start and starts[j] >= start:
                end = ends[j]
        elif which == "grow_start":
            j = bisect_right(ends, start) - 1
            if j >= 0:
                start = starts[j]
        elif which == "shrink_start":
            i = bisect_right(starts, start)
            if i < len(starts) and ends[i] <= end:
                start = starts[i]
        if (start, end) == (s.start, s.end):
            self.message.emit("The span cannot move further that way")
            return
        keep = self.current.key if self.current else None
        self._decide(self.review.set_bounds, s.id, start, end, keep=keep)
        self.view.set_current(*self._outline_of_current(), reveal=False, band=self._band_of_current())

    def _band_of_current(self) -> tuple[int, int] | None:
        c = self.current_claim()
        s = self.spans.get(c.content_span_id) if c is not None and c.content_span_id else None
        return (s.start, s.end) if s is not None else None

    def _outline_of_current(self) -> tuple[tuple[int, int] | None, list[tuple[int, int]]]:
        f = self.spans.get(self.focus_span) if self.focus_span else None
        others = []
        c = self.current_claim()
        if c is not None:
            others = [(self.spans[p].start, self.spans[p].end) for p in self._claim_span_ids(c)
                      if p in self.spans and p != self.focus_span]
        return ((f.start, f.end) if f else None), others

    def apply_all(self, scope: str) -> None:
        """Give every mention of the current span's text its label (accepting it), in one step."""
        self._apply_to_all(scope, reject=False)

    def reject_all(self, scope: str) -> None:
        self._apply_to_all(scope, reject=True)

    def _apply_to_all(self, scope: str, reject: bool) -> None:
        if not self._can_write():
            return
        s = self.current_span()
        if s is None or s.label in CLAIM_LABELS:
            self.message.emit("Apply-to-all works on an entity span: select one first")
            return
        # The label (not "accept") so a relabelled span carries its new label to every mention.
        decision = "reject" if reject else s.label
        n = self._decide(self.review.apply_to_all, s.id, decision, scope=scope, advance=True)
        if n is not None:
            if scope == "project":
                self.documents_changed.emit(None)
            where = "this article" if scope == "document" else "the project"
            self.message.emit(f"{'Rejected' if reject else 'Accepted'} {n} mention(s) of "
                              f"“{self.text[s.start:s.end]}” in {where}")

    # -- claims ----------------------------------------------------------------------------------------------
    def mark_claim(self) -> int | None:
        if not self._can_write():
            return None
        rng = self.token_range(self.view.selection_range())
        if rng is None:
            self.message.emit("Select the claim's text first, then press M")
            return None
        claim_id = self._decide(self.review.create_claim, self.doc_id, rng)
        self.view.clear_selection()
        if claim_id is not None:
            self.select_item("claim", claim_id)
            self.message.emit("Claim marked: select its cue and press C then U, its source and "
                              "press C then S; C then 1–6 grades it")
        return claim_id

    def set_claim_part(self, role: str) -> None:
        if not self._can_write():
            return
        c = self.current_claim()
        if c is None:
            self.message.emit("Make a claim current first (J/K, or click one of its parts)")
            return
        rng = self.token_range(self.view.selection_range())
        if rng is None:
            self.message.emit(f"Select the {role.lower()} text first")
            return
        self._decide(self.review.set_claim_part, c.id, role, rng, keep=("claim", c.id))
        self.view.clear_selection()
        c = self.claims.get(c.id)
        if c is not None:
            self.select_item("claim", c.id, focus=c.part_id(role))

    def grade_claim(self, grade: int | None) -> None:
        if not self._can_write():
            return
        c = self.current_claim()
        if c is None:
            self.message.emit("Grading needs a current claim (J/K to one, or click its cue)")
            return
        self._decide(self.review.grade_claim, c.id, grade or None, keep=("claim", c.id))

    def grade_source(self, grade: str | None) -> None:
        if not self._can_write():
            return
        c = self.current_claim()
        if c is None or c.source_id is None:
            self.message.emit("Reliability is graded on a claim's source: pick a claim with a source")
            return
        grade = None if grade in (None, "0", "") else grade
        self._decide(self.review.grade_source, c.source_id, grade, keep=("claim", c.id))

    def set_claim_source(self, source_id: int | None) -> None:
        c = self.current_claim()
        if c is None or not self._can_write():
            return
        self._decide(self.review.set_claim_source, c.id, source_id, keep=("claim", c.id))

    def set_claim_note(self, note: str) -> None:
        c = self.current_claim()
        if c is None or not self._can_write() or (c.note or "") == note:
            return
        self._decide(self.review.set_claim_note, c.id, note, keep=("claim", c.id))

    # -- the article ---------------------------------------------------------------------------------------
    def toggle_done(self) -> None:
        if not self._can_write():
            return
        status = self.project.conn.execute("SELECT status FROM documents WHERE id = ?",
                                           (self.doc_id,)).fetchone()[0]
        new = "in review" if status == "done" else "done"
        self._decide(self.review.set_document_status, self.doc_id, new)
        self.message.emit(f"Article marked {new}")

    def toggle_doc_label(self, label: str) -> None:
        if not self._can_write():
            return
        self._decide(self.review.toggle_document_label, self.doc_id, label)

    # -- undo ------------------------------------------------------------------------------------------------
    def undo(self, redo: bool = False) -> None:
        if self.is_busy():
            self.message.emit("Busy with background work: undo waits until it finishes")
            return
        text = self.review.redo_text() if redo else self.review.undo_text()
        if text is None:
            return
        docs = self.review.redo() if redo else self.review.undo()
        if self.doc_id in docs:
            self.reload()
        self.documents_changed.emit(docs)
        self.undo_changed.emit()
        elsewhere = "" if not docs or self.doc_id in docs else " (in another article)"
        self.message.emit(f"{'Redid' if redo else 'Undid'} {text}{elsewhere}")

    # -- tokens ---------------------------------------------------------------------------------------------
    def _token_bounds(self) -> tuple[list[int], list[int]]:
        if self._tokens is None:
            ms = list(_TOKEN.finditer(self.text))
            self._tokens = ([m.start() for m in ms], [m.end() for m in ms])
        return self._tokens

    def token_range(self, rng: tuple[int, int] | None) -> tuple[int, int] | None:
        """Snap a selection outwards to whole tokens, trimming surrounding white space."""
        if rng is None:
            return None
        starts, ends = self._token_bounds()
        s, e = rng
        i = bisect_right(ends, s)          # first token ending after s
        j = bisect_left(starts, e) - 1     # last token starting before e
        if i >= len(starts) or j < 0 or i > j:
            return None
        return starts[i], ends[j]
