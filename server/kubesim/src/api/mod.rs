//! The HTTP API: authentication, faults, routing of Kubernetes paths to stores; the verbs, watch,
//! logs and metrics endpoints live in this folder, the behaviour they serve in `sim/`.

mod logs;
mod metrics;
mod reviews;
mod scale;
mod verbs;
mod view;
mod watch;

use verbs::Call;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde_json::{Value, json};

use crate::discovery;
use crate::faults::FaultRequest;
use crate::openapi;
use crate::proto_body;
use crate::resources::{self};
use crate::shared::{Caller, MANAGEMENT_VERSION, Shared};
use crate::status::ApiError;

/// The largest request body accepted (the real API server's limit is 3 MiB too).
pub const BODY_LIMIT: usize = 3 * 1024 * 1024;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    match serve(shared, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

pub type Query = HashMap<String, String>;

/// Whether a served resource has a `scale` subresource (for discovery).
pub fn scalable(r: &resources::Resource) -> bool {
    resources::find(r.plane, r.group, r.version, r.plural).is_some_and(scale::scalable)
}

fn parse_query(q: Option<&str>) -> Query {
    url::form_urlencoded::parse(q.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

pub fn json_response(code: StatusCode, body: impl Into<Body>) -> Response {
    let mut r = (code, body.into()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

pub(super) fn value_response(code: StatusCode, v: &Value) -> Response {
    json_response(code, serde_json::to_vec(v).unwrap_or_default())
}

/// Whose API the request's bearer token opens; 401 without a token that opens one.
fn authenticate(shared: &Shared, headers: &HeaderMap) -> Result<Caller, ApiError> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .and_then(|token| shared.caller(token))
        .ok_or(ApiError::Unauthorized)
}

pub(super) async fn read_body(body: Body) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| ApiError::TooLarge(BODY_LIMIT))
}

/// Decodes a JSON (or YAML) object body.
pub(super) fn decode(headers: &HeaderMap, bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest(
            "the request body is empty; send a JSON object".into(),
        ));
    }
    match media_type(headers, header::CONTENT_TYPE).as_deref() {
        None | Some("application/json") => serde_json::from_slice(bytes)
            .map_err(|e| ApiError::BadRequest(format!("the request body is not valid JSON: {e}"))),
        Some("application/yaml") => serde_yaml::from_slice(bytes)
            .map_err(|e| ApiError::BadRequest(format!("the request body is not valid YAML: {e}"))),
        Some(proto_body::MEDIA_TYPE) => proto_body::decode(bytes),
        Some(_) => Err(ApiError::UnsupportedMediaType(format!(
            "the body of the request was in an unknown format - accepted media types include: \
             application/json, application/yaml, {}",
            proto_body::MEDIA_TYPE
        ))),
    }
}

/// The media type of a header, lower-cased and without parameters (`None` when absent or empty).
fn media_type(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    let v = headers.get(name)?.to_str().unwrap_or("invalid");
    let t = v
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    (!t.is_empty()).then_some(t)
}

/// Whether the caller takes JSON: an `Accept` that names only other types (protobuf alone, say)
/// gets 406, as kubesim answers in JSON only.
fn accepts_json(headers: &HeaderMap) -> bool {
    let accept: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(','))
        .map(|t| t.split(';').next().unwrap_or("").trim())
        .filter(|t| !t.is_empty())
        .collect();
    accept.is_empty()
        || accept.iter().any(|t| {
            ["application/json", "application/*", "*/*"]
                .iter()
                .any(|ok| t.eq_ignore_ascii_case(ok))
        })
}

