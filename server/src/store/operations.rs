//! Operations: one row per change the portal made, its progress, and which replica follows it.
//
// A row is written `pending` before the change is sent (so a second press of the same form finds
// it through its idempotency key), becomes `running` once Cluster API accepted the change, and
// ends `succeeded`, `failed` or `superseded`. Running rows carry a lease: the replica that holds it
// follows the operation; when it stops renewing, another takes over.

use app::operations::model::OpStep;

use super::{Db, StoreError, now_ms, on_pool};

/// How long a follower's claim holds without renewal.
pub const LEASE_MS: i64 = 15_000;

/// A stored operation.
#[derive(Clone, Debug, PartialEq)]
pub struct Stored {
    pub id: String,
    pub actor_subject: String,
    pub actor_name: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub target: String,
    pub parameters: serde_json::Value,
    /// `pending`, `running`, `succeeded`, `failed`, `superseded`.
    pub status: String,
    pub done: i64,
    pub total: i64,
    pub steps: Vec<OpStep>,
    pub message: String,
    pub started_at_ms: i64,
    pub updated_at_ms: i64,
    pub ended_at_ms: Option<i64>,
    pub holder: Option<String>,
    /// The Cluster's `metadata.generation` the change produced.
    pub generation: i64,
}

/// What a new operation is.
pub struct New<'a> {
    pub actor_subject: &'a str,
    pub actor_name: &'a str,
    pub key: &'a str,
    pub kind: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
    pub target: &'a str,
    pub parameters: &'a serde_json::Value,
}

/// Where a followed operation is now.
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    pub done: i64,
    pub total: i64,
    pub steps: Vec<OpStep>,
    pub message: String,
}

/// A row as read (17 columns: more than sqlx reads into a tuple).
#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    actor_subject: String,
    actor_name: String,
    kind: String,
    cluster_namespace: String,
    cluster_name: String,
    target: String,
    parameters: String,
    status: String,
    done: i64,
    total: i64,
    steps: String,
    message: String,
    started_at_ms: i64,
    updated_at_ms: i64,
    ended_at_ms: Option<i64>,
    holder: Option<String>,
    generation: i64,
}

const COLUMNS: &str = "id, actor_subject, actor_name, kind, cluster_namespace, cluster_name, target, \
    parameters, status, done, total, steps, message, started_at_ms, updated_at_ms, ended_at_ms, holder, generation";

fn from_row(r: Row) -> Stored {
    Stored {
        id: r.id,
        actor_subject: r.actor_subject,
        actor_name: r.actor_name,
        kind: r.kind,
        namespace: r.cluster_namespace,
        name: r.cluster_name,
        target: r.target,
        parameters: serde_json::from_str(&r.parameters).unwrap_or_default(),
        status: r.status,
        done: r.done,
        total: r.total,
        steps: serde_json::from_str(&r.steps).unwrap_or_default(),
        message: r.message,
        started_at_ms: r.started_at_ms,
        updated_at_ms: r.updated_at_ms,
        ended_at_ms: r.ended_at_ms,
        holder: r.holder,
        generation: r.generation,
    }
}

/// This person's operation started by the form with `key`, if there is one.
pub async fn by_key(db: &Db, subject: &str, key: &str) -> Result<Option<Stored>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM operations WHERE actor_subject = $1 AND idempotency_key = $2"
    );
    let row: Option<Row> = on_pool!(db, pool => {
        sqlx::query_as(&sql).bind(subject).bind(key).fetch_optional(pool).await
    })?;
    Ok(row.map(from_row))
}

