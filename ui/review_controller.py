"""The presenter of the review: shows the review model's state in the article view and the side
panel, and turns keys, clicks and panel edits into the model's decisions.

Everything it shows comes from `storage.review_model.ReviewModel`; after each decision it
redraws from the `Changes` the model returns and passes them on (`changed`) so the window
refreshes the list, the counts and the Edit menu.
"""
from __future__ import annotations

from collections.abc import Callable
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox

from annotation.model import CLAIM_ROLES
from storage.changes import Changes
from storage.project import ProjectError
from storage.review_model import NONE_LEFT, ReviewModel
from ui.article_view import ArticleView
from ui.label_picker import LabelPicker
from ui.side_panel import SidePanel

BUSY = "Busy with an import or annotation: decisions wait until it finishes"


class ReviewController(QObject):
    """Lives as long as the window; `set_model` gives it the open project's review model."""

    changed = Signal(object)   # Changes: after every decision, undo and redo
    message = Signal(str)      # one line for the status bar

    def __init__(self, view: ArticleView, side: SidePanel, is_busy: Callable[[], bool] = lambda: False):
        super().__init__()
        self.view = view
        self.side = side
        self.is_busy = is_busy
        self.model: ReviewModel | None = None
        self.done_box: QMessageBox | None = None       # "reject the remaining N?" while open
        self.label_picker: LabelPicker | None = None   # E's picker while open
        view.clicked.connect(self._on_clicked)
        view.describe = self._describe
        side.credibility_chosen.connect(self.grade_claim)
        side.reliability_chosen.connect(self.grade_source)
        side.registry_chosen.connect(self.set_claim_source)
        side.note_edited.connect(self.set_claim_note)
        side.doc_label_toggled.connect(self.toggle_doc_label)

    def set_model(self, model: ReviewModel | None) -> None:
        self.model = model
        if model is not None:
            self.view.set_colours(model.project.labels())

    def _describe(self, offset: int) -> list[str]:
        return self.model.describe_at(offset) if self.model is not None else []

    # -- showing ------------------------------------------------------------------------------------
    def open_document(self, doc_id: int | None) -> None:
        """Show an article with its first undecided item current."""
        m = self.model
        if m is None:
            return
        m.open(doc_id)
        if doc_id is None:
            self.view.clear_document()
        else:
            self.view.show_document(m.text, m.spans.values())
            self.view.set_claim_codes(m.claim_codes())
        self._show_current()
        self.side.set_doc_labels(m.doc_labels(), enabled=doc_id is not None)

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

    def show_changes(self, changes: Changes) -> None:
        """Redraw from changes made elsewhere (the source registry) or just now, and pass them on."""
        m = self.model
        if m is None:
            return
        if m.doc_id is not None and (changes.spans or changes.claims):
            self.view.update_spans(m.spans.values())
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
        if not m.next_undecided(backwards=backwards):
            self.message.emit(NONE_LEFT)
            return
        self._show_current()

    def step_selection(self, backwards: bool = False) -> None:
        """Right / Left: select the next (previous) token, to make a span without the mouse."""
        m = self.model
        if m is None or m.doc_id is None:
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
