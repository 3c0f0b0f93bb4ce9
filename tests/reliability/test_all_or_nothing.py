"""All or nothing: an import or annotate run killed half-way leaves the project exactly as before;
a full disk or a read-only file gives one clear message and no damage."""
from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from annotation.model import NewDocument
from storage.check import check_project
from storage.ingest import store_documents
from storage.project import Project, ProjectError
from storage.review import Review
from tests.reliability.conftest import CLI_ENV, ROOT, dump, integrity, row_counts, run_cli
from tests.reliability.seed import article, make_seed_project

# Hundreds of hostile inputs and processes: the full suite runs them, the fast loop does not.
pytestmark = pytest.mark.slow


def _plain_project(path: Path, n_docs: int, seed: int = 1) -> Path:
    rng = random.Random(seed)
    docs = [NewDocument(raw_text=article(rng, i, 10)[0], name=f"plain{i}") for i in range(n_docs)]
    with Project(path) as p:
        store_documents(p, docs)
    return path


def _kill_when_wal_grows(cmd: list[str], path: Path, threshold: int, deadline: float = 90) -> int:
    """Start a CLI run; SIGKILL it once its uncommitted work spills into the -wal (half-way)."""
    proc = subprocess.Popen([sys.executable, "main.py", *cmd], cwd=ROOT, env=CLI_ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wal = Path(f"{path}-wal")
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < deadline:
            if proc.poll() is not None:
                out, err = proc.communicate()
                pytest.fail(f"the run finished before it could be killed: {out!r} {err!r}")
            if wal.exists() and wal.stat().st_size > threshold:
                break
            time.sleep(0.01)
        else:
            pytest.fail("the run made no visible progress")
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    return wal.stat().st_size


@pytest.mark.slow
def test_annotate_killed_half_way_leaves_the_project_as_before(tmp_path):
    path = _plain_project(tmp_path / "annotate.credence", 300)
    before = dump(path)
    spilled = _kill_when_wal_grows(["annotate", str(path)], path, threshold=400_000)
    assert spilled > 400_000  # the run had stored plenty (uncommitted) when it died
    assert dump(path) == before
    assert integrity(path) == ["ok"]
    assert check_project(path) == []
    with Project(path) as p:
        assert p.conn.execute("SELECT count(*) FROM spans").fetchone()[0] == 0
        assert p.conn.execute("SELECT count(*) FROM documents WHERE annotated_with IS NOT NULL"
                              ).fetchone()[0] == 0


def test_import_killed_half_way_leaves_the_project_as_before(tmp_path):
    path = make_seed_project(tmp_path / "import.credence", n_docs=3)
    before = dump(path)
    rng = random.Random(4)
    rows = ["id,title,text"]
    for i in range(6000):
        text = article(rng, i, 8)[0].replace('"', "'")
        rows.append(f'{i},"Title {i}","{text}"')
    big = tmp_path / "big.csv"
    big.write_text("\n".join(rows) + "\n")
    _kill_when_wal_grows(["import", str(path), str(big)], path, threshold=1_000_000)
    assert dump(path) == before
    assert check_project(path) == []


# -- a full disk -----------------------------------------------------------------------------------
@pytest.fixture
def tiny_disk(tmp_path):
    """A 3 MB tmpfs mounted for the test (needs root and mount rights; skipped otherwise)."""
    if sys.platform != "linux" or os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("a full disk is simulated with a tmpfs mount: needs root on Linux")
    disk = tmp_path / "disk"
    disk.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip()})")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def _fill(disk: Path) -> Path:
    filler = disk / "filler.bin"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    return filler


def _many_docs(n: int, seed: int = 8) -> list[NewDocument]:
    rng = random.Random(seed)
    return [NewDocument(raw_text=article(rng, 10_000 + i, 30)[0], name=f"big{i}") for i in range(n)]


