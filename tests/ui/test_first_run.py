"""The demo's first run: the seed article opens pre-annotated at once, the other articles are
pre-annotated in the background (status bar progress, Cancel) while the analyst reviews, and
the next start goes on where it stopped, never annotating an article twice."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from storage import background_annotation as bg
from storage import demo
from storage.preannotate import annotate
from storage.project import Project
from tests.conftest import shared_path
from tests.ui.review_fixtures import show_active, snap, stored, temp_settings  # noqa: F401
from ui import ops
from ui.app import open_demo

N_FAKES = 14


@pytest.fixture
def small_fakes(tmp_path, monkeypatch) -> Path:
    """The first FA-KES articles (real rows, the real columns) as the demo's FA-KES file."""
    source = shared_path("fa-kes", "FA-KES-Dataset.csv")
    csv.field_size_limit(10**8)
    with open(source, encoding="utf-8", errors="replace", newline="") as f:
        reader = csv.DictReader(f)
        rows = [r for _, r in zip(range(N_FAKES), reader)]
        fields = reader.fieldnames
    path = tmp_path / "fakes.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    monkeypatch.setattr(demo, "fakes_path", lambda: path)
    monkeypatch.setattr(bg, "BATCH_CHARS", 2500)   # a few batches even for 14 articles
    shared_path("seed", "homs-offensive.txt")
    return path


def new_window(qtbot, nlp):
    from ui.main_window import MainWindow
    w = MainWindow(load_model=False, nlp=nlp)
    qtbot.addWidget(w)
    w.resize(1400, 860)
    show_active(qtbot, w)
    return w


def model_spans(path: Path) -> list[tuple]:
    return stored(path, 'SELECT d.name, d.title, s.start, s."end", s.label FROM spans s JOIN documents d'
                        " ON d.id = s.document_id WHERE s.origin = 'model' ORDER BY 1, 2, 3, 4, 5")


@pytest.mark.slow
def test_first_run_reads_the_seed_article_while_the_rest_is_annotated(
        qtbot, nlp, tmp_path, small_fakes, artifacts):
    path = tmp_path / "demo" / "demo.credence"
    w = new_window(qtbot, nlp)
    open_demo(w, path)
    # The seed article, pre-annotated, before the FA-KES articles are.
    qtbot.waitUntil(lambda: w.review_model is not None and w.review_model.doc_id is not None,
                    timeout=30000)
    m = w.review_model
    assert stored(path, "SELECT name FROM documents WHERE id = ?", (m.doc_id,)) == [("homs-offensive",)]
    assert len(m.spans) > 40 and m.current is not None and m.current.status == "suggested"
    assert w.view.toPlainText().startswith(m.text[:40])
    assert stored(path, "SELECT count(*) FROM documents")[0][0] == N_FAKES + 1
    assert w.annotator is not None and w.annotator.running
    assert w.annotating_label.isVisible() and w.annotating_cancel.isVisible()
    assert not ops.is_busy()   # parsing in the background never refuses a decision
    snap(qtbot, w, artifacts / "first-run-01-seed-article.png")

    # Review while it runs: a decision is stored at once.
    first = m.current
    qtbot.keyClick(w.view, Qt.Key_A)
    table = "claims" if first.kind == "claim" else "spans"
    assert stored(path, f"SELECT status FROM {table} WHERE id = ?", (first.id,)) == [("accepted",)]
    seen = []

    def on_progress(done: int, total: int) -> None:
        # Cancel as soon as a few articles are in, whatever the machine's speed.
        seen.append((done, total, w.annotating_label.text(), w.annotating_bar.value()))
        if done >= 4 and len(seen) == sum(1 for d, *_ in seen if d < 4) + 1:
            snap(qtbot, w, artifacts / "first-run-02-annotating.png")
            qtbot.mouseClick(w.annotating_cancel, Qt.LeftButton)
    w.annotator.progressed.connect(on_progress)
    # Cancel: what is stored stays, the rest is left for the next start.
    qtbot.waitUntil(lambda: w.annotator is None, timeout=120000)
    done, total, label, bar = next(s for s in seen if s[0] >= 4)
    assert total == N_FAKES + 1 and label == f"Pre-annotating: {done} of {total} articles"
    assert bar == done
    done = bg.annotated_count(w.project)
    assert 0 < done < N_FAKES + 1, "cancelled before the end"
    assert not w.annotating_label.isVisible() and not w.annotating_cancel.isVisible()
    assert "Pre-annotation stopped" in w.statusBar().currentMessage()
    assert stored(path, "SELECT value FROM meta WHERE key = 'annotate_in_background'") == [("1",)]
    snap(qtbot, w, artifacts / "first-run-03-cancelled.png")
    before = model_spans(path)
    w.close()

    # The next start: the seed article again, and the rest annotated in the background.
    w2 = new_window(qtbot, nlp)
    open_demo(w2, path)
    assert w2.project is not None                   # opened at once, nothing to build
    qtbot.waitUntil(lambda: w2.annotator is None and bg.pending_count(w2.project) == 0,
                    timeout=120000)
    assert "Pre-annotation finished" in w2.statusBar().currentMessage()
    after = model_spans(path)
    assert set(before) <= set(after)
    assert stored(path, "SELECT count(*) FROM documents WHERE annotated_with IS NULL") == [(0,)]
    assert stored(path, "SELECT value FROM meta WHERE key = 'annotate_in_background'") == [(None,)]
    # Nothing annotated twice: the same suggestions as one pre-annotation run of the same articles.
    with Project(tmp_path / "reference.credence") as ref:
        demo.prepare_demo(ref, nlp=nlp)
        annotate(ref, nlp=nlp)
    assert after == model_spans(tmp_path / "reference.credence")
    assert stored(path, "SELECT status FROM claims WHERE id = ?" if first.kind == "claim" else
                  "SELECT status FROM spans WHERE id = ?", (first.id,)) == [("accepted",)]
    snap(qtbot, w2, artifacts / "first-run-04-resumed-and-finished.png")
    w2.close()


def test_a_first_run_stopped_before_the_import_is_completed_at_the_next_start(
        qtbot, nlp, tmp_path, small_fakes):
    """Killed after the seed article was stored but before FA-KES was: the next start imports
    the rest (nothing twice) and annotates it."""
    path = tmp_path / "demo.credence"
    with Project(path) as p:
        demo.prepare_demo(p, nlp=nlp, with_fakes=False)
        p.set_setting(demo.PREPARED, None)
    w = new_window(qtbot, nlp)
    open_demo(w, path)
    qtbot.waitUntil(lambda: stored(path, "SELECT count(*) FROM documents")[0][0] == N_FAKES + 1,
                    timeout=30000)
    qtbot.waitUntil(lambda: w.annotator is None and bg.pending_count(w.project) == 0,
                    timeout=120000)
    assert stored(path, "SELECT count(DISTINCT content_hash), count(*) FROM documents") == \
        [(N_FAKES + 1, N_FAKES + 1)]
    w.close()
