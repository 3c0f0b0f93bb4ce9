"""The side panel: the current span or claim, its grades and note, document labels, the key legend."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from annotation.model import CREDIBILITY, RELIABILITY, Claim, Source, Span
from ui.article_view import safe_colour
from ui.corroboration_panel import CorroborationPanel


def _plain(text: str = "") -> QLabel:
    """A label that never interprets what it shows (article text is data, not markup)."""
    label = QLabel(text)
    label.setTextFormat(Qt.PlainText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextSelectableByMouse)
    return label


def _short(text: str, n: int = 220) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


REGISTRY_TIP = ("the source registry entry this claim's source is (C then S sets it from the "
                "selected text)")


def candidate_text(candidate: str, entry: Source | None) -> str:
    """How the registry field shows a source the model proposed (not a registry entry yet): its
    name, or the entry of that name it would link to, marked "proposed" (the tooltip says more)."""
    if entry is not None:
        return f"{_short(entry.name, 60)}" + (f" [{entry.reliability}]" if entry.reliability else "") \
            + " · proposed"
    return f"“{_short(candidate, 60)}” · proposed"


def candidate_tip(candidate: str, entry: Source | None) -> str:
    where = (f"accepting the claim (or grading its source, S then A–F) links it to the registry "
             f"entry “{entry.name}”" if entry is not None else
             "accepting the claim (or grading its source, S then A–F) adds it to the registry")
    return f"“{candidate}” is the source the model proposed, not confirmed yet: {where}"


def _grade_words(grade: str, source: Source | None, claim: Claim) -> str:
    """ "C2 — fairly reliable source; probably true", or what is missing."""
    if not grade:
        return "ungraded (S then A–F grades the source, C then 1–6 the claim)"
    reliability = RELIABILITY.get(source.reliability) if source and source.reliability else None
    credibility = CREDIBILITY.get(claim.credibility) if claim.credibility else None
    words = [f"source {reliability}" if reliability else "source ungraded",
             credibility or "credibility ungraded"]
    return f"{grade} — " + "; ".join(words)


class _NoteEdit(QPlainTextEdit):
    """A note field that reports its text when the analyst leaves it."""

    edited = Signal(str)

    def focusOutEvent(self, event) -> None:
        super().focusOutEvent(event)
        self.edited.emit(self.toPlainText())


class SidePanel(QScrollArea):
    """Shows what is current; its combo boxes and note write through the window's handlers."""

    credibility_chosen = Signal(object)  # int 1-6 or None
    reliability_chosen = Signal(object)  # "A".."F" or None
    registry_chosen = Signal(object)     # source id or None
    note_edited = Signal(str)
    doc_label_toggled = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        body = QWidget()
        self.setWidget(body)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(8, 8, 8, 8)

        self.heading = _plain("Nothing selected")
        f = QFont(self.heading.font())
        f.setBold(True)
        f.setPointSizeF(f.pointSizeF() * 1.15)
        self.heading.setFont(f)
        layout.addWidget(self.heading)

        self.details = QGroupBox("Current")
        form = QFormLayout(self.details)
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        self.f_text, self.f_label, self.f_status, self.f_origin = _plain(), _plain(), _plain(), _plain()
        form.addRow("Text", self.f_text)
        form.addRow("Label", self.f_label)
        form.addRow("Status", self.f_status)
        form.addRow("Origin", self.f_origin)
        layout.addWidget(self.details)

        self.claim_box = QGroupBox("Claim")
        cform = QFormLayout(self.claim_box)
        cform.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        self.c_source, self.c_cue, self.c_content = _plain(), _plain(), _plain()
        self.c_source.setStyleSheet("color: #274e13; font-weight: bold")
        self.c_cue.setStyleSheet("color: #b00000; font-weight: bold")
        self.c_grade = _plain()
        self.c_grade.setStyleSheet("color: #1a237e; font-weight: bold")
        self.c_grade.setToolTip("the Admiralty code: source reliability (A–F) and information "
                                "credibility (1–6)")
        cform.addRow("Grade", self.c_grade)
        cform.addRow("Source", self.c_source)
        cform.addRow("Cue", self.c_cue)
        cform.addRow("Content", self.c_content)
        self.registry = QComboBox()
        self.registry.setToolTip(REGISTRY_TIP)
        cform.addRow("Registry", self.registry)
        self.reliability = QComboBox()
        self.reliability.addItem("– ungraded", None)
        for k, v in RELIABILITY.items():
            self.reliability.addItem(f"{k} – {v}", k)
        self.reliability.setToolTip("source reliability (keys: S then A–F)")
        cform.addRow("Reliability", self.reliability)
        self.credibility = QComboBox()
        self.credibility.addItem("– ungraded", None)
        for k, v in CREDIBILITY.items():
            self.credibility.addItem(f"{k} – {v}", k)
        self.credibility.setToolTip("information credibility (keys: C then 1–6)")
        cform.addRow("Credibility", self.credibility)
        self.note = _NoteEdit()
        self.note.setPlaceholderText("Note on this claim (saved when you leave the field)")
        self.note.setTabChangesFocus(True)
        self.note.setFixedHeight(70)
        cform.addRow("Note", self.note)
        for combo in (self.registry, self.reliability, self.credibility):
            # Long source names must not widen the panel past its edge.
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(10)
        layout.addWidget(self.claim_box)
        # Stance, evidence, links and related claims of the current claim (filled by the presenter).
        self.corroboration = CorroborationPanel()
        layout.addWidget(self.corroboration)

        self.doc_box = QGroupBox("Article labels")
        self.doc_layout = QVBoxLayout(self.doc_box)
        self.doc_checks: dict[str, QCheckBox] = {}

        self.legend = QGroupBox("Labels and keys")
        self.legend_layout = QGridLayout(self.legend)
        self.legend_layout.setHorizontalSpacing(8)
        self.legend_layout.setVerticalSpacing(3)
        # The article labels and the legend keep to the bottom: when the boxes above them come
        # and go they stay put, so switching articles does not move (and repaint) their
        # seventy-odd widgets.
        layout.addStretch(1)
        layout.addWidget(self.doc_box)
        layout.addWidget(self.legend)

        self.doc_box.setVisible(False)   # until a project with labels is open
        self.legend.setVisible(False)
        self._filling = False
        self._registry_entries: list[tuple[int, str]] | None = None
        self._guidelines: dict[str, str] = {}
        self.credibility.currentIndexChanged.connect(self._on_credibility)
        self.reliability.currentIndexChanged.connect(self._on_reliability)
        self.registry.currentIndexChanged.connect(self._on_registry)
        self.note.edited.connect(self._on_note)
        self.show_nothing()

    # -- filling -----------------------------------------------------------------------------------
    def set_labels(self, labels: list[dict]) -> None:
        """The legend (label colour, name, key) and the article-label check boxes."""
        self._guidelines = {lab["name"]: lab.get("description") or "" for lab in labels}
        while self.legend_layout.count():
            w = self.legend_layout.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        # Every label here can be assigned (a key, E's picker, or C then T/U/S for claim parts);
        # "Attribution" is only read from brat files, never drawn on its own.
        shown = [lab for lab in labels if lab["kind"] != "document" and lab["name"] != "Attribution"]
        half = (len(shown) + 1) // 2
        for i, lab in enumerate(shown):
            row, col = i % half, (i // half) * 3
            swatch = QLabel()
            swatch.setFixedSize(14, 14)
            # The colour comes from the file: pass it through QColor so it can only be a colour.
            swatch.setStyleSheet(f"background: {safe_colour(lab.get('colour')).name()};"
                                 " border: 1px solid #888; border-radius: 2px")
            name = QLabel(lab["name"])
            name.setTextFormat(Qt.PlainText)
            key = QLabel(lab.get("key") or "")
            key.setTextFormat(Qt.PlainText)
            key.setStyleSheet("color: #555; font-weight: bold")
            guideline = lab.get("description") or ""
            for w in (swatch, name, key):
                w.setToolTip(f"{lab['name']}: {guideline}" if guideline else lab["name"])
            self.legend_layout.addWidget(swatch, row, col)
            self.legend_layout.addWidget(name, row, col + 1)
            self.legend_layout.addWidget(key, row, col + 2)
        self.legend.setVisible(bool(shown))
        for cb in self.doc_checks.values():
            cb.deleteLater()
        self.doc_checks = {}
        doc_labels = [lab for lab in labels if lab["kind"] == "document"]
        for i, lab in enumerate(doc_labels, 1):
            cb = QCheckBox(lab["name"] + (f"   (L then {i})" if i <= 9 else ""))
            cb.setFocusPolicy(Qt.NoFocus)
            name = lab["name"]
            cb.clicked.connect(lambda _checked, n=name: self.doc_label_toggled.emit(n))
            self.doc_layout.addWidget(cb)
            self.doc_checks[name] = cb
        self.doc_box.setVisible(bool(doc_labels))

    def set_doc_labels(self, present: list[str], enabled: bool = True) -> None:
        for name, cb in self.doc_checks.items():
            cb.setChecked(name in present)
            cb.setEnabled(enabled)

    def show_nothing(self, hint: str = "Nothing selected") -> None:
        self.heading.setText(hint)
        self.details.setVisible(False)
        self.claim_box.setVisible(False)
        self.corroboration.setVisible(False)

    def show_span(self, span: Span, text: str) -> None:
        self.heading.setText("Span")
        self.details.setTitle("Current span")
        self.details.setVisible(True)
        self.claim_box.setVisible(False)
        self.corroboration.setVisible(False)
        self._fill_span(span, text)

    def _fill_span(self, span: Span, text: str) -> None:
        self.f_text.setText(_short(text))
        guideline = self._guidelines.get(span.label)
        self.f_label.setText(f"{span.label} — {guideline}" if guideline else span.label)
        self.f_status.setText(span.status)
        origin = span.origin
        if span.model:
            origin += f" ({span.model})"
        if span.annotator:
            origin += f" by {span.annotator}"
        self.f_origin.setText(origin)

    def show_claim(self, claim: Claim, parts: dict[str, str | None], focus: Span | None,
                   focus_text: str, source: Source | None, sources: list[Source],
                   grade: str = "", candidate: str | None = None,
                   candidate_entry: Source | None = None) -> None:
        """`candidate`: the source name the model proposed, for a claim not linked to the registry
        yet (it joins the registry when the claim is accepted or its source graded);
        `candidate_entry`: the registry entry of that name, when there is one."""
        self._filling = True
        try:
            self.heading.setText(f"Claim ({claim.status})" + (f"  ·  {grade}" if grade else ""))
            self.c_grade.setText(_grade_words(grade, source, claim))
            self.details.setVisible(focus is not None)
            if focus is not None:
                self.details.setTitle(f"Current part: {focus.label}")
                self._fill_span(focus, focus_text)
            self.claim_box.setVisible(True)
            self.corroboration.setVisible(True)
            self.c_source.setText(_short(parts.get("Source") or "—"))
            self.c_cue.setText(_short(parts.get("Cue") or "—"))
            self.c_content.setText(_short(parts.get("Content") or "—", 400))
            entries = [(s.id, s.name + (f"  [{s.reliability}]" if s.reliability else "")) for s in sources]
            if entries != self._registry_entries:  # refilling thousands of entries is not free
                self._registry_entries = entries
                self.registry.clear()
                self.registry.addItem("— none", None)
                for sid, name in entries:
                    self.registry.addItem(name, sid)
            # Item 0 is "no entry": for a claim whose source is not confirmed yet, the name the
            # model proposed, which is no registry entry until the analyst accepts the claim.
            if source is None and candidate:
                self.registry.setItemText(0, candidate_text(candidate, candidate_entry))
                self.registry.setItemData(0, candidate_tip(candidate, candidate_entry), Qt.ToolTipRole)
            else:
                self.registry.setItemText(0, "— none")
                self.registry.setItemData(0, None, Qt.ToolTipRole)
            self.registry.setCurrentIndex(max(0, self.registry.findData(claim.source_id)))
            self.registry.setToolTip(self.registry.itemData(self.registry.currentIndex(), Qt.ToolTipRole)
                                     or REGISTRY_TIP)
            self.reliability.setEnabled(source is not None or bool(candidate))
            self.reliability.setCurrentIndex(
                max(0, self.reliability.findData(source.reliability)) if source else 0)
            self.credibility.setCurrentIndex(max(0, self.credibility.findData(claim.credibility)))
            if not self.note.hasFocus():
                self.note.setPlainText(claim.note or "")
        finally:
            self._filling = False

    # -- edits -------------------------------------------------------------------------------------
    def _on_credibility(self, _i: int) -> None:
        if not self._filling:
            self.credibility_chosen.emit(self.credibility.currentData())

    def _on_reliability(self, _i: int) -> None:
        if not self._filling:
            self.reliability_chosen.emit(self.reliability.currentData())

    def _on_registry(self, _i: int) -> None:
        if not self._filling and self.registry.count():
            self.registry_chosen.emit(self.registry.currentData())

    def _on_note(self, text: str) -> None:
        if not self._filling and self.claim_box.isVisible():
            self.note_edited.emit(text)
