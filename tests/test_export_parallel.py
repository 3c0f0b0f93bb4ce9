"""Exports shared out to worker processes write exactly the file one process writes, and stay
all-or-nothing when a worker fails, the user cancels or another program writes meanwhile."""
from __future__ import annotations

import csv
import re
import sqlite3
import sys
import time
import zlib
from pathlib import Path

import pytest

from annotation.model import NewDocument, SpanRecord
from storage.export import export, spacy_docbin, worker
from storage.export import parallel as export_parallel
from storage.ingest import store_documents
from storage.project import Project
from tests.test_export import build

# Each test starts worker processes that import spaCy: the full suite runs them, the fast loop
# keeps to the one-process export (tests/test_export*.py).
pytestmark = pytest.mark.slow


class Spy:
    """Counts what the workers did in this process's view: started, parts taken, dropped."""

    def __init__(self, monkeypatch, wait_for_workers: bool = True) -> None:
        self.workers: list = []
        self.taken: list[int] = []
        self.dropped = 0
        spy = self
        parallel = export_parallel._Parallel
        take, drop, own = parallel._take, parallel._drop, parallel._write_own
        worker_init = export_parallel._Worker.__init__

        def _init(self, *a, **k):
            worker_init(self, *a, **k)
            spy.workers.append(self)

        def _take(self, worker, message):
            ok = take(self, worker, message)
            if ok and "part" in message:
                spy.taken.append(message["part"])
            return ok

        def _drop(self, worker):
            spy.dropped += 1
            return drop(self, worker)

        def _write_own(self, part):
            # A worker takes a second to start; this process would write a small export alone
            # before then. Wait until one is ready (or all are gone) so that workers take parts.
            deadline = time.monotonic() + 60
            while wait_for_workers and self.workers and time.monotonic() < deadline \
                    and not any(w.ready for w in self.workers):
                self._handle(block=False)
                time.sleep(0.02)
            return own(self, part)

        monkeypatch.setattr(export_parallel._Worker, "__init__", _init)
        monkeypatch.setattr(parallel, "_take", _take)
        monkeypatch.setattr(parallel, "_drop", _drop)
        monkeypatch.setattr(parallel, "_write_own", _write_own)


def one_process(project: Project, out: Path, monkeypatch, fmt: str = "prodigy", **kw):
    monkeypatch.setenv(export_parallel.WORKERS_ENV, "0")
    summary = export(project, fmt, out, **kw)
    monkeypatch.delenv(export_parallel.WORKERS_ENV)
    return summary


def parallel(project: Project, out: Path, monkeypatch, workers: int = 2, part: int = 1,
             fmt: str = "prodigy", **kw):
    monkeypatch.setenv(export_parallel.WORKERS_ENV, str(workers))
    monkeypatch.setattr(export_parallel, "PART_DOCUMENTS", part)
    monkeypatch.setattr(spacy_docbin, "SHARD_DOCUMENTS", part)  # a folder's file is a part
    try:
        return export(project, fmt, out, **kw)
    finally:
        monkeypatch.delenv(export_parallel.WORKERS_ENV)


def content(path: Path) -> bytes:
    """The file's bytes: a DocBin merged from parts (DocBin.merge) is the very file one
    process writes, as Prodigy lines copied in order are. A folder's files merged in name order,
    as one DocBin (its files are parts of another size than one process's)."""
    if path.is_dir():
        from tests.test_export_spacy import merged
        return merged(path)
    return path.read_bytes()


def readable(path: Path) -> bytes:
    """The file's bytes, a DocBin's decompressed (its strings, labels included, are in it)."""
    data = content(path)
    return zlib.decompress(data) if path.suffix == ".spacy" or path.is_dir() else data


def same_summary(got, want) -> None:
    assert (got.documents, got.spans, got.claims, got.not_represented) == \
        (want.documents, want.spans, want.claims, want.not_represented)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


FORMATS = [("prodigy", "jsonl"), ("spacy", "spacy"), ("spacy-folder", "corpus")]


@pytest.mark.parametrize("everything", [True, False])
@pytest.mark.parametrize("fmt,suffix", FORMATS)
def test_workers_write_the_file_one_process_writes(project, tmp_path, monkeypatch, everything,
                                                   fmt, suffix):
    """Non-BMP text, overlapping, in-token, whitespace-edged and discontinuous spans, claims:
    one document a part, so each worker part meets them."""
    build(project)
    one, par = tmp_path / f"one.{suffix}", tmp_path / f"par.{suffix}"
    want = one_process(project, one, monkeypatch, fmt, everything=everything)
    spy = Spy(monkeypatch)
    got = parallel(project, par, monkeypatch, fmt=fmt, everything=everything)
    assert len(spy.workers) == 2 and spy.taken, "no part came from a worker"
    assert content(par) == content(one)
    if par.is_dir():  # files from workers and from this process alike, for whoever reads them
        assert len({f.stat().st_mode for f in par.glob("*.spacy")}) == 1
    same_summary(got, want)
    assert all(w.proc.poll() is not None for w in spy.workers), "a worker outlived the export"
    assert leftovers(tmp_path) == []


