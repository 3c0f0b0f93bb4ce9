"""Kill at any moment: no acknowledged decision is lost, the file stays sound."""
from __future__ import annotations

import random
import sys

import pytest

from tests.reliability.conftest import integrity, run_cli
from tests.reliability.kill_harness import KillHarness
from tests.reliability.seed import make_seed_project

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and fork are POSIX")

KILLS = 100


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_no_acknowledged_decision(tmp_path, capsys):
    path = make_seed_project(tmp_path / "kill.credence", n_docs=8, rng=random.Random(3))
    harness = KillHarness(path, seed=2024)
    try:
        for _ in range(KILLS):
            harness.round()
    finally:
        harness.close()
    f = harness.figures
    with capsys.disabled():
        print(f"\n[reliability] kills survived: {f.kills} ({f.kills_before_open} during start-up), "
              f"acknowledged decisions verified: {f.acked}, in-flight decisions found stored: "
              f"{f.in_flight_stored}, {f.seconds:.1f} s")
    assert f.problems == []
    assert f.kills == KILLS
    assert f.acked > 5 * KILLS  # the workers really worked between kills
    assert integrity(path) == ["ok"]
    result = run_cli("check", path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sound" in result.stdout


def test_the_check_catches_a_worker_that_acknowledges_too_early(tmp_path):
    """Teeth: a worker that says "stored" before storing is caught losing work."""
    path = make_seed_project(tmp_path / "liar.credence", n_docs=4, rng=random.Random(5))
    harness = KillHarness(path, seed=11, liar=True)
    try:
        for _ in range(40):
            harness.round(max_delay=0.08)
            if harness.figures.problems:
                break
    finally:
        harness.close()
    assert harness.figures.problems, "a lost acknowledged decision went unnoticed"
