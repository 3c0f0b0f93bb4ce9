"""Pre-annotation in small batches that an analyst's review can interleave with.

Each batch is three steps: `next_batch` reads a few texts of documents never pre-annotated,
`parse` runs spaCy over them (no project access: a background thread may do it while the
analyst decides), and `store` stores what the model found in one short transaction
(`annotate(parsed=...)`, milliseconds). Each stored batch is committed: stopped or killed
in between, a later start goes on with the documents still never annotated, and none is
annotated twice (a document's suggestions and its `annotated_with` mark are one transaction).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from annotation.chunks import pipe_chunked
from annotation.entity_learning import EntityModel, entity_pipeline
from annotation.progress import ShouldCancel
from storage.models import load_entity_model, model_in_use
from storage.preannotate import AnnotateSummary, annotate
from storage.project import Project

# A batch holds about this many characters (FA-KES: two articles or so): its parse takes a
# fraction of a second on the worker, and storing it ~10 ms of the UI thread (measured: ~27 ms
# CPU for 10,000 characters, mostly claim detection and per-row inserts).
BATCH_CHARS = 5_000
BATCH_DOCUMENTS = 8

_PENDING = "FROM documents WHERE annotated_with IS NULL AND status != 'done'"
# Set in the project while a background run has documents left: the next start goes on.
WANTED = "annotate_in_background"


@dataclass
class Batch:
    """Texts to parse: (text, document id) pairs."""
    items: list[tuple[str, int]] = field(default_factory=list)

    @property
    def ids(self) -> list[int]:
        return [doc_id for _text, doc_id in self.items]


def pending_count(project: Project) -> int:
    """Documents never pre-annotated (and not marked done): what is left to do."""
    return project.conn.execute(f"SELECT count(*) {_PENDING}").fetchone()[0]


def set_wanted(project: Project, wanted: bool) -> None:
    """Whether the app should (go on to) pre-annotate this project in the background when it
    opens it: set when a run starts, cleared when nothing is left."""
    if is_wanted(project) != wanted:
        project.set_setting(WANTED, "1" if wanted else None)


def is_wanted(project: Project) -> bool:
    return project.setting(WANTED) == "1"


def annotated_count(project: Project) -> int:
    return project.conn.execute(
        "SELECT count(*) FROM documents WHERE annotated_with IS NOT NULL").fetchone()[0]


def next_batch(project: Project, *, max_chars: int | None = None,
               max_documents: int = BATCH_DOCUMENTS) -> Batch:
    """The next documents to pre-annotate, in id order: at least one, then as many as fit in
    `max_chars` (BATCH_CHARS)."""
    max_chars = BATCH_CHARS if max_chars is None else max_chars
    batch = Batch()
    size = 0
    rows = project.conn.execute(
        f"SELECT id, length(text) {_PENDING} ORDER BY id LIMIT ?", (max_documents,)).fetchall()
    chosen: list[int] = []
    for doc_id, length in rows:
        if chosen and size + length > max_chars:
            break
        chosen.append(doc_id)
        size += length
    if chosen:
        texts = dict(project.conn.execute(
            f"SELECT id, text FROM documents WHERE id IN ({','.join('?' * len(chosen))})", chosen))
        batch.items = [(texts[i], i) for i in chosen]
    return batch


def entity_model(project: Project) -> EntityModel | None:
    """The entity model the project uses (read on the project's thread), None for the shipped
    pipeline's NER: `parse` runs it, so background suggestions are those `annotate` makes."""
    stored = model_in_use(project, "entities")
    return load_entity_model(project, stored) if stored is not None else None


def parse(nlp, batch: Batch, should_cancel: ShouldCancel | None = None,
          entities: EntityModel | None = None) -> list[tuple[Any, int]]:
    """spaCy over a batch (long texts in chunks): no project access, any thread may run it.
    With `entities` (see `entity_model`) its NER finds the entities, not the pipeline's."""
    docs = list(pipe_chunked(nlp, batch.items, should_cancel=should_cancel))
    if entities is not None:
        ner = entity_pipeline(entities, parse=False).get_pipe("ner")
        for doc, _doc_id in docs:
            doc.set_ents([], default="missing")  # the base NER's guesses are not constraints
            ner(doc)
    return docs


def store(project: Project, nlp, parsed: list[tuple[Any, int]]) -> AnnotateSummary:
    """Store a parsed batch in one transaction. Documents annotated or marked done since the
    batch was read (elsewhere, or by an earlier run) are left out: nothing is stored twice."""
    ids = [doc_id for _doc, doc_id in parsed]
    still = {r[0] for r in project.conn.execute(
        f"SELECT id {_PENDING} AND id IN ({','.join('?' * len(ids))})", ids)} if ids else set()
    return annotate(project, nlp=nlp, parsed=[(d, i) for d, i in parsed if i in still])


def annotate_pending(project: Project, nlp, *, batches: int | None = None,
                     batch_chars: int | None = None, progress=None,
                     should_cancel: ShouldCancel | None = None) -> int:
    """The same steps one after another on one thread (scripts, tests): pre-annotate the
    documents never annotated, `batches` batches at most; returns how many were stored."""
    done = 0
    total = pending_count(project)
    entities = entity_model(project)
    n = 0
    while batches is None or n < batches:
        batch = next_batch(project, max_chars=batch_chars)
        if not batch.items:
            break
        done += store(project, nlp, parse(nlp, batch, should_cancel, entities)).documents
        n += 1
        if progress is not None:
            progress(done, total)
    return done
