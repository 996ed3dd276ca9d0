//! The Backend trait (who is asking, may they), the server context and the request id (ssr only).

use std::sync::Arc;

use crate::access::model::{Action, Principal, Target};
use crate::error::AppError;

/// Who is asking and whether they may: what every server function asks first. The topics' own
/// traits (`access::backend::AccessBackend`, `activity::backend::ActivityBackend`, …) sit next to
/// their server functions; the server provides each as an `Arc<dyn …>` in the Leptos context of
/// both the SSR handler and the server-function handler.
#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    /// The person signed in for this request, if anyone.
    async fn current_user(&self) -> Result<Option<Principal>, AppError>;

    /// Who is asking, if they may do `action` on `target`: `Unauthenticated` or `Forbidden` (and an
    /// audit entry) otherwise. Every server function that reads or changes anything calls it first.
    async fn authorize(&self, action: Action, target: Target) -> Result<Principal, AppError>;
}

/// The backend the server provided for this request.
pub fn backend() -> Result<Arc<dyn Backend>, AppError> {
    server_context::<Arc<dyn Backend>>()
}

/// Something the server must have put into the Leptos context. Its absence is a wiring bug, not
/// the caller's fault: it is logged and reported as an internal error with the request's id.
pub fn server_context<T: Clone + Send + Sync + 'static>() -> Result<T, AppError> {
    use leptos::prelude::use_context;
    use_context::<T>().ok_or_else(|| {
        let request_id = request_id();
        leptos::logging::error!(
            "{} missing from the server context (request {request_id})",
            std::any::type_name::<T>()
        );
        AppError::Internal { request_id }
    })
}

/// The id the server gave the request being handled (its `x-request-id`), for error messages
/// that an administrator can look up in the log.
pub fn request_id() -> String {
    leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|parts| {
            parts
                .headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "unknown".into())
}
