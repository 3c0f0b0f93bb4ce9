"""Long work off the UI thread: one shared background worker, a late progress dialog, clear errors.

Like Anki's CollectionOp/QueryOp: `run_in_background` queues `fn(progress, should_cancel)` on a
single worker thread (never two at once, so only one step writes to the project at a time) and
calls `on_done(result)` / `on_error(exc)` back on the UI thread.
"""
from __future__ import annotations

import atexit
import logging
import queue
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from annotation.progress import Cancelled, Progress, ShouldCancel
from storage.project import ProjectError

__all__ = ["Op", "Cancelled", "run_in_background", "load_model_in_background", "is_busy",
           "busy_notifier", "shutdown", "worker_running", "is_user_error", "report_error",
           "show_message"]

log = logging.getLogger(__name__)

# The UI thread gives up the GIL around most Qt calls (PySide releases it) and must get it
# back from the worker each time: with Python's default 5 ms switch interval a busy worker
# (reading a long article, parsing a batch) makes every such call wait up to 5 ms, and a step
# of a few dozen calls holds the window 100 ms and more. A shorter interval hands the GIL back
# sooner; the worker pays a little more switching.
GIL_SWITCH_INTERVAL_S = 0.0005
sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)


# How often the worker may post progress to the UI thread: more would flood its event queue.
_PROGRESS_INTERVAL_S = 0.05


def is_user_error(exc: BaseException) -> bool:
    """Errors a user can cause (bad file, wrong column, locked project): a message, not a bug."""
    from annotation.pipeline import ModelNotInstalled
    return isinstance(exc, (ProjectError, ValueError, OSError, ModelNotInstalled))


class _ProgressDialog(QDialog):
    """Title, a line of text, a bar and Cancel; stays up while cancelling so the user sees why."""

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None, title: str, cancellable: bool):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModal)
        self.setMinimumWidth(380)
        self.label = QLabel(title + "…")
        self.label.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # busy until the first progress report says how much there is
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(cancellable)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addLayout(buttons)
        self._cancellable = cancellable
        self._closing = False

    def set_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
            self.bar.setFormat(f"{done:,} of {total:,}")
        else:
            self.bar.setRange(0, 0)

    @Slot()
    def _on_cancel_clicked(self) -> None:
        self.cancel_button.setEnabled(False)
        self.label.setText("Cancelling… the project is being put back as it was before this step")
        self.cancel_requested.emit()

    def finish(self) -> None:
        self._closing = True
        self.close()
        self.deleteLater()

    def reject(self) -> None:  # Esc or the window's close button: cancel, do not just hide
        if self._closing:
            super().reject()
        elif self._cancellable and self.cancel_button.isEnabled():
            self._on_cancel_clicked()

    def closeEvent(self, event) -> None:
        if self._closing:
            event.accept()
        else:
            event.ignore()
            self.reject()


