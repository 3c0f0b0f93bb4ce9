"""Import of every format into a real project file: the stored rows, the messages, all or nothing."""
from __future__ import annotations

import json
import time

import pytest

from storage.importer import import_paths
from storage.project import ProjectError
from tests.conftest import shared_path

FAKES_MAPPING = dict(text_column="article_content", title_column="article_title",
                     meta_columns=["source", "date", "location", "labels"])


def _docs(project) -> list[dict]:
    # raw_text is NULL where it is exactly the text (stored once).
    cur = project.conn.execute("SELECT id, name, title, source, url, date,"
                               " coalesce(raw_text, text) AS raw_text, text, meta,"
                               " offset_map FROM documents ORDER BY id")
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, r)) for r in cur]


def _spans(project) -> list[tuple]:
    return project.conn.execute('SELECT document_id, start, "end", label, origin, status, annotator'
                                " FROM spans ORDER BY document_id, start, id").fetchall()


# -- txt ------------------------------------------------------------------------------------------
def test_txt_is_normalised_named_and_reimport_adds_nothing(project, tmp_path):
    raw = "Homs, 140 km (90\nmiles) north of Damascus.\nComments About This Article\n"
    f = tmp_path / "homs-report.txt"
    f.write_text(raw, encoding="utf-8")
    summary = import_paths(project, [f])
    assert (summary.added, summary.duplicates) == (1, 0)
    [doc] = _docs(project)
    assert doc["name"] == "homs-report"
    assert doc["raw_text"] == raw
    assert doc["text"] == "Homs, 140 km (90 miles) north of Damascus."
    assert json.loads(doc["offset_map"])[0][:2] == [0, 0]
    again = import_paths(project, [f])
    assert (again.added, again.duplicates) == (0, 1)
    assert project.document_count() == 1


