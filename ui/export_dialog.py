"""The export dialog: a format, where to write it, reviewed work only or all; runs in the background."""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
    QPushButton, QVBoxLayout, QWidget,
)

from storage.project import Project
from ui import ops

# format, what the user reads, file suffix ("" for a folder)
FORMATS: list[tuple[str, str, str]] = [
    ("spacy", "spaCy DocBin (.spacy) — for spacy train", ".spacy"),
    ("prodigy", "Prodigy JSONL", ".jsonl"),
    ("doccano", "doccano JSONL", ".jsonl"),
    ("labelstudio", "Label Studio JSON", ".json"),
    ("brat", "brat standoff (a folder of .txt + .ann)", ""),
    ("conll", "CoNLL IOB2 (.conll)", ".conll"),
    ("docs-csv", "Documents as CSV (one row per article)", ".csv"),
    ("claims-csv", "Claims as CSV (with sources and grades)", ".csv"),
    ("claims-jsonl", "Claims as JSONL", ".jsonl"),
]
_SUFFIX = {f: s for f, _n, s in FORMATS}
_FILTER = {".spacy": "spaCy DocBin (*.spacy)", ".jsonl": "JSON lines (*.jsonl)",
           ".json": "JSON (*.json)", ".conll": "CoNLL (*.conll *.txt)", ".csv": "CSV (*.csv)"}


class ExportDialog(QDialog):
    """Write the labelled dataset (or a claims report) to a file or folder."""

    exported = Signal(object)  # storage.export_rows.ExportSummary

    def __init__(self, parent: QWidget | None, project: Project):
        super().__init__(parent)
        self.project = project
        self.last_op: ops.Op | None = None
        self.summary = None
        self.error_message: str | None = None
        self._path_edited = False
        self.setWindowTitle("Export")
        self.resize(620, 240)

        self.format_combo = QComboBox()
        for fmt, name, _s in FORMATS:
            self.format_combo.addItem(name, fmt)
        self.format_combo.currentIndexChanged.connect(self._on_format_changed)
        self.path_edit = QLineEdit()
        self.path_edit.textEdited.connect(self._on_path_edited)
        self.path_edit.textChanged.connect(self._update_buttons)
        browse = QPushButton("&Choose…")
        browse.clicked.connect(self._on_browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(browse)
        self.only_reviewed_check = QCheckBox(
            "Only reviewed work (documents marked done, and only their accepted spans)")
        form = QFormLayout()
        form.addRow("&Format:", self.format_combo)
        save_label = QLabel("&Save to:")
        save_label.setBuddy(self.path_edit)
        form.addRow(save_label, path_row)
        form.addRow("", self.only_reviewed_check)

        self.summary_label = QLabel("")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
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
            raise ValueError(f"unknown export format {fmt!r}; one of {', '.join(_SUFFIX)}")
        self.format_combo.setCurrentIndex(i)

    def set_path(self, path: str | os.PathLike) -> None:
        self._path_edited = True
        self.path_edit.setText(str(path))

    def out_path(self) -> Path | None:
        text = self.path_edit.text().strip()
        return Path(text).expanduser() if text else None

    def _default_path(self, fmt: str) -> Path:
        stem = self.project.path.with_suffix("")
        return stem.parent / f"{stem.name}-{fmt}{_SUFFIX[fmt]}"

    @Slot()
    def _on_format_changed(self, *_: object) -> None:
        fmt = self.format()
        current = self.out_path()
        if not self._path_edited or current is None:
            self.path_edit.setText(str(self._default_path(fmt)))
        elif current.suffix != _SUFFIX[fmt]:
            # Keep the user's folder and name, change only what the format dictates.
            self.path_edit.setText(str(current.with_suffix(_SUFFIX[fmt])))
        self._update_buttons()

    @Slot(str)
    def _on_path_edited(self, _text: str) -> None:
        self._path_edited = True

    @Slot()
    def _on_browse(self) -> None:
        fmt = self.format()
        start = str(self.out_path() or self._default_path(fmt))
        if _SUFFIX[fmt] == "":
            chosen = QFileDialog.getExistingDirectory(self, "Export brat files into a folder", start)
        else:
            chosen, _ = QFileDialog.getSaveFileName(self, "Export as", start, _FILTER[_SUFFIX[fmt]])
        if chosen:
            self.set_path(chosen)

    def _update_buttons(self, *_: object) -> None:
        busy = self.last_op is not None and not self.last_op.is_done
        self.export_button.setEnabled(self.out_path() is not None and not busy)

    # -- running --------------------------------------------------------------------------------
    def start_export(self) -> ops.Op | None:
        """Export in the background; the result line says what was written and what was not."""
        from storage.export import export
        out = self.out_path()
        if out is None:
            self.summary_label.setText("Choose where to save the export first.")
            return None
        fmt, only_reviewed, project = self.format(), self.only_reviewed_check.isChecked(), self.project

        def work(progress, should_cancel):
            return export(project, fmt, out, only_reviewed=only_reviewed,
                          progress=progress, should_cancel=should_cancel)

        self.summary_label.setText(f"Exporting to {out}…")
        # Export reads in one transaction on the project's connection: no edits may join it meanwhile.
        self.last_op = ops.run_in_background(self, "Exporting", work, self._on_exported,
                                             on_error=self._on_failed)
        self._update_buttons()
        return self.last_op

    def _on_exported(self, summary) -> None:
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
