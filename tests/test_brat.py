"""brat standoff: parse real PolNeAR files, report flawed lines, write and read back."""
from annotation.brat import parse_ann, write_ann
from tests.conftest import shared_path

TEXT = "Reuters said the army won. Later, officials denied it."
ANN = ("T1\tSource 0 7\tReuters\nT2\tCue 8 12\tsaid\nT3\tContent 13 25\tthe army won\n"
       "T4\tAttribution 8 12\tsaid\nE1\tAttribution:T4 Source:T1 Cue:T2 Content:T3\n"
       "T5\tCue 44 50\tdenied\nT6\tContent 0 7;51 53\tReuters it\n"
       "T7\tAttribution-no-source 44 50\tdenied\nE2\tAttribution-no-source:T7 Cue:T5 Content:T6\n")


def _signature(spans, claims):
    by_key = {s.key: (s.label, s.start, s.end, str(s.fragments)) for s in spans}
    return (sorted(by_key.values()),
            sorted(repr(tuple(by_key.get(k) for k in (c.attribution, c.source, c.cue, c.content)))
                   for c in claims))


def test_parse_small_file_with_discontinuous_span():
    spans, claims, problems = parse_ann(TEXT, ANN, "ann1")
    assert problems == []
    assert len(spans) == 7 and all(s.origin == "import" and s.status == "accepted"
                                   and s.annotator == "ann1" for s in spans)
    disc = next(s for s in spans if s.key == "T6")
    assert (disc.start, disc.end, disc.fragments) == (0, 53, [[0, 7], [51, 53]])
    assert [(c.attribution, c.source, c.cue, c.content) for c in claims] == [
        ("T4", "T1", "T2", "T3"), ("T7", None, "T5", "T6")]


def test_flawed_lines_are_reported_not_fatal():
    ann = ("T1\tSource 0 7\tReutersX\n"          # surface differs
           "T2\tCue 8 12 said\n"                 # malformed: no tab before surface
           "T3\tContent 13 999\tthe army\n"      # out of range
           "the rest of a broken surface\n"      # continuation line
           "T4\tCue 8 12\tsaid\nE1\tCue:T4 Source:T1 Content:T3\n")
    spans, claims, problems = parse_ann(TEXT, ann)
    assert [s.key for s in spans] == ["T1", "T4"]
    assert len(problems) == 5  # differing surface, malformed T, out of range, stray line, E ref
    assert any("differs" in p for p in problems) and any("malformed T" in p for p in problems)
    assert claims[0].cue == "T4" and claims[0].source == "T1" and claims[0].content is None


def test_round_trip_small():
    spans, claims, _ = parse_ann(TEXT, ANN)
    out = write_ann(TEXT, spans, claims)
    spans2, claims2, problems = parse_ann(TEXT, out)
    assert problems == []
    assert _signature(spans, claims) == _signature(spans2, claims2)
    assert "T6\tContent 0 7;51 53\tReuters it" in out


def test_polnear_train_flaws_reported():
    root = shared_path("polnear-train")
    flawed = ["nyt_2016-04-18_for-news-outlets-feeling-the-squ_4e07",
              "usa-today_2016-08-09_khans-trump-stirs-ugliness-musli_4e07",
              "wash-post_2016-06-27_byline-amber-phillips_4e07"]
    differing = 0
    for stem in flawed:
        name = stem.rsplit("_", 1)[0]
        text = (root / "text" / f"{name}.txt").read_text(encoding="utf-8")
        ann = (root / "attributions" / f"{stem}.ann").read_text(encoding="utf-8")
        spans, claims, problems = parse_ann(text, ann, "4e07")
        differing += sum("differs" in p for p in problems)
        assert any("malformed" in p for p in problems)
        assert len(spans) > 20 and len(claims) > 5
    assert differing == 3


def test_polnear_dev_round_trip_all_articles():
    root = shared_path("polnear-dev")
    files = sorted((root / "attributions").glob("*.ann"))
    assert len(files) == 94
    n_spans = 0
    for f in files:
        name, annotator = f.stem.rsplit("_", 1)
        text = (root / "text" / f"{name}.txt").read_text(encoding="utf-8")
        spans, claims, problems = parse_ann(text, f.read_text(encoding="utf-8"), annotator)
        assert problems == [], f.name
        out = write_ann(text, spans, claims)
        spans2, claims2, problems2 = parse_ann(text, out, annotator)
        assert problems2 == [], f.name
        assert _signature(spans, claims) == _signature(spans2, claims2), f.name
        n_spans += len(spans)
    assert n_spans == 9095
