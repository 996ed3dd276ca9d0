//! What the upgrade server functions ask of the server.

use std::sync::Arc;

use super::model::UpgradeView;
use crate::access::model::{ClusterRef, Principal};
use crate::error::AppError;

/// An upgrade as its form posts it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpgradeRequest {
    pub to: String,
    /// As posted (`Scope::parse` reads it; the backend refuses and records anything else).
    pub scope: String,
    /// What the form saw (`UpgradeView::was`).
    pub was: String,
    pub key: String,
    /// "Upgrade anyway" was pressed.
    pub confirmed: bool,
}

/// Implemented in `server/src/backend/upgrades.rs`. Every caller is a viewer already; clusters
/// they may not see are `NotFound`, like missing ones.
#[async_trait::async_trait]
pub trait UpgradesBackend: Send + Sync + 'static {
    /// The cluster's versions and, for `to` and `scope` (empty: none chosen yet), the preflight.
    async fn upgrade_view(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        to: &str,
        scope: &str,
    ) -> Result<UpgradeView, AppError>;
    /// Starts an upgrade (`by` may start upgrades here, checked by the caller); the id of its
    /// operation. Bad or refused choices are a `BadRequest`, a cluster already upgrading or
    /// changed since the form was shown a `Conflict`.
    async fn upgrade(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        request: UpgradeRequest,
    ) -> Result<String, AppError>;
}

pub fn upgrades() -> Result<Arc<dyn UpgradesBackend>, AppError> {
    crate::backend::server_context::<Arc<dyn UpgradesBackend>>()
}
