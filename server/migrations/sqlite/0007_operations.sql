-- Operations: every change the portal makes to a cluster (scaling a pool, autoscaling, upgrades),
-- followed from the moment Cluster API accepts it until it is done, failed or superseded.
-- `idempotency_key` is the form's key, per person: a second press of the same form finds the first
-- operation instead of starting another. `holder`/`lease_until_ms` say which replica follows a
-- running operation; another takes over once the lease has expired. `steps` is a JSON list.
CREATE TABLE operations (
    id TEXT PRIMARY KEY,
    actor_subject TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    cluster_namespace TEXT NOT NULL,
    cluster_name TEXT NOT NULL,
    target TEXT NOT NULL,
    parameters TEXT NOT NULL,
    status TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    steps TEXT NOT NULL DEFAULT '[]',
    message TEXT NOT NULL DEFAULT '',
    started_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    ended_at_ms INTEGER,
    holder TEXT,
    lease_until_ms INTEGER NOT NULL DEFAULT 0,
    -- The Cluster's metadata.generation the change produced: until the watch shows it, the
    -- pool is not judged (the watch may lag the write by a moment).
    generation INTEGER NOT NULL DEFAULT 0,
    UNIQUE (actor_subject, idempotency_key)
);
CREATE INDEX operations_by_status ON operations (status, lease_until_ms);
CREATE INDEX operations_by_cluster ON operations (cluster_namespace, cluster_name, started_at_ms);
CREATE INDEX operations_by_start ON operations (started_at_ms);
