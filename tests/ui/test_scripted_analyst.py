"""A scripted analyst reviews the seed article (imported and pre-annotated with the real model)
with keys only; the DocBin exported of the reviewed work holds no overlapping entity and no
suggestion nobody decided."""
from __future__ import annotations

from PySide6.QtCore import Qt

from annotation.model import CLAIM_LABELS
from storage.export import export
from storage.project import Project
from tests.ui.review_fixtures import (  # noqa: F401  (fixtures)
    seed_project,
    seed_template,
    show_active,
    snap,
    stored,
    temp_settings,
    window,
)

K = Qt.Key
NUMBERS = ("CARDINAL", "ORDINAL", "QUANTITY", "PERCENT", "MONEY")


def test_keys_only_review_of_the_seed_article_exports_clean_training_data(qtbot, window, tmp_path,
                                                                          artifacts):
    import spacy
    from spacy.tokens import DocBin
    w = window
    m = w.review_model
    doc = m.doc_id
    keys = 0

    def key(k, mod=Qt.NoModifier):
        nonlocal keys
        qtbot.keyClick(w.view, k, mod)
        keys += 1

    def overlaps_accepted(s) -> bool:
        return any(o.id != s.id and o.status == "accepted" and o.label not in CLAIM_LABELS
                   and o.start < s.end and s.start < o.end for o in m.spans.values())

    # A missed entity, made without the mouse: select "air", take in "strikes", press EVENT's key.
    for _ in range(400):
        rng = w.view.selection_range()
        if rng and m.text[rng[0]:rng[1]] == "air":
            break
        key(K.Key_Right)
    key(K.Key_Right, Qt.ShiftModifier)
    qtbot.keyClick(w.view, next(lab["key"] for lab in w.project.labels() if lab["name"] == "EVENT"))
    key(K.Key_J)

    repeated: dict[str, int] = {}
    for s in m.spans.values():
        if s.label not in CLAIM_LABELS:
            repeated[m.span_text(s)] = repeated.get(m.span_text(s), 0) + 1
    decisions = 0
    while any(it.status == "suggested" for it in m.items):
        decisions += 1
        assert decisions < 300, "the review does not end"
        cur = m.current
        if cur.status != "suggested":
            key(K.Key_J)
            continue
        if cur.kind == "claim":
            if m.claims[cur.id].source_span_id is not None:
                key(K.Key_C)
                key(K.Key_2)             # grading a suggested claim accepts it
                key(K.Key_J)
            else:
                key(K.Key_A)
            continue
        s = m.spans[cur.id]
        text = m.span_text(s)
        if s.label in NUMBERS or overlaps_accepted(s):
            key(K.Key_X)
        elif text == "Homs" and s.label != "GPE":
            key(K.Key_3)                 # relabel GPE, then every mention with it
            key(K.Key_A, Qt.ShiftModifier)
        elif repeated.get(text, 0) > 1:
            key(K.Key_A, Qt.ShiftModifier)
        else:
            key(K.Key_A)
    key(K.Key_D)
    assert w.controller.done_box is None      # nothing left: done at once
    snap(qtbot, w, artifacts / "review-17-scripted-analyst.png")

    assert stored(w.project.path, "SELECT status FROM documents WHERE id = ?", (doc,)) == [("done",)]
    assert stored(w.project.path, "SELECT count(*) FROM spans WHERE document_id = ? AND status = 'suggested'",
                  (doc,)) == [(0,)]
    assert stored(w.project.path, "SELECT count(*) FROM claims WHERE document_id = ? AND status = 'suggested'",
                  (doc,)) == [(0,)]
    out = tmp_path / "reviewed.spacy"
    with Project(w.project.path, readonly=True) as p:
        summary = export(p, "spacy", out)  # the default: what an analyst decided
        entities = sorted((s.start, s.end, s.label) for s in p.spans(doc, statuses=["accepted"])
                          if s.label not in CLAIM_LABELS)
    assert not any("overlapping" in note for note in summary.not_represented), summary.not_represented
    (exported,) = list(DocBin().from_disk(out).get_docs(spacy.blank("en").vocab))
    assert sorted((e.start_char, e.end_char, e.label_) for e in exported.ents) == entities
    assert set(exported.user_data["span_status"]) == {"accepted"}
    assert any(e.text == "air strikes" and e.label_ == "EVENT" for e in exported.ents)
    assert all(a[1] <= b[0] for a, b in zip(entities, entities[1:])), "overlapping entities"
    assert len(entities) > 20
    print(f"\n{keys} key presses; {len(entities)} entities in the exported DocBin")