class Op(QObject):
    """One queued piece of background work and what became of it."""

    # Emitted from the worker thread; Qt delivers them to this object's (the UI) thread.
    _started = Signal()
    _progressed = Signal(int, int)
    _finished = Signal(object, object)  # result, exception
    done = Signal()  # on the UI thread, after on_done / on_error ran

    def __init__(self, parent: QWidget | None, title: str, fn: Callable[[Progress, ShouldCancel], Any],
                 on_done: Callable[[Any], None] | None, *, cancellable: bool,
                 on_error: Callable[[BaseException], None] | None, show_after_ms: int,
                 uses_project: bool):
        super().__init__()
        self.parent_widget = parent
        self.title = title
        self.fn = fn
        self.on_done = on_done
        self.on_error = on_error
        self.cancellable = cancellable
        self.show_after_ms = show_after_ms
        self.uses_project = uses_project
        self.result: Any = None
        self.error: BaseException | None = None
        self.message: str | None = None  # what the user was told, if anything
        self.dialog: _ProgressDialog | None = None
        self.dialog_shown = False
        self.thread_ident: int | None = None  # the thread fn ran on (tests check it)
        self.is_done = False
        self.progress_value: tuple[int, int] = (0, 0)
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._last_emit = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_show_timer)
        self._started.connect(self._on_started)
        self._progressed.connect(self._on_progressed)
        self._finished.connect(self._on_finished)

    # -- anyone ---------------------------------------------------------------------------------
    def cancel(self) -> None:
        """Ask the work to stop; the core raises Cancelled and rolls its transaction back."""
        if self.cancellable:
            self._cancel.set()

    def should_cancel(self) -> bool:
        return self._cancel.is_set()

    @property
    def cancelled(self) -> bool:
        return isinstance(self.error, Cancelled)

    # -- the worker thread ----------------------------------------------------------------------
    def _progress(self, done: int, total: int) -> None:
        with self._lock:
            self.progress_value = (int(done), int(total or 0))
            t = time.monotonic()
            if t - self._last_emit < _PROGRESS_INTERVAL_S and not (total and done >= total):
                return
            self._last_emit = t
        self._progressed.emit(int(done), int(total or 0))

    def _execute(self) -> None:
        self.thread_ident = threading.get_ident()
        if self._cancel.is_set():
            self._finished.emit(None, Cancelled(f"{self.title}: cancelled before it started"))
            return
        self._started.emit()
        try:
            result = self.fn(self._progress, self.should_cancel)
        except Exception as exc:  # handed to the UI thread, which tells the user
            self._finished.emit(None, exc)
        else:
            self._finished.emit(result, None)

    # -- the UI thread --------------------------------------------------------------------------
    @Slot()
    def _on_started(self) -> None:
        if self.show_after_ms >= 0 and not self.is_done:
            self._timer.start(self.show_after_ms)

    @Slot()
    def _on_show_timer(self) -> None:
        parent = self.parent_widget
        if self.is_done or (parent is not None and not _widget_alive(parent)):
            return  # the window that asked for the work is gone: nowhere to show progress
        self.dialog = _ProgressDialog(parent, self.title, self.cancellable)
        self.dialog.cancel_requested.connect(self.cancel)
        self.dialog.set_progress(*self.progress_value)
        if self._cancel.is_set():
            self.dialog._on_cancel_clicked()
        self.dialog.show()
        self.dialog_shown = True

    @Slot(int, int)
    def _on_progressed(self, done: int, total: int) -> None:
        if self.dialog is not None:
            self.dialog.set_progress(*self.progress_value)

    @Slot(object, object)
    def _on_finished(self, result: Any, exc: BaseException | None) -> None:
        self.is_done = True
        self._timer.stop()
        if self.dialog is not None:
            self.dialog.finish()
            self.dialog = None
        self.result, self.error = result, exc
        try:
            if exc is None:
                if self.on_done is not None:
                    self.on_done(result)
            else:
                self._report(exc)
        except Exception as callback_exc:  # a bug in a callback: loud in the log and on screen
            log.exception("%s: callback failed", self.title)
            self.error = callback_exc
            self._tell(QMessageBox.Critical, f"{self.title} failed: {_one_line(callback_exc)}")
        finally:
            _queue()._op_done(self)
            self.done.emit()

    def _report(self, exc: BaseException) -> None:
        if self.on_error is not None:
            self.on_error(exc)
        else:
            self.message = report_error(self.parent_widget, self.title, exc)

    def _tell(self, icon: QMessageBox.Icon, text: str) -> None:
        self.message = text
        show_message(self.parent_widget, self.title, text, icon)


def report_error(parent: QWidget | None, title: str, exc: BaseException) -> str:
    """Tell the user what went wrong, once: Cancelled in the status bar, user errors in a warning,
    our own bugs in a critical box (and the log). Returns the text shown."""
    if isinstance(exc, Cancelled):
        text = f"{title}: cancelled; the project is as it was before this step"
        _status(parent, text)
    elif is_user_error(exc):
        text = _one_line(exc)
        show_message(parent, title, text, QMessageBox.Warning)
    else:
        log.error("%s failed", title, exc_info=(type(exc), exc, exc.__traceback__))
        text = (f"{title} failed unexpectedly: {_one_line(exc)}\n\n"
                "This is a bug in Credence; the details are in the log.")
        show_message(parent, title, text, QMessageBox.Critical)
    return text


def show_message(parent: QWidget | None, title: str, text: str,
                 icon: QMessageBox.Icon = QMessageBox.Warning) -> QMessageBox:
    """A window-modal message box that does not block the caller (tests stay responsive too)."""
    box = QMessageBox(icon, title, text, QMessageBox.Ok, parent if _widget_alive(parent) else None)
    box.setAttribute(Qt.WA_DeleteOnClose)
    box.setWindowModality(Qt.WindowModal if parent is not None else Qt.ApplicationModal)
    box.open()
    return box


class _WorkerThread(QThread):
    """The one thread all background work runs on, one op after another."""

    def __init__(self):
        super().__init__()
        self.setObjectName("credence-worker")
        self.jobs: queue.Queue[Op | None] = queue.Queue()

    def run(self) -> None:
        while True:
            op = self.jobs.get()
            if op is None:
                return
            op._execute()


