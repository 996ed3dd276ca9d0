//! The database: SQLite or PostgreSQL chosen by the URL, migrations for both, and the tables' modules.

pub mod audit;
pub mod audit_export;
pub mod audit_filter;
pub mod audit_view;
pub mod audit_words;
pub mod dashboards;
pub mod operations;
pub mod settings;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::config::redact_url;

/// Where to change the database setting; every message about it names both.
const DB_SETTING: &str = "--database-url / PORTOLAN_DATABASE_URL";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "unsupported database URL scheme '{scheme}': use sqlite://<file> or postgres://user@host:port/db ({DB_SETTING})"
    )]
    UnsupportedScheme { scheme: String },
    #[error("malformed database URL {url}: {reason} ({DB_SETTING})")]
    Malformed { url: String, reason: String },
    #[error("cannot create the data directory {}: {source} (choose a writable location with {DB_SETTING})", path.display())]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the database {target}: {source} (check {DB_SETTING})")]
    Connect {
        target: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
}

/// A pool on one of the two supported databases. Queries are written once in SQL both understand
/// (`$1` placeholders, `ON CONFLICT`) and run through [`on_pool!`].
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same query code against whichever pool `db` holds.
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite($pool) => $body,
            $crate::store::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Db {
    /// Opens the database named by `url`, creating a SQLite file (and its directory) when missing.
    pub async fn connect(url: &str) -> Result<Db, StoreError> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or_default();
        match scheme {
            "sqlite" => connect_sqlite(url).await,
            "postgres" | "postgresql" => connect_postgres(url).await,
            other => Err(StoreError::UnsupportedScheme {
                scheme: if other.is_empty() {
                    url.chars().take(20).collect()
                } else {
                    other.into()
                },
            }),
        }
    }

    /// Brings the schema up to date; safe to run on every start and from several replicas. When
    /// every migration is applied already nothing is run, so `serve` works as a role that may not
    /// create or alter tables (see README, Production); `portolan migrate` runs as the owner.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        if self.up_to_date().await {
            return Ok(());
        }
        match self {
            Db::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
            Db::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// Whether every migration is recorded as applied with the checksum of its file today.
    async fn up_to_date(&self) -> bool {
        let migrator = match self {
            Db::Sqlite(_) => &SQLITE_MIGRATIONS,
            Db::Postgres(_) => &POSTGRES_MIGRATIONS,
        };
        let applied: Result<Vec<(i64, Vec<u8>)>, sqlx::Error> = on_pool!(self, pool => {
            sqlx::query_as("SELECT version, checksum FROM _sqlx_migrations WHERE success")
                .fetch_all(pool)
                .await
        });
        let Ok(applied) = applied else {
            return false;
        };
        migrator
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .all(|m| {
                applied
                    .iter()
                    .any(|(version, checksum)| *version == m.version && *checksum == *m.checksum)
            })
    }

    /// A round trip to the database, for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }
}

async fn connect_sqlite(url: &str) -> Result<Db, StoreError> {
    let options = SqliteConnectOptions::from_str(url).map_err(|e| StoreError::Malformed {
        url: redact_url(url),
        reason: e.to_string(),
    })?;
    ensure_parent_dir(options.get_filename())?;
    let options = options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);
    let target = options.get_filename().display().to_string();
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .map_err(|source| StoreError::Connect { target, source })?;
    Ok(Db::Sqlite(pool))
}

fn ensure_parent_dir(file: &Path) -> Result<(), StoreError> {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && file != Path::new(":memory:") => {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
                path: dir.to_path_buf(),
                source,
            })
        }
        _ => Ok(()),
    }
}

async fn connect_postgres(url: &str) -> Result<Db, StoreError> {
    let options = PgConnectOptions::from_str(url).map_err(|e| StoreError::Malformed {
        url: redact_url(url),
        reason: e.to_string(),
    })?;
    let target = format!(
        "postgres://{}:{}/{}",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or_default()
    );
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .map_err(|source| StoreError::Connect { target, source })?;
    Ok(Db::Postgres(pool))
}

/// Milliseconds since the Unix epoch: how every timestamp is stored, the same in both databases.
pub fn now_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Runs one raw statement; for tests and maintenance, never with user input.
pub async fn execute_raw(db: &Db, sql: &str) -> Result<u64, StoreError> {
    let done =
        on_pool!(db, pool => sqlx::query(sql).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(done)
}
