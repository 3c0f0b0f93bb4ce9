"""The statistics view shows what is stored: chart values and text, refreshed after changes."""
from __future__ import annotations

from tests.ui.conftest import build_small_project
from ui.stats_view import StatsView


def _open(qtbot, project) -> StatsView:
    view = StatsView(project)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.refreshed, timeout=5000):
        pass
    return view


def test_charts_show_the_stored_counts(qtbot, project, artifacts):
    build_small_project(project)
    view = _open(qtbot, project)
    view.show()
    assert view.series_values("documents") == {"documents": {"new": 0, "in review": 2, "done": 1}}
    spans = view.series_values("spans")
    assert set(spans) == {"suggested", "accepted", "rejected"}
    # Straight from the table, not through counts(): the chart must match the rows.
    for label, status, n in project.conn.execute(
            "SELECT label, status, count(*) FROM spans GROUP BY label, status"):
        assert spans[status][label] == n, (label, status)
    assert spans["accepted"]["GPE"] == 2 and spans["suggested"]["GPE"] == 2
    assert spans["rejected"]["DATE"] == 1 and spans["rejected"]["GPE"] == 0
    assert view.series_values("claims") == {"claims": {
        "1": 0, "2": 2, "3": 0, "4": 0, "5": 1, "6": 0, "ungraded": 1}}
    assert view.series_values("sources") == {"sources": {
        "A": 0, "B": 1, "C": 0, "D": 0, "E": 0, "F": 0, "ungraded": 3}}
    text = view.summary_label.text()
    assert "<b>3</b> documents (in review 2, done 1)" in text
    n_spans = project.conn.execute("SELECT count(*) FROM spans").fetchone()[0]
    assert f"<b>{n_spans}</b> spans" in text
    assert "<b>4</b> claims (credibility: 2 2, 5 1, ungraded 1)" in text
    assert "<b>4</b> sources (reliability: B 1, ungraded 3)" in text
    view.resize(1040, 760)
    qtbot.wait(50)
    view.grab().save(str(artifacts / "stats_view.png"))


def test_refresh_follows_new_decisions(qtbot, project):
    info = build_small_project(project)
    view = _open(qtbot, project)
    review = info["review"]
    review.grade_source(info["sources"]["the White Helmets"], "E")
    review.set_document_status(info["documents"][1], "done", resolve="reject")
    with qtbot.waitSignal(view.refreshed, timeout=5000):
        view.refresh()
    assert view.series_values("sources")["sources"]["E"] == 1
    assert view.series_values("documents")["documents"]["done"] == 2


def test_empty_project(qtbot, project, artifacts):
    view = _open(qtbot, project)
    assert view.series_values("documents") == {"documents": {"new": 0, "in review": 0, "done": 0}}
    assert view.series_values("spans") == {"suggested": {"": 0}, "accepted": {"": 0},
                                           "rejected": {"": 0}}
    assert "<b>0</b> documents (none)" in view.summary_label.text()


def test_agreement_between_annotators_is_shown(qtbot, project, artifacts):
    from annotation.model import NewDocument, SpanRecord
    from storage.ingest import store_documents
    text = "Reuters said the talks failed, officials told AFP."
    versions = {"ann1": [(0, 7, "Source"), (8, 12, "Cue"), (13, 29, "Content")],
                "ann2": [(0, 7, "Source"), (8, 12, "Cue"), (31, 40, "Content")]}
    spans = [SpanRecord(s, e, lab, origin="import", status="accepted", annotator=who)
             for who, rows in versions.items() for s, e, lab in rows]
    store_documents(project, [NewDocument(text, spans=spans)])
    view = _open(qtbot, project)
    text = view.summary_label.text()
    # Source and Cue agree, Content does not: F1 1.00, 1.00, 0.00 from the stored spans.
    assert "agreement between 2 annotators on 1 documents" in text
    assert "Content 0.00" in text and "Cue 1.00" in text and "Source 1.00" in text
