"""Token exports (Prodigy JSONL, spaCy DocBin) shared out to worker processes.

They spend most of their time in spaCy's tokenizer and DocBin, holding the GIL: threads
cannot share the work, processes can. The documents are cut into parts of consecutive ids.
Worker processes (`python -c ...storage.export.worker`, never the multiprocessing module,
which would re-run the calling script) each read their parts from the project file
themselves and write them to files; this process writes parts too. Streamed parts (Prodigy
lines) are copied into the output in order as they come: the file is byte for byte the one a
single process writes. Other parts (DocBins) are put together at the end by the format.

Workers only speed things up, they are never needed: the one-process path (`workers=0`,
or CREDENCE_EXPORT_WORKERS=0) is the reference the tests compare them with. A worker that
fails to start, dies or answers nonsense has its parts written here. If the project file
changes while the workers read it (another program writing to it), the export is written
again by this process alone, from its own snapshot. Cancelling (the progress callback
raising) stops the workers; their files are in the export's work folder, removed with it.
"""
from __future__ import annotations

import contextlib
import heapq
import json
import os
import queue
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Protocol

from annotation.progress import Progress
from storage.export.selection import Rows

# Set to a number of worker processes (0: none) to override the choice made from the CPUs.
WORKERS_ENV = "CREDENCE_EXPORT_WORKERS"
# Below this many documents one process is faster: a worker takes about a second to start
# (importing spaCy, making the tokenizer).
MIN_DOCUMENTS = 2000
MAX_WORKERS = 7
PART_DOCUMENTS = 200  # documents in one part (a writer's `part_documents`, when it has one)
IN_FLIGHT = 2  # parts given to a worker at a time, so it never waits for the next
# Parts this process wrote ahead of the next one due, held in memory at most (then it waits).
MAX_BUFFERED = 64 << 20
# A worker silent this long while it holds parts is taken for stuck (a part takes seconds).
WORKER_SILENCE = 120.0

Counts = dict[str, int]
OnDocument = Callable[[], None]


class PartWriter(Protocol):
    """One format's writer of parts: the documents of `rows` (one part, or all of them)."""

    format: str  # its name in the registry: a worker makes its own from it
    streamed: bool  # parts are text, copied into the output in order as they come

    # Streamed formats write a part's text piece by piece, straight into the output when it
    # is the part due next:
    #     write(rows, write: Callable[[str], Any], on_document) -> Counts
    # The others write each part (a worker's to a file, this process's kept in memory) and
    # put them together at the end:
    #     write_file(rows, path, on_document) -> Counts   (a worker's part)
    #     make_part(rows, on_document) -> (part, Counts)  (a part of this process)
    #     write_all(rows, f, on_document) -> Counts       (the whole export, one process)
    #     assemble(parts: list[Path | part], f) -> None   (in order; a Path is a worker's file)
    # A writer whose parts are files of the output (one shard each) says how many documents
    # one holds: `part_documents`.


def worker_count(n_documents: int) -> int:
    """Workers to start for an export of n documents: one fewer than the usable CPUs, none for
    a small export. CREDENCE_EXPORT_WORKERS overrides it."""
    forced = os.environ.get(WORKERS_ENV, "").strip()
    if forced:
        try:
            return max(0, min(int(forced), 64))
        except ValueError:
            return 0
    if n_documents < MIN_DOCUMENTS or getattr(sys, "frozen", False):
        return 0  # small, or a bundled app whose executable is not a Python to run workers with
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(0, min(cpus - 1, MAX_WORKERS))


def part_size(writer: Any) -> int:
    """Documents in one part: the writer's own size (a part that is a file of the output), or
    PART_DOCUMENTS."""
    return getattr(writer, "part_documents", None) or PART_DOCUMENTS


def add_counts(total: Counts, part: Counts) -> None:
    for key, value in part.items():
        total[key] = total.get(key, 0) + value


def write_part(writer: Any, rows: Rows, path: Path, on_document: OnDocument) -> Counts:
    """One part to its own file; counts include the meta values it had to change."""
    before = rows.meta.changed
    if writer.streamed:
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            counts = writer.write(rows, f.write, on_document)
    else:
        counts = writer.write_file(rows, path, on_document)
    return {**counts, "meta_changed": rows.meta.changed - before}


def write_parts(rows: Rows, writer: Any, f: IO | Any, work: Path, progress: Progress | None = None,
                workers: int | None = None) -> Counts:
    """Write every document of `rows` with `writer` (a PartWriter) to `f` in id order, with
    workers when it pays. `f` is a text file opened with newline="\\n" (streamed formats), a
    binary file, or what the writer fills (with tell, seek and truncate: a folder). Must run
    before anything else reads the project in the export's read transaction: the check that
    the file did not change starts first. Meta values changed by workers are added to
    rows.meta."""
    watch = _Watch(rows.project.path)
    meta_before = rows.meta.changed
    try:
        ids = rows.document_ids()
        n_workers = worker_count(len(ids)) if workers is None else workers
        # Workers only when a change to the file could be seen (else it would be written twice).
        if n_workers > 0 and watch.ok and len(ids) > part_size(writer):
            start = f.tell()
            counts = _Parallel(rows, writer, f, work, ids, n_workers, progress).run()
            if not watch.changed():
                rows.meta.changed += counts.pop("meta_changed", 0)
                return counts
            # Another program wrote to the project meanwhile: the workers' parts may hold
            # rows this export's snapshot does not. Write it all again from the snapshot.
            f.seek(start)
            f.truncate()
            rows.meta.changed = meta_before
        return _write_all(rows, writer, f, len(ids), progress)
    finally:
        watch.close()


