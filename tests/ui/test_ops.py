"""Background work: off the UI thread, one at a time, late progress dialog, cancel rolls back."""
from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox

from storage.project import ProjectError
from tests.ui.conftest import add_articles
from ui import ops


def _wait_done(qtbot, op, timeout=10000):
    qtbot.waitUntil(lambda: op.is_done, timeout=timeout)


def _message_boxes() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


def _close_boxes() -> None:
    for box in _message_boxes():
        box.close()


def _dump(project) -> list[str]:
    """Every stored row (documents' annotation marks included), to compare before and after."""
    out = []
    for table in ("documents", "spans", "claims", "sources", "source_aliases", "labels", "events"):
        cols = "*" if table != "documents" else "id, annotated_with, n_spans, n_claims, status"
        out += [f"{table}: {row}" for row in project.conn.execute(f"SELECT {cols} FROM {table} ORDER BY 1")]
    return out


def test_runs_off_the_ui_thread_and_reports_back_on_it(qtbot):
    main = threading.get_ident()
    seen = {}

    def work(progress, should_cancel):
        seen["work"] = threading.get_ident()
        progress(1, 1)
        return 42

    def done(result):
        seen["done"] = threading.get_ident()
        seen["result"] = result

    op = ops.run_in_background(None, "Counting", work, done)
    _wait_done(qtbot, op)
    assert seen["work"] != main and seen["work"] == op.thread_ident
    assert seen["done"] == main
    assert seen["result"] == 42 and op.result == 42 and op.error is None


def test_ops_run_one_at_a_time_on_one_thread(qtbot):
    spans: list[tuple[float, float, int]] = []

    def work(progress, should_cancel):
        start = time.monotonic()
        time.sleep(0.05)
        spans.append((start, time.monotonic(), threading.get_ident()))

    batch = [ops.run_in_background(None, f"Step {i}", work, None) for i in range(3)]
    qtbot.waitUntil(lambda: all(op.is_done for op in batch), timeout=5000)
    assert len({t for _s, _e, t in spans}) == 1
    spans.sort()
    assert all(spans[i][1] <= spans[i + 1][0] for i in range(len(spans) - 1)), "two ops overlapped"


def test_progress_dialog_only_for_slow_work(qtbot, artifacts):
    parent = QMainWindow()
    qtbot.addWidget(parent)
    parent.show()
    fast = ops.run_in_background(parent, "Fast", lambda p, c: "ok", None)
    _wait_done(qtbot, fast)
    assert not fast.dialog_shown

    release = threading.Event()

    def slow(progress, should_cancel):
        for i in range(5):
            progress(i, 5)
            time.sleep(0.02)
        release.wait(5)
        progress(5, 5)

    op = ops.run_in_background(parent, "Slow work", slow, None, show_after_ms=100)
    qtbot.waitUntil(lambda: op.dialog is not None and op.dialog.isVisible(), timeout=3000)
    assert op.dialog.cancel_button.isVisible()
    assert op.dialog.bar.maximum() == 5
    qtbot.waitUntil(lambda: op.dialog.bar.value() == 4, timeout=3000)
    op.dialog.grab().save(str(artifacts / "progress_dialog.png"))
    release.set()
    _wait_done(qtbot, op)
    assert op.dialog_shown and op.dialog is None


def test_busy_while_an_op_uses_the_project(qtbot):
    changes: list[bool] = []
    ops.busy_notifier().busyChanged.connect(changes.append)
    release = threading.Event()
    op = ops.run_in_background(None, "Writing", lambda p, c: release.wait(5), None)
    assert ops.is_busy()
    release.set()
    _wait_done(qtbot, op)
    assert not ops.is_busy()
    assert changes == [True, False]
    ops.busy_notifier().busyChanged.disconnect(changes.append)


