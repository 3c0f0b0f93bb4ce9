"""Read article files (txt, html, csv, jsonl) into NewDocuments: decoding, column mapping, spans.

Readers are pure: bytes in, a ReadResult out (documents, plus what was skipped and why).
Input a user should fix raises ReaderError (a ValueError) with one clear message.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotation.model import NewDocument, SpanRecord

MAX_ARTICLE_CHARS = 5_000_000  # one article's text; more is a whole site or a mistake
MAX_ARTICLE_BYTES = 5 * 1024 * 1024
MAX_HTML_BYTES = 50 * 1024 * 1024  # pages carry scripts and markup: allow more than the text
# Quadratic corner of HTML parsing: thousands of nested <div>s (see _defuse_nesting).
_MAX_BLOCK_TAGS = 4000
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
_TEXT_COLUMNS = ("text", "content", "article_content", "body", "article", "article_text")
_TITLE_COLUMNS = ("title", "article_title", "headline")
_NAME_COLUMNS = ("unit_id", "id")


class ReaderError(ValueError):
    """A file the user gave that cannot be read as asked (binary, empty, wrong column…)."""


@dataclass
class ReadResult:
    """What a reader got from one file: documents, records it skipped ("file:line: why"), warnings."""
    documents: list[NewDocument] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[NewDocument]:
        return iter(self.documents)


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


def read_csv(data: bytes, name: str, *, text_column: str | None = None,
             title_column: str | None = None, meta_columns: str | Sequence[str] | None = None,
             delimiter: str | None = None) -> ReadResult:
    """One document per row. Meta columns named source/date/url fill those fields; a `labels`
    column of 1/0 gives the document label credible / not credible (raw value kept in meta)."""
    text, warnings = decode_text(data, name)
    result = ReadResult(warnings=warnings)
    first_line = text[:text.find("\n")] if "\n" in text else text
    if delimiter is None:
        delimiter = "\t" if name.lower().endswith(".tsv") else max(
            (",", ";", "\t", "|"), key=lambda d: (first_line.count(d), d == ","))
    csv.field_size_limit(max(csv.field_size_limit(), 4 * MAX_ARTICLE_CHARS))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except (StopIteration, csv.Error) as exc:
        raise ReaderError(f"{name}: cannot read the header row ({exc})") from None
    dupes = sorted({h for h in header if h and header.count(h) > 1})
    if dupes:
        raise ReaderError(f"{name}: the header names {', '.join(map(repr, dupes))} more than once; "
                          "give each column its own name")
    index = {h: i for i, h in enumerate(header) if h}
    lower = {h.lower(): h for h in index}
    listing = ", ".join(h for h in header if h)

    def pick(wanted: str | None, guesses: Sequence[str]) -> str | None:
        if wanted is not None:
            return wanted
        return next((lower[g] for g in guesses if g in lower), None)

    text_col = pick(text_column, _TEXT_COLUMNS)
    title_col = pick(title_column, _TITLE_COLUMNS)
    metas = _columns_arg(meta_columns)
    if text_col is None:
        raise ReaderError(f"{name}: which column holds the article text? Its columns are: "
                          f"{listing} (give one with --text-column)")
    missing = [c for c in [text_col, title_col, *(metas or [])] if c is not None and c not in index]
    if missing:
        raise ReaderError(f"{name} has no column {', '.join(map(repr, missing))}; "
                          f"its columns are: {listing}")
    if metas is None:  # keep every other column: nothing in the file is lost
        metas = [h for h in index if h not in (text_col, title_col)]
    else:  # the article's own text and title are not metadata
        metas = [h for h in metas if h not in (text_col, title_col)]
    name_col = next((lower[c] for c in _NAME_COLUMNS if c in lower), None)
    stem = _stem(name)
    n_cols = len(header)
    row_no = 0
    while True:
        start_line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            result.skipped.append(f"{name}:{start_line}: {exc}")
            if reader.line_num < start_line:  # no progress: stop rather than loop
                break
            continue
        line = start_line
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        row_no += 1
        if len(row) != n_cols:
            # A trailing empty field (a spreadsheet's extra comma) is not a ragged row.
            if len(row) > n_cols and not any(v.strip() for v in row[n_cols:]):
                row = row[:n_cols]
            else:
                result.skipped.append(f"{name}:{line}: {len(row)} fields where the header has {n_cols}")
                continue
        body = row[index[text_col]]
        if not body.strip():
            result.skipped.append(f"{name}:{line}: the {text_col!r} column is empty")
            continue
        if len(body) > MAX_ARTICLE_CHARS:
            result.skipped.append(f"{name}:{line}: {len(body):,} characters of text, more than "
                                  f"one article can hold (limit {MAX_ARTICLE_CHARS:,})")
            continue
        doc = NewDocument(raw_text=body)
        if title_col is not None:
            doc.title = row[index[title_col]].strip() or None
        doc.name = (row[index[name_col]].strip() if name_col else "") or f"{stem}:{row_no}"
        for col in metas:
            value = row[index[col]]
            doc.meta[col] = value
            key = col.lower()
            if key in ("source", "date", "url") and value.strip():
                setattr(doc, key, value.strip())
            elif key in ("labels", "label"):
                doc.labels = _labels(value)
        result.documents.append(doc)
    return result


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


def read_jsonl(data: bytes, name: str) -> ReadResult:
    """One document per line `{"text", "meta"}`, with Prodigy or doccano spans if present.
    A `.json` file holding one list of such objects is read the same way."""
    text, warnings = decode_text(data, name)
    result = ReadResult(warnings=warnings)
    stem = _stem(name)
    records: list[tuple[int, Any]] = []
    stripped = text.lstrip()
    if stripped.startswith("[") or (name.lower().endswith(".json") and stripped.startswith("{")):
        # A whole-file JSON document: a list of records (Label Studio, doccano) or one record.
        try:
            items = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            where_ = f":{exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
            raise ReaderError(f"{name}{where_}: not valid JSON"
                              f"{f' ({exc.msg})' if where_ else ''}") from None
        records = [(i + 1, item) for i, item in enumerate(items if isinstance(items, list) else [items])]
        where = "item"
    else:
        where = "line"
        # split("\n"), not splitlines(): U+2028 and friends may sit unescaped inside strings.
        for no, line in enumerate(text.split("\n"), 1):
            if not line.strip():
                continue
            try:
                records.append((no, json.loads(line)))
            except (json.JSONDecodeError, RecursionError):
                result.skipped.append(f"{name}:{no}: not valid JSON")
    for no, obj in records:
        at = f"{name}:{no}" if where == "line" else f"{name} item {no}"
        doc = _json_document(obj, at, stem, no, result)
        if doc is not None:
            result.documents.append(doc)
    return result


def _from_labelstudio(task: dict) -> dict:
    """A Label Studio task as a flat record: text and fields from `data`, spans from the
    annotations (accepted unless cancelled) and predictions (suggested)."""
    flat = dict(task["data"])
    spans = []
    for key, status in (("annotations", "accepted"), ("predictions", "suggested")):
        for ann in task.get(key) or []:
            if not isinstance(ann, dict) or ann.get("was_cancelled"):
                continue
            for item in ann.get("result") or []:
                value = item.get("value") if isinstance(item, dict) else None
                if isinstance(value, dict) and ("start" in value or "labels" in value):
                    labels = value.get("labels")
                    label = labels[0] if isinstance(labels, list) and labels else None
                    spans.append((value.get("start"), value.get("end"), label, status))
    flat["_spans"] = spans
    return flat


def _json_document(obj: Any, at: str, stem: str, no: int, result: ReadResult) -> NewDocument | None:
    if not isinstance(obj, dict):
        result.skipped.append(f"{at}: not a JSON object")
        return None
    if "text" not in obj and isinstance(obj.get("data"), dict) and "text" in obj["data"]:
        obj = _from_labelstudio(obj)
    body = obj.get("text")
    if not isinstance(body, str) or not body.strip():
        result.skipped.append(f"{at}: no \"text\" string")
        return None
    if len(body) > MAX_ARTICLE_CHARS:
        result.skipped.append(f"{at}: {len(body):,} characters of text, more than one article can "
                              f"hold (limit {MAX_ARTICLE_CHARS:,})")
        return None
    meta = dict(obj["meta"]) if isinstance(obj.get("meta"), dict) else {}
    for key, value in obj.items():
        if key not in _KNOWN_KEYS and not key.startswith("_") and isinstance(value, (str, int, float)):
            meta.setdefault(key, value)

    def field_(key: str) -> str | None:
        value = obj.get(key, meta.get(key))
        return str(value).strip() or None if isinstance(value, (str, int, float)) else None

    doc = NewDocument(raw_text=body, meta=meta, title=field_("title"), source=field_("source"),
                      url=field_("url"), date=field_("date"))
    doc.name = field_("name") or field_("id") or f"{stem}:{no}"
    status = "accepted" if obj.get("answer") == "accept" else "suggested"
    annotator = obj.get("_annotator_id") if isinstance(obj.get("_annotator_id"), str) else None
    raw_spans: list[tuple[Any, ...]] = list(obj.get("_spans", []))  # Label Studio
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
                doc.labels.append(item)
            elif isinstance(item, list) and len(item) == 3:
                raw_spans.append(tuple(item))
            else:
                result.skipped.append(f"{at}: label {_short(item)} is neither [start, end, label] "
                                      "nor a category name")
    elif isinstance(labels, str) and labels.strip() and not raw_spans:
        doc.labels.append(labels.strip())
    if isinstance(obj.get("cats"), dict):  # spaCy / Prodigy textcat
        doc.labels += [k for k, v in obj["cats"].items() if isinstance(v, (int, float)) and v >= 0.5]
    for start, end, label, *own in raw_spans:
        problem = _span_problem(start, end, label, len(body))
        if problem:
            result.skipped.append(f"{at}: span {_short([start, end, label])} skipped: {problem}")
            continue
        doc.spans.append(SpanRecord(start, end, str(label), origin="import",
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
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "…"


# -- by path --------------------------------------------------------------------------------------
def format_of(path: Path) -> str | None:
    """The format a file's extension says, or None."""
    return EXTENSIONS.get(path.suffix.lower())


