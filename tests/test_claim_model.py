"""The learned claim model: decided data in, a model out (bytes, provenance), cancel, negatives,
the new cue kinds, the seed article, and a small slice of polnear-train against the built-in
lexicon."""
from __future__ import annotations

import gzip
import json

import pytest

from annotation.claim_model import (
    Attribution,
    ClaimExample,
    ClaimModel,
    ClaimModelError,
    Logistic,
    NotEnoughData,
    attribution,
    examples_from_brat_dir,
    parse_texts,
    score_claim_model,
    train_claim_model,
)
from annotation.claims import cue_candidates, detect_claims, source_options
from annotation.cues import builtin_lexicon
from annotation.progress import Cancelled
from tests.conftest import shared_path

# The seed article's eight attributed claims: (cue, words its source must contain).
SEED_EIGHT = [("reported", "Reuters"), ("told", "reliable source"), ("added", "the source"),
              ("denied", "Zaman-Alwasl's local source"), ("said", "the reporter"),
              ("assured", "FSA"), ("told", "media activist"), ("saying", "The United Nations")]


def _hand_made(cues: dict[str, float], extent: dict[str, float] | None = None) -> ClaimModel:
    """A model whose cue and extent weights are given (its rules' choices left to the rules)."""
    return ClaimModel(cue=Logistic(bias=-5.0, weights={k: 10.0 for k in cues}),
                      extent=Logistic(bias=-5.0, weights={k: 10.0 for k in extent or {}}),
                      parts=Logistic(bias=0.0), threshold=0.5, dobj_content={"say|VERB": 1.0},
                      provenance={"documents": 3, "attributions": 7, "negatives": 1,
                                  "base_model": "test"})


def _parts(text: str, found) -> list[tuple[str, str | None, str | None]]:
    part = lambda span: text[span[0]:span[1]] if span else None
    return [(part(c.cue), part(c.source), part(c.content)) for c in found]


# -- serialisation ---------------------------------------------------------------------------

def test_round_trip_to_and_from_bytes():
    model = _hand_made({"k=say|VERB": 1}, {"L|aux|has": 1})
    model.reading = Logistic(bias=0.5, weights={"o=content:clause": -1.25})
    data = model.to_bytes()
    back = ClaimModel.from_bytes(data)
    assert back.to_bytes() == data                      # deterministic, nothing lost
    assert back.cue.weights == {"k=say|VERB": 10.0} and back.extent.bias == -5.0
    assert back.reading.weights == {"o=content:clause": -1.25}
    assert back.provenance == model.provenance and back.threshold == 0.5
    # Plain gzip-compressed JSON that names its format and version: nothing that runs code.
    obj = json.loads(gzip.decompress(data))
    assert obj["format"] == "credence-claim-model" and obj["version"] == 2


def test_a_version_1_model_still_reads():
    # Written before cues had context features: its weights are a subset, read as they are.
    obj = json.loads(gzip.decompress(_hand_made({"k=say|VERB": 1}).to_bytes()))
    obj["version"] = 1
    old = ClaimModel.from_bytes(_gz(obj))
    assert old.cue.weights == {"k=say|VERB": 10.0} and old.threshold == 0.5


def _gz(obj) -> bytes:
    return gzip.compress(json.dumps(obj).encode("utf-8"))


@pytest.mark.parametrize("data, message", [
    (b"", "damaged"),
    (b"\x80\x03cos\nsystem\nq\x00.", "damaged"),        # a pickle is refused, never loaded
    (gzip.compress(b"{not json"), "damaged"),
    (_gz(["a", "list"]), "not a claim model"),
    (_gz({"format": "credence-cue-lexicon/1", "cues": {}}), "old cue lexicon"),
    (_gz({"format": "credence-claim-model", "version": 99}), "update Credence"),
    (_gz({"format": "credence-claim-model", "version": 1, "cue": {}}), "damaged"),
])
def test_damaged_or_foreign_bytes_are_one_clear_error(data, message):
    with pytest.raises(ClaimModelError, match=message):
        ClaimModel.from_bytes(data)


