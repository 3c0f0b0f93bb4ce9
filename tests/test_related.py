"""Related claims: the claims' search index kept current by every writer, the ranking on projects
whose answer is known, the fast path against the plain one, and the `related` command."""
from __future__ import annotations

import json
import sqlite3

import pytest

from annotation.model import ClaimRecord, NewDocument, SpanRecord
from storage import schema
from storage.check import check_project
from storage.ingest import store_documents
from storage.project import Project, ProjectError
from storage.related import claim_content, related_claims
from tests.corroboration_fixtures import DOUMA, Article, build
from tests.test_cli import cli, one_error_line


def indexed(project: Project) -> dict[int, str]:
    return dict(project.conn.execute("SELECT rowid, content FROM claims_fts"))


def expected_index(project: Project) -> dict[int, str]:
    """Each claim's content cut from its document's text in Python: what the index must hold."""
    out = {}
    for c in project.conn.execute("SELECT id, document_id, content_span_id FROM claims"
                                  " WHERE content_span_id IS NOT NULL").fetchall():
        span = project.span(c[2])
        out[c[0]] = project.document_text(c[1])[span.start:span.end]
    return out


# -- the index follows every writer ------------------------------------------------------------
def test_import_indexes_claim_contents(project, project_path):
    text = "Ministers said the border will reopen. Nobody confirmed it, officials told Reuters."
    spans = [SpanRecord(0, 9, "Source", key="s"), SpanRecord(10, 14, "Cue", key="q"),
             SpanRecord(15, 37, "Content", key="c"),
             SpanRecord(39, 58, "Content", key="c2")]
    claims = [ClaimRecord("c", "q", "s"), ClaimRecord("c2")]
    store_documents(project, [NewDocument(text, name="a", spans=spans, claims=claims)])
    assert sorted(indexed(project).values()) == ["Nobody confirmed it", "the border will reopen"]
    assert indexed(project) == expected_index(project)
    project.close()
    assert check_project(project_path) == []


def test_decisions_undo_and_redo_keep_the_index(project, project_path):
    review, docs, claims = build(project, DOUMA[:2])
    first = claims["reuters-douma"][0]
    assert indexed(project) == expected_index(project)
    # A content span moved by its boundary keys: the indexed text follows.
    content = project.claim(first).content_span_id
    span = project.span(content)
    review.set_bounds(content, span.start, span.end - len(" civilians"))
    assert indexed(project)[first].endswith("killing 12")
    # A new content for the claim, then the content deleted altogether.
    text = project.document_text(docs["reuters-douma"])
    review.set_claim_part(first, "Content", (text.index("Douma"), text.index("Douma") + 5))
    assert indexed(project)[first] == "Douma"
    review.delete_span(project.claim(first).content_span_id)
    assert first not in indexed(project)
    assert indexed(project) == expected_index(project)
    for _ in range(2):  # the deletion, the new content
        review.undo()
        assert indexed(project) == expected_index(project)
    assert indexed(project)[first].endswith("killing 12")
    review.undo()  # the boundary
    assert indexed(project)[first].endswith("killing 12 civilians")
    while review.can_undo:  # back to articles without claims
        review.undo()
    assert indexed(project) == {} == expected_index(project)
    while review.can_redo:
        review.redo()
        assert indexed(project) == expected_index(project)
    assert first not in indexed(project)  # the last step deleted its content
    project.close()
    assert check_project(project_path) == []


def test_preannotation_indexes_the_claims_it_suggests(project, nlp):
    from storage.preannotate import annotate
    store_documents(project, [NewDocument(
        "The Syrian Observatory for Human Rights said that twelve people were killed in Homs.",
        name="homs")])
    summary = annotate(project, nlp=nlp)
    assert summary.claims >= 1
    assert indexed(project) == expected_index(project) != {}


