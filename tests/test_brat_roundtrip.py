"""brat through the project: import PolNeAR (dev, train) and export --format brat; nothing changes."""
from __future__ import annotations

from collections import Counter

import pytest

from annotation.brat import parse_ann
from storage.export import export
from storage.importer import import_paths
from storage.project import Project
from tests.conftest import shared_path


def _content(text: str, ann: str) -> tuple[Counter, Counter]:
    """The spans (label, pieces) and the attributions (parts by role) of one .ann, as multisets."""
    spans, claims, _ = parse_ann(text, ann)
    by_key = {s.key: s for s in spans}

    def pieces(key):
        if not key or key not in by_key:
            return None
        s = by_key[key]
        return tuple(map(tuple, s.fragments)) if s.fragments else ((s.start, s.end),)
    span_set = Counter((s.label, pieces(s.key)) for s in spans)
    claim_set = Counter((pieces(c.source), pieces(c.cue), pieces(c.content)) for c in claims)
    return span_set, claim_set


def test_polnear_dev_round_trips_through_the_project(project_path, tmp_path):
    gold = shared_path("polnear-dev")
    with Project(project_path) as p:
        summary = import_paths(p, [gold], fmt="brat")
        assert summary.added == 84 and summary.spans == 9095
    out = tmp_path / "brat-out"
    with Project(project_path, readonly=True) as p:
        result = export(p, "brat", out, everything=True)
    assert result.documents == 84
    compared = 0
    for txt in sorted((gold / "text").glob("*.txt")):
        text = txt.read_text(encoding="utf-8")
        # Several annotators: written as the import reads them, one .ann per annotator.
        assert (out / "text" / txt.name).read_text(encoding="utf-8") == text
        for ann in sorted((gold / "attributions").glob(f"{txt.stem}_*.ann")):
            want_spans, want_claims = _content(text, ann.read_text(encoding="utf-8"))
            written = out / "attributions" / ann.name
            got = written.read_text(encoding="utf-8") if written.exists() else ""
            got_spans, got_claims = _content(text, got)
            # Exported attributions carry an Attribution trigger span: compare the imported ones too.
            assert got_spans == want_spans, ann.name
            assert got_claims == want_claims, ann.name
        compared += 1
    assert compared == 84


@pytest.mark.slow
def test_polnear_train_imports_with_its_flaws_reported(project_path):
    train = shared_path("polnear-train")
    with Project(project_path) as p:
        summary = import_paths(p, [train], fmt="brat")
        # Two train files hold the same text: stored once, both annotations kept.
        assert summary.read == 840 and (summary.added, summary.duplicates) == (839, 1)
        # SOURCE.md: 88,051 T spans (three with a differing surface, reported; a malformed
        # line is the rest of a surface that held a line break): every one is stored.
        assert summary.spans == 88_051
        again = import_paths(p, [train], fmt="brat")
        assert (again.added, again.spans, again.claims) == (0, 0, 0)
        flaws = [s for s in summary.skipped + summary.warnings if "surface" in s or "malformed" in s]
        assert len(flaws) >= 4
        annotators = p.conn.execute("SELECT count(DISTINCT annotator) FROM spans").fetchone()[0]
        assert annotators > 1
