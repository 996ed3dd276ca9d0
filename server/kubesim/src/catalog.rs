//! The simulated cloud's offering: Kubernetes versions, regions and VM sizes, and the seeded
//! ClusterClass that carries them the way Cluster API expects.

use serde_json::{Value, json};

/// Every version the ClusterClass offers (four minors, several patches each), oldest first.
pub const VERSIONS: &[&str] = &[
    "v1.31.0", "v1.31.4", "v1.31.8", "v1.32.0", "v1.32.3", "v1.32.7", "v1.33.0", "v1.33.2",
    "v1.33.5", "v1.34.0", "v1.34.1", "v1.34.2",
];

pub const REGIONS: &[&str] = &[
    "westeurope",
    "northeurope",
    "francecentral",
    "eastus",
    "westus2",
    "southeastasia",
    "australiaeast",
];

pub const OS_IMAGES: &[&str] = &["ubuntu-22.04", "ubuntu-24.04", "azurelinux-3"];

/// One VM size: what the portal shows and what the simulation gives a node.
#[derive(Clone, Copy, Debug)]
pub struct VmSize {
    pub name: &'static str,
    pub family: &'static str,
    pub vcpu: u32,
    pub memory_gib: u32,
    pub gpu: u32,
    pub price_per_hour: f64,
}

pub const VM_SIZES: &[VmSize] = &[
    VmSize {
        name: "Standard_D2s_v5",
        family: "general",
        vcpu: 2,
        memory_gib: 8,
        gpu: 0,
        price_per_hour: 0.096,
    },
    VmSize {
        name: "Standard_D4s_v5",
        family: "general",
        vcpu: 4,
        memory_gib: 16,
        gpu: 0,
        price_per_hour: 0.192,
    },
    VmSize {
        name: "Standard_D8s_v5",
        family: "general",
        vcpu: 8,
        memory_gib: 32,
        gpu: 0,
        price_per_hour: 0.384,
    },
    VmSize {
        name: "Standard_E4s_v5",
        family: "memory",
        vcpu: 4,
        memory_gib: 32,
        gpu: 0,
        price_per_hour: 0.252,
    },
    VmSize {
        name: "Standard_E8s_v5",
        family: "memory",
        vcpu: 8,
        memory_gib: 64,
        gpu: 0,
        price_per_hour: 0.504,
    },
    VmSize {
        name: "Standard_F4s_v2",
        family: "compute",
        vcpu: 4,
        memory_gib: 8,
        gpu: 0,
        price_per_hour: 0.169,
    },
    VmSize {
        name: "Standard_F8s_v2",
        family: "compute",
        vcpu: 8,
        memory_gib: 16,
        gpu: 0,
        price_per_hour: 0.338,
    },
    VmSize {
        name: "Standard_NC4as_T4_v3",
        family: "gpu",
        vcpu: 4,
        memory_gib: 28,
        gpu: 1,
        price_per_hour: 0.526,
    },
    VmSize {
        name: "Standard_NC24ads_A100_v4",
        family: "gpu",
        vcpu: 24,
        memory_gib: 220,
        gpu: 1,
        price_per_hour: 3.673,
    },
];

pub const DEFAULT_VM_SIZE: &str = "Standard_D4s_v5";

pub fn vm_size(name: &str) -> Option<&'static VmSize> {
    VM_SIZES.iter().find(|s| s.name == name)
}

/// The annotation on the ClusterClass carrying the VM size catalog (JSON list).
pub const VM_SIZES_ANNOTATION: &str = "portolan.dev/vm-sizes";
/// Autoscaler bounds on a pool's topology metadata (the Cluster API autoscaler's own annotations).
pub const AUTOSCALER_MIN: &str = "cluster.x-k8s.io/cluster-api-autoscaler-node-group-min-size";
pub const AUTOSCALER_MAX: &str = "cluster.x-k8s.io/cluster-api-autoscaler-node-group-max-size";
/// The annotation on the ClusterClass carrying its limits (JSON object): `maxNodesPerPool`,
/// `maxPools` and the allowed `controlPlaneReplicas`. Cluster API has no field for them.
pub const LIMITS_ANNOTATION: &str = "portolan.dev/limits";
/// Nodes in one pool, pools in one cluster, and the control plane sizes etcd quorum allows.
pub const MAX_NODES_PER_POOL: i64 = 1000;
pub const MAX_POOLS: usize = 100;
pub const CONTROL_PLANE_REPLICAS: &[i64] = &[1, 3, 5];
pub const DEFER_UPGRADE: &str = "topology.cluster.x-k8s.io/defer-upgrade";
pub const CLASS_NAME: &str = "managed-k8s";
pub const WORKER_CLASS: &str = "default-worker";

