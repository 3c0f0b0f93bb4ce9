"""Import through the command line, the way a user imports: memory, linearity and speed.

    .venv/bin/python bench/bench_import.py [--csv-mb 200] [--columns 20000] [--jsonl 100000]
                                           [--only csv,columns,jsonl]

1. A CSV of --csv-mb MB (FA-KES rows, each made distinct): `python main.py import` in a child
   process, its peak RSS (target ≤ 300 MB for 200 MB) against the bound the streaming reader
   keeps (a batch of 500 documents) and a bare `python main.py --help` in the same run.
2. A CSV header of --columns columns (and a tenth of it): import time and the ratio (linear ≈ 10×).
3. --jsonl articles in JSONL, ~38 spans each: `python main.py import` against a bare sqlite-utils
   insert_all of the same rows inside db.atomic() into the same schema (target ≤ 1.5×).

Inputs are generated under bench/out/ (cached); each figure is measured in this run.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
FAKES = ROOT.parent / "shared" / "data" / "fa-kes" / "FA-KES-Dataset.csv"
ENV = dict(os.environ, CREDENCE_NO_BOOTSTRAP="1")
MAPPING = ["--text-column", "article_content", "--title-column", "article_title",
           "--meta-columns", "source,date,location,labels"]
LABELS = ("PERSON", "ORG", "GPE", "DATE", "NORP", "LOC", "CARDINAL")


_PEAK = """
import os, resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
print(repr((time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            p.returncode, p.stdout[-2000:], p.stderr[-2000:])))
"""


def peak(argv: list[str]) -> tuple[float, float, int, str, str]:
    """(seconds, peak RSS MB, exit code, stdout, stderr) of one command in its own helper."""
    r = subprocess.run([sys.executable, "-c", _PEAK, *argv], cwd=ROOT, env=ENV,
                       capture_output=True, text=True)
    return eval(r.stdout)  # noqa: S307 (our own helper's repr)


def cli(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "main.py"), *map(str, args)]


def _rm(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    backups = path.parent / f".{path.name}.backups"
    if backups.is_dir():
        for b in backups.iterdir():
            b.unlink()
        backups.rmdir()


def fakes_rows() -> list[dict[str, str]]:
    if not FAKES.exists():
        raise SystemExit(f"needs {FAKES}")
    with open(FAKES, encoding="utf-8", errors="replace", newline="") as f:
        return list(csv.DictReader(f))


# -- 1. a large CSV ------------------------------------------------------------------------------
def big_csv(mb: int) -> Path:
    path = OUT / f"import-{mb}mb.csv"
    if path.exists():
        return path
    rows = fakes_rows()
    tmp = path.with_suffix(".partial")
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        k = 0
        while f.tell() < mb * 1_000_000:
            row = dict(rows[k % len(rows)])
            row["unit_id"] = str(k)
            row["article_title"] = f"{row['article_title']} (copy {k // len(rows)})"
            row["article_content"] = f"UPDATE {k} — {row['article_content']}"
            w.writerow(row)
            k += 1
    tmp.rename(path)
    return path


def bench_csv(mb: int) -> dict:
    src = big_csv(mb)
    project = OUT / "import-csv.credence"
    _rm(project)
    base = peak(cli("--help"))
    seconds, rss, code, out, err = peak(cli("import", project, src, *MAPPING))
    assert code == 0, err
    _rm(project)
    return {"mb": src.stat().st_size / 1e6, "seconds": seconds, "peak_mb": rss,
            "help_peak_mb": base[1], "line": out.strip().splitlines()[-1]}


# -- 2. a wide header ------------------------------------------------------------------------------
def wide_csv(columns: int) -> Path:
    path = OUT / f"import-{columns}-columns.csv"
    if not path.exists():
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow([f"column_{i}" for i in range(columns)] + ["text"])
            for r in range(3):
                w.writerow([f"v{r}" for _ in range(columns)] + [f"Article {r}, Reuters said."])
    return path


def bench_columns(columns: int) -> dict:
    res = {}
    for n in (columns // 10, columns):
        project = OUT / f"import-wide-{n}.credence"
        _rm(project)
        seconds, rss, code, out, err = peak(cli("import", project, wide_csv(n)))
        assert code == 0, err
        _rm(project)
        res[n] = seconds
    startup = peak(cli("--help"))[0]
    res["startup"] = startup
    return res


# -- 3. JSONL with spans ---------------------------------------------------------------------------
_WORD = re.compile(r"\b[A-Z][a-z]+(?: [A-Z][a-z]+)?\b|\b[A-Z]{2,}\b|\b\d[\d,.]*\b")


def spans_jsonl(n: int) -> Path:
    """n distinct FA-KES articles as JSONL, each with its capitalised words and numbers as spans
    (about 38 an article, as a pre-annotated data set carries)."""
    path = OUT / f"import-{n}-spans.jsonl"
    if path.exists():
        return path
    rows = fakes_rows()
    rng = random.Random(5)
    tmp = path.with_suffix(".partial")
    total = 0
    with open(tmp, "w", encoding="utf-8") as f:
        for k in range(n):
            row = rows[k % len(rows)]
            text = f"UPDATE {k} — {row['article_content']}"
            spans = [{"start": m.start(), "end": m.end(), "label": rng.choice(LABELS)}
                     for m in _WORD.finditer(text)]
            if len(spans) > 38:
                keep = sorted(rng.sample(range(len(spans)), 38))
                spans = [spans[i] for i in keep]
            total += len(spans)
            f.write(json.dumps({"text": text, "meta": {"title": row["article_title"],
                                                       "source": row["source"], "date": row["date"]},
                                "spans": spans}, ensure_ascii=False) + "\n")
    tmp.rename(path)
    print(f"  generated {path.name}: {n:,} articles, {total / n:.1f} spans each", flush=True)
    return path


_BARE = """
import sqlite3, sys, time
sys.path.insert(0, {root!r})
import sqlite_utils
from storage.project import Project
src, dst = sys.argv[1], sys.argv[2]
conn = sqlite3.connect(src)
tables = {{}}
for table in ("documents", "doc_labels", "spans", "claims"):
    cur = conn.execute(f"SELECT * FROM {{table}} ORDER BY rowid")
    cols = [d[0] for d in cur.description]
    tables[table] = [dict(zip(cols, r)) for r in cur]
