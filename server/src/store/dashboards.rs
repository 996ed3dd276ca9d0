//! Dashboards: saved sets of clusters and panels, one row each, addressed by their slug.

use app::dashboards::model::{DashboardSpec, Panel};

use super::{Db, StoreError, now_ms, on_pool};

/// A stored dashboard.
#[derive(Clone, Debug, PartialEq)]
pub struct Stored {
    pub slug: String,
    pub spec: DashboardSpec,
    pub updated_by: String,
    pub updated_at_ms: i64,
}

type Row = (String, String, String, String, String, String, i64);

fn from_row((slug, name, clusters, selector, panels, updated_by, updated_at_ms): Row) -> Stored {
    let clusters: Vec<String> = serde_json::from_str(&clusters).unwrap_or_default();
    let panels: Vec<String> = serde_json::from_str(&panels).unwrap_or_default();
    Stored {
        slug,
        spec: DashboardSpec {
            name,
            clusters,
            selector,
            panels: panels.iter().filter_map(|p| Panel::parse(p)).collect(),
        },
        updated_by,
        updated_at_ms,
    }
}

const COLUMNS: &str = "slug, name, clusters, selector, panels, updated_by, updated_at_ms";

pub async fn list(db: &Db) -> Result<Vec<Stored>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM dashboards ORDER BY name, slug");
    let rows: Vec<Row> = on_pool!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(from_row).collect())
}

pub async fn get(db: &Db, slug: &str) -> Result<Option<Stored>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM dashboards WHERE slug = $1");
    let row: Option<Row> =
        on_pool!(db, pool => sqlx::query_as(&sql).bind(slug).fetch_optional(pool).await)?;
    Ok(row.map(from_row))
}

fn encode(spec: &DashboardSpec) -> (String, String) {
    let panels: Vec<&str> = spec.panels.iter().map(|p| p.as_str()).collect();
    (
        serde_json::to_string(&spec.clusters).unwrap_or_else(|_| "[]".into()),
        serde_json::to_string(&panels).unwrap_or_else(|_| "[]".into()),
    )
}

/// Stores a new dashboard under `slug`; `false` when that slug is taken.
pub async fn create(
    db: &Db,
    slug: &str,
    spec: &DashboardSpec,
    by: &str,
) -> Result<bool, StoreError> {
    let (clusters, panels) = encode(spec);
    let now = now_ms();
    let done = on_pool!(db, pool => {
        sqlx::query(
            "INSERT INTO dashboards (slug, name, clusters, selector, panels, created_by, created_at_ms, updated_by, updated_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $6, $7) ON CONFLICT (slug) DO NOTHING",
        )
        .bind(slug)
        .bind(spec.name.trim())
        .bind(&clusters)
        .bind(spec.selector.trim())
        .bind(&panels)
        .bind(by)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(done == 1)
}

/// Replaces the definition of `slug`; `false` when there is no such dashboard.
pub async fn update(
    db: &Db,
    slug: &str,
    spec: &DashboardSpec,
    by: &str,
) -> Result<bool, StoreError> {
    let (clusters, panels) = encode(spec);
    let done = on_pool!(db, pool => {
        sqlx::query(
            "UPDATE dashboards SET name = $2, clusters = $3, selector = $4, panels = $5, updated_by = $6, updated_at_ms = $7 WHERE slug = $1",
        )
        .bind(slug)
        .bind(spec.name.trim())
        .bind(&clusters)
        .bind(spec.selector.trim())
        .bind(&panels)
        .bind(by)
        .bind(now_ms())
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(done == 1)
}

/// Deletes `slug`; `false` when there was none.
pub async fn delete(db: &Db, slug: &str) -> Result<bool, StoreError> {
    let done = on_pool!(db, pool => {
        sqlx::query("DELETE FROM dashboards WHERE slug = $1")
            .bind(slug)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(done == 1)
}
