"""The source registry holds what an analyst confirmed (issue 13, item 4): model-proposed names
wait on their suggested claims; accepting, grading or setting a claim's source registers it; merge
suggestions; merge and un-merge as undoable decisions; the migration of older projects; `sources`."""
from __future__ import annotations

import json
import sqlite3

import pytest

from annotation.model import NewDocument
from annotation.sources import NameIndex, is_source_name, normalise_source_name
from storage.check import check_project
from storage.ingest import store_documents
from storage.preannotate import annotate
from storage.project import Project
from storage.review import Review, find_or_create_source
from storage.schema import SCHEMA_VERSION
from storage.sources import (
    candidate_name,
    candidate_names,
    claim_source,
    merge_suggestions,
    registry_entries,
)
from tests.conftest import shared_path
from tests.test_cli import cli, one_error_line

TEXTS = [
    ("Government forces shelled Homs on Monday, Reuters reported. Twelve people were killed, the "
     "Syrian Observatory for Human Rights said."),
    ("Rebels retook the town overnight, REUTERS said. He said the road was cut. The Syrian "
     "Observatory said 40 fighters died."),
    ("Russian jets struck Aleppo, a UN spokesman said. The Britain-based Syrian Observatory for "
     "Human Rights said 9 civilians died."),
]


def source_names(project) -> list[str]:
    return [r[0] for r in project.conn.execute("SELECT name FROM sources ORDER BY name")]


def claim_by_source(project) -> dict[str, int]:
    """Claim id by its source span's text."""
    return {text: cid for cid, text in project.conn.execute(
        "SELECT c.id, substr(d.text, s.start + 1, s.\"end\" - s.start) FROM claims c"
        " JOIN spans s ON s.id = c.source_span_id JOIN documents d ON d.id = c.document_id")}


def linked(project, claim_id: int) -> str | None:
    row = project.conn.execute("SELECT s.name FROM claims c LEFT JOIN sources s ON s.id = c.source_id"
                               " WHERE c.id = ?", (claim_id,)).fetchone()
    return row[0]


@pytest.fixture
def annotated(project, nlp):
    store_documents(project, [NewDocument(t) for t in TEXTS])
    annotate(project, nlp=nlp)
    claims = claim_by_source(project)
    assert {"Reuters", "REUTERS", "He", "the Syrian Observatory for Human Rights",
            "The Syrian Observatory", "a UN spokesman",
            "The Britain-based Syrian Observatory for Human Rights"} <= set(claims)
    return project, claims


# -- names ----------------------------------------------------------------------------------------------
def test_case_possessive_and_edge_punctuation_are_one_name():
    keys = {normalise_source_name(n) for n in ("Reuters", "REUTERS", "Reuters'", "Reuters's",
                                               "(Reuters)", "the Reuters", "Reuters’s")}
    assert keys == {"reuters"}
    assert not is_source_name("He") and not is_source_name("which") and not is_source_name("  ")
    assert is_source_name("WHO") and is_source_name("Reuters") and is_source_name("the source")


# Names the FA-KES demo's pre-annotation proposed (v1 put each into the registry).
DEMO_VARIANTS = {
    "Reuters) Ceasefire": "Reuters",
    "Reuters) Lebanese Shiite group": "Reuters",
    "REUTERS/Bassam Khabieh Assads officials": "Reuters",
    "Saudi Arabia Reuters": "Reuters",
    "rebel-held Aleppo Reuters": "Reuters",
    "Reuters news agency": "Reuters",
    "The Britain-based Syrian Observatory for Human Rights": "Syrian Observatory for Human Rights",
    "The Syrian Observatory for Human Rights (SOHR": "Syrian Observatory for Human Rights",
    "the UK-based Syrian Observatory for Human Rights (SOHR": "Syrian Observatory for Human Rights",
    "the Syrian Observatory for Human Rights monitor": "Syrian Observatory for Human Rights",
    "the Observatory": "Syrian Observatory for Human Rights",
    "the Syrian Observatory": "Syrian Observatory for Human Rights",
    "SOHR": "Syrian Observatory for Human Rights",
    "State news agency SANA": "SANA",
    "The official SANA news agency": "SANA",
    "SANA reporter in Aleppo": "SANA",
    "Syrian Arab News Agency": "SANA",
    "Observatory director Rami Abdel Rahman": "Rami Abdel Rahman",
    "Abdel Rahman": "Rami Abdel Rahman",
    "DAMASCUS (Sputnik": "Damascus",
}
DEMO_DIFFERENT = [
    "A security source in Damascus", "Moscow and Damascus", "Russia and the US",
    "The observatory and the Reuters news agency", "the source", "1102 people", "15 deaths",
    "20.07.2016Get short URL", "He", "a monitoring group", "local activists", "Human Rights Watch",
]


