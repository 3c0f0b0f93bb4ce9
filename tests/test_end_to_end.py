"""End to end as an analyst works: the seed article and all of FA-KES, import to export and back."""
from __future__ import annotations

import json
import re

import pytest

from storage.export import export
from storage.importer import import_paths
from storage.preannotate import annotate
from storage.project import Project
from storage.review import Review
from tests.conftest import shared_path

FAKES_MAPPING = dict(fmt="csv", text_column="article_content", title_column="article_title",
                     meta_columns=["source", "date", "location", "labels"])


def _collapse(s: str) -> str:
    return re.sub(r"\s+", " ", s)


def test_seed_article_import_review_export_read_back(project_path, tmp_path, nlp):
    from annotation.normalise import to_raw
    seed = shared_path("seed", "homs-offensive.txt")
    with Project(project_path) as p:
        summary = import_paths(p, [seed])
        assert summary.added == 1
        doc = p.document(1)
        assert doc.name == "homs-offensive"
        # Normalised: the repeated paragraph and the page footer are gone.
        assert doc.text.count("National Defense Army") == 1
        assert "Comments About This Article" not in doc.text
        assert "Please fill the fields below." not in doc.text
        annotate(p, nlp=nlp)
        spans = p.spans(1)
        assert len(spans) > 30
        # Every span maps back to the raw text.
        for s in spans:
            rs, re_ = to_raw(doc.offset_map, s.start, s.end)
            assert _collapse(doc.raw_text[rs:re_]) == _collapse(doc.text[s.start:s.end])
        review = Review(p)
        entities = [s for s in spans if s.label not in ("Source", "Cue", "Content")]
        review.accept([entities[0].id, entities[1].id])
        review.reject([entities[2].id])
        review.relabel(entities[3].id, "GPE")
        review.set_document_status(1, "done", resolve="reject")
        stored = {s.id: (s.start, s.end, s.label, s.status) for s in p.spans(1)}
    out = tmp_path / "seed.jsonl"
    with Project(project_path, readonly=True) as p:
        result = export(p, "prodigy", out, everything=True)
        text = p.document(1).text
        not_rejected = [v for v in stored.values() if v[3] != "rejected"]
        [line] = out.read_text().splitlines()
        rec = json.loads(line)
        assert rec["text"] == text
        got = sorted((s["start"], s["end"], s["label"]) for s in rec["spans"])
        assert got == sorted((a, b, lab) for a, b, lab, _ in not_rejected)
        out2 = tmp_path / "reviewed.jsonl"
        export(p, "prodigy", out2)  # by default: what the analyst decided
        rec2 = json.loads(out2.read_text())
        accepted = sorted((a, b, lab) for a, b, lab, st in stored.values() if st == "accepted")
        assert sorted((s["start"], s["end"], s["label"]) for s in rec2["spans"]) == accepted
        assert len(accepted) == 3
    assert result.documents == 1


@pytest.mark.slow
def test_fakes_import_annotate_export_counts(project_path, tmp_path, nlp):
    csv_path = shared_path("fa-kes", "FA-KES-Dataset.csv")
    with Project(project_path) as p:
        s = import_paths(p, [csv_path], **FAKES_MAPPING)
        assert (s.read, s.added, s.duplicates) == (804, 789, 15)
        assert import_paths(p, [csv_path], **FAKES_MAPPING).added == 0
        labels = dict(p.conn.execute("SELECT label, count(*) FROM doc_labels GROUP BY label").fetchall())
        assert sum(labels.values()) == 789 and set(labels) == {"credible", "not credible"}
        annotate(p, nlp=nlp, claims=False, n_process=1, batch_size=128)
        n_spans = p.conn.execute("SELECT count(*) FROM spans WHERE status != 'rejected'").fetchone()[0]
        assert n_spans > 789 * 10
    out = tmp_path / "fakes.jsonl"
    with Project(project_path, readonly=True) as p:
        export(p, "doccano", out, everything=True)
    lines = [json.loads(ln) for ln in out.read_text().splitlines()]
    assert len(lines) == 789
    assert sum(len(r["label"]) for r in lines) == n_spans
