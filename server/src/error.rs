//! The server's errors and the one place where each becomes a response or an exit message.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use app::error::AppError;

use crate::store::StoreError;

/// Why the process could not start; printed as one line before exiting non-zero.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source} (change --listen / PORTOLAN_LISTEN)")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("the server stopped with an error: {0}")]
    Serve(#[source] std::io::Error),
    #[error("kubesim could not start: {0}")]
    Sim(#[from] kubesim::SimError),
    #[error("cannot write the kubeconfig to {}: {source}", path.display())]
    Kubeconfig {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Fleet(#[from] crate::fleet::FleetError),
    #[error("--bootstrap-admin-group / PORTOLAN_BOOTSTRAP_ADMIN_GROUP: {0}")]
    Bootstrap(#[source] crate::access::bindings::BindingError),
    #[error("cannot store the development sign-in's role bindings: {0}")]
    DevSignIn(#[source] crate::access::bindings::BindingError),
}

/// Refusals the HTTP layer itself makes, before any handler runs.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cross-origin request refused: changes are only accepted from the portal's own pages")]
    CrossOrigin,
    #[error("request body too large: the limit is {} KiB", crate::http::BODY_LIMIT_BYTES / 1024)]
    PayloadTooLarge,
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let status = match self {
            HttpError::CrossOrigin => StatusCode::FORBIDDEN,
            HttpError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        };
        (status, self.to_string()).into_response()
    }
}

/// Turns a store failure into what the browser may see: the details go to the log, under the
/// request id that the message names.
pub fn internal(err: StoreError) -> AppError {
    let request_id = app::backend::request_id();
    tracing::error!(%request_id, error = %err, "request failed");
    AppError::Internal { request_id }
}

/// The HTTP status a server function's error is reported with (server functions answer 500 by
/// default, whatever went wrong).
pub fn app_error_status(err: &AppError) -> StatusCode {
    StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}
