"""Exports that need tokens: spaCy DocBin, Prodigy JSONL and CoNLL IOB2."""
from __future__ import annotations

import json
import re
import struct
import zlib
from bisect import bisect_right
from collections.abc import Callable
from functools import lru_cache
from itertools import accumulate, chain, compress, count, islice
from operator import add, itemgetter, le, lt, not_, or_
from pathlib import Path
from typing import Any

from annotation.model import Span
from annotation.progress import Progress
from storage.export_rows import (
    ExportClaim, ExportDoc, ExportSummary, Selection, atomic_file, document_count, iter_documents,
    label_kinds,
    no_gc, report_progress,
)
from storage.project import Project


# Special cases of the English tokenizer that make one token with no attribute of its own, and
# which the prefix/suffix/infix rules tokenize the same way without them. Any special case met
# in a text stops spaCy from caching the rest of that text's chunks (tokenizer.pyx,
# `_save_cached`, "See #1250"): one em dash or typographic apostrophe early in an article made
# the rest of it tokenize uncached, 12-17x slower. tests/test_export.py checks that the
# tokenizer without them gives the same ORTH, NORM, offsets and spaces as `spacy.blank("en")`.
_INERT_SPECIAL_CASES = frozenset([
    "\t", "\n", " ", "'", "\\n", "\\t", "—", "’", "C++", "D.C.", "E.G.", "I.E.", "O'clock",
    "o'clock", "-__-", "0.0", "0.o", "0_0", "0_o", "8D", "@_@", "O.O", "O.o", "O_O", "O_o", "V.V",
    "V_V", "XD", "XDD", "^__^", "^___^", "o.0", "o.o", "o_0", "o_O", "o_o", "v.v", "v_v", "xD",
    "xDD", "¯\\(ツ)/¯", "ಠ︵ಠ"])
# Chunks (whitespace-separated pieces) the tokenizer remembers; spaCy's default of 10,000 is
# full after a few hundred articles, and every chunk after that goes through the affix rules.
TOKENIZER_CACHE = 1_000_000


class BlankEnglish:
    """What exports need of `spacy.blank("en")`: its vocabulary and tokenizer (`make_doc`)."""

    def __init__(self, vocab, tokenizer) -> None:
        self.vocab = vocab
        self.tokenizer = tokenizer

    def make_doc(self, text: str):
        return self.tokenizer(text)

    __call__ = make_doc


@lru_cache(maxsize=1)
def blank_nlp() -> BlankEnglish:
    """The tokenizer and vocabulary of a blank English pipeline: all that writing training data
    needs. Its tokens and norms are those of `spacy.blank("en")`; its cache is larger and kept
    working, and its lexemes carry no other attribute.

    Made as spaCy's tokenizer factory makes it, without the pipeline's config machinery, and
    with its special cases loaded once (setting `Tokenizer.rules` loads them all again): the
    first export of a session pays 0.1 s instead of 0.2 s for it."""
    from spacy import util
    from spacy.attrs import NORM
    from spacy.lang.en import English
    from spacy.tokenizer import Tokenizer
    from spacy.vocab import create_vocab
    defaults = English.Defaults
    vocab = create_vocab(English.lang, defaults)
    # A new word's lexeme runs every attribute getter (shape, stop word, like_num, ...): a
    # third of a first tokenization. Exports write only ORTH and NORM (NORM from its getter).
    vocab.lex_attr_getters = {NORM: vocab.lex_attr_getters[NORM]}
    tokenizer = Tokenizer(
        vocab,
        rules={k: v for k, v in defaults.tokenizer_exceptions.items()
               if k not in _INERT_SPECIAL_CASES},
        prefix_search=util.compile_prefix_regex(defaults.prefixes).search,
        suffix_search=util.compile_suffix_regex(defaults.suffixes).search,
        infix_finditer=util.compile_infix_regex(defaults.infixes).finditer,
        token_match=defaults.token_match,
        url_match=defaults.url_match,
    )
    tokenizer.max_cache_size = TOKENIZER_CACHE
    return BlankEnglish(vocab, tokenizer)


def trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The piece without surrounding whitespace (spaCy will not train on entities edged by it)."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def pieces(span: Span) -> list[tuple[int, int]]:
    """A span's contiguous parts: its fragments when discontinuous, else the span itself."""
    if span.fragments and len(span.fragments) > 1:
        return [(a, b) for a, b in span.fragments]
    return [(span.start, span.end)]


class _Quoted(dict):
    """A string -> the string as a JSON literal, encoded the first time it is asked for."""

    def __missing__(self, key: str) -> str:
        from json.encoder import encode_basestring
        value = self[key] = encode_basestring(key)
        return value


class EncodedStrings(dict):
    """String hash -> the string as a JSON literal (json.dumps(..., ensure_ascii=False)), each
    encoded the first time it is asked for."""

    def __missing__(self, key: int) -> str:
        from json.encoder import encode_basestring
        value = self[key] = encode_basestring(blank_nlp().vocab.strings[key])
        return value


@lru_cache(maxsize=1)
def encoded_strings() -> EncodedStrings:
    """The encoded token strings, kept as long as the tokenizer's vocabulary they come from."""
    return EncodedStrings()


