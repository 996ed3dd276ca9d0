//! The kinds kubesim serves: one table drives discovery, routing, validation and printing.

/// Which API a kind lives on: the management cluster or every workload cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Plane {
    Management,
    Workload,
}

/// One served resource (a `group/version/plural`).
#[derive(Debug)]
pub struct Resource {
    pub plane: Plane,
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    /// Has a `status` subresource: the main endpoint ignores status, `/status` ignores the rest.
    pub status: bool,
    /// metrics.k8s.io: computed on read, list/get only, no watch.
    pub computed: bool,
}

const RW: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];
const RO: &[&str] = &["get", "list"];

impl Resource {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    pub fn verbs(&self) -> &'static [&'static str] {
        if self.computed { RO } else { RW }
    }

    /// The `group` as Kubernetes writes it in error details ("" for core).
    pub fn qualified_plural(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    pub fn is(&self, group: &str, plural: &str) -> bool {
        self.group == group && self.plural == plural
    }
}

macro_rules! resource {
    ($plane:ident, $group:literal, $version:literal, $kind:literal, $plural:literal, $singular:literal,
     namespaced: $ns:literal, short: [$($short:literal),*], status: $status:literal, computed: $computed:literal) => {
        Resource {
            plane: Plane::$plane,
            group: $group,
            version: $version,
            kind: $kind,
            plural: $plural,
            singular: $singular,
            namespaced: $ns,
            short_names: &[$($short),*],
            status: $status,
            computed: $computed,
        }
    };
}

pub const CAPI_GROUP: &str = "cluster.x-k8s.io";
pub const CAPI_VERSION: &str = "v1beta2";

/// Every served resource. Indexes into this table identify a resource inside a store.
pub static RESOURCES: &[Resource] = &[
    // Management cluster.
    resource!(Management, "", "v1", "Namespace", "namespaces", "namespace", namespaced: false, short: ["ns"], status: true, computed: false),
    resource!(Management, "", "v1", "Secret", "secrets", "secret", namespaced: true, short: [], status: false, computed: false),
    resource!(Management, "", "v1", "Event", "events", "event", namespaced: true, short: ["ev"], status: false, computed: false),
    resource!(Management, "cluster.x-k8s.io", "v1beta2", "Cluster", "clusters", "cluster", namespaced: true, short: ["cl"], status: true, computed: false),
    resource!(Management, "cluster.x-k8s.io", "v1beta2", "ClusterClass", "clusterclasses", "clusterclass", namespaced: true, short: ["cc"], status: true, computed: false),
    resource!(Management, "cluster.x-k8s.io", "v1beta2", "MachineDeployment", "machinedeployments", "machinedeployment", namespaced: true, short: ["md"], status: true, computed: false),
    resource!(Management, "cluster.x-k8s.io", "v1beta2", "Machine", "machines", "machine", namespaced: true, short: ["ma"], status: true, computed: false),
    // Workload clusters.
    resource!(Workload, "", "v1", "Namespace", "namespaces", "namespace", namespaced: false, short: ["ns"], status: true, computed: false),
    resource!(Workload, "", "v1", "Node", "nodes", "node", namespaced: false, short: ["no"], status: true, computed: false),
    resource!(Workload, "", "v1", "Pod", "pods", "pod", namespaced: true, short: ["po"], status: true, computed: false),
    resource!(Workload, "", "v1", "Event", "events", "event", namespaced: true, short: ["ev"], status: false, computed: false),
    resource!(Workload, "policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", "poddisruptionbudget", namespaced: true, short: ["pdb"], status: true, computed: false),
    resource!(Workload, "apps", "v1", "Deployment", "deployments", "deployment", namespaced: true, short: ["deploy"], status: true, computed: false),
    resource!(Workload, "metrics.k8s.io", "v1beta1", "NodeMetrics", "nodes", "", namespaced: false, short: [], status: false, computed: true),
    resource!(Workload, "metrics.k8s.io", "v1beta1", "PodMetrics", "pods", "", namespaced: true, short: [], status: false, computed: true),
    // What clients and controllers expect of any cluster: configuration, credentials, leader election.
    resource!(Workload, "", "v1", "ConfigMap", "configmaps", "configmap", namespaced: true, short: ["cm"], status: false, computed: false),
    resource!(Workload, "", "v1", "Secret", "secrets", "secret", namespaced: true, short: [], status: false, computed: false),
    resource!(Management, "", "v1", "ConfigMap", "configmaps", "configmap", namespaced: true, short: ["cm"], status: false, computed: false),
    resource!(Management, "coordination.k8s.io", "v1", "Lease", "leases", "lease", namespaced: true, short: [], status: false, computed: false),
    resource!(Workload, "coordination.k8s.io", "v1", "Lease", "leases", "lease", namespaced: true, short: [], status: false, computed: false),
    resource!(Workload, "apps", "v1", "DaemonSet", "daemonsets", "daemonset", namespaced: true, short: ["ds"], status: true, computed: false),
    resource!(Workload, "apps", "v1", "ReplicaSet", "replicasets", "replicaset", namespaced: true, short: ["rs"], status: true, computed: false),
    // The same Events as core/v1, under the newer names (stored as core Events: `events_v1`).
    resource!(Management, "events.k8s.io", "v1", "Event", "events", "event", namespaced: true, short: ["ev"], status: false, computed: false),
    resource!(Workload, "events.k8s.io", "v1", "Event", "events", "event", namespaced: true, short: ["ev"], status: false, computed: false),
];

