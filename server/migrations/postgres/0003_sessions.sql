-- Sign-in sessions (tower-sessions' record layout: MessagePack data and the expiry time).
CREATE TABLE sessions (
    id          TEXT PRIMARY KEY NOT NULL,
    data        BYTEA NOT NULL,
    expiry_date TIMESTAMPTZ NOT NULL
);

CREATE INDEX sessions_expiry ON sessions (expiry_date);
