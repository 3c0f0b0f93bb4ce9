"""A whole article reviewed by key presses alone; the window leaves no thread behind."""
from __future__ import annotations

from PySide6.QtCore import Qt

from tests.ui.review_fixtures import (  # noqa: F401  (fixtures)
    seed_project,
    seed_template,
    show_active,
    snap,
    stored,
    temp_settings,
    window,
)
from ui import ops


def test_every_suggestion_of_the_seed_article_at_most_one_key_per_decision(qtbot, window, artifacts):
    w = window
    c = w.review_model
    doc = c.doc_id
    undecided = [it for it in c.items if it.status == "suggested"]
    decisions = len(undecided)
    assert decisions > 30
    repeated = {}
    for it in undecided:
        if it.kind == "span":
            repeated.setdefault(c.text[it.start:it.end], []).append(it.id)
    keys = 0
    while any(it.status == "suggested" for it in c.items):
        cur = c.current
        assert cur is not None and cur.status == "suggested", "a decision must move to the next suggestion"
        if cur.kind == "claim":
            key, mod = Qt.Key_A, Qt.NoModifier
        else:
            span = c.spans[cur.id]
            text = c.text[span.start:span.end]
            if span.label in ("CARDINAL", "ORDINAL", "QUANTITY"):
                key, mod = Qt.Key_X, Qt.NoModifier          # numbers: not wanted here
            elif len(repeated.get(text, ())) > 1:
                key, mod = Qt.Key_A, Qt.ShiftModifier       # every mention at once
            else:
                key, mod = Qt.Key_A, Qt.NoModifier
        qtbot.keyClick(w.view, key, mod)
        keys += 1
        assert keys <= decisions, "more key presses than decisions"
    left = stored(w.project.path, "SELECT count(*) FROM spans WHERE document_id = ? AND status = 'suggested'",
                  (doc,))[0][0]
    claims_left = stored(w.project.path, "SELECT count(*) FROM claims WHERE document_id = ?"
                                         " AND status = 'suggested'", (doc,))[0][0]
    assert left == 0 and claims_left == 0
    rejected = stored(w.project.path, "SELECT count(*) FROM spans WHERE document_id = ? AND status = 'rejected'",
                      (doc,))[0][0]
    assert rejected > 0
    print(f"\n{decisions} decisions in {keys} key presses: {keys / decisions:.2f} per decision")
    assert keys / decisions <= 1.0
    snap(qtbot, w, artifacts / "review-08-all-decided.png")


def test_model_loads_in_the_background_and_no_thread_is_left(qtbot, seed_project):
    from PySide6.QtWidgets import QApplication

    from ui.main_window import MainWindow
    w = MainWindow(load_model=True)
    qtbot.addWidget(w)
    w.show()
    assert w.model_label.text() in ("Model: not loaded", "Loading model…")  # the window came first
    qtbot.waitUntil(lambda: w.nlp is not None, timeout=60000)
    assert w.model_label.text().startswith("Model: ")
    assert w.open_project(seed_project)
    w.close()
    assert not ops.worker_running()
    QApplication.processEvents()
