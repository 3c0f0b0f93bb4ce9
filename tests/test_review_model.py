"""The review model without a display: navigation, token snapping, the claim-parts view, and
decisions that return what they changed (checked against the rows stored in the file)."""
from __future__ import annotations

import pytest

from annotation.model import ClaimRecord, NewDocument, SpanRecord
from annotation.tokens import TokenEdges
from storage.ingest import store_documents
from storage.project import Project
from storage.review import UndecidedSuggestions
from storage.review_model import NothingToDo, ReviewModel, Target, admiralty_code

TEXT = ("President Bashar al-Assad's forces shelled Homs city, the Syrian Observatory said. "
        "Reuters 😀 reported 12 deaths in Homs.")


def at(phrase: str, nth: int = 0) -> tuple[int, int]:
    start = -1
    for _ in range(nth + 1):
        start = TEXT.index(phrase, start + 1)
    return start, start + len(phrase)


def span(phrase: str, label: str, key: str | None = None, nth: int = 0, **kw) -> SpanRecord:
    return SpanRecord(*at(phrase, nth), label, key=key, **kw)


@pytest.fixture
def model(project):
    """One article with suggested entities (two overlapping) and a suggested claim."""
    store_documents(project, [
        NewDocument(TEXT, name="homs", normalise=False, spans=[
            span("Bashar al-Assad's", "PERSON"),
            span("Homs", "GPE"),
            span("Homs city", "GPE"),
            span("Syrian", "NORP"),
            span("Reuters", "ORG"),
            span("12", "CARDINAL"),
            span("Homs", "GPE", nth=1),
            span("President Bashar al-Assad's forces shelled Homs city", "Content", key="c"),
            span("said", "Cue", key="q"),
            span("the Syrian Observatory", "Source", key="s"),
        ], claims=[ClaimRecord(content="c", cue="q", source="s")]),
        NewDocument("Another article about Homs and Reuters.", name="other", normalise=False,
                    spans=[SpanRecord(22, 26, "GPE")]),
    ])
    m = ReviewModel(project)
    m.open(1)
    return m


def stored(project_path, sql: str, args: tuple = ()) -> list[tuple]:
    with Project(project_path, readonly=True) as p:
        return p.conn.execute(sql, args).fetchall()


def current_text(m: ReviewModel) -> str:
    s = m.current_span()
    return m.span_text(s) if s else ""


# -- navigation ---------------------------------------------------------------------------------
def test_opening_makes_the_first_undecided_item_current(model):
    m = model
    assert m.text == TEXT
    assert [(it.kind, TEXT[it.start:it.end]) for it in m.items[:3]] == [
        ("claim", TEXT[:at("the Syrian Observatory")[1] + len(" said")]),
        ("span", "Bashar al-Assad's"), ("span", "Homs")]
    assert m.current == m.items[0] and m.current.kind == "claim"
    # The claim's parts are not items of their own; its content is the focused part.
    assert {m.spans[s].label for s in m.part_of} == {"Content", "Cue", "Source"}
    assert m.focus_span == m.claims[m.current.id].content_span_id


def test_next_and_previous_undecided_wrap_round_the_article(model):
    m = model
    seen = [current_text(m)]
    for _ in range(len(m.items)):
        assert m.next_undecided()
        seen.append(m.span_text(m.spans[m.current.id]) if m.current.kind == "span" else "claim")
    # Every item once, in reading order, then back to the start.
    assert seen[1:8] == ["Bashar al-Assad's", "Homs", "Homs city", "Syrian", "Reuters", "12", "Homs"]
    assert seen[8] == "claim" and m.current == m.items[0]
    assert m.next_undecided(backwards=True)
    assert m.current == m.items[-1] and current_text(m) == "Homs"


def test_navigation_skips_decided_items_and_says_when_none_is_left(model, project_path):
    m = model
    m.next_undecided()                       # Bashar al-Assad's
    changes = m.accept()                     # stored, and on to the next undecided
    assert current_text(m) == "Homs" and changes.spans == {m.items[1].id}
    m.next_undecided(backwards=True)         # back over the accepted span: to the claim
    assert m.current.kind == "claim"
    for _ in range(20):
        if not any(it.status == "suggested" for it in m.items):
            break
        m.reject()
    assert not m.next_undecided()
    assert stored(project_path, "SELECT count(*) FROM spans WHERE document_id = 1 AND status = 'suggested'") \
        == [(0,)]


