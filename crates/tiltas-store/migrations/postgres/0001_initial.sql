-- Tiltas store, schema 1 (PostgreSQL). Timestamps are UTC milliseconds since the epoch; payloads
-- are JSON text (exact round trip, key order kept).
CREATE TABLE xref (
    entity      TEXT NOT NULL,
    connection  TEXT NOT NULL,
    external_id TEXT NOT NULL,
    hub_id      TEXT NOT NULL,
    last_hash   TEXT,
    updated_at  BIGINT NOT NULL,
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
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    flow         TEXT NOT NULL,
    run          BIGINT NOT NULL,
    source_key   TEXT NOT NULL,
    connection   TEXT NOT NULL,
    operation    TEXT NOT NULL,
    payload_hash TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    settled_at   BIGINT,
    outcome      TEXT,
    external_id  TEXT
);
CREATE INDEX outbox_unsettled ON outbox (flow, id) WHERE settled_at IS NULL;

CREATE TABLE read_cursor (
    flow  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE run (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    flow              TEXT NOT NULL,
    mode              TEXT NOT NULL,
    status            TEXT NOT NULL,
    records_read      BIGINT NOT NULL DEFAULT 0,
    records_unchanged BIGINT NOT NULL DEFAULT 0,
    records_created   BIGINT NOT NULL DEFAULT 0,
    records_updated   BIGINT NOT NULL DEFAULT 0,
    records_skipped   BIGINT NOT NULL DEFAULT 0,
    records_failed    BIGINT NOT NULL DEFAULT 0,
    api_calls         BIGINT NOT NULL DEFAULT 0,
    error             TEXT,
    started_at        BIGINT NOT NULL,
    finished_at       BIGINT
);
CREATE INDEX run_flow ON run (flow, id);

CREATE TABLE dead_letter (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    flow       TEXT NOT NULL,
    run        BIGINT,
    source_key TEXT NOT NULL,
    class      TEXT NOT NULL,
    message    TEXT NOT NULL,
    payload    TEXT NOT NULL,
    attempts   BIGINT NOT NULL,
    status     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX dead_letter_open ON dead_letter (flow, source_key) WHERE status = 'open';
CREATE INDEX dead_letter_flow ON dead_letter (flow, status, id);

CREATE TABLE activity (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uid        TEXT NOT NULL UNIQUE,
    run        BIGINT NOT NULL,
    flow       TEXT NOT NULL,
    source_key TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    at         BIGINT NOT NULL
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
    expires_at BIGINT NOT NULL
);

CREATE TABLE quota (
    connection TEXT NOT NULL,
    period     TEXT NOT NULL,
    used       BIGINT NOT NULL,
    PRIMARY KEY (connection, period)
);

CREATE TABLE api_key (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT NOT NULL,
    scope      TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
