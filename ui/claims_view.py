"""Every claim of the project, beside the article: filter by source, grade, stance, link and date,
search the contents, sort by any column, and Enter opens a claim in the article view.

Windowed like the document list: the matching claims' ids are read once per filter or sort
(storage/claims_query.py), their rows a page at a time as they scroll into view."""
from __future__ import annotations

import re
from collections import OrderedDict

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QGridLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from annotation.model import CREDIBILITY, LINK_KINDS, RELIABILITY, STANCES
from storage.changes import Changes
from storage.claims_query import (
    ANY_LINK,
    NO_LINK,
    NO_STANCE,
    NOT_REJECTED,
    UNGRADED,
    ClaimFilter,
    ClaimRow,
    claim_ids,
    claim_rows,
)
from storage.project import Project
from ui.tables import row_table

PAGE = 200
MAX_PAGES = 40
# (header, sort key of storage/claims_query.SORTS or None when the column does not sort)
COLUMNS = (("Article", "article"), ("Date", "date"), ("Source", "source"), ("Rel.", "reliability"),
           ("Cred.", "credibility"), ("Stance", "stance"), ("Links", "links"), ("Status", "status"),
           ("Content", None))
_LINK_SHORT = {"supports": "sup", "contradicts": "con", "same claim": "same", "cites": "cites"}
_DAY = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_STATUS_COLOUR = {"accepted": QColor("#2e7d32"), "suggested": QColor("#b26a00"),
                  "rejected": QColor("#8c8c8c")}


def links_text(row: ClaimRow) -> str:
    return " · ".join(f"{_LINK_SHORT.get(k, k)} {n}" for k, n in sorted(row.links.items()))


class ClaimsModel(QAbstractTableModel):
    """All matching ids are known; rows are read a page at a time on demand."""

    def __init__(self, project: Project, parent=None):
        super().__init__(parent)
        self.project = project
        self.filter = ClaimFilter()
        self.sort_key = "id"
        self.descending = False
        self.ids: list[int] = []
        self._pages: OrderedDict[int, list[ClaimRow | None]] = OrderedDict()
        self.error: str | None = None

    def refilter(self) -> None:
        self.beginResetModel()
        self._pages.clear()
        self.error = None
        try:
            self.ids = claim_ids(self.project, self.filter, sort=self.sort_key,
                                 descending=self.descending)
        except ValueError as exc:  # a search the index refuses
            self.ids = []
            self.error = str(exc)
        self.endResetModel()

    def refresh_rows(self) -> None:
        """Re-read the rows shown (grades, links, stance changed); the list stays as it is."""
        self._pages.clear()
        if self.ids:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.ids) - 1, len(COLUMNS) - 1))

    def row_data(self, row: int) -> ClaimRow | None:
        if not (0 <= row < len(self.ids)):
            return None
        page_no = row // PAGE
        page = self._pages.get(page_no)
        if page is None:
            page = claim_rows(self.project, self.ids[page_no * PAGE:(page_no + 1) * PAGE])
            self._pages[page_no] = page
            while len(self._pages) > MAX_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(page_no)
        return page[row - page_no * PAGE]

    def row_of(self, claim_id: int) -> int | None:
        try:
            return self.ids.index(claim_id)
        except ValueError:
            return None

    # -- Qt model ---------------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.ids)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.DisplayRole):
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return COLUMNS[section][0]
        if orientation == Qt.Horizontal and role == Qt.ToolTipRole:
            return {3: "the source's reliability (A–F)", 4: "the claim's credibility (1–6)",
                    6: "links both ways: sup(ports), con(tradicts), same (claim), cites"}.get(section)
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.DisplayRole):
        if not index.isValid() or role not in (Qt.DisplayRole, Qt.ToolTipRole, Qt.ForegroundRole):
            return None
        r = self.row_data(index.row())
        col = index.column()
        if r is None:
            return "(removed)" if role == Qt.DisplayRole and col == 0 else None
        if role == Qt.ForegroundRole:
            return _STATUS_COLOUR.get(r.status) if col == 7 else None
        if role == Qt.ToolTipRole:
            if col == 8:
                return r.content
            if col == 0:
                return f"{r.document}" + (f"\npublished by {r.outlet}" if r.outlet else "")
            return None
        values = (" ".join(r.document.split()), r.day or r.date or "", r.source_name or "",
                  r.reliability or "", str(r.credibility) if r.credibility else "", r.stance or "",
                  links_text(r), r.status, " ".join(r.content.split()))
        return values[col]

    def sort(self, column: int, order: Qt.SortOrder = Qt.AscendingOrder) -> None:
        key = COLUMNS[column][1] if 0 <= column < len(COLUMNS) else "id"
        if key is None:
            return
        self.sort_key, self.descending = key, order == Qt.DescendingOrder
        self.refilter()


