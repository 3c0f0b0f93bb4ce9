"""Span scoring convention: overlap covering half the longer span, one-to-one matching."""
from annotation.scoring import PRF, match, pairwise_agreement, score, spans_match


def test_half_of_longer_span_matches_and_less_does_not():
    assert spans_match([(0, 10)], [(0, 5)])          # 5 of the longer 10
    assert not spans_match([(0, 10)], [(0, 4)])      # 4 of 10
    assert spans_match([(0, 4)], [(2, 6)])           # 2 of 4
    assert not spans_match([(0, 4)], [(3, 7)])


def test_discontinuous_gold_counts_as_union_of_pieces():
    gold = [(0, 5), (20, 25)]                        # 10 characters
    assert spans_match([(0, 5)], gold)               # 5 of 10
    assert not spans_match([(0, 4)], gold)
    assert spans_match([(0, 25)], gold) is False     # 10 of the longer 25
    assert spans_match([(20, 25), (0, 5)], gold, "exact")


def test_matching_is_one_to_one_greedy_by_overlap():
    gold = [[(0, 10)]]
    pred = [[(0, 6)], [(0, 10)]]
    assert match(pred, gold) == [(1, 0)]             # the larger overlap wins, once
    prf = score(pred, gold)
    assert (prf.tp, prf.n_pred, prf.n_gold) == (1, 2, 1)
    assert prf.precision == 0.5 and prf.recall == 1.0 and round(prf.f1, 4) == 0.6667


def test_exact_mode_and_duplicates_counted_once():
    prf = score([[(0, 5)], [(0, 5)], [(7, 9)]], [[(0, 5)], [(6, 9)]], "exact")
    assert (prf.tp, prf.n_pred, prf.n_gold) == (1, 2, 2)
    assert score([], []).f1 == 0.0


def test_pairwise_agreement_per_label():
    versions = {"a": {"Cue": [[(0, 4)]], "Source": [[(10, 20)]]},
                "b": {"Cue": [[(0, 4)]], "Source": [[(30, 40)]]},
                "c": {"Cue": [[(1, 4)]]}}
    out = pairwise_agreement(versions)
    assert out["Cue"].tp == 3 and out["Cue"].f1 == 1.0
    assert out["Source"].tp == 0 and out["Source"].n_gold + out["Source"].n_pred == 4
    total = PRF()
    total += out["Cue"]
    assert total.tp == 3
