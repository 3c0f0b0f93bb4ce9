"""Import, export and source-registry dialogs, driven as a user would, checked against stored rows."""
from __future__ import annotations

import csv
import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from tests.ui.conftest import build_small_project
from ui.export_dialog import ExportDialog
from ui.import_dialog import ImportDialog, guess_format
from ui.sources_dialog import SourcesDialog

FAKES_HEADER = ["unit_id", "article_title", "article_content", "source", "date", "location", "labels"]
FAKES_ROWS = [
    ["101", "Strikes on Idlib", "Warplanes struck Idlib on Sunday, activists said. "
     "At least nine people were killed, the Syrian Observatory reported.", "reuters", "4/2/2017", "Idlib", "1"],
    ["102", "Talks resume", "Delegations met in Astana on Monday. A spokesman said talks were "
     "constructive.", "sana", "5/2/2017", "Astana", "0"],
    ["103", "Aid convoy", "An aid convoy reached Douma, the Red Crescent said on Tuesday.",
     "aljazeera", "6/2/2017", "Douma", "1"],
]


def _write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def _message_boxes() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


def _close_boxes() -> None:
    for box in _message_boxes():
        box.close()


# -- import -------------------------------------------------------------------------------------------
def test_import_csv_with_a_column_mapping(qtbot, project, tmp_path, artifacts):
    path = _write_csv(tmp_path / "fakes-sample.csv", FAKES_HEADER, FAKES_ROWS)
    dialog = ImportDialog(None, project)
    qtbot.addWidget(dialog)
    dialog.set_paths([path])
    dialog.show()
    # The format is guessed and the FA-KES mapping pre-selected from the header.
    assert dialog.format() == "csv" and dialog.csv_box.isVisible()
    assert dialog.normalise_check.isChecked()
    assert dialog.text_combo.currentText() == "article_content"
    assert dialog.title_combo.currentText() == "article_title"
    assert dialog.preview.rowCount() == 3 and dialog.preview.columnCount() == len(FAKES_HEADER)
    assert dialog.preview.item(0, 1).text() == "Strikes on Idlib"
    # The analyst keeps only some columns as metadata.
    dialog.set_mapping("article_content", "article_title", ["source", "location"])
    assert dialog.mapping() == {"text_column": "article_content", "title_column": "article_title",
                                "meta_columns": ["source", "location"]}
    dialog.resize(760, 620)
    qtbot.wait(20)
    dialog.grab().save(str(artifacts / "import_dialog_csv.png"))

    imported = []
    dialog.imported.connect(imported.append)
    op = dialog.start_import()
    qtbot.waitUntil(lambda: op.is_done, timeout=10000)
    assert op.error is None, op.error
    rows = project.conn.execute("SELECT title, coalesce(raw_text, text), source, meta"
                                " FROM documents ORDER BY id").fetchall()
    assert [r[0] for r in rows] == ["Strikes on Idlib", "Talks resume", "Aid convoy"]
    assert rows[0][1] == FAKES_ROWS[0][2]
    assert rows[0][2] == "reuters"
    assert json.loads(rows[1][3]) == {"source": "sana", "location": "Astana"}
    assert imported and imported[0].added == 3
    assert dialog.summary_label.text().startswith("Read 3, added 3 documents")
    assert dialog.annotate_button.isEnabled()
    dialog.grab().save(str(artifacts / "import_dialog_done.png"))


def test_import_then_pre_annotate(qtbot, project, tmp_path, nlp):
    path = _write_csv(tmp_path / "fakes-sample.csv", FAKES_HEADER, FAKES_ROWS)
    dialog = ImportDialog(None, project)
    qtbot.addWidget(dialog)
    dialog.set_paths([path])
    op = dialog.start_import()
    qtbot.waitUntil(lambda: op.is_done, timeout=10000)
    annotated = []
    dialog.annotated.connect(annotated.append)
    op = dialog.start_annotate()
    qtbot.waitUntil(lambda: op.is_done, timeout=60000)
    assert op.error is None, op.error
    assert annotated and annotated[0].documents == 3
    n_model = project.conn.execute("SELECT count(*) FROM spans WHERE origin = 'model'").fetchone()[0]
    assert n_model >= annotated[0].entities > 0
    assert project.conn.execute(
        "SELECT count(*) FROM documents WHERE annotated_with IS NULL").fetchone()[0] == 0
    assert dialog.summary_label.text().startswith("Annotated 3 documents")
    assert not dialog.annotate_button.isEnabled()


