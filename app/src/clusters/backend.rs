//! What the cluster pages' server functions ask of the server (the fleet as the caller may see it).

use std::sync::Arc;

use super::model::*;
use crate::access::model::{ClusterRef, Principal};
use crate::error::AppError;

/// Implemented in `server/src/backend/clusters.rs`. Every caller is a viewer already; each method
/// answers only about clusters `by` may see, and a cluster they may not see is `NotFound`, exactly
/// as one that does not exist (a 403 would confirm the name).
#[async_trait::async_trait]
pub trait ClustersBackend: Send + Sync + 'static {
    async fn fleet(&self, by: &Principal, query: FleetQuery) -> Result<FleetView, AppError>;
    async fn overview(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
    ) -> Result<ClusterOverview, AppError>;
    /// Replaces the tags (`by` is an admin of the cluster, checked by the caller). `was` and
    /// `tags` are the form's `key=value` lines: what it showed, and what to save.
    async fn save_tags(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        was: &str,
        tags: &str,
    ) -> Result<(), AppError>;
    /// The creation wizard at `step` (`by` may create clusters, checked by the caller).
    async fn wizard(
        &self,
        by: &Principal,
        step: super::wizard::draft::Step,
    ) -> Result<super::wizard::WizardView, AppError>;
    /// What is wrong with `name` for a new cluster in `namespace`, taken included.
    async fn name_problem(
        &self,
        by: &Principal,
        namespace: &str,
        name: &str,
    ) -> Result<Option<String>, AppError>;
    /// What deleting the cluster destroys, or how far its deletion is (`by` is an admin of it).
    async fn deletion(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
    ) -> Result<DeletionView, AppError>;
    /// Deletes the cluster when `confirm` is its name.
    async fn delete_cluster(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        confirm: &str,
    ) -> Result<(), AppError>;
    async fn pools(&self, by: &Principal, cluster: &ClusterRef) -> Result<PoolsTab, AppError>;
    /// Scales a pool or sets its autoscaler (`by` may scale it, checked by the caller); the id of
    /// the operation that follows the change. A pool changed since the form was shown is a
    /// `Conflict`; bad input and unconfirmed risky scale-downs are a `BadRequest`.
    async fn change_pool(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        change: PoolChange,
    ) -> Result<String, AppError>;
    /// Adds a node pool (`by` may add pools here, checked by the caller); the id of the operation
    /// that follows its nodes joining. Bad input is a `BadRequest`.
    async fn add_pool(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        pool: NewPool,
    ) -> Result<String, AppError>;
    /// Deletes a node pool (`by` may delete pools here, checked by the caller): `change` names it,
    /// what the form saw, its key and whether moving its pods was confirmed.
    async fn delete_pool(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        change: PoolChange,
    ) -> Result<String, AppError>;
    async fn nodes(&self, by: &Principal, cluster: &ClusterRef) -> Result<NodesTab, AppError>;
    async fn node(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        node: &str,
    ) -> Result<NodeDetail, AppError>;
    async fn pods(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        query: PodQuery,
    ) -> Result<PodList, AppError>;
    async fn pod(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        namespace: &str,
        pod: &str,
    ) -> Result<PodDetail, AppError>;
    async fn events(&self, by: &Principal, cluster: &ClusterRef) -> Result<EventsTab, AppError>;
    /// The last `LOG_LINES_DEFAULT` lines of `container` (empty: the first), or of the previous
    /// container after a restart.
    async fn logs(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        namespace: &str,
        pod: &str,
        container: &str,
        previous: bool,
    ) -> Result<LogView, AppError>;
}

/// The clusters backend the server provided for this request.
pub fn clusters() -> Result<Arc<dyn ClustersBackend>, AppError> {
    crate::backend::server_context::<Arc<dyn ClustersBackend>>()
}
