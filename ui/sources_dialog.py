"""The source registry: the sources an analyst confirmed, their grades (A–F), names and notes,
and the merges worth making ("Reuters) Ceasefire" is Reuters).

The table is a model over the rows read in one query (no widget per cell), so the dialog opens
at once however many sources there are; the suggested merges are worked out right after it shows.
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from annotation.model import RELIABILITY
from storage.changes import Changes
from storage.corroboration import REPEATEDLY, discredited_backing
from storage.project import Project, ProjectError
from storage.review import Review
from storage.sources import (
    MergeSuggestion,
    RegistryEntry,
    candidate_names,
    merge_suggestions,
    not_same_pairs,
    registry_entries,
)
from ui import ops

COLUMNS = ("Name", "Aliases", "Reliability", "Claims", "Note", "⚠")
DISCREDITED = 5  # claims the source made or backed that were later judged doubtful or contradicted
UNGRADED = "ungraded"
# Tints that keep black text legible: greens for reliable, reds for unreliable, grey for F.
GRADE_TINTS = {"A": "#cfe8cf", "B": "#e0f0d0", "C": "#f7f0c8", "D": "#f8dcc0", "E": "#f3c9c5",
               "F": "#e2e2e2"}
_ID_ROLE = Qt.UserRole
KEYS_HINT = ("Keys: A–F grade the selected sources (0: ungraded), M merges the two selected; in "
             "the suggestions Enter merges, O keeps the other name, N says they are different; "
             "in the aliases U un-merges; Ctrl+Enter saves a note. Ctrl+Z undoes, Ctrl+F filters.")


_DISPLAY, _TOOLTIP = int(Qt.DisplayRole), int(Qt.ToolTipRole)
_BACKGROUND, _FOREGROUND, _ALIGN = int(Qt.BackgroundRole), int(Qt.ForegroundRole), int(Qt.TextAlignmentRole)
_ID, _RIGHT = int(_ID_ROLE), int(Qt.AlignRight | Qt.AlignVCenter)


def _discredited_text(n: int) -> str:
    """Blank for none; a warning sign once a source keeps backing discredited claims."""
    return "" if not n else (f"⚠ {n}" if n >= REPEATEDLY else str(n))


class RegistryModel(QAbstractTableModel):
    """The registry's rows (as `registry_entries` reads them), filtered and sorted here in
    Python: the view asks only for the rows it shows, so thousands of sources cost nothing."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.entries: list[RegistryEntry] = []
        self.rows: list[RegistryEntry] = []           # what the view shows, in order
        self._cells: dict[int, tuple[str, ...]] = {}   # entry id -> the cells' text
        self.discredited: dict[int, int] = {}          # entry id -> discredited claims backed
        self._sort_column, self._order = 0, Qt.AscendingOrder
        self.needle = ""
        self._brushes = {g: QBrush(QColor(c)) for g, c in GRADE_TINTS.items()}
        self._text = QBrush(QColor("#1a1a1a"))

    def set_entries(self, entries: list[RegistryEntry],
                    discredited: dict[int, int] | None = None) -> None:
        self.beginResetModel()
        self.entries = entries
        self.discredited = discredited or {}
        self._cells = {e.id: (
            e.name, ", ".join(e.aliases),
            f"{e.reliability} — {RELIABILITY[e.reliability]}" if e.reliability else UNGRADED,
            str(e.accepted_claims), (e.note or "").replace("\n", " "),
            _discredited_text(self.discredited.get(e.id, 0))) for e in entries}
        self.rows = self._arranged()
        self.endResetModel()

    def set_needle(self, text: str) -> None:
        self.beginResetModel()
        self.needle = text.strip().casefold()
        self.rows = self._arranged()
        self.endResetModel()

    def _arranged(self) -> list[RegistryEntry]:
        n = self.needle
        rows = [e for e in self.entries if not n or n in e.name.casefold()
                or any(n in a.casefold() for a in e.aliases)]
        key = (_SORT_KEYS[self._sort_column] if self._sort_column != DISCREDITED
               else lambda e: self.discredited.get(e.id, 0))
        rows.sort(key=lambda e: (key(e), e.name.casefold(), e.id),
                  reverse=self._order == Qt.DescendingOrder)
        return rows

    def sort(self, column: int, order=Qt.AscendingOrder) -> None:
        """Sort in Python, keeping the view's selection (persistent indexes follow their rows)."""
        self._sort_column, self._order = column, order
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        ids = [self.rows[i.row()].id for i in old]
        self.rows = self._arranged()
        where = {e.id: r for r, e in enumerate(self.rows)}
        self.changePersistentIndexList(old, [self.index(where[i], o.column()) for i, o in zip(ids, old)])
        self.layoutChanged.emit()

    def rowCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation, role: int = Qt.DisplayRole):
        if orientation == Qt.Horizontal and role == _DISPLAY:
            return COLUMNS[section]
        if orientation == Qt.Horizontal and role == _TOOLTIP and section == 3:
            return "accepted claims linked to this source"
        if orientation == Qt.Horizontal and role == _TOOLTIP and section == DISCREDITED:
            return ("discredited claims the source made or backed: graded doubtful or improbable, "
                    f"or contradicted and not graded yet (⚠ from {REPEATEDLY} on)")
        return None

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):
        e = self.rows[index.row()]
        col = index.column()
        if role == _DISPLAY:
            return self._cells[e.id][col]
        if role == _TOOLTIP:
            if col == 3:
                return f"{e.accepted_claims} accepted claim(s), {e.claims - e.accepted_claims} suggested"
            if col == DISCREDITED and self.discredited.get(e.id):
                return (f"made or backed {self.discredited[e.id]} claim(s) later graded doubtful "
                        "or improbable, or contradicted and not graded yet")
            return self._cells[e.id][col] or None
        if role == _ID:
            return e.id
        if role == _BACKGROUND:
            return self._brushes[e.reliability] if e.reliability else None
        if role == _FOREGROUND:
            return self._text
        if role == _ALIGN and col in (3, DISCREDITED):
            return _RIGHT
        return None