def test_import_error_is_one_clear_message(qtbot, project, tmp_path):
    path = _write_csv(tmp_path / "no-text.csv", ["id", "n"], [["1", "2"], ["2", "3"]])
    dialog = ImportDialog(None, project)
    qtbot.addWidget(dialog)
    dialog.set_paths([path])
    dialog.set_mapping("n", None, [])
    (tmp_path / "no-text.csv").unlink()  # gone before the import starts: the user's problem
    op = dialog.start_import()
    qtbot.waitUntil(lambda: op.is_done, timeout=10000)
    assert "no such file" in dialog.error_message
    boxes = _message_boxes()
    assert len(boxes) == 1 and boxes[0].text() == dialog.error_message
    assert project.document_count() == 0
    _close_boxes()


def test_cancelled_import_adds_nothing(project, tmp_path):
    """The dialog cancels an import through should_cancel: the transaction rolls back."""
    import pytest

    from storage.importer import import_paths
    from ui.ops import Cancelled
    rows = [[str(i), f"Title {i}", f"Article number {i} says something, officials said.", "x", "", "", ""]
            for i in range(1100)]  # more than one ingest batch (500)
    path = _write_csv(tmp_path / "many.csv", FAKES_HEADER, rows)
    seen = []
    with pytest.raises(Cancelled):
        import_paths(project, [path], fmt="csv",
                     progress=lambda d, t: seen.append(d), should_cancel=lambda: len(seen) >= 1)
    assert seen  # it was cancelled part-way, after the first progress report
    assert project.document_count() == 0
    assert project.conn.execute("SELECT count(*) FROM sightings").fetchone()[0] == 0


def test_format_guess_and_normalise_default(qtbot, project, tmp_path):
    (tmp_path / "brat").mkdir()
    (tmp_path / "brat" / "a.txt").write_text("Text.")
    (tmp_path / "brat" / "a.ann").write_text("")
    assert guess_format([tmp_path / "brat"]) == "brat"
    (tmp_path / "one.html").write_text("<p>x</p>")
    assert guess_format([tmp_path / "one.html"]) == "html"
    dialog = ImportDialog(None, project)
    qtbot.addWidget(dialog)
    dialog.set_paths([tmp_path / "brat"])
    assert dialog.format() == "brat" and not dialog.normalise_check.isChecked()
    assert not dialog.csv_box.isVisibleTo(dialog)
    assert dialog.mapping()["text_column"] is None


def test_import_a_folder_of_text_files(qtbot, project, tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "homs.txt").write_text("Government forces shelled Homs,\nactivists said.\n")
    (folder / "aleppo.txt").write_text("Aleppo was quiet on Friday, residents told reporters.\n")
    dialog = ImportDialog(None, project)
    qtbot.addWidget(dialog)
    dialog.set_paths([folder])
    assert dialog.format() == "txt"
    op = dialog.start_import()
    qtbot.waitUntil(lambda: op.is_done, timeout=10000)
    names = {r[0]: r[1] for r in project.conn.execute("SELECT name, text FROM documents")}
    assert set(names) == {"homs", "aleppo"}
    assert names["homs"] == "Government forces shelled Homs, activists said."  # hard wrap joined


# -- export -------------------------------------------------------------------------------------------
def test_export_claims_jsonl(qtbot, project, tmp_path, artifacts):
    build_small_project(project)
    dialog = ExportDialog(None, project)
    qtbot.addWidget(dialog)
    dialog.set_format("claims-jsonl")
    out = tmp_path / "claims.jsonl"
    dialog.set_path(out)
    dialog.show()
    op = dialog.start_export()
    qtbot.waitUntil(lambda: op.is_done, timeout=10000)
    assert op.error is None, op.error
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 4
    observatory = next(c for c in lines if c["source_name"] == "the Syrian Observatory for Human Rights")
    assert observatory["reliability"] == "B" and observatory["credibility"] == 2
    assert observatory["cue"]["text"] == "said"
    assert dialog.summary_label.text().startswith("Exported 3 documents")
    assert str(out) in dialog.summary_label.text()
    dialog.resize(620, 240)
    qtbot.wait(20)
    dialog.grab().save(str(artifacts / "export_dialog.png"))


