//! What the fleet and cluster pages show, as the server sends it: rows, details, queries.

use serde::{Deserialize, Serialize};

/// A cluster's health in one word; the reason beside it says why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    Healthy,
    Degraded,
    Provisioning,
    Upgrading,
    Scaling,
    Failed,
    Deleting,
    Unreachable,
}

impl Health {
    pub const ALL: [Health; 8] = [
        Health::Healthy,
        Health::Degraded,
        Health::Provisioning,
        Health::Upgrading,
        Health::Scaling,
        Health::Failed,
        Health::Deleting,
        Health::Unreachable,
    ];

    /// The word in addresses and CSS classes (`degraded`).
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Healthy => "healthy",
            Health::Degraded => "degraded",
            Health::Provisioning => "provisioning",
            Health::Upgrading => "upgrading",
            Health::Scaling => "scaling",
            Health::Failed => "failed",
            Health::Deleting => "deleting",
            Health::Unreachable => "unreachable",
        }
    }

    /// The word people read (`Degraded`).
    pub fn label(self) -> &'static str {
        match self {
            Health::Healthy => "Healthy",
            Health::Degraded => "Degraded",
            Health::Provisioning => "Provisioning",
            Health::Upgrading => "Upgrading",
            Health::Scaling => "Scaling",
            Health::Failed => "Failed",
            Health::Deleting => "Deleting",
            Health::Unreachable => "Unreachable",
        }
    }

    pub fn parse(value: &str) -> Option<Health> {
        let value = value.trim();
        Health::ALL
            .into_iter()
            .find(|h| h.as_str().eq_ignore_ascii_case(value))
    }
}

/// A cluster's health with the reason in words ("2 of 5 nodes NotReady").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthState {
    pub health: Health,
    pub reason: String,
}

/// One row of the fleet table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterRow {
    pub namespace: String,
    pub name: String,
    pub region: String,
    pub version: String,
    /// The newest version the ClusterClass offers beyond `version`, if any.
    pub upgrade: Option<String>,
    pub health: HealthState,
    pub pools: u32,
    /// `None` while the workload cluster's nodes are not known (unreachable, not up yet).
    pub nodes_ready: Option<u32>,
    pub nodes_total: Option<u32>,
    /// `key=value`, sorted.
    pub tags: Vec<String>,
    /// RFC 3339 creation time.
    pub created: String,
    /// "3d", "5h": the age at the time the page was made.
    pub age: String,
}

impl ClusterRow {
    /// The cluster page's address.
    pub fn href(&self) -> String {
        cluster_href(&self.namespace, &self.name, "")
    }
}

/// `/clusters/<namespace>/<name>[/<tab>]`, each part percent-encoded.
pub fn cluster_href(namespace: &str, name: &str, tab: &str) -> String {
    let base = format!(
        "/clusters/{}/{}",
        crate::ui::percent_encode(namespace).replace('/', "%2F"),
        crate::ui::percent_encode(name).replace('/', "%2F")
    );
    if tab.is_empty() {
        base
    } else {
        format!("{base}/{tab}")
    }
}

/// What the fleet table shows, as the address says it (`/clusters?q=…&health=…&sort=…&page=…`).
/// Unknown or malformed values fall back to the default (no filter, first page, sort by name).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FleetQuery {
    /// Part of the name (case-insensitive).
    pub q: String,
    pub health: String,
    pub version: String,
    pub region: String,
    /// `key=value` (or `key` alone: any value).
    pub tag: String,
    pub sort: String,
    /// "desc" for descending.
    pub dir: String,
    /// 1-based.
    pub page: String,
}

/// The columns the fleet table sorts by.
pub const FLEET_SORT_KEYS: [&str; 8] = [
    "name",
    "namespace",
    "region",
    "version",
    "health",
    "pools",
    "nodes",
    "age",
];

/// Rows per page of the fleet table.
pub const FLEET_PAGE_SIZE: usize = 50;