def test_truncated_bytes_and_missing_file(tmp_path):
    data = _hand_made({"k=say|VERB": 1}).to_bytes()
    with pytest.raises(ClaimModelError, match="damaged"):
        ClaimModel.from_bytes(data[: len(data) // 2])
    with pytest.raises(ClaimModelError, match="cannot read"):
        ClaimModel.load(tmp_path / "absent.json.gz")
    bad = tmp_path / "model.json.gz"
    bad.write_bytes(data[:-5])
    with pytest.raises(ClaimModelError, match=str(bad)):
        ClaimModel.load(bad)


# -- training: progress, cancel, too little data, negatives -------------------------------------

SAID = ["The mayor said the bridge would reopen in May.",
        "A spokesman said the talks had failed.",
        "The minister said taxes would rise next year.",
        "Officials said the fire was under control.",
        "The coach said his team played well.",
        "The governor said the roads were safe again.",
        "Police said two men were arrested."]
ARGUED = " The senator argued that the budget was too small."


def _said_examples(with_negatives: bool) -> list[ClaimExample]:
    """Documents where "said" attributions are decided and "argued" ones were rejected."""
    out = []
    for sentence in SAID:
        text = sentence + ARGUED
        cue = text.index(" said") + 1
        att = attribution(source=(0, cue - 1), cue=(cue, cue + 4), content=(cue + 5, len(sentence) - 1))
        neg = []
        if with_negatives:
            a = text.index("argued")
            neg = [attribution(source=(len(sentence) + 1, a - 1), cue=(a, a + 6))]
        out.append(ClaimExample(text=text, attributions=[att], negatives=neg, complete=False))
    return out


def test_training_reports_progress_and_can_be_cancelled(nlp):
    examples = _said_examples(with_negatives=False)
    seen = []
    model = train_claim_model(examples, nlp, folds=2, progress=lambda d, t: seen.append((d, t)))
    total = seen[-1][1]
    assert seen[-1][0] == total and [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert model.provenance["documents"] == len(SAID)
    calls = []

    def cancel_after_two() -> bool:
        calls.append(1)
        return len(calls) > 2
    with pytest.raises(Cancelled):
        train_claim_model(examples, nlp, folds=2, should_cancel=cancel_after_two)


def test_too_little_data_is_refused_with_how_much_is_needed(nlp):
    with pytest.raises(NotEnoughData, match="at least 5 documents"):
        train_claim_model(_said_examples(False)[:2], nlp)


def test_negatives_reduce_proposals(nlp):
    test_text = "The chairman said the vote was delayed. The lawyer argued that the deal was void."

    def proposed_cues(model) -> list[str]:
        return [test_text[c.cue[0]:c.cue[1]] for c in detect_claims(nlp(test_text), model)]
    without = train_claim_model(_said_examples(False), nlp, folds=2)
    with_negs = train_claim_model(_said_examples(True), nlp, folds=2)
    assert with_negs.provenance["negatives"] == len(SAID)
    # Unmarked "argued" is proposed (the built-in prior); rejected "argued" is not.
    assert "argued" in proposed_cues(without)
    assert "argued" not in proposed_cues(with_negs) and "said" in proposed_cues(with_negs)


# -- detection: the new cue kinds ---------------------------------------------------------------

def test_colon_noun_and_inverted_quotation_cues(nlp):
    model = _hand_made({"k=:|PUNCT": 1, "k=respond|VERB": 1, "k=speculation|NOUN": 1})
    text = "Bill Clinton: Hillary will win the nomination."
    found = _parts(text, detect_claims(nlp(text), model))
    assert (":", "Bill Clinton", "Hillary will win the nomination") in found
    text = "“Amazing,” responded Abedin."
    assert _parts(text, detect_claims(nlp(text), model)) == [("responded", "Abedin", "“Amazing,”")]
    text = "There was speculation that the senator would resign."
    found = _parts(text, detect_claims(nlp(text), model))
    assert ("speculation", None, "that the senator would resign") in found
    # The built-in lexicon offers no colon cues.
    assert not [c for c in detect_claims(nlp("Bill Clinton: Hillary will win."), builtin_lexicon())
                if c.key == ":|PUNCT"]


def test_a_colon_content_ends_with_its_line(nlp):
    model = _hand_made({"k=:|PUNCT": 1})
    text = "Trump: I Am the Worst Thing for the Establishment\n\nMonday at Liberty University the crowd cheered"
    found = _parts(text, detect_claims(nlp(text), model))
    assert (":", "Trump", "I Am the Worst Thing for the Establishment") in found


def test_a_content_may_end_at_an_aside_deep_in_its_object(nlp):
    text = "The governor ordered a review of the visa program, which allows foreigners to marry Americans."
    model = _hand_made({"k=order|VERB": 1})
    assert _parts(text, detect_claims(nlp(text), model)) == [
        ("ordered", "The governor", "a review of the visa program, which allows foreigners to marry Americans")]
    # A model that learned to end contents at such an aside ends it there.
    model.parts = Logistic(bias=2.0, weights={"content-cut-deep|bias": -4.0})
    assert _parts(text, detect_claims(nlp(text), model)) == [
        ("ordered", "The governor", "a review of the visa program")]


def test_a_learned_model_finds_sources_the_rules_miss(nlp):
    # "It" as a source, the subject of the verb a prepositional gerund hangs from: readings a
    # learned model weighs (the built-in lexicon does not).
    model = _hand_made({"k=accuse|VERB": 1, "k=denounce|VERB": 1})
    text = "It also accused another reporter of misrepresenting herself in interviews."
    assert _parts(text, detect_claims(nlp(text), model))[0][:2] == ("accused", "It")
    text = "Gary Hart started winning Senate campaigns by denouncing the New Deal."
    assert _parts(text, detect_claims(nlp(text), model))[0][:2] == ("denouncing", "Gary Hart")
    # Past the first subject up the tree: the parse hangs "adding" inside what Trump told.
    text = ("Trump told Newsmax that Mitt Romney “had a crazy policy of self-deportation which was "
            "maniacal,” adding, “He lost all of the Latino vote.”")
    model = _hand_made({"k=add|VERB": 1})
    cand = next(c for c in cue_candidates(nlp(text), broad=True) if c.head.text == "adding")
    names = [o.name for o in source_options(cand.head.doc, cand, model) if o.tokens]
    assert names[0] == "governor-subject" and "governor-subject-up|ccomp" in names
    model.reading = Logistic(weights={"o=source:governor-subject-up|ccomp": 3.0})
    assert ("adding", "Trump") in [f[:2] for f in _parts(text, detect_claims(nlp(text), model))]
    # The built-in lexicon keeps to its rules: no "It" source.
    text = "It also accused another reporter of misrepresenting herself in interviews."
    assert all(src != "It" for _c, src, _ in _parts(text, detect_claims(nlp(text), builtin_lexicon())))


def test_cue_extent_grows_over_a_noun_phrase(nlp):
    model = _hand_made({"k=release|VERB": 1}, {"R|unit|dobj": 1, "R|w=say": 1})
    text = "The campaign released a statement saying the report was false."
    found = _parts(text, detect_claims(nlp(text), model))
    assert found and found[0][:2] == ("released a statement saying", "The campaign")


# -- the seed article ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seed(nlp):
    from annotation.normalise import normalise
    raw = shared_path("seed", "homs-offensive.txt").read_text(encoding="utf-8")
    text = normalise(raw).text
    return text, nlp(text)


def _seed_hits(seed, model) -> list[tuple[str, str]]:
    """The eight claims found: a cue holding the verb, a source holding the words (little more)."""
    text, doc = seed
    got = {(text[c.cue[0]:c.cue[1]], text[c.source[0]:c.source[1]])
           for c in detect_claims(doc, model) if c.source}
    return [(cue, src) for cue, src in SEED_EIGHT
            if any(cue in g_cue.split() and src in g_src and len(g_src) < len(src) + 25
                   for g_cue, g_src in got)]


def test_seed_eight_claims_with_the_builtin_lexicon(seed):
    assert _seed_hits(seed, None) == SEED_EIGHT


@pytest.fixture(scope="module")
def slice_model(nlp):
    """A model trained on 60 polnear-train articles (the first in sorted order)."""
    return train_claim_model(examples_from_brat_dir(shared_path("polnear-train"), limit=60), nlp)


@pytest.mark.slow
def test_seed_claims_with_a_model_trained_on_a_slice_of_polnear(seed, slice_model):
    # A model trained on all of polnear-train finds all eight (bench/bench_claims.py checks
    # it: a full training takes minutes); one trained on 60 articles already finds most.
    hits = _seed_hits(seed, slice_model)
    assert len(hits) >= 6, hits
    assert ("reported", "Reuters") in hits and ("assured", "FSA") in hits


@pytest.mark.slow
def test_a_small_slice_of_training_beats_the_builtin_lexicon(nlp, slice_model):
    dev = examples_from_brat_dir(shared_path("polnear-dev"), limit=12)
    docs = parse_texts(nlp, [e.text for e in dev])
    learned = score_claim_model(slice_model, dev, nlp, docs=docs)
    builtin = score_claim_model(None, dev, nlp, docs=docs)
    for role in ("cue", "source", "content"):
        assert learned["overlap"][role].f1 >= builtin["overlap"][role].f1, role


def test_examples_from_brat_keep_every_part(tmp_path):
    (tmp_path / "text").mkdir()
    (tmp_path / "attributions").mkdir()
    text = "Reuters said the army won. It was late."
    (tmp_path / "text" / "a.txt").write_text(text, encoding="utf-8")
    ann = ("T1\tSource 0 7\tReuters\nT2\tCue 8 12\tsaid\nT3\tContent 13 25\tthe army won\n"
           "T4\tAttribution 8 12\tsaid\nE1\tAttribution:T4 Source:T1 Cue:T2 Content:T3\n")
    (tmp_path / "attributions" / "a_x.ann").write_text(ann, encoding="utf-8")
    (tmp_path / "attributions" / "a_y.ann").write_text("", encoding="utf-8")  # later annotator
    [ex] = examples_from_brat_dir(tmp_path)
    assert ex.name == "a" and ex.complete and ex.negatives == []
    assert ex.attributions == [Attribution(((0, 7),), ((8, 12),), ((13, 25),))]
