"""The main window: document list | article view | side panel, menus from the action table."""
from __future__ import annotations

import gc
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QSplitter,
    QToolButton,
    QVBoxLayout,
)

from annotation.pipeline import model_version
from annotation.tokens import tokenizer
from storage.analyst import analyst_name, set_analyst_name
from storage.background_annotation import is_wanted as wants_background_annotation
from storage.backup import backup_on_open
from storage.changes import Changes
from storage.models import model_in_use, store_model
from storage.preannotate import annotate
from storage.project import Project, ProjectError
from storage.review_model import ReviewModel
from storage.training import TrainingReport, train
from ui import ops
from ui.actions import MENUS, ActionSpec, action_specs
from ui.article_view import ArticleView
from ui.background_annotator import BackgroundAnnotator
from ui.cheat_sheet import CheatSheet
from ui.claims_view import ClaimsView
from ui.document_list import DocumentList
from ui.export_dialog import ExportDialog
from ui.import_dialog import ImportDialog
from ui.labels_dialog import LabelGuidelinesDialog
from ui.review_controller import ReviewController
from ui.side_panel import SidePanel
from ui.sources_dialog import SourcesDialog
from ui.stats_view import StatsView
from ui.training_dialog import EvidenceDialog, ModelHistoryDialog, TrainingStatus

MAX_RECENT = 8
FILE_FILTER = "Credence projects (*.credence);;All files (*)"
# Actions offered on the article's context menu, in this order (None: a separator).
_CONTEXT = ("accept", "reject", "reset", None, "label_key", None, "grow_end", "shrink_end",
            "grow_start", "shrink_start", None, "apply_all", "reject_all", None, "mark_claim",
            "set_claim_part", "add_claim_piece", "grade_claim", "grade_source",
            "take_suggested_grade", "set_stance", "link_claim", None, "delete_span")
# Actions grouped in a submenu of their menu (and of the context menu): name -> its title.
_SUBMENUS = {"grade_claim": "Credibility", "grade_source": "Source Reliability",
             "label_key": "Label As", "toggle_doc_label": "Article Labels", "set_stance": "Stance",
             "link_claim": "Link the Picked Claim"}
BACK_STEPS = 50  # jumps G and the claims view remember for B


DEFAULT_SIZE = (1400, 860)
MIN_RESTORED_SIZE = (600, 400)  # a saved window smaller than this opens at the default size


