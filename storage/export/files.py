"""Output files an export writes without harm: never onto the project, never half-done.

An export refuses a destination that is the project file, its `-wal`, `-shm`, journal or
lock, or its backups (compared by resolved path and by inode, so hard links and paths
through symlinked folders are caught), a symbolic link, or anything but a regular file
(a device, a FIFO, a socket) or, for folder formats, a folder. Everything is written in a
work folder beside the destination (`.credence-export-*`) and moved into place at the end;
a killed export leaves its work folder behind, and the next export into that folder
removes it (no process holds its lock any more).
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from storage.backup import backup_dir
from storage.export.summary import ExportError

try:
    import fcntl
except ImportError:  # Windows: stale work folders are recognised by age instead of by lock
    fcntl = None  # type: ignore[assignment]

WORK_PREFIX = ".credence-export-"
_LOCK = ".lock"
_STALE_UNLOCKED_S = 24 * 3600  # without file locks: a work folder this old is stale
_EMPTY_STALE_S = 60  # a work folder with no lock yet (killed as it was made)


# -- the destination -----------------------------------------------------------------------
def _project_files(project_path: Path) -> list[tuple[Path, str]]:
    """The project file and the files SQLite and Credence keep beside it (beside the path as
    given and beside the file it resolves to: SQLite follows a symlinked project file)."""
    out = []
    for p in dict.fromkeys([Path(project_path), Path(project_path).resolve()]):
        out += [(p, "the project file"), (Path(f"{p}-wal"), "the project's write-ahead log"),
                (Path(f"{p}-shm"), "the project's shared-memory file"),
                (Path(f"{p}-journal"), "the project's journal"),
                (Path(f"{p}.lock"), "the project's lock")]
    return out


def _kept_copy_patterns(project_path: Path) -> tuple[str, ...]:
    """Names of the copies a restore keeps beside the project (never deleted), and of its
    temporary files (storage.backup)."""
    name = project_path.name
    return (f"{name}.replaced-*", f".{name}.replaced-*", f".{name}.restoring-*")


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_destination(out: Path, project_path: Path | None, *, folder: bool = False) -> None:
    """Raise ExportError (one line) for a destination an export must not write."""
    parent = out.parent
    if not parent.is_dir():
        raise ExportError(f"{parent}: no such folder (create it first, or choose another --out)")
    if out.is_symlink():
        raise ExportError(f"{out} is a symbolic link: an export never writes through one "
                          "(give the path it points to, or another name)")
    try:
        st = os.lstat(out)
    except FileNotFoundError:
        st = None
    if st is not None:
        if folder and not stat.S_ISDIR(st.st_mode):
            raise ExportError(f"{out} is a file: this format writes a folder")
        if not folder and stat.S_ISDIR(st.st_mode):
            raise ExportError(f"{out} is a folder: give a file name for this format")
        if not folder and not stat.S_ISREG(st.st_mode):
            raise ExportError(f"{out} is not a regular file (a device, FIFO or socket): "
                              "an export writes only files")
    if project_path is not None:
        _refuse_project_files(out, Path(project_path), folder)
    if not os.access(parent, os.W_OK):
        raise ExportError(f"{parent}: permission denied")


def _refuse_project_files(out: Path, project_path: Path, folder: bool) -> None:
    target = out.resolve()
    backups = backup_dir(project_path.resolve())
    if _is_within(target, backups) or _is_within(target, backup_dir(project_path).resolve()):
        raise ExportError(f"{out} is inside the project's backups ({backups}): "
                          "choose another place for the export")
    out_id = _identity(out)
    kept = _kept_copy_patterns(project_path)
    for home in {project_path.parent.resolve(), project_path.resolve().parent}:
        copies = [p for pattern in kept for p in home.glob(pattern)]
        if (target.parent == home and any(target.match(pattern) for pattern in kept)) \
                or (out_id is not None and any(out_id == _identity(p) for p in copies)):
            raise ExportError(f"{out} is a copy of the project kept by a restore: an export "
                              "never writes onto it; choose another --out")
        if folder and any(_is_within(p.resolve(), target) for p in copies):
            raise ExportError(f"{out} holds a copy of the project kept by a restore: "
                              "choose another folder")
    for path, what in _project_files(project_path):
        resolved = path.resolve()
        if target == resolved or (out_id is not None and out_id == _identity(path)):
            raise ExportError(f"{out} is {what} ({project_path}): an export never writes onto "
                              "it; choose another --out")
        if folder and _is_within(resolved, target):
            raise ExportError(f"{out} holds {what} ({project_path}): choose another folder")
    if folder and _is_within(backups, target):
        raise ExportError(f"{out} holds the project's backups: choose another folder")


# -- the work folder -------------------------------------------------------------------------
class WorkFolder:
    """A private folder beside the destination for everything written before it is in place,
    locked while the export runs; removed at the end, whatever happened."""

    def __init__(self, out: Path) -> None:
        remove_stale_work(out.parent)
        self.path = Path(tempfile.mkdtemp(dir=out.parent, prefix=WORK_PREFIX))
        self._lock: IO[bytes] | None = open(self.path / _LOCK, "wb")
        if fcntl is not None:
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def __enter__(self) -> WorkFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def remove_stale_work(folder: Path) -> list[Path]:
    """Remove the work folders of exports that were killed (no process holds their lock)."""
    removed: list[Path] = []
    try:
        entries = [p for p in folder.iterdir() if p.name.startswith(WORK_PREFIX)]
    except OSError:
        return removed
    for path in entries:
        if path.is_symlink() or not path.is_dir():
            continue
        if _stale(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _stale(path: Path) -> bool:
    lock = path / _LOCK
    try:
        age = time.time() - path.stat().st_mtime
        if not lock.is_file():
            return age > _EMPTY_STALE_S and not any(path.iterdir())
        if fcntl is None:
            return age > _STALE_UNLOCKED_S
        with open(lock, "rb") as f:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return False  # another export is writing there now
            return True
    except OSError:
        return False


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_file(out: Path, work: WorkFolder, project_path: Path | None, *, binary: bool = False,
                newline: str | None = "", encoding: str = "utf-8") -> Iterator[IO]:
    """Write in the work folder and move the file into place at the end: a failed or
    cancelled export leaves nothing half-done, and an earlier file as it was."""
    tmp = work.path / "export.part"
    f = open(tmp, "xb") if binary else open(tmp, "x", encoding=encoding, newline=newline)
    with f:
        os.chmod(tmp, 0o666 & ~_umask())
        yield f
        f.flush()
        os.fsync(f.fileno())
    check_destination(out, project_path)  # again: nothing may have taken its place meanwhile
    os.replace(tmp, out)


# What a folder export of ours holds; its marker says the folder is ours to replace.
EXPORT_MARKER = ".credence-export"
_OWN_SUFFIXES = (".txt", ".ann", ".conf", ".spacy")
_OWN_FOLDERS = ("text", "attributions")


def _foreign_entries(folder: Path) -> list[str]:
    foreign = []
    for p in folder.iterdir():
        if p.name == EXPORT_MARKER:
            continue
        if p.is_symlink():
            foreign.append(p.name)
        elif p.is_dir():
            if p.name not in _OWN_FOLDERS or any(
                    q.is_symlink() or q.is_dir() or q.suffix not in _OWN_SUFFIXES for q in p.iterdir()):
                foreign.append(p.name)
        elif p.suffix not in _OWN_SUFFIXES:
            foreign.append(p.name)
    return foreign


@contextlib.contextmanager
def atomic_folder(out: Path, work: WorkFolder, project_path: Path | None) -> Iterator[Path]:
    """Fill a fresh folder in the work folder, then put it in place of `out`.

    An existing folder is replaced only when empty or when it is an earlier export of ours
    (marker file, nothing else added): a user's folder of .txt files is never deleted.
    """
    if out.is_dir() and any(out.iterdir()):
        if not (out / EXPORT_MARKER).is_file():
            raise ExportError(f"{out} exists and is not empty: choose a new or empty folder")
        foreign = _foreign_entries(out)
        if foreign:
            raise ExportError(f"{out} holds other files besides an earlier export "
                              f"(e.g. {foreign[0]!r}): choose a new or empty folder")
    new = work.path / "folder"
    new.mkdir(mode=0o777 & ~_umask())
    yield new
    (new / EXPORT_MARKER).write_text("written by Credence; this folder is replaced by the next "
                                     "export to it\n", encoding="utf-8")
    check_destination(out, project_path, folder=True)
    if out.is_dir():
        try:
            out.rmdir()  # empty
        except OSError:
            os.replace(out, work.path / "previous")  # an earlier export: removed with the work folder
    os.replace(new, out)


class Destination:
    """Where one export goes: its path, its work folder and the project it must not touch."""

    def __init__(self, path: Path, work: WorkFolder, project_path: Path | None) -> None:
        self.path = path
        self.work = work.path
        self._work = work
        self._project_path = project_path

    def file(self, *, binary: bool = False, newline: str | None = "",
             encoding: str = "utf-8") -> contextlib.AbstractContextManager[IO]:
        return atomic_file(self.path, self._work, self._project_path, binary=binary,
                           newline=newline, encoding=encoding)

    def folder(self) -> contextlib.AbstractContextManager[Path]:
        return atomic_folder(self.path, self._work, self._project_path)


# -- names -------------------------------------------------------------------------------------
_UNSAFE = re.compile(r"[^\w.\-]+")
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def safe_file_name(name: str | None, doc_id: int, used: set[str], max_len: int = 100) -> str:
    """A file name (no folder parts, unique ignoring case) made from a document's name."""
    base = unicodedata.normalize("NFC", name or "")
    # A trailing "-" is kept (PolNeAR names end in one); a leading one could read as an option.
    base = _UNSAFE.sub("_", base).lstrip("._- ")[:max_len].rstrip("._ ")
    if not base or base.split(".")[0].lower() in _RESERVED:
        base = f"document-{doc_id}" if not base else f"_{base}"
    candidate, n = base, 1
    while candidate.lower() in used:
        n += 1
        candidate = f"{base}-{doc_id}" if n == 2 else f"{base}-{doc_id}-{n}"
    used.add(candidate.lower())
    return candidate
