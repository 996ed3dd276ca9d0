//! Fault injection: failing or slow requests, dropped watches, failed node joins, exhausted quota.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

/// What to break, as posted to `/kubesim/faults` (every field optional: absent means unchanged).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultRequest {
    /// Fail the next N API requests.
    pub fail_requests: Option<u32>,
    /// The HTTP status those failures use (500–599; default 503).
    pub fail_status: Option<u16>,
    /// Delay every API request by this many milliseconds (0 to stop).
    pub latency_ms: Option<u64>,
    /// Close every open watch now.
    #[serde(default)]
    pub drop_watches: bool,
    /// The next N machines fail to join as nodes.
    pub fail_node_joins: Option<u32>,
    /// The next N scale-ups fail with a quota error.
    pub exhaust_quota: Option<u32>,
    /// The metrics.k8s.io API answers 200 with a body that is not JSON (false to stop).
    pub garbled_metrics: Option<bool>,
    /// Apply `failRequests`, `failStatus`, `latencyMs` and `garbledMetrics` to this workload
    /// cluster's API only ("namespace/name"), leaving every other as it is.
    pub cluster: Option<String>,
}

/// Faults scoped to one workload cluster.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClusterFaults {
    pub fail_requests: u32,
    pub fail_status: u16,
    pub latency_ms: u64,
    pub garbled_metrics: bool,
}

/// Current fault settings, as `GET /kubesim/faults` reports them.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FaultState {
    pub fail_requests: u32,
    pub fail_status: u16,
    pub latency_ms: u64,
    pub fail_node_joins: u32,
    pub exhaust_quota: u32,
    pub watches_dropped: u64,
    pub garbled_metrics: bool,
    /// Faults scoped to single workload clusters, by "namespace/name".
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub clusters: BTreeMap<String, ClusterFaults>,
}

pub struct Faults {
    fail_requests: AtomicU32,
    fail_status: AtomicU32,
    latency_ms: AtomicU64,
    fail_node_joins: AtomicU32,
    exhaust_quota: AtomicU32,
    garbled_metrics: AtomicBool,
    clusters: Mutex<BTreeMap<String, ClusterFaults>>,
    drops: watch::Sender<u64>,
    lock: Mutex<()>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            fail_requests: AtomicU32::new(0),
            fail_status: AtomicU32::new(503),
            latency_ms: AtomicU64::new(0),
            fail_node_joins: AtomicU32::new(0),
            exhaust_quota: AtomicU32::new(0),
            garbled_metrics: AtomicBool::new(false),
            clusters: Mutex::new(BTreeMap::new()),
            drops: watch::channel(0).0,
            lock: Mutex::new(()),
        }
    }
}

/// Takes one from a counter if it is positive.
fn take(counter: &AtomicU32) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

impl Faults {
    /// Applies a request; rejects a status outside 500–599 and changes nothing then.
    pub fn apply(&self, req: &FaultRequest) -> Result<FaultState, String> {
        if let Some(code) = req.fail_status
            && !(500..=599).contains(&code)
        {
            return Err(format!(
                "failStatus must be between 500 and 599, got {code}"
            ));
        }
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(cluster) = &req.cluster {
            return self.apply_to_cluster(cluster, req);
        }
        if let Some(on) = req.garbled_metrics {
            self.garbled_metrics.store(on, Ordering::SeqCst);
        }
        if let Some(n) = req.fail_requests {
            self.fail_requests.store(n, Ordering::SeqCst);
        }
        if let Some(code) = req.fail_status {
            self.fail_status.store(u32::from(code), Ordering::SeqCst);
        }
        if let Some(ms) = req.latency_ms {
            self.latency_ms.store(ms, Ordering::SeqCst);
        }
        if let Some(n) = req.fail_node_joins {
            self.fail_node_joins.store(n, Ordering::SeqCst);
        }
        if let Some(n) = req.exhaust_quota {
            self.exhaust_quota.store(n, Ordering::SeqCst);
        }
        if req.drop_watches {
            self.drops.send_modify(|n| *n += 1);
        }
        Ok(self.state())
    }