def test_clicking_again_cycles_entity_then_claim_part_then_claim(model):
    m = model
    syrian = at("Syrian")[0] + 2
    claim_id = next(iter(m.claims))
    c = m.claims[claim_id]
    targets = m.targets_at(syrian)
    assert targets == [Target("span", _span_id(m, "Syrian")),
                       Target("claim", claim_id, c.source_span_id),
                       Target("claim", claim_id, c.content_span_id)]
    assert m.click(syrian) == targets[0] and m.current.kind == "span"
    assert current_text(m) == "Syrian"
    assert m.click(syrian) == targets[1] and m.current_span().label == "Source"
    assert m.click(syrian) == targets[2] and m.current_span().label == "Content"
    assert m.click(syrian) == targets[0]     # and round again
    # Inside "Homs city": the shorter entity first, then the longer, then the claim.
    homs = at("Homs")[0] + 1
    assert [m.span_text(m.spans[t.focus or t.id]) for t in m.targets_at(homs)] == [
        "Homs", "Homs city", "President Bashar al-Assad's forces shelled Homs city"]
    # A right-click does not cycle: what is current there stays current.
    m.click(homs)
    m.click(homs)
    assert m.click(homs, cycle=False) == Target("span", _span_id(m, "Homs city"))
    assert m.click(len(TEXT) - 1) is None   # the full stop: nothing there


def c_parts(m: ReviewModel, claim_id: int) -> list[int]:
    return m.claims[claim_id].part_ids()


def _span_id(m: ReviewModel, phrase: str) -> int:
    return next(s.id for s in m.spans.values() if m.span_text(s) == phrase and s.label not in
                ("Content", "Cue", "Source"))


# -- tokens ----------------------------------------------------------------------------------------
def test_boundaries_move_by_spacy_tokens(model, project_path):
    m = model
    m.select("span", _span_id(m, "Bashar al-Assad's"))
    changes = m.move_boundary("shrink_end")   # drops the possessive "'s", not a letter of it
    assert current_text(m) == "Bashar al-Assad"
    sid = m.current.id
    assert changes.spans == {sid} and changes.documents == {1}
    assert stored(project_path, 'SELECT start, "end", status FROM spans WHERE id = ?', (sid,)) == [
        (*at("Bashar al-Assad"), "accepted")]
    m.move_boundary("grow_start")
    assert current_text(m) == "President Bashar al-Assad"
    m.move_boundary("shrink_start")
    m.move_boundary("shrink_start")           # "al", then "-", then "Assad": spaCy's own pieces
    assert current_text(m) == "al-Assad"
    m.move_boundary("grow_end")
    assert current_text(m) == "al-Assad's"
    with pytest.raises(NothingToDo):
        m.select("span", _span_id(m, "12"))
        m.move_boundary("shrink_end")          # one token: it cannot become empty


def test_selections_snap_outwards_to_tokens_past_astral_characters(model):
    m = model
    reuters = at("Reuters")
    # A sloppy selection: half of "Reuters", the emoji and the space after it.
    assert m.snap((reuters[0] + 2, reuters[1] + 3)) == (reuters[0], at("😀")[1])
    assert m.snap((at("reported")[0] + 1, at("reported")[0] + 3)) == at("reported")
    assert m.snap((reuters[1], reuters[1] + 1)) is None  # white space only
    # Offsets are code points: the token after the emoji starts right after its one code point.
    edges = TokenEdges("a 😀b 😀 c")
    assert list(zip(edges.starts, edges.ends)) == [(0, 1), (2, 3), (3, 4), (5, 6), (7, 8)]


def test_created_span_is_whole_tokens_and_is_returned_in_the_changes(model, project_path):
    m = model
    changes = m.create_span("EVENT", (at("shelled")[0] + 2, at("shelled")[1] - 1))
    assert changes.id is not None and changes.spans == {changes.id}
    assert stored(project_path, 'SELECT start, "end", label, origin, status FROM spans WHERE id = ?',
                  (changes.id,)) == [(*at("shelled"), "EVENT", "analyst", "accepted")]
    assert m.current.key == ("span", changes.id) and changes.counts