def test_full_disk_import_gives_a_clear_message_and_no_damage(tiny_disk, tmp_path):
    path = make_seed_project(tiny_disk / "full.credence", n_docs=4)
    before = dump(path)
    filler = _fill(tiny_disk)
    with Project(path) as project:
        with pytest.raises(ProjectError) as info:
            store_documents(project, _many_docs(300))
        message = str(info.value)
        assert "full" in message and str(path) in message, message
        # The project stays usable for reading while the disk is full.
        assert project.document_count() == 4
    assert dump(path) == before
    filler.unlink()
    assert check_project(path) == []
    # With space again, the same import goes through.
    with Project(path) as project:
        store_documents(project, _many_docs(5))
    assert row_counts(path)["documents"] == 9


def test_full_disk_cli_import_says_so_and_changes_nothing(tiny_disk, tmp_path):
    path = make_seed_project(tiny_disk / "cli.credence", n_docs=4)
    before = dump(path)
    folder = tmp_path / "articles"
    folder.mkdir()
    for i, doc in enumerate(_many_docs(200)):
        (folder / f"a{i}.txt").write_text(doc.raw_text)
    filler = _fill(tiny_disk)
    result = run_cli("import", path, folder)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    assert "full" in result.stderr and str(path) in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    filler.unlink()
    assert dump(path) == before
    assert run_cli("check", path).returncode == 0


def test_full_disk_decisions_fail_cleanly_or_are_stored(tiny_disk):
    path = make_seed_project(tiny_disk / "decide.credence", n_docs=4)
    with Project(path) as project:
        review = Review(project)
        filler = _fill(tiny_disk)
        stored, refused = {}, 0
        for sid in range(1, 120):
            try:
                review.reject([sid])
                stored[sid] = "rejected"
            except ProjectError as exc:
                assert "full" in str(exc)
                refused += 1
        filler.unlink()
        review.accept([1])  # space again: decisions work on the same open project
        stored[1] = "accepted"
    with Project(path, readonly=True) as project:
        for sid, status in stored.items():
            assert project.span(sid).status == status
    assert check_project(path) == []


# -- read-only --------------------------------------------------------------------------------------
def _immutable(path: Path):
    r = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True) \
        if shutil.which("chattr") else None
    if r is None or r.returncode != 0:
        pytest.skip("making a file read-only for root needs `chattr +i` (not available here)")


def _mutable(path: Path) -> None:
    subprocess.run(["chattr", "-i", str(path)], capture_output=True)


def test_read_only_file_gives_a_clear_message_and_no_damage(seeded, tmp_path):
    before = dump(seeded)
    _immutable(seeded)
    try:
        with pytest.raises(OSError):
            open(seeded, "r+b")  # the file really cannot be written, even by root
        with pytest.raises(ProjectError) as info:
            Project(seeded)
        assert "read-only" in str(info.value) and str(seeded) in str(info.value)
        txt = tmp_path / "a.txt"
        txt.write_text("An article for a read-only project.")
        result = run_cli("import", seeded, txt)
        assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
        assert "read-only" in result.stderr and str(seeded) in result.stderr
        # Reading still works: stats and export need no write access to the file.
        stats = run_cli("stats", seeded, "--json")
        assert stats.returncode == 0, stats.stderr
        assert dump(seeded) == before
    finally:
        _mutable(seeded)
    assert check_project(seeded) == []


def test_read_only_folder_gives_a_clear_message_and_no_damage(seeded, tmp_path):
    before = dump(seeded)
    folder = seeded.parent
    for side in ("-wal", "-shm"):  # left empty by the read-only dump; SQLite must create them
        Path(f"{seeded}{side}").unlink(missing_ok=True)
    _immutable(folder)
    try:
        with pytest.raises(OSError):
            (folder / "probe").write_text("x")
        with pytest.raises(ProjectError) as info:
            Project(seeded)
        assert str(seeded) in str(info.value) and "\n" not in str(info.value)
        for cmd in (("stats", seeded), ("import", seeded, seeded)):
            result = run_cli(*cmd)
            assert "Traceback" not in result.stderr, result.stderr
        assert result.returncode != 0 and str(seeded) in result.stderr
    finally:
        _mutable(folder)
    assert dump(seeded) == before
    assert check_project(seeded) == []
