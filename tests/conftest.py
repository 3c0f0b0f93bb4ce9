"""Shared fixtures: real project files on disk, the real spaCy model loaded once per session."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
ARTIFACTS = ROOT / "tests" / "artifacts"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Hermetic: a cue lexicon the user learned (train-claims) must not change what tests see.
os.environ["CREDENCE_HOME"] = tempfile.mkdtemp(prefix="credence-home-")


def shared_path(*parts: str) -> Path:
    """A path under ../shared/data, or skip the test with a clear message."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (the shared data folder beside the repo) — not present here")
    return path


@pytest.fixture
def project_path(tmp_path: Path) -> Path:
    return tmp_path / "test.credence"


@pytest.fixture
def project(project_path: Path):
    from storage.project import Project
    p = Project(project_path)
    yield p
    p.close()


@pytest.fixture(scope="session")
def nlp():
    """The real default pipeline, loaded once for the whole run."""
    from annotation.pipeline import load_model
    return load_model()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
