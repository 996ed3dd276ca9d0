//! Sessions in the portal's own database: one store type over SQLite or PostgreSQL.

use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use crate::store::Db;

/// The table the `0003_sessions` migrations create.
const TABLE: &str = "sessions";

#[derive(Clone, Debug)]
pub enum PortalSessionStore {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl PortalSessionStore {
    pub fn new(db: &Db) -> Self {
        match db {
            // The names are constants that both stores accept; an error would be a programming error
            // caught by every test, so falling back to the default table is never reached.
            Db::Sqlite(pool) => {
                let store = SqliteStore::new(pool.clone());
                PortalSessionStore::Sqlite(store.clone().with_table_name(TABLE).unwrap_or(store))
            }
            Db::Postgres(pool) => {
                let store = PostgresStore::new(pool.clone());
                let named = store
                    .clone()
                    .with_schema_name("public")
                    .and_then(|s| s.with_table_name(TABLE))
                    .unwrap_or(store);
                PortalSessionStore::Postgres(named)
            }
        }
    }
}

macro_rules! delegate {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            PortalSessionStore::Sqlite($store) => $call,
            PortalSessionStore::Postgres($store) => $call,
        }
    };
}

#[async_trait]
impl SessionStore for PortalSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        delegate!(self, s => s.create(record).await)
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        delegate!(self, s => s.save(record).await)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        delegate!(self, s => s.load(id).await)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        delegate!(self, s => s.delete(id).await)
    }
}

#[async_trait]
impl ExpiredDeletion for PortalSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        delegate!(self, s => s.delete_expired().await)
    }
}
