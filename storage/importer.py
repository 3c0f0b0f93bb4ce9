"""Import files and folders of any supported format: streamed into one transaction, all or nothing.

Files are read a record at a time (CSV, JSONL) and stored in batches inside one transaction:
memory stays bounded whatever the size of the input, and a file refused half-way (or an
I/O error, or a cancel) rolls everything back. Records that cannot be stored are skipped and
named; symbolic links out of an imported folder are not followed unless asked.
"""
from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from annotation.limits import MAX_ANN_BYTES
from annotation.model import NewDocument
from annotation.progress import Progress, ShouldCancel, reporter
from annotation.readers import (
    EXTENSIONS,
    FORMATS,
    ReaderError,
    ReadResult,
    decode_text,
    format_of,
    iter_path,
    read_limited,
)
from storage.ingest import ImportSummary, store_documents
from storage.project import Project, ProjectError

# Normalisation per format when the caller does not say (PRODUCT.md): on for what was scraped,
# off where imported offsets must stay valid (a JSONL record carrying spans turns it off, and
# store_documents never normalises a document that has spans).
NORMALISE_DEFAULT = {"txt": True, "html": True, "csv": True, "jsonl": True, "brat": False}


@dataclass
class _Item:
    """One thing to read: a file of a format, or a brat text with its .ann files."""
    kind: str
    path: Path
    anns: list[tuple[Path, str | None]] | None = None  # brat: (.ann, annotator)


def import_paths(project: Project, paths: Sequence[Path | str], *, fmt: str | None = None,
                 text_column: str | None = None, title_column: str | None = None,
                 meta_columns: str | Sequence[str] | None = None, normalise: bool | None = None,
                 follow_symlinks: bool = False, progress: Progress | None = None,
                 should_cancel: ShouldCancel | None = None) -> ImportSummary:
    """Import files and folders into the project, all or nothing; raises ProjectError on bad input.

    Inside a folder, a symbolic link to a file or folder outside it is skipped (and named in the
    summary) unless `follow_symlinks`; a device, pipe or socket is never read.
    """
    progress = reporter(progress, should_cancel, "import cancelled")
    if fmt is not None and fmt not in FORMATS:
        raise ProjectError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    wanted = [Path(p) for p in paths]
    if not wanted:
        raise ProjectError("nothing to import: give a file or a folder")
    for p in wanted:
        if not p.exists():
            raise ProjectError(f"{p}: no such file or folder")
    summary = ImportSummary()
    options = dict(text_column=text_column, title_column=title_column, meta_columns=meta_columns)
    try:
        # What to read is settled first (folders listed, links and special files set aside):
        # a folder that holds nothing importable is refused before anything is stored.
        items = [item for p in wanted for item in _plan(p, fmt, summary, follow_symlinks)]
        documents = _documents(items, options, normalise, summary, progress, wanted)
        return store_documents(project, documents, imported_from="; ".join(map(str, wanted))[:1000],
                               progress=progress, summary=summary)
    except ReaderError as exc:
        # Raised inside the transaction: nothing of this import was stored.
        raise ProjectError(f"{exc}; nothing was imported") from None
    except OSError as exc:
        raise ProjectError(f"cannot read {exc.filename or 'a file'}: {exc.strerror or exc}; "
                           "nothing was imported") from None


def _documents(items: list[_Item], options: dict, normalise: bool | None, summary: ImportSummary,
               progress, paths: list[Path]) -> Iterator[NewDocument]:
    """Every document of every item, as a stream, with its normalisation settled."""
    n = 0
    for files, item in enumerate(items, 1):
        notes = ReadResult()
        if item.kind == "brat":
            docs: Iterator[NewDocument] = iter(_read_brat(item.path, item.anns or [],
                                                          str(item.path), notes))
        else:
            docs = iter_path(item.path, item.kind, notes, display=str(item.path), **options)
        default = NORMALISE_DEFAULT[item.kind]
        for doc in docs:
            if normalise is not None:
                doc.normalise = normalise
            elif doc.normalise is None:
                doc.normalise = default
            n += 1
            yield doc
        summary.note(notes)
        progress(files, 0)  # reading: a count of files without a total (and a chance to cancel)
    if not n:
        first = f" ({summary.skipped[0]}…)" if summary.skipped else ""
        raise ReaderError(f"nothing to import in {', '.join(map(str, paths))}{first}")


