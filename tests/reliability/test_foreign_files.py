"""Foreign project files: each malicious or broken `.credence` is refused with a message or
opened safely; no SQL from the file runs; nothing outside the file is read or written."""
from __future__ import annotations

import os
import random
import shutil
import sqlite3
from pathlib import Path

import pytest

from storage import schema
from storage.check import check_project
from storage.project import Project, ProjectError
from tests.reliability.conftest import folder_state, run_cli
from tests.reliability.seed import make_seed_project

# Hundreds of hostile inputs and processes: the full suite runs them, the fast loop does not.
pytestmark = pytest.mark.slow

REFUSED, SAFE = "refused", "safe"


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("base") / "base.credence"
    make_seed_project(path, n_docs=4, rng=random.Random(1))
    assert not Path(str(path) + "-wal").exists()
    return path


def _edit(path: Path, *sql: str) -> None:
    """Tamper with a file the way an attacker would: plain sqlite3, no Credence code."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = DELETE")
        for s in sql:
            conn.executescript(s)
    finally:
        conn.close()


# Each case builds the file at `path` (a copy of a sound project where useful) and says what
# must happen. A planted `pwned` table records any SQL from the file that ran.
PWNED = "CREATE TABLE pwned (what TEXT);"


def case_trigger_on_spans(path, base, sentinel):
    shutil.copy(base, path)
    _edit(path, PWNED, "CREATE TRIGGER evil AFTER UPDATE ON spans BEGIN "
                       "INSERT INTO pwned VALUES ('spans updated'); END;")
    return REFUSED


def case_trigger_on_open_tables(path, base, sentinel):
    # Fires on what opening or closing a project might write (meta, events, documents).
    shutil.copy(base, path)
    _edit(path, PWNED,
          "CREATE TRIGGER evil_meta AFTER INSERT ON meta BEGIN INSERT INTO pwned VALUES ('meta'); END;",
          "CREATE TRIGGER evil_events BEFORE INSERT ON events BEGIN "
          "INSERT INTO pwned VALUES ('events'); END;")
    return REFUSED


def case_trigger_loading_extension(path, base, sentinel):
    shutil.copy(base, path)
    _edit(path, f"CREATE TRIGGER evil AFTER UPDATE ON claims BEGIN "
                f"SELECT load_extension('{sentinel.parent / 'evil'}'); END;")
    return REFUSED


def case_view_reading_files(path, base, sentinel):
    shutil.copy(base, path)
    _edit(path, f"CREATE VIEW document_list AS SELECT load_extension('{sentinel}') AS x;")
    return REFUSED


def case_our_trigger_rewritten(path, base, sentinel):
    # Same name as our FTS trigger, another body: the schema text must match, not just names.
    shutil.copy(base, path)
    _edit(path, PWNED, "DROP TRIGGER documents_au;",
          "CREATE TRIGGER documents_au AFTER UPDATE OF title, text ON documents BEGIN "
          "INSERT INTO pwned VALUES ('document edited'); END;")
    return REFUSED


def case_index_on_expression(path, base, sentinel):
    shutil.copy(base, path)
    _edit(path, "CREATE INDEX evil ON spans (abs(start) + length(label));")
    return REFUSED


def case_altered_table(path, base, sentinel):
    shutil.copy(base, path)
    _edit(path, "ALTER TABLE spans ADD COLUMN payload TEXT DEFAULT 'x';")
    return REFUSED


def case_schema_not_ours(path, base, sentinel):
    _edit(path, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);",
          "INSERT INTO notes (body) VALUES ('hello');", "PRAGMA user_version = 1;",
          f"PRAGMA application_id = {schema.APP_ID};")
    return REFUSED


def case_other_application(path, base, sentinel):
    _edit(path, "CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT);",
          "PRAGMA application_id = 1234;")
    return REFUSED


def case_other_application_empty(path, base, sentinel):
    # Another program's fresh database (its id set, no tables yet) must not become a project.
    _edit(path, "PRAGMA application_id = 1234;")
    return REFUSED


def case_newer_schema(path, base, sentinel):
    shutil.copy(base, path)
    _edit(path, "PRAGMA user_version = 999;")
    return REFUSED


def case_not_sqlite(path, base, sentinel):
    path.write_bytes(random.Random(3).randbytes(50_000))
    return REFUSED


def case_text_file(path, base, sentinel):
    path.write_text("id,name\n1,not a project\n")
    return REFUSED


def case_header_only(path, base, sentinel):
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 84)
    return REFUSED


def case_truncated(path, base, sentinel):
    data = base.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return REFUSED


def case_corrupted_pages(path, base, sentinel):
    data = bytearray(base.read_bytes())
    rng = random.Random(9)
    page = 4096
    for p in range(2, len(data) // page):
        for _ in range(40):
            data[p * page + rng.randrange(page)] = rng.randrange(256)
    path.write_bytes(bytes(data))
    return REFUSED


def case_foreign_wal(path, base, sentinel):
    # A -wal left beside the file by another database: its pages must not turn into ours.
    shutil.copy(base, path)
    other = path.parent / "other.db"
    conn = sqlite3.connect(other, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute(PWNED)
    conn.execute("INSERT INTO pwned VALUES ('from the other database')")
    shutil.copy(str(other) + "-wal", str(path) + "-wal")
    conn.close()
    for p in (other, Path(str(other) + "-wal"), Path(str(other) + "-shm")):
        p.unlink(missing_ok=True)
    return None  # refused, or opened safely: either is fine, a crash or damage is not


def case_huge_blob(path, base, sentinel):
    shutil.copy(base, path)
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO meta (key, value) VALUES ('junk', ?)", (b"\x00" * 30_000_000,))
    conn.commit()
    conn.close()
    return SAFE


def case_spans_outside_text(path, base, sentinel):
    shutil.copy(base, path)
    _edit(path, 'UPDATE spans SET start = 100000, "end" = 100010 WHERE id = 1;',
          'UPDATE spans SET start = 20, "end" = 5 WHERE id = 2;',
          'UPDATE spans SET start = -5 WHERE id = 3;')
    return SAFE


def case_zero_length(path, base, sentinel):
    path.write_bytes(b"")
    return SAFE  # an empty file becomes a new project


def case_folder(path, base, sentinel):
    path.mkdir()
    return REFUSED


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


@pytest.mark.parametrize("name", sorted(CASES))
def test_foreign_file(name, tmp_path, base, capsys):
    folder = tmp_path / "work"
    folder.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    sentinel = outside / "sentinel.txt"
    sentinel.write_text("untouched")
    path = folder / f"{name}.credence"
    want = CASES[name](path, base, sentinel)
    side = ("-wal", "-shm")
    before_outside = folder_state(outside)
    before_folder = folder_state(folder, skip=side)
    before_file = path.read_bytes() if path.is_file() else None

    outcome = _open(path)
    if want is not None:
        assert outcome == want, f"{name}: expected {want}, got {outcome}"
    problems = check_project(path)  # never raises
    assert all(isinstance(p, str) and p for p in problems)
    if outcome == REFUSED:
        assert problems, f"{name}: refused to open but `check` found it sound"
    for cmd in (("stats", path), ("check", path)):
        result = run_cli(*cmd)
        assert "Traceback" not in result.stderr, f"{name}: {cmd[0]} crashed:\n{result.stderr}"
        if outcome == REFUSED:
            assert result.returncode != 0
            out = (result.stdout + result.stderr).strip()
            assert path.name in out, out
    _record(name, outcome, problems)

    # Nothing outside the file was written; nothing in its folder but its own -wal/-shm.
    assert folder_state(outside) == before_outside
    assert sentinel.read_text() == "untouched"
    after_folder = folder_state(folder, skip=side)
    assert set(after_folder) == set(before_folder), set(after_folder) ^ set(before_folder)
    if outcome == REFUSED and before_file is not None:
        assert path.read_bytes() == before_file, f"{name}: a refused file was changed"
    if path.is_file() and outcome != REFUSED:
        _assert_no_planted_sql_ran(path)
    elif path.is_file() and path.read_bytes().startswith(b"SQLite format 3"):
        _assert_no_planted_sql_ran(path)


def _open(path: Path) -> str:
    """Open as the app does and use the project a little; return refused / safe."""
    try:
        project = Project(path)
    except ProjectError as exc:
        message = str(exc)
        assert path.name in message, message
        assert "\n" not in message.strip()
        return REFUSED
    try:
        project.counts()
        project.document_rows()
        for doc_id in project.document_ids()[:2]:
            project.document(doc_id)
            project.spans(doc_id)
            project.claims(doc_id)
        if project.document_ids():
            from storage.review import Review
            review = Review(project)
            doc_id = project.document_ids()[0]
            spans = project.spans(doc_id)
            inside = [s for s in spans if 0 <= s.start < s.end <= len(project.document(doc_id).text)]
            if inside:
                review.accept([inside[0].id])
            claims = project.claims(doc_id)
            if claims:
                review.grade_claim(claims[0].id, 2)
    finally:
        project.close()
    return SAFE


def _assert_no_planted_sql_ran(path: Path) -> None:
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        conn.execute("PRAGMA trusted_schema = OFF")
        rows = conn.execute("SELECT what FROM pwned").fetchall()
    except sqlite3.DatabaseError:
        return  # no such table (or a damaged file): nothing planted ran
    finally:
        conn.close()
    assert rows in ([], [("from the other database",)]), f"SQL from the file ran: {rows}"


_RESULTS: dict[str, tuple[str, int]] = {}


def _record(name: str, outcome: str, problems: list[str]) -> None:
    _RESULTS[name] = (outcome, len(problems))


def test_zz_report_foreign_files(capsys):
    """Print the figures (runs after the cases in this module)."""
    if not _RESULTS:
        pytest.skip("no foreign-file case ran")
    refused = sorted(n for n, (o, _) in _RESULTS.items() if o == REFUSED)
    with capsys.disabled():
        print(f"\n[reliability] foreign files: {len(_RESULTS)} tried, {len(refused)} refused, "
              f"{len(_RESULTS) - len(refused)} opened safely")
    assert len(_RESULTS) >= 12


def test_a_fifo_or_device_as_project_is_refused_at_once(tmp_path):
    """Opening a FIFO would wait forever for a writer; /dev/zero would never end."""
    fifo = tmp_path / "pipe.credence"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero")):
        for readonly in (False, True):
            with pytest.raises(ProjectError, match="not a regular file"):
                Project(path, readonly=readonly)
