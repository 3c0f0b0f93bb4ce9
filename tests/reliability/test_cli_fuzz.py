"""No traceback ever: every command and option of `python main.py`, given hostile arguments and
files, prints one clear line and exits non-zero on failure (never an internal error).

The command line runs in-process (storage.cli.run, what main.py calls) for speed; a few cases
run as real processes too. Commands and options are read from the parser itself, so a command
added later is fuzzed without touching this file.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import sqlite3
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.cli import _parser, run
from storage.project import Project
from tests.reliability.conftest import run_cli
from tests.reliability.seed import make_seed_project

# Hostile inputs and processes by the hundred: the full suite runs them, the fast loop does not.
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and /dev/zero are POSIX")]

# Commands whose success with a valid project runs spaCy or rebuilds the demo: fuzzed with
# hostile paths only (their normal runs have their own tests).
SLOW = {"annotate", "demo-project", "eval-claims", "train-claims"}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("hostile")
    project = make_seed_project(d / "good.credence", n_docs=2, rng=random.Random(1))
    (d / "folder").mkdir()
    (d / "folder" / "a.txt").write_text("An article about Homs, Reuters said.\n")
    os.mkfifo(d / "fifo")
    (d / "blob.bin").write_bytes(random.Random(2).randbytes(5000))
    (d / "empty.credence").write_bytes(b"")
    (d / "text.credence").write_text("not a project\n")
    conn = sqlite3.connect(d / "foreign.credence")
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    locked = make_seed_project(d / "locked.credence", n_docs=1, rng=random.Random(3))
    (d / "article.txt").write_text("Government forces shelled Homs, activists said.\n")
    (d / "bad.csv").write_text("a,b\n1,2\n")
    (d / "nan.jsonl").write_text('{"text": "An article.", "meta": {"x": NaN}}\n')
    return {
        "good": str(project), "missing": str(d / "nope" / "missing.credence"),
        "folder": str(d / "folder"), "zero": "/dev/zero", "fifo": str(d / "fifo"),
        "blob": str(d / "blob.bin"), "empty": str(d / "empty.credence"),
        "text": str(d / "text.credence"), "foreign": str(d / "foreign.credence"),
        "locked": str(locked), "article": str(d / "article.txt"), "csv": str(d / "bad.csv"),
        "nan": str(d / "nan.jsonl"), "blank": "", "long": "x" * 5000, "dash": "-",
        "newline": str(d / "new\nline.credence"), "root": "/",
        "fresh": str(d / "fresh-{n}.credence"),
    }


VALUES = ["", "0", "-1", "1" * 5000, "nan", "1e9", "x" * 3000, "--", "é\u202e", "prodigy", "txt"]


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = _parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))  # noqa: SLF001
    return dict(sub.choices)


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path, monkeypatch):
    """Relative paths the fuzz makes up land in a scratch folder, never in the repository."""
    monkeypatch.chdir(tmp_path)


def _invoke(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    t = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(argv)
    if os.environ.get("FUZZLOG"):
        with open(os.environ["FUZZLOG"], "a") as f:
            f.write(f"{time.perf_counter() - t:.2f} {[a[:80] for a in argv]!r}\n")
    return code, out.getvalue(), err.getvalue()


def _assert_clean(argv: list[str], code: int, out: str, err: str) -> None:
    shown = [a[:60] for a in argv]
    assert isinstance(code, int), shown
    assert "Traceback" not in err and "Traceback" not in out, (shown, err[-2000:])
    assert "internal error" not in err, (shown, err)
    if code != 0:
        lines = [ln for ln in err.splitlines() if ln.strip()
                 and not ln.startswith(("credence: warning:", "credence: skipped:", "credence: note:"))]
        if argv[0] == "check" and code == 1 and not lines and out.strip():
            return  # check's report: each problem a line on stdout, exit 1 (PRODUCT.md)
        assert len(lines) == 1 and lines[0].startswith("credence: "), (shown, err)


# Paths on which a slow command fails fast (no model run, no demo build).
REFUSED_PATHS = ("folder", "zero", "fifo", "blob", "text", "foreign", "locked", "long", "root")


def _paths(h: dict[str, str], n: int, command: str) -> list[str]:
    return [v.format(n=n) for k, v in h.items() if command not in SLOW or k in REFUSED_PATHS]


def test_every_command_with_every_hostile_path(hostile):
    holder = Project(hostile["locked"])  # held open: the project is locked for everyone else
    try:
        n = 0
        for command, parser in _commands().items():
            positionals = [a for a in parser._actions if not a.option_strings  # noqa: SLF001
                           and a.dest != "help"]
            for value in _paths(hostile, n, command):
                n += 1
                argv = [command] + [value] * max(1, len(positionals))
                if command == "export":
                    argv += ["--format", "prodigy", "--out", hostile["fresh"].format(n=f"out{n}")]
                code, out, err = _invoke(argv)
                _assert_clean(argv, code, out, err)
    finally:
        holder.close()


def test_every_option_with_hostile_values(hostile):
    n = 0
    for command, parser in _commands().items():
        options = [a for a in parser._actions if a.option_strings and a.dest != "help"]  # noqa: SLF001
        positionals = [a for a in parser._actions if not a.option_strings and a.dest != "help"]  # noqa: SLF001
        for action in options:
            for value in VALUES + [hostile["zero"], hostile["fifo"], hostile["folder"]]:
                n += 1
                target = hostile["fresh"].format(n=f"opt{n}") if command not in SLOW else hostile["zero"]
                argv = [command] + [target] * len(positionals)
                if command == "import":
                    argv.append(hostile["article"])
                argv.append(action.option_strings[-1])
                if action.nargs != 0:
                    argv.append(value)
                if command == "export" and action.dest not in ("format", "out"):
                    argv += ["--format", "prodigy", "--out", str(Path(target).with_suffix(".jsonl"))]
                code, out, err = _invoke(argv)
                _assert_clean(argv, code, out, err)


def test_unknown_options_missing_arguments_and_no_arguments():
    for argv in ([], ["--nope"], ["import"], ["annotate", "/dev/zero", "--model", "no_such_model"], ["import", "p.credence"], ["export", "x.credence"],
                 ["nope"], ["stats", "--nope", "x"], ["check", "a", "b", "c"], ["-h", "extra"]):
        code, out, err = _invoke(argv)
        _assert_clean(argv, code, out, err)
        if argv and argv[0] not in ("-h",):
            assert code != 0 or not argv


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_argument_lists(hostile, data):
    commands = [c for c in _commands() if c not in SLOW]
    command = data.draw(st.sampled_from(commands))
    parser = _commands()[command]
    flags = [s for a in parser._actions for s in a.option_strings if s not in ("-h", "--help")]  # noqa: SLF001
    words = st.one_of(st.sampled_from(flags + VALUES), st.sampled_from(list(hostile.values())),
                      st.text(max_size=30).filter(lambda s: "\x00" not in s))
    argv = [command] + data.draw(st.lists(words, max_size=7))
    argv = [a.format(n=f"h{len(argv)}") if "{n}" in a else a for a in argv]
    code, out, err = _invoke(argv)
    _assert_clean(argv, code, out, err)


def test_as_a_real_process_one_line_and_non_zero(hostile):
    """The same promise through main.py in a real process (argparse, the bootstrap, stdout)."""
    for args in (["import"], ["import", hostile["fresh"].format(n="p1"), hostile["zero"]],
                 ["import", hostile["fresh"].format(n="p2"), hostile["fifo"]],
                 ["stats", hostile["fifo"]], ["check", hostile["zero"]],
                 ["export", hostile["foreign"], "--format", "doccano", "--out", "/tmp/x.jsonl"],
                 ["annotate", hostile["good"], "--n-process", "1" * 40],
                 ["check", hostile["good"], "--restore", hostile["blob"]]):
        r = run_cli(*args, timeout=60)
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert r.returncode != 0 and len(lines) == 1 and "Traceback" not in r.stderr, (args, r.stderr)
