//! The Backend trait: everything a server function may ask of the server, implemented in `server/`.

use std::sync::Arc;

use crate::activity::ActivityEntry;
use crate::error::AppError;

/// Server functions stay one line long by delegating here; the server provides an
/// `Arc<dyn Backend>` as context to both the SSR handler and the server-function handler.
#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    /// The newest entries of the audit log, newest first.
    async fn recent_activity(&self, limit: u32) -> Result<Vec<ActivityEntry>, AppError>;
}

/// The backend the server provided for this request.
pub fn backend() -> Result<Arc<dyn Backend>, AppError> {
    leptos::prelude::use_context::<Arc<dyn Backend>>().ok_or_else(|| AppError::Internal {
        request_id: "backend missing from context".into(),
    })
}
