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
