//! Workload clusters: a kube-rs client each (from its kubeconfig Secret), node and pod watches.
//
// A node watch always runs; a pod watch only while someone looks at the cluster.
//
// The Secrets are watched on the management cluster: a changed Secret rebuilds that cluster's
// client and watches, a removed one drops them. A missing or broken Secret, or a workload API
// that does not answer, makes that one cluster unreachable and touches no other.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use app::access::model::ClusterRef;
use futures_util::StreamExt;
use k8s_openapi::api::core::v1::{Node, Secret};

use super::pod_summary::PodSummary;
use kube::api::Api;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::reflector::Store;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource};
use tokio::task::{AbortHandle, JoinHandle};

use super::Management;
use super::resources::CLUSTER_NAME_LABEL;
use super::watch::{Retry, Stale, StaleBoard, reflect};

/// How long a pod watch stays after the last look at its cluster.
const POD_WATCH_IDLE: Duration = Duration::from_secs(300);
/// How long a page waits for a new pod watch's first list.
const FIRST_LIST_WAIT: Duration = Duration::from_secs(5);
/// The largest kubeconfig Secret value read (real ones are a few KB).
const KUBECONFIG_MAX: usize = 256 * 1024;

/// What the portal knows of a workload cluster's API.
#[derive(Clone)]
pub enum Reach {
    /// The kubeconfig Secrets have not been listed yet (just after start-up).
    NotListed,
    /// There is no kubeconfig Secret: the control plane is still being made, or it was removed.
    NoSecret,
    /// The Secret cannot be used, or the API does not answer; the reason in words.
    Unreachable(String),
    Connected(Arc<Workload>),
}

/// A reachable workload cluster: its client and watches.
pub struct Workload {
    pub cluster: ClusterRef,
    pub client: Client,
    pub nodes: Store<Node>,
    /// Whether (since when, why) the node watch fails.
    problem: StaleBoard,
    node_task: AbortHandle,
    pods: Mutex<Option<OnDemand<PodSummary>>>,
}

/// A watch started for a viewer and stopped when nobody has looked for a while.
struct OnDemand<K: Resource<DynamicType = ()> + 'static> {
    store: Store<K>,
    task: AbortHandle,
    last_used: Instant,
}

impl Drop for Workload {
    fn drop(&mut self) {
        self.node_task.abort();
        if let Some(pods) = self
            .pods
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            pods.task.abort();
        }
    }
}

impl Workload {
    /// Why the node watch is failing, if it is.
    pub fn problem(&self) -> Option<Stale> {
        self.problem.oldest()
    }

    /// Whether the node watch has delivered its first list.
    pub fn nodes_known(&self) -> bool {
        // A store that has been filled once answers `wait_until_ready` at once; `state()` alone
        // cannot tell an empty cluster from one not listed yet.
        futures_util::FutureExt::now_or_never(self.nodes.wait_until_ready())
            .is_some_and(|r| r.is_ok())
    }

    /// The cluster's pods, from a watch started on first use and kept while people look.
    pub async fn pods(&self) -> Result<Store<PodSummary>, String> {
        let store = {
            let mut slot = self.pods.lock().unwrap_or_else(PoisonError::into_inner);
            match slot.as_mut() {
                Some(on) if !on.task.is_finished() => {
                    on.last_used = Instant::now();
                    on.store.clone()
                }
                _ => {
                    let (store, task) =
                        reflect::<PodSummary>(self.client.clone(), "pods", None, |_| {});
                    *slot = Some(OnDemand {
                        store: store.clone(),
                        task: task.abort_handle(),
                        last_used: Instant::now(),
                    });
                    store
                }
            }
        };
        match tokio::time::timeout(FIRST_LIST_WAIT, store.wait_until_ready()).await {
            Ok(Ok(())) => Ok(store),
            _ => Err(format!(
                "the workload cluster {} did not list its pods within {} s",
                self.cluster,
                FIRST_LIST_WAIT.as_secs()
            )),
        }
    }

