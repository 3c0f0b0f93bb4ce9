"""Related claims and the claims view: speed at 1,000 / 10,000 / 100,000 articles, and how often
FA-KES's same-event reports from other outlets come up among the top 5.

    .venv/bin/python bench/bench_related.py [--sizes 1000,10000,100000] [--plain N] [--no-fakes]

Speed: the scale projects of bench/bench_scale.py (built and cached there; opened once for
writing so an older schema is migrated, the migration timed), then `related_claims` for 300
random claims (target p95 ≤ 100 ms at 100,000 articles), against the plain reference path
(every word, every hit scored) on --plain of them in the same run; the claims view's queries.

Quality: FA-KES imported as a user would and pre-annotated with the real model (cached under
bench/out/). An event is a (date, location) that several outlets reported. For each claim in
such an article, is a claim of another outlet's report of that event among its top 5? Also with
each signal alone, and what chance would give.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _fakes import FAKES_CSV, OUT, fakes_entities, fakes_rows  # noqa: E402

SAMPLES = 300
TOP = 5


def _pct(times: list[float], q: float) -> float:
    times = sorted(times)
    return times[max(0, int(len(times) * q) - 1)]


def _timed(fn, args) -> dict:
    for a in args[:10]:  # warm the statement cache and the pages of the index
        fn(a)
    times = []
    for a in args[10:]:
        t = time.perf_counter()
        fn(a)
        times.append((time.perf_counter() - t) * 1000)
    return {"p50": statistics.median(times), "p95": _pct(times, 0.95), "max": max(times),
            "n": len(times)}


# -- speed on the scale projects -------------------------------------------------------------------
def speed(n: int, plain_n: int) -> dict:
    from bench_scale import cached_or_build

    from storage import schema
    from storage.claims_query import ClaimFilter, claim_ids, claim_rows
    from storage.project import Project
    from storage.related import related_claims
    path = OUT / f"scale-{n}.credence"
    if not path.exists():
        rows = fakes_rows()
        model, ents = fakes_entities(rows)
        cached_or_build(n, False, model, rows, ents)
    out: dict = {"n": n}
    with open(path, "rb") as f:  # a warm page cache, as after building or opening the project
        while f.read(1 << 24):
            pass
    with Project(path, readonly=True) as p:
        old = p.schema_version
    if old < schema.SCHEMA_VERSION:
        t = time.perf_counter()
        Project(path).close()
        out["migrate_s"] = time.perf_counter() - t
    with Project(path, readonly=True) as p:
        out["claims"] = p.conn.execute("SELECT count(*) FROM claims").fetchone()[0]
        top = p.conn.execute("SELECT max(id) FROM claims").fetchone()[0]
        rng = random.Random(15)
        ids = [rng.randint(1, top) for _ in range(SAMPLES + 10)]
        out["related_ms"] = _timed(lambda c: related_claims(p, c, k=10), ids)
        sample = ids[10:10 + plain_n]
        same, same_scores, fast_t, plain_t = 0, 0, [], []
        for c in sample:
            t = time.perf_counter()
            fast = related_claims(p, c, k=10)
            fast_t.append(time.perf_counter() - t)
            t = time.perf_counter()
            plain = related_claims(p, c, k=10, exhaustive=True)
            plain_t.append(time.perf_counter() - t)
            same += [r.claim_id for r in fast] == [r.claim_id for r in plain]
            # The scale projects hold ~100 copies of each claim: ties of equal scores.
            same_scores += [r.score for r in fast] == [r.score for r in plain]
        out["plain"] = {"n": len(sample), "fast_ms": statistics.median(fast_t) * 1000,
                        "plain_ms": statistics.median(plain_t) * 1000,
                        "same_top10": same, "same_scores": same_scores}
        view: dict = {}
        for name, flt, sort, desc in (
                ("open (every claim, by id)", ClaimFilter(), "id", False),
                ("sort by date, newest first", ClaimFilter(), "date", True),
                ("sort by source", ClaimFilter(), "source", False),
                ("filter credibility ungraded", ClaimFilter(credibility="ungraded"), "id", False),
                ("filter year 2016", ClaimFilter(date_from="2016-01-01", date_to="2016-12-31"),
                 "id", False),
                ("search 'chemical attack'", ClaimFilter(search="chemical attack"), "id", False)):
            t = time.perf_counter()
            got = claim_ids(p, flt, sort=sort, descending=desc)
            ids_ms = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            claim_rows(p, got[len(got) // 2:len(got) // 2 + 200])
            view[name] = {"ids_ms": ids_ms, "page_ms": (time.perf_counter() - t) * 1000,
                          "rows": len(got)}
        out["view"] = view
    return out


# -- quality on FA-KES ------------------------------------------------------------------------------
def fakes_project() -> Path:
    """FA-KES imported with the CLI's mapping and pre-annotated with the real model (cached)."""
    from storage.demo import FAKES_MAPPING
    from storage.importer import import_paths
    from storage.preannotate import annotate
    from storage.project import Project
    path = OUT / "fakes-related.credence"
    done = OUT / "fakes-related.json"
    if path.exists() and done.exists():
        Project(path).close()  # migrates a cached file of an older schema
        return path
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    OUT.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    with Project(path, who="bench") as p:
        import_paths(p, [FAKES_CSV], fmt="csv", **FAKES_MAPPING)
        summary = annotate(p)
    done.write_text(json.dumps({"built_s": time.perf_counter() - t, "annotate": summary.line()}))
    return path


