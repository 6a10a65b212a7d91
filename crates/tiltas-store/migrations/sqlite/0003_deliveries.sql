-- What became of each webhook delivery: the record it carried and, per flow it went through,
-- the run that took it and the outcome (kept here so it outlives the activity log's retention).
ALTER TABLE inbox ADD COLUMN entity TEXT;
ALTER TABLE inbox ADD COLUMN record_key TEXT;

CREATE TABLE inbox_flow (
    inbox_id  INTEGER NOT NULL REFERENCES inbox (id) ON DELETE CASCADE,
    flow      TEXT NOT NULL,
    run       INTEGER,
    outcome   TEXT NOT NULL,
    activity  INTEGER,
    target_id TEXT,
    detail    TEXT,
    PRIMARY KEY (inbox_id, flow)
);
CREATE INDEX inbox_flow_outcome ON inbox_flow (outcome, inbox_id);
CREATE INDEX inbox_connection ON inbox (connection, id);
