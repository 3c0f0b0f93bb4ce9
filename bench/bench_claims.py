"""Claim detection: learning curve, training time, model size and annotation speed.

Trains the claim model (annotation/claim_model.py) on nested random slices of
../shared/data/polnear-train (50, 200, all 840 articles) and scores each on
../shared/data/polnear-dev (overlap and exact F1 of cue, source, content), beside the
built-in lexicon (0 articles). Checks the seed article's eight attributions with each.
Annotation speed: spaCy parse + detection per dev article, against parse + the built-in
lexicon measured in the same run.

    .venv/bin/python bench/bench_claims.py [--sizes 50,200,840] [--n-process 2] [--json PATH]
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from annotation.claim_model import (
    examples_from_brat_dir,
    parse_texts,
    score_claim_model,
    train_claim_model,
)
from annotation.claims import detect_claims
from annotation.normalise import normalise
from annotation.pipeline import load_model

DATA = ROOT.parent / "shared" / "data"
SEED = [("reported", "Reuters"), ("told", "reliable source"), ("added", "the source"),
        ("denied", "Zaman-Alwasl's local source"), ("said", "the reporter"), ("assured", "FSA"),
        ("told", "media activist"), ("saying", "The United Nations")]


def seed_found(nlp, model) -> int:
    text = normalise((DATA / "seed" / "homs-offensive.txt").read_text(encoding="utf-8")).text
    found = detect_claims(nlp(text), model)
    got = {(text[c.cue[0]:c.cue[1]], text[c.source[0]:c.source[1]]) for c in found if c.source}
    return sum(any(cue == g_cue and src in g_src and len(g_src) < len(src) + 25
                   for g_cue, g_src in got) for cue, src in SEED)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="50,200,840")
    ap.add_argument("--n-process", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    nlp = load_model()
    train = examples_from_brat_dir(DATA / "polnear-train")
    dev = examples_from_brat_dir(DATA / "polnear-dev")
    t = time.perf_counter()
    train_docs = parse_texts(nlp, [e.text for e in train], n_process=args.n_process)
    parse_train = time.perf_counter() - t
    dev_docs = parse_texts(nlp, [e.text for e in dev], n_process=1)
    order = list(range(len(train)))
    random.Random(0).shuffle(order)
    rows = []
    models = {}
    for n in [0] + [int(x) for x in args.sizes.split(",")]:
        model, seconds, cpu, size = None, 0.0, 0.0, 0
        if n:
            ids = sorted(order[:n])
            t, c = time.perf_counter(), time.process_time()
            model = train_claim_model([train[i] for i in ids], nlp, docs=[train_docs[i] for i in ids])
            seconds, cpu = time.perf_counter() - t, time.process_time() - c
            size = len(model.to_bytes())
            models[n] = model
        s = score_claim_model(model, dev, nlp, docs=dev_docs)
        row = {"articles": n, "learn_s": round(seconds, 1), "learn_cpu_s": round(cpu, 1),
               "bytes": size, "backoff": bool(model and model.backoff),
               "seed_found": seed_found(nlp, model),
               **{f"{m}_{r}": round(s[m][r].f1, 4) for m in ("overlap", "exact")
                  for r in ("cue", "source", "content")}}
        rows.append(row)
        print(json.dumps(row), flush=True)
    # Annotation speed: what `annotate` does per article (full pipeline parse + detection).
    texts = [e.text for e in dev]
    list(nlp.pipe(texts[:4]))
    best = models[max(models)] if models else None
    timing = {}
    for name, model in (("builtin", None), ("learned", best)):
        runs = []
        for _ in range(3):
            t = time.perf_counter()
            for doc in nlp.pipe(texts, batch_size=64):
                detect_claims(doc, model)
            runs.append(time.perf_counter() - t)
        timing[name] = min(runs) / len(texts)
    t = time.perf_counter()
    docs = list(nlp.pipe(texts, batch_size=64))
    parse_only = (time.perf_counter() - t) / len(texts)
    t = time.perf_counter()
    for doc in docs:
        detect_claims(doc, best)
    detect_only = (time.perf_counter() - t) / len(texts)
    speed = {"parse_ms": round(parse_only * 1e3, 1),
             "parse_builtin_ms": round(timing["builtin"] * 1e3, 1),
             "parse_learned_ms": round(timing["learned"] * 1e3, 1),
             "learned_detect_ms": round(detect_only * 1e3, 1),
             "ratio_learned_vs_builtin": round(timing["learned"] / timing["builtin"], 3),
             "parse_train_s": round(parse_train, 1)}
    print(json.dumps(speed))
    print(f"\n{'articles':>8} {'cue':>6} {'source':>7} {'content':>8}   exact: {'cue':>6} {'source':>7}"
          f" {'content':>8}  seed  learn(s)  size")
    for r in rows:
        print(f"{r['articles']:>8} {r['overlap_cue']:6.3f} {r['overlap_source']:7.3f} "
              f"{r['overlap_content']:8.3f}   exact: {r['exact_cue']:6.3f} {r['exact_source']:7.3f} "
              f"{r['exact_content']:8.3f}  {r['seed_found']}/8  {r['learn_s']:8.1f}  "
              f"{r['bytes'] / 1e6:.2f} MB{' (backs off)' if r['backoff'] else ''}")
    print(f"annotation per article: parse {speed['parse_ms']} ms; parse + built-in "
          f"{speed['parse_builtin_ms']} ms; parse + learned {speed['parse_learned_ms']} ms "
          f"(x{speed['ratio_learned_vs_builtin']}); parsing polnear-train took {parse_train:.0f} s")
    if args.json:
        args.json.write_text(json.dumps({"curve": rows, "speed": speed}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
