"""The review window driven by keys and clicks; every test asserts the rows stored in the file."""
from __future__ import annotations

import re
import sqlite3

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from storage.project import Project
from tests.ui.review_fixtures import (  # noqa: F401  (fixtures)
    SEED_NAME,
    press,
    seed_project,
    seed_template,
    show_active,
    snap,
    stored,
    temp_settings,
    window,
)

K = Qt.Key


def text_of(w, span_id: int) -> str:
    s = w.review_model.spans[span_id]
    return w.review_model.text[s.start:s.end]


def go_to(qtbot, w, pred, limit: int = 200) -> None:
    """Press J until the current item satisfies `pred`."""
    for _ in range(limit):
        if w.review_model.current is not None and pred(w.review_model.current):
            return
        press(qtbot, w, K.Key_J)
    raise AssertionError("no such item")


def answered(qtbot, w) -> None:
    """Wait until the question box has gone and the window has the keys again."""
    qtbot.waitUntil(lambda: w.controller.done_box is None, timeout=3000)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=3000)


def click_offset(qtbot, w, offset: int) -> None:
    qtbot.mouseClick(w.view.viewport(), Qt.LeftButton, pos=w.view.point_of(offset))


def test_window_shows_three_panes_and_first_suggestion(qtbot, window, artifacts):
    w = window
    c = w.review_model
    assert w.splitter.count() == 3
    assert c.current is not None and c.current.status == "suggested"
    assert c.current == next(it for it in c.items if it.status == "suggested")
    assert w.view.toPlainText().startswith(c.text[:40])
    assert "suggestions left" in w.counts_label.text() and "Model:" in w.model_label.text()
    snap(qtbot, w, artifacts / "review-01-opened.png")


def test_j_and_k_move_through_suggestions_without_storing(qtbot, window):
    w = window
    c = w.review_model
    first = c.current
    press(qtbot, w, K.Key_J)
    second = c.current
    assert second != first and second.status == "suggested"
    assert (second.start, second.end) >= (first.start, first.end)
    press(qtbot, w, K.Key_K)
    assert c.current == first
    assert stored(w.project.path, "SELECT count(*) FROM events")[0][0] == 0


def test_accept_and_reject_are_stored_and_move_on(qtbot, window):
    w = window
    c = w.review_model
    go_to(qtbot, w, lambda it: it.kind == "span")
    first = c.current
    press(qtbot, w, K.Key_A)
    after_accept = c.current
    assert after_accept != first and after_accept.status == "suggested"
    go_to(qtbot, w, lambda it: it.kind == "span")
    second = c.current
    press(qtbot, w, K.Key_X)
    rows = dict(stored(w.project.path, "SELECT id, status FROM spans WHERE id IN (?, ?)",
                       (first.id, second.id)))
    assert rows == {first.id: "accepted", second.id: "rejected"}
    assert stored(w.project.path, "SELECT status FROM documents WHERE id = ?", (c.doc_id,)) == [("in review",)]
    assert w.action("undo").text().replace("&", "") == "Undo reject"


def test_relabel_with_a_number_key(qtbot, window):
    w = window
    c = w.review_model
    go_to(qtbot, w, lambda it: it.kind == "span" and c.spans[it.id].label == "ORG")
    sid = c.current.id
    gpe_key = next(lab["key"] for lab in w.project.labels() if lab["name"] == "GPE")
    qtbot.keyClick(w.view, gpe_key)
    assert stored(w.project.path, "SELECT label, status, origin FROM spans WHERE id = ?", (sid,)) == [
        ("GPE", "accepted", "model")]
    assert c.current.id == sid  # stays, so boundaries or apply-to-all can follow


def test_create_span_from_a_mouse_like_selection(qtbot, window, artifacts):
    w = window
    c = w.review_model
    start = c.text.index("air strikes")
    # A sloppy selection inside the words: snapped outwards to whole tokens.
    w.view.select_range(start + 1, start + len("air strik"))
    event_key = next(lab["key"] for lab in w.project.labels() if lab["name"] == "EVENT")
    qtbot.keyClick(w.view, event_key)
    rows = stored(w.project.path, 'SELECT id, start, "end", label, origin, status FROM spans'
                                  " WHERE document_id = ? AND label = 'EVENT'", (c.doc_id,))
    assert len(rows) == 1
    sid, s, e, label, origin, status = rows[0]
    assert c.text[s:e] == "air strikes" and (origin, status) == ("analyst", "accepted")
    assert c.current.id == sid and w.view.selection_range() is None
    snap(qtbot, w, artifacts / "review-02-created-span.png")