def test_merge_suggestions_on_names_from_the_demo():
    known = ["Reuters", "Syrian Observatory for Human Rights", "SANA", "Rami Abdel Rahman",
             "Damascus", "activists", "Russia"]
    index = NameIndex(enumerate(known))
    for variant, expected in DEMO_VARIANTS.items():
        m = index.match(variant)
        assert m is not None and known[m.owner] == expected, (variant, m)
    for name in DEMO_DIFFERENT:
        assert index.match(name) is None, (name, index.match(name))
    # An exact match (case, possessive) is the same source already: nothing to suggest.
    assert index.match("REUTERS's") is None and index.owner_of("REUTERS's") == 0
    # Among registry entries, an entry is matched against the others only; a pair found both
    # ways keeps the surer rule (glued text, over "a shorter form").
    both = NameIndex([(1, "Reuters"), (2, "Reuters) Ceasefire")])
    glued, part = both.match("Reuters) Ceasefire", exclude=2), both.match("Reuters", exclude=1)
    assert (glued.owner, glued.kind, part.owner, part.kind) == (1, "glued", 2, "part")
    assert glued.strength < part.strength


def test_between_two_entries_the_plain_name_is_kept(project):
    review = Review(project)
    junk = review.create_source("Reuters) Ceasefire").id
    reuters = review.create_source("Reuters").id
    observatory = review.create_source("Syrian Observatory for Human Rights").id
    short = review.create_source("the Observatory").id
    pairs = {(s.keep_id, s.other_id, s.reason) for s in merge_suggestions(project)}
    assert pairs == {(reuters, junk, "the name with other text glued to it"),
                     (observatory, short, "a shorter form of the name")}
    # An entry with more accepted claims is kept, and the reason reads the other way round.
    doc = store_documents(project, [NewDocument("Fighting resumed, the Observatory said.")]).document_ids[0]
    text = project.document(doc).text
    start = text.index("the Observatory")
    review.create_claim(doc, (0, text.index(",")), source=(start, start + len("the Observatory")))
    (s,) = [s for s in merge_suggestions(project) if s.other_id in (observatory, short)]
    assert (s.keep_id, s.other_id, s.reason) == (short, observatory, "a longer form of the name")


# -- the registry holds what an analyst confirmed -----------------------------------------------------------
def test_preannotating_the_seed_article_leaves_the_registry_empty(project, nlp):
    seed = shared_path("seed", "homs-offensive.txt")
    store_documents(project, [NewDocument(seed.read_text(encoding="utf-8"))])
    summary = annotate(project, nlp=nlp)
    assert summary.claims > 5
    assert source_names(project) == []
    assert project.conn.execute("SELECT count(*) FROM claims WHERE source_id IS NOT NULL").fetchone() == (0,)
    # The names the model proposed stay with their claims, as candidates.
    candidates = candidate_names(project)
    assert "reuters" in candidates and candidates["reuters"][0] == "Reuters"
    assert project.counts().sources == 0
    project.close()
    assert check_project(project.path) == []


def test_candidate_names_match_a_plain_read_of_every_claim(annotated):
    project, _ = annotated
    Review(project).accept_claim(claim_by_source(project)["Reuters"])
    plain: dict[str, dict[str, int]] = {}
    for (text,) in project.conn.execute(   # the reference: SQLite's substr, one claim at a time
            "SELECT substr(d.text, s.start + 1, s.\"end\" - s.start) FROM claims c"
            " JOIN spans s ON s.id = c.source_span_id JOIN documents d ON d.id = c.document_id"
            " WHERE c.status = 'suggested' AND c.source_id IS NULL"):
        name = candidate_name(text)
        if name:
            by = plain.setdefault(normalise_source_name(name), {})
            by[name] = by.get(name, 0) + 1
    expected = {k: (max(by, key=lambda n: (by[n], n)), sum(by.values())) for k, by in plain.items()}
    assert candidate_names(project) == expected
    assert expected["reuters"] == ("REUTERS", 1) and "he" not in expected


