"""Credence: open the desktop app, or run a batch command on a project.

    python3 main.py demo            open the app on a demo project (set-up on first run)
    python3 main.py test            run the whole test suite (set-up on first run)
    python3 main.py test --fast     the day-to-day loop: every test not marked slow
    python3 main.py [PROJECT]       open the app
    python3 main.py import|annotate|export|stats|check|related|train|models|eval-claims|train-claims ...

The first lines use the standard library only: on a fresh machine they create `.venv`,
install the pinned dependencies from pyproject.toml and re-run this file inside it.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BATCH_COMMANDS = {
    "import", "annotate", "export", "stats", "sources", "check", "related", "eval-claims",
    "train-claims", "backup", "demo-project", "train", "models",
}


def _venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _requirements(with_tests: bool) -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    if with_tests:
        reqs += project["optional-dependencies"]["test"]
    return reqs


def _ensure_environment(with_tests: bool) -> None:
    """Create .venv and install the pinned dependencies once; re-exec inside it."""
    if os.environ.get("CREDENCE_NO_BOOTSTRAP"):
        return
    reqs = _requirements(with_tests)
    wanted = hashlib.sha256("\n".join(sorted(reqs)).encode()).hexdigest()
    stamp = VENV / "credence-installed.txt"
    installed = set(stamp.read_text().split()) if stamp.exists() else set()
    python = _venv_python()
    if wanted not in installed:
        if not python.exists():
            print("Credence: creating a virtual environment in .venv (first run only)…", flush=True)
            venv.create(VENV, with_pip=True)
        missing = _missing(python, reqs)
        if missing:
            print(f"Credence: installing {len(missing)} pinned dependencies "
                  f"({', '.join(missing[:3])}{', …' if len(missing) > 3 else ''})…", flush=True)
            # pip's own chatter is shown only when it fails.
            done = subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                                   "--disable-pip-version-check", *reqs],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if done.returncode != 0:
                sys.stdout.write(done.stdout)
                sys.exit(f"Credence: installing the dependencies failed (pip exit {done.returncode})")
        stamp.write_text("\n".join(sorted(installed | {wanted})) + "\n")
    if Path(sys.prefix).resolve() != VENV.resolve():
        os.execv(str(python), [str(python), str(ROOT / "main.py"), *sys.argv[1:]])


# Run inside .venv: prints the pins (name==version) that are not installed at that version.
_CHECK_PINS = """
import sys
from importlib.metadata import PackageNotFoundError, version
for pin in sys.argv[1:]:
    name, _, wanted = pin.partition("==")
    try:
        ok = bool(wanted) and version(name) == wanted
    except PackageNotFoundError:
        ok = False
    if not ok:
        print(pin)
"""


def _missing(python: Path, reqs: list[str]) -> list[str]:
    """The pinned requirements .venv lacks (all of them when it cannot tell)."""
    done = subprocess.run([str(python), "-c", _CHECK_PINS, *reqs], capture_output=True, text=True)
    return done.stdout.split() if done.returncode == 0 else reqs


def _run_tests(args: list[str]) -> int:
    """pytest over tests/; `--fast` leaves out the tests marked slow (the day-to-day loop)."""
    if "--fast" in args:
        args = [a for a in args if a != "--fast"] + ["-m", "not slow"]
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
               CREDENCE_NO_BOOTSTRAP="1")
    return subprocess.call([sys.executable, "-m", "pytest", *args], cwd=ROOT, env=env)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else None
    _ensure_environment(with_tests=command == "test")
    sys.path.insert(0, str(ROOT))
    if command == "test":
        return _run_tests(argv[1:])
    if command in BATCH_COMMANDS or command in ("-h", "--help"):
        from storage.cli import run
        return run(argv)
    # Standard library only: asks ldd, before Qt can abort with a misleading message.
    from ui import system_libraries
    if system_libraries.needs_check():
        message = system_libraries.problem()
        if message:
            print(message, file=sys.stderr)
            return 1
    from ui.app import run_app
    return run_app(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
