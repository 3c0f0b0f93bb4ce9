"""The export dialog: a format, where to write it, what an analyst decided or everything, and
the counts that will be written before anything is; runs in the background."""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from storage.export import FORMATS, ExportSummary, export, preview
from storage.project import Project
from ui import ops

_FILTER = {".spacy": "spaCy DocBin (*.spacy)", ".jsonl": "JSON lines (*.jsonl)",
           ".json": "JSON (*.json)", ".conll": "CoNLL (*.conll *.txt)", ".csv": "CSV (*.csv)"}
DECIDED_TEXT = "&Decided work: documents marked done, accepted and created spans, accepted claims"
DECIDED_TIP = ("What an analyst decided. Reports hold every document (docs-csv) or every "
               "accepted claim in any document (claims-csv, claims-jsonl).")
EVERYTHING_TEXT = "E&verything: also unreviewed documents and every suggestion not rejected"
EVERYTHING_TIP = "Each span and claim with its status where the format has room for it."


class ExportDialog(QDialog):
    """Write the labelled dataset (or a report) to a file or folder."""

    exported = Signal(object)  # storage.export.ExportSummary

    def __init__(self, parent: QWidget | None, project: Project):
        super().__init__(parent)
        self.project = project
        self.last_op: ops.Op | None = None
        self.count_op: ops.Op | None = None
        self.counts: ExportSummary | None = None  # what the current choice will write
        self.summary: ExportSummary | None = None
        self.error_message: str | None = None
        self._path_edited = False
        self.setWindowTitle("Export")
        self.resize(660, 300)

        self.format_combo = QComboBox()
        for f in FORMATS.values():
            self.format_combo.addItem(f.title, f.name)
        self.format_combo.currentIndexChanged.connect(self._on_format_changed)
        self.path_edit = QLineEdit()
        self.path_edit.textEdited.connect(self._on_path_edited)
        self.path_edit.textChanged.connect(self._update_buttons)
        browse = QPushButton("&Choose…")
        browse.clicked.connect(self._on_browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(browse)
        self.decided_radio = QRadioButton(DECIDED_TEXT)
        self.decided_radio.setToolTip(DECIDED_TIP)
        self.everything_radio = QRadioButton(EVERYTHING_TEXT)
        self.everything_radio.setToolTip(EVERYTHING_TIP)
        self.decided_radio.setChecked(True)
        self.scope_group = QButtonGroup(self)
        for radio in (self.decided_radio, self.everything_radio):
            self.scope_group.addButton(radio)
            radio.toggled.connect(self._on_scope_toggled)
        scope = QVBoxLayout()
        scope.addWidget(self.decided_radio)
        scope.addWidget(self.everything_radio)
        self.counts_label = QLabel("")
        form = QFormLayout()
        form.addRow("&Format:", self.format_combo)
        save_label = QLabel("&Save to:")
        save_label.setBuddy(self.path_edit)
        form.addRow(save_label, path_row)
        form.addRow("Holds:", scope)
        form.addRow("Will write:", self.counts_label)

        self.summary_label = QLabel("")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.export_button = QPushButton("&Export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start_export)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.summary_label, 1)
        layout.addLayout(buttons)
        self._on_format_changed()

    # -- choices --------------------------------------------------------------------------------
    def format(self) -> str:
        return self.format_combo.currentData()

    def set_format(self, fmt: str) -> None:
        i = self.format_combo.findData(fmt)
        if i < 0:
            raise ValueError(f"unknown export format {fmt!r}; one of {', '.join(FORMATS)}")
        self.format_combo.setCurrentIndex(i)

    def everything(self) -> bool:
        return self.everything_radio.isChecked()

    def set_everything(self, everything: bool) -> None:
        (self.everything_radio if everything else self.decided_radio).setChecked(True)

    def set_path(self, path: str | os.PathLike) -> None:
        self._path_edited = True
        self.path_edit.setText(str(path))

    def out_path(self) -> Path | None:
        text = self.path_edit.text().strip()
        return Path(text).expanduser() if text else None

    def _suffix(self, fmt: str) -> str:
        return FORMATS[fmt].suffix

    def _default_path(self, fmt: str) -> Path:
        stem = self.project.path.with_suffix("")
        return stem.parent / f"{stem.name}-{fmt}{self._suffix(fmt)}"

    @Slot()
    def _on_format_changed(self, *_: object) -> None:
        fmt = self.format()
        current = self.out_path()
        if not self._path_edited or current is None:
            self.path_edit.setText(str(self._default_path(fmt)))
        elif current.suffix != self._suffix(fmt):
            # Keep the user's folder and name, change only what the format dictates.
            self.path_edit.setText(str(current.with_suffix(self._suffix(fmt))))
        self._update_buttons()
        self.refresh_counts()

    @Slot(bool)
    def _on_scope_toggled(self, checked: bool) -> None:
        if checked:
            self.refresh_counts()

    @Slot(str)
    def _on_path_edited(self, _text: str) -> None:
        self._path_edited = True

    @Slot()
    def _on_browse(self) -> None:
        fmt = self.format()
        start = str(self.out_path() or self._default_path(fmt))
        if FORMATS[fmt].folder:
            chosen = QFileDialog.getExistingDirectory(self, "Export into a folder", start)
        else:
            chosen, _ = QFileDialog.getSaveFileName(self, "Export as", start,
                                                    _FILTER[self._suffix(fmt)])
        if chosen:
            self.set_path(chosen)

    def _update_buttons(self, *_: object) -> None:
        busy = self.last_op is not None and not self.last_op.is_done
        self.export_button.setEnabled(self.out_path() is not None and not busy)

    # -- counts before writing ------------------------------------------------------------------
    def refresh_counts(self) -> ops.Op:
        """Count (in the background) what the current choice will write."""
        fmt, everything, project = self.format(), self.everything(), self.project
        self.counts = None
        self.counts_label.setText("counting…")

        def work(progress, should_cancel):
            return preview(project, fmt, everything=everything)

        def done(counts: ExportSummary) -> None:
            if not isValid(self) or (counts.format, everything) != (self.format(), self.everything()):
                return  # the choice changed meanwhile: its own count follows
            self.counts = counts
            self.counts_label.setText(_counts_text(counts, FORMATS[fmt].claims_only))

        def failed(exc: BaseException) -> None:
            if not isValid(self):
                return
            self.counts_label.setText("could not count: " + " ".join(str(exc).split())[:120])

        self.count_op = ops.run_in_background(self, "Counting", work, done, on_error=failed,
                                              cancellable=False, show_after_ms=-1)
        return self.count_op

    # -- running --------------------------------------------------------------------------------
    def start_export(self) -> ops.Op | None:
        """Export in the background; the result line says what was written and what was not."""
        out = self.out_path()
        if out is None:
            self.summary_label.setText("Choose where to save the export first.")
            return None
        fmt, everything, project = self.format(), self.everything(), self.project

        def work(progress, should_cancel):
            return export(project, fmt, out, everything=everything, progress=progress,
                          should_cancel=should_cancel)

        self.summary_label.setText(f"Exporting to {out}…")
        # Export reads in one transaction on the project's connection: no edits may join it meanwhile.
        self.last_op = ops.run_in_background(self, "Exporting", work, self._on_exported,
                                             on_error=self._on_failed)
        self._update_buttons()
        return self.last_op

    def _on_exported(self, summary: ExportSummary) -> None:
        self.summary = summary
        line = summary.line()
        self.summary_label.setText(line[:1].upper() + line[1:])
        self._update_buttons()
        self.exported.emit(summary)

    def _on_failed(self, exc: BaseException) -> None:
        self.summary_label.setText("Export cancelled; nothing was written."
                                   if isinstance(exc, ops.Cancelled) else "")
        self.error_message = ops.report_error(self, "Export", exc)
        self._update_buttons()

    def reject(self) -> None:
        if self.last_op is not None and not self.last_op.is_done:
            self.last_op.cancel()
            return
        super().reject()


def _counts_text(counts: ExportSummary, claims_only: bool) -> str:
    if claims_only:
        return f"{_n(counts.claims, 'claim')} from {_n(counts.documents, 'document')}"
    return ", ".join([_n(counts.documents, "document"), _n(counts.spans, "span"),
                      _n(counts.claims, "claim")])


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"
