"""A long article opens off the UI thread and is shown piece by piece; once shown it looks and
behaves as the plain path shows it, and decisions redraw only what they changed."""
from __future__ import annotations

import random
import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCharFormat

from annotation.model import ClaimRecord, NewDocument, SpanRecord
from storage import review_model
from storage.ingest import store_documents
from storage.project import Project
from storage.review_model import ReviewModel
from tests.ui.review_fixtures import show_active, snap, stored, temp_settings  # noqa: F401
from ui import article_view
from ui.article_view import ArticleView
from ui.review_controller import OPENING

PARAGRAPH = ("Syrian government forces shelled Homs on Monday, the Syrian Observatory for Human "
             "Rights said. A media activist told Reuters that 12 people were killed near 𝔊𝔬𝔱𝔥 "
             "gate 😀 in Aleppo.")
LABELS = ("GPE", "ORG", "DATE", "NORP", "PERSON")


def long_document(paragraphs: int = 400) -> NewDocument:
    """Numbered paragraphs (non-BMP letters in each), a span on every capitalised word and a
    claim (source, cue, content) in every paragraph."""
    text = "\n\n".join(f"[{i}] {PARAGRAPH}" for i in range(paragraphs))
    spans = [SpanRecord(m.start(), m.end(), LABELS[k % len(LABELS)], status="suggested")
             for k, m in enumerate(re.finditer(r"\b[A-Z][a-z]+\b", text))]
    claims = []
    for k, m in enumerate(re.finditer(r"the Syrian Observatory for Human Rights said", text)):
        para = text.rfind("\n", 0, m.start()) + 1
        content = (para + text[para:].index("Syrian"), para + text[para:].index(", the Syrian"))
        for role, (a, b) in (("Content", content), ("Cue", (m.end() - 4, m.end())),
                             ("Source", (m.start(), m.end() - 5))):
            spans.append(SpanRecord(a, b, role, key=f"{role}{k}"))
        claims.append(ClaimRecord(content=f"Content{k}", cue=f"Cue{k}", source=f"Source{k}"))
    return NewDocument(text, name="long", title="A long article", spans=spans, claims=claims,
                       normalise=False)


@pytest.fixture
def long_project(tmp_path, monkeypatch):
    # What makes an article "long" is lowered so a test-sized one takes the long path.
    monkeypatch.setattr(review_model, "LONG_CHARS", 20_000)
    monkeypatch.setattr(article_view, "PIECE_CHARS", 5_000)
    path = tmp_path / "long.credence"
    with Project(path) as p:
        ids = store_documents(p, [NewDocument("Talks in Geneva stalled.", name="short"),
                                  long_document()]).document_ids
    return path, ids


def open_window(qtbot, nlp, path):
    from ui.main_window import MainWindow
    w = MainWindow(load_model=False, nlp=nlp)
    qtbot.addWidget(w)
    w.resize(1400, 860)
    show_active(qtbot, w)
    assert w.open_project(path)
    return w


def layout_formats(view: ArticleView) -> list[tuple]:
    """What Qt draws: each block's text and the (start, length, format) ranges laid on it."""
    out = []
    block = view.document().begin()
    while block.isValid():
        ranges = [(r.start, r.length, QTextCharFormat(r.format)) for r in block.layout().formats()]
        out.append((block.text(), ranges))
        block = block.next()
    return out


def test_a_long_article_opens_in_the_background_and_ends_as_the_plain_path(
        qtbot, nlp, long_project, artifacts):
    path, (short, long_id) = long_project
    w = open_window(qtbot, nlp, path)
    c = w.controller
    w.doc_list.select_document(short)
    steps = []
    w.view.document().blockCountChanged.connect(steps.append)
    w.doc_list.select_document(long_id)
    assert c.loading == long_id                      # returned at once: read on the worker
    assert w.review_model.doc_id is None and w.view.toPlainText() == ""
    # Decisions wait, and say why, while it opens.
    messages = []
    c.message.connect(messages.append)
    qtbot.keyClick(w.view, Qt.Key_A)
    assert messages[-1] == OPENING
    assert stored(path, "SELECT count(*) FROM events") == [(0,)]
    qtbot.waitUntil(lambda: c.loading is None and w.review_model.doc_id == long_id, timeout=30000)
    m = w.review_model
    assert len(steps) > 5                             # it did come piece by piece
    assert w.view.toPlainText() == m.text
    snap(qtbot, w, artifacts / "long-article-opened.png")

    # The same model and the same drawing as the plain path (read and shown at once).
    plain = ReviewModel(w.project)
    plain.open(long_id)
    assert (m.text, m.spans, m.claims, m.items, m.current) == \
        (plain.text, plain.spans, plain.claims, plain.items, plain.current)
    reference = ArticleView()
    reference.resize(w.view.size())
    reference.set_colours(w.project.labels())
    reference.show_document(plain.text, plain.spans.values())
    o = plain.outline()
    reference.set_current(o.focus, o.others, reveal=False, band=o.band)
    assert layout_formats(w.view) == layout_formats(reference)
    assert w.view._bars == reference._bars and w.view._sorted == reference._sorted

    # A decision on it: stored, and drawn as the plain path draws it.
    first = m.current
    qtbot.keyClick(w.view, Qt.Key_A)
    table = "claims" if first.kind == "claim" else "spans"
    assert stored(path, f"SELECT status FROM {table} WHERE id = ?", (first.id,)) == [("accepted",)]
    plain.open(long_id)
    reference.update_spans(plain.spans.values())
    o = m.outline()
    reference.set_current(o.focus, o.others, reveal=False, band=o.band)
    assert layout_formats(w.view) == layout_formats(reference)
    assert m.items == plain.items
    reference.deleteLater()
    w.close()


