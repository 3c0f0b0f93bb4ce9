"""`check`: is a project file sound? Reads only; lists each problem."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from annotation.model import CLAIM_PART_COLUMNS
from storage.project import Project, ProjectError

_QUERIES = {
    "spans outside their document's text":
        'SELECT count(*) FROM spans s JOIN documents d ON d.id = s.document_id'
        ' WHERE s.start < 0 OR s."end" > length(d.text) OR s.start >= s."end"',
    "spans whose document is missing":
        "SELECT count(*) FROM spans WHERE document_id NOT IN (SELECT id FROM documents)",
    "claims whose document is missing":
        "SELECT count(*) FROM claims WHERE document_id NOT IN (SELECT id FROM documents)",
    "claims pointing to missing spans":
        "SELECT count(*) FROM claims c WHERE "
        + " OR ".join(f"(c.{col} IS NOT NULL AND c.{col} NOT IN (SELECT id FROM spans))"
                      for col in CLAIM_PART_COLUMNS.values()),
    "claims pointing to missing sources":
        "SELECT count(*) FROM claims WHERE source_id IS NOT NULL"
        " AND source_id NOT IN (SELECT id FROM sources)",
    "claim links to missing claims":
        "SELECT count(*) FROM claim_links WHERE from_claim NOT IN (SELECT id FROM claims)"
        " OR to_claim NOT IN (SELECT id FROM claims)",
    "document labels of missing documents":
        "SELECT count(*) FROM doc_labels WHERE document_id NOT IN (SELECT id FROM documents)",
    "aliases of missing sources":
        "SELECT count(*) FROM source_aliases WHERE source_id NOT IN (SELECT id FROM sources)",
    "credibility grades outside 1–6":
        "SELECT count(*) FROM claims WHERE credibility IS NOT NULL AND credibility NOT BETWEEN 1 AND 6",
    "reliability grades outside A–F":
        "SELECT count(*) FROM sources WHERE reliability IS NOT NULL"
        " AND reliability NOT IN ('A','B','C','D','E','F')",
    "document counts that disagree with the stored spans":
        "SELECT count(*) FROM documents d WHERE n_suggested != (SELECT count(*) FROM spans s"
        " WHERE s.document_id = d.id AND s.status = 'suggested')",
}

# The claims' search index (schema 2 on) holds each claim's content as its document holds it.
_INDEX_QUERIES = {
    "claims missing from the claims' search index, or stale in it":
        "SELECT count(*) FROM claims c JOIN spans s ON s.id = c.content_span_id"
        " JOIN documents d ON d.id = c.document_id LEFT JOIN claims_fts f ON f.rowid = c.id"
        " WHERE f.content IS NOT substr(d.text, s.start + 1, s.\"end\" - s.start)",
    "entries in the claims' search index for no claim's content":
        "SELECT count(*) FROM claims_fts WHERE rowid NOT IN (SELECT c.id FROM claims c"
        " JOIN spans s ON s.id = c.content_span_id)",
}


def check_project(path: Path) -> list[str]:
    """Every problem found, one line each; an empty list means the file is sound."""
    path = Path(path)
    if not path.exists():
        return ["no such project file"]
    try:
        project = Project(path, readonly=True)
    except ProjectError as exc:
        return [str(exc)]
    problems: list[str] = []
    try:
        conn = project.conn
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        if rows != ["ok"]:
            problems += [f"SQLite integrity: {r}" for r in rows[:20]]
        if conn.execute("PRAGMA foreign_key_check").fetchone():
            problems.append("rows referring to missing rows (foreign keys)")
        meta_version = project.setting("schema_version")
        if meta_version != str(project.schema_version):
            problems.append(f"meta schema_version {meta_version} != file schema {project.schema_version}")
        queries = dict(_QUERIES)
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'claims_fts'").fetchone():
            queries.update(_INDEX_QUERIES)
        for what, sql in queries.items():
            n = conn.execute(sql).fetchone()[0]
            if n:
                problems.append(f"{n} {what}")
    except sqlite3.DatabaseError as exc:
        problems.append(f"damaged: {exc}")
    finally:
        project.close()
    return problems
