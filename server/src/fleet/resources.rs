//! Typed Cluster API v1beta2 kinds: the fields the portal reads, everything else kept as it came.
//!
//! Each struct names only what the portal uses; `rest` holds every other field, so an object read
//! and written back loses nothing a newer Cluster API (or another controller) put there.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Fields this version of the portal does not read, written back unchanged.
pub type Rest = BTreeMap<String, Value>;

/// The label Cluster API puts on every object that belongs to a cluster.
pub const CLUSTER_NAME_LABEL: &str = "cluster.x-k8s.io/cluster-name";
/// The label naming the topology's machine deployment a Machine or MachineDeployment belongs to.
pub const POOL_NAME_LABEL: &str = "topology.cluster.x-k8s.io/deployment-name";

/// Implements the traits kube-rs needs (`Api<K>`, watchers, reflectors) for a namespaced
/// `cluster.x-k8s.io/v1beta2` kind.
macro_rules! cluster_api_kind {
    ($kind:ident, $plural:literal) => {
        impl k8s_openapi::Resource for $kind {
            const API_VERSION: &'static str = "cluster.x-k8s.io/v1beta2";
            const GROUP: &'static str = "cluster.x-k8s.io";
            const KIND: &'static str = stringify!($kind);
            const VERSION: &'static str = "v1beta2";
            const URL_PATH_SEGMENT: &'static str = $plural;
            type Scope = k8s_openapi::NamespaceResourceScope;
        }

        impl k8s_openapi::Metadata for $kind {
            type Ty = ObjectMeta;
            fn metadata(&self) -> &ObjectMeta {
                &self.metadata
            }
            fn metadata_mut(&mut self) -> &mut ObjectMeta {
                &mut self.metadata
            }
        }
    };
}

/// A status condition (Cluster API v1beta2 uses the Kubernetes `metav1.Condition` shape).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    /// "True", "False" or "Unknown".
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
    #[serde(flatten)]
    pub rest: Rest,
}

/// A named value: a ClusterClass variable as a Cluster sets it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variable {
    pub name: String,
    pub value: Value,
    #[serde(flatten)]
    pub rest: Rest,
}

/// Labels and annotations a topology passes on to what it creates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TopologyMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

// ---------------------------------------------------------------------------------------------
// Cluster
// ---------------------------------------------------------------------------------------------

/// `clusters.cluster.x-k8s.io`: one workload cluster, usually described by a ClusterClass topology.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: ClusterSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ClusterStatus>,
    /// `apiVersion`, `kind` and anything else at the top level.
    #[serde(flatten)]
    pub rest: Rest,
}
cluster_api_kind!(Cluster, "clusters");

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology: Option<Topology>,
    #[serde(flatten)]
    pub rest: Rest,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Topology {
    pub class_ref: ClassRef,
    /// The Kubernetes version of the control plane (and of pools that do not defer upgrades).
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_plane: Option<ControlPlaneTopology>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers: Option<WorkersTopology>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variables: Vec<Variable>,
    #[serde(flatten)]
    pub rest: Rest,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClassRef {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(flatten)]
    pub rest: Rest,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ControlPlaneTopology {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    #[serde(flatten)]
    pub rest: Rest,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkersTopology {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub machine_deployments: Vec<PoolTopology>,
    #[serde(flatten)]
    pub rest: Rest,
}

/// A node pool as the Cluster's topology declares it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PoolTopology {
    /// The ClusterClass worker class it is made from.
    pub class: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<TopologyMetadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variables: Option<PoolVariables>,
    #[serde(flatten)]
    pub rest: Rest,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PoolVariables {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<Variable>,
    #[serde(flatten)]
    pub rest: Rest,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_plane: Option<ReplicaCounts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers: Option<ReplicaCounts>,
    #[serde(flatten)]
    pub rest: Rest,
}

/// Replica counts as Cluster API v1beta2 reports them for control planes, workers and pools.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaCounts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up_to_date_replicas: Option<i32>,
    #[serde(flatten)]
    pub rest: Rest,
}

// ---------------------------------------------------------------------------------------------
// MachineDeployment
// ---------------------------------------------------------------------------------------------

/// `machinedeployments.cluster.x-k8s.io`: the machines of one node pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineDeployment {
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: MachineDeploymentSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<MachineDeploymentStatus>,
    /// `apiVersion`, `kind` and anything else at the top level.
    #[serde(flatten)]
    pub rest: Rest,
}
cluster_api_kind!(MachineDeployment, "machinedeployments");

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MachineDeploymentSpec {
    pub cluster_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    #[serde(default)]
    pub template: MachineTemplate,
    #[serde(flatten)]
    pub rest: Rest,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MachineTemplate {
    #[serde(default)]
    pub spec: MachineTemplateSpec,
    #[serde(flatten)]
    pub rest: Rest,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MachineTemplateSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(flatten)]
    pub rest: Rest,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MachineDeploymentStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up_to_date_replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    #[serde(flatten)]
    pub rest: Rest,
}

// ---------------------------------------------------------------------------------------------
// Machine
// ---------------------------------------------------------------------------------------------

/// `machines.cluster.x-k8s.io`: one node's machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: MachineSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<MachineStatus>,
    /// `apiVersion`, `kind` and anything else at the top level.
    #[serde(flatten)]
    pub rest: Rest,
}
cluster_api_kind!(Machine, "machines");

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MachineSpec {
    pub cluster_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_domain: Option<String>,
    #[serde(flatten)]
    pub rest: Rest,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MachineStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_ref: Option<NodeRef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    #[serde(flatten)]
    pub rest: Rest,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeRef {
    pub name: String,
    #[serde(flatten)]
    pub rest: Rest,
}

// ---------------------------------------------------------------------------------------------
// ClusterClass
// ---------------------------------------------------------------------------------------------

/// `clusterclasses.cluster.x-k8s.io`: what a Cluster's topology may ask for (versions, variables).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterClass {
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: ClusterClassSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Value>,
    /// `apiVersion`, `kind` and anything else at the top level.
    #[serde(flatten)]
    pub rest: Rest,
}
cluster_api_kind!(ClusterClass, "clusterclasses");

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterClassSpec {
    /// Oldest first, as Cluster API requires.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kubernetes_versions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variables: Vec<ClassVariable>,
    #[serde(flatten)]
    pub rest: Rest,
}

/// A variable a ClusterClass declares, with its schema (VM sizes, regions, zones live there).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClassVariable {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    #[serde(default)]
    pub schema: Value,
    #[serde(flatten)]
    pub rest: Rest,
}

impl Cluster {
    /// `namespace/name`.
    pub fn reference(&self) -> Option<app::access::model::ClusterRef> {
        Some(app::access::model::ClusterRef::new(
            self.metadata.namespace.clone()?,
            self.metadata.name.clone()?,
        ))
    }

    /// `(namespace, name)` of the ClusterClass its topology names (the class's namespace defaults to
    /// the cluster's), or `None` without a topology.
    pub fn class_ref(&self) -> Option<(String, String)> {
        let topology = self.spec.topology.as_ref()?;
        let namespace = topology
            .class_ref
            .namespace
            .clone()
            .or_else(|| self.metadata.namespace.clone())?;
        Some((namespace, topology.class_ref.name.clone()))
    }

    /// The condition of `type_`, if the status has it.
    pub fn condition(&self, type_: &str) -> Option<&Condition> {
        self.status
            .as_ref()?
            .conditions
            .iter()
            .find(|c| c.type_ == type_)
    }
}