def test_user_error_becomes_one_message(qtbot):
    parent = QMainWindow()
    qtbot.addWidget(parent)

    def fail(progress, should_cancel):
        raise ProjectError("demo.credence is open elsewhere; close it there first")

    op = ops.run_in_background(parent, "Import", fail, lambda r: pytest.fail("on_done ran"))
    _wait_done(qtbot, op)
    assert isinstance(op.error, ProjectError)
    assert op.message == "demo.credence is open elsewhere; close it there first"
    boxes = _message_boxes()
    assert len(boxes) == 1 and boxes[0].text() == op.message
    assert boxes[0].icon() == QMessageBox.Warning
    _close_boxes()


def test_unexpected_error_is_a_message_and_logged(qtbot, caplog):
    op = ops.run_in_background(None, "Export", lambda p, c: 1 / 0, None)
    _wait_done(qtbot, op)
    assert isinstance(op.error, ZeroDivisionError)
    assert "division by zero" in op.message and "bug" in op.message
    assert any("Export failed" in r.message for r in caplog.records)
    _close_boxes()


def test_on_error_replaces_the_default_message(qtbot):
    errors = []
    op = ops.run_in_background(None, "Import", lambda p, c: int("x"), None, on_error=errors.append)
    _wait_done(qtbot, op)
    assert len(errors) == 1 and isinstance(errors[0], ValueError)
    assert op.message is None and not _message_boxes()


def test_cancel_during_annotate_leaves_the_project_as_it_was(qtbot, project, nlp):
    from storage.preannotate import annotate
    add_articles(project, 8)
    before = _dump(project)
    parent = QMainWindow()
    qtbot.addWidget(parent)
    parent.show()
    calls = {"n": 0}
    gate = threading.Event()
    reached = threading.Event()

    def work(progress, should_cancel):
        def gated() -> bool:
            # Let a few documents be written inside the transaction, then wait for the click.
            calls["n"] += 1
            if calls["n"] == 5:
                reached.set()
                gate.wait(5)
            return should_cancel()
        return annotate(project, nlp=nlp, progress=progress, should_cancel=gated)

    op = ops.run_in_background(parent, "Pre-annotating", work,
                               lambda r: pytest.fail("annotation finished"), show_after_ms=0)
    qtbot.waitUntil(lambda: op.dialog is not None and op.dialog.isVisible() and reached.is_set(),
                    timeout=10000)
    # Spans of the first documents are in the open transaction at this point.
    assert project.conn.execute("SELECT count(*) FROM spans").fetchone()[0] > 0
    op.dialog.cancel_button.click()
    assert op.should_cancel()
    gate.set()
    _wait_done(qtbot, op)
    assert op.cancelled
    assert "cancelled" in parent.statusBar().currentMessage()
    assert not _message_boxes()
    assert _dump(project) == before
    assert project.conn.execute("SELECT count(*) FROM spans").fetchone()[0] == 0


def test_cancelled_before_start_never_runs(qtbot):
    release = threading.Event()
    ran = []
    first = ops.run_in_background(None, "First", lambda p, c: release.wait(5), None)
    second = ops.run_in_background(None, "Second", lambda p, c: ran.append(1), None)
    second.cancel()
    release.set()
    qtbot.waitUntil(lambda: first.is_done and second.is_done, timeout=5000)
    assert ran == [] and second.cancelled


def test_load_model_in_background(qtbot):
    loaded = []
    op = ops.load_model_in_background(None, None, loaded.append)
    assert not ops.is_busy()  # loading the model does not lock the project
    _wait_done(qtbot, op, timeout=60000)
    assert op.error is None
    assert loaded and loaded[0].pipe_names and op.thread_ident != threading.get_ident()


def test_shutdown_stops_the_worker(qtbot):
    op = ops.run_in_background(None, "Quick", lambda p, c: None, None)
    _wait_done(qtbot, op)
    assert ops.worker_running()
    assert ops.shutdown()
    assert not ops.worker_running()
    # The next op starts a fresh worker.
    again = ops.run_in_background(None, "Again", lambda p, c: 7, None)
    _wait_done(qtbot, again)
    assert again.result == 7
