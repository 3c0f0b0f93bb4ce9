"""spaCy DocBin (`.spacy`, what `spacy train` reads), made with spaCy's own API: one file
(`spacy`), or a folder of them for projects too large to hold in memory (`spacy-folder`).

Each document is tokenised by the blank English tokenizer (tokens split where a span starts
or ends inside one); its entities go in `doc.ents` (overlaps filtered as spaCy's
`filter_spans` does), every span in `doc.spans["sc"]`, claim parts also in
`doc.spans["claims"]`, document labels in `doc.cats`, and its identity, each span's id and
status and its claims in `doc.user_data`. Large exports are shared out to worker processes
(storage.export.parallel): each writes the DocBin of its part, merged here with
`DocBin.merge` in document order.

spaCy writes a DocBin whole, from memory (about 160 bytes a token, 6 GB for 100,000 news
articles). A folder export writes one `.spacy` file of at most SHARD_DOCUMENTS documents at a
time, so it never holds more than that; `spacy train` reads a folder of them as one corpus
(files in name order: 00001.spacy, 00002.spacy, ...). A single file that would take more
memory than the machine has free is refused up front with the folder as the way out.
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

from annotation.progress import Progress
from storage.export.files import Destination
from storage.export.parallel import Counts, add_counts, write_parts
from storage.export.selection import ExportDoc, Rows, naming
from storage.export.summary import ExportError, ExportSummary
from storage.export.tokens import Trimmed, blank_english, tokenize

if TYPE_CHECKING:
    from spacy.tokens import Doc, DocBin

# The token attributes a DocBin of tokenised, entity-labelled documents needs (SPACY, the
# spaces, is always kept). spaCy's default is every attribute (13): columns of zeros here.
# Not NORM either: `spacy train` tokenises each text again (nlp.make_doc) and takes norms
# from its own tokens, never from the file's; each column is 8 bytes a token, held about
# five times over while spaCy writes the file (see `write`).
ATTRS = ["ORTH", "ENT_IOB", "ENT_TYPE"]


# What writing a DocBin takes in memory, per token (measured by bench/bench_scale.py at
# 10,000 and 100,000 articles): the DocBin holds every document's token columns (8 bytes an
# attribute), span groups and user data, and DocBin.to_bytes copies all of it about four
# times more before compressing (numpy.vstack, tobytes, msgpack's buffer and its bytes).
# spaCy's API has no way to write one in pieces; a large export says what it took.
MEMORY_PER_TOKEN = 160
REMARK_FROM = 1_000_000_000
# Characters of text per token of the blank English tokenizer: 5.3 on news (FA-KES and the
# generated articles of bench_scale). The estimate before writing errs towards fewer tokens.
CHARS_PER_TOKEN = 5.0
SHARD_DOCUMENTS = 1000  # documents in one file of a folder export


@contextlib.contextmanager
def msgpack_registries_without_plugins() -> Iterator[None]:
    """srsly's msgpack registries, not searching the installed packages for plug-ins at
    every call, while a DocBin is made.

    Each msgpack call (`DocBin.add` makes three or four a document: its user data, its span
    groups) builds a packer that asks srsly's encoder registry for its encoders, and the
    registry (catalogue) looks through every installed package's entry points each time: half
    of what the call costs. No installed package adds a msgpack encoder or decoder that way
    (checked here, each time), so the registries' public `entry_points` switch is turned off
    until the DocBin is written and turned back on after; the bytes are the same (a test
    compares them)."""
    import srsly  # imported with spaCy by blank_english()
    quiet = [r for r in (srsly.msgpack_encoders, srsly.msgpack_decoders)
             if r.entry_points and not r.get_entry_points()]
    for registry in quiet:
        registry.entry_points = False
    try:
        yield
    finally:
        for registry in quiet:
            registry.entry_points = True


def new_docbin() -> DocBin:
    from spacy.tokens import DocBin  # imported with spaCy by blank_english()
    return DocBin(attrs=ATTRS, store_user_data=True)


class DocMaker:
    """Makes each document's spaCy Doc; counts what it had to change or leave out."""

    def __init__(self, rows: Rows) -> None:
        self.claim_labels, self.doc_labels = rows.label_kinds()
        self.trimmed = Trimmed()
        self.counts = {"documents": 0, "tokens": 0, "spans": 0, "claims": 0, "overlapping": 0}

    def doc(self, edoc: ExportDoc) -> Doc:
        from spacy.tokens import Span  # imported with spaCy by blank_english()
        from spacy.util import filter_spans
        spans, cuts = self.trimmed.of(edoc.text, edoc.spans)
        tok = tokenize(edoc.text, cuts)
        doc = tok.doc
        sc: list[Span] = []
        claim_parts: list[Span] = []
        ents: list[Span] = []
        status: list[str] = []
        ids: list[int] = []
        for s, kept in spans:
            for a, b in kept:  # every piece's edges are token edges: tokens were split there
                first, last = tok.index(a, b)
                span = Span(doc, first, last + 1, label=s.label)
                sc.append(span)
                status.append(s.status)
                ids.append(s.id)
                (claim_parts if s.label in self.claim_labels else ents).append(span)
            if kept:
                self.counts["spans"] += 1
        doc.spans["sc"] = sc
        if claim_parts:
            doc.spans["claims"] = claim_parts
        entities = filter_spans(ents)
        doc.set_ents(entities, default="outside")
        self.counts["overlapping"] += len(ents) - len(entities)
        if self.doc_labels:
            have = set(edoc.labels)
            doc.cats = {label: 1.0 if label in have else 0.0 for label in self.doc_labels}
        claims = edoc.claim_records()
        doc.user_data.update({
            "name": edoc.name, "title": edoc.title, "source": edoc.source, "date": edoc.date,
            "url": edoc.url, "document_id": edoc.id, "status": edoc.status, "meta": edoc.meta,
            # Parallel to doc.spans["sc"]: which stored span each is, and its review status.
            "span_ids": ids, "span_status": status, "claims": claims})
        self.counts["documents"] += 1
        self.counts["tokens"] += len(doc)
        self.counts["claims"] += len(claims)
        return doc

    def all_counts(self) -> Counts:
        return {**self.counts, **self.trimmed.counts()}


