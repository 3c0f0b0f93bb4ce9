"""The source registry in the window (issue 13, item 4): the dialog's suggested merges, merge,
un-merge, grade, note and undo by keys; the side panel's proposed source until it is confirmed.
Real widgets; every check reads the rows stored in the file."""
from __future__ import annotations

import json

from PySide6.QtCore import Qt

from annotation.model import NewDocument
from storage.ingest import store_documents
from storage.preannotate import annotate
from storage.review import Review
from tests.test_sources import TEXTS, claim_by_source
from tests.ui.review_fixtures import (  # noqa: F401  (fixtures)
    seed_project,
    seed_template,
    show_active,
    snap,
    stored,
    temp_settings,
    window,
)
from tests.ui.test_review_keys import go_to, press
from ui.sources_dialog import SourcesDialog

K = Qt.Key


def _entry(project, name):
    return project.conn.execute("SELECT id, name, aliases, reliability, note FROM sources"
                                " WHERE name = ?", (name,)).fetchone()


def _registry(project):
    return project.conn.execute("SELECT name FROM sources ORDER BY name").fetchall()


def _select_suggestion(dialog, name: str) -> None:
    view = dialog.suggestion_view
    for i in range(view.topLevelItemCount()):
        if view.topLevelItem(i).text(0) == name:
            view.setCurrentItem(view.topLevelItem(i))
            return
    raise AssertionError(f"no suggestion {name!r}: {[s.name for s in dialog.suggestions()]}")


def test_registry_dialog_merges_unmerges_grades_and_undoes_by_keys(qtbot, project, nlp, artifacts):
    store_documents(project, [NewDocument(t) for t in TEXTS])
    annotate(project, nlp=nlp)
    claims = claim_by_source(project)
    review = Review(project)
    for name in ("Reuters", "the Syrian Observatory for Human Rights", "The Syrian Observatory"):
        review.accept_claim(claims[name])
    junk = review.create_source("Reuters) Ceasefire").id
    dialog = SourcesDialog(None, project, review)
    qtbot.addWidget(dialog)
    show_active(qtbot, dialog)  # mnemonics and shortcuts need the active window
    assert [r[0] for r in dialog.row_values()] == [
        "Reuters", "Reuters) Ceasefire", "The Syrian Observatory", "the Syrian Observatory for Human Rights"]
    qtbot.waitUntil(lambda: dialog.suggestion_view.topLevelItemCount() == 3)
    shown = [(s.name, s.keep_name, s.other_id is None) for s in dialog.suggestions()]
    assert sorted(shown) == [
        ("Reuters) Ceasefire", "Reuters", False),
        ("The Britain-based Syrian Observatory for Human Rights",   # a name on a suggested claim
         "the Syrian Observatory for Human Rights", True),
        ("The Syrian Observatory", "the Syrian Observatory for Human Rights", False)]
    assert dialog.suggestion_box.title() == "&Suggested merges (3)"
    dialog.resize(1100, 640)
    snap(qtbot, dialog, artifacts / "sources-dialog-suggestions.png")

    # Enter merges the selected suggestion: the junk entry becomes a name of Reuters.
    dialog.suggestion_view.setFocus()
    _select_suggestion(dialog, "Reuters) Ceasefire")
    qtbot.keyClick(dialog.suggestion_view, K.Key_Return)
    reuters = _entry(project, "Reuters")
    assert json.loads(reuters[2]) == ["Reuters) Ceasefire"] and _entry(project, "Reuters) Ceasefire") is None
    assert dialog.status_label.text() == "Merged “Reuters) Ceasefire” into “Reuters”"
    # N: different sources, not suggested again.
    _select_suggestion(dialog, "The Syrian Observatory")
    qtbot.keyClick(dialog.suggestion_view, K.Key_N)
    assert project.conn.execute("SELECT norm_a, norm_b FROM source_not_same").fetchall() == [
        ("syrian observatory", "syrian observatory for human rights")]
    assert [s.name for s in dialog.suggestions()] == ["The Britain-based Syrian Observatory for Human Rights"]
    # M on the last one: the candidate name becomes an alias of the Observatory.
    qtbot.keyClick(dialog.suggestion_view, K.Key_M)
    observatory = _entry(project, "the Syrian Observatory for Human Rights")
    assert json.loads(observatory[2]) == ["The Britain-based Syrian Observatory for Human Rights"]
    assert dialog.suggestions() == [] and dialog.suggestion_box.title() == "&Suggested merges (0)"

    # Grade by key, write a note, un-merge with U: all in the table and the details.
    dialog.select_ids([reuters[0]])
    dialog.table.setFocus()
    qtbot.keyClick(dialog.table, K.Key_B)
    assert _entry(project, "Reuters")[3] == "B"
    dialog.note_edit.setFocus()
    dialog.note_edit.setPlainText("wire agency")
    qtbot.keyClick(dialog.note_edit, K.Key_Return, Qt.ControlModifier)
    assert _entry(project, "Reuters")[4] == "wire agency"
    dialog.aliases_list.setFocus()
    dialog.aliases_list.setCurrentRow(0)
    assert dialog.unmerge_button.isEnabled()
    qtbot.keyClick(dialog.aliases_list, K.Key_U)
    back = _entry(project, "Reuters) Ceasefire")
    assert back is not None and back[0] == junk and json.loads(_entry(project, "Reuters")[2]) == []
    assert dialog.selected_ids() == [junk]
    assert "Reuters) Ceasefire" in [s.name for s in dialog.suggestions()]  # suggested again
    # Ctrl+Z in the dialog takes back the un-merge (then the note).
    qtbot.keyClick(dialog.table, K.Key_Z, Qt.ControlModifier)
    assert _entry(project, "Reuters) Ceasefire") is None
    assert dialog.status_label.text() == "Undid unmerge source Reuters) Ceasefire from Reuters"
    qtbot.keyClick(dialog.table, K.Key_Z, Qt.ControlModifier)
    assert _entry(project, "Reuters")[4] is None
    dialog.select_ids([reuters[0]])
    qtbot.wait(20)
    snap(qtbot, dialog, artifacts / "sources-dialog-merged.png")


