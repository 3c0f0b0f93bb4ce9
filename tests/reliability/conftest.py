"""Helpers for the reliability tests: seeded projects, table dumps, the CLI in a subprocess."""
from __future__ import annotations

import hashlib
import os
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.reliability.seed import make_seed_project  # noqa: E402,F401  (re-exported)

CLI_ENV = dict(os.environ, CREDENCE_NO_BOOTSTRAP="1", PYTHONUNBUFFERED="1")
# Tables whose content is the project; FTS shadow tables follow `documents`.
USER_TABLES = ("meta", "documents", "sightings", "labels", "spans", "sources", "source_aliases",
               "source_not_same",
               "claims", "claim_links", "doc_labels", "events", "models")


def run_cli(*args: str | os.PathLike, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    """`python main.py ARGS` as a user runs it, from the repo root."""
    return subprocess.run([sys.executable, "main.py", *map(str, args)], cwd=ROOT, env=CLI_ENV,
                          capture_output=True, text=True, timeout=timeout, **kw)


def dump(path: Path) -> str:
    """A digest of every row of every table (and the schema): equal digests, equal projects."""
    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        h = hashlib.sha256()
        for (sql,) in conn.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name"):
            h.update(sql.encode())
        for table in USER_TABLES:
            for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid'):
                h.update(repr(row).encode())
        h.update(repr(conn.execute("SELECT rowid FROM documents_fts WHERE documents_fts MATCH 'the'"
                                   " ORDER BY rowid").fetchall()).encode())
        return h.hexdigest()
    finally:
        conn.close()


def row_counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in USER_TABLES}
    finally:
        conn.close()


def integrity(path: Path) -> list[str]:
    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()


def folder_state(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, tuple[int, float]]:
    """Every file under `folder` with its size and mtime (to prove nothing else was touched)."""
    out = {}
    for p in sorted(Path(folder).rglob("*")):
        if p.is_file() and not any(p.name.endswith(s) for s in skip):
            st = p.stat()
            out[str(p.relative_to(folder))] = (st.st_size, st.st_mtime_ns)
    return out


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    """A small project with suggested spans, claims and sources, closed."""
    path = tmp_path / "seed.credence"
    make_seed_project(path, n_docs=8, rng=random.Random(7))
    return path