def fill(rows: Rows, docbin: DocBin, on_document: Callable[[], None] | None = None) -> Counts:
    """Add the rows' documents to `docbin` in id order; returns what was written and changed."""
    maker = DocMaker(rows)
    for edoc in rows.documents(claims=True):
        with naming(edoc):
            docbin.add(maker.doc(edoc))
        if on_document is not None:
            on_document()
    return maker.all_counts()


def write_file(rows: Rows, path: Path, on_document: Callable[[], None]) -> Counts:
    """The rows' documents as one .spacy file."""
    with msgpack_registries_without_plugins():
        docbin = new_docbin()
        counts = fill(rows, docbin, on_document)
        path.write_bytes(docbin.to_bytes())
    return counts


class DocBinParts:
    """Writes the DocBin of a part of the documents (all of them, in one process)."""

    format = "spacy"
    streamed = False  # parts are merged at the end, not copied in as they come

    def __init__(self) -> None:
        blank_english()  # a worker makes its tokenizer before it says it is ready

    def write_file(self, rows: Rows, path: Path, on_document: Callable[[], None]) -> Counts:
        return write_file(rows, path, on_document)

    def make_part(self, rows: Rows, on_document: Callable[[], None]) -> tuple[DocBin, Counts]:
        with msgpack_registries_without_plugins():
            docbin = new_docbin()
            return docbin, fill(rows, docbin, on_document)

    def write_all(self, rows: Rows, f: IO[bytes], on_document: Callable[[], None]) -> Counts:
        with msgpack_registries_without_plugins():
            docbin = new_docbin()
            counts = fill(rows, docbin, on_document)
            f.write(docbin.to_bytes())
        return counts

    def assemble(self, parts: list[Path | DocBin], f: IO[bytes]) -> None:
        """The parts merged in order (`DocBin.merge`): a worker's read from its file."""
        with msgpack_registries_without_plugins():
            docbin = new_docbin()
            for part in parts:
                if isinstance(part, Path):
                    path, part = part, new_docbin().from_bytes(part.read_bytes())
                    path.unlink()
                docbin.merge(part)
            f.write(docbin.to_bytes())


def summarise(counts: Counts, summary: ExportSummary) -> None:
    summary.documents += counts.get("documents", 0)
    summary.spans += counts.get("spans", 0)
    summary.claims += counts.get("claims", 0)
    Trimmed.from_counts(counts).notes("spaCy", summary)
    overlapping = counts.get("overlapping", 0)
    summary.note(overlapping, f"spaCy: {overlapping} overlapping entity spans left out of doc.ents "
                              "(all spans are in doc.spans['sc'])")


def write(rows: Rows, dest: Destination, summary: ExportSummary, progress: Progress) -> None:
    check_memory(rows, available_memory())
    with dest.file(binary=True) as f:
        counts = write_parts(rows, DocBinParts(), f, dest.work, progress)
    summarise(counts, summary)
    need = counts.get("tokens", 0) * MEMORY_PER_TOKEN
    if need >= REMARK_FROM:
        summary.remarks.append(
            f"spaCy writes a DocBin whole in memory: about {need / 1e9:.1f} GB for these "
            f"{counts['tokens']:,} tokens (format spacy-folder writes a folder of smaller files)")
    if dest.path.suffix != ".spacy":
        summary.not_represented.append(
            f"spaCy: `spacy train` only reads files ending in .spacy: rename {dest.path.name}")


