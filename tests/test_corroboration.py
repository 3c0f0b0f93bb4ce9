"""Corroboration: links are decisions (logged, undone, by whom), stance, what counts as one
independent source, the suggested grade (never stored without the analyst) and the registry
entries that keep backing discredited claims."""
from __future__ import annotations

import json

import pytest

from storage.corroboration import (
    Evidence,
    SourceGroup,
    discredited_backing,
    evidence,
    linked_claims,
    suggest_grade,
)
from storage.project import Project
from storage.review import Review
from storage.review_model import NothingToDo, ReviewModel
from tests.corroboration_fixtures import Article, build


def rows(project, sql, *args):
    return project.conn.execute(sql, args).fetchall()


def report(name: str, outlet: str, source: str, content: str, date: str = "2016-04-04") -> Article:
    """One article by an outlet: `source` said `content`."""
    text = f"{content}, {source} said on the day."
    return Article(name, text, outlet=outlet, date=date, claims=[(source, "said", content)])


@pytest.fixture
def two(project):
    review, docs, claims = build(project, [
        report("a", "reuters", "the Syrian Observatory", "Jets struck a bakery in Douma"),
        report("b", "ahram", "a medic", "Warplanes hit a bakery in Douma"),
        report("c", "sana", "the army", "Terrorists shelled a bakery in Douma")])
    return review, claims["a"][0], claims["b"][0], claims["c"][0]


# -- links are decisions ------------------------------------------------------------------------
def test_a_link_is_stored_logged_by_whom_and_undone(project, project_path, two):
    review, a, b, _c = two
    project.who = "Dana"
    changes = review.link_claims(a, b, "supports")
    link = changes.id
    assert changes.claim_links == {link} and changes.focus == ("claim", a)
    assert rows(project, "SELECT from_claim, to_claim, kind, annotator FROM claim_links") == [
        (a, b, "supports", "Dana")]
    who, action, entity, after = rows(project, "SELECT who, action, entity, after FROM events"
                                               " WHERE entity = 'claim_links'")[0]
    assert (who, action, entity) == ("Dana", "link claims: supports", "claim_links")
    assert json.loads(after)["kind"] == "supports"
    assert review.undo().claim_links == {link}
    assert rows(project, "SELECT count(*) FROM claim_links") == [(0,)]
    review.redo()
    assert rows(project, "SELECT id, kind, annotator FROM claim_links") == [(link, "supports", "Dana")]
    project.close()
    with Project(project_path, readonly=True) as p:  # stored, not only in this connection
        assert p.conn.execute("SELECT kind FROM claim_links").fetchall() == [("supports",)]


def test_two_claims_have_one_link_whose_kind_changes(project, two):
    review, a, b, _c = two
    link = review.link_claims(a, b, "supports").id
    again = review.link_claims(b, a, "supports")  # the same link read the other way
    assert again.id == link and again.empty and again.message.startswith("Already linked")
    assert review.undo_text() == "link claims: supports"
    changed = review.link_claims(b, a, "contradicts")
    assert changed.id == link and changed.claim_links == {link}
    assert rows(project, "SELECT from_claim, to_claim, kind FROM claim_links") == [(b, a, "contradicts")]
    review.undo()
    assert rows(project, "SELECT from_claim, to_claim, kind FROM claim_links") == [(a, b, "supports")]
    # "cites" has a direction: citing back changes it.
    review.link_claims(a, b, "cites")
    review.link_claims(b, a, "cites")
    assert rows(project, "SELECT from_claim, to_claim, kind FROM claim_links") == [(b, a, "cites")]
    review.unlink_claims(link)
    assert rows(project, "SELECT count(*) FROM claim_links") == [(0,)]
    review.undo()
    assert rows(project, "SELECT from_claim, to_claim, kind FROM claim_links") == [(b, a, "cites")]


def test_links_that_cannot_be(project, two):
    review, a, b, c = two
    with pytest.raises(ValueError, match="itself"):
        review.link_claims(a, a, "supports")
    with pytest.raises(ValueError, match="unknown link"):
        review.link_claims(a, b, "agrees")
    review.reject_claim(c)
    with pytest.raises(ValueError, match="rejected"):
        review.link_claims(a, c, "supports")
    assert rows(project, "SELECT count(*) FROM claim_links") == [(0,)]


