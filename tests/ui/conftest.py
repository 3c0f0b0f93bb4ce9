"""UI test fixtures: no background thread may outlive a test (napari's habit)."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def no_worker_left_running(qapp):
    """Stop the shared background worker after each UI test and fail if it would not stop."""
    yield
    from ui import ops
    assert ops.shutdown(timeout_ms=20000), "the background worker did not stop"
    assert not ops.worker_running(), "a QThread is still running after the test"


ARTICLES = [
    ("Homs", "Syrian government forces shelled Homs on Monday, the Syrian Observatory for Human "
             "Rights said. A media activist told Reuters that 12 people were killed."),
    ("Aleppo", "Russian jets struck Aleppo overnight, according to the White Helmets. "
               "The Defence Ministry in Moscow denied that civilians were hit."),
    ("Geneva", "Talks in Geneva stalled on Tuesday, a United Nations spokesman said. "
               "The opposition said it would not return until the sieges were lifted."),
]


def add_articles(project, n: int = 3) -> list[int]:
    """Store `n` short articles (cycling through ARTICLES, made distinct) and return their ids."""
    from annotation.model import NewDocument
    from storage.ingest import store_documents
    docs = []
    for i in range(n):
        name, text = ARTICLES[i % len(ARTICLES)]
        suffix = f" Report {i}." if i >= len(ARTICLES) else ""
        docs.append(NewDocument(raw_text=text + suffix, name=f"{name.lower()}-{i}", title=name))
    return store_documents(project, docs).document_ids


def _find(text: str, phrase: str) -> tuple[int, int]:
    start = text.index(phrase)
    return start, start + len(phrase)


def build_small_project(project) -> dict:
    """Three articles with suggested, accepted and rejected spans, graded claims and sources,
    one document done: a state small enough to count by hand."""
    from storage.review import Review
    ids = add_articles(project, 3)
    texts = {i: project.document(i).text for i in ids}
    now = "2024-01-01T00:00:00"
    a, b, c = ids
    suggested = [(a, "Syrian", "NORP"), (a, "Homs", "GPE"), (a, "Monday", "DATE"), (a, "Reuters", "ORG"),
                 (b, "Aleppo", "GPE"), (b, "Moscow", "GPE"), (c, "Geneva", "GPE"), (c, "Tuesday", "DATE")]
    span_ids = {}
    with project.atomic():
        for doc, phrase, label in suggested:
            s, e = _find(texts[doc], phrase)
            span_ids[(doc, phrase)] = project.db["spans"].insert({
                "document_id": doc, "start": s, "end": e, "label": label, "origin": "model",
                "status": "suggested", "model": "en_core_web_sm-test", "created_at": now,
                "updated_at": now}).last_pk
        project.refresh_counts(ids)
    review = Review(project)
    review.accept([span_ids[(a, "Homs")], span_ids[(a, "Syrian")], span_ids[(b, "Aleppo")]])
    review.reject([span_ids[(a, "Monday")]])
    review.create_span(c, *_find(texts[c], "United Nations"), "ORG")
    claims = [
        review.create_claim(a, _find(texts[a], "Syrian government forces shelled Homs on Monday"),
                            _find(texts[a], "said"),
                            _find(texts[a], "the Syrian Observatory for Human Rights")),
        review.create_claim(a, _find(texts[a], "12 people were killed"), _find(texts[a], "told"),
                            _find(texts[a], "A media activist")),
        review.create_claim(b, _find(texts[b], "Russian jets struck Aleppo overnight"),
                            _find(texts[b], "according to"), _find(texts[b], "the White Helmets")),
        review.create_claim(c, _find(texts[c], "Talks in Geneva stalled on Tuesday"),
                            _find(texts[c], "said"), _find(texts[c], "a United Nations spokesman")),
    ]
    claims = [changes.id for changes in claims]
    review.grade_claim(claims[0], 2)
    review.grade_claim(claims[2], 5)
    review.grade_claim(claims[3], 2)
    sources = {s.name: s.id for s in project.sources()}
    observatory = next(i for n, i in sources.items() if "Observatory" in n)
    review.grade_source(observatory, "B")
    review.set_document_status(a, "done", resolve="reject")  # its suggested "Reuters" is rejected
    return {"documents": ids, "spans": span_ids, "claims": claims, "sources": sources,
            "observatory": observatory, "review": review}
