//! Sessions in the portal's own database (SQLite or PostgreSQL), with a short-lived in-process
//! cache in front so that a request does not wait for the database to learn who is asking.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tower_sessions::cookie::time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use crate::store::Db;

/// The table the `0003_sessions` migrations create.
const TABLE: &str = "sessions";
/// How long a session read from the database is trusted without reading it again. Changes made
/// through this process (sign-in, sign-out, expiry refresh) update the cache at once; another
/// replica's sign-out is seen within this time.
const CACHE_TTL: Duration = Duration::from_secs(2);
/// Sessions cached at most; beyond, the cache starts over.
const CACHE_MAX: usize = 10_000;

#[derive(Clone, Debug)]
enum Backend {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

#[derive(Clone, Debug)]
pub struct PortalSessionStore {
    backend: Backend,
    cache: Arc<Mutex<HashMap<Id, (Instant, Record)>>>,
}

impl PortalSessionStore {
    pub fn new(db: &Db) -> Self {
        PortalSessionStore {
            backend: Self::backend(db),
            cache: Arc::default(),
        }
    }

    fn remember(&self, record: &Record) {
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_MAX {
                cache.clear();
            }
            cache.insert(record.id, (Instant::now(), record.clone()));
        }
    }

    fn forget(&self, id: &Id) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(id);
        }
    }

    /// A cached record that is recent enough and not expired.
    fn cached(&self, id: &Id) -> Option<Record> {
        let cache = self.cache.lock().ok()?;
        let (at, record) = cache.get(id)?;
        (at.elapsed() < CACHE_TTL && record.expiry_date > OffsetDateTime::now_utc())
            .then(|| record.clone())
    }

    fn backend(db: &Db) -> Backend {
        match db {
            // The names are constants that both stores accept; an error would be a programming error
            // caught by every test, so falling back to the default table is never reached.
            Db::Sqlite(pool) => {
                let store = SqliteStore::new(pool.clone());
                Backend::Sqlite(store.clone().with_table_name(TABLE).unwrap_or(store))
            }
            Db::Postgres(pool) => {
                let store = PostgresStore::new(pool.clone());
                let named = store
                    .clone()
                    .with_schema_name("public")
                    .and_then(|s| s.with_table_name(TABLE))
                    .unwrap_or(store);
                Backend::Postgres(named)
            }
        }
    }
}

macro_rules! delegate {
    ($self:ident, $store:ident => $call:expr) => {
        match &$self.backend {
            Backend::Sqlite($store) => $call,
            Backend::Postgres($store) => $call,
        }
    };
}

#[async_trait]
impl SessionStore for PortalSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        delegate!(self, s => s.create(record).await)?;
        self.remember(record);
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        // Forget first: if the write fails, the next read goes to the database.
        self.forget(&record.id);
        delegate!(self, s => s.save(record).await)?;
        self.remember(record);
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        if let Some(record) = self.cached(id) {
            return Ok(Some(record));
        }
        let loaded = delegate!(self, s => s.load(id).await)?;
        match &loaded {
            Some(record) => self.remember(record),
            None => self.forget(id),
        }
        Ok(loaded)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.forget(id);
        delegate!(self, s => s.delete(id).await)
    }
}

#[async_trait]
impl ExpiredDeletion for PortalSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        delegate!(self, s => s.delete_expired().await)
    }
}
