"""The import dialog: files or a folder, the format, a CSV column mapping with a preview, then import."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from annotation.readers import (
    EXTENSIONS,
    FORMATS,
    csv_preview,
    format_of,
    guess_columns,
    open_regular,
)
from storage.importer import NORMALISE_DEFAULT, guess_format
from storage.project import Project
from ui import ops

__all__ = ["FORMATS", "NORMALISE_DEFAULT", "ImportDialog", "guess_format", "guess_mapping",
           "read_csv_preview"]
# How each format is named in the dialog; the formats themselves, their extensions, the CSV
# reading and the normalisation defaults are the core's (annotation/readers.py, storage/importer.py).
FORMAT_NAMES = {
    "txt": "Plain text (.txt)", "html": "Web pages (.html)", "csv": "Table (.csv)",
    "jsonl": "JSON lines (.jsonl)", "brat": "brat standoff (.txt + .ann)",
}
_NO_COLUMN = "(none)"
PREVIEW_ROWS = 5
_PREVIEW_CHARS = 90


def read_csv_preview(path: Path, rows: int = PREVIEW_ROWS) -> tuple[list[str], list[list[str]]]:
    """The header and first rows of a CSV file, read exactly as the import reads it."""
    with open_regular(path, path.name) as f:
        return csv_preview(f, path.name, rows)


def guess_mapping(header: list[str], rows: list[list[str]]) -> dict[str, Any]:
    """The import's own column guess; with no known text column, the longest one is proposed
    (the analyst sees it in the preview and confirms)."""
    guess = guess_columns(header, rows, longest_as_text=True)
    return {"text_column": guess.text, "title_column": guess.title, "meta_columns": guess.meta}


_FILE_FILTER = ("Articles (" + " ".join(f"*{e}" for e in EXTENSIONS) + ");;All files (*)")


class ImportDialog(QDialog):
    """Choose what to import and how; runs the import (and pre-annotation) in the background."""

    imported = Signal(object)   # storage.ingest.ImportSummary
    annotated = Signal(object)  # storage.preannotate.AnnotateSummary

    def __init__(self, parent: QWidget | None, project: Project):
        super().__init__(parent)
        self.project = project
        self.paths: list[Path] = []
        self.header: list[str] = []
        self.preview_rows: list[list[str]] = []
        self.last_op: ops.Op | None = None
        self._guessed: str | None = None  # the format guessed from the paths, while kept
        self.summary = None
        self._annotated = False
        self.error_message: str | None = None
        self.setWindowTitle("Import articles")
        self.resize(760, 620)
        self._build()
        self._on_format_changed()

    # -- layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        self.path_list = QListWidget()
        self.path_list.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.path_list.setMaximumHeight(96)
        self.path_list.setToolTip("Files and folders to import; a folder imports every file of the format")
        add_files = QPushButton("Add &files…")
        add_files.clicked.connect(self._on_add_files)
        add_folder = QPushButton("Add f&older…")
        add_folder.clicked.connect(self._on_add_folder)
        self.remove_button = QPushButton("&Remove")
        self.remove_button.clicked.connect(self._on_remove)
        side = QVBoxLayout()
        for b in (add_files, add_folder, self.remove_button):
            side.addWidget(b)
        side.addStretch(1)
        files_row = QHBoxLayout()
        files_row.addWidget(self.path_list, 1)
        files_row.addLayout(side)
        files_box = QGroupBox("What to import")
        files_box.setLayout(files_row)

        self.format_combo = QComboBox()
        for fmt in FORMATS:
            self.format_combo.addItem(FORMAT_NAMES[fmt], fmt)
        self.format_combo.currentIndexChanged.connect(self._on_format_changed)
        self.normalise_check = QCheckBox("Normalise the text (join hard-wrapped lines, drop repeated "
                                         "paragraphs and page boilerplate)")
        self.normalise_check.setToolTip("The raw text is kept as imported; spans always map back to it")
        how = QFormLayout()
        how.addRow("&Format:", self.format_combo)
        how.addRow("", self.normalise_check)

        # The CSV mapping: which column is the article, which its title, which are kept as metadata.
        self.text_combo = QComboBox()
        self.title_combo = QComboBox()
        self.text_combo.currentIndexChanged.connect(self._on_mapping_changed)
        self.title_combo.currentIndexChanged.connect(self._on_mapping_changed)
        self.meta_list = QListWidget()
        self.meta_list.setFlow(QListView.LeftToRight)
        self.meta_list.setWrapping(True)
        self.meta_list.setResizeMode(QListView.Adjust)
        self.meta_list.setSpacing(2)
        self.meta_list.setMaximumHeight(52)
        self.meta_list.setToolTip("Checked columns are stored with each article as metadata")
        self.preview = QTableWidget()
        self.preview.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.preview.setWordWrap(False)
        self.preview.verticalHeader().setVisible(False)
        self.preview.horizontalHeader().setSectionResizeMode(QHeaderView.Interactive)
        self.preview.horizontalHeader().setStretchLastSection(True)
        mapping = QFormLayout()
        mapping.addRow("&Text column:", self.text_combo)
        mapping.addRow("T&itle column:", self.title_combo)
        mapping.addRow("&Metadata:", self.meta_list)
        self.preview_label = QLabel("Preview")
        mapping.addRow(self.preview_label)
        mapping.addRow(self.preview)
        self.csv_box = QGroupBox("CSV columns")
        self.csv_box.setLayout(mapping)

        self.summary_label = QLabel("")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setMaximumHeight(110)
        self.details.setVisible(False)

        self.annotate_button = QPushButton("&Pre-annotate now")
        self.annotate_button.setToolTip("Suggest entities and claims with the project's spaCy model")
        self.annotate_button.setEnabled(False)
        self.annotate_button.clicked.connect(self.start_annotate)
        self.import_button = QPushButton("I&mport")
        self.import_button.setDefault(True)
        self.import_button.clicked.connect(self.start_import)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.annotate_button)
        buttons.addStretch(1)
        buttons.addWidget(self.import_button)
        buttons.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addWidget(files_box)
        layout.addLayout(how)
        layout.addWidget(self.csv_box, 1)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.details)
        layout.addStretch(0)
        layout.addLayout(buttons)
        self._update_buttons()

    # -- choosing what to import ----------------------------------------------------------------
    def set_paths(self, paths: list[str | os.PathLike]) -> None:
        """Replace the list of files/folders; the format is guessed and a CSV header read."""
        self.paths = []
        self.path_list.clear()
        self.add_paths(paths)

    def add_paths(self, paths: list[str | os.PathLike]) -> None:
        for p in map(Path, paths):
            if p not in self.paths:
                self.paths.append(p)
                item = QListWidgetItem(str(p) + (os.sep if p.is_dir() else ""))
                item.setToolTip(str(p))
                self.path_list.addItem(item)
        fmt = guess_format(self.paths)
        if fmt is not None:
            self.set_format(fmt)
        self._guessed = fmt
        self._load_csv_header()
        self._update_buttons()

    def set_format(self, fmt: str) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown import format {fmt!r}; one of {', '.join(FORMATS)}")
        self.format_combo.setCurrentIndex(FORMATS.index(fmt))

    def format(self) -> str:
        return self.format_combo.currentData()

    @Slot()
    def _on_add_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self, "Import articles", "", _FILE_FILTER)
        if files:
            self.add_paths(files)

    @Slot()
    def _on_add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import a folder of articles")
        if folder:
            self.add_paths([folder])

    @Slot()
    def _on_remove(self) -> None:
        rows = sorted({i.row() for i in self.path_list.selectedIndexes()}, reverse=True)
        for r in rows:
            self.path_list.takeItem(r)
            del self.paths[r]
        self._load_csv_header()
        self._update_buttons()

    @Slot()
    def _on_format_changed(self, *_: object) -> None:
        fmt = self.format()
        self.normalise_check.setChecked(NORMALISE_DEFAULT[fmt])
        self.csv_box.setVisible(fmt == "csv")
        self._load_csv_header()

    # -- the CSV mapping ------------------------------------------------------------------------
    def _first_csv(self) -> Path | None:
        for p in self.paths:
            if p.is_file() and format_of(p) == "csv":
                return p
            if p.is_dir():
                found = sorted(c for c in p.iterdir() if format_of(c) == "csv" and c.is_file())
                if found:
                    return found[0]
        return None

    def _load_csv_header(self) -> None:
        path = self._first_csv() if self.format() == "csv" else None
        header, rows = [], []
        self.preview_label.setText("Preview")
        if path is not None:
            try:
                header, rows = read_csv_preview(path)
                self.preview_label.setText(f"Preview of {path.name} (first {len(rows)} rows)")
            except (OSError, ValueError) as exc:
                self.preview_label.setText(f"Cannot read {path.name}: {exc}")
        if header == self.header and rows == self.preview_rows:
            return
        self.header, self.preview_rows = header, rows
        self._fill_mapping(guess_mapping(header, rows) if header else
                           {"text_column": None, "title_column": None, "meta_columns": []})

    def _fill_mapping(self, mapping: dict[str, Any]) -> None:
        for combo in (self.text_combo, self.title_combo):
            combo.blockSignals(True)
            combo.clear()
        self.title_combo.addItem(_NO_COLUMN, None)
        for h in self.header:
            self.text_combo.addItem(h, h)
            self.title_combo.addItem(h, h)
        self.meta_list.clear()
        for h in self.header:
            item = QListWidgetItem(h)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if h in mapping["meta_columns"] else Qt.Unchecked)
            self.meta_list.addItem(item)
        for combo in (self.text_combo, self.title_combo):
            combo.blockSignals(False)
        self.set_mapping(mapping["text_column"], mapping["title_column"], mapping["meta_columns"])

    def set_mapping(self, text_column: str | None, title_column: str | None = None,
                    meta_columns: list[str] | None = None) -> None:
        """Choose the columns (as a user would with the combo boxes and checkboxes)."""
        for combo, col in ((self.text_combo, text_column), (self.title_combo, title_column)):
            i = combo.findData(col)
            if col is not None and i < 0:
                raise ValueError(f"no column {col!r} in the file; columns: {', '.join(self.header)}")
            combo.setCurrentIndex(max(i, 0))
        if meta_columns is not None:
            for i in range(self.meta_list.count()):
                item = self.meta_list.item(i)
                item.setCheckState(Qt.Checked if item.text() in meta_columns else Qt.Unchecked)
        self._on_mapping_changed()

    def mapping(self) -> dict[str, Any]:
        """The column mapping as import_paths takes it (None when the format is not CSV)."""
        if self.format() != "csv":
            return {"text_column": None, "title_column": None, "meta_columns": None}
        text, title = self.text_combo.currentData(), self.title_combo.currentData()
        meta = [self.meta_list.item(i).text() for i in range(self.meta_list.count())
                if self.meta_list.item(i).checkState() == Qt.Checked
                and self.meta_list.item(i).text() not in (text, title)]
        return {"text_column": text, "title_column": title, "meta_columns": meta}

    @Slot()
    def _on_mapping_changed(self, *_: object) -> None:
        text, title = self.text_combo.currentData(), self.title_combo.currentData()
        for i in range(self.meta_list.count()):
            item = self.meta_list.item(i)
            # The article's own columns are not metadata: greyed out while chosen as text/title.
            used = item.text() in (text, title)
            flags = item.flags()
            item.setFlags(flags & ~Qt.ItemIsEnabled if used else flags | Qt.ItemIsEnabled)
        self._fill_preview()
        self._update_buttons()

    def _fill_preview(self) -> None:
        text, title = self.text_combo.currentData(), self.title_combo.currentData()
        self.preview.clear()
        self.preview.setColumnCount(len(self.header))
        self.preview.setRowCount(len(self.preview_rows))
        labels = [h + (" → text" if h == text else " → title" if h == title else "")
                  for h in self.header]
        self.preview.setHorizontalHeaderLabels(labels)
        for r, row in enumerate(self.preview_rows):
            for c in range(len(self.header)):
                value = row[c] if c < len(row) else ""
                flat = " ".join(value.split())
                shown = flat if len(flat) <= _PREVIEW_CHARS else flat[:_PREVIEW_CHARS - 1] + "…"
                item = QTableWidgetItem(shown)
                item.setToolTip(flat[:1000])
                self.preview.setItem(r, c, item)
        header = self.preview.horizontalHeader()
        for c, h in enumerate(self.header):
            header.resizeSection(c, 320 if h == text else 160 if h == title else 100)

    # -- running --------------------------------------------------------------------------------
    def _update_buttons(self) -> None:
        busy = self.last_op is not None and not self.last_op.is_done
        ready = bool(self.paths) and (self.format() != "csv" or self.text_combo.currentData() is not None)
        self.import_button.setEnabled(ready and not busy)
        self.annotate_button.setEnabled(self.summary is not None and not busy and not self._annotated
                                        and getattr(self.summary, "added", 0) > 0)
        self.remove_button.setEnabled(not busy)

    def start_import(self) -> ops.Op | None:
        """Run the import in the background; the summary line appears when it is done."""
        if not self.paths:
            self._show_result("Choose files or a folder to import first.", [])
            return None
        from storage.importer import import_paths
        fmt, mapping, normalise = self.format(), self.mapping(), self.normalise_check.isChecked()
        # What the user left as proposed is left to the core, as the command line leaves it:
        # the guessed format lets each file be read by its own extension, and the default
        # normalisation lets a JSONL record carrying spans keep its offsets.
        if fmt == self._guessed:
            fmt = None
        if normalise == NORMALISE_DEFAULT[self.format()]:
            normalise = None
        paths = list(self.paths)
        project = self.project

        def work(progress, should_cancel):
            return import_paths(project, paths, fmt=fmt, normalise=normalise,
                                progress=progress, should_cancel=should_cancel, **mapping)

        self._show_result(f"Importing {len(paths)} item(s)…", [])
        self.last_op = ops.run_in_background(self, "Importing articles", work, self._on_imported,
                                             on_error=self._on_failed)
        self._update_buttons()
        return self.last_op

    def _on_imported(self, summary) -> None:
        self.summary = summary
        self._annotated = False
        notes = [f"warning: {w}" for w in summary.warnings] + [f"skipped: {s}" for s in summary.skipped]
        line = summary.line()
        if summary.added:
            line += ". Pre-annotate them now to get entity and claim suggestions."
        self._show_result(line[:1].upper() + line[1:], notes)
        self._update_buttons()
        if self.annotate_button.isEnabled():
            self.annotate_button.setDefault(True)
        self.imported.emit(summary)

    def start_annotate(self) -> ops.Op:
        """Pre-annotate the documents not yet annotated by the project's model (cancellable)."""
        from storage.preannotate import annotate
        project = self.project

        def work(progress, should_cancel):
            return annotate(project, progress=progress, should_cancel=should_cancel)

        self._show_result("Pre-annotating…", [])
        self.last_op = ops.run_in_background(self, "Pre-annotating", work, self._on_annotated,
                                             on_error=self._on_failed)
        self._update_buttons()
        return self.last_op

    def _on_annotated(self, summary) -> None:
        line = summary.line()
        self._show_result(line[:1].upper() + line[1:], [])
        self._annotated = True
        self._update_buttons()
        self.annotated.emit(summary)

    def _on_failed(self, exc: BaseException) -> None:
        self._show_result("Cancelled: the project is as it was before this step."
                          if isinstance(exc, ops.Cancelled) else "", [])
        self.error_message = ops.report_error(self, self.last_op.title if self.last_op else "Import", exc)
        self._update_buttons()

    def _show_result(self, text: str, notes: list[str]) -> None:
        self.summary_label.setText(text)
        self.details.setPlainText("\n".join(notes[:500]) + (f"\n… and {len(notes) - 500} more"
                                                             if len(notes) > 500 else ""))
        self.details.setVisible(bool(notes))

    def reject(self) -> None:
        # Closing mid-import would leave the result unseen; cancel it first.
        if self.last_op is not None and not self.last_op.is_done:
            self.last_op.cancel()
            return
        super().reject()