conn.close()
Project(dst).close()  # the same schema: indexes, FTS table, WAL
db = sqlite_utils.Database(dst)
t = time.perf_counter()
with db.atomic():
    for name, rows in tables.items():
        db[name].insert_all(rows)
print(time.perf_counter() - t)
"""


def bench_jsonl(n: int) -> dict:
    src = spans_jsonl(n)
    project = OUT / "import-jsonl.credence"
    bare = OUT / "import-jsonl-bare.credence"
    _rm(project)
    seconds, rss, code, out, err = peak(cli("import", project, src))
    assert code == 0, err
    _rm(bare)
    r = subprocess.run([sys.executable, "-c", _BARE.format(root=str(ROOT)), str(project), str(bare)],
                       cwd=ROOT, env=ENV, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    bare_s = float(r.stdout.strip().splitlines()[-1])
    startup = peak(cli("--help"))[0]
    _rm(project)
    _rm(bare)
    return {"n": n, "seconds": seconds, "peak_mb": rss, "bare_s": bare_s, "startup_s": startup,
            "line": out.strip().splitlines()[-1]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv-mb", type=int, default=200)
    ap.add_argument("--columns", type=int, default=20_000)
    ap.add_argument("--jsonl", type=int, default=100_000)
    ap.add_argument("--only", default="csv,columns,jsonl")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    only = set(args.only.split(","))
    from annotation.limits import BATCH_DOCUMENTS, MAX_RECORD_CHARS
    if "columns" in only:
        c = bench_columns(args.columns)
        small = args.columns // 10
        print(f"2. CSV header of {args.columns:,} columns: {c[args.columns]:.2f} s "
              f"({small:,} columns: {c[small]:.2f} s; ratio {c[args.columns] / c[small]:.1f}× for "
              f"10× the columns, linear ≈ 10×; interpreter start-up and imports {c['startup']:.2f} s)",
              flush=True)
    if "csv" in only:
        c = bench_csv(args.csv_mb)
        print(f"1. import of a {c['mb']:.0f} MB CSV: {c['seconds']:.1f} s, peak RSS {c['peak_mb']:.0f} MB "
              f"(target ≤ 300 MB; `main.py --help` alone {c['help_peak_mb']:.0f} MB; bound: a batch of "
              f"{BATCH_DOCUMENTS} documents, one record ≤ {MAX_RECORD_CHARS:,} characters)\n"
              f"   {c['line']}", flush=True)
    if "jsonl" in only:
        c = bench_jsonl(args.jsonl)
        print(f"3. import of {c['n']:,} JSONL articles with spans: {c['seconds']:.1f} s "
              f"(peak RSS {c['peak_mb']:.0f} MB); bare sqlite-utils insert_all of the same rows in "
              f"db.atomic(): {c['bare_s']:.1f} s; ratio {c['seconds'] / c['bare_s']:.2f}× "
              f"(target ≤ 1.5×; the import's figure includes start-up {c['startup_s']:.1f} s and "
              f"reading the JSON)\n   {c['line']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
