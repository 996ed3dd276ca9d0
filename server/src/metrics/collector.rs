//! The collector: polls every workload cluster each interval while this replica holds the lease.
//
// Each cluster is polled by its own task (at most `CONCURRENCY` at once) with its own timeout,
// and a cluster whose previous poll is still running is skipped: one slow or failing cluster
// delays no other. Each minute the recent samples are written to the database.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use app::access::model::ClusterRef;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::lease::Lease;
use super::{LEASE, Metrics, history, scrape};
use crate::fleet::quantity;
use crate::fleet::workloads::Workload;
use crate::store::now_ms;

/// Clusters polled at once.
const CONCURRENCY: usize = 16;
/// How long one cluster's poll may take: the interval, but at least `POLL_TIMEOUT_MIN` (a busy
/// API server answers a large list in seconds; a poll still running is skipped, not doubled) and
/// at most `POLL_TIMEOUT_MAX`.
const POLL_TIMEOUT_MIN: Duration = Duration::from_secs(5);
const POLL_TIMEOUT_MAX: Duration = Duration::from_secs(10);
/// How often the history is written.
const FLUSH_EVERY: Duration = Duration::from_secs(60);
/// How often old history is deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// How often the lease is renewed (a third of its lifetime, whatever the poll interval).
const RENEW_EVERY: Duration = Duration::from_secs(5);

pub fn start(metrics: Arc<Metrics>) -> Vec<JoinHandle<()>> {
    let lease = Lease::new(metrics.db.clone(), LEASE);
    let holds = tokio::spawn(lease_loop(metrics.clone(), lease));
    let polls = tokio::spawn(poll_loop(metrics.clone()));
    let writes = tokio::spawn(write_loop(metrics));
    vec![holds, polls, writes]
}

/// Takes or renews the lease every `RENEW_EVERY`; this replica collects while it holds it.
async fn lease_loop(metrics: Arc<Metrics>, lease: Lease) {
    let mut tick = tokio::time::interval(RENEW_EVERY);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let holds = match lease.acquire().await {
            Ok(holds) => holds,
            Err(e) => {
                tracing::warn!(error = %e, "metrics: the collector lease could not be renewed");
                false
            }
        };
        let was = metrics.set_collecting(holds);
        if was != holds {
            tracing::info!(
                holder = lease.holder(),
                collecting = holds,
                "metrics collector role changed"
            );
        }
    }
}

async fn poll_loop(metrics: Arc<Metrics>) {
    let mut tick = tokio::time::interval(metrics.interval);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let busy: Arc<Mutex<HashSet<ClusterRef>>> = Arc::default();
    let timeout = metrics.interval.clamp(POLL_TIMEOUT_MIN, POLL_TIMEOUT_MAX);
    loop {
        tick.tick().await;
        if !metrics.is_collecting() {
            metrics.changed_all();
            continue;
        }
        let workloads = metrics.watch.workloads.connected();
        let present: HashSet<ClusterRef> = workloads.iter().map(|w| w.cluster.clone()).collect();
        metrics.retain_recent(|c| present.contains(c));
        for workload in workloads {
            let cluster = workload.cluster.clone();
            if !busy
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(cluster.clone())
            {
                // Its previous poll is still running.
                continue;
            }
            let (metrics, permits, busy) = (metrics.clone(), permits.clone(), busy.clone());
            tokio::spawn(async move {
                if let Ok(_permit) = permits.acquire_owned().await {
                    poll(&metrics, &workload, timeout).await;
                }
                busy.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(&cluster);
            });
        }
    }
}

/// Polls one cluster and records what came, or why nothing did.
async fn poll(metrics: &Metrics, workload: &Workload, timeout: Duration) {
    let cluster = &workload.cluster;
    let allocatable = allocatable(workload);
    let pools = metrics.watch.pools_by_node(cluster);
    let at = now_ms();
    match tokio::time::timeout(
        timeout,
        scrape::scrape(&workload.client, at, &allocatable, &pools),
    )
    .await
    {
        Ok(Ok(scrape)) => metrics.record(cluster, &scrape),
        Ok(Err(reason)) => {
            tracing::debug!(%cluster, %reason, "metrics poll failed");
            metrics.fail(cluster, at, reason);
        }
        Err(_) => metrics.fail(
            cluster,
            at,
            format!(
                "the metrics API did not answer within {} s",
                timeout.as_secs_f32()
            ),
        ),
    }
}

/// Each node's allocatable CPU (millicores) and memory (bytes), from the node watch.
fn allocatable(workload: &Workload) -> HashMap<String, [f32; 2]> {
    workload
        .nodes
        .state()
        .iter()
        .filter_map(|node| {
            let name = node.metadata.name.clone()?;
            let a = node.status.as_ref()?.allocatable.as_ref()?;
            let cpu = a
                .get("cpu")
                .and_then(|q| quantity::millicores(&q.0))
                .map_or(f32::NAN, |v| v as f32);
            let mem = a
                .get("memory")
                .and_then(|q| quantity::bytes(&q.0))
                .map_or(f32::NAN, |v| v as f32);
            Some((name, [cpu, mem]))
        })
        .collect()
}

/// Each minute, while collecting: writes the recent minutes; each hour: deletes old history.
async fn write_loop(metrics: Arc<Metrics>) {
    let mut writer = history::Writer::default();
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_prune: Option<tokio::time::Instant> = None;
    loop {
        tick.tick().await;
        if !metrics.is_collecting() {
            // Another replica writes; when this one takes over it starts from what it holds.
            writer = history::Writer::default();
            continue;
        }
        if let Err(e) = metrics.flush(&mut writer).await {
            tracing::warn!(error = %e, "metrics: the history could not be written");
        }
        if last_prune.is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
            last_prune = Some(tokio::time::Instant::now());
            match history::prune(&metrics.db, now_ms()).await {
                Ok(n) => tracing::debug!(rows = n, "metrics: old history deleted"),
                Err(e) => tracing::warn!(error = %e, "metrics: old history could not be deleted"),
            }
        }
    }
}
