"""Rolling backups of a project file, made with SQLite's backup API (consistent copies)."""
from __future__ import annotations

import os
import shutil
import sqlite3
from datetime import datetime
from pathlib import Path

from storage.project import Project, ProjectError, _lock

KEEP = 5


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
    dest = sqlite3.connect(tmp)
    try:
        project.conn.backup(dest)
        dest.execute("PRAGMA journal_mode = DELETE")
    finally:
        dest.close()
    os.replace(tmp, target)
    for old in list_backups(project.path)[keep:]:
        old.unlink(missing_ok=True)
    return target


def restore_backup(path: Path, backup: Path | None = None) -> Path:
    """Put a backup in place of the project; the current file is kept beside it, never deleted."""
    path = Path(path)
    backups = list_backups(path)
    chosen = Path(backup) if backup else (backups[0] if backups else None)
    if chosen is None or not chosen.exists():
        raise ProjectError(f"{path}: no backup to restore (looked in {backup_dir(path)})")
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
