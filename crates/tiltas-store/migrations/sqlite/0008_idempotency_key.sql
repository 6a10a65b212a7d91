-- Requests that must take effect exactly once (a supplier order placed through the API or the
-- CLI), by the key the caller sent: claimed by one worker while it runs (`holder`, until
-- `expires_at`, so a crashed worker's claim lapses), then holding the answer (`response`, JSON)
-- that every repeat of the request gets without running it again. `request_hash` is the
-- request's body, so the same key with another body is told apart from a repeat.
CREATE TABLE idempotency_key (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    holder       TEXT,
    expires_at   BIGINT NOT NULL,
    response     TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);
