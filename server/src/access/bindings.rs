//! Role bindings in the database: list, add (validated), remove, and the bootstrap admin binding.

use app::access::model::{Binding, ClusterRef, Role, SubjectKind};
use sqlx::Row;

use crate::store::{Db, StoreError, now_ms, on_pool};

/// Why a binding was refused; nothing is stored then.
#[derive(Debug, thiserror::Error)]
pub enum BindingError {
    #[error("\"{0}\" is not a role; use viewer, operator or admin")]
    UnknownRole(String),
    #[error("\"{0}\" is not a subject kind; use group or user")]
    UnknownKind(String),
    #[error("the {kind} name {reason}")]
    BadSubject { kind: &'static str, reason: String },
    #[error("\"{0}\" is not a cluster; use <namespace>/<name>")]
    BadCluster(String),
    #[error("this binding already exists")]
    Duplicate,
    #[error("there is no role binding {0}")]
    NotFound(i64),
    #[error(
        "this is the last portal-wide admin binding: add another one first, or nobody could manage access"
    )]
    LastAdmin(Box<Binding>),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// A binding to add, as an admin typed it.
#[derive(Clone, Debug)]
pub struct NewBinding {
    pub kind: SubjectKind,
    pub subject: String,
    pub role: Role,
    pub cluster: Option<ClusterRef>,
    pub created_by: String,
}

impl NewBinding {
    /// Parses and checks form input; `cluster` empty means global.
    pub fn parse(
        kind: &str,
        subject: &str,
        role: &str,
        cluster: &str,
        created_by: &str,
    ) -> Result<Self, BindingError> {
        let kind = SubjectKind::parse(kind.trim())
            .ok_or_else(|| BindingError::UnknownKind(kind.into()))?;
        let role =
            Role::parse(role.trim()).ok_or_else(|| BindingError::UnknownRole(role.into()))?;
        let subject = subject.trim();
        let bad = |reason: &str| BindingError::BadSubject {
            kind: kind.as_str(),
            reason: reason.into(),
        };
        if subject.is_empty() {
            return Err(bad("is empty"));
        }
        if subject.chars().count() > 256 {
            return Err(bad("is longer than 256 characters"));
        }
        if subject
            .chars()
            .any(|c| c.is_control() || "<>\"'&`".contains(c))
        {
            return Err(bad(
                "contains markup or control characters (< > \" ' & ` are not allowed)",
            ));
        }
        let cluster = match cluster.trim() {
            "" => None,
            c => Some(ClusterRef::parse(c).ok_or_else(|| BindingError::BadCluster(c.into()))?),
        };
        Ok(NewBinding {
            kind,
            subject: subject.into(),
            role,
            cluster,
            created_by: created_by.into(),
        })
    }
}

fn cluster_column(c: &Option<ClusterRef>) -> String {
    c.as_ref().map(ToString::to_string).unwrap_or_default()
}

const COLUMNS: &str = "id, subject_kind, subject, role, cluster, created_at_ms, created_by";

/// A row as stored: (id, kind, subject, role, cluster, created_at_ms, created_by).
type RawRow = (i64, String, String, String, String, i64, String);

fn binding(
    (id, kind, subject, role, cluster, created_at_ms, created_by): RawRow,
) -> Option<Binding> {
    Some(Binding {
        id,
        // The table's CHECK constraints admit only known kinds and roles.
        kind: SubjectKind::parse(&kind)?,
        subject,
        role: Role::parse(&role)?,
        cluster: if cluster.is_empty() {
            None
        } else {
            ClusterRef::parse(&cluster)
        },
        created_at_ms,
        created_by,
    })
}