impl FleetQuery {
    /// The address of this view (only the parts that are set).
    pub fn href(&self) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("q", &self.q),
            ("health", &self.health),
            ("version", &self.version),
            ("region", &self.region),
            ("tag", &self.tag),
            ("sort", &self.sort),
            ("dir", &self.dir),
        ] {
            if !v.is_empty() {
                parts.push(format!("{k}={}", crate::ui::percent_encode(v)));
            }
        }
        if !self.page.is_empty() && self.page != "1" {
            parts.push(format!("page={}", crate::ui::percent_encode(&self.page)));
        }
        if parts.is_empty() {
            "/clusters".into()
        } else {
            format!("/clusters?{}", parts.join("&"))
        }
    }

    /// The same view on another page.
    pub fn on_page(&self, page: usize) -> FleetQuery {
        FleetQuery {
            page: page.to_string(),
            ..self.clone()
        }
    }

    /// The same view sorted by `key`, first page.
    pub fn sorted(&self, key: &str, descending: bool) -> FleetQuery {
        FleetQuery {
            sort: key.to_string(),
            dir: if descending {
                "desc".into()
            } else {
                String::new()
            },
            page: String::new(),
            ..self.clone()
        }
    }

    /// The same view filtered to one health state instead (first page).
    pub fn with_health(&self, health: Option<Health>) -> FleetQuery {
        FleetQuery {
            health: health.map(|h| h.as_str().to_string()).unwrap_or_default(),
            page: String::new(),
            ..self.clone()
        }
    }

    pub fn is_filtered(&self) -> bool {
        !(self.q.is_empty()
            && self.health.is_empty()
            && self.version.is_empty()
            && self.region.is_empty()
            && self.tag.is_empty())
    }
}

/// One page of the fleet, with what the filters and counts need.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetView {
    pub rows: Vec<ClusterRow>,
    /// Clusters matching the filters (all pages).
    pub matching: usize,
    /// Clusters the caller may see at all.
    pub visible: usize,
    pub page: usize,
    pub pages: usize,
    /// How many of the clusters matching every filter but health are in each state (all states,
    /// zeros included, in `Health::ALL` order).
    pub counts: Vec<(Health, usize)>,
    /// The sort key and direction in effect.
    pub sort: String,
    pub descending: bool,
    /// Values for the filter menus, from the clusters the caller may see.
    pub regions: Vec<String>,
    pub versions: Vec<String>,
    /// "stale since 14:02:11 UTC — <reason>" while the management API is not answering.
    pub stale: Option<String>,
    /// May the caller create clusters (portal-wide admins)?
    pub may_create: bool,
}

/// The tabs of a cluster page, in order: (path segment, label).
pub const CLUSTER_TABS: [(&str, &str); 5] = [
    ("", "Overview"),
    ("pools", "Node pools"),
    ("nodes", "Nodes"),
    ("pods", "Pods"),
    ("events", "Events"),
];

/// A status condition in words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionRow {
    pub type_: String,
    /// "True", "False", "Unknown".
    pub status: String,
    pub reason: String,
    pub message: String,
    /// RFC 3339, when known.
    pub since: String,
}

/// The header every tab of a cluster page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterHead {
    pub namespace: String,
    pub name: String,
    pub health: HealthState,
    pub version: String,
    pub stale: Option<String>,
    /// May the caller download the admin kubeconfig (cluster admins only)?
    pub may_download_kubeconfig: bool,
    /// May the caller change the tags (cluster admins only)?
    pub may_edit_tags: bool,
    /// May the caller delete the cluster (cluster admins only)?
    pub may_delete: bool,
}

/// The Delete page: what deleting destroys, then how far the deletion is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletionView {
    pub namespace: String,
    pub name: String,
    /// There is no such cluster (any more), or the caller cannot see it: the same answer.
    pub gone: bool,
    /// Deletion has begun (the Cluster has a deletion timestamp).
    pub deleting: bool,
    /// `(pool, nodes)` of each node pool.
    pub pools: Vec<(String, String)>,
    pub nodes: Option<u32>,
    /// Pods running on the workload cluster, when it can be reached.
    pub pods_running: Option<usize>,
    pub phase: String,
    /// What the deletion is doing now ("Deleting 3 machines").
    pub progress: String,
}

/// The Overview tab.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterOverview {
    pub head: ClusterHead,
    pub row: ClusterRow,
    pub conditions: Vec<ConditionRow>,
    pub control_plane: String,
    pub class: String,
    /// Who created it through the portal, when the audit log says so.
    pub created_by: Option<String>,
    pub phase: String,
    /// Its versions and the upgrades it may take (none without a topology).
    pub versions: Option<crate::upgrades::model::Versions>,
    /// Its newest operations.
    pub operations: Vec<crate::operations::model::OperationRow>,
}

/// The Node pools tab.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolsTab {
    pub head: ClusterHead,
    pub pools: Vec<PoolRow>,
    /// May the caller scale pools and set their autoscaler (operators and up)?
    pub may_scale: bool,
    /// A fresh key for this page's forms: pressing Apply twice starts one operation.
    pub key: String,
    /// What adding a pool may choose, for those who may add and delete pools (admins).
    pub add: Option<PoolChoices>,
}

