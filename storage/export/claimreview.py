"""Graded claims as schema.org ClaimReview, in one JSON-LD document ({"@context", "@graph"}).

Each review: `claimReviewed` (the content), `itemReviewed` a Claim whose `author` is the claim's
source (a Person when an accepted or suggested PERSON entity covers its source span, else an
Organization) and whose `appearance` is the article (headline, url, date, publisher: the
outlet); `reviewRating` the Admiralty grade: information credibility 1–5 on schema.org's
numeric scale (bestRating 5 = 1 "confirmed by other sources", worstRating 1 = 5 "improbable";
6 "truth cannot be judged" has no place on it and is given as text only), `alternateName` the
combined code ("B2"), `ratingExplanation` both axes in words; `author` the analyst who decided
it, `datePublished` the day it was last decided. No `url`: a ClaimReview's url is the page that
publishes it, which only the publisher knows.
"""
from __future__ import annotations

from typing import Any

from annotation.model import CREDIBILITY, RELIABILITY
from annotation.progress import Progress
from storage.export.files import Destination
from storage.export.selection import Rows
from storage.export.summary import ExportSummary
from storage.export.values import dumps
from storage.schema import day_of

BEST, WORST = 5, 1  # schema.org's numeric scale: the greater the truer

_COLUMNS = (
    "c.id, c.credibility, c.stance, c.note, c.annotator, c.updated_at, c.status,"
    " d.id, d.name, d.title, d.url, " + day_of("d.date") + ", d.source,"
    " substr(d.text, sc.start + 1, sc.\"end\" - sc.start),"
    " substr(d.text, ss.start + 1, ss.\"end\" - ss.start), src.name, src.reliability,"
    " EXISTS (SELECT 1 FROM spans e WHERE e.document_id = c.document_id AND e.label = 'PERSON'"
    "   AND e.status != 'rejected' AND ss.id IS NOT NULL AND e.start < ss.\"end\""
    "   AND e.\"end\" > ss.start)")


def rating(credibility: int, reliability: str | None) -> dict[str, Any]:
    """The Admiralty grade as a schema.org Rating."""
    code = f"{reliability or '?'}{credibility}"
    words = (f"source {RELIABILITY[reliability]}" if reliability in RELIABILITY
             else "source reliability not graded") + f"; information {CREDIBILITY[credibility]}"
    out: dict[str, Any] = {"@type": "Rating", "alternateName": code, "name": CREDIBILITY[credibility],
                           "ratingExplanation": f"Admiralty code {code}: {words}"}
    if credibility <= 5:
        out.update(ratingValue=BEST + 1 - credibility, bestRating=BEST, worstRating=WORST)
    return out


def review(r: tuple) -> dict[str, Any]:
    (cid, credibility, _stance, note, annotator, updated, _status, doc_id, name, title, url, day,
     outlet, content, source_text, source_name, reliability, is_person) = r
    claim: dict[str, Any] = {"@type": "Claim", "text": content}
    who = source_name or (" ".join(source_text.split()) if source_text else None)
    if who:
        claim["author"] = {"@type": "Person" if is_person else "Organization", "name": who}
    if day:
        claim["datePublished"] = day
    appearance: dict[str, Any] = {"@type": "CreativeWork",
                                  "headline": title or name or f"article {doc_id}",
                                  "identifier": f"document {doc_id}"}
    if url:
        appearance["url"] = url
    if day:
        appearance["datePublished"] = day
    if outlet:
        appearance["publisher"] = {"@type": "Organization", "name": outlet}
    claim["appearance"] = appearance
    out: dict[str, Any] = {"@type": "ClaimReview", "@id": f"#claim-{cid}", "identifier": str(cid),
                           "claimReviewed": content, "itemReviewed": claim,
                           "reviewRating": rating(credibility, reliability)}
    if annotator:
        out["author"] = {"@type": "Person", "name": annotator}
    if updated:
        out["datePublished"] = updated[:10]
    if note:
        out["reviewBody"] = note
    return out


def write(rows: Rows, dest: Destination, summary: ExportSummary, progress: Progress) -> None:
    """Every graded claim of the selection with a content (one review each)."""
    base = rows.sel.claims_sql(_COLUMNS, " JOIN documents d ON d.id = c.document_id")
    sql = base + " AND c.credibility IS NOT NULL AND sc.id IS NOT NULL ORDER BY c.document_id, c.id"
    total = rows.conn.execute(f"SELECT count(*) FROM ({base} AND c.credibility IS NOT NULL"
                              " AND sc.id IS NOT NULL)").fetchone()[0]
    no_content = rows.conn.execute(f"SELECT count(*) FROM ({base} AND c.credibility IS NOT NULL"
                                   " AND sc.id IS NULL)").fetchone()[0]
    ungraded = rows.claim_count() - total - no_content
    documents: set[int] = set()
    progress(0, total)
    with dest.file(newline="\n") as f:
        f.write('{"@context": "https://schema.org", "@graph": [')
        for n, r in enumerate(rows.conn.execute(sql), start=1):
            f.write("\n" if n == 1 else ",\n")
            f.write(dumps(review(r)))
            documents.add(r[7])
            summary.claims += 1
            if n % 50 == 0 or n == total:
                progress(n, total)
        f.write("\n]}\n")
    summary.documents = len(documents)
    summary.note(ungraded, f"ClaimReview: {ungraded} claims not graded for credibility left out")
    summary.note(no_content, f"ClaimReview: {no_content} graded claims without a content left out")
