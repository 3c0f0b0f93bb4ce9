"""Analyst decisions: stored at once, logged in events, undone and redone as whole steps."""
from __future__ import annotations

import json

import pytest

from annotation.model import NewDocument, SpanRecord
from storage.check import check_project
from storage.ingest import store_documents
from storage.project import Project
from storage.review import Review, UndecidedSuggestions

TEXT = "Reuters said Assad left Homs. Later Reuters said Homs was calm, and reuters agreed."


@pytest.fixture
def doc(project):
    store_documents(project, [NewDocument(TEXT, name="a", spans=[
        SpanRecord(0, 7, "ORG"), SpanRecord(13, 18, "PERSON"), SpanRecord(24, 28, "PERSON"),
        SpanRecord(36, 43, "ORG"), SpanRecord(49, 53, "GPE")])])
    return 1


def rows(project, sql, *args):
    return project.conn.execute(sql, args).fetchall()


def test_accept_reject_relabel_are_stored_and_logged(project, doc, project_path):
    review = Review(project)
    s = {sp.start: sp.id for sp in project.spans(doc)}
    review.accept([s[0]])
    review.reject([s[13]])
    review.relabel(s[24], "GPE")
    project.close()
    with Project(project_path) as p:
        got = {(r[0], r[1], r[2]) for r in rows(p, "SELECT start, label, status FROM spans")}
        assert {(0, "ORG", "accepted"), (13, "PERSON", "rejected"), (24, "GPE", "accepted")} <= got
        assert p.document_rows()[0].status == "in review"
        assert p.document_rows()[0].n_suggested == 2
        actions = [r[0] for r in rows(p, "SELECT action FROM events WHERE group_id IS NOT NULL")]
        assert actions[0] == "accept" and "reject" in actions and "relabel as GPE" in actions
        before, after = rows(p, "SELECT before, after FROM events WHERE action = 'reject'")[0]
        assert json.loads(before)["status"] == "suggested"
        assert json.loads(after)["status"] == "rejected"


def test_undo_and_redo_restore_exact_state(project, doc):
    review = Review(project)
    dump = lambda: rows(project, 'SELECT id, start, "end", label, status FROM spans ORDER BY id')
    start = dump()
    s = {sp.start: sp.id for sp in project.spans(doc)}
    review.accept([s[0]])
    after_accept = dump()
    new = review.create_span(doc, 67, 74, "ORG").id
    review.set_bounds(s[49], 49, 52)
    assert review.undo_text() == "move boundary"
    review.undo()
    review.undo()
    assert dump() == after_accept
    review.undo()
    assert dump() == start
    assert project.document_rows()[0].status == "new"
    review.redo()
    assert dump() == after_accept
    review.redo()
    assert (new, 67, 74, "ORG", "accepted") in dump()


def test_apply_to_all_decides_every_mention_as_one_step(project, doc):
    review = Review(project)
    first = project.spans(doc)[0]
    n = review.apply_to_all(first.id, "accept").count
    # Two stored "Reuters" spans accepted, lowercase "reuters" is another string: not touched.
    assert n == 2
    statuses = rows(project, 'SELECT start, status FROM spans WHERE label = \'ORG\' ORDER BY start')
    assert statuses == [(0, "accepted"), (36, "accepted")]
    homs = project.spans(doc)[2]  # "Homs" at 24, suggested as PERSON
    review.apply_to_all(homs.id, "GPE")
    assert rows(project, "SELECT count(*) FROM spans WHERE label = 'GPE' AND status = 'accepted'")[0][0] == 2
    review.undo()
    assert rows(project, "SELECT count(*) FROM spans WHERE label = 'GPE' AND status = 'accepted'")[0][0] == 0
    review.undo()
    assert rows(project, "SELECT count(*) FROM spans WHERE status = 'accepted'")[0][0] == 0


