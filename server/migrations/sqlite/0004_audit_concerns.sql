-- Whom a change was about (`group payments-viewers`), so the Activity search finds changes by their
-- subject as well as by who made them. Entries written before this column existed get it from their
-- parameters: the one time the append-only rule is lifted, inside this migration.
ALTER TABLE audit_log ADD COLUMN concerns TEXT;

DROP TRIGGER audit_log_no_update;

UPDATE audit_log
SET concerns = COALESCE(
        json_extract(parameters, '$.after.kind') || ' ' || json_extract(parameters, '$.after.subject'),
        json_extract(parameters, '$.before.kind') || ' ' || json_extract(parameters, '$.before.subject'),
        json_extract(parameters, '$.kind') || ' ' || json_extract(parameters, '$.subject'))
WHERE json_valid(parameters) AND action IN ('grant-role', 'revoke-role');

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
