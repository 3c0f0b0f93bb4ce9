"""The source registry on the demo project (issue 13, item 4): its size, the migration of a registry
filled the old way, and how long the registry dialog takes to open.

    .venv/bin/python bench/bench_sources.py [--demo PATH]     (offscreen; prints figures in ms)

The demo (seed article + FA-KES, pre-annotated) is built once into bench/out/ (about 2 minutes).
Figures:
- registry entries after pre-annotation, now (names the model proposed wait on their claims);
- the registry the old way: every proposed name registered, as pre-annotation did before schema 2;
  then migrated (`storage/schema.py`, migration 2);
- opening the dialog (shown with its rows) and the suggested merges ready, on the demo as it is,
  and on a registry as big as it gets (every claim of the demo accepted), against a baseline
  measured in the same run: the same rows put in a QTableWidget one item per cell (how the
  dialog filled its table before) and plain SQL reads of the rows.
Target: the dialog on screen in under 100 ms.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from storage.project import Project  # noqa: E402
from storage.review import Review, find_or_create_source  # noqa: E402
from storage.sources import candidate_names, registry_entries  # noqa: E402

RUNS = 7


def demo(path: Path) -> Path:
    if not path.exists():
        from storage.demo import build_demo
        print("building the demo project once (seed article + FA-KES, pre-annotated)…", flush=True)
        print(build_demo(path))
    return path


def count(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT count(*) FROM sources").fetchone()[0]
    finally:
        conn.close()


def old_way(src: Path, dst: Path) -> None:
    """The registry as pre-annotation filled it before: every proposed name an entry, linked, at
    schema 1 (the file the old code wrote)."""
    shutil.copy(src, dst)
    with Project(dst) as p, p.atomic():
        rows = p.conn.execute(
            "SELECT c.id, substr(d.text, s.start + 1, s.\"end\" - s.start) FROM claims c"
            " JOIN spans s ON s.id = c.source_span_id JOIN documents d ON d.id = c.document_id"
            " ORDER BY c.id").fetchall()
        for cid, text in rows:
            p.conn.execute("UPDATE claims SET source_id = ? WHERE id = ?",
                           (find_or_create_source(p, text), cid))
    conn = sqlite3.connect(dst)
    conn.executescript("DROP TABLE source_not_same; UPDATE meta SET value = '1' WHERE key = "
                       "'schema_version'; PRAGMA user_version = 1;")
    conn.close()


def accept_everything(src: Path, dst: Path) -> None:
    shutil.copy(src, dst)
    with Project(dst) as p:
        review = Review(p)
        ids = [r[0] for r in p.conn.execute("SELECT id FROM claims WHERE status = 'suggested'")]
        with review.decision("accept every claim"):
            for cid in ids:
                review.accept_claim(cid)


def accept_some(src: Path, dst: Path, n_docs: int) -> None:
    """An analyst's first days: every claim of the first `n_docs` articles accepted."""
    shutil.copy(src, dst)
    with Project(dst) as p:
        review = Review(p)
        ids = [r[0] for r in p.conn.execute(
            "SELECT id FROM claims WHERE status = 'suggested' AND document_id IN"
            " (SELECT id FROM documents ORDER BY id LIMIT ?)", (n_docs,))]
        with review.decision("accept claims"):
            for cid in ids:
                review.accept_claim(cid)


def spread(values: list[float]) -> str:
    v = sorted(values)
    return f"median {statistics.median(v):6.1f}  min {v[0]:6.1f}  max {v[-1]:6.1f}"


def time_dialog(app, path: Path) -> tuple[list[float], list[float], int, int]:
    from ui.sources_dialog import SourcesDialog
    opened, ready = [], []
    with Project(path) as p:
        review = Review(p)
        for _ in range(RUNS):
            t0 = time.perf_counter()
            d = SourcesDialog(None, p, review)
            d.show()
            d.repaint()             # on screen with its rows; the suggestions' timer is queued
            t1 = time.perf_counter()
            while d._suggestions_stale:
                app.processEvents()
            t2 = time.perf_counter()
            opened.append((t1 - t0) * 1000)
            ready.append((t2 - t0) * 1000)
            rows, n_sugg = d.model.rowCount(), len(d.suggestions())
            d.close()
            d.deleteLater()
            app.processEvents()
    return opened, ready, rows, n_sugg


def time_baseline(app, path: Path) -> tuple[list[float], list[float]]:
    """The same rows one QTableWidgetItem per cell (the dialog's old table), and plain SQL."""
    from PySide6.QtWidgets import QTableWidget, QTableWidgetItem
    widget_ms, sql_ms = [], []
    with Project(path, readonly=True) as p:
        for _ in range(RUNS):
            t0 = time.perf_counter()
            rows = p.conn.execute("SELECT id, name, aliases, reliability, note FROM sources"
                                  " ORDER BY name").fetchall()
            dict(p.conn.execute("SELECT source_id, count(*) FROM claims WHERE source_id IS NOT NULL"
                                " GROUP BY source_id").fetchall())
            sql_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            table = QTableWidget(len(rows), 5)
            table.setSortingEnabled(False)
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    table.setItem(r, c, QTableWidgetItem(str(value or "")))
            table.setSortingEnabled(True)
            table.resize(700, 400)
            table.show()
            app.processEvents()
            widget_ms.append((time.perf_counter() - t0) * 1000)
            table.close()
            table.deleteLater()
            app.processEvents()
    return widget_ms, sql_ms


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--demo", type=Path, default=ROOT / "bench" / "out" / "demo.credence")
    args = ap.parse_args()
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication([])
    base = demo(args.demo)
    tmp = Path(tempfile.mkdtemp(prefix="credence-bench-sources-"))
    with Project(base, readonly=True) as p:
        n_claims = p.conn.execute("SELECT count(*) FROM claims").fetchone()[0]
        n_docs = p.conn.execute("SELECT count(*) FROM documents").fetchone()[0]
        cands = candidate_names(p)
    print(f"demo: {n_docs} articles, {n_claims} claims, {count(base)} registry entries after "
          f"pre-annotation; {len(cands)} distinct candidate names on suggested claims")

    old = tmp / "old.credence"
    old_way(base, old)
    before = count(old)
    t0 = time.perf_counter()
    with Project(old) as p:   # opening for writing migrates
        after = len(registry_entries(p))
    print(f"old way: {before} registry entries; migrated: {after} "
          f"(migration + open {(time.perf_counter() - t0) * 1000:.0f} ms)")

    some = tmp / "some.credence"
    accept_some(base, some, 100)
    everything = tmp / "all.credence"
    accept_everything(base, everything)
    for label, path in (("demo as pre-annotated", base),
                        ("claims of 100 articles accepted", some),
                        ("every claim accepted", everything)):
        work = tmp / f"work-{label[:5]}.credence"
        shutil.copy(path, work)
        opened, ready, rows, n_sugg = time_dialog(app, work)
        print(f"{label}: {rows} sources, {n_sugg} suggested merges")
        print(f"  dialog on screen        {spread(opened)} ms")
        print(f"  suggestions ready       {spread(ready)} ms")
        if rows:
            widget_ms, sql_ms = time_baseline(app, work)
            print(f"  baseline: QTableWidget {spread(widget_ms)} ms  (dialog/baseline "
                  f"{statistics.median(opened) / statistics.median(widget_ms):.2f})")
            print(f"  baseline: plain SQL    {spread(sql_ms)} ms")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