def test_export_decided_doccano_shows_counts_first(qtbot, project, tmp_path, artifacts):
    """By default the export holds what the analyst decided, and the dialog says how much
    before writing: the choice of everything counts (and writes) every suggestion too."""
    info = build_small_project(project)
    dialog = ExportDialog(None, project)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.set_format("doccano")
    assert dialog.out_path().suffix == ".jsonl"
    assert dialog.decided_radio.isChecked() and not dialog.everything()
    qtbot.waitUntil(lambda: dialog.counts is not None and dialog.counts.format == "doccano",
                    timeout=10000)
    done_id = info["documents"][0]
    accepted = project.conn.execute(
        "SELECT start, \"end\", label FROM spans WHERE document_id = ? AND status = 'accepted'"
        " ORDER BY start, \"end\"", (done_id,)).fetchall()
    assert dialog.counts_label.text() == f"1 document, {len(accepted)} spans, 2 claims"
    dialog.resize(660, 300)
    qtbot.wait(20)
    dialog.grab().save(str(artifacts / "export_dialog_counts.png"))
    out = tmp_path / "reviewed.jsonl"
    dialog.set_path(out)
    op = dialog.start_export()
    qtbot.waitUntil(lambda: op.is_done, timeout=10000)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    # Only document A is done; of its spans only the accepted ones.
    assert len(records) == 1
    assert sorted(tuple(x) for x in records[0]["label"]) == sorted(tuple(a) for a in accepted)
    # Everything: every document and every span not rejected, counted before writing.
    dialog.everything_radio.click()
    qtbot.waitUntil(lambda: dialog.counts is not None and dialog.everything(), timeout=10000)
    not_rejected = project.conn.execute("SELECT count(*) FROM spans WHERE status != 'rejected'"
                                        ).fetchone()[0]
    assert dialog.counts_label.text() == f"3 documents, {not_rejected} spans, 4 claims"
    op = dialog.start_export()
    qtbot.waitUntil(lambda: op.is_done, timeout=10000)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 3 and sum(len(r["label"]) for r in records) == not_rejected


def export_everything(qtbot, dialog, out):
    """Everything (the dialog's second scope) exported to `out` from the dialog, waited for."""
    dialog.set_everything(True)
    dialog.set_path(out)
    op = dialog.start_export()
    qtbot.waitUntil(lambda: op.is_done, timeout=60000)
    assert op.error is None, op.error
    return out


def test_export_docbin_with_worker_processes(qtbot, project, tmp_path, monkeypatch):
    """From the app's background worker thread, worker processes write parts of the DocBin;
    the file is the one-process export's, byte for byte."""
    from storage.export import export
    from storage.export import parallel as export_parallel
    from tests.test_export_parallel import Spy
    build_small_project(project)
    monkeypatch.setenv(export_parallel.WORKERS_ENV, "0")
    export(project, "spacy", tmp_path / "one.spacy", everything=True)
    monkeypatch.setenv(export_parallel.WORKERS_ENV, "2")
    monkeypatch.setattr(export_parallel, "PART_DOCUMENTS", 1)
    spy = Spy(monkeypatch)
    dialog = ExportDialog(None, project)
    qtbot.addWidget(dialog)
    dialog.set_format("spacy")
    out = export_everything(qtbot, dialog, tmp_path / "train.spacy")
    assert spy.taken and all(w.proc.poll() is not None for w in spy.workers)
    assert out.read_bytes() == (tmp_path / "one.spacy").read_bytes()
    assert dialog.summary_label.text().startswith("Exported 3 documents")


def test_export_to_a_missing_folder_is_a_message(qtbot, project, tmp_path):
    build_small_project(project)
    dialog = ExportDialog(None, project)
    qtbot.addWidget(dialog)
    dialog.set_format("claims-csv")
    dialog.set_path(tmp_path / "nowhere" / "claims.csv")
    op = dialog.start_export()
    qtbot.waitUntil(lambda: op.is_done, timeout=10000)
    assert dialog.error_message and "nowhere" in dialog.error_message
    assert len(_message_boxes()) == 1
    assert not (tmp_path / "nowhere").exists()
    _close_boxes()


# -- sources ------------------------------------------------------------------------------------------
def _source_row(project, source_id):
    return project.conn.execute("SELECT name, aliases, reliability, note FROM sources WHERE id = ?",
                                (source_id,)).fetchone()


