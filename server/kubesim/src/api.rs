//! The HTTP API: authentication, faults, routing of Kubernetes paths to stores, and the verbs.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde_json::{Value, json};

use crate::admission;
use crate::discovery;
use crate::faults::FaultRequest;
use crate::index;
use crate::kubeconfig::base64;
use crate::patch::{self, PatchType};
use crate::resources::{self, id};
use crate::selector::{FieldSelector, LabelSelector};
use crate::shared::{MANAGEMENT_VERSION, Shared};
use crate::sim::{logs, metrics};
use crate::status::ApiError;
use crate::store::{ListQuery, Store, UpdateMode};
use crate::table;
use crate::watch;

/// The largest request body accepted (the real API server's limit is 3 MiB too).
pub const BODY_LIMIT: usize = 3 * 1024 * 1024;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

async fn handle(State(sh): State<Arc<Shared>>, req: Request) -> Response {
    match serve(sh, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

pub type Query = HashMap<String, String>;

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

fn value_response(code: StatusCode, v: &Value) -> Response {
    json_response(code, serde_json::to_vec(v).unwrap_or_default())
}

/// Equal, in time that depends on the lengths only: the token is the only credential.
fn same_secret(given: &str, token: &str) -> bool {
    given.len() == token.len()
        && given
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

fn authenticate(headers: &HeaderMap, token: &str) -> Result<(), ApiError> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        Some(g) if same_secret(g, token) => Ok(()),
        _ => Err(ApiError::Unauthorized),
    }
}

/// The path after a leading `/<token>` segment, when the first segment is the token.
fn strip_token<'a>(path: &'a str, token: &str) -> Option<&'a str> {
    let rest = path.strip_prefix('/')?;
    let (first, after) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    same_secret(first, token).then_some(after)
}

async fn read_body(body: Body) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| ApiError::TooLarge(BODY_LIMIT))
}

/// Decodes a JSON (or YAML) object body.
fn decode(headers: &HeaderMap, bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest(
            "the request body is empty; send a JSON object".into(),
        ));
    }
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("application/json");
    let v: Value = if ct.contains("yaml") {
        serde_yaml::from_slice(bytes)
            .map_err(|e| ApiError::BadRequest(format!("the request body is not valid YAML: {e}")))?
    } else if ct.contains("protobuf") {
        return Err(ApiError::UnsupportedMediaType(
            "kubesim speaks JSON only; protobuf is not supported".into(),
        ));
    } else {
        serde_json::from_slice(bytes)
            .map_err(|e| ApiError::BadRequest(format!("the request body is not valid JSON: {e}")))?
    };
    Ok(v)
}

