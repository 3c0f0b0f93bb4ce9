"""The claims as a graph in GraphML (networkx, Gephi, yEd, Cytoscape read it): nodes are claims,
sources and articles; edges are the claims' links (supports, contradicts, same claim, cites),
each claim to its source ("said by") and its article ("appears in"), and each source to the
articles that quote it ("quoted in"). Directed; every node and edge has a `kind` (and nodes a
`label`, which Gephi shows)."""
from __future__ import annotations

import re
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

from annotation.progress import Progress
from annotation.sources import display_source_name, normalise_source_name
from storage.export.files import Destination
from storage.export.selection import Rows
from storage.export.summary import ExportSummary
from storage.schema import day_of

# (key id, for, attribute name, type): GraphML declares every attribute before the graph.
KEYS = (
    ("n_kind", "node", "kind", "string"), ("n_label", "node", "label", "string"),
    ("n_text", "node", "text", "string"), ("n_credibility", "node", "credibility", "int"),
    ("n_reliability", "node", "reliability", "string"), ("n_stance", "node", "stance", "string"),
    ("n_status", "node", "status", "string"), ("n_annotator", "node", "annotator", "string"),
    ("n_date", "node", "date", "string"), ("n_outlet", "node", "outlet", "string"),
    ("n_name", "node", "name", "string"),
    ("e_kind", "edge", "kind", "string"), ("e_annotator", "edge", "annotator", "string"),
)
# XML 1.0 has no place for most control characters (nor lone surrogates): they are dropped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

_COLUMNS = (
    "c.id, c.document_id, c.source_id, c.credibility, c.stance, c.status, c.annotator,"
    " substr(d.text, sc.start + 1, sc.\"end\" - sc.start),"
    " substr(d.text, ss.start + 1, ss.\"end\" - ss.start), src.name, src.reliability")


def _text(value: Any) -> str:
    return _NOT_XML.sub("", str(value))


def _element(f: IO[str], tag: str, attrs: dict[str, Any], data: dict[str, Any]) -> None:
    head = " ".join(f"{k}={quoteattr(_text(v))}" for k, v in attrs.items())
    present = [(k, v) for k, v in data.items() if v is not None and v != ""]
    if not present:
        f.write(f"    <{tag} {head}/>\n")
        return
    f.write(f"    <{tag} {head}>")
    for key, value in present:
        f.write(f'<data key="{key}">{escape(_text(value))}</data>')
    f.write(f"</{tag}>\n")


def _short(text: str, n: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def write(rows: Rows, dest: Destination, summary: ExportSummary, progress: Progress) -> None:
    """Claims of the selection, their sources and articles, and the links between them."""
    conn = rows.conn
    sql = rows.sel.claims_sql(_COLUMNS, " JOIN documents d ON d.id = c.document_id")
    exported = {r[0] for r in conn.execute(rows.sel.claims_sql("c.id"))}
    documents = [r[0] for r in conn.execute(
        f"SELECT DISTINCT document_id FROM claims WHERE id IN ({rows.sel.claims_sql('c.id')})"
        " ORDER BY document_id")]
    total = len(exported)
    progress(0, total)
    with dest.file(newline="\n") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<graphml xmlns="http://graphml.graphdrawing.org/xmlns"'
                ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
                ' xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns'
                ' http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n')
        for key, for_, name, type_ in KEYS:
            f.write(f'  <key id="{key}" for="{for_}" attr.name="{name}" attr.type="{type_}"/>\n')
        f.write('  <graph id="claims" edgedefault="directed">\n')
        for i in range(0, len(documents), 500):
            chunk = documents[i:i + 500]
            for doc_id, name, title, day, outlet in conn.execute(
                    f"SELECT d.id, d.name, d.title, {day_of('d.date')}, d.source FROM documents d"
                    f" WHERE d.id IN ({','.join('?' * len(chunk))}) ORDER BY d.id", chunk):
                _element(f, "node", {"id": f"article:{doc_id}"}, {
                    "n_kind": "article", "n_label": title or name or f"article {doc_id}",
                    "n_name": name, "n_date": day, "n_outlet": outlet})
        sources: dict[str, str] = {}      # node id -> label
        quoted: set[tuple[str, str]] = set()
        for n, (cid, doc_id, source_id, credibility, stance, status, annotator, content,
                source_text, source_name, reliability) in enumerate(
                    conn.execute(sql + " ORDER BY c.document_id, c.id"), start=1):
            _element(f, "node", {"id": f"claim:{cid}"}, {
                "n_kind": "claim", "n_label": _short(content or source_text or f"claim {cid}"),
                "n_text": content, "n_credibility": credibility, "n_stance": stance,
                "n_status": status, "n_annotator": annotator})
            _element(f, "edge", {"source": f"claim:{cid}", "target": f"article:{doc_id}"},
                     {"e_kind": "appears in"})
            source = None
            if source_id is not None:
                source = f"source:{source_id}"
                if source not in sources:
                    sources[source] = source_name
                    _element(f, "node", {"id": source}, {
                        "n_kind": "source", "n_label": source_name, "n_name": source_name,
                        "n_reliability": reliability})
            elif source_text and normalise_source_name(source_text):
                # Not in the registry: the source as the article names it, one node per name.
                source = f"source:name:{normalise_source_name(source_text)}"
                if source not in sources:
                    name = display_source_name(source_text)
                    sources[source] = name
                    _element(f, "node", {"id": source}, {"n_kind": "source", "n_label": name,
                                                        "n_name": name})
            if source is not None:
                _element(f, "edge", {"source": f"claim:{cid}", "target": source},
                         {"e_kind": "said by"})
                if (source, f"article:{doc_id}") not in quoted:
                    quoted.add((source, f"article:{doc_id}"))
                    _element(f, "edge", {"source": source, "target": f"article:{doc_id}"},
                             {"e_kind": "quoted in"})
            summary.claims += 1
            if n % 200 == 0 or n == total:
                progress(n, total)
        outside = 0
        for link_id, a, b, kind, annotator in conn.execute(
                "SELECT id, from_claim, to_claim, kind, annotator FROM claim_links ORDER BY id"):
            if a in exported and b in exported:
                _element(f, "edge", {"id": f"link:{link_id}", "source": f"claim:{a}",
                                     "target": f"claim:{b}"},
                         {"e_kind": kind, "e_annotator": annotator})
            elif a in exported or b in exported:
                outside += 1
        f.write("  </graph>\n</graphml>\n")
    summary.documents = len(documents)
    summary.note(outside, f"claim-graph: {outside} links to claims not exported left out "
                          "(--all adds suggested claims)")