def test_click_selects_a_highlight_and_keys_move_its_boundaries(qtbot, window):
    w = window
    c = w.review_model
    start = c.text.index("Zaman Alwasl.")
    click_offset(qtbot, w, start + 2)
    sid = c.current.id
    assert c.current.kind == "span" and text_of(w, sid) == "Zaman Alwasl"
    press(qtbot, w, K.Key_Right, Qt.ShiftModifier)      # end grows by the "." token
    assert text_of(w, sid) == "Zaman Alwasl."
    press(qtbot, w, K.Key_Left, Qt.ShiftModifier)       # and shrinks back
    press(qtbot, w, K.Key_Left, Qt.ShiftModifier | Qt.ControlModifier)  # start grows by "told"
    row = stored(w.project.path, 'SELECT start, "end", status FROM spans WHERE id = ?', (sid,))[0]
    assert c.text[row[0]:row[1]] == "told Zaman Alwasl" and row[2] == "accepted"
    press(qtbot, w, K.Key_Right, Qt.ShiftModifier | Qt.ControlModifier)  # start shrinks back
    row = stored(w.project.path, 'SELECT start, "end" FROM spans WHERE id = ?', (sid,))[0]
    assert c.text[row[0]:row[1]] == "Zaman Alwasl"
    assert stored(w.project.path, "SELECT count(DISTINCT group_id) FROM events WHERE action = "
                                  "'move boundary'")[0][0] == 4


def _mentions(w, word: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"(?<!\w)" + re.escape(word) + r"(?!\w)",
                                                     w.review_model.text)]


