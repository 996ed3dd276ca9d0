-- Settings and the audit log: what the portal keeps that Kubernetes does not.
-- Timestamps are milliseconds since the Unix epoch (UTC) in both databases.

CREATE TABLE settings (
    key           TEXT PRIMARY KEY NOT NULL,
    value         TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL
);

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms         INTEGER NOT NULL,
    actor_subject TEXT NOT NULL,
    actor_name    TEXT NOT NULL,
    actor_groups  TEXT NOT NULL DEFAULT '[]',
    action        TEXT NOT NULL,
    target        TEXT NOT NULL,
    parameters    TEXT NOT NULL DEFAULT '{}',
    result        TEXT NOT NULL CHECK (result IN ('accepted', 'denied', 'failed')),
    reason        TEXT,
    request_id    TEXT NOT NULL,
    client_addr   TEXT
);

CREATE INDEX audit_log_at ON audit_log (at_ms DESC, id DESC);

-- The application only ever appends; the database refuses anything else.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
