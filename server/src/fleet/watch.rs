//! The fleet's shared state: reflectors on the Cluster API kinds, and the workload clusters.
//
// kube-runtime reflectors on Clusters, MachineDeployments, Machines and ClusterClasses, and the
// workload clusters reached through their kubeconfig Secrets.
//
// Started once with the server, read by every request (no API call per page view), resumed by
// kube-runtime after dropped watches and 410 Gone (with backoff); when the management API stops
// answering, the stores keep the last known state and [`FleetWatch::staleness`] says since when.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use futures_util::StreamExt;
use kube::Resource;
use kube::api::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use serde::de::DeserializeOwned;
use tokio::task::JoinHandle;

use super::Management;
use super::resources::{
    CLUSTER_NAME_LABEL, Cluster, ClusterClass, Machine, MachineDeployment, POOL_NAME_LABEL,
};
use super::workloads::Workloads;

/// Since when, and why, the watched state has not been confirmed by the management API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    pub since: SystemTime,
    pub reason: String,
}

/// A failed watch is retried after 0.5, 1, 2 and 4 s, then every 5 s: while the API keeps failing,
/// each watch reports an error at least every `RETRY_MAX`.
const RETRY_FIRST: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(5);
/// A watch that reported no error for this long has recovered: it retried and the API answered
/// (a quiet resource sends no event to say so).
const RECOVERED_AFTER: Duration = Duration::from_secs(7);

/// The retry schedule of every fleet watch (see `RETRY_MAX`).
pub struct Retry(Duration);

impl Default for Retry {
    fn default() -> Self {
        Retry(RETRY_FIRST)
    }
}

impl Iterator for Retry {
    type Item = Duration;
    fn next(&mut self) -> Option<Duration> {
        let now = self.0;
        self.0 = (self.0 * 2).min(RETRY_MAX);
        Some(now)
    }
}

impl kube::runtime::utils::Backoff for Retry {
    fn reset(&mut self) {
        self.0 = RETRY_FIRST;
    }
}

/// Why a watch failed, in words every viewer may read: the API's status and message, or that it
/// could not be reached. The whole error (which can name addresses) goes to the log only.
pub fn short_reason(e: &watcher::Error) -> String {
    let client = match e {
        watcher::Error::InitialListFailed(c)
        | watcher::Error::WatchStartFailed(c)
        | watcher::Error::WatchFailed(c) => c,
        watcher::Error::WatchError(status) => {
            return format!("the API ended the watch: {} {}", status.code, status.reason);
        }
        watcher::Error::NoResourceVersion => return "the API cannot watch this kind".into(),
    };
    match client {
        kube::Error::Api(status) => {
            let message: String = status.message.chars().take(200).collect();
            format!(
                "the API answered {} {}: {message}",
                status.code, status.reason
            )
        }
        _ => "the API cannot be reached".into(),
    }
}

/// Which watches are failing, since when and why (shared by the watches of one API).
#[derive(Clone, Default)]
pub struct StaleBoard(Arc<Mutex<Vec<Failing>>>);

struct Failing {
    kind: &'static str,
    stale: Stale,
    /// The latest error, to tell a watch that still fails from one that recovered quietly.
    last: Instant,
}

impl StaleBoard {
    /// Notes that the watch of `kind` failed (the first failure's time is kept); `reason` is
    /// shown to viewers, the error itself is logged.
    pub fn report(&self, kind: &'static str, error: &watcher::Error) {
        let reason = short_reason(error);
        let mut board = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        board.retain(|f| f.last.elapsed() < RECOVERED_AFTER);
        match board.iter_mut().find(|f| f.kind == kind) {
            Some(f) => f.last = Instant::now(),
            None => {
                tracing::warn!(kind, %error, "a watch failed; serving the last known state");
                board.push(Failing {
                    kind,
                    stale: Stale {
                        since: SystemTime::now(),
                        reason,
                    },
                    last: Instant::now(),
                });
            }
        }
    }

    /// Notes that the watch of `kind` delivers again.
    pub fn clear(&self, kind: &'static str) {
        let mut board = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        board.retain(|f| f.kind != kind);
    }

    /// The oldest problem still going on.
    pub fn oldest(&self) -> Option<Stale> {
        let board = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        board
            .iter()
            .filter(|f| f.last.elapsed() < RECOVERED_AFTER)
            .map(|f| f.stale.clone())
            .min_by_key(|s| s.since)
    }
}

