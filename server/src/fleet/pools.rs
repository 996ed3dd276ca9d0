//! Node pools: the `MachineDeployment`s and `Machine`s Cluster API made for a cluster's topology.

use app::access::model::ClusterRef;
use kube::api::{Api, ListParams};

use super::resources::{CLUSTER_NAME_LABEL, Machine, MachineDeployment};
use super::{FleetError, Management, within};

/// The cluster's `MachineDeployment`s (one per node pool), by name.
pub async fn list(
    management: &Management,
    cluster: &ClusterRef,
) -> Result<Vec<MachineDeployment>, FleetError> {
    let api: Api<MachineDeployment> = Api::namespaced(management.client(), &cluster.namespace);
    let selector = ListParams::default().labels(&format!("{CLUSTER_NAME_LABEL}={}", cluster.name));
    let mut items = within(
        &format!("list the node pools of {cluster}"),
        api.list(&selector),
    )
    .await?
    .items;
    items.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    Ok(items)
}

/// The cluster's `Machine`s (one per node), by name.
pub async fn machines(
    management: &Management,
    cluster: &ClusterRef,
) -> Result<Vec<Machine>, FleetError> {
    let api: Api<Machine> = Api::namespaced(management.client(), &cluster.namespace);
    let selector = ListParams::default().labels(&format!("{CLUSTER_NAME_LABEL}={}", cluster.name));
    let mut items = within(
        &format!("list the machines of {cluster}"),
        api.list(&selector),
    )
    .await?
    .items;
    items.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    Ok(items)
}
