"""The core stays headless: import-linter contracts from pyproject.toml, and a display-free import."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT


def test_import_linter_contracts_hold():
    lint = os.path.join(os.path.dirname(sys.executable), "lint-imports")
    r = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 kept, 0 broken" in r.stdout


def test_core_imports_without_qt():
    code = ("import sys; sys.path.insert(0, %r)\n"
            "import annotation.model, annotation.pipeline, storage.project, storage.review, "
            "storage.ingest, storage.preannotate, storage.cli, storage.check\n"
            "assert not any(m.startswith('PySide6') for m in sys.modules), 'Qt imported by the core'\n"
            % str(ROOT))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