async fn serve(sh: Arc<Shared>, req: Request) -> Result<Response, ApiError> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    if matches!(path.as_str(), "/healthz" | "/livez" | "/readyz") {
        return Ok((StatusCode::OK, "ok").into_response());
    }
    // kubectl (client-go) never sends credentials over plain HTTP, so the kubeconfig's server URL
    // also carries the token as its first path segment; either proves the caller read the kubeconfig.
    let path = match strip_token(&path, &sh.token) {
        Some(rest) => rest.to_string(),
        None => {
            authenticate(&parts.headers, &sh.token)?;
            path
        }
    };
    if let Some(rest) = path.strip_prefix("/kubesim/") {
        return admin(&sh, &parts.method, rest, body).await;
    }
    let latency = sh.faults.latency();
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    if let Some(code) = sh.faults.take_request_failure() {
        return Err(ApiError::Injected(code));
    }
    let query = parse_query(parts.uri.query());
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (store, scope, rest, version) = if segments.first() == Some(&"clusters") {
        if segments.len() < 3 {
            return Err(ApiError::NoRoute);
        }
        let key = Shared::key(segments[1], segments[2]);
        let workload = sh.workload(&key).ok_or_else(|| {
            ApiError::not_found(resources::CAPI_GROUP, "clusters", &format!("{} (no workload API: the cluster does not exist or its control plane is not up yet)", segments[2]))
        })?;
        (workload.store, Some(key), &segments[3..], workload.version)
    } else {
        (
            sh.mgmt.clone(),
            None,
            &segments[..],
            MANAGEMENT_VERSION.to_string(),
        )
    };
    let ctx = Ctx {
        sh: &sh,
        store: &store,
        scope: scope.as_deref(),
        query: &query,
        headers: &parts.headers,
    };
    match rest {
        ["version"] => Ok(value_response(StatusCode::OK, &version_doc(&version))),
        ["openapi", "v2"] => {
            // An empty protobuf document: clients fall back to no client-side schema validation.
            let mut r = (StatusCode::OK, Body::empty()).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(
                    "application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
                ),
            );
            Ok(r)
        }
        ["api"] => Ok(value_response(StatusCode::OK, &discovery::core_versions())),
        ["apis"] => Ok(value_response(
            StatusCode::OK,
            &discovery::group_list(store.plane),
        )),
        ["api", "v1", tail @ ..] => ctx.resources("", "v1", tail, &parts.method, body).await,
        ["apis", group] => discovery::group(store.plane, group)
            .map(|g| value_response(StatusCode::OK, &g))
            .ok_or(ApiError::NoRoute),
        ["apis", "authentication.k8s.io", "v1", "selfsubjectreviews"] => {
            if parts.method != Method::POST {
                return Err(ApiError::MethodNotAllowed);
            }
            Ok(value_response(
                StatusCode::CREATED,
                &self_subject_review(&parts.headers),
            ))
        }
        ["apis", group, version, tail @ ..] => {
            ctx.resources(group, version, tail, &parts.method, body)
                .await
        }
        _ => Err(ApiError::NoRoute),
    }
}

/// Who the caller is, as `kubectl auth whoami` asks: the kubeconfig's user, or the user and groups
/// named by `Impersonate-User` / `Impersonate-Group` (the token's user may impersonate anyone, as a
/// cluster admin may).
fn self_subject_review(headers: &HeaderMap) -> Value {
    let impersonated = headers
        .get("impersonate-user")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (username, mut groups) = match impersonated {
        Some(user) => (
            user,
            headers
                .get_all("impersonate-group")
                .iter()
                .filter_map(|v| v.to_str().ok().map(str::to_string))
                .collect::<Vec<_>>(),
        ),
        None => (
            "kubesim-admin".to_string(),
            vec!["system:masters".to_string()],
        ),
    };
    groups.push("system:authenticated".into());
    json!({
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "SelfSubjectReview",
        "metadata": {"creationTimestamp": null},
        "status": {"userInfo": {"username": username, "groups": groups}}
    })
}

fn version_doc(v: &str) -> Value {
    let (major, minor) = crate::catalog::parse_version(v)
        .map(|(a, b, _)| (a.to_string(), b.to_string()))
        .unwrap_or_default();
    json!({"major": major, "minor": minor, "gitVersion": v, "gitCommit": "kubesim", "gitTreeState": "clean",
           "buildDate": "2026-01-01T00:00:00Z", "goVersion": "kubesim", "compiler": "rustc", "platform": "linux/amd64"})
}

/// `/kubesim/faults` (GET state, POST a fault request, DELETE to clear) and `/kubesim/compact`.
async fn admin(sh: &Shared, method: &Method, rest: &str, body: Body) -> Result<Response, ApiError> {
    match (method, rest) {
        (&Method::GET, "faults") => Ok(value_response(StatusCode::OK, &json!(sh.faults.state()))),
        (&Method::DELETE, "faults") => {
            Ok(value_response(StatusCode::OK, &json!(sh.faults.clear())))
        }
        (&Method::POST, "faults") => {
            let bytes = read_body(body).await?;
            let req: FaultRequest = serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::BadRequest(format!("invalid fault request: {e}")))?;
            let state = sh.faults.apply(&req).map_err(ApiError::BadRequest)?;
            Ok(value_response(StatusCode::OK, &json!(state)))
        }
        (&Method::POST, "compact") => {
            sh.mgmt.compact();
            for key in sh.workload_keys() {
                if let Some(w) = sh.workload(&key) {
                    w.store.compact();
                }
            }
            Ok(value_response(StatusCode::OK, &json!({"compacted": true})))
        }
        (_, "faults" | "compact") => Err(ApiError::MethodNotAllowed),
        _ => Err(ApiError::NoRoute),
    }
}