def _write_all(rows: Rows, writer: Any, f: IO, total: int, progress: Progress | None) -> Counts:
    """The reference path: every document, in this process."""
    done = 0

    def on_document() -> None:
        nonlocal done
        done += 1
        if progress is not None and (done % 50 == 0 or done == total):
            progress(done, total)

    if writer.streamed:
        return writer.write(rows, f.write, on_document)
    return writer.write_all(rows, f, on_document)


class _Watch:
    """Whether any connection committed to the project file since this was made (SQLite's
    data_version, read on a connection of its own)."""

    def __init__(self, path: Path) -> None:
        self._conn: sqlite3.Connection | None = None
        try:
            self._conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True,
                                         isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA trusted_schema = OFF")
            self._version = self._read()
        except sqlite3.Error:
            self.close()

    @property
    def ok(self) -> bool:
        """Whether it can tell (the file could be opened a second time)."""
        return self._conn is not None

    def _read(self) -> int:
        assert self._conn is not None
        return self._conn.execute("PRAGMA data_version").fetchone()[0]

    def changed(self) -> bool:
        if self._conn is None:
            return True  # cannot tell: assume it did
        try:
            return self._read() != self._version
        except sqlite3.Error:
            return True

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class _Worker:
    """One worker process, and a thread that turns its answers into messages."""

    def __init__(self, hello: dict[str, Any], messages: queue.Queue) -> None:
        self.jobs: list[int] = []
        self.ready = False
        self.heard = time.monotonic()  # when it last said something
        flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)
        self.proc = subprocess.Popen(
            worker_argv(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            encoding="utf-8", creationflags=flags)
        self._messages = messages
        self.send(hello)
        threading.Thread(target=self._read, daemon=True, name="export-worker-reader").start()

    def silent_for(self) -> float:
        return time.monotonic() - self.heard

    def _read(self) -> None:
        try:
            for line in self.proc.stdout:  # type: ignore[union-attr]
                try:
                    message = json.loads(line)
                except ValueError:
                    break
                if not isinstance(message, dict):
                    break
                self._messages.put((self, message))
        except (OSError, ValueError):
            pass
        self._messages.put((self, None))  # gone, or said something that is not ours

    def send(self, message: dict[str, Any]) -> bool:
        try:
            self.proc.stdin.write(json.dumps(message) + "\n")  # type: ignore[union-attr]
            self.proc.stdin.flush()  # type: ignore[union-attr]
            return True
        except (OSError, ValueError):
            return False

    def stop(self, kill: bool = False) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.proc.stdin.close()  # type: ignore[union-attr]
        if kill:
            with contextlib.suppress(OSError):
                self.proc.kill()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        with contextlib.suppress(OSError, ValueError):
            self.proc.stdout.close()  # type: ignore[union-attr]


def worker_argv() -> list[str]:
    """The command that starts a worker: this interpreter, with this source tree first on its path."""
    root = str(Path(__file__).resolve().parents[2])
    return [sys.executable, "-c",
            f"import sys; sys.path.insert(0, {root!r}); "
            "from storage.export.worker import main; main()"]


class _Parallel:
    def __init__(self, rows: Rows, writer: Any, f: IO, work: Path, ids: list[int],
                 n_workers: int, progress: Progress | None) -> None:
        self.rows, self.writer, self.f = rows, writer, f
        size = part_size(writer)
        self.parts = [(ids[i], ids[min(i + size, len(ids)) - 1]) for i in range(0, len(ids), size)]
        self.total = len(ids)
        self.n_workers = n_workers
        self.progress = progress
        self.work = work
        self.counts: Counts = {}
        self.pending = list(range(len(self.parts)))  # a heap: the earliest part first
        # part -> (its file, its text or the part itself, size)
        self.finished: dict[int, tuple[Any, int]] = {}
        self.next_out = 0
        self.buffered = 0
        self.done = 0
        self._reported = 0
        self.messages: queue.Queue = queue.Queue()
        self.workers: list[_Worker] = []

    def run(self) -> Counts:
        self.tmp = Path(tempfile.mkdtemp(dir=self.work, prefix="parts-"))
        sel = self.rows.sel
        hello = {"project": str(self.rows.project.path), "format": self.writer.format,
                 "everything": sel.everything, "any_status": sel.any_status}
        self.parts_out: list[Any] = []  # parts in order, when they are assembled at the end
        try:
            for _ in range(self.n_workers):
                try:
                    self.workers.append(_Worker(hello, self.messages))
                except OSError:
                    break
            while self.next_out < len(self.parts):
                self._handle(block=False)
                self._assign()
                self._flush()
                if self.next_out >= len(self.parts):
                    break
                if self.pending and (self.buffered < MAX_BUFFERED or self.pending[0] == self.next_out):
                    self._write_own(heapq.heappop(self.pending))
                elif not self.pending and not any(w.jobs for w in self.workers):
                    raise RuntimeError(f"export: part {self.next_out} was never written")
                else:
                    self._handle(block=True)
            self._stop_workers(kill=False)  # all parts are in: nothing to wait for
            if not self.writer.streamed:
                self.writer.assemble(self.parts_out, self.f)
            self._report(force=True)
            return self.counts
        finally:
            self._stop_workers(kill=True)
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _stop_workers(self, kill: bool) -> None:
        """Stop the workers: a ready one without parts ends when told; one still starting (it
        could take a second more) or still holding parts is killed."""
        workers, self.workers = self.workers, []
        for w in workers:
            w.stop(kill=kill or not w.ready or bool(w.jobs))

    def _write_own(self, part: int) -> None:
        """Write a part here: straight to the output when it is the next one due."""
        def on_document() -> None:
            self.done += 1
            self._report()

        rows = self.rows.part(*self.parts[part])
        if not self.writer.streamed:  # kept as it is made: no file to write and read back
            made, counts = self.writer.make_part(rows, on_document)
            add_counts(self.counts, counts)
            self.finished[part] = (made, 0)
            return
        direct = part == self.next_out
        pieces: list[str] = []
        add_counts(self.counts, self.writer.write(rows, self.f.write if direct else pieces.append,
                                                  on_document))
        if direct:
            self.next_out += 1
        else:
            size = sum(map(len, pieces))
            self.finished[part] = (pieces, size)
            self.buffered += size

    def _handle(self, block: bool) -> None:
        """Take the workers' messages: every one waiting, or (block) at least one."""
        while True:
            try:
                worker, message = self.messages.get(block=block, timeout=0.5 if block else None)
            except queue.Empty:
                if not block:
                    return
                for w in [w for w in self.workers if w.jobs and w.silent_for() > WORKER_SILENCE]:
                    self._drop(w)  # alive but stuck: its parts are written here
                if not any(w.jobs for w in self.workers):
                    return  # nothing is coming: the caller goes on by itself
                continue
            block = False
            worker.heard = time.monotonic()
            if worker not in self.workers:
                continue
            if message is None or "error" in message or not self._take(worker, message):
                self._drop(worker)

    def _take(self, worker: _Worker, message: dict[str, Any]) -> bool:
        if message.get("ready"):
            worker.ready = True
            return True
        part = message.get("part")
        counts = message.get("counts")
        # A part it did not hold, or says it wrote and did not: the worker is dropped, and
        # the parts it holds (this one too) are written by someone else.
        if part not in worker.jobs or not isinstance(counts, dict) \
                or not self._part_path(part).is_file():
            return False
        worker.jobs.remove(part)
        add_counts(self.counts, counts)
        self.finished[part] = (str(self._part_path(part)), 0)
        self.done += int(counts.get("documents", 0))
        self._report()
        return True

    def _drop(self, worker: _Worker) -> None:
        """A worker that died or failed: its parts go back to be written by someone else."""
        self.workers.remove(worker)
        for part in worker.jobs:
            heapq.heappush(self.pending, part)
            self._part_path(part).unlink(missing_ok=True)
        worker.jobs = []
        worker.stop(kill=True)

    def _assign(self) -> None:
        for w in list(self.workers):
            while w.ready and self.pending and len(w.jobs) < IN_FLIGHT:
                part = heapq.heappop(self.pending)
                first, last = self.parts[part]
                w.jobs.append(part)
                if not w.send({"part": part, "first": first, "last": last,
                               "path": str(self._part_path(part))}):
                    self._drop(w)
                    break

    def _flush(self) -> None:
        """Put every finished part that is next due into the output."""
        f = self.f
        while self.next_out in self.finished:
            content, size = self.finished.pop(self.next_out)
            if not self.writer.streamed:  # kept for the assembly at the end
                self.parts_out.append(Path(content) if isinstance(content, str) else content)
            elif isinstance(content, list):
                f.write("".join(content))
                self.buffered -= size
            else:
                f.flush()
                with open(content, "rb") as part:
                    shutil.copyfileobj(part, f.buffer, 1 << 20)  # type: ignore[attr-defined]
                os.unlink(content)
            self.next_out += 1

    def _part_path(self, part: int) -> Path:
        return self.tmp / f"{part}.part"

    def _report(self, force: bool = False) -> None:
        if self.progress is not None and (force or self.done - self._reported >= 50):
            self._reported = self.done
            self.progress(self.done, self.total)
