"""Measuring claim detection against gold brat data, learning a claim model from such data, and
agreement among a project's annotators."""
from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path

from annotation.claim_model import (
    ClaimModel,
    ClaimModelError,
    default_claim_model,
    examples_from_brat_dir,
    learned_model_path,
    parse_texts,
    score_claim_model,
    train_claim_model,
)
from annotation.cues import builtin_lexicon
from annotation.pipeline import DEFAULT_MODEL, load_model, model_version
from annotation.progress import Progress
from annotation.scoring import MODES, PRF, pairwise_agreement, pieces

ROLES = ("Cue", "Source", "Content")


def eval_claims(gold_dir: Path, nlp=None, model: ClaimModel | None = None, *,
                limit: int | None = None, batch_size: int = 16, docs: list | None = None,
                progress: Progress | None = None) -> dict:
    """Run detection on every article of a PolNeAR-style folder; P/R/F1 per role and mode.

    `model`: a learned claim model, None for the built-in cue lexicon. The first .ann in
    sorted order of each article is gold. Raises ClaimModelError (a ValueError) with one
    clear line when the folder is not laid out as expected.
    """
    nlp = nlp or load_model()
    examples = examples_from_brat_dir(Path(gold_dir), limit)
    if not examples:
        raise ClaimModelError(f"no articles with annotations in {gold_dir}")
    if docs is None:
        docs = parse_texts(nlp, [e.text for e in examples], batch_size=batch_size,
                           progress=progress)
    totals = score_claim_model(model, examples, nlp, docs=docs)
    detector = model.describe() if model is not None else builtin_lexicon().describe()
    return {"articles": len(examples), "documents": len(examples), "model": model_version(nlp),
            "lexicon": detector,
            **{m: {r.lower(): totals[m][r.lower()].as_dict() for r in ROLES} for m in MODES}}


def format_eval(result: dict) -> str:
    """A small table of the figures for the terminal."""
    lines = [f"{result['articles']} articles, {result['model']}, {result['lexicon']}",
             f"{'':8}{'mode':9}{'P':>7}{'R':>7}{'F1':>7}{'pred':>7}{'gold':>7}"]
    for m in MODES:
        for r in ROLES:
            d = result[m][r.lower()]
            lines.append(f"{r:8}{m:9}{d['precision']:7.3f}{d['recall']:7.3f}{d['f1']:7.3f}"
                         f"{d['predicted']:7d}{d['gold']:7d}")
    return "\n".join(lines)


def agreement(project, labels: tuple[str, ...] | None = None, mode: str = "overlap") -> dict:
    """Pairwise span agreement per label among annotators, over documents with several versions.

    Uses stored spans that carry an annotator and are not rejected; each pair of annotators
    of a document is one comparison (see annotation.scoring.pairwise_agreement).
    """
    rows = project.conn.execute(
        'SELECT document_id, annotator, label, start, "end", fragments FROM spans '
        "WHERE annotator IS NOT NULL AND status != 'rejected'").fetchall()
    docs: dict[int, dict[str, dict[str, list]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for doc_id, annotator, label, start, end, frags in rows:
        if labels and label not in labels:
            continue
        docs[doc_id][annotator][label].append(
            pieces(start, end, json.loads(frags) if frags else None))
    totals: dict[str, PRF] = defaultdict(PRF)
    pairs: dict[str, int] = defaultdict(int)
    n_docs = 0
    annotators: set[str] = set()
    for versions in docs.values():
        if len(versions) < 2:
            continue
        n_docs += 1
        annotators.update(versions)
        n_pairs = len(versions) * (len(versions) - 1) // 2
        for label, prf in pairwise_agreement(versions, mode).items():
            totals[label] += prf
            pairs[label] += n_pairs
    return {"documents": n_docs, "annotators": len(annotators), "mode": mode,
            "per_label": {lab: {"f1": round(p.f1, 4), "pairs": pairs[lab], "matched": p.tp,
                                "spans_a": p.n_gold, "spans_b": p.n_pred}
                          for lab, p in sorted(totals.items())}}


def eval_claims_cli(gold_dir: Path, *, model: str | None = None, cues: Path | None = None,
                    progress: Progress | None = None) -> dict:
    """`eval-claims`: the given claim model file, else the user's learned one, else the built-in
    lexicon. A damaged or old-format file raises ClaimModelError (one clear line)."""
    claim_model = ClaimModel.load(cues) if cues else default_claim_model()
    nlp = load_model(model or DEFAULT_MODEL)
    return eval_claims(Path(gold_dir), nlp, claim_model, progress=progress)


def train_claims_cli(train_dir: Path, *, out: Path | None = None, model: str | None = None,
                     n_process: int = 1, progress: Progress | None = None) -> str:
    """`train-claims`: learn a claim model from brat attributions, write it, say where and what."""
    nlp = load_model(model or DEFAULT_MODEL)
    examples = examples_from_brat_dir(Path(train_dir))
    if not examples:
        raise ClaimModelError(f"no articles with annotations in {train_dir}")
    started = time.monotonic()
    claim_model = train_claim_model(examples, nlp, n_process=n_process, progress=progress)
    seconds = time.monotonic() - started
    path = claim_model.save(out or learned_model_path())
    p = claim_model.provenance
    cv = p["cv_f1"][str(p["threshold"])]
    size = path.stat().st_size
    return (f"{path}: {claim_model.describe()}, learned in {seconds:.0f} s, {size / 1e6:.1f} MB "
            f"(cross-validated F1 cue {cv['cue']:.3f}, source {cv['source']:.3f}, "
            f"content {cv['content']:.3f}; built-in lexicon {p['builtin_cv_f1']['cue']:.3f}, "
            f"{p['builtin_cv_f1']['source']:.3f}, {p['builtin_cv_f1']['content']:.3f})")
