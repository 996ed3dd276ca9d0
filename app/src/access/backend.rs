//! What the access server functions ask of the server (roles, bindings, the simulator).

use std::sync::Arc;

use super::model::{Binding, Principal};
use super::{AccessOverview, AccessSummary, Simulation};
use crate::error::AppError;

/// Implemented in `server/src/backend/access.rs`; every caller is authorized already.
#[async_trait::async_trait]
pub trait AccessBackend: Send + Sync + 'static {
    /// `who`'s groups, the bindings that apply to them and what they may do everywhere.
    async fn my_access(&self, who: &Principal) -> Result<AccessSummary, AppError>;

    /// Every binding and the clusters a binding may name.
    async fn access_overview(&self, by: &Principal) -> Result<AccessOverview, AppError>;

    /// Validates and stores a binding made by `by`, and records it; bad input changes nothing.
    async fn add_binding(
        &self,
        by: &Principal,
        kind: &str,
        subject: &str,
        role: &str,
        cluster: &str,
    ) -> Result<Binding, AppError>;

    /// Removes binding `id`, and records it.
    async fn remove_binding(&self, by: &Principal, id: i64) -> Result<(), AppError>;

    /// What a group, or a user with groups, may do portal-wide and on each cluster.
    async fn simulate_access(
        &self,
        by: &Principal,
        kind: &str,
        name: &str,
        groups: &str,
    ) -> Result<Simulation, AppError>;
}

/// The access backend the server provided for this request.
pub fn access() -> Result<Arc<dyn AccessBackend>, AppError> {
    crate::backend::server_context::<Arc<dyn AccessBackend>>()
}