# -- memory ----------------------------------------------------------------------------------------
def available_memory(root: Path = Path("/")) -> int | None:
    """Bytes of memory this process can be given without swapping: Linux's MemAvailable, or
    less when a container's memory limit (cgroup v2 or v1) leaves less; None where neither
    says."""
    free = []
    try:
        with open(root / "proc/meminfo", encoding="ascii") as f:
            free += [int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:")]
    except (OSError, ValueError, IndexError):
        pass
    for limit, used in (("sys/fs/cgroup/memory.max", "sys/fs/cgroup/memory.current"),
                        ("sys/fs/cgroup/memory/memory.limit_in_bytes",
                         "sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            cap = (root / limit).read_text(encoding="ascii").strip()
            if cap != "max" and int(cap) < 1 << 60:  # "max" / a huge number: no limit
                free.append(max(0, int(cap) - int((root / used).read_text(encoding="ascii"))))
            break
        except (OSError, ValueError):
            continue
    return min(free) if free else None


def text_characters(rows: Rows) -> int | None:
    """Characters of text in the export, read on a connection of its own (the export's read
    transaction must start with its own first query: storage.export.parallel.write_parts);
    None when the file cannot be opened a second time (the export goes on without the check)."""
    uri = f"{Path(rows.project.path).resolve().as_uri()}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
        try:
            return conn.execute(f"SELECT coalesce(sum(length(text)), 0) FROM documents "
                                f"{rows.sel.doc_where}").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return None


def check_memory(rows: Rows, available: int | None) -> None:
    """Refuse, before anything is written, a single file that would need more memory than is
    free (the system would kill the export, or swap for hours): the folder export fits."""
    chars = text_characters(rows) if available is not None else None
    if available is None or chars is None:
        return
    need = chars / CHARS_PER_TOKEN * MEMORY_PER_TOKEN
    if need > available:
        raise ExportError(
            f"one .spacy file of these documents needs about {need / 1e9:.1f} GB of memory while "
            f"spaCy writes it, and {available / 1e9:.1f} GB is free: export them as spacy-folder "
            "(a folder of .spacy files, which `spacy train` reads as one corpus), or close other "
            "programs")


# -- a folder of files -------------------------------------------------------------------------------
class ShardFolder:
    """The folder a folder export fills, one `.spacy` file after another in document order.
    write_parts starts over (tell, seek, truncate) when the project changed under its workers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.written = 0

    def next_file(self) -> Path:
        """The path of the next file, counted as written."""
        self.written += 1
        return self.path / f"{self.written:05d}.spacy"

    def add_file(self, path: Path) -> None:
        os.replace(path, self.next_file())

    def tell(self) -> int:
        return self.written

    def seek(self, position: int) -> None:
        assert position == 0, "a folder export starts over from its first file"

    def truncate(self) -> None:
        for n in range(1, self.written + 1):
            (self.path / f"{n:05d}.spacy").unlink(missing_ok=True)
        self.written = 0


class DocBinFolderParts:
    """Writes each part of the documents as one `.spacy` file of the folder."""

    format = "spacy-folder"
    streamed = False

    def __init__(self, work: Path | None = None) -> None:
        blank_english()  # a worker makes its tokenizer before it says it is ready
        self.work = work  # where this process's parts wait for their turn (workers: unused)
        self._made = 0

    @property
    def part_documents(self) -> int:
        return SHARD_DOCUMENTS

    def make_part(self, rows: Rows, on_document: Callable[[], None]) -> tuple[Path, Counts]:
        """This process's part, written to a file at once (in the export's own work folder,
        made as a worker's is): nothing is held in memory."""
        assert self.work is not None, "this process's parts need the export's work folder"
        self._made += 1
        path = self.work / f"own-{self._made}.spacy"
        return path, write_file(rows, path, on_document)

    def write_file(self, rows: Rows, path: Path, on_document: Callable[[], None]) -> Counts:
        return write_file(rows, path, on_document)

    def write_all(self, rows: Rows, folder: ShardFolder, on_document: Callable[[], None]) -> Counts:
        counts: Counts = {}
        ids = rows.document_ids()
        for i in range(0, len(ids), SHARD_DOCUMENTS):
            part = rows.part(ids[i], ids[min(i + SHARD_DOCUMENTS, len(ids)) - 1])
            add_counts(counts, write_file(part, folder.next_file(), on_document))
        return counts

    def assemble(self, parts: list[Path], folder: ShardFolder) -> None:
        """Every part is a file already (a worker's, or this process's): moved in, in order."""
        for part in parts:
            folder.add_file(part)


def write_folder(rows: Rows, dest: Destination, summary: ExportSummary, progress: Progress) -> None:
    with dest.folder() as path:
        folder = ShardFolder(path)
        counts = write_parts(rows, DocBinFolderParts(dest.work), folder, dest.work, progress)
    summarise(counts, summary)
    summary.remarks.append(f"{folder.written} .spacy files of at most {SHARD_DOCUMENTS:,} documents "
                           f"each: `spacy train` reads the folder {dest.path.name} as one corpus")
