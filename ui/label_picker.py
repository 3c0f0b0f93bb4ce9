"""Pick any label by typing a few letters of it (or of its guideline), then Enter."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.article_view import safe_colour

_NAME = Qt.UserRole


class LabelPicker(QDialog):
    """Type to filter, Up/Down to move, Enter to choose, Esc to leave; `chosen(name)` says which."""

    chosen = Signal(str)

    def __init__(self, labels: list[dict], hint: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Label as…")
        self.setMinimumSize(460, 420)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Type part of a label or its guideline")
        self.filter.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.list.setUniformItemSizes(True)
        self.list.setWordWrap(False)
        self.hint = QLabel(hint)
        self.hint.setTextFormat(Qt.PlainText)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #555")
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.hint)
        for lab in labels:
            key = f"   [{lab['key']}]" if lab.get("key") else ""
            guideline = lab.get("description") or ""
            item = QListWidgetItem(f"{lab['name']}{key}" + (f"   — {guideline}" if guideline else ""))
            item.setData(_NAME, lab["name"])
            item.setToolTip(guideline or lab["name"])
            item.setIcon(_swatch(safe_colour(lab.get("colour"))))
            self.list.addItem(item)
        self.filter.textChanged.connect(self._on_filter)
        self.filter.returnPressed.connect(self._choose)
        self.list.itemActivated.connect(lambda _item: self._choose())
        self.filter.installEventFilter(self)
        self._on_filter("")

    def visible_names(self) -> list[str]:
        return [self.list.item(i).data(_NAME) for i in range(self.list.count())
                if not self.list.item(i).isHidden()]

    def _on_filter(self, text: str) -> None:
        needle = text.strip().lower()
        first = None
        for i in range(self.list.count()):
            item = self.list.item(i)
            name = item.data(_NAME).lower()
            # A label whose name starts with what was typed comes before one that only mentions it.
            hit = not needle or needle in item.text().lower()
            item.setHidden(not hit)
            if hit and (first is None or (name.startswith(needle) and
                                          not first.data(_NAME).lower().startswith(needle))):
                first = item
        self.list.setCurrentItem(first)

    def _choose(self) -> None:
        item = self.list.currentItem()
        if item is None or item.isHidden():
            return
        name = item.data(_NAME)
        self.accept()
        self.chosen.emit(name)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        # Up and Down move through the list while typing goes on in the filter.
        if obj is self.filter and event.type() == QEvent.KeyPress:
            key = event.key()  # type: ignore[attr-defined]
            if key in (Qt.Key_Up, Qt.Key_Down):
                rows = [i for i in range(self.list.count()) if not self.list.item(i).isHidden()]
                if rows:
                    cur = self.list.currentRow()
                    at = rows.index(cur) if cur in rows else -1
                    at = max(0, min(len(rows) - 1, at + (1 if key == Qt.Key_Down else -1)))
                    self.list.setCurrentRow(rows[at])
                return True
        return super().eventFilter(obj, event)


def _swatch(colour: QColor) -> QIcon:
    pixmap = QPixmap(14, 14)
    pixmap.fill(colour)
    return QIcon(pixmap)
