"""Time every export format against a bare dump of the same rows (FA-KES, real model entities).

    .venv/bin/python bench/bench_export.py [--synthetic] [--repeat 3] [--keep DIR [--reuse]]

Builds a project from ../shared/data/fa-kes/FA-KES-Dataset.csv: entities from running the
project's spaCy model over the texts once (or, with --synthetic, ~40 spans an article without
the model), attributions around reporting verbs (Source / Cue / Content + claims), a quarter of
the articles marked done with their spans accepted. Then, in this process, times a bare
sqlite-utils dump (documents + spans rows as JSON lines) and each format, and prints ratios.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from annotation.model import ClaimRecord, NewDocument, SpanRecord  # noqa: E402
from storage.export import FORMATS, export  # noqa: E402
from storage.ingest import store_documents  # noqa: E402
from storage.project import Project  # noqa: E402

FAKES = ROOT.parent / "shared" / "data" / "fa-kes" / "FA-KES-Dataset.csv"
# "X said (that) Y." — crude, but gives realistic claim spans for timing.
_ATTRIBUTION = re.compile(
    r"(?P<source>(?:[A-Z][\w'-]+ ){0,3}[A-Z][\w'-]+|[Tt]he \w+(?: \w+)?|[Hh]e|[Ss]he|[Tt]hey) "
    r"(?P<cue>said|told \w+|reported|claimed|denied|stated)(?: that)? (?P<content>[^.!?\"]{10,200})")
_CAPS = re.compile(r"\b[A-Z][\w'-]+(?: [A-Z][\w'-]+)*")
_LABELS = ("PERSON", "ORG", "GPE", "NORP", "DATE", "CARDINAL", "LOC")


def read_fakes() -> list[dict[str, str]]:
    with open(FAKES, encoding="utf-8", errors="replace", newline="") as f:
        return [r for r in csv.DictReader(f) if r["article_content"].strip()]


def entity_spans(texts: list[str], synthetic: bool) -> list[list[SpanRecord]]:
    if synthetic:
        return [[SpanRecord(m.start(), m.end(), _LABELS[i % len(_LABELS)], model="synthetic")
                 for i, m in enumerate(_CAPS.finditer(t))][:40] for t in texts]
    from annotation.pipeline import load_model, model_version
    nlp = load_model(claims=False)
    version = model_version(nlp)
    return [[SpanRecord(e.start_char, e.end_char, e.label_, model=version) for e in doc.ents]
            for doc in nlp.pipe(texts, batch_size=64)]


def build(path: Path, synthetic: bool) -> tuple[int, int, float]:
    rows = read_fakes()
    texts = [r["article_content"] for r in rows]
    t0 = time.perf_counter()
    ents = entity_spans(texts, synthetic)
    t_model = time.perf_counter() - t0
    docs = []
    for i, (row, text, spans) in enumerate(zip(rows, texts, ents)):
        done = i % 4 == 0
        spans = [SpanRecord(s.start, s.end, s.label, origin="model",
                            status=("rejected" if j % 9 == 0 else "accepted") if done else "suggested",
                            model=s.model) for j, s in enumerate(spans)]
        claims = []
        for k, m in enumerate(_ATTRIBUTION.finditer(text)):
            status = "accepted" if done else "suggested"
            for role in ("source", "cue", "content"):
                spans.append(SpanRecord(m.start(role), m.end(role), role.capitalize(), origin="model",
                                        status=status, key=f"{role}{k}"))
            claims.append(ClaimRecord(content=f"content{k}", cue=f"cue{k}", source=f"source{k}",
                                      status=status))
        labels = {"1": ["credible"], "0": ["not credible"]}.get(row.get("labels", ""), [])
        docs.append((done, NewDocument(
            text, name=row["unit_id"], title=row["article_title"], source=row["source"],
            date=row["date"], meta={"location": row["location"], "unit_id": row["unit_id"]},
            labels=labels, spans=spans, claims=claims)))
    with Project(path) as project:
        summary = store_documents(project, [d for _, d in docs], normalise_default=False)
        done_ids = [i for (done, _), i in zip(docs, summary.document_ids) if done]
        with project.atomic():
            project.conn.executemany("UPDATE documents SET status = 'done' WHERE id = ?",
                                     [(i,) for i in done_ids])
        return summary.added, summary.spans, t_model


def bare_dump(project: Project, out: Path) -> None:
    """The baseline: every document and span row, as sqlite-utils gives them, as JSON lines."""
    with open(out, "w", encoding="utf-8") as f:
        for row in list(project.db["documents"].rows) + list(project.db["spans"].rows):
            f.write(json.dumps(row, ensure_ascii=False))
            f.write("\n")


def first_export(fmt: str, path: str) -> float:
    """One export in this (fresh) process, spaCy imported but its tokenizer not yet made or used:
    the first export of a session."""
    import spacy  # noqa: F401  (the app has imported it long before anyone exports)
    with Project(Path(path), readonly=True) as project:
        out = Path(path).parent / f"first-{fmt}.out"
        t0 = time.perf_counter()
        export(project, fmt, out, everything=True)
        return time.perf_counter() - t0


def _cpu() -> float:
    """CPU seconds of this process and its finished children (export workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def best_of(repeat: int, fn) -> tuple[float, float]:
    """The shortest wall time and the smallest CPU time of `repeat` runs (CPU time says more
    than wall time on a machine others share)."""
    walls, cpus = [], []
    for _ in range(repeat):
        c0, t0 = _cpu(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(_cpu() - c0)
    return min(walls), min(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--synthetic", action="store_true", help="no model: ~40 spans per article")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write the project and exports here")
    parser.add_argument("--reuse", action="store_true",
                        help="with --keep: time the project already there instead of rebuilding it")
    parser.add_argument("--first-export", nargs=2, metavar=("FORMAT", "PROJECT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.first_export:
        print(first_export(*args.first_export))
        return
    if not FAKES.exists():
        sys.exit(f"needs {FAKES}")
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-export-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "fakes.credence"
    if not (args.reuse and path.exists()):
        path.unlink(missing_ok=True)
        n_docs, n_spans, t_model = build(path, args.synthetic)
        print(f"project: {n_docs} documents, {n_spans} spans "
              f"({'synthetic' if args.synthetic else f'model entities, {t_model:.1f} s'})")
    with Project(path, readonly=True) as project:
        n_claims = project.conn.execute("SELECT count(*) FROM claims").fetchone()[0]
        print(f"documents: {project.document_count()}; claims: {n_claims}; spans by status: " + ", ".join(
            f"{s} {n}" for s, n in project.conn.execute(
                "SELECT status, count(*) FROM spans GROUP BY status")))
        export(project, "doccano", folder / "warmup.jsonl")  # imports, tokenizer load
        export(project, "spacy", folder / "warmup.spacy", everything=True)
        base, base_cpu = best_of(args.repeat, lambda: bare_dump(project, folder / "dump.jsonl"))
        print(f"\nload average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (on a busy machine "
              "the CPU-time ratios mean more than the wall-time ones)")
        print(f"\n{'format':<20}{'seconds':>9}{'× dump':>8}{'CPU × dump':>12}  summary")
        print(f"{'bare dump':<20}{base:>9.3f}{1:>8.2f}{1:>12.2f}")
        texts = [r[0] for r in project.conn.execute("SELECT text FROM documents")]
        from storage.export.tokens import blank_english
        tokenizer = blank_english().tokenizer
        t, cpu = best_of(args.repeat, lambda: [tokenizer(x) for x in texts])
        print(f"{'tokenize only':<20}{t:>9.3f}{t / base:>8.2f}{cpu / base_cpu:>12.2f}"
              "  (the floor of spacy, prodigy, conll)")
        for decided in (False, True):
            for fmt in FORMATS:
                suffix = ".spacy" if fmt == "spacy" else ""
                out = folder / (f"out-{fmt}" + ("-decided" if decided else "") + suffix)
                result = {}

                def run(fmt=fmt, out=out, decided=decided, result=result) -> None:
                    result["s"] = export(project, fmt, out, everything=not decided)
                t, cpu = best_of(args.repeat, run)
                s = result["s"]
                name = fmt + (" (decided)" if decided else "")
                print(f"{name:<20}{t:>9.3f}{t / base:>8.2f}{cpu / base_cpu:>12.2f}  {s.documents} docs, "
                      f"{s.spans} spans, {s.claims} claims"
                      + (f"; {len(s.not_represented)} notes" if s.not_represented else ""))
        print("\nfirst export of a session (fresh process: the tokenizer's cache and vocabulary empty)")
        for fmt in ("spacy", "prodigy", "conll"):
            import subprocess
            t = min(float(subprocess.run(
                [sys.executable, __file__, "--first-export", fmt, str(path)], check=True,
                capture_output=True, text=True).stdout.split()[-1]) for _ in range(args.repeat))
            print(f"{fmt:<20}{t:>9.3f}{t / base:>8.2f}")
    print(f"\nfiles in {folder}")


if __name__ == "__main__":
    main()
