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


# -- a folder of .spacy files (spacy-folder) ------------------------------------------------------
def merged(folder) -> bytes:
    """The folder's files merged in name order (spaCy's own DocBin.merge) as one DocBin."""
    from spacy.tokens import DocBin
    whole = spacy_docbin.new_docbin()
    for path in sorted(folder.glob("*.spacy")):
        whole.merge(DocBin(store_user_data=True).from_disk(path))
    return whole.to_bytes()


@pytest.mark.parametrize("everything", [True, False])
def test_a_folder_holds_what_the_single_file_holds_in_files_of_at_most_n_documents(
        built, tmp_path, monkeypatch, everything):
    """`spacy-folder` writes the documents in files 00001.spacy, 00002.spacy, ... of at most
    SHARD_DOCUMENTS each, which merged in name order are byte for byte the single file;
    `spacy train`'s corpus reader takes the folder as one corpus, every document's identity
    and claims kept."""
    from spacy.lang.en import English
    from spacy.training import Corpus
    project, _ = built
    monkeypatch.setattr(spacy_docbin, "SHARD_DOCUMENTS", 3)
    single = export(project, "spacy", tmp_path / "one.spacy", everything=everything)
    folder = tmp_path / "corpus"
    summary = export(project, "spacy-folder", folder, everything=everything)
    n = 4 if everything else 3
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == \
        (["00001.spacy", "00002.spacy"] if everything else ["00001.spacy"])
    assert merged(folder) == (tmp_path / "one.spacy").read_bytes()
    assert (summary.documents, summary.spans, summary.claims) == \
        (single.documents, single.spans, single.claims) and summary.documents == n
    assert f"{len(list(folder.glob('*.spacy')))} .spacy files" in summary.line()
    docs = [eg.reference for eg in Corpus(folder)(English())]
    assert [d.user_data["document_id"] for d in docs] == \
        [d.user_data["document_id"] for d in _docs_read_back((tmp_path / "one.spacy").read_bytes())]
    assert len(docs) == n and any(d.user_data["claims"] for d in docs)


def test_a_folder_export_replaces_its_earlier_self_and_never_a_users_folder(built, tmp_path,
                                                                             monkeypatch):
    project, _ = built
    monkeypatch.setattr(spacy_docbin, "SHARD_DOCUMENTS", 1)
    folder = tmp_path / "corpus"
    export(project, "spacy-folder", folder, everything=True)
    assert len(list(folder.glob("*.spacy"))) == 4
    monkeypatch.setattr(spacy_docbin, "SHARD_DOCUMENTS", 3)
    export(project, "spacy-folder", folder, everything=True)  # fewer files: none of the old left
    assert sorted(p.name for p in folder.glob("*.spacy")) == ["00001.spacy", "00002.spacy"]
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("my work", encoding="utf-8")
    with pytest.raises(spacy_docbin.ExportError, match="not empty"):
        export(project, "spacy-folder", mine, everything=True)
    assert [p.name for p in mine.iterdir()] == ["thesis.txt"]
    (folder / "notes.md").write_text("added by the user", encoding="utf-8")
    with pytest.raises(spacy_docbin.ExportError, match="notes.md"):
        export(project, "spacy-folder", folder, everything=True)
    assert (folder / "notes.md").read_text(encoding="utf-8") == "added by the user"
    assert len(list(folder.glob("*.spacy"))) == 2


def test_a_single_file_larger_than_free_memory_is_refused_and_the_folder_offered(built, tmp_path,
                                                                                  monkeypatch):
    """spaCy holds a DocBin whole while it writes it: a file that would need more memory than
    is free is refused before anything is written (the earlier file kept), naming the folder
    export, which fits in the same memory."""
    project, _ = built
    out = tmp_path / "out.spacy"
    out.write_bytes(b"the earlier export")
    chars = sum(len(t) for (t,) in project.conn.execute("SELECT text FROM documents"))
    need = chars / spacy_docbin.CHARS_PER_TOKEN * spacy_docbin.MEMORY_PER_TOKEN
    monkeypatch.setattr(spacy_docbin, "available_memory", lambda: int(need) - 1)
    with pytest.raises(spacy_docbin.ExportError, match="spacy-folder") as refused:
        export(project, "spacy", out, everything=True)
    assert "GB is free" in str(refused.value)
    assert out.read_bytes() == b"the earlier export"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no work folder left
    assert export(project, "spacy-folder", tmp_path / "corpus", everything=True).documents == 4
    monkeypatch.setattr(spacy_docbin, "available_memory", lambda: int(need) + 1)
    assert export(project, "spacy", out, everything=True).documents == 4


def test_without_a_second_look_at_the_file_the_export_goes_on_unchecked(built, tmp_path,
                                                                       monkeypatch):
    """The size is read on a connection of its own; where the file cannot be opened twice the
    export is written as before (never refused for a check it could not make)."""
    project, _ = built

    def cannot_open(*args, **kwargs):
        raise spacy_docbin.sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(spacy_docbin, "available_memory", lambda: 1)
    monkeypatch.setattr(spacy_docbin.sqlite3, "connect", cannot_open)
    assert export(project, "spacy", tmp_path / "out.spacy", everything=True).documents == 4


def test_free_memory_is_the_systems_or_a_containers_if_less(tmp_path):
    free = spacy_docbin.available_memory()
    assert free is None or free > 0
    assert spacy_docbin.available_memory(tmp_path) is None  # nothing says: nothing refused
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "meminfo").write_text(
        "MemTotal:       16000000 kB\nMemFree:         1000000 kB\nMemAvailable:    8000000 kB\n")
    assert spacy_docbin.available_memory(tmp_path) == 8_000_000 * 1024
    cgroup = tmp_path / "sys" / "fs" / "cgroup"
    cgroup.mkdir(parents=True)
    (cgroup / "memory.max").write_text("max\n")
    (cgroup / "memory.current").write_text("500000000\n")
    assert spacy_docbin.available_memory(tmp_path) == 8_000_000 * 1024  # no limit
    (cgroup / "memory.max").write_text("2000000000\n")
    assert spacy_docbin.available_memory(tmp_path) == 1_500_000_000  # the container's is less
