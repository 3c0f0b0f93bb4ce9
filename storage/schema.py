"""The project file's schema: numbered migrations and the check that a file is ours."""
from __future__ import annotations

import sqlite3
from functools import lru_cache

APP_ID = 0x43524544  # "CRED" in PRAGMA application_id: a file we wrote says so in its header.

# Each entry migrates from version i to i + 1. Never edit a released entry: append one.
MIGRATIONS: list[str] = [
    # 1: the initial schema.
    """
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT
    );
    CREATE TABLE documents (
        id INTEGER PRIMARY KEY,
        name TEXT,
        title TEXT,
        source TEXT,
        url TEXT,
        date TEXT,
        raw_text TEXT,  -- as imported; NULL when it is exactly `text` (not stored twice)
        text TEXT NOT NULL,
        content_hash TEXT NOT NULL UNIQUE,
        offset_map TEXT NOT NULL DEFAULT '[]',
        status TEXT NOT NULL DEFAULT 'new',
        meta TEXT NOT NULL DEFAULT '{}',
        n_spans INTEGER NOT NULL DEFAULT 0,
        n_suggested INTEGER NOT NULL DEFAULT 0,
        n_claims INTEGER NOT NULL DEFAULT 0,
        annotated_with TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX idx_documents_status ON documents (status);
    CREATE INDEX idx_documents_name ON documents (name);
    CREATE TABLE sightings (
        id INTEGER PRIMARY KEY,
        document_id INTEGER NOT NULL REFERENCES documents(id),
        name TEXT,
        title TEXT,
        source TEXT,
        url TEXT,
        date TEXT,
        meta TEXT NOT NULL DEFAULT '{}',
        imported_from TEXT,
        imported_at TEXT NOT NULL
    );
    CREATE INDEX idx_sightings_document ON sightings (document_id);
    CREATE TABLE labels (
        name TEXT PRIMARY KEY,
        kind TEXT NOT NULL DEFAULT 'entity',
        colour TEXT,
        key TEXT,
        description TEXT
    );
    CREATE TABLE spans (
        id INTEGER PRIMARY KEY,
        document_id INTEGER NOT NULL REFERENCES documents(id),
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        label TEXT NOT NULL,
        origin TEXT NOT NULL,
        status TEXT NOT NULL,
        annotator TEXT,
        model TEXT,
        fragments TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX idx_spans_document ON spans (document_id, start);
    CREATE INDEX idx_spans_label_status ON spans (label, status);
    CREATE TABLE sources (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        norm_name TEXT NOT NULL UNIQUE,
        aliases TEXT NOT NULL DEFAULT '[]',
        reliability TEXT,
        note TEXT,
        created_at TEXT NOT NULL
    );
    CREATE TABLE source_aliases (
        norm_alias TEXT PRIMARY KEY,
        source_id INTEGER NOT NULL REFERENCES sources(id),
        alias TEXT NOT NULL
    );
    CREATE TABLE claims (
        id INTEGER PRIMARY KEY,
        document_id INTEGER NOT NULL REFERENCES documents(id),
        content_span_id INTEGER REFERENCES spans(id),
        cue_span_id INTEGER REFERENCES spans(id),
        source_span_id INTEGER REFERENCES spans(id),
        attribution_span_id INTEGER REFERENCES spans(id),
        source_id INTEGER REFERENCES sources(id),
        credibility INTEGER,
        stance TEXT,
        note TEXT,
        origin TEXT NOT NULL,
        status TEXT NOT NULL,
        annotator TEXT,
        model TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX idx_claims_document ON claims (document_id);
    CREATE INDEX idx_claims_source ON claims (source_id);
    CREATE TABLE claim_links (
        id INTEGER PRIMARY KEY,
        from_claim INTEGER NOT NULL REFERENCES claims(id),
        to_claim INTEGER NOT NULL REFERENCES claims(id),
        kind TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX idx_claim_links_from ON claim_links (from_claim);
    CREATE INDEX idx_claim_links_to ON claim_links (to_claim);
    CREATE TABLE doc_labels (
        document_id INTEGER NOT NULL REFERENCES documents(id),
        label TEXT NOT NULL,
        origin TEXT NOT NULL DEFAULT 'analyst',
        created_at TEXT NOT NULL,
        PRIMARY KEY (document_id, label)
    );
    CREATE INDEX idx_doc_labels_label ON doc_labels (label);
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        who TEXT NOT NULL,
        action TEXT NOT NULL,
        entity TEXT NOT NULL,
        entity_id INTEGER,
        document_id INTEGER,
        before TEXT,
        after TEXT,
        group_id INTEGER
    );
    CREATE INDEX idx_events_group ON events (group_id);
    CREATE VIRTUAL TABLE documents_fts USING fts5 (
        title, text, content='documents', content_rowid='id'
    );
    -- No insert trigger: storage/ingest.py indexes new documents in one INSERT … SELECT at
    -- the end of its transaction (half the cost of a per-row trigger).
    CREATE TRIGGER documents_ad AFTER DELETE ON documents BEGIN
        INSERT INTO documents_fts (documents_fts, rowid, title, text)
            VALUES ('delete', old.id, old.title, old.text);
    END;
    CREATE TRIGGER documents_au AFTER UPDATE OF title, text ON documents BEGIN
        INSERT INTO documents_fts (documents_fts, rowid, title, text)
            VALUES ('delete', old.id, old.title, old.text);
        INSERT INTO documents_fts (rowid, title, text) VALUES (new.id, new.title, new.text);
    END;
    """,
    # 2: the project's own models, learned from its decisions (storage/models.py). Every model
    # training stored is kept, with its provenance and the scores it showed before it was used;
    # at most one per kind is in use (what `annotate` suggests with), and suggestions record it
    # in spans.model / claims.model ("<spaCy model>+claims-v3"). `data` is the model itself
    # (a ClaimModel's or an entity model's versioned bytes: never pickle).
    """
    CREATE TABLE models (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        version INTEGER NOT NULL,
        format TEXT NOT NULL,
        base_model TEXT NOT NULL,
        documents INTEGER NOT NULL,
        decisions INTEGER NOT NULL,
        scores TEXT NOT NULL DEFAULT '{}',
        provenance TEXT NOT NULL DEFAULT '{}',
        data BLOB NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        in_use INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        created_by TEXT,
        used_at TEXT,
        UNIQUE (kind, version)
    );
    CREATE UNIQUE INDEX idx_models_in_use ON models (kind) WHERE in_use = 1;
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
# Tables SQLite itself may add to any file (AUTOINCREMENT, ANALYZE).
_SQLITE_INTERNAL = {"sqlite_sequence", "sqlite_stat1", "sqlite_stat4"}


def migrate(conn: sqlite3.Connection, from_version: int) -> None:
    """Apply migrations from_version+1 .. SCHEMA_VERSION in one transaction."""
    for version in range(from_version, SCHEMA_VERSION):
        # meta's schema_version follows the file's (`check` compares the two).
        conn.executescript("BEGIN;" + MIGRATIONS[version]
                           + f"UPDATE meta SET value = '{version + 1}' WHERE key = 'schema_version';"
                           f"PRAGMA user_version = {version + 1};"
                           f"PRAGMA application_id = {APP_ID}; COMMIT;")


@lru_cache(maxsize=None)
def expected_schema(version: int) -> frozenset[tuple[str, str, str, str]]:
    """sqlite_master rows a file of our schema at `version` must have, and no others."""
    conn = sqlite3.connect(":memory:")
    try:
        migrate_to = MIGRATIONS[:version]
        for script in migrate_to:
            conn.executescript(script)
        return _schema_rows(conn)
    finally:
        conn.close()


def _schema_rows(conn: sqlite3.Connection) -> frozenset[tuple[str, str, str, str]]:
    rows = conn.execute("SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master").fetchall()
    return frozenset((t, n, tb, " ".join(s.split())) for t, n, tb, s in rows
                     if n not in _SQLITE_INTERNAL)


def schema_problems(conn: sqlite3.Connection, version: int) -> list[str]:
    """What in this file's schema is not ours (extra triggers, views, altered tables)."""
    found = _schema_rows(conn)
    wanted = expected_schema(version)
    problems = []
    # Triggers and views first: they are what could run code from a planted file.
    order = {"trigger": 0, "view": 1, "table": 2, "index": 3}
    for t, n, _tb, _s in sorted(found - wanted, key=lambda r: (order.get(r[0], 9), r[1])):
        known = any(n == w[1] for w in wanted)
        problems.append(f"{t} {n!r} differs from Credence's schema" if known
                        else f"unexpected {t} {n!r} (not part of Credence's schema)")
    for t, n, _tb, _s in sorted(wanted - found):
        if not any(n == f[1] for f in found):
            problems.append(f"missing {t} {n!r}")
    return problems
