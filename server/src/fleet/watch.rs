//! The fleet's shared state: kube-runtime reflectors on Clusters, MachineDeployments and Machines.
//!
//! Started once with the server, read by every request (no API call per page view), resumed by
//! kube-runtime after dropped watches and 410 Gone (with backoff); when the management API stops
//! answering, the stores keep the last known state and [`FleetWatch::staleness`] says since when.

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use futures_util::StreamExt;
use kube::Resource;
use kube::api::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use serde::de::DeserializeOwned;
use tokio::task::JoinHandle;

use super::Management;
use super::resources::{Cluster, Machine, MachineDeployment};

/// Since when, and why, the watched state has not been confirmed by the management API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    pub since: SystemTime,
    pub reason: String,
}

/// The last known Clusters, MachineDeployments and Machines of the whole management cluster.
#[derive(Clone)]
pub struct FleetWatch {
    pub clusters: Store<Cluster>,
    pub pools: Store<MachineDeployment>,
    pub machines: Store<Machine>,
    stale: Arc<Mutex<Vec<(&'static str, Stale)>>>,
}

impl FleetWatch {
    /// Starts the three watches; the returned tasks run until aborted (see `state::Services`).
    pub fn start(management: &Management) -> (FleetWatch, Vec<JoinHandle<()>>) {
        let stale = Arc::new(Mutex::new(Vec::new()));
        let (clusters, a) = follow::<Cluster>(management, "clusters", stale.clone());
        let (pools, b) =
            follow::<MachineDeployment>(management, "machinedeployments", stale.clone());
        let (machines, c) = follow::<Machine>(management, "machines", stale.clone());
        (
            FleetWatch {
                clusters,
                pools,
                machines,
                stale,
            },
            vec![a, b, c],
        )
    }

    /// Waits until every store holds a first complete list (or the watch ends).
    pub async fn ready(&self) {
        // An error means the writer is gone: the stores are then as full as they will get.
        let _ = self.clusters.wait_until_ready().await;
        let _ = self.pools.wait_until_ready().await;
        let _ = self.machines.wait_until_ready().await;
    }

    /// `None` while every watch is healthy; otherwise the oldest problem still unresolved.
    pub fn staleness(&self) -> Option<Stale> {
        let stale = self
            .stale
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        stale.iter().map(|(_, s)| s.clone()).min_by_key(|s| s.since)
    }
}

/// One reflector: a store, and the task that keeps it up to date and records its health.
fn follow<K>(
    management: &Management,
    kind: &'static str,
    stale: Arc<Mutex<Vec<(&'static str, Stale)>>>,
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
    let api: Api<K> = Api::all(management.client());
    let (reader, writer) = reflector::store();
    let events =
        reflector::reflector(writer, watcher(api, watcher::Config::default())).default_backoff();
    let task = tokio::spawn(async move {
        let mut events = std::pin::pin!(events);
        while let Some(event) = events.next().await {
            let mut stale = stale
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match event {
                Ok(_) => stale.retain(|(k, _)| *k != kind),
                Err(e) => {
                    if !stale.iter().any(|(k, _)| *k == kind) {
                        tracing::warn!(kind, error = %e, "watch on the management cluster failed; serving the last known state");
                        stale.push((
                            kind,
                            Stale {
                                since: SystemTime::now(),
                                reason: e.to_string(),
                            },
                        ));
                    }
                }
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