def test_switching_away_while_it_opens_shows_the_other_article(qtbot, nlp, long_project):
    path, (short, long_id) = long_project
    w = open_window(qtbot, nlp, path)
    w.doc_list.select_document(long_id)
    assert w.controller.loading == long_id
    w.doc_list.select_document(short)               # before it has been read
    assert w.controller.loading is None
    qtbot.wait(300)
    assert w.review_model.doc_id == short and w.view.toPlainText() == "Talks in Geneva stalled."
    w.doc_list.select_document(long_id)
    qtbot.waitUntil(lambda: w.review_model.doc_id == long_id, timeout=30000)
    w.doc_list.select_document(short)               # while it is drawn piece by piece
    assert w.review_model.doc_id == short and w.view.toPlainText() == "Talks in Geneva stalled."
    qtbot.wait(200)
    assert w.view.toPlainText() == "Talks in Geneva stalled."
    w.close()


def test_change_spans_draws_what_update_spans_draws(qtbot, nlp, long_project):
    """The fast redraw after a decision (only the spans it wrote) against the reference one
    (every span compared), over random status, label and bound changes and deletions."""
    path, (_short, long_id) = long_project
    with Project(path) as p:
        m = ReviewModel(p)
        m.open(long_id)
        spans = dict(m.spans)
        labels = p.labels()
    fast, slow = ArticleView(), ArticleView()
    for v in (fast, slow):
        v.resize(900, 700)
        v.set_colours(labels)
        v.show_document(m.text, spans.values())
    rng = random.Random(7)
    from dataclasses import replace
    for _round in range(30):
        changed, removed = [], []
        for sid in rng.sample(sorted(spans), 5):
            kind = rng.random()
            if kind < 0.15:
                removed.append(sid)
                del spans[sid]
                continue
            s = spans[sid]
            if kind < 0.5:
                s = replace(s, status=rng.choice(("accepted", "rejected", "suggested")))
            elif kind < 0.8:
                s = replace(s, label=rng.choice(LABELS + ("Content",)))
            else:
                s = replace(s, end=min(len(m.text), s.end + rng.randint(1, 30)))
            spans[sid] = s
            changed.append(s)
        fast.change_spans(changed, removed)
        slow.update_spans(spans.values())
        assert fast._sorted == slow._sorted and fast._bars == slow._bars
    assert layout_formats(fast) == layout_formats(slow)


def test_a_span_after_emoji_is_coloured_to_its_last_letter(qtbot):
    """Qt counts UTF-16 units: a paragraph with non-BMP characters must not cut off the colour
    of the spans at its end (it did: "Aleppo" was coloured as "Ale")."""
    from annotation.model import Span
    text = "Killed near 𝔊𝔬𝔱𝔥 gate 😀 in Aleppo.\n\nNext paragraph."
    start = text.index("Aleppo")
    view = ArticleView()
    qtbot.addWidget(view)
    view.set_colours([{"name": "GPE", "colour": "#b6d7a8"}])
    view.show_document(text, [Span(1, 1, start, start + 6, "GPE", "model", "accepted")])
    qa, qb = view.offsets.range_to_qt(start, start + 6)
    block = view.document().findBlock(qa)
    covered = {block.position() + r.start + k for r in block.layout().formats()
               for k in range(r.length) if r.format.background().color().name() == "#b6d7a8"}
    assert covered == set(range(qa, qb))