def events(p) -> tuple[dict[int, tuple], dict[int, str]]:
    """Articles of events several outlets reported: article -> (day, location); its outlet."""
    from storage.schema import day_of
    rows = p.conn.execute(
        f"SELECT d.id, {day_of('d.date')}, json_extract(d.meta, '$.location'), d.source"
        " FROM documents d").fetchall()
    outlets: dict[tuple, set[str]] = defaultdict(set)
    for _doc, day, place, outlet in rows:
        if day and place and outlet:
            outlets[(day, place.strip().lower())].add(outlet)
    event_of = {doc: (day, place.strip().lower()) for doc, day, place, outlet in rows
                if day and place and outlet and len(outlets[(day, place.strip().lower())]) >= 2}
    return event_of, {doc: outlet for doc, _d, _p, outlet in rows}


VARIANTS = {  # name -> (weights, date half-life in days)
    "first guess (0.6 / 0.25 / 0.15, half-life 7 d)": (
        {"text": 0.6, "entities": 0.25, "date": 0.15}, 7.0),
    "words only": ({"text": 1.0}, 7.0),
    "entities only": ({"entities": 1.0}, 7.0),
    "date only": ({"date": 1.0}, 2.0),
    "words + entities": ({"text": 0.8, "entities": 0.2}, 2.0),
    "words + date": ({"text": 0.5, "date": 0.5}, 2.0),
}
GRID_HALF_LIVES = (1.0, 2.0, 4.0, 7.0, 14.0)
GRID_STEPS = [i / 10 for i in range(11)]


def _hit_rate(cases: list, weights: dict[str, float], half_life: float) -> float:
    """Share of the cases whose top 5, ranked by these weights, holds another outlet's report."""
    hits = 0
    for found, good in cases:
        ranked = sorted(found, key=lambda r: (-(
            weights.get("text", 0) * r.text_score + weights.get("entities", 0) * r.entity_score
            + weights.get("date", 0) * (0.5 ** (r.days_apart / half_life)
                                        if r.days_apart is not None else 0.0)), r.claim_id))
        hits += any(r.document_id in good for r in ranked[:TOP])
    return hits / len(cases) if cases else 0.0


