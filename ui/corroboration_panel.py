"""The side panel's corroboration of the current claim: its stance, the independent sources that
support or contradict it and the grade they suggest, its links both ways, and the related claims
of other articles. Rows are picked with ] and [ (or a click) and linked with one key each."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from annotation.model import CREDIBILITY, STANCES
from storage.related import RelatedClaim
from storage.review_model import Corroboration

LINK_KEYS = ("] / [ pick a claim · Shift+S supports · Shift+C contradicts · = same claim · "
             "Shift+R cites · Shift+U unlinks · G goes to it, B back")
PICKED_STYLE = ("ClaimRow { background: #dbe7fb; border: 1px solid #1a237e; border-radius: 3px }"
                " QLabel { border: none }")
ROW_STYLE = "ClaimRow { border: 1px solid transparent }"


class WrapLabel(QLabel):
    """Plain text wrapped to the label's width, whose height follows its width itself.

    Inside the side panel's scroll area, labels that ask their layout for a height for their
    width were given too little once rows came and went; this one holds its own minimum."""

    def __init__(self, text: str = ""):
        super().__init__(text)
        self.setTextFormat(Qt.PlainText)  # claim texts and source names are data, not markup
        self.setWordWrap(True)
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Minimum)

    def hasHeightForWidth(self) -> bool:
        return False

    def setText(self, text: str) -> None:
        super().setText(text)
        self._fit()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        height = self.heightForWidth(max(self.width(), 60)) if self.text() else 0
        if height != self.minimumHeight():
            self.setMinimumHeight(max(height, 0))


def _plain(text: str = "") -> QLabel:
    return WrapLabel(text)


def _short(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _source(name: str | None, reliability: str | None) -> str:
    return (name or "no source") + (f" [{reliability}]" if reliability else "")


class ClaimRow(QFrame):
    """One claim of a list, on two lines cut to the panel's width (the whole text in its tooltip):
    a click picks it, a double click goes to it."""

    clicked = Signal(int)
    activated = Signal(int)

    def __init__(self, claim_id: int, text: str, tooltip: str = ""):
        super().__init__()
        self.claim_id = claim_id
        self.text = text
        self.lines = text.split("\n")
        self.labels = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(0)
        for i, line in enumerate(self.lines):
            label = QLabel(line)
            label.setTextFormat(Qt.PlainText)  # claim texts and names are data, not markup
            # No word wrap: a row is as tall as its lines, whatever the panel's width.
            label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)
            if i:
                label.setStyleSheet("color: #333")
            layout.addWidget(label)
            self.labels.append(label)
        self.setToolTip("\n".join(filter(None, (text, tooltip))))
        self.picked = False
        self.set_picked(False)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        for label, line in zip(self.labels, self.lines):
            width = max(10, label.width())
            label.setText(label.fontMetrics().elidedText(line, Qt.ElideRight, width))

    def set_picked(self, picked: bool) -> None:
        self.picked = picked
        self.setStyleSheet(PICKED_STYLE if picked else ROW_STYLE)

    def mousePressEvent(self, event) -> None:
        self.clicked.emit(self.claim_id)

    def mouseDoubleClickEvent(self, event) -> None:
        self.activated.emit(self.claim_id)


class CorroborationPanel(QWidget):
    """Shows what the review model's `corroboration()` and `related()` hold for the current claim."""

    stance_chosen = Signal(object)  # a stance or None
    picked = Signal(int)            # a row clicked: that claim is picked
    activated = Signal(int)         # a row double-clicked: go to that claim
    take_suggestion = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

        self.evidence_box = QGroupBox("Evidence")
        box = QVBoxLayout(self.evidence_box)
        box.setSpacing(4)
        self.stance = QComboBox()
        self.stance.addItem("– not set", None)
        for name, meaning in STANCES.items():
            self.stance.addItem(f"{name} — {meaning}", name)
        self.stance.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.stance.setMinimumContentsLength(10)
        self.stance.setToolTip("how the claim's source commits to it (keys: T then A, D or H; "
                               "T then 0 clears it)")
        stance_row = QHBoxLayout()
        stance_row.addWidget(QLabel("Stance"))
        stance_row.addWidget(self.stance, 1)
        box.addLayout(stance_row)
        self.counts = _plain()
        self.counts.setStyleSheet("font-weight: bold")
        box.addWidget(self.counts)
        self.sources = _plain()
        box.addWidget(self.sources)
        self.suggestion = _plain()
        self.suggestion.setStyleSheet("color: #1a237e")
        box.addWidget(self.suggestion)
        self.take = QPushButton("Take the suggested grade (Y)")
        self.take.setFocusPolicy(Qt.NoFocus)
        self.take.clicked.connect(self.take_suggestion)
        box.addWidget(self.take, 0, Qt.AlignLeft)
        layout.addWidget(self.evidence_box)

        self.links_box = QGroupBox("Links")
        self.links_layout = QVBoxLayout(self.links_box)
        self.links_layout.setSpacing(2)
        self.links_empty = _plain("No links yet")
        self.links_empty.setStyleSheet("color: #666")
        self.links_layout.addWidget(self.links_empty)
        layout.addWidget(self.links_box)

        self.related_box = QGroupBox("Related claims in other articles")
        self.related_layout = QVBoxLayout(self.related_box)
        self.related_layout.setSpacing(2)
        self.related_status = _plain("")
        self.related_status.setStyleSheet("color: #666")
        self.related_layout.addWidget(self.related_status)
        self.keys_hint = _plain(LINK_KEYS)
        self.keys_hint.setStyleSheet("color: #555; font-size: small")
        layout.addWidget(self.related_box)
        layout.addWidget(self.keys_hint)

        self.link_rows: list[ClaimRow] = []
        self.related_rows: list[ClaimRow] = []
        self._filling = False
        self.stance.currentIndexChanged.connect(self._on_stance)

    # -- filling -------------------------------------------------------------------------------------
    def show_claim(self, cor: Corroboration, related: list[RelatedClaim] | None,
                   picked: int | None, stance: str | None, credibility: int | None) -> None:
        """Everything for one claim; `related` None while it is still being found."""
        self._filling = True
        try:
            self.stance.setCurrentIndex(max(0, self.stance.findData(stance)))
        finally:
            self._filling = False
        ev = cor.evidence
        self.counts.setText(f"{ev.n_supporting} independent source(s) support · "
                            f"{ev.n_contradicting} contradict")
        lines = []
        for what, groups in (("Support", ev.supporting), ("Contradict", ev.contradicting)):
            if groups:
                lines.append(f"{what}: " + "; ".join(
                    g.label + ("" if g.counted else " (unreliable: not counted)")
                    + ("" if g.firm else " (hedged)") for g in groups))
        if ev.not_independent:
            lines.append(f"Not independent of it (same source, outlet or words): "
                         f"{len(ev.not_independent)} linked claim(s)")
        self.sources.setText("\n".join(lines))
        self.sources.setVisible(bool(lines))
        s = cor.suggestion
        if s.grade is None:
            self.suggestion.setText(f"No grade suggested: {s.reason}")
        elif credibility == s.grade:
            self.suggestion.setText(f"Suggested {s.text} (as graded)")
        else:
            self.suggestion.setText(f"Suggested {s.text}. Y takes it; C then 1–6 grades otherwise")
        self.take.setVisible(s.grade is not None and credibility != s.grade)
        self.take.setToolTip(f"grade the claim {s.grade} ({CREDIBILITY.get(s.grade, '')})"
                             if s.grade else "")

        self._clear(self.link_rows, self.links_layout)
        for link in cor.links:
            i = link.info
            text = (f"{link.words} · {_source(i.source_name, i.reliability)} · {i.document}"
                    + (f" ({i.date})" if i.date else "") + f"\n“{_short(link.snippet, 160)}”")
            tip = (f"link made by {link.annotator}" if link.annotator else "") + \
                  (f"\narticle by {i.outlet}" if i.outlet else "")
            self.link_rows.append(self._add_row(self.links_layout, i.id, text, tip))
        self.links_empty.setVisible(not cor.links)
        self.links_box.setTitle(f"Links ({len(cor.links)})" if cor.links else "Links")

        self._clear(self.related_rows, self.related_layout)
        linked = {link.claim_id: link.words for link in cor.links}
        if related is None:
            self.related_status.setText("Finding related claims…")
        elif not related:
            self.related_status.setText("No related claims in other articles")
        else:
            self.related_status.setText("")
        for r in related or []:
            mark = f"✓ {linked[r.claim_id]} · " if r.claim_id in linked else ""
            text = (f"{mark}{r.score:.2f} · {_source(r.source_name, r.reliability)} · {r.document}"
                    + (f" ({r.date})" if r.date else "") + f"\n“{_short(r.snippet, 160)}”")
            why = [f"words {r.text_score:.2f}"]
            if r.shared_entities:
                why.append("entities: " + ", ".join(r.shared_entities))
            if r.days_apart is not None:
                why.append(f"{r.days_apart} day(s) apart")
            tip = " · ".join(why) + (f"\narticle by {r.outlet}" if r.outlet else "")
            self.related_rows.append(self._add_row(self.related_layout, r.claim_id, text, tip))
        self.related_status.setVisible(bool(self.related_status.text()))
        self.set_picked(picked)

    def set_picked(self, picked: int | None) -> ClaimRow | None:
        """Outline the picked claim (in the links when linked, else in the related list); its row."""
        in_links = any(r.claim_id == picked for r in self.link_rows)
        found = None
        for row in self.link_rows:
            row.set_picked(row.claim_id == picked)
            found = row if row.picked else found
        for row in self.related_rows:
            row.set_picked(row.claim_id == picked and not in_links)
            found = row if row.picked else found
        return found

    def _add_row(self, layout: QVBoxLayout, claim_id: int, text: str, tip: str) -> ClaimRow:
        row = ClaimRow(claim_id, text, tip)
        row.clicked.connect(self.picked)
        row.activated.connect(self.activated)
        layout.addWidget(row)
        return row

    @staticmethod
    def _clear(rows: list[ClaimRow], layout: QVBoxLayout) -> None:
        for row in rows:
            layout.removeWidget(row)
            row.hide()  # deleted later: until then it must not be drawn over the new rows
            row.deleteLater()
        rows.clear()

    def _on_stance(self, _i: int) -> None:
        if not self._filling:
            self.stance_chosen.emit(self.stance.currentData())
