//! Request guards: writes only from the portal's own pages, and honest statuses for server functions.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::Limited;

use app::error::AppError;

use super::{AppState, BODY_LIMIT_BYTES};
use crate::error::{HttpError, app_error_status};

/// Refuses state-changing requests a browser sent from another site (CSRF). Clients that are not
/// browsers send neither `Origin` nor `Sec-Fetch-Site` and are let through: they cannot be tricked
/// into sending someone else's cookies.
pub async fn same_origin_writes(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || is_same_origin(req.headers(), &state.public_origin) {
        next.run(req).await
    } else {
        tracing::warn!(
            origin = ?req.headers().get(header::ORIGIN),
            sec_fetch_site = ?req.headers().get("sec-fetch-site"),
            "refused a cross-origin request"
        );
        HttpError::CrossOrigin.into_response()
    }
}

/// Same origin means: `Origin` is the configured public origin or the host the request was sent to
/// (browsers set `Host`, a page cannot forge it); without `Origin`, `Sec-Fetch-Site` must agree.
pub fn is_same_origin(headers: &HeaderMap, public_origin: &str) -> bool {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        if origin == public_origin {
            return true;
        }
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let origin_authority = origin.split_once("://").map(|(_, authority)| authority);
        return matches!((origin_authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h));
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => site == "same-origin" || site == "none",
        None => true,
    }
}

/// Refuses bodies over `BODY_LIMIT_BYTES`: at once with 413 when `Content-Length` says so, and by
/// failing the read when a streamed body grows past it.
pub async fn body_limit(req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > BODY_LIMIT_BYTES) {
        return HttpError::PayloadTooLarge.into_response();
    }
    next.run(req.map(|body| Body::new(Limited::new(body, BODY_LIMIT_BYTES))))
        .await
}

/// Server functions answer every error with 500; this gives an `AppError` the status it names
/// (400 for bad input, 404, 503 …), so clients and logs can tell the caller's mistakes from ours.
/// It also tidies the redirect that sends a form posted without JavaScript back to its page
/// (leptos leaves a bare `?` on the address).
pub async fn server_fn_responses(req: Request, next: Next) -> Response {
    let is_server_fn = req.uri().path().starts_with("/api/");
    let mut response = next.run(req).await;
    if !is_server_fn {
        return response;
    }
    if response.status() == StatusCode::FOUND {
        let tidy = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|l| l.strip_suffix('?'))
            .and_then(|l| HeaderValue::from_str(l).ok());
        if let Some(location) = tidy {
            response.headers_mut().insert(header::LOCATION, location);
        }
        return response;
    }
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, 64 * 1024).await else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the server's error could not be read",
        )
            .into_response();
    };
    if let Ok(err) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = app_error_status(&err);
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    const PORTAL: &str = "http://127.0.0.1:3000";

    #[test]
    fn origin_must_be_the_portal_or_the_requested_host() {
        assert!(is_same_origin(&headers(&[("origin", PORTAL)]), PORTAL));
        assert!(is_same_origin(
            &headers(&[
                ("origin", "http://localhost:3000"),
                ("host", "localhost:3000")
            ]),
            PORTAL
        ));
        assert!(!is_same_origin(
            &headers(&[
                ("origin", "https://evil.example"),
                ("host", "127.0.0.1:3000")
            ]),
            PORTAL
        ));
        assert!(!is_same_origin(
            &headers(&[("origin", "null"), ("host", "127.0.0.1:3000")]),
            PORTAL
        ));
    }

    #[test]
    fn without_origin_fetch_metadata_decides() {
        assert!(is_same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            PORTAL
        ));
        assert!(!is_same_origin(
            &headers(&[("sec-fetch-site", "cross-site")]),
            PORTAL
        ));
        assert!(!is_same_origin(
            &headers(&[("sec-fetch-site", "same-site")]),
            PORTAL
        ));
        assert!(is_same_origin(&headers(&[]), PORTAL));
    }
}
