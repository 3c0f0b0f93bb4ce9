"""Pre-annotation in small committed batches: the same suggestions as one run, decisions in
between, and a run stopped or killed anywhere goes on later without redoing or duplicating."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from annotation.model import NewDocument
from storage import background_annotation as bg
from storage.ingest import store_documents
from storage.preannotate import annotate
from storage.project import Project
from storage.review import Review
from tests.conftest import ROOT

TEXTS = [
    "Syrian government forces shelled Homs on Monday, the Syrian Observatory for Human Rights said.",
    "Russian jets struck Aleppo overnight, according to the White Helmets.",
    "Talks in Geneva stalled on Tuesday, a United Nations spokesman said.",
    "A media activist told Reuters that 12 people were killed in Douma.",
    "The Defence Ministry in Moscow denied that civilians were hit in Idlib.",
    "Turkish troops entered Jarablus on Wednesday, Anadolu reported.",
]


def articles(n: int) -> list[NewDocument]:
    return [NewDocument(f"{TEXTS[i % len(TEXTS)]} Report number {i}.", name=f"a{i}")
            for i in range(n)]


def suggestions(project: Project) -> list[tuple]:
    return sorted(project.conn.execute(
        'SELECT d.name, s.start, s."end", s.label, s.status FROM spans s'
        " JOIN documents d ON d.id = s.document_id").fetchall())


def claim_cues(project: Project) -> list[tuple]:
    return sorted(project.conn.execute(
        'SELECT d.name, s.start, s."end" FROM claims c JOIN spans s ON s.id = c.cue_span_id'
        " JOIN documents d ON d.id = c.document_id").fetchall())


def reference(tmp_path: Path, nlp, n: int) -> tuple[list, list]:
    """The plain path: one annotate() run over every document."""
    with Project(tmp_path / "reference.credence") as p:
        store_documents(p, articles(n))
        annotate(p, nlp=nlp)
        return suggestions(p), claim_cues(p)


def test_batches_store_what_one_run_stores(tmp_path, project, nlp):
    store_documents(project, articles(14))
    assert bg.pending_count(project) == 14
    first = bg.next_batch(project, max_chars=300)
    assert 1 < len(first.items) < 14 and sum(len(t) for t, _ in first.items) <= 300
    stored = bg.annotate_pending(project, nlp)
    assert stored == 14 and bg.pending_count(project) == 0
    assert (suggestions(project), claim_cues(project)) == reference(tmp_path, nlp, 14)
    rows = project.document_rows()
    assert sum(r.n_suggested for r in rows) == len(suggestions(project))


def test_a_stopped_run_goes_on_without_redoing_or_duplicating(tmp_path, project_path, nlp):
    with Project(project_path) as p:
        store_documents(p, articles(12))
        assert bg.annotate_pending(p, nlp, batches=2, batch_chars=300) > 0
        half = suggestions(p)
        annotated = bg.annotated_count(p)
        assert 0 < annotated < 12
    with Project(project_path) as p:   # a later start
        assert bg.pending_count(p) == 12 - annotated
        stamps = dict(p.conn.execute("SELECT id, updated_at FROM spans"))
        assert bg.annotate_pending(p, nlp) == 12 - annotated
        assert set(half) <= set(suggestions(p))
        # what the first run stored was not stored again nor rewritten
        assert all(dict(p.conn.execute("SELECT id, updated_at FROM spans"))[i] == t
                   for i, t in stamps.items())
        assert (suggestions(p), claim_cues(p)) == reference(tmp_path, nlp, 12)


def test_decisions_between_parse_and_store_are_kept(project, nlp):
    ids = store_documents(project, articles(6)).document_ids
    bg.annotate_pending(project, nlp, batches=1, batch_chars=300)
    decided = next(s for s in project.spans(ids[0]))
    batch = bg.next_batch(project, max_chars=300)
    parsed = bg.parse(nlp, batch)            # what the worker thread does
    review = Review(project)                 # meanwhile the analyst decides…
    review.accept([decided.id])
    target = batch.ids[-1]
    review.set_document_status(target, "done", resolve="reject")   # …and closes an article
    summary = bg.store(project, nlp, parsed)
    assert summary.documents == len(batch.ids) - 1
    assert project.span(decided.id).status == "accepted"
    assert project.spans(target) == [] and project.document_status(target) == "done"
    again = bg.store(project, nlp, parsed)   # the same batch once more: nothing twice
    assert again.documents == 0 and again.entities == 0


_KILLED_RUN = """
import sys
sys.path.insert(0, {root!r})
from annotation.pipeline import load_model
from storage import background_annotation as bg
from storage.project import Project
nlp = load_model()
with Project({path!r}) as p:
    print("ready", flush=True)
    bg.annotate_pending(p, nlp, batch_chars=250,
                        progress=lambda done, total: print(done, flush=True))
"""


@pytest.mark.slow
def test_a_killed_run_goes_on_where_it_stopped(tmp_path, project_path, nlp):
    with Project(project_path) as p:
        store_documents(p, articles(40))
    code = _KILLED_RUN.format(root=str(ROOT), path=str(project_path))
    run = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                           env=dict(os.environ, CREDENCE_NO_BOOTSTRAP="1"))
    try:
        assert run.stdout.readline().strip() == "ready"
        first = int(run.stdout.readline())      # a batch is committed…
        assert first > 0
        os.kill(run.pid, signal.SIGKILL)         # …and the process dies during another
    finally:
        run.wait(timeout=60)
        run.stdout.close()
    time.sleep(0.1)
    with Project(project_path) as p:
        left = bg.pending_count(p)
        assert 0 < left < 40
        assert bg.annotate_pending(p, nlp) == left
        assert bg.pending_count(p) == 0
        assert (suggestions(p), claim_cues(p)) == reference(tmp_path, nlp, 40)
