//! State shared by the HTTP API and the simulation: the stores, the clock, faults and settings.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use crate::clock::Clock;
use crate::faults::Faults;
use crate::resources::Plane;
use crate::schemas::Schemas;
use crate::store::Store;

pub struct Shared {
    pub mgmt: Arc<Store>,
    workloads: RwLock<BTreeMap<String, Workload>>,
    pub token: String,
    pub faults: Faults,
    pub schemas: Schemas,
    pub clock: Clock,
    pub seed: u64,
    pub history: usize,
    pub base_url: String,
    /// How often idle watches that allow bookmarks get one.
    pub bookmark_every: std::time::Duration,
}

/// A workload cluster's API: its store and the version its control plane runs.
#[derive(Clone)]
pub struct Workload {
    pub store: Arc<Store>,
    pub version: String,
}

/// The version the management API reports.
pub const MANAGEMENT_VERSION: &str = "v1.34.2";

impl Shared {
    pub fn new(
        token: String,
        schemas: Schemas,
        speed: f64,
        seed: u64,
        history: usize,
        base_url: String,
    ) -> Self {
        Shared {
            mgmt: Arc::new(Store::new(Plane::Management, seed, history)),
            workloads: RwLock::new(BTreeMap::new()),
            token,
            faults: Faults::default(),
            schemas,
            clock: Clock::new(speed),
            seed,
            history,
            base_url,
            bookmark_every: std::time::Duration::from_secs(60),
        }
    }

    /// The key of a workload cluster (`<namespace>/<name>`).
    pub fn key(namespace: &str, name: &str) -> String {
        format!("{namespace}/{name}")
    }

    pub fn workload(&self, key: &str) -> Option<Workload> {
        self.workloads
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }

    pub fn workload_keys(&self) -> Vec<String> {
        self.workloads
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    /// Creates (or returns) a workload cluster's API.
    pub fn ensure_workload(&self, key: &str, version: &str) -> Arc<Store> {
        let mut map = self.workloads.write().unwrap_or_else(|e| e.into_inner());
        let seed = crate::noise::hash_str(self.seed, key);
        map.entry(key.to_string())
            .or_insert_with(|| Workload {
                // A fleet has hundreds of workload APIs: each keeps a quarter of the history.
                store: Arc::new(Store::new(Plane::Workload, seed, self.history / 4)),
                version: version.to_string(),
            })
            .store
            .clone()
    }

    pub fn set_workload_version(&self, key: &str, version: &str) {
        let mut map = self.workloads.write().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = map.get_mut(key) {
            w.version = version.to_string();
        }
    }

    pub fn remove_workload(&self, key: &str) {
        self.workloads
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    /// The server URL kubeconfigs carry (see `api::serve` on why the token is in it).
    pub fn management_url(&self) -> String {
        format!("{}/{}", self.base_url, self.token)
    }

    pub fn workload_url(&self, key: &str) -> String {
        format!("{}/clusters/{key}", self.management_url())
    }
}