class ClaimsView(QDialog):
    """Filters over a windowed table; Enter (or a double click) opens the claim's article."""

    claim_chosen = Signal(int, int)  # (article, claim)

    def __init__(self, parent: QWidget | None, project: Project):
        super().__init__(parent)
        self.setWindowTitle("Claims")
        self.setModal(False)
        self.resize(1180, 640)
        self.project = project
        self.model = ClaimsModel(project, self)

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search the claims' contents (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.source = QLineEdit()
        self.source.setPlaceholderText("Source name or alias contains…")
        self.source.setClearButtonEnabled(True)
        self.credibility = self._combo("Any credibility", [
            (f"{k} – {v}", k) for k, v in CREDIBILITY.items()] + [("ungraded", UNGRADED)])
        self.reliability = self._combo("Any reliability", [
            (f"{k} – {v}", k) for k, v in RELIABILITY.items()] + [("ungraded", UNGRADED)])
        self.stance = self._combo("Any stance", [(k, k) for k in STANCES] + [("not set", NO_STANCE)])
        self.link = self._combo("Any or no link", [("linked", ANY_LINK)] + [
            (k, k) for k in LINK_KINDS] + [("not linked", NO_LINK)])
        self.status = self._combo("Every status", [
            ("not rejected", NOT_REJECTED), ("accepted", "accepted"), ("suggested", "suggested"),
            ("rejected", "rejected")])
        self.status.setCurrentIndex(1)
        self.date_from = QLineEdit()
        self.date_from.setPlaceholderText("from YYYY[-MM[-DD]]")
        self.date_to = QLineEdit()
        self.date_to.setPlaceholderText("to YYYY[-MM[-DD]]")
        self.count = QLabel()
        self.count.setTextFormat(Qt.PlainText)

        self.table = row_table(self.model)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        hh = self.table.horizontalHeader()
        for col, width in enumerate((190, 84, 150, 40, 44, 64, 90, 72)):
            hh.setSectionResizeMode(col, QHeaderView.Interactive)
            hh.resizeSection(col, width)
        hh.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.Stretch)
        hh.setSortIndicator(-1, Qt.AscendingOrder)
        self.table.setSortingEnabled(True)
        self.table.doubleClicked.connect(lambda index: self.open_row(index.row()))

        grid = QGridLayout()
        grid.addWidget(self.search, 0, 0, 1, 3)
        grid.addWidget(self.source, 0, 3, 1, 2)
        grid.addWidget(self.date_from, 0, 5)
        grid.addWidget(self.date_to, 0, 6)
        for i, w in enumerate((self.credibility, self.reliability, self.stance, self.link,
                               self.status)):
            grid.addWidget(w, 1, i)
        grid.addWidget(self.count, 1, 5, 1, 2)
        hint = QLabel("↑/↓ move · Enter opens the claim in its article (B in the main window "
                      "comes back) · click a header to sort · Esc closes")
        hint.setStyleSheet("color: #555")
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.table, 1)
        layout.addWidget(hint)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self.apply_filters)
        for edit in (self.search, self.source, self.date_from, self.date_to):
            edit.textChanged.connect(lambda _t: self._debounce.start())
            edit.returnPressed.connect(self.apply_filters)
        for combo in (self.credibility, self.reliability, self.stance, self.link, self.status):
            combo.currentIndexChanged.connect(lambda _i: self.apply_filters())
        QShortcut(QKeySequence("Ctrl+F"), self, activated=self._focus_search)
        for key in ("Return", "Enter"):
            QShortcut(QKeySequence(key), self.table, activated=self.open_current,
                      context=Qt.WidgetShortcut)
        self.apply_filters()
        self.table.setFocus()

    @staticmethod
    def _combo(anything: str, items: list[tuple[str, object]]) -> QComboBox:
        combo = QComboBox()
        combo.addItem(anything, None)
        for text, value in items:
            combo.addItem(text, value)
        return combo

    # -- filtering --------------------------------------------------------------------------------
    def current_filter(self) -> ClaimFilter:
        return ClaimFilter(
            search=self.search.text().strip() or None, source=self.source.text().strip() or None,
            credibility=self.credibility.currentData(), reliability=self.reliability.currentData(),
            stance=self.stance.currentData(), link=self.link.currentData(),
            date_from=self._day(self.date_from, end=False), date_to=self._day(self.date_to, end=True),
            status=self.status.currentData())

    def _day(self, edit: QLineEdit, end: bool) -> str | None:
        """A day, month or year typed in ISO order; a bad one is marked and left out."""
        text = edit.text().strip()
        ok = not text or bool(_DAY.match(text))
        edit.setStyleSheet("" if ok else "border: 1px solid #c00")
        if not text or not ok:
            return None
        if end and len(text) == 4:
            return text + "-12-31"
        if end and len(text) == 7:
            return text + "-31"
        return text

    def apply_filters(self) -> None:
        self._debounce.stop()
        keep = self.current_claim()
        self.model.filter = self.current_filter()
        self.model.refilter()
        n = len(self.model.ids)
        self.count.setText(self.model.error or f"{n:,} claim{'s' if n != 1 else ''}")
        row = self.model.row_of(keep[1]) if keep is not None and n < 50_000 else None
        self.select_row(row if row is not None else 0)

    def apply_changes(self, changes: Changes) -> None:
        """After a decision in the main window: the rows shown are read again."""
        if changes.claims or changes.claim_links or changes.registry:
            self.model.refresh_rows()

    # -- moving and opening -----------------------------------------------------------------------
    def select_row(self, row: int) -> None:
        if not (0 <= row < len(self.model.ids)):
            return
        index = self.model.index(row, 0)
        self.table.setCurrentIndex(index)
        self.table.scrollTo(index)

    def current_claim(self) -> tuple[int, int] | None:
        index = self.table.currentIndex()
        r = self.model.row_data(index.row()) if index.isValid() else None
        return (r.document_id, r.id) if r is not None else None

    def open_current(self) -> None:
        index = self.table.currentIndex()
        if index.isValid():
            self.open_row(index.row())

    def open_row(self, row: int) -> None:
        r = self.model.row_data(row)
        if r is not None:
            self.claim_chosen.emit(r.document_id, r.id)

    def _focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()
