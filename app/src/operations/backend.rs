//! What the operations server functions ask of the server.

use std::sync::Arc;

use super::model::{OpQuery, OperationRow, OperationsView};
use crate::access::model::Principal;
use crate::error::AppError;

/// Implemented in `server/src/backend/operations.rs`; every caller is a viewer already, and sees
/// only operations on clusters their roles reach (others are `NotFound`, like missing ones).
#[async_trait::async_trait]
pub trait OperationsBackend: Send + Sync + 'static {
    /// The newest operations, filtered; bad filters are a `BadRequest`.
    async fn operations(&self, by: &Principal, query: OpQuery) -> Result<OperationsView, AppError>;
    async fn operation(&self, by: &Principal, id: &str) -> Result<OperationRow, AppError>;
}

pub fn operations() -> Result<Arc<dyn OperationsBackend>, AppError> {
    crate::backend::server_context::<Arc<dyn OperationsBackend>>()
}
