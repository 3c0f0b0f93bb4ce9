"""`check --restore` never loses committed decisions: the candidate is proved sound first, the
replaced file is kept (with what its write-ahead log held) under a unique name, and a kill at any
instant leaves either the old project, whole, or the restored one."""
from __future__ import annotations

import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from storage.backup import make_backup, restore_backup
from storage.project import Project, ProjectError
from tests.reliability.conftest import CLI_ENV, ROOT, dump, integrity, run_cli
from tests.reliability.seed import make_seed_project

# Hostile inputs and processes by the hundred: the full suite runs them, the fast loop does not.
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")]

DECISIONS = 150

# Makes DECISIONS decisions, each committed, then dies without closing: they live in the -wal.
_WRITER = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, {root!r})
    from storage.project import Project
    from storage.review import Review
    p = Project({path!r})
    review = Review(p)
    ids = [r[0] for r in p.conn.execute("SELECT id FROM spans ORDER BY id")]
    for i in range({n}):
        (review.accept if i % 2 else review.reject)([ids[i % len(ids)]])
        review.grade_claim(1 + i % 8, 1 + i % 6)
    print("done", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
""")


def _project_with_committed_wal(folder: Path) -> tuple[Path, Path, str]:
    """(project whose last decisions are only in its -wal, a sound backup, dump with them)."""
    path = make_seed_project(folder / "p.credence", n_docs=8, rng=random.Random(4))
    with Project(path) as p:
        backup = make_backup(p)
    r = subprocess.run([sys.executable, "-c", _WRITER.format(root=str(ROOT), path=str(path),
                                                             n=DECISIONS)],
                       capture_output=True, text=True, timeout=120)
    assert "done" in r.stdout, r.stderr
    assert Path(f"{path}-wal").stat().st_size > 0, "the decisions must be in the write-ahead log"
    return path, backup, _dump_with_wal(path, folder / "scratch")


def _dump_with_wal(path: Path, scratch: Path) -> str:
    """The dump of what is committed at `path` (file + its log), read from a scratch copy."""
    scratch.mkdir(exist_ok=True)
    copy = scratch / path.name
    for suffix in ("", "-wal"):
        src = Path(f"{path}{suffix}")
        target = Path(f"{copy}{suffix}")
        target.unlink(missing_ok=True)
        if src.exists():
            shutil.copyfile(src, target)
    Path(f"{copy}-shm").unlink(missing_ok=True)
    try:
        return dump(copy)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)


def _kept(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if ".replaced-" in p.name and not p.name.endswith(
        ("-wal", "-shm", "-journal", ".partial")))


def test_restore_keeps_every_committed_decision_of_the_replaced_file(tmp_path):
    path, backup, with_decisions = _project_with_committed_wal(tmp_path)
    r = run_cli("check", path, "--restore", backup)
    assert r.returncode == 0, r.stderr
    assert dump(path) == dump(backup)
    kept = _kept(tmp_path)
    assert len(kept) == 1 and str(kept[0]) in r.stdout
    # The kept copy is one self-contained file holding the 150 decisions from the log.
    assert not Path(f"{kept[0]}-wal").exists()
    assert dump(kept[0]) == with_decisions
    assert integrity(kept[0]) == ["ok"]
    assert not list(tmp_path.glob(".p.credence.restoring-*"))


def test_two_restores_in_the_same_second_keep_both_replaced_files(tmp_path):
    path, backup, _ = _project_with_committed_wal(tmp_path)
    first = restore_backup(path, backup)
    with Project(path) as p:
        from storage.review import Review
        Review(p).reject([1])
    between = dump(path)
    second = restore_backup(path, backup)
    assert first.kept != second.kept and first.kept.exists() and second.kept.exists()
    assert dump(second.kept) == between


@pytest.mark.parametrize("make", ["passwd", "truncated", "foreign-sqlite", "empty", "folder",
                                  "device", "itself", "text", "missing"])
def test_restore_refuses_what_is_not_a_sound_project_and_touches_nothing(tmp_path, make):
    path, backup, with_decisions = _project_with_committed_wal(tmp_path)
    candidate = tmp_path / "candidate.credence"
    if make == "passwd":
        shutil.copyfile("/etc/passwd", candidate)
    elif make == "truncated":
        data = backup.read_bytes()
        candidate.write_bytes(data[: len(data) // 2])
    elif make == "foreign-sqlite":
        conn = sqlite3.connect(candidate)
        conn.execute("CREATE TABLE t (x)")
        conn.commit()
        conn.close()
    elif make == "empty":
        candidate.write_bytes(b"")
    elif make == "folder":
        candidate.mkdir()
    elif make == "device":
        candidate = Path("/dev/zero")
    elif make == "itself":
        candidate = path
    elif make == "text":
        candidate.write_text("hello\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    wal_before = Path(f"{path}-wal").read_bytes()
    t = time.monotonic()
    r = run_cli("check", path, "--restore", candidate, timeout=60)
    assert time.monotonic() - t < 30
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 1 and len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert str(candidate) in lines[0] or candidate.name in lines[0]
    # Nothing touched: the same files, the log still beside the project with every decision.
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert Path(f"{path}-wal").read_bytes() == wal_before
    assert _dump_with_wal(path, tmp_path / "scratch2") == with_decisions


def test_restore_refuses_under_an_open_writer(tmp_path):
    path, backup, _ = _project_with_committed_wal(tmp_path)
    with Project(path) as p:
        with pytest.raises(ProjectError, match="open elsewhere"):
            restore_backup(path, backup)
        assert p.document_count() == 8
    assert not _kept(tmp_path)


# -- kills --------------------------------------------------------------------------------------
_RESTORER = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, {root!r})
    from storage import backup
    from pathlib import Path
    at = {at!r}
    if at:
        def hook(step):
            if step == at:
                os.kill(os.getpid(), signal.SIGKILL)
        backup.on_step = hook
    print("ready", flush=True)
    sys.stdin.readline()
    backup.restore_backup(Path({path!r}), Path({backup!r}))
    print("restored", flush=True)
""")

