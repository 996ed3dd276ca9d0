//! Settings: a small key/value table for what the portal keeps about itself.

use super::{Db, StoreError, now_ms, on_pool};

/// Key of the identifier this installation is given on its first start.
pub const INSTALLATION_ID: &str = "installation_id";

pub async fn get(db: &Db, key: &str) -> Result<Option<String>, StoreError> {
    let value = on_pool!(db, pool => {
        sqlx::query_scalar("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(pool).await
    })?;
    Ok(value)
}

pub async fn set(db: &Db, key: &str, value: &str) -> Result<(), StoreError> {
    on_pool!(db, pool => {
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at_ms = excluded.updated_at_ms",
        )
        .bind(key)
        .bind(value)
        .bind(now_ms())
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
    })?;
    Ok(())
}

/// The value under `key`, set to `fresh` first if there is none; replicas that race agree on one.
pub async fn get_or_create(db: &Db, key: &str, fresh: &str) -> Result<String, StoreError> {
    on_pool!(db, pool => {
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at_ms) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(fresh)
        .bind(now_ms())
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
    })?;
    Ok(get(db, key).await?.unwrap_or_else(|| fresh.to_string()))
}

/// The installation's identifier, created on first use.
pub async fn installation_id(db: &Db) -> Result<String, StoreError> {
    get_or_create(db, INSTALLATION_ID, &uuid::Uuid::new_v4().to_string()).await
}
