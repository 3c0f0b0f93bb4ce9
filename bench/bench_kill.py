"""Kill at any moment, long run: 1,000 SIGKILLs of a worker making analyst decisions.

    .venv/bin/python bench/bench_kill.py [--kills 1000] [--docs 20] [--seed 1] [--json]

Each round forks a worker that opens the project and accepts / rejects / creates spans and
grades claims and sources through the core, acknowledging each decision after the call returns;
it is killed with SIGKILL at a random moment, the project is reopened, and every acknowledged
decision must be stored, `PRAGMA integrity_check` must say ok and `check` must find nothing.
Exits non-zero on any lost decision or problem.
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.reliability.kill_harness import KillHarness  # noqa: E402
from tests.reliability.seed import make_seed_project  # noqa: E402


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=1000)
    ap.add_argument("--docs", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-delay", type=float, default=0.25, help="longest life of a worker (s)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = make_seed_project(Path(tmp) / "bench-kill.credence", n_docs=args.docs,
                                 rng=random.Random(args.seed))
        harness = KillHarness(path, seed=args.seed)
        t0 = time.monotonic()
        try:
            for i in range(args.kills):
                harness.round(max_delay=args.max_delay)
                if not args.json and (i + 1) % 100 == 0:
                    f = harness.figures
                    print(f"  {f.kills} kills, {f.acked} acknowledged decisions verified, "
                          f"{len(f.problems)} problems", flush=True)
        finally:
            harness.close()
        wall = time.monotonic() - t0
        check = subprocess.run([sys.executable, "main.py", "check", str(path)], cwd=ROOT,
                               capture_output=True, text=True,
                               env={**__import__("os").environ, "CREDENCE_NO_BOOTSTRAP": "1"})
        f = harness.figures
        result = {"kills": f.kills, "kills_during_startup": f.kills_before_open,
                  "acknowledged_decisions_verified": f.acked,
                  "in_flight_decisions_found_stored": f.in_flight_stored,
                  "problems": f.problems[:20], "n_problems": len(f.problems),
                  "cli_check_exit": check.returncode, "seconds": round(wall, 1),
                  "file_bytes": path.stat().st_size}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['kills']} kills survived ({result['kills_during_startup']} during start-up); "
              f"{result['acknowledged_decisions_verified']} acknowledged decisions all stored; "
              f"{result['n_problems']} problems; `check` exit {result['cli_check_exit']}; "
              f"{result['seconds']} s")
        for p in result["problems"]:
            print("  " + p)
    return 0 if not f.problems and check.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
