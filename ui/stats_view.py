"""The statistics view: documents, spans, claims and sources counted from the project, as charts."""
from __future__ import annotations

import math

from PySide6.QtCharts import (
    QAbstractBarSeries,
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QHorizontalStackedBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from annotation.model import CREDIBILITY, DOC_STATUSES, RELIABILITY, SPAN_STATUSES
from storage.project import Counts, Project
from ui import ops

STATUS_COLOURS = {"suggested": "#9fb7d9", "accepted": "#4f9a55", "rejected": "#d2675f"}
BAR_COLOUR = "#4a7fb5"
CREDIBILITY_CATEGORIES = [str(k) for k in CREDIBILITY] + ["ungraded"]
RELIABILITY_CATEGORIES = list(RELIABILITY) + ["ungraded"]
_AXIS_TEXT = {"ungraded": "un-<br>graded"}
_AXIS_KEY = {v: k for k, v in _AXIS_TEXT.items()}
# Above this many labels the span chart shows the largest and sums the rest as "other".
MAX_SPAN_LABELS = 16


class StatsView(QWidget):
    """Counts from `project.counts()`; `refresh()` recounts in the background."""

    refreshed = Signal()

    def __init__(self, project: Project, parent: QWidget | None = None):
        super().__init__(parent)
        self.project = project
        self.counts: Counts | None = None
        self.charts: dict[str, QChart] = {}
        self.last_op: ops.Op | None = None
        self.setWindowTitle(f"Statistics — {project.path.name}")
        self.resize(1040, 760)

        self.summary_label = QLabel("Counting…")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextFormat(Qt.RichText)
        self.summary_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        refresh = QPushButton("&Refresh")
        refresh.clicked.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(self.summary_label, 1)
        top.addWidget(refresh, 0, Qt.AlignTop)

        grid = QGridLayout()
        grid.setSpacing(6)
        self.views: dict[str, QChartView] = {}
        for key, title in [
                ("documents", "Documents by status"),
                ("spans", "Spans by label and status"),
                ("claims", "Claims by credibility (1 confirmed … 6 cannot be judged)"),
                ("sources", "Sources by reliability (A completely … F cannot be judged)")]:
            chart = QChart()
            chart.setTitle(title)
            title_font = QFont(chart.titleFont())
            title_font.setPointSizeF(max(title_font.pointSizeF(), 10.0))
            title_font.setBold(True)
            chart.setTitleFont(title_font)
            chart.setAnimationOptions(QChart.NoAnimation)
            chart.setMargins(QMargins(4, 4, 4, 4))
            chart.setBackgroundRoundness(0)
            view = QChartView(chart)
            view.setRenderHint(QPainter.Antialiasing)
            view.setMinimumSize(380, 200)
            self.charts[key], self.views[key] = chart, view
        # Spans get a full-height column: a label scheme has a dozen or more labels to list.
        grid.addWidget(self.views["documents"], 0, 0)
        grid.addWidget(self.views["claims"], 1, 0)
        grid.addWidget(self.views["sources"], 2, 0)
        grid.addWidget(self.views["spans"], 0, 1, 3, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(grid, 1)
        self.refresh()

    # -- counting -------------------------------------------------------------------------------
    def refresh(self) -> ops.Op:
        """Recount from the stored data (off the UI thread: large projects take a moment)."""
        project = self.project
        def count(progress, should_cancel):
            from storage.claims_eval import agreement
            return project.counts(), agreement(project)
        self.last_op = ops.run_in_background(
            self, "Counting", count, lambda result: self.show_counts(*result),
            cancellable=False, uses_project=False)
        return self.last_op

    def show_counts(self, counts: Counts, agreement: dict | None = None) -> None:
        """Draw the charts and the summary for these counts."""
        self.counts = counts
        self._bars("documents", list(DOC_STATUSES) + sorted(set(counts.documents_by_status) - set(DOC_STATUSES)),
                   counts.documents_by_status, "documents")
        self._span_bars(counts.spans_by_label_status)
        self._bars("claims", CREDIBILITY_CATEGORIES, counts.claims_by_credibility, "claims")
        self._bars("sources", RELIABILITY_CATEGORIES, counts.sources_by_reliability, "sources")
        self.summary_label.setText(summary_html(counts, agreement))
        self.refreshed.emit()

    # -- the charts -----------------------------------------------------------------------------
    def _reset(self, key: str) -> QChart:
        chart = self.charts[key]
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)
        return chart

    def _bars(self, key: str, categories: list[str], values: dict[str, int], name: str) -> None:
        chart = self._reset(key)
        bar_set = QBarSet(name)
        bar_set.append([float(values.get(c, 0)) for c in categories])
        bar_set.setColor(QColor(BAR_COLOUR))
        bar_set.setBorderColor(QColor(BAR_COLOUR).darker(120))
        bar_set.setLabelColor(QColor("#202020"))
        series = QBarSeries()
        series.append(bar_set)
        series.setLabelsVisible(True)
        series.setLabelsPosition(QAbstractBarSeries.LabelsOutsideEnd)
        series.setLabelsFormat("@value")
        chart.addSeries(series)
        x = QBarCategoryAxis()
        # Seven grades side by side leave too little room for "ungraded" on one line.
        x.append([_AXIS_TEXT.get(c, c) for c in categories])
        chart.addAxis(x, Qt.AlignBottom)
        series.attachAxis(x)
        y = _count_axis(max(values.values(), default=0))
        chart.addAxis(y, Qt.AlignLeft)
        series.attachAxis(y)
        chart.legend().setVisible(False)

    def _span_bars(self, spans: dict[str, dict[str, int]]) -> None:
        chart = self._reset("spans")
        totals = {label: sum(by.values()) for label, by in spans.items()}
        labels = sorted(totals, key=lambda lab: (-totals[lab], lab))
        if len(labels) > MAX_SPAN_LABELS:
            keep, rest = labels[:MAX_SPAN_LABELS - 1], labels[MAX_SPAN_LABELS - 1:]
            other: dict[str, int] = {}
            for lab in rest:
                for status, n in spans[lab].items():
                    other[status] = other.get(status, 0) + n
            spans = {**{lab: spans[lab] for lab in keep}, f"other ({len(rest)})": other}
            labels = keep + [f"other ({len(rest)})"]
        # Largest at the top: a horizontal chart draws its first category at the bottom.
        categories = labels[::-1]
        series = QHorizontalStackedBarSeries()
        statuses = list(SPAN_STATUSES) + sorted({s for by in spans.values() for s in by} - set(SPAN_STATUSES))
        for status in statuses:
            bar_set = QBarSet(status)
            bar_set.append([float(spans.get(lab, {}).get(status, 0)) for lab in categories])
            colour = QColor(STATUS_COLOURS.get(status, "#bbbbbb"))
            bar_set.setColor(colour)
            bar_set.setBorderColor(colour.darker(115))
            series.append(bar_set)
        chart.addSeries(series)
        y = QBarCategoryAxis()
        y.append(categories or [""])
        chart.addAxis(y, Qt.AlignLeft)
        series.attachAxis(y)
        x = _count_axis(max((sum(spans[lab].values()) for lab in labels), default=0))
        chart.addAxis(x, Qt.AlignBottom)
        series.attachAxis(x)
        chart.legend().setVisible(True)
        chart.legend().setAlignment(Qt.AlignBottom)

    def series_values(self, key: str) -> dict[str, dict[str, float]]:
        """What a chart shows, per bar set and category (tests read the charts through this)."""
        chart = self.charts[key]
        series = chart.series()[0]
        axis = next(a for a in series.attachedAxes() if isinstance(a, QBarCategoryAxis))
        categories = [_AXIS_KEY.get(c, c) for c in axis.categories()]
        return {s.label(): {c: s.at(i) for i, c in enumerate(categories)} for s in series.barSets()}


def _count_axis(top: int) -> QValueAxis:
    """A 0-based axis of whole numbers with room above the tallest bar for its label."""
    axis = QValueAxis()
    axis.setLabelFormat("%d")
    if top <= 5:
        axis.setRange(0, max(top + 1, 1))
        axis.setTickCount(max(top + 1, 1) + 1)
        return axis
    step = _nice_step(top * 1.15 / 5)
    upper = step * math.ceil(top * 1.15 / step)
    axis.setRange(0, upper)
    axis.setTickCount(int(round(upper / step)) + 1)
    return axis


def _nice_step(raw: float) -> float:
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * power:
            return m * power
    return 10 * power


def summary_html(c: Counts, agreement: dict | None = None) -> str:
    """The counts as text, next to the charts (and for screen readers)."""
    def parts(d: dict[str, int], order: list[str]) -> str:
        keys = [k for k in order if d.get(k)] + sorted(k for k in d if k not in order and d[k])
        return ", ".join(f"{k} {d[k]:,}" for k in keys) or "none"

    by_status: dict[str, int] = {}
    for by in c.spans_by_label_status.values():
        for k, v in by.items():
            by_status[k] = by_status.get(k, 0) + v
    n_spans = sum(by_status.values())
    lines = [
        f"<b>{c.documents:,}</b> documents ({parts(c.documents_by_status, list(DOC_STATUSES))})",
        f"<b>{n_spans:,}</b> spans ({parts(by_status, list(SPAN_STATUSES))})",
        f"<b>{c.claims:,}</b> claims (credibility: {parts(c.claims_by_credibility, CREDIBILITY_CATEGORIES)})",
        f"<b>{c.sources:,}</b> sources (reliability: {parts(c.sources_by_reliability, RELIABILITY_CATEGORIES)})",
    ]
    if c.doc_labels:
        lines.append("document labels: " + parts(c.doc_labels, []))
    per_label = (agreement or {}).get("per_label") or {}
    if per_label:
        lines.append(f"agreement between {agreement['annotators']} annotators on "
                     f"{agreement['documents']} documents (pairwise F1): "
                     + ", ".join(f"{lab} {v['f1']:.2f}" for lab, v in sorted(per_label.items())))
    return "<br>".join(lines)
