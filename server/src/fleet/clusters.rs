//! Cluster API `Cluster`s: one function per verb the portal uses.

use app::access::model::ClusterRef;
use kube::api::{Api, ListParams};

use super::resources::Cluster;
use super::{FleetError, Management, within};

/// Every `Cluster` on the management cluster, by namespace and name.
pub async fn list(management: &Management) -> Result<Vec<Cluster>, FleetError> {
    let api: Api<Cluster> = Api::all(management.client());
    let mut items = within("list clusters", api.list(&ListParams::default()))
        .await?
        .items;
    items.sort_by_key(Cluster::reference);
    Ok(items)
}

/// The names of every `Cluster`, sorted.
pub async fn names(management: &Management) -> Result<Vec<ClusterRef>, FleetError> {
    Ok(list(management)
        .await?
        .iter()
        .filter_map(Cluster::reference)
        .collect())
}

/// One `Cluster`, or `None` when there is no such cluster.
pub async fn get(
    management: &Management,
    cluster: &ClusterRef,
) -> Result<Option<Cluster>, FleetError> {
    let api: Api<Cluster> = Api::namespaced(management.client(), &cluster.namespace);
    within(
        &format!("read cluster {cluster}"),
        api.get_opt(&cluster.name),
    )
    .await
}

/// Whether `cluster` exists.
pub async fn exists(management: &Management, cluster: &ClusterRef) -> Result<bool, FleetError> {
    Ok(get(management, cluster).await?.is_some())
}

/// One `Cluster` that must exist (`FleetError` with 404 when it does not).
pub async fn require(management: &Management, cluster: &ClusterRef) -> Result<Cluster, FleetError> {
    let api: Api<Cluster> = Api::namespaced(management.client(), &cluster.namespace);
    within(&format!("read cluster {cluster}"), api.get(&cluster.name)).await
}

/// Creates `cluster` as given (`FleetError` with 409 when one of that name exists).
pub async fn create(management: &Management, cluster: &Cluster) -> Result<Cluster, FleetError> {
    let namespace = cluster
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| "default".into());
    let name = cluster.metadata.name.clone().unwrap_or_default();
    let api: Api<Cluster> = Api::namespaced(management.client(), &namespace);
    within(
        &format!("create cluster {namespace}/{name}"),
        api.create(&kube::api::PostParams::default(), cluster),
    )
    .await
}

/// Merges `patch` (a JSON merge patch) into `cluster`; with `metadata.resourceVersion` in it the
/// write happens only if nothing changed since that version (else `FleetError` with 409).
pub async fn merge(
    management: &Management,
    cluster: &ClusterRef,
    patch: &serde_json::Value,
) -> Result<Cluster, FleetError> {
    let api: Api<Cluster> = Api::namespaced(management.client(), &cluster.namespace);
    within(
        &format!("change cluster {cluster}"),
        api.patch(
            &cluster.name,
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(patch),
        ),
    )
    .await
}