def test_a_project_of_the_first_schema_is_indexed_when_opened(tmp_path):
    """A file written before this schema: opening it migrates, indexes every claim content and
    records the new version in meta too, and `check` finds it sound."""
    path = tmp_path / "old.credence"
    conn = sqlite3.connect(path)
    conn.executescript(schema.MIGRATIONS[0])
    conn.executescript(f"PRAGMA user_version = 1; PRAGMA application_id = {schema.APP_ID};")
    conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    conn.execute("INSERT INTO documents (id, text, content_hash, offset_map, created_at,"
                 " updated_at) VALUES (1, 'Reuters said the dam burst near Raqqa.', 'h',"
                 " '[[0, 0, 38]]', 'x', 'x')")
    conn.execute("INSERT INTO spans VALUES (1, 1, 13, 37, 'Content', 'import', 'accepted',"
                 " NULL, NULL, NULL, 'x', 'x')")
    conn.execute("INSERT INTO claims (id, document_id, content_span_id, origin, status,"
                 " created_at, updated_at) VALUES (7, 1, 1, 'import', 'accepted', 'x', 'x')")
    conn.commit()
    conn.close()
    with Project(path) as p:
        assert p.schema_version == schema.SCHEMA_VERSION
        assert p.setting("schema_version") == str(schema.SCHEMA_VERSION)
        assert indexed(p) == {7: "the dam burst near Raqqa"}
    assert check_project(path) == []


def test_check_notices_a_stale_index(project, project_path):
    build(project, DOUMA[:1])
    with project.atomic():  # what a writer that bypassed the triggers would leave
        project.conn.execute("UPDATE claims_fts SET content = 'something else' WHERE rowid = 1")
    project.close()
    problems = check_project(project_path)
    assert problems == ["1 claims missing from the claims' search index, or stale in it"]


# -- the ranking ----------------------------------------------------------------------------------
@pytest.fixture
def douma(project):
    review, docs, claims = build(project, DOUMA)
    return project, review, docs, claims


def names(project, related) -> list[str]:
    return [project.document(r.document_id).name for r in related]


def test_the_same_event_from_another_outlet_ranks_first(douma):
    project, review, docs, claims = douma
    claim = claims["reuters-douma"][0]
    found = related_claims(project, claim, k=10)
    # Same words and place, same day, first; then that day's claims sharing fewer words (another
    # town shelled, forces advancing elsewhere); the same words months later last (reports of
    # one event come out within days); the weather and the claim's own article not at all.
    assert names(project, found) == ["ahram-douma", "sana-harasta", "sana-aleppo",
                                     "trt-douma-later"]
    best = found[0]
    assert best.shared_entities == ["Douma", "Monday"] and best.days_apart == 0
    assert best.date_score == 1.0 and 0 < best.text_score <= 1
    later = found[3]
    assert later.days_apart == 281 and later.entity_score == best.entity_score
    assert later.text_score == best.text_score and later.date_score < 0.001
    assert found[1].shared_entities == ["Monday"] and found[2].shared_entities == []
    assert [r.score for r in found] == sorted((r.score for r in found), reverse=True)
    assert best.outlet == "ahram" and best.source_name == "a medic"
    assert best.snippet == "Artillery shelled Douma on Monday and 12 civilians died"
    assert related_claims(project, claim, k=2) == found[:2]


def test_shared_entities_and_dates_break_ties_of_the_same_words(project):
    text = "Jets bombed a market in {place} on {day}, residents said."
    articles = [Article("query", text.format(place="Idlib", day="Friday"), date="2016-05-06",
                        claims=[("residents", "said", "Jets bombed a market in Idlib on Friday")],
                        entities=[("Idlib", "GPE")])]
    for name, date, entity in (("far", "2016-09-01", True), ("near", "2016-05-07", True),
                               ("near-no-entity", "2016-05-07", False)):
        articles.append(Article(name, text.format(place="Idlib", day="Friday") + f" ({name})",
                                date=date,
                                claims=[("residents", "said", "Jets bombed a market in Idlib on Friday")],
                                entities=[("Idlib", "GPE")] if entity else []))
    _review, _docs, claims = build(project, articles)
    found = related_claims(project, claims["query"][0])
    assert names(project, found) == ["near", "far", "near-no-entity"] or \
        names(project, found) == ["near", "near-no-entity", "far"]
    near, *_ = found
    assert near.text_score == 1.0 and near.entity_score == 1.0
    by_name = dict(zip(names(project, found), found))
    assert by_name["near"].score > by_name["far"].score       # the date
    assert by_name["near"].score > by_name["near-no-entity"].score  # the entity
    assert by_name["far"].date_score < by_name["near-no-entity"].date_score


def test_rejected_claims_and_the_claims_own_article_are_left_out(douma):
    project, review, docs, claims = douma
    claim = claims["reuters-douma"][0]
    review.reject_claim(claims["ahram-douma"][0])
    found = related_claims(project, claim)
    assert "ahram-douma" not in names(project, found)
    assert all(r.document_id != docs["reuters-douma"] for r in found)
    assert claims["reuters-douma"][1] not in [r.claim_id for r in found]


