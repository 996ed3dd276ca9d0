//! What needs attention in a cluster, for dashboards: from its nodes, pods, pools and metrics.
//
// Nodes NotReady or under memory, disk or PID pressure; pods in CrashLoopBackOff or Pending for
// over five minutes; a pool at its autoscaler maximum; CPU or memory above 90 % of allocatable for
// ten minutes (the cluster or a node); the cluster Unreachable (from its health).

use std::sync::Arc;

use app::clusters::model::PoolRow;
use app::dashboards::model::Warning;
use k8s_openapi::api::core::v1::Node;

use super::pod_summary::PodSummary;
use super::pods;
use super::rows::unix_seconds;
use crate::metrics::recent::{Capacity, Infra};

/// How long a pod may be Pending before it is a warning.
pub const PENDING_WARN_S: i64 = 300;
/// How long usage must stay above `HIGH` to be a warning.
pub const HIGH_FOR_MS: i64 = 600_000;
pub const HIGH: f32 = 0.9;

fn warning(cluster: &str, object: String, text: String) -> Warning {
    Warning {
        cluster: cluster.to_string(),
        object,
        text,
    }
}

/// Nodes not Ready, or under pressure.
pub fn nodes(cluster: &str, nodes: &[Arc<Node>]) -> Vec<Warning> {
    let mut out = Vec::new();
    for node in nodes {
        let name = node.metadata.name.clone().unwrap_or_default();
        let conditions = node
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .map(Vec::as_slice)
            .unwrap_or_default();
        for c in conditions {
            let text = match (c.type_.as_str(), c.status.as_str()) {
                ("Ready", "True") => continue,
                ("Ready", _) => format!(
                    "NotReady: {}",
                    c.message
                        .as_deref()
                        .unwrap_or("the kubelet does not report Ready")
                ),
                ("MemoryPressure", "True") => "under memory pressure".to_string(),
                ("DiskPressure", "True") => "under disk pressure".to_string(),
                ("PIDPressure", "True") => "under PID pressure".to_string(),
                _ => continue,
            };
            out.push(warning(cluster, format!("node {name}"), text));
        }
    }
    out
}

/// Pods in CrashLoopBackOff or Pending too long, and how many pods are not running.
pub fn pods(cluster: &str, all: &[Arc<PodSummary>], now_s: i64) -> (Vec<Warning>, u32) {
    let mut out = Vec::new();
    let mut not_running = 0;
    for pod in all {
        let (status, reason) = pods::status(pod);
        let phase = pod.phase().unwrap_or("Unknown");
        if !(phase == "Running" || phase == "Succeeded") || status == "CrashLoopBackOff" {
            not_running += 1;
        }
        let object = format!("pod {}/{}", pod.namespace(), pod.name());
        if status == "CrashLoopBackOff" {
            out.push(warning(
                cluster,
                object,
                format!("CrashLoopBackOff: {reason}"),
            ));
        } else if phase == "Pending" {
            let since = pod.metadata.creation_timestamp.as_ref().map(unix_seconds);
            if let Some(since) = since
                && now_s - since > PENDING_WARN_S
            {
                let minutes = (now_s - since) / 60;
                let why = if reason.is_empty() {
                    String::new()
                } else {
                    format!(": {reason}")
                };
                out.push(warning(
                    cluster,
                    object,
                    format!("Pending for {minutes} min{why}"),
                ));
            }
        }
    }
    (out, not_running)
}

/// Pools whose desired size is at the autoscaler's maximum ("2–6").
pub fn pools(cluster: &str, rows: &[PoolRow]) -> Vec<Warning> {
    rows.iter()
        .filter_map(|p| {
            let (_, max) = p.autoscaler.split_once('–')?;
            let max: u32 = max.trim().parse().ok()?;
            (p.desired >= max).then(|| {
                warning(
                    cluster,
                    format!("pool {}", p.name),
                    format!(
                        "at its autoscaler maximum ({max} nodes): pods that need room will wait"
                    ),
                )
            })
        })
        .collect()
}