def test_accepting_registers_a_source_once_and_undo_removes_it(annotated):
    project, claims = annotated
    review = Review(project)
    changes = review.accept_claim(claims["Reuters"])
    assert changes.registry and source_names(project) == ["Reuters"]
    (entry,) = changes.sources
    assert linked(project, claims["Reuters"]) == "Reuters"
    # A suggested claim's proposed name that is an entry already: counted as that source.
    assert claim_source(project, claims["REUTERS"]) == entry and project.claim(claims["REUTERS"]).source_id is None
    assert claim_source(project, claims["a UN spokesman"]) is None
    changes = review.accept_claim(claims["REUTERS"])       # the same name: the same entry
    assert source_names(project) == ["Reuters"] and changes.sources == set()
    assert project.claim(claims["REUTERS"]).source_id == entry
    review.reject_claim(claims["The Syrian Observatory"])  # rejecting leaves the registry alone
    assert source_names(project) == ["Reuters"]
    review.accept_claim(claims["He"])                      # a pronoun names no source
    assert source_names(project) == ["Reuters"] and project.claim(claims["He"]).source_id is None
    review.undo(), review.undo(), review.undo()
    assert source_names(project) == ["Reuters"]            # made by the first accept
    changes = review.undo()
    assert changes.registry and source_names(project) == []
    assert project.claim(claims["Reuters"]).source_id is None
    assert project.claim(claims["Reuters"]).status == "suggested"
    review.redo()
    assert [e.id for e in registry_entries(project)] == [entry]
    assert registry_entries(project)[0].accepted_claims == 1


def test_grading_a_suggested_claims_source_registers_it_and_leaves_the_claim_suggested(annotated):
    project, claims = annotated
    review = Review(project)
    cid = claims["a UN spokesman"]
    changes = review.grade_claim_source(cid, "c")
    assert source_names(project) == ["a UN spokesman"]
    assert project.source(changes.id).reliability == "C" and linked(project, cid) == "a UN spokesman"
    assert project.claim(cid).status == "suggested"
    review.undo()
    assert source_names(project) == [] and project.claim(cid).source_id is None
    with pytest.raises(ValueError, match="names no one"):
        review.grade_claim_source(claims["He"], "B")
    assert source_names(project) == []
    # Grading the claim itself accepts it, and so registers its source.
    review.grade_claim(claims["REUTERS"], 2)
    assert linked(project, claims["REUTERS"]) == "REUTERS"


def test_merge_and_unmerge_are_undoable_decisions(annotated):
    project, claims = annotated
    review = Review(project)
    full, short = claims["the Syrian Observatory for Human Rights"], claims["The Syrian Observatory"]
    review.accept_claim(full)
    review.accept_claim(short)
    review.grade_source(project.claim(short).source_id, "D")
    review.accept_claim(claims["Reuters"])
    keep, other = project.claim(full).source_id, project.claim(short).source_id
    suggestions = {s.name: s for s in merge_suggestions(project)}
    # Two entries, and a name still on a suggested claim.
    s = suggestions["The Syrian Observatory"]
    assert (s.keep_id, s.other_id, s.claims) == (keep, other, 1) and "shorter form" in s.reason
    c = suggestions["The Britain-based Syrian Observatory for Human Rights"]
    assert (c.keep_id, c.other_id, c.claims) == (keep, None, 1)
    assert "Reuters" not in suggestions and "REUTERS" not in suggestions  # the same name already

    changes = review.merge_name(keep, "The Syrian Observatory")
    assert changes.undo_text.startswith("merge source") and other not in {e.id for e in registry_entries(project)}
    entry = project.source(keep)
    assert entry.aliases == ["The Syrian Observatory"] and entry.reliability == "D"
    assert project.claim(short).source_id == keep

    changes = review.unmerge_source(keep, "The Syrian Observatory")
    assert changes.id == other                    # the entry comes back as it was
    assert project.source(other).name == "The Syrian Observatory" and project.source(other).reliability == "D"
    assert project.source(keep).aliases == [] and project.source(keep).reliability is None
    assert project.claim(short).source_id == other and project.claim(full).source_id == keep
    review.undo()                                 # the un-merge
    assert project.claim(short).source_id == keep and project.source(keep).aliases == ["The Syrian Observatory"]
    review.undo()                                 # the merge
    assert project.claim(short).source_id == other and project.source(other).reliability == "D"

    # A name on suggested claims becomes an alias: accepting its claim links it, no new entry.
    britain = claims["The Britain-based Syrian Observatory for Human Rights"]
    review.merge_name(keep, "The Britain-based Syrian Observatory for Human Rights")
    before = len(registry_entries(project))
    review.accept_claim(britain)
    assert project.claim(britain).source_id == keep and len(registry_entries(project)) == before
    # Un-merged again, the claim that says the name goes with it to an entry of its own.
    changes = review.unmerge_source(keep, "The Britain-based Syrian Observatory for Human Rights")
    assert project.claim(britain).source_id == changes.id != keep
    review.undo()
    assert project.claim(britain).source_id == keep
    with pytest.raises(ValueError, match="not an alias"):
        review.unmerge_source(keep, "Reuters")


