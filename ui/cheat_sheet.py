"""The keyboard cheat sheet (Help menu, `?`): rendered from the same table the shortcuts come from."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
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

from ui.actions import MENUS, ActionSpec


def shortcut_rows(specs: list[ActionSpec]) -> list[tuple[str, str, str, str]]:
    """(section, keys as Qt shows them, action, what it does) for every action that has keys."""
    rows = []
    for menu in MENUS:
        for spec in specs:
            if spec.menu != menu or not spec.keys:
                continue
            keys = "  or  ".join(QKeySequence(k).toString(QKeySequence.NativeText) for k in spec.keys)
            rows.append((menu, keys, spec.text.replace("&", ""), spec.help))
    return rows


class CheatSheet(QDialog):
    """Every shortcut of the window, grouped by menu."""

    def __init__(self, specs: list[ActionSpec], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(820, 640)
        rows = shortcut_rows(specs)
        intro = QLabel("Keys with a comma are two presses: “C, 3” is C then 3 (grade the current "
                       "claim 3); “S, B” is S then B (grade its source B). With text selected, a "
                       "label key creates a span; without, it relabels the current span. Accept and "
                       "reject move on to the next suggestion by themselves.\n"
                       "A span without the mouse: → (or ←) selects the next (previous) token, "
                       "Shift+→ / Shift+← move the selection's end and Ctrl+Shift+← / → its start, "
                       "then a label key (or E to pick any label by typing) makes it a span, M a claim.")
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.PlainText)
        self.table = QTableWidget(len(rows), 4)
        self.table.setHorizontalHeaderLabels(["Menu", "Keys", "Action", "What it does"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setAlternatingRowColors(True)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(value))
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeToContents)
        hh.setSectionResizeMode(3, QHeaderView.Stretch)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
