//! The audit log: append-only records of who did what, when, and how it ended.

use serde::Serialize;
use sqlx::Row;

use super::{Db, StoreError, on_pool};

/// How an attempted action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Accepted,
    Denied,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Denied => "denied",
            Outcome::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Option<Outcome> {
        [Outcome::Accepted, Outcome::Denied, Outcome::Failed]
            .into_iter()
            .find(|o| o.as_str() == value)
    }
}

/// One entry to append. `parameters` is a JSON document (parameters, and before/after for changes).
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub at_ms: i64,
    pub actor_subject: String,
    pub actor_name: String,
    pub actor_groups: Vec<String>,
    pub action: String,
    pub target: String,
    pub parameters: serde_json::Value,
    pub outcome: Outcome,
    pub reason: Option<String>,
    pub request_id: String,
    pub client_addr: Option<String>,
}

/// One stored entry, as read back: its id and what was appended.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: i64,
    pub entry: NewEntry,
}

const COLUMNS: &str = "id, at_ms, actor_subject, actor_name, actor_groups, action, target, parameters, \
                       result, reason, request_id, client_addr";

pub async fn append(db: &Db, entry: &NewEntry) -> Result<i64, StoreError> {
    let groups = serde_json::to_string(&entry.actor_groups).unwrap_or_else(|_| "[]".into());
    let parameters = entry.parameters.to_string();
    let id = on_pool!(db, pool => {
        sqlx::query_scalar(
            "INSERT INTO audit_log (at_ms, actor_subject, actor_name, actor_groups, action, target, \
             parameters, result, reason, request_id, client_addr) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(entry.at_ms)
        .bind(&entry.actor_subject)
        .bind(&entry.actor_name)
        .bind(&groups)
        .bind(&entry.action)
        .bind(&entry.target)
        .bind(&parameters)
        .bind(entry.outcome.as_str())
        .bind(&entry.reason)
        .bind(&entry.request_id)
        .bind(&entry.client_addr)
        .fetch_one(pool)
        .await
    })?;
    Ok(id)
}

/// The newest `limit` entries, newest first.
pub async fn recent(db: &Db, limit: u32) -> Result<Vec<Entry>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM audit_log ORDER BY at_ms DESC, id DESC LIMIT $1");
    let entries = on_pool!(db, pool => {
        let rows = sqlx::query(&sql).bind(i64::from(limit)).fetch_all(pool).await?;
        rows.iter()
            .map(|row| {
                let groups: String = row.try_get("actor_groups")?;
                let parameters: String = row.try_get("parameters")?;
                let result: String = row.try_get("result")?;
                Ok(Entry {
                    id: row.try_get("id")?,
                    entry: NewEntry {
                        at_ms: row.try_get("at_ms")?,
                        actor_subject: row.try_get("actor_subject")?,
                        actor_name: row.try_get("actor_name")?,
                        actor_groups: serde_json::from_str(&groups).unwrap_or_default(),
                        action: row.try_get("action")?,
                        target: row.try_get("target")?,
                        parameters: serde_json::from_str(&parameters).unwrap_or_default(),
                        // The table's CHECK constraint admits only the three outcomes.
                        outcome: Outcome::parse(&result).unwrap_or(Outcome::Failed),
                        reason: row.try_get("reason")?,
                        request_id: row.try_get("request_id")?,
                        client_addr: row.try_get("client_addr")?,
                    },
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?
    });
    Ok(entries)
}