/// Records a new operation as `pending`: `Ok(Err(existing))` when this person's form with `key`
/// started one already (a second press), else the new operation's id.
pub async fn begin(db: &Db, new: New<'_>) -> Result<Result<String, Stored>, StoreError> {
    let id = uuid::Uuid::new_v4().to_string();
    let now = now_ms();
    let parameters = new.parameters.to_string();
    let inserted = on_pool!(db, pool => {
        sqlx::query(
            "INSERT INTO operations (id, actor_subject, actor_name, idempotency_key, kind, cluster_namespace, \
             cluster_name, target, parameters, status, started_at_ms, updated_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10, $10) \
             ON CONFLICT (actor_subject, idempotency_key) DO NOTHING",
        )
        .bind(&id)
        .bind(new.actor_subject)
        .bind(new.actor_name)
        .bind(new.key)
        .bind(new.kind)
        .bind(new.namespace)
        .bind(new.name)
        .bind(new.target)
        .bind(&parameters)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    if inserted == 1 {
        return Ok(Ok(id));
    }
    match by_key(db, new.actor_subject, new.key).await? {
        Some(existing) => Ok(Err(existing)),
        // Removed between the two statements (its change was refused): start afresh.
        None => Box::pin(begin(db, new)).await,
    }
}

/// The change was accepted (Cluster API answered with `generation`): the operation runs, with
/// `total` steps to go and `steps` as things were when it was sent.
pub async fn accepted(
    db: &Db,
    id: &str,
    total: i64,
    steps: &[OpStep],
    generation: i64,
) -> Result<(), StoreError> {
    let steps = serde_json::to_string(steps).unwrap_or_else(|_| "[]".into());
    on_pool!(db, pool => {
        sqlx::query(
            "UPDATE operations SET status = 'running', total = $2, steps = $3, updated_at_ms = $4, \
             generation = $5, message = 'Cluster API accepted the change' WHERE id = $1 AND status = 'pending'",
        )
        .bind(id)
        .bind(total)
        .bind(&steps)
        .bind(now_ms())
        .bind(generation)
        .execute(pool)
        .await
        .map(|_| ())
    })?;
    Ok(())
}

/// The change was refused: the pending operation is forgotten (the attempt is in the audit log),
/// and its key may be used again.
pub async fn forget(db: &Db, id: &str) -> Result<(), StoreError> {
    on_pool!(db, pool => {
        sqlx::query("DELETE FROM operations WHERE id = $1 AND status = 'pending'")
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
    })?;
    Ok(())
}

pub async fn get(db: &Db, id: &str) -> Result<Option<Stored>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM operations WHERE id = $1");
    let row: Option<Row> =
        on_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?;
    Ok(row.map(from_row))
}

/// Every operation not ended yet on one cluster, newest first.
pub async fn running_in(db: &Db, namespace: &str, name: &str) -> Result<Vec<Stored>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM operations WHERE cluster_namespace = $1 AND cluster_name = $2 \
         AND status IN ('pending', 'running') ORDER BY started_at_ms DESC, id"
    );
    let rows: Vec<Row> = on_pool!(db, pool => {
        sqlx::query_as(&sql).bind(namespace).bind(name).fetch_all(pool).await
    })?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// Which operations a listing wants (everything left empty: all).
#[derive(Clone, Copy, Debug, Default)]
pub struct Filter<'a> {
    /// `(namespace, name)` of one cluster.
    pub cluster: Option<(&'a str, &'a str)>,
    /// Stored statuses, any of them.
    pub statuses: &'a [&'a str],
    pub kind: Option<&'a str>,
}

/// The newest operations that `filter` wants, at most `limit`.
pub async fn newest(db: &Db, filter: Filter<'_>, limit: u32) -> Result<Vec<Stored>, StoreError> {
    let mut clauses = Vec::new();
    let mut binds: Vec<&str> = Vec::new();
    if let Some((namespace, name)) = filter.cluster {
        clauses.push("cluster_namespace = $1 AND cluster_name = $2".to_string());
        binds.extend([namespace, name]);
    }
    if !filter.statuses.is_empty() {
        let first = binds.len() + 1;
        let marks: Vec<String> = (0..filter.statuses.len())
            .map(|i| format!("${}", first + i))
            .collect();
        clauses.push(format!("status IN ({})", marks.join(", ")));
        binds.extend(filter.statuses);
    }
    if let Some(kind) = filter.kind {
        clauses.push(format!("kind = ${}", binds.len() + 1));
        binds.push(kind);
    }
    let filtered = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM operations {filtered} ORDER BY started_at_ms DESC, id LIMIT ${}",
        binds.len() + 1
    );
    let rows: Vec<Row> = on_pool!(db, pool => {
        let mut query = sqlx::query_as(&sql);
        for b in &binds {
            query = query.bind(*b);
        }
        query.bind(i64::from(limit)).fetch_all(pool).await
    })?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// Claims (or renews) every running operation that is free, expired or already `holder`'s, and
