"""Batched ingest: the same stored rows as one-at-a-time storing, across chunk boundaries."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import storage.ingest as ingest
from annotation.model import ClaimRecord, NewDocument, SpanRecord
from storage.ingest import store_documents


def _doc(i: int, **kw) -> NewDocument:
    text = f"Reuters said article {i} reports fighting in Homs."
    spans = [SpanRecord(0, 7, "ORG", key="s"), SpanRecord(8, 12, "Cue", key="c"),
             SpanRecord(13, len(text) - 1, "Content", key="t"),
             SpanRecord(text.index("Homs"), text.index("Homs") + 4, "GPE", status="rejected")]
    return NewDocument(text, name=f"a{i}", title=f"Article {i}", spans=spans,
                       claims=[ClaimRecord("t", cue="c", source="s", key="k")],
                       labels=["credible"], **kw)


@pytest.mark.parametrize("chunk", [2, 3, 500])
def test_chunks_store_every_row_with_links_and_counts(project, monkeypatch, chunk):
    monkeypatch.setattr(ingest, "_CHUNK", chunk)
    store_documents(project, [NewDocument("Already there.", name="old")])
    docs = [_doc(i) for i in range(5)]
    # A duplicate inside the same chunk, one of a stored document, and one across chunks.
    docs.insert(2, NewDocument(docs[1].raw_text, name="dup-in-chunk", title="Other title"))
    docs.insert(4, NewDocument("Already  there.", name="dup-of-stored"))
    docs.append(NewDocument(docs[0].raw_text, name="dup-late", source="AFP"))
    s = store_documents(project, docs)
    assert (s.read, s.added, s.duplicates, s.spans, s.claims) == (8, 5, 3, 20, 5)
    q = project.conn.execute
    assert [r[0] for r in q("SELECT name FROM documents ORDER BY id")] == \
        ["old", "a0", "a1", "a2", "a3", "a4"]
    assert s.document_ids == [r[0] for r in q("SELECT id FROM documents WHERE name LIKE 'a%' ORDER BY id")]
    assert sorted(r[0] for r in q("SELECT name FROM sightings")) == \
        ["dup-in-chunk", "dup-late", "dup-of-stored"]
    # Every claim points at spans of its own document with the right labels.
    rows = q("SELECT c.document_id, sc.document_id, sc.label, su.label, ss.label FROM claims c"
             " JOIN spans sc ON sc.id = c.content_span_id JOIN spans su ON su.id = c.cue_span_id"
             " JOIN spans ss ON ss.id = c.source_span_id").fetchall()
    assert len(rows) == 5 and all(r[0] == r[1] and r[2:] == ("Content", "Cue", "ORG") for r in rows)
    # The counts written at insert equal the ones recomputed from stored spans and claims.
    before = q("SELECT id, n_spans, n_suggested, n_claims FROM documents ORDER BY id").fetchall()
    with project.atomic():
        project.refresh_counts()
    assert q("SELECT id, n_spans, n_suggested, n_claims FROM documents ORDER BY id").fetchall() == before
    assert before[1][1:] == (3, 3, 1)
    assert q("SELECT count(*) FROM doc_labels WHERE label = 'credible'").fetchone()[0] == 5
    assert {"ORG", "GPE", "credible"} <= {lab["name"] for lab in project.labels()}
    # Full-text search finds the batched documents (FTS kept by the triggers).
    assert [r.name for r in project.document_rows(search="article 3")] == ["a3"]


def test_a_failing_document_stores_nothing(project, monkeypatch):
    monkeypatch.setattr(ingest, "_CHUNK", 2)

    def docs():
        yield from (_doc(i) for i in range(3))
        raise RuntimeError("reader failed")

    with pytest.raises(RuntimeError):
        store_documents(project, docs())
    assert project.conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 0
    assert project.conn.execute("SELECT count(*) FROM spans").fetchone()[0] == 0


def test_ids_follow_existing_rows(project):
    store_documents(project, [_doc(0)])
    with project.atomic():
        project.conn.execute("DELETE FROM claims")
        project.conn.execute("DELETE FROM spans WHERE id = (SELECT max(id) FROM spans)")
    s = store_documents(project, [_doc(1)])
    assert s.spans == 4
    ids = [r[0] for r in project.conn.execute("SELECT id FROM spans ORDER BY id")]
    assert ids == sorted(set(ids)) and len(ids) == 7


def test_document_count_follows_the_list_filters(project):
    store_documents(project, [_doc(i) for i in range(4)] + [NewDocument("Unlabelled text.", name="u")])
    with project.atomic():
        project.conn.execute("UPDATE documents SET status = 'done' WHERE name IN ('a1', 'u')")
    for kw in ({}, {"label": "credible"}, {"status": "done"}, {"status": "done", "label": "credible"},
               {"search": "article"}, {"search": "article", "label": "credible"}, {"label": "none"}):
        assert project.document_count(**kw) == len(project.document_rows(**kw)), kw
    assert project.document_count(label="credible") == 4


@given(st.text(alphabet=st.sampled_from(list("ab \t\n\r\u00a0\u2003\u2028\x0b\x0c\x1c\x85.")), max_size=40))
def test_content_hash_ignores_exactly_the_whitespace_split_ignores(text):
    import hashlib

    from storage.ingest import content_hash
    assert content_hash(text) == hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


def test_search_index_buffer_is_set_and_search_finds_every_import(project):
    """The index's write buffer is raised once (kept in the file); documents imported in several
    chunks and several imports are all found by search."""
    conn = project.conn
    store_documents(project, [_doc(i) for i in range(3)])
    buffer = "SELECT v FROM documents_fts_config WHERE k = 'hashsize'"
    assert conn.execute(buffer).fetchone()[0] == ingest._SEARCH_BUFFER
    store_documents(project, [NewDocument(f"Shelling near Palmyra, day {i}.", name=f"p{i}")
                              for i in range(4)])
    assert conn.execute(buffer).fetchall() == [(ingest._SEARCH_BUFFER,)]
    assert project.document_count(search="Palmyra") == 4
    assert project.document_count(search="fighting Homs") == 3
    # Raises when the index and the documents differ.
    conn.execute("INSERT INTO documents_fts (documents_fts, rank) VALUES ('integrity-check', 1)")
