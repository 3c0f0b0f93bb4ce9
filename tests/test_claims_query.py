"""The claims view's query: each filter, each sort, and the rows it shows, on a project whose
answers are known."""
from __future__ import annotations

import pytest

from storage.claims_query import (
    ANY_LINK,
    NO_LINK,
    NO_STANCE,
    SORTS,
    UNGRADED,
    ClaimFilter,
    claim_ids,
    claim_rows,
    count_claims,
)
from tests.corroboration_fixtures import DOUMA, build


@pytest.fixture
def claims_project(project):
    review, docs, claims = build(project, DOUMA)
    c = {name: ids[0] for name, ids in claims.items()}
    c["rebels"] = claims["reuters-douma"][1]
    review.grade_claim(c["reuters-douma"], 2)
    review.grade_claim(c["ahram-douma"], 1)
    review.grade_claim(c["sana-aleppo"], 5)
    observatory = project.claim(c["reuters-douma"]).source_id
    army = project.claim(c["sana-aleppo"]).source_id
    review.grade_source(observatory, "B")
    review.grade_source(army, "D")
    review.set_claim_stance(c["reuters-douma"], "asserts")
    review.set_claim_stance(c["sana-aleppo"], "denies")
    review.link_claims(c["ahram-douma"], c["reuters-douma"], "supports")
    review.link_claims(c["sana-aleppo"], c["reuters-douma"], "contradicts")
    review.link_claims(c["trt-douma-later"], c["ahram-douma"], "cites")
    review.reject_claim(c["weather"])
    return project, review, c


def ids_for(project, **kw) -> set[int]:
    flt = ClaimFilter(**kw)
    got = claim_ids(project, flt)
    assert count_claims(project, flt) == len(got)
    return set(got)


def test_each_filter(claims_project):
    project, _review, c = claims_project
    everyone = {v for k, v in c.items() if k != "weather"}
    assert ids_for(project) == everyone
    assert ids_for(project, status="rejected") == {c["weather"]}
    assert ids_for(project, status=None) == everyone | {c["weather"]}
    assert ids_for(project, credibility=2) == {c["reuters-douma"]}
    assert ids_for(project, credibility=UNGRADED) == everyone - {
        c["reuters-douma"], c["ahram-douma"], c["sana-aleppo"]}
    assert ids_for(project, reliability="B") == {c["reuters-douma"]}
    assert ids_for(project, reliability="d") == {c["sana-aleppo"]}
    assert ids_for(project, reliability=UNGRADED) == everyone - {c["reuters-douma"], c["sana-aleppo"]}
    assert ids_for(project, stance="denies") == {c["sana-aleppo"]}
    assert ids_for(project, stance=NO_STANCE) == everyone - {c["reuters-douma"], c["sana-aleppo"]}
    assert ids_for(project, link="supports") == {c["ahram-douma"], c["reuters-douma"]}
    assert ids_for(project, link="cites") == {c["ahram-douma"], c["trt-douma-later"]}
    assert ids_for(project, link=ANY_LINK) == {c["ahram-douma"], c["reuters-douma"],
                                               c["sana-aleppo"], c["trt-douma-later"]}
    assert ids_for(project, link=NO_LINK) == {c["rebels"], c["sana-harasta"]}
    assert ids_for(project, source="observ") == {c["reuters-douma"]}
    assert ids_for(project, source="%") == set()  # a LIKE wildcard is a plain character
    assert ids_for(project, search="douma monday") == {c["reuters-douma"], c["ahram-douma"],
                                                       c["trt-douma-later"]}
    assert ids_for(project, search="shell") == {c["reuters-douma"], c["ahram-douma"],
                                                c["trt-douma-later"], c["sana-harasta"]}
    # Dates as imported: ISO and US slashed ("4/4/2016") are the same day.
    assert ids_for(project, date_from="2016-04-04", date_to="2016-04-04") == everyone - {
        c["trt-douma-later"]}
    assert ids_for(project, date_from="2016-05-01") == {c["trt-douma-later"]}
    assert ids_for(project, credibility=2, stance="asserts", link="supports") == {c["reuters-douma"]}
    with pytest.raises(ValueError):
        claim_ids(project, ClaimFilter(link="agrees"))


def test_each_sort_orders_the_rows_and_breaks_ties_by_id(claims_project):
    project, _review, _c = claims_project
    every = ClaimFilter(status=None)
    for sort in SORTS:
        for descending in (False, True):
            ids = claim_ids(project, every, sort=sort, descending=descending)
            rows = claim_rows(project, ids)
            key = {
                "id": lambda r: r.id, "date": lambda r: r.day or "",
                "article": lambda r: r.document, "source": lambda r: r.source_name or "",
                "reliability": lambda r: r.reliability or "", "credibility": lambda r: r.credibility or 0,
                "stance": lambda r: r.stance or "", "status": lambda r: r.status,
                "links": lambda r: r.n_links}[sort]
            # Rows without a registry entry sort as no source (NULL) whatever their span says.
            if sort == "source":
                key = lambda r: (project.source(r.source_id).name if r.source_id else "")  # noqa: E731
            want = sorted(rows, key=lambda r: (key(r), r.id), reverse=descending)
            assert [r.id for r in rows] == [r.id for r in want], (sort, descending)


def test_rows_show_article_source_grades_and_links(claims_project):
    project, _review, c = claims_project
    ids = claim_ids(project, ClaimFilter(), sort="date", descending=True)
    assert ids[0] == c["trt-douma-later"]
    rows = {r.id: r for r in claim_rows(project, ids)}
    r = rows[c["reuters-douma"]]
    assert (r.document, r.date, r.day, r.outlet) == ("Reuters-Douma", "2016-04-04", "2016-04-04",
                                                     "reuters")
    assert (r.source_name, r.reliability, r.credibility, r.stance) == (
        "the Syrian Observatory", "B", 2, "asserts")
    assert r.links == {"supports": 1, "contradicts": 1} and r.n_links == 2
    assert r.content.startswith("Government forces shelled the town of Douma")
    ahram = rows[c["ahram-douma"]]
    assert ahram.day == "2016-04-04" and ahram.date == "4/4/2016"
    assert ahram.links == {"supports": 1, "cites": 1}
    assert claim_rows(project, [c["rebels"], 9999])[1] is None
