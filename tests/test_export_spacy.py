"""The spaCy DocBin export's economies: what spaCy reads back is the Doc the export made, the
msgpack registries' switch changes no byte, parts assembled from memory and from workers'
files make the file one process writes."""
from __future__ import annotations

import contextlib
import io
import json

import pytest

from storage.export import export, spacy_docbin
from storage.export.selection import Rows, Selection, snapshot
from tests.test_export import build


@pytest.fixture
def built(project):
    return project, build(project)


def _docs_read_back(data: bytes) -> list:
    import spacy
    from spacy.tokens import DocBin
    return list(DocBin().from_bytes(data).get_docs(spacy.blank("en").vocab))


def _doc_as_data(doc) -> dict:
    """Everything a Doc of the export holds, as plain data (user data as JSON: read back,
    msgpack gives tuples where lists were)."""
    return {
        "tokens": [(t.text, t.whitespace_) for t in doc],
        "ents": [(e.start, e.end, e.label_) for e in doc.ents],
        "iob": [t.ent_iob_ for t in doc],
        "spans": {key: [(s.start, s.end, s.start_char, s.end_char, s.label_) for s in group]
                  for key, group in doc.spans.items()},
        "cats": doc.cats,
        "user_data": json.loads(json.dumps(doc.user_data, sort_keys=True)),
    }


@pytest.mark.parametrize("everything", [True, False])
def test_spacy_reads_back_the_docs_the_export_made(built, everything):
    """The DocBin keeps ORTH, ENT_IOB and ENT_TYPE (not NORM: `spacy train` makes its own
    tokens' norms from the text), spaces, span groups, cats and user data: every document
    spaCy reads back is the Doc the export made, token for token."""
    project, _ = built
    with snapshot(project):
        rows = Rows(project, Selection(everything=everything))
        maker = spacy_docbin.DocMaker(rows)
        made = [_doc_as_data(maker.doc(d)) for d in rows.documents(claims=True)]
        f = io.BytesIO()
        spacy_docbin.DocBinParts().write_all(rows, f, lambda: None)
    back = [_doc_as_data(d) for d in _docs_read_back(f.getvalue())]
    assert back == made and len(made) == (4 if everything else 3)
    assert any(d["spans"].get("claims") for d in made) and any(d["ents"] for d in made)


def test_msgpack_registries_switch_changes_no_byte_and_is_restored(built, tmp_path, monkeypatch):
    """While a DocBin is made, srsly's registries do not search entry points (none adds a
    msgpack encoder); the file is byte for byte the one made with the search, and the
    switch is back on afterwards, also after a cancelled export."""
    import srsly
    project, _ = built
    registries = (srsly.msgpack_encoders, srsly.msgpack_decoders)
    assert all(r.entry_points for r in registries)
    seen = []

    def progress(done, total):
        seen.append([r.entry_points for r in registries])

    export(project, "spacy", tmp_path / "quiet.spacy", everything=True, progress=progress)
    assert seen and all(s == [False, False] for s in seen)
    assert all(r.entry_points for r in registries)
    monkeypatch.setattr(spacy_docbin, "msgpack_registries_without_plugins", contextlib.nullcontext)
    seen.clear()
    export(project, "spacy", tmp_path / "searching.spacy", everything=True, progress=progress)
    assert seen and all(s == [True, True] for s in seen)
    assert (tmp_path / "quiet.spacy").read_bytes() == (tmp_path / "searching.spacy").read_bytes()
    monkeypatch.undo()

    def cancel(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export(project, "spacy", tmp_path / "cancelled.spacy", everything=True, progress=cancel)
    assert all(r.entry_points for r in registries)


def test_a_registry_with_a_plugin_keeps_searching(monkeypatch):
    """A package that adds a msgpack encoder by entry point keeps it: that registry's switch
    is left on (the other, with nothing to find, is turned off)."""
    import srsly
    monkeypatch.setattr(srsly.msgpack_encoders, "get_entry_points", lambda: {"plugin": object()})
    with spacy_docbin.msgpack_registries_without_plugins():
        assert srsly.msgpack_encoders.entry_points is True
        assert srsly.msgpack_decoders.entry_points is False
    assert srsly.msgpack_encoders.entry_points is True and srsly.msgpack_decoders.entry_points is True


def test_parts_from_memory_and_from_files_assemble_to_the_one_process_file(built, tmp_path):
    """This process keeps the parts it makes in memory, workers write theirs to files: merged
    in order (DocBin.merge), they are the bytes one process writes (one document a part)."""
    project, _ = built
    writer = spacy_docbin.DocBinParts()
    with snapshot(project):
        rows = Rows(project, Selection(everything=True))
        whole = io.BytesIO()
        writer.write_all(rows, whole, lambda: None)
        parts = []
        for n, doc_id in enumerate(rows.document_ids()):
            part = rows.part(doc_id, doc_id)
            if n % 2:
                path = tmp_path / f"{n}.part"
                writer.write_file(part, path, lambda: None)
                parts.append(path)
            else:
                parts.append(writer.make_part(part, lambda: None)[0])
        assembled = io.BytesIO()
        writer.assemble(parts, assembled)
    assert len(parts) == 4 and assembled.getvalue() == whole.getvalue()
    assert list(tmp_path.glob("*.part")) == []  # each worker's file removed once merged


def test_a_large_docbin_says_what_it_took(built, tmp_path, monkeypatch):
    """spaCy writes a DocBin whole in memory: an export large enough for that to matter says
    about how much it took, in its summary line; a small one says nothing of it."""
    project, _ = built
    small = export(project, "spacy", tmp_path / "small.spacy", everything=True)
    assert small.remarks == [] and "note:" not in small.line()
    monkeypatch.setattr(spacy_docbin, "REMARK_FROM", 1)
    large = export(project, "spacy", tmp_path / "large.spacy", everything=True)
    assert len(large.remarks) == 1 and "whole in memory" in large.line()
    tokens = sum(len(d) for d in _docs_read_back((tmp_path / "large.spacy").read_bytes()))
    assert f"{tokens:,} tokens" in large.remarks[0]
