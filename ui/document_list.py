"""The document list: a windowed table model over the project (100,000 rows scroll smoothly)."""
from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from annotation.model import DOC_STATUSES
from storage.project import DocumentRow, Project
from ui.tables import row_table

PAGE = 200          # rows read per query
MAX_PAGES = 40      # pages kept in memory: 8,000 rows around wherever the user scrolled
COLUMNS = ("Title", "Source", "Date", "Status", "Left")
_STATUS_COLOUR = {"done": QColor("#2e7d32"), "in review": QColor("#b26a00"), "new": QColor("#555555")}


class DocumentListModel(QAbstractTableModel):
    """All matching ids are known (one cheap query); row data is read a page at a time on demand."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.project: Project | None = None
        self.ids: list[int] = []
        self._row_of: dict[int, int] | None = None
        self._pages: OrderedDict[int, list[DocumentRow]] = OrderedDict()
        self.filters: dict[str, str | None] = {"search": None, "status": None, "label": None}
        self.error: str | None = None

    # -- data source ----------------------------------------------------------------------------
    def set_project(self, project: Project | None) -> None:
        self.project = project
        self.refilter()

    def set_filters(self, *, search: str | None = None, status: str | None = None,
                    label: str | None = None) -> None:
        self.filters = {"search": search or None, "status": status or None, "label": label or None}
        self.refilter()

    def refilter(self) -> None:
        self.beginResetModel()
        self._pages.clear()
        self._row_of = None
        self.error = None
        if self.project is None:
            self.ids = []
        else:
            try:
                self.ids = self.project.document_ids(**self.filters)
            except ValueError as exc:  # a search SQLite refuses
                self.ids = []
                self.error = str(exc)
        self.endResetModel()

    def refresh_documents(self, doc_ids: set[int] | None) -> None:
        """Re-read changed rows (status, counts) without re-filtering: the row stays in place."""
        if doc_ids is None:
            self._pages.clear()
            if self.ids:
                self.dataChanged.emit(self.index(0, 0), self.index(len(self.ids) - 1, len(COLUMNS) - 1))
            return
        for doc_id in doc_ids:
            row = self.row_of(doc_id)
            if row is None:
                continue
            self._pages.pop(row // PAGE, None)
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def row_of(self, doc_id: int) -> int | None:
        if self._row_of is None:
            self._row_of = {d: i for i, d in enumerate(self.ids)}
        return self._row_of.get(doc_id)

    def doc_id_at(self, row: int) -> int | None:
        return self.ids[row] if 0 <= row < len(self.ids) else None

    def row_data(self, row: int) -> DocumentRow | None:
        if not (0 <= row < len(self.ids)) or self.project is None:
            return None
        page_no = row // PAGE
        page = self._pages.get(page_no)
        if page is None:
            page = self._read_page(page_no)
            self._pages[page_no] = page
            while len(self._pages) > MAX_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(page_no)
        return page[row - page_no * PAGE]

    def _read_page(self, page_no: int) -> list[DocumentRow]:
        ids = self.ids[page_no * PAGE:(page_no + 1) * PAGE]
        rows = self.project.document_rows_by_id(ids)
        # A row deleted meanwhile still gets a placeholder, so row numbers stay valid.
        return [r or DocumentRow(i, None, "(removed)", None, None, "", 0, 0, 0)
                for i, r in zip(ids, rows)]

    # -- Qt model -------------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.ids)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.DisplayRole):
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return COLUMNS[section]
        if orientation == Qt.Horizontal and role == Qt.ToolTipRole and section == 4:
            return "suggestions left to decide"
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.DisplayRole):
        if not index.isValid():
            return None
        col = index.column()
        if role not in (Qt.DisplayRole, Qt.ToolTipRole, Qt.ForegroundRole, Qt.TextAlignmentRole):
            return None
        if role == Qt.TextAlignmentRole:
            return int(Qt.AlignRight | Qt.AlignVCenter) if col == 4 else None
        r = self.row_data(index.row())
        if r is None:
            return None
        if role == Qt.ForegroundRole:
            return _STATUS_COLOUR.get(r.status) if col == 3 else None
        if col == 0:
            title = r.title or r.name or f"(untitled #{r.id})"
            if role == Qt.ToolTipRole:
                return title if not r.name or r.name == title else f"{title}\n{r.name}"
            return " ".join(title.split())
        if role == Qt.ToolTipRole:
            return None
        if col == 1:
            return r.source or ""
        if col == 2:
            return (r.date or "")[:10]
        if col == 3:
            return r.status
        return str(r.n_suggested) if r.n_suggested else ("–" if r.n_spans == 0 else "0")


class DocumentList(QWidget):
    """Search box, status and label filters over the table; emits the chosen document."""

    document_chosen = Signal(object)  # document id or None

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = DocumentListModel(self)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search titles and text (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.status = QComboBox()
        self.status.addItem("Any status", None)
        for s in DOC_STATUSES:
            self.status.addItem(s.capitalize(), s)
        self.label = QComboBox()
        self.label.addItem("Any label", None)
        self.count = QLabel()
        self.count.setTextFormat(Qt.PlainText)
        self.table = row_table(self.model)
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollPerPixel)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.Stretch)
        for col, width in ((1, 70), (2, 78), (3, 70), (4, 38)):
            hh.setSectionResizeMode(col, QHeaderView.Interactive)
            hh.resizeSection(col, width)
        hh.setHighlightSections(False)

        filters = QHBoxLayout()
        filters.addWidget(self.status, 1)
        filters.addWidget(self.label, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self.apply_filters)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self.search.returnPressed.connect(self.apply_filters)
        self.status.currentIndexChanged.connect(lambda _i: self.apply_filters())
        self.label.currentIndexChanged.connect(lambda _i: self.apply_filters())
        self.table.selectionModel().currentRowChanged.connect(self._on_current_row_changed)
        self._chosen: int | None = None

    # -- project -----------------------------------------------------------------------------------
    def set_project(self, project: Project | None) -> None:
        self.reload_labels(project)
        self.model.set_project(project)
        self._update_count()

    def reload_labels(self, project: Project | None) -> None:
        keep = self.label.currentData()
        self.label.blockSignals(True)
        self.label.clear()
        self.label.addItem("Any label", None)
        if project is not None:
            for lab in project.labels("document"):
                self.label.addItem(lab["name"], lab["name"])
        i = self.label.findData(keep)
        self.label.setCurrentIndex(max(i, 0))
        self.label.blockSignals(False)

    # -- filtering -----------------------------------------------------------------------------------
    def apply_filters(self) -> None:
        self._debounce.stop()
        keep = self._chosen
        self.model.set_filters(search=self.search.text().strip(), status=self.status.currentData(),
                               label=self.label.currentData())
        self._update_count()
        row = self.model.row_of(keep) if keep is not None else None
        if row is not None:
            self._select_row(row, emit=False)

    def _update_count(self) -> None:
        n = len(self.model.ids)
        text = f"{n:,} article{'s' if n != 1 else ''}"
        if any(self.model.filters.values()):
            text += " match"
        self.count.setText(self.model.error or text)

    # -- selection ---------------------------------------------------------------------------------
    def current_doc_id(self) -> int | None:
        return self._chosen

    def select_document(self, doc_id: int) -> bool:
        row = self.model.row_of(doc_id)
        if row is None:
            return False
        self._select_row(row)
        return True

    def select_first(self) -> bool:
        if not self.model.ids:
            return False
        self._select_row(0)
        return True

    def step(self, delta: int) -> bool:
        """Open the next (or previous) article of the list; False at either end."""
        row = self.model.row_of(self._chosen) if self._chosen is not None else None
        target = 0 if row is None else row + delta
        if not (0 <= target < len(self.model.ids)):
            return False
        self._select_row(target)
        return True

    def _select_row(self, row: int, emit: bool = True) -> None:
        index = self.model.index(row, 0)
        sm = self.table.selectionModel()
        if not emit:
            sm.blockSignals(True)
        sm.setCurrentIndex(index, QItemSelectionModel.ClearAndSelect | QItemSelectionModel.Rows)
        if not emit:
            sm.blockSignals(False)
            self.table.viewport().update()
        self.table.scrollTo(index)

    def _on_current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        doc_id = self.model.doc_id_at(current.row()) if current.isValid() else None
        if doc_id != self._chosen:
            self._chosen = doc_id
            self.document_chosen.emit(doc_id)

    def refresh_documents(self, doc_ids: set[int] | None) -> None:
        self.model.refresh_documents(doc_ids)