@pytest.fixture(scope="module")
def fakes_project(tmp_path_factory):
    """The FA-KES articles, normalised as imported, with spans of every shape on their names."""
    from tests.conftest import shared_path
    with open(shared_path("fa-kes", "FA-KES-Dataset.csv"), encoding="utf-8", errors="replace",
              newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["article_content"].strip()]
    docs = []
    for i, row in enumerate(rows):
        text = row["article_content"]
        spans = []
        for j, m in enumerate(re.finditer(r"\b[A-Z][a-z]+(?: [A-Z][a-z]+)*", text)):
            a, b = m.span()
            if j % 7 == 3 and b - a > 2:
                a += 1  # inside a token
            elif j % 11 == 5 and a > 0 and text[a - 1].isspace():
                a -= 1  # edged by whitespace
            spans.append(SpanRecord(a, b, ("ORG", "GPE", "PERSON")[j % 3], origin="model",
                                    status=("suggested", "accepted", "rejected")[j % 3]))
        docs.append(NewDocument(text, name=f"fakes-{i}", title=row["article_title"],
                                meta={"row": i}, spans=spans))
    path = tmp_path_factory.mktemp("fakes") / "fakes.credence"
    with Project(path) as project:
        store_documents(project, docs, normalise_default=False)
        project.conn.execute("UPDATE documents SET status = 'done' WHERE id % 3 = 0")
    return path


@pytest.mark.parametrize("everything", [True, False])
@pytest.mark.parametrize("fmt,suffix", FORMATS)
def test_workers_on_real_articles(fakes_project, tmp_path, monkeypatch, fmt, suffix, everything):
    one, par = tmp_path / f"one.{suffix}", tmp_path / f"par.{suffix}"
    with Project(fakes_project, readonly=True) as project:
        want = one_process(project, one, monkeypatch, fmt, everything=everything)
        spy = Spy(monkeypatch)
        calls = []
        got = parallel(project, par, monkeypatch, part=40 if everything else 15, fmt=fmt,
                       everything=everything, progress=lambda d, t: calls.append((d, t)))
    assert want.documents > (700 if everything else 250)
    assert want.spans > (10_000 if everything else 2_000)
    assert len(spy.taken) >= 2
    assert content(par) == content(one)
    same_summary(got, want)
    done = [d for d, _ in calls]
    assert done == sorted(done) and calls[-1] == (want.documents, want.documents)
    if fmt.startswith("spacy"):  # and spaCy reads it
        import spacy
        from spacy.tokens import DocBin
        docs = list(DocBin().from_bytes(content(par)).get_docs(spacy.blank("en").vocab))
        assert len(docs) == want.documents
        assert sum(len(set(d.user_data["span_ids"])) for d in docs) == want.spans


ROOT = str(Path(worker.__file__).resolve().parents[2])


def _dies_on_second_part() -> list[str]:
    return [sys.executable, "-c", (
        f"import os, sys; sys.path.insert(0, {ROOT!r})\n"
        "from storage.export import worker as w\n"
        "real, n = w.write_part, [0]\n"
        "def write_part(*a):\n"
        "    n[0] += 1\n"
        "    if n[0] == 2: os._exit(9)\n"
        "    return real(*a)\n"
        "w.write_part = write_part\n"
        "w.main()\n")]


def _loses_its_first_part() -> list[str]:
    return [sys.executable, "-c", (
        f"import sys; sys.path.insert(0, {ROOT!r})\n"
        "from storage.export import worker as w\n"
        "real, n = w.write_part, [0]\n"
        "def write_part(writer, rows, path, on_document):\n"
        "    n[0] += 1\n"
        "    counts = real(writer, rows, path, on_document)\n"
        "    if n[0] == 1: path.unlink()  # answers as if written\n"
        "    return counts\n"
        "w.write_part = write_part\n"
        "w.main()\n")]