class Tokens:
    """The blank tokenizer's tokens, split further wherever a span starts or ends inside one,
    so that every span lines up with token boundaries and none has to be widened or dropped."""

    def __init__(self, text: str, cuts: set[int], orth: bool = False, attrs: tuple = ()):
        """`orth`: keep each token's string hash; `attrs`: token attributes to read along
        (self.array[:, 3:], while no token had to be split)."""
        from spacy.attrs import IDX, LENGTH, ORTH, SPACY
        self.text = text
        self._doc = blank_nlp().make_doc(text)
        # Whole columns at once: creating a Token object per token costs more than tokenizing.
        self._orth = None  # each token's string hash, when asked for and no token was split
        self.array = None
        if len(self._doc):
            columns = self._doc.to_array([IDX, LENGTH, SPACY, *attrs, *((ORTH,) if orth else ())])
            idx = columns[:, 0].tolist()
            ends = (columns[:, 0] + columns[:, 1]).tolist()
            space = columns[:, 2].tolist()
            if orth:
                self._orth = columns[:, -1].tolist()
            if attrs:
                self.array = columns
        else:
            idx, ends, space = [], [], []
        self._space = space
        # A cut falls inside a token when the token starting at or before it ends after it.
        # Nearly every cut is some token's start or end: only the others need a bisect.
        inside = []
        for cut in cuts.difference(idx, ends) if cuts else ():
            i = bisect_right(idx, cut) - 1
            if i >= 0 and idx[i] < cut < ends[i]:
                inside.append(cut)
        self.split = len(inside)
        if not inside:  # nearly every document: the tokenizer's tokens as they are
            self.starts = idx
            self.ends = ends
            self._words = None  # made when asked for: a DocBin needs offsets only
            return
        inside.sort()
        self._orth = None
        self.array = None
        words: list[str] = []
        spaces: list[bool] = []
        starts: list[int] = []
        n_cuts = len(inside)
        i = 0  # tokens and cuts are both in text order: walk them together
        for pos, end, ws in zip(idx, ends, space):
            while i < n_cuts and inside[i] <= pos:
                i += 1
            while i < n_cuts and inside[i] < end:
                cut = inside[i]
                words.append(text[pos:cut])
                spaces.append(False)
                starts.append(pos)
                pos = cut
                i += 1
            words.append(text[pos:end])
            spaces.append(bool(ws))
            starts.append(pos)
        self._words = words
        self._space = spaces
        self.starts = starts
        self.ends = list(map(add, starts, map(len, words)))

    @property
    def words(self) -> list[str]:
        """Each token's text."""
        if self._words is None:
            self._words = list(map(self.text.__getitem__, map(slice, self.starts, self.ends)))
        return self._words

    @property
    def spaces(self) -> list[bool]:
        """Whether each token is followed by a space."""
        return list(map(bool, self._space))

    def index(self, start: int, end: int) -> tuple[int, int]:
        """Token indices (first, last inclusive) covering characters start..end."""
        return bisect_right(self.starts, start) - 1, bisect_right(self.starts, end - 1) - 1

    def doc(self):
        """A spaCy Doc of these tokens (the tokenizer's own when nothing had to be split)."""
        if not self.split:
            return self._doc
        from spacy.tokens import Doc
        return Doc(blank_nlp().vocab, words=self.words, spaces=self.spaces)


def _claim_record(claims: list[ExportClaim], text: str, edges: dict[int, tuple[int, int]]
                  ) -> list[dict[str, Any]]:
    """Claims with their parts as character offsets (`edges`: span id -> (start, end)), for
    formats with room for free data."""
    out = []
    for c in claims:
        parts: dict[str, Any] = {}
        for role, sid in (("content", c.content), ("cue", c.cue), ("source", c.source),
                          ("attribution", c.attribution)):
            edge = edges.get(sid) if sid is not None else None
            parts[role] = list(edge) if edge is not None else None
        source = parts["source"]
        source_name = c.source_name or (text[source[0]:source[1]] if source else None)
        out.append({"id": c.id, **parts, "source_name": source_name,
                    "reliability": c.reliability, "credibility": c.credibility, "stance": c.stance,
                    "status": c.status, "origin": c.origin})
    return out


class _Cuts:
    """Span pieces trimmed of whitespace, and the tallies of what trimming changed."""

    def __init__(self) -> None:
        self.trimmed = 0
        self.blank = 0
        self.discontinuous = 0
        self.fragments = 0

    def of(self, doc: ExportDoc) -> tuple[list[tuple[Span, list[tuple[int, int]]]], set[int]]:
        out = []
        cuts: set[int] = set()
        add_cut = cuts.add
        text = doc.text
        for s in doc.spans:
            a, b = s.start, s.end
            # Most spans are one piece with no whitespace at either edge: nothing to trim.
            if a < b and not (s.fragments and len(s.fragments) > 1) \
                    and not text[a].isspace() and not text[b - 1].isspace():
                add_cut(a)
                add_cut(b)
                out.append((s, [(a, b)]))
                continue
            ps = pieces(s)
            if len(ps) > 1:
                self.discontinuous += 1
                self.fragments += len(ps)
            kept = []
            for a, b in ps:
                t = trim(text, a, b)
                if t is None:
                    continue
                if t != (a, b):
                    self.trimmed += 1
                kept.append(t)
                cuts.update(t)
            if not kept:
                self.blank += 1
            out.append((s, kept))
        return out, cuts

    _COUNTED = ("trimmed", "blank", "discontinuous", "fragments")

    def counts(self) -> dict[str, int]:
        return {f"cuts_{k}": getattr(self, k) for k in self._COUNTED}

    @classmethod
    def from_counts(cls, counts: dict[str, int]) -> _Cuts:
        cuts = cls()
        for k in cls._COUNTED:
            setattr(cuts, k, counts.get(f"cuts_{k}", 0))
        return cuts

    def notes(self, fmt: str, summary: ExportSummary) -> None:
        if self.blank:
            summary.not_represented.append(f"{fmt}: {self.blank} spans of only whitespace dropped")
        if self.trimmed:
            summary.not_represented.append(
                f"{fmt}: {self.trimmed} spans trimmed of surrounding whitespace")
        if self.discontinuous:
            summary.not_represented.append(
                f"{fmt}: {self.discontinuous} discontinuous spans written as "
                f"{self.fragments} separate fragments")


# A token's entity IOB code in spaCy's token arrays.
_IOB_I, _IOB_O, _IOB_B = 1, 2, 3
_SPAN_STRUCT = struct.Struct(">QQQllll")  # SpanGroup.to_bytes: id, kb_id, label, token and char offsets
Ent = tuple[int, int, str]  # first token, end token (exclusive), label
GroupSpan = tuple[int, int, int, int, str]  # first token, end token (exclusive), start, end char, label


def filter_ents(ents: list[Ent]) -> list[Ent]:
    """spacy.util.filter_spans on tuples: longest first, then earliest; sorted by start."""
    # Usually the entities come in text order and none overlaps the next: all are kept as they are.
    if all(map(le, map(itemgetter(1), ents), map(itemgetter(0), islice(ents, 1, None)))):
        return list(ents)
    ordered = sorted(ents, key=lambda e: (e[1] - e[0], -e[0]), reverse=True)
    kept = []
    seen: set[int] = set()
    for e in ordered:
        # Like filter_spans, test the first and last token only.
        if e[0] not in seen and e[1] - 1 not in seen:
            kept.append(e)
            seen.update(range(e[0], e[1]))
    kept.sort(key=lambda e: e[0])
    return kept


