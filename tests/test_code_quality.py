"""The linters CONTRIBUTING.md promises, run as part of the suite (so `.ci/run` checks them):
ruff with the rules in pyproject.toml over the whole checkout, mypy over the headless core."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

BIN = os.path.dirname(sys.executable)


def _run(tool: str, *args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([os.path.join(BIN, tool), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def test_ruff_finds_nothing():
    r = _run("ruff", "check", "--no-cache", "--output-format", "concise", ".")
    assert r.returncode == 0, r.stdout + r.stderr


def test_ruff_has_teeth(tmp_path):
    """The same configuration refuses an unused import and an unsorted import block."""
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text(encoding="utf-8"),
                                             encoding="utf-8")
    (tmp_path / "bad.py").write_text("import sys\nimport os\n\nprint(os.sep)\n", encoding="utf-8")
    r = _run("ruff", "check", "--no-cache", "--output-format", "concise", ".", cwd=tmp_path)
    assert r.returncode == 1
    assert "F401" in r.stdout and "I001" in r.stdout


@pytest.mark.slow
def test_mypy_finds_nothing_in_the_core():
    r = _run("mypy", "annotation", "storage")
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr
