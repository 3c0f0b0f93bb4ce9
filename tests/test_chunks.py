"""Long texts are pre-annotated in paragraph-aligned chunks: no span lost or shifted at a chunk
edge, and texts past spaCy's maximum length (E088) are annotated like any other."""
from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotation.chunks import CHUNK_CHARS, chunk_bounds, parse_long, pipe_chunked
from annotation.claims import detect_claims
from annotation.cues import builtin_lexicon
from annotation.model import NewDocument
from annotation.progress import Cancelled
from storage.ingest import store_documents
from storage.preannotate import annotate
from tests.conftest import shared_path

PARAGRAPHS = [
    "Syrian government forces shelled Homs on Monday, the Syrian Observatory for Human Rights said.",
    "Bashar al-Assad met Vladimir Putin in Moscow last week, according to the Kremlin.",
    "A media activist told Reuters that 12 people were killed in Aleppo on Tuesday.",
    "The United Nations said 4,000 civilians were trapped in Damascus.",
    "Talks in Geneva stalled, a spokesman for Staffan de Mistura said on Friday.",
]


def ents(doc, shift: int = 0) -> set[tuple[int, int, str]]:
    return {(e.start_char + shift, e.end_char + shift, e.label_) for e in doc.ents}


def claims(doc, lexicon, shift: int = 0) -> list[tuple]:
    def moved(rng):
        return None if rng is None else (rng[0] + shift, rng[1] + shift)
    return [(moved(c.cue), moved(c.source), moved(c.content)) for c in detect_claims(doc, lexicon)]


# -- where chunks are cut ------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab .\n\t😀é\u0301")), max_size=400),
       st.integers(min_value=2, max_value=60))
def test_chunks_cover_the_text_in_order_and_never_exceed_the_size(text, size):
    bounds = chunk_bounds(text, size)
    assert bounds[0][0] == 0 and bounds[-1][1] == len(text)
    assert all(a < b or len(text) == 0 for a, b in bounds)
    assert all(b1 == a2 for (_, b1), (a2, _) in zip(bounds, bounds[1:]))
    assert all(b - a <= size for a, b in bounds)
    # a combining accent stays with its letter, unless the accents alone fill a whole chunk
    for (a0, _), (a, _) in zip(bounds, bounds[1:]):
        if unicodedata.combining(text[a]):
            assert all(unicodedata.combining(c) for c in text[a0 + 1:a])


def test_cuts_fall_after_paragraph_breaks_when_there_are_any():
    text = "\n\n".join(PARAGRAPHS * 20)
    bounds = chunk_bounds(text, 1000)
    assert len(bounds) > 3
    for a, _b in bounds[1:]:
        assert text[a - 2:a] == "\n\n" and not text[a].isspace()


def test_a_text_without_paragraph_breaks_is_cut_after_sentences_then_spaces():
    text = " ".join(PARAGRAPHS * 20)
    for a, _b in chunk_bounds(text, 1000)[1:]:
        assert text[a - 2:a] == ". " and text[a].isupper()     # after a sentence's end
    words = "word " * 1000
    for a, _b in chunk_bounds(words, 333)[1:]:
        assert words[a - 1] == " " and words[a] == "w"       # never inside a word


# -- what the model finds ------------------------------------------------------------------------
def test_chunked_parse_is_each_chunk_parsed_alone_at_its_offset(nlp):
    """The reference: every chunk through the model on its own, its offsets moved by where the
    chunk starts. The joined Doc holds exactly that, and its text is the text."""
    text = "\n\n".join(PARAGRAPHS * 8) + "\n\nEmoji 😀 and 𝔊𝔬𝔱𝔥𝔦𝔠 before Reuters reported it from Homs."
    lexicon = builtin_lexicon()
    doc = parse_long(nlp, text, 700)
    assert doc.text == text
    expected_ents, expected_claims = set(), []
    for a, b in chunk_bounds(text, 700):
        part = nlp(text[a:b])
        expected_ents |= ents(part, a)
        expected_claims += claims(part, lexicon, a)
    assert ents(doc) == expected_ents
    assert claims(doc, lexicon) == expected_claims
    for start, end, _label in ents(doc):  # offsets are code points into the text
        assert text[start:end] == doc.char_span(start, end).text
    assert any(text[s:e] == "Reuters" and s > text.index("𝔊") for s, e, _ in ents(doc))


