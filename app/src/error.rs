//! AppError: the only error type the browser ever sees, serializable across the server-function boundary.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What went wrong, in words an administrator can act on. Server-side details (SQL, stack traces)
/// are logged by the server and never put in here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("not found: {0}")]
    NotFound(String),
    /// Someone changed it since it was read; `current` says what it holds now, when known.
    #[error("{message}")]
    Conflict {
        message: String,
        current: Option<String>,
    },
    #[error("{0} is unavailable right now; try again in a moment")]
    Unavailable(String),
    #[error(
        "something went wrong on the server (request id {request_id}); the details are in the server log"
    )]
    Internal { request_id: String },
    #[error("the request did not reach the server: {0}")]
    Transport(String),
    #[error("sign in to continue")]
    Unauthenticated,
    #[error("this needs the {needed} role ({action}); ask an administrator for access")]
    Forbidden { needed: String, action: String },
}

impl AppError {
    /// The HTTP status this error is reported with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::BadRequest(_) => 400,
            AppError::NotFound(_) => 404,
            AppError::Conflict { .. } => 409,
            AppError::Unavailable(_) => 503,
            AppError::Internal { .. } => 500,
            AppError::Transport(_) => 502,
            AppError::Unauthenticated => 401,
            AppError::Forbidden { .. } => 403,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(msg) => AppError::BadRequest(format!("invalid input: {msg}")),
            ServerFnErrorErr::MissingArg(msg) => {
                AppError::BadRequest(format!("missing input: {msg}"))
            }
            other => AppError::Transport(other.to_string()),
        }
    }
}
