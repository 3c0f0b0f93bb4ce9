"""The source registry: grade reliability (A–F), add aliases, merge duplicates, rename, add notes."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDialog, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
    QLineEdit, QMessageBox, QPlainTextEdit, QPushButton, QSplitter, QTableWidget, QTableWidgetItem,
    QVBoxLayout, QWidget,
)

from annotation.model import RELIABILITY, Source
from storage.changes import Changes
from storage.corroboration import REPEATEDLY, discredited_backing
from storage.project import Project, ProjectError
from storage.review import Review
from ui import ops

COLUMNS = ("Name", "Aliases", "Reliability", "Claims", "⚠", "Note")
DISCREDITED = 4  # claims the source made or backed that were later judged doubtful or contradicted
UNGRADED = "ungraded"
# Tints that keep black text legible: greens for reliable, reds for unreliable, grey for F.
GRADE_TINTS = {"A": "#cfe8cf", "B": "#e0f0d0", "C": "#f7f0c8", "D": "#f8dcc0", "E": "#f3c9c5",
               "F": "#e2e2e2"}
_ID_ROLE = Qt.UserRole
_SORT_ROLE = Qt.UserRole + 1


class _SortItem(QTableWidgetItem):
    """Sorts by a key of its own (numbers as numbers, ungraded after F)."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        a, b = self.data(_SORT_ROLE), other.data(_SORT_ROLE)
        if a is not None and b is not None:
            return a < b
        return super().__lt__(other)


def _discredited_text(n: int) -> str:
    """Blank for none; a warning sign once a source keeps backing discredited claims."""
    return "" if not n else (f"⚠ {n}" if n >= REPEATEDLY else str(n))


