"""The project installs as a package: `pip install .` gives the `credence` and `credence-app` commands."""
from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_wheel_holds_the_layers_the_sample_and_both_commands(tmp_path: Path):
    """Build the wheel `pip install .` installs (no network: our build backend is in the venv)."""
    # From a copy: a build writes build/ and *.egg-info beside the sources.
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".venv", ".git", "__pycache__", "artifacts", "out", "demo", "*.credence*"))
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
         "--wheel-dir", str(tmp_path), str(src)],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    wheel = next(tmp_path.glob("credence-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in ("annotation", "storage", "ui"):
        assert f"{package}/__init__.py" in names
    # Every module of the checkout's layers is in the wheel, and nothing else of the checkout.
    for py in ROOT.glob("*/**/*.py"):
        rel = py.relative_to(ROOT).as_posix()
        if rel.split("/")[0] in ("annotation", "storage", "ui"):
            assert rel in names, f"{rel} is not installed"
    assert not any(n.startswith(("tests/", "bench/", "main.py")) for n in names)
    assert "storage/sample/sample-article.txt" in names
    dist_info = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    entry_points = configparser.ConfigParser()
    entry_points.read_string(zipfile.ZipFile(wheel).read(dist_info).decode())
    assert entry_points["console_scripts"]["credence"] == "storage.cli:main"
    assert entry_points["gui_scripts"]["credence-app"] == "ui.app:main"


def test_credence_command_runs_the_batch_commands(capsys, monkeypatch):
    """The console entry point is the CLI the checkout runs."""
    from storage.cli import main
    monkeypatch.setattr(sys, "argv", ["credence", "stats", "/nonexistent/folder/x.credence"])
    with pytest.raises(SystemExit) as stop:
        main()
    assert stop.value.code == 1
    err = capsys.readouterr().err
    assert "no such" in err and "Traceback" not in err
