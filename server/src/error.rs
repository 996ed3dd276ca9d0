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
    #[error("cannot remove the development sign-in's stored role bindings: {0}")]
    DevSignIn(#[source] crate::access::bindings::BindingError),
}

/// Refusals the HTTP layer itself makes, before any handler runs.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cross-origin request refused: changes are only accepted from the portal's own pages")]
    CrossOrigin,
    #[error("request body too large: the limit is {} KiB", crate::http::BODY_LIMIT_BYTES / 1024)]
    PayloadTooLarge,
    #[error(
        "this portal answers only to {0} (and to loopback names when it listens on loopback); \
         if people reach it by another name, start it with --public-url set to that address"
    )]
    UnknownHost(String),
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let status = match self {
            HttpError::CrossOrigin => StatusCode::FORBIDDEN,
            HttpError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            HttpError::UnknownHost(_) => StatusCode::MISDIRECTED_REQUEST,
        };
        (status, self.to_string()).into_response()
    }
}

/// The page for a failed sign-in: the step, what went wrong in the portal's own words, what to do,
/// and the request id. The error chain, the provider's URLs and anything the provider (or a forger)
/// sent stay in the server log under that id.
pub fn sign_in_failure(e: &crate::auth::oidc::SignInError, request_id: &str) -> Response {
    use crate::auth::html::{escape, page};
    use crate::auth::oidc::SignInError as E;
    let (status, what, advice) = match e {
        E::Discovery { .. } => (
            StatusCode::BAD_GATEWAY,
            "the identity provider's configuration could not be read".to_string(),
            "The identity provider may be down, or --oidc-issuer may be wrong. People who are \
             already signed in can keep working; try again in a few minutes.",
        ),
        E::Refused { .. } => (
            StatusCode::BAD_REQUEST,
            "the identity provider refused the sign-in".to_string(),
            "Nothing was changed. If you cancelled, sign in again; otherwise ask your \
             administrator whether your account may use Portolan.",
        ),
        E::MissingParameter(name) => (
            StatusCode::BAD_REQUEST,
            format!("the sign-in response has no `{name}` parameter"),
            "Start again from the sign-in link, in the same browser.",
        ),
        E::WrongIssuer(_) => (
            StatusCode::BAD_REQUEST,
            "the sign-in response did not come from the configured identity provider".to_string(),
            "Start again from the sign-in link, in the same browser.",
        ),
        E::UnknownState => (
            StatusCode::BAD_REQUEST,
            e.to_string(),
            "Start again from the sign-in link, in the same browser.",
        ),
        E::TokenExchange(_) | E::NoIdToken | E::UserInfo(_) => (
            StatusCode::BAD_GATEWAY,
            "the identity provider did not complete the sign-in".to_string(),
            "Try again; if it keeps happening, ask your administrator to check the portal's \
             client registration.",
        ),
        E::IdToken(_) => (
            StatusCode::UNAUTHORIZED,
            "the ID token was rejected".to_string(),
            "You were not signed in. Try again; if it keeps happening, ask your administrator \
             to check the identity provider's clock, keys and the portal's client id.",
        ),
        E::Session(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the session could not be stored".to_string(),
            "The portal's database did not answer. Try again in a moment.",
        ),
    };
    let body = format!(
        "<p class=\"step\"><strong>{}</strong></p><p role=\"alert\">Sign-in failed: {}.</p><p>{}</p>\
         <p class=\"request-id\">Request id <code>{}</code>: an administrator finds the details under it in the server log.</p>\
         <p><a href=\"/auth/login\">Try signing in again</a> · <a href=\"/\">Home</a></p>",
        escape(e.step()),
        escape(&what),
        escape(advice),
        escape(request_id)
    );
    (status, axum::response::Html(page("Sign-in failed", &body))).into_response()
}

/// A refusal as a server function reports it.
impl From<crate::access::Refusal> for AppError {
    fn from(refusal: crate::access::Refusal) -> Self {
        use crate::access::Refusal as R;
        match refusal {
            R::Unauthenticated => AppError::Unauthenticated,
            R::Forbidden { needed, action } => AppError::Forbidden {
                needed: needed.to_string(),
                action: action.as_str().into(),
            },
            R::Store(e) => internal(e),
        }
    }
}

/// A refusal as a plain route (export, download, event stream) answers it: plain text.
impl IntoResponse for crate::access::Refusal {
    fn into_response(self) -> Response {
        use crate::access::Refusal as R;
        let (status, text) = match &self {
            R::Unauthenticated => (StatusCode::UNAUTHORIZED, "sign in first".to_string()),
            R::Forbidden { needed, action } => (
                StatusCode::FORBIDDEN,
                format!("{} needs the {needed} role", action.as_str()),
            ),
            R::Store(e) => {
                tracing::error!(error = %e, "authorization could not read the database");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the database did not answer; try again in a moment".to_string(),
                )
            }
        };
        (
            status,
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; charset=utf-8",
            )],
            format!("{text}\n"),
        )
            .into_response()
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