def test_apply_to_all_in_the_article_is_one_undoable_step(qtbot, window, artifacts):
    w = window
    c = w.review_model
    doc = c.doc_id
    before = stored(w.project.path, 'SELECT id, start, "end", label, status FROM spans'
                                    " WHERE document_id = ? ORDER BY id", (doc,))
    go_to(qtbot, w, lambda it: it.kind == "span" and text_of(w, it.id) == "Assad"
          and c.spans[it.id].label == "PERSON")
    press(qtbot, w, K.Key_A, Qt.ShiftModifier)
    mentions = _mentions(w, "Assad")
    rows = stored(w.project.path, 'SELECT start, "end", label, status FROM spans WHERE document_id = ?'
                                  " AND label NOT IN ('Source', 'Cue', 'Content')", (doc,))
    at = {(s, e): (lab, st) for s, e, lab, st in rows}
    assert len(mentions) >= 5
    # Every mention, except those inside another entity ("pro-Assad's", "Bashar al-Assad's"):
    # no entity is made that overlaps another (issue 13).
    others = [(s, e) for _i, s, e, lab, _st in before
              if lab not in ("Source", "Cue", "Content") and c.text[s:e] != "Assad"]
    inside = [m for m in mentions if any(a < m[1] and m[0] < b for a, b in others)]
    assert inside and len(inside) < len(mentions)
    for m in mentions:
        if m in inside:
            assert at.get(m, ("", ""))[1] != "accepted", m
        else:
            assert at[m] == ("PERSON", "accepted"), m
    assert f"skipped {len(inside)} inside a longer suggestion" in w.statusBar().currentMessage()
    assert w.action("undo").text().replace("&", "").startswith("Undo PERSON every 'Assad'")
    snap(qtbot, w, artifacts / "review-03-apply-to-all.png")
    qtbot.keyClick(w.view, K.Key_Z, Qt.ControlModifier)
    assert stored(w.project.path, 'SELECT id, start, "end", label, status FROM spans'
                                  " WHERE document_id = ? ORDER BY id", (doc,)) == before
    assert all(c.spans[sid].status == st for sid, _s, _e, _l, st in before)  # the view reloaded
    qtbot.keyClick(w.view, K.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    at = {(s, e): (lab, st) for s, e, lab, st in stored(
        w.project.path, 'SELECT start, "end", label, status FROM spans WHERE document_id = ?'
                        " AND label = 'PERSON'", (doc,))}
    assert all(at.get(m) == ("PERSON", "accepted") for m in mentions if m not in inside)


def test_reject_every_mention_in_the_project(qtbot, window):
    w = window
    go_to(qtbot, w, lambda it: it.kind == "span" and text_of(w, it.id) == "Reuters")
    press(qtbot, w, K.Key_X, Qt.ShiftModifier | Qt.ControlModifier)
    rows = stored(w.project.path, "SELECT d.name, s.status FROM spans s JOIN documents d"
                                  " ON d.id = s.document_id WHERE substr(d.text, s.start + 1,"
                                  " s.\"end\" - s.start) = 'Reuters' AND s.label = 'ORG'")
    assert {name for name, _ in rows} >= {SEED_NAME}
    assert all(st == "rejected" for _, st in rows)


def test_grade_a_claim_and_its_source_with_two_key_sequences(qtbot, window, artifacts):
    w = window
    c = w.review_model
    go_to(qtbot, w, lambda it: it.kind == "claim" and c.claims[it.id].source_span_id is not None)
    claim_id = c.current.id
    press(qtbot, w, K.Key_C)
    press(qtbot, w, K.Key_2)
    press(qtbot, w, K.Key_S)
    press(qtbot, w, K.Key_B)
    (cred, source_id), = stored(w.project.path, "SELECT credibility, source_id FROM claims WHERE id = ?",
                                (claim_id,))
    assert cred == 2
    assert stored(w.project.path, "SELECT reliability FROM sources WHERE id = ?", (source_id,)) == [("B",)]
    assert w.side.credibility.currentData() == 2 and w.side.reliability.currentData() == "B"
    snap(qtbot, w, artifacts / "review-04-claim-graded.png")
    press(qtbot, w, K.Key_A)  # accepting a claim accepts its parts
    statuses = stored(w.project.path, "SELECT s.status FROM claims c JOIN spans s ON s.id IN"
                                      " (c.content_span_id, c.cue_span_id, c.source_span_id)"
                                      " WHERE c.id = ?", (claim_id,))
    assert statuses and all(st == "accepted" for (st,) in statuses)


def test_mark_a_claim_and_pick_its_cue_and_source_from_the_text(qtbot, window, artifacts):
    w = window
    c = w.review_model
    sentence = "Many districts have fallen in and out of government control"
    s = c.text.index(sentence)
    w.view.select_range(s, s + len(sentence))
    press(qtbot, w, K.Key_M)
    claim_id = c.current.id
    assert c.current.kind == "claim"
    cue = c.text.index("expressed alarm")
    w.view.select_range(cue, cue + len("expressed"))
    press(qtbot, w, K.Key_C)
    press(qtbot, w, K.Key_U)
    src = c.text.index("The United Nations has")
    w.view.select_range(src + 4, src + len("The United Nations"))
    press(qtbot, w, K.Key_C)
    press(qtbot, w, K.Key_S)
    (content, cue_id, source_id, registry, origin), = stored(
        w.project.path, "SELECT content_span_id, cue_span_id, source_span_id, source_id, origin"
                        " FROM claims WHERE id = ?", (claim_id,))
    spans = {sid: (st, e, lab) for sid, st, e, lab in stored(
        w.project.path, 'SELECT id, start, "end", label FROM spans WHERE id IN (?, ?, ?)',
        (content, cue_id, source_id))}
    assert c.text[spans[content][0]:spans[content][1]] == sentence and spans[content][2] == "Content"
    assert c.text[spans[cue_id][0]:spans[cue_id][1]] == "expressed" and spans[cue_id][2] == "Cue"
    assert c.text[spans[source_id][0]:spans[source_id][1]] == "United Nations"
    assert origin == "analyst" and registry is not None
    name = stored(w.project.path, "SELECT name FROM sources WHERE id = ?", (registry,))[0][0]
    assert "United Nations" in name
    # All three parts are drawn together around the current one.
    assert c.current.key == ("claim", claim_id) and len(w.view._outlines) == 3
    snap(qtbot, w, artifacts / "review-05-claim-marked.png")


def test_switch_article_mark_done_and_label(qtbot, window):
    w = window
    c = w.review_model
    seed_id = c.doc_id
    press(qtbot, w, K.Key_N)
    other = c.doc_id
    assert other != seed_id and w.doc_list.current_doc_id() == other
    left = w.project.undecided_count(other)
    assert left > 0
    press(qtbot, w, K.Key_D)
    box = w.controller.done_box
    assert box is not None and f"{left} suggestion(s)" in box.text()
    qtbot.keyClick(box, K.Key_R)          # "Reject the remaining N"
    answered(qtbot, w)
    assert w.project.undecided_count(other) == 0
    press(qtbot, w, K.Key_L)
    press(qtbot, w, K.Key_1)
    assert stored(w.project.path, "SELECT status FROM documents WHERE id = ?", (other,)) == [("done",)]
    assert stored(w.project.path, "SELECT label FROM doc_labels WHERE document_id = ?", (other,)) == [
        ("credible",)]
    assert w.side.doc_checks["credible"].isChecked()
    press(qtbot, w, K.Key_P)
    assert c.doc_id == seed_id and not w.side.doc_checks["credible"].isChecked()


def test_filter_the_list_by_search_status_and_label(qtbot, window, artifacts):
    w = window
    dl = w.doc_list
    total = stored(w.project.path, "SELECT count(*) FROM documents")[0][0]
    assert dl.model.rowCount() == total
    qtbot.keyClicks(dl.search, "Geneva")
    qtbot.waitUntil(lambda: dl.model.rowCount() == 1, timeout=2000)
    assert dl.model.row_data(0).name == "geneva"
    snap(qtbot, w, artifacts / "review-06-search.png")
    dl.search.clear()
    qtbot.waitUntil(lambda: dl.model.rowCount() == total, timeout=2000)
    press(qtbot, w, K.Key_D)  # the seed article is done, its undecided suggestions rejected
    qtbot.keyClick(w.controller.done_box, K.Key_R)
    answered(qtbot, w)
    dl.status.setCurrentIndex(dl.status.findData("done"))
    done = [r[0] for r in stored(w.project.path, "SELECT name FROM documents WHERE status = 'done'")]
    assert [dl.model.row_data(i).name for i in range(dl.model.rowCount())] == done == [SEED_NAME]
    dl.status.setCurrentIndex(0)
    press(qtbot, w, K.Key_L)
    press(qtbot, w, K.Key_2)
    dl.label.setCurrentIndex(dl.label.findData("not credible"))
    assert [dl.model.row_data(i).name for i in range(dl.model.rowCount())] == [SEED_NAME]


def test_context_menu_offers_the_same_actions(qtbot, window):
    w = window
    c = w.review_model
    offset = c.text.index("Damascus") + 1
    menu = w.build_context_menu(offset)
    assert text_of(w, c.current.id) == "Damascus"
    assert w.action("accept") in menu.actions() and w.action("reject") in menu.actions()
    w.action("reject").trigger()
    assert stored(w.project.path, "SELECT status FROM spans WHERE document_id = ? AND start = ?",
                  (c.doc_id, offset - 1)) == [("rejected",)]


def test_a_locked_project_gives_one_message_and_changes_nothing(qtbot, window, tmp_path, monkeypatch):
    w = window
    other = tmp_path / "other.credence"
    Project(other).close()
    told = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: told.append(a[1:3]))
    holder = Project(other)  # open elsewhere: holds the lock
    try:
        before = (w.project, w.review_model.doc_id)
        assert not w.open_project(other)
    finally:
        holder.close()
    assert len(told) == 1 and "open elsewhere" in told[0][1]
    assert (w.project, w.review_model.doc_id) == before


