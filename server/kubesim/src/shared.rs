//! State shared by the HTTP API and the simulation: the stores, the clock, faults and settings.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::clock::Clock;
use crate::faults::Faults;
use crate::resources::Plane;
use crate::schemas::Schemas;
use crate::store::Store;

pub struct Shared {
    pub mgmt: Arc<Store>,
    workloads: RwLock<BTreeMap<String, Workload>>,
    /// Each workload cluster's token, to the cluster's key.
    tokens: RwLock<HashMap<String, String>>,
    /// The management cluster's token (and the key workload tokens are derived with).
    pub token: String,
    /// Counts workload APIs made, so that a cluster made again under its old name gets a new token.
    incarnations: AtomicU64,
    /// The CA (PEM) the serving certificate is signed by, for kubeconfigs.
    pub ca_pem: String,
    pub faults: Faults,
    pub schemas: Schemas,
    /// OpenAPI documents, built on first request.
    pub openapi: crate::openapi::Cache,
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
    /// The bearer token of this cluster's API, and of no other.
    pub token: String,
}

/// Whose API a request's token opens.
#[derive(Clone, Debug, PartialEq)]
pub enum Caller {
    Management,
    /// A workload cluster, by key: its API only, served at the root as a real cluster's is.
    Workload(String),
}

/// The version the management API reports.
pub const MANAGEMENT_VERSION: &str = "v1.34.2";

impl Shared {
    pub fn new(
        token: String,
        ca_pem: String,
        schemas: Schemas,
        speed: f64,
        seed: u64,
        history: usize,
        base_url: String,
    ) -> Self {
        Shared {
            mgmt: Arc::new(Store::new(Plane::Management, seed, history)),
            workloads: RwLock::new(BTreeMap::new()),
            tokens: RwLock::new(HashMap::new()),
            token,
            incarnations: AtomicU64::new(0),
            ca_pem,
            faults: Faults::default(),
            schemas,
            openapi: crate::openapi::Cache::default(),
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
        if let Some(w) = map.get(key) {
            return w.store.clone();
        }
        let seed = crate::noise::hash_str(self.seed, key);
        let n = self.incarnations.fetch_add(1, Ordering::Relaxed);
        let token = derive_token(&self.token, &format!("{key}#{n}"));
        let w = Workload {
            // A fleet has hundreds of workload APIs: each keeps a quarter of the history.
            store: Arc::new(Store::new(Plane::Workload, seed, self.history / 4)),
            version: version.to_string(),
            token: token.clone(),
        };
        let store = w.store.clone();
        map.insert(key.to_string(), w);
        self.tokens
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(token, key.to_string());
        store
    }

    /// Whose API `token` opens, if any.
    pub fn caller(&self, token: &str) -> Option<Caller> {
        if same_secret(token, &self.token) {
            return Some(Caller::Management);
        }
        // The map is keyed by a randomly seeded hash, so its lookup says nothing useful about
        // near misses; the final comparison takes the same time for every token of this length.
        let tokens = self.tokens.read().unwrap_or_else(|e| e.into_inner());
        let (known, key) = tokens.get_key_value(token)?;
        same_secret(token, known).then(|| Caller::Workload(key.clone()))
    }

    pub fn set_workload_version(&self, key: &str, version: &str) {
        let mut map = self.workloads.write().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = map.get_mut(key) {
            w.version = version.to_string();
        }
    }

    /// Removes a workload cluster's API; its token opens nothing from now on.
    pub fn remove_workload(&self, key: &str) {
        let gone = self
            .workloads
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
        if let Some(w) = gone {
            self.tokens
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&w.token);
        }
    }

    /// The management cluster's kubeconfig.
    pub fn management_kubeconfig(&self) -> String {
        crate::kubeconfig::render(&self.base_url, "kubesim", &self.token, &self.ca_pem)
    }

    /// A workload cluster's kubeconfig: the same server, the cluster's own token.
    pub fn workload_kubeconfig(&self, key: &str, context: &str) -> Option<String> {
        let w = self.workload(key)?;
        Some(crate::kubeconfig::render(
            &self.base_url,
            context,
            &w.token,
            &self.ca_pem,
        ))
    }
}

/// Equal, in time that depends on the lengths only: tokens are the only credential.
fn same_secret(given: &str, token: &str) -> bool {
    given.len() == token.len()
        && given
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// A workload cluster's token: HMAC-SHA256 of `what` under the management token, which only
/// this process knows, so tokens cannot be guessed from cluster names.
fn derive_token(secret: &str, what: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = ring::hmac::sign(&key, what.as_bytes());
    format!(
        "kubesim-{}",
        tag.as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}
