"""Exports that carry claims as claims (issue 15): Label Studio and doccano relations between a
claim's parts, schema.org ClaimReview of graded claims, and the claim graph in GraphML. Each
file is read back and checked against the stored project."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from storage.export import FORMATS, export
from storage.review import Review
from tests.corroboration_fixtures import DOUMA, Article, build
from tests.test_cli import cli
from tests.test_export import build as build_export

# -- the stored truth ----------------------------------------------------------------------------


def claim_parts(project, everything: bool) -> dict[int, dict[str, int | None]]:
    """Exported claims' part span ids (a part not exported is None), as the selection defines."""
    ok = "!= 'rejected'" if everything else "= 'accepted'"
    done = "" if everything else " AND d.status = 'done'"
    rows = project.conn.execute(
        "SELECT c.id, c.source_span_id, c.cue_span_id, c.content_span_id FROM claims c"
        f" JOIN documents d ON d.id = c.document_id WHERE c.status {ok}{done}").fetchall()
    status = dict(project.conn.execute("SELECT id, status FROM spans").fetchall())
    out = {}
    for cid, *parts in rows:
        keep = [p if p is not None and (status[p] != "rejected" if everything
                                        else status[p] == "accepted") else None for p in parts]
        if any(keep):
            out[cid] = dict(zip(("source", "cue", "content"), keep))
    return out


def expected_relations(parts: dict[int, dict[str, int | None]]) -> set[tuple[int, int, str]]:
    """source -> cue -> content (source -> content without a cue), by span id."""
    out = set()
    for p in parts.values():
        s, q, c = p["source"], p["cue"], p["content"]
        if s and q:
            out.add((s, q, "source-cue"))
        if q and c:
            out.add((q, c, "cue-content"))
        if s and c and not q:
            out.add((s, c, "source-content"))
    return out


@pytest.fixture
def exported(project):
    ids = build_export(project)
    review = Review(project)
    # A claim with no cue: its source joins its content directly.
    text = project.document_text(ids["d4"])
    s, c = text.index("Officials"), text.index("the crossing would reopen on Tuesday")
    review.create_claim(ids["d4"], (c, c + len("the crossing would reopen on Tuesday")), None,
                        (s, s + len("Officials in Idlib")))
    return project, ids


# -- Label Studio -------------------------------------------------------------------------------
@pytest.mark.parametrize("everything", [False, True])
def test_labelstudio_relations_join_each_claims_parts(exported, tmp_path, everything):
    project, _ids = exported
    out = tmp_path / "ls.json"
    summary = export(project, "labelstudio", out, everything=everything)
    tasks = json.loads(out.read_text(encoding="utf-8"))
    got: set[tuple[int, int, str]] = set()
    split = 0
    for task in tasks:
        lists = [a["result"] for a in task.get("annotations", [])]
        lists += [p["result"] for p in task.get("predictions", [])]
        for results in lists:
            regions = {r["id"] for r in results if r.get("type") == "labels"}
            for r in results:
                if r.get("type") != "relation":
                    continue
                # Label Studio's shape: both ends are regions of the same result list.
                assert set(r) == {"from_id", "to_id", "type", "direction", "labels"}
                assert r["from_id"] in regions and r["to_id"] in regions
                assert r["direction"] == "right" and len(r["labels"]) == 1
                got.add((int(r["from_id"][1:]), int(r["to_id"][1:]), r["labels"][0]))
    want = expected_relations(claim_parts(project, everything))
    status = dict(project.conn.execute("SELECT id, status FROM spans").fetchall())
    for a, b, label in want - got:  # only a relation whose ends sit in different lists is missing
        assert (status[a] == "suggested") != (status[b] == "suggested"), (a, b, label)
        split += 1
    assert got <= want and got
    assert summary.claims == len({cid for cid, p in claim_parts(project, everything).items()
                                  if expected_relations({cid: p}) & got})
    if split:
        assert any(f"{split} claim relations left out" in n for n in summary.not_represented)


