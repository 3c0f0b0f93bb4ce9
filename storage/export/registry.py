"""Every export format, in the order the export dialog lists them.

A new format is one module with `write(rows, dest, summary, progress)` plus one line here.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from annotation.progress import Progress
from storage.export import (
    brat,
    claim_graph,
    claimreview,
    claims,
    conll,
    doccano,
    docs_csv,
    labelstudio,
    prodigy,
    spacy_docbin,
)
from storage.export.files import Destination
from storage.export.selection import Rows
from storage.export.summary import ExportSummary

Writer = Callable[[Rows, Destination, ExportSummary, Progress], None]


@dataclass(frozen=True)
class Format:
    name: str  # as --format gives it
    title: str  # what the user reads
    suffix: str  # of the file it writes; "" for a folder
    write: Writer
    every_document: bool = False  # a report: documents of any status, not only those marked done
    claims_only: bool = False  # one row per claim: it counts claims, not spans
    writes_claims: bool = False  # its summary says how many claims had no part to write
    parts: Callable[[], Any] | None = None  # the writer of parts a worker process makes

    @property
    def folder(self) -> bool:
        return self.suffix == ""


FORMATS: dict[str, Format] = {f.name: f for f in [
    Format("spacy", "spaCy DocBin (.spacy) — for spacy train", ".spacy", spacy_docbin.write,
           writes_claims=True, parts=spacy_docbin.DocBinParts),
    Format("spacy-folder", "spaCy DocBin folder (.spacy files) — for spacy train, large projects", "",
           spacy_docbin.write_folder, writes_claims=True, parts=spacy_docbin.DocBinFolderParts),
    Format("prodigy", "Prodigy JSONL", ".jsonl", prodigy.write, writes_claims=True,
           parts=prodigy.ProdigyParts),
    Format("doccano", "doccano JSONL", ".jsonl", doccano.write),
    Format("labelstudio", "Label Studio JSON", ".json", labelstudio.write),
    Format("brat", "brat standoff (a folder of .txt + .ann)", "", brat.write, writes_claims=True),
    Format("conll", "CoNLL IOB2 (.conll)", ".conll", conll.write),
    Format("docs-csv", "Documents as CSV (one row per article)", ".csv", docs_csv.write,
           every_document=True, writes_claims=True),
    Format("claims-csv", "Claims as CSV (with sources, grades and links)", ".csv",
           claims.write_csv_file, every_document=True, claims_only=True, writes_claims=True),
    Format("claims-jsonl", "Claims as JSONL (with sources, grades and links)", ".jsonl",
           claims.write_jsonl, every_document=True, claims_only=True, writes_claims=True),
    Format("claimreview", "Graded claims as schema.org ClaimReview (JSON-LD)", ".jsonld",
           claimreview.write, every_document=True, claims_only=True, writes_claims=True),
    Format("claim-graph", "Claims, sources, articles and links as a graph (GraphML)", ".graphml",
           claim_graph.write, every_document=True, claims_only=True, writes_claims=True),
]}
