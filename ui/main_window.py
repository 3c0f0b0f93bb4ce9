"""The main window: document list | article view | side panel, menus from the action table."""
from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog, QFileDialog, QLabel, QMainWindow, QMenu, QMessageBox, QSplitter, QVBoxLayout,
    QWidget,
)

from annotation.model import CLAIM_ROLES
from storage.backup import backup_on_open
from storage.project import Project, ProjectError
from storage.review import Review
from ui import ops
from ui.article_view import ArticleView
from ui.cheat_sheet import CheatSheet
from ui.document_list import DocumentList
from ui.review_controller import MENUS, ActionSpec, ReviewController, action_specs
from ui.side_panel import SidePanel

log = logging.getLogger(__name__)
MAX_RECENT = 8
FILE_FILTER = "Credence projects (*.credence);;All files (*)"
# Actions that make sense without an open project.
_ALWAYS = {"new_project", "open_project", "quit", "cheat_sheet"}
# Actions offered on the article's context menu, in this order (None: a separator).
_CONTEXT = ("accept", "reject", "reset", None, "label_key", None, "grow_end", "shrink_end",
            "grow_start", "shrink_start", None, "apply_all", "reject_all", None, "mark_claim",
            "set_claim_part", "grade_claim", "grade_source", None, "delete_span")


