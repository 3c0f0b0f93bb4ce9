"""Every size limit of reading and storing articles, in one place (shown by `import --help`).

A limit turns a file that would take unbounded memory or time into one clear message: a
whole file refused when it is one article, one line or record skipped (with its number)
when the file holds many.
"""
from __future__ import annotations

MB = 1024 * 1024

# One article.
MAX_ARTICLE_CHARS = 5_000_000       # characters of one article's text; more is a whole site or a mistake
MAX_ARTICLE_BYTES = 5 * MB          # a .txt file (one article)
MAX_HTML_BYTES = 50 * MB            # a web page: scripts and markup weigh more than its text
MAX_ANN_BYTES = 4 * MAX_ARTICLE_BYTES  # one brat .ann file
MAX_BLOCK_TAGS = 4000               # nested block tags before deep HTML is flattened (quadratic in lexbor)

# Files of many articles (CSV, JSONL, a JSON list) are streamed: these bound one record, not the file.
MAX_RECORD_CHARS = 4 * MAX_ARTICLE_CHARS  # one JSONL line, CSV record or JSON list item
MAX_COLUMNS = 100_000               # columns of a CSV header

# Values stored in a document's metadata must be writable by every export (strict JSON).
MAX_JSON_DEPTH = 32                 # nesting of lists/objects in one line's metadata
MAX_INT = 2**63 - 1                 # integers: 64-bit (SQLite's and most JSON readers' range)
MIN_INT = -(2**63)

# Streaming: documents gathered before they are written (bounds the memory of an import).
BATCH_DOCUMENTS = 500
READ_CHUNK = 1 * MB                 # bytes read at a time; the encoding is guessed from the first
MAX_REPORTED = 1000                 # skipped lines listed one by one; beyond, they are only counted


def describe() -> str:
    """The limits as a user reads them (`import --help`)."""
    return (
        "limits: "
        f"one article ≤ {MAX_ARTICLE_CHARS:,} characters (a .txt file ≤ {MAX_ARTICLE_BYTES // MB} MB, "
        f"a web page ≤ {MAX_HTML_BYTES // MB} MB, a brat .ann ≤ {MAX_ANN_BYTES // MB} MB); "
        f"CSV and JSONL are read as a stream, any size, {BATCH_DOCUMENTS} articles at a time, "
        f"one record ≤ {MAX_RECORD_CHARS:,} characters (a longer line or record is skipped and "
        f"named), a CSV header ≤ {MAX_COLUMNS:,} columns; a .json list of records is read a "
        "record at a time too; metadata values: strict JSON, "
        f"nesting ≤ {MAX_JSON_DEPTH} levels, integers within 64 bits, no NaN or Infinity (a line "
        "breaking these is skipped and named). Devices, pipes and sockets are refused unread."
    )