/// Every binding, oldest first.
pub async fn list(db: &Db) -> Result<Vec<Binding>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM role_bindings ORDER BY id");
    let rows = on_pool!(db, pool => {
        let rows = sqlx::query(&sql).fetch_all(pool).await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("id")?,
                    row.try_get("subject_kind")?,
                    row.try_get("subject")?,
                    row.try_get("role")?,
                    row.try_get("cluster")?,
                    row.try_get("created_at_ms")?,
                    row.try_get("created_by")?,
                ))
            })
            .collect::<Result<Vec<RawRow>, sqlx::Error>>()?
    });
    Ok(rows.into_iter().filter_map(binding).collect())
}

/// Stores a binding; an identical one is refused as a duplicate.
pub async fn add(db: &Db, b: &NewBinding) -> Result<i64, BindingError> {
    let inserted: Option<i64> = on_pool!(db, pool => {
        sqlx::query_scalar(
            "INSERT INTO role_bindings (subject_kind, subject, role, cluster, created_at_ms, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(b.kind.as_str())
        .bind(&b.subject)
        .bind(b.role.as_str())
        .bind(cluster_column(&b.cluster))
        .bind(now_ms())
        .bind(&b.created_by)
        .fetch_optional(pool)
        .await
        .map_err(StoreError::Query)?
    });
    inserted.ok_or(BindingError::Duplicate)
}

pub async fn remove(db: &Db, id: i64) -> Result<(), BindingError> {
    let affected = on_pool!(db, pool => {
        sqlx::query("DELETE FROM role_bindings WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map_err(StoreError::Query)?
            .rows_affected()
    });
    if affected == 0 {
        Err(BindingError::NotFound(id))
    } else {
        Ok(())
    }
}

/// Removes binding `id` unless it is the last portal-wide admin binding, and returns what it was.
/// The check and the removal are one transaction that excludes other removals (SQLite: the write
/// lock taken first; PostgreSQL: a table lock), so two concurrent removals cannot both pass.
pub async fn remove_unless_last_admin(db: &Db, id: i64) -> Result<Binding, BindingError> {
    let select = format!("SELECT {COLUMNS} FROM role_bindings WHERE id = $1");
    let count_admins = "SELECT COUNT(*) FROM role_bindings WHERE role = 'admin' AND cluster = ''";
    macro_rules! checked_delete {
        ($tx:ident) => {{
            let row: Option<RawRow> = sqlx::query_as(&select)
                .bind(id)
                .fetch_optional(&mut *$tx)
                .await
                .map_err(StoreError::Query)?;
            let before = row.and_then(binding).ok_or(BindingError::NotFound(id))?;
            if before.role == Role::Admin && before.cluster.is_none() {
                let admins: i64 = sqlx::query_scalar(count_admins)
                    .fetch_one(&mut *$tx)
                    .await
                    .map_err(StoreError::Query)?;
                if admins <= 1 {
                    return Err(BindingError::LastAdmin(Box::new(before)));
                }
            }
            sqlx::query("DELETE FROM role_bindings WHERE id = $1")
                .bind(id)
                .execute(&mut *$tx)
                .await
                .map_err(StoreError::Query)?;
            $tx.commit().await.map_err(StoreError::Query)?;
            Ok(before)
        }};
    }
    match db {
        Db::Sqlite(pool) => {
            let mut tx = pool
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map_err(StoreError::Query)?;
            checked_delete!(tx)
        }
        Db::Postgres(pool) => {
            let mut tx = pool.begin().await.map_err(StoreError::Query)?;
            sqlx::query("LOCK TABLE role_bindings IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await
                .map_err(StoreError::Query)?;
            checked_delete!(tx)
        }
    }
}

/// Makes `group` a global admin (from `--bootstrap-admin-group`) so a new install is not locked out.
pub async fn bootstrap_admin(db: &Db, group: &str) -> Result<(), BindingError> {
    let b = NewBinding::parse(
        "group",
        group,
        "admin",
        "",
        "bootstrap (--bootstrap-admin-group)",
    )?;
    match add(db, &b).await {
        Ok(_) | Err(BindingError::Duplicate) => Ok(()),
        Err(e) => Err(e),
    }
}
