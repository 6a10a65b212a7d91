-- Webhook deliveries accepted by the server: durable before the sender gets its 200, then
-- delivered by the flows at the pace their targets allow.
CREATE TABLE inbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    connection  TEXT NOT NULL,
    topic       TEXT NOT NULL,
    body        TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    done_at     INTEGER,
    error       TEXT
);

CREATE INDEX inbox_pending ON inbox (id) WHERE done_at IS NULL;