def test_apply_to_all_in_project_creates_missing_mentions(project, doc):
    store_documents(project, [NewDocument("Homs again: Homs.", name="b")])
    review = Review(project)
    homs = [sp for sp in project.spans(doc) if sp.start == 24][0]
    review.apply_to_all(homs.id, "accept", scope="project")
    got = rows(project, 'SELECT document_id, start, label, status FROM spans WHERE document_id = 2 ORDER BY start')
    assert got == [(2, 0, "PERSON", "accepted"), (2, 12, "PERSON", "accepted")]


def test_claim_grading_and_source_registry(project, doc):
    review = Review(project)
    c1 = review.create_claim(doc, content=(13, 28), cue=(8, 12), source=(0, 7)).id
    c2 = review.create_claim(doc, content=(49, 62), cue=(44, 48), source=(36, 43)).id
    a, b = project.claim(c1), project.claim(c2)
    assert a.source_id == b.source_id  # "Reuters" twice is one registry entry
    review.grade_source(a.source_id, "b")
    review.grade_claim(c1, 2)
    assert project.source(a.source_id).reliability == "B"
    assert project.claim(c1).credibility == 2 and project.claim(c2).credibility is None
    with pytest.raises(ValueError):
        review.grade_claim(c1, 7)
    with pytest.raises(ValueError):
        review.grade_source(a.source_id, "G")
    link = review.link_claims(c1, c2, "supports").id
    assert rows(project, "SELECT from_claim, to_claim, kind FROM claim_links WHERE id = ?", link) == [(c1, c2, "supports")]
    labels = rows(project, "SELECT label FROM spans WHERE origin = 'analyst' ORDER BY id")
    assert [r[0] for r in labels] == ["Content", "Cue", "Source"] * 2


def test_a_claim_part_in_pieces_is_one_span_with_its_fragments(project, doc, project_path):
    # "Reuters said Assad left Homs. Later Reuters said Homs was calm, …": one content in two
    # pieces around the second cue, as `“…,” he said, “…”` is marked.
    review = Review(project)
    c = review.create_claim(doc, content=[(49, 62), (13, 28)], cue=(44, 48), source=(36, 43)).id
    content = project.span(project.claim(c).content_span_id)
    assert (content.start, content.end, content.fragments) == (13, 62, [[13, 28], [49, 62]])
    assert project.source(project.claim(c).source_id).name == "Reuters"
    # Set to one range again, then back to pieces: the span follows; undo restores each step.
    review.set_claim_part(c, "Content", (13, 28))
    one = project.span(project.claim(c).content_span_id)
    assert (one.start, one.end, one.fragments) == (13, 28, None)
    review.set_claim_part(c, "Source", [(36, 41), (41, 43)])  # touching pieces are one
    src = project.span(project.claim(c).source_span_id)
    assert (src.start, src.end, src.fragments) == (36, 43, None)
    review.undo()
    review.undo()
    again = project.span(project.claim(c).content_span_id)
    assert (again.start, again.end, again.fragments) == (13, 62, [[13, 28], [49, 62]])
    before = rows(project, "SELECT * FROM spans ORDER BY id")
    for bad in ([(13, 28), (60, 999)], [], [(13,)], [(28, 13)]):
        with pytest.raises(ValueError):
            review.create_claim(doc, content=bad, cue=(44, 48))
    assert rows(project, "SELECT * FROM spans ORDER BY id") == before
    project.close()
    assert check_project(project_path) == []


def test_merge_sources_and_alias(project, doc):
    review = Review(project)
    r1 = review.create_source("Reuters", "A").id
    r2 = review.create_source("Thomson Reuters news agency").id
    c = review.create_claim(doc, content=(13, 28), cue=(8, 12), source=(0, 7)).id
    review.set_claim_source(c, r2)
    review.merge_sources(r1, r2)
    assert project.claim(c).source_id == r1
    assert [s.name for s in project.sources()] == ["Reuters"]
    assert review.source_for_name("thomson reuters news agency", create=False) == r1
    review.add_alias(r1, "Reuters Ltd.")
    assert review.source_for_name("REUTERS LTD", create=False) == r1
    review.undo()
    review.undo()
    assert {s.name for s in project.sources()} == {"Reuters", "Thomson Reuters news agency"}
    assert project.claim(c).source_id == r2


