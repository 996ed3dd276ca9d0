//! A lease in the database: which replica collects metrics, renewed while it lives.
//
// The row names its holder and an expiry; a replica takes it when it is free or expired, and its
// holder renews it. A holder that dies stops renewing, so another takes over within `TTL` plus
// one renewal period. Expiries are compared with each replica's own clock: replicas must keep
// time within a few seconds of each other (NTP), as Kubernetes' own leases assume.

use std::time::Duration;

use crate::store::{Db, StoreError, now_ms, on_pool};

/// How long a lease holds without renewal.
pub const TTL: Duration = Duration::from_secs(15);

/// One replica's claim on a named job.
#[derive(Clone)]
pub struct Lease {
    db: Db,
    name: &'static str,
    /// This replica's identity (random per process).
    holder: String,
}

impl Lease {
    pub fn new(db: Db, name: &'static str) -> Lease {
        Lease {
            db,
            name,
            holder: uuid::Uuid::new_v4().to_string(),
        }
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Takes or renews the lease; whether this replica holds it now.
    pub async fn acquire(&self) -> Result<bool, StoreError> {
        let now = now_ms();
        let until = now + TTL.as_millis() as i64;
        let done = on_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO leases (name, holder, expires_at_ms) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at_ms = excluded.expires_at_ms \
                 WHERE leases.holder = excluded.holder OR leases.expires_at_ms < $4",
            )
            .bind(self.name)
            .bind(&self.holder)
            .bind(until)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(done == 1)
    }

    /// Gives the lease up (at shutdown), so another replica takes over at once.
    pub async fn release(&self) -> Result<(), StoreError> {
        on_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
                .bind(self.name)
                .bind(&self.holder)
                .execute(pool)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    /// Who holds the lease now, if anyone does.
    pub async fn current(db: &Db, name: &str) -> Result<Option<String>, StoreError> {
        let holder: Option<String> = on_pool!(db, pool => {
            sqlx::query_scalar("SELECT holder FROM leases WHERE name = $1 AND expires_at_ms >= $2")
                .bind(name)
                .bind(now_ms())
                .fetch_optional(pool)
                .await
        })?;
        Ok(holder)
    }
}
