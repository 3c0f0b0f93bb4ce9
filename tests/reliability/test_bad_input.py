"""Bad input through every import path: 0 uncaught exceptions, one clear message each, the project
unchanged where the input is refused, and partial files say which lines were skipped."""
from __future__ import annotations

import contextlib
import io
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from storage.check import check_project
from storage.importer import import_paths
from storage.project import Project, ProjectError
from tests.reliability.bad_inputs import ACCEPTED, REFUSED, Fixture, fixtures
from tests.reliability.conftest import dump
from tests.reliability.seed import make_seed_project

# Hundreds of hostile inputs and processes: the full suite runs them, the fast loop does not.
pytestmark = pytest.mark.slow

FIXTURES = fixtures()
FIGURES: Counter = Counter()
TEXT_FORMATS = ("txt", "html", "csv", "jsonl")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return make_seed_project(tmp_path_factory.mktemp("tpl") / "tpl.credence", n_docs=2)


def _write(fx: Fixture, folder: Path) -> Path:
    for rel, data in fx.files.items():
        p = folder / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return folder / fx.target


def _core_options(fx: Fixture, fmt: str | None) -> dict:
    opts = {k: v for k, v in fx.options.items() if k != "format"}
    return {"fmt": fmt, **opts}


def _attempt(project: Project, path: Path, fx: Fixture, fmt: str | None) -> str:
    """One import through the core; returns accepted / refused, asserting the promises."""
    before = dump(project.path)
    try:
        summary = import_paths(project, [path], **_core_options(fx, fmt))
    except ProjectError as exc:
        message = str(exc)
        assert message.strip(), f"{fx.id}: empty message"
        assert _names_file(message, path), f"{fx.id}: message does not name the file: {message}"
        assert dump(project.path) == before, f"{fx.id}: refused, but the project changed"
        FIGURES["refused"] += 1
        return REFUSED
    assert summary.added + summary.duplicates >= 1, f"{fx.id}: accepted but nothing stored"
    for s in summary.skipped:
        assert _names_file(s, path) or "/" in s, f"{fx.id}: a skip does not say where: {s}"
    if summary.skipped:
        FIGURES["partial"] += 1
    FIGURES["accepted"] += 1
    return ACCEPTED


def _names_file(message: str, path: Path) -> bool:
    names = {path.name, path.stem, str(path)}
    names |= {p.name for p in path.parent.glob("*")} if path.is_dir() or not path.exists() else set()
    if path.is_dir():
        names |= {p.name for p in path.rglob("*")}
    return any(n and n in message for n in names)


@pytest.mark.parametrize("fx", FIXTURES, ids=[f"{i:03d}-{re.sub(r'[^A-Za-z0-9.-]', '_', f.id)}"
                                               for i, f in enumerate(FIXTURES)])
def test_bad_input(fx: Fixture, tmp_path, template):
    FIGURES["fixtures"] += 1
    path = _write(fx, tmp_path / "in")
    project_path = tmp_path / "p.credence"
    shutil.copy(template, project_path)
    with Project(project_path) as project:
        outcome = _attempt(project, path, fx, fx.options.get("format"))
        FIGURES["attempts"] += 1
        if fx.expect is not None:
            assert outcome == fx.expect, f"{fx.id}: expected {fx.expect}, got {outcome}"
        if fx.lines:
            summary_lines = _skipped_lines(project, path, fx)
            for n in fx.lines:
                assert n in summary_lines, f"{fx.id}: line {n} not reported as skipped: {summary_lines}"
        if fx.family == "generic" or (fx.family == "names" and path.is_file()):
            for fmt in TEXT_FORMATS:  # the user forced a format: every reader meets every file
                _attempt(project, path, fx, fmt)
                FIGURES["attempts"] += 1
    _through_cli(fx, project_path, path)
    _through_ui_helpers(fx, path)
    assert check_project(project_path) == []


def _skipped_lines(project: Project, path: Path, fx: Fixture) -> set[int]:
    """Re-read (into a scratch copy) to get the skip list; line numbers after `file:`."""
    scratch = project.path.with_name("scratch.credence")
    shutil.copy(project.path, scratch)  # the open project is in WAL mode: copy is a snapshot
    for side in ("-wal",):
        src = Path(f"{project.path}{side}")
        if src.exists():
            shutil.copy(src, f"{scratch}{side}")
    with Project(scratch) as p:
        try:
            summary = import_paths(p, [path], **_core_options(fx, fx.options.get("format")))
        except ProjectError:
            return set()
    numbers = set()
    for s in summary.skipped:
        m = re.search(r":(\d+):", s) or re.search(r" item (\d+)", s)
        if m:
            numbers.add(int(m.group(1)))
    return numbers


def _through_cli(fx: Fixture, project_path: Path, path: Path) -> None:
    """The command line's code path, in-process: exit code 0/1, one `credence:` error line."""
    from storage.cli import run
    argv = ["import", str(project_path), str(path)]
    opts = fx.options
    if "format" in opts:
        argv += ["--format", opts["format"]]
    if "text_column" in opts:
        argv += ["--text-column", opts["text_column"]]
    if "title_column" in opts:
        argv += ["--title-column", opts["title_column"]]
    if "meta_columns" in opts:
        argv += ["--meta-columns", ",".join(opts["meta_columns"])]
    before = dump(project_path)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(argv)
    FIGURES["cli_runs"] += 1
    errors = [ln for ln in err.getvalue().splitlines() if not ln.startswith(("credence: warning:",
                                                                            "credence: skipped:"))]
    if code == 0:
        assert out.getvalue().strip(), f"{fx.id}: CLI said nothing"
    else:
        assert code == 1, f"{fx.id}: exit {code}"
        assert len(errors) == 1 and errors[0].startswith("credence: "), \
            f"{fx.id}: not one clear line: {err.getvalue()!r}"
        assert dump(project_path) == before


def _through_ui_helpers(fx: Fixture, path: Path) -> None:
    """The import dialog's own readers (format guess, CSV preview) on the same files."""
    from ui.import_dialog import guess_format, read_csv_preview
    guess_format([path])
    if path.is_file() and path.suffix.lower() in (".csv", ".tsv", ".txt"):
        try:
            read_csv_preview(path)
        except ValueError as exc:
            assert str(exc).strip()


def test_zz_report_bad_input(capsys):
    if not FIGURES["fixtures"]:
        pytest.skip("no bad-input case ran")
    with capsys.disabled():
        print(f"\n[reliability] bad input: {FIGURES['fixtures']} fixtures, {FIGURES['attempts']} "
              f"core imports ({FIGURES['refused']} refused with a message, {FIGURES['accepted']} "
              f"accepted, {FIGURES['partial']} partial with skipped lines named), "
              f"{FIGURES['cli_runs']} CLI runs, 0 uncaught exceptions")
    assert FIGURES["fixtures"] >= 80
