//! The role bindings kept in memory for a moment: every request's authorization reads them, and
//! they change rarely.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use app::access::model::Binding;

use crate::store::{Db, StoreError};

/// How long bindings read from the database are used without reading them again. Changes made
/// through this process clear the cache at once; another replica's changes apply within this time.
const TTL: Duration = Duration::from_secs(1);

pub struct BindingCache {
    db: Db,
    /// Bindings that live in memory only (the development sign-in's), listed after the stored ones.
    fixed: Vec<Binding>,
    current: RwLock<Option<(Instant, Arc<Vec<Binding>>)>>,
    /// Bumped by `invalidate`: a read that began before a change must not be kept after it.
    generation: AtomicU64,
}

impl BindingCache {
    pub fn new(db: Db, fixed: Vec<Binding>) -> Self {
        BindingCache {
            db,
            fixed,
            current: RwLock::new(None),
            generation: AtomicU64::new(0),
        }
    }

    /// Every binding, from memory when read less than `TTL` ago.
    pub async fn get(&self) -> Result<Arc<Vec<Binding>>, StoreError> {
        if let Ok(current) = self.current.read()
            && let Some((at, bindings)) = current.as_ref()
            && at.elapsed() < TTL
        {
            return Ok(bindings.clone());
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let mut fresh = super::bindings::list(&self.db).await?;
        fresh.extend(self.fixed.iter().cloned());
        let fresh = Arc::new(fresh);
        if let Ok(mut current) = self.current.write()
            && self.generation.load(Ordering::SeqCst) == generation
        {
            *current = Some((Instant::now(), fresh.clone()));
        }
        Ok(fresh)
    }

    /// Forgets what was read: the next `get` asks the database.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut current) = self.current.write() {
            *current = None;
        }
    }
}
