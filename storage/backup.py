"""Rolling backups of a project file, made with SQLite's backup API (consistent copies)."""
from __future__ import annotations

import os
import shutil
import sqlite3
import time
from datetime import datetime, timedelta
from pathlib import Path

from storage.project import Project, ProjectError, _lock

KEEP = 5
MIN_INTERVAL_MINUTES = 30


def backup_dir(path: Path) -> Path:
    path = Path(path)
    return path.parent / f".{path.name}.backups"


def list_backups(path: Path) -> list[Path]:
    """Newest first."""
    folder = backup_dir(path)
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*.credence"), reverse=True)


def make_backup(project: Project, keep: int = KEEP) -> Path:
    """Copy the open project into its backup folder and drop all but the newest `keep` copies."""
    folder = backup_dir(project.path)
    folder.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = folder / f"{project.path.stem}-{stamp}.credence"
    tmp = target.with_suffix(".partial")
    # A connection of its own: the copy may run on a worker thread while the app keeps reading
    # through project.conn (WAL lets both read); it copies what is committed, consistently.
    source = sqlite3.connect(f"{project.path.resolve().as_uri()}?mode=ro", uri=True)
    dest = sqlite3.connect(tmp)
    try:
        source.backup(dest)
        dest.execute("PRAGMA journal_mode = DELETE")
    finally:
        dest.close()
        source.close()
    os.replace(tmp, target)
    for old in list_backups(project.path)[keep:]:
        old.unlink(missing_ok=True)
    return target


def backup_on_open(project: Project, keep: int = KEEP,
                   min_interval: timedelta = timedelta(minutes=MIN_INTERVAL_MINUTES)) -> Path | None:
    """The app's policy on opening a project: a fresh consistent copy, unless the newest backup
    is recent (younger than `min_interval`) or the file has not changed since it was made.

    Never raises for a disk problem (full, read-only): opening must still work; returns None then.
    """
    backups = list_backups(project.path)
    if backups:
        made = backups[0].stat().st_mtime
        if time.time() - made < min_interval.total_seconds() or _last_change(project.path) <= made:
            return None
    try:
        return make_backup(project, keep)
    except (OSError, sqlite3.Error):
        for partial in backup_dir(project.path).glob("*.partial*"):
            partial.unlink(missing_ok=True)
        return None


def _last_change(path: Path) -> float:
    times = [path.stat().st_mtime]
    wal = Path(f"{path}-wal")
    if wal.exists() and wal.stat().st_size:
        times.append(wal.stat().st_mtime)
    return max(times)


def restore_backup(path: Path, backup: Path | None = None) -> Path:
    """Put a backup in place of the project; the current file is kept beside it, never deleted.

    Without `backup`, the newest backup that `check` finds sound is chosen.
    """
    from storage.check import check_project  # lazily: check is the heavier module
    path = Path(path)
    if backup:
        chosen: Path | None = Path(backup)
    else:
        chosen = next((b for b in list_backups(path) if not check_project(b)), None)
    if chosen is None or not chosen.exists():
        raise ProjectError(f"{path}: no sound backup to restore (looked in {backup_dir(path)})")
    fd = _lock(path) if path.exists() else None
    try:
        if path.exists():
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            kept = path.with_name(f"{path.name}.replaced-{stamp}")
            shutil.copy2(path, kept)
            for suffix in ("-wal", "-shm"):
                side = Path(str(path) + suffix)
                if side.exists():
                    shutil.move(side, str(kept) + suffix)
        tmp = path.with_name(path.name + ".restoring")
        shutil.copy2(chosen, tmp)
        os.replace(tmp, path)
    finally:
        if fd is not None:
            os.close(fd)
    return chosen
