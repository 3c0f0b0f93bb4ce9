"""Corroboration in the real window (issue 15): related claims in the side panel, links made with
one key each and undone, stance and the suggested grade by key, jumping to a linked claim and
back, the claims view's filters, and the registry's mark on sources that back discredited claims.
Each test checks the rows stored in the file and saves a screenshot."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu

from storage.project import Project
from tests.corroboration_fixtures import DOUMA, Article, build
from tests.ui.review_fixtures import press, show_active, stored, temp_settings  # noqa: F401
from ui.cheat_sheet import shortcut_rows

K = Qt.Key


@pytest.fixture
def douma_path(tmp_path) -> tuple[Path, dict[str, int], dict[str, list[int]]]:
    path = tmp_path / "douma.credence"
    with Project(path) as p:
        review, docs, claims = build(p, DOUMA + [Article(
            "alaraby-douma", "A bakery in Douma was hit by artillery on Monday and 12 civilians "
            "died, residents said.", outlet="alaraby", date="2016-04-04",
            claims=[("residents", "said", "A bakery in Douma was hit by artillery on Monday and "
                                          "12 civilians died")],
            entities=[("Douma", "GPE"), ("Monday", "DATE")])])
        observatory = p.claim(claims["reuters-douma"][0]).source_id
        review.grade_source(observatory, "B")
    return path, docs, claims


@pytest.fixture
def win(qtbot, douma_path):
    from ui.main_window import MainWindow
    path, docs, claims = douma_path
    w = MainWindow(load_model=False)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    show_active(qtbot, w)
    assert w.open_project(path)
    yield w, docs, claims
    w.close()


def snap(qtbot, widget, path) -> None:
    """Screenshot once the layouts have settled (wrapped labels take a second pass)."""
    qtbot.wait(200)
    widget.grab().save(str(path))


def open_claim(qtbot, w, doc_id: int, claim_id: int) -> None:
    assert w.goto_claim(doc_id, claim_id, remember=False)
    assert w.review_model.current_claim().id == claim_id
    w.view.setFocus()
    panel = w.side.corroboration
    qtbot.waitUntil(lambda: panel.related_status.text() != "Finding related claims…", timeout=5000)


def test_related_claims_are_linked_with_one_key_and_undone(qtbot, win, artifacts):
    w, docs, claims = win
    panel = w.side.corroboration
    x = claims["reuters-douma"][0]
    open_claim(qtbot, w, docs["reuters-douma"], x)
    related = [(row.claim_id, row.text) for row in panel.related_rows]
    assert related and "Ahram-Douma" in related[0][1] and "a medic" in related[0][1]
    assert "Artillery shelled Douma on Monday" in related[0][1]
    assert panel.links_empty.isVisible() and panel.isVisible()
    # ] picks the best related claim; Shift+S links it as supporting.
    press(qtbot, w, K.Key_BracketRight)
    assert [row.picked for row in panel.related_rows][:2] == [True, False]
    press(qtbot, w, K.Key_S, Qt.ShiftModifier)
    ahram = claims["ahram-douma"][0]
    assert stored(w.project.path, "SELECT from_claim, to_claim, kind, annotator FROM claim_links") == [
        (x, ahram, "supports", w.project.who)]
    assert [row.claim_id for row in panel.link_rows] == [ahram]
    assert panel.link_rows[0].text.startswith("supports · a medic · Ahram-Douma")
    assert panel.link_rows[0].picked  # the pick follows it into the links
    assert panel.related_rows[0].text.startswith("✓ supports")
    # The next one down is marked contradicting with Shift+C; = makes it the same claim instead.
    press(qtbot, w, K.Key_BracketRight)
    second = w.review_model.current_pick()
    assert second != ahram
    press(qtbot, w, K.Key_C, Qt.ShiftModifier)
    press(qtbot, w, K.Key_Equal)
    assert stored(w.project.path, "SELECT to_claim, kind FROM claim_links ORDER BY id") == [
        (ahram, "supports"), (second, "same claim")]
    assert "Undo link claims: same claim" in w.action("undo").text().replace("&", "")
    press(qtbot, w, K.Key_Z, Qt.ControlModifier)
    assert stored(w.project.path, "SELECT to_claim, kind FROM claim_links ORDER BY id") == [
        (ahram, "supports"), (second, "contradicts")]
    press(qtbot, w, K.Key_U, Qt.ShiftModifier)  # the picked claim is unlinked
    assert stored(w.project.path, "SELECT to_claim, kind FROM claim_links") == [(ahram, "supports")]
    assert len(panel.link_rows) == 1
    snap(qtbot, w, artifacts / "corroboration-01-related-and-links.png")


def test_evidence_suggests_a_grade_the_analyst_takes_with_y(qtbot, win, artifacts):
    w, docs, claims = win
    panel = w.side.corroboration
    x = claims["reuters-douma"][0]
    open_claim(qtbot, w, docs["reuters-douma"], x)
    assert panel.counts.text().startswith("0 independent source(s) support")
    order = [row.claim_id for row in panel.related_rows]
    for target in (claims["ahram-douma"][0], claims["alaraby-douma"][0]):
        while w.review_model.current_pick() != target:
            press(qtbot, w, K.Key_BracketRight)
        press(qtbot, w, K.Key_S, Qt.ShiftModifier)
    assert len(order) >= 2
    assert panel.counts.text().startswith("2 independent source(s) support")
    assert panel.suggestion.text().startswith("Suggested 1 (confirmed by other sources)")
    assert panel.take.isVisible()
    # Shown, not stored: the claim stays ungraded until Y.
    assert stored(w.project.path, "SELECT credibility FROM claims WHERE id = ?", (x,)) == [(None,)]
    press(qtbot, w, K.Key_Y)
    assert stored(w.project.path, "SELECT credibility FROM claims WHERE id = ?", (x,)) == [(1,)]
    assert "(as graded)" in panel.suggestion.text() and not panel.take.isVisible()
    assert w.side.heading.text().endswith("B1")
    # Stance by key: T then D.
    press(qtbot, w, K.Key_T)
    press(qtbot, w, K.Key_D)
    assert stored(w.project.path, "SELECT stance FROM claims WHERE id = ?", (x,)) == [("denies",)]
    assert panel.stance.currentData() == "denies"
    snap(qtbot, w, artifacts / "corroboration-02-evidence-and-grade.png")
    # The analyst overrides it: C then 3.
    press(qtbot, w, K.Key_C)
    press(qtbot, w, K.Key_3)
    assert stored(w.project.path, "SELECT credibility FROM claims WHERE id = ?", (x,)) == [(3,)]
    assert panel.take.isVisible()


def test_g_goes_to_the_picked_claim_and_b_comes_back(qtbot, win):
    w, docs, claims = win
    x, ahram = claims["reuters-douma"][0], claims["ahram-douma"][0]
    open_claim(qtbot, w, docs["reuters-douma"], x)
    press(qtbot, w, K.Key_BracketRight)
    press(qtbot, w, K.Key_S, Qt.ShiftModifier)
    # The list is filtered so the linked article is not in it: going there clears the filter.
    w.doc_list.search.setText("Government")
    w.doc_list.apply_filters()
    assert w.doc_list.model.row_of(docs["ahram-douma"]) is None
    w.view.setFocus()
    press(qtbot, w, K.Key_G)
    assert w.review_model.doc_id == docs["ahram-douma"]
    assert w.review_model.current_claim().id == ahram
    assert w.doc_list.current_doc_id() == docs["ahram-douma"]
    panel = w.side.corroboration
    assert [row.text.split(" · ")[0] for row in panel.link_rows] == ["supported by"]
    press(qtbot, w, K.Key_B)
    assert w.review_model.doc_id == docs["reuters-douma"]
    assert w.review_model.current_claim().id == x


def test_the_claims_view_filters_sorts_and_opens_a_claim(qtbot, win, artifacts):
    w, docs, claims = win
    x = claims["reuters-douma"][0]
    review = w.review_model.review
    review.grade_claim(x, 2)
    review.set_claim_stance(claims["sana-aleppo"][0], "denies")
    review.link_claims(claims["ahram-douma"][0], x, "supports")
    review.reject_claim(claims["weather"][0])
    press(qtbot, w, K.Key_C, Qt.ControlModifier | Qt.ShiftModifier)
    view = w.claims_view
    assert view is not None and view.isVisible()
    model = view.model
    n_claims = sum(len(v) for v in claims.values())
    assert view.count.text() == f"{n_claims - 1} claims"
    view.credibility.setCurrentIndex(view.credibility.findData(2))
    assert model.ids == [x] and view.count.text() == "1 claim"
    assert model.data(model.index(0, 2)) == "the Syrian Observatory"
    assert model.data(model.index(0, 3)) == "B" and model.data(model.index(0, 6)) == "sup 1"
    view.credibility.setCurrentIndex(0)
    view.link.setCurrentIndex(view.link.findData("supports"))
    assert sorted(model.ids) == sorted([x, claims["ahram-douma"][0]])
    view.link.setCurrentIndex(0)
    view.stance.setCurrentIndex(view.stance.findData("denies"))
    assert model.ids == [claims["sana-aleppo"][0]]
    view.stance.setCurrentIndex(0)
    view.date_from.setText("2017")
    view.apply_filters()
    assert model.ids == [claims["trt-douma-later"][0]]
    view.date_from.setText("20x7")
    view.apply_filters()
    assert "c00" in view.date_from.styleSheet() and len(model.ids) == n_claims - 1
    view.date_from.clear()
    view.status.setCurrentIndex(view.status.findData("rejected"))
    assert model.ids == [claims["weather"][0]]
    view.status.setCurrentIndex(1)
    view.search.setText("artillery douma")
    view.apply_filters()
    assert sorted(model.ids) == sorted([claims["ahram-douma"][0], claims["trt-douma-later"][0],
                                        claims["alaraby-douma"][0]])
    view.source.setText("resid")
    view.apply_filters()
    assert model.ids == [claims["alaraby-douma"][0]]
    view.source.clear()
    view.search.clear()
    view.apply_filters()
    # Sorting by a column header: by date, newest first.
    view.table.horizontalHeader().setSortIndicator(1, Qt.DescendingOrder)
    assert model.ids[0] == claims["trt-douma-later"][0]
    days = [model.row_data(i).day for i in range(len(model.ids))]
    assert days == sorted(days, reverse=True)
    snap(qtbot, view, artifacts / "corroboration-03-claims-view.png")
    # Keyboard: down to the Ahram claim, Enter opens it in the main window.
    view.table.setFocus()
    target = model.row_of(claims["ahram-douma"][0])
    for _ in range(target):
        qtbot.keyClick(view.table, K.Key_Down)
    qtbot.keyClick(view.table, K.Key_Return)
    assert w.review_model.doc_id == docs["ahram-douma"]
    assert w.review_model.current_claim().id == claims["ahram-douma"][0]
    # A decision in the main window shows in the view's rows.
    show_active(qtbot, w)
    w.view.setFocus()
    press(qtbot, w, K.Key_C)
    press(qtbot, w, K.Key_1)
    assert stored(w.project.path, "SELECT credibility FROM claims WHERE id = ?",
                  (claims["ahram-douma"][0],)) == [(1,)]
    row = model.row_of(claims["ahram-douma"][0])
    assert model.data(model.index(row, 4)) == "1"


def test_the_registry_marks_sources_that_keep_backing_discredited_claims(qtbot, win, artifacts):
    from ui.sources_dialog import DISCREDITED, SourcesDialog
    w, docs, claims = win
    review = w.review_model.review
    activists = w.project.claim(claims["trt-douma-later"][0]).source_id
    review.grade_claim(claims["trt-douma-later"][0], 5)
    review.link_claims(claims["sana-aleppo"][0], claims["sana-harasta"][0], "contradicts")
    dialog = SourcesDialog(w, w.project, review)
    qtbot.addWidget(dialog)
    dialog.show()
    model = dialog.table.model()
    rows = {model.index(r, 0).data(): model.index(r, DISCREDITED).data()
            for r in range(model.rowCount())}
    assert rows["activists"] == "⚠ 2"  # its claim graded 5, and its claim contradicted
    assert rows["the army"] == "1" and rows["a medic"] == ""
    snap(qtbot, dialog, artifacts / "corroboration-04-registry.png")
    assert activists is not None


def test_the_new_keys_are_in_the_menus_and_the_cheat_sheet(win):
    w, _docs, _claims = win
    keys = {row[1] for row in shortcut_rows(w.specs)}
    for key in ("]", "[", "Shift+S", "Shift+C", "=", "Shift+R", "Shift+U", "G", "B", "Y",
                "T, A", "T, D", "T, H", "Ctrl+Shift+C"):
        assert key in keys, key
    titles = {menu.title() for menu in w.menuBar().findChildren(QMenu)}
    assert {"Link the Picked Claim", "Stance"} <= titles