def test_a_claim_already_linked_says_how(douma):
    project, review, docs, claims = douma
    claim, other = claims["reuters-douma"][0], claims["ahram-douma"][0]
    review.link_claims(other, claim, "supports")
    found = related_claims(project, claim)
    assert found[0].claim_id == other and found[0].link == "supports"
    assert all(r.link is None for r in found[1:])


def test_the_fast_path_agrees_with_the_plain_one(douma):
    """Every claim of the project: the fast path (rarest words, best hits reranked) gives what
    scoring every word and every hit gives; with a tiny budget the best answer still leads."""
    project, *_ = douma
    ids = [r[0] for r in project.conn.execute("SELECT id FROM claims")]
    for cid in ids:
        plain = related_claims(project, cid, k=10, exhaustive=True)
        assert related_claims(project, cid, k=10) == plain
        tight = related_claims(project, cid, k=10, budget=1)
        if plain and plain[0].text_score > 0.5:
            assert tight[0].claim_id == plain[0].claim_id


def test_a_claim_without_content_has_no_related_claims(project):
    text = "The minister said so. Artillery shelled Douma on Monday, a medic said."
    _review, docs, _claims = build(project, [
        Article("a", text, claims=[("a medic", "said", "Artillery shelled Douma on Monday")]),
        Article("b", text + " (copy)", claims=[("a medic", "said", "Artillery shelled Douma on Monday")])])
    review = _review
    bare = review.create_claim(docs["a"], (0, 12)).id
    review.set_claim_part(bare, "Content", None)
    assert claim_content(project, bare) is None
    assert related_claims(project, bare) == []
    with pytest.raises(ProjectError):
        related_claims(project, 999)


# -- the command line -----------------------------------------------------------------------------
def test_related_command_lists_the_same_claims(project, project_path):
    _review, _docs, claims = build(project, DOUMA)
    claim = claims["reuters-douma"][0]
    want = related_claims(project, claim, k=3)
    project.close()
    r = cli("related", project_path, str(claim), "--k", "3", "--json")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert [g["claim_id"] for g in got] == [w.claim_id for w in want]
    assert got[0]["document"] == "Ahram-Douma" and got[0]["shared_entities"] == ["Douma", "Monday"]
    r = cli("related", project_path, str(claim), "--k", "2")
    assert r.returncode == 0
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 3 and "Ahram-Douma" in lines[1] and "a medic" in lines[1]
    assert "Artillery shelled Douma" in lines[1]
    assert "no claim 999" in one_error_line(cli("related", project_path, "999"))
    assert "k" in one_error_line(cli("related", project_path, str(claim), "--k", "0"))


def test_a_report_of_the_same_day_is_found_past_the_rare_words(project):
    """The fast path reads the claims holding most of the claim's words (the best CANDIDATES of
    them) and the claims of articles within two days that share any word: a same-day report
    sharing fewer words than hundreds of older claims is still found, as the plain path finds it."""
    from storage import related as rel
    docs = []

    def article(name: str, text: str, date: str, content: str) -> NewDocument:
        start = text.index(content)
        return NewDocument(text, name=name, date=date, normalise=False,
                           spans=[SpanRecord(start, start + len(content), "Content", key="c")],
                           claims=[ClaimRecord("c")])

    docs.append(article("query", "Barrel bombs hit the Kafranbel market, killing nine people.",
                        "2016-03-01", "Barrel bombs hit the Kafranbel market, killing nine people"))
    for i in range(rel.CANDIDATES + 60):  # more of its words, in many articles long before
        content = f"Kafranbel market: nine people met in hall {i}"
        docs.append(article(f"old-{i}", content + ".", f"2015-01-{1 + i % 28:02d}", content))
    docs.append(article("same-day", "Nine people were killed in a market, witnesses said.",
                        "2016-03-01", "Nine people were killed in a market"))
    store_documents(project, docs)
    query = project.conn.execute("SELECT c.id FROM claims c JOIN documents d ON d.id ="
                                 " c.document_id WHERE d.name = 'query'").fetchone()[0]
    fast = related_claims(project, query, k=5)
    plain = related_claims(project, query, k=5, exhaustive=True)
    assert [r.claim_id for r in fast] == [r.claim_id for r in plain]
    assert project.document(fast[0].document_id).name == "same-day"
    assert fast[0].date_score == 1.0 and fast[0].text_score < 0.6