class DocBinWriter:
    """Writes what `DocBin(store_user_data=True)` writes for the same blank-tokenizer Docs.

    DocBin.add visits every token in Python to collect strings, needs a Span object per span,
    and Doc.to_array fills its 13 columns one token attribute at a time: most of an export's
    time. Here each document gives the only columns a blank tokenizer's Doc fills (ORTH, NORM,
    SENT_START, SPACY), entities are written into the token array a chunk of documents at a
    time, span groups are packed from token offsets, strings are looked up once per distinct
    hash, and the chunks are compressed on a second thread while the next documents are read.
    tests/test_export.py checks the bytes against spaCy's own DocBin fed real Docs.
    """

    def __init__(self, level: int = -1, chunk_tokens: int = 32768, spill_dir: Path | None = None
                 ) -> None:
        from spacy.attrs import (
            DEP, ENT_ID, ENT_IOB, ENT_KB_ID, ENT_TYPE, LEMMA, MORPH, NORM, ORTH, SENT_START, SPACY,
            TAG,
        )
        from spacy.tokens import DocBin
        from srsly.msgpack import _Packer
        reference = DocBin(store_user_data=True)
        self.version = reference.version
        self.attrs = list(reference.attrs)
        self.level = level
        self._chunk_tokens = chunk_tokens
        self._columns = [ORTH, NORM, SENT_START, SPACY]
        self.token_attrs = tuple(self._columns)  # what Tokens should read along for add()
        self._at = [self.attrs.index(a) for a in self._columns[:-1]]
        self._iob = self.attrs.index(ENT_IOB)
        self._type = self.attrs.index(ENT_TYPE)
        # The columns whose values are string hashes: DocBin.add stores each one's string.
        self._string_columns = [i for i, a in enumerate(self.attrs)
                                if a in (ORTH, NORM, TAG, DEP, ENT_TYPE, ENT_KB_ID, ENT_ID, LEMMA, MORPH)]
        self.vocab = blank_nlp().vocab
        self.lengths: list[int] = []
        self.cats: list[dict[str, float]] = []
        self.flags: list[dict[str, bool]] = []
        # Each document's span groups and user data, msgpack-packed as items of their lists,
        # compressed a megabyte at a time as they come (a whole project's would not fit in memory).
        self._spill_dir = spill_dir
        self._groups = _Section(self)
        self._user = _Section(self)
        self.labels: set[str] = set()
        # srsly.msgpack_dumps without its per-call search of installed extensions (plain data only).
        self._packer = _Packer(use_bin_type=True)
        self._pack = self._packer.pack
        # Documents not yet in a chunk: their columns, and their kept entities as
        # (first token within the pending documents, length, label hash).
        self._pending: list[Any] = []
        self._pending_n = 0
        self._ent_first: list[int] = []
        self._ent_len: list[int] = []
        self._ent_label: list[int] = []
        self._n = 0
        self._spaces: list[Any] = []
        self._hashes: set[int] = set()
        self._chunks = _Parts(self)  # the token array's compressed parts
        self._worker = None

    def __len__(self) -> int:
        return len(self.lengths)

    def add(self, tok: Tokens, ents: list[Ent], groups: dict[str, list[GroupSpan]],
            cats: dict[str, float], user_data: dict[str, Any]) -> int:
        """Add one document: entities (overlaps are filtered as doc.ents would need), span
        groups in order, cats, user data. Returns how many entities were kept."""
        doc = tok.doc()
        if tok.array is not None and tok.array.shape[1] == 3 + len(self._columns):
            array = tok.array[:, 3:]  # read along with the offsets (Tokens(attrs=token_attrs))
        else:
            array = doc.to_array(self._columns).reshape((-1, len(self._columns)))
        kept = filter_ents(ents)
        offset = self._pending_n
        label_hash = self.vocab.strings.add
        for first, end, label in kept:
            self._ent_first.append(offset + first)
            self._ent_len.append(end - first)
            self._ent_label.append(label_hash(label))
        self._pending.append(array)
        self._pending_n += len(array)
        self.lengths.append(len(array))
        self.flags.append({"has_unknown_spaces": doc.has_unknown_spaces})
        self.cats.append(cats)
        pack = self._pack
        self._user.add(pack(pack(user_data)))  # a bytes item of the user_data list
        self._groups.add(pack(self._span_groups(groups)))
        if self._pending_n >= self._chunk_tokens:
            self._flush_tokens()
        return len(kept)

    def _span_groups(self, groups: dict[str, list[GroupSpan]]) -> bytes:
        """SpanGroups.to_bytes: {SpanGroup bytes: [key]}, each group {name, attrs, spans}."""
        if not groups:
            return self._pack([])  # SpanGroups._EMPTY_BYTES
        strings = self.vocab.strings
        pack_span = _SPAN_STRUCT.pack
        msg = {}
        for key, spans in groups.items():
            self.labels.update(s[4] for s in spans)
            packed = [pack_span(0, 0, strings.add(label), first, end, a, b)
                      for first, end, a, b, label in spans]
            msg[self._pack({"name": key, "attrs": {}, "spans": packed})] = [key]
        return self._pack(msg)

    def _flush_tokens(self) -> None:
        """Turn the pending documents into rows of the token array and start compressing them."""
        import numpy
        if not self._pending_n:
            return
        columns = numpy.concatenate(self._pending)
        tokens = numpy.zeros((len(columns), len(self.attrs)), dtype=numpy.uint64)
        for j, i in enumerate(self._at):
            tokens[:, i] = columns[:, j]
        self._spaces.append(columns[:, -1:].astype(bool))
        iob = tokens[:, self._iob]
        iob[:] = _IOB_O  # doc.ents = [...] marks every token outside an entity
        if self._ent_first:
            first = numpy.asarray(self._ent_first, dtype=numpy.int64)
            length = numpy.asarray(self._ent_len, dtype=numpy.int64)
            # Every token of every entity: its entity's first token plus its place in it.
            inside = numpy.repeat(first - (numpy.cumsum(length) - length), length) \
                + numpy.arange(int(length.sum()))
            iob[inside] = _IOB_I
            iob[first] = _IOB_B
            tokens[inside, self._type] = numpy.repeat(
                numpy.asarray(self._ent_label, dtype=numpy.uint64), length)
        self._hashes.update(self._string_hashes(tokens))
        self._n += len(tokens)
        self._pending, self._pending_n = [], 0
        self._ent_first, self._ent_len, self._ent_label = [], [], []
        self._chunks.submit(tokens.data.cast("B"))

    def deflate(self, data: Any) -> Any:
        """Compress a part of the stream on the second thread (a future of _deflate_part)."""
        if self._worker is None:
            from concurrent.futures import ThreadPoolExecutor
            self._worker = ThreadPoolExecutor(1, thread_name_prefix="docbin-zlib")
        return self._worker.submit(_deflate_part, data, self.level)

    def _string_hashes(self, tokens: Any) -> list[int]:
        """The distinct values of the string columns (what DocBin.add collects token by token)."""
        import numpy
        orth = tokens[:, self._string_columns[0]]
        parts = [orth]
        for c in self._string_columns[1:]:
            column = tokens[:, c]
            if not column.any():
                parts.append(column[:1])
            else:  # values equal to the token's ORTH are among ORTH's already
                parts.append(column[column != orth])
        return numpy.unique(numpy.concatenate(parts)).tolist()

    def strings(self) -> list[str]:
        """Every string the token columns and span labels use, as DocBin.to_bytes lists them."""
        lookup = self.vocab.strings
        return sorted(self.labels.union(lookup[h] for h in self._hashes))

    def to_bytes(self) -> bytes:
        """The DocBin file's bytes (see write_to)."""
        import io
        out = io.BytesIO()
        self.write_to(out)
        return out.getvalue()

    def _finish(self) -> bytes:
        """Put the last documents into parts; the spaces column's bytes."""
        import numpy
        self._flush_tokens()
        self._groups.flush()
        self._user.flush()
        return (numpy.concatenate(self._spaces) if self._spaces else numpy.zeros(0, bool)).tobytes()

    def write_to(self, f: Any) -> None:
        """Write the DocBin file (see write_docbin). The parts compressed while documents were
        added come from the spill file."""
        try:
            spaces = self._finish()
            self.write_docbin(f, self._n, spaces, self.lengths, self.strings(), self.cats, self.flags,
                              [self._chunks.copy_to, self._groups.parts.copy_to,
                               self._user.parts.copy_to])
        finally:
            self.close()

    def write_part(self, f: Any) -> None:
        """Write this writer's documents as one part of a DocBin, for assemble_docbin: the
        length of a msgpack head (8 bytes), the head (token count, spaces, per-document lists,
        strings, and the adler32 and length of each compressed piece), then the compressed
        token rows, span groups and user data, each section's pieces back to back."""
        try:
            spaces = self._finish()
            sections = [parts.contents() for parts in
                        (self._chunks, self._groups.parts, self._user.parts)]
            head = self._pack({
                "n": self._n, "spaces": spaces, "lengths": self.lengths, "strings": self.strings(),
                "cats": self.cats, "flags": self.flags,
                "sections": [[len(data), done] for data, done in sections]})
            f.write(len(head).to_bytes(8, "big"))
            f.write(head)
            for data, _ in sections:
                f.write(data)
        finally:
            self.close()

    def write_docbin(self, f: Any, n_tokens: int, spaces: bytes, lengths: list[int],
                     strings: list[str], cats: list[dict], flags: list[dict],
                     sections: list[Callable[[Any, int], int]]) -> None:
        """Write a DocBin file: the zlib stream of the msgpack DocBin.to_bytes compresses,
        assembled from separately compressed parts (as pigz does; every reader sees one
        stream). `sections` write the compressed token array, span groups and user data to f,
        each returning the adler32 it was given combined with theirs."""
        import numpy
        pack = self._pack
        head = b"".join([
            bytes([0x80 | 10]),  # a map of the 10 fields below
            pack("version"), pack(self.version), pack("attrs"), pack(self.attrs),
            pack("tokens"), _bin_header(n_tokens * len(self.attrs) * 8)])
        tail = b"".join([
            pack("spaces"), pack(spaces),
            pack("lengths"), pack(numpy.asarray(lengths, dtype="int32").tobytes()),
            pack("strings"), pack(strings),
            pack("cats"), pack(cats),
            pack("flags"), pack(flags),
            pack("span_groups"), self._packer.pack_array_header(len(lengths))])
        user_head = pack("user_data") + self._packer.pack_array_header(len(lengths))
        f.write(zlib.compress(b"", self.level)[:2])  # the zlib header
        check = 1  # adler32 of nothing
        for part in (_deflate_part(head, self.level), sections[0],
                     _deflate_part(tail, self.level), sections[1],
                     _deflate_part(user_head, self.level), sections[2],
                     _deflate_part(b"", self.level, last=True)):
            if callable(part):
                check = part(f, check)
            else:
                data, adler, n = part
                f.write(data)
                check = _adler32_combine(check, adler, n)
        f.write(check.to_bytes(4, "big"))

    def close(self) -> None:
        """Stop the compressing thread and drop the spill files (also when an export is
        cancelled half-way)."""
        if self._worker is not None:
            self._worker.shutdown(wait=True, cancel_futures=True)
            self._worker = None
        for parts in (self._chunks, self._groups.parts, self._user.parts):
            parts.close()