def test_different_sources_are_not_suggested_again(annotated):
    project, claims = annotated
    review = Review(project)
    review.accept_claim(claims["the Syrian Observatory for Human Rights"])
    review.accept_claim(claims["The Syrian Observatory"])
    (s,) = [s for s in merge_suggestions(project) if s.other_id is not None]
    review.rename_source(s.keep_id, "SOHR (UK)")   # a new display name; the key stays
    (s,) = [s for s in merge_suggestions(project) if s.other_id is not None]
    review.mark_not_same(s.keep_name, s.name, key=s.key)
    assert all(x.other_id is None for x in merge_suggestions(project))
    review.undo()
    assert any(x.key == s.key for x in merge_suggestions(project))


# -- the migration of an older project ------------------------------------------------------------------
def _as_v1(project: Project) -> None:
    """What today's v1 pre-annotation did besides storing the claims: every source name the model
    proposed became a registry entry, linked to its claim, outside the events log."""
    with project.atomic():
        for cid, text in project.conn.execute(
                "SELECT c.id, substr(d.text, s.start + 1, s.\"end\" - s.start) FROM claims c"
                " JOIN spans s ON s.id = c.source_span_id JOIN documents d ON d.id = c.document_id"
                " ORDER BY c.id").fetchall():
            project.conn.execute("UPDATE claims SET source_id = ? WHERE id = ?",
                                 (find_or_create_source(project, text), cid))


# What the migrations after this one (3: the claims' search index; 4: the models table) add,
# taken away again.
_LATER_MIGRATIONS = """
    DROP INDEX idx_models_in_use; DROP TABLE models;
    DROP TRIGGER claims_fts_ai; DROP TRIGGER claims_fts_ad; DROP TRIGGER claims_fts_au;
    DROP TRIGGER claims_fts_span_au; DROP TRIGGER claims_fts_doc_au;
    DROP TABLE claims_fts_terms; DROP TABLE claims_fts;
    DROP INDEX idx_claims_content; DROP INDEX idx_claims_credibility; DROP INDEX idx_documents_day;
    ALTER TABLE claim_links DROP COLUMN annotator;
"""