struct Ctx<'a> {
    sh: &'a Shared,
    store: &'a Arc<Store>,
    scope: Option<&'a str>,
    query: &'a Query,
    headers: &'a HeaderMap,
}

/// A parsed resource path.
struct Target<'p> {
    res: usize,
    namespace: Option<&'p str>,
    name: Option<&'p str>,
    sub: Option<&'p str>,
}

impl Ctx<'_> {
    fn parse<'p>(
        &self,
        group: &str,
        version: &str,
        tail: &[&'p str],
    ) -> Result<Target<'p>, ApiError> {
        let plane = self.store.plane;
        let (namespace, rest) = match tail {
            ["namespaces", ns, plural, rest @ ..]
                if resources::find(plane, group, version, plural).is_some() =>
            {
                (Some(*ns), {
                    let mut v = vec![*plural];
                    v.extend_from_slice(rest);
                    v
                })
            }
            _ => (None, tail.to_vec()),
        };
        let plural = rest.first().ok_or(ApiError::NoRoute)?;
        let res = resources::find(plane, group, version, plural).ok_or(ApiError::NoRoute)?;
        let r = resources::get(res);
        if namespace.is_some() && !r.namespaced {
            return Err(ApiError::NoRoute);
        }
        if rest.len() > 3 {
            return Err(ApiError::NoRoute);
        }
        let sub = rest.get(2).copied();
        match sub {
            None => {}
            Some("status") if r.status => {}
            Some("log") if res == id::PODS => {}
            Some(_) => return Err(ApiError::NoRoute),
        }
        Ok(Target {
            res,
            namespace,
            name: rest.get(1).copied(),
            sub,
        })
    }

    async fn resources(
        &self,
        group: &str,
        version: &str,
        tail: &[&str],
        method: &Method,
        body: Body,
    ) -> Result<Response, ApiError> {
        let plane = self.store.plane;
        if !resources::serves_group_version(plane, group, version) {
            return Err(ApiError::NoRoute);
        }
        if tail.is_empty() {
            let (g, v) = resources::RESOURCES
                .iter()
                .find(|r| r.plane == plane && r.group == group && r.version == version)
                .map(|r| (r.group, r.version))
                .ok_or(ApiError::NoRoute)?;
            return Ok(value_response(
                StatusCode::OK,
                &discovery::resource_list(plane, g, v),
            ));
        }
        let t = self.parse(group, version, tail)?;
        let r = resources::get(t.res);
        if r.computed {
            if method != Method::GET {
                return Err(ApiError::MethodNotAllowed);
            }
            if self
                .query
                .get("watch")
                .is_some_and(|w| w == "true" || w == "1")
            {
                return Err(ApiError::MethodNotAllowed);
            }
            return metrics::serve(self.sh, self.store, t.res, t.namespace, t.name, self.query);
        }
        match (method, t.name, t.sub) {
            (&Method::GET, None, _) => {
                if self
                    .query
                    .get("watch")
                    .is_some_and(|w| w == "true" || w == "1")
                {
                    watch::serve(
                        self.sh,
                        self.store.clone(),
                        t.res,
                        t.namespace.map(String::from),
                        self.query,
                        self.headers,
                    )
                    .await
                } else {
                    self.list(t.res, t.namespace)
                }
            }
            (&Method::POST, None, None) => self.create(t.res, t.namespace, body).await,
            (&Method::GET, Some(name), Some("log")) => {
                logs::serve(
                    self.sh,
                    self.store.clone(),
                    t.namespace.unwrap_or("default"),
                    name,
                    self.query,
                )
                .await
            }
            (&Method::GET, Some(name), _) => {
                let obj = self
                    .store
                    .get(t.res, t.namespace.unwrap_or(""), name)
                    .ok_or_else(|| ApiError::not_found(r.group, r.plural, name))?;
                if table::wanted(self.headers) {
                    return Ok(value_response(
                        StatusCode::OK,
                        &table::render(t.res, &[obj], self.store.current_rv(), None),
                    ));
                }
                Ok(json_response(StatusCode::OK, obj.json.clone()))
            }
            (&Method::PUT, Some(name), sub) => {
                self.update(t.res, t.namespace.unwrap_or(""), name, sub, body)
                    .await
            }
            (&Method::PATCH, Some(name), sub) => {
                self.patch(t.res, t.namespace.unwrap_or(""), name, sub, body)
                    .await
            }
            (&Method::DELETE, Some(name), None) => {
                let ns = t.namespace.unwrap_or("");
                if matches!(t.res, id::M_NAMESPACES | id::W_NAMESPACES)
                    && matches!(name, "default" | "kube-system" | "kube-public")
                {
                    return Err(ApiError::BadRequest(format!(
                        "namespace \"{name}\" may not be deleted: it is a system namespace"
                    )));
                }
                let (obj, _gone) = self.store.delete(t.res, ns, name)?;
                Ok(json_response(StatusCode::OK, obj.json.clone()))
            }
            _ => Err(ApiError::MethodNotAllowed),
        }
    }

    fn list(&self, res: usize, namespace: Option<&str>) -> Result<Response, ApiError> {
        let r = resources::get(res);
        let labels = LabelSelector::parse(
            self.query
                .get("labelSelector")
                .map(String::as_str)
                .unwrap_or(""),
        )?;
        let fields = FieldSelector::parse(
            self.query
                .get("fieldSelector")
                .map(String::as_str)
                .unwrap_or(""),
            index::selectable(res),
            r.kind,
        )?;
        let limit = match self.query.get("limit").filter(|l| !l.is_empty()) {
            None => None,
            Some(l) => match l.parse::<i64>() {
                Ok(n) if n > 0 => Some(n as usize),
                Ok(_) => None,
                Err(_) => {
                    return Err(ApiError::BadRequest(format!(
                        "limit must be a positive integer, got \"{l}\""
                    )));
                }
            },
        };
        let (after, token_rv) = match self.query.get("continue").filter(|c| !c.is_empty()) {
            None => (None, None),
            Some(token) => {
                let (rv, key) = decode_continue(token)?;
                (Some(key), Some(rv))
            }
        };
        let listed = self.store.list(
            res,
            &ListQuery {
                namespace,
                labels: &labels,
                fields: &fields,
                after,
                limit,
            },
        );
        let rv = token_rv.unwrap_or(listed.rv);
        let next = listed
            .next
            .as_ref()
            .map(|(ns, name)| encode_continue(rv, ns, name));
        if table::wanted(self.headers) {
            return Ok(value_response(
                StatusCode::OK,
                &table::render(res, &listed.items, rv, next.as_deref()),
            ));
        }
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if let Some(next) = next {
            meta["continue"] = json!(next);
            meta["remainingItemCount"] = json!(listed.remaining);
        }
        let head = format!(
            "{{\"kind\":\"{}List\",\"apiVersion\":\"{}\",\"metadata\":{},\"items\":[",
            r.kind,
            r.api_version(),
            meta
        );
        let size = head.len() + listed.items.iter().map(|o| o.json.len() + 1).sum::<usize>() + 2;
        let mut out = Vec::with_capacity(size);
        out.extend_from_slice(head.as_bytes());
        for (i, obj) in listed.items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(&obj.json);
        }
        out.extend_from_slice(b"]}");
        Ok(json_response(StatusCode::OK, out))
    }

    /// Checks `kind`/`apiVersion` of a body against the endpoint it was sent to.
    fn check_kind(&self, res: usize, v: &Value) -> Result<(), ApiError> {
        let r = resources::get(res);
        if !v.is_object() {
            return Err(ApiError::BadRequest(
                "the request body must be a JSON object".into(),
            ));
        }
        if let Some(av) = v.get("apiVersion").and_then(Value::as_str)
            && av != r.api_version()
        {
            return Err(ApiError::BadRequest(format!(
                "the API version in the data ({av}) does not match the expected API version ({})",
                r.api_version()
            )));
        }
        if let Some(kind) = v.get("kind").and_then(Value::as_str)
            && kind != r.kind
        {
            return Err(ApiError::BadRequest(format!(
                "the kind in the data ({kind}) does not match the expected kind ({}) for this endpoint",
                r.kind
            )));
        }
        Ok(())
    }

    fn dry_run(&self) -> bool {
        self.query.get("dryRun").is_some_and(|d| d == "All")
    }

    async fn create(
        &self,
        res: usize,
        namespace: Option<&str>,
        body: Body,
    ) -> Result<Response, ApiError> {
        let r = resources::get(res);
        let bytes = read_body(body).await?;
        let mut v = decode(self.headers, &bytes)?;
        self.check_kind(res, &v)?;
        if r.namespaced {
            let url_ns = namespace.unwrap_or("default");
            match v["metadata"]["namespace"].as_str() {
                Some(ns) if !ns.is_empty() && ns != url_ns => {
                    return Err(ApiError::BadRequest(format!(
                        "the namespace of the provided object ({ns}) does not match the namespace sent on the request ({url_ns})"
                    )));
                }
                _ => {
                    if !v["metadata"].is_object() {
                        v["metadata"] = json!({});
                    }
                    v["metadata"]["namespace"] = json!(url_ns);
                }
            }
        }
        if res == id::M_SECRETS {
            string_data(&mut v);
        }
        if res == id::CLUSTERS && self.scope.is_some() {
            return Err(ApiError::NoRoute);
        }
        admission::admit(self.store, &self.sh.schemas, res, &v, None)?;
        if self.dry_run() {
            return Ok(value_response(StatusCode::CREATED, &v));
        }
        let obj = self.store.create(res, v)?;
        Ok(json_response(StatusCode::CREATED, obj.json.clone()))
    }

    async fn update(
        &self,
        res: usize,
        ns: &str,
        name: &str,
        sub: Option<&str>,
        body: Body,
    ) -> Result<Response, ApiError> {
        let r = resources::get(res);
        let bytes = read_body(body).await?;
        let mut v = decode(self.headers, &bytes)?;
        self.check_kind(res, &v)?;
        if let Some(n) = v["metadata"]["name"].as_str()
            && n != name
        {
            return Err(ApiError::BadRequest(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )));
        }
        let old = self
            .store
            .get(res, ns, name)
            .ok_or_else(|| ApiError::not_found(r.group, r.plural, name))?
            .value();
        if !v["metadata"].is_object() {
            v["metadata"] = json!({});
        }
        v["metadata"]["name"] = json!(name);
        if r.namespaced {
            v["metadata"]["namespace"] = json!(ns);
        }
        if res == id::M_SECRETS {
            string_data(&mut v);
        }
        let mode = if sub == Some("status") {
            UpdateMode::Status
        } else {
            UpdateMode::Main
        };
        let candidate = merged_for_admission(&old, &v, mode, r.status);
        admission::admit(self.store, &self.sh.schemas, res, &candidate, Some(&old))?;
        if self.dry_run() {
            return Ok(value_response(StatusCode::OK, &candidate));
        }
        let obj = self.store.update(res, ns, name, v, mode)?;
        Ok(json_response(StatusCode::OK, obj.json.clone()))
    }

    async fn patch(
        &self,
        res: usize,
        ns: &str,
        name: &str,
        sub: Option<&str>,
        body: Body,
    ) -> Result<Response, ApiError> {
        let r = resources::get(res);
        let ct = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let kind = PatchType::from_content_type(ct)?;
        let bytes = read_body(body).await?;
        let patch_body: Value = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::BadRequest(format!("the patch is not valid JSON: {e}")))?;
        if kind != PatchType::Json && !patch_body.is_object() {
            return Err(ApiError::BadRequest(
                "a merge patch must be a JSON object".into(),
            ));
        }
        let sets_rv = patch_body.pointer("/metadata/resourceVersion").is_some();
        let mode = if sub == Some("status") {
            UpdateMode::Status
        } else {
            UpdateMode::Main
        };
        let builtin = r.group != resources::CAPI_GROUP;
        // Retry on a concurrent write, as the real server does for patches without a precondition.
        for _ in 0..5 {
            let old_obj = self
                .store
                .get(res, ns, name)
                .ok_or_else(|| ApiError::not_found(r.group, r.plural, name))?;
            let old = old_obj.value();
            let mut v = old.clone();
            patch::apply(&mut v, &patch_body, kind, builtin)?;
            if !v.is_object() {
                return Err(ApiError::BadRequest(
                    "the patch must leave an object".into(),
                ));
            }
            self.check_kind(res, &v)?;
            let candidate = merged_for_admission(&old, &v, mode, r.status);
            admission::admit(self.store, &self.sh.schemas, res, &candidate, Some(&old))?;
            if self.dry_run() {
                return Ok(value_response(StatusCode::OK, &candidate));
            }
            match self.store.update(res, ns, name, v, mode) {
                Ok(obj) => return Ok(json_response(StatusCode::OK, obj.json.clone())),
                Err(ApiError::Conflict { .. }) if !sets_rv => continue,
                Err(e) => return Err(e),
            }
        }
        Err(ApiError::Conflict {
            group: r.group.into(),
            resource: r.plural.into(),
            name: name.into(),
            message: "the object kept changing while the patch was applied; try again".into(),
        })
    }
}

