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

/// A management cluster failure as the browser may see it, logged once here with the request id
/// and the whole cause chain (the kube-rs error included).
impl From<crate::fleet::FleetError> for AppError {
    fn from(err: crate::fleet::FleetError) -> Self {
        use crate::fleet::FleetError as F;
        let request_id = app::backend::request_id();
        let chain = error_chain(&err);
        tracing::warn!(%request_id, status = ?err.api_status(), error = %chain, "management cluster call failed");
        match (&err, err.api_status()) {
            (F::Conflict { what, current, .. }, _) => AppError::Conflict {
                message: format!("{what} changed since you opened it: review it and try again"),
                current: current.clone(),
            },
            (_, Some(404)) => AppError::NotFound(err.doing().to_string()),
            (_, Some(409)) => AppError::Conflict {
                message: format!(
                    "the management cluster refused to {}: it changed meanwhile; review it and try again",
                    err.doing()
                ),
                current: None,
            },
            (_, Some(403)) => AppError::Forbidden {
                needed: "matching Kubernetes RBAC".into(),
                action: err.doing().to_string(),
            },
            _ => AppError::Unavailable("the management cluster".into()),
        }
    }
}

/// An error and each of its sources (each said once), joined for one log line or message.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

/// Turns a store failure into what the browser may see: the details go to the log, under the
/// request id that the message names.
pub fn internal(err: StoreError) -> AppError {
    let request_id = app::backend::request_id();
    tracing::error!(%request_id, error = %err, "request failed");
    AppError::Internal { request_id }
}

/// The same for anything else that should not fail (the session store, serialising an object we
/// built): logged with what was being done, reported by request id.
pub fn unexpected(doing: &str, err: impl std::fmt::Display) -> AppError {
    let request_id = app::backend::request_id();
    tracing::error!(%request_id, error = %err, "could not {doing}");
    AppError::Internal { request_id }
}

/// The HTTP status a server function's error is reported with (server functions answer 500 by
/// default, whatever went wrong).
pub fn app_error_status(err: &AppError) -> StatusCode {
    StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// An `AppError` as a plain route (download, event stream) answers it: its status and its words.
pub fn plain(error: &app::error::AppError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; charset=utf-8",
        )],
        format!("{error}\n"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use app::error::AppError;

    use crate::fleet::FleetError;

    fn refused(code: u16) -> FleetError {
        FleetError::Api {
            doing: "read cluster default/x".into(),
            source: Box::new(kube::Error::Api(Box::new(
                kube::core::Status::failure("refused", "Because").with_code(code),
            ))),
        }
    }

    #[test]
    fn management_failures_become_what_the_browser_may_see() {
        assert_eq!(
            AppError::from(refused(404)),
            AppError::NotFound("read cluster default/x".into())
        );
        assert_eq!(
            AppError::from(refused(403)),
            AppError::Forbidden {
                needed: "matching Kubernetes RBAC".into(),
                action: "read cluster default/x".into()
            }
        );
        assert!(matches!(
            AppError::from(refused(409)),
            AppError::Conflict { current: None, .. }
        ));
        assert_eq!(
            AppError::from(refused(500)),
            AppError::Unavailable("the management cluster".into())
        );
        let slow = FleetError::Timeout {
            doing: "list clusters".into(),
            after: Duration::from_secs(3),
        };
        assert_eq!(
            AppError::from(slow),
            AppError::Unavailable("the management cluster".into())
        );
    }

    #[test]
    fn a_conflict_keeps_what_the_object_holds_now() {
        let changed = FleetError::Conflict {
            what: "pool apps of default/prod-weu".into(),
            current: Some("3 nodes".into()),
            source: Box::new(kube::Error::Api(Box::new(
                kube::core::Status::failure("changed", "Conflict").with_code(409),
            ))),
        };
        assert_eq!(
            AppError::from(changed),
            AppError::Conflict {
                message: "pool apps of default/prod-weu changed since you opened it: review it and try again".into(),
                current: Some("3 nodes".into()),
            }
        );
    }

    #[test]
    fn the_cause_stays_attached() {
        let err = refused(404);
        let source = std::error::Error::source(&err)
            .and_then(|s| s.downcast_ref::<Box<kube::Error>>())
            .expect("the kube-rs error is the source");
        let kube::Error::Api(status) = source.as_ref() else {
            panic!("an API refusal, not {source:?}");
        };
        assert_eq!((status.code, status.reason.as_str()), (404, "Because"));
    }
}
