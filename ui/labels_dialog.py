"""The project's labels with their guidelines: what each label means, written by the team."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from storage.project import Project, ProjectError
from storage.review import Review
from ui import ops
from ui.article_view import safe_colour

COLUMNS = ("Label", "Kind", "Key", "Guideline")


class LabelGuidelinesDialog(QDialog):
    """Double-click (or F2) a guideline to edit it; each edit is one undoable decision."""

    changed = Signal(object)  # Changes

    def __init__(self, parent: QWidget | None, project: Project, review: Review):
        super().__init__(parent)
        self.project = project
        self.review = review
        self.error_message: str | None = None
        self.setWindowTitle("Label guidelines")
        self.resize(760, 560)
        intro = QLabel("What each label means, as the tooltips and the label picker (E) show it. "
                       "A blank guideline goes back to the label's default meaning.")
        intro.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.DoubleClicked | QAbstractItemView.EditKeyPressed
                                   | QAbstractItemView.AnyKeyPressed)
        hh = self.table.horizontalHeader()
        for col in range(3):
            hh.setSectionResizeMode(col, QHeaderView.ResizeToContents)
        hh.setSectionResizeMode(3, QHeaderView.Stretch)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self._filling = False
        self.table.itemChanged.connect(self._on_item_changed)
        self.reload()

    def reload(self) -> None:
        self._filling = True
        try:
            labels = self.project.labels()
            self.table.setRowCount(len(labels))
            for row, lab in enumerate(labels):
                cells = [lab["name"], lab["kind"], lab.get("key") or "", lab.get("description") or ""]
                for col, text in enumerate(cells):
                    item = QTableWidgetItem(text)
                    if col != 3:
                        item.setFlags(item.flags() & ~Qt.ItemIsEditable)
                    if col == 0:
                        item.setData(Qt.UserRole, lab["name"])
                        colour = safe_colour(lab.get("colour"))
                        item.setBackground(QBrush(colour))
                        item.setForeground(QBrush(QColor("#1a1a1a")))
                    self.table.setItem(row, col, item)
        finally:
            self._filling = False

    def guideline(self, label: str) -> str:
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).data(Qt.UserRole) == label:
                return self.table.item(row, 3).text()
        raise KeyError(label)

    def set_guideline(self, label: str, text: str) -> bool:
        """Store a label's guideline (what editing its cell does)."""
        if ops.is_busy():
            self.error_message = ops.report_error(self, "Label guideline", ProjectError(
                "background work is using the project; wait until it has finished"))
            return False
        try:
            changes = self.review.set_label_description(label, text)
        except (ProjectError, ValueError) as exc:
            self.error_message = ops.report_error(self, "Label guideline", exc)
            return False
        self.error_message = None
        self.reload()
        self.changed.emit(changes)
        return True

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling or item.column() != 3:
            return
        label = self.table.item(item.row(), 0).data(Qt.UserRole)
        self.set_guideline(label, item.text())
