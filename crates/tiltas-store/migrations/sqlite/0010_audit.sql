-- The audit log: every admin action (a key created or revoked, a connection switched or tested,
-- a secret set, a dead letter edited, retried or replayed, a flow run by hand, a person
-- forgotten) with who did it (`actor`: the API key's name or `cli:USER`), what (`action`, on
-- `target`, with `detail` as JSON), when (`at`, UTC milliseconds) and from where (`origin`: the
-- client address or `cli`). Activity retention never purges it.
CREATE TABLE audit (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     INTEGER NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL,
    origin TEXT NOT NULL
);
CREATE INDEX audit_action ON audit (action, id);
CREATE INDEX audit_actor ON audit (actor, id);
CREATE INDEX audit_at ON audit (at);

-- API keys may expire; `last_used_at` is written at most once a minute per key by the server.
ALTER TABLE api_key ADD COLUMN expires_at INTEGER;
ALTER TABLE api_key ADD COLUMN last_used_at INTEGER;
