//! CPU and memory of every workload cluster: collection, recent samples, history, charts, live.
//
// One replica collects (it holds the database lease "metrics-collector"): it polls every
// workload cluster's metrics.k8s.io API each interval, keeps the last hour in memory and writes
// one-minute and one-hour points to the database. The others draw from the database.

pub mod chart;
mod collector;
pub mod history;
pub mod lease;
pub mod live;
pub mod png;
pub mod recent;
pub mod scrape;
mod view;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use app::access::model::ClusterRef;
use app::metrics::model::{ChartName, ChartScope, TimeRange};
use tokio::sync::watch;

use crate::fleet::watch::FleetWatch;
use crate::store::Db;
use recent::{Recent, Scrape};

pub use view::{chart_data, table};

/// The lease's name in the database.
pub const LEASE: &str = "metrics-collector";

/// Checks the names in a chart's scope: anything that cannot be a Kubernetes name is "not found"
/// (and never reaches a query or a path).
pub fn check_scope(scope: &ChartScope) -> Result<(), app::error::AppError> {
    use crate::fleet::kube_name;
    match scope {
        ChartScope::Cluster => Ok(()),
        ChartScope::Pool(p) => kube_name("pool", p),
        ChartScope::Node(n) => kube_name("node", n),
        ChartScope::Pod { namespace, name } => {
            kube_name("namespace", namespace)?;
            kube_name("pod", name)
        }
    }
}

/// One chart of one cluster: what the address names.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChartSpec {
    pub cluster: ClusterRef,
    pub chart: ChartName,
    pub scope: ChartScope,
    pub range: TimeRange,
}

/// The metrics of the fleet, shared by the collector, pages and live streams.
pub struct Metrics {
    pub db: Db,
    pub watch: FleetWatch,
    /// How often clusters are polled (`--metrics-interval`).
    pub interval: Duration,
    recent: RwLock<Recent>,
    /// Whether this replica holds the collector lease now.
    collecting: AtomicBool,
    /// A counter per cluster that moves whenever its data may have changed (live charts wait on it).
    changes: Mutex<HashMap<ClusterRef, watch::Sender<u64>>>,
    pub live: live::Hub,
}

impl Metrics {
    pub fn new(db: Db, watch: FleetWatch, interval: Duration) -> Arc<Metrics> {
        Arc::new(Metrics {
            db,
            watch,
            interval,
            recent: RwLock::new(Recent::default()),
            collecting: AtomicBool::new(false),
            changes: Mutex::new(HashMap::new()),
            live: live::Hub::default(),
        })
    }

    /// Whether this replica is the collector now.
    pub fn is_collecting(&self) -> bool {
        self.collecting.load(Ordering::SeqCst)
    }

    fn set_collecting(&self, on: bool) -> bool {
        self.collecting.swap(on, Ordering::SeqCst)
    }

    /// Stores a poll's samples and wakes the charts of that cluster.
    pub fn record(&self, cluster: &ClusterRef, scrape: &Scrape) {
        self.recent
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .record(cluster, scrape);
        self.changed(cluster);
    }

    /// Notes that a poll failed (the charts say since when there is no data).
    pub fn fail(&self, cluster: &ClusterRef, at_ms: i64, reason: String) {
        self.recent
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .fail(cluster, at_ms, reason);
        self.changed(cluster);
    }

    /// Reads the recent samples under the lock (never held across an await).
    pub fn with_recent<T>(&self, read: impl FnOnce(&Recent) -> T) -> T {
        read(&self.recent.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn retain_recent(&self, keep: impl Fn(&ClusterRef) -> bool) {
        self.recent
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(keep);
    }

    fn changed(&self, cluster: &ClusterRef) {
        let map = self.changes.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(tx) = map.get(cluster) {
            tx.send_modify(|n| *n += 1);
        }
    }

    /// Wakes every live chart (a replica that does not collect re-reads the database).
    fn changed_all(&self) {
        let mut map = self.changes.lock().unwrap_or_else(PoisonError::into_inner);
        map.retain(|_, tx| tx.receiver_count() > 0);
        for tx in map.values() {
            tx.send_modify(|n| *n += 1);
        }
    }

    /// A receiver that changes whenever `cluster`'s data may have changed.
    pub fn changes(&self, cluster: &ClusterRef) -> watch::Receiver<u64> {
        let mut map = self.changes.lock().unwrap_or_else(PoisonError::into_inner);
        map.entry(cluster.clone())
            .or_insert_with(|| watch::channel(0).0)
            .subscribe()
    }

    /// Starts the collector (it collects only while it holds the lease) and the history writer.
    pub fn start(self: &Arc<Self>) -> Vec<tokio::task::JoinHandle<()>> {
        collector::start(self.clone())
    }

    /// Each nodes' series of `cluster` over the last `window_ms` (the cluster's, each pool's and
    /// node's), from memory when it holds the whole window, else from the database; and the
    /// step between points.
    pub async fn last(
        &self,
        cluster: &ClusterRef,
        window_ms: i64,
    ) -> Result<(Vec<(recent::Infra, Vec<(i64, recent::Capacity)>)>, i64), crate::store::StoreError>
    {
        let now = crate::store::now_ms();
        let from = now - window_ms;
        let memory = self.with_recent(|r| {
            let s = r.get(cluster)?;
            (s.oldest_ms()? <= from).then(|| {
                s.infra_series()
                    .map(|i| (i.clone(), s.infra_points(i, from)))
                    .collect::<Vec<_>>()
            })
        });
        match memory {
            Some(series) => Ok((series, self.interval.as_millis() as i64)),
            None => Ok((
                history::read_all(&self.db, cluster, from, now + 1).await?,
                history::MINUTE_MS,
            )),
        }
    }

    /// Writes every cluster's recent minutes to the database now (the collector does this each
    /// minute; tests and shutdown call it).
    pub async fn flush(
        &self,
        writer: &mut history::Writer,
    ) -> Result<(), crate::store::StoreError> {
        let now = crate::store::now_ms();
        let pending: Vec<history::Pending> = self.with_recent(|recent| {
            recent
                .clusters()
                .filter_map(|(cluster, samples)| writer.take(cluster, samples, now))
                .collect()
        });
        for p in pending {
            writer.commit(&self.db, p).await?;
        }
        Ok(())
    }
}