def quality(path: Path) -> dict:
    """Events split in two halves (alternately, in date order): weights are chosen on the first
    (dev) and reported on the second (test), beside the defaults chosen beforehand."""
    from storage import related as rel
    from storage.project import Project
    with Project(path, readonly=True) as p:
        event_of, outlet = events(p)
        claims = p.conn.execute("SELECT id, document_id FROM claims WHERE status != 'rejected'"
                                " ORDER BY id").fetchall()
        by_event: dict[tuple, set[int]] = defaultdict(set)
        with_claims = {doc for _c, doc in claims}
        for doc, ev in event_of.items():
            if doc in with_claims:
                by_event[ev].add(doc)
        half = {ev: ("dev" if i % 2 == 0 else "test")
                for i, ev in enumerate(sorted(set(event_of.values())))}
        cases: dict[str, list] = {"dev": [], "test": []}
        asked: dict[str, list[int]] = {"dev": [], "test": []}
        times = []
        for cid, doc in claims:
            ev = event_of.get(doc)
            if ev is None:
                continue
            good = {d for d in by_event[ev] if outlet[d] != outlet[doc]}
            if not good:
                continue  # no other outlet's report of the event has a claim
            t = time.perf_counter()
            rel.related_claims(p, cid, k=TOP)
            times.append(time.perf_counter() - t)
            found = rel.related_claims(p, cid, k=100_000)  # every candidate, scored
            cases[half[ev]].append((found, good))
            asked[half[ev]].append(cid)
        out: dict = {"articles": p.conn.execute("SELECT count(*) FROM documents").fetchone()[0],
                     "claims": len(claims), "event_articles": len(event_of),
                     "events": len(half), "asked": {k: len(v) for k, v in cases.items()}}
        default = (rel.WEIGHTS, rel.DATE_HALF_LIFE_DAYS)
        for part in ("dev", "test"):
            out[f"default {part}"] = _hit_rate(cases[part], *default)
            for name, (weights, h) in VARIANTS.items():
                out[f"{name} {part}"] = _hit_rate(cases[part], weights, h)
        grid = [(a, b, h) for a in GRID_STEPS for b in GRID_STEPS if a + b <= 1.0001
                for h in GRID_HALF_LIVES]
        best = max(((_hit_rate(cases["dev"], {"text": a, "entities": b,
                                              "date": round(1 - a - b, 2)}, h), a, b, h)
                    for a, b, h in grid), key=lambda x: (x[0], x[1]))
        _, a, b, h = best
        out["tuned"] = {"weights": {"text": a, "entities": b, "date": round(1 - a - b, 2)},
                        "half_life": h}
        out["tuned dev"] = best[0]
        out["tuned test"] = _hit_rate(cases["test"], out["tuned"]["weights"], h)
        # Chance: five claims drawn at random from the claims of the other articles.
        chance = []
        n_of = defaultdict(int)
        for _c, doc in claims:
            n_of[doc] += 1
        for _found, good in cases["test"]:
            pool = len(claims) - 1
            n_good = sum(n_of[d] for d in good)
            miss = 1.0
            for i in range(TOP):
                miss *= max(0.0, (pool - n_good - i) / (pool - i))
            chance.append(1 - miss)
        out["chance test"] = statistics.mean(chance) if chance else 0.0
        times.sort()
        out["related_ms"] = {"p50": statistics.median(times) * 1000, "p95": _pct(times, 0.95) * 1000}
        agree, plain_hits = 0, 0
        for (found, good), cid in zip(cases["test"], asked["test"]):
            plain = rel.related_claims(p, cid, k=TOP, exhaustive=True)
            agree += [r.claim_id for r in found[:TOP]] == [r.claim_id for r in plain]
            plain_hits += any(r.document_id in good for r in plain)
        out["fast_equals_plain_top5"] = agree / len(cases["test"]) if cases["test"] else 1.0
        out["plain test"] = plain_hits / len(cases["test"]) if cases["test"] else 0.0
    return out