def test_sources_grade_by_key_and_combo(qtbot, project, artifacts):
    info = build_small_project(project)
    review = info["review"]
    dialog = SourcesDialog(None, project, review)
    qtbot.addWidget(dialog)
    dialog.show()
    rows = dialog.row_values()
    assert ("the Syrian Observatory for Human Rights", "", "B — usually reliable", 1) in rows
    assert len(rows) == 4
    helmets = info["sources"]["the White Helmets"]
    dialog.select_ids([helmets])
    dialog.table.setFocus()
    qtbot.keyClick(dialog.table, Qt.Key_C)
    assert _source_row(project, helmets)[2] == "C"
    assert dialog.row_values()[[r[0] for r in dialog.row_values()].index("the White Helmets")][2] \
        == "C — fairly reliable"
    # Two at once with the combo: one undoable step.
    activist = info["sources"]["A media activist"]
    dialog.select_ids([helmets, activist])
    dialog.reliability_combo.setCurrentIndex(dialog.reliability_combo.findData("F"))
    dialog.reliability_combo.activated.emit(dialog.reliability_combo.currentIndex())
    assert {_source_row(project, i)[2] for i in (helmets, activist)} == {"F"}
    review.undo()
    assert _source_row(project, helmets)[2] == "C" and _source_row(project, activist)[2] is None
    dialog.reload()
    dialog.select_ids([helmets])
    qtbot.keyClick(dialog.table, Qt.Key_0)
    assert _source_row(project, helmets)[2] is None
    dialog.select_ids([activist])
    dialog.resize(980, 560)
    qtbot.wait(20)
    dialog.grab().save(str(artifacts / "sources_dialog.png"))


def test_sources_alias_merge_and_note(qtbot, project):
    info = build_small_project(project)
    review = info["review"]
    dialog = SourcesDialog(None, project, review)
    qtbot.addWidget(dialog)
    observatory, activist = info["observatory"], info["sources"]["A media activist"]
    dialog.select_ids([observatory])
    dialog.alias_edit.setText("SOHR")
    dialog.alias_button.click()
    assert json.loads(_source_row(project, observatory)[1]) == ["SOHR"]
    assert project.conn.execute("SELECT source_id FROM source_aliases WHERE alias = 'SOHR'").fetchone()[0] \
        == observatory
    dialog.note_edit.setPlainText("UK-based monitor with a network of contacts in Syria")
    dialog.note_button.click()
    assert _source_row(project, observatory)[3] == "UK-based monitor with a network of contacts in Syria"

    assert dialog.merge(observatory, activist)
    assert project.conn.execute("SELECT count(*) FROM sources WHERE id = ?", (activist,)).fetchone()[0] == 0
    assert project.conn.execute("SELECT count(*) FROM claims WHERE source_id = ?",
                                (observatory,)).fetchone()[0] == 2
    name, aliases, grade, _note = _source_row(project, observatory)
    assert grade == "B" and "A media activist" in json.loads(aliases)
    assert len(dialog.row_values()) == 3
    assert dialog.selected_ids() == [observatory]
    assert ("the Syrian Observatory for Human Rights", "SOHR, A media activist", "B — usually reliable", 2) \
        in dialog.row_values()


def test_sources_error_is_one_clear_message(qtbot, project):
    info = build_small_project(project)
    dialog = SourcesDialog(None, project, info["review"])
    qtbot.addWidget(dialog)
    helmets = info["sources"]["the White Helmets"]
    before = _source_row(project, helmets)
    assert not dialog.add_alias(helmets, "A media activist")
    assert "already names another source" in dialog.error_message
    boxes = _message_boxes()
    assert len(boxes) == 1 and boxes[0].text() == dialog.error_message
    assert _source_row(project, helmets) == before
    _close_boxes()


def test_export_docbin_folder_from_the_dialog(qtbot, project, tmp_path, artifacts, monkeypatch):
    """The folder of .spacy files is offered beside the single file; choosing it proposes a
    folder beside the project, and the summary says how many files `spacy train` will read."""
    from storage.export import spacy_docbin
    from tests.test_export_spacy import merged
    build_small_project(project)
    monkeypatch.setattr(spacy_docbin, "SHARD_DOCUMENTS", 2)
    dialog = ExportDialog(None, project)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.set_format("spacy-folder")
    default = dialog.out_path()
    assert default is not None and default.suffix == "" and default.parent == project.path.parent
    out = export_everything(qtbot, dialog, tmp_path / "corpus")
    assert sorted(p.name for p in out.glob("*.spacy")) == ["00001.spacy", "00002.spacy"]
    from storage.export import export
    export(project, "spacy", tmp_path / "one.spacy", everything=True)
    assert merged(out) == (tmp_path / "one.spacy").read_bytes()
    assert "2 .spacy files" in dialog.summary_label.text()
    dialog.resize(660, 300)
    qtbot.wait(20)
    dialog.grab().save(str(artifacts / "export_dialog_folder.png"))
