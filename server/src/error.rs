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
    #[error("{0}")]
    Auth(#[from] crate::auth::AuthConfigError),
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

impl IntoResponse for crate::auth::oidc::SignInError {
    fn into_response(self) -> Response {
        use crate::auth::html::{escape, page};
        use crate::auth::oidc::SignInError as E;
        let (status, advice) = match &self {
            E::Discovery { .. } => (
                StatusCode::BAD_GATEWAY,
                "The identity provider may be down, or --oidc-issuer may be wrong. People who are \
                 already signed in can keep working; try again in a few minutes.",
            ),
            E::Refused { .. } => (
                StatusCode::BAD_REQUEST,
                "Nothing was changed. If you cancelled, sign in again; otherwise ask your \
                 administrator whether your account may use Portolan.",
            ),
            E::MissingParameter(_) | E::WrongIssuer(_) | E::UnknownState => (
                StatusCode::BAD_REQUEST,
                "Start again from the sign-in link, in the same browser.",
            ),
            E::TokenExchange(_) | E::NoIdToken | E::UserInfo(_) => (
                StatusCode::BAD_GATEWAY,
                "The identity provider did not complete the sign-in. Try again; if it keeps \
                 happening, ask your administrator to check the portal's client registration.",
            ),
            E::IdToken(_) => (
                StatusCode::UNAUTHORIZED,
                "You were not signed in. Try again; if it keeps happening, ask your administrator \
                 to check the identity provider's clock, keys and the portal's client id.",
            ),
            E::Session(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "The portal's database did not answer. Try again in a moment.",
            ),
        };
        let body = format!(
            "<p class=\"step\"><strong>{}</strong></p><p role=\"alert\">Sign-in failed: {}.</p><p>{}</p>\
             <p><a href=\"/auth/login\">Try signing in again</a> · <a href=\"/\">Home</a></p>",
            escape(self.step()),
            escape(&self.to_string()),
            escape(advice)
        );
        (status, axum::response::Html(page("Sign-in failed", &body))).into_response()
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
