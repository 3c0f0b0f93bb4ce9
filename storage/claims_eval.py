"""Measuring claim detection against gold brat data, and agreement among a project's annotators."""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Callable

from annotation.claims import detect_claims
from annotation.cues import CueLexicon, LexiconError, default_lexicon, read_brat_dir
from annotation.scoring import MODES, PRF, pairwise_agreement, pieces, score

ROLES = ("Cue", "Source", "Content")


def _gold_by_role(text: str, ann: str) -> dict[str, list]:
    from annotation.brat import parse_ann
    spans, _, _ = parse_ann(text, ann)
    out: dict[str, list] = {r: [] for r in ROLES}
    for s in spans:
        if s.label in out:
            out[s.label].append(pieces(s.start, s.end, s.fragments))
    return out


def eval_claims(gold_dir: Path, nlp=None, lexicon: CueLexicon | None = None, *,
                limit: int | None = None, batch_size: int = 16, docs: list | None = None,
                progress: Callable[[int, int], None] | None = None) -> dict:
    """Run detection on every article of a PolNeAR-style folder; P/R/F1 per role and mode.

    The first .ann in sorted order of each article is gold. Raises LexiconError (a
    ValueError) with one clear line when the folder is not laid out as expected.
    """
    from annotation.pipeline import load_model, model_version
    nlp = nlp or load_model()
    lexicon = lexicon if lexicon is not None else default_lexicon()
    articles = read_brat_dir(Path(gold_dir), limit)
    if not articles:
        raise LexiconError(f"no articles with annotations in {gold_dir}")
    totals = {m: {r: PRF() for r in ROLES} for m in MODES}
    texts = (t for _, t, _ in articles)
    parsed = docs if docs is not None else nlp.pipe(texts, batch_size=batch_size)
    for i, ((_, text, ann), doc) in enumerate(zip(articles, parsed), 1):
        gold = _gold_by_role(text, ann)
        pred = detect_claims(doc, lexicon)
        by_role = {"Cue": [[s.cue] for s in pred],
                   "Source": [[s.source] for s in pred if s.source],
                   "Content": [[s.content] for s in pred if s.content]}
        for m in MODES:
            for r in ROLES:
                totals[m][r] += score(by_role[r], gold[r], m)
        if progress:
            progress(i, len(articles))
    return {"articles": len(articles), "documents": len(articles), "model": model_version(nlp),
            "lexicon": lexicon.describe(),
            **{m: {r.lower(): totals[m][r].as_dict() for r in ROLES} for m in MODES}}


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
                    progress: Callable[[int, int], None] | None = None) -> dict:
    """`eval-claims`: the given lexicon file, else the user's learned one, else the built-in one."""
    from annotation.pipeline import DEFAULT_MODEL, load_model
    lexicon = CueLexicon.load(cues) if cues else default_lexicon()
    nlp = load_model(model or DEFAULT_MODEL)
    return eval_claims(Path(gold_dir), nlp, lexicon, progress=progress)


def train_claims_cli(train_dir: Path, *, out: Path | None = None, model: str | None = None,
                     n_process: int = 1, progress: Callable[[int, int], None] | None = None) -> str:
    """`train-claims`: learn a cue lexicon from brat attributions, write it, say where and what."""
    from annotation.cues import learn_cues, learned_lexicon_path
    from annotation.pipeline import DEFAULT_MODEL, load_model
    nlp = load_model(model or DEFAULT_MODEL)
    lexicon = learn_cues(Path(train_dir), nlp, n_process=n_process, progress=progress)
    path = lexicon.save(out or learned_lexicon_path())
    cv = lexicon.meta["cv_f1"][str(lexicon.threshold)]
    learned = (f"cue model ({len(lexicon.model['weights'])} features)" if lexicon.model
               else f"{sum(lexicon.accepts(k) for k in lexicon.cues)} cues")
    return (f"{path}: {learned} learned from "
            f"{lexicon.meta['articles']} articles, threshold {lexicon.threshold} "
            f"(cross-validated F1 cue {cv['Cue']:.3f}, source {cv['Source']:.3f}, "
            f"content {cv['Content']:.3f})")