@pytest.mark.parametrize("argv", [
    _dies_on_second_part,
    _loses_its_first_part,
    lambda: [sys.executable, "-c", "import sys; sys.exit(3)"],  # never starts
    lambda: [sys.executable, "-c", "print('hello'); import time; time.sleep(30)"],  # not ours
    lambda: [str(Path(sys.executable).parent / "no-such-python")],  # cannot be run
], ids=["dies", "loses-a-part", "exits", "talks-nonsense", "missing"])
@pytest.mark.parametrize("fmt,suffix", FORMATS)
def test_a_failing_worker_costs_time_not_data(project, tmp_path, monkeypatch, argv, fmt, suffix):
    build(project)
    one, par = tmp_path / f"one.{suffix}", tmp_path / f"par.{suffix}"
    one_process(project, one, monkeypatch, fmt, everything=True)
    spy = Spy(monkeypatch)
    monkeypatch.setattr(export_parallel, "worker_argv", argv)
    got = parallel(project, par, monkeypatch, workers=1, fmt=fmt, everything=True)
    assert content(par) == content(one)
    assert got.documents == 4
    if argv is _dies_on_second_part:
        assert len(spy.taken) == 1 and spy.dropped == 1  # its first part kept, the next redone here
    if argv is _loses_its_first_part:
        assert spy.taken == [] and spy.dropped == 1  # both its parts written here
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("fmt,suffix", FORMATS)
def test_cancel_stops_workers_and_leaves_nothing(fakes_project, tmp_path, monkeypatch, fmt, suffix):
    out = tmp_path / f"out.{suffix}"
    if fmt == "spacy-folder":  # an earlier export of the folder
        with Project(fakes_project, readonly=True) as project:
            one_process(project, out, monkeypatch, fmt)
        earlier = {p.name: p.read_bytes() for p in out.iterdir()}
    else:
        out.write_text("the previous export\n", encoding="utf-8")
    spy = Spy(monkeypatch)

    def cancel(done, total):
        if done >= 200:
            raise KeyboardInterrupt

    with Project(fakes_project, readonly=True) as project, pytest.raises(KeyboardInterrupt):
        parallel(project, out, monkeypatch, part=20, fmt=fmt, progress=cancel, everything=True)
    assert spy.workers and all(w.proc.poll() is not None for w in spy.workers)
    if fmt == "spacy-folder":
        assert {p.name: p.read_bytes() for p in out.iterdir()} == earlier
    else:
        assert out.read_text(encoding="utf-8") == "the previous export\n"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("fmt,suffix", FORMATS)
def test_a_write_by_another_program_meanwhile_is_not_mixed_in(project, tmp_path, monkeypatch, fmt,
                                                              suffix):
    """The export is the project as it was when it started: parts that workers read after
    another program's commit are written again here, from this export's snapshot."""
    build(project)
    before, par, after = (tmp_path / f"{n}.{suffix}" for n in ("before", "par", "after"))
    one_process(project, before, monkeypatch, fmt, everything=True)
    spy = Spy(monkeypatch)
    parallel_cls = export_parallel._Parallel
    assign = parallel_cls._assign
    wrote = []

    def _assign(self):
        if not wrote and any(w.ready for w in self.workers):
            other = sqlite3.connect(project.path)  # another program, as the workers start
            other.execute("UPDATE spans SET label = 'EVENT' WHERE label = 'GPE'")  # in 3 parts of 4
            other.commit()
            other.close()
            wrote.append(True)
        return assign(self)

    monkeypatch.setattr(parallel_cls, "_assign", _assign)
    parallel(project, par, monkeypatch, fmt=fmt, everything=True)
    assert wrote and spy.taken
    assert content(par) == content(before)
    one_process(project, after, monkeypatch, fmt, everything=True)
    assert b"EVENT" in readable(after) and b"EVENT" not in readable(before)


def test_worker_count(monkeypatch):
    monkeypatch.delenv(export_parallel.WORKERS_ENV, raising=False)
    assert export_parallel.worker_count(export_parallel.MIN_DOCUMENTS - 1) == 0
    assert 0 <= export_parallel.worker_count(100_000) <= export_parallel.MAX_WORKERS
    monkeypatch.setenv(export_parallel.WORKERS_ENV, "3")
    assert export_parallel.worker_count(10) == 3
    monkeypatch.setenv(export_parallel.WORKERS_ENV, "none")
    assert export_parallel.worker_count(100_000) == 0


def test_no_workers_when_changes_to_the_file_could_not_be_seen(project, tmp_path, monkeypatch):
    """If the project cannot be opened a second time to watch for changes, the export runs in
    this process alone: written once, not by workers and then again."""
    build(project)
    one_process(project, tmp_path / "one.jsonl", monkeypatch, everything=True)
    spy = Spy(monkeypatch)

    def cannot_open(*args, **kwargs):
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(export_parallel.sqlite3, "connect", cannot_open)
    got = parallel(project, tmp_path / "par.jsonl", monkeypatch, everything=True)
    assert spy.workers == [] and got.documents == 4
    assert content(tmp_path / "par.jsonl") == content(tmp_path / "one.jsonl")