# -- the claim-parts view ------------------------------------------------------------------------------
def test_claim_view_shows_parts_focus_source_and_grades(model, project_path):
    m = model
    claim_id = m.current.id
    v = m.claim_view()
    assert v.parts == {"Source": "the Syrian Observatory", "Cue": "said",
                       "Content": "President Bashar al-Assad's forces shelled Homs city"}
    assert v.focus.label == "Content" and v.source is None and v.grade == ""
    src = m.review.create_source("Syrian Observatory for Human Rights", "B").id
    changes = m.set_claim_source(src)
    assert changes.claims == {claim_id} and m.claim_view().source.name.startswith("Syrian Observatory")
    changes = m.grade_claim(2)
    # Grading a suggested claim accepts it (and its parts), in the same undoable step.
    assert changes.claims == {claim_id} and changes.spans == set(c_parts(m, claim_id))
    assert changes.message == "Graded the claim 2 and accepted it"
    assert m.claim_view().grade == "B2" and m.current.key == ("claim", claim_id)
    assert m.claims[claim_id].status == "accepted"
    m.click(at("said")[0])
    assert m.claim_view().focus.label == "Cue" and m.claim_view().focus_text == "said"
    assert stored(project_path, "SELECT credibility, source_id FROM claims WHERE id = ?",
                  (claim_id,)) == [(2, src)]
    assert admiralty_code("C", None) == "C?" and admiralty_code(None, 6) == "?6"


# -- decisions return what they changed ---------------------------------------------------------------
def test_each_decision_returns_its_changes_and_the_rows_match(model, project_path):
    m = model
    claim_id = m.current.id
    c = m.claims[claim_id]
    changes = m.accept()                      # a claim: it and its parts, and its source registered
    assert changes.claims == {claim_id} and changes.spans == set(c.part_ids())
    assert changes.documents == {1} and changes.counts and changes.undo_text == "accept claim"
    assert changes.registry and stored(project_path, "SELECT s.name FROM claims c JOIN sources s"
                                       " ON s.id = c.source_id WHERE c.id = ?",
                                       (claim_id,)) == [("the Syrian Observatory",)]
    assert stored(project_path, "SELECT status FROM claims WHERE id = ?", (claim_id,)) == [("accepted",)]
    assert {r[0] for r in stored(project_path, "SELECT status FROM spans WHERE id IN (?, ?, ?)",
                                 tuple(c.part_ids()))} == {"accepted"}
    assert current_text(m) == "Bashar al-Assad's"   # moved on

    changes = m.label("ORG")                  # relabel the current span
    sid = m.current.id
    assert changes.spans == {sid} and stored(project_path, "SELECT label, status FROM spans WHERE id = ?",
                                             (sid,)) == [("ORG", "accepted")]

    m.select("span", _span_id(m, "Reuters"))
    changes = m.apply_to_all("project")       # both articles' "Reuters"
    assert changes.documents == {1, 2} and len(changes.spans) == 2 and changes.count == 2
    assert changes.message == "Accepted 2 mention(s) of “Reuters” in the project"
    assert stored(project_path, "SELECT document_id, label, status FROM spans WHERE label = 'ORG'"
                                " AND substr((SELECT text FROM documents d WHERE d.id = document_id),"
                                " start + 1, \"end\" - start) = 'Reuters' ORDER BY document_id") == [
        (1, "ORG", "accepted"), (2, "ORG", "accepted")]

    with pytest.raises(NothingToDo):
        m.grade_source("A")                   # a span is current, not a claim

    left = m.undecided_left()
    with pytest.raises(UndecidedSuggestions):
        m.toggle_done()
    assert stored(project_path, "SELECT status FROM documents WHERE id = 1") == [("in review",)]
    changes = m.toggle_done(resolve="reject")
    assert changes.documents == {1} and changes.counts and changes.count == left == 5
    assert changes.message.startswith("Article marked done; rejected the 5 undecided")
    assert stored(project_path, "SELECT status FROM documents WHERE id = 1") == [("done",)]
    assert not any(it.status == "suggested" for it in m.items)
    changes = m.toggle_doc_label("credible")
    assert changes.doc_labels == {1} and m.doc_labels() == ["credible"]

    m.select("span", _span_id(m, "12"))
    sid = m.current.id
    changes = m.delete_span()
    assert changes.spans == {sid} and sid not in m.spans
    assert stored(project_path, "SELECT count(*) FROM spans WHERE id = ?", (sid,)) == [(0,)]
    groups = stored(project_path, "SELECT count(DISTINCT group_id) FROM events WHERE group_id IS NOT NULL")
    assert groups == [(6,)]  # one logged step per decision: claim, label, all, done, label, delete


