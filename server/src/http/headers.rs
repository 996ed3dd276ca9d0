//! Security headers on every response, and the page shown when a handler panics.

use std::any::Any;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use super::AppState;

/// The policy for every response. Scripts must come from the portal itself or carry the page's
/// nonce (the hydration bootstrap and streamed resources are inline); the wasm needs
/// `wasm-unsafe-eval` to be compiled; nothing may frame the portal. Forms post to the portal only,
/// but `idp_origin` is allowed too: the sign-out form's redirect to the identity provider's logout
/// is a form navigation as far as `form-action` is concerned.
pub fn content_security_policy(nonce: Option<&str>, idp_origin: Option<&str>) -> String {
    let nonce = nonce.map(|n| format!(" 'nonce-{n}'")).unwrap_or_default();
    let idp = idp_origin.map(|o| format!(" {o}")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{nonce}; style-src 'self'; \
         img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'{idp}; frame-ancestors 'none'"
    )
}

pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    let nonce = headers.remove(app::NONCE_HEADER);
    let idp_origin = state
        .core
        .auth
        .oidc
        .as_ref()
        .map(|o| o.issuer().origin().ascii_serialization());
    let csp = content_security_policy(
        nonce.as_ref().and_then(|v| v.to_str().ok()),
        idp_origin.as_deref(),
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    // Browsers that once reached the portal over HTTPS never try plain HTTP again for a year.
    if state.public_origin.starts_with("https://") {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    headers.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    response
}

/// A panic is a bug: log it, and show the user a plain page rather than dropping the connection.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response<Body> {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(detail, "a request handler panicked");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Html(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Something went wrong · Portolan</title>\
             </head><body><h1>Something went wrong</h1><p>The portal hit an internal error. Reload the page to try again; \
             an administrator can find the details in the server log.</p><p><a href=\"/\">Go to Home</a></p></body></html>",
        ),
    )
        .into_response()
}
