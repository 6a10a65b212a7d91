-- A dead letter's problem in parts beside its sentence: where in the source, which canonical
-- field, and the fix, so the inbox groups letters by field and message without parsing text.
ALTER TABLE dead_letter ADD COLUMN location TEXT;
ALTER TABLE dead_letter ADD COLUMN field TEXT;
ALTER TABLE dead_letter ADD COLUMN fix TEXT;

-- The key is its own column: letters written before this migration lose the `record KEY: `
-- prefix the engine used to put in front of the message, so old and new letters group together.
UPDATE dead_letter
SET message = substr(message, length('record ' || source_key || ': ') + 1)
WHERE substr(message, 1, length('record ' || source_key || ': ')) = 'record ' || source_key || ': ';
