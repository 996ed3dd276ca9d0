-- Whom a change was about (`group payments-viewers`), so the Activity search finds changes by their
-- subject as well as by who made them. Entries written before this column existed get it from their
-- parameters: the one time the append-only rule is lifted, inside this migration's transaction.
-- TRUNCATE, which row triggers do not see, is refused from now on as well.
ALTER TABLE audit_log ADD COLUMN concerns TEXT;

ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update;

UPDATE audit_log
SET concerns = COALESCE(
        (parameters::jsonb -> 'after' ->> 'kind') || ' ' || (parameters::jsonb -> 'after' ->> 'subject'),
        (parameters::jsonb -> 'before' ->> 'kind') || ' ' || (parameters::jsonb -> 'before' ->> 'subject'),
        (parameters::jsonb ->> 'kind') || ' ' || (parameters::jsonb ->> 'subject'))
WHERE action IN ('grant-role', 'revoke-role');

ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update;

CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
