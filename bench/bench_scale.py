"""Scale: build, open, switch, search, filter, export and memory at 1,000 / 10,000 / 100,000 articles.

    .venv/bin/python bench/bench_scale.py [--sizes 1000,10000,100000] [--rebuild]
                                          [--no-compare] [--token-export-max N]

Projects are varied copies of the 804 FA-KES articles (bench/_fakes.py: other titles, dates,
a dateline and shuffled sentences, so every content hash differs) with the real model's
entities (~42 an article, NER run once and cached) and ~2.5 claims an article (Source / Cue /
Content spans + claims rows). Each project is built once and cached under bench/out/ with its
build figures; --rebuild builds again. The read-side figures are measured in a fresh child
process per size (so its RSS is that of one process holding one project). The page cache is
warm (the file was just built or read): a first open after a reboot is slower.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _fakes import OUT, fakes_entities, fakes_rows, varied_documents  # noqa: E402

PAGE = 100  # rows the list fetches at a time (a windowed model: first page + total count)
QUERIES = ("chemical attack", "Syrian army", "Russian airstrikes", "rebels Idlib")
# Measured on this class of machine (issue 6): (import 804, import 8,040, export 804, export 8,040).
COMPARE_RUNS = 5  # imports and exports of each size, in fresh projects: their median is compared
OTHERS = {"Label Studio 1.23.2": (2.15, 19.8, 1.04, 12.8), "doccano 1.8.4": (4.75, 42.8, 4.02, 34.2)}
# The export format each tool's own figure is for: compare like with like.
OTHER_FORMAT = {"Label Studio 1.23.2": "labelstudio", "doccano 1.8.4": "doccano"}


def _rm(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def _rss_mb(field: str = "VmRSS") -> float:
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak_rss() -> bool:
    """Start measuring the peak RSS afresh (Linux: clear_refs 5 resets VmHWM)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


# -- build ----------------------------------------------------------------------------------------
def build(n: int, model: str, rows, ents) -> dict:
    """Build the n-article project with Credence and time a bare insert_all of the same rows."""
    from storage.ingest import store_documents
    from storage.project import Project
    path = OUT / f"scale-{n}.credence"
    base = OUT / f"scale-{n}-baseline.credence"
    _rm(path)
    _rm(base)
    t = time.perf_counter()
    docs = list(varied_documents(n, model, rows, ents))
    gen = time.perf_counter() - t
    t = time.perf_counter()
    with Project(path) as project:
        summary = store_documents(project, docs, imported_from="bench")
        credence = time.perf_counter() - t
        assert summary.added == n, summary.line()
        del docs
        tables = _read_back(project)
        _review_some(project, n)
    # The baseline: the very rows Credence stored, into the same schema (same indexes, the
    # same FTS5 triggers, WAL), with sqlite-utils insert_all in one transaction, nothing else.
    Project(base).close()
    import sqlite_utils
    db = sqlite_utils.Database(base)
    t = time.perf_counter()
    with db.atomic():
        for name, table_rows in tables.items():
            db[name].insert_all(table_rows)
    bare = time.perf_counter() - t
    db.close()
    _rm(base)
    fig = {"n": n, "build_s": credence, "bare_s": bare, "generate_s": gen,
           "spans": summary.spans, "claims": summary.claims,
           "file_mb": path.stat().st_size / 2**20, "built_at": time.strftime("%Y-%m-%d %H:%M")}
    (OUT / f"scale-{n}.json").write_text(json.dumps(fig))
    return fig


def _read_back(project) -> dict[str, list[dict]]:
    out = {}
    for table in ("documents", "doc_labels", "spans", "claims"):
        cur = project.conn.execute(f"SELECT * FROM {table} ORDER BY rowid")
        cols = [d[0] for d in cur.description]
        out[table] = [dict(zip(cols, r)) for r in cur]
    return out


