"""The JSONL reader's fast span check (the common case inline) against the plain reference path
(every span through _span_problem): the same spans kept and the same ones skipped, so the same
rows are stored (storing does not depend on which check kept a span)."""
from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from annotation.model import SpanRecord
from annotation.readers import ReadResult, _json_document, _short, _span_problem

OFFSETS = st.one_of(st.integers(-3, 40), st.floats(allow_nan=False, allow_infinity=False),
                    st.booleans(), st.none(), st.text(max_size=3), st.integers(2**62, 2**64))
LABELS = st.one_of(st.text(max_size=6), st.integers(-2, 5), st.none(), st.booleans(),
                   st.lists(st.integers(), max_size=2))


def _reference(obj: dict, at: str) -> tuple[list[SpanRecord], list[str]]:
    """The plain path: every span explained by _span_problem, kept spans made one by one."""
    body = obj["text"]
    status = "accepted" if obj.get("answer") == "accept" else "suggested"
    kept, skipped = [], []
    for s in obj["spans"]:
        start, end, label = (s.get("start"), s.get("end"), s.get("label")) if isinstance(s, dict) \
            else (None, None, s)
        problem = _span_problem(start, end, label, len(body))
        if problem:
            skipped.append(f"{at}: span {_short([start, end, label])} skipped: {problem}")
            continue
        kept.append(SpanRecord(start, end, str(label), origin="import", status=status))
    return kept, skipped


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.fixed_dictionaries({"start": OFFSETS, "end": OFFSETS, "label": LABELS}),
                          st.integers()), max_size=12),
       st.sampled_from(["accept", "reject", None]))
def test_fast_span_path_equals_the_reference(spans, answer):
    obj = {"text": "Reuters said twelve people died in Homs.", "spans": spans}
    if answer:
        obj["answer"] = answer
    result = ReadResult()
    doc = _json_document(json.loads(json.dumps(obj)), "f:1", "f", 1, result)
    kept, skipped = _reference(json.loads(json.dumps(obj)), "f:1")
    assert doc is not None
    assert doc.spans == kept
    assert result.skipped == skipped
