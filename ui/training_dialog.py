"""Training from the analyst's decisions: progress in the status bar, the evidence before
switching (old and new model scored on held-out data: Use / Keep the old), the model history."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from storage.models import StoredModel, list_models, model_in_use, size_text, use_model
from storage.project import Project, ProjectError
from storage.training import KindResult

BETTER = QColor("#2e7d32")
WORSE = QColor("#c62828")


class ProgressBridge(QObject):
    """Carries progress from the worker thread to the UI thread (a queued signal)."""
    progressed = Signal(int, int)


class TrainingStatus(QWidget):
    """Training's progress in the status bar, with Cancel: review goes on meanwhile."""

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.label = QLabel("Training from your decisions…")
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.setMaximumWidth(160)
        self.bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("stop training; the project stays as it is")
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.bridge = ProgressBridge()
        self.bridge.progressed.connect(self.set_progress)

    def set_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
            self.label.setText(f"Training from your decisions… {100 * done // total}%")

    def _on_cancel_clicked(self) -> None:
        self.cancel_button.setEnabled(False)
        self.label.setText("Cancelling training…")
        self.cancel_requested.emit()


def _item(text: str, *, align=Qt.AlignRight | Qt.AlignVCenter, colour: QColor | None = None,
          bold: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setTextAlignment(align)
    item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable)
    if colour is not None:
        item.setForeground(QBrush(colour))
    if bold:
        font = QFont()
        font.setBold(True)
        item.setFont(font)
    return item


class EvidenceDialog(QDialog):
    """Old and new model side by side on the held-out documents; Use the new one or Keep the old.

    `exec()` returns Accepted for Use; `use_new` says the same after any close."""

    def __init__(self, parent: QWidget | None, result: KindResult):
        super().__init__(parent)
        self.result = result
        self.use_new = False
        kind = result.kind
        self.setWindowTitle(f"New {kind} model: the evidence")
        self.resize(640, 360 if kind == "claims" else 560)
        trained = result.trained
        seen = (f" The old model had learned from {result.held_out_seen_by_old} of them."
                if result.held_out_seen_by_old else " Neither model learned from them.")
        better = result.better()
        verdict = ("The new model scores higher there." if better else
                   "The new model does not score higher there: keeping the old one is advised.")
        self.summary = QLabel(
            f"<b>{trained.documents} documents, {trained.decisions} decisions</b> learned from "
            f"(in {result.seconds:.0f} s, {size_text(len(trained.data))}).<br>"
            f"Both models were scored on <b>{result.held_out} documents held out</b>: the new one "
            f"after learning from the other {result.learned_from}.{seen}<br>{verdict}")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.RichText)
        what = ("F1 of cue, source and content spans (overlap of half the longer span, as "
                "eval-claims counts)" if kind == "claims" else "F1 per label (exact span and label)")
        caption = QLabel(f"{what}. Old: {result.old_name}.")
        caption.setWordWrap(True)
        keys = result.keys
        self.table = QTableWidget(len(keys), 5)
        self.table.setHorizontalHeaderLabels(
            ["Part" if kind == "claims" else "Label", "Old F1", "New F1", "Change", "Held-out spans"])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionMode(QAbstractItemView.NoSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        for row, key in enumerate(keys):
            old, new = result.old.get(key, {}), result.new.get(key, {})
            o, n = old.get("f1", 0.0), new.get("f1", 0.0)
            diff = n - o
            colour = BETTER if diff > 0.0005 else WORSE if diff < -0.0005 else None
            name = {"ALL": "all labels"}.get(key, key)
            self.table.setItem(row, 0, _item(name, align=Qt.AlignLeft | Qt.AlignVCenter,
                                             bold=key in ("ALL",)))
            self.table.setItem(row, 1, _item(f"{o:.3f}"))
            self.table.setItem(row, 2, _item(f"{n:.3f}", bold=True))
            self.table.setItem(row, 3, _item(f"{diff:+.3f}", colour=colour))
            self.table.setItem(row, 4, _item(str(max(old.get("gold", 0), new.get("gold", 0)))))
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.Stretch)
        for col in range(1, 5):
            hh.setSectionResizeMode(col, QHeaderView.ResizeToContents)
        self.buttons = QDialogButtonBox()
        self.use_button = self.buttons.addButton(f"&Use the new {kind} model", QDialogButtonBox.AcceptRole)
        self.keep_button = self.buttons.addButton("&Keep the old", QDialogButtonBox.RejectRole)
        (self.use_button if better else self.keep_button).setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        note = QLabel("Either way the new model is kept in the history (Review ▸ Model History…), "
                      "where you can switch to it or back later.")
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(caption)
        layout.addWidget(self.table, 1)
        layout.addWidget(note)
        layout.addWidget(self.buttons)

    def accept(self) -> None:
        self.use_new = True
        super().accept()


