"""The core stays headless: import-linter contracts from pyproject.toml, and a display-free import."""
from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

LINT = os.path.join(os.path.dirname(sys.executable), "lint-imports")


def _lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([LINT, "--no-cache"], cwd=root, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(root)})


def test_import_linter_contracts_hold():
    r = _lint(ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "3 kept, 0 broken" in r.stdout


def test_the_sqlite_contract_catches_ui_importing_sqlite3(tmp_path):
    """The contract has teeth: the same tree with one `import sqlite3` in ui/ is refused."""
    for package in ("annotation", "storage", "ui"):
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__", "sample"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with open(tmp_path / "ui" / "offsets.py", "a") as f:
        f.write("\nimport sqlite3  # planted\n")
    r = _lint(tmp_path)
    assert r.returncode != 0
    assert "ui is not allowed to import sqlite3" in r.stdout and "ui.offsets -> sqlite3" in r.stdout


def database_uses(source: str) -> list[str]:
    """Where Python source reaches the database itself: sqlite3, a `.conn`, an `.execute(`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] == "sqlite3"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlite3":
            found.append(f"from {node.module} import …")
        elif isinstance(node, ast.Attribute) and node.attr in (
                "conn", "execute", "executemany", "executescript"):
            found.append(f".{node.attr} (line {node.lineno})")
    return found


def test_ui_never_touches_the_database():
    assert database_uses("import sqlite3\nx = project.conn.execute('SELECT 1')\n") == [
        "import sqlite3", ".execute (line 2)", ".conn (line 2)"]
    offenders = {path.name: uses for path in sorted((ROOT / "ui").glob("*.py"))
                 if (uses := database_uses(path.read_text(encoding="utf-8")))}
    assert offenders == {}, "ui/ must ask Project or the review model, not run SQL"


def test_core_imports_without_qt():
    code = ("import sys; sys.path.insert(0, %r)\n"
            "import annotation.model, annotation.pipeline, storage.project, storage.review, "
            "storage.ingest, storage.preannotate, storage.cli, storage.check\n"
            "assert not any(m.startswith('PySide6') for m in sys.modules), 'Qt imported by the core'\n"
            % str(ROOT))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
