-- The hash of the source record (and the flow's mapping) a delivered payload was made from:
-- a re-sync that reads the same record under the same mapping knows it unchanged without
-- mapping it again. Empty for rows delivered before; the next run that reads them fills it.
ALTER TABLE delivered_hash ADD COLUMN source_hash TEXT;
