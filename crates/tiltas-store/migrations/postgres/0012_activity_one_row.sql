-- An activity entry and its payloads are one row. They were two, linked by a text uid with a
-- unique index of its own: four index entries and a 32-character key per record that the
-- first sync of a catalogue wrote for nothing (docs/benchmarks.md, seventh session). Listing
-- activity reads the run and key indexes and the short leading columns; long payloads are
-- kept out of line by PostgreSQL itself (TOAST).
ALTER TABLE activity
    ADD COLUMN source_payload TEXT,
    ADD COLUMN sent_payload TEXT,
    ADD COLUMN response TEXT;
UPDATE activity a
    SET source_payload = p.source_payload, sent_payload = p.sent_payload, response = p.response
    FROM activity_payload p
    WHERE p.activity_uid = a.uid;
DROP TABLE activity_payload;
ALTER TABLE activity DROP COLUMN uid;
