//! The fleet table's rows, made from the watched state: one `ClusterRow` per cluster.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use app::access::model::ClusterRef;
use app::clusters::model::{ClusterRow, age};
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

use super::health::{NodesSeen, health};
use super::resources::{CLUSTER_NAME_LABEL, Cluster, ClusterClass};
use super::versions::{Version, offered, upgrades};
use super::watch::FleetWatch;
use super::workloads::Reach;

/// Labels and annotations under this prefix are a cluster's tags (`portolan.dev/team: payments`
/// shows as `team=payments`, as `kubectl annotate` or GitOps may write them), except the ones
/// below, which have their own columns or hold the tags the portal writes.
pub const TAG_PREFIX: &str = "portolan.dev/";
const NOT_TAGS: [&str; 3] = ["region", "description", "tags"];
/// The annotation the portal writes tags to: a JSON object of key → value. Tag keys may hold
/// `/` and 128 characters, which an annotation's name may not; its tags win over per-key ones.
pub const TAGS_ANNOTATION: &str = "portolan.dev/tags";
/// Where a cluster's region is written (a label), if its topology does not say.
pub const REGION_LABEL: &str = "portolan.dev/region";

/// Seconds since the Unix epoch of a Kubernetes timestamp.
pub fn unix_seconds(t: &Time) -> i64 {
    t.0.as_second()
}

/// RFC 3339 text of a Kubernetes timestamp.
pub fn rfc3339(t: &Time) -> String {
    t.0.to_string()
}

/// A status condition in words (node and pod conditions have the same fields, in two types).
pub fn condition_row(
    type_: &str,
    status: &str,
    reason: Option<&str>,
    message: Option<&str>,
    since: Option<&Time>,
) -> app::clusters::model::ConditionRow {
    app::clusters::model::ConditionRow {
        type_: type_.to_string(),
        status: status.to_string(),
        reason: reason.unwrap_or_default().to_string(),
        message: message.unwrap_or_default().to_string(),
        since: since.map(rfc3339).unwrap_or_default(),
    }
}

pub fn now_seconds() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// "5d" since `t` (empty when unknown).
pub fn age_of(t: Option<&Time>, now: i64) -> String {
    t.map(unix_seconds)
        .map(|s| age(now - s))
        .unwrap_or_default()
}

/// Ready and total of a set of nodes.
pub fn count_ready<'a>(nodes: impl Iterator<Item = &'a Node>) -> (u32, u32) {
    nodes.fold((0, 0), |(ready, total), n| {
        (ready + u32::from(node_ready(n)), total + 1)
    })
}

/// Whether a node's Ready condition is True.
pub fn node_ready(node: &Node) -> bool {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// What the node watch of a cluster shows now.
pub fn nodes_seen(watch: &FleetWatch, cluster: &ClusterRef) -> NodesSeen {
    match watch.workloads.reach(cluster) {
        Reach::NotListed => NodesSeen::Unknown,
        Reach::NoSecret => NodesSeen::Unreachable(format!(
            "its Secret {}-kubeconfig does not exist",
            cluster.name
        )),
        Reach::Unreachable(why) => NodesSeen::Unreachable(why),
        Reach::Connected(w) => {
            if let Some(problem) = w.problem() {
                return NodesSeen::Unreachable(format!("its API failed: {}", problem.reason));
            }
            if !w.nodes_known() {
                return NodesSeen::Unknown;
            }
            let nodes = w.nodes.state();
            let (ready, total) = count_ready(nodes.iter().map(|n| n.as_ref()));
            NodesSeen::Counted { ready, total }
        }
    }
}

/// The region: the topology's `region` variable, else the region label.
pub fn region(cluster: &Cluster) -> String {
    cluster
        .spec
        .topology
        .as_ref()
        .and_then(|t| t.variables.iter().find(|v| v.name == "region"))
        .and_then(|v| v.value.as_str().map(str::to_string))
        .or_else(|| {
            cluster
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(REGION_LABEL).cloned())
        })
        .unwrap_or_default()
}

/// The per-key tag labels and annotations (`portolan.dev/<key>`), by their full names.
pub fn per_key_tags(meta: &ObjectMeta) -> (Vec<String>, Vec<String>) {
    let names = |map: &Option<std::collections::BTreeMap<String, String>>| -> Vec<String> {
        map.iter()
            .flatten()
            .filter(|(k, _)| {
                k.strip_prefix(TAG_PREFIX)
                    .is_some_and(|key| !NOT_TAGS.contains(&key))
            })
            .map(|(k, _)| k.clone())
            .collect()
    };
    (names(&meta.labels), names(&meta.annotations))
}

/// `(key, value)` tags, sorted by key: the per-key labels and annotations, then the JSON
/// annotation over them. A JSON annotation that does not parse adds nothing.
pub fn tag_pairs(cluster: &Cluster) -> Vec<(String, String)> {
    let meta = &cluster.metadata;
    let mut tags: std::collections::BTreeMap<String, String> = meta
        .labels
        .iter()
        .chain(meta.annotations.iter())
        .flatten()
        .filter_map(|(k, v)| {
            let key = k.strip_prefix(TAG_PREFIX)?;
            (!NOT_TAGS.contains(&key)).then(|| (key.to_string(), v.clone()))
        })
        .collect();
    if let Some(written) = meta
        .annotations
        .as_ref()
        .and_then(|a| a.get(TAGS_ANNOTATION))
        .and_then(|j| serde_json::from_str::<std::collections::BTreeMap<String, String>>(j).ok())
    {
        tags.extend(written);
    }
    tags.into_iter().collect()
}

