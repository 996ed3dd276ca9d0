//! Node pools: the `MachineDeployment`s and `Machine`s Cluster API made for a cluster's topology.

use app::access::model::ClusterRef;
use kube::api::{Api, ListParams};
use serde::de::DeserializeOwned;

use super::resources::{CLUSTER_NAME_LABEL, Machine, MachineDeployment};
use super::{FleetError, Management, within};

/// The cluster's `MachineDeployment`s (one per node pool), by name.
pub async fn list(
    management: &Management,
    cluster: &ClusterRef,
) -> Result<Vec<MachineDeployment>, FleetError> {
    of_cluster(management, cluster, "node pools").await
}

/// The cluster's `Machine`s (one per node), by name.
pub async fn machines(
    management: &Management,
    cluster: &ClusterRef,
) -> Result<Vec<Machine>, FleetError> {
    of_cluster(management, cluster, "machines").await
}

/// Every object of kind `K` labelled as `cluster`'s, sorted by name.
async fn of_cluster<K>(
    management: &Management,
    cluster: &ClusterRef,
    what: &str,
) -> Result<Vec<K>, FleetError>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
{
    let api: Api<K> = Api::namespaced(management.client(), &cluster.namespace);
    let selector = ListParams::default().labels(&format!("{CLUSTER_NAME_LABEL}={}", cluster.name));
    let mut items = within(
        &format!("list the {what} of {cluster}"),
        api.list(&selector),
    )
    .await?
    .items;
    items.sort_by(|a, b| a.meta().name.cmp(&b.meta().name));
    Ok(items)
}

/// The class annotation listing VM sizes (`[{name, family, vcpu, memoryGiB, gpu, pricePerHour}, …]`).
pub const VM_SIZES_ANNOTATION: &str = "portolan.dev/vm-sizes";
/// The Cluster API autoscaler's bounds on a pool.
pub const AUTOSCALER_MIN: &str = "cluster.x-k8s.io/cluster-api-autoscaler-node-group-min-size";
pub const AUTOSCALER_MAX: &str = "cluster.x-k8s.io/cluster-api-autoscaler-node-group-max-size";
/// The pool annotation that holds a pool at its version while the control plane moves on.
pub const DEFER_UPGRADE: &str = "topology.cluster.x-k8s.io/defer-upgrade";

/// Whether a pool is held back by `DEFER_UPGRADE`.
pub fn deferred(pool: &super::resources::PoolTopology) -> bool {
    pool.metadata
        .as_ref()
        .and_then(|m| m.annotations.as_ref())
        .and_then(|a| a.get(DEFER_UPGRADE))
        .is_some_and(|v| v != "false")
}

/// "4 vCPU, 16 GiB" (", 1 GPU") for a VM size, from the class's catalogue; empty when unknown.
pub fn vm_shape(class: Option<&super::resources::ClusterClass>, size: &str) -> String {
    let catalogue = class
        .and_then(|c| c.metadata.annotations.as_ref())
        .and_then(|a| a.get(VM_SIZES_ANNOTATION))
        .and_then(|text| serde_json::from_str::<Vec<serde_json::Value>>(text).ok())
        .unwrap_or_default();
    let Some(entry) = catalogue.iter().find(|e| e["name"] == size) else {
        return String::new();
    };
    let mut shape = format!(
        "{} vCPU, {} GiB",
        entry["vcpu"].as_u64().unwrap_or(0),
        entry["memoryGiB"].as_u64().unwrap_or(0)
    );
    match entry["gpu"].as_u64().unwrap_or(0) {
        0 => {}
        1 => shape.push_str(", 1 GPU"),
        n => shape.push_str(&format!(", {n} GPUs")),
    }
    shape
}

/// A variable of a pool: its override, else the cluster's value.
fn variable<'a>(
    cluster: &'a super::resources::Cluster,
    pool: &'a super::resources::PoolTopology,
    name: &str,
) -> Option<&'a serde_json::Value> {
    pool.variables
        .as_ref()
        .and_then(|v| v.overrides.iter().find(|o| o.name == name))
        .or_else(|| {
            cluster
                .spec
                .topology
                .as_ref()?
                .variables
                .iter()
                .find(|v| v.name == name)
        })
        .map(|v| &v.value)
}

