"""The presenter of the review: shows the review model's state in the article view and the side
panel, and turns keys, clicks and panel edits into the model's decisions.

Everything it shows comes from `storage.review_model.ReviewModel`; after each decision it
redraws from the `Changes` the model returns and passes them on (`changed`) so the window
refreshes the list, the counts and the Edit menu.
"""
from __future__ import annotations

from collections.abc import Callable
from PySide6.QtCore import QObject, Signal

from storage.changes import Changes
from storage.project import ProjectError
from storage.review_model import NONE_LEFT, ReviewModel
from ui.article_view import ArticleView
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
        view.clicked.connect(self._on_clicked)
        side.credibility_chosen.connect(self.grade_claim)
        side.reliability_chosen.connect(self.grade_source)
        side.registry_chosen.connect(self.set_claim_source)
        side.note_edited.connect(self.set_claim_note)
        side.doc_label_toggled.connect(self.toggle_doc_label)

    def set_model(self, model: ReviewModel | None) -> None:
        self.model = model
        if model is not None:
            self.view.set_colours(model.project.labels())

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
        self.side.show_claim(v.claim, v.parts, v.focus, v.focus_text, v.source, m.registry())

    def show_changes(self, changes: Changes) -> None:
        """Redraw from changes made elsewhere (the source registry) or just now, and pass them on."""
        m = self.model
        if m is None:
            return
        if m.doc_id is not None and (changes.spans or changes.claims):
            self.view.update_spans(m.spans.values())
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
        """With text selected, a new span of this label; otherwise relabel the current span."""
        if self.view.selection_range() is not None:
            self._on_selection(lambda m, sel: m.create_span(label, sel))
        else:
            self._decide(lambda m: m.label(label))

    def delete_span(self) -> None:
        self._decide(lambda m: m.delete_span())

    def move_boundary(self, which: str) -> None:
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
        self._decide(lambda m: m.toggle_done())

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