def test_links_are_listed_both_ways(project, two):
    review, a, b, c = two
    review.link_claims(a, b, "supports")
    review.link_claims(c, a, "contradicts")
    from_a = [(link.claim_id, link.words) for link in linked_claims(project, a)]
    assert from_a == [(b, "supports"), (c, "contradicted by")]
    assert [(link.claim_id, link.words) for link in linked_claims(project, b)] == [(a, "supported by")]
    link = linked_claims(project, a)[1]
    assert link.info.outlet == "sana" and link.info.source_name == "the army"
    assert link.snippet == "Terrorists shelled a bakery in Douma"


def test_stance_is_set_checked_and_undone(project, two):
    review, a, _b, _c = two
    review.set_claim_stance(a, "denies")
    assert project.claim(a).stance == "denies"
    with pytest.raises(ValueError, match="unknown stance"):
        review.set_claim_stance(a, "for")
    review.set_claim_stance(a, None)
    assert project.claim(a).stance is None
    review.undo()
    assert project.claim(a).stance == "denies"


# -- independent sources --------------------------------------------------------------------------
def test_what_counts_as_one_independent_source(project):
    """The claim (a Reuters report quoting the Observatory) and the evidence linked to it."""
    x = report("x", "reuters", "the Syrian Observatory", "Jets struck a bakery in Douma killing nine")
    arts = [
        x,
        report("medic", "ahram", "a medic", "Warplanes hit a bakery in Douma and nine died"),
        # Same outlet as the medic's report: one source with it.
        report("doctor", "ahram", "a doctor", "A bakery in Douma was bombed from the air"),
        # The medic's words republished elsewhere (syndicated): one source with it.
        report("medic-copy", "alaraby", "local residents", "Warplanes hit a bakery in Douma and nine died"),
        # The Observatory again, in another outlet: not independent of the claim.
        report("observatory", "trt", "the Syrian Observatory", "Nine died when jets hit a Douma bakery"),
        # The claim's own words republished: not independent of it.
        report("x-copy", "yahoo", "the monitor", "Jets struck a bakery in Douma killing nine"),
        # A Reuters claim in another outlet's article: Reuters published the claim itself.
        report("reuters-quoted", "ap", "Reuters", "Nine people died in the bakery strike"),
        report("sana", "sana", "the army", "No aircraft flew over Douma that day"),
        # Cites SANA's report: one source with it.
        report("tass", "tass", "the defence ministry", "Reports of a strike on Douma are fake"),
    ]
    review, _docs, claims = build(project, arts)
    c = {name: ids[0] for name, ids in claims.items()}
    for name in ("medic", "doctor", "medic-copy", "observatory", "x-copy", "reuters-quoted"):
        review.link_claims(c[name], c["x"], "supports")
    review.link_claims(c["sana"], c["x"], "contradicts")
    review.link_claims(c["x"], c["tass"], "contradicts")
    review.link_claims(c["tass"], c["sana"], "cites")
    ev = evidence(project, c["x"])
    assert [sorted(g.claims) for g in ev.supporting] == [sorted([c["medic"], c["doctor"],
                                                                 c["medic-copy"]])]
    assert ev.supporting[0].names == ["a medic", "a doctor", "local residents"]
    assert sorted(ev.not_independent) == sorted([c["observatory"], c["x-copy"], c["reuters-quoted"]])
    assert [sorted(g.claims) for g in ev.contradicting] == [sorted([c["sana"], c["tass"]])]
    assert (ev.n_supporting, ev.n_contradicting) == (1, 1)


def test_a_denial_linked_as_the_same_claim_contradicts(project, two):
    review, a, b, c = two
    review.link_claims(b, a, "same claim")
    review.link_claims(c, a, "same claim")
    assert evidence(project, a).n_supporting == 2
    review.set_claim_stance(a, "asserts")
    review.set_claim_stance(c, "denies")
    ev = evidence(project, a)
    assert (ev.n_supporting, ev.n_contradicting) == (1, 1)
    assert ev.contradicting[0].claims == [c]