fn template(kind: &str, name: &str) -> Value {
    json!({"templateRef": {"apiVersion": "infrastructure.kubesim.portolan.dev/v1beta1", "kind": kind, "name": name}})
}

fn variable(name: &str, required: bool, schema: Value) -> Value {
    json!({"name": name, "required": required, "schema": {"openAPIV3Schema": schema}})
}

/// The ClusterClass seeded into the `default` namespace of every kubesim.
pub fn cluster_class(namespace: &str) -> Value {
    let sizes: Vec<Value> = VM_SIZES
        .iter()
        .map(|s| {
            json!({"name": s.name, "family": s.family, "vcpu": s.vcpu, "memoryGiB": s.memory_gib,
                        "gpu": s.gpu, "pricePerHour": s.price_per_hour})
        })
        .collect();
    let size_names: Vec<&str> = VM_SIZES.iter().map(|s| s.name).collect();
    json!({
        "apiVersion": "cluster.x-k8s.io/v1beta2",
        "kind": "ClusterClass",
        "metadata": {"name": CLASS_NAME, "namespace": namespace, "annotations": {
            VM_SIZES_ANNOTATION: serde_json::to_string(&sizes).unwrap_or_default(),
            LIMITS_ANNOTATION: json!({"maxNodesPerPool": MAX_NODES_PER_POOL, "maxPools": MAX_POOLS,
                "controlPlaneReplicas": CONTROL_PLANE_REPLICAS}).to_string(),
            "portolan.dev/description": "Managed Kubernetes on the kubesim cloud"}},
        "spec": {
            "controlPlane": template("KubesimControlPlaneTemplate", "managed-control-plane"),
            "infrastructure": template("KubesimClusterTemplate", "managed-cluster"),
            "kubernetesVersions": VERSIONS,
            "workers": {"machineDeployments": [{
                "class": WORKER_CLASS,
                "bootstrap": template("KubeadmConfigTemplate", "worker-bootstrap"),
                "infrastructure": template("KubesimMachineTemplate", "worker-machine")}]},
            "variables": [
                variable("region", true, json!({"type": "string", "enum": REGIONS,
                    "description": "Cloud region the cluster runs in"})),
                variable("vmSize", false, json!({"type": "string", "enum": size_names, "default": DEFAULT_VM_SIZE,
                    "description": format!("VM size of a pool's nodes; vCPU, memory, GPUs and hourly price are in the {VM_SIZES_ANNOTATION} annotation")})),
                variable("poolMode", false, json!({"type": "string", "enum": ["system", "user"], "default": "user",
                    "description": "System pools run cluster add-ons; user pools run applications"})),
                variable("osImage", false, json!({"type": "string", "enum": OS_IMAGES, "default": "ubuntu-24.04"})),
                variable("zones", false, json!({"type": "array", "maxItems": 3,
                    "items": {"type": "string", "enum": ["1", "2", "3"]}})),
                variable("nodeLabels", false, json!({"type": "object", "additionalProperties": {"type": "string", "maxLength": 63}})),
                variable("nodeTaints", false, json!({"type": "array", "maxItems": 16, "items": {"type": "string",
                    "pattern": "^[A-Za-z0-9./-]+=[A-Za-z0-9._-]*:(NoSchedule|PreferNoSchedule|NoExecute)$"}})),
            ]
        }
    })
}

/// Orders "v1.32.3" style versions; `None` for anything that is not `vMAJOR.MINOR.PATCH`.
pub fn parse_version(v: &str) -> Option<(u32, u32, u32)> {
    let mut parts = v.strip_prefix('v')?.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let patch = parts.next()?.split(['-', '+']).next()?.parse().ok()?;
    parts.next().is_none().then_some((major, minor, patch))
}
