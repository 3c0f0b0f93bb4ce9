"""Rolling backups of a project file (SQLite's backup API: consistent copies) and restoring one.

A restore never loses committed work: the candidate is proved sound before anything is
touched; the current file is kept beside it (with what its write-ahead log held) under a name
no other restore uses; the restored file replaces it in one rename, so a kill at any instant
leaves either the old project, whole, or the restored one.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from glob import escape as glob_escape
from pathlib import Path

from storage.check import check_project
from storage.project import Project, ProjectError, _lock

KEEP = 5
MIN_INTERVAL_MINUTES = 30
# Files SQLite keeps beside a database while it is in use: their content belongs to that file.
_SIDECARS = ("-wal", "-journal")

# Called with the name of each step of a restore (tests kill the process at each one).
on_step: Callable[[str], None] | None = None


def _step(name: str) -> None:
    if on_step is not None:
        on_step(name)


def backup_dir(path: Path) -> Path:
    path = Path(path)
    return path.parent / f".{path.name}.backups"


def list_backups(path: Path) -> list[Path]:
    """Newest first."""
    folder = backup_dir(path)
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.glob("*.credence") if _size(p) > 0), reverse=True)


def list_replaced(path: Path) -> list[Path]:
    """The files restores replaced, kept beside the project (never deleted), newest first."""
    path = Path(path)
    return sorted((p for p in path.parent.glob(f"{glob_escape(path.name)}.replaced-*")
                   if not p.name.endswith(("-wal", "-shm", "-journal")) and ".partial-" not in p.name),
                  reverse=True)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _publish(tmp: Path, name: Callable[[int], str]) -> Path:
    """Give the finished file `tmp` the first free name of name(1), name(2)…: a hard link fails
    when the name exists, so two copies made in the same instant never share one."""
    for n in range(1, 10_000):
        target = tmp.with_name(name(n))
        try:
            os.link(tmp, target)
        except FileExistsError:
            continue
        except OSError:  # no hard links on this file system: reserve the name, rename onto it
            try:
                os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
            except FileExistsError:
                continue
            os.replace(tmp, target)
            return target
        tmp.unlink()
        return target
    raise ProjectError(f"{tmp.parent}: cannot find a free name for {name(1)}")


def _stamp() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S-%f")


def _fsync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _sqlite_copy(source_path: Path, tmp: Path) -> None:
    """A consistent single-file copy (what the source's WAL holds included) into `tmp`."""
    tmp.unlink(missing_ok=True)
    source = sqlite3.connect(f"{source_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        source.execute("PRAGMA trusted_schema = OFF")
        dest = sqlite3.connect(tmp)
        try:
            source.backup(dest)
            dest.execute("PRAGMA journal_mode = DELETE")
        finally:
            dest.close()
    finally:
        source.close()
    _fsync(tmp)


def make_backup(project: Project, keep: int = KEEP) -> Path:
    """Copy the open project into its backup folder and drop all but the newest `keep` copies."""
    folder = backup_dir(project.path)
    folder.mkdir(exist_ok=True)
    stem, stamp = project.path.stem, _stamp()
    tmp = folder / f"{stem}-{stamp}.partial-{os.getpid()}"
    # A connection of its own: the copy may run on a worker thread while the app keeps reading
    # through project.conn (WAL lets both read); it copies what is committed, consistently.
    try:
        _sqlite_copy(project.path, tmp)
        target = _publish(tmp, lambda n: f"{stem}-{stamp}{'' if n == 1 else f'-{n}'}.credence")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
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
    except (OSError, sqlite3.Error, ProjectError):
        for partial in backup_dir(project.path).glob("*.partial-*"):
            partial.unlink(missing_ok=True)
        return None


def backup_before_writing(project: Project) -> Path | None:
    """What a command that writes does first, as the app does on open: a backup by the same
    policy, unless the project holds nothing yet (a file this command just created)."""
    if project.document_count() == 0:
        return None
    return backup_on_open(project)


def _last_change(path: Path) -> float:
    times = [path.stat().st_mtime]
    wal = Path(f"{path}-wal")
    if wal.exists() and wal.stat().st_size:
        times.append(wal.stat().st_mtime)
    return max(times)


# -- restore ----------------------------------------------------------------------------------
@dataclass
class Restored:
    backup: Path        # the copy put in place
    kept: Path | None   # the file it replaced, kept beside it (never deleted); None if there was none


def verify_project_file(path: Path) -> None:
    """Raise ProjectError (one line) unless `path` is a sound Credence project: a regular file,
    our schema and version, SQLite's integrity check and our own checks all clean."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ProjectError(f"{path}: no such file") from None
    except OSError as exc:
        raise ProjectError(f"{path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise ProjectError(f"{path} is not a regular file (a folder, device or pipe): "
                           "not a Credence project")
    problems = check_project(path)
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise ProjectError(f"{path} is not a sound Credence project: "
                           f"{' '.join(problems[0].split())}{more}")


def restore_backup(path: Path, backup: Path | None = None) -> Restored:
    """Put a sound backup in place of the project; the current file is kept beside it.

    Without `backup`, the newest backup that `check` finds sound is chosen. Refused (ProjectError,
    nothing changed) when the candidate is not a sound project or the project is open elsewhere.
    """
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()  # restore what the link points to; the link stays a link
    if path.exists() and not path.is_file():
        raise ProjectError(f"{path} is not a regular file: not a project to restore into")
    if backup is not None:
        chosen = Path(backup)
        if path.exists() and chosen.exists() and os.path.samefile(chosen, path):
            raise ProjectError(f"{chosen} is the project itself, not a backup of it")
        verify_project_file(chosen)
    else:
        newest = next((b for b in list_backups(path) if not check_project(b)), None)
        if newest is None:
            raise ProjectError(f"{path}: no sound backup to restore (looked in {backup_dir(path)})")
        chosen = newest
    fd = _lock(path) if path.exists() else None  # ProjectLocked while a writer has it open
    try:
        _remove_stale_temporaries(path)
        tmp = path.with_name(f".{path.name}.restoring-{os.getpid()}")
        try:
            _step("copy")
            _sqlite_copy(chosen, tmp)
            _step("verify")
            verify_project_file(tmp)  # what goes in place is what was checked
            kept = _keep_current(path) if path.exists() and _size(path) > 0 else None
            _step("fold")
            folded = _fold_sidecars(path) if kept is not None else "ok"
            if folded == "busy":
                _discard(kept)
                raise ProjectError(f"{path} is being read by another program (an export?); "
                                   "try again when it is done. Nothing was changed")
            if folded == "damaged":
                # SQLite cannot fold the log into this (damaged) file: the kept copy holds it,
                # and a log left beside the restored file would be replayed onto it.
                for suffix in _SIDECARS:
                    _step(f"drop{suffix}")
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
            _step("replace")
            os.replace(tmp, path)
            _fsync(path.parent)
            _step("replaced")
            # A shared-memory index left by the old file is rebuilt by SQLite on next open;
            # remove it anyway when nobody holds it.
            Path(f"{path}-shm").unlink(missing_ok=True)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    except sqlite3.Error as exc:
        raise ProjectError(f"{path}: restore failed before anything was replaced: {exc}") from None
    finally:
        if fd is not None:
            os.close(fd)
    return Restored(chosen, kept)


def _remove_stale_temporaries(path: Path) -> None:
    """Restores killed half-way leave their copies (`.NAME.restoring-PID`): ours to remove."""
    for pattern in (f".{path.name}.restoring-*", f".{path.name}.replaced-*.partial-*"):
        for stale in path.parent.glob(pattern):
            stale.unlink(missing_ok=True)


def _keep_current(path: Path) -> Path:
    """Copy the current file and its logs to a new `NAME.replaced-STAMP`, folding the log into
    that copy where SQLite can (one self-contained file); else the log is kept beside it."""
    stamp = _stamp()
    _step("keep")
    partial = path.with_name(f".{path.name}.replaced-{stamp}.partial-{os.getpid()}")
    shutil.copyfile(path, partial)
    logs = []
    for suffix in _SIDECARS:
        side = Path(f"{path}{suffix}")
        if _size(side) > 0:
            shutil.copyfile(side, f"{partial}{suffix}")
            logs.append(suffix)
    # Opened under the partial name: SQLite finds the log by the file's name.
    folded = _fold_sidecars(partial, single_file=True) if logs else "ok"
    _fsync(partial)
    kept = _publish(partial, lambda n: f"{path.name}.replaced-{stamp}{'' if n == 1 else f'-{n}'}")
    for suffix in logs if folded != "ok" else ():
        os.replace(f"{partial}{suffix}", f"{kept}{suffix}")
    Path(f"{partial}-shm").unlink(missing_ok=True)
    _fsync(path.parent)
    _step("kept")
    return kept


def _discard(kept: Path | None) -> None:
    if kept is not None:
        for suffix in ("", *_SIDECARS):
            Path(f"{kept}{suffix}").unlink(missing_ok=True)


def _fold_sidecars(path: Path, single_file: bool = False) -> str:
    """Write what the file's write-ahead log (or hot journal) holds into the file itself, through
    SQLite (crash-safe at every step): "ok" when no log with content is left beside it, "busy"
    when another connection keeps the log in use, "damaged" when SQLite cannot do it."""
    if all(_size(Path(f"{path}{s}")) == 0 for s in _SIDECARS):
        return "ok"
    try:
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("PRAGMA trusted_schema = OFF")
            conn.execute("PRAGMA busy_timeout = 2000")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # rolls back a hot journal
            if conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]:
                return "busy"
            if single_file:
                conn.execute("PRAGMA journal_mode = DELETE")
        finally:
            conn.close()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return "busy"
        return "damaged"
    except sqlite3.Error:
        return "damaged"
    return "ok" if all(_size(Path(f"{path}{s}")) == 0 for s in _SIDECARS) else "damaged"