    /// Stops the pod watch when nobody looked for `idle`.
    fn reap(&self, idle: Duration) {
        let mut slot = self.pods.lock().unwrap_or_else(PoisonError::into_inner);
        if slot
            .as_ref()
            .is_some_and(|on| on.last_used.elapsed() > idle)
            && let Some(on) = slot.take()
        {
            on.task.abort();
        }
    }
}

/// The map entry: the Secret's fingerprint (to notice changes) and what was made from it.
struct Entry {
    fingerprint: u64,
    reach: Reach,
}

/// Every workload cluster the management cluster has a kubeconfig Secret for.
#[derive(Clone, Default)]
pub struct Workloads {
    map: Arc<RwLock<HashMap<ClusterRef, Entry>>>,
    /// Whether the Secrets have been listed once (before that, a missing one proves nothing).
    listed: Arc<std::sync::atomic::AtomicBool>,
}

impl Workloads {
    /// What is known of `cluster`'s API.
    pub fn reach(&self, cluster: &ClusterRef) -> Reach {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        match map.get(cluster) {
            Some(e) => e.reach.clone(),
            None if self.listed.load(std::sync::atomic::Ordering::SeqCst) => Reach::NoSecret,
            None => Reach::NotListed,
        }
    }

    /// Every workload cluster the portal can reach now.
    pub fn connected(&self) -> Vec<Arc<Workload>> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        map.values()
            .filter_map(|e| match &e.reach {
                Reach::Connected(w) => Some(w.clone()),
                _ => None,
            })
            .collect()
    }

    /// Watches the kubeconfig Secrets (and reaps idle pod watches) until aborted.
    pub fn start(&self, management: &Management, stale: StaleBoard) -> Vec<JoinHandle<()>> {
        let api: Api<Secret> = Api::all(management.client());
        let config = watcher::Config::default().labels(CLUSTER_NAME_LABEL);
        let this = self.clone();
        let secrets = tokio::spawn(async move {
            let events = watcher(api, config).backoff(Retry::default());
            let mut events = std::pin::pin!(events);
            let mut listing: HashSet<ClusterRef> = HashSet::new();
            while let Some(event) = events.next().await {
                match event {
                    Ok(event) => {
                        stale.clear("secrets");
                        this.apply(event, &mut listing);
                    }
                    Err(e) => stale.report("secrets", &e),
                }
            }
        });
        let this = self.clone();
        let reaper = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(30));
            loop {
                tick.tick().await;
                this.reap(POD_WATCH_IDLE);
            }
        });
        vec![secrets, reaper]
    }

    fn reap(&self, idle: Duration) {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        for entry in map.values() {
            if let Reach::Connected(w) = &entry.reach {
                w.reap(idle);
            }
        }
    }

    fn apply(&self, event: watcher::Event<Secret>, listing: &mut HashSet<ClusterRef>) {
        match event {
            watcher::Event::Init => listing.clear(),
            watcher::Event::InitApply(secret) => {
                if let Some(cluster) = self.upsert(&secret) {
                    listing.insert(cluster);
                }
            }
            watcher::Event::InitDone => {
                // A relist: what was not listed again is gone.
                let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
                map.retain(|k, _| listing.contains(k));
                self.listed.store(true, std::sync::atomic::Ordering::SeqCst);
            }
            watcher::Event::Apply(secret) => {
                self.upsert(&secret);
            }
            watcher::Event::Delete(secret) => {
                if let Some(cluster) = kubeconfig_owner(&secret) {
                    let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
                    map.remove(&cluster);
                }
            }
        }
    }

    /// (Re)builds a cluster's client when its Secret is new or changed.
    fn upsert(&self, secret: &Secret) -> Option<ClusterRef> {
        let cluster = kubeconfig_owner(secret)?;
        let value = secret.data.as_ref().and_then(|d| d.get("value"));
        let fingerprint = value.map_or(0, |v| fingerprint(&v.0));
        {
            let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
            if map
                .get(&cluster)
                .is_some_and(|e| e.fingerprint == fingerprint)
            {
                return Some(cluster);
            }
        }
        let reach = match value {
            None => Reach::Unreachable(format!(
                "its Secret {}-kubeconfig has no key \"value\"",
                cluster.name
            )),
            Some(bytes) => match connect(&cluster, &bytes.0) {
                Ok(w) => Reach::Connected(Arc::new(w)),
                Err(reason) => {
                    tracing::warn!(%cluster, %reason, "cannot use the workload cluster's kubeconfig");
                    Reach::Unreachable(reason)
                }
            },
        };
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        map.insert(cluster.clone(), Entry { fingerprint, reach });
        Some(cluster)
    }
}

