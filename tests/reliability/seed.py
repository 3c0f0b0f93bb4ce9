"""Build test projects through the core (no spaCy): documents with suggested spans and claims."""
from __future__ import annotations

import random
from pathlib import Path

from annotation.model import ClaimRecord, NewDocument, SpanRecord

WORDS = ("the army said rebels town shelling council reported ministry denied village "
         "according to residents officials claimed monitor observatory killed wounded "
         "ceasefire talks spokesman told reporters on Tuesday province hospital").split()
NAMES = ("Reuters", "the Syrian Observatory", "a media activist", "the Defence Ministry",
         "SANA", "Amnesty International", "a local council", "AFP")


def article(rng: random.Random, i: int, n_sentences: int = 12) -> tuple[str, list[SpanRecord],
                                                                          list[ClaimRecord]]:
    """A text with one claim per sentence (Source / Cue / Content) and some entity suggestions."""
    parts: list[str] = [f"Report {i}. "]
    spans: list[SpanRecord] = []
    claims: list[ClaimRecord] = []
    pos = len(parts[0])
    for k in range(n_sentences):
        source = rng.choice(NAMES)
        cue = rng.choice(("said", "told reporters", "denied", "claimed"))
        content = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 12)))
        sentence = f"{source} {cue} that {content}. "
        s0 = pos
        c0 = s0 + len(source) + 1
        t0 = c0 + len(cue) + len(" that ")
        key = f"{i}-{k}"
        spans += [
            SpanRecord(s0, s0 + len(source), "Source", key=f"S{key}"),
            SpanRecord(c0, c0 + len(cue), "Cue", key=f"C{key}"),
            SpanRecord(t0, t0 + len(content), "Content", key=f"T{key}"),
            SpanRecord(s0, s0 + len(source), "ORG"),
        ]
        claims.append(ClaimRecord(content=f"T{key}", cue=f"C{key}", source=f"S{key}", key=key))
        parts.append(sentence)
        pos += len(sentence)
    return "".join(parts), spans, claims


def make_seed_project(path: Path, n_docs: int = 8, rng: random.Random | None = None,
                      n_sentences: int = 12) -> Path:
    """A closed project file: n_docs articles, suggested spans and claims, a graded-able registry."""
    from storage.ingest import store_documents
    from storage.project import Project
    from storage.review import find_or_create_source
    rng = rng or random.Random(0)
    docs = []
    for i in range(n_docs):
        text, spans, claims = article(rng, i, n_sentences)
        docs.append(NewDocument(raw_text=text, name=f"doc{i:03d}", title=f"Report {i}",
                                spans=spans, claims=claims, meta={"i": i}))
    with Project(path) as project:
        store_documents(project, docs)
        with project.atomic():
            for name in NAMES:
                find_or_create_source(project, name)
    return path