/// The last known state of the whole management cluster, and the workload clusters' clients.
#[derive(Clone)]
pub struct FleetWatch {
    pub clusters: Store<Cluster>,
    pub pools: Store<MachineDeployment>,
    pub machines: Store<Machine>,
    pub classes: Store<ClusterClass>,
    pub workloads: Workloads,
    stale: StaleBoard,
    pub(crate) row_cache: super::rows::RowCache,
}

impl FleetWatch {
    /// Starts the watches; the returned tasks run until aborted (see `state::Services`).
    pub fn start(management: &Management) -> (FleetWatch, Vec<JoinHandle<()>>) {
        let stale = StaleBoard::default();
        let on = |kind| (management.client(), kind, Some(stale.clone()));
        let (client, kind, board) = on("clusters");
        let (clusters, a) = reflect::<Cluster>(client, kind, board, drop_managed_fields);
        let (client, kind, board) = on("machinedeployments");
        let (pools, b) = reflect::<MachineDeployment>(client, kind, board, drop_managed_fields);
        let (client, kind, board) = on("machines");
        let (machines, c) = reflect::<Machine>(client, kind, board, slim_machine);
        let (client, kind, board) = on("clusterclasses");
        let (classes, d) = reflect::<ClusterClass>(client, kind, board, drop_managed_fields);
        let workloads = Workloads::default();
        let mut tasks = vec![a, b, c, d];
        tasks.extend(workloads.start(management, stale.clone()));
        (
            FleetWatch {
                clusters,
                pools,
                machines,
                classes,
                workloads,
                stale,
                row_cache: Default::default(),
            },
            tasks,
        )
    }

    /// Waits until every store holds a first complete list (or the watch ends).
    pub async fn ready(&self) {
        // An error means the writer is gone: the stores are then as full as they will get.
        let _ = self.clusters.wait_until_ready().await;
        let _ = self.pools.wait_until_ready().await;
        let _ = self.machines.wait_until_ready().await;
        let _ = self.classes.wait_until_ready().await;
    }

    /// Whether every store holds a first complete list now (without waiting).
    pub fn listed(&self) -> bool {
        use futures_util::FutureExt;
        self.clusters
            .wait_until_ready()
            .now_or_never()
            .is_some_and(|r| r.is_ok())
            && self
                .pools
                .wait_until_ready()
                .now_or_never()
                .is_some_and(|r| r.is_ok())
            && self
                .machines
                .wait_until_ready()
                .now_or_never()
                .is_some_and(|r| r.is_ok())
            && self
                .classes
                .wait_until_ready()
                .now_or_never()
                .is_some_and(|r| r.is_ok())
    }

    /// Node → pool of one cluster, from the Machines Cluster API made for it.
    pub fn pools_by_node(
        &self,
        cluster: &app::access::model::ClusterRef,
    ) -> std::collections::HashMap<String, String> {
        self.machines
            .state()
            .iter()
            .filter(|m| {
                m.metadata.namespace.as_deref() == Some(cluster.namespace.as_str())
                    && m.spec.cluster_name == cluster.name
            })
            .filter_map(|m| {
                let node = m.status.as_ref()?.node_ref.as_ref()?.name.clone();
                let pool = m.metadata.labels.as_ref()?.get(POOL_NAME_LABEL)?.clone();
                Some((node, pool))
            })
            .collect()
    }

    /// `None` while every watch is healthy; otherwise the oldest problem still unresolved.
    pub fn staleness(&self) -> Option<Stale> {
        self.stale.oldest()
    }
}

/// What no page reads, dropped from every watched object before it is stored.
pub fn drop_managed_fields<K: Resource>(object: &mut K) {
    object.meta_mut().managed_fields = None;
}

/// What the pages read of a watched Machine (which pool a node is in): there is one per node, ten
/// thousand in a large fleet, and the rest of each (conditions, references, addresses, kept as
/// JSON) took 10 KB; of the conditions only a going machine's `Deleting` stays (what blocks it). These copies are for reading only; writes fetch the object from the API.
pub fn slim_machine(machine: &mut Machine) {
    let meta = &mut machine.metadata;
    meta.managed_fields = None;
    meta.annotations = None;
    meta.owner_references = None;
    meta.finalizers = None;
    if let Some(labels) = meta.labels.as_mut() {
        labels.retain(|k, _| k == POOL_NAME_LABEL || k == CLUSTER_NAME_LABEL);
    }
    machine.rest.clear();
    machine.spec.rest.clear();
    if let Some(status) = machine.status.as_mut() {
        status.rest.clear();
        // Kept only while a machine goes: its words say what holds the drain up.
        status
            .conditions
            .retain(|c| c.type_ == "Deleting" && c.status == "True");
        for c in &mut status.conditions {
            c.rest.clear();
            c.last_transition_time = None;
        }
        if let Some(node) = status.node_ref.as_mut() {
            node.rest.clear();
        }
    }
}

