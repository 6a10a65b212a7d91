-- An activity entry and its payloads are one row. They were two, linked by a text uid with a
-- unique index of its own: four B-tree entries and a 32-character key per record that the
-- first sync of a catalogue wrote for nothing (docs/benchmarks.md, seventh session). Listing
-- activity reads the run and key indexes and the short leading columns, never the payloads.
CREATE TABLE activity_entry (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    run            INTEGER NOT NULL,
    flow           TEXT NOT NULL,
    source_key     TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    at             INTEGER NOT NULL,
    source_payload TEXT,
    sent_payload   TEXT,
    response       TEXT
);
INSERT INTO activity_entry (id, run, flow, source_key, outcome, at, source_payload, sent_payload, response)
    SELECT a.id, a.run, a.flow, a.source_key, a.outcome, a.at, p.source_payload, p.sent_payload, p.response
    FROM activity a LEFT JOIN activity_payload p ON p.activity_uid = a.uid
    ORDER BY a.id;
DROP TABLE activity_payload;
DROP TABLE activity;
ALTER TABLE activity_entry RENAME TO activity;
CREATE INDEX activity_run ON activity (run, id);
CREATE INDEX activity_key ON activity (flow, source_key, id);
CREATE INDEX activity_at ON activity (at);