# -- the suggested grade ---------------------------------------------------------------------------
def test_the_grade_follows_the_evidence_and_waits_for_the_analyst(project):
    arts = [report("x", "reuters", "the Syrian Observatory", "Jets struck a bakery in Douma"),
            report("s1", "ahram", "a medic", "Warplanes hit a bakery in Douma"),
            report("s2", "alaraby", "residents", "A bakery in Douma was bombed"),
            report("k1", "sana", "the army", "No aircraft flew over Douma"),
            report("k2", "tass", "the defence ministry", "The Douma bakery story is invented")]
    review, _docs, claims = build(project, arts)
    c = {name: ids[0] for name, ids in claims.items()}
    x = c["x"]
    model = ReviewModel(project, review)

    def suggested() -> int | None:
        return suggest_grade(evidence(project, x)).grade

    assert suggested() is None
    review.link_claims(c["s1"], x, "supports")
    assert suggested() == 2
    review.link_claims(c["s2"], x, "supports")
    assert suggested() == 1
    army = project.claim(c["k1"]).source_id
    review.link_claims(c["k1"], x, "contradicts")
    assert suggested() == 3  # contradicted, but not by a source graded A–B
    review.grade_source(army, "B")
    assert suggested() == 4  # contradicted by a reliable source, though supported
    review.unlink_claims(linked_claims(project, x)[0].link_id)
    review.unlink_claims(linked_claims(project, x)[0].link_id)
    assert suggested() == 5  # contradicted by a reliable source, no support
    review.grade_source(army, "E")  # an unreliable contradiction does not count
    assert suggested() is None
    review.link_claims(c["k2"], x, "contradicts")
    assert suggested() == 4
    # Never stored on its own: the claim is still ungraded until the analyst takes it.
    assert project.claim(x).credibility is None
    model.open(project.claim(x).document_id)
    assert model.select("claim", x)
    assert model.corroboration().suggestion.grade == 4
    changes = model.accept_grade_suggestion()
    assert project.claim(x).credibility == 4 and changes.claims == {x}
    assert changes.message.startswith("Graded 4 as the evidence suggests")
    who = rows(project, "SELECT who FROM events WHERE action = 'grade claim 4'")
    assert who == [(project.who,)]
    with pytest.raises(NothingToDo, match="already graded 4"):
        model.accept_grade_suggestion()
    model.grade_claim(2)  # the analyst overrides it
    assert project.claim(x).credibility == 2


def test_hedged_support_does_not_confirm(project):
    arts = [report("x", "reuters", "the Syrian Observatory", "Jets struck a bakery in Douma"),
            report("s1", "ahram", "a medic", "Warplanes hit a bakery in Douma"),
            report("s2", "alaraby", "residents", "A bakery in Douma was bombed")]
    review, _docs, claims = build(project, arts)
    c = {name: ids[0] for name, ids in claims.items()}
    review.link_claims(c["s1"], c["x"], "supports")
    review.link_claims(c["s2"], c["x"], "supports")
    review.set_claim_stance(c["s2"], "hedges")
    assert suggest_grade(evidence(project, c["x"])).grade == 2
    review.set_claim_stance(c["s2"], "asserts")
    assert suggest_grade(evidence(project, c["x"])).grade == 1


@pytest.mark.parametrize("support, contradict, grade", [
    ([], [], None),
    (["C"], [], 2),
    (["C", None], [], 1),
    (["E", "E"], [], None),
    (["B", "C"], ["D"], 3),
    ([], ["D"], 4),
    (["A"], ["B"], 4),
    ([], ["A"], 5),
    (["A", "A", "A"], ["E"], 1),
])
def test_the_grade_rule(support, contradict, grade):
    ev = Evidence(1, [SourceGroup([f"s{i}"], r, [i]) for i, r in enumerate(support, 10)],
                  [SourceGroup([f"k{i}"], r, [i]) for i, r in enumerate(contradict, 20)])
    assert suggest_grade(ev).grade == grade