/// `key=value` tags, sorted.
pub fn tags(cluster: &Cluster) -> Vec<String> {
    tag_pairs(cluster)
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect()
}

/// The topology version, if the cluster has one.
pub fn version(cluster: &Cluster) -> String {
    cluster
        .spec
        .topology
        .as_ref()
        .map(|t| t.version.clone())
        .unwrap_or_default()
}

/// The newest version `cluster` may move to, given the classes (by `namespace/name`).
fn upgrade(cluster: &Cluster, classes: &Offers) -> Option<String> {
    let offered = classes.get(&cluster.class_ref()?)?;
    let current = Version::parse(&version(cluster))?;
    upgrades(current, offered).last().map(ToString::to_string)
}

/// Versions each ClusterClass offers, by `(namespace, name)`.
type Offers = HashMap<(String, String), Vec<Version>>;

fn offers(watch: &FleetWatch) -> Offers {
    watch
        .classes
        .state()
        .iter()
        .filter_map(|c: &Arc<ClusterClass>| {
            Some((
                (c.metadata.namespace.clone()?, c.metadata.name.clone()?),
                offered(c),
            ))
        })
        .collect()
}

/// How many MachineDeployments each cluster has, by `(namespace, cluster name)`.
fn pool_counts(watch: &FleetWatch) -> HashMap<(String, String), u32> {
    let mut pools: HashMap<(String, String), u32> = HashMap::new();
    for md in watch.pools.state() {
        let (Some(ns), Some(cluster)) = (
            md.metadata.namespace.clone(),
            md.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(CLUSTER_NAME_LABEL).cloned()),
        ) else {
            continue;
        };
        *pools.entry((ns, cluster)).or_default() += 1;
    }
    pools
}

/// How long computed rows serve requests before they are made again from the watches.
const ROWS_FRESH_FOR: Duration = Duration::from_millis(250);

/// Rows made from the watches, kept for `ROWS_FRESH_FOR`: a busy fleet page computes health for
/// every cluster a few times a second at most, not on every request.
/// Rows, and when they were made.
type Made = Option<(Instant, Arc<Vec<ClusterRow>>)>;

#[derive(Clone, Default)]
pub struct RowCache(Arc<Mutex<Made>>);

impl FleetWatch {
    /// Every cluster's row, sorted by name, at most `ROWS_FRESH_FOR` old.
    pub fn rows(&self) -> Arc<Vec<ClusterRow>> {
        // Held while rows are made, so that concurrent requests wait for one computation.
        let mut cached = self
            .row_cache
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((at, rows)) = cached.as_ref()
            && at.elapsed() < ROWS_FRESH_FOR
        {
            return rows.clone();
        }
        let mut rows = all_rows(self);
        rows.sort_by(|a, b| (&a.name, &a.namespace).cmp(&(&b.name, &b.namespace)));
        let rows = Arc::new(rows);
        *cached = Some((Instant::now(), rows.clone()));
        rows
    }
}

/// Every cluster's row, in the watch's order (unsorted).
pub fn all_rows(watch: &FleetWatch) -> Vec<ClusterRow> {
    let now = now_seconds();
    let (classes, pools) = (offers(watch), pool_counts(watch));
    watch
        .clusters
        .state()
        .iter()
        .filter_map(|c| make_row(watch, c, &classes, &pools, now))
        .collect()
}

/// One cluster's row.
pub fn row_of(watch: &FleetWatch, cluster: &Cluster) -> Option<ClusterRow> {
    make_row(
        watch,
        cluster,
        &offers(watch),
        &pool_counts(watch),
        now_seconds(),
    )
}

fn make_row(
    watch: &FleetWatch,
    c: &Cluster,
    classes: &Offers,
    pools: &HashMap<(String, String), u32>,
    now: i64,
) -> Option<ClusterRow> {
    let reference = c.reference()?;
    let seen = nodes_seen(watch, &reference);
    let declared = c
        .spec
        .topology
        .as_ref()
        .and_then(|t| t.workers.as_ref())
        .map(|w| w.machine_deployments.len() as u32);
    let pool_count = pools
        .get(&(reference.namespace.clone(), reference.name.clone()))
        .copied()
        .or(declared)
        .unwrap_or(0);
    let (nodes_ready, nodes_total) = match &seen {
        NodesSeen::Counted { ready, total } => (Some(*ready), Some(*total)),
        _ => (None, None),
    };
    Some(ClusterRow {
        region: region(c),
        version: version(c),
        upgrade: upgrade(c, classes),
        health: health(c, &seen),
        pools: pool_count,
        nodes_ready,
        nodes_total,
        tags: tags(c),
        created: c
            .metadata
            .creation_timestamp
            .as_ref()
            .map(rfc3339)
            .unwrap_or_default(),
        age: age_of(c.metadata.creation_timestamp.as_ref(), now),
        namespace: reference.namespace,
        name: reference.name,
    })
}
