"""Start the desktop app: `python main.py [PROJECT | demo]`."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from storage.analyst import stored_analyst_name
from ui import ops
from ui.main_window import MainWindow


def prepare_qt() -> None:
    """Settings Qt reads when it starts: call before the QApplication is made."""
    # Qt's raster engine hands larger fills to a pool of threads and waits for them; for the
    # small areas a review repaints the hand-offs cost more than the fills (130–260 thread
    # switches per article switch, each a wait on a busy machine). Qt's own switch keeps
    # painting on the UI thread.
    os.environ.setdefault("QT_NO_GUI_THREADPOOL", "1")


def run_app(argv: list[str]) -> int:
    """Show the window at once; open the project (building the demo off the UI thread first)."""
    prepare_qt()
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "credence"])
    app.setOrganizationName("Credence")
    app.setApplicationName("Credence")
    app.setStyle("Fusion")
    window = MainWindow()
    window.show()
    if stored_analyst_name() is None:  # the first start: who is deciding?
        QTimer.singleShot(0, lambda: window.ask_analyst_name(first_time=True))
    target = argv[0] if argv else None
    if target == "demo":
        QTimer.singleShot(0, lambda: open_demo(window))
    elif target:
        QTimer.singleShot(0, lambda: window.open_project(target))
    else:
        recent = [p for p in window.recent_files() if Path(p).exists()]
        if recent:
            QTimer.singleShot(0, lambda: window.open_project(recent[0]))
        else:
            window.statusBar().showMessage("File ▸ New or Open a project (Ctrl+N / Ctrl+O); "
                                           "`python main.py demo` opens a demo project", 20000)
    code = app.exec()
    ops.shutdown()
    return code


def open_demo(window: MainWindow, path: Path | None = None) -> None:
    """Open the demo project on the seed article, pre-annotated, within seconds; the other
    articles are pre-annotated in the background meanwhile (status bar: progress, Cancel),
    and a later start goes on where that stopped."""
    from storage.demo import create_demo, default_demo_path, is_prepared, prepare_demo
    path = Path(path or default_demo_path())
    if path.exists() and path.stat().st_size > 0:
        if not window.open_project(path):
            return
        if is_prepared(window.project):
            window.annotate_in_background()
            return
        # A first run stopped before everything was imported: complete it (a second or so).
        project = window.project

        def complete(progress, should_cancel):
            return prepare_demo(project)

        ops.run_in_background(window, "Preparing the demo project", complete,
                              lambda seed_id: _show_demo(window, seed_id), cancellable=False,
                              show_after_ms=-1)
        return
    window.statusBar().showMessage("Preparing the demo project: the seed article first…")

    def work(progress, should_cancel):
        return create_demo(path)

    def done(seed_id: int) -> None:
        # After the op has finished being busy (this callback runs just before that).
        QTimer.singleShot(0, lambda: window.open_project(path) and _show_demo(window, seed_id))

    def failed(exc: BaseException) -> None:
        # A demo that never got its seed article is started again from nothing next time.
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        window._warn("Demo project", f"The demo project could not be built: {exc}")

    ops.run_in_background(window, "Preparing the demo project", work, done, cancellable=False,
                          on_error=failed, show_after_ms=-1)


def _show_demo(window: MainWindow, seed_id: int) -> None:
    """The seed article on screen, the rest pre-annotated in the background."""
    window.doc_list.select_document(seed_id)
    window.view.setFocus()
    window.annotate_in_background()


def main() -> None:
    """The `credence-app` command an installed package provides."""
    sys.exit(run_app(sys.argv[1:]))