# -- the registry -----------------------------------------------------------------------------------
def test_sources_that_keep_backing_discredited_claims(project):
    arts = [report("q1", "reuters", "the governor", "The dam was never damaged"),
            report("q2", "reuters", "the governor", "The bridge reopened on Monday"),
            report("p1", "sana", "the ministry", "The dam is intact and safe"),
            report("p2", "sana", "the ministry", "Traffic crosses the bridge again"),
            report("ok", "trt", "engineers", "Repairs on the road were finished"),
            report("ok2", "trt", "the mayor", "The road repairs are done"),
            report("against", "ahram", "witnesses", "The bridge is still closed")]
    review, _docs, claims = build(project, arts)
    c = {name: ids[0] for name, ids in claims.items()}
    ministry = project.claim(c["p1"]).source_id
    governor = project.claim(c["q1"]).source_id
    engineers = project.claim(c["ok"]).source_id
    review.link_claims(c["p1"], c["q1"], "supports")
    review.link_claims(c["p2"], c["q2"], "same claim")
    review.link_claims(c["ok"], c["ok2"], "supports")
    assert discredited_backing(project) == {}
    review.grade_claim(c["q1"], 5)                         # judged improbable
    review.link_claims(c["against"], c["q2"], "contradicts")  # contradicted, not graded yet
    review.grade_claim(c["ok2"], 2)
    backing = discredited_backing(project)
    assert backing[ministry] == 2 and backing[governor] == 2
    assert engineers not in backing
    review.grade_claim(c["q2"], 2)  # the analyst judged the contradicted claim probably true
    assert discredited_backing(project)[ministry] == 1


# -- the review model: picking, linking, jumping ------------------------------------------------------
def test_the_review_model_picks_links_and_unlinks_the_picked_claim(project):
    from tests.corroboration_fixtures import DOUMA
    review, docs, claims = build(project, DOUMA)
    x = claims["reuters-douma"][0]
    model = ReviewModel(project, review)
    with pytest.raises(NothingToDo):
        model.pick()  # no article open, no claim current
    assert model.open_claim(docs["reuters-douma"], x)
    assert model.current_pick() is None
    with pytest.raises(NothingToDo, match="Pick a related claim first"):
        model.link_picked("supports")
    related = model.related()
    assert [r.claim_id for r in related][:1] == [claims["ahram-douma"][0]]
    assert model.pick() == related[0].claim_id
    assert model.pick(backwards=True) == related[-1].claim_id
    model.pick_claim(related[1].claim_id)
    changes = model.link_picked("contradicts")
    assert changes.claim_links and model.current_claim().id == x
    cor = model.corroboration()
    assert [(link.claim_id, link.words) for link in cor.links] == [(related[1].claim_id,
                                                                   "contradicts")]
    # The linked claim heads the pick list now; the pick stays on it.
    assert model.pick_list()[0] == related[1].claim_id == model.current_pick()
    assert model.picked_target() == (project.claim(related[1].claim_id).document_id,
                                     related[1].claim_id)
    model.unlink_picked()
    assert model.corroboration().links == []
    model.undo()
    assert len(model.corroboration().links) == 1
    # Another claim current: the pick belonged to the first one.
    assert model.open_claim(docs["sana-aleppo"], claims["sana-aleppo"][0])
    assert model.current_pick() is None
    model.set_stance("hedges")
    assert project.claim(claims["sana-aleppo"][0]).stance == "hedges"
    with pytest.raises(ValueError):
        model.set_stance("maybe")


def test_claims_no_analyst_confirmed_count_by_the_name_they_propose(project):
    """Suggested claims are not in the registry: the name their source span proposes ties them
    ("Reuters" and "REUTERS" quoted by two outlets are one source)."""
    from annotation.model import ClaimRecord, NewDocument, SpanRecord
    from storage.ingest import store_documents

    def suggested(name: str, outlet: str, source: str, content: str) -> NewDocument:
        text = f"{source} said {content}."
        s, c = 0, len(source) + len(" said ")
        return NewDocument(text, name=name, source=outlet, normalise=False, spans=[
            SpanRecord(s, len(source), "Source", key="s"),
            SpanRecord(c, c + len(content), "Content", key="c")],
            claims=[ClaimRecord("c", source="s")])

    store_documents(project, [
        suggested("x", "ahram", "The ministry", "the bridge was destroyed overnight"),
        suggested("a", "sana", "Reuters", "a bridge fell after an air strike"),
        suggested("b", "trt", "REUTERS", "the bridge collapsed after strikes"),
        suggested("c", "alaraby", "Witnesses", "the bridge was hit twice")])
    ids = {project.document(d).name: c for c, d in project.conn.execute(
        "SELECT id, document_id FROM claims")}
    assert all(project.claim(c).source_id is None for c in ids.values())
    review = Review(project)
    for name in ("a", "b", "c"):
        review.link_claims(ids[name], ids["x"], "supports")
    ev = evidence(project, ids["x"])
    assert sorted(sorted(g.claims) for g in ev.supporting) == sorted(
        [sorted([ids["a"], ids["b"]]), [ids["c"]]])
    assert ev.n_supporting == 2
