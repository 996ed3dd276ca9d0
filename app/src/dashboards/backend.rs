//! What the dashboard server functions ask of the server.

use std::sync::Arc;

use super::model::*;
use crate::access::model::Principal;
use crate::error::AppError;

/// Implemented in `server/src/backend/dashboards.rs`. A dashboard shows only the clusters the
/// caller may see; one that shows them none is `NotFound` for them.
#[async_trait::async_trait]
pub trait DashboardsBackend: Send + Sync + 'static {
    async fn list(&self, by: &Principal) -> Result<DashboardList, AppError>;
    async fn get(&self, by: &Principal, slug: &str) -> Result<DashboardView, AppError>;
    /// Creates (`slug` empty) or replaces a dashboard; its slug. Bad input is `BadRequest`
    /// naming the field ("selector: …") and changes nothing.
    async fn save(
        &self,
        by: &Principal,
        slug: &str,
        spec: DashboardSpec,
    ) -> Result<String, AppError>;
    async fn delete(&self, by: &Principal, slug: &str) -> Result<(), AppError>;
}

pub fn dashboards() -> Result<Arc<dyn DashboardsBackend>, AppError> {
    crate::backend::server_context::<Arc<dyn DashboardsBackend>>()
}