_SORT_KEYS = (
    lambda e: e.name.casefold(),
    lambda e: ", ".join(e.aliases).casefold(),
    lambda e: e.reliability or "Z",   # ungraded after F
    lambda e: e.accepted_claims,
    lambda e: (e.note or "").casefold(),
)


class SourcesDialog(QDialog):
    """Every write goes through `Review`, so it is logged and can be undone like any decision."""

    changed = Signal(object)  # Changes: views showing source names or grades refresh from them

    def __init__(self, parent: QWidget | None, project: Project, review: Review):
        super().__init__(parent)
        self.project = project
        self.review = review
        self.error_message: str | None = None
        self._sources: dict[int, RegistryEntry] = {}
        self._suggestions: list[MergeSuggestion] = []
        self._suggestions_stale = True
        self._signature: tuple | None = None
        self.setWindowTitle("Sources")
        self.resize(1100, 640)
        self._build()
        self.reload(suggestions=False)
        # The suggestions read every candidate name: worked out once the registry is on screen.
        QTimer.singleShot(0, self, self._load_suggestions)

    # -- layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter by name or alias (Ctrl+F)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._apply_filter)
        self.model = RegistryModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.ElideRight)
        header = self.table.horizontalHeader()
        # The name takes the room there is; the other columns keep a width the analyst can change.
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.Stretch)
        for col, width in ((1, 120), (2, 135), (3, 50), (4, 110), (DISCREDITED, 40)):
            header.setSectionResizeMode(col, QHeaderView.Interactive)
            self.table.setColumnWidth(col, width)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.AscendingOrder)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.count_label = QLabel("")
        self.count_label.setStyleSheet("color: #555")
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.filter_edit)
        left_layout.addWidget(self.table, 1)
        left_layout.addWidget(self.count_label)

        # The selected source: its grade, names and note.
        self.name_edit = QLineEdit()
        self.rename_button = QPushButton("Re&name")
        self.rename_button.clicked.connect(self._on_rename)
        name_row = QHBoxLayout()
        name_row.addWidget(self.name_edit, 1)
        name_row.addWidget(self.rename_button)
        self.reliability_combo = QComboBox()
        self.reliability_combo.addItem("ungraded", None)
        for k, v in RELIABILITY.items():
            self.reliability_combo.addItem(f"{k} — {v}", k)
        self.reliability_combo.activated.connect(self._on_grade_chosen)
        self.aliases_list = QListWidget()
        self.aliases_list.setMaximumHeight(90)
        self.aliases_list.setToolTip("the other names of this source; U (or Delete) un-merges one")
        self.aliases_list.itemSelectionChanged.connect(self._on_alias_selected)
        self.unmerge_button = QPushButton("&Un-merge")
        self.unmerge_button.setToolTip("split the selected name off this source (U)")
        self.unmerge_button.clicked.connect(self._on_unmerge)
        alias_box = QHBoxLayout()
        alias_box.addWidget(self.aliases_list, 1)
        alias_box.addWidget(self.unmerge_button, 0, Qt.AlignTop)
        self.alias_edit = QLineEdit()
        self.alias_edit.setPlaceholderText("another name of this source")
        self.alias_edit.returnPressed.connect(self._on_add_alias)
        self.alias_button = QPushButton("Add &alias")
        self.alias_button.clicked.connect(self._on_add_alias)
        alias_row = QHBoxLayout()
        alias_row.addWidget(self.alias_edit, 1)
        alias_row.addWidget(self.alias_button)
        self.note_edit = QPlainTextEdit()
        self.note_edit.setPlaceholderText("why this grade, who the source is…")
        self.note_edit.setTabChangesFocus(True)
        self.note_button = QPushButton("Save n&ote")
        self.note_button.setToolTip("save the note (Ctrl+Enter in the note)")
        self.note_button.clicked.connect(self._on_save_note)
        form = QFormLayout()
        form.addRow("Name:", name_row)
        form.addRow("&Reliability:", self.reliability_combo)
        form.addRow("Aliases:", alias_box)
        form.addRow("", alias_row)
        form.addRow("Note:", self.note_edit)
        form.addRow("", self.note_button)
        self.details = QGroupBox("Selected source")
        self.details.setLayout(form)
        self.merge_button = QPushButton("&Merge the two selected…")
        self.merge_button.setToolTip("Fold one source into the other: claims, names and aliases move (M)")
        self.merge_button.clicked.connect(self._on_merge)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.details, 1)
        right_layout.addWidget(self.merge_button)

        top = QSplitter()
        top.addWidget(left)
        top.addWidget(right)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 2)
        top.setSizes([680, 420])

        # Suggested merges: a name that looks like another name of a registry entry.
        self.suggestion_view = QTreeWidget()
        self.suggestion_view.setRootIsDecorated(False)
        self.suggestion_view.setUniformRowHeights(True)
        self.suggestion_view.setHeaderLabels(("This name", "is likely", "because it is", "claims"))
        self.suggestion_view.setSelectionMode(QAbstractItemView.SingleSelection)
        self.suggestion_view.itemActivated.connect(lambda *_: self._on_merge_suggestion())
        self.suggestion_view.itemSelectionChanged.connect(self._on_suggestion_selected)
        sh = self.suggestion_view.header()
        sh.setStretchLastSection(False)
        sh.setSectionResizeMode(0, QHeaderView.Interactive)
        sh.setSectionResizeMode(1, QHeaderView.Interactive)
        sh.setSectionResizeMode(2, QHeaderView.Stretch)
        sh.setSectionResizeMode(3, QHeaderView.ResizeToContents)
        self.suggestion_view.setColumnWidth(0, 300)
        self.suggestion_view.setColumnWidth(1, 240)
        self.merge_suggestion_button = QPushButton("Merge (&Enter)")
        self.merge_suggestion_button.setToolTip("the name becomes a name of the source it is likely")
        self.merge_suggestion_button.clicked.connect(self._on_merge_suggestion)
        self.keep_other_button = QPushButton("Keep the o&ther name")
        self.keep_other_button.setToolTip("merge the other way round: keep the name on the left (O)")
        self.keep_other_button.clicked.connect(lambda: self._on_merge_suggestion(keep_other=True))
        self.not_same_button = QPushButton("&Different sources")
        self.not_same_button.setToolTip("they are not the same source: not suggested again (N)")
        self.not_same_button.clicked.connect(self._on_not_same)
        sbuttons = QVBoxLayout()
        for b in (self.merge_suggestion_button, self.keep_other_button, self.not_same_button):
            sbuttons.addWidget(b)
        sbuttons.addStretch(1)
        srow = QHBoxLayout()
        srow.addWidget(self.suggestion_view, 1)
        srow.addLayout(sbuttons)
        self.suggestion_box = QGroupBox("&Suggested merges")
        self.suggestion_box.setLayout(srow)

        splitter = QSplitter(Qt.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(self.suggestion_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([400, 220])
        hint = QLabel(KEYS_HINT)
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #555")
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.undo_button = QPushButton("Undo")
        self.undo_button.clicked.connect(self.undo)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        close.setAutoDefault(False)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(self.undo_button)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(hint)
        layout.addLayout(bottom)
        for b in (self.rename_button, self.alias_button, self.note_button, self.merge_button,
                  self.unmerge_button, self.merge_suggestion_button, self.keep_other_button,
                  self.not_same_button, self.undo_button):
            b.setAutoDefault(False)  # Enter in a field or a list is never a stray button press
        # Keys on the table, the suggestions, the aliases and the note (installed once all exist).
        for w in (self.table, self.suggestion_view, self.aliases_list, self.note_edit):
            w.installEventFilter(self)
        QShortcut(QKeySequence.Undo, self, self.undo)
        QShortcut(QKeySequence.Redo, self, self.redo)
        QShortcut(QKeySequence("Ctrl+Y"), self, self.redo)
        QShortcut(QKeySequence.Find, self, self.filter_edit.setFocus)
        QShortcut(QKeySequence("Alt+S"), self, self.suggestion_view.setFocus)

    # -- reading --------------------------------------------------------------------------------
    def reload(self, *, suggestions: bool = True) -> None:
        """Read the registry again, keeping the selection; then the suggested merges."""
        selected = self.selected_ids()
        entries = registry_entries(self.project)
        discredited = discredited_backing(self.project)
        self._sources = {e.id: e for e in entries}
        self.model.set_entries(entries, discredited)
        self.select_ids(selected)
        self._on_selection_changed()
        graded = sum(1 for e in entries if e.reliability)
        self.count_label.setText(f"{len(entries)} source(s) an analyst confirmed, {graded} graded")
        self.undo_button.setEnabled(self.review.can_undo)
        self.undo_button.setToolTip(f"Undo {self.review.undo_text()}" if self.review.can_undo else "")
        self._suggestions_stale = True
        if suggestions:
            self._load_suggestions()

    @Slot()
    def _load_suggestions(self) -> None:
        if not self._suggestions_stale:
            return
        self._suggestions_stale = False
        current = self.current_suggestion()
        entries = list(self._sources.values())
        # With no source confirmed there is nothing to merge into: the candidates are not read.
        candidates = candidate_names(self.project) if entries else {}
        # A grade or a note changes no name: the suggestions stay as they are.
        signature = (tuple((e.id, e.name, tuple(e.aliases), e.accepted_claims) for e in entries),
                     tuple(sorted(candidates.items())), not_same_pairs(self.project))
        if signature == self._signature:
            return
        self._signature = signature
        self._suggestions = merge_suggestions(self.project, entries, candidates=candidates)
        view = self.suggestion_view
        view.clear()
        items = []
        for s in self._suggestions:
            item = QTreeWidgetItem([s.name, s.keep_name, s.reason,
                                    str(s.claims) + ("" if s.other_id else " suggested")])
            item.setToolTip(0, s.name if s.other_id else f"{s.name} (a name on suggested claims, "
                                                         "not in the registry)")
            item.setToolTip(1, s.keep_name)
            item.setTextAlignment(3, Qt.AlignRight | Qt.AlignVCenter)
            items.append(item)
        view.addTopLevelItems(items)
        self.suggestion_box.setTitle(f"&Suggested merges ({len(self._suggestions)})")
        if items:
            keys = [s.key for s in self._suggestions]
            row = keys.index(current.key) if current is not None and current.key in keys else 0
            view.setCurrentItem(items[row])
        self._on_suggestion_selected()

    def suggestions(self) -> list[MergeSuggestion]:
        """The suggested merges, as the list shows them."""
        self._load_suggestions()
        return list(self._suggestions)

    def current_suggestion(self) -> MergeSuggestion | None:
        item = self.suggestion_view.currentItem()
        if item is None:
            return None
        i = self.suggestion_view.indexOfTopLevelItem(item)
        return self._suggestions[i] if 0 <= i < len(self._suggestions) else None

    def row_values(self) -> list[tuple[str, str, str, int]]:
        """What the table shows, in its order: name, aliases, reliability, accepted claims."""
        m = self.model
        return [(m.index(r, 0).data(), m.index(r, 1).data(), m.index(r, 2).data(),
                 int(m.index(r, 3).data())) for r in range(m.rowCount())]

    def selected_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.rows[r].id for r in rows if r < len(self.model.rows)]

    def select_ids(self, ids: list[int]) -> None:
        where = {e.id: r for r, e in enumerate(self.model.rows)}
        rows = sorted(where[i] for i in ids if i in where)
        selection = QItemSelection()
        for r in rows:
            selection.select(self.model.index(r, 0), self.model.index(r, len(COLUMNS) - 1))
        sm = self.table.selectionModel()
        sm.select(selection, QItemSelectionModel.ClearAndSelect)
        if rows:
            first = self.model.index(rows[0], 0)
            sm.setCurrentIndex(first, QItemSelectionModel.NoUpdate)
            self.table.scrollTo(first)

    @Slot()
    def _apply_filter(self, *_: object) -> None:
        selected = self.selected_ids()
        self.model.set_needle(self.filter_edit.text())
        self.select_ids(selected)

    @Slot()
    def _on_selection_changed(self, *_: object) -> None:
        ids = self.selected_ids()
        one = self._sources.get(ids[0]) if len(ids) == 1 else None
        for w in (self.name_edit, self.rename_button, self.alias_edit, self.alias_button,
                  self.note_edit, self.note_button, self.aliases_list):
            w.setEnabled(one is not None)
        self.reliability_combo.setEnabled(bool(ids))
        self.merge_button.setEnabled(len(ids) == 2)
        self.aliases_list.clear()
        if one is not None:
            self.details.setTitle(f"Selected source: {one.name}")
            self.name_edit.setText(one.name)
            self.name_edit.setCursorPosition(0)
            for alias in one.aliases:
                self.aliases_list.addItem(QListWidgetItem(alias))
            if not one.aliases:
                self.aliases_list.addItem(QListWidgetItem("none yet"))
                self.aliases_list.item(0).setFlags(Qt.NoItemFlags)
            self.note_edit.setPlainText(one.note or "")
            self.reliability_combo.setCurrentIndex(max(self.reliability_combo.findData(one.reliability), 0))
        else:
            self.details.setTitle(f"{len(ids)} sources selected" if ids else "Selected source")
            self.name_edit.clear()
            self.note_edit.clear()
        self._on_alias_selected()

    @Slot()
    def _on_alias_selected(self) -> None:
        self.unmerge_button.setEnabled(self._selected_alias() is not None)

    def _selected_alias(self) -> str | None:
        ids = self.selected_ids()
        item = self.aliases_list.currentItem()
        if len(ids) != 1 or item is None or not (item.flags() & Qt.ItemIsEnabled):
            return None
        return item.text() if item.text() in self._sources[ids[0]].aliases else None

    @Slot()
    def _on_suggestion_selected(self) -> None:
        s = self.current_suggestion()
        self.merge_suggestion_button.setEnabled(s is not None)
        self.not_same_button.setEnabled(s is not None)
        self.keep_other_button.setEnabled(s is not None and s.other_id is not None)

    # -- writing (each through Review: logged and undoable) -------------------------------------
    def _write(self, what: str, action: Callable[[], Changes]) -> Changes | None:
        if ops.is_busy():
            self._fail(what, ProjectError("background work is using the project; "
                                          "wait until it has finished"))
            return None
        try:
            changes = action()
        except (ProjectError, ValueError) as exc:
            self._fail(what, exc)
            return None
        self.error_message = None
        self.reload()
        self.changed.emit(changes)
        if changes.message:
            self.status_label.setText(changes.message)
        return changes

    def _fail(self, what: str, exc: BaseException) -> None:
        self.error_message = ops.report_error(self, what, exc)
        self.status_label.setText("")

    def grade(self, source_ids: list[int], reliability: str | None) -> bool:
        """Grade sources A–F (None: ungraded); one undoable step for all of them."""
        def act() -> Changes:
            with self.review.decision(f"grade {len(source_ids)} sources {reliability or UNGRADED}") as d:
                for sid in source_ids:
                    self.review.grade_source(sid, reliability)
            return d.changes
        ok = self._write("Grade source", act) is not None
        if ok:
            self.status_label.setText(f"Graded {len(source_ids)} source(s) {reliability or UNGRADED}")
        return ok

    def add_alias(self, source_id: int, alias: str) -> bool:
        ok = self._write("Add alias", lambda: self.review.add_alias(source_id, alias.strip())) is not None
        if ok:
            self.alias_edit.clear()
            self.status_label.setText(f"Added alias {alias.strip()!r}")
        return ok

    def merge(self, keep_id: int, other_id: int) -> bool:
        ok = self._write("Merge sources", lambda: self.review.merge_sources(keep_id, other_id)) is not None
        if ok:
            self.select_ids([keep_id])
        return ok

    def unmerge(self, source_id: int, alias: str) -> bool:
        changes = self._write("Un-merge", lambda: self.review.unmerge_source(source_id, alias))
        if changes is not None:
            self.select_ids([changes.id] if changes.id is not None else [source_id])
        return changes is not None

    def apply_suggestion(self, suggestion: MergeSuggestion, *, keep_other: bool = False) -> bool:
        """Merge as suggested (the name becomes a name of `keep`), or the other way round."""
        s = suggestion
        if keep_other and s.other_id is not None:
            return self.merge(s.other_id, s.keep_id)
        changes = self._write("Merge sources", lambda: self.review.merge_name(s.keep_id, s.name))
        if changes is not None:
            self.select_ids([s.keep_id])
        return changes is not None

    def not_same(self, suggestion: MergeSuggestion) -> bool:
        return self._write("Different sources", lambda: self.review.mark_not_same(
            suggestion.keep_name, suggestion.name, key=suggestion.key)) is not None

    def rename(self, source_id: int, name: str) -> bool:
        if not name.strip():
            self._fail("Rename source", ValueError("a source needs a name"))
            return False
        return self._write("Rename source",
                           lambda: self.review.rename_source(source_id, name.strip())) is not None

    def set_note(self, source_id: int, note: str) -> bool:
        ok = self._write("Source note", lambda: self.review.set_source_note(source_id, note.strip())) is not None
        if ok:
            self.status_label.setText("Note saved")
        return ok

    @Slot()
    def undo(self) -> None:
        self._replayed(self.review.undo())

    @Slot()
    def redo(self) -> None:
        self._replayed(self.review.redo())

    def _replayed(self, changes: Changes) -> None:
        self.reload()
        self.changed.emit(changes)
        self.status_label.setText(changes.message)

    @Slot(int)
    def _on_grade_chosen(self, index: int) -> None:
        ids = self.selected_ids()
        if ids:
            self.grade(ids, self.reliability_combo.itemData(index))

    @Slot()
    def _on_add_alias(self) -> None:
        ids = self.selected_ids()
        if len(ids) == 1 and self.alias_edit.text().strip():
            self.add_alias(ids[0], self.alias_edit.text())

    @Slot()
    def _on_rename(self) -> None:
        ids = self.selected_ids()
        if len(ids) == 1:
            self.rename(ids[0], self.name_edit.text())

    @Slot()
    def _on_save_note(self) -> None:
        ids = self.selected_ids()
        if len(ids) == 1:
            self.set_note(ids[0], self.note_edit.toPlainText())

    @Slot()
    def _on_unmerge(self) -> None:
        alias = self._selected_alias()
        if alias is not None:
            self.unmerge(self.selected_ids()[0], alias)

    @Slot()
    def _on_merge_suggestion(self, keep_other: bool = False) -> None:
        s = self.current_suggestion()
        if s is not None:
            self.apply_suggestion(s, keep_other=keep_other)
            self.suggestion_view.setFocus()

    @Slot()
    def _on_not_same(self) -> None:
        s = self.current_suggestion()
        if s is not None:
            self.not_same(s)
            self.suggestion_view.setFocus()

    @Slot()
    def _on_merge(self) -> None:
        ids = self.selected_ids()
        if len(ids) != 2:
            return
        a, b = (self._sources[i] for i in ids)
        box = QMessageBox(QMessageBox.Question, "Merge sources",
                          f"Merge “{a.name}” and “{b.name}” into one source? Claims, names and "
                          "aliases move to the one you keep; its grade stays (or the other's, "
                          "if it has none).", QMessageBox.Cancel, self)
        keep_a = box.addButton(f"Keep “{a.name}”", QMessageBox.AcceptRole)
        keep_b = box.addButton(f"Keep “{b.name}”", QMessageBox.AcceptRole)
        box.exec()
        if box.clickedButton() is keep_a:
            self.merge(a.id, b.id)
        elif box.clickedButton() is keep_b:
            self.merge(b.id, a.id)

    def eventFilter(self, obj, event) -> bool:
        if event.type() != QEvent.KeyPress:
            return super().eventFilter(obj, event)
        if obj is self.note_edit:
            if event.key() in (Qt.Key_Return, Qt.Key_Enter) and event.modifiers() & Qt.ControlModifier:
                self._on_save_note()
                return True
            return super().eventFilter(obj, event)
        if event.modifiers() & ~(Qt.KeypadModifier | Qt.ShiftModifier):
            return super().eventFilter(obj, event)
        key, text = event.key(), event.text().upper()
        if obj is self.table:
            # Grading by key, like the review view: A–F, and 0 for ungraded.
            if text in RELIABILITY or text == "0":
                ids = self.selected_ids()
                if ids:
                    self.grade(ids, None if text == "0" else text)
                    return True
            if text == "M" and len(self.selected_ids()) == 2:
                self._on_merge()
                return True
        elif obj is self.suggestion_view:
            if key in (Qt.Key_Return, Qt.Key_Enter) or text == "M":
                self._on_merge_suggestion()
                return True
            if text == "O":
                self._on_merge_suggestion(keep_other=True)
                return True
            if text == "N":
                self._on_not_same()
                return True
        elif obj is self.aliases_list and (text == "U" or key == Qt.Key_Delete):
            self._on_unmerge()
            return True
        return super().eventFilter(obj, event)