def _mark_v1(path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(_LATER_MIGRATIONS + "DROP TABLE source_not_same; UPDATE meta SET value = '1'"
                       " WHERE key = 'schema_version'; PRAGMA user_version = 1;")
    conn.close()


def test_migrating_a_v1_project_keeps_what_an_analyst_touched(project_path, nlp):
    project = Project(project_path)
    store_documents(project, [NewDocument(t) for t in TEXTS + [
        "Ceasefire talks stalled, a Kremlin spokesman said."]])
    annotate(project, nlp=nlp)
    _as_v1(project)
    claims = claim_by_source(project)
    kremlin = claims["a Kremlin spokesman"]
    entry = {name: project.claim(claims[name]).source_id for name in claims}
    assert len(source_names(project)) == 7        # one per proposed name (Reuters twice is one)
    # An analyst's work in v1 (these decisions write the same rows v1's did).
    review = Review(project)
    review.grade_source(entry["Reuters"], "B")                            # a grade
    review.reject_claim(claims["REUTERS"])
    review.accept_claim(claims["the Syrian Observatory for Human Rights"])  # an accepted claim
    review.add_alias(entry["The Syrian Observatory"], "SOHR")               # an alias by hand
    review.set_claim_source(claims["He"], entry["The Britain-based Syrian Observatory for Human Rights"])
    review.reject_claim(claims["a UN spokesman"])                        # no one touched its entry
    review.delete_span(project.claim(kremlin).source_span_id)            # its name is only there now
    amnesty = review.create_source("Amnesty International").id           # made by hand
    project.close()
    _mark_v1(project_path)
    texts_before = {cid: text for text, cid in claims.items()}
    events_before = sqlite3.connect(project_path).execute("SELECT count(*) FROM events").fetchone()
    # Read-only, the old file is listed as stored, with a note (a read never migrates).
    r = cli("sources", project_path, "--json")
    assert r.returncode == 0 and "written by an older Credence" in r.stderr
    assert len(json.loads(r.stdout)["sources"]) == 8

    with Project(project_path) as project:                               # migrates
        # Up to the latest schema (2 and the migrations after it).
        latest = SCHEMA_VERSION
        assert project.schema_version == latest and project.setting("schema_version") == str(latest)
        assert source_names(project) == [
            "Amnesty International", "Reuters", "The Britain-based Syrian Observatory for Human Rights",
            "The Syrian Observatory", "a Kremlin spokesman", "the Syrian Observatory for Human Rights"]
        assert project.source(amnesty).name == "Amnesty International"
        # Entries no analyst touched left ("He": its one claim was linked elsewhere by hand;
        # "a UN spokesman": its one claim was rejected); their claims keep the names.
        assert project.claim(claims["a UN spokesman"]).source_id is None
        assert linked(project, claims["He"]) == "The Britain-based Syrian Observatory for Human Rights"
        assert linked(project, claims["REUTERS"]) == "Reuters"
        assert linked(project, kremlin) == "a Kremlin spokesman"
        assert {cid: text for text, cid in claim_by_source(project).items()} == {
            cid: t for cid, t in texts_before.items() if cid != kremlin}
        assert project.conn.execute("SELECT count(*) FROM events").fetchone() == events_before
        # Accepting a claim whose entry left registers its name again, as a new project would.
        Review(project).accept_claim(claims["a UN spokesman"])
        assert "a UN spokesman" in source_names(project)
    assert check_project(project_path) == []
    with Project(project_path) as project:                               # nothing more to do
        assert len(source_names(project)) == 7


# -- the command ------------------------------------------------------------------------------------------
def test_sources_command_lists_the_registry(annotated):
    project, claims = annotated
    review = Review(project)
    review.accept_claim(claims["Reuters"])
    review.accept_claim(claims["REUTERS"])
    review.grade_claim_source(claims["Reuters"], "B")
    review.accept_claim(claims["the Syrian Observatory for Human Rights"])
    observatory = project.claim(claims["the Syrian Observatory for Human Rights"]).source_id
    review.merge_name(observatory, "The Britain-based Syrian Observatory for Human Rights")
    path = project.path
    project.close()
    r = cli("sources", path, "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)["sources"]
    assert [(s["name"], s["aliases"], s["reliability"], s["accepted_claims"]) for s in data] == [
        ("Reuters", [], "B", 2),
        ("the Syrian Observatory for Human Rights",
         ["The Britain-based Syrian Observatory for Human Rights"], None, 1)]
    r = cli("sources", path)
    assert r.returncode == 0 and r.stdout.splitlines()[0].endswith(
        "2 sources (1 graded, 3 accepted claims linked)")
    assert "  B      2  Reuters" in r.stdout


def test_sources_command_bad_input_is_one_line(tmp_path):
    assert "no such project" in one_error_line(cli("sources", tmp_path / "none.credence"))
    (tmp_path / "x.credence").write_text("not a project")
    assert "not a Credence project" in one_error_line(cli("sources", tmp_path / "x.credence"))
    assert "required: project" in one_error_line(cli("sources"))