    fn apply_to_cluster(&self, cluster: &str, req: &FaultRequest) -> Result<FaultState, String> {
        if req.drop_watches || req.fail_node_joins.is_some() || req.exhaust_quota.is_some() {
            return Err(
                "only failRequests, failStatus, latencyMs and garbledMetrics can be scoped to a cluster".into(),
            );
        }
        match cluster.split_once('/') {
            Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains('/') => {}
            _ => {
                return Err(format!(
                    "cluster must be written namespace/name, got {cluster:?}"
                ));
            }
        }
        {
            let mut clusters = self.clusters.lock().unwrap_or_else(PoisonError::into_inner);
            let f = clusters
                .entry(cluster.to_string())
                .or_insert_with(|| ClusterFaults {
                    fail_status: 503,
                    ..ClusterFaults::default()
                });
            if let Some(n) = req.fail_requests {
                f.fail_requests = n;
            }
            if let Some(code) = req.fail_status {
                f.fail_status = code;
            }
            if let Some(ms) = req.latency_ms {
                f.latency_ms = ms;
            }
            if let Some(on) = req.garbled_metrics {
                f.garbled_metrics = on;
            }
        }
        Ok(self.state())
    }

    /// The faults scoped to the workload cluster `key` ("namespace/name"), taking one armed
    /// request failure if there is one: (latency, failure status, garbled metrics).
    pub fn for_cluster(&self, key: &str) -> Option<(u64, Option<u16>, bool)> {
        let mut clusters = self.clusters.lock().unwrap_or_else(PoisonError::into_inner);
        let f = clusters.get_mut(key)?;
        let fail = (f.fail_requests > 0).then(|| {
            f.fail_requests -= 1;
            f.fail_status
        });
        Some((f.latency_ms, fail, f.garbled_metrics))
    }

    /// Whether every cluster's metrics API answers garbage.
    pub fn garbled_metrics(&self) -> bool {
        self.garbled_metrics.load(Ordering::SeqCst)
    }

    pub fn clear(&self) -> FaultState {
        self.fail_requests.store(0, Ordering::SeqCst);
        self.fail_status.store(503, Ordering::SeqCst);
        self.latency_ms.store(0, Ordering::SeqCst);
        self.fail_node_joins.store(0, Ordering::SeqCst);
        self.exhaust_quota.store(0, Ordering::SeqCst);
        self.garbled_metrics.store(false, Ordering::SeqCst);
        self.clusters
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.state()
    }

    pub fn state(&self) -> FaultState {
        FaultState {
            fail_requests: self.fail_requests.load(Ordering::SeqCst),
            fail_status: self.fail_status.load(Ordering::SeqCst) as u16,
            latency_ms: self.latency_ms.load(Ordering::SeqCst),
            fail_node_joins: self.fail_node_joins.load(Ordering::SeqCst),
            exhaust_quota: self.exhaust_quota.load(Ordering::SeqCst),
            watches_dropped: *self.drops.borrow(),
            garbled_metrics: self.garbled_metrics.load(Ordering::SeqCst),
            clusters: self
                .clusters
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        }
    }

    /// The status code to fail this request with, if a failure is armed.
    pub fn take_request_failure(&self) -> Option<u16> {
        take(&self.fail_requests).then(|| self.fail_status.load(Ordering::SeqCst) as u16)
    }

    pub fn latency(&self) -> u64 {
        self.latency_ms.load(Ordering::SeqCst)
    }

    pub fn take_join_failure(&self) -> bool {
        take(&self.fail_node_joins)
    }

    pub fn take_quota_failure(&self) -> bool {
        take(&self.exhaust_quota)
    }

    /// Changes each time watches are dropped.
    pub fn drops(&self) -> watch::Receiver<u64> {
        self.drops.subscribe()
    }
}
