-- An intent keeps the key its write is verified by after a crash (the flow's match key), not
-- the whole payload: recovery looks the record up by that key and needs nothing else, and a
-- payload per write in flight was a JSON text written and deleted for every record. `payload`
-- stays for intents a version before this one left unsettled; new intents write it empty.
ALTER TABLE outbox ADD COLUMN match_key TEXT;