async fn serve(shared: Arc<Shared>, req: Request) -> Result<Response, ApiError> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    if matches!(path.as_str(), "/healthz" | "/livez" | "/readyz") {
        return Ok((StatusCode::OK, "ok").into_response());
    }
    let caller = authenticate(&shared, &parts.headers)?;
    if let Some(rest) = path.strip_prefix("/kubesim/") {
        if caller != Caller::Management {
            return Err(ApiError::NoRoute);
        }
        return admin(&shared, &parts.method, rest, body).await;
    }
    let latency = shared.faults.latency();
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    if let Some(code) = shared.faults.take_request_failure() {
        return Err(ApiError::Injected(code));
    }
    let query = parse_query(parts.uri.query());
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (store, scope, rest, version) = match (&caller, segments.first()) {
        // A workload cluster's token opens that cluster's API at the root, as a real cluster's
        // would, and nothing else.
        (Caller::Workload(key), first) => {
            if first == Some(&"clusters") {
                return Err(ApiError::NoRoute);
            }
            let workload = shared.workload(key).ok_or(ApiError::Unauthorized)?;
            (
                workload.store,
                Some(key.clone()),
                &segments[..],
                workload.version,
            )
        }
        // The management token also reaches every workload cluster under /clusters/<ns>/<name>.
        (Caller::Management, Some(&"clusters")) => {
            if segments.len() < 3 {
                return Err(ApiError::NoRoute);
            }
            let key = Shared::key(segments[1], segments[2]);
            let workload = shared.workload(&key).ok_or_else(|| {
                ApiError::not_found(resources::CAPI_GROUP, "clusters", &format!("{} (no workload API: the cluster does not exist or its control plane is not up yet)", segments[2]))
            })?;
            (workload.store, Some(key), &segments[3..], workload.version)
        }
        (Caller::Management, _) => (
            shared.mgmt.clone(),
            None,
            &segments[..],
            MANAGEMENT_VERSION.to_string(),
        ),
    };
    let mut garbled = shared.faults.garbled_metrics();
    if let Some(key) = scope.as_deref()
        && let Some((latency, fail, garble)) = shared.faults.for_cluster(key)
    {
        if latency > 0 {
            tokio::time::sleep(Duration::from_millis(latency)).await;
        }
        if let Some(code) = fail {
            return Err(ApiError::Injected(code));
        }
        garbled |= garble;
    }
    if garbled && scope.is_some() && rest.len() > 2 && rest[..2] == ["apis", "metrics.k8s.io"] {
        let mut r = (
            StatusCode::OK,
            "{\"kind\": \"NodeMetricsList\", \"items\": [ garbage",
        )
            .into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return Ok(r);
    }
    let call = Call {
        shared: &shared,
        store: &store,
        scope: scope.as_deref(),
        query: &query,
        headers: &parts.headers,
    };
    match rest {
        ["version"] => Ok(value_response(StatusCode::OK, &version_doc(&version))),
        ["openapi", "v2"] if !accepts_json(&parts.headers) => {
            // kubectl before 1.27 asks for protobuf only: an empty document (kubesim writes its
            // documents as JSON) leaves it without client-side schemas instead of failing.
            let mut r = (StatusCode::OK, Body::empty()).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(
                    "application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
                ),
            );
            Ok(r)
        }
        ["openapi", "v2"] => openapi::document(
            &shared.openapi,
            &shared.schemas,
            store.plane,
            openapi::Style::V2,
            None,
        )
        .map(|doc| json_response(StatusCode::OK, doc))
        .ok_or(ApiError::NoRoute),
        ["openapi", "v3"] => Ok(value_response(
            StatusCode::OK,
            &openapi::index(&shared.openapi, &shared.schemas, store.plane),
        )),
        ["openapi", "v3", gv @ ..] => {
            if !accepts_json(&parts.headers) {
                return Err(ApiError::NotAcceptable);
            }
            openapi::document(
                &shared.openapi,
                &shared.schemas,
                store.plane,
                openapi::Style::V3,
                Some(&gv.join("/")),
            )
            .map(|doc| json_response(StatusCode::OK, doc))
            .ok_or(ApiError::NoRoute)
        }
        ["api"] => Ok(value_response(StatusCode::OK, &discovery::core_versions())),
        ["apis"] => Ok(value_response(
            StatusCode::OK,
            &discovery::group_list(store.plane),
        )),
        ["api", "v1", tail @ ..] => call.resources("", "v1", tail, &parts.method, body).await,
        ["apis", group] => discovery::group(store.plane, group)
            .map(|g| value_response(StatusCode::OK, &g))
            .ok_or(ApiError::NoRoute),
        ["apis", group, version, plural] if discovery::review(group, version, plural).is_some() => {
            if parts.method != Method::POST {
                return Err(ApiError::MethodNotAllowed);
            }
            let bytes = read_body(body).await?;
            reviews::answer(plural, &parts.headers, &bytes)
                .map(|v| value_response(StatusCode::CREATED, &v))
        }
        ["apis", group, version, tail @ ..] => {
            call.resources(group, version, tail, &parts.method, body)
                .await
        }
        _ => Err(ApiError::NoRoute),
    }
}

fn version_doc(v: &str) -> Value {
    let (major, minor) = crate::catalog::parse_version(v)
        .map(|(a, b, _)| (a.to_string(), b.to_string()))
        .unwrap_or_default();
    json!({"major": major, "minor": minor, "gitVersion": v, "gitCommit": "kubesim", "gitTreeState": "clean",
           "buildDate": "2026-01-01T00:00:00Z", "goVersion": "kubesim", "compiler": "rustc", "platform": "linux/amd64"})
}

/// `/kubesim/faults` (GET state, POST a fault request, DELETE to clear) and `/kubesim/compact`.
async fn admin(
    shared: &Shared,
    method: &Method,
    rest: &str,
    body: Body,
) -> Result<Response, ApiError> {
    match (method, rest) {
        (&Method::GET, "faults") => Ok(value_response(
            StatusCode::OK,
            &json!(shared.faults.state()),
        )),
        (&Method::DELETE, "faults") => Ok(value_response(
            StatusCode::OK,
            &json!(shared.faults.clear()),
        )),
        (&Method::POST, "faults") => {
            let bytes = read_body(body).await?;
            let req: FaultRequest = serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::BadRequest(format!("invalid fault request: {e}")))?;
            let state = shared.faults.apply(&req).map_err(ApiError::BadRequest)?;
            Ok(value_response(StatusCode::OK, &json!(state)))
        }
        (&Method::POST, "compact") => {
            shared.mgmt.compact();
            for key in shared.workload_keys() {
                if let Some(w) = shared.workload(&key) {
                    w.store.compact();
                }
            }
            Ok(value_response(StatusCode::OK, &json!({"compacted": true})))
        }
        (_, "faults" | "compact") => Err(ApiError::MethodNotAllowed),
        _ => Err(ApiError::NoRoute),
    }
}