class SourcesDialog(QDialog):
    """Every write goes through `Review`, so it is logged and can be undone like any decision."""

    changed = Signal(object)  # Changes: views showing source names or grades refresh from them

    def __init__(self, parent: QWidget | None, project: Project, review: Review):
        super().__init__(parent)
        self.project = project
        self.review = review
        self.error_message: str | None = None
        self._sources: dict[int, Source] = {}
        self._claims: dict[int, int] = {}
        self._discredited: dict[int, int] = {}
        self.setWindowTitle("Sources")
        self.resize(980, 560)
        self._build()
        self.reload()

    # -- layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter by name or alias")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._apply_filter)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeaderItem(DISCREDITED).setToolTip(
            "discredited claims the source made or backed: graded doubtful or improbable, or "
            "contradicted and not graded yet (⚠ from 2 on)")
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(False)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.ElideRight)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.Interactive)
        header.setSectionResizeMode(1, QHeaderView.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(DISCREDITED, QHeaderView.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.setColumnWidth(0, 210)
        self.table.setColumnWidth(1, 120)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.AscendingOrder)
        self.table.itemSelectionChanged.connect(self._on_selection_changed)
        self.table.installEventFilter(self)
        hint = QLabel("Keys: A–F grade the selected sources, 0 makes them ungraded.")
        hint.setStyleSheet("color: #555")
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.filter_edit)
        left_layout.addWidget(self.table, 1)
        left_layout.addWidget(hint)

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
        self.aliases_label = QLabel("")
        self.aliases_label.setWordWrap(True)
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
        self.note_button = QPushButton("Save n&ote")
        self.note_button.clicked.connect(self._on_save_note)
        form = QFormLayout()
        form.addRow("Name:", name_row)
        form.addRow("&Reliability:", self.reliability_combo)
        form.addRow("Aliases:", self.aliases_label)
        form.addRow("", alias_row)
        form.addRow("Note:", self.note_edit)
        form.addRow("", self.note_button)
        self.details = QGroupBox("Selected source")
        self.details.setLayout(form)
        self.merge_button = QPushButton("&Merge the two selected…")
        self.merge_button.setToolTip("Fold one source into the other: claims, names and aliases move")
        self.merge_button.clicked.connect(self._on_merge)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.details, 1)
        right_layout.addWidget(self.merge_button)

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([640, 340])
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)

    # -- reading --------------------------------------------------------------------------------
    def reload(self) -> None:
        """Read the registry again, keeping the selection."""
        selected = self.selected_ids()
        self._sources = {s.id: s for s in self.project.sources()}
        self._claims = self.project.source_claim_counts()
        self._discredited = discredited_backing(self.project)
        table = self.table
        table.setSortingEnabled(False)
        table.blockSignals(True)
        table.setRowCount(len(self._sources))
        for row, src in enumerate(self._sources.values()):
            grade = src.reliability
            cells = [
                (src.name, src.name.lower()),
                (", ".join(src.aliases), ", ".join(src.aliases).lower()),
                (f"{grade} — {RELIABILITY[grade]}" if grade else UNGRADED, grade or "Z"),
                (str(self._claims.get(src.id, 0)), self._claims.get(src.id, 0)),
                (_discredited_text(self._discredited.get(src.id, 0)),
                 self._discredited.get(src.id, 0)),
                ((src.note or "").replace("\n", " "), (src.note or "").lower()),
            ]
            for col, (text, key) in enumerate(cells):
                item = _SortItem(text)
                item.setData(_ID_ROLE, src.id)
                item.setData(_SORT_ROLE, key)
                if col in (3, DISCREDITED):
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                if col in (1, 5) and text:
                    item.setToolTip(text)
                if col == DISCREDITED and text:
                    item.setToolTip(f"made or backed {key} claim(s) later graded doubtful or "
                                    "improbable, or contradicted and not graded yet")
                if grade:
                    item.setBackground(QBrush(QColor(GRADE_TINTS[grade])))
                item.setForeground(QBrush(QColor("#1a1a1a")))
                table.setItem(row, col, item)
        table.setSortingEnabled(True)
        table.blockSignals(False)
        self._apply_filter()
        self.select_ids(selected)
        self._on_selection_changed()

    def row_values(self) -> list[tuple[str, str, str, int]]:
        """What the table shows, in its order: name, aliases, reliability, claims."""
        out = []
        for r in range(self.table.rowCount()):
            if not self.table.isRowHidden(r):
                out.append((self.table.item(r, 0).text(), self.table.item(r, 1).text(),
                            self.table.item(r, 2).text(), int(self.table.item(r, 3).text())))
        return out

    def selected_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self.table.item(r, 0).data(_ID_ROLE) for r in rows]

    def select_ids(self, ids: list[int]) -> None:
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.MultiSelection)
        for r in range(self.table.rowCount()):
            if self.table.item(r, 0).data(_ID_ROLE) in ids:
                self.table.selectRow(r)
        self.table.setSelectionMode(mode)

    @Slot()
    def _apply_filter(self, *_: object) -> None:
        needle = self.filter_edit.text().strip().lower()
        for r in range(self.table.rowCount()):
            hay = self.table.item(r, 0).text().lower() + " " + self.table.item(r, 1).text().lower()
            self.table.setRowHidden(r, bool(needle) and needle not in hay)

    @Slot()
    def _on_selection_changed(self) -> None:
        ids = self.selected_ids()
        one = self._sources.get(ids[0]) if len(ids) == 1 else None
        for w in (self.name_edit, self.rename_button, self.reliability_combo, self.alias_edit,
                  self.alias_button, self.note_edit, self.note_button):
            w.setEnabled(one is not None)
        self.reliability_combo.setEnabled(bool(ids))
        self.merge_button.setEnabled(len(ids) == 2)
        if one is not None:
            self.details.setTitle(f"Selected source: {one.name}")
            self.name_edit.setText(one.name)
            self.name_edit.setCursorPosition(0)
            self.aliases_label.setText(", ".join(one.aliases) or "none yet")
            self.note_edit.setPlainText(one.note or "")
            self.reliability_combo.setCurrentIndex(max(self.reliability_combo.findData(one.reliability), 0))
        else:
            self.details.setTitle(f"{len(ids)} sources selected" if ids else "Selected source")
            self.name_edit.clear()
            self.aliases_label.setText("")
            self.note_edit.clear()

    # -- writing (each through Review: logged and undoable) -------------------------------------
    def _write(self, what: str, action: Callable[[], Changes]) -> bool:
        if ops.is_busy():
            self._fail(what, ProjectError("background work is using the project; "
                                          "wait until it has finished"))
            return False
        try:
            changes = action()
        except (ProjectError, ValueError) as exc:
            self._fail(what, exc)
            return False
        self.error_message = None
        self.reload()
        self.changed.emit(changes)
        return True

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
        ok = self._write("Grade source", act)
        if ok:
            self.status_label.setText(f"Graded {len(source_ids)} source(s) {reliability or UNGRADED}")
        return ok

    def add_alias(self, source_id: int, alias: str) -> bool:
        ok = self._write("Add alias", lambda: self.review.add_alias(source_id, alias.strip()))
        if ok:
            self.alias_edit.clear()
            self.status_label.setText(f"Added alias {alias.strip()!r}")
        return ok

    def merge(self, keep_id: int, other_id: int) -> bool:
        other = self._sources.get(other_id)
        ok = self._write("Merge sources", lambda: self.review.merge_sources(keep_id, other_id))
        if ok:
            self.select_ids([keep_id])
            self.status_label.setText(f"Merged {other.name if other else other_id!r} into "
                                      f"{self._sources[keep_id].name}")
        return ok

    def rename(self, source_id: int, name: str) -> bool:
        if not name.strip():
            self._fail("Rename source", ValueError("a source needs a name"))
            return False
        return self._write("Rename source", lambda: self.review.rename_source(source_id, name.strip()))

    def set_note(self, source_id: int, note: str) -> bool:
        ok = self._write("Source note", lambda: self.review.set_source_note(source_id, note.strip()))
        if ok:
            self.status_label.setText("Note saved")
        return ok

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
        # Grading by key, like the review view: A–F, and 0 for ungraded.
        if obj is self.table and event.type() == QEvent.KeyPress and not event.modifiers() & ~Qt.KeypadModifier:
            text = event.text().upper()
            if text in RELIABILITY or text == "0":
                ids = self.selected_ids()
                if ids:
                    self.grade(ids, None if text == "0" else text)
                    return True
        return super().eventFilter(obj, event)
