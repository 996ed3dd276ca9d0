//! Health endpoints for load balancers and orchestrators.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;

use super::AppState;

/// The process is alive and serving HTTP.
pub async fn healthz() -> &'static str {
    "ok"
}

/// The portal can do its work: the database and the management cluster answer.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let database = state.core.db.ping().await;
    if let Err(err) = &database {
        tracing::warn!(error = %err, "readiness check: database unreachable");
    }
    let management = match &state.core.fleet {
        None => None,
        Some(fleet) => Some(fleet.management.ping().await.inspect_err(|err| {
            tracing::warn!(error = %err, source = %fleet.management.source, "readiness check: management cluster unreachable");
        })),
    };
    let ready = database.is_ok() && management.as_ref().is_none_or(Result::is_ok);
    let body = json!({
        "status": if ready { "ready" } else { "unavailable" },
        "database": if database.is_ok() { "ok" } else { "unreachable" },
        "management": match &management {
            None => "not configured".to_string(),
            Some(Ok(version)) => format!("ok ({version})"),
            Some(Err(_)) => "unreachable".to_string(),
        },
    });
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body))
}
