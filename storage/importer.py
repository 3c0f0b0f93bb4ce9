"""Import files and folders of any supported format: read everything first, then store it at once."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from annotation.model import NewDocument
from annotation.readers import (
    EXTENSIONS, FORMATS, MAX_ARTICLE_BYTES, ReaderError, ReadResult, decode_text, format_of,
    read_path,
)
from annotation.progress import Progress, ShouldCancel, reporter
from storage.ingest import ImportSummary, store_documents
from storage.project import Project, ProjectError

# Normalisation per format when the caller does not say (PRODUCT.md): on for what was scraped,
# off where imported offsets must stay valid (store_documents also forces it off for spans).
NORMALISE_DEFAULT = {"txt": True, "html": True, "csv": True, "jsonl": True, "brat": False}


def import_paths(project: Project, paths: Sequence[Path | str], *, fmt: str | None = None,
                 text_column: str | None = None, title_column: str | None = None,
                 meta_columns: str | Sequence[str] | None = None, normalise: bool | None = None,
                 progress: Progress | None = None,
                 should_cancel: ShouldCancel | None = None) -> ImportSummary:
    """Import files and folders into the project, all or nothing; raises ProjectError on bad input."""
    progress = reporter(progress, should_cancel, "import cancelled")
    if fmt is not None and fmt not in FORMATS:
        raise ProjectError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    paths = [Path(p) for p in paths]
    if not paths:
        raise ProjectError("nothing to import: give a file or a folder")
    for p in paths:
        if not p.exists():
            raise ProjectError(f"{p}: no such file or folder")
    summary = ImportSummary()
    docs: list[NewDocument] = []
    files = 0
    options = dict(text_column=text_column, title_column=title_column, meta_columns=meta_columns)
    try:
        for path in paths:
            for kind, result in _read(path, fmt, options, summary):
                for doc in result.documents:
                    if normalise is not None:
                        doc.normalise = normalise
                    elif doc.normalise is None:
                        doc.normalise = NORMALISE_DEFAULT[kind]
                docs.extend(result.documents)
                summary.skipped.extend(result.skipped)
                summary.warnings.extend(result.warnings)
                files += 1
                progress(files, 0)  # reading: a count without a total (and a chance to cancel)
    except ReaderError as exc:
        # Nothing is stored yet: a refused file means the whole import adds nothing.
        raise ProjectError(f"{exc}; nothing was imported") from None
    except OSError as exc:
        raise ProjectError(f"cannot read {exc.filename or 'a file'}: {exc.strerror or exc}; "
                           "nothing was imported") from None
    if not docs:
        raise ProjectError(f"nothing to import in {', '.join(map(str, paths))}"
                           + (f" ({summary.skipped[0]}…)" if summary.skipped else ""))
    imported_from = "; ".join(str(p) for p in paths)
    return store_documents(project, docs, normalise_default=True, imported_from=imported_from[:1000],
                           progress=progress, total=len(docs), summary=summary)


def _read(path: Path, fmt: str | None, options: dict, summary: ImportSummary):
    """(format, ReadResult) for every file under `path` that is part of the import."""
    if path.is_dir():
        yield from _read_folder(path, fmt, options, summary)
        return
    kind = fmt or format_of(path)
    if kind is None:
        raise ReaderError(f"{path}: cannot tell its format from the extension "
                          f"(give --format {'|'.join(FORMATS)})")
    if kind == "brat":
        txt, ann = (path.with_suffix(".txt"), path) if path.suffix.lower() == ".ann" \
            else (path, path.with_suffix(".ann"))
        if not txt.exists():
            raise ReaderError(f"{ann}: no {txt.name} beside it (brat needs NAME.txt + NAME.ann)")
        yield kind, _read_brat(txt, [(ann, None)] if ann.exists() else [], str(path))
        return
    yield kind, read_path(path, kind, display=str(path), **options)


def _visible_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def _read_folder(folder: Path, fmt: str | None, options: dict, summary: ImportSummary):
    if fmt in (None, "brat") and (folder / "text").is_dir() and (folder / "attributions").is_dir():
        yield "brat", _read_polnear_layout(folder)
        return
    files = _visible_files(folder)
    anns = {p.stem for p in files if p.suffix.lower() == ".ann"}
    if fmt is None and anns:
        fmt = "brat"
    taken, others = [], []
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
    for p in taken:
        if fmt == "brat":
            ann = p.with_suffix(".ann")
            yield "brat", _read_brat(p, [(ann, None)] if ann.exists() else [], str(p))
        else:
            kind = fmt or format_of(p)
            yield kind, read_path(p, kind, display=str(p), **options)


def _looks_textual(path: Path) -> bool:
    # With --format txt a folder's extension-less files (README, scraped pages) count as text.
    return path.suffix == ""


def _read_polnear_layout(folder: Path) -> ReadResult:
    """`text/NAME.txt` + `attributions/NAME_ANNOTATOR.ann`: one document per text, every
    annotator's spans on it (an annotator's name is the file name's last `_` part)."""
    texts = {p.stem: p for p in _visible_files(folder / "text") if p.suffix.lower() == ".txt"}
    if not texts:
        raise ReaderError(f"{folder / 'text'}: no .txt files")
    anns: dict[str, list[tuple[Path, str | None]]] = {name: [] for name in texts}
    result = ReadResult()
    for ann in _visible_files(folder / "attributions"):
        if ann.suffix.lower() != ".ann":
            continue
        name, _, annotator = ann.stem.rpartition("_")
        if name not in texts:
            # Names hold underscores too: fall back to the longest text name it starts with.
            name = max((t for t in texts if ann.stem.startswith(t + "_")), key=len, default="")
            annotator = ann.stem[len(name) + 1:] if name else ""
        if not name or not annotator:
            result.skipped.append(f"{ann}: no text/NAME.txt matches NAME_ANNOTATOR.ann")
            continue
        anns[name].append((ann, annotator))
    for name, txt in texts.items():
        part = _read_brat(txt, anns[name], str(txt))
        result.documents += part.documents
        result.skipped += part.skipped
        result.warnings += part.warnings
    return result


def _read_brat(txt: Path, anns: list[tuple[Path, str | None]], display: str) -> ReadResult:
    """One document from a brat text and its .ann files, each with its annotator (may be None)."""
    result = read_path(txt, "txt", display=display)
    doc = result.documents[0]
    doc.normalise = False  # brat offsets point into the text as it is
    if anns:
        from annotation.brat import parse_ann  # the brat call point: .ann lines → spans, claims
        for ann, annotator in sorted(anns, key=lambda a: a[0].name):
            data = ann.read_bytes()
            if len(data) > 4 * MAX_ARTICLE_BYTES:
                raise ReaderError(f"{ann} is {len(data) / 1_048_576:.1f} MB: too large for an .ann file")
            try:
                ann_text, warnings = decode_text(data, str(ann))
            except ReaderError as exc:
                if "is empty" in str(exc):
                    continue  # an annotator who marked nothing
                raise
            result.warnings += warnings
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
            result.skipped += [f"{ann}: {p}" for p in problems]
    return result