def report(results: list[dict], fakes: dict | None) -> str:
    lines = ["Related claims (k = 10), 300 random claims per size; the plain path on a sample:"]
    head = (f"{'articles':>9} | {'claims':>8} | {'p50':>8} | {'p95':>8} | {'max':>8} | "
            "plain (median) | fast/plain | same top 10 (ids / scores)")
    lines += [head, "-" * len(head)]
    for r in results:
        pl = r["plain"]
        lines.append(f"{r['n']:>9,} | {r['claims']:>8,} | {r['related_ms']['p50']:6.1f}ms | "
                     f"{r['related_ms']['p95']:6.1f}ms | {r['related_ms']['max']:6.1f}ms | "
                     f"{pl['plain_ms']:10.1f} ms | {pl['fast_ms'] / pl['plain_ms']:9.3f}× | "
                     f"{pl['same_top10']}/{pl['n']} / {pl['same_scores']}/{pl['n']}")
    lines.append("target: p95 ≤ 100 ms at 100,000 articles")
    for r in results:
        if "migrate_s" in r:
            lines.append(f"schema migration (index every claim) at {r['n']:,} articles: "
                         f"{r['migrate_s']:.1f} s, once")
    lines.append("")
    lines.append("Claims view (every id of the filter in its order, then one page of 200 rows):")
    for r in results:
        for name, v in r["view"].items():
            lines.append(f"  {r['n']:>7,} articles  {name:<30} {v['ids_ms']:7.1f} ms for "
                         f"{v['rows']:>7,} ids, page {v['page_ms']:5.1f} ms")
    if fakes:
        f = fakes
        lines.append("")
        lines.append(f"FA-KES: {f['articles']} articles, {f['claims']} claims (pre-annotated); "
                     f"{f['events']} events (same date and place) reported by several outlets, in "
                     f"{f['event_articles']} articles. Claims whose event has another outlet's "
                     f"report with a claim: {f['asked']['dev']} (dev half of the events), "
                     f"{f['asked']['test']} (test half).")
        lines.append(f"  a claim of another outlet's report of the same event in the top {TOP}:"
                     "        dev     test")
        rows = [("default weights (storage/related.py)", "default")]
        rows += [(name, name) for name in VARIANTS]
        for label, key in rows:
            lines.append(f"    {label:<56} {f[key + ' dev']:6.1%}   {f[key + ' test']:6.1%}")
        t = f["tuned"]
        tuned = f"tuned on dev: {json.dumps(t['weights'])}, half-life {t['half_life']:g} d"
        lines.append(f"    {tuned:<56} {f['tuned dev']:6.1%}   {f['tuned test']:6.1%}")
        lines.append(f"    {'plain reference path (default weights)':<56} {'':>6}   {f['plain test']:6.1%}")
        lines.append(f"    {'chance (5 claims drawn at random)':<56} {'':>6}   {f['chance test']:6.1%}")
        lines.append(f"  fast path = plain path (top {TOP}): {f['fast_equals_plain_top5']:.1%} of "
                     f"the test claims; related p50 {f['related_ms']['p50']:.1f} ms, "
                     f"p95 {f['related_ms']['p95']:.1f} ms")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--plain", type=int, default=20,
                    help="claims per size also ranked by the plain reference path")
    ap.add_argument("--no-fakes", action="store_true", help="skip the FA-KES measurement")
    args = ap.parse_args()
    t0 = time.perf_counter()
    results = []
    for n in (int(s) for s in args.sizes.split(",") if s):
        print(f"{n:,} articles", flush=True)
        results.append(speed(n, args.plain))
    fakes = None
    if not args.no_fakes:
        print("FA-KES", flush=True)
        fakes = quality(fakes_project())
    (OUT / "related-results.json").write_text(json.dumps({"speed": results, "fakes": fakes},
                                                         indent=1))
    print()
    print(report(results, fakes))
    print(f"\n(ran {time.perf_counter() - t0:.0f} s; figures in {OUT / 'related-results.json'})")


if __name__ == "__main__":
    main()
