//! A workload cluster's nodes as the Nodes tab and node pages show them.

use std::collections::HashMap;
use std::sync::Arc;

use app::clusters::model::{ConditionRow, NodeRow};
use k8s_openapi::api::core::v1::Node;

use super::pod_summary::PodSummary as Pod;

use super::quantity::{bytes, millicores};
use super::rows::{age_of, condition_row, node_ready};

/// Labels that name a node's pool, most specific first (Cluster API's own label is read from the
/// node's Machine before these are tried).
const POOL_LABELS: [&str; 3] = [
    "cluster.x-k8s.io/deployment-name",
    "cluster.x-k8s.io/pool",
    "kubernetes.azure.com/agentpool",
];
const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

/// What the pods on a node ask for: (CPU millicores, memory bytes, pods).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Load {
    pub cpu_m: u64,
    pub memory: u64,
    pub pods: u32,
}

/// Whether a pod still holds its node's resources.
pub fn holds_node(pod: &Pod) -> bool {
    !matches!(pod.phase(), Some("Succeeded" | "Failed"))
}

/// The load of every node, from the pods bound to it.
pub fn loads<'a>(pods: impl Iterator<Item = &'a Arc<Pod>>) -> HashMap<String, Load> {
    let mut loads: HashMap<String, Load> = HashMap::new();
    for pod in pods.filter(|p| holds_node(p)) {
        let Some(node) = pod.node() else {
            continue;
        };
        let load = loads.entry(node.to_string()).or_default();
        load.cpu_m += pod.cpu_m;
        load.memory += pod.memory;
        load.pods += 1;
    }
    loads
}

fn label<'a>(node: &'a Node, key: &str) -> Option<&'a str> {
    node.metadata.labels.as_ref()?.get(key).map(String::as_str)
}

/// A node's row; `pool` comes from its Machine when Cluster API knows it.
pub fn row(node: &Node, pool: Option<&str>, load: Option<&Load>, now: i64) -> NodeRow {
    let status = node.status.as_ref();
    let ready_condition = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"));
    let mut word = match ready_condition.map(|c| c.status.as_str()) {
        Some("True") => "Ready".to_string(),
        Some("False") => "NotReady".to_string(),
        _ => "Unknown".to_string(),
    };
    if node.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
        word.push_str(", SchedulingDisabled");
    }
    let allocatable = status.and_then(|s| s.allocatable.as_ref());
    let alloc = |k: &str| allocatable.and_then(|a| a.get(k)).map(|q| q.0.clone());
    let load = load.copied().unwrap_or_default();
    NodeRow {
        name: node.metadata.name.clone().unwrap_or_default(),
        status: word,
        ready: node_ready(node),
        pool: pool
            .map(str::to_string)
            .or_else(|| {
                POOL_LABELS
                    .iter()
                    .find_map(|k| label(node, k))
                    .map(str::to_string)
            })
            .unwrap_or_default(),
        zone: label(node, ZONE_LABEL).unwrap_or_default().to_string(),
        version: status
            .and_then(|s| s.node_info.as_ref())
            .map(|i| i.kubelet_version.clone())
            .unwrap_or_default(),
        cpu_requested_m: load.cpu_m,
        cpu_allocatable_m: alloc("cpu").as_deref().and_then(millicores).unwrap_or(0),
        memory_requested: load.memory,
        memory_allocatable: alloc("memory").as_deref().and_then(bytes).unwrap_or(0),
        pods: load.pods,
        age: age_of(node.metadata.creation_timestamp.as_ref(), now),
    }
}

/// A node's conditions, Ready first.
pub fn conditions(node: &Node) -> Vec<ConditionRow> {
    let mut rows: Vec<ConditionRow> = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .map(|c| {
            condition_row(
                &c.type_,
                &c.status,
                c.reason.as_deref(),
                c.message.as_deref(),
                c.last_transition_time.as_ref(),
            )
        })
        .collect();
    rows.sort_by_key(|c| c.type_ != "Ready");
    rows
}

/// `key=value:Effect` for each taint.
pub fn taints(node: &Node) -> Vec<String> {
    node.spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .into_iter()
        .flatten()
        .map(|t| match &t.value {
            Some(v) if !v.is_empty() => format!("{}={v}:{}", t.key, t.effect),
            _ => format!("{}:{}", t.key, t.effect),
        })
        .collect()
}

/// `key=value` for each label, sorted.
pub fn labels(node: &Node) -> Vec<String> {
    let mut labels: Vec<String> = node
        .metadata
        .labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    labels.sort();
    labels
}