/// What the object will look like after an update in `mode` (for admission).
fn merged_for_admission(old: &Value, new: &Value, mode: UpdateMode, has_status: bool) -> Value {
    match mode {
        UpdateMode::Status => {
            let mut v = old.clone();
            v["status"] = new["status"].clone();
            v
        }
        UpdateMode::Main => {
            let mut v = new.clone();
            if has_status {
                v["status"] = old["status"].clone();
            }
            v
        }
    }
}

/// Secrets accept `stringData`; the server stores it base64-encoded in `data`.
fn string_data(v: &mut Value) {
    let Some(sd) = v.get("stringData").and_then(Value::as_object).cloned() else {
        return;
    };
    if !v["data"].is_object() {
        v["data"] = json!({});
    }
    for (k, val) in sd {
        v["data"][k] = json!(base64(val.as_str().unwrap_or_default().as_bytes()));
    }
    if let Some(m) = v.as_object_mut() {
        m.remove("stringData");
    }
}

fn encode_continue(rv: u64, ns: &str, name: &str) -> String {
    format!("{rv}:{ns}:{name}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_continue(token: &str) -> Result<(u64, (String, String)), ApiError> {
    let bad = || {
        ApiError::BadRequest(format!(
            "continue token \"{token}\" is not valid; start the list again"
        ))
    };
    if !token.len().is_multiple_of(2) {
        return Err(bad());
    }
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(token.get(i..i + 2)?, 16).ok())
        .collect();
    let text = String::from_utf8(bytes.ok_or_else(bad)?).map_err(|_| bad())?;
    let mut parts = text.splitn(3, ':');
    let rv = parts.next().and_then(|r| r.parse().ok()).ok_or_else(bad)?;
    let ns = parts.next().ok_or_else(bad)?.to_string();
    let name = parts.next().ok_or_else(bad)?.to_string();
    Ok((rv, (ns, name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_found_as_the_whole_first_segment_only() {
        assert_eq!(super::strip_token("/t0k/api/v1", "t0k"), Some("/api/v1"));
        assert_eq!(super::strip_token("/t0k", "t0k"), Some(""));
        assert_eq!(super::strip_token("/t0kx/api", "t0k"), None);
        assert_eq!(super::strip_token("/t0/api", "t0k"), None);
        assert_eq!(super::strip_token("/api/v1", "t0k"), None);
        assert!(super::same_secret("abc", "abc"));
        assert!(!super::same_secret("abd", "abc"));
    }

    #[test]
    fn continue_tokens_round_trip_and_reject_garbage() {
        let t = encode_continue(42, "default", "web-1");
        assert_eq!(
            decode_continue(&t).unwrap(),
            (42, ("default".into(), "web-1".into()))
        );
        assert!(decode_continue("zz").is_err());
        assert!(decode_continue("abc").is_err());
    }

    #[test]
    fn plane_of_management_paths() {
        use crate::resources::Plane;
        assert_eq!(resources::find(Plane::Management, "", "v1", "pods"), None);
        assert!(resources::find(Plane::Workload, "", "v1", "pods").is_some());
    }
}
