"""Claim detection on the seed article, the built-in lexicon, hand-made and learned claim models
(saved, loaded, damaged), and evaluation."""
import pytest

from annotation.claim_model import (
    ClaimModel,
    ClaimModelError,
    Logistic,
    default_claim_model,
    examples_from_brat_dir,
    learned_model_path,
    train_claim_model,
)
from annotation.claims import ClaimSuggestion, detect_claims
from annotation.cues import builtin_lexicon
from tests.conftest import shared_path

# (cue, words the source must contain) for the seed's attributions.
SEED_CLAIMS = [
    ("said", "National Defense Army"), ("told", "reliable source"), ("reported", "Reuters"),
    ("added", "the source"), ("denied", "Zaman-Alwasl's local source"),
    ("said", "the reporter"), ("assured", "FSA"), ("told", "media activist"),
    ("saying", "The United Nations"),
]


@pytest.fixture(scope="module")
def seed(nlp):
    from annotation.normalise import normalise
    raw = shared_path("seed", "homs-offensive.txt").read_text(encoding="utf-8")
    text = normalise(raw).text
    return text, nlp(text)


def test_seed_claims_with_builtin_lexicon(seed):
    text, doc = seed
    found = detect_claims(doc, builtin_lexicon())
    assert all(isinstance(c, ClaimSuggestion) for c in found)
    got = {(text[c.cue[0]:c.cue[1]], text[c.source[0]:c.source[1]]) for c in found if c.source}
    hits = [(cue, src) for cue, src in SEED_CLAIMS
            if any(g_cue == cue and src in g_src and len(g_src) < len(src) + 25
                   for g_cue, g_src in got)]
    assert len(hits) >= 8, f"found only {hits}; detected {sorted(got)}"


def test_seed_contents(seed):
    text, doc = seed
    found = {text[c.source[0]:c.source[1]]: text[c.content[0]:c.content[1]]
             for c in detect_claims(doc, builtin_lexicon()) if c.source and c.content}
    assert found["Reuters"].startswith("Assad's forces have been on the offensive")
    assert found["FSA"] == "that the fighters will not leave Homs"
    assert found["the source"].startswith("Until now there are no concrete victory")
    assert "2,500 and 4,000 civilians were trapped" in found["The United Nations"]
    # A forward content stops where a later attribution takes over.
    nda = next(v for k, v in found.items() if k.startswith("National Defense Army"))
    assert nda == "200 fighters were killed since the beginning of the offensive"


def test_offsets_are_character_offsets_into_text(seed):
    text, doc = seed
    for c in detect_claims(doc, builtin_lexicon()):
        for span in (c.cue, c.source, c.content):
            if span:
                assert 0 <= span[0] < span[1] <= len(text)
                assert text[span[0]:span[1]] == text[span[0]:span[1]].strip()


def test_according_to_and_claim_that(nlp):
    text = "According to the ministry, the bridge was destroyed. He rejected the claim that troops left."
    found = detect_claims(nlp(text), builtin_lexicon())
    acc = next(c for c in found if text[c.cue[0]:c.cue[1]] == "According to")
    assert text[acc.source[0]:acc.source[1]] == "the ministry"
    assert text[acc.content[0]:acc.content[1]] == "the bridge was destroyed"
    claim = next(c for c in found if text[c.cue[0]:c.cue[1]] == "claim")
    assert text[claim.content[0]:claim.content[1]] == "that troops left"


def _say_model(**extent) -> ClaimModel:
    """A hand-made claim model: forms of "say" are cues, nothing else is."""
    return ClaimModel(cue=Logistic(bias=-5.0, weights={"k=say|VERB": 10.0}),
                      extent=Logistic(bias=-5.0, weights={k: 10.0 for k in extent}),
                      parts=Logistic(bias=5.0), threshold=0.5, provenance={"documents": 0})


def test_default_model_is_the_learned_file_when_present(tmp_path, monkeypatch):
    monkeypatch.setenv("CREDENCE_HOME", str(tmp_path))
    assert default_claim_model() is None
    _say_model().save(learned_model_path())
    assert learned_model_path() == tmp_path / "claim-model.json.gz"
    model = default_claim_model()
    assert model is not None and model.cue.weights == {"k=say|VERB": 10.0}
    assert "learned claim model" in model.describe()
    learned_model_path().write_text("{not a model", encoding="utf-8")
    with pytest.raises(ClaimModelError, match="damaged"):
        default_claim_model()


