"""The project file's schema: numbered migrations and the check that a file is ours."""
from __future__ import annotations

import sqlite3
from functools import cache

APP_ID = 0x43524544  # "CRED" in PRAGMA application_id: a file we wrote says so in its header.


def day_of(column: str) -> str:
    """SQL for an article date as an ISO day ("2017-04-05"): ISO dates and timestamps, and
    slashed dates month first (US, as FA-KES writes them) unless the first number cannot be a
    month; NULL for any other form. Migration 2 indexes exactly `day_of("date")`: queries that
    filter or sort by day must use this same expression (and it must never change)."""
    rest = f"substr({column}, instr({column}, '/') + 1)"
    a, b = f"CAST({column} AS INTEGER)", f"CAST({rest} AS INTEGER)"
    y = f"CAST(substr({rest}, instr({rest}, '/') + 1) AS INTEGER)"
    return (f"(CASE WHEN {column} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*'"
            f" THEN substr({column}, 1, 10)"
            f" WHEN {column} GLOB '[0-9]*/[0-9]*/[0-9][0-9]*' THEN printf('%04d-%02d-%02d',"
            f" {y} + (CASE WHEN {y} < 100 THEN 2000 ELSE 0 END),"
            f" CASE WHEN {a} > 12 THEN {b} ELSE {a} END, CASE WHEN {a} > 12 THEN {a} ELSE {b} END)"
            " END)")


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
    # 2: the source registry holds what an analyst confirmed (issue 13). Before, pre-annotation
    # put every source name the model proposed into `sources`; now those names stay with their
    # suggested claims as candidates (the text of the claim's source span) until an analyst
    # confirms one. An entry leaves the registry when no analyst touched it: no reliability, no
    # note, no alias (added by hand or by a merge), no accepted claim, no decision in the events
    # log that wrote it or linked a claim to it, and no claim that would lose its name with it
    # (a linked claim without a source span). Its claims are unlinked; their source spans keep
    # the names. `source_not_same`: pairs of names the analyst said are different sources
    # (suggested merges not to show again), by normalised name.
    """
    CREATE TEMP TABLE _kept_sources AS
        SELECT id FROM sources
            WHERE reliability IS NOT NULL OR trim(coalesce(note, '')) != '' OR aliases != '[]'
        UNION SELECT source_id FROM source_aliases
        UNION SELECT source_id FROM claims WHERE status = 'accepted' AND source_id IS NOT NULL
        UNION SELECT entity_id FROM events
            WHERE entity = 'sources' AND group_id IS NOT NULL AND entity_id IS NOT NULL
        UNION SELECT CASE WHEN json_valid(after) THEN json_extract(after, '$.source_id') END
            FROM events WHERE entity = 'claims' AND group_id IS NOT NULL AND after IS NOT NULL
        UNION SELECT c.source_id FROM claims c WHERE c.source_id IS NOT NULL
            AND (c.source_span_id IS NULL OR c.source_span_id NOT IN (SELECT id FROM spans));
    DELETE FROM _kept_sources WHERE id IS NULL;
    UPDATE claims SET source_id = NULL
        WHERE source_id IN (SELECT id FROM sources WHERE id NOT IN (SELECT id FROM _kept_sources));
    DELETE FROM sources WHERE id NOT IN (SELECT id FROM _kept_sources);
    DROP TABLE _kept_sources;
    CREATE TABLE source_not_same (
        norm_a TEXT NOT NULL,
        norm_b TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (norm_a, norm_b)
    );
    """,
    # 3: corroboration. A full-text index over each claim's content (rowid = claim id, the text
    # as the document holds it), kept by triggers so every writer (import, pre-annotation,
    # decisions, undo) keeps it current; its term counts (fts5vocab) for choosing the rare words
    # of a query; who made a claim link; indexes for the span trigger and the claims view (an
    # article's day as an ISO date, whatever form its date was imported in).
    """
    ALTER TABLE claim_links ADD COLUMN annotator TEXT;
    CREATE INDEX idx_claims_content ON claims (content_span_id);
    CREATE INDEX idx_claims_credibility ON claims (credibility);
    CREATE INDEX idx_documents_day ON documents """ + day_of("date") + """;
    CREATE VIRTUAL TABLE claims_fts USING fts5 (
        content, tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE VIRTUAL TABLE claims_fts_terms USING fts5vocab (claims_fts, row);
    INSERT INTO claims_fts (rowid, content)
        SELECT c.id, substr(d.text, s.start + 1, s."end" - s.start)
        FROM claims c JOIN spans s ON s.id = c.content_span_id
        JOIN documents d ON d.id = c.document_id;
    -- OR REPLACE: an undo puts a claim row back with INSERT OR REPLACE.
    CREATE TRIGGER claims_fts_ai AFTER INSERT ON claims WHEN new.content_span_id IS NOT NULL BEGIN
        INSERT OR REPLACE INTO claims_fts (rowid, content)
            SELECT new.id, substr(d.text, s.start + 1, s."end" - s.start)
            FROM spans s JOIN documents d ON d.id = s.document_id
            WHERE s.id = new.content_span_id;
    END;
    CREATE TRIGGER claims_fts_ad AFTER DELETE ON claims BEGIN
        DELETE FROM claims_fts WHERE rowid = old.id;
    END;
    CREATE TRIGGER claims_fts_au AFTER UPDATE OF content_span_id ON claims BEGIN
        DELETE FROM claims_fts WHERE rowid = old.id;
        INSERT OR REPLACE INTO claims_fts (rowid, content)
            SELECT new.id, substr(d.text, s.start + 1, s."end" - s.start)
            FROM spans s JOIN documents d ON d.id = s.document_id
            WHERE s.id = new.content_span_id;
    END;
    -- A content span moved (its boundary keys, or an undo): its claims' text follows.
    CREATE TRIGGER claims_fts_span_au AFTER UPDATE OF start, "end" ON spans BEGIN
        INSERT OR REPLACE INTO claims_fts (rowid, content)
            SELECT c.id, substr(d.text, new.start + 1, new."end" - new.start)
            FROM claims c JOIN documents d ON d.id = new.document_id
            WHERE c.content_span_id = new.id;
    END;
    CREATE TRIGGER claims_fts_doc_au AFTER UPDATE OF text ON documents BEGIN
        INSERT OR REPLACE INTO claims_fts (rowid, content)
            SELECT c.id, substr(new.text, s.start + 1, s."end" - s.start)
            FROM claims c JOIN spans s ON s.id = c.content_span_id
            WHERE c.document_id = new.id;
    END;
    """,
    # 4: the project's own models, learned from its decisions (storage/models.py). Every model
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


@cache
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
