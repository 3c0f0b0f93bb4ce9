"""brat exports keep annotators apart: an article several annotators annotated is written as one
NAME_ANNOTATOR.ann each, in the layout the brat import reads, so a PolNeAR folder round-trips."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from annotation.model import ClaimRecord, NewDocument, SpanRecord
from storage.export import export
from storage.export.brat import annotator_file_part
from storage.ingest import store_documents
from storage.project import Project
from tests.conftest import shared_path
from tests.reliability.conftest import run_cli


def _by_annotator(path: Path) -> dict[str, Counter]:
    """Per document name: every span as (annotator, label, start, end, fragments) and every
    claim as (annotator, its parts' offsets), as multisets."""
    with Project(path, readonly=True) as p:
        out: dict[str, Counter] = {}
        for name, annotator, label, start, end, fragments in p.conn.execute(
                "SELECT d.name, s.annotator, s.label, s.start, s.\"end\", s.fragments FROM spans s"
                " JOIN documents d ON d.id = s.document_id"):
            frags = tuple(map(tuple, json.loads(fragments))) if fragments else None
            out.setdefault(name, Counter())[("span", annotator, label, start, end, frags)] += 1
        for name, annotator, *parts in p.conn.execute(
                "SELECT d.name, c.annotator, sc.start, sc.\"end\", su.start, su.\"end\","
                " ss.start, ss.\"end\" FROM claims c JOIN documents d ON d.id = c.document_id"
                " LEFT JOIN spans sc ON sc.id = c.content_span_id"
                " LEFT JOIN spans su ON su.id = c.cue_span_id"
                " LEFT JOIN spans ss ON ss.id = c.source_span_id"):
            out.setdefault(name, Counter())[("claim", annotator, *parts)] += 1
        return out


def test_polnear_dev_round_trips_per_annotator_through_the_command_line(tmp_path):
    gold = shared_path("polnear-dev")
    first, second = tmp_path / "first.credence", tmp_path / "second.credence"
    out = tmp_path / "brat"
    imported = run_cli("import", first, gold, "--format", "brat", timeout=300)
    assert imported.returncode == 0, imported.stderr
    exported = run_cli("export", first, "--format", "brat", "--out", out, "--all", timeout=300)
    assert exported.returncode == 0, exported.stderr
    assert "several annotators" in exported.stdout
    assert sorted(p.name for p in (out / "text").iterdir()) == \
        sorted(p.name for p in (gold / "text").iterdir())
    gold_anns = {p.name for p in (gold / "attributions").iterdir() if p.stat().st_size}
    assert gold_anns <= {p.name for p in (out / "attributions").iterdir()}
    again = run_cli("import", second, out, "--format", "brat", timeout=300)
    assert again.returncode == 0, again.stderr
    want, got = _by_annotator(first), _by_annotator(second)
    assert len(want) == 84 and len({a for c in want.values() for _, a, *_ in c}) > 2
    # The export adds an Attribution trigger span (a copy of the cue) to claims without one.
    for name in want:
        extra = got[name] - want[name]
        assert want[name] - got[name] == Counter(), name
        assert all(kind == "span" and label == "Attribution" for kind, _a, label, *_ in extra), name


def test_one_annotator_per_document_stays_flat_and_names_fit_files(project, tmp_path):
    """Without several annotators on one article the folder stays NAME.txt + NAME.ann (what
    the brat tool shows); with them, annotator names become file-name parts without '_'."""
    text = "Officials said the crossing would reopen."
    spans = [SpanRecord(0, 9, "Source", origin="import", status="accepted", annotator="ann_1", key="s"),
             SpanRecord(10, 14, "Cue", origin="import", status="accepted", annotator="ann_1", key="c"),
             SpanRecord(15, 40, "Content", origin="import", status="accepted", annotator="ann_1", key="t")]
    claim = ClaimRecord(content="t", cue="c", source="s", origin="import", status="accepted",
                        annotator="ann_1")
    store_documents(project, [NewDocument(text, name="one", spans=spans, claims=[claim])],
                    normalise_default=False)
    flat = tmp_path / "flat"
    export(project, "brat", flat, everything=True)
    assert sorted(p.name for p in flat.iterdir()) == [".credence-export", "annotation.conf",
                                                       "one.ann", "one.txt"]
    doc_id = project.conn.execute("SELECT id FROM documents").fetchone()[0]
    with project.atomic():
        project.conn.execute(
            "INSERT INTO spans (document_id, start, \"end\", label, origin, status, annotator,"
            " created_at, updated_at) VALUES (?, 19, 27, 'FAC', 'analyst', 'accepted', 'maya', '', '')",
            (doc_id,))
        # A suggestion names no annotator: it is nobody's version, it goes with the named ones.
        project.conn.execute(
            "INSERT INTO spans (document_id, start, \"end\", label, origin, status,"
            " created_at, updated_at) VALUES (?, 28, 34, 'DATE', 'model', 'suggested', '', '')",
            (doc_id,))
    split = tmp_path / "split"
    summary = export(project, "brat", split, everything=True)
    assert sorted(p.name for p in (split / "attributions").iterdir()) == \
        ["one_ann-1.ann", "one_maya.ann", "one_unattributed.ann"]
    assert (split / "text" / "one.txt").read_text(encoding="utf-8") == text
    assert "E1\t" in (split / "attributions" / "one_ann-1.ann").read_text(encoding="utf-8")
    assert any("annotator names changed" in n for n in summary.not_represented)
    assert annotator_file_part("4e07") == "4e07" and annotator_file_part("a/b c") == "a-b-c"
    # The import reads the layout back: each annotator's spans under the name in the file.
    imported = run_cli("import", tmp_path / "back.credence", split, "--format", "brat")
    assert imported.returncode == 0, imported.stderr
    with Project(tmp_path / "back.credence", readonly=True) as back:
        assert dict(back.conn.execute("SELECT annotator, count(*) FROM spans GROUP BY annotator")) \
            == {"ann-1": 4, "maya": 1, "unattributed": 1}  # with the claim's Attribution trigger
