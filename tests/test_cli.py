"""The command line as a user runs it: one clear line and a non-zero exit on bad input."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def cli(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "CREDENCE_NO_BOOTSTRAP": "1"}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=timeout)


def one_error_line(r: subprocess.CompletedProcess) -> str:
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode != 0
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr
    return lines[0]


def test_help_lists_the_commands():
    r = cli("--help")
    assert r.returncode == 0
    for command in ("import", "annotate", "export", "stats", "check", "eval-claims"):
        assert command in r.stdout


def test_import_then_stats(tmp_path):
    article = tmp_path / "article.txt"
    article.write_text("Reuters reported fighting in Homs.\n")
    project = tmp_path / "p.credence"
    r = cli("import", project, article)
    assert r.returncode == 0, r.stderr
    assert "added 1 documents" in r.stdout
    r = cli("stats", project, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["documents"] == 1
    r = cli("import", project, article)
    assert "added 0 documents" in r.stdout


@pytest.mark.parametrize("setup, args, expected", [
    (lambda d: None, ["import", "{p}", "{d}/missing.txt"], "no such file"),
    (lambda d: (d / "x.bin").write_bytes(bytes(range(256)) * 40), ["import", "{p}", "{d}/x.bin", "--format", "txt"], "binary"),
    (lambda d: (d / "empty.txt").write_text(""), ["import", "{p}", "{d}/empty.txt"], "empty"),
    (lambda d: (d / "t.csv").write_text("a,b\n1,2\n"), ["import", "{p}", "{d}/t.csv", "--text-column", "body"], "body"),
    (lambda d: (d / "notaproject.credence").write_text("hello"), ["stats", "{d}/notaproject.credence"], "not a Credence project"),
    (lambda d: None, ["stats", "{d}/nothing.credence"], "no such project"),
    (lambda d: None, ["export", "{d}/nothing.credence", "--format", "prodigy", "--out", "{d}/o.jsonl"], "no such project"),
])
def test_bad_input_gives_one_clear_line(tmp_path, setup, args, expected):
    setup(tmp_path)
    project = tmp_path / "p.credence"
    r = cli(*[a.format(p=project, d=tmp_path) for a in args])
    line = one_error_line(r)
    assert expected.lower() in line.lower()
    if args[0] == "import":
        # the refused import left no documents behind
        if project.exists():
            s = cli("stats", project, "--json")
            assert json.loads(s.stdout)["documents"] == 0


def test_check_is_clean_on_a_fresh_project_and_lists_problems_otherwise(tmp_path):
    project = tmp_path / "p.credence"
    (tmp_path / "a.txt").write_text("An article about Homs.")
    assert cli("import", project, tmp_path / "a.txt").returncode == 0
    r = cli("check", project)
    assert r.returncode == 0 and "sound" in r.stdout
    import sqlite3
    conn = sqlite3.connect(project)
    conn.execute("INSERT INTO spans (document_id, start, \"end\", label, origin, status, created_at,"
                 " updated_at) VALUES (1, 5, 500, 'ORG', 'model', 'suggested', 'x', 'x')")
    conn.commit()
    conn.close()
    r = cli("check", project)
    assert r.returncode == 1
    assert "document 1 'a': span 1 'ORG' at 5-500 lies outside its text (length 22)" in r.stdout


def test_brat_import_and_agreement_between_annotators(tmp_path):
    from tests.conftest import shared_path
    gold = shared_path("polnear-dev")
    project = tmp_path / "polnear.credence"
    r = cli("import", project, gold, "--format", "brat")
    assert r.returncode == 0, r.stderr
    assert "added 84 documents" in r.stdout and "9095 spans" in r.stdout
    r = cli("stats", project, "--agreement", "--json")
    assert r.returncode == 0, r.stderr
    agreement = json.loads(r.stdout)["agreement"]
    # Two dev articles carry six annotators' versions each: 15 pairs each.
    assert (agreement["documents"], agreement["annotators"]) == (2, 6)
    for role in ("Cue", "Source", "Content"):
        stats = agreement["per_label"][role]
        assert stats["pairs"] == 30
        assert 0.5 < stats["f1"] < 1.0
        assert stats["f1"] == pytest.approx(2 * stats["matched"] / (stats["spans_a"] + stats["spans_b"]), abs=1e-3)