/// One reflector on every `K` the client sees, with `slim` applied before storing, and the task
/// that keeps it up to date; its failures and recoveries go on `board` under `kind`.
pub fn reflect<K>(
    client: kube::Client,
    kind: &'static str,
    board: Option<StaleBoard>,
    slim: fn(&mut K),
) -> (Store<K>, JoinHandle<()>)
where
    K: Resource<DynamicType = ()>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    let api: Api<K> = Api::all(client);
    let (reader, writer) = reflector::store();
    let stream = watcher(api, watcher::Config::default())
        .backoff(Retry::default())
        .modify(slim);
    let events = reflector::reflector(writer, stream);
    let task = tokio::spawn(async move {
        let mut events = std::pin::pin!(events);
        while let Some(event) = events.next().await {
            let Some(board) = &board else { continue };
            match event {
                Ok(_) => board.clear(kind),
                Err(e) => board.report(kind, &e),
            }
        }
    });
    (reader, task)
}

impl FleetWatch {
    /// Every watched cluster's name, sorted; `None` until the first list arrived (briefly after
    /// start-up: callers then ask the API). It waits for that first list only while the watch is
    /// healthy: a management API that is down would otherwise slow every page by the wait.
    pub async fn cluster_names(&self) -> Option<Vec<app::access::model::ClusterRef>> {
        let first_list = if self.staleness().is_some() {
            std::time::Duration::ZERO
        } else {
            std::time::Duration::from_secs(2)
        };
        // `timeout` polls the wait once before looking at the clock: a ready store answers at once.
        tokio::time::timeout(first_list, self.clusters.wait_until_ready())
            .await
            .ok()?
            .ok()?;
        let mut names: Vec<_> = self
            .clusters
            .state()
            .iter()
            .filter_map(|c| c.reference())
            .collect();
        names.sort();
        Some(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_watched_machine_keeps_its_node_and_pool_only() {
        let mut machine: Machine = serde_json::from_value(json!({
            "apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "Machine",
            "metadata": {"name": "prod-p0-abc", "namespace": "default", "resourceVersion": "7",
                         "labels": {"cluster.x-k8s.io/cluster-name": "prod",
                                    "topology.cluster.x-k8s.io/deployment-name": "p0",
                                    "machine-template-hash": "123"},
                         "annotations": {"a": "b"}, "finalizers": ["machine.cluster.x-k8s.io"]},
            "spec": {"clusterName": "prod", "version": "v1.33.2",
                     "bootstrap": {"dataSecretName": "s"}, "infrastructureRef": {"name": "i"}},
            "status": {"phase": "Running", "nodeRef": {"name": "node-1", "uid": "u"},
                       "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}],
                       "conditions": [{"type": "Ready", "status": "True"}]}
        }))
        .expect("a machine");
        slim_machine(&mut machine);
        let labels: Vec<&str> = machine
            .metadata
            .labels
            .iter()
            .flatten()
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(
            labels,
            [
                "cluster.x-k8s.io/cluster-name",
                "topology.cluster.x-k8s.io/deployment-name"
            ]
        );
        assert_eq!(machine.metadata.annotations, None);
        assert_eq!(machine.metadata.finalizers, None);
        assert_eq!(machine.metadata.resource_version.as_deref(), Some("7"));
        assert_eq!(machine.spec.cluster_name, "prod");
        assert_eq!(machine.spec.version.as_deref(), Some("v1.33.2"));
        assert!(machine.spec.rest.is_empty());
        assert!(machine.rest.is_empty());
        let status = machine.status.expect("a status");
        assert_eq!(status.phase.as_deref(), Some("Running"));
        assert_eq!(status.node_ref.map(|n| n.name).as_deref(), Some("node-1"));
        assert!(status.rest.is_empty());
        assert!(status.conditions.is_empty());
    }
}