/// A hash of a Secret's value, to notice that it changed (not a security measure).
fn fingerprint(bytes: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// The cluster a `<cluster>-kubeconfig` Secret belongs to (its name and label must agree).
fn kubeconfig_owner(secret: &Secret) -> Option<ClusterRef> {
    let name = secret.metadata.name.as_deref()?;
    let cluster = name.strip_suffix("-kubeconfig")?;
    let label = secret.metadata.labels.as_ref()?.get(CLUSTER_NAME_LABEL)?;
    (label == cluster).then(|| {
        ClusterRef::new(
            secret.metadata.namespace.clone().unwrap_or_default(),
            cluster,
        )
    })
}

/// A client from kubeconfig bytes, and the node watch on it.
fn connect(cluster: &ClusterRef, bytes: &[u8]) -> Result<Workload, String> {
    let client = client_from_kubeconfig(cluster, bytes)?;
    let problem = StaleBoard::default();
    let (nodes_store, node_task) =
        reflect::<Node>(client.clone(), "nodes", Some(problem.clone()), slim_node);
    Ok(Workload {
        cluster: cluster.clone(),
        client,
        nodes: nodes_store,
        problem,
        node_task: node_task.abort_handle(),
        pods: Mutex::new(None),
    })
}

/// Checks a kubeconfig from a Secret and makes a client from it. Anything that would make the
/// portal run a command or read its own files is refused: whoever can write Secrets on the
/// management cluster must not gain the portal's host.
pub fn client_from_kubeconfig(cluster: &ClusterRef, bytes: &[u8]) -> Result<Client, String> {
    let secret = format!("Secret {}-kubeconfig", cluster.name);
    if bytes.len() > KUBECONFIG_MAX {
        return Err(format!(
            "its {secret} is larger than {} KiB",
            KUBECONFIG_MAX / 1024
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| format!("its {secret} is not text"))?;
    let kubeconfig = Kubeconfig::from_yaml(text)
        .map_err(|e| format!("its {secret} is not a kubeconfig: {e}"))?;
    for named in &kubeconfig.auth_infos {
        let Some(user) = &named.auth_info else {
            continue;
        };
        if user.exec.is_some() || user.auth_provider.is_some() {
            return Err(format!(
                "its {secret} asks to run a command for credentials, which the portal refuses"
            ));
        }
        if user.token_file.is_some()
            || user.client_certificate.is_some()
            || user.client_key.is_some()
        {
            return Err(format!(
                "its {secret} points at files on the portal's host, which the portal refuses; embed the data instead"
            ));
        }
    }
    for named in &kubeconfig.clusters {
        if named
            .cluster
            .as_ref()
            .is_some_and(|c| c.certificate_authority.is_some() || c.proxy_url.is_some())
        {
            return Err(format!(
                "its {secret} points at a file or a proxy on the portal's host, which the portal refuses"
            ));
        }
    }
    let options = KubeConfigOptions::default();
    // `from_custom_kubeconfig` is async only to run exec plugins, which were refused above.
    let config = futures_util::FutureExt::now_or_never(kube::Config::from_custom_kubeconfig(
        kubeconfig, &options,
    ))
    .ok_or_else(|| format!("its {secret} could not be read"))?
    .map_err(|e| format!("its {secret} cannot be used: {e}"))?;
    let mut config = config;
    config.read_timeout = Some(Duration::from_secs(300));
    config.connect_timeout = Some(Duration::from_secs(5));
    Client::try_from(config).map_err(|e| format!("no client could be made from its {secret}: {e}"))
}

/// Drops what the pages never read (managed fields, image lists) before a node is stored (a
/// `PodSummary` keeps only what is read from the start).
fn slim_node(node: &mut Node) {
    node.metadata.managed_fields = None;
    if let Some(status) = node.status.as_mut() {
        status.images = None;
    }
}