/// returns those `holder` follows now. Pending ones older than a minute were never sent (their
/// replica died while sending): they end as failed here.
pub async fn claim(db: &Db, holder: &str, lease_ms: i64) -> Result<Vec<Stored>, StoreError> {
    let now = now_ms();
    on_pool!(db, pool => {
        sqlx::query(
            "UPDATE operations SET status = 'failed', message = 'the change was not confirmed as sent: the portal stopped while sending it; check the pool and apply again', \
             ended_at_ms = $1, updated_at_ms = $1 WHERE status = 'pending' AND started_at_ms < $2",
        )
        .bind(now)
        .bind(now - 60_000)
        .execute(pool)
        .await
        .map(|_| ())
    })?;
    on_pool!(db, pool => {
        sqlx::query(
            "UPDATE operations SET holder = $1, lease_until_ms = $2 \
             WHERE status = 'running' AND (holder = $1 OR holder IS NULL OR lease_until_ms < $3)",
        )
        .bind(holder)
        .bind(now + lease_ms)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ())
    })?;
    let sql = format!(
        "SELECT {COLUMNS} FROM operations WHERE status = 'running' AND holder = $1 ORDER BY started_at_ms"
    );
    let rows: Vec<Row> =
        on_pool!(db, pool => sqlx::query_as(&sql).bind(holder).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// Writes where an operation `holder` follows is now; false when it no longer holds it.
pub async fn advance(db: &Db, id: &str, holder: &str, p: &Progress) -> Result<bool, StoreError> {
    let steps = serde_json::to_string(&p.steps).unwrap_or_else(|_| "[]".into());
    let done = on_pool!(db, pool => {
        sqlx::query(
            "UPDATE operations SET done = $3, total = $4, steps = $5, message = $6, updated_at_ms = $7 \
             WHERE id = $1 AND holder = $2 AND status = 'running'",
        )
        .bind(id)
        .bind(holder)
        .bind(p.done)
        .bind(p.total)
        .bind(&steps)
        .bind(&p.message)
        .bind(now_ms())
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(done == 1)
}

/// Ends an operation `holder` follows with `status`; true only for the call that ended it (so
/// its end is recorded once, whichever replica sees it).
pub async fn end(
    db: &Db,
    id: &str,
    holder: &str,
    status: &str,
    p: &Progress,
) -> Result<bool, StoreError> {
    let steps = serde_json::to_string(&p.steps).unwrap_or_else(|_| "[]".into());
    let now = now_ms();
    let done = on_pool!(db, pool => {
        sqlx::query(
            "UPDATE operations SET status = $3, done = $4, total = $5, steps = $6, message = $7, \
             updated_at_ms = $8, ended_at_ms = $8, holder = NULL, lease_until_ms = 0 \
             WHERE id = $1 AND holder = $2 AND status = 'running'",
        )
        .bind(id)
        .bind(holder)
        .bind(status)
        .bind(p.done)
        .bind(p.total)
        .bind(&steps)
        .bind(&p.message)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(done == 1)
}

/// Gives up every lease `holder` has (at shutdown), so another replica takes over at once.
pub async fn release(db: &Db, holder: &str) -> Result<(), StoreError> {
    on_pool!(db, pool => {
        sqlx::query("UPDATE operations SET holder = NULL, lease_until_ms = 0 WHERE holder = $1 AND status = 'running'")
            .bind(holder)
            .execute(pool)
            .await
            .map(|_| ())
    })?;
    Ok(())
}
