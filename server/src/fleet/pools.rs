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