class _OpQueue(QObject):
    """Tracks queued and running ops; `busyChanged(bool)` tells the window to stop/allow editing."""

    busyChanged = Signal(bool)

    def __init__(self):
        super().__init__()
        self.thread: _WorkerThread | None = None
        self.pending: list[Op] = []

    def submit(self, op: Op) -> None:
        if self.thread is None or not self.thread.isRunning():
            self.thread = _WorkerThread()
            self.thread.start()
        was_busy = self.busy()
        self.pending.append(op)
        self.thread.jobs.put(op)
        if not was_busy and self.busy():
            self.busyChanged.emit(True)

    def busy(self) -> bool:
        return any(op.uses_project for op in self.pending)

    def _op_done(self, op: Op) -> None:
        was_busy = self.busy()
        if op in self.pending:
            self.pending.remove(op)
        if was_busy and not self.busy():
            self.busyChanged.emit(False)

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        for op in self.pending:
            op.cancel()
        thread, self.thread = self.thread, None
        if thread is None:
            return True
        thread.jobs.put(None)
        stopped = thread.wait(timeout_ms)
        # Deliver what the worker posted before it stopped, so callbacks and busy state settle.
        if QCoreApplication.instance() is not None:
            QCoreApplication.processEvents()
        return stopped


_the_queue: _OpQueue | None = None


def _queue() -> _OpQueue:
    global _the_queue
    if _the_queue is None:
        _the_queue = _OpQueue()
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(shutdown)
    return _the_queue


def run_in_background(parent: QWidget | None, title: str,
                      fn: Callable[[Progress, ShouldCancel], Any],
                      on_done: Callable[[Any], None] | None, *, cancellable: bool = True,
                      on_error: Callable[[BaseException], None] | None = None,
                      show_after_ms: int = 600, uses_project: bool = True) -> Op:
    """Queue `fn(progress, should_cancel)` on the shared worker; callbacks run on the UI thread.

    A progress dialog appears only if the work runs longer than `show_after_ms` (-1: never).
    Without `on_error`, user errors become one message box, Cancelled a status message.
    """
    op = Op(parent, title, fn, on_done, cancellable=cancellable, on_error=on_error,
            show_after_ms=show_after_ms, uses_project=uses_project)
    _queue().submit(op)
    return op


def load_model_in_background(parent: QWidget | None, model_name: str | None,
                             on_loaded: Callable[[Any], None], *,
                             on_error: Callable[[BaseException], None] | None = None) -> Op:
    """Load the spaCy pipeline off the UI thread so the window appears first (cached afterwards)."""
    from annotation.pipeline import DEFAULT_MODEL, load_model
    name = model_name or DEFAULT_MODEL
    _status(parent, f"Loading the language model {name}…")

    def work(progress: Progress, should_cancel: ShouldCancel):
        # Same call as storage.preannotate.annotate, so its cached pipeline is this one.
        return load_model(name, claims=True)

    def done(nlp) -> None:
        _status(parent, f"Language model {name} loaded", 4000)
        on_loaded(nlp)

    # Loading does not touch the project, so editing stays allowed meanwhile.
    return run_in_background(parent, f"Loading {name}", work, done, cancellable=False,
                             on_error=on_error, show_after_ms=-1, uses_project=False)


def is_busy() -> bool:
    """True while an op that uses the project is queued or running: the UI must not write."""
    return _the_queue is not None and _the_queue.busy()


def busy_notifier() -> _OpQueue:
    """The object whose `busyChanged(bool)` signal says when editing must pause and may resume."""
    return _queue()


def worker_running() -> bool:
    q = _the_queue
    return q is not None and q.thread is not None and q.thread.isRunning()


def shutdown(timeout_ms: int = 30000) -> bool:
    """Cancel what is queued, let the running op stop, and end the worker thread."""
    if _the_queue is None:
        return True
    return _the_queue.shutdown(timeout_ms)


def _atexit() -> None:
    # A QThread still running when Python tears down aborts the process: stop it first.
    if _the_queue is not None and _the_queue.thread is not None:
        _the_queue.thread.jobs.put(None)
        _the_queue.thread.wait(5000)


atexit.register(_atexit)


def _status(parent: QWidget | None, text: str, timeout_ms: int = 8000) -> None:
    # A dialog is its own window: look past it for the main window's status bar.
    widget = parent if _widget_alive(parent) else None
    while widget is not None and not isinstance(widget, QMainWindow):
        widget = widget.parentWidget()
    if widget is not None:
        widget.statusBar().showMessage(text, timeout_ms)
    else:
        log.info("%s", text)


def _widget_alive(widget: QWidget | None) -> bool:
    if widget is None:
        return False
    try:
        from shiboken6 import isValid
        return isValid(widget)
    except ImportError:
        return True


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and getattr(exc, "filename", None):
        return f"{exc.filename}: {exc.strerror or exc}"
    return " ".join(str(exc).split()) or type(exc).__name__