# -- doccano --------------------------------------------------------------------------------------
@pytest.mark.parametrize("everything", [False, True])
def test_doccano_relations_join_each_claims_parts(exported, tmp_path, everything):
    project, _ids = exported
    out = tmp_path / "doccano.jsonl"
    summary = export(project, "doccano", out, everything=everything)
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    got = set()
    for row in lines:
        text = row["text"]
        entities = {e["id"]: e for e in row["entities"]}
        assert len(entities) == len(row["entities"])
        # The same spans as the plain import's "label".
        assert sorted((e["start_offset"], e["end_offset"], e["label"]) for e in entities.values()) \
            == sorted(tuple(x) for x in row["label"])
        span_of = {}
        for e in entities.values():
            (sid,) = [r[0] for r in project.conn.execute(
                'SELECT id FROM spans WHERE document_id = ? AND start = ? AND "end" = ?'
                " AND label = ?", (row["meta"]["document_id"], e["start_offset"], e["end_offset"],
                                   e["label"]))][:1] or [None]
            span_of[e["id"]] = sid
            assert text[e["start_offset"]:e["end_offset"]]
        for r in row["relations"]:
            assert set(r) == {"id", "from_id", "to_id", "type"}
            assert r["from_id"] in entities and r["to_id"] in entities
            got.add((span_of[r["from_id"]], span_of[r["to_id"]], r["type"]))
    want = expected_relations(claim_parts(project, everything))
    assert got == want and want
    assert summary.claims == sum(1 for p in claim_parts(project, everything).values()
                                 if expected_relations({0: p}))


# -- ClaimReview ------------------------------------------------------------------------------------
# schema.org's properties of each type used (its own and those it inherits: ClaimReview <
# Review < CreativeWork < Thing; Claim < CreativeWork; Rating < Intangible < Thing), and the
# types their values are expected to have.
_THING = {"@type", "@id", "name", "alternateName", "identifier", "url", "description"}
_CREATIVE_WORK = _THING | {"author", "datePublished", "headline", "publisher", "text"}
SCHEMA = {
    "ClaimReview": _CREATIVE_WORK | {"claimReviewed", "itemReviewed", "reviewRating",
                                     "reviewBody"},
    "Claim": _CREATIVE_WORK | {"appearance", "firstAppearance", "claimInterpreter"},
    "CreativeWork": _CREATIVE_WORK,
    "Rating": _THING | {"ratingValue", "bestRating", "worstRating", "ratingExplanation",
                        "reviewAspect", "author"},
    "Person": _THING,
    "Organization": _THING,
}
EXPECTED = {  # property -> the types its value may have
    "claimReviewed": str, "reviewBody": str, "text": str, "headline": str, "name": str,
    "alternateName": str, "identifier": str, "ratingExplanation": str, "url": str,
    "datePublished": str, "ratingValue": int, "bestRating": int, "worstRating": int,
    "itemReviewed": ("Claim",), "reviewRating": ("Rating",), "author": ("Person", "Organization"),
    "publisher": ("Organization", "Person"), "appearance": ("CreativeWork",),
}
# What Google's fact-check guidelines require of a ClaimReview (but its url: see the module).
REQUIRED = {"ClaimReview": {"claimReviewed", "reviewRating", "itemReviewed", "author"},
            "Rating": {"alternateName"}, "Claim": {"author", "appearance"},
            "Person": {"name"}, "Organization": {"name"}}


def check_node(node: dict, where: str = "") -> None:
    kind = node["@type"]
    assert kind in SCHEMA, f"{where}: {kind} is not a schema.org type used here"
    unknown = set(node) - SCHEMA[kind]
    assert not unknown, f"{where}: {sorted(unknown)} are not properties of {kind}"
    missing = REQUIRED.get(kind, set()) - set(node)
    assert not missing, f"{where}: {kind} lacks {sorted(missing)}"
    for prop, value in node.items():
        want = EXPECTED.get(prop)
        if isinstance(want, tuple):
            assert isinstance(value, dict) and value["@type"] in want, f"{where}.{prop}"
            check_node(value, f"{where}.{prop}")
        elif want is not None:
            assert isinstance(value, want) and value != "", f"{where}.{prop}: {value!r}"
        if prop == "datePublished":
            assert len(value) == 10 and value[4] == "-" and value[7] == "-", value


