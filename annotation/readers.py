"""Read article files (txt, html, csv, jsonl) into NewDocuments: decoding, column mapping, spans.

Readers are pure: bytes in, documents out, plus what was skipped and why. Files of many
articles (CSV, JSONL) are read as a stream of records with bounded memory (annotation/limits.py):
a record that cannot be stored is skipped and named by its line; input a user should fix as a
whole raises ReaderError (a ValueError) with one clear message.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
import stat
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from annotation import jsonvalues
from annotation.limits import (
    MAX_ARTICLE_BYTES,
    MAX_ARTICLE_CHARS,
    MAX_BLOCK_TAGS,
    MAX_COLUMNS,
    MAX_HTML_BYTES,
    MAX_RECORD_CHARS,
    MAX_REPORTED,
    READ_CHUNK,
)
from annotation.model import NewDocument, SpanRecord

_MAX_BLOCK_TAGS = MAX_BLOCK_TAGS
FORMATS = ("txt", "html", "csv", "jsonl", "brat")
EXTENSIONS = {
    ".txt": "txt", ".text": "txt", ".html": "html", ".htm": "html", ".xhtml": "html",
    ".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
    ".ann": "brat",
}

CREDIBLE, NOT_CREDIBLE = "credible", "not credible"
_LABEL_VALUES = {"1": CREDIBLE, "1.0": CREDIBLE, "true": CREDIBLE, "credible": CREDIBLE,
                 "real": CREDIBLE, "0": NOT_CREDIBLE, "0.0": NOT_CREDIBLE, "false": NOT_CREDIBLE,
                 "fake": NOT_CREDIBLE, "not credible": NOT_CREDIBLE}
# Column names that say which column holds what (case-insensitive), best first.
TEXT_COLUMNS = ("text", "content", "article_content", "body", "article", "article_text", "full_text")
TITLE_COLUMNS = ("title", "article_title", "headline", "heading")
NAME_COLUMNS = ("unit_id", "id")
CSV_DELIMITERS = (",", ";", "\t", "|")


class ReaderError(ValueError):
    """A file the user gave that cannot be read as asked (binary, empty, wrong column…)."""


@dataclass
class ReadResult:
    """What a reader got from one file: documents, records it skipped ("file:line: why"), warnings.

    At most MAX_REPORTED skips are listed; `unlisted` counts the rest (a stream may skip millions).
    """
    documents: list[NewDocument] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unlisted: int = 0

    def __iter__(self) -> Iterator[NewDocument]:
        return iter(self.documents)

    def skip(self, message: str) -> None:
        if len(self.skipped) < MAX_REPORTED:
            self.skipped.append(message)
        else:
            self.unlisted += 1

    @property
    def n_skipped(self) -> int:
        return len(self.skipped) + self.unlisted


# -- decoding -------------------------------------------------------------------------------------
_MAGIC = (
    (b"%PDF", "a PDF"), (b"PK\x03\x04", "a ZIP archive (.docx, .xlsx, .epub…)"),
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "gzip-compressed"), (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x7fELF", "a program"), (b"\xd0\xcf\x11\xe0", "an old Office document"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_CHARSET_META = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


def _binary(name: str, what: str = "") -> ReaderError:
    return ReaderError(f"{name} looks binary{f' ({what})' if what else ''}, not text")


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text without a BOM has NULs in every other byte (for Latin text)."""
    sample = data[:4096]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    for enc, zeros in (("utf-16-le", odd), ("utf-16-be", even)):
        if half and zeros > 0.4 * half and (even if enc == "utf-16-le" else odd) == 0:
            try:
                return data.decode(enc)
            except UnicodeDecodeError:
                return None
    return None


_NOT_SPACE = re.compile(r"\S")