def test_no_normalise_keeps_the_text(project, tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("line one\nline two\n", encoding="utf-8")
    import_paths(project, [f], normalise=False)
    assert _docs(project)[0]["text"] == "line one\nline two\n"


def test_seed_article_imports_clean(project):
    seed = shared_path("seed", "homs-offensive.txt")
    import_paths(project, [seed])
    [doc] = _docs(project)
    assert doc["name"] == "homs-offensive"
    assert doc["text"].count("reliable source told Zaman Alwasl") == 1
    assert "Please fill the fields below" not in doc["text"]
    assert doc["raw_text"] == seed.read_text(encoding="utf-8")


# -- decoding ------------------------------------------------------------------------------------
def test_non_utf8_file_is_decoded_with_a_warning(project, tmp_path):
    text = ("The minister\u2019s caf\u00e9 statement \u2014 issued on Monday \u2014 said "
            "the cr\u00e8me br\u00fbl\u00e9e was na\u00efve.")
    f = tmp_path / "old.txt"
    f.write_bytes(text.encode("cp1252"))
    summary = import_paths(project, [f])
    assert any("decoded as cp1252" in w and "old.txt" in w for w in summary.warnings)
    assert _docs(project)[0]["raw_text"] == text


def test_utf16_and_utf8_bom(project, tmp_path):
    tmp_path = tmp_path / "in"
    tmp_path.mkdir()
    (tmp_path / "a.txt").write_bytes("\ufeffBOM text, caf\u00e9 \U0001F600.".encode("utf-8"))
    (tmp_path / "b.txt").write_bytes("Wide text \u0642\u0627\u0644.".encode("utf-16"))
    summary = import_paths(project, [tmp_path])
    assert summary.added == 2 and not summary.warnings
    texts = sorted(d["raw_text"] for d in _docs(project))
    assert texts == ["BOM text, caf\u00e9 \U0001F600.", "Wide text \u0642\u0627\u0644."]


def test_binary_and_empty_files_are_refused(project, tmp_path):
    (tmp_path / "x.bin").write_bytes(bytes(range(256)) * 20)
    with pytest.raises(ProjectError, match=r"x\.bin looks binary, not text"):
        import_paths(project, [tmp_path / "x.bin"], fmt="txt")
    (tmp_path / "doc.txt").write_bytes(b"%PDF-1.7\n\x00\x01binary")
    with pytest.raises(ProjectError, match=r"doc\.txt looks binary \(a PDF\)"):
        import_paths(project, [tmp_path / "doc.txt"])
    (tmp_path / "x.txt").write_bytes(b"")
    with pytest.raises(ProjectError, match=r"x\.txt is empty"):
        import_paths(project, [tmp_path / "x.txt"])
    assert project.document_count() == 0


def test_missing_path_and_unknown_format(project, tmp_path):
    with pytest.raises(ProjectError, match=r"nope\.txt: no such file or folder"):
        import_paths(project, [tmp_path / "nope.txt"])
    (tmp_path / "a.docx").write_text("x")
    with pytest.raises(ProjectError, match="cannot tell its format"):
        import_paths(project, [tmp_path / "a.docx"])
    with pytest.raises(ProjectError, match="unknown format 'pdf'"):
        import_paths(project, [tmp_path / "a.docx"], fmt="pdf")


def test_failure_half_way_adds_nothing(project, tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    for i in range(3):
        (folder / f"a{i}.txt").write_text(f"Article number {i} about Homs.", encoding="utf-8")
    (folder / "z-last.txt").write_bytes(b"\x00\x01\x02\x03" * 500)
    with pytest.raises(ProjectError, match=r"z-last\.txt looks binary.*nothing was imported"):
        import_paths(project, [folder])
    assert project.document_count() == 0
    assert project.conn.execute("SELECT count(*) FROM documents_fts").fetchone()[0] == 0
    (folder / "z-last.txt").unlink()
    assert import_paths(project, [folder]).added == 3


def test_huge_single_line_is_refused_or_skipped_quickly(project, tmp_path):
    line = "word " * 2_100_000  # 10.5 MB on one line
    (tmp_path / "big.txt").write_text(line, encoding="utf-8")
    t = time.perf_counter()
    with pytest.raises(ProjectError, match=r"big\.txt is 10\.0 MB: more than one article"):
        import_paths(project, [tmp_path / "big.txt"])
    (tmp_path / "big.jsonl").write_text(json.dumps({"text": line}) + "\n"
                                        + json.dumps({"text": "Small one."}) + "\n", encoding="utf-8")
    summary = import_paths(project, [tmp_path / "big.jsonl"])
    assert summary.added == 1 and "big.jsonl:1:" in summary.skipped[0]
    (tmp_path / "big.csv").write_text("text\n" + line + "\nSmall too.\n", encoding="utf-8")
    summary = import_paths(project, [tmp_path / "big.csv"])
    assert summary.added == 1 and "big.csv:2:" in summary.skipped[0]
    assert time.perf_counter() - t < 10


# -- html -----------------------------------------------------------------------------------------
PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Homs offensive | News</title>
<link rel="canonical" href="https://example.org/homs"><style>p { color: red }</style>
<script>var tracking = "do not keep";</script></head>
<body><header>Site menu Home World</header><nav><a href="/">Home</a></nav>
<article><h1>Homs offensive</h1>
<p>Assad's forces have been on the <b>offensive</b> in the central
   Syrian city, <a href="/r">Reuters</a> reported.</p>
<p>FSA assured that the fighters will not leave Homs.<br>Second line.</p>
<iframe src="https://ads.example/"></iframe><noscript>Enable JS</noscript>
<ul><li>One &amp; two</li><li>Three</li></ul></article>
<footer>Copyright footer</footer></body></html>"""


def test_html_keeps_the_visible_text_only(project, tmp_path):
    f = tmp_path / "page.html"
    f.write_text(PAGE, encoding="utf-8")
    summary = import_paths(project, [f])
    assert summary.added == 1
    [doc] = _docs(project)
    assert (doc["name"], doc["title"], doc["url"]) == ("page", "Homs offensive | News",
                                                       "https://example.org/homs")
    assert doc["raw_text"] == (
        "Homs offensive\n\nAssad's forces have been on the offensive in the central Syrian city, "
        "Reuters reported.\n\nFSA assured that the fighters will not leave Homs.\nSecond line."
        "\n\nOne & two\n\nThree")
    for gone in ("tracking", "color", "Site menu", "Enable JS", "Copyright", "Home"):
        assert gone not in doc["raw_text"]
    assert "Homs.\n\nSecond line." in doc["text"]  # a sentence end then a capital: new paragraph


def test_hostile_html_does_not_hang(project, tmp_path):
    tmp_path = tmp_path / "in"
    tmp_path.mkdir()
    deep = "<div>" * 60_000 + "Deep text." + "</div>" * 60_000
    (tmp_path / "deep.html").write_text(deep, encoding="utf-8")
    wide = '<p title="' + "x" * 3_000_000 + '">Wide attribute text.</p>'
    (tmp_path / "wide.htm").write_text(wide, encoding="utf-8")
    (tmp_path / "spans.html").write_text("<span>" * 50_000 + "Spans.", encoding="utf-8")
    t = time.perf_counter()
    summary = import_paths(project, [tmp_path])
    assert time.perf_counter() - t < 10
    assert summary.added == 3
    assert sorted(d["text"] for d in _docs(project)) == ["Deep text.", "Spans.", "Wide attribute text."]


# -- csv ------------------------------------------------------------------------------------------
def test_csv_mapping_labels_meta_and_ragged_rows(project, tmp_path):
    f = tmp_path / "news.csv"
    f.write_text(
        "unit_id,article_title,article_content,source,date,location,labels\n"
        '11,First,"Hard wrapped\nline here.",reuters,4/5/2017,idlib,1\n'
        "12,Second,Another article.,sana,5/5/2017,homs,0\n"
        "13,Ragged,too,few\n"
        ',Third,"A third, with a comma.",tass,6/5/2017,,1\n', encoding="utf-8")
    summary = import_paths(project, [f], **FAKES_MAPPING)
    assert summary.added == 3
    assert summary.skipped == ["%s:5: 4 fields where the header has 7" % f]  # physical line
    docs = _docs(project)
    assert [d["name"] for d in docs] == ["11", "12", "news:4"]
    first = docs[0]
    assert (first["title"], first["source"], first["date"]) == ("First", "reuters", "4/5/2017")
    assert first["text"] == "Hard wrapped line here."
    assert json.loads(first["meta"]) == {"source": "reuters", "date": "4/5/2017",
                                         "location": "idlib", "labels": "1"}
    assert project.doc_labels(docs[0]["id"]) == ["credible"]
    assert project.doc_labels(docs[1]["id"]) == ["not credible"]


def test_csv_wrong_column_names_the_columns(project, tmp_path):
    f = tmp_path / "news.csv"
    f.write_text("id,headline,body\n1,T,Text.\n", encoding="utf-8")
    with pytest.raises(ProjectError) as err:
        import_paths(project, [f], text_column="article_content")
    msg = str(err.value)
    assert "no column 'article_content'" in msg and "its columns are: id, headline, body" in msg
    # Without a mapping the obvious columns are found.
    summary = import_paths(project, [f])
    doc = _docs(project)[0]
    assert summary.added == 1 and (doc["title"], doc["text"], doc["name"]) == ("T", "Text.", "1")


def test_csv_duplicate_header_is_refused(project, tmp_path):
    f = tmp_path / "dup.csv"
    f.write_text("text,title,text\na,b,c\n", encoding="utf-8")
    with pytest.raises(ProjectError, match="header names 'text' more than once"):
        import_paths(project, [f])
    assert project.document_count() == 0


def test_fakes_import_counts(project):
    fakes = shared_path("fa-kes", "FA-KES-Dataset.csv")
    summary = import_paths(project, [fakes], **FAKES_MAPPING)
    assert (summary.read, summary.added, summary.duplicates) == (804, 789, 15)
    assert not summary.skipped
    assert project.document_count() == 789
    labels = dict(project.conn.execute("SELECT label, count(*) FROM doc_labels GROUP BY label"))
    assert sum(labels.values()) == 789 and set(labels) == {"credible", "not credible"}
    again = import_paths(project, [fakes], **FAKES_MAPPING)
    assert (again.added, again.duplicates) == (0, 804)
    assert project.document_count() == 789


# -- jsonl ----------------------------------------------------------------------------------------
def test_jsonl_prodigy_doccano_and_broken_lines(project, tmp_path):
    lines = [
        json.dumps({"text": "Reuters reported from Homs.", "meta": {"title": "A", "source": "r"},
                    "spans": [{"start": 0, "end": 7, "label": "ORG"},
                              {"start": 22, "end": 26, "label": "GPE"},
                              {"start": 20, "end": 99, "label": "GPE"}],
                    "answer": "accept"}),
        json.dumps({"text": "Assad   spoke\nin Damascus.", "label": [[0, 5, "PERSON"], [5, 2, "X"],
                                                                  ["a", 3, "X"]]}),
        "{not json",
        json.dumps({"text": "Plain line\nwrapped here.", "meta": {"name": "plain"}}),
        json.dumps({"text": "Entities style.", "entities": [
            {"id": 1, "start_offset": 0, "end_offset": 8, "label": "MISC"}]}),
        json.dumps(["not", "an", "object"]),
    ]
    f = tmp_path / "data.jsonl"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = import_paths(project, [f])
    assert summary.added == 4
    skipped = "\n".join(summary.skipped)
    assert f"{f}:3: not valid JSON" in skipped
    assert f"{f}:6: not a JSON object" in skipped
    assert f"{f}:1: span [20, 99, \"GPE\"] skipped: outside the text" in skipped
    assert "[5, 2, \"X\"] skipped: end is not after start" in skipped
    assert "[\"a\", 3, \"X\"] skipped: offsets are not whole numbers" in skipped
    docs = _docs(project)
    assert [d["name"] for d in docs] == ["data:1", "data:2", "plain", "data:5"]
    assert docs[0]["title"] == "A" and docs[0]["source"] == "r"
    # Documents with spans keep their text as given; the others are normalised.
    assert docs[1]["text"] == "Assad   spoke\nin Damascus."
    assert docs[2]["text"] == "Plain line wrapped here."
    ids = [d["id"] for d in docs]
    assert _spans(project) == [
        (ids[0], 0, 7, "ORG", "import", "accepted", None),
        (ids[0], 22, 26, "GPE", "import", "accepted", None),
        (ids[1], 0, 5, "PERSON", "import", "suggested", None),
        (ids[3], 0, 8, "MISC", "import", "suggested", None),
    ]


def test_json_array_file(project, tmp_path):
    f = tmp_path / "tasks.json"
    f.write_text(json.dumps([{"text": "One article."}, {"text": "Two article."}, {"x": 1}]),
                 encoding="utf-8")
    summary = import_paths(project, [f])
    assert summary.added == 2 and summary.skipped == [f"{f} item 3: no \"text\" string"]


# -- brat -----------------------------------------------------------------------------------------
def test_brat_pairs_and_polnear_layout(project, tmp_path):
    text = "Reuters said the army left Homs."
    pairs = tmp_path / "pairs"
    pairs.mkdir()
    (pairs / "art.txt").write_text(text, encoding="utf-8")
    (pairs / "art.ann").write_text("T1\tSource 0 7\tReuters\nT2\tCue 8 12\tsaid\n"
                                   "T3\tContent 13 31\tthe army left Homs\n"
                                   "E1\tAttribution:T2 Source:T1 Cue:T2 Content:T3\n",
                                   encoding="utf-8")
    summary = import_paths(project, [pairs])
    assert (summary.added, summary.spans) == (1, 3)
    [doc] = _docs(project)
    assert doc["name"] == "art" and doc["text"] == text
    assert [s[3] for s in _spans(project)] == ["Source", "Cue", "Content"]

    layout = tmp_path / "corpus"
    (layout / "text").mkdir(parents=True)
    (layout / "attributions").mkdir()
    other = "AP reported that talks resumed."
    (layout / "text" / "news_one.txt").write_text(other, encoding="utf-8")
    for annotator in ("ab12", "cd34"):
        (layout / "attributions" / f"news_one_{annotator}.ann").write_text(
            "T1\tSource 0 2\tAP\nT2\tCue 3 11\treported\nT3\tContent 17 31\ttalks resumed.\n"
            "E1\tAttribution:T2 Source:T1 Cue:T2 Content:T3\n", encoding="utf-8")
    summary = import_paths(project, [layout])
    assert (summary.added, summary.spans) == (1, 6)
    doc_id = summary.document_ids[0]
    annotators = project.conn.execute("SELECT annotator, count(*) FROM spans WHERE document_id = ?"
                                      " GROUP BY annotator ORDER BY annotator", (doc_id,)).fetchall()
    assert annotators == [("ab12", 3), ("cd34", 3)]
    claims = project.conn.execute("SELECT annotator FROM claims WHERE document_id = ? ORDER BY 1",
                                  (doc_id,)).fetchall()
    assert claims == [("ab12",), ("cd34",)]


def test_polnear_dev_imports_every_gold_span(project):
    folder = shared_path("polnear-dev")
    summary = import_paths(project, [folder], fmt="brat")
    assert summary.added == len(list((folder / "text").glob("*.txt")))
    assert summary.spans == 9095 and not summary.skipped
    # Spans point at the text their .ann surface gave (offsets into the unnormalised text).
    doc_id, start, end = project.conn.execute(
        'SELECT document_id, start, "end" FROM spans WHERE label = \'Cue\' LIMIT 1').fetchone()
    assert project.document(doc_id).text[start:end].strip()


def test_labelstudio_tasks(project, tmp_path):
    task = {"data": {"text": "Reuters said so in Homs.", "name": "ls-1", "title": "LS",
                     "labels": ["credible"], "meta": {"desk": "world"}},
            "annotations": [{"result": [{"type": "labels", "value": {
                "start": 0, "end": 7, "text": "Reuters", "labels": ["ORG"]}}]}],
            "predictions": [{"result": [{"type": "labels", "value": {
                "start": 19, "end": 23, "text": "Homs", "labels": ["GPE"]}}]}]}
    f = tmp_path / "ls.json"
    f.write_text(json.dumps([task]), encoding="utf-8")
    summary = import_paths(project, [f])
    assert summary.added == 1 and not summary.skipped
    [doc] = _docs(project)
    assert (doc["name"], doc["title"], json.loads(doc["meta"])) == ("ls-1", "LS", {"desk": "world"})
    assert project.doc_labels(doc["id"]) == ["credible"]
    assert _spans(project) == [(doc["id"], 0, 7, "ORG", "import", "accepted", None),
                               (doc["id"], 19, 23, "GPE", "import", "suggested", None)]


def test_single_json_object_file(project, tmp_path):
    f = tmp_path / "one.json"
    f.write_text(json.dumps({"text": "Only one.", "meta": {"title": "T"}}, indent=2), encoding="utf-8")
    assert import_paths(project, [f]).added == 1
    assert _docs(project)[0]["title"] == "T"


# -- readers never fail with anything but a clear message ----------------------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400), st.sampled_from(["a.txt", "a.html", "a.csv", "a.jsonl", "a.json"]))
def test_any_bytes_read_or_refused_clearly(data, name):
    from annotation.readers import ReaderError, read_csv, read_html, read_jsonl, read_txt
    reader = {"txt": read_txt, "html": read_html, "csv": read_csv, "jsonl": read_jsonl,
              "json": read_jsonl}[name.rsplit(".", 1)[1]]
    try:
        result = reader(data, name)
    except ReaderError as exc:
        assert name in str(exc)
        return
    for doc in result.documents:
        assert isinstance(doc.raw_text, str) and doc.raw_text.strip()
        for s in doc.spans:
            assert 0 <= s.start < s.end <= len(doc.raw_text)