class _Section:
    """The packed items of one list of the DocBin (span groups, user data): gathered into
    parts of about a megabyte, each compressed on the writer's second thread."""

    PART = 1 << 20

    def __init__(self, writer: DocBinWriter) -> None:
        self._items: list[bytes] = []
        self._size = 0
        self.parts = _Parts(writer)

    def add(self, item: bytes) -> None:
        self._items.append(item)
        self._size += len(item)
        if self._size >= self.PART:
            self.flush()

    def flush(self) -> None:
        if self._items:
            self.parts.submit(b"".join(self._items))
            self._items, self._size = [], 0


class _Parts:
    """Consecutive parts of the zlib stream, compressed on the writer's second thread and, as
    they are done, written to a spill file beside the export (a 100,000-article DocBin is
    hundreds of megabytes even compressed), with each part's adler32 and length."""

    MAX_WAITING = 8  # parts handed to the thread and not yet compressed: then wait for one

    def __init__(self, writer: DocBinWriter) -> None:
        from collections import deque
        self._writer = writer
        self._waiting: Any = deque()  # futures of (compressed, adler32, length), in order
        self._done: list[tuple[int, int]] = []  # (adler32, length) of the parts spilled
        self._file: Any = None

    def submit(self, data: Any) -> None:
        self._waiting.append(self._writer.deflate(data))
        self._spill(block=len(self._waiting) > self.MAX_WAITING)

    def _spill(self, block: bool = False) -> None:
        waiting = self._waiting
        while waiting and (block or waiting[0].done()):
            data, adler, n = waiting.popleft().result()
            block = False
            if self._file is None:
                import tempfile
                self._file = tempfile.TemporaryFile(prefix=".credence-docbin-",
                                                    dir=self._writer._spill_dir)
            self._file.write(data)
            self._done.append((adler, n))

    def copy_to(self, f: Any, check: int) -> int:
        """Write every part to f in order; returns `check` combined with their adler32s."""
        import shutil
        while self._waiting:
            self._spill(block=True)
        if self._file is not None:
            self._file.seek(0)
            shutil.copyfileobj(self._file, f, 1 << 20)
        for adler, n in self._done:
            check = _adler32_combine(check, adler, n)
        return check

    def contents(self) -> list:
        """[the compressed parts as one bytes, [[adler32, length] of each]]."""
        while self._waiting:
            self._spill(block=True)
        data = b""
        if self._file is not None:
            self._file.seek(0)
            data = self._file.read()
        return [data, [list(d) for d in self._done]]

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        # Parts and writer refer to each other; exports run with the cyclic collector paused,
        # so without this every DocBin part a process writes would stay in memory.
        self._writer = None