def test_claimreview_holds_every_graded_claim_as_schema_org_expects(project, tmp_path):
    review, docs, claims = build(project, DOUMA)
    x, ahram, trt = claims["reuters-douma"][0], claims["ahram-douma"][0], claims["trt-douma-later"][0]
    observatory = project.claim(x).source_id
    review.grade_source(observatory, "B")
    review.grade_claim(x, 2)
    review.grade_claim(ahram, 6)       # truth cannot be judged: text only, no number
    review.grade_claim(trt, 5)
    review.set_claim_note(x, "Two independent reports.")
    text = project.document_text(docs["sana-harasta"])
    review.create_span(docs["sana-harasta"], text.index("activists"),
                       text.index("activists") + len("activists"), "PERSON")
    review.grade_claim(claims["sana-harasta"][0], 3)
    out = tmp_path / "reviews.jsonld"
    summary = export(project, "claimreview", out)
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["@context"] == "https://schema.org"
    reviews = {int(r["identifier"]): r for r in doc["@graph"]}
    assert set(reviews) == {x, ahram, trt, claims["sana-harasta"][0]}
    assert summary.claims == 4 and summary.documents == 4
    assert any("not graded" in n for n in summary.not_represented)
    for cid, r in reviews.items():
        check_node(r, f"claim {cid}")
    r = reviews[x]
    assert r["claimReviewed"] == project.conn.execute(
        "SELECT content FROM claims_fts WHERE rowid = ?", (x,)).fetchone()[0]
    assert r["reviewRating"]["alternateName"] == "B2"
    assert (r["reviewRating"]["ratingValue"], r["reviewRating"]["bestRating"],
            r["reviewRating"]["worstRating"]) == (4, 5, 1)
    assert r["itemReviewed"]["author"] == {"@type": "Organization",
                                           "name": "the Syrian Observatory"}
    appearance = r["itemReviewed"]["appearance"]
    assert appearance["headline"] == "Reuters-Douma" and appearance["datePublished"] == "2016-04-04"
    assert appearance["publisher"] == {"@type": "Organization", "name": "reuters"}
    assert r["author"] == {"@type": "Person", "name": project.who}
    assert r["reviewBody"] == "Two independent reports."
    assert reviews[trt]["reviewRating"]["ratingValue"] == 1  # improbable: the worst
    six = reviews[ahram]["reviewRating"]
    assert six["alternateName"] == "?6" and "ratingValue" not in six
    # A US date is written as an ISO day; a PERSON over the source span makes the author a Person.
    assert reviews[ahram]["itemReviewed"]["datePublished"] == "2016-04-04"
    assert reviews[claims["sana-harasta"][0]]["itemReviewed"]["author"]["@type"] == "Person"


# -- the claim graph ------------------------------------------------------------------------------
NS = "{http://graphml.graphdrawing.org/xmlns}"


def read_graphml(path):
    """(nodes {id: {attr: value}}, edges [(source, target, {attr: value})]) by the keys' names."""
    root = ET.parse(path).getroot()
    keys = {k.get("id"): (k.get("for"), k.get("attr.name"), k.get("attr.type"))
            for k in root.findall(f"{NS}key")}
    graph = root.find(f"{NS}graph")
    assert graph.get("edgedefault") == "directed"

    def attrs(el, kind):
        out = {}
        for d in el.findall(f"{NS}data"):
            for_, name, typ = keys[d.get("key")]
            assert for_ == kind
            out[name] = int(d.text) if typ == "int" else d.text
        return out

    nodes = {n.get("id"): attrs(n, "node") for n in graph.findall(f"{NS}node")}
    assert len(nodes) == len(graph.findall(f"{NS}node"))
    edges = [(e.get("source"), e.get("target"), attrs(e, "edge")) for e in graph.findall(f"{NS}edge")]
    return nodes, edges


