"""The presenter of the review: shows the review model's state in the article view and the side
panel, and turns keys, clicks and panel edits into the model's decisions.

Everything it shows comes from `storage.review_model.ReviewModel`; after each decision it
redraws from the `Changes` the model returns and passes them on (`changed`) so the window
refreshes the list, the counts and the Edit menu.
"""
from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QMessageBox

from annotation.model import CLAIM_ROLES
from annotation.tokens import TokenEdges, tokenizer
from storage.changes import Changes
from storage.project import Project, ProjectError
from storage.review_model import NONE_LEFT, OpenedArticle, ReviewModel, read_article
from ui import ops
from ui.article_view import ArticleView
from ui.label_picker import LabelPicker
from ui.side_panel import SidePanel

BUSY = "Busy with an import or annotation: decisions wait until it finishes"
# Related claims are found once the analyst stays on a claim this long (J/K stepping through
# claims does not search for each one).
RELATED_DELAY_MS = 120
OPENING = "Still opening this long article: a moment…"
# How long one step of showing a long article may hold the UI thread before events run again.
STEP_BUDGET_S = 0.02


class ReviewController(QObject):
    """Lives as long as the window; `set_model` gives it the open project's review model."""

    changed = Signal(object)   # Changes: after every decision, undo and redo
    message = Signal(str)      # one line for the status bar
    jump_requested = Signal(int, int)  # (article, claim): the window opens it (G, a double click)
    opened = Signal(object)    # document id: a long article is shown whole (opened late)

    def __init__(self, view: ArticleView, side: SidePanel, is_busy: Callable[[], bool] = lambda: False):
        super().__init__()
        self.view = view
        self.side = side
        self.is_busy = is_busy
        self.model: ReviewModel | None = None
        self.done_box: QMessageBox | None = None       # "reject the remaining N?" while open
        self.label_picker: LabelPicker | None = None   # E's picker while open
        # A long article being opened: its id, the view's remaining steps, the read op.
        self.loading: int | None = None
        self._gc_paused = False  # the collector was switched off while a long article opens
        self._steps: Iterator[int] | None = None
        self._first_step = False
        self._load_op: ops.Op | None = None
        self._step_timer = QTimer(self)
        self._step_timer.setSingleShot(True)
        self._step_timer.timeout.connect(self._on_step)
        view.clicked.connect(self._on_clicked)
        view.describe = self._describe
        side.credibility_chosen.connect(self.grade_claim)
        side.reliability_chosen.connect(self.grade_source)
        side.registry_chosen.connect(self.set_claim_source)
        side.note_edited.connect(self.set_claim_note)
        side.doc_label_toggled.connect(self.toggle_doc_label)
        panel = side.corroboration
        panel.stance_chosen.connect(self.set_stance)
        panel.picked.connect(self._on_row_picked)
        panel.activated.connect(self._on_row_activated)
        panel.take_suggestion.connect(self.accept_grade_suggestion)
        self._related_timer = QTimer(self)
        self._related_timer.setSingleShot(True)
        self._related_timer.setInterval(RELATED_DELAY_MS)
        self._related_timer.timeout.connect(self._find_related)

    def set_model(self, model: ReviewModel | None) -> None:
        self._stop_loading()
        self.model = model
        if model is not None:
            self.view.set_colours(model.project.labels())

    def _describe(self, offset: int) -> list[str]:
        return self.model.describe_at(offset) if self.model is not None else []

    # -- showing ------------------------------------------------------------------------------------
    def open_document(self, doc_id: int | None) -> None:
        """Show an article with its first undecided item current (a long one in the background
        and in steps, so the window never waits for it)."""
        m = self.model
        if m is None:
            return
        self._stop_loading()
        if doc_id is not None and m.is_long(doc_id):
            self._open_long(doc_id)
            return
        m.open(doc_id)
        if doc_id is None:
            self.view.clear_document()
        else:
            self.view.show_document(m.text, m.spans.values())
            self.view.set_claim_codes(m.claim_codes())
        self._show_current()
        self.side.set_doc_labels(m.doc_labels(), enabled=doc_id is not None)

    # -- a long article: read on the worker, shown in steps --------------------------------------
    def _open_long(self, doc_id: int) -> None:
        m = self.model
        m.adopt(OpenedArticle())  # nothing to decide until it is read
        # Hundreds of thousands of objects are about to be made (on both threads): the garbage
        # collector would walk them all again and again, 150-190 ms each time, holding the
        # GIL. It waits until the article is shown, then they are frozen out of its walks
        # (spans and their drawing hold no cycles: closing the article still frees them).
        self._pause_gc()
        self.loading = doc_id
        self.view.clear_document()
        self.view.setPlaceholderText("Opening a long article: it appears piece by piece…")
        self.side.show_nothing("Opening a long article…")
        self.side.set_doc_labels([], enabled=False)
        self.message.emit("Opening a long article: it appears piece by piece")
        path = m.project.path

        def read(progress, should_cancel) -> OpenedArticle:
            # Its own read-only connection: the window's stays free for decisions meanwhile.
            with Project(path, readonly=True) as project:
                return read_article(project, doc_id)

        op = self._load_op = ops.run_in_background(
            self.view.window(), "Opening the article", read,
            lambda article: self._on_read(op, m, article), cancellable=True, show_after_ms=-1,
            uses_project=False)

    def _on_read(self, op: ops.Op, model: ReviewModel, article: OpenedArticle) -> None:
        if op is not self._load_op or self.model is not model:
            return  # another article (or the same again, or a project) was opened meanwhile
        self._load_op = None
        model.adopt(article)
        # Read in order of start (read_article): the view need not sort 100,000 spans.
        self._steps = self.view.show_document_steps(model.text, model.spans.values(),
                                                    in_order=True)
        self._first_step = True
        self._on_step()
        # Its tokens (for snapping selections) meanwhile: seconds of spaCy on 4.8 MB.
        doc_id, text = article.doc_id, article.text
        ops.run_in_background(
            self.view.window(), "Reading the article's tokens",
            lambda progress, should_cancel: TokenEdges.in_pieces(text, tokenizer()),
            lambda edges: model.set_tokens(doc_id, edges), cancellable=False, show_after_ms=-1,
            uses_project=False)

    def _on_step(self) -> None:
        """Show the next pieces of a long article, for at most STEP_BUDGET_S, then let events run."""
        if self._steps is None:
            return
        m = self.model
        deadline = time.perf_counter() + STEP_BUDGET_S
        while True:
            try:
                shown = next(self._steps)
            except StopIteration:
                self._steps = None
                self.loading = None
                self.view.setPlaceholderText("No article open")
                self._resume_gc(freeze=True)
                # Show where the first suggestion is, unless the analyst has scrolled meanwhile.
                m.reveal = self.view.verticalScrollBar().value() == 0
                self._show_current()
                self.side.set_doc_labels(m.doc_labels())
                self.message.emit(f"Opened: {len(m.text):,} characters, {len(m.spans):,} spans")
                self.opened.emit(m.doc_id)
                return
            if self._first_step and shown:  # the beginning is on screen: its codes and item too
                self._first_step = False
                self.view.set_claim_codes(m.claim_codes())
                o = m.outline()
                self.view.set_current(o.focus, o.others, reveal=False, band=o.band)
                self._show_side()
            if time.perf_counter() > deadline:
                break
        self._step_timer.start(0)

    def _pause_gc(self) -> None:
        if not self._gc_paused:
            self._gc_paused = gc.isenabled()
            gc.disable()

    def _resume_gc(self, freeze: bool = False) -> None:
        if freeze:
            gc.freeze()
        if self._gc_paused:
            self._gc_paused = False
            gc.enable()

    def _stop_loading(self) -> None:
        self.view.setPlaceholderText("No article open")
        self._resume_gc()
        self._step_timer.stop()
        self._steps = None
        self.loading = None
        if self._load_op is not None and not self._load_op.is_done:
            self._load_op.cancel()
        self._load_op = None

    def _show_current(self) -> None:
        m = self.model
        o = m.outline()
        self.view.set_current(o.focus, o.others, reveal=m.reveal, band=o.band)
        self._show_side()

    def _show_side(self) -> None:
        m = self.model
        if m.current is None:
            self.side.show_nothing("No spans in this article" if not m.items else "Nothing selected")
            return
        if m.current.kind == "span":
            s = m.spans[m.current.id]
            self.side.show_span(s, m.span_text(s))
            return
        v = m.claim_view()
        self.side.show_claim(v.claim, v.parts, v.focus, v.focus_text, v.source, m.registry(),
                             v.grade, v.candidate, v.candidate_entry)
        self._show_corroboration()

    def _show_corroboration(self) -> None:
        """The current claim's stance, evidence, links and related claims (found after a pause)."""
        m = self.model
        c = m.current_claim() if m is not None else None
        cor = m.corroboration() if c is not None else None
        if c is None or cor is None:
            return
        related = m.related(compute=False)
        self.side.corroboration.show_claim(cor, related, m.current_pick(), c.stance, c.credibility)
        if related is None:
            self._related_timer.start()

    def _find_related(self) -> None:
        m = self.model
        if m is None or m.current_claim() is None:
            return
        try:
            m.related()
        except ProjectError as exc:
            self.message.emit(str(exc))
            return
        self._show_corroboration()

    def show_changes(self, changes: Changes) -> None:
        """Redraw from changes made elsewhere (the source registry) or just now, and pass them on."""
        m = self.model
        if m is None:
            return
        if m.doc_id is not None and changes.spans:
            # Only the spans written: a long article's others are neither compared nor redrawn.
            self.view.change_spans([m.spans[i] for i in changes.spans if i in m.spans],
                                   [i for i in changes.spans if i not in m.spans])
        if m.doc_id is not None and (changes.claims or changes.registry or changes.spans):
            self.view.set_claim_codes(m.claim_codes())
        self._show_current()
        if m.doc_id in changes.doc_labels:
            self.side.set_doc_labels(m.doc_labels())
        self.changed.emit(changes)
        if changes.message:
            self.message.emit(changes.message)

    def apply_changes(self, changes: Changes) -> None:
        """Changes stored by another part of the window (the source registry dialog)."""
        if self.model is not None:
            self.model.apply(changes)
            self.show_changes(changes)

    def reload(self) -> None:
        """Re-read the open article whole (after an import or annotation changed many rows)."""
        m = self.model
        if m is not None and (self.loading is not None or (m.doc_id is not None and m.is_long(m.doc_id))):
            self.open_document(self.loading or m.doc_id)  # a long one: in the background again
            return
        if self.model is not None:
            self.model.reload()
            self.view.update_spans(self.model.spans.values())
            self.view.set_claim_codes(self.model.claim_codes())
            self._show_current()

    # -- running a decision ----------------------------------------------------------------------------
    def _decide(self, decide: Callable[[ReviewModel], Changes]) -> Changes | None:
        """Run one model decision (stored at once), then redraw from what it changed."""
        m = self.model
        if m is None:
            return None
        if self.loading is not None:
            self.message.emit(OPENING)
            return None
        if self.is_busy():
            self.message.emit(BUSY)
            return None
        try:
            changes = decide(m)
        except (ValueError, ProjectError) as exc:
            self.message.emit(str(exc))
            return None
        self.show_changes(changes)
        return changes

    def _on_selection(self, decide: Callable[[ReviewModel, tuple[int, int] | None], Changes]) -> None:
        """A decision on the selected text; the selection is cleared afterwards."""
        selection = self.view.selection_range()
        changes = self._decide(lambda m: decide(m, selection))
        self.view.clear_selection()
        if changes is not None:
            self._show_current()

    # -- navigation ------------------------------------------------------------------------------------
    def next_suggestion(self) -> None:
        self._step(backwards=False)

    def prev_suggestion(self) -> None:
        self._step(backwards=True)

    def _step(self, backwards: bool) -> None:
        m = self.model
        if m is None:
            return
        if self.loading is not None:
            self.message.emit(OPENING)
            return
        if not m.next_undecided(backwards=backwards):
            self.message.emit(NONE_LEFT)
            return
        self._show_current()

    def step_selection(self, backwards: bool = False) -> None:
        """Right / Left: select the next (previous) token, to make a span without the mouse."""
        m = self.model
        if m is None or m.doc_id is None or self.loading is not None:
            return
        rng = m.step_selection(self.view.selection_range(), backwards=backwards)
        if rng is None:
            self.message.emit("No more tokens that way")
            return
        self.view.select_range(*rng)
        self.view.ensureCursorVisible()

    def select_at(self, offset: int, *, cycle: bool = True) -> None:
        """Make current what is under a character; clicking again there cycles through it."""
        if self.model is not None and self.model.click(offset, cycle=cycle) is not None:
            self._show_current()

    def _on_clicked(self, offset: int) -> None:
        self.select_at(offset)

    # -- decisions (each bound to an action of the table in ui/actions.py) ------------------------------
    def accept(self) -> None:
        self._decide(lambda m: m.accept())

    def reject(self) -> None:
        self._decide(lambda m: m.reject())

    def reset(self) -> None:
        self._decide(lambda m: m.reset())

    def label_key(self, label: str) -> None:
        """With text selected, a new span of this label; otherwise relabel the current span.
        A claim part (from the picker) sets that part of the current claim, or Content marks one."""
        if label in CLAIM_ROLES:
            if label == "Content" and (self.model is None or self.model.current_claim() is None):
                self.mark_claim()
            else:
                self.set_claim_part(label)
            return
        if self.view.selection_range() is not None:
            self._on_selection(lambda m, sel: m.create_span(label, sel))
        else:
            self._decide(lambda m: m.label(label))

    def pick_label(self) -> None:
        """E: a picker of every label, filtered as you type; Enter assigns the label."""
        m = self.model
        if m is None or m.doc_id is None:
            return
        labels = [lab for lab in m.project.labels()
                  if lab["kind"] == "entity" or lab["name"] in CLAIM_ROLES]
        selected = self.view.selection_range() is not None
        hint = ("Enter makes the selected text a span of this label" if selected else
                "Enter relabels the current span (Content, Cue, Source: a claim's parts)")
        picker = LabelPicker(labels, hint, self.view.window())
        picker.chosen.connect(self.label_key)
        picker.finished.connect(self._on_picker_closed)
        self.label_picker = picker
        picker.open()

    def delete_span(self) -> None:
        self._decide(lambda m: m.delete_span())

    def _on_picker_closed(self, _result: int) -> None:
        self.label_picker = None
        self._back_to_article()

    def _back_to_article(self) -> None:
        """After a dialog of the review closes: the keys are the article's again."""
        self.view.window().activateWindow()
        self.view.setFocus()

    def move_boundary(self, which: str) -> None:
        """Shift(+Ctrl)+arrows: resize the selection when text is selected, else the current span."""
        m = self.model
        if self.loading is not None:
            self.message.emit(OPENING)
            return
        selection = self.view.selection_range()
        if m is not None and selection is not None:
            rng = m.resize_selection(selection, which)
            if rng is None:
                self.message.emit("The selection cannot move further that way")
            else:
                self.view.select_range(*rng)
            return
        self._decide(lambda m: m.move_boundary(which))

    def apply_all(self, scope: str) -> None:
        self._decide(lambda m: m.apply_to_all(scope))

    def reject_all(self, scope: str) -> None:
        self._decide(lambda m: m.apply_to_all(scope, reject=True))

    def mark_claim(self) -> None:
        self._on_selection(lambda m, sel: m.mark_claim(sel))

    def set_claim_part(self, role: str) -> None:
        self._on_selection(lambda m, sel: m.set_claim_part(role, sel))

    def add_claim_piece(self, role: str) -> None:
        self._on_selection(lambda m, sel: m.add_claim_piece(role, sel))

    def grade_claim(self, grade: int | None) -> None:
        self._decide(lambda m: m.grade_claim(grade or None))

    def grade_source(self, grade: str | None) -> None:
        self._decide(lambda m: m.grade_source(grade))

    def set_claim_source(self, source_id: int | None) -> None:
        self._decide(lambda m: m.set_claim_source(source_id))

    def set_claim_note(self, note: str) -> None:
        c = self.model.current_claim() if self.model is not None else None
        if c is None or (c.note or "") == note:
            return
        self._decide(lambda m: m.set_claim_note(note))

    def toggle_done(self) -> None:
        """D: mark the article done; with suggestions undecided, ask how to resolve them first."""
        m = self.model
        if m is None or m.doc_id is None:
            return
        left = m.undecided_left() if m.document_status() != "done" else 0
        if not left:
            self._decide(lambda m: m.toggle_done())
            return
        box = QMessageBox(QMessageBox.Question, "Mark the article done",
                          f"{left} suggestion(s) in this article are still undecided. A done "
                          "article holds only what an analyst decided.", QMessageBox.Cancel,
                          self.view.window())
        reject = box.addButton(f"&Reject the remaining {left}", QMessageBox.DestructiveRole)
        keep = box.addButton("&Keep reviewing", QMessageBox.AcceptRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(QMessageBox.Cancel)

        def answered(_result: int) -> None:
            self.done_box = None
            if box.clickedButton() is reject:
                self._decide(lambda m: m.toggle_done(resolve="reject"))
            elif box.clickedButton() is keep:
                if m.current is None or m.current.status != "suggested":
                    self._step(backwards=False)
                self.message.emit(f"{left} suggestion(s) left to decide: J/K go through them")
            self._back_to_article()

        box.finished.connect(answered)
        self.done_box = box
        box.open()

    def toggle_doc_label(self, label: str) -> None:
        self._decide(lambda m: m.toggle_doc_label(label))

    # -- corroboration ---------------------------------------------------------------------------------
    def pick_related(self, backwards: bool = False) -> None:
        """] / [: pick the next (previous) linked or related claim of the current claim."""
        m = self.model
        if m is None:
            return
        if m.current_claim() is not None and m.related(compute=False) is None:
            self._related_timer.stop()
            self._find_related()  # the analyst asked: no need to wait for the pause
        try:
            m.pick(backwards=backwards)
        except ValueError as exc:
            self.message.emit(str(exc))
            return
        row = self.side.corroboration.set_picked(m.current_pick())
        if row is not None:
            self.side.ensureWidgetVisible(row)

    def _on_row_picked(self, claim_id: int) -> None:
        if self.model is None:
            return
        try:
            self.model.pick_claim(claim_id)
        except ValueError as exc:
            self.message.emit(str(exc))
            return
        self.side.corroboration.set_picked(claim_id)

    def _on_row_activated(self, claim_id: int) -> None:
        self._on_row_picked(claim_id)
        self.goto_picked()

    def link_picked(self, kind: str) -> None:
        self._decide(lambda m: m.link_picked(kind))

    def unlink_picked(self) -> None:
        self._decide(lambda m: m.unlink_picked())

    def set_stance(self, stance: str | None) -> None:
        c = self.model.current_claim() if self.model is not None else None
        if c is not None and c.stance == (stance or None):
            return
        self._decide(lambda m: m.set_stance(stance or None))

    def accept_grade_suggestion(self) -> None:
        self._decide(lambda m: m.accept_grade_suggestion())

    def goto_picked(self) -> None:
        """G: open the picked claim's article with that claim current."""
        m = self.model
        if m is None:
            return
        try:
            doc_id, claim_id = m.picked_target()
        except (ValueError, ProjectError) as exc:
            self.message.emit(str(exc))
            return
        self.jump_requested.emit(doc_id, claim_id)

    def select_claim(self, claim_id: int) -> bool:
        """Make a claim of the open article current (after the window opened its article)."""
        m = self.model
        if m is None or not m.select("claim", claim_id):
            return False
        self._show_current()
        return True

    def undo(self) -> None:
        self._replay(redo=False)

    def redo(self) -> None:
        self._replay(redo=True)

    def _replay(self, redo: bool) -> None:
        m = self.model
        if m is None:
            return
        if self.is_busy():
            self.message.emit("Busy with background work: undo waits until it finishes")
            return
        if (m.review.redo_text() if redo else m.review.undo_text()) is None:
            return
        self._decide(lambda m: m.redo() if redo else m.undo())