/// Whether CPU (0) or memory (1) stayed at or above `HIGH` of allocatable over the whole
/// window `[from, now]` that `points` cover; the lowest share seen, when it did.
pub fn sustained(
    points: &[(i64, Capacity)],
    from: i64,
    step_ms: i64,
    measure: usize,
) -> Option<f32> {
    let inside: Vec<&(i64, Capacity)> = points.iter().filter(|(at, _)| *at >= from).collect();
    // The window must be covered from its start: a cluster just seen is not "ten minutes high".
    let first = inside.first()?;
    if first.0 > from + step_ms.max(60_000) || inside.len() < 3 {
        return None;
    }
    let mut lowest = f32::INFINITY;
    for (_, v) in inside {
        let (used, alloc) = (v[measure], v[measure + 2]);
        if !(used.is_finite() && alloc.is_finite() && alloc > 0.0) {
            return None;
        }
        let share = used / alloc;
        if share < HIGH {
            return None;
        }
        lowest = lowest.min(share);
    }
    Some(lowest)
}

/// Usage warnings from each series' last ten minutes.
pub fn usage(
    cluster: &str,
    series: &[(Infra, Vec<(i64, Capacity)>)],
    now_ms: i64,
    step_ms: i64,
) -> Vec<Warning> {
    let from = now_ms - HIGH_FOR_MS;
    let mut out = Vec::new();
    for (infra, points) in series {
        let object = match infra {
            Infra::Cluster => "cluster".to_string(),
            Infra::Node(n) => format!("node {n}"),
            Infra::Pool(_) => continue,
        };
        for (measure, what) in [(0, "CPU"), (1, "memory")] {
            if let Some(share) = sustained(points, from, step_ms, measure) {
                out.push(warning(
                    cluster,
                    object.clone(),
                    format!(
                        "{what} above 90 % of allocatable for 10 minutes (at least {:.0} %)",
                        share * 100.0
                    ),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_minutes_above_ninety_percent_is_a_warning_and_one_dip_is_not() {
        let now = 1_000_000_000;
        let high: Vec<(i64, Capacity)> = (0..=10)
            .map(|m| (now - 600_000 + m * 60_000, [950.0, 10.0, 1000.0, 100.0]))
            .collect();
        assert_eq!(sustained(&high, now - 600_000, 60_000, 0), Some(0.95));
        assert_eq!(
            sustained(&high, now - 600_000, 60_000, 1),
            None,
            "memory is at 10 %"
        );
        let mut dip = high.clone();
        dip[5].1[0] = 850.0;
        assert_eq!(sustained(&dip, now - 600_000, 60_000, 0), None);
        // Seen for two minutes only.
        assert_eq!(sustained(&high[8..], now - 600_000, 60_000, 0), None);
        let w = usage(
            "default/a",
            &[(Infra::Node("n1".into()), high)],
            now,
            60_000,
        );
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].object, "node n1");
        assert_eq!(
            w[0].text,
            "CPU above 90 % of allocatable for 10 minutes (at least 95 %)"
        );
    }

    #[test]
    fn a_pool_at_its_maximum_is_named() {
        let pool = |name: &str, desired: u32, autoscaler: &str| PoolRow {
            name: name.into(),
            mode: "User".into(),
            vm_size: Default::default(),
            version: "v1.33.5".into(),
            ready: desired,
            desired,
            autoscaler: autoscaler.into(),
            zones: vec![],
            labels: vec![],
            taints: vec![],
            sizing: desired.to_string(),
            count: desired,
            bounds: None,
            floor: 0,
            limit: 1000,
            price_micros: 0,
            shrink: vec![],
            running: None,
            keep: None,
        };
        let w = pools(
            "default/a",
            &[
                pool("apps", 6, "2–6"),
                pool("web", 3, "2–6"),
                pool("sys", 9, ""),
            ],
        );
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].object, "pool apps");
        assert_eq!(
            w[0].text,
            "at its autoscaler maximum (6 nodes): pods that need room will wait"
        );
    }
}
