-- Role bindings: an IdP group or a single user gets a role, everywhere or on one cluster.
CREATE TABLE role_bindings (
    id                BIGSERIAL PRIMARY KEY,
    subject_kind      TEXT NOT NULL CHECK (subject_kind IN ('group', 'user')),
    subject           TEXT NOT NULL,
    role              TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    -- '' for global bindings, '<namespace>/<name>' for one cluster.
    cluster           TEXT NOT NULL DEFAULT '',
    created_at_ms     BIGINT NOT NULL,
    created_by        TEXT NOT NULL,
    UNIQUE (subject_kind, subject, role, cluster)
);

CREATE INDEX role_bindings_subject ON role_bindings (subject_kind, subject);