/// The Add pool form's choices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolChoices {
    /// VM sizes the class offers: name and label ("Standard_D4s_v5 — 4 vCPU, 16 GiB, $0.192/h").
    pub vm_sizes: Vec<(String, String)>,
    /// The most nodes a pool may have.
    pub limit: u32,
    /// Why no pool may be added now (the class's most pools reached), if so.
    pub full: Option<String>,
}

/// A new pool, as the Add pool form posts it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPool {
    pub key: String,
    pub name: String,
    /// "system" or "user".
    pub mode: String,
    pub vm_size: String,
    pub count: String,
}

/// What scaling a pool down to `to` nodes would disrupt, if its newest nodes go (as Cluster API's
/// default machine deletion in kubesim does).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shrink {
    pub to: u32,
    /// Pods on the nodes that go (DaemonSet pods excluded: they go with their node).
    pub pods: u32,
    /// Whether their requests fit in what the remaining nodes have free.
    pub fits: bool,
    /// PodDisruptionBudgets that allow no disruption now and cover some of those pods.
    pub blocked_by: Vec<String>,
}

/// A change to one pool's size, as its forms post it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolChange {
    pub pool: String,
    /// The pool's sizing when the form was shown (`3`, `auto:2-6`).
    pub was: String,
    pub key: String,
    /// `count`: a fixed node count; `autoscale`: bounds; `fixed`: the autoscaler off.
    pub what: String,
    pub count: String,
    pub min: String,
    pub max: String,
    /// The person confirmed a scale-down that warned (pods that do not fit, a blocking PDB).
    pub confirmed: bool,
}

/// The Nodes tab.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodesTab {
    pub head: ClusterHead,
    pub nodes: Vec<NodeRow>,
    /// Why requests and pod counts are missing, when the pods could not be read.
    pub pods_unknown: Option<String>,
}

/// The Events tab.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsTab {
    pub head: ClusterHead,
    pub events: Vec<EventRow>,
}

/// A pool's VM size as the ClusterClass describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct VmSize {
    pub name: String,
    /// "4 vCPU, 16 GiB", plus ", 1 GPU" where there is one; empty when the class does not say.
    pub shape: String,
}

/// One row of the Node pools tab.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolRow {
    pub name: String,
    /// "System" or "User".
    pub mode: String,
    pub vm_size: VmSize,
    pub version: String,
    pub ready: u32,
    pub desired: u32,
    /// "2–6", or empty without an autoscaler.
    pub autoscaler: String,
    pub zones: Vec<String>,
    pub labels: Vec<String>,
    pub taints: Vec<String>,
    /// How its size is set (`3`, `auto:2-6`): forms carry it back.
    pub sizing: String,
    /// The count the topology declares (the autoscaler's choice when it owns the count).
    pub count: u32,
    /// The autoscaler's bounds, when it owns the count.
    pub bounds: Option<(u32, u32)>,
    /// The fewest nodes it may have (1 for the cluster's last system pool) and the most.
    pub floor: u32,
    pub limit: u32,
    /// The VM size's price in millionths of a dollar per hour (0 when unknown).
    pub price_micros: u64,
    /// What each smaller count would disrupt, for counts below `count`.
    pub shrink: Vec<Shrink>,
    /// The operation running on it now, if one does.
    pub running: Option<String>,
    /// Why it cannot be deleted (the cluster's last system pool), if so.
    pub keep: Option<String>,
}

/// One row of the Nodes tab.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRow {
    pub name: String,
    /// "Ready", "NotReady", "Unknown", with ", SchedulingDisabled" when cordoned.
    pub status: String,
    pub ready: bool,
    pub pool: String,
    pub zone: String,
    pub version: String,
    /// Requests of the pods on it, and what it can give, in millicores and bytes.
    pub cpu_requested_m: u64,
    pub cpu_allocatable_m: u64,
    pub memory_requested: u64,
    pub memory_allocatable: u64,
    pub pods: u32,
    pub age: String,
}

/// A Kubernetes event, as the Events tab and the node and pod pages list it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRow {
    /// "Warning" or "Normal".
    pub type_: String,
    /// `Kind/name` (with the namespace when it has one).
    pub object: String,
    pub reason: String,
    pub message: String,
    pub count: u32,
    /// RFC 3339.
    pub last_seen: String,
    pub age: String,
}

