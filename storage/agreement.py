"""Agreement between two analysts' copies of a project: the same articles, decided apart."""
from __future__ import annotations

import json
from collections import Counter, defaultdict

from annotation.scoring import PRF, pairwise_agreement, pieces
from storage.project import Project


def compare_projects(a: Project, b: Project, mode: str = "overlap") -> dict:
    """Pairwise span agreement per label over the articles both copies hold (same text) and
    both analysts marked done: what each accepted or made there, entities and claim parts.

    The result has the shape of `storage.claims_eval.agreement` (one pair of annotators), and
    names the two analysts as their decisions record them.
    """
    done_a, done_b = _done_by_hash(a), _done_by_hash(b)
    shared = sorted(done_a.keys() & done_b.keys())
    totals: dict[str, PRF] = defaultdict(PRF)
    pairs: dict[str, int] = defaultdict(int)
    names = (_analyst(a), _analyst(b))
    if names[0] == names[1]:
        names = (f"{names[0]} ({a.path.name})", f"{names[1]} ({b.path.name})")
    for content_hash in shared:
        versions = {names[0]: _decided(a, done_a[content_hash]),
                    names[1]: _decided(b, done_b[content_hash])}
        for label, prf in pairwise_agreement(versions, mode).items():
            totals[label] += prf
            pairs[label] += 1
    return {"documents": len(shared), "annotators": 2, "names": list(names), "mode": mode,
            "with": str(b.path),
            "per_label": {lab: {"f1": round(p.f1, 4), "pairs": pairs[lab], "matched": p.tp,
                                "spans_a": p.n_gold, "spans_b": p.n_pred}
                          for lab, p in sorted(totals.items())}}


def _done_by_hash(project: Project) -> dict[str, int]:
    return dict(project.conn.execute(
        "SELECT content_hash, id FROM documents WHERE status = 'done'").fetchall())


def _decided(project: Project, doc_id: int) -> dict[str, list]:
    by_label: dict[str, list] = defaultdict(list)
    for label, start, end, frags in project.conn.execute(
            'SELECT label, start, "end", fragments FROM spans WHERE document_id = ?'
            " AND status = 'accepted'", (doc_id,)):
        by_label[label].append(pieces(start, end, json.loads(frags) if frags else None))
    return by_label


def _analyst(project: Project) -> str:
    """Who made the copy's decisions: the name most of its decision events record."""
    who = Counter(dict(project.conn.execute(
        "SELECT who, count(*) FROM events WHERE group_id IS NOT NULL GROUP BY who").fetchall()))
    return who.most_common(1)[0][0] if who else project.path.stem
