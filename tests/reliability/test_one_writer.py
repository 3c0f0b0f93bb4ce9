"""One writer: a second writer is refused within 2 s with a message naming the file; the first
keeps working; a lock left by a crashed process does not block the next start."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from storage.project import Project, ProjectLocked
from tests.reliability.conftest import CLI_ENV, ROOT, run_cli

# Hundreds of hostile inputs and processes: the full suite runs them, the fast loop does not.
pytestmark = pytest.mark.slow

HOLDER = textwrap.dedent("""
    import sys
    from storage.project import Project
    from storage.review import Review
    project = Project(sys.argv[1])
    review = Review(project)
    print("open", flush=True)
    for line in sys.stdin:
        span_id = int(line)
        review.accept([span_id])
        print("accepted", span_id, flush=True)
""")

SECOND = textwrap.dedent("""
    import sys, time
    from storage.project import Project, ProjectLocked
    t0 = time.monotonic()
    try:
        Project(sys.argv[1])
    except ProjectLocked as exc:
        print(f"{time.monotonic() - t0:.3f}", exc, flush=True)
        sys.exit(3)
    print("opened", flush=True)
""")


@pytest.fixture
def holder(seeded):
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(seeded)], cwd=ROOT, env=CLI_ENV,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "open"
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def _status(path, span_id):
    with Project(path, readonly=True) as p:
        return p.span(span_id).status


def test_second_process_is_refused_within_two_seconds_and_first_keeps_working(seeded, holder):
    second = subprocess.run([sys.executable, "-c", SECOND, str(seeded)], cwd=ROOT, env=CLI_ENV,
                            capture_output=True, text=True, timeout=30)
    assert second.returncode == 3, second.stdout + second.stderr
    seconds, message = second.stdout.split(" ", 1)
    assert float(seconds) < 2.0
    assert str(seeded) in message and "open elsewhere" in message

    # The command line says the same in one line, and exits non-zero.
    txt = seeded.parent / "a.txt"
    txt.write_text("An article that must not be imported while another writer holds the file.")
    t0 = time.monotonic()
    result = run_cli("import", seeded, txt)
    assert result.returncode != 0
    assert str(seeded) in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert time.monotonic() - t0 < 10

    # The first writer is untouched and keeps working.
    holder.stdin.write("5\n")
    holder.stdin.flush()
    assert holder.stdout.readline().split() == ["accepted", "5"]
    assert _status(seeded, 5) == "accepted"
    # Readers (stats, export, check) are not writers: they work beside it.
    assert run_cli("stats", seeded).returncode == 0


def test_second_window_in_the_same_process_is_refused(seeded):
    with Project(seeded) as first:
        t0 = time.monotonic()
        with pytest.raises(ProjectLocked) as info:
            Project(seeded)
        assert time.monotonic() - t0 < 2.0
        assert str(seeded) in str(info.value)
        # The refused open did not disturb the first one.
        first.set_setting("still", "working")
        assert first.setting("still") == "working"


def test_lock_of_a_crashed_process_does_not_block_the_next_start(seeded, holder):
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    t0 = time.monotonic()
    with Project(seeded) as p:
        assert time.monotonic() - t0 < 1.0  # no waiting out a stale lock
        assert p.document_count() == 8
    assert run_cli("check", seeded).returncode == 0
