"""Import and pre-annotation of FA-KES against bare spaCy, measured in the same process.

    .venv/bin/python bench/bench_core.py [--no-claims] [--n-process N] [--limit N]

Prints: import alone (target ≤ 0.1 s for 804 articles), import + annotate against a bare
`nlp.pipe` over the same texts with the same components (target ≤ 1.15×).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FAKES = ROOT.parent / "shared" / "data" / "fa-kes" / "FA-KES-Dataset.csv"
MAPPING = dict(fmt="csv", text_column="article_content", title_column="article_title",
               meta_columns=["source", "date", "location", "labels"])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-claims", action="store_true")
    ap.add_argument("--n-process", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5, help="runs of the import-alone timing")
    args = ap.parse_args()
    if not FAKES.exists():
        print(f"needs {FAKES}")
        return 1
    from annotation.pipeline import load_model
    from storage.importer import import_paths
    from storage.preannotate import annotate
    from storage.project import Project

    claims = not args.no_claims
    nlp = load_model(claims=claims)
    tmp = Path(tempfile.mkdtemp())

    # 1. import alone, best of N fresh projects
    times = []
    for i in range(args.repeat):
        with Project(tmp / f"import{i}.credence") as p:
            t = time.perf_counter()
            s = import_paths(p, [FAKES], **MAPPING)
            times.append(time.perf_counter() - t)
    print(f"import 804 FA-KES rows -> {s.added} documents ({s.duplicates} duplicates merged): "
          f"best {min(times):.3f} s, median {sorted(times)[len(times) // 2]:.3f} s  (target ≤ 0.1 s; "
          f"Label Studio 2.15 s -> {2.15 / min(times):.0f}× faster)")

    # 2. bare nlp.pipe over the same stored texts, same components
    with Project(tmp / "import0.credence", readonly=True) as p:
        texts = [r[0] for r in p.conn.execute("SELECT text FROM documents ORDER BY id")]
    t = time.perf_counter()
    n_ents = sum(len(d.ents) for d in nlp.pipe(texts, batch_size=64, n_process=args.n_process))
    bare = time.perf_counter() - t

    # 3. import + annotate into a fresh project
    t = time.perf_counter()
    with Project(tmp / "full.credence") as p:
        import_paths(p, [FAKES], **MAPPING)
        summary = annotate(p, nlp=nlp, claims=claims, n_process=args.n_process, batch_size=64)
    full = time.perf_counter() - t
    print(f"bare nlp.pipe ({', '.join(nlp.pipe_names)}): {bare:.2f} s, {n_ents} entities")
    print(f"import + annotate{' + claims' if claims else ''}: {full:.2f} s, {summary.entities} "
          f"entities, {summary.claims} claims")
    print(f"ratio {full / bare:.3f}×  (target ≤ 1.15×)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
