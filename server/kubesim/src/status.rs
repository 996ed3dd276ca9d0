//! API errors as Kubernetes `Status` objects: the one place an error becomes a response.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde_json::{Value, json};

/// One field-level problem of an `Invalid` object.
#[derive(Clone, Debug, PartialEq)]
pub struct Cause {
    pub field: String,
    pub message: String,
}

impl Cause {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Cause {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Everything the API can refuse, with the Kubernetes `reason` each maps to.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{resource} \"{name}\" not found")]
    NotFound {
        group: String,
        resource: String,
        name: String,
    },
    #[error("the server could not find the requested resource")]
    NoRoute,
    #[error("{resource} \"{name}\" already exists")]
    AlreadyExists {
        group: String,
        resource: String,
        name: String,
    },
    #[error("Operation cannot be fulfilled on {resource} \"{name}\": {message}")]
    Conflict {
        group: String,
        resource: String,
        name: String,
        message: String,
    },
    /// A server-side apply that would take fields another manager set to other values.
    #[error("{message}")]
    ApplyConflict { message: String, causes: Vec<Cause> },
    #[error("{kind}.{group} \"{name}\" is invalid: {}", summary(.causes))]
    Invalid {
        group: String,
        kind: String,
        name: String,
        causes: Vec<Cause>,
    },
    #[error("{0}")]
    BadRequest(String),
    #[error("Unauthorized")]
    Unauthorized,
    #[error("the server does not allow this method on the requested resource")]
    MethodNotAllowed,
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// An eviction its PodDisruptionBudget forbids now: 429, which clients (kubectl drain) retry.
    #[error("Cannot evict pod as it would violate the pod's disruption budget.")]
    DisruptionBudget { pdb: String, needs: i64, has: i64 },
    /// The caller accepts no media type kubesim writes (it answers JSON only).
    #[error("only the following media types are accepted: application/json")]
    NotAcceptable,
    #[error("the request body is larger than the {0} bytes this server accepts")]
    TooLarge(usize),
    #[error("{0}")]
    Gone(String),
    #[error("{0}")]
    Unavailable(String),
    /// A version newer than the server has (it would have to wait for it).
    #[error("{0}")]
    Timeout(String),
    #[error("{0}")]
    Internal(String),
    /// A failure injected through `/kubesim/faults`, with its HTTP status.
    #[error("injected fault: kubesim was asked to fail this request with status {0}")]
    Injected(u16),
}

fn summary(causes: &[Cause]) -> String {
    let parts: Vec<String> = causes
        .iter()
        .map(|c| format!("{}: {}", c.field, c.message))
        .collect();
    if parts.len() == 1 {
        parts.join("")
    } else {
        format!("[{}]", parts.join(", "))
    }
}

impl ApiError {
    pub fn not_found(group: &str, resource: &str, name: &str) -> Self {
        ApiError::NotFound {
            group: group.into(),
            resource: resource.into(),
            name: name.into(),
        }
    }

    pub fn invalid(group: &str, kind: &str, name: &str, causes: Vec<Cause>) -> Self {
        ApiError::Invalid {
            group: group.into(),
            kind: kind.into(),
            name: name.into(),
            causes,
        }
    }

    pub fn code(&self) -> StatusCode {
        match self {
            ApiError::NotFound { .. } | ApiError::NoRoute => StatusCode::NOT_FOUND,
            ApiError::AlreadyExists { .. }
            | ApiError::Conflict { .. }
            | ApiError::ApplyConflict { .. } => StatusCode::CONFLICT,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            ApiError::DisruptionBudget { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Gone(_) => StatusCode::GONE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Injected(code) => {
                StatusCode::from_u16(*code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
            }
        }
    }

    pub fn reason(&self) -> &'static str {
        match self {
            ApiError::NotFound { .. } | ApiError::NoRoute => "NotFound",
            ApiError::AlreadyExists { .. } => "AlreadyExists",
            ApiError::Conflict { .. } | ApiError::ApplyConflict { .. } => "Conflict",
            ApiError::Invalid { .. } => "Invalid",
            ApiError::BadRequest(_) => "BadRequest",
            ApiError::Unauthorized => "Unauthorized",
            ApiError::MethodNotAllowed => "MethodNotAllowed",
            ApiError::UnsupportedMediaType(_) => "UnsupportedMediaType",
            ApiError::NotAcceptable => "NotAcceptable",
            ApiError::DisruptionBudget { .. } => "TooManyRequests",
            ApiError::TooLarge(_) => "RequestEntityTooLarge",
            ApiError::Gone(_) => "Expired",
            ApiError::Unavailable(_) => "ServiceUnavailable",
            ApiError::Timeout(_) => "Timeout",
            ApiError::Internal(_) => "InternalError",
            ApiError::Injected(503) => "ServiceUnavailable",
            ApiError::Injected(_) => "InternalError",
        }
    }

    /// The `Status` object (also used inside watch `ERROR` events).
    pub fn to_status(&self) -> Value {
        let details = match self {
            ApiError::NotFound {
                group,
                resource,
                name,
            }
            | ApiError::AlreadyExists {
                group,
                resource,
                name,
            }
            | ApiError::Conflict {
                group,
                resource,
                name,
                ..
            } => Some(json!({"name": name, "group": group, "kind": resource})),
            ApiError::Invalid {
                group,
                kind,
                name,
                causes,
            } => Some(json!({
                "name": name,
                "group": group,
                "kind": kind,
                "causes": causes.iter().map(|c| json!({
                    "reason": "FieldValueInvalid",
                    "message": c.message,
                    "field": c.field,
                })).collect::<Vec<_>>(),
            })),
            ApiError::ApplyConflict { causes, .. } => Some(json!({
                "causes": causes.iter().map(|c| json!({
                    "reason": "FieldManagerConflict",
                    "message": c.message,
                    "field": c.field,
                })).collect::<Vec<_>>(),
            })),
            ApiError::DisruptionBudget { pdb, needs, has } => Some(json!({"causes": [{
                "reason": "DisruptionBudget",
                "message": format!("The disruption budget {pdb} needs {needs} healthy pods and has {has} currently"),
            }]})),
            _ => None,
        };
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.to_string(),
            "reason": self.reason(),
            "code": self.code().as_u16(),
        });
        if let Some(details) = details {
            status["details"] = details;
        }
        status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.to_status()).unwrap_or_default();
        let mut response = (self.code(), body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}
