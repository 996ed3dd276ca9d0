-- Sign-in sessions (tower-sessions' record layout: MessagePack data, expiry in Unix seconds).
CREATE TABLE sessions (
    id          TEXT PRIMARY KEY NOT NULL,
    data        BLOB NOT NULL,
    expiry_date INTEGER NOT NULL
);

CREATE INDEX sessions_expiry ON sessions (expiry_date);