def test_recent_files_and_geometry_live_in_temporary_settings(qtbot, window, temp_settings, nlp):
    from ui.main_window import DEFAULT_SIZE, MainWindow
    w = window
    assert str(w.project.path.resolve()) in w.recent_files()
    w.resize(701, 503)
    w.close()
    files = list(temp_settings.rglob("*.ini"))
    assert files and all(str(f).startswith(str(temp_settings)) for f in files)
    assert QSettings().value("window/geometry") is not None
    w2 = MainWindow(load_model=False, nlp=nlp)
    qtbot.addWidget(w2)
    assert (w2.width(), w2.height()) == (701, 503)
    # A window saved tiny (a small virtual screen, a window manager that shrank it) opens at
    # the default size instead of as a postage stamp.
    w2.resize(536, 347)
    w2.close()
    w3 = MainWindow(load_model=False, nlp=nlp)
    qtbot.addWidget(w3)
    assert (w3.width(), w3.height()) == DEFAULT_SIZE


def test_cheat_sheet_and_shortcuts_come_from_one_table(qtbot, window, artifacts):
    from PySide6.QtGui import QKeySequence

    from ui.cheat_sheet import CheatSheet, shortcut_rows
    w = window
    seen: dict[str, str] = {}
    for spec in w.specs:
        action = w.action(spec.name, spec.arg)
        assert [s.toString() for s in action.shortcuts()] == [QKeySequence(k).toString() for k in spec.keys]
        for k in spec.keys:
            key = QKeySequence(k).toString()
            assert key not in seen, f"{key} is bound twice: {seen.get(key)} and {spec.id}"
            seen[key] = spec.id
    rows = shortcut_rows(w.specs)
    listed = " ".join(r[1] for r in rows)
    for key in seen:
        assert QKeySequence(key).toString(QKeySequence.NativeText) in listed
    shots = []

    def grab_and_close():
        dialog = QApplication.activeModalWidget()
        shots.append(dialog)
        dialog.grab().save(str(artifacts / "review-07-cheat-sheet.png"))
        dialog.close()

    QTimer.singleShot(200, grab_and_close)
    qtbot.keyClick(w.view, K.Key_F1)
    assert shots and isinstance(shots[0], CheatSheet)
    assert shots[0].table.rowCount() == len(rows)


