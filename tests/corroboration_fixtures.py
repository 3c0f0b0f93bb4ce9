"""Projects built for corroboration tests: articles from several outlets, claims an analyst
marked (so their sources are registry entries), entities inside them; answers known by
construction."""
from __future__ import annotations

from dataclasses import dataclass, field

from annotation.model import NewDocument
from storage.ingest import store_documents
from storage.project import Project
from storage.review import Review


@dataclass
class Article:
    name: str
    text: str
    outlet: str | None = None
    date: str | None = None
    # (source phrase, cue phrase, content phrase): each found in the text
    claims: list[tuple[str | None, str | None, str]] = field(default_factory=list)
    entities: list[tuple[str, str]] = field(default_factory=list)  # (phrase, label)


def _find(text: str, phrase: str, after: int = 0) -> tuple[int, int]:
    start = text.index(phrase, after)
    return start, start + len(phrase)


def build(project: Project, articles: list[Article], review: Review | None = None
          ) -> tuple[Review, dict[str, int], dict[str, list[int]]]:
    """Store the articles, mark their claims and entities; returns (review, article ids by
    name, claim ids by article name)."""
    review = review or Review(project)
    ids = store_documents(project, [NewDocument(a.text, name=a.name, title=a.name.title(),
                                                source=a.outlet, date=a.date, normalise=False)
                                    for a in articles]).document_ids
    docs = dict(zip((a.name for a in articles), ids))
    claims: dict[str, list[int]] = {}
    for a in articles:
        doc = docs[a.name]
        for phrase, label in a.entities:
            review.create_span(doc, *_find(a.text, phrase), label)
        for source, cue, content in a.claims:
            src = _find(a.text, source) if source else None
            # The cue that follows the claim's source (an article may say "said" twice).
            cue_at = _find(a.text, cue, src[0] if src else 0) if cue else None
            claims.setdefault(a.name, []).append(review.create_claim(
                doc, _find(a.text, content), cue_at, src).id)
    return review, docs, claims


DOUMA = [
    Article("reuters-douma", "Government forces shelled the town of Douma on Monday, killing 12 "
            "civilians, the Syrian Observatory said. Rebels said they fired back.",
            outlet="reuters", date="2016-04-04",
            claims=[("the Syrian Observatory", "said",
                     "Government forces shelled the town of Douma on Monday, killing 12 civilians"),
                    ("Rebels", "said", "they fired back")],
            entities=[("Douma", "GPE"), ("Monday", "DATE")]),
    Article("ahram-douma", "Artillery shelled Douma on Monday and 12 civilians died, a medic told "
            "the paper.", outlet="ahram", date="4/4/2016",
            claims=[("a medic", "told", "Artillery shelled Douma on Monday and 12 civilians died")],
            entities=[("Douma", "GPE"), ("Monday", "DATE")]),
    Article("trt-douma-later", "Artillery shelled Douma on Monday and 12 civilians died, activists "
            "said in a report.", outlet="trt", date="2017-01-10",
            claims=[("activists", "said", "Artillery shelled Douma on Monday and 12 civilians died")],
            entities=[("Douma", "GPE"), ("Monday", "DATE")]),
    Article("sana-harasta", "Artillery shelled Harasta on Monday and 12 civilians died, activists "
            "said.", outlet="sana", date="2016-04-04",
            claims=[("activists", "said", "Artillery shelled Harasta on Monday and 12 civilians died")],
            entities=[("Harasta", "GPE"), ("Monday", "DATE")]),
    Article("sana-aleppo", "Government forces advanced near Aleppo, the army said.",
            outlet="sana", date="2016-04-04",
            claims=[("the army", "said", "Government forces advanced near Aleppo")],
            entities=[("Aleppo", "GPE")]),
    Article("weather", "Rain is expected in Beirut tomorrow, forecasters said.", outlet="nna",
            date="2016-04-04", claims=[("forecasters", "said", "Rain is expected in Beirut tomorrow")]),
]