class MainWindow(QMainWindow):
    """One window on one project at a time; every decision is stored the moment it is made."""

    def __init__(self, *, load_model: bool = True, nlp=None):
        super().__init__()
        self.setWindowTitle("Credence")
        self.project: Project | None = None
        self.review: Review | None = None
        self.controller: ReviewController | None = None
        self.nlp = nlp
        self.actions_by_id: dict[str, QAction] = {}
        self.specs: list[ActionSpec] = []

        self.doc_list = DocumentList()
        self.view = ArticleView()
        self.side = SidePanel()
        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.addWidget(self.doc_list)
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(self.side)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([420, 700, 300])
        self.setCentralWidget(self.splitter)

        self.model_label = QLabel("Model: not loaded")
        self.counts_label = QLabel("")
        for w in (self.model_label, self.counts_label):
            w.setTextFormat(Qt.PlainText)
        self.statusBar().addPermanentWidget(self.counts_label)
        self.statusBar().addPermanentWidget(self.model_label)

        self._counts_timer = QTimer(self)
        self._counts_timer.setSingleShot(True)
        self._counts_timer.setInterval(300)
        self._counts_timer.timeout.connect(self._update_counts)

        self.doc_list.document_chosen.connect(self._on_document_chosen)
        self.view.context_requested.connect(self._on_context_requested)
        self.side.credibility_chosen.connect(lambda g: self._with_controller("grade_claim", g))
        self.side.reliability_chosen.connect(lambda g: self._with_controller("grade_source", g))
        self.side.registry_chosen.connect(lambda s: self._with_controller("set_claim_source", s))
        self.side.note_edited.connect(lambda t: self._with_controller("set_claim_note", t))
        self.side.doc_label_toggled.connect(self._act_toggle_doc_label)
        ops.busy_notifier().busyChanged.connect(self._on_busy_changed)

        self._build_actions()
        self._restore_settings()
        if nlp is not None:
            self._on_model_loaded(nlp)
        elif load_model:
            QTimer.singleShot(0, self._load_model)

    # -- settings --------------------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        s = QSettings()
        geometry = s.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 860)
        state = s.value("window/splitter")
        if state is not None:
            self.splitter.restoreState(state)

    def _save_settings(self) -> None:
        s = QSettings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/splitter", self.splitter.saveState())
        s.sync()

    def recent_files(self) -> list[str]:
        value = QSettings().value("recent", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _remember(self, path: Path) -> None:
        p = str(path.resolve())
        recent = [p] + [r for r in self.recent_files() if r != p]
        s = QSettings()
        s.setValue("recent", recent[:MAX_RECENT])
        s.sync()

    # -- actions and menus -----------------------------------------------------------------------------
    def _build_actions(self) -> None:
        """(Re)create every action from the table: label keys depend on the project's labels."""
        for action in self.actions_by_id.values():
            self.removeAction(action)
            action.deleteLater()
        self.actions_by_id = {}
        for old in self.menuBar().findChildren(QMenu):
            old.deleteLater()
        self.menuBar().clear()
        labels = self.project.labels() if self.project else []
        self.specs = action_specs(labels)
        menus = {name: self.menuBar().addMenu(name if name != "Review" else "&Review") for name in MENUS}
        for spec in self.specs:
            action = QAction(spec.text, self)
            action.setShortcuts([QKeySequence(k) for k in spec.keys])
            action.setShortcutContext(Qt.WindowShortcut)
            action.setStatusTip(spec.help)
            action.setCheckable(spec.checkable)
            action.triggered.connect(lambda _checked=False, sp=spec: self._trigger(sp))
            self.addAction(action)
            self.actions_by_id[spec.id] = action
            menu = menus[spec.menu]
            if spec.name in ("grade_claim", "grade_source", "label_key", "toggle_doc_label"):
                sub_title = {"grade_claim": "Credibility", "grade_source": "Source Reliability",
                             "label_key": "Label As", "toggle_doc_label": "Article Labels"}[spec.name]
                sub = menu.findChild(QMenu, sub_title) or menu.addMenu(sub_title)
                sub.setObjectName(sub_title)
                sub.addAction(action)
            else:
                menu.addAction(action)
            if spec.name == "open_project":
                self.recent_menu = menus["File"].addMenu("Open &Recent")
                self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self._update_enabled()
        self._update_undo_texts()

    def _trigger(self, spec: ActionSpec) -> None:
        handler = getattr(self, "_act_" + spec.name)
        if spec.arg is None:
            handler()
        else:
            handler(spec.arg)

    def action(self, name: str, arg=None) -> QAction:
        return self.actions_by_id[name if arg is None else f"{name}:{arg}"]

    def _update_enabled(self) -> None:
        has_project = self.project is not None
        for spec in self.specs:
            self.actions_by_id[spec.id].setEnabled(has_project or spec.name in _ALWAYS)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_files()
        if not recent:
            self.recent_menu.addAction("(none yet)").setEnabled(False)
        for path in recent:
            self.recent_menu.addAction(path, lambda p=path: self.open_project(p))

    # -- projects ----------------------------------------------------------------------------------------
    def open_project(self, path: str | Path) -> bool:
        """Open a project; on any problem one clear message, and the window stays as it was."""
        path = Path(path)
        if self.project is not None and path.resolve() == self.project.path.resolve():
            return True
        if ops.is_busy():
            self._warn("Busy", "Background work is still running on this project; wait for it.")
            return False
        try:
            project = Project(path)
        except ProjectError as exc:
            self._warn("Cannot open the project", str(exc))
            return False
        self._close_project()
        self.project = project
        self.review = Review(project)
        self.controller = ReviewController(project, self.review, self.view, is_busy=ops.is_busy)
        self.controller.current_changed.connect(self._on_current_changed)
        self.controller.documents_changed.connect(self._on_documents_changed)
        self.controller.message.connect(lambda m: self.statusBar().showMessage(m, 8000))
        self.controller.undo_changed.connect(self._update_undo_texts)
        self._remember(path)
        # Rolling backup (SQLite backup API, its own connection): off the UI thread, never blocks.
        ops.run_in_background(self, "Backing up the project",
                              lambda progress, cancel: backup_on_open(project), None,
                              cancellable=False, show_after_ms=-1, uses_project=False)
        labels = project.labels()
        self.side.set_labels(labels)
        self._build_actions()
        self.doc_list.set_project(project)
        self.setWindowTitle(f"Credence — {path.name}")
        if not self.doc_list.select_first():
            self.controller.open_document(None)
            self.side.show_nothing("This project has no articles yet: File ▸ Import… (Ctrl+I)")
        self._update_counts()
        self.view.setFocus()
        return True

    def _close_project(self) -> None:
        if self.project is None:
            return
        self.side.note.clearFocus()  # a note being typed is saved on focus-out
        if self.controller is not None:
            self.controller.deleteLater()
        self.controller = None
        self.review = None
        self.doc_list.set_project(None)
        self.view.clear_document()
        self.side.set_labels([])
        self.side.show_nothing()
        self.project.close()
        self.project = None
        self._build_actions()

    def _with_controller(self, method: str, *args) -> None:
        if self.controller is not None:
            getattr(self.controller, method)(*args)

    # -- the model ---------------------------------------------------------------------------------------
    def _load_model(self) -> None:
        name = self.project.model_name if self.project else None
        self.model_label.setText("Loading model…")
        ops.load_model_in_background(self, name, self._on_model_loaded, on_error=self._on_model_error)

    def _on_model_loaded(self, nlp) -> None:
        self.nlp = nlp
        from annotation.pipeline import model_version
        self.model_label.setText(f"Model: {model_version(nlp)}")

    def _on_model_error(self, exc: BaseException) -> None:
        self.model_label.setText("Model: not available")
        self.statusBar().showMessage(f"The language model could not be loaded: {exc}", 15000)

    # -- signals ------------------------------------------------------------------------------------------
    def _on_document_chosen(self, doc_id: int | None) -> None:
        if self.controller is None:
            return
        self.side.note.clearFocus()
        self.controller.open_document(doc_id)
        self._refresh_doc_labels()
        if doc_id is not None and self.project is not None:
            row = self.doc_list.model.row_data(self.doc_list.model.row_of(doc_id) or 0)
            title = (row.title or row.name) if row else None
            self.setWindowTitle(f"Credence — {self.project.path.name}" + (f" — {title}" if title else ""))

    def _on_current_changed(self) -> None:
        c = self.controller
        if c is None or c.current is None:
            n = len(c.items) if c else 0
            self.side.show_nothing("No spans in this article" if n == 0 else "Nothing selected")
            return
        if c.current.kind == "span":
            s = c.spans[c.current.id]
            self.side.show_span(s, c.text[s.start:s.end])
            return
        claim = c.claims[c.current.id]
        parts = {}
        for role in CLAIM_ROLES:
            sid = claim.part_id(role)
            span = c.spans.get(sid) if sid else None
            parts[role] = c.text[span.start:span.end] if span else None
        focus = c.spans.get(c.focus_span) if c.focus_span else None
        source = self.project.source(claim.source_id) if claim.source_id else None
        self.side.show_claim(claim, parts, focus, c.text[focus.start:focus.end] if focus else "",
                             source, self.project.sources())

    def _on_documents_changed(self, doc_ids) -> None:
        self.doc_list.refresh_documents(doc_ids)
        self._refresh_doc_labels()
        self._counts_timer.start()

    def _refresh_doc_labels(self) -> None:
        doc_id = self.controller.doc_id if self.controller else None
        present = self.project.doc_labels(doc_id) if (self.project and doc_id) else []
        self.side.set_doc_labels(present, enabled=doc_id is not None)
        for spec in self.specs:
            if spec.name == "toggle_doc_label":
                self.actions_by_id[spec.id].setChecked(spec.arg in present)

    def _update_undo_texts(self) -> None:
        undo, redo = self.actions_by_id.get("undo"), self.actions_by_id.get("redo")
        if undo is None or redo is None:
            return
        r = self.review
        undo.setText(f"&Undo {r.undo_text()}" if r and r.can_undo else "&Undo")
        redo.setText(f"&Redo {r.redo_text()}" if r and r.can_redo else "&Redo")
        undo.setEnabled(bool(r and r.can_undo))
        redo.setEnabled(bool(r and r.can_redo))

    def _update_counts(self) -> None:
        if self.project is None:
            self.counts_label.setText("")
            return
        q = self.project.conn.execute
        by_status = dict(q("SELECT status, count(*) FROM documents GROUP BY status").fetchall())
        left = q("SELECT coalesce(sum(n_suggested), 0) FROM documents").fetchone()[0]
        total = sum(by_status.values())
        self.counts_label.setText(f"{total:,} article{'s' if total != 1 else ''} · "
                                  f"{by_status.get('done', 0):,} done · {left:,} suggestions left")

    def _on_busy_changed(self, busy: bool) -> None:
        if busy:
            self.statusBar().showMessage("Working in the background… decisions wait until it finishes")
        else:
            self.statusBar().clearMessage()

    # -- context menu -------------------------------------------------------------------------------------
    def build_context_menu(self, offset: int) -> QMenu:
        """The review actions for what is under the mouse (the same actions as the keys)."""
        if self.controller is not None:
            sel = self.view.selection_range()
            if sel is None or not (sel[0] <= offset < sel[1]):
                self.controller._on_clicked(offset)
        menu = QMenu(self)
        for name in _CONTEXT:
            if name is None:
                if menu.actions() and not menu.actions()[-1].isSeparator():
                    menu.addSeparator()
                continue
            group = [s for s in self.specs if s.name == name]
            if len(group) > 2:
                sub = menu.addMenu({"label_key": "Label As", "grade_claim": "Credibility",
                                    "grade_source": "Source Reliability",
                                    "set_claim_part": "Claim Part from Selection"}.get(name, name))
                for s in group:
                    sub.addAction(self.actions_by_id[s.id])
            else:
                for s in group:
                    menu.addAction(self.actions_by_id[s.id])
        return menu

    def _on_context_requested(self, offset: int, global_pos) -> None:
        self.build_context_menu(offset).exec(global_pos)

    # -- action handlers: files ------------------------------------------------------------------------------
    def _act_new_project(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "New project", str(Path.home() / "project.credence"),
                                              FILE_FILTER)
        if path:
            if not path.endswith(".credence"):
                path += ".credence"
            if Path(path).exists():
                self._warn("New project", f"{path} already exists: use Open to open it.")
                return
            self.open_project(path)

    def _act_open_project(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open project", "", FILE_FILTER)
        if path:
            self.open_project(path)

    def _act_import_files(self) -> None:
        dialog = _optional("ui.import_dialog", "ImportDialog")
        if dialog is None:
            return self._unavailable("Import")
        dialog(self, self.project).exec()
        self._after_bulk_change()

    def _act_export_files(self) -> None:
        dialog = _optional("ui.export_dialog", "ExportDialog")
        if dialog is None:
            return self._unavailable("Export")
        dialog(self, self.project).exec()

    def _act_show_stats(self) -> None:
        view = _optional("ui.stats_view", "StatsView")
        if view is None:
            return self._unavailable("Statistics")
        w = view(self.project, self)
        if isinstance(w, QDialog):
            w.exec()
            return
        dialog = QDialog(self)
        dialog.setWindowTitle("Statistics")
        dialog.resize(900, 640)
        QVBoxLayout(dialog).addWidget(w)
        dialog.exec()

    def _act_show_sources(self) -> None:
        dialog = _optional("ui.sources_dialog", "SourcesDialog")
        if dialog is None:
            return self._unavailable("The source registry")
        dialog(self, self.project, self.review).exec()
        if self.controller is not None:
            self.controller.reload()
        self._update_undo_texts()

    def _act_preannotate(self) -> None:
        if self.project is None:
            return
        project, nlp = self.project, self.nlp

        def work(progress, should_cancel):
            from storage.preannotate import annotate
            return annotate(project, progress=progress, should_cancel=should_cancel, nlp=nlp)

        def done(summary) -> None:
            self.statusBar().showMessage(summary.line(), 15000)
            self._after_bulk_change()

        ops.run_in_background(self, "Pre-annotating articles", work, done, cancellable=True)

    def _after_bulk_change(self) -> None:
        """After an import or annotation: labels, list and the open article may all have changed."""
        if self.project is None or self.controller is None:
            return
        labels = self.project.labels()
        self.view.set_colours(labels)
        self.side.set_labels(labels)
        self._build_actions()
        self.doc_list.reload_labels(self.project)
        keep = self.controller.doc_id
        self.doc_list.apply_filters()
        if keep is None:
            self.doc_list.select_first()
        else:
            self.controller.open_document(keep)
        self._refresh_doc_labels()
        self._update_counts()

    def _act_quit(self) -> None:
        self.close()

    # -- action handlers: edit -----------------------------------------------------------------------------
    def _act_undo(self) -> None:
        self._with_controller("undo")

    def _act_redo(self) -> None:
        self._with_controller("undo", True)

    def _act_focus_search(self) -> None:
        self.doc_list.search.setFocus()
        self.doc_list.search.selectAll()

    def _act_focus_article(self) -> None:
        self.view.clear_selection()
        self.view.setFocus()

    # -- action handlers: review -----------------------------------------------------------------------------
    def _act_next_suggestion(self) -> None:
        if self.controller:
            self.controller.next_suggestion()

    def _act_prev_suggestion(self) -> None:
        if self.controller:
            self.controller.next_suggestion(backwards=True)

    def _act_accept(self) -> None:
        self._with_controller("accept")

    def _act_reject(self) -> None:
        self._with_controller("reject")

    def _act_reset(self) -> None:
        self._with_controller("reset")

    def _act_delete_span(self) -> None:
        self._with_controller("delete_span")

    def _act_grow_end(self) -> None:
        self._with_controller("move_boundary", "grow_end")

    def _act_shrink_end(self) -> None:
        self._with_controller("move_boundary", "shrink_end")

    def _act_grow_start(self) -> None:
        self._with_controller("move_boundary", "grow_start")

    def _act_shrink_start(self) -> None:
        self._with_controller("move_boundary", "shrink_start")

    def _act_apply_all(self, scope: str) -> None:
        self._with_controller("apply_all", scope)

    def _act_reject_all(self, scope: str) -> None:
        self._with_controller("reject_all", scope)

    def _act_label_key(self, label: str) -> None:
        self._with_controller("relabel", label)

    # -- action handlers: claims ------------------------------------------------------------------------------
    def _act_mark_claim(self) -> None:
        self._with_controller("mark_claim")

    def _act_set_claim_part(self, role: str) -> None:
        self._with_controller("set_claim_part", role)

    def _act_grade_claim(self, grade: int) -> None:
        self._with_controller("grade_claim", grade or None)

    def _act_grade_source(self, grade: str) -> None:
        self._with_controller("grade_source", None if grade == "0" else grade)

    # -- action handlers: articles ------------------------------------------------------------------------------
    def _act_next_article(self) -> None:
        if not self.doc_list.step(+1):
            self.statusBar().showMessage("This is the last article of the list", 5000)
        self.view.setFocus()

    def _act_prev_article(self) -> None:
        if not self.doc_list.step(-1):
            self.statusBar().showMessage("This is the first article of the list", 5000)
        self.view.setFocus()

    def _act_toggle_done(self) -> None:
        self._with_controller("toggle_done")

    def _act_toggle_doc_label(self, label: str) -> None:
        self._with_controller("toggle_doc_label", label)
        self._refresh_doc_labels()

    def _act_cheat_sheet(self) -> None:
        CheatSheet(self.specs, self).exec()

    # -- messages and closing ------------------------------------------------------------------------------------
    def _warn(self, title: str, text: str) -> None:
        QMessageBox.warning(self, title, text)

    def _unavailable(self, what: str) -> None:
        self._warn(what, f"{what} is not available in this build.")

    def closeEvent(self, event: QCloseEvent) -> None:
        if ops.is_busy():
            answer = QMessageBox.question(
                self, "Quit while working?",
                "Background work is still running. Quit anyway? It is cancelled and the project "
                "is left as it was before that step.")
            if answer != QMessageBox.Yes:
                event.ignore()
                return
        self._save_settings()
        ops.shutdown()
        self._close_project()
        event.accept()


def _optional(module: str, name: str):
    """An entry point another part of the app provides, or None when it is not there (yet)."""
    import importlib
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        log.warning("%s.%s unavailable: %s", module, name, exc)
        return None