/// A node page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeDetail {
    pub head: ClusterHead,
    pub node: NodeRow,
    pub conditions: Vec<ConditionRow>,
    pub taints: Vec<String>,
    pub labels: Vec<String>,
    pub pods: Vec<PodRow>,
    pub events: Vec<EventRow>,
}

/// One row of the Pods tab.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodRow {
    pub namespace: String,
    pub name: String,
    /// The phase, or the reason that matters more (CrashLoopBackOff, OOMKilled, Unschedulable).
    pub status: String,
    /// Why, in words (the scheduler's message for a pending pod).
    pub reason: String,
    pub restarts: u32,
    pub node: String,
    pub age: String,
    /// `Kind/name`.
    pub owner: String,
}

/// The Pods tab's filters, from the address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PodQuery {
    pub namespace: String,
    pub phase: String,
    pub node: String,
    pub page: String,
}

/// Rows per page of the Pods tab.
pub const POD_PAGE_SIZE: usize = 100;

/// One page of the Pods tab.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodList {
    pub head: ClusterHead,
    pub rows: Vec<PodRow>,
    pub matching: usize,
    pub page: usize,
    pub pages: usize,
    pub namespaces: Vec<String>,
    pub nodes: Vec<String>,
}

/// A container of a pod.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerRow {
    pub name: String,
    pub image: String,
    /// "Running since …", "Waiting: CrashLoopBackOff", "Terminated: Completed (exit 0)".
    pub state: String,
    pub ready: bool,
    pub restarts: u32,
    /// "OOMKilled (exit 137) at …", when it has terminated before.
    pub last_termination: String,
}

/// A pod page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodDetail {
    pub head: ClusterHead,
    pub pod: PodRow,
    pub containers: Vec<ContainerRow>,
    pub conditions: Vec<ConditionRow>,
    pub events: Vec<EventRow>,
}

/// Lines of a container's log, as the logs page shows them without JavaScript.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogView {
    pub head: ClusterHead,
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub containers: Vec<String>,
    pub previous: bool,
    /// Whether the container has restarted (so there is a previous container's log).
    pub has_previous: bool,
    pub lines: Vec<String>,
    /// Lines were cut: the page shows the last `LOG_LINES_MAX` and each line up to `LOG_LINE_MAX`.
    pub truncated: bool,
}

/// The most lines a log page or stream holds.
pub const LOG_LINES_MAX: usize = 1000;
/// The longest log line kept (longer ones are cut and marked).
pub const LOG_LINE_MAX: usize = 16 * 1024;
/// The lines shown when the address does not say.
pub const LOG_LINES_DEFAULT: usize = 200;

/// "3d", "5h", "12m", "40s" for a duration in seconds.
pub fn age(seconds: i64) -> String {
    let s = seconds.max(0);
    if s >= 86_400 {
        format!("{}d", s / 86_400)
    } else if s >= 3_600 {
        format!("{}h", s / 3_600)
    } else if s >= 60 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_words_parse_back() {
        assert_eq!(Health::parse("Degraded"), Some(Health::Degraded));
        assert_eq!(Health::parse(" unreachable "), Some(Health::Unreachable));
        assert_eq!(Health::parse("sick"), None);
    }

    #[test]
    fn fleet_addresses_carry_only_what_is_set() {
        let q = FleetQuery {
            q: "prod weu".into(),
            tag: "team=pay&x".into(),
            ..Default::default()
        };
        assert_eq!(q.href(), "/clusters?q=prod%20weu&tag=team%3Dpay%26x");
        assert_eq!(
            q.on_page(3).href(),
            "/clusters?q=prod%20weu&tag=team%3Dpay%26x&page=3"
        );
        assert_eq!(
            q.on_page(3).sorted("age", true).href(),
            "/clusters?q=prod%20weu&tag=team%3Dpay%26x&sort=age&dir=desc"
        );
        assert_eq!(FleetQuery::default().href(), "/clusters");
        assert_eq!(
            cluster_href("default", "prod-weu", "nodes"),
            "/clusters/default/prod-weu/nodes"
        );
    }

    #[test]
    fn ages_are_short() {
        assert_eq!(age(42), "42s");
        assert_eq!(age(3 * 60 + 5), "3m");
        assert_eq!(age(5 * 3600), "5h");
        assert_eq!(age(3 * 86_400 + 7), "3d");
        assert_eq!(age(-5), "0s");
    }
}
