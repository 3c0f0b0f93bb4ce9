"""Exports that cannot hurt: never onto the project, its -wal/-shm, lock or backups (by path,
by inode, through symlinked folders), never through a symlink or onto a device or FIFO; a
killed export leaves nothing the next one does not remove; every JSON export strictly valid
whatever the stored meta holds; a document that cannot be written is named; the CLI says it
in one line and exits non-zero."""
from __future__ import annotations

import csv
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storage.backup import backup_dir, make_backup
from storage.check import check_project
from storage.export import FORMATS, ExportError, export
from storage.export.files import WORK_PREFIX
from storage.project import Project
from tests.reliability.conftest import CLI_ENV, ROOT, dump, run_cli

# Hundreds of hostile inputs and processes: the full suite runs them, the fast loop does not.
pytestmark = pytest.mark.slow

ALL = sorted(FORMATS)


def _suffix(fmt: str) -> str:
    return FORMATS[fmt].suffix


def _refused(cli: subprocess.CompletedProcess, *words: str) -> None:
    assert cli.returncode != 0
    assert "Traceback" not in cli.stderr, cli.stderr
    lines = [ln for ln in cli.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, cli.stderr
    for w in words:
        assert w in lines[0], lines[0]


@pytest.fixture
def guarded(seeded):
    """The seed project with a backup beside it and its -wal/-shm present (open for writing)."""
    with Project(seeded) as p:
        make_backup(p)
        p.set_setting("touched", "1")  # a committed write: the -wal holds it
    return seeded


def _project_files(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in path.parent.iterdir() if p.is_file()}


@pytest.mark.parametrize("target", ["project", "-wal", "-shm", "hard link", "symlinked folder",
                                    "symlink to project", "backup", "backups folder",
                                    "copy kept by a restore"])
def test_no_export_writes_onto_the_project_or_its_files(guarded, tmp_path, target):
    project = guarded
    before = dump(project)
    holder = Project(project)  # open, so that -wal and -shm exist as while the app runs
    try:
        if target == "project":
            out = project
        elif target in ("-wal", "-shm"):
            out = Path(f"{project}{target}")
            assert out.exists()
        elif target == "hard link":
            out = tmp_path / "elsewhere" / "innocent.jsonl"
            out.parent.mkdir()
            os.link(project, out)
        elif target == "symlinked folder":
            link = tmp_path / "via"
            link.symlink_to(project.parent, target_is_directory=True)
            out = link / project.name
        elif target == "symlink to project":
            out = tmp_path / "link.jsonl"
            out.symlink_to(project)
        elif target == "backup":
            out = next(backup_dir(project).iterdir())
        elif target == "copy kept by a restore":
            out = project.with_name(f"{project.name}.replaced-20250101-120000")
            out.write_bytes(project.read_bytes())
        else:
            out = backup_dir(project) / "new.jsonl"
        files = {p: p.read_bytes() for p in project.parent.rglob("*") if p.is_file()}
        for fmt in ("doccano", "spacy", "claims-csv"):
            with pytest.raises(ExportError):
                export(holder, fmt, out, everything=True)
        assert {p: p.read_bytes() for p in project.parent.rglob("*") if p.is_file()} == files
    finally:
        holder.close()
    assert dump(project) == before and check_project(project) == []
    cli = run_cli("export", project, "--format", "doccano", "--out", out, "--all")
    _refused(cli)
    assert dump(project) == before


def test_folder_exports_never_hold_or_replace_the_project(guarded, tmp_path):
    project = guarded
    before = dump(project)
    for out in (project.parent, backup_dir(project), tmp_path):
        with Project(project, readonly=True) as p, pytest.raises(ExportError):
            export(p, "brat", out, everything=True)
    assert dump(project) == before and check_project(project) == []
    _refused(run_cli("export", project, "--format", "brat", "--out", project.parent, "--all"),
             "holds the project file")


def test_no_export_writes_through_a_symlink(seeded, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / "folder").mkdir()
    for fmt, link in (("prodigy", tmp_path / "out.jsonl"), ("brat", tmp_path / "brat")):
        link.symlink_to(victim if fmt != "brat" else tmp_path / "folder")
        with Project(seeded, readonly=True) as p, pytest.raises(ExportError, match="symbolic link"):
            export(p, fmt, link, everything=True)
        assert link.is_symlink()
    assert victim.read_text() == "keep me" and not any((tmp_path / "folder").iterdir())
    _refused(run_cli("export", seeded, "--format", "prodigy", "--out", tmp_path / "out.jsonl"),
             "symbolic link")


def test_no_export_onto_a_device_or_fifo(seeded, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for out in (Path("/dev/null"), fifo):
        for fmt in ("doccano", "spacy"):
            t0 = time.monotonic()
            with Project(seeded, readonly=True) as p, pytest.raises(ExportError, match="not a regular"):
                export(p, fmt, out)
            assert time.monotonic() - t0 < 5  # a FIFO is never opened (it would block)
        _refused(run_cli("export", seeded, "--format", "doccano", "--out", out, timeout=30),
                 "not a regular file")
    assert fifo.exists() and not fifo.is_file()


def _work_folders(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(WORK_PREFIX)]


def test_a_killed_export_leaves_nothing_the_next_one_keeps(seeded, tmp_path):
    """Killed half-way, an export leaves the previous file as it was and its work folder;
    the next export into that folder removes that folder, never one in use."""
    out = tmp_path / "out.jsonl"
    out.write_text("the previous export\n")
    code = (f"import sys, time; sys.path.insert(0, {str(ROOT)!r})\n"
            "from storage.project import Project\nfrom storage.export import export\n"
            f"with Project({str(seeded)!r}, readonly=True) as p:\n"
            f"    export(p, 'prodigy', {str(out)!r}, everything=True,\n"
            "           progress=lambda d, t: (print('writing', flush=True), time.sleep(60)))\n")
    slow = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            env=CLI_ENV)
    busy = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            env=CLI_ENV)
    try:
        assert slow.stdout.readline().strip() == "writing"  # type: ignore[union-attr]
        assert busy.stdout.readline().strip() == "writing"  # type: ignore[union-attr]
        slow.send_signal(signal.SIGKILL)
        slow.wait(10)
        left = _work_folders(tmp_path)
        assert len(left) == 2 and any((w / "export.part").exists() for w in left)
        assert out.read_text() == "the previous export\n"
        with Project(seeded, readonly=True) as p:
            export(p, "doccano", tmp_path / "other.jsonl")
        remaining = _work_folders(tmp_path)
        assert len(remaining) == 1, "the killed export's folder stays, or the busy one went"
    finally:
        for proc in (slow, busy):
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)
            proc.stdout.close()  # type: ignore[union-attr]
    with Project(seeded, readonly=True) as p:
        export(p, "prodigy", out)
    assert _work_folders(tmp_path) == []


