"""Small decided projects for the learning tests, built as an analyst would: through Review."""
from __future__ import annotations

import random

from annotation.claim_model import Attribution, attribution
from annotation.model import NewDocument
from storage.ingest import store_documents
from storage.preannotate import annotate
from storage.review import Review
from tests.scripted_analyst import finish, review_claims_by_gold, review_entities

SOURCES = ["Reuters", "A spokesman for the ministry", "Local activists", "The United Nations",
           "A military source", "The governor of Homs", "Witnesses", "Amnesty International",
           "The Syrian Observatory for Human Rights", "State television"]
CONTENTS = ["the convoy reached the town on Monday", "dozens of people were killed in the strike",
            "the talks would resume next week", "the road to Aleppo was closed",
            "no civilians were hurt", "the army had taken the hill above the town",
            "food prices had doubled since March", "the border crossing would reopen soon",
            "the water supply had been cut", "rebels shelled the airport overnight"]
FILLER = ["The weather was cold in Damascus on Tuesday.", "Families said goodbye to their neighbours.",
          "Shops stayed closed in the old city.",
          "Many families left the area last year.", "Fighting has continued for weeks."]
TEMPLATES = [
    ("{S} said that {C}.", "said"),
    ("{S} told reporters that {C}.", "told"),
    ("{C}, {S} said.", "said"),
    ("According to {S}, {C}.", "According to"),
    ("{S} denied that {C}.", "denied"),
    ("{S} reported that {C}.", "reported"),
]


def article(rng: random.Random, i: int) -> tuple[str, list[Attribution]]:
    """A short article of three reported statements and a filler line, with its gold."""
    text, gold = "", []
    templates = rng.sample(TEMPLATES, 3)
    for k, (template, cue_word) in enumerate(templates):
        if k == 1:
            text += FILLER[(i + k) % len(FILLER)] + " "
        source = SOURCES[(i * 3 + k) % len(SOURCES)]
        content = CONTENTS[(i * 7 + k * 3) % len(CONTENTS)]
        if template.startswith("{C}"):
            content = content[0].upper() + content[1:]
        elif template.startswith("According"):
            source = source[0].lower() + source[1:] if source.startswith("The ") else source
        sentence = template.format(S=source, C=content)
        start = len(text)
        s = start + sentence.index(source)
        c = start + sentence.index(content)
        q = start + sentence.index(cue_word)
        gold.append(attribution(source=(s, s + len(source)), cue=(q, q + len(cue_word)),
                                content=(c, c + len(content))))
        text += sentence + " "
    return text.strip(), gold


def build_decided(project, nlp, *, n: int = 9, done: int = 7, seed: int = 3,
                  entity_fixes=None) -> dict:
    """`n` articles pre-annotated; the first `done` reviewed by the gold and marked done."""
    rng = random.Random(seed)
    arts = [article(rng, i) for i in range(n)]
    ids = store_documents(project, [NewDocument(raw_text=t, name=f"art-{i:02d}", title=f"Article {i}")
                                    for i, (t, _) in enumerate(arts)]).document_ids
    annotate(project, nlp=nlp)
    review = Review(project)
    for doc_id, (_text, gold) in list(zip(ids, arts))[:done]:
        review_claims_by_gold(review, doc_id, gold)
        review_entities(review, doc_id, entity_fixes)
        finish(review, doc_id)
    return {"ids": ids, "gold": {i: g for i, (_, g) in zip(ids, arts)}, "review": review}