def _part_head(f: Any) -> dict[str, Any]:
    import srsly
    size = int.from_bytes(f.read(8), "big")
    return srsly.msgpack_loads(f.read(size))


def assemble_docbin(paths: list[Path], f: Any) -> None:
    """Write one DocBin file from parts made by DocBinPart.write_file, in their order."""
    writer = DocBinWriter(DOCBIN_ZLIB_LEVEL)  # its version, attributes and packer
    n_tokens = 0
    spaces: list[bytes] = []
    lengths: list[int] = []
    strings: set[str] = set()
    cats: list[dict] = []
    flags: list[dict] = []
    places = []  # each part: where its sections start in its file, their sizes and adler32s
    for path in paths:
        with open(path, "rb") as part:
            head = _part_head(part)
            places.append((part.tell(), head["sections"]))
        n_tokens += head["n"]
        spaces.append(head["spaces"])
        lengths += head["lengths"]
        strings.update(head["strings"])
        cats += head["cats"]
        flags += head["flags"]

    def section(k: int) -> Callable[[Any, int], int]:
        def write(out: Any, check: int) -> int:
            for path, (start, sections) in zip(paths, places):
                with open(path, "rb") as part:
                    part.seek(start + sum(size for size, _ in sections[:k]))
                    size, done = sections[k]
                    while size > 0:
                        chunk = part.read(min(size, 1 << 20))
                        if not chunk:
                            raise OSError(f"{path}: part file cut short")
                        out.write(chunk)
                        size -= len(chunk)
                for adler, length in done:
                    check = _adler32_combine(check, adler, length)
            return check
        return write

    writer.write_docbin(f, n_tokens, b"".join(spaces), lengths, sorted(strings), cats, flags,
                        [section(0), section(1), section(2)])


