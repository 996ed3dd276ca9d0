-- Metric history of the workload clusters, downsampled: one row per series and hour holds its 60
-- one-minute points (resolution_s 60), one row per series and day its 24 one-hour points
-- (resolution_s 3600). A point is four little-endian f32: CPU used (millicores), memory used
-- (bytes), CPU and memory allocatable; NaN where there was no data. Series: "cluster",
-- "pool/<name>", "node/<name>".
CREATE TABLE metric_history (
    cluster TEXT NOT NULL,
    series TEXT NOT NULL,
    resolution_s INTEGER NOT NULL,
    start_ms INTEGER NOT NULL,
    points BLOB NOT NULL,
    PRIMARY KEY (cluster, series, resolution_s, start_ms)
);
CREATE INDEX metric_history_age ON metric_history (resolution_s, start_ms);

-- Each cluster's pods, one row per minute for the last hour: every container's mean usage in that
-- minute, as JSON. Lets another replica, or this one after a restart, draw pods.
CREATE TABLE metric_pod_minutes (
    cluster TEXT NOT NULL,
    start_ms INTEGER NOT NULL,
    pods BLOB NOT NULL,
    PRIMARY KEY (cluster, start_ms)
);

-- Who does a job only one replica may do at a time (the metrics collector), until when.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL
);
