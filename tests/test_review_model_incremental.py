"""The review model keeps a long article's items in step without sorting them again for each
decision, and reads an article the same way whichever thread opens it: checked against the
plain path (every item made again from the stored rows) after every kind of decision."""
from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from annotation.model import ClaimRecord, NewDocument, SpanRecord
from annotation.tokens import TokenEdges, tokenizer
from storage.ingest import store_documents
from storage.project import Project
from storage.review_model import ReviewModel, build_items, read_article

TEXT = ("Syrian government forces shelled Homs on Monday, the Syrian Observatory for Human Rights "
        "said. A media activist told Reuters that 12 people were killed in Aleppo. ")


def article(paragraphs: int = 30) -> NewDocument:
    text = "\n\n".join(TEXT for _ in range(paragraphs))
    spans, claims = [], []
    for k in range(paragraphs):
        base = k * (len(TEXT) + 2)
        for word, label in (("Syrian", "NORP"), ("Homs", "GPE"), ("Monday", "DATE"),
                            ("Reuters", "ORG"), ("Aleppo", "GPE")):
            a = base + TEXT.index(word)
            spans.append(SpanRecord(a, a + len(word), label))
        for role, phrase in (("Content", "Syrian government forces shelled Homs on Monday"),
                             ("Cue", "said"), ("Source", "the Syrian Observatory for Human Rights")):
            a = base + TEXT.index(phrase)
            spans.append(SpanRecord(a, a + len(phrase), role, key=f"{role}{k}"))
        claims.append(ClaimRecord(content=f"Content{k}", cue=f"Cue{k}", source=f"Source{k}"))
    return NewDocument(text, name="a", spans=spans, claims=claims, normalise=False)


def test_items_stay_as_the_plain_path_makes_them_through_any_decisions(project):
    [doc_id] = store_documents(project, [article()]).document_ids
    m = ReviewModel(project)
    m.open(doc_id)
    rng = random.Random(3)
    review = m.review
    for step in range(120):
        spans = sorted(m.spans)
        claims = sorted(m.claims)
        what = rng.choice(("accept", "reject", "reset", "relabel", "bounds", "create", "delete",
                           "claim", "grade", "undo"))
        sid = rng.choice(spans)
        s = m.spans[sid]
        if what in ("accept", "reject", "reset"):
            changes = getattr(review, what)([sid])
        elif what == "relabel" and s.label not in ("Content", "Cue", "Source"):
            changes = review.relabel(sid, rng.choice(("PERSON", "ORG", "GPE")))
        elif what == "bounds" and s.end + 1 < len(m.text):
            changes = review.set_bounds(sid, s.start, s.end + 1)
        elif what == "create":
            a = rng.randrange(0, len(m.text) - 10)
            changes = review.create_span(doc_id, a, a + 5, "MISC")
        elif what == "delete" and s.label not in ("Content", "Cue", "Source"):
            changes = review.delete_span(sid)
        elif what == "claim":
            changes = rng.choice((review.accept_claim, review.reject_claim))(rng.choice(claims))
        elif what == "grade":
            changes = review.grade_claim(rng.choice(claims), rng.randint(1, 6))
        elif what == "undo" and review.undo_text():
            changes = review.undo()
        else:
            continue
        m.apply(changes)
        items, index, part_of = build_items(m.spans, m.claims)
        assert (m.items, m._index, m.part_of) == (items, index, part_of), f"step {step}: {what}"
        fresh = read_article(project, doc_id)
        assert (m.spans, m.claims, m.items) == (fresh.spans, fresh.claims, fresh.items)


def test_an_article_read_elsewhere_opens_as_the_plain_path(project_path):
    with Project(project_path) as p:
        [doc_id] = store_documents(p, [article(5)]).document_ids
        plain = ReviewModel(p)
        plain.open(doc_id)
        with Project(project_path, readonly=True) as reader:   # what the worker thread uses
            elsewhere = read_article(reader, doc_id)
        m = ReviewModel(p)
        m.adopt(elsewhere)
        assert (m.doc_id, m.text, m.spans, m.claims, m.items, m.part_of, m.current, m.focus_span) == \
            (plain.doc_id, plain.text, plain.spans, plain.claims, plain.items, plain.part_of,
             plain.current, plain.focus_span)
        assert m.is_long(doc_id) is False


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list("ab. ,\n'-😀é") + ["U.S.", "don't", "http://x.io/a", "  "]),
                max_size=120).map("".join),
       st.integers(min_value=1, max_value=40))
def test_tokens_made_in_pieces_are_the_tokens_of_the_whole_text(text, piece):
    """A long article's tokens are made a piece at a time (off the UI thread): the same edges."""
    whole = TokenEdges(text, tokenizer())
    pieces = TokenEdges.in_pieces(text, tokenizer(), piece_chars=piece)
    assert (pieces.starts, pieces.ends) == (whole.starts, whole.ends)


def test_tokens_in_pieces_on_a_real_article():
    from tests.conftest import shared_path
    text = shared_path("seed", "homs-offensive.txt").read_text(encoding="utf-8") * 3
    whole = TokenEdges(text, tokenizer())
    pieces = TokenEdges.in_pieces(text, tokenizer(), piece_chars=300)
    assert (pieces.starts, pieces.ends) == (whole.starts, whole.ends) and len(whole) > 1000