def test_a_claim_marked_and_its_source_set_name_the_registry_in_the_changes(model, project_path):
    m = model
    changes = m.mark_claim((at("12 deaths")[0], at("12 deaths")[1]))
    claim_id = changes.id
    assert changes.claims == {claim_id} and m.current.key == ("claim", claim_id)
    changes = m.set_claim_part("Source", (at("Reuters")[0] + 1, at("Reuters")[1] - 1))
    assert changes.claims == {claim_id} and changes.registry and len(changes.sources) == 1
    (src,) = changes.sources
    assert stored(project_path, "SELECT name FROM sources WHERE id = ?", (src,)) == [("Reuters",)]
    assert m.claim_view().parts["Source"] == "Reuters" and m.current_span().label == "Source"
    m.grade_source("C")
    assert m.claim_view().grade == "C?"
    assert stored(project_path, "SELECT reliability FROM sources WHERE id = ?", (src,)) == [("C",)]


def test_undo_and_redo_return_their_changes_and_keep_the_article_in_step(model, project_path):
    m = model
    m.next_undecided()
    sid = m.current.id
    m.reject()
    assert m.spans[sid].status == "rejected"
    changes = m.undo()
    assert changes.spans == {sid} and changes.documents == {1} and changes.counts
    assert changes.message == "Undid reject" and changes.focus == ("span", sid)
    assert changes.undo_text is None and changes.redo_text == "reject"
    assert m.spans[sid].status == "suggested"
    assert stored(project_path, "SELECT status FROM spans WHERE id = ?", (sid,)) == [("suggested",)]
    changes = m.redo()
    assert changes.message == "Redid reject" and m.spans[sid].status == "rejected"
    # A step in another article: this one is left as it is, and the message says where.
    m.review.reject([next(s.id for s in m.project.spans(2))])
    changes = m.undo()
    assert changes.documents == {2} and changes.message.endswith("(in another article)")
    assert m.spans[sid].status == "rejected"


def test_a_created_span_undone_leaves_the_article_and_the_file(model, project_path):
    m = model
    changes = m.create_span("EVENT", at("shelled"))
    new = changes.id
    undone = m.undo()
    assert undone.spans == {new} and new not in m.spans
    assert all(it.key != ("span", new) for it in m.items)
    assert stored(project_path, "SELECT count(*) FROM spans WHERE id = ?", (new,)) == [(0,)]


def test_reads_the_window_makes(model, project):
    m = model
    counts = m.status_counts()
    assert (counts.documents, counts.done, counts.suggestions_left) == (2, 0, 11)
    m.accept()
    assert m.status_counts().suggestions_left == 8   # the claim's three parts are decided
    rows = m.document_rows([2, 1, 99])
    assert [r.name if r else None for r in rows] == ["other", "homs", None]
    assert rows[1].status == "in review" and rows[1].n_suggested == 7
    src = m.review.create_source("Reuters").id
    m.select("claim", next(iter(m.claims)))
    m.set_claim_source(src)
    assert m.source_claim_counts() == {src: 1}
    # The accepted claim's own source joined the registry when it was accepted; it has no claim
    # now that the claim is linked to Reuters by hand (the analyst's entry stays).
    assert [s.name for s in m.registry()] == ["Reuters", "the Syrian Observatory"]


def test_nothing_open_and_nothing_current_are_clear_messages(project):
    m = ReviewModel(project)
    with pytest.raises(NothingToDo, match="Open an article first"):
        m.accept()
    store_documents(project, [NewDocument("No spans here.", name="empty")])
    m.open(1)
    assert m.current is None and m.items == []
    with pytest.raises(NothingToDo, match="Nothing to decide"):
        m.accept()
    with pytest.raises(NothingToDo, match="Select some text"):
        m.create_span("ORG", None)