def test_article_text_is_shown_as_plain_text_never_markup(qtbot, tmp_path, nlp):
    from annotation.model import NewDocument, SpanRecord
    from storage.ingest import store_documents
    from ui.main_window import MainWindow
    path = tmp_path / "markup.credence"
    text = "<img src='file:///etc/passwd'> <b>Assad</b> 😀 said &amp; Homs 🇸🇾 fell."
    homs = text.index("Homs")
    with Project(path) as p:
        store_documents(p, [NewDocument(raw_text=text, name="markup", normalise=False,
                                        spans=[SpanRecord(homs, homs + 4, "GPE")])])
    w = MainWindow(load_model=False, nlp=nlp)
    qtbot.addWidget(w)
    show_active(qtbot, w)
    assert w.open_project(path)
    assert w.view.toPlainText() == text
    assert "<img" not in w.view.document().toHtml() and w.view.document().allFormats()
    # The highlight sits on "Homs" although two astral characters come before it.
    block = w.view.document().firstBlock()
    (fmt,) = [r for r in block.layout().formats() if r.format.background().style() != Qt.NoBrush]
    m = w.view.offsets  # formats count UTF-16 units: "😀" before "Homs" is two of them
    assert fmt.start == homs + 1
    assert text[m.from_qt(fmt.start):m.from_qt(fmt.start + fmt.length)] == "Homs"
    after = text.index("fell")
    w.view.select_range(after, after + 4)
    qtbot.keyClick(w.view, "0")
    (s, e), = stored(path, "SELECT start, \"end\" FROM spans WHERE label = 'MISC'")
    assert text[s:e] == "fell"
    w.close()


def test_opening_a_project_keeps_a_rolling_backup(qtbot, window):
    from storage.backup import list_backups
    from ui import ops
    qtbot.waitUntil(lambda: not ops.is_busy() and bool(list_backups(window.project.path)), timeout=10000)
    [backup] = list_backups(window.project.path)
    conn = sqlite3.connect(backup)
    try:
        n = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
    finally:
        conn.close()
    assert n == window.project.document_count()