def test_document_labels_and_status(project, doc):
    review = Review(project)
    assert review.toggle_document_label(doc, "credible").count == 1  # now carries it
    review.reject([s.id for s in project.spans(doc)])
    review.set_document_status(doc, "done")
    assert project.doc_labels(doc) == ["credible"]
    assert project.document_rows(status="done")[0].id == doc
    review.undo()
    review.undo()
    review.undo()
    assert project.doc_labels(doc) == [] and project.document_rows()[0].status == "new"


def test_done_resolves_undecided_suggestions_explicitly(project, doc, project_path):
    review = Review(project)
    review.accept([project.spans(doc)[0].id])
    c = review.create_claim(doc, content=(13, 28)).id
    store_documents(project, [NewDocument("Assad said so.", name="b", spans=[SpanRecord(0, 5, "PERSON")])])
    before = rows(project, 'SELECT id, status FROM spans ORDER BY id')
    with pytest.raises(UndecidedSuggestions) as refused:
        review.set_document_status(doc, "done")
    assert refused.value.count == 4 and "4 suggestion(s)" in str(refused.value)
    assert rows(project, 'SELECT id, status FROM spans ORDER BY id') == before
    assert project.document_status(doc) == "in review"
    changes = review.set_document_status(doc, "done", resolve="reject")
    assert changes.count == 4 and "rejected the 4 undecided" in changes.message
    assert rows(project, "SELECT count(*) FROM spans WHERE document_id = ? AND status = 'suggested'",
                doc) == [(0,)]
    assert project.claim(c).status == "accepted"           # decided work stays as it was
    assert project.undecided_count(doc) == 0 and project.undecided_count(2) == 1
    assert project.document_rows(status="done")[0].n_suggested == 0
    # One undo brings the suggestions and the status back.
    review.undo()
    assert rows(project, 'SELECT id, status FROM spans ORDER BY id') == before
    assert project.document_status(doc) == "in review"
    review.redo()
    # Undeciding a span of a done document reopens it: done never holds an undecided one.
    rejected = rows(project, "SELECT id FROM spans WHERE document_id = ? AND status = 'rejected'", doc)[0][0]
    review.reset([rejected])
    assert project.document_status(doc) == "in review"
    with pytest.raises(ValueError):
        review.set_document_status(doc, "done", resolve="accept")
    project.close()
    with Project(project_path) as p:
        assert p.span(rejected).status == "suggested"


def test_decisions_record_who_made_them(project_path):
    from storage.ingest import store_documents as store
    with Project(project_path, who="Rana Haddad") as p:
        store(p, [NewDocument(TEXT, name="a", spans=[SpanRecord(0, 7, "ORG"), SpanRecord(13, 18, "PERSON"),
                                                      SpanRecord(24, 28, "GPE", origin="import",
                                                                 status="suggested", annotator="ann2")])])
        review = Review(p)
        spans = {s.start: s.id for s in p.spans(1)}
        review.accept([spans[0]])
        review.reject([spans[13]])
        review.accept([spans[24]])
        created = review.create_span(1, 67, 74, "ORG").id
        claim = review.create_claim(1, (49, 62), cue=(44, 48), source=(36, 43)).id
    with Project(project_path, readonly=True) as p:
        who = dict(p.conn.execute("SELECT id, annotator FROM spans").fetchall())
        assert who[spans[0]] == who[spans[13]] == who[created] == "Rana Haddad"
        assert who[spans[24]] == "ann2"           # an imported annotator's span stays theirs
        assert p.claim(claim).annotator == "Rana Haddad"
        assert {s.annotator for s in p.spans(1) if s.origin == "analyst"} == {"Rana Haddad"}
        assert {r[0] for r in p.conn.execute("SELECT DISTINCT who FROM events")} == {"Rana Haddad"}
    # Undo takes the name back with the decision.
    with Project(project_path, who="Rana Haddad") as p:
        review = Review(p)
        review.reject([spans[0]])
        review.undo()
        assert p.span(spans[0]).annotator == "Rana Haddad"  # from the earlier session's accept