/// Resource ids, for code that names a kind directly.
pub mod id {
    pub const M_NAMESPACES: usize = 0;
    pub const M_SECRETS: usize = 1;
    pub const M_EVENTS: usize = 2;
    pub const CLUSTERS: usize = 3;
    pub const CLUSTER_CLASSES: usize = 4;
    pub const MACHINE_DEPLOYMENTS: usize = 5;
    pub const MACHINES: usize = 6;
    pub const W_NAMESPACES: usize = 7;
    pub const NODES: usize = 8;
    pub const PODS: usize = 9;
    pub const W_EVENTS: usize = 10;
    pub const PDBS: usize = 11;
    pub const DEPLOYMENTS: usize = 12;
    pub const NODE_METRICS: usize = 13;
    pub const POD_METRICS: usize = 14;
    pub const W_CONFIGMAPS: usize = 15;
    pub const W_SECRETS: usize = 16;
    pub const M_CONFIGMAPS: usize = 17;
    pub const M_LEASES: usize = 18;
    pub const W_LEASES: usize = 19;
    pub const DAEMON_SETS: usize = 20;
    pub const REPLICA_SETS: usize = 21;
    pub const M_EVENTS_V1: usize = 22;
    pub const W_EVENTS_V1: usize = 23;
}

pub fn get(id: usize) -> &'static Resource {
    &RESOURCES[id]
}

/// The resource served at `group/version/plural` on `plane`.
pub fn find(plane: Plane, group: &str, version: &str, plural: &str) -> Option<usize> {
    RESOURCES.iter().position(|r| {
        r.plane == plane && r.group == group && r.version == version && r.plural == plural
    })
}

/// Whether `group/version` is served at all on `plane` (for 404 vs. unknown resource).
pub fn serves_group_version(plane: Plane, group: &str, version: &str) -> bool {
    RESOURCES
        .iter()
        .any(|r| r.plane == plane && r.group == group && r.version == version)
}

/// Served groups on `plane`, in first-seen order, each with its versions (one each here).
pub fn groups(plane: Plane) -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for r in RESOURCES
        .iter()
        .filter(|r| r.plane == plane && !r.group.is_empty())
    {
        if !out.iter().any(|(g, _)| *g == r.group) {
            out.push((r.group, r.version));
        }
    }
    out
}

pub fn in_group_version(
    plane: Plane,
    group: &'static str,
    version: &'static str,
) -> impl Iterator<Item = &'static Resource> {
    RESOURCES
        .iter()
        .filter(move |r| r.plane == plane && r.group == group && r.version == version)
}