# -- what to read -------------------------------------------------------------------------------
def _plan(path: Path, fmt: str | None, summary: ImportSummary, follow: bool) -> Iterator[_Item]:
    if path.is_dir():
        yield from _plan_folder(path, fmt, summary, follow)
        return
    kind = fmt or format_of(path)
    if kind is None:
        raise ReaderError(f"{path}: cannot tell its format from the extension "
                          f"(give --format {'|'.join(FORMATS)})")
    _require_regular(path)
    if kind == "brat":
        txt, ann = (path.with_suffix(".txt"), path) if path.suffix.lower() == ".ann" \
            else (path, path.with_suffix(".ann"))
        if not txt.exists():
            raise ReaderError(f"{ann}: no {txt.name} beside it (brat needs NAME.txt + NAME.ann)")
        # The .ann beside a text named on the command line follows the folder's rules.
        anns: list[tuple[Path, str | None]] = []
        if ann.exists() and _usable(ann, txt.parent.resolve(), summary, follow):
            anns.append((ann, None))
        yield _Item("brat", txt, anns)
        return
    yield _Item(kind, path)


def _require_regular(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise ReaderError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise ReaderError(f"{path} is not a regular file (a device, pipe or socket): not read")


def _inside(target: Path, root: Path) -> bool:
    return target == root or root in target.parents


def _usable(p: Path, root: Path, summary: ImportSummary, follow: bool) -> bool:
    """Whether an entry of an imported folder may be read: a link leading out of the folder
    only when asked, never a device, pipe or socket (each skip is named in the summary)."""
    if p.is_symlink():
        try:
            target = p.resolve(strict=True)
        except (OSError, RuntimeError):
            summary.skip(f"{p}: a broken symbolic link; skipped")
            return False
        if not follow and not _inside(target, root):
            summary.skip(f"{p}: a symbolic link to {target}, outside the imported folder; not "
                         "followed (--follow-symlinks follows it)")
            summary.symlinks_skipped.append(str(p))
            return False
    try:
        mode = p.stat().st_mode
    except OSError as exc:
        summary.skip(f"{p}: {exc.strerror or exc}; skipped")
        return False
    if stat.S_ISDIR(mode):
        return True
    if not stat.S_ISREG(mode):
        summary.skip(f"{p}: not a regular file (a device, pipe or socket); not read")
        return False
    return True


def _listing(folder: Path, root: Path, summary: ImportSummary, follow: bool) -> list[Path]:
    """The visible regular files of a folder that may be read, sorted by name."""
    out = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        p = Path(entry.path)
        if _usable(p, root, summary, follow) and not p.is_dir():
            out.append(p)
    return out


def _subfolder(folder: Path, name: str, root: Path, summary: ImportSummary, follow: bool) -> bool:
    sub = folder / name
    return sub.is_dir() and _usable(sub, root, summary, follow)


def _plan_folder(folder: Path, fmt: str | None, summary: ImportSummary,
                 follow: bool) -> Iterator[_Item]:
    root = folder.resolve()
    if fmt in (None, "brat") and (folder / "text").is_dir() and (folder / "attributions").is_dir():
        if _subfolder(folder, "text", root, summary, follow) and \
                _subfolder(folder, "attributions", root, summary, follow):
            yield from _plan_polnear(folder, root, summary, follow)
            return
    files = _listing(folder, root, summary, follow)
    anns = {p.stem for p in files if p.suffix.lower() == ".ann"}
    if fmt is None and anns:
        fmt = "brat"
    taken: list[Path] = []
    others: list[Path] = []
    for p in files:
        kind = format_of(p)
        if fmt == "brat":
            ok = p.suffix.lower() == ".txt"
        elif fmt is not None:
            ok = kind == fmt or (fmt == "txt" and kind is None and _looks_textual(p))
        else:
            ok = kind is not None and kind != "brat"
        (taken if ok else others).append(p)
    if others:
        extra = [p for p in others if not (fmt == "brat" and p.suffix.lower() == ".ann")]
        if extra:
            summary.warnings.append(f"{folder}: left out {len(extra)} file(s) not of the format "
                                    f"imported, e.g. {extra[0].name}")
    if not taken:
        wanted = fmt or "/".join(sorted(set(EXTENSIONS.values())))
        raise ReaderError(f"{folder}: no {wanted} files in this folder")
    by_name = {p.name: p for p in files}
    for p in taken:
        if fmt == "brat":
            ann = by_name.get(p.with_suffix(".ann").name)
            pair: list[tuple[Path, str | None]] = [(ann, None)] if ann is not None else []
            yield _Item("brat", p, pair)
        else:
            yield _Item(fmt or format_of(p) or "txt", p)


def _looks_textual(path: Path) -> bool:
    # With --format txt a folder's extension-less files (README, scraped pages) count as text.
    return path.suffix == ""


def _plan_polnear(folder: Path, root: Path, summary: ImportSummary,
                  follow: bool) -> Iterator[_Item]:
    """`text/NAME.txt` + `attributions/NAME_ANNOTATOR.ann`: one document per text, every
    annotator's spans on it (an annotator's name is the file name's last `_` part)."""
    texts = {p.stem: p for p in _listing(folder / "text", root, summary, follow)
             if p.suffix.lower() == ".txt"}
    if not texts:
        raise ReaderError(f"{folder / 'text'}: no .txt files")
    anns: dict[str, list[tuple[Path, str | None]]] = {name: [] for name in texts}
    for ann in _listing(folder / "attributions", root, summary, follow):
        if ann.suffix.lower() != ".ann":
            continue
        name, _, annotator = ann.stem.rpartition("_")
        if name not in texts:
            # Names hold underscores too: fall back to the longest text name it starts with.
            name = max((t for t in texts if ann.stem.startswith(t + "_")), key=len, default="")
            annotator = ann.stem[len(name) + 1:] if name else ""
        if not name or not annotator:
            summary.skip(f"{ann}: no text/NAME.txt matches NAME_ANNOTATOR.ann")
            continue
        anns[name].append((ann, annotator))
    for name, txt in texts.items():
        yield _Item("brat", txt, anns[name])


def guess_format(paths: Sequence[Path]) -> str | None:
    """The format an import of these paths would read (the app shows it before importing):
    brat for a text/ + attributions/ layout or .ann files, else the most common extension."""
    exts: Counter[str] = Counter()
    for p in map(Path, paths):
        if p.is_dir():
            if (p / "text").is_dir() and (p / "attributions").is_dir():
                return "brat"
            try:
                exts.update(c.suffix.lower() for c in p.iterdir() if not c.name.startswith("."))
            except OSError:
                continue
        else:
            exts[p.suffix.lower()] += 1
    if exts.get(".ann"):
        return "brat"
    known = [(n, EXTENSIONS[e]) for e, n in exts.items() if e in EXTENSIONS]
    return max(known)[1] if known else None


# -- brat -----------------------------------------------------------------------------------------
def _read_brat(txt: Path, anns: list[tuple[Path, str | None]], display: str,
               notes: ReadResult) -> list[NewDocument]:
    """One document from a brat text and its .ann files, each with its annotator (may be None)."""
    docs = list(iter_path(txt, "txt", notes, display=display))
    doc = docs[0]
    doc.normalise = False  # brat offsets point into the text as it is
    if anns:
        from annotation.brat import parse_ann  # the brat call point: .ann lines → spans, claims
        for ann, annotator in sorted(anns, key=lambda a: a[0].name):
            data = read_limited(ann, MAX_ANN_BYTES, str(ann))
            if len(data) > MAX_ANN_BYTES:
                raise ReaderError(f"{ann} is more than {MAX_ANN_BYTES // 1_048_576} MB: too large "
                                  "for an .ann file")
            try:
                ann_text, warnings = decode_text(data, str(ann))
            except ReaderError as exc:
                if "is empty" in str(exc):
                    continue  # an annotator who marked nothing
                raise
            notes.warnings += warnings
            spans, claims, problems = parse_ann(doc.raw_text, ann_text, annotator)
            prefix = f"{annotator or ann.stem}/"
            # Keys are per .ann file ("T3"): several annotators on one document need them apart.
            for s in spans:
                s.annotator = s.annotator or annotator
                s.key = prefix + s.key if s.key else None
            for c in claims:
                c.annotator = c.annotator or annotator
                for role in ("content", "cue", "source", "attribution"):
                    key = getattr(c, role)
                    if key:
                        setattr(c, role, prefix + key)
            doc.spans += spans
            doc.claims += claims
            for p in problems:
                notes.skip(f"{ann}: {p}")
    return docs