def _review_some(project, n: int) -> None:
    """A project in use: 10 % of the articles in review, 3 % done (for the status filters)."""
    rng = random.Random(n)
    ids = rng.sample(range(1, n + 1), k=n * 13 // 100)
    cut = n * 10 // 100
    with project.atomic():
        project.conn.executemany("UPDATE documents SET status = 'in review' WHERE id = ?",
                                 [(i,) for i in ids[:cut]])
        project.conn.executemany("UPDATE documents SET status = 'done' WHERE id = ?",
                                 [(i,) for i in ids[cut:]])


def cached_or_build(n: int, rebuild: bool, model: str, rows, ents) -> dict:
    from storage.project import Project, ProjectError
    path, meta = OUT / f"scale-{n}.credence", OUT / f"scale-{n}.json"
    if not rebuild and path.exists() and meta.exists():
        try:
            Project(path, readonly=True).close()  # a schema change makes the cache stale
            return {**json.loads(meta.read_text()), "cached": True}
        except ProjectError as exc:
            print(f"  cache {path.name} is stale ({exc}); building again", flush=True)
    return build(n, model, rows, ents)


# -- the app's read side, in a fresh process ----------------------------------------------------------
def probe(path: Path, n: int) -> dict:
    """Open, first page, switch, search, filter, RSS: what a person opening the project meets."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from storage.project import Project
    out: dict = {"rss_start_mb": _rss_mb()}
    t = time.perf_counter()
    project = Project(path)
    first = project.document_rows(limit=PAGE)
    total = project.document_count()
    out["open_s"] = time.perf_counter() - t
    assert len(first) == min(PAGE, n) and total == n

    rng = random.Random(1)
    ids = [rng.randint(1, n) for _ in range(310)]

    def switch(doc_id: int) -> None:
        project.document(doc_id)
        project.spans(doc_id)
        project.claims(doc_id)
        project.doc_labels(doc_id)

    out["switch_ms"] = _timed(switch, ids)

    def search(q: str) -> None:
        project.document_rows(search=q, limit=PAGE)
        project.document_count(search=q)

    out["search_ms"] = {q: _best(lambda q=q: search(q)) for q in QUERIES}
    out["search_hits"] = {q: project.document_count(search=q) for q in QUERIES}
    filters = {f"status={s}": {"status": s} for s in ("new", "in review", "done")}
    filters.update({f"label={lab}": {"label": lab} for lab in ("credible", "not credible")})

    def filt(kw: dict) -> None:
        project.document_rows(limit=PAGE, **kw)
        project.document_count(**kw)

    out["filter_ms"] = {k: _best(lambda kw=kw: filt(kw)) for k, kw in filters.items()}
    out["rss_project_mb"] = _rss_mb()

    from annotation.pipeline import load_model
    load_model()
    out["rss_model_mb"] = _rss_mb()
    out.update(_probe_ui(project, ids))
    project.close()
    return out


def _probe_ui(project, ids: list[int]) -> dict:
    """The app's own widgets, offscreen, where they exist yet."""
    import importlib.util
    out: dict = {}
    if importlib.util.find_spec("PySide6") is None:
        return out
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication([])
    if importlib.util.find_spec("ui.main_window") is not None:
        try:
            from ui import main_window
            t = time.perf_counter()
            win = _make_main_window(main_window, project)
            app.processEvents()
            out["window_open_s"] = time.perf_counter() - t
            out["rss_window_mb"] = _rss_mb()
            win.close()
        except Exception as exc:  # the window is being written by others: report, do not fail
            out["window_error"] = f"{type(exc).__name__}: {exc}"
    if importlib.util.find_spec("ui.article_view") is not None:
        from ui.article_view import ArticleView
        view = ArticleView()
        view.set_colours(project.labels())
        view.resize(900, 700)
        view.show()

        def show(doc_id: int) -> None:
            doc = project.document(doc_id)
            view.show_document(doc.text, project.spans(doc_id))
            project.claims(doc_id)
            app.processEvents()

        out["switch_view_ms"] = _timed(show, ids)
        out["rss_view_mb"] = _rss_mb()
    return out


def _make_main_window(module, project):
    cls = module.MainWindow
    try:
        win = cls(project=project)
    except TypeError:
        win = cls()
        for name in ("set_project", "open_project", "load_project"):
            if hasattr(win, name):
                getattr(win, name)(project)
                break
    win.show()
    return win


def _timed(fn, args) -> dict:
    for a in args[:10]:  # warm the statement cache
        fn(a)
    times = []
    for a in args[10:]:
        t = time.perf_counter()
        fn(a)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return {"p50": statistics.median(times), "p95": times[int(len(times) * 0.95) - 1], "max": times[-1]}


def _best(fn, repeat: int = 3) -> float:
    """The first (coldest) of a few runs: a person types a query once."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return times[0]


def run_probe(path: Path, n: int) -> dict:
    res = subprocess.run([sys.executable, __file__, "--probe", str(path), "--probe-n", str(n)],
                         capture_output=True, text=True, cwd=ROOT)
    if res.returncode != 0:
        raise SystemExit(f"probe of {path} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


# -- export ---------------------------------------------------------------------------------------
def bare_dump(path: Path, out: Path) -> float:
    """The floor: every document with its spans as one JSON line, straight from two cursors."""
    import sqlite3
    t = time.perf_counter()
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    spans = conn.execute('SELECT document_id, start, "end", label FROM spans'
                         " WHERE status != 'rejected' ORDER BY document_id, start")
    nxt = next(spans, None)
    with open(out, "w", encoding="utf-8") as f:
        for doc_id, text in conn.execute("SELECT id, text FROM documents ORDER BY id"):
            mine = []
            while nxt is not None and nxt[0] == doc_id:
                mine.append(nxt[1:])
                nxt = next(spans, None)
            f.write(json.dumps({"id": doc_id, "text": text, "spans": mine}, ensure_ascii=False) + "\n")
    conn.close()
    return time.perf_counter() - t


def rows_dump(path: Path, out: Path) -> float:
    """The baseline issue 2 names (as bench/bench_export.py): every document and span row as
    sqlite-utils gives them, written as JSON lines."""
    import sqlite_utils
    t = time.perf_counter()
    import sqlite3
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    db = sqlite_utils.Database(conn, execute_plugins=False)
    with open(out, "w", encoding="utf-8") as f:
        for table in ("documents", "spans"):
            for row in db[table].rows:
                f.write(json.dumps(row, ensure_ascii=False))
                f.write("\n")
    conn.close()
    return time.perf_counter() - t


def cold_tokenizer() -> None:
    """Forget the export tokenizer, its vocabulary and encoded strings: the next token export
    pays what the first one of a session pays."""
    from storage.export.tokens import blank_english
    blank_english.cache_clear()


def tokenize_floor(path: Path) -> float:
    """What any token-level export must add to the dump: spaCy's tokenizer over every text
    (the tokenizer made before the clock starts, its cache and vocabulary empty)."""
    import sqlite3

    from storage.export.tokens import blank_english
    cold_tokenizer()
    tokenizer = blank_english().tokenizer
    t = time.perf_counter()
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    for _doc in tokenizer.pipe(r[0] for r in conn.execute("SELECT text FROM documents ORDER BY id")):
        pass
    conn.close()
    return time.perf_counter() - t


class _WorkerWatch:
    """Each export worker's peak RSS, read from /proc just before it is stopped."""

    def __init__(self) -> None:
        from storage.export import parallel
        self.peaks: list[float] = []
        self._cls = parallel._Worker
        self._stop = self._cls.stop
        watch = self

        def stop(worker, kill: bool = False) -> None:
            try:
                for line in open(f"/proc/{worker.proc.pid}/status"):
                    if line.startswith("VmHWM:"):
                        watch.peaks.append(int(line.split()[1]) / 1024)
            except OSError:
                pass
            watch._stop(worker, kill)

        self._cls.stop = stop

    def close(self) -> None:
        self._cls.stop = self._stop


def _cpu_s() -> float:
    """CPU time of this process and its finished children (export workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def time_exports(path: Path, fmts: list[str]) -> dict:
    from storage.export import export
    from storage.project import Project
    res = {"bare_dump_s": bare_dump(path, OUT / "bare.jsonl"),
           "rows_dump_s": rows_dump(path, OUT / "bare.jsonl")}
    if "prodigy" in fmts:
        res["tokenize_s"] = tokenize_floor(path)
    with Project(path, readonly=True) as project:
        for fmt in fmts:
            out = OUT / f"export.{fmt}"
            # The baseline again just before: on a shared machine the load changes in minutes.
            cpu = _cpu_s()
            res[f"{fmt}_dump_s"] = rows_dump(path, OUT / "bare.jsonl")
            res[f"{fmt}_dump_cpu_s"] = _cpu_s() - cpu
            res[f"{fmt}_load"] = os.getloadavg()[0]  # CPU time means more than wall time when high
            cold_tokenizer()  # each export as the first of a session (the tokenizer made in it)
            import gc
            gc.collect()
            before = _rss_mb()
            peak = _reset_peak_rss()
            workers = _WorkerWatch()
            cpu = _cpu_s()
            t = time.perf_counter()
            try:
                export(project, fmt, out, everything=True)
            finally:
                workers.close()
            res[f"{fmt}_s"] = time.perf_counter() - t
            res[f"{fmt}_cpu_s"] = _cpu_s() - cpu
            res[f"{fmt}_workers"] = len(workers.peaks)
            res[f"{fmt}_worker_peak_mb"] = max(workers.peaks, default=0.0)
            if peak:
                res[f"{fmt}_peak_mb"] = max(0.0, _rss_mb("VmHWM") - before)
            if out.is_dir():
                shutil.rmtree(out)
            else:
                out.unlink(missing_ok=True)
    (OUT / "bare.jsonl").unlink(missing_ok=True)
    return res


# -- the comparison with Label Studio and doccano ----------------------------------------------------
def compare(rows, model: str, ents) -> dict:
    """Import the FA-KES CSV (804 rows, and 8,040 varied rows) and export it, as a user would."""
    import csv

    from _fakes import FAKES_CSV

    from storage.demo import FAKES_MAPPING
    from storage.export import export
    from storage.importer import import_paths
    from storage.project import Project
    big = OUT / "fakes-8040.csv"
    if not big.exists():
        with open(big, "w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
            w.writeheader()
            for d in varied_documents(len(rows) * 10, model, rows, ents, spans=False):
                src = rows[d.meta["row"]]
                w.writerow({**src, "article_title": d.title, "article_content": d.raw_text,
                            "date": d.date})
    res = {}
    for n, csv_path in ((len(rows), FAKES_CSV), (len(rows) * 10, big)):
        path = OUT / f"compare-{n}.credence"
        times: dict[str, list[float]] = {}
        for _ in range(COMPARE_RUNS):  # each a new project: the median, as the VM is noisy
            _rm(path)
            t = time.perf_counter()
            with Project(path) as project:
                summary = import_paths(project, [csv_path], fmt="csv", **FAKES_MAPPING)
            times.setdefault("import", []).append(time.perf_counter() - t)
            res[f"import_{n}_added"] = summary.added
            with Project(path, readonly=True) as project:
                for fmt in ("labelstudio", "doccano"):
                    t = time.perf_counter()
                    export(project, fmt, OUT / f"compare.{fmt}", everything=True)
                    times.setdefault(fmt, []).append(time.perf_counter() - t)
                    (OUT / f"compare.{fmt}").unlink(missing_ok=True)
        _rm(path)
        res[f"import_{n}_s"] = statistics.median(times["import"])
        res[f"import_{n}_range"] = (min(times["import"]), max(times["import"]))
        for fmt in ("labelstudio", "doccano"):
            res[f"export_{n}_{fmt}_s"] = statistics.median(times[fmt])
    return res


# -- report ---------------------------------------------------------------------------------------
def _f(x: float | None, unit: str = "s") -> str:
    if x is None:
        return "—"
    if unit == "ms":
        return f"{x:.1f} ms"
    if unit == "MB":
        return f"{x:.0f} MB"
    return f"{x:.2f} s" if x < 100 else f"{x:.0f} s"


def report(results: dict[int, dict], cmp: dict | None) -> str:
    sizes = sorted(results)
    head = ["figure"] + [f"{n:,}" for n in sizes] + ["target"]
    table: list[list[str]] = []

    def row(name: str, get, target: str = "") -> None:
        vals = []
        for n in sizes:
            try:
                vals.append(get(results[n]))
            except (KeyError, TypeError, ZeroDivisionError):
                vals.append("—")
        table.append([name] + vals + [target])

    row("1. build: Credence store_documents", lambda r: _f(r["build"]["build_s"])
        + (" (cached)" if r["build"].get("cached") else ""))
    row("   bare insert_all, same rows", lambda r: _f(r["build"]["bare_s"]))
    row("   ratio", lambda r: f"{r['build']['build_s'] / r['build']['bare_s']:.2f}×", "≤ 1.5×")
    row("   spans / claims stored", lambda r: f"{r['build']['spans']:,} / {r['build']['claims']:,}")
    row("   file size", lambda r: _f(r["build"]["file_mb"], "MB"))
    row("2. open until list usable", lambda r: _f(r["probe"]["open_s"] * 1000, "ms"), "≤ 500 ms")
    row("   main window open", lambda r: _f(r["probe"]["window_open_s"] * 1000, "ms"), "≤ 500 ms")
    row("   switch article p50 (core)", lambda r: _f(r["probe"]["switch_ms"]["p50"], "ms"))
    row("   switch article p95 (core)", lambda r: _f(r["probe"]["switch_ms"]["p95"], "ms"), "≤ 30 ms")
    row("   switch p95 with ArticleView", lambda r: _f(r["probe"]["switch_view_ms"]["p95"], "ms"),
        "≤ 30 ms")
    row("   search, 2 words (worst query)", lambda r: _f(max(r["probe"]["search_ms"].values()), "ms"),
        "≤ 50 ms")
    row("   search hits (worst query)", lambda r: f"{max(r['probe']['search_hits'].values()):,}")
    row("   filter by status (worst)", lambda r: _f(max(v for k, v in r["probe"]["filter_ms"].items()
                                                        if k.startswith("status")), "ms"), "≤ 100 ms")
    row("   filter by label (worst)", lambda r: _f(max(v for k, v in r["probe"]["filter_ms"].items()
                                                       if k.startswith("label")), "ms"), "≤ 100 ms")
    for fmt, name in (("prodigy", "JSONL (prodigy)"), ("spacy", "DocBin (spacy)"),
                      ("spacy-folder", "DocBin folder (spacy-folder)"), ("doccano", "JSONL (doccano)")):
        row(f"3. export {name}", lambda r, fmt=fmt: _f(r["export"][f"{fmt}_s"]))
        row("   ratio to sqlite-utils row dump", lambda r, fmt=fmt:
            f"{r['export'][f'{fmt}_s'] / r['export'][f'{fmt}_dump_s']:.2f}×", "≤ 1.5×")
        row("   row dump just before it", lambda r, fmt=fmt: _f(r["export"][f"{fmt}_dump_s"]))
        row("   CPU time ratio (all processes / dump's)", lambda r, fmt=fmt:
            f"{r['export'][f'{fmt}_cpu_s'] / r['export'][f'{fmt}_dump_cpu_s']:.2f}×")
        row("   ratio to lean dump (id, text, spans)", lambda r, fmt=fmt:
            f"{r['export'][f'{fmt}_s'] / r['export']['bare_dump_s']:.2f}×")
        if fmt != "doccano":
            row("   ratio to dump + tokenizer", lambda r, fmt=fmt:
                f"{r['export'][f'{fmt}_s'] / (r['export']['bare_dump_s'] + r['export']['tokenize_s']):.2f}×")
        row("   CPU time, all processes", lambda r, fmt=fmt: _f(r["export"][f"{fmt}_cpu_s"]))
        row("   load average (1 min) as it started", lambda r, fmt=fmt:
            f"{r['export'][f'{fmt}_load']:.1f} on {os.cpu_count()} CPUs")
        row("   memory: peak RSS growth while exporting", lambda r, fmt=fmt:
            _f(r["export"][f"{fmt}_peak_mb"], "MB"))
        if fmt != "doccano":
            row("   worker processes (peak RSS of each)", lambda r, fmt=fmt:
                f"{r['export'][f'{fmt}_workers']}" + (
                    f" ({_f(r['export'][f'{fmt}_worker_peak_mb'], 'MB')})"
                    if r["export"][f"{fmt}_workers"] else ""))
    row("   sqlite-utils row dump", lambda r: _f(r["export"]["rows_dump_s"]))
    row("   lean dump", lambda r: _f(r["export"]["bare_dump_s"]))
    row("   spaCy tokenizer alone, all texts", lambda r: _f(r["export"]["tokenize_s"]))
    row("4. RSS, project open", lambda r: _f(r["probe"]["rss_project_mb"], "MB"))
    row("   RSS, + model loaded", lambda r: _f(r["probe"]["rss_model_mb"], "MB"), "≤ 300 MB")
    row("   RSS, + ArticleView / window", lambda r: _f(max(r["probe"].get("rss_view_mb", 0),
                                                          r["probe"].get("rss_window_mb", 0)) or None,
                                                      "MB"), "≤ 300 MB")
    widths = [max(len(str(c)) for c in col) for col in zip(head, *table)]
    lines = [" | ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in [head] + table]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    text = "\n".join(lines)
    if cmp:
        text += "\n\n5. FA-KES CSV import and export, against figures for the same data on this class of machine\n"
        for n in (804, 8040):
            lo, hi = cmp[f"import_{n}_range"]
            text += (f"   {n:,} articles: Credence import {cmp[f'import_{n}_s']:.2f} s "
                     f"(median of {COMPARE_RUNS}: {lo:.2f}–{hi:.2f} s) "
                     f"({cmp[f'import_{n}_added']:,} stored), export labelstudio "
                     f"{cmp[f'export_{n}_labelstudio_s']:.2f} s, doccano {cmp[f'export_{n}_doccano_s']:.2f} s\n")
        for tool, (i1, i2, e1, e2) in OTHERS.items():
            fmt = OTHER_FORMAT[tool]
            text += (f"   vs {tool}: import {i1 / cmp['import_804_s']:.1f}× / {i2 / cmp['import_8040_s']:.1f}×"
                     f" faster, export ({fmt}) {e1 / cmp[f'export_804_{fmt}_s']:.1f}× / "
                     f"{e2 / cmp[f'export_8040_{fmt}_s']:.1f}× faster (804 / 8,040)\n")
        text += "   target: ≥ 20× faster than Label Studio for import, ≥ 10× for export\n"
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--rebuild", action="store_true", help="build the cached projects again")
    ap.add_argument("--no-compare", action="store_true", help="skip the Label Studio / doccano comparison")
    ap.add_argument("--exports-only", action="store_true",
                    help="only the export figures (no open/switch/search probe, no comparison)")
    ap.add_argument("--token-export-max", type=int, default=100_000,
                    help="largest size at which the tokenising exports (prodigy, spacy) run")
    ap.add_argument("--probe", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--probe-n", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.probe:
        print(json.dumps(probe(args.probe, args.probe_n)))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    rows = fakes_rows()
    model, ents = fakes_entities(rows)
    results: dict[int, dict] = {}
    for n in (int(s) for s in args.sizes.split(",")):
        print(f"{n:,} articles: build", flush=True)
        r = {"build": cached_or_build(n, args.rebuild, model, rows, ents)}
        path = OUT / f"scale-{n}.credence"
        if not args.exports_only:
            print(f"{n:,} articles: probe", flush=True)
            r["probe"] = run_probe(path, n)
        fmts = ["doccano"] + (["prodigy", "spacy", "spacy-folder"] if n <= args.token_export_max else [])
        print(f"{n:,} articles: export {', '.join(fmts)}", flush=True)
        r["export"] = time_exports(path, fmts)
        results[n] = r
    cmp = None
    if not (args.no_compare or args.exports_only):
        print("FA-KES import / export comparison", flush=True)
        cmp = compare(rows, model, ents)
    (OUT / "scale-results.json").write_text(json.dumps({"results": results, "compare": cmp}, indent=1))
    print()
    print(report(results, cmp))
    print(f"\n(benchmark ran {time.perf_counter() - t0:.0f} s; figures in {OUT / 'scale-results.json'})")


if __name__ == "__main__":
    main()
