"""Who decides: the analyst's name, one setting for the app and the batch commands alike.

Kept in `analyst.json` in the user's Credence folder ($CREDENCE_HOME, else
~/.local/share/credence): the app asks for it once and stores it here, so a command run
later without `--annotator` records the same name. Without a stored name, the OS user name.
"""
from __future__ import annotations

import contextlib
import getpass
import json
import os
import tempfile

from annotation.claim_model import credence_home

NAME_FILE = "analyst.json"
MAX_LENGTH = 80


def os_user_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "analyst"


def clean_name(name: str) -> str:
    """An analyst name as it is stored: one line, trimmed; ValueError when there is none."""
    cleaned = " ".join(str(name).split())
    if not cleaned:
        raise ValueError("an analyst name needs at least one visible character")
    if len(cleaned) > MAX_LENGTH:
        raise ValueError(f"an analyst name is at most {MAX_LENGTH} characters")
    return cleaned


def stored_analyst_name() -> str | None:
    """The name the analyst gave in the app, if any."""
    path = credence_home() / NAME_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return clean_name(data["name"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # none stored, or a file that is not ours: fall back, never fail


def analyst_name() -> str:
    """Who the project's decisions are recorded as: the stored name, else the OS user name."""
    return stored_analyst_name() or os_user_name()


def set_analyst_name(name: str) -> str:
    """Store the analyst's name (written whole or not at all); returns it as stored."""
    cleaned = clean_name(name)
    home = credence_home()
    home.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=home, prefix=".analyst-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"name": cleaned}, f, ensure_ascii=False)
        os.replace(tmp, home / NAME_FILE)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return cleaned