@pytest.mark.slow
def test_train_on_a_train_subset(nlp, tmp_path):
    examples = examples_from_brat_dir(shared_path("polnear-train"), limit=12)
    model = train_claim_model(examples, nlp, folds=3)
    p = model.provenance
    assert p["documents"] == 12 and p["attributions"] == sum(len(e.attributions) for e in examples)
    assert p["negatives"] == 0 and p["base_model"].startswith("en_core_web_sm")
    assert set(p["cv_f1"]) and 0 < model.threshold < 1
    back = ClaimModel.load(model.save(tmp_path / "model.json.gz"))
    assert back.to_bytes() == model.to_bytes()
    assert back.cue.weights and back.extent.weights and back.parts.weights
    text = "The senator said the plan would fail."
    found = detect_claims(nlp(text), back)
    said = next(c for c in found if text[c.cue[0]:c.cue[1]] == "said")
    assert text[said.source[0]:said.source[1]] == "The senator"
    assert text[said.content[0]:said.content[1]] == "the plan would fail"


def test_cue_model_takes_quotations_whole_and_grows_the_cue(nlp):
    text = ('"We will win this state," the governor has said. "They will lose it. '
            'Everyone knows that."')
    found = detect_claims(nlp(text), _say_model(**{"L|aux|has": 1}))
    assert len(found) == 1
    c = found[0]
    assert text[c.cue[0]:c.cue[1]] == "has said"
    assert text[c.source[0]:c.source[1]] == "the governor"
    # The quotation the attribution interrupts resumes after it: one content over both parts.
    assert text[c.content[0]:c.content[1]] == text
    # Without a learned extent the cue is the verb alone.
    assert [text[x.cue[0]:x.cue[1]] for x in detect_claims(nlp(text), _say_model())] == ["said"]


def test_quotations_pair_within_paragraphs():
    from annotation.claims import quotations
    text = "“One,” she said. ''Two.''\n\"Unpaired\nAnd \"three.\""
    assert [text[a:b] for a, b in quotations(text)] == ["“One,”", "''Two.''", '"three."']


def test_eval_on_a_few_dev_articles(nlp):
    from storage.claims_eval import eval_claims, format_eval
    root = shared_path("polnear-dev")
    result = eval_claims(root, nlp, None, limit=6)
    assert result["articles"] == 6 and "built-in" in result["lexicon"]
    for mode in ("overlap", "exact"):
        for role in ("cue", "source", "content"):
            d = result[mode][role]
            assert d["gold"] > 20 and 0 <= d["precision"] <= 1
    assert result["overlap"]["cue"]["f1"] > 0.4 and result["overlap"]["source"]["f1"] > 0.4
    assert result["exact"]["content"]["f1"] <= result["overlap"]["content"]["f1"]
    assert "Content" in format_eval(result)


def test_eval_rejects_a_folder_not_laid_out_like_polnear(tmp_path, nlp):
    from storage.claims_eval import eval_claims
    with pytest.raises(ClaimModelError, match="not laid out"):
        eval_claims(tmp_path, nlp, None)


def test_agreement_among_annotators_of_a_project(project):
    from annotation.model import NewDocument, SpanRecord
    from storage.claims_eval import agreement
    from storage.ingest import store_documents
    text = "Reuters said the army won the battle."

    def version(who, cue_end):
        return [SpanRecord(0, 7, "Source", "import", "accepted", who),
                SpanRecord(8, cue_end, "Cue", "import", "accepted", who)]
    spans = version("a", 12) + version("b", 12) + version("c", 9)
    store_documents(project, [NewDocument(raw_text=text, name="x", spans=spans, normalise=False)])
    out = agreement(project)
    assert out["documents"] == 1 and out["annotators"] == 3
    assert out["per_label"]["Source"]["f1"] == 1.0 and out["per_label"]["Source"]["pairs"] == 3
    # c's one-letter cue overlaps "said" by a quarter: it matches neither a nor b.
    assert out["per_label"]["Cue"]["matched"] == 1 and out["per_label"]["Cue"]["f1"] == 0.3333
