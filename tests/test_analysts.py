"""Who decided: the analyst's name on every decision, the --annotator option, and agreement
between two analysts' copies of one project (`stats --agreement --with`)."""
from __future__ import annotations

import json
import shutil

import pytest

from annotation.model import NewDocument, SpanRecord
from storage.agreement import compare_projects
from storage.analyst import analyst_name, os_user_name, set_analyst_name, stored_analyst_name
from storage.ingest import store_documents
from storage.project import Project
from storage.review import Review
from tests.test_cli import cli

TEXTS = ["Reuters said Assad left Homs on Monday.", "Putin met Erdogan in Sochi on Friday."]


def _spans(text: str, words: list[tuple[str, str]]) -> list[SpanRecord]:
    return [SpanRecord(text.index(w), text.index(w) + len(w), label) for w, label in words]


@pytest.fixture
def shared_copy(tmp_path):
    """One project, pre-annotated alike, copied for two analysts."""
    a = tmp_path / "ann.credence"
    with Project(a) as p:
        store_documents(p, [
            NewDocument(TEXTS[0], name="homs", spans=_spans(TEXTS[0], [
                ("Reuters", "ORG"), ("Assad", "PERSON"), ("Homs", "GPE"), ("Monday", "DATE")])),
            NewDocument(TEXTS[1], name="sochi", spans=_spans(TEXTS[1], [
                ("Putin", "PERSON"), ("Erdogan", "PERSON"), ("Sochi", "GPE")]))])
    b = tmp_path / "ben.credence"
    shutil.copy(a, b)
    return a, b


def _decide(path, who: str, accept: list[str], create: list[tuple[str, str]] = (),
            done: tuple[str, ...] = ("homs", "sochi")) -> None:
    with Project(path, who=who) as p:
        review = Review(p)
        for doc_id in p.document_ids():
            text = p.document_text(doc_id)
            ids = [s.id for s in p.spans(doc_id) if text[s.start:s.end] in accept]
            review.accept(ids)
            for word, label in create:
                if word in text:
                    review.create_span(doc_id, text.index(word), text.index(word) + len(word), label)
            if p.document(doc_id).name in done:
                review.set_document_status(doc_id, "done", resolve="reject")


def test_agreement_between_two_copies_counts_only_articles_both_marked_done(shared_copy):
    a, b = shared_copy
    # They agree on Reuters, Assad, Homs, Putin and Erdogan; Ann accepts "Monday", Ben "Sochi".
    _decide(a, "Ann", ["Reuters", "Assad", "Homs", "Monday", "Putin", "Erdogan"])
    _decide(b, "Ben", ["Reuters", "Assad", "Homs", "Putin", "Erdogan", "Sochi"])
    with Project(a, readonly=True) as pa, Project(b, readonly=True) as pb:
        result = compare_projects(pa, pb)
    assert result["documents"] == 2 and result["names"] == ["Ann", "Ben"]
    per = result["per_label"]
    assert per["PERSON"]["f1"] == 1.0 and per["ORG"]["f1"] == 1.0
    assert per["DATE"] == {"f1": 0.0, "pairs": 1, "matched": 0, "spans_a": 1, "spans_b": 0}
    assert per["GPE"]["matched"] == 1 and per["GPE"]["spans_a"] == 1 and per["GPE"]["spans_b"] == 2
    assert per["GPE"]["f1"] == round(2 * 1 / 3, 4)

    # The command line gives the same figures.
    r = cli("stats", a, "--agreement", "--with", b, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["agreement"]["per_label"] == per
    r = cli("stats", a, "--agreement", "--with", b)
    assert r.returncode == 0 and "agreement between Ann and Ben, 2 articles both marked done" in r.stdout
    r = cli("stats", a, "--with", b)
    assert r.returncode != 0 and "--with compares agreement" in r.stderr


def test_an_article_not_done_in_one_copy_is_left_out(shared_copy):
    a, b = shared_copy
    _decide(a, "Ann", ["Reuters", "Putin"])
    _decide(b, "Ben", ["Reuters"], done=("homs",))
    with Project(a, readonly=True) as pa, Project(b, readonly=True) as pb:
        result = compare_projects(pa, pb)
    assert result["documents"] == 1 and result["per_label"]["ORG"]["f1"] == 1.0
    assert "PERSON" not in result["per_label"] or result["per_label"]["PERSON"]["spans_a"] == 0


def test_annotator_option_records_who_ran_a_command(tmp_path):
    article = tmp_path / "a.txt"
    article.write_text(TEXTS[0] + "\n")
    project = tmp_path / "p.credence"
    r = cli("import", project, article, "--annotator", "Rana Haddad")
    assert r.returncode == 0, r.stderr
    with Project(project, readonly=True) as p:
        rows = p.conn.execute("SELECT who, action, entity, after FROM events").fetchall()
    assert len(rows) == 1 and rows[0][:3] == ("Rana Haddad", "import", "project")
    assert "1 document" in json.loads(rows[0][3])["summary"]
    r = cli("import", project, article)  # default: the stored name, else the OS user name
    with Project(project, readonly=True) as p:
        last = p.conn.execute("SELECT who FROM events ORDER BY id DESC LIMIT 1").fetchone()[0]
    assert last == analyst_name()
    assert "--annotator NAME" in cli("annotate", "--help").stdout


def test_the_analyst_name_is_kept_for_the_app_and_the_commands(tmp_path, monkeypatch):
    monkeypatch.setenv("CREDENCE_HOME", str(tmp_path / "home"))
    assert stored_analyst_name() is None and analyst_name() == os_user_name()
    assert set_analyst_name("  Rana   Haddad ") == "Rana Haddad"
    assert stored_analyst_name() == "Rana Haddad"
    with Project(tmp_path / "p.credence") as p:
        assert p.who == "Rana Haddad"
    with pytest.raises(ValueError):
        set_analyst_name("   ")
    assert stored_analyst_name() == "Rana Haddad"  # a refused name changes nothing
    (tmp_path / "home" / "analyst.json").write_text("not json")
    assert analyst_name() == os_user_name()       # a damaged file: the OS user, no error