def test_bad_decisions_change_nothing(project, doc):
    review = Review(project)
    before = rows(project, "SELECT * FROM spans")
    with pytest.raises(ValueError):
        review.create_span(doc, 10, 500, "ORG")
    with pytest.raises(ValueError):
        review.relabel(project.spans(doc)[0].id, "NO_SUCH_LABEL")
    assert rows(project, "SELECT * FROM spans") == before
    assert rows(project, "SELECT count(*) FROM events")[0][0] == 0


def test_apply_to_all_takes_whole_tokens_and_never_overlaps_an_accepted_entity(project):
    text = ("Assad's troops met pro-Assad's militia near Homs city; Bashar al-Assad left Homs. "
            "12 people died, 12.5 km away; 12 more.")
    at = lambda phrase, nth=0: [i for i in range(len(text)) if text.startswith(phrase, i)][nth]
    store_documents(project, [NewDocument(text, name="a", normalise=False, spans=[
        SpanRecord(0, 5, "PERSON"),
        SpanRecord(at("pro-Assad's militia"), at("pro-Assad's militia") + 19, "ORG", status="accepted"),
        SpanRecord(at("Homs city"), at("Homs city") + 9, "GPE", status="accepted"),
        SpanRecord(at("Bashar al-Assad"), at("Bashar al-Assad") + 15, "PERSON", origin="analyst",
                   status="accepted"),
        SpanRecord(at("Homs", 1), at("Homs", 1) + 4, "GPE"),
        SpanRecord(0 + at("12"), at("12") + 2, "CARDINAL")])])
    review = Review(project)
    by_start = {s.start: s.id for s in project.spans(1)}
    before = rows(project, 'SELECT id, start, "end", label, status FROM spans ORDER BY id')

    changes = review.apply_to_all(by_start[0], "accept")
    # "Assad" inside "pro-Assad's militia" and "Bashar al-Assad": whole tokens, but inside
    # entities already accepted: left out, and said so.
    assert changes.count == 1 and changes.skipped == {"overlapping an accepted entity": 2}
    assert changes.message == ("Accepted 1 mention(s) of “Assad” in this article; "
                               "skipped 2 overlapping an accepted entity")
    assert rows(project, "SELECT count(*) FROM spans WHERE label = 'PERSON'") == [(2,)]

    changes = review.apply_to_all(by_start[at("Homs", 1)], "accept")
    assert changes.count == 1 and changes.skipped == {"overlapping an accepted entity": 1}

    changes = review.apply_to_all(by_start[at("12")], "accept")
    # "12" of "12.5" is no token of its own; the last "12" is, and becomes a span.
    assert changes.count == 2 and changes.skipped == {"inside a longer token": 1}
    assert [(s, e) for s, e in rows(project, "SELECT start, \"end\" FROM spans WHERE label = 'CARDINAL'"
                                             " ORDER BY start")] == [(at("12"), at("12") + 2),
                                                                     (at("12", 2), at("12", 2) + 2)]
    # No two accepted entities overlap.
    accepted = rows(project, "SELECT start, \"end\" FROM spans WHERE status = 'accepted' ORDER BY start")
    assert all(a[1] <= b[0] for a, b in zip(accepted, accepted[1:]))
    review.undo()
    review.undo()
    review.undo()
    assert rows(project, 'SELECT id, start, "end", label, status FROM spans ORDER BY id') == before