/// The Node pools tab's rows: what each pool of the topology declares, and what its
/// MachineDeployment reports.
pub fn rows(
    cluster: &super::resources::Cluster,
    deployments: &[std::sync::Arc<MachineDeployment>],
    class: Option<&super::resources::ClusterClass>,
) -> Vec<app::clusters::model::PoolRow> {
    use super::resources::POOL_NAME_LABEL;
    use app::clusters::model::{PoolRow, VmSize};
    let Some(topology) = cluster.spec.topology.as_ref() else {
        return Vec::new();
    };
    let declared = topology
        .workers
        .as_ref()
        .map(|w| w.machine_deployments.as_slice())
        .unwrap_or_default();
    let offering = class.map(|c| super::offering::offering(c, Vec::new()));
    let limit = offering
        .as_ref()
        .map_or(1000, |o| o.limits.max_nodes_per_pool);
    let is_system = |pool: &super::resources::PoolTopology| {
        variable(cluster, pool, "poolMode").and_then(|v| v.as_str()) == Some("system")
    };
    let system_pools = declared.iter().filter(|p| is_system(p)).count();
    declared
        .iter()
        .map(|pool| {
            let md = deployments.iter().find(|md| {
                md.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(POOL_NAME_LABEL))
                    .is_some_and(|n| n == &pool.name)
            });
            let text = |name: &str| {
                variable(cluster, pool, name)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            let size = {
                let s = text("vmSize");
                if s.is_empty() {
                    "Standard_D4s_v5".to_string()
                } else {
                    s
                }
            };
            let mode = match text("poolMode").as_str() {
                "system" => "System",
                _ => "User",
            };
            let annotations = pool.metadata.as_ref().and_then(|m| m.annotations.as_ref());
            let autoscaler = match (
                annotations.and_then(|a| a.get(AUTOSCALER_MIN)),
                annotations.and_then(|a| a.get(AUTOSCALER_MAX)),
            ) {
                (Some(min), Some(max)) => format!("{min}–{max}"),
                _ => String::new(),
            };
            let strings = |name: &str| -> Vec<String> {
                variable(cluster, pool, name)
                    .and_then(|v| v.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            };
            let mut labels: Vec<String> = variable(cluster, pool, "nodeLabels")
                .and_then(|v| v.as_object())
                .into_iter()
                .flatten()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect();
            labels.sort();
            let status = md.and_then(|m| m.status.as_ref());
            let price = offering
                .as_ref()
                .and_then(|o| o.vm_sizes.iter().find(|v| v.name == size))
                .map_or(0.0, |v| v.price_per_hour);
            let desired = pool
                .replicas
                .or_else(|| md.and_then(|m| m.spec.replicas))
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0);
            PoolRow {
                sizing: sizing(pool),
                count: desired,
                bounds: autoscaler_bounds(pool),
                // The cluster's last system pool keeps a node: its system pods live there.
                floor: u32::from(is_system(pool) && system_pools == 1),
                limit,
                price_micros: (price * 1_000_000.0).round() as u64,
                shrink: Vec::new(),
                running: None,
                keep: (is_system(pool) && system_pools == 1).then(|| {
                    format!(
                        "pool {} is the cluster's last system pool: its system pods run there. Add another system pool first",
                        pool.name
                    )
                }),
                name: pool.name.clone(),
                mode: mode.into(),
                vm_size: VmSize {
                    shape: vm_shape(class, &size),
                    name: size,
                },
                version: md
                    .and_then(|m| m.spec.template.spec.version.clone())
                    .unwrap_or_else(|| topology.version.clone()),
                ready: status
                    .and_then(|s| s.ready_replicas)
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(0),
                desired,
                autoscaler,
                zones: strings("zones"),
                labels,
                taints: strings("nodeTaints"),
            }
        })
        .collect()
}

/// The autoscaler's bounds on a pool of the topology, when both are set and sensible.
pub fn autoscaler_bounds(pool: &super::resources::PoolTopology) -> Option<(u32, u32)> {
    let annotations = pool.metadata.as_ref()?.annotations.as_ref()?;
    let min = annotations.get(AUTOSCALER_MIN)?.trim().parse().ok()?;
    let max = annotations.get(AUTOSCALER_MAX)?.trim().parse().ok()?;
    (min <= max).then_some((min, max))
}

/// How a pool's size is set, as one comparable text: `3` (a fixed count) or `auto:2-6` (the
/// autoscaler's bounds). Forms carry it, so a change is refused when the pool changed meanwhile.
pub fn sizing(pool: &super::resources::PoolTopology) -> String {
    match autoscaler_bounds(pool) {
        Some((min, max)) => format!("auto:{min}-{max}"),
        None => pool.replicas.unwrap_or(1).max(0).to_string(),
    }
}