def test_no_entity_or_claim_is_lost_or_shifted_at_a_chunk_edge(nlp):
    """Against the whole text parsed at once: chunks cut between paragraphs change nothing, even
    for entities that open or close a chunk."""
    text = "\n\n".join(PARAGRAPHS * 4)
    bounds = chunk_bounds(text, 400)
    assert len(bounds) >= 5
    whole, chunked = nlp(text), parse_long(nlp, text, 400)
    assert ents(chunked) == ents(whole)
    edges = {a for a, _ in bounds[1:]} | {b - 2 for _, b in bounds[:-1]}   # b - 2: before "\n\n"
    at_edge = {(s, e) for s, e, _ in ents(whole) if s in edges or e in edges}
    assert at_edge, "the text should put entities right at the chunk edges"
    assert at_edge <= {(s, e) for s, e, _ in ents(chunked)}
    lexicon = builtin_lexicon()
    assert claims(chunked, lexicon) == claims(whole, lexicon)


def test_pipe_keeps_order_and_contexts_with_long_and_short_texts_mixed(nlp):
    long_text = "\n\n".join(PARAGRAPHS * 6)
    items = [(long_text, "a"), ("Reuters reported it.", "b"), (long_text[:300], "c"),
             (long_text + "\n\nThe end.", "d"), ("Homs.", "e")]
    out = list(pipe_chunked(nlp, items, batch_size=2, max_chars=500))
    assert [c for _d, c in out] == ["a", "b", "c", "d", "e"]
    assert [d.text for d, _c in out] == [t for t, _c in items]
    assert ents(out[1][0]) == ents(nlp("Reuters reported it."))   # the plain path, untouched


def test_cancel_is_heard_between_the_chunks_of_one_long_text(nlp):
    asked = []

    def cancel_on_third():
        asked.append(1)
        return len(asked) >= 3
    with pytest.raises(Cancelled):
        list(pipe_chunked(nlp, [("\n\n".join(PARAGRAPHS * 20), 1)], max_chars=500,
                          should_cancel=cancel_on_third))
    assert len(asked) == 3


# -- stored by pre-annotation ----------------------------------------------------------------------
@pytest.mark.slow
def test_a_text_past_spacys_maximum_is_annotated_with_offsets_into_it(project, nlp, monkeypatch):
    """spaCy refuses a text over nlp.max_length (E088): such a text is annotated in chunks, and
    every stored span is the model's finding at its place in the stored text (entities and
    claims), beside an ordinary article annotated the plain way."""
    monkeypatch.setattr(nlp, "max_length", 3000)   # what a 4.8 MB article is to the default 10**6
    long_text = "\n\n".join(PARAGRAPHS * 12) + "\n\nEmoji 😀 and 𝔊𝔬𝔱𝔥𝔦𝔠: Reuters said Homs fell."
    assert len(long_text) > nlp.max_length
    ids = store_documents(project, [NewDocument(long_text, name="long", normalise=False),
                                    NewDocument(PARAGRAPHS[0], name="short")]).document_ids
    summary = annotate(project, nlp=nlp)
    assert summary.documents == 2
    text = project.document(ids[0]).text
    assert text == long_text
    lexicon = builtin_lexicon()
    expected_ents, expected_claims = set(), set()
    for a, b in chunk_bounds(text, 3000):
        part = nlp(text[a:b])
        expected_ents |= ents(part, a)
        expected_claims |= {c[0] for c in claims(part, lexicon, a)}
    stored = {(s.start, s.end, s.label) for s in project.spans(ids[0]) if s.label not in
              ("Cue", "Source", "Content")}
    assert stored == expected_ents and len(stored) > 50
    cues = {(s.start, s.end) for s in project.spans(ids[0]) if s.label == "Cue"}
    assert cues == expected_claims and len(cues) > 10
    short = {(s.start, s.end, s.label) for s in project.spans(ids[1]) if s.label not in
             ("Cue", "Source", "Content")}
    assert short == ents(nlp(PARAGRAPHS[0]))
    assert any(text[s:e] == "Reuters" and s > text.index("😀") for s, e, _ in stored)


@pytest.mark.slow
def test_a_long_fakes_article_is_chunked_and_annotated(project, nlp):
    """A real long text (FA-KES articles one after another, > CHUNK_CHARS): annotated, and its
    entities are the chunks' entities at their offsets."""
    import csv
    path = shared_path("fa-kes", "FA-KES-Dataset.csv")
    csv.field_size_limit(10**8)
    with open(path, encoding="utf-8", errors="replace") as f:
        rows = [r["article_content"] for r in csv.DictReader(f)]
    text = ""
    for body in rows:
        if len(text) > CHUNK_CHARS * 1.3:
            break
        text += " ".join(body.split()) + "\n\n"
    [doc_id] = store_documents(project, [NewDocument(text, normalise=False)]).document_ids
    annotate(project, nlp=nlp, claims=False)
    stored = {(s.start, s.end, s.label) for s in project.spans(doc_id)}
    expected = set()
    for a, b in chunk_bounds(text):
        expected |= ents(nlp(text[a:b]), a)
    assert len(chunk_bounds(text)) == 2 and stored == expected