def test_pre_annotation_leaves_a_done_document_alone(project, nlp):
    from storage.preannotate import annotate
    store_documents(project, [NewDocument("Assad met Putin in Moscow on Monday.", name="a"),
                              NewDocument("Erdogan flew to Ankara.", name="b")])
    review = Review(project)
    review.create_span(1, 0, 5, "PERSON")
    review.set_document_status(1, "done")
    summary = annotate(project, nlp=nlp, force=True)
    assert summary.documents == 1
    assert project.undecided_count(1) == 0 and project.undecided_count(2) > 0
    assert [s.origin for s in project.spans(1)] == ["analyst"]


def test_apply_to_all_creates_nothing_inside_a_longer_suggestion(project):
    text = "Assad spoke. President Bashar al-Assad's forces advanced. Assad left."
    b = text.index("Bashar al-Assad's")
    store_documents(project, [NewDocument(text, name="a", normalise=False, spans=[
        SpanRecord(0, 5, "PERSON"), SpanRecord(b, b + 17, "PERSON")])])
    review = Review(project)
    changes = review.apply_to_all(project.spans(1)[0].id, "accept")
    # The last "Assad" is made; the one in "Bashar al-Assad's" waits for that suggestion's decision.
    assert changes.count == 2 and changes.skipped == {"inside a longer suggestion": 1}
    assert [(s.start, s.status) for s in project.spans(1)] == [
        (0, "accepted"), (b, "suggested"), (text.rindex("Assad"), "accepted")]


def test_list_counts_follow_every_kind_of_decision_as_a_recount_gives(project, nlp):
    """Decisions move each article's counts (spans, suggestions left, claims) by what they
    changed instead of recounting; after every decision, undo and redo the counts equal
    `Project.refresh_counts`' recount, and `check` finds them sound."""
    from storage.check import check_project
    from storage.preannotate import annotate
    store_documents(project, [NewDocument(TEXT, name="a"), NewDocument(
        "Witnesses told Reuters that rebels shelled Aleppo. The army denied it, state media said.",
        name="b")])
    annotate(project, nlp=nlp)
    review = Review(project)
    counts = "SELECT id, n_spans, n_suggested, n_claims FROM documents ORDER BY id"

    def same_as_a_recount() -> list[tuple]:
        kept = rows(project, counts)
        with project.atomic():
            project.refresh_counts()
        assert rows(project, counts) == kept
        return kept

    first = same_as_a_recount()
    assert all(n_sugg > 0 for _id, _n, n_sugg, _c in first)
    spans = {d: [s for s in project.spans(d) if s.status == "suggested"] for d in (1, 2)}
    claims = [c for d in (1, 2) for c in project.claims(d)]
    assert claims
    steps = [
        lambda: review.accept([spans[1][0].id]),
        lambda: review.reject([spans[1][1].id, spans[2][0].id]),
        lambda: review.reset([spans[1][1].id]),
        lambda: review.relabel(spans[1][2].id, "LOC"),
        lambda: review.create_span(1, 70, 77, "ORG"),
        lambda: review.delete_span(spans[2][1].id),
        lambda: review.apply_to_all(spans[1][0].id, "accept", scope="project"),
        lambda: review.accept_claim(claims[0].id),
        lambda: review.reject_claim(claims[-1].id),
        lambda: review.grade_claim(claims[0].id, 2),
        lambda: review.create_claim(1, content=(13, 28), cue=(8, 12), source=(0, 7)),
        lambda: review.set_document_status(2, "done", resolve="reject"),
    ]
    seen = [first]
    for step in steps:
        step()
        seen.append(same_as_a_recount())
    while review.can_undo:
        review.undo()
        same_as_a_recount()
    assert rows(project, counts) == first
    while review.can_redo:
        review.redo()
        same_as_a_recount()
    assert rows(project, counts) == seen[-1]
    assert check_project(project.path) == []