HISTORY_COLUMNS = ("Kind", "Version", "Trained", "By", "Documents", "Decisions",
                   "Held-out F1 new", "Old then", "Size", "In use")


def _figure(m: StoredModel, which: str) -> str:
    scores = m.scores.get(which, {})
    keys = ("cue", "source", "content") if m.kind == "claims" else ("ALL",)
    if not all(k in scores for k in keys):
        return "–"
    return " / ".join(f"{scores[k]['f1']:.3f}" for k in keys)


class ModelHistoryDialog(QDialog):
    """Every model the project learned, with its provenance; switch to one, or to the shipped model."""

    def __init__(self, parent: QWidget | None, project: Project,
                 on_switched: Callable[[], None] | None = None):
        super().__init__(parent)
        self.project = project
        self.on_switched = on_switched
        self.models: list[StoredModel] = []
        self.setWindowTitle("Model history")
        self.resize(980, 420)
        intro = QLabel(f"Models this project learned from its decisions. Annotation suggests with "
                       f"the one in use of each kind; without one, with the shipped "
                       f"{project.model_name} (and the built-in cue lexicon for claims). Scores: "
                       "F1 on documents held out from the model's training (claims: cue / source "
                       "/ content; entities: all labels), beside the model it replaced then.")
        intro.setWordWrap(True)
        self.table = QTableWidget(0, len(HISTORY_COLUMNS))
        self.table.setHorizontalHeaderLabels(HISTORY_COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        hh = self.table.horizontalHeader()
        for col in range(len(HISTORY_COLUMNS)):
            hh.setSectionResizeMode(col, QHeaderView.ResizeToContents)
        self.use_button = QPushButton("&Use This Model")
        self.use_button.clicked.connect(self.use_selected)
        self.base_claims = QPushButton("Shipped &Claims Model")
        self.base_claims.clicked.connect(lambda: self.use_base("claims"))
        self.base_entities = QPushButton("Shipped &Entities Model")
        self.base_entities.clicked.connect(lambda: self.use_base("entities"))
        close = QDialogButtonBox(QDialogButtonBox.Close)
        close.rejected.connect(self.reject)
        row = QHBoxLayout()
        for b in (self.use_button, self.base_claims, self.base_entities):
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(close)
        self.status = QLabel("")
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        layout.addLayout(row)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.refresh()

    def refresh(self) -> None:
        self.models = list_models(self.project)
        self.table.setRowCount(len(self.models))
        for r, m in enumerate(self.models):
            values = (m.kind, f"v{m.version}", m.created_at[:16].replace("T", " "), m.created_by or "",
                      str(m.documents), str(m.decisions), _figure(m, "new"), _figure(m, "old"),
                      size_text(m.size), "✔ in use" if m.in_use else "")
            for c, v in enumerate(values):
                self.table.setItem(r, c, _item(v, align=(Qt.AlignLeft if c in (0, 2, 3, 9)
                                                         else Qt.AlignRight) | Qt.AlignVCenter,
                                               bold=m.in_use))
        using = {k: model_in_use(self.project, k) for k in ("claims", "entities")}
        self.status.setText("In use: " + ", ".join(
            f"{k} {f'v{m.version}' if m else 'shipped'}" for k, m in using.items()))
        self.base_claims.setEnabled(using["claims"] is not None)
        self.base_entities.setEnabled(using["entities"] is not None)
        self._update_buttons()

    def _update_buttons(self) -> None:
        m = self.selected()
        self.use_button.setEnabled(m is not None and not m.in_use)

    def selected(self) -> StoredModel | None:
        rows = {i.row() for i in self.table.selectedItems()}
        return self.models[min(rows)] if rows else None

    def select_version(self, kind: str, version: int) -> None:
        for r, m in enumerate(self.models):
            if m.kind == kind and m.version == version:
                self.table.selectRow(r)

    def use_selected(self) -> None:
        m = self.selected()
        if m is None:
            return
        self._switch(m.kind, m.id, f"{m.kind} v{m.version}")

    def use_base(self, kind: str) -> None:
        self._switch(kind, None, f"the shipped {kind} model")

    def _switch(self, kind: str, model_id: int | None, what: str) -> None:
        try:
            use_model(self.project, kind, model_id)
        except (ProjectError, ValueError) as exc:
            QMessageBox.warning(self, "Model history", str(exc))
            return
        self.refresh()
        self.status.setText(f"Now using {what}. File ▸ Pre-annotate refreshes the suggestions of "
                            "articles not marked done.")
        if self.on_switched is not None:
            self.on_switched()
