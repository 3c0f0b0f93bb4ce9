"""Pre-annotation in the background while the analyst reviews: progress in the status bar,
Cancel, and a later start continuing where it stopped.

How review and background annotation share the project: spaCy parses a small batch on the
shared worker thread (an op that does not touch the project, so decisions are never refused
meanwhile); the batch is then stored on the UI thread, through the project's one connection,
in one short transaction (a few milliseconds, like a decision). So there is still one writer,
and a decision never waits for a parse. While an op that does use the project runs (an import,
an export), storing waits for it, as decisions do.
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from annotation.progress import Cancelled
from storage.background_annotation import (
    annotated_count,
    entity_model,
    next_batch,
    parse,
    pending_count,
    set_wanted,
    store,
)
from storage.project import Project, ProjectError
from ui import ops

RETRY_MS = 150  # while a project op runs: try storing again this much later
# A batch with more text than this (a very long article: tens of thousands of suggestions) is
# stored on the worker as an op that uses the project, decisions waiting meanwhile, instead of
# holding the window for the seconds its transaction takes.
STORE_ON_UI_THREAD_CHARS = 100_000


class BackgroundAnnotator(QObject):
    """Pre-annotates a project's never-annotated documents, one small batch after another."""

    progressed = Signal(int, int)   # documents annotated, documents in all (not done)
    stored = Signal(object)         # set of document ids just stored
    finished = Signal(str)          # "done" | "cancelled" | "failed"

    def __init__(self, parent, project: Project, nlp, *,
                 on_error: Callable[[BaseException], None] | None = None):
        super().__init__(parent)
        self.parent_widget = parent
        self.project = project
        self.nlp = nlp
        self.on_error = on_error
        self.op: ops.Op | None = None
        self.running = False
        self.done_count = 0
        self.total = 0
        self.stored_documents = 0   # stored by this run
        self._cancelled = False
        self._parsed: list | None = None  # a parsed batch waiting to be stored
        self._chars = 0  # the characters of the batch being parsed
        self.entities = None

    def start(self) -> bool:
        """Begin (or go on with) the pending documents; False when there are none."""
        left = pending_count(self.project)
        set_wanted(self.project, bool(left))
        if not left:
            return False
        self.entities = entity_model(self.project)  # the project's own NER, if it uses one
        self.done_count = annotated_count(self.project)
        self.total = self.done_count + left
        self.running = True
        self.progressed.emit(self.done_count, self.total)
        QTimer.singleShot(0, self._next)
        return True

    def cancel(self) -> None:
        """Stop after the batch being parsed (which is dropped); what is stored stays."""
        if not self.running:
            return
        self._cancelled = True
        self._parsed = None
        if self.op is not None and not self.op.is_done:
            self.op.cancel()
        else:
            self._finish("cancelled")

    # -- the loop ------------------------------------------------------------------------------
    def _next(self) -> None:
        if not self.running:
            return
        if self._cancelled:
            self._finish("cancelled")
            return
        if ops.is_busy():  # an import or export is using the project's connection
            QTimer.singleShot(RETRY_MS, self._next)
            return
        batch = next_batch(self.project)
        if not batch.items:
            set_wanted(self.project, False)
            self._finish("done")
            return
        self._chars = sum(len(text) for text, _doc_id in batch.items)
        self.op = ops.run_in_background(
            self.parent_widget, "Pre-annotating in the background",
            lambda progress, should_cancel, b=batch: parse(self.nlp, b, should_cancel, self.entities),
            self._on_parsed, cancellable=True, on_error=self._on_op_error, show_after_ms=-1,
            uses_project=False)

    def _on_parsed(self, parsed: list) -> None:
        self.op = None
        if not self.running or self._cancelled:
            self._finish("cancelled")
            return
        self._parsed = parsed
        self._store()

    def _store(self) -> None:
        if not self.running or self._parsed is None:
            return
        if ops.is_busy():
            QTimer.singleShot(RETRY_MS, self._store)
            return
        parsed, self._parsed = self._parsed, None
        if self._chars > STORE_ON_UI_THREAD_CHARS:
            project, nlp = self.project, self.nlp
            self.op = ops.run_in_background(
                self.parent_widget, "Storing the suggestions for a long article",
                lambda progress, should_cancel: store(project, nlp, parsed),
                lambda summary: self._stored(summary, parsed), cancellable=False,
                on_error=self._on_op_error, show_after_ms=-1)
            return
        try:
            summary = store(self.project, self.nlp, parsed)
        except ProjectError as exc:  # the disk refused it: the batch was rolled back
            self._on_op_error(exc)
            return
        self._stored(summary, parsed)

    def _stored(self, summary, parsed: list) -> None:
        self.op = None
        if not self.running:
            return
        self.stored_documents += summary.documents
        self.done_count += summary.documents
        self.stored.emit({doc_id for _doc, doc_id in parsed})
        self.progressed.emit(self.done_count, self.total)
        QTimer.singleShot(0, self._next)

    def _on_op_error(self, exc: BaseException) -> None:
        self.op = None
        if isinstance(exc, Cancelled):
            self._finish("cancelled")
            return
        self._finish("failed")
        if self.on_error is not None:
            self.on_error(exc)
        else:
            ops.report_error(self.parent_widget, "Pre-annotating in the background", exc)

    def _finish(self, how: str) -> None:
        if not self.running:
            return
        self.running = False
        self.finished.emit(how)