class MainWindow(QMainWindow):
    """One window on one project at a time; every decision is stored the moment it is made."""

    def __init__(self, *, load_model: bool = True, nlp=None):
        super().__init__()
        self.setWindowTitle("Credence")
        self.project: Project | None = None
        self.review_model: ReviewModel | None = None
        self.nlp = nlp
        self.actions_by_id: dict[str, QAction] = {}
        self.specs: list[ActionSpec] = []
        self.claims_view: ClaimsView | None = None
        self._back: list[tuple[int, int | None]] = []  # (article, claim) before each jump
        self.training_op: ops.Op | None = None
        self.training_status: TrainingStatus | None = None
        self.training_report: TrainingReport | None = None
        self.training_path: Path | None = None
        self.evidence_dialog: EvidenceDialog | None = None

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
        self.analyst_label = QLabel("")
        self.analyst_label.setToolTip("your decisions are recorded under this name "
                                      "(File ▸ Analyst Name… changes it)")
        for w in (self.model_label, self.counts_label, self.analyst_label):
            w.setTextFormat(Qt.PlainText)
        # Pre-annotation in the background: what it has done, and Cancel (hidden when idle).
        self.annotating_label = QLabel("")
        self.annotating_label.setTextFormat(Qt.PlainText)
        self.annotating_bar = QProgressBar()
        self.annotating_bar.setMaximumWidth(140)
        self.annotating_bar.setMaximumHeight(14)
        self.annotating_bar.setTextVisible(False)
        self.annotating_cancel = QToolButton()
        self.annotating_cancel.setText("Cancel")
        self.annotating_cancel.setToolTip("stop pre-annotating; what is done is kept, and the next "
                                          "start goes on with the rest")
        self.annotating_cancel.clicked.connect(self.cancel_background_annotation)
        for w in (self.annotating_label, self.annotating_bar, self.annotating_cancel):
            w.setVisible(False)
            self.statusBar().addPermanentWidget(w)
        self.annotator: BackgroundAnnotator | None = None
        self._annotate_when_loaded = False
        self.statusBar().addPermanentWidget(self.counts_label)
        self.statusBar().addPermanentWidget(self.analyst_label)
        self.statusBar().addPermanentWidget(self.model_label)
        self._show_analyst()

        self._counts_timer = QTimer(self)
        self._counts_timer.setSingleShot(True)
        self._counts_timer.setInterval(300)
        self._counts_timer.timeout.connect(self._update_counts)

        self.controller = ReviewController(self.view, self.side, is_busy=ops.is_busy)
        self.controller.changed.connect(self._on_changes)
        self.controller.message.connect(lambda m: self.statusBar().showMessage(m, 8000))
        self.controller.jump_requested.connect(self.goto_claim)
        self.controller.opened.connect(lambda _doc_id: self._refresh_doc_labels())
        self.doc_list.document_chosen.connect(self._on_document_chosen)
        self.view.context_requested.connect(self._on_context_requested)
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
        if geometry is None or not self.restoreGeometry(geometry) or (
                self.width() < MIN_RESTORED_SIZE[0] or self.height() < MIN_RESTORED_SIZE[1]):
            # First run, or a size saved on a small screen (or a window a window manager had
            # shrunk): the default size.
            self.resize(*DEFAULT_SIZE)
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
            self.view.removeAction(action)
            action.deleteLater()
        self.actions_by_id = {}
        for old in self.menuBar().findChildren(QMenu):
            old.deleteLater()
        self.menuBar().clear()
        labels = self.project.labels() if self.project else []
        self.specs = action_specs(labels, self, self.controller)
        menus = {name: self.menuBar().addMenu(name if name != "Review" else "&Review") for name in MENUS}
        for spec in self.specs:
            action = QAction(spec.text, self)
            action.setShortcuts([QKeySequence(k) for k in spec.keys])
            action.setStatusTip(spec.help)
            action.setCheckable(spec.checkable)
            action.triggered.connect(lambda _checked=False, run=spec.run: run())
            if spec.article_only:  # the arrows stay the list's and the search box's elsewhere
                action.setShortcutContext(Qt.WidgetShortcut)
                self.view.addAction(action)
            else:
                action.setShortcutContext(Qt.WindowShortcut)
                self.addAction(action)
            self.actions_by_id[spec.id] = action
            menu = menus[spec.menu]
            if spec.name in _SUBMENUS:
                sub_title = _SUBMENUS[spec.name]
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

    def action(self, name: str, arg=None) -> QAction:
        return self.actions_by_id[name if arg is None else f"{name}:{arg}"]

    def _update_enabled(self) -> None:
        has_project = self.project is not None
        for spec in self.specs:
            self.actions_by_id[spec.id].setEnabled(has_project or not spec.needs_project)

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
        self.review_model = ReviewModel(project)
        self.controller.set_model(self.review_model)
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
        self._show_analyst()
        self._show_model()
        self._update_undo_texts()
        if not self.doc_list.select_first():
            self.controller.open_document(None)
            self.side.show_nothing("This project has no articles yet: File ▸ Import… (Ctrl+I)")
        self._update_counts()
        self.view.setFocus()
        if wants_background_annotation(project):  # a run stopped before it was done goes on
            self.annotate_in_background()
        return True

    def _close_project(self) -> None:
        if self.project is None:
            return
        if self.claims_view is not None:
            self.claims_view.close()
            self.claims_view = None
        self._back.clear()
        self._stop_annotator()
        self.side.note.clearFocus()  # a note being typed is saved on focus-out
        self.controller.set_model(None)
        self.review_model = None
        self.doc_list.set_project(None)
        self.view.clear_document()
        self.side.set_labels([])
        self.side.show_nothing()
        self.project.close()
        self.project = None
        self._build_actions()

    # -- the model ---------------------------------------------------------------------------------------
    def _load_model(self) -> None:
        name = self.project.model_name if self.project else None
        self.model_label.setText("Loading model…")
        ops.load_model_in_background(self, name, self._on_model_loaded, on_error=self._on_model_error)

    def _on_model_loaded(self, nlp) -> None:
        self.nlp = nlp
        # The model is hundreds of thousands of long-lived objects: a full collection walking
        # them holds the window 100-200 ms at some later keypress. Freeze them (and Qt's) out
        # of the collector's walks, once; what is made from then on is collected as usual.
        if not gc.get_freeze_count():
            gc.freeze()
        self._show_model()
        if self._annotate_when_loaded:
            self._annotate_when_loaded = False
            self.annotate_in_background()
        # spaCy is imported now: make the tokenizer snapping uses before the first keypress needs it.
        ops.run_in_background(self, "Preparing the tokenizer", lambda progress, cancel: tokenizer(),
                              None, cancellable=False, show_after_ms=-1, uses_project=False)

    def _show_model(self) -> None:
        """The status bar's model: the spaCy pipeline and the project's own models in use."""
        if self.nlp is None:
            return
        text = f"Model: {model_version(self.nlp)}"
        if self.project is not None:
            own = [m for m in (model_in_use(self.project, k) for k in ("claims", "entities")) if m]
            if own:
                text += " + " + ", ".join(f"{m.kind} v{m.version}" for m in own)
        self.model_label.setText(text)

    def _on_model_error(self, exc: BaseException) -> None:
        self.model_label.setText("Model: not available")
        self.statusBar().showMessage(f"The language model could not be loaded: {exc}", 15000)

    # -- signals ------------------------------------------------------------------------------------------
    def _on_document_chosen(self, doc_id: int | None) -> None:
        if self.review_model is None:
            return
        self.side.note.clearFocus()
        self.controller.open_document(doc_id)
        self._refresh_doc_labels()
        if doc_id is not None and self.project is not None:
            row = self.doc_list.model.row_data(self.doc_list.model.row_of(doc_id) or 0)
            title = (row.title or row.name) if row else None
            self.setWindowTitle(f"Credence — {self.project.path.name}" + (f" — {title}" if title else ""))

    def _on_changes(self, changes: Changes) -> None:
        """Refresh what a decision touched: list rows, counts, article labels, the Edit menu."""
        if changes.documents:
            self.doc_list.refresh_documents(changes.documents)
        if changes.doc_labels:
            self._refresh_doc_labels()
        if changes.counts:
            self._counts_timer.start()
        if changes.labels:
            self._on_labels_changed()
        if self.claims_view is not None:
            self.claims_view.apply_changes(changes)
        self._update_undo_texts(changes)

    def _refresh_doc_labels(self) -> None:
        present = self.review_model.doc_labels() if self.review_model else []
        for spec in self.specs:
            if spec.name == "toggle_doc_label":
                self.actions_by_id[spec.id].setChecked(spec.arg in present)

    def _on_labels_changed(self) -> None:
        """The label scheme changed (a guideline): legend, colours, menus and tooltips follow."""
        if self.project is None:
            return
        labels = self.project.labels()
        self.view.set_colours(labels)
        self.side.set_labels(labels)
        self._build_actions()

    def _update_undo_texts(self, changes: Changes | None = None) -> None:
        undo, redo = self.actions_by_id.get("undo"), self.actions_by_id.get("redo")
        if undo is None or redo is None:
            return
        if changes is not None:
            undo_text, redo_text = changes.undo_text, changes.redo_text
        elif self.review_model is not None:
            undo_text = self.review_model.review.undo_text()
            redo_text = self.review_model.review.redo_text()
        else:
            undo_text = redo_text = None
        undo.setText(f"&Undo {undo_text}" if undo_text else "&Undo")
        redo.setText(f"&Redo {redo_text}" if redo_text else "&Redo")
        undo.setEnabled(undo_text is not None)
        redo.setEnabled(redo_text is not None)

    def _update_counts(self) -> None:
        if self.review_model is None:
            self.counts_label.setText("")
            return
        c = self.review_model.status_counts()
        self.counts_label.setText(f"{c.documents:,} article{'s' if c.documents != 1 else ''} · "
                                  f"{c.done:,} done · {c.suggestions_left:,} suggestions left")

    def _on_busy_changed(self, busy: bool) -> None:
        if busy:
            self.statusBar().showMessage("Working in the background… decisions wait until it finishes")
        else:
            self.statusBar().clearMessage()

    # -- context menu -------------------------------------------------------------------------------------
    def build_context_menu(self, offset: int) -> QMenu:
        """The review actions for what is under the mouse (the same actions as the keys)."""
        sel = self.view.selection_range()
        if sel is None or not (sel[0] <= offset < sel[1]):
            self.controller.select_at(offset, cycle=False)
        menu = QMenu(self)
        for name in _CONTEXT:
            if name is None:
                if menu.actions() and not menu.actions()[-1].isSeparator():
                    menu.addSeparator()
                continue
            group = [s for s in self.specs if s.name == name]
            if len(group) > 2:
                sub = menu.addMenu({**_SUBMENUS, "set_claim_part": "Claim Part from Selection",
                                    "add_claim_piece": "Add Selection to the Claim Part"}
                                   .get(name, name))
                for s in group:
                    sub.addAction(self.actions_by_id[s.id])
            else:
                for s in group:
                    menu.addAction(self.actions_by_id[s.id])
        return menu

    def _on_context_requested(self, offset: int, global_pos) -> None:
        self.build_context_menu(offset).exec(global_pos)

    # -- action handlers (bound to the table in ui/actions.py) ---------------------------------------------
    def new_project(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "New project", str(Path.home() / "project.credence"),
                                              FILE_FILTER)
        if path:
            if not path.endswith(".credence"):
                path += ".credence"
            if Path(path).exists():
                self._warn("New project", f"{path} already exists: use Open to open it.")
                return
            self.open_project(path)

    def open_project_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open project", "", FILE_FILTER)
        if path:
            self.open_project(path)

    def import_files(self) -> None:
        ImportDialog(self, self.project).exec()
        self._after_bulk_change()

    def export_files(self) -> None:
        ExportDialog(self, self.project).exec()

    def show_stats(self) -> None:
        dialog = QDialog(self)
        dialog.setWindowTitle("Statistics")
        dialog.resize(900, 640)
        QVBoxLayout(dialog).addWidget(StatsView(self.project, dialog))
        dialog.exec()

    def show_sources(self) -> None:
        dialog = SourcesDialog(self, self.project, self.review_model.review)
        dialog.changed.connect(self.controller.apply_changes)
        dialog.exec()

    def show_claims(self) -> None:
        """Every claim of the project in a window of its own, beside the article."""
        if self.project is None:
            return
        if self.claims_view is None:
            self.claims_view = ClaimsView(self, self.project)
            self.claims_view.claim_chosen.connect(self.goto_claim)
        self.claims_view.show()
        self.claims_view.raise_()
        self.claims_view.activateWindow()

    # -- jumping between claims ----------------------------------------------------------------------
    def goto_claim(self, doc_id: int, claim_id: int | None, remember: bool = True) -> bool:
        """Open an article with one of its claims current (G, a double click, the claims view);
        B comes back."""
        m = self.review_model
        if m is None:
            return False
        if remember and m.doc_id is not None:
            cur = m.current_claim()
            here = (m.doc_id, cur.id if cur is not None else None)
            if not self._back or self._back[-1] != here:
                self._back = (self._back + [here])[-BACK_STEPS:]
        if not self._show_article(doc_id):
            self.statusBar().showMessage("That article cannot be opened here", 8000)
            return False
        if claim_id is not None and not self.controller.select_claim(claim_id):
            self.statusBar().showMessage(f"Claim {claim_id} is not in this article any more", 8000)
        self.activateWindow()
        self.view.setFocus()
        return True

    def _show_article(self, doc_id: int) -> bool:
        """Open an article from the list, clearing the list's filters when they hide it."""
        if self.doc_list.current_doc_id() == doc_id:
            return True
        if self.doc_list.select_document(doc_id):
            return True
        self.doc_list.search.clear()
        for combo in (self.doc_list.status, self.doc_list.label):
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
        self.doc_list.apply_filters()
        self.statusBar().showMessage("The list's filters were cleared to show that article", 8000)
        return self.doc_list.select_document(doc_id)

    def go_back(self) -> None:
        """B: back to the claim (or article) before the last jump."""
        if not self._back:
            self.statusBar().showMessage("Nowhere to go back to", 5000)
            return
        doc_id, claim_id = self._back.pop()
        self.goto_claim(doc_id, claim_id, remember=False)

    def show_label_guidelines(self) -> None:
        dialog = LabelGuidelinesDialog(self, self.project, self.review_model.review)
        dialog.changed.connect(self.controller.apply_changes)
        dialog.exec()

    # -- who decides ------------------------------------------------------------------------------------
    def ask_analyst_name(self, first_time: bool = False) -> None:
        """File ▸ Analyst Name…: the name decisions are recorded under. The app asks once, at its
        first start; the name offered (the OS user name) is kept if the question is dismissed."""
        name, ok = QInputDialog.getText(
            self, "Analyst name", "Your name, as your decisions are to be recorded:",
            text=analyst_name())
        if ok or first_time:
            self.set_analyst_name(name if ok else analyst_name())

    def set_analyst_name(self, name: str) -> bool:
        try:
            stored = set_analyst_name(name)
        except (ValueError, OSError) as exc:
            self._warn("Analyst name", str(exc))
            return False
        if self.project is not None:
            self.project.who = stored  # from the next decision on
        self._show_analyst()
        return True

    def _show_analyst(self) -> None:
        who = self.project.who if self.project is not None else analyst_name()
        self.analyst_label.setText(f"Analyst: {who}")

    def preannotate(self) -> None:
        if self.project is None:
            return
        if self.annotator is not None and self.annotator.running:
            self.statusBar().showMessage("Pre-annotation is already running in the background", 8000)
            return
        project, nlp = self.project, self.nlp

        def work(progress, should_cancel):
            return annotate(project, progress=progress, should_cancel=should_cancel, nlp=nlp)

        def done(summary) -> None:
            self.statusBar().showMessage(summary.line(), 15000)
            self._after_bulk_change()

        ops.run_in_background(self, "Pre-annotating articles", work, done, cancellable=True)

    # -- pre-annotation in the background -----------------------------------------------------------
    def annotate_in_background(self) -> bool:
        """Pre-annotate the articles never pre-annotated, batch by batch, while the analyst
        reviews; False when there is nothing to do."""
        if self.project is None or (self.annotator is not None and self.annotator.running):
            return False
        if self.nlp is None:  # it starts once the model is loaded
            self._annotate_when_loaded = True
            return True
        annotator = BackgroundAnnotator(self, self.project, self.nlp)
        annotator.progressed.connect(self._on_annotating_progress)
        annotator.stored.connect(self._on_annotated_batch)
        annotator.finished.connect(self._on_annotating_finished)
        self.annotator = annotator
        if not annotator.start():
            self.annotator = None
            annotator.deleteLater()
            return False
        for w in (self.annotating_label, self.annotating_bar, self.annotating_cancel):
            w.setVisible(True)
        self.annotating_cancel.setEnabled(True)
        return True

    def cancel_background_annotation(self) -> None:
        if self.annotator is not None and self.annotator.running:
            self.annotating_cancel.setEnabled(False)
            self.annotating_label.setText("Stopping the pre-annotation…")
            self.annotator.cancel()

    def _stop_annotator(self) -> None:
        """The project is closing: stop at once and forget the annotator (it kept its batches)."""
        self._annotate_when_loaded = False
        annotator, self.annotator = self.annotator, None
        if annotator is not None:
            annotator.finished.disconnect(self._on_annotating_finished)
            annotator.stored.disconnect(self._on_annotated_batch)
            annotator.cancel()
            annotator.running = False  # a batch parsed meanwhile is dropped, never stored
            self._hide_annotating()

    def _on_annotating_progress(self, done: int, total: int) -> None:
        self.annotating_bar.setRange(0, max(total, 1))
        self.annotating_bar.setValue(done)
        self.annotating_label.setText(f"Pre-annotating: {done:,} of {total:,} articles")

    def _on_annotated_batch(self, doc_ids: set[int]) -> None:
        """A batch was stored: its list rows, the counts, and the open article if it was one."""
        self.doc_list.refresh_documents(doc_ids)
        self._counts_timer.start()
        if self.review_model is not None and self.review_model.doc_id in doc_ids:
            self.controller.reload()

    def _on_annotating_finished(self, how: str) -> None:
        annotator = self.annotator
        self.annotator = None
        self._hide_annotating()
        if annotator is None:
            return
        done, total = annotator.done_count, annotator.total
        if how == "done":
            self.statusBar().showMessage(f"Pre-annotation finished: {done:,} articles annotated", 15000)
        elif how == "cancelled":
            self.statusBar().showMessage(
                f"Pre-annotation stopped: {done:,} of {total:,} articles annotated; it goes on "
                "with the rest when the project is opened again", 20000)
        self._update_counts()
        annotator.deleteLater()

    def _hide_annotating(self) -> None:
        for w in (self.annotating_label, self.annotating_bar, self.annotating_cancel):
            w.setVisible(False)

    # -- learning from decisions -----------------------------------------------------------------------
    def train_from_decisions(self) -> None:
        """Review ▸ Train from My Decisions: in the background, on a read-only snapshot of the
        project, so review goes on; the evidence is shown before anything is stored."""
        if self.project is None:
            return
        if self.training_op is not None and not self.training_op.is_done:
            self.statusBar().showMessage("Training is already running (its progress is at the "
                                         "bottom right)", 6000)
            return
        path, nlp = self.project.path, self.nlp
        status = TrainingStatus(self)
        self.statusBar().addPermanentWidget(status)
        bridge = status.bridge

        def work(progress, should_cancel):
            def report(done: int, total: int) -> None:
                progress(done, total)
                bridge.progressed.emit(done, total)
            # Its own read-only connection: a consistent snapshot while decisions go on.
            with Project(path, readonly=True) as snapshot:
                return train(snapshot, nlp=nlp, progress=report, should_cancel=should_cancel)

        op = ops.run_in_background(self, "Training from your decisions", work, self._on_trained,
                                   on_error=self._on_training_error, cancellable=True,
                                   show_after_ms=-1, uses_project=False)
        status.cancel_requested.connect(op.cancel)
        op.done.connect(self._end_training_status)
        self.training_op, self.training_status = op, status
        self.training_path = path

    def _end_training_status(self) -> None:
        if self.training_status is not None:
            self.statusBar().removeWidget(self.training_status)
            self.training_status.deleteLater()
            self.training_status = None

    def _on_training_error(self, exc: BaseException) -> None:
        ops.report_error(self, "Training from your decisions", exc)

    def _on_trained(self, report: TrainingReport) -> None:
        """Show the evidence for each new model; store it, used only if the analyst says so."""
        self.training_report = report
        if self.project is None or self.project.path != self.training_path:
            self.statusBar().showMessage("Training finished after its project was closed: "
                                         "nothing was stored", 20000)
            return
        refused = [r.refused for r in report.results if r.refused]
        if refused:
            self.statusBar().showMessage("Not trained: " + "; ".join(refused), 20000)
        self._show_evidence(list(report.trained()))

    def _show_evidence(self, pending: list) -> None:
        """One evidence dialog per new model (window-modal, not blocking): Use or Keep the old."""
        if not pending or self.project is None:
            self.evidence_dialog = None
            return
        result, rest = pending[0], pending[1:]
        dialog = EvidenceDialog(self, result)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        self.evidence_dialog = dialog

        def finished(_code: int) -> None:
            self._store_trained(result.trained, dialog.use_new)
            self._show_evidence(rest)

        dialog.finished.connect(finished)
        dialog.open()

    def _store_trained(self, trained, use: bool) -> None:
        project = self.project

        def done(stored) -> None:
            self._show_model()
            if use:
                text = (f"Now suggesting with {stored.kind} v{stored.version}; File ▸ Pre-annotate "
                        "refreshes the suggestions of articles not marked done")
            else:
                text = (f"Kept the old {stored.kind} model; the new one is v{stored.version} in "
                        "Review ▸ Model History…")
            # After the end of this op clears the status bar's "working" message.
            QTimer.singleShot(0, lambda: self.statusBar().showMessage(text, 20000))

        ops.run_in_background(self, "Storing the model",
                              lambda progress, cancel: store_model(project, trained, use=use), done,
                              cancellable=False, show_after_ms=600)

    def show_model_history(self) -> None:
        if self.project is None:
            return
        dialog = ModelHistoryDialog(self, self.project, on_switched=self._show_model)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        self.history_dialog = dialog
        dialog.open()

    def _after_bulk_change(self) -> None:
        """After an import or annotation: labels, list and the open article may all have changed."""
        if self.project is None or self.review_model is None:
            return
        labels = self.project.labels()
        self.view.set_colours(labels)
        self.side.set_labels(labels)
        self._build_actions()
        self.doc_list.reload_labels(self.project)
        self.review_model.project_changed()
        keep = self.review_model.doc_id
        self.doc_list.apply_filters()
        if keep is None:
            self.doc_list.select_first()
        else:
            self.controller.open_document(keep)
        self._refresh_doc_labels()
        self._update_counts()
        if self.claims_view is not None:  # new claims came in: the view's list is read again
            self.claims_view.apply_filters()

    def focus_search(self) -> None:
        self.doc_list.search.setFocus()
        self.doc_list.search.selectAll()

    def focus_article(self) -> None:
        self.view.clear_selection()
        self.view.setFocus()

    def next_article(self) -> None:
        if not self.doc_list.step(+1):
            self.statusBar().showMessage("This is the last article of the list", 5000)
        self.view.setFocus()

    def prev_article(self) -> None:
        if not self.doc_list.step(-1):
            self.statusBar().showMessage("This is the first article of the list", 5000)
        self.view.setFocus()

    def cheat_sheet(self) -> None:
        CheatSheet(self.specs, self).exec()

    # -- messages and closing ------------------------------------------------------------------------------------
    def _warn(self, title: str, text: str) -> None:
        QMessageBox.warning(self, title, text)

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

