"""Kill-at-any-moment harness: a worker process makes analyst decisions, we SIGKILL it, reopen, verify.

A small fork server (this file run as a script) imports the core once; for each round it forks a
worker that opens the project and loops decisions through `storage.review.Review`, writing
`T` (about to try) and `A` (acknowledged: the call returned) lines to stdout. The driver kills
the worker with SIGKILL after a random delay, reopens the project and checks that every
acknowledged decision is stored (the one in flight may or may not be), that SQLite's
integrity check passes and that `check_project` finds nothing. Forking keeps a round at a few
milliseconds instead of a fresh interpreter's ~200 ms, so 100 kills fit in a CI run.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LABELS = ("PERSON", "ORG", "GPE", "DATE", "EVENT")
GRADES_SOURCE = ("A", "B", "C", "D", "E", "F")


# -- the worker side (runs inside the fork server) ---------------------------------------------
def _say(line: str) -> None:
    os.write(1, (line + "\n").encode())  # unbuffered: a line is out before the next call starts


def _worker(path: str, seed: int, liar: bool = False) -> None:
    """Open the project and make decisions until killed.

    A `liar` worker acknowledges each decision before making it (and dawdles in between): the
    driver must catch it losing acknowledged work, which proves the check has teeth.
    """
    from storage.project import Project
    from storage.review import Review
    rng = random.Random(seed)
    project = Project(path)
    review = Review(project)
    conn = project.conn
    span_ids = [r[0] for r in conn.execute("SELECT id FROM spans WHERE origin != 'analyst'")]
    claim_ids = [r[0] for r in conn.execute("SELECT id FROM claims")]
    source_ids = [r[0] for r in conn.execute("SELECT id FROM sources")]
    docs = conn.execute("SELECT id, length(text) FROM documents").fetchall()
    _say("O")
    n = 0
    if liar:
        said = _say

        def _say_early(line: str) -> None:
            if line.startswith("T "):
                said("A " + line[2:])
                time.sleep(0.003)
        globals()["_say"] = _say_early
    while True:
        n += 1
        kind = rng.choice(("accept", "reject", "create", "grade_claim", "grade_source"))
        if kind in ("accept", "reject"):
            sid = rng.choice(span_ids)
            _say(f"T {n} {kind} {sid}")
            (review.accept if kind == "accept" else review.reject)([sid])
            _say(f"A {n} {kind} {sid}")
        elif kind == "create":
            doc_id, length = rng.choice(docs)
            while True:
                start = rng.randrange(0, length - 1)
                end = rng.randrange(start + 1, min(length, start + 40) + 1)
                label = rng.choice(LABELS)
                # A create on an existing identical span would update that span instead: keep
                # each create a new row so its acknowledgement names exactly one outcome.
                if not conn.execute('SELECT 1 FROM spans WHERE document_id = ? AND start = ?'
                                    ' AND "end" = ? AND label = ?',
                                    (doc_id, start, end, label)).fetchone():
                    break
            _say(f"T {n} create {doc_id} {start} {end} {label}")
            new_id = review.create_span(doc_id, start, end, label).id
            _say(f"A {n} create {doc_id} {start} {end} {label} {new_id}")
        elif kind == "grade_claim":
            cid = rng.choice(claim_ids)
            grade = rng.choice((1, 2, 3, 4, 5, 6, None))
            # Grading a suggested claim accepts it with its parts (issue 13): say which spans.
            claim = project.claim(cid)
            accepts = claim.part_ids() if claim.status == "suggested" and grade is not None else []
            parts = ",".join(map(str, accepts)) or "-"
            _say(f"T {n} grade_claim {cid} {grade} {parts}")
            review.grade_claim(cid, grade)
            _say(f"A {n} grade_claim {cid} {grade} {parts}")
        else:
            sid = rng.choice(source_ids)
            grade = rng.choice(GRADES_SOURCE + (None,))
            _say(f"T {n} grade_source {sid} {grade}")
            review.grade_source(sid, grade)
            _say(f"A {n} grade_source {sid} {grade}")


def serve() -> None:
    """Fork server: `go PATH SEED` forks a worker and reports `P pid`, then `X pid status`."""
    sys.path.insert(0, str(ROOT))
    import storage.review  # noqa: F401  (import once, before forking)
    from storage import schema
    schema.expected_schema(schema.SCHEMA_VERSION)
    _say("READY")
    for line in sys.stdin:
        parts = line.split()
        if not parts or parts[0] == "quit":
            break
        _, path, seed, *mode = parts
        pid = os.fork()
        if pid == 0:
            try:
                os.close(0)
                _worker(path, int(seed), liar=mode == ["liar"])
            except BaseException:
                _say("E " + traceback.format_exc().replace("\n", " | "))
                os._exit(3)
            os._exit(0)
        _say(f"P {pid}")
        _, status = os.waitpid(pid, 0)
        _say(f"X {pid} {status}")


# -- the driver side (runs in the test or the bench) --------------------------------------------
@dataclass
class Figures:
    kills: int = 0
    acked: int = 0
    in_flight_stored: int = 0
    kills_before_open: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


def _snapshot(path: Path) -> dict[tuple[str, int], object]:
    """Reopen as the app does and read every decided value."""
    from storage.project import Project
    with Project(path) as p:
        state: dict[tuple[str, int], object] = {}
        for sid, status, doc, s, e, label in p.conn.execute(
                'SELECT id, status, document_id, start, "end", label FROM spans'):
            state[("span", sid)] = status
            state[("spanrange", sid)] = (doc, s, e, label)
        for cid, cred in p.conn.execute("SELECT id, credibility FROM claims"):
            state[("claim", cid)] = cred
        for sid, rel in p.conn.execute("SELECT id, reliability FROM sources"):
            state[("source", sid)] = rel
    return state


def _effect(words: list[str]) -> dict[tuple[str, int], object]:
    """What a decision line (after `T n` / `A n`) sets, keyed like `_snapshot`."""
    kind = words[0]
    if kind in ("accept", "reject"):
        return {("span", int(words[1])): "accepted" if kind == "accept" else "rejected"}
    if kind == "create":
        if len(words) < 6:
            return {}  # in flight: its id is not known yet
        doc, s, e, label, sid = words[1:6]
        return {("span", int(sid)): "accepted", ("spanrange", int(sid)): (int(doc), int(s), int(e), label)}
    value = None if words[2] == "None" else words[2]
    if kind == "grade_claim":
        accepted = [int(x) for x in words[3].split(",")] if words[3] != "-" else []
        return {("claim", int(words[1])): None if value is None else int(value),
                **{("span", sid): "accepted" for sid in accepted}}
    return {("source", int(words[1])): value}


class KillHarness:
    def __init__(self, path: Path, seed: int = 0, liar: bool = False):
        self.liar = liar
        self.path = Path(path)
        self.rng = random.Random(seed)
        env = dict(os.environ, CREDENCE_NO_BOOTSTRAP="1", PYTHONPATH=str(ROOT))
        self.server = subprocess.Popen([sys.executable, __file__, "serve"], cwd=ROOT, env=env,
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        first = self.server.stdout.readline().decode().strip()
        assert first == "READY", first
        self.state = _snapshot(self.path)
        self.figures = Figures()

    def close(self) -> None:
        try:
            self.server.stdin.write(b"quit\n")
            self.server.stdin.close()
            self.server.wait(timeout=10)
        except Exception:
            self.server.kill()
            self.server.wait()

    def round(self, max_delay: float = 0.15) -> None:
        """One worker life: start, decide, SIGKILL at a random moment, reopen and verify."""
        t0 = time.monotonic()
        mode = " liar" if self.liar else ""
        self.server.stdin.write(f"go {self.path} {self.rng.randrange(1 << 30)}{mode}\n".encode())
        lines: list[str] = []
        pid = None
        while pid is None:
            line = self.server.stdout.readline().decode().strip()
            if line.startswith("P "):
                pid = int(line.split()[1])
            else:
                lines.append(line)
        # A third of the kills land while the worker starts up and opens the project.
        delay = self.rng.uniform(0, 0.01) if self.rng.random() < 0.33 else self.rng.uniform(0.01, max_delay)
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        while True:
            line = self.server.stdout.readline().decode()
            if not line:
                raise RuntimeError("fork server died")
            line = line.strip()
            if line.startswith("X "):
                status = int(line.split()[2])
                break
            lines.append(line)
        errors = [ln for ln in lines if ln.startswith("E ")]
        if errors:
            raise AssertionError(f"worker failed before the kill: {errors[0]}")
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status
        self.figures.kills += 1
        if "O" not in lines:
            self.figures.kills_before_open += 1
        self._verify(lines)
        self.figures.seconds += time.monotonic() - t0

    def _verify(self, lines: list[str]) -> None:
        from storage.check import check_project
        expected = {k: {v} for k, v in self.state.items()}
        pending: dict[tuple[str, int], object] = {}
        for line in lines:
            if line[:2] not in ("T ", "A "):
                continue
            words = line.split()
            effect = _effect(words[2:])
            if words[0] == "A":
                self.figures.acked += 1
                pending = {}
                for k, v in effect.items():
                    expected[k] = {v}
            else:
                pending = effect
        settled = {k: set(expected.get(k, {None})) for k in pending}
        for k, v in pending.items():
            expected.setdefault(k, {None}).add(v)
        stored = _snapshot(self.path)
        for key, allowed in expected.items():
            if key[0] == "spanrange" and key not in stored and None in allowed:
                continue
            got = stored.get(key, "<missing>")
            if got not in allowed:
                self.figures.problems.append(f"kill {self.figures.kills}: {key} stored {got!r},"
                                             f" acknowledged {sorted(map(repr, allowed))}")
        if pending and any(stored.get(k) == v and v not in settled[k] for k, v in pending.items()):
            self.figures.in_flight_stored += 1  # committed, killed before it could say so
        rows = _integrity(self.path)
        if rows != ["ok"]:
            self.figures.problems.append(f"kill {self.figures.kills}: integrity_check: {rows[:3]}")
        problems = check_project(self.path)
        if problems:
            self.figures.problems.append(f"kill {self.figures.kills}: check: {problems}")
        self.state = stored


def _integrity(path: Path) -> list[str]:
    import sqlite3
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()


if __name__ == "__main__":
    if sys.argv[1:] == ["serve"]:
        serve()