STEPS = ("copy", "verify", "keep", "kept", "fold", "drop-wal", "replace", "replaced")


def _restore_process(path: Path, backup: Path, at: str | None) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", _RESTORER.format(
        root=str(ROOT), path=str(path), backup=str(backup), at=at)], env=CLI_ENV,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


@pytest.mark.slow
def test_a_restore_killed_at_any_instant_leaves_the_old_project_whole_or_the_restored_one(tmp_path):
    (tmp_path / "origin").mkdir()
    origin, backup, with_decisions = _project_with_committed_wal(tmp_path / "origin")
    restored_dump = dump(backup)
    rng = random.Random(12)
    # How long a whole restore takes here: random kills fall inside it.
    work = tmp_path / "timing"
    work.mkdir()
    path = _fresh(origin, work)
    proc = _restore_process(path, backup, None)
    t = time.monotonic()
    proc.stdin.write("go\n")
    proc.stdin.flush()
    assert proc.stdout.readline().strip() == "restored", proc.stderr.read()
    span = time.monotonic() - t
    proc.wait()
    outcomes = {"old": 0, "restored": 0}
    rounds = [(step, None) for step in STEPS] + [(None, rng.uniform(0, span * 1.2)) for _ in range(16)]
    for i, (step, delay) in enumerate(rounds):
        work = tmp_path / f"round{i}"
        work.mkdir()
        path = _fresh(origin, work)
        proc = _restore_process(path, backup, step)
        proc.stdin.write("go\n")
        proc.stdin.flush()
        if delay is not None:
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        got = _dump_with_wal(path, work / "scratch")
        assert got in (with_decisions, restored_dump), f"round {i} ({step or delay}): neither"
        outcomes["old" if got == with_decisions else "restored"] += 1
        # The next restore finishes the job and leaves no temporary file behind.
        done = restore_backup(path, backup)
        assert dump(path) == restored_dump and done.kept is not None
        assert not list(work.glob(".p.credence.restoring-*"))
        if got == with_decisions:
            assert _dump_with_wal(done.kept, work / "scratch") == with_decisions
    assert outcomes["old"] and outcomes["restored"], outcomes


def _fresh(origin: Path, folder: Path) -> Path:
    path = folder / origin.name
    for suffix in ("", "-wal"):
        shutil.copyfile(f"{origin}{suffix}", f"{path}{suffix}")
    return path


def test_cli_list_backups_and_restore_latest(tmp_path):
    path, backup, _ = _project_with_committed_wal(tmp_path)
    listed = run_cli("check", path, "--list-backups")
    assert listed.returncode == 0 and str(backup) in listed.stdout
    r = run_cli("check", path, "--restore")
    assert r.returncode == 0, r.stderr
    assert dump(path) == dump(backup)
    kept = _kept(tmp_path)[0]
    listed = run_cli("check", path, "--list-backups")
    assert str(kept) in listed.stdout  # the replaced file is listed, and can be restored
    r = run_cli("check", path, "--restore", kept)
    assert r.returncode == 0, r.stderr
    assert dump(path) == dump(kept)
