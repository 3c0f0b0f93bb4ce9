"""Import that cannot hurt: special files refused unread, one bad line skipped and named (the
rest imported, nothing stored that an export cannot write), links out of a folder not followed,
parsing linear in the input, the limits stated in `import --help`."""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from annotation import limits
from storage.check import check_project
from storage.importer import import_paths
from storage.project import Project, ProjectError
from tests.reliability.conftest import dump, run_cli

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and /dev/zero are POSIX")
ARTICLE = "Government forces shelled Homs on Tuesday, the Syrian Observatory said."


def _line(i: int, **extra) -> str:
    return json.dumps({"text": f"{ARTICLE} Report {i}.", **extra})


# -- special files ---------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", [None, "txt", "csv", "jsonl", "html", "brat"])
def test_devices_and_pipes_are_refused_unread(tmp_path, fmt):
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    project = tmp_path / "p.credence"
    for target in (Path("/dev/zero"), fifo):
        t = time.monotonic()
        with Project(project) as p:
            before = dump(project)
            with pytest.raises(ProjectError, match="not a regular file"):
                import_paths(p, [target], fmt=fmt or ("jsonl" if target.name == "zero" else None))
            assert dump(project) == before
        assert time.monotonic() - t < 5


def test_special_files_inside_a_folder_are_skipped_and_named(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(ARTICLE)
    os.mkfifo(folder / "b.txt")
    with Project(tmp_path / "p.credence") as p:
        summary = import_paths(p, [folder])
    assert summary.added == 1
    assert any("b.txt" in s and "not a regular file" in s for s in summary.skipped)


# -- one bad line -----------------------------------------------------------------------------------
BAD_LINES = {
    "5000-digit integer in meta": '{"text": "%s Bad.", "meta": {"n": %s}}' % (ARTICLE, "9" * 5000),
    "5000-digit span offset": '{"text": "%s Bad.", "spans": [{"start": %s, "end": 3, "label": "X"}]}'
                              % (ARTICLE, "1" * 5000),
    "integer beyond 64 bits": '{"text": "%s Bad.", "meta": {"n": %d}}' % (ARTICLE, 2**70),
    "NaN in meta": '{"text": "%s Bad.", "meta": {"x": NaN}}' % ARTICLE,
    "Infinity at top level": '{"text": "%s Bad.", "score": Infinity}' % ARTICLE,
    "1e400 (overflows to inf)": '{"text": "%s Bad.", "meta": {"x": 1e400}}' % ARTICLE,
    "nested 900 deep": '{"text": "%s Bad.", "meta": {"x": %s}}' % (ARTICLE, "[" * 900 + "]" * 900),
    "nested 100,000 deep": '{"text": "%s Bad.", "meta": %s}' % (ARTICLE, "[" * 100_000 + "]" * 100_000),
    "lone surrogate": '{"text": "%s Bad \\ud800."}' % ARTICLE,
    "wrong type: text": '{"text": 42}',
    "wrong type: annotations": '{"data": {"text": "%s Bad."}, "annotations": 5}' % ARTICLE,
    "wrong type: result": '{"data": {"text": "%s B."}, "annotations": [{"result": 7}]}' % ARTICLE,
    "invalid UTF-8 bytes": None,
}


@pytest.mark.parametrize("case", list(BAD_LINES))
def test_one_bad_jsonl_line_is_named_and_the_rest_imports(tmp_path, case):
    path = tmp_path / "data.jsonl"
    bad = BAD_LINES[case]
    with open(path, "wb") as f:
        # Real UTF-8 first (so the file is UTF-8), then a line with damaged bytes.
        f.write((json.dumps({"text": f"{ARTICLE} Report 1.", "title": "Café à Homs"},
                            ensure_ascii=False) + "\n").encode())
        f.write(b'{"text": "Bad \xff\xfe bytes."}' if bad is None else bad.encode())
        f.write(("\n" + _line(3) + "\n").encode())
    project = tmp_path / "p.credence"
    r = run_cli("import", project, path, timeout=60)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    with Project(project, readonly=True) as p:
        stored_texts = [text for (text,) in p.conn.execute("SELECT text FROM documents")]
    kept = [t for t in stored_texts if "Bad" in t]
    if case.startswith(("wrong type: annotations", "wrong type: result")):
        assert len(stored_texts) == 3  # the text is fine; only the odd part is ignored
    else:
        assert not kept, f"{case}: stored {kept}"
        assert f"{path}:2:" in r.stderr, r.stderr  # named by its line number
        assert len(stored_texts) == 2
    assert check_project(project) == []
    # Every export can write what was stored.
    from storage.export import export
    with Project(project, readonly=True) as p:
        for fmt in ("doccano", "labelstudio", "docs-csv", "prodigy"):
            out = tmp_path / f"out.{fmt}"
            assert export(p, fmt, out, everything=True).documents == len(stored_texts)
            if fmt in ("doccano", "prodigy"):
                for line in out.read_text().splitlines():
                    json.loads(line, parse_constant=_refuse)


def _refuse(name):
    raise AssertionError(f"{name} written into an export")


def test_a_huge_brat_offset_is_one_skipped_line(tmp_path):
    (tmp_path / "a.txt").write_text("Reuters said twelve people were killed.\n")
    (tmp_path / "a.ann").write_text(f"T1\tSource 0 7\tReuters\nT2\tCue {'9' * 5000} 12\tsaid\n"
                                    "T3\tCue 8 12\tsaid\n")
    with Project(tmp_path / "p.credence") as p:
        summary = import_paths(p, [tmp_path / "a.txt"], fmt="brat")
        assert summary.spans == 2
        assert any("a.ann: line 2" in s for s in summary.skipped), summary.skipped


def test_csv_with_undecodable_bytes_skips_that_row(tmp_path):
    path = tmp_path / "n.csv"
    path.write_bytes("id,text\n1,First article about Homs and a café.\n".encode()
                     + b"2,Bad \xff bytes.\n3,Third one.\n")
    with Project(tmp_path / "p.credence") as p:
        summary = import_paths(p, [path])
    assert summary.added == 2 and any(f"{path}:3:" in s for s in summary.skipped), summary.skipped


# -- symbolic links -------------------------------------------------------------------------------------
def test_links_out_of_an_imported_folder_are_not_followed_unless_asked(tmp_path):
    secret = tmp_path / "private"
    secret.mkdir()
    (secret / "id_rsa.txt").write_text("-----BEGIN PRIVATE KEY----- secret material here")
    (secret / "more").mkdir()
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text(ARTICLE)
    (folder / "b.txt").write_text(ARTICLE + " Another.")
    (folder / "key.txt").symlink_to(secret / "id_rsa.txt")
    (folder / "inside.txt").symlink_to(folder / "a.txt")  # inside: fine (a duplicate)
    (folder / "dangling.txt").symlink_to(tmp_path / "gone.txt")
    project = tmp_path / "p.credence"
    r = run_cli("import", project, folder)
    assert r.returncode == 0, r.stderr
    assert "key.txt" in r.stderr and "not followed" in r.stderr and "symbolic link" in r.stdout
    with Project(project, readonly=True) as p:
        texts = [t for (t,) in p.conn.execute("SELECT text FROM documents")]
    assert len(texts) == 2 and not any("PRIVATE" in t for t in texts)
    r = run_cli("import", project, folder, "--follow-symlinks")
    assert r.returncode == 0, r.stderr
    with Project(project, readonly=True) as p:
        assert any("PRIVATE" in t for (t,) in p.conn.execute("SELECT text FROM documents"))


def test_a_polnear_layout_whose_attributions_link_outside_is_not_read(tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "art_ann1.ann").write_text("T1\tSource 0 7\tReuters\n")
    gold = tmp_path / "gold"
    (gold / "text").mkdir(parents=True)
    (gold / "text" / "art.txt").write_text("Reuters said it.\n")
    (gold / "attributions").symlink_to(outside)
    with Project(tmp_path / "p.credence") as p:
        try:
            summary = import_paths(p, [gold], fmt="brat")
        except ProjectError as exc:
            assert "attributions" in str(exc) or "no" in str(exc)
        else:
            assert summary.spans == 0 and summary.symlinks_skipped


# -- linear and bounded ----------------------------------------------------------------------------------
def _timed_import(tmp_path: Path, name: str, data: str, **kw) -> float:
    path = tmp_path / name
    path.write_text(data)
    t = time.perf_counter()
    with Project(tmp_path / f"{name}.credence") as p:
        import_paths(p, [path], **kw)
    return time.perf_counter() - t


@pytest.mark.parametrize("shape", ["columns", "rows", "meta keys", "spans"])
def test_parsing_is_linear_in_the_input(tmp_path, shape):
    """Ten times the input costs about ten times the time (quadratic would be a hundred)."""
    def make(n: int) -> tuple[str, str]:
        if shape == "columns":
            return "w.csv", (",".join(f"c{i}" for i in range(n)) + ",text\n"
                             + ",".join("v" for _ in range(n)) + f',"{ARTICLE}"\n')
        if shape == "rows":
            return "r.csv", "id,text\n" + "".join(f'{i},"{ARTICLE} {i}"\n' for i in range(n // 4))
        if shape == "meta keys":
            return "m.jsonl", json.dumps({"text": ARTICLE, "meta": {f"k{i}": i for i in range(n)}}) + "\n"
        text = "word " * n
        return "s.jsonl", json.dumps({"text": text, "spans": [
            {"start": 5 * i, "end": 5 * i + 4, "label": "X"} for i in range(n)]}) + "\n"
    small, big = 2_000, 20_000
    t_small = min(_timed_import(tmp_path, f"{i}-" + make(small)[0], make(small)[1]) for i in range(2))
    t_big = _timed_import(tmp_path, "big-" + make(big)[0], make(big)[1])
    assert t_big < 25 * max(t_small, 0.02), (shape, t_small, t_big)


def test_import_help_states_every_limit():
    r = run_cli("import", "--help")
    assert r.returncode == 0
    flat = " ".join(r.stdout.split())
    for value in (f"{limits.MAX_ARTICLE_CHARS:,}", f"{limits.MAX_RECORD_CHARS:,}",
                  f"{limits.MAX_COLUMNS:,}", f"{limits.MAX_JSON_DEPTH}", "64 bits",
                  f"{limits.BATCH_DOCUMENTS}", "--follow-symlinks"):
        assert value in flat, value


def test_a_json_list_is_read_a_record_at_a_time(tmp_path, monkeypatch):
    """A JSON list on one line, far longer than one record may be, imports record by record;
    a record with NaN in its metadata is skipped and named, the rest imports."""
    from annotation import readers
    monkeypatch.setattr(readers, "MAX_RECORD_CHARS", 10_000)
    items = [{"text": f"{ARTICLE} Item {i}.", "meta": {"i": i}} for i in range(400)]
    text = json.dumps(items)
    text = text.replace('"i": 7}', '"i": NaN}', 1)
    assert len(text) > 4 * 10_000 and "\n" not in text
    path = tmp_path / "tasks.json"
    path.write_text(text)
    with Project(tmp_path / "p.credence") as p:
        summary = import_paths(p, [path])
    assert summary.added == 399
    assert any(f"{path} item 8" in s and "NaN" in s for s in summary.skipped), summary.skipped