# -- keys instead of the mouse, and what the view shows ----------------------------------------------
def test_a_token_caret_selects_and_resizes_by_spacy_tokens(model):
    m = model
    m.select("span", _span_id(m, "Bashar al-Assad's"))
    step = m.step_selection(None)                      # the token after the current item
    assert TEXT[slice(*step)] == "forces"
    assert TEXT[slice(*m.step_selection(step))] == "shelled"
    assert TEXT[slice(*m.step_selection(step, backwards=True))] == "'s"
    grown = m.resize_selection(step, "grow_end")
    assert TEXT[slice(*grown)] == "forces shelled"
    assert TEXT[slice(*m.resize_selection(grown, "grow_start"))] == "'s forces shelled"
    assert m.resize_selection(step, "shrink_end") is None   # one token cannot shrink
    # Past the emoji, a code point of its own.
    r = m.step_selection(at("Reuters"))
    assert TEXT[slice(*r)] == "😀" and TEXT[slice(*m.step_selection(r))] == "reported"
    last = (len(TEXT) - 1, len(TEXT))
    assert m.step_selection(last) is None              # the end of the text


def test_hover_lines_and_claim_codes(model):
    m = model
    lines = m.describe_at(at("Syrian")[0] + 1)
    assert lines[0] == "NORP · suggested · from the model\n    Nationalities or religious or political groups"
    assert lines[1].startswith("Source of a claim · suggested")
    assert lines[2].startswith("Content of a claim · suggested")
    assert m.claim_codes() == []                        # nothing graded yet
    claim_id = next(iter(m.claims))
    m.select("claim", claim_id)
    m.grade_claim(4)
    assert m.claim_codes() == [(0, at("President Bashar al-Assad's forces shelled Homs city")[1], "?4")]
    assert "Source of a claim · accepted · ?4" in m.describe_at(at("Syrian")[0] + 1)[1]
    m.reject()
    assert m.claim_codes() == []                        # a rejected claim shows no code


def test_undo_makes_the_undone_item_current_again(model):
    m = model
    m.select("span", _span_id(m, "Reuters"))
    sid = m.current.id
    m.reject()
    m.next_undecided()
    m.next_undecided()
    assert m.current.key != ("span", sid)
    changes = m.undo()
    assert changes.focus == ("span", sid) and m.current.key == ("span", sid) and m.reveal
    claim_id = next(iter(m.claims))
    m.select("claim", claim_id)
    m.accept()
    m.select("span", sid)
    m.undo()
    assert m.current.key == ("claim", claim_id)


def test_a_piece_added_to_a_claim_part_is_stored_with_it_and_undone_in_one_step(model, project_path):
    """A quotation the cue interrupts is one content in pieces: the selection added to the
    current claim's content becomes a second piece of the same span (its fragments), the claim
    stays current with that part in focus, and one undo takes the piece away again."""
    m = model
    claim_id = m.current.id
    content_id = m.claims[claim_id].content_span_id
    first = at("President Bashar al-Assad's forces shelled Homs city")
    changes = m.add_claim_piece("Content", at("12 deaths"))
    assert changes.claims == {claim_id} and changes.message == "The claim's content is now in 2 pieces"
    part = m.spans[m.claims[claim_id].content_span_id]
    assert [tuple(f) for f in part.fragments] == [first, at("12 deaths")]
    assert (part.start, part.end) == (first[0], at("12 deaths")[1])
    assert m.current.key == ("claim", claim_id) and m.claim_view().focus.id == part.id
    assert m.claim_view().parts["Content"] == \
        "President Bashar al-Assad's forces shelled Homs city … 12 deaths"
    rows = stored(project_path, "SELECT start, \"end\", fragments, status FROM spans WHERE id = ?",
                  (part.id,))
    assert rows == [(first[0], at("12 deaths")[1], f"[[{first[0]}, {first[1]}], "
                     f"[{at('12 deaths')[0]}, {at('12 deaths')[1]}]]", "accepted")]
    # A selection that touches a piece joins it: still two pieces, the second one longer.
    m.add_claim_piece("Content", at("deaths in Homs"))
    part = m.spans[m.claims[claim_id].content_span_id]
    assert [tuple(f) for f in part.fragments] == [first, (at("12 deaths")[0], at("deaths in Homs")[1])]
    m.undo()
    m.undo()
    back = m.spans[m.claims[claim_id].content_span_id]
    assert back.id == content_id and (back.start, back.end) == first and not back.fragments
    # Without a claim there is nothing to add to: one clear message, nothing written.
    m.open(2)
    with pytest.raises(NothingToDo, match="claim current"):
        m.add_claim_piece("Content", (0, 7))
