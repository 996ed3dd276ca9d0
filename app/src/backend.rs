//! The Backend trait: everything a server function may ask of the server, implemented in `server/`.

use std::sync::Arc;

use crate::access::model::{Action, Principal, Target};
use crate::error::AppError;

/// Server functions stay one line long by delegating here; the server provides an
/// `Arc<dyn Backend>` as context to both the SSR handler and the server-function handler.
#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    /// One page of the audit log as `by` may read it (portal-wide roles: everything; roles on
    /// single clusters: the entries about those clusters), filtered, newest first; bad filters are
    /// a `BadRequest`.
    async fn search_activity(
        &self,
        by: &Principal,
        filter: crate::activity::ActivityFilter,
        limit: u32,
    ) -> Result<crate::activity::ActivityPage, AppError>;

    /// The person signed in for this request, if anyone.
    async fn current_user(&self) -> Result<Option<Principal>, AppError>;

    /// The caller's groups, the bindings that apply to them and what they may do everywhere.
    async fn my_access(&self) -> Result<crate::access::AccessSummary, AppError>;

    /// Every binding and the clusters a binding may name (the caller is authorized already).
    async fn access_overview(
        &self,
        by: &Principal,
    ) -> Result<crate::access::AccessOverview, AppError>;

    /// Validates and stores a binding made by `by`, and records it; bad input changes nothing.
    async fn add_binding(
        &self,
        by: &Principal,
        kind: &str,
        subject: &str,
        role: &str,
        cluster: &str,
    ) -> Result<crate::access::model::Binding, AppError>;

    /// Removes binding `id`, and records it.
    async fn remove_binding(&self, by: &Principal, id: i64) -> Result<(), AppError>;

    /// What a group, or a user with groups, may do portal-wide and on each cluster.
    async fn simulate_access(
        &self,
        by: &Principal,
        kind: &str,
        name: &str,
        groups: &str,
    ) -> Result<crate::access::Simulation, AppError>;

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
