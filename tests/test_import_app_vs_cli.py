"""One home for formats, CSV reading and normalisation defaults: the command line and the app's
import dialog import the same files to the same stored rows."""
from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from storage.project import Project
from tests.conftest import ROOT

ARTICLE = ("Homs, Syria (Reuters) - Government forces shelled the old\ncity on Tuesday, the "
           "Syrian Observatory said.\n\nA media activist told AFP that twelve people were killed.\n")


def _files(case: str, d: Path) -> Path:
    d.mkdir()
    if case == "txt":
        (d / "homs.txt").write_text(ARTICLE)
        return d / "homs.txt"
    if case == "csv":
        # Semicolons, a title and no known name for the metadata: sniffing and guessing matter.
        with open(d / "news.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, delimiter=";")
            w.writerow(["unit_id", "headline", "article_content", "source", "labels"])
            w.writerow(["7", "Shelling in Homs", ARTICLE, "reuters", "1"])
            w.writerow(["8", "Talks", "Delegations met in Astana,\nofficials said.", "sana", "0"])
        return d / "news.csv"
    if case == "jsonl-plain":
        (d / "plain.jsonl").write_text("\n".join(json.dumps(o) for o in (
            {"text": ARTICLE, "meta": {"source": "x"}},
            {"text": "Hard wrapped\nline about Aleppo.\n\nComments About This Article"}))
            + "\n")
        return d / "plain.jsonl"
    if case == "jsonl-spans":
        (d / "spans.jsonl").write_text(json.dumps({
            "text": ARTICLE, "spans": [{"start": 0, "end": 4, "label": "GPE"},
                                       {"start": 13, "end": 20, "label": "ORG"}],
            "answer": "accept"}) + "\n" + json.dumps({"text": "Second\nwrapped line.", "label": [
                [0, 6, "X"], [99, 200, "Y"]]}) + "\n")
        return d / "spans.jsonl"
    (d / "a.txt").write_text("Reuters said twelve people were killed in Homs.\n")
    (d / "a.ann").write_text("T1\tSource 0 7\tReuters\nT2\tCue 8 12\tsaid\n"
                             "T3\tContent 13 47\ttwelve people were killed in Homs\n"
                             "E1\tAttribution:T2 Source:T1 Cue:T2 Content:T3\n")
    return d


TABLES = {
    "documents": "name, title, source, url, date, raw_text, text, content_hash, offset_map, status,"
                 " meta, n_spans, n_suggested, n_claims",
    "spans": 'document_id, start, "end", label, origin, status, annotator, model, fragments',
    "claims": "document_id, content_span_id, cue_span_id, source_span_id, attribution_span_id,"
              " origin, status, annotator",
    "doc_labels": "document_id, label, origin",
    "labels": "name, kind",
}


def _rows(path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return {t: conn.execute(f"SELECT {cols} FROM {t} ORDER BY rowid").fetchall()
                for t, cols in TABLES.items()}
    finally:
        conn.close()


@pytest.mark.parametrize("case", ["txt", "csv", "jsonl-plain", "jsonl-spans", "brat"])
def test_cli_and_dialog_store_the_same_rows(qtbot, tmp_path, case):
    from ui import ops
    from ui.import_dialog import ImportDialog
    target = _files(case, tmp_path / "in")
    by_cli = tmp_path / "cli.credence"
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "import", str(by_cli), str(target)],
                       cwd=ROOT, capture_output=True, text=True, timeout=120,
                       env={"CREDENCE_NO_BOOTSTRAP": "1", "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    by_app = tmp_path / "app.credence"
    with Project(by_app) as project:
        dialog = ImportDialog(None, project)
        qtbot.addWidget(dialog)
        dialog.set_paths([target])  # as a user adds them; every choice left as proposed
        op = dialog.start_import()
        qtbot.waitUntil(lambda: op.is_done, timeout=20000)
        assert op.error is None, op.error
    assert ops.shutdown(timeout_ms=20000)
    cli_rows, app_rows = _rows(by_cli), _rows(by_app)
    assert cli_rows["documents"], "nothing imported"
    for table in TABLES:
        assert app_rows[table] == cli_rows[table], table
    if case == "jsonl-plain":  # a span-free JSONL file is normalised, by both
        assert cli_rows["documents"][1][5] is not None  # raw kept apart: the text was changed


def test_the_preview_reads_a_csv_as_the_import_does(tmp_path):
    from annotation.readers import read_path
    from ui.import_dialog import guess_mapping, read_csv_preview
    path = _files("csv", tmp_path / "in")
    header, rows = read_csv_preview(path)
    assert header == ["unit_id", "headline", "article_content", "source", "labels"]
    docs = read_path(path).documents
    assert [r[2] for r in rows] == [d.raw_text for d in docs]
    mapping = guess_mapping(header, rows)
    assert (mapping["text_column"], mapping["title_column"]) == ("article_content", "headline")
