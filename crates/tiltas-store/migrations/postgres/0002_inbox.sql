-- Webhook deliveries accepted by the server: durable before the sender gets its 200, then
-- delivered by the flows at the pace their targets allow.
CREATE TABLE inbox (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    connection  TEXT NOT NULL,
    topic       TEXT NOT NULL,
    body        TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    done_at     BIGINT,
    error       TEXT
);

CREATE INDEX inbox_pending ON inbox (id) WHERE done_at IS NULL;
