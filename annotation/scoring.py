"""Span scoring (PolNeAR convention): overlap covering half the longer span, matched one to one.

A span here is a list of (start, end) pieces (one piece for a continuous span); a
discontinuous span counts as the union of its pieces. Matching within one article is
greedy: candidate pairs are taken by decreasing overlap (ties: earlier gold, then earlier
prediction), each span used at most once. `exact` mode matches identical character sets.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

Pieces = Sequence[tuple[int, int]]
MODES = ("overlap", "exact")


@dataclass
class PRF:
    """Counts of one comparison and the figures derived from them."""
    tp: int = 0
    n_pred: int = 0
    n_gold: int = 0

    @property
    def precision(self) -> float:
        return self.tp / self.n_pred if self.n_pred else 0.0

    @property
    def recall(self) -> float:
        return self.tp / self.n_gold if self.n_gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __iadd__(self, other: PRF) -> PRF:
        self.tp += other.tp
        self.n_pred += other.n_pred
        self.n_gold += other.n_gold
        return self

    def as_dict(self) -> dict:
        return {"precision": round(self.precision, 4), "recall": round(self.recall, 4),
                "f1": round(self.f1, 4), "tp": self.tp, "predicted": self.n_pred,
                "gold": self.n_gold}


def pieces(start: int, end: int, fragments: list[list[int]] | None = None) -> list[tuple[int, int]]:
    """The pieces of a span: its fragments when discontinuous, else (start, end)."""
    if fragments:
        return [(int(a), int(b)) for a, b in fragments]
    return [(start, end)]


def _union(span: Pieces) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for a, b in sorted(span):
        if b <= a:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def _length(u: list[tuple[int, int]]) -> int:
    return sum(b - a for a, b in u)


def _overlap(u: list[tuple[int, int]], v: list[tuple[int, int]]) -> int:
    total = 0
    for a, b in u:
        for c, d in v:
            total += max(0, min(b, d) - max(a, c))
    return total


def spans_match(pred: Pieces, gold: Pieces, mode: str = "overlap") -> bool:
    """Does one predicted span match one gold span under the convention (or exactly)?"""
    u, v = _union(pred), _union(gold)
    if mode == "exact":
        return u == v
    longer = max(_length(u), _length(v))
    return longer > 0 and 2 * _overlap(u, v) >= longer


def match(pred: Iterable[Pieces], gold: Iterable[Pieces], mode: str = "overlap"
          ) -> list[tuple[int, int]]:
    """One-to-one matching of predicted to gold spans: pairs of (pred index, gold index)."""
    if mode not in MODES:
        raise ValueError(f"unknown match mode {mode!r}; use one of {', '.join(MODES)}")
    P = [_union(p) for p in pred]
    G = [_union(g) for g in gold]
    candidates = []
    for i, u in enumerate(P):
        lu = _length(u)
        for j, v in enumerate(G):
            if mode == "exact":
                if u == v:
                    candidates.append((lu, j, i))
                continue
            ov = _overlap(u, v)
            if ov and 2 * ov >= max(lu, _length(v)):
                candidates.append((ov, j, i))
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    used_p: set[int] = set()
    used_g: set[int] = set()
    pairs = []
    for _, j, i in candidates:
        if i in used_p or j in used_g:
            continue
        used_p.add(i)
        used_g.add(j)
        pairs.append((i, j))
    return sorted(pairs)


def _distinct(spans: Iterable[Pieces]) -> list[list[tuple[int, int]]]:
    # The same span may serve several claims (one source, two statements): count it once.
    seen: dict[tuple, list[tuple[int, int]]] = {}
    for s in spans:
        u = _union(s)
        if u:
            seen.setdefault(tuple(u), u)
    return list(seen.values())


def score(pred: Iterable[Pieces], gold: Iterable[Pieces], mode: str = "overlap") -> PRF:
    """Precision/recall counts of distinct predicted against distinct gold spans of one article."""
    P, G = _distinct(pred), _distinct(gold)
    return PRF(tp=len(match(P, G, mode)), n_pred=len(P), n_gold=len(G))


def score_roles(pred: dict[str, list[Pieces]], gold: dict[str, list[Pieces]],
                roles: Sequence[str], mode: str = "overlap") -> dict[str, PRF]:
    """Score one article role by role (e.g. Cue, Source, Content): {role: PRF}."""
    return {r: score(pred.get(r, []), gold.get(r, []), mode) for r in roles}


def pairwise_agreement(versions: dict[str, dict[str, list[Pieces]]], mode: str = "overlap"
                       ) -> dict[str, PRF]:
    """Agreement per label among annotators of one article, summed over all annotator pairs.

    `versions` maps annotator -> {label: spans}. Each unordered pair contributes one
    comparison (first annotator in sorted order as reference); F1 is symmetric, so the
    order does not change it.
    """
    labels = sorted({lab for v in versions.values() for lab in v})
    out = {lab: PRF() for lab in labels}
    for a, b in combinations(sorted(versions), 2):
        for lab in labels:
            out[lab] += score(versions[b].get(lab, []), versions[a].get(lab, []), mode)
    return out
