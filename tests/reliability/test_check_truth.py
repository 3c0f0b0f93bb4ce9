"""`check` tells the truth: no false alarm on any code point (NUL included), and every JSON
column that is not strict JSON is found and named by its document (id and name)."""
from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotation.model import NewDocument, SpanRecord
from storage.check import check_project
from storage.ingest import store_documents
from storage.project import Project
from tests.reliability.conftest import run_cli

# Any code point SQLite can store as UTF-8 (no lone surrogates): NUL, controls, non-BMP…
CODE_POINTS = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, blacklist_categories=("Cs",))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.text(CODE_POINTS, min_size=0, max_size=30),
                          st.text(CODE_POINTS, min_size=1, max_size=20),
                          st.text(CODE_POINTS, min_size=0, max_size=30)), min_size=1, max_size=6))
def test_spans_after_any_code_point_are_inside_their_text(pieces):
    """A span after a NUL (or any other code point) is inside its text for check as for Python."""
    docs = []
    for i, (before, inside, after) in enumerate(pieces):
        text = f"{i}:" + before + inside + after
        start = len(f"{i}:" + before)
        docs.append(NewDocument(raw_text=text, name=f"d{i}", normalise=False,
                                spans=[SpanRecord(start, start + len(inside), "ORG", origin="import",
                                                  fragments=[[start, start + len(inside)]])]))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.credence"
        with Project(path) as project:
            store_documents(project, docs)
            stored = {r[0]: r[1] for r in project.conn.execute("SELECT name, text FROM documents")}
            spans = project.conn.execute('SELECT start, "end" FROM spans').fetchall()
        assert all(0 <= s < e for s, e in spans)
        assert check_project(path) == [], [d.raw_text for d in docs]
        # The texts came back whole (a NUL does not cut them).
        for doc in docs:
            if doc.name in stored:
                assert stored[doc.name] == doc.raw_text


def test_a_span_really_outside_its_text_is_still_found_after_a_nul(tmp_path):
    path = tmp_path / "p.credence"
    text = "Before\x00after the NUL, Reuters said."
    with Project(path) as project:
        store_documents(project, [NewDocument(raw_text=text, name="nul", normalise=False)])
        project.conn.execute("INSERT INTO spans (document_id, start, \"end\", label, origin, status,"
                             " created_at, updated_at) VALUES (1, 20, ?, 'ORG', 'analyst',"
                             " 'accepted', 'x', 'x')", (len(text) + 1,))
    problems = check_project(path)
    assert len(problems) == 1 and "document 1 'nul'" in problems[0] and "outside" in problems[0]


BAD_JSON = {
    ("documents", "meta"): ["{not json", "NaN", '{"x": NaN}', '{"x": Infinity}', "[1, 2]",
                           '{"n": 123456789012345678901234567890}', "[" * 900 + "]" * 900,
                           '{"a": ' * 40 + "1" + "}" * 40, '"\\ud800"'],
    ("documents", "offset_map"): ["[[0, 0", '"x"', "[[0, 0, 5000]]", "[[0, 0]]"],
    ("spans", "fragments"): ["[[0", "[[5, 2]]", '"frag"', "[[0, 99999]]", "{}"],
    ("sources", "aliases"): ["[", "{}", "[1, 2]"],
    ("events", "before"): ["{x", "NaN"],
    ("sightings", "meta"): ["{", "[]"],
}
CASES = [(table, column, value) for (table, column), values in BAD_JSON.items() for value in values]


@pytest.fixture(scope="module")
def sound(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sound") / "sound.credence"
    with Project(path) as project:
        store_documents(project, [
            NewDocument(raw_text="Reuters said rebels took the town.", name="first", normalise=False,
                        spans=[SpanRecord(0, 7, "ORG", origin="import", fragments=[[0, 3], [4, 7]])]),
            NewDocument(raw_text="A second article, about Homs.", name="second-article"),
        ])
        from storage.review import Review, find_or_create_source
        with project.atomic():
            find_or_create_source(project, "Reuters")
        Review(project).accept([1])
        project.db["sightings"].insert({"document_id": 2, "name": "copy", "meta": "{}",
                                        "imported_at": "x"})
    assert check_project(path) == []
    return path


@pytest.mark.parametrize("table, column, value", CASES,
                         ids=[f"{t}.{c}-{i}" for i, (t, c, _v) in enumerate(CASES)])
def test_check_finds_every_bad_json_value_and_names_the_document(sound, tmp_path, table, column, value):
    path = tmp_path / "p.credence"
    path.write_bytes(sound.read_bytes())
    conn = sqlite3.connect(path)
    row = {"documents": 2, "spans": 1, "sources": 1, "events": 1, "sightings": 1}[table]
    conn.execute(f"UPDATE {table} SET {column} = ? WHERE id = ?", (value, row))
    conn.commit()
    conn.close()
    problems = check_project(path)
    assert problems, f"{table}.{column} = {value[:40]!r} passed check"
    r = run_cli("check", path)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    if table in ("documents", "sightings"):
        assert any("document 2 'second-article'" in p for p in problems), problems
    elif table == "spans":
        assert any("document 1 'first'" in p and "span 1" in p for p in problems), problems
    elif table == "sources":
        assert any("source 1 'Reuters'" in p for p in problems), problems
    else:
        assert any("event 1" in p for p in problems), problems


def test_text_that_is_not_utf8_is_named_not_a_crash(sound, tmp_path):
    path = tmp_path / "p.credence"
    path.write_bytes(sound.read_bytes())
    conn = sqlite3.connect(path)
    conn.execute("UPDATE documents SET text = CAST(X'48ff00' AS TEXT) WHERE id = 2")
    conn.commit()
    conn.close()
    problems = check_project(path)
    assert any("document 2 'second-article'" in p and "UTF-8" in p for p in problems), problems
