//! What the activity server function asks of the server (the audit log, as the caller may read it).

use std::sync::Arc;

use super::{ActivityFilter, ActivityPage};
use crate::access::model::Principal;
use crate::error::AppError;

/// Implemented in `server/src/backend/activity.rs`; every caller is authorized already.
#[async_trait::async_trait]
pub trait ActivityBackend: Send + Sync + 'static {
    /// One page of the audit log as `by` may read it (portal-wide roles: everything; roles on
    /// single clusters: the entries about those clusters), filtered, newest first; bad filters are
    /// a `BadRequest`.
    async fn search_activity(
        &self,
        by: &Principal,
        filter: ActivityFilter,
        limit: u32,
    ) -> Result<ActivityPage, AppError>;
}

/// The activity backend the server provided for this request.
pub fn activity() -> Result<Arc<dyn ActivityBackend>, AppError> {
    crate::backend::server_context::<Arc<dyn ActivityBackend>>()
}