def _deflate_part(data: Any, level: int, last: bool = False) -> tuple[bytes, int, int]:
    """One part of a zlib stream: raw deflate ending on a byte boundary (or the final block),
    with the part's adler32 and length (zlib releases the GIL for both)."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    out = compressor.compress(data) + compressor.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)
    return out, zlib.adler32(data), len(data)


def _adler32_combine(first: int, second: int, second_length: int) -> int:
    """adler32 of A+B from adler32(A), adler32(B) and len(B) (zlib's adler32_combine)."""
    base = 65521
    a1, b1 = first & 0xFFFF, first >> 16
    a2, b2 = second & 0xFFFF, second >> 16
    n = second_length % base
    a = (a1 + a2 - 1) % base
    b = (b1 + b2 + n * (a1 - 1)) % base
    return (b << 16) | a


def _bin_header(n: int) -> bytes:
    """msgpack's header of a bytes value of n bytes (bin 8 / 16 / 32)."""
    if n < 1 << 8:
        return b"\xc4" + n.to_bytes(1, "big")
    if n < 1 << 16:
        return b"\xc5" + n.to_bytes(2, "big")
    return b"\xc6" + n.to_bytes(4, "big")


def fill_docbin(project: Project, sel: Selection, writer: Any,
                on_document: Callable[[], None] | None = None,
                ids: tuple[int, int] | None = None) -> dict[str, int]:
    """Add the selection's documents (those with ids in first..last when given) to `writer` (a
    DocBinWriter, or in tests a real DocBin's stand-in): entities in doc.ents (no overlaps),
    every span in doc.spans["sc"], claim parts also in doc.spans["claims"], document labels in
    cats. Returns what it wrote and what it had to change (docbin_summary reports them)."""
    claim_labels, doc_labels = label_kinds(project)
    cuts = _Cuts()
    overlapping = unaligned = n_spans = n_claims = n_docs = 0
    attrs = getattr(writer, "token_attrs", ())
    for edoc in iter_documents(project, sel, claims=True, ids=ids):
        spans, cut_set = cuts.of(edoc)
        tok = Tokens(edoc.text, cut_set, attrs=attrs)
        starts, ends = tok.starts, tok.ends
        # Every piece's edges are token edges (tokens were split at them): token by offset.
        first_at = dict(zip(starts, count()))
        last_at = dict(zip(ends, count()))
        sc: list[GroupSpan] = []
        claim_parts: list[GroupSpan] = []
        ents: list[Ent] = []
        status, ids = [], []
        for s, ps in spans:
            written = False
            label = s.label
            for a, b in ps:
                try:
                    first, last = first_at[a], last_at[b]
                except KeyError:  # cannot happen with the cuts; else widen, not lose the span
                    first, last = tok.index(a, b)
                    if first < 0 or last < first:
                        continue
                span = (first, last + 1, starts[first], ends[last], label)
                written = True
                sc.append(span)
                status.append(s.status)
                ids.append(s.id)
                if label in claim_labels:
                    claim_parts.append(span)
                else:
                    ents.append((first, last + 1, label))
            if written:
                n_spans += 1
            elif ps:
                unaligned += 1
        groups = {"sc": sc}
        if claim_parts:
            groups["claims"] = claim_parts
        cats: dict[str, float] = {}
        if doc_labels:
            have = set(edoc.labels)
            cats = {lab: 1.0 if lab in have else 0.0 for lab in doc_labels}
        claims = _claim_record(edoc.claims, edoc.text, {s.id: (s.start, s.end) for s in edoc.spans}) \
            if edoc.claims else []
        n_claims += len(claims)
        user_data = {
            "name": edoc.name, "title": edoc.title, "source": edoc.source, "date": edoc.date,
            "url": edoc.url, "document_id": edoc.id, "status": edoc.status, "meta": edoc.meta,
            # Parallel to doc.spans["sc"]: where each span came from and its review status.
            "span_ids": ids, "span_status": status, "claims": claims,
        }
        overlapping += len(ents) - writer.add(tok, ents, groups, cats, user_data)
        n_docs += 1
        if on_document is not None:
            on_document()
    return {"documents": n_docs, "spans": n_spans, "claims": n_claims, "unaligned": unaligned,
            "overlapping": overlapping, **cuts.counts()}


def docbin_summary(counts: dict[str, int], summary: ExportSummary) -> None:
    """Add what fill_docbin counted (over one or many parts) to the export's summary."""
    summary.documents += counts.get("documents", 0)
    summary.spans += counts.get("spans", 0)
    summary.claims += counts.get("claims", 0)
    _Cuts.from_counts(counts).notes("spaCy", summary)
    if counts.get("unaligned"):
        summary.not_represented.append(f"spaCy: spans not aligned to tokens: {counts['unaligned']}")
    if counts.get("overlapping"):
        summary.not_represented.append(
            f"spaCy: {counts['overlapping']} overlapping entity spans left out of doc.ents "
            "(all spans are in doc.spans['sc'])")


# zlib level of DocBin files: spaCy's default (6) takes 4x as long for a file 25% smaller.
DOCBIN_ZLIB_LEVEL = 1


class DocBinPart:
    """The DocBin of the documents with ids in first..last: a part file for assemble_docbin
    (storage.export_parallel), or the whole file."""

    streamed = False  # parts are put together at the end, not copied as they come
    assemble = staticmethod(assemble_docbin)

    def __init__(self) -> None:
        blank_nlp()  # a worker makes its tokenizer before it says it is ready

    def write_file(self, project: Project, sel: Selection, ids: tuple[int, int] | None,
                   path: Path, on_document: Callable[[], None] | None = None) -> dict[str, int]:
        writer = DocBinWriter(DOCBIN_ZLIB_LEVEL, spill_dir=path.parent)
        try:
            counts = fill_docbin(project, sel, writer, on_document, ids)
            with open(path, "wb") as f:
                writer.write_part(f)
        finally:
            writer.close()
        return counts

    def write_all(self, project: Project, sel: Selection, f: Any, spill_dir: Path,
                  on_document: Callable[[], None] | None = None) -> dict[str, int]:
        writer = DocBinWriter(DOCBIN_ZLIB_LEVEL, spill_dir=spill_dir)
        try:
            counts = fill_docbin(project, sel, writer, on_document)
            writer.write_to(f)
        finally:
            writer.close()
        return counts


def export_spacy(project: Project, sel: Selection, out: Path, summary: ExportSummary,
                 progress: Progress | None) -> None:
    """DocBin: entities in doc.ents (no overlaps), every span in doc.spans["sc"], labels in cats.
    Large exports are shared out to worker processes (storage.export_parallel)."""
    from storage.export_parallel import write_parts
    with atomic_file(out, binary=True) as f, no_gc():
        counts = write_parts(project, sel, "spacy", f, out.parent, progress)
    docbin_summary(counts, summary)
    if out.suffix != ".spacy":
        summary.not_represented.append(
            f"spaCy: `spacy train` only reads files ending in .spacy: rename {out.name}")


_JSON_BOOL = ("false", "true")
# Prodigy tokens as json.dumps writes [{"text", "start", "end", "id", "ws"}, ...], in pieces that
# each end where the next token's "ws" value begins (the first piece opens the list and the
# first token's "text"). A token's "ws" and the next token's text are one value (_NextToken).
_PRODIGY_FIRST = '[{"text": %s, "start": %s, "end": %s, "id": 0, "ws": '
_PRODIGY_NEXT = '%%s, "start": %%s, "end": %%s, "id": %d, "ws": '
_PRODIGY_LAST = "%s}]"


class _NextToken(dict):
    """(a token's space flag, the next token's string hash or text) -> 'true}, {"text": "word"'."""

    def __missing__(self, key: tuple[int, int | str]) -> str:
        space, word = key
        text = encoded_strings()[word] if isinstance(word, int) else _quoted()[word]
        value = self[key] = _JSON_BOOL[space] + '}, {"text": ' + text
        return value


@lru_cache(maxsize=1)
def _next_tokens() -> _NextToken:
    """Kept as long as the tokenizer's vocabulary, like encoded_strings()."""
    return _NextToken()


@lru_cache(maxsize=1)
def _quoted() -> _Quoted:
    return _Quoted()


class _ProdigyTokens:
    """The tokens list as json.dumps(..., ensure_ascii=False) writes it, in one % per document
    (a dict per token, built and encoded, was most of a Prodigy export's time). The % template
    of n tokens, ids written in, is the start of one template kept for the longest document."""

    def __init__(self) -> None:
        self._template = _PRODIGY_FIRST
        self._ends = [0, len(_PRODIGY_FIRST)]  # where the template of n tokens ends
        self._next = _next_tokens()

    def _grow(self, n: int) -> None:
        ends = self._ends
        pos = ends[-1]
        parts = [self._template]
        for i in range(len(ends) - 1, max(n, 2 * len(ends))):
            piece = _PRODIGY_NEXT % i
            parts.append(piece)
            pos += len(piece)
            ends.append(pos)
        self._template = "".join(parts)

    def json(self, tok: Tokens) -> str:
        n = len(tok.starts)
        if not n:
            return "[]"
        if len(self._ends) <= n:
            self._grow(n)
        # Token texts by string hash (no token was split) or as text; spaces are 0/1 or bools.
        words = tok._orth if tok._orth is not None else tok.words
        spaces = tok._space
        values = [encoded_strings()[words[0]] if tok._orth is not None else _quoted()[words[0]]]
        values += chain.from_iterable(zip(tok.starts, tok.ends, map(
            self._next.__getitem__, zip(spaces, islice(words, 1, None)))))
        values += (tok.starts[-1], tok.ends[-1], _JSON_BOOL[spaces[-1]])
        return (self._template[:self._ends[n]] + _PRODIGY_LAST) % tuple(values)


# One Prodigy span as json.dumps writes {"start", "end", "label", "token_start", "token_end",
# "status", "origin"}; spans without token indices or with fragments have their own keys.
_PRODIGY_SPAN = '{"start": %d, "end": %d, "label": %s, "token_start": %d, "token_end": %d, ' \
    '"status": %s, "origin": %s'
_PRODIGY_SPAN_UNALIGNED = '{"start": %d, "end": %d, "label": %s, "status": %s, "origin": %s'


class _ProdigyLines:
    """Each document's Prodigy task as one JSON line, exactly as json.dumps writes the dict
    {"text", "meta", "tokens", "spans", "claims", "answer"}. Counts what it wrote."""

    def __init__(self) -> None:
        self.dumps = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(..., ensure_ascii=False)
        self.tokens_json = _ProdigyTokens().json
        self.quoted = _quoted()  # labels, statuses, origins: a few strings, each encoded once
        self.spans = self.claims = self.unaligned = 0

    def line(self, text: str, meta: dict[str, Any], status: str, rows: list[tuple],
             claim_rows: list[ExportClaim]) -> str:
        """`rows`: the document's span rows (iter_documents(raw_spans=True)), in text order."""
        quoted, dumps = self.quoted, self.dumps
        # Column by column (a Python loop per span cost more than the tokenizer).
        ids, _, starts, ends, labels, origins, statuses, _, _, fragments = \
            zip(*rows) if rows else ((),) * 10
        edges = list(zip(starts, ends))
        # Nearly always every span is non-empty with no whitespace at its edges: its offsets
        # are token edges as they are. Else trim each (None: only whitespace).
        edge_chars = "".join(map(text.__getitem__, starts)) \
            + "".join(map(text.__getitem__, map((-1).__add__, ends)))
        if all(map(lt, starts, ends)) and len(edge_chars.split()) == (1 if rows else 0):
            trimmed = edges
            cut_set = set(starts)
            cut_set.update(ends)
        else:
            trimmed = [trim(text, a, b) for a, b in edges]
            cut_set = set(chain.from_iterable(t for t in trimmed if t))
        tok = Tokens(text, cut_set, orth=True)
        # Every span edge is a token edge (tokens were split at them): token by offset.
        first_at = dict(zip(tok.starts, count()))
        last_at = dict(zip(tok.ends, count()))
        if trimmed is edges:
            firsts = list(map(first_at.get, starts))
            lasts = list(map(last_at.get, ends))
        else:
            firsts = [first_at.get(t[0]) if t else None for t in trimmed]
            lasts = [last_at.get(t[1]) if t else None for t in trimmed]
        odd = None in firsts or None in lasts
        if odd:  # a span of only whitespace (-1: written without token indices below)
            for i, t in enumerate(trimmed):
                if firsts[i] is None or lasts[i] is None:
                    firsts[i], lasts[i] = tok.index(*t) if t else (-1, -1)
        # Each span as json.dumps would write its dict, by one %.
        spans = list(map(_PRODIGY_SPAN.__mod__, zip(
            starts, ends, map(quoted.__getitem__, labels), firsts, lasts,
            map(quoted.__getitem__, statuses), map(quoted.__getitem__, origins))))
        if odd or any(fragments):
            for i, t in enumerate(trimmed):
                if t is None:
                    self.unaligned += 1
                    spans[i] = _PRODIGY_SPAN_UNALIGNED % (
                        starts[i], ends[i], quoted[labels[i]], quoted[statuses[i]],
                        quoted[origins[i]])
                parts = json.loads(fragments[i]) if fragments[i] else None
                if parts and len(parts) > 1:
                    spans[i] += ', "fragments": ' + dumps(parts)
        claims = _claim_record(claim_rows, text, dict(zip(ids, edges))) if claim_rows else []
        head = dumps({"text": text, "meta": meta})
        line = [head[:-1], ', "tokens": ', self.tokens_json(tok), ', "spans": [',
                "}, ".join(spans), "}]" if spans else "]"]
        if claims:
            line.append(', "claims": ')
            line.append(dumps(claims))
        if status == "done":
            line.append(', "answer": "accept"')
        line.append("}\n")
        self.spans += len(spans)
        self.claims += len(claims)
        return "".join(line)


class ProdigyPart:
    """The Prodigy lines of the documents with ids in first..last (all when None), counted
    (storage.export_parallel shares an export out in such parts)."""

    streamed = True  # parts are copied into the output as they come, in order

    def __init__(self) -> None:
        blank_nlp()  # a worker makes its tokenizer before it says it is ready
        self.lines = _ProdigyLines()

    def write_file(self, project: Project, sel: Selection, ids: tuple[int, int] | None,
                   path: Path, on_document: Callable[[], None] | None = None) -> dict[str, int]:
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            return self.write(project, sel, ids, f.write, on_document)

    def write_all(self, project: Project, sel: Selection, f: Any, spill_dir: Path,
                  on_document: Callable[[], None] | None = None) -> dict[str, int]:
        return self.write(project, sel, None, f.write, on_document)

    def write(self, project: Project, sel: Selection, ids: tuple[int, int] | None,
              write: Callable[[str], Any], on_document: Callable[[], None] | None = None
              ) -> dict[str, int]:
        lines = self.lines
        before = lines.spans, lines.claims, lines.unaligned
        n = 0
        for doc in iter_documents(project, sel, claims=True, raw_spans=True, ids=ids):
            write(lines.line(doc.text, doc.meta_out(), doc.status, doc.spans, doc.claims))
            n += 1
            if on_document is not None:
                on_document()
        return {"documents": n, "spans": lines.spans - before[0],
                "claims": lines.claims - before[1], "unaligned": lines.unaligned - before[2]}


def export_prodigy(project: Project, sel: Selection, out: Path, summary: ExportSummary,
                   progress: Progress | None) -> None:
    """One task a line: text, tokens, spans with token indices (inclusive end), answer, meta.
    Large exports are shared out to worker processes (storage.export_parallel)."""
    from storage.export_parallel import write_parts
    with atomic_file(out, newline="\n") as f, no_gc():
        counts = write_parts(project, sel, "prodigy", f, out.parent, progress)
    summary.documents += counts.get("documents", 0)
    summary.spans += counts.get("spans", 0)
    summary.claims += counts.get("claims", 0)
    unaligned = counts.get("unaligned", 0)
    if unaligned:
        summary.not_represented.append(
            f"Prodigy: spans not aligned to tokens (only whitespace, no token indices): {unaligned}")


def export_conll(project: Project, sel: Selection, out: Path, summary: ExportSummary,
                 progress: Progress | None) -> None:
    """CoNLL IOB2: token TAB tag, a blank line between sentences; one layer, so no overlaps."""
    claim_labels, _ = label_kinds(project)
    total = document_count(project, sel)
    cuts = _Cuts()
    dropped = dropped_docs = claim_parts = 0
    with atomic_file(out, newline="\n") as f, no_gc():
        for n, edoc in enumerate(iter_documents(project, sel), start=1):
            entities = [s for s in edoc.spans if s.label not in claim_labels]
            claim_parts += len(edoc.spans) - len(entities)
            edoc.spans = entities
            spans, cut_set = cuts.of(edoc)
            kept, lost = _non_overlapping(spans)
            if lost:
                dropped += lost
                dropped_docs += 1
            tok = Tokens(edoc.text, cut_set)
            tags = ["O"] * len(tok.words)
            for s, ps in kept:
                for a, b in ps:
                    first, last = tok.index(a, b)
                    tags[first] = "B-" + s.label
                    tags[first + 1:last + 1] = ["I-" + s.label] * (last - first)
            summary.spans += len(kept)
            f.write("-DOCSTART-\tO\n\n")
            lines = _conll_lines(tok.words, tags)
            f.write("\n".join(lines))
            f.write("\n" if lines else "")
            summary.documents += 1
            report_progress(progress, n, total)
    if dropped:
        summary.not_represented.append(
            f"CoNLL: dropped {dropped} overlapping spans in {dropped_docs} documents")
    if claim_parts:
        summary.not_represented.append(
            f"CoNLL: {claim_parts} claim-part spans (Source/Cue/Content/Attribution) excluded")
    cuts.notes("CoNLL", summary)


def _non_overlapping(spans: list[tuple[Span, list[tuple[int, int]]]]
                     ) -> tuple[list[tuple[Span, list[tuple[int, int]]]], int]:
    """Keep the longest spans first, then the earliest; whatever overlaps a kept one is dropped."""
    candidates = [(s, ps) for s, ps in spans if ps]
    if all(len(ps) == 1 for _, ps in candidates):
        # Usually nothing overlaps: then every span is kept, in order of start.
        by_start = sorted(candidates, key=lambda x: x[1][0][0])
        if all(x[1][0][1] <= y[1][0][0] for x, y in zip(by_start, by_start[1:])):
            return by_start, 0
    order = sorted(candidates, key=lambda x: (-sum(b - a for a, b in x[1]), x[1][0][0]))
    # Characters of the kept pieces: a piece overlaps a kept one iff one of its characters is taken.
    taken = bytearray(max((b for _, ps in candidates for _, b in ps), default=0))
    kept = []
    for s, ps in order:
        if any(taken.find(1, a, b) != -1 for a, b in ps):
            continue
        for a, b in ps:
            taken[a:b] = b"\x01" * (b - a)
        kept.append((s, ps))
    kept.sort(key=lambda x: x[1][0][0])
    return kept, len(candidates) - len(kept)


_SPACE = re.compile(r"\s")
# Tokens that may follow a sentence's final punctuation and still belong to that sentence.
_CLOSERS = frozenset('"\')]}»”’›')


def _conll_lines(words: list[str], tags: list[str]) -> list[str]:
    """Token TAB tag lines, with a blank line after each sentence (the sentencizer's punctuation,
    or a line break), never inside an entity; whitespace tokens are left out.

    Only punctuation, closers and whitespace change the sentence state, so Python visits those
    tokens (and the word after each) while the lines themselves are made in bulk.
    """
    n = len(words)
    punct = _sentence_punct()
    closers = _CLOSERS
    is_space = list(map(str.isspace, words))
    special = list(compress(range(n), map(or_, is_space, map(_sentence_chars().__contains__, words))))
    breaks: list[int] = []  # a blank line goes before these tokens
    open_sentence = pending = False
    i = 0  # the first token not yet looked at
    for j in special + [n]:
        if i < j:  # tokens i..j-1 are words: only the first can start a sentence
            if pending and open_sentence and tags[i][0] != "I":  # never inside an entity (I-)
                breaks.append(i)
            pending = False
            open_sentence = True
        if j == n:
            break
        word = words[j]
        if is_space[j]:
            pending = pending or "\n" in word
        else:  # sentence punctuation or a closer: never starts a sentence
            if word in punct:
                pending = True
            open_sentence = True
        i = j + 1
    body = [w for w, space in zip(words, is_space) if not space]
    joined = "".join(body)
    if _SPACE.search(joined):  # a tab or space inside a token would break the two columns
        body = [_SPACE.sub("_", w) for w in body]
    body = list(map(add, body, map("\t".__add__, compress(tags, map(not_, is_space)))))
    # Blank lines before the breaks; indices shift as whitespace tokens are left out.
    lines: list[str] = []
    kept_before = list(accumulate(map(not_, is_space), initial=0))
    start = 0
    for b in breaks:
        at = kept_before[b]
        lines.extend(body[start:at])
        lines.append("")
        start = at
    lines.extend(body[start:])
    if open_sentence:
        lines.append("")
    return lines


@lru_cache(maxsize=1)
def _sentence_chars() -> frozenset[str]:
    return _sentence_punct() | _CLOSERS


@lru_cache(maxsize=1)
def _sentence_punct() -> frozenset[str]:
    from spacy.pipeline import Sentencizer
    return frozenset(Sentencizer.default_punct_chars)