def read_path(path: Path, fmt: str | None = None, *, display: str | None = None,
              text_column: str | None = None, title_column: str | None = None,
              meta_columns: str | Sequence[str] | None = None) -> ReadResult:
    """Read one file of a given (or guessed) format other than brat."""
    name = display or path.name
    fmt = fmt or format_of(path)
    if fmt not in ("txt", "html", "csv", "jsonl"):
        raise ReaderError(f"{name}: cannot tell its format from the extension; "
                          "give one of txt, html, csv, jsonl, brat")
    try:
        size = path.stat().st_size
        limit = {"txt": MAX_ARTICLE_BYTES, "html": MAX_HTML_BYTES}.get(fmt)
        if limit and size > limit:
            raise _too_large(name, size) if fmt == "txt" else ReaderError(
                f"{name} is {size / 1_048_576:.1f} MB: too large for one web page "
                f"(limit {MAX_HTML_BYTES // 1_048_576} MB)")
        data = path.read_bytes()
    except OSError as exc:
        raise ReaderError(f"cannot read {name}: {exc.strerror or exc}") from None
    if fmt == "txt":
        return read_txt(data, name, stem=path.stem)
    if fmt == "html":
        return read_html(data, name, stem=path.stem)
    if fmt == "csv":
        return read_csv(data, name, text_column=text_column, title_column=title_column,
                        meta_columns=meta_columns)
    return read_jsonl(data, name)
