"""Start the desktop app: `python main.py [PROJECT | demo]`."""
from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from storage.analyst import stored_analyst_name
from ui import ops
from ui.main_window import MainWindow


def run_app(argv: list[str]) -> int:
    """Show the window at once; open the project (building the demo off the UI thread first)."""
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
    """Open the demo project; on first run import and pre-annotate it in the background."""
    from storage.demo import build_demo, default_demo_path
    path = Path(path or default_demo_path())
    if path.exists() and path.stat().st_size > 0:
        if window.open_project(path) and window.project.has_unannotated_documents():
            window.preannotate()  # a first build stopped before annotating finished
        return
    window.statusBar().showMessage("Building the demo project (first run: import and pre-annotate)…")

    def work(progress, should_cancel):
        return build_demo(path, progress=progress)

    def done(summary: str) -> None:
        window.statusBar().showMessage(summary, 15000)
        # After the op has finished being busy (this callback runs just before that).
        QTimer.singleShot(0, lambda: window.open_project(path))

    def failed(exc: BaseException) -> None:
        # A half-built demo would be opened next time as if complete: remove it.
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        window._warn("Demo project", f"The demo project could not be built: {exc}")

    ops.run_in_background(window, "Building the demo project", work, done, cancellable=False,
                          on_error=failed, show_after_ms=200)


def main() -> None:
    """The `credence-app` command an installed package provides."""
    sys.exit(run_app(sys.argv[1:]))