HOSTILE_META = ('{"nan": NaN, "inf": Infinity, "ninf": -Infinity, "list": [1.5, NaN, -Infinity],'
                ' "big": ' + "9" * 5000 + ', "int70": 1180591620717411303424, "neg": -9223372036854775809,'
                ' "ok": 9223372036854775807, "deep": ' + "[" * 900 + "1" + "]" * 900 + ','
                ' "surrogate": "\\ud800x", "text": "caf\\u00e9"}')


def _strict(text: str):
    def refuse(name):
        raise ValueError(f"invalid JSON constant {name}")
    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def hostile(seeded):
    """Meta values no JSON writer should copy as they are, stored as an importer might."""
    with Project(seeded) as p:
        p.conn.execute("UPDATE documents SET meta = ?", (HOSTILE_META,))
    return seeded


@pytest.mark.parametrize("fmt", ALL)
def test_every_export_writes_strict_json_whatever_meta_holds(hostile, tmp_path, fmt):
    out = tmp_path / f"out{_suffix(fmt)}"
    with Project(hostile, readonly=True) as p:
        summary = export(p, fmt, out, everything=True)
        n = p.document_count()
    assert summary.documents > 0 or fmt == "claimreview"  # graded claims only: none here
    if fmt == "claimreview":
        rows = []
        assert _strict(out.read_text(encoding="utf-8"))["@graph"] == []
    elif fmt in ("doccano", "prodigy", "claims-jsonl"):
        rows = [_strict(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert rows
    elif fmt == "labelstudio":
        rows = _strict(out.read_text(encoding="utf-8"))
    elif fmt in ("spacy", "spacy-folder"):
        import spacy
        from spacy.tokens import DocBin
        vocab = spacy.blank("en").vocab
        docs = [d for f in ([out] if out.is_file() else sorted(out.glob("*.spacy")))
                for d in DocBin().from_disk(f).get_docs(vocab)]
        assert len(docs) == n
        rows = [{"meta": {"meta": d.user_data["meta"]}} for d in docs]
    else:  # CSV, CoNLL, brat: UTF-8 text throughout
        for f in [out] if out.is_file() else sorted(out.rglob("*")):
            f.read_bytes().decode("utf-8")
        rows = []
    if fmt in ("doccano", "prodigy", "labelstudio", "spacy", "spacy-folder"):
        meta = rows[0]["data" if fmt == "labelstudio" else "meta"]["meta"]
        assert meta["nan"] is None and meta["inf"] is None and meta["ninf"] is None
        assert list(meta["list"]) == [1.5, None, None]
        assert meta["big"] == "9" * 5000 and meta["int70"] == "1180591620717411303424"
        assert meta["neg"] == "-9223372036854775809" and meta["ok"] == 9223372036854775807
        deep, depth = meta["deep"], 0  # lists as deep as formats write, then the rest as text
        while isinstance(deep, (list, tuple)):
            deep, depth = deep[0], depth + 1
        assert isinstance(deep, str) and depth + deep.count("[") == 900 and deep.strip("[]") == "1"
        assert meta["surrogate"] == "\ufffdx" and meta["text"] == "café"
        assert any("meta values written differently" in n for n in summary.not_represented)
    if fmt == "docs-csv":
        with open(out, encoding="utf-8-sig", newline="") as f:
            row = next(csv.DictReader(f))
        assert (row["nan"], row["inf"], row["list"]) == ("", "", "[1.5, null, null]")
        assert row["big"] == "9" * 5000 and row["surrogate"] == "\ufffdx"


def test_hostile_meta_through_the_command_line(hostile, tmp_path):
    for fmt in ("spacy", "docs-csv", "doccano"):
        cli = run_cli("export", hostile, "--format", fmt, "--out", tmp_path / f"x{_suffix(fmt)}", "--all")
        assert cli.returncode == 0 and "Traceback" not in cli.stderr, cli.stderr


@pytest.mark.parametrize("column, value", [
    ("spans.fragments", "[[0, 3], [5"), ("documents.meta", '{"a": '), ("documents.meta", "[" * 5000)])
def test_an_export_that_fails_on_a_document_names_it(seeded, tmp_path, column, value):
    table, col = column.split(".")
    with Project(seeded) as p:
        doc_id, name = p.conn.execute("SELECT id, name FROM documents ORDER BY id LIMIT 1 OFFSET 2"
                                      ).fetchone()
        key = "document_id" if table == "spans" else "id"
        p.conn.execute(f"UPDATE {table} SET {col} = ? WHERE {key} = ?", (value, doc_id))
    fmts = ["prodigy", "spacy", "doccano", "conll", "brat"] + (["docs-csv"] if table == "documents" else [])
    for fmt in fmts:
        out = tmp_path / f"{fmt}{_suffix(fmt)}"
        with Project(seeded, readonly=True) as p, pytest.raises(ExportError) as info:
            export(p, fmt, out, everything=True)
        message = str(info.value)
        assert f"document {doc_id}" in message and repr(name) in message and "\n" not in message
        assert not out.exists() and _work_folders(tmp_path) == []
    cli = run_cli("export", seeded, "--format", "prodigy", "--out", tmp_path / "cli.jsonl", "--all")
    _refused(cli, f"document {doc_id}")


def test_non_finite_values_never_reach_a_json_file(tmp_path):
    """The strict encoder every JSON export uses refuses NaN rather than writing it."""
    from storage.export.values import dumps
    with pytest.raises(ValueError):
        dumps({"x": math.nan})
    assert dumps({"x": "é"}) == '{"x": "é"}'
