-- The processes sharing this store (`tiltas serve`, `tiltas worker`): each registers under its
-- worker id (HOST:PID:STARTED) and beats its heart every few seconds; `running` is a JSON list
-- of what it runs right now (flow names, "inbox"). A worker whose heartbeat is old is gone.
CREATE TABLE worker (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    started_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    running      TEXT NOT NULL DEFAULT '[]'
);

-- A webhook delivery is claimed by one worker until `claimed_until` (a killed worker's claim
-- lapses and another takes the delivery); `claims` counts how often it was claimed, `settles`
-- how often it was settled (more than once would mean two workers processed it).
ALTER TABLE inbox ADD COLUMN claimed_by TEXT;
ALTER TABLE inbox ADD COLUMN claimed_until BIGINT;
ALTER TABLE inbox ADD COLUMN claims BIGINT NOT NULL DEFAULT 0;
ALTER TABLE inbox ADD COLUMN settles BIGINT NOT NULL DEFAULT 0;
