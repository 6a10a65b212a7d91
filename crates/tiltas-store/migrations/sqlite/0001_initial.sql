-- Tiltas store, schema 1 (SQLite). Timestamps are UTC milliseconds since the epoch; payloads
-- are JSON text (exact round trip, key order kept).
CREATE TABLE xref (
    entity      TEXT NOT NULL,
    connection  TEXT NOT NULL,
    external_id TEXT NOT NULL,
    hub_id      TEXT NOT NULL,
    last_hash   TEXT,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (entity, connection, external_id)
);
CREATE INDEX xref_hub ON xref (hub_id);

CREATE TABLE delivered_hash (
    flow       TEXT NOT NULL,
    source_key TEXT NOT NULL,
    hash       TEXT NOT NULL,
    PRIMARY KEY (flow, source_key)
);

CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    flow         TEXT NOT NULL,
    run          INTEGER NOT NULL,
    source_key   TEXT NOT NULL,
    connection   TEXT NOT NULL,
    operation    TEXT NOT NULL,
    payload_hash TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    settled_at   INTEGER,
    outcome      TEXT,
    external_id  TEXT
);
CREATE INDEX outbox_unsettled ON outbox (flow, id) WHERE settled_at IS NULL;

CREATE TABLE read_cursor (
    flow  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE run (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    flow              TEXT NOT NULL,
    mode              TEXT NOT NULL,
    status            TEXT NOT NULL,
    records_read      INTEGER NOT NULL DEFAULT 0,
    records_unchanged INTEGER NOT NULL DEFAULT 0,
    records_created   INTEGER NOT NULL DEFAULT 0,
    records_updated   INTEGER NOT NULL DEFAULT 0,
    records_skipped   INTEGER NOT NULL DEFAULT 0,
    records_failed    INTEGER NOT NULL DEFAULT 0,
    api_calls         INTEGER NOT NULL DEFAULT 0,
    error             TEXT,
    started_at        INTEGER NOT NULL,
    finished_at       INTEGER
);
CREATE INDEX run_flow ON run (flow, id);

CREATE TABLE dead_letter (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    flow       TEXT NOT NULL,
    run        INTEGER,
    source_key TEXT NOT NULL,
    class      TEXT NOT NULL,
    message    TEXT NOT NULL,
    payload    TEXT NOT NULL,
    attempts   INTEGER NOT NULL,
    status     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX dead_letter_open ON dead_letter (flow, source_key) WHERE status = 'open';
CREATE INDEX dead_letter_flow ON dead_letter (flow, status, id);

CREATE TABLE activity (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    uid        TEXT NOT NULL UNIQUE,
    run        INTEGER NOT NULL,
    flow       TEXT NOT NULL,
    source_key TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    at         INTEGER NOT NULL
);
CREATE INDEX activity_run ON activity (run, id);
CREATE INDEX activity_key ON activity (flow, source_key, id);
CREATE INDEX activity_at ON activity (at);

-- Payloads live outside the hot table so listing activity never reads them.
CREATE TABLE activity_payload (
    activity_uid   TEXT PRIMARY KEY REFERENCES activity (uid) ON DELETE CASCADE,
    source_payload TEXT,
    sent_payload   TEXT,
    response       TEXT
);

CREATE TABLE lease (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE quota (
    connection TEXT NOT NULL,
    period     TEXT NOT NULL,
    used       INTEGER NOT NULL,
    PRIMARY KEY (connection, period)
);

CREATE TABLE api_key (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    scope      TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