def test_claim_graph_reads_back(project, tmp_path):
    review, docs, claims = build(project, DOUMA + [Article(
        "bell", "Sirens\x07 sounded in Idlib at dawn, residents said.", outlet="x",
        claims=[("residents", "said", "Sirens\x07 sounded in Idlib at dawn")])])
    x, ahram, trt = claims["reuters-douma"][0], claims["ahram-douma"][0], claims["trt-douma-later"][0]
    review.link_claims(ahram, x, "supports")
    review.link_claims(x, claims["sana-aleppo"][0], "contradicts")
    review.link_claims(trt, ahram, "cites")
    review.link_claims(claims["sana-harasta"][0], claims["weather"][0], "same claim")
    review.reject_claim(claims["weather"][0])  # not exported: its link is left out
    review.grade_claim(x, 2)
    out = tmp_path / "claims.graphml"
    summary = export(project, "claim-graph", out)
    nodes, edges = read_graphml(out)
    exported = [r[0] for r in project.conn.execute(
        "SELECT id FROM claims WHERE status = 'accepted' ORDER BY id")]
    assert sorted(int(n.split(":")[1]) for n, a in nodes.items() if a["kind"] == "claim") == exported
    assert summary.claims == len(exported)
    articles = {n for n, a in nodes.items() if a["kind"] == "article"}
    assert articles == {f"article:{d}" for name, d in docs.items() if name != "weather"}
    for s, t, _a in edges:  # every edge joins nodes of the graph
        assert s in nodes and t in nodes
    links = sorted((s, t, a["kind"]) for s, t, a in edges if s.startswith("claim:")
                   and t.startswith("claim:"))
    assert links == sorted([(f"claim:{ahram}", f"claim:{x}", "supports"),
                            (f"claim:{x}", f"claim:{claims['sana-aleppo'][0]}", "contradicts"),
                            (f"claim:{trt}", f"claim:{ahram}", "cites")])
    assert any("1 links to claims not exported" in n for n in summary.not_represented)
    said_by = {s: t for s, t, a in edges if a["kind"] == "said by"}
    source = said_by[f"claim:{x}"]
    assert nodes[source] == {"kind": "source", "label": "the Syrian Observatory",
                             "name": "the Syrian Observatory"}
    assert (source, f"article:{docs['reuters-douma']}", {"kind": "quoted in"}) in edges
    assert (f"claim:{x}", f"article:{docs['reuters-douma']}", {"kind": "appears in"}) in edges
    assert nodes[f"claim:{x}"]["credibility"] == 2
    assert nodes[f"article:{docs['ahram-douma']}"]["date"] == "2016-04-04"
    assert nodes[f"article:{docs['ahram-douma']}"]["outlet"] == "ahram"
    # A control character XML cannot hold is left out, the rest of the text kept.
    bell = claims["bell"][0]
    assert nodes[f"claim:{bell}"]["text"] == "Sirens sounded in Idlib at dawn"
    # The same activists quoted in two articles: one source node, quoted in both.
    activists = said_by[f"claim:{trt}"]
    assert said_by[f"claim:{claims['sana-harasta'][0]}"] == activists


def test_the_new_formats_from_the_command_line(project, project_path, tmp_path):
    review, _docs, claims = build(project, DOUMA)
    review.grade_claim(claims["reuters-douma"][0], 1)
    project.close()
    for fmt in ("claimreview", "claim-graph"):
        out = tmp_path / f"out{FORMATS[fmt].suffix}"
        r = cli("export", project_path, "--format", fmt, "--out", out)
        assert r.returncode == 0, r.stderr
        assert out.exists() and "exported" in r.stdout
    json.loads((tmp_path / "out.jsonld").read_text(encoding="utf-8"))
    ET.parse(tmp_path / "out.graphml")