def decode_text(data: bytes, name: str, *, declared: str | None = None) -> tuple[str, list[str]]:
    """Bytes → text: UTF-8 (BOM or not), UTF-16/32 with BOM, else a guess (with a warning)."""
    if not data or (len(data) < 4096 and not data.strip()):
        raise ReaderError(f"{name} is empty")
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise _binary(name, what)
    warnings: list[str] = []
    text: str | None = None
    for bom, enc in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                     (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                     (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                text = data.decode(enc)
            except UnicodeDecodeError as exc:
                raise ReaderError(f"{name} starts with a {enc.upper()} mark but is not valid "
                                  f"{enc.upper()} (byte {exc.start})") from None
            break
    if text is None and b"\x00" in data[:65536]:
        text = _utf16_without_bom(data)
        if text is None:
            raise _binary(name)
        warnings.append(f"{name}: no byte-order mark, decoded as UTF-16")
    if text is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text, enc = _guess(data, name, declared)
            warnings.append(f"{name} is not UTF-8: decoded as {enc} (check accented letters)")
    sample = text[:100_000]
    if "\x00" in sample or len(_CONTROL.findall(sample)) > 0.02 * len(sample):
        raise _binary(name)
    if not _NOT_SPACE.search(text):
        raise ReaderError(f"{name} is empty")
    return text, warnings


def _guess(data: bytes, name: str, declared: str | None) -> tuple[str, str]:
    if declared:
        try:
            return data.decode(declared), declared
        except (UnicodeDecodeError, LookupError):
            pass
    from charset_normalizer import from_bytes
    matches = from_bytes(data)
    best = matches.best()
    candidates = [best.encoding] if best is not None else []
    # On short texts charset-normalizer ranks cp1250 or mac_latin2 level with cp1252; news
    # scraped from Western pages is far more often cp1252, so prefer it when it fits as well.
    for m in matches:
        if best is not None and m.chaos <= best.chaos + 0.02 and "cp1252" in m.could_be_from_charset:
            candidates.insert(0, "cp1252")
            break
    candidates.append("cp1252")
    for enc in candidates:
        try:
            return data.decode(enc), enc
        except (UnicodeDecodeError, LookupError):
            continue
    raise _binary(name)


# -- streams --------------------------------------------------------------------------------------
_UTF8_INCREMENTAL = codecs.getincrementaldecoder("utf-8")


def sniff_encoding(head: bytes, name: str, *, whole: bool) -> tuple[str, list[str]]:
    """The encoding of a file from its first bytes (`whole` when they are all of it), with the
    same refusals as decode_text (binary, empty). Returns (codec name, warnings)."""
    if not head or (whole and len(head) < 4096 and not head.strip()):
        raise ReaderError(f"{name} is empty")
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise _binary(name, what)
    for bom, enc in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                     (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                     (codecs.BOM_UTF16_BE, "utf-16")):
        if head.startswith(bom):
            _check_sample(_decode_head(head, enc, whole, name), name)
            return enc, []
    if b"\x00" in head[:65536]:
        sample = head[:4096]
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        half = len(sample) // 2
        for enc, zeros, other in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
            if half and zeros > 0.4 * half and other == 0:
                _check_sample(_decode_head(head, enc, whole, name), name)
                return enc, [f"{name}: no byte-order mark, decoded as UTF-16"]
        raise _binary(name)
    try:
        text = _UTF8_INCREMENTAL().decode(head, final=whole)
        enc, warnings = "utf-8", []
    except UnicodeDecodeError:
        loose = head.decode("utf-8", "surrogateescape")
        if any(not c.isascii() and not "\udc80" <= c <= "\udcff" for c in loose):
            # Real UTF-8 letters with some broken bytes: UTF-8, damaged; the records holding the
            # broken bytes are skipped and named.
            text, enc = loose, "utf-8"
            warnings = [f"{name}: some bytes are not valid UTF-8; the records holding them are "
                        "skipped"]
        else:
            text, enc = _guess(head, name, None)
            warnings = [f"{name} is not UTF-8: decoded as {enc} (check accented letters)"]
    _check_sample(text, name)
    return enc, warnings


def _decode_head(head: bytes, enc: str, whole: bool, name: str) -> str:
    try:
        return codecs.getincrementaldecoder(enc)().decode(head, final=whole)
    except UnicodeDecodeError as exc:
        raise ReaderError(f"{name} is not valid {enc.upper()} (byte {exc.start})") from None


def _check_sample(text: str, name: str) -> None:
    sample = text[:100_000]
    if "\x00" in sample or len(_CONTROL.findall(sample)) > 0.02 * len(sample):
        raise _binary(name)


def text_stream(f: IO[bytes], name: str, *, newline: str | None = "") -> tuple[IO[str], list[str]]:
    """A text stream over a binary file, its encoding guessed from the first READ_CHUNK bytes.

    Bytes the encoding cannot decode become lone surrogates (U+DC80…): the record holding them
    is skipped by the reader (it cannot be stored), the rest of the file is read.
    """
    head = f.read(READ_CHUNK)
    whole = len(head) < READ_CHUNK
    enc, warnings = sniff_encoding(head, name, whole=whole)
    stream = io.TextIOWrapper(io.BufferedReader(_Prefixed(head, f), READ_CHUNK), encoding=enc,
                              errors="surrogateescape",
                              newline=newline)
    return stream, warnings


class _Prefixed(io.RawIOBase):
    """The bytes already read for sniffing, then the rest of the file (no seek: pipes too)."""

    def __init__(self, head: bytes, rest: IO[bytes]):
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def bounded_lines(stream: IO[str] | _Rejoined, name: str, result: ReadResult,
                  limit: int = MAX_RECORD_CHARS) -> Iterator[str]:
    """The stream's lines, each at most `limit` characters: a longer line is read past in pieces
    (never held whole), reported by number, and given as an empty line."""
    readline = stream.readline
    no = 0
    while True:
        line = readline(limit + 1)
        if not line:
            return
        no += 1
        if len(line) > limit and line[-1] not in "\r\n":
            while True:
                rest = readline(READ_CHUNK)
                if not rest or rest[-1] in "\r\n":
                    break
            result.skip(f"{name}:{no}: a line longer than {limit:,} characters; skipped")
            line = "\n"
        yield line


_SURROGATE = re.compile("[\ud800-\udfff]")


def _undecodable(text: str) -> bool:
    """Whether the text holds bytes its file's encoding could not decode (lone surrogates)."""
    return not text.isascii() and _SURROGATE.search(text) is not None


# -- txt ------------------------------------------------------------------------------------------
def read_txt(data: bytes, name: str, *, stem: str | None = None) -> ReadResult:
    """One document: the whole file; its name is the file name without extension."""
    if len(data) > MAX_ARTICLE_BYTES:
        raise _too_large(name, len(data))
    text, warnings = decode_text(data, name)
    _check_length(name, text)
    return ReadResult([NewDocument(raw_text=text, name=stem or _stem(name))], [], warnings)


def _stem(name: str) -> str:
    return Path(name).stem


def _too_large(name: str, n_bytes: int) -> ReaderError:
    return ReaderError(f"{name} is {n_bytes / 1_048_576:.1f} MB: more than one article can hold "
                       f"(limit {MAX_ARTICLE_BYTES // 1_048_576} MB); split it, or import it as CSV/JSONL")


def _check_length(name: str, text: str) -> None:
    if len(text) > MAX_ARTICLE_CHARS:
        raise ReaderError(f"{name} holds {len(text):,} characters of text: more than one article "
                          f"can hold (limit {MAX_ARTICLE_CHARS:,})")


# -- html -----------------------------------------------------------------------------------------
_DROP_TAGS = frozenset({
    "script", "style", "noscript", "nav", "footer", "header", "iframe", "template", "svg", "math",
    "form", "button", "select", "textarea", "object", "embed", "canvas", "aside", "head", "title",
    "video", "audio", "picture", "map", "dialog",
})
_BLOCK_TAGS = frozenset({
    "html", "body", "p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6",
    "ul", "ol", "li", "dl", "dt", "dd", "blockquote", "pre", "table", "thead", "tbody", "tfoot",
    "tr", "td", "th", "caption", "figure", "figcaption", "address", "hr", "center", "details",
    "summary", "fieldset", "legend", "hgroup", "listing", "xmp", "menu", "dir",
})
# Block tags that make lexbor scan its open-element stack (time grows with depth squared).
_NESTING_TAGS = re.compile(
    r"<(/?)(?:div|section|article|aside|blockquote|ul|ol|dl|main|nav|header|footer|figure|"
    r"fieldset|address|center|details|menu|dir|hgroup|search|dialog)\b[^>]*>", re.I)
_HTML_WS = re.compile(r"[ \t\n\r\f]+")


def _defuse_nesting(html: str) -> str:
    """Pages nested thousands of levels deep (hostile or broken) would take minutes to parse;
    turn those block tags into line breaks, which keeps the text and its paragraphs."""
    if len(_NESTING_TAGS.findall(html, 0, len(html))) <= _MAX_BLOCK_TAGS:
        return html
    depth = deepest = 0
    for m in _NESTING_TAGS.finditer(html):
        depth = max(0, depth - 1) if m.group(1) else depth + 1
        deepest = max(deepest, depth)
    if deepest <= 500:
        return html
    return _NESTING_TAGS.sub("<br><br>", html)


def html_to_text(html: str) -> tuple[str, dict[str, str | None]]:
    """Visible text of a page (no scripts, menus, headers or footers), paragraphs separated by
    blank lines; plus title, url, date and site name from <head>. Nothing is fetched."""
    from selectolax.lexbor import LexborHTMLParser
    tree = LexborHTMLParser(_defuse_nesting(html))
    info = {"title": _node_text(tree.css_first("title")), "url": None, "date": None, "source": None}
    for sel, key, attr in (('link[rel="canonical"]', "url", "href"),
                           ('meta[property="og:url"]', "url", "content"),
                           ('meta[property="og:title"]', "title", "content"),
                           ('meta[property="article:published_time"]', "date", "content"),
                           ('meta[name="date"]', "date", "content"),
                           ('meta[property="og:site_name"]', "source", "content")):
        if not info[key]:
            node = tree.css_first(sel)
            value = (node.attributes.get(attr) or "").strip() if node is not None else ""
            info[key] = value[:2000] or None
    root = tree.body or tree.root
    out: list[str] = []
    if root is not None:
        _walk(root, out)
    text = _tidy_blocks("".join(out))
    if not info["title"]:
        info["title"] = _node_text(tree.css_first("h1"))
    return text, info


def _node_text(node: Any) -> str | None:
    if node is None:
        return None
    text = " ".join(node.text(deep=True).split())
    return text[:1000] or None


def _walk(root: Any, out: list[str]) -> None:
    """Depth-first without recursion (deep pages must not hit Python's recursion limit)."""
    node = root.child
    while node is not None:
        tag = node.tag
        descend = False
        if node.is_text_node:
            out.append(_HTML_WS.sub(" ", node.text_content or ""))
        elif tag == "br":
            out.append("\n")
        elif tag in _DROP_TAGS or not node.is_element_node:
            pass
        elif tag == "pre":
            out.append("\n\n" + node.text(deep=True) + "\n\n")
        else:
            if tag in _BLOCK_TAGS:
                out.append("\n\n")
            descend = node.child is not None
        if descend:
            node = node.child
            continue
        # Climb until there is a next sibling, closing the blocks we leave.
        while node is not None and node.next is None:
            node = node.parent
            if node is None or node.mem_id == root.mem_id:
                return
            if node.tag in _BLOCK_TAGS:
                out.append("\n\n")
        if node is None:
            return
        if node.tag in _BLOCK_TAGS:
            out.append("\n\n")
        node = node.next


def _tidy_blocks(text: str) -> str:
    paragraphs = []
    for block in re.split(r"\n[ \t\f\r]*\n", text):
        lines = [ln.strip() for ln in block.split("\n")]
        para = "\n".join(ln for ln in lines if ln)
        if para:
            paragraphs.append(para)
    return "\n\n".join(paragraphs)


def read_html(data: bytes, name: str, *, stem: str | None = None) -> ReadResult:
    """One document: the page's visible text; title from <title> (or og:title, or the first h1)."""
    if len(data) > MAX_HTML_BYTES:
        raise ReaderError(f"{name} is {len(data) / 1_048_576:.1f} MB: too large for one web page "
                          f"(limit {MAX_HTML_BYTES // 1_048_576} MB)")
    m = _CHARSET_META.search(data[:4096])
    declared = m.group(1).decode("ascii", "replace") if m else None
    html, warnings = decode_text(data, name, declared=declared)
    text, info = html_to_text(html)
    if not text.strip():
        raise ReaderError(f"{name} has no visible text (only markup, scripts or menus)")
    _check_length(name, text)
    doc = NewDocument(raw_text=text, name=stem or _stem(name), title=info["title"],
                      url=info["url"], date=info["date"], source=info["source"])
    return ReadResult([doc], [], warnings)


# -- csv ------------------------------------------------------------------------------------------
def _columns_arg(value: str | Sequence[str] | None) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split(",")
    return [c.strip() for c in value if c.strip()]


def sniff_delimiter(first_line: str, name: str) -> str:
    """The delimiter of a CSV file: a tab for .tsv, else the most frequent of , ; tab | in the
    header line (a comma on a tie)."""
    if name.lower().endswith(".tsv"):
        return "\t"
    return max(CSV_DELIMITERS, key=lambda d: (first_line.count(d), d == ","))


@dataclass
class ColumnGuess:
    """Which columns hold the text, the title and the document's name; the others are metadata."""
    text: str | None
    title: str | None
    name: str | None
    meta: list[str]


def guess_columns(header: Sequence[str], rows: Sequence[Sequence[str]] = (), *,
                  longest_as_text: bool = False) -> ColumnGuess:
    """The mapping import uses when none is given (known column names); with `longest_as_text`
    (a preview a person confirms), the column with the longest values when no name is known."""
    names = [h for h in header if h]
    lower = {h.lower(): h for h in reversed(names)}
    text = next((lower[c] for c in TEXT_COLUMNS if c in lower), None)
    title = next((lower[c] for c in TITLE_COLUMNS if c in lower), None)
    name = next((lower[c] for c in NAME_COLUMNS if c in lower), None)
    if text is None and longest_as_text and names:
        def mean_len(i: int) -> float:
            cells = [len(r[i]) for r in rows if i < len(r)]
            return sum(cells) / len(cells) if cells else 0.0
        best = max((i for i, h in enumerate(header) if h), key=mean_len)
        text = header[best]
    meta = [h for h in names if h not in (text, title)]
    return ColumnGuess(text, title, name, meta)


class _CsvRows:
    """A CSV stream: header, then (physical line, row) pairs; problems go to `result`."""

    def __init__(self, stream: IO[str], name: str, result: ReadResult, delimiter: str | None):
        self.name = name
        self.result = result
        lines = bounded_lines(stream, name, result)
        first = next(lines, "")
        if delimiter is None:
            delimiter = sniff_delimiter(first, name)
        csv.field_size_limit(max(csv.field_size_limit(), MAX_RECORD_CHARS))
        self.reader = csv.reader(_chain_first(first, lines), delimiter=delimiter)
        try:
            self.header = [h.strip() for h in next(self.reader)]
        except (StopIteration, csv.Error) as exc:
            raise ReaderError(f"{name}: cannot read the header row ({exc})") from None
        if len(self.header) > MAX_COLUMNS:
            raise ReaderError(f"{name}: the header has {len(self.header):,} columns (limit "
                              f"{MAX_COLUMNS:,})")
        if _undecodable("".join(self.header)):
            raise ReaderError(f"{name}: the header row is not valid text in the file's encoding")
        counts = Counter(self.header)
        dupes = sorted(h for h, n in counts.items() if h and n > 1)
        if dupes:
            raise ReaderError(f"{name}: the header names {', '.join(map(repr, dupes))} more than "
                              "once; give each column its own name")

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        """(line, row) of each row with the header's fields; `row_no` counts every non-empty row."""
        reader, n_cols = self.reader, len(self.header)
        self.row_no = 0
        while True:
            start_line = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                self.result.skip(f"{self.name}:{start_line}: {exc}")
                if reader.line_num < start_line:  # no progress: stop rather than loop
                    return
                continue
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            self.row_no += 1
            if len(row) != n_cols:
                # A trailing empty field (a spreadsheet's extra comma) is not a ragged row.
                if len(row) > n_cols and not any(v.strip() for v in row[n_cols:]):
                    row = row[:n_cols]
                else:
                    self.result.skip(f"{self.name}:{start_line}: {len(row)} fields where the "
                                     f"header has {n_cols}")
                    continue
            yield start_line, row


def _chain_first(first: str, rest: Iterator[str]) -> Iterator[str]:
    if first:
        yield first
    yield from rest


def iter_csv(stream: IO[str], name: str, result: ReadResult, *, text_column: str | None = None,
             title_column: str | None = None, meta_columns: str | Sequence[str] | None = None,
             delimiter: str | None = None) -> Iterator[NewDocument]:
    """One document per row, read as a stream. Meta columns named source/date/url fill those
    fields; a `labels` column of 1/0 gives the label credible / not credible (raw value in meta)."""
    rows = _CsvRows(stream, name, result, delimiter)
    header = rows.header
    index = {h: i for i, h in enumerate(header) if h}
    listing = ", ".join(h for h in header if h)
    guess = guess_columns(header)
    text_col = text_column if text_column is not None else guess.text
    title_col = title_column if title_column is not None else guess.title
    metas = _columns_arg(meta_columns)
    if text_col is None:
        raise ReaderError(f"{name}: which column holds the article text? Its columns are: "
                          f"{_short_list(listing)} (give one with --text-column)")
    missing = [c for c in [text_col, title_col, *(metas or [])] if c is not None and c not in index]
    if missing:
        raise ReaderError(f"{name} has no column {', '.join(map(repr, missing))}; "
                          f"its columns are: {_short_list(listing)}")
    if metas is None:  # keep every other column: nothing in the file is lost
        metas = [h for h in index if h not in (text_col, title_col)]
    else:  # the article's own text and title are not metadata
        metas = [h for h in metas if h not in (text_col, title_col)]
    meta_at = [(col, index[col], col.lower()) for col in metas]
    text_at = index[text_col]
    title_at = index[title_col] if title_col is not None else None
    name_at = index[guess.name] if guess.name else None
    stem = _stem(name)
    for line, row in rows:
        body = row[text_at]
        if not body.strip():
            result.skip(f"{name}:{line}: the {text_col!r} column is empty")
            continue
        if len(body) > MAX_ARTICLE_CHARS:
            result.skip(f"{name}:{line}: {len(body):,} characters of text, more than one article "
                        f"can hold (limit {MAX_ARTICLE_CHARS:,})")
            continue
        if _undecodable("".join(row)):
            result.skip(f"{name}:{line}: bytes that are not valid text in the file's encoding")
            continue
        doc = NewDocument(raw_text=body)
        if title_at is not None:
            doc.title = row[title_at].strip() or None
        doc.name = (row[name_at].strip() if name_at is not None else "") or f"{stem}:{rows.row_no}"
        meta = doc.meta
        for col, at, key in meta_at:
            value = row[at]
            meta[col] = value
            if key in ("source", "date", "url") and value.strip():
                setattr(doc, key, value.strip())
            elif key in ("labels", "label"):
                doc.labels = _labels(value)
        yield doc


def _short_list(listing: str, limit: int = 2000) -> str:
    return listing if len(listing) <= limit else listing[:limit] + "…"


def read_csv(data: bytes, name: str, *, text_column: str | None = None,
             title_column: str | None = None, meta_columns: str | Sequence[str] | None = None,
             delimiter: str | None = None) -> ReadResult:
    """iter_csv over bytes in memory, every document in a list."""
    stream, warnings = text_stream(io.BytesIO(data), name)
    result = ReadResult(warnings=warnings)
    result.documents = list(iter_csv(stream, name, result, text_column=text_column,
                                     title_column=title_column, meta_columns=meta_columns,
                                     delimiter=delimiter))
    return result


def csv_preview(f: IO[bytes], name: str, rows: int = 5) -> tuple[list[str], list[list[str]]]:
    """The header and first rows of a CSV file, read as import reads it (encoding, delimiter)."""
    stream, _ = text_stream(f, name)
    result = ReadResult()
    reader = _CsvRows(stream, name, result, None)
    body: list[list[str]] = []
    for _line, row in reader:
        if len(body) >= rows:
            break
        body.append(row)
    return reader.header, body


def _labels(value: str) -> list[str]:
    value = value.strip()
    if not value:
        return []
    mapped = _LABEL_VALUES.get(value.lower())
    if mapped:
        return [mapped]
    return [v.strip() for v in re.split(r"[;|]", value) if v.strip()]


# -- jsonl ----------------------------------------------------------------------------------------
_KNOWN_KEYS = {"text", "meta", "spans", "label", "labels", "entities", "answer", "tokens",
               "relations", "cats", "accept", "title", "name", "source", "url", "date",
               "document_id", "status", "annotations", "predictions", "data"}
# A \uD800-\uDFFF escape: the parsed line may hold a lone surrogate (checked then, not always).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abAB]")
_WS = " \t\r\n\ufeff"


def iter_jsonl(stream: IO[str], name: str, result: ReadResult) -> Iterator[NewDocument]:
    """One document per line `{"text", "meta"}`, with Prodigy, doccano or Label Studio spans if
    present, read as a stream. A file that is one JSON document (a list of records, or a `.json`
    holding one record) is read an item at a time too.
    """
    stem = _stem(name)
    head = stream.read(65536)
    lead = head.lstrip(_WS)
    if lead.startswith("[") or (name.lower().endswith(".json") and lead.startswith("{")):
        yield from _json_items(head, stream, name, stem, result)
        return
    no = 0
    for line in bounded_lines(_Rejoined(head, stream), name, result):
        no += 1
        if not line.strip():
            continue
        doc = _json_line(line, f"{name}:{no}", stem, no, result)
        if doc is not None:
            yield doc


class _Rejoined:
    """Text already read from a stream, then the stream: readline(size) across the seam."""

    def __init__(self, head: str, stream: IO[str]):
        self.head = head
        self.stream = stream

    def readline(self, size: int = -1) -> str:
        if not self.head:
            return self.stream.readline(size)
        limit = len(self.head) if size < 0 else min(size, len(self.head))
        i = self.head.find("\n", 0, limit)
        if i >= 0:
            line, self.head = self.head[:i + 1], self.head[i + 1:]
            return line
        part, self.head = self.head[:limit], self.head[limit:]
        if self.head or (size >= 0 and len(part) >= size):
            return part
        return part + self.stream.readline(-1 if size < 0 else size - len(part))


_NOT_WS = re.compile(r"[^ \t\r\n\ufeff]")


def _json_items(head: str, stream: IO[str], name: str, stem: str,
                result: ReadResult) -> Iterator[NewDocument]:
    """The records of a file holding one JSON list (or one object), decoded one at a time from
    a buffer that holds about one record: memory is bounded by MAX_RECORD_CHARS, not the file.
    A record whose JSON cannot be read stops the file (where the next one starts is unknown)."""
    buf, pos, eof = head, 0, False

    def more() -> bool:
        nonlocal buf, pos, eof
        if eof:
            return False
        # At least as much again as is buffered: retried decodes cost linear time in all.
        chunk = stream.read(max(READ_CHUNK, len(buf) - pos))
        if not chunk:
            eof = True
            return False
        buf, pos = buf[pos:] + chunk, 0
        return True

    def skip_ws() -> bool:
        nonlocal pos
        while True:
            m = _NOT_WS.search(buf, pos)
            if m:
                pos = m.start()
                return True
            pos = len(buf)
            if not more():
                return False

    skip_ws()
    listing = buf[pos] == "["
    if listing:
        pos += 1
    n = 0
    while True:
        if not skip_ws():
            if listing:
                raise ReaderError(f"{name}: not valid JSON (the list is never closed)")
            return
        if listing:
            if buf[pos] == "]":
                return
            if n:
                if buf[pos] != ",":
                    raise ReaderError(f"{name} item {n + 1}: not valid JSON (expecting ',')")
                pos += 1
                if not skip_ws():
                    raise ReaderError(f"{name}: not valid JSON (the list is never closed)")
        elif n:
            raise ReaderError(f"{name}: not valid JSON (more after the first value)")
        n += 1
        while True:
            try:
                obj, end = jsonvalues.raw_decode(buf, pos)
                break
            except json.JSONDecodeError as exc:
                if len(buf) - pos > MAX_RECORD_CHARS:
                    raise ReaderError(f"{name} item {n}: more than {MAX_RECORD_CHARS:,} characters "
                                      "(or not valid JSON)") from None
                if not more():
                    raise ReaderError(f"{name} item {n}: not valid JSON ({exc.msg})") from None
            except RecursionError:
                raise ReaderError(f"{name} item {n}: not valid JSON (nested too deeply)") from None
        escaped = _SURROGATE_ESCAPE.search(buf, pos, end) is not None
        pos = end
        at = f"{name} item {n}"
        # Values no export can write are marked while parsing: in the metadata they refuse the
        # record (below), elsewhere the field is not read; a lone surrogate refuses it anywhere.
        if escaped and jsonvalues.has_lone_surrogate(obj):
            result.skip(f"{at}: a string holds a lone surrogate (\\ud800-\\udfff), not Unicode text")
            continue
        doc = _json_document(obj, at, stem, n, result)
        if doc is not None:
            yield doc


def _json_line(line: str, at: str, stem: str, no: int, result: ReadResult) -> NewDocument | None:
    if _undecodable(line):
        result.skip(f"{at}: bytes that are not valid text in the file's encoding")
        return None
    try:
        obj = jsonvalues.loads(line)
    except (ValueError, RecursionError) as exc:
        result.skip(f"{at}: not valid JSON{_why_not_json(exc)}")
        return None
    if _SURROGATE_ESCAPE.search(line) and jsonvalues.has_lone_surrogate(obj):
        result.skip(f"{at}: a string holds a lone surrogate (\\ud800-\\udfff), not Unicode text")
        return None
    return _json_document(obj, at, stem, no, result)


def _why_not_json(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f" ({exc.msg})"
    if isinstance(exc, RecursionError):
        return " (nested too deeply)"
    text = str(exc)
    if "integer string conversion" in text:
        return " (an integer of thousands of digits)"
    return f" ({text[:80]})" if text else ""


def read_jsonl(data: bytes, name: str) -> ReadResult:
    """iter_jsonl over bytes in memory, every document in a list."""
    stream, warnings = text_stream(io.BytesIO(data), name, newline="\n")
    result = ReadResult(warnings=warnings)
    result.documents = list(iter_jsonl(stream, name, result))
    return result


def _from_labelstudio(task: dict) -> tuple[dict, list[tuple[Any, Any, Any, str]]]:
    """A Label Studio task as a flat record (text and fields from `data`) and its spans, from
    the annotations (accepted unless cancelled) and predictions (suggested)."""
    flat = dict(task["data"])
    spans = []
    for key, status in (("annotations", "accepted"), ("predictions", "suggested")):
        anns = task.get(key)
        for ann in anns if isinstance(anns, list) else ():
            if not isinstance(ann, dict) or ann.get("was_cancelled"):
                continue
            items = ann.get("result")
            for item in items if isinstance(items, list) else ():
                value = item.get("value") if isinstance(item, dict) else None
                if isinstance(value, dict) and ("start" in value or "labels" in value):
                    labels = value.get("labels")
                    label = labels[0] if isinstance(labels, list) and labels else None
                    spans.append((value.get("start"), value.get("end"), label, status))
    return flat, spans


def _json_document(obj: Any, at: str, stem: str, no: int, result: ReadResult) -> NewDocument | None:
    if not isinstance(obj, dict):
        result.skip(f"{at}: not a JSON object")
        return None
    raw_spans: list[tuple[Any, ...]] = []
    if "text" not in obj and isinstance(obj.get("data"), dict) and "text" in obj["data"]:
        obj, raw_spans = _from_labelstudio(obj)
    body = obj.get("text")
    if not isinstance(body, str) or not body.strip():
        result.skip(f"{at}: no \"text\" string")
        return None
    if len(body) > MAX_ARTICLE_CHARS:
        result.skip(f"{at}: {len(body):,} characters of text, more than one article can "
                    f"hold (limit {MAX_ARTICLE_CHARS:,})")
        return None
    meta = dict(obj["meta"]) if isinstance(obj.get("meta"), dict) else {}
    for key, value in obj.items():
        if key not in _KNOWN_KEYS and not key.startswith("_") and isinstance(
                value, (str, int, float, jsonvalues.NotStorable)):
            meta.setdefault(key, value)
    if meta:
        why = jsonvalues.problem(meta)
        if why:
            # Refused, not mended: an export must write what was imported, as it was.
            result.skip(f"{at}: its metadata holds {why}: the record is skipped (every export "
                        "must be able to write what is stored)")
            return None

    def field_(key: str) -> str | None:
        value = obj.get(key, meta.get(key))
        return str(value).strip() or None if isinstance(value, (str, int, float)) else None

    doc = NewDocument(raw_text=body, meta=meta, title=field_("title"), source=field_("source"),
                      url=field_("url"), date=field_("date"))
    doc.name = field_("name") or field_("id") or f"{stem}:{no}"
    status = "accepted" if obj.get("answer") == "accept" else "suggested"
    annotator = obj.get("_annotator_id") if isinstance(obj.get("_annotator_id"), str) else None
    if isinstance(obj.get("spans"), list):  # Prodigy
        raw_spans += [(s.get("start"), s.get("end"), s.get("label")) if isinstance(s, dict)
                      else (None, None, s) for s in obj["spans"]]
    if isinstance(obj.get("entities"), list):  # doccano (newer)
        raw_spans += [(s.get("start_offset"), s.get("end_offset"), s.get("label"))
                      if isinstance(s, dict) else (None, None, s) for s in obj["entities"]]
    labels = obj.get("label", obj.get("labels"))
    if isinstance(labels, list):  # doccano: [[start, end, label]] spans, or ["label"] categories
        for item in labels:
            if isinstance(item, str):
                if item.strip():
                    doc.labels.append(item)
            elif isinstance(item, list) and len(item) == 3:
                raw_spans.append(tuple(item))
            else:
                result.skip(f"{at}: label {_short(item)} is neither [start, end, label] "
                            "nor a category name")
    elif isinstance(labels, str) and labels.strip() and not raw_spans:
        doc.labels.append(labels.strip())
    if isinstance(obj.get("cats"), dict):  # spaCy / Prodigy textcat
        doc.labels += [k for k, v in obj["cats"].items() if isinstance(v, (int, float)) and v >= 0.5]
    length = len(body)
    spans = doc.spans
    for start, end, label, *own in raw_spans:
        # The common case checked inline (millions of spans); anything else explains itself.
        if (type(start) is int and type(end) is int and 0 <= start < end <= length
                and type(label) is str and label.strip()):
            spans.append(SpanRecord(start, end, label, "import", own[0] if own else status,
                                    annotator))
            continue
        problem = _span_problem(start, end, label, length)
        if problem:
            result.skip(f"{at}: span {_short([start, end, label])} skipped: {problem}")
            continue
        spans.append(SpanRecord(start, end, str(label), origin="import",
                                status=own[0] if own else status, annotator=annotator))
    if raw_spans:
        doc.normalise = False  # the offsets point into the text as given
    return doc


def _span_problem(start: Any, end: Any, label: Any, length: int) -> str | None:
    if type(start) is not int or type(end) is not int:
        return "offsets are not whole numbers"
    if not (isinstance(label, str) and label.strip()) and type(label) is not int:
        return "no label"
    if end <= start:
        return "end is not after start"
    if start < 0 or end > length:
        return f"outside the text (length {length})"
    return None


def _short(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except ValueError:  # an integer too long to write
        text = repr(type(value).__name__)
    return text if len(text) <= 80 else text[:77] + "…"


# -- by path --------------------------------------------------------------------------------------
def format_of(path: Path) -> str | None:
    """The format a file's extension says, or None."""
    return EXTENSIONS.get(path.suffix.lower())


def open_regular(path: Path, name: str | None = None) -> IO[bytes]:
    """Open a file for reading only if it is a regular file: a device (/dev/zero), a pipe or a
    socket is refused at once, unread (opening never blocks on a pipe)."""
    name = name or str(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ReaderError(f"cannot read {name}: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            what = "a folder" if stat.S_ISDIR(st.st_mode) else "a device, pipe or socket"
            raise ReaderError(f"{name} is not a regular file ({what}): not read")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_limited(path: Path, limit: int, name: str) -> bytes:
    """A regular file's bytes, refused past `limit` (never more than limit + 1 bytes read)."""
    with open_regular(path, name) as f:
        data = f.read(limit + 1)
    return data


def iter_path(path: Path, fmt: str | None, result: ReadResult, *, display: str | None = None,
              text_column: str | None = None, title_column: str | None = None,
              meta_columns: str | Sequence[str] | None = None) -> Iterator[NewDocument]:
    """The documents of one file of a given (or guessed) format other than brat, as a stream:
    CSV and JSONL a record at a time, txt and html whole (bounded by their limits)."""
    name = display or path.name
    fmt = fmt or format_of(path)
    if fmt not in ("txt", "html", "csv", "jsonl"):
        raise ReaderError(f"{name}: cannot tell its format from the extension; "
                          "give one of txt, html, csv, jsonl, brat")
    if fmt in ("txt", "html"):
        limit = MAX_ARTICLE_BYTES if fmt == "txt" else MAX_HTML_BYTES
        data = read_limited(path, limit, name)
        if len(data) > limit:
            size = path.stat().st_size
            raise _too_large(name, size) if fmt == "txt" else ReaderError(
                f"{name} is {size / 1_048_576:.1f} MB: too large for one web page "
                f"(limit {MAX_HTML_BYTES // 1_048_576} MB)")
        part = (read_txt if fmt == "txt" else read_html)(data, name, stem=path.stem)
        result.warnings += part.warnings
        yield from part.documents
        return
    with open_regular(path, name) as f:
        try:
            stream, warnings = text_stream(f, name, newline="" if fmt == "csv" else "\n")
            result.warnings += warnings
            if fmt == "csv":
                yield from iter_csv(stream, name, result, text_column=text_column,
                                    title_column=title_column, meta_columns=meta_columns)
            else:
                yield from iter_jsonl(stream, name, result)
        except OSError as exc:
            raise ReaderError(f"cannot read {name}: {exc.strerror or exc}") from None


def read_path(path: Path, fmt: str | None = None, *, display: str | None = None,
              text_column: str | None = None, title_column: str | None = None,
              meta_columns: str | Sequence[str] | None = None) -> ReadResult:
    """Read one file of a given (or guessed) format other than brat, every document in a list."""
    result = ReadResult()
    result.documents = list(iter_path(path, fmt, result, display=display, text_column=text_column,
                                      title_column=title_column, meta_columns=meta_columns))
    return result
