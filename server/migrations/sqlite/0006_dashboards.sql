-- Team health dashboards: a saved set of clusters (names and a tag selector) and the panels shown.
-- `slug` is the shareable address (/dashboards/<slug>); `clusters` is a JSON list of
-- "namespace/name"; `panels` a JSON list of panel names.
CREATE TABLE dashboards (
    slug TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    clusters TEXT NOT NULL,
    selector TEXT NOT NULL,
    panels TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL
);