def test_registry_dialog_filters_thousands_of_rows(qtbot, project):
    review = Review(project)
    with review.decision("many sources"):
        for i in range(3000):
            review.create_source(f"Outlet {i:04d}")
    dialog = SourcesDialog(None, project, review)
    qtbot.addWidget(dialog)
    dialog.show()
    assert len(dialog.row_values()) == 3000
    dialog.filter_edit.setText("outlet 12")
    assert [r[0] for r in dialog.row_values()] == [f"Outlet 12{i:02d}" for i in range(100)]
    dialog.table.sortByColumn(0, Qt.DescendingOrder)
    assert dialog.row_values()[0][0] == "Outlet 1299"


def test_side_panel_shows_the_proposed_source_until_it_is_confirmed(qtbot, window, artifacts):
    w = window
    m = w.review_model
    path = w.project.path
    assert stored(path, "SELECT count(*) FROM sources") == [(0,)]
    go_to(qtbot, w, lambda it: it.kind == "claim" and m.claim_view() is not None
          and m.claim_view().parts.get("Source") == "Reuters")
    claim_id = m.current.id
    assert w.side.registry.currentText() == "“Reuters” · proposed"
    assert "not confirmed yet" in w.side.registry.toolTip()
    assert w.side.reliability.isEnabled()
    snap(qtbot, w, artifacts / "review-sources-proposed.png")
    press(qtbot, w, K.Key_A)                   # accepting confirms it
    (source_id,) = stored(path, "SELECT source_id FROM claims WHERE id = ?", (claim_id,))[0]
    assert stored(path, "SELECT name FROM sources") == [("Reuters",)]
    m.select("claim", claim_id)
    w.controller._show_current()
    assert w.side.registry.currentText() == "Reuters" and w.side.registry.currentData() == source_id

    # S then B on another suggested claim: its source joins the registry graded, the claim
    # stays suggested.
    go_to(qtbot, w, lambda it: it.kind == "claim" and it.status == "suggested"
          and m.claim_view().parts.get("Source") == "The United Nations")
    other = m.current.id
    press(qtbot, w, K.Key_S)
    press(qtbot, w, K.Key_B)
    assert stored(path, "SELECT c.status, s.name, s.reliability FROM claims c JOIN sources s"
                        " ON s.id = c.source_id WHERE c.id = ?", (other,)) == [
        ("suggested", "The United Nations", "B")]
    assert w.side.registry.currentText() == "The United Nations  [B]"
    assert w.side.heading.text() == "Claim (suggested)  ·  B?"

    # In another article, a suggested claim whose proposed name is an entry already says so.
    (geneva,) = stored(path, "SELECT id FROM documents WHERE name = 'geneva'")[0]
    w.doc_list.select_document(geneva)
    w.view.setFocus()
    go_to(qtbot, w, lambda it: it.kind == "claim" and m.claim_view().parts.get("Source") == "Reuters")
    assert w.side.registry.currentText() == "Reuters · proposed"
    assert "links it to the registry entry “Reuters”" in w.side.registry.toolTip()
    snap(qtbot, w, artifacts / "review-sources-known.png")
    press(qtbot, w, K.Key_X)                   # rejecting leaves the registry as it is
    assert stored(path, "SELECT name FROM sources ORDER BY name") == [("Reuters",), ("The United Nations",)]
