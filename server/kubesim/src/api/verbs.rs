//! The resource verbs: get, list, create, update, patch, delete (and the watch, logs and metrics they hand on to).

use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use http::{HeaderMap, Method, StatusCode, header};
use serde_json::{Value, json};

use crate::admission;
use crate::discovery;
use crate::events_v1;
use crate::fields;
use crate::index;
use crate::kubeconfig::base64;
use crate::managed::{self, Manager};
use crate::patch::{self, PatchType};
use crate::resources::{self, id};
use crate::selector::{FieldSelector, LabelSelector};
use crate::shared::Shared;
use crate::status::ApiError;
use crate::status::Cause;
use crate::store::{Deletion, ListQuery, Propagation, Store, UpdateMode, Write};
use crate::table;

use super::{Query, decode, json_response, logs, metrics, read_body, value_response, watch};
/// One request against the resource API of one plane (management or a workload cluster).
pub(super) struct Call<'a> {
    pub shared: &'a Shared,
    pub store: &'a Arc<Store>,
    pub scope: Option<&'a str>,
    pub query: &'a Query,
    pub headers: &'a HeaderMap,
}

/// Where a patch or an apply writes.
struct Place<'a> {
    resource: usize,
    ns: &'a str,
    name: &'a str,
    mode: UpdateMode,
    write: Write,
}

/// A parsed resource path.
struct Target<'p> {
    resource: usize,
    namespace: Option<&'p str>,
    name: Option<&'p str>,
    sub: Option<&'p str>,
}

impl Call<'_> {
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
        let resource = resources::find(plane, group, version, plural).ok_or(ApiError::NoRoute)?;
        let r = resources::get(resource);
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
            Some("log" | "eviction") if resource == id::PODS => {}
            Some("scale") if super::scale::scalable(resource) => {}
            Some(_) => return Err(ApiError::NoRoute),
        }
        Ok(Target {
            resource,
            namespace,
            name: rest.get(1).copied(),
            sub,
        })
    }

    pub(super) async fn resources(
        &self,
        group: &str,
        version: &str,
        tail: &[&str],
        method: &Method,
        body: Body,
    ) -> Result<Response, ApiError> {
        let plane = self.store.plane;
        if !super::accepts_json(self.headers) {
            return Err(ApiError::NotAcceptable);
        }
        if tail.is_empty()
            && let Some(list) = discovery::review_list(group, version)
        {
            return Ok(value_response(StatusCode::OK, &list));
        }
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
        let r = resources::get(t.resource);
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
            return metrics::serve(
                self.shared,
                self.store,
                t.resource,
                t.namespace,
                t.name,
                self.query,
            );
        }
        if events_v1::stored_in(t.resource) != t.resource
            && !(method == Method::GET && t.name.is_none())
        {
            return self
                .view(t.resource, t.namespace, t.name, method, body)
                .await;
        }
        match (method, t.name, t.sub) {
            (&Method::GET, None, _) => {
                if self
                    .query
                    .get("watch")
                    .is_some_and(|w| w == "true" || w == "1")
                {
                    watch::serve(
                        self.shared,
                        self.store.clone(),
                        t.resource,
                        t.namespace.map(String::from),
                        self.query,
                        self.headers,
                    )
                    .await
                } else {
                    self.list(t.resource, t.namespace)
                }
            }
            (&Method::POST, None, None) => {
                let write = self.write("CreateOptions", None)?;
                self.create(t.resource, t.namespace, body, write).await
            }
            (&Method::GET | &Method::PUT | &Method::PATCH, Some(name), Some("scale")) => {
                self.scale(t.resource, t.namespace.unwrap_or(""), name, method, body)
                    .await
            }
            (&Method::POST, Some(name), Some("eviction")) => {
                self.evict(t.namespace.unwrap_or("default"), name, body)
                    .await
            }
            (&Method::GET, Some(name), Some("log")) => {
                logs::serve(
                    self.shared,
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
                    .get(t.resource, t.namespace.unwrap_or(""), name)
                    .ok_or_else(|| ApiError::not_found(r.group, r.plural, name))?;
                if table::wanted(self.headers) {
                    return Ok(value_response(
                        StatusCode::OK,
                        &table::render(t.resource, &[obj], self.store.current_rv(), None),
                    ));
                }
                Ok(json_response(StatusCode::OK, obj.json.clone()))
            }
            (&Method::PUT, Some(name), sub) => {
                let (ns, write) = (
                    t.namespace.unwrap_or(""),
                    self.write("UpdateOptions", None)?,
                );
                self.update(t.resource, ns, name, sub, body, write).await
            }
            (&Method::PATCH, Some(name), sub) => {
                let (ns, write) = (t.namespace.unwrap_or(""), self.write("PatchOptions", None)?);
                self.patch(t.resource, ns, name, sub, body, write).await
            }
            (&Method::DELETE, Some(name), None) => {
                let ns = t.namespace.unwrap_or("");
                if matches!(t.resource, id::M_NAMESPACES | id::W_NAMESPACES)
                    && matches!(name, "default" | "kube-system" | "kube-public")
                {
                    return Err(ApiError::BadRequest(format!(
                        "namespace \"{name}\" may not be deleted: it is a system namespace"
                    )));
                }
                let options = delete_options(self.headers, &read_body(body).await?)?;
                let how = Deletion {
                    write: self.write("DeleteOptions", options.get("dryRun"))?,
                    propagation: self.propagation(&options)?,
                    grace: self.grace(&options)?,
                };
                let (obj, gone) = self.store.delete_with(t.resource, ns, name, how)?;
                // 202 while something still holds the object (finalizers, a kubelet).
                let code = if gone || how.write == Write::DryRun {
                    StatusCode::OK
                } else {
                    StatusCode::ACCEPTED
                };
                Ok(json_response(code, obj.json.clone()))
            }
            _ => Err(ApiError::MethodNotAllowed),
        }
    }

    /// A list of `shown` (stored as itself, or as core Events for events.k8s.io).
    fn list(&self, shown: usize, namespace: Option<&str>) -> Result<Response, ApiError> {
        let r = resources::get(shown);
        let resource = events_v1::stored_in(shown);
        let labels = LabelSelector::parse(
            self.query
                .get("labelSelector")
                .map(String::as_str)
                .unwrap_or(""),
        )?;
        let mut selector = self.query.get("fieldSelector").cloned().unwrap_or_default();
        if shown != resource {
            selector = events_v1::core_selector(&selector);
        }
        let fields = FieldSelector::parse(&selector, index::selectable(resource), r.kind)?;
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
        let exact = self.version_match(resource)?;
        let (after, token_rv) = match self.query.get("continue").filter(|c| !c.is_empty()) {
            None => (None, None),
            Some(token) => {
                let (rv, key) = decode_continue(token)?;
                (Some(key), Some(rv))
            }
        };
        let listed = self.store.list(
            resource,
            &ListQuery {
                namespace,
                labels: &labels,
                fields: &fields,
                after,
                limit,
            },
        );
        let rv = exact.or(token_rv).unwrap_or(listed.rv);
        let next = listed
            .next
            .as_ref()
            .map(|(ns, name)| encode_continue(rv, ns, name));
        if table::wanted(self.headers) {
            return Ok(value_response(
                StatusCode::OK,
                &table::render(resource, &listed.items, rv, next.as_deref()),
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
            if shown == resource {
                out.extend_from_slice(&obj.json);
            } else {
                out.extend_from_slice(&events_v1::bytes_to_v1(&obj.json));
            }
        }
        out.extend_from_slice(b"]}");
        Ok(json_response(StatusCode::OK, out))
    }

    /// `resourceVersion` with `resourceVersionMatch` on a list: NotOlderThan is served from the
    /// current state (504 if the version is in the future); Exact only when the kind has not
    /// changed since that version, else 410 as for a compacted one.
    fn version_match(&self, resource: usize) -> Result<Option<u64>, ApiError> {
        let version = self.query.get("resourceVersion").filter(|v| !v.is_empty());
        let matching = self
            .query
            .get("resourceVersionMatch")
            .filter(|m| !m.is_empty());
        let Some(matching) = matching else {
            return Ok(None);
        };
        let invalid = |message: String| {
            ApiError::invalid(
                "meta.k8s.io",
                "ListOptions",
                "",
                vec![Cause::new("resourceVersionMatch", message)],
            )
        };
        let Some(version) = version else {
            return Err(invalid(
                "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"
                    .into(),
            ));
        };
        if self.query.get("continue").is_some_and(|c| !c.is_empty()) {
            return Err(invalid(
                "Forbidden: resourceVersionMatch is forbidden when continue is provided".into(),
            ));
        }
        let rv = version.parse::<u64>().map_err(|_| {
            ApiError::BadRequest(format!(
                "resourceVersion {:?} is not valid: it must be a number from a previous response",
                version.chars().take(32).collect::<String>()
            ))
        })?;
        match matching.as_str() {
            "Exact" if rv == 0 => Err(invalid(
                "Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""
                    .into(),
            )),
            "Exact" => self.store.exact(resource, rv).map(|()| Some(rv)),
            "NotOlderThan" if rv > self.store.current_rv() => Err(ApiError::Timeout(format!(
                "Too large resource version: {rv}, current: {}",
                self.store.current_rv()
            ))),
            "NotOlderThan" => Ok(None),
            other => Err(invalid(format!(
                "Unsupported value: {:?}: supported values: \"Exact\", \"NotOlderThan\"",
                other.chars().take(32).collect::<String>()
            ))),
        }
    }

    /// `propagationPolicy` (query or DeleteOptions; the deprecated `orphanDependents` too).
    pub(super) fn propagation(&self, options: &Value) -> Result<Propagation, ApiError> {
        let asked = self
            .query
            .get("propagationPolicy")
            .map(String::as_str)
            .or_else(|| options["propagationPolicy"].as_str());
        let orphan = self
            .query
            .get("orphanDependents")
            .map(|o| o == "true")
            .or_else(|| options["orphanDependents"].as_bool());
        match (asked, orphan) {
            (None | Some(""), Some(true)) | (Some("Orphan"), _) => Ok(Propagation::Orphan),
            (None | Some("") | Some("Background"), _) => Ok(Propagation::Background),
            (Some("Foreground"), _) => Ok(Propagation::Foreground),
            (Some(other), _) => Err(ApiError::invalid(
                "meta.k8s.io",
                "DeleteOptions",
                "",
                vec![Cause::new(
                    "propagationPolicy",
                    format!(
                        "Unsupported value: {:?}: supported values: \"Foreground\", \"Background\", \"Orphan\"",
                        other.chars().take(64).collect::<String>()
                    ),
                )],
            )),
        }
    }

    /// `gracePeriodSeconds` (query or DeleteOptions); negative means "the default", as in kubectl.
    pub(super) fn grace(&self, options: &Value) -> Result<Option<i64>, ApiError> {
        let asked = match self.query.get("gracePeriodSeconds") {
            Some(g) => Some(g.parse::<i64>().map_err(|_| {
                ApiError::BadRequest(format!(
                    "gracePeriodSeconds must be an integer, got {:?}",
                    g.chars().take(32).collect::<String>()
                ))
            })?),
            None => options["gracePeriodSeconds"].as_i64(),
        };
        Ok(asked.filter(|g| *g >= 0))
    }

    /// A PATCH's type (from its Content-Type) and its JSON body.
    pub(super) async fn patch_body(&self, body: Body) -> Result<(PatchType, Value), ApiError> {
        let ct = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let kind = PatchType::from_content_type(ct)?;
        let bytes = read_body(body).await?;
        let patch_body: Value = if kind == PatchType::Apply {
            apply_config(&bytes)?
        } else {
            serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::BadRequest(format!("the patch is not valid JSON: {e}")))?
        };
        Ok((kind, patch_body))
    }

    /// The field manager a write is recorded under: `fieldManager`, else the User-Agent's
    /// program name, as kube-apiserver derives it. An apply must name one.
    pub(super) fn manager(&self, options: &str, apply: bool) -> Result<String, ApiError> {
        let invalid = |message: String| {
            ApiError::invalid(
                "meta.k8s.io",
                options,
                "",
                vec![Cause::new("fieldManager", message)],
            )
        };
        match self.query.get("fieldManager").filter(|m| !m.is_empty()) {
            Some(m) if m.chars().count() > 128 => Err(invalid(format!(
                "Invalid value: {:?}: must be less than 128 characters",
                m.chars().take(64).collect::<String>()
            ))),
            Some(m) if m.chars().any(char::is_control) => Err(invalid(format!(
                "Invalid value: {:?}: must only contain printable characters",
                m.chars().take(64).collect::<String>()
            ))),
            Some(m) => Ok(m.clone()),
            None if apply => Err(invalid(
                "Required value: is required for apply patch".into(),
            )),
            None => {
                let agent = self
                    .headers
                    .get(header::USER_AGENT)
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or("");
                let program: String = agent
                    .split('/')
                    .next()
                    .unwrap_or("")
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(128)
                    .collect();
                Ok(if program.is_empty() {
                    "unknown".into()
                } else {
                    program
                })
            }
        }
    }

    /// Records the caller as the owner of what it changed (create, update, non-apply patch).
    pub(super) fn record(
        &self,
        options: &str,
        resource: usize,
        sub: Option<&str>,
        old: Option<&Value>,
        new: &mut Value,
    ) -> Result<(), ApiError> {
        let r = resources::get(resource);
        let manager = self.manager(options, false)?;
        let api_version = r.api_version();
        let who = Manager {
            name: &manager,
            subresource: sub,
            api_version: &api_version,
        };
        managed::record_update(old, new, &who, r.status);
        Ok(())
    }

    /// Drops fields the kind does not declare, as `fieldValidation` asks: the warnings to send,
    /// or 400 when Strict.
    pub(super) fn unknown_fields(
        &self,
        resource: usize,
        v: &mut Value,
    ) -> Result<Vec<String>, ApiError> {
        let validation =
            fields::Validation::parse(self.query.get("fieldValidation").map(String::as_str))?;
        fields::check(&self.shared.schemas, resource, v, validation)
    }

    /// Checks `kind`/`apiVersion` of a body against the endpoint it was sent to.
    pub(super) fn check_kind(&self, resource: usize, v: &Value) -> Result<(), ApiError> {
        let r = resources::get(resource);
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

    /// Whether to write or only try: `dryRun` from the query, or from a DELETE's body (where
    /// kubectl puts it). Only "All" exists; anything else is refused as the API server refuses it.
    pub(super) fn write(&self, options: &str, in_body: Option<&Value>) -> Result<Write, ApiError> {
        let mut asked: Vec<String> = self
            .query
            .get("dryRun")
            .filter(|d| !d.is_empty())
            .cloned()
            .into_iter()
            .collect();
        match in_body {
            None | Some(Value::Null) => {}
            Some(Value::Array(values)) => {
                for v in values {
                    asked.push(
                        v.as_str()
                            .map(String::from)
                            .unwrap_or_else(|| v.to_string()),
                    );
                }
            }
            Some(_) => {
                return Err(ApiError::BadRequest(
                    "DeleteOptions.dryRun must be a list of strings".into(),
                ));
            }
        }
        if asked.is_empty() {
            return Ok(Write::Commit);
        }
        if asked.iter().all(|d| d == "All") {
            return Ok(Write::DryRun);
        }
        // The refusal names what was asked, cut short: a body may hold megabytes of it.
        let listed: Vec<String> = asked
            .iter()
            .take(5)
            .map(|d| format!("{:?}", d.chars().take(64).collect::<String>()))
            .collect();
        Err(ApiError::invalid(
            "meta.k8s.io",
            options,
            "",
            vec![Cause::new(
                "dryRun",
                format!(
                    "Unsupported value: []string{{{}}}: supported values: \"All\"",
                    listed.join(", ")
                ),
            )],
        ))
    }

    /// `pods/<name>/eviction`: the pod is deleted unless a PodDisruptionBudget forbids it now.
    async fn evict(&self, ns: &str, name: &str, body: Body) -> Result<Response, ApiError> {
        let v = decode(self.headers, &read_body(body).await?)?;
        let kind = v.get("kind").and_then(Value::as_str);
        let api_version = v.get("apiVersion").and_then(Value::as_str);
        if !v.is_object()
            || kind.is_some_and(|k| k != "Eviction")
            || api_version.is_some_and(|a| !matches!(a, "policy/v1" | "policy/v1beta1"))
        {
            return Err(ApiError::BadRequest(
                "the body of an eviction must be a policy/v1 Eviction".into(),
            ));
        }
        if let Some(n) = v["metadata"]["name"].as_str()
            && n != name
        {
            return Err(ApiError::BadRequest(format!(
                "name in URL does not match name in Eviction object ({n})"
            )));
        }
        let write = self.write("DeleteOptions", v["deleteOptions"].get("dryRun"))?;
        let pod = self
            .store
            .get(id::PODS, ns, name)
            .ok_or_else(|| ApiError::not_found("", "pods", name))?;
        match crate::sim::workload::eviction_refusal(self.store, &pod) {
            None => {}
            Some(crate::sim::workload::Refusal::Budget { pdb, needs, has }) => {
                return Err(ApiError::DisruptionBudget { pdb, needs, has });
            }
            Some(other) => return Err(ApiError::Internal(other.to_string())),
        }
        let grace = v["deleteOptions"]["gracePeriodSeconds"]
            .as_i64()
            .filter(|g| *g >= 0);
        let how = Deletion {
            write,
            propagation: Propagation::Background,
            grace,
        };
        self.store.delete_with(id::PODS, ns, name, how)?;
        Ok(value_response(
            StatusCode::CREATED,
            &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
        ))
    }

    async fn create(
        &self,
        resource: usize,
        namespace: Option<&str>,
        body: Body,
        write: Write,
    ) -> Result<Response, ApiError> {
        let r = resources::get(resource);
        let bytes = read_body(body).await?;
        let mut v = decode(self.headers, &bytes)?;
        self.check_kind(resource, &v)?;
        if r.namespaced {
            place_in_namespace(&mut v, namespace.unwrap_or("default"))?;
        }
        if matches!(resource, id::M_SECRETS | id::W_SECRETS) {
            string_data(&mut v);
        }
        if resource == id::CLUSTERS && self.scope.is_some() {
            return Err(ApiError::NoRoute);
        }
        let warnings = self.unknown_fields(resource, &mut v)?;
        admission::admit(self.store, &self.shared.schemas, resource, &v, None)?;
        self.record("CreateOptions", resource, None, None, &mut v)?;
        let obj = self.store.create_as(resource, v, write)?;
        Ok(with_warnings(
            json_response(StatusCode::CREATED, obj.json.clone()),
            &warnings,
        ))
    }

    async fn update(
        &self,
        resource: usize,
        ns: &str,
        name: &str,
        sub: Option<&str>,
        body: Body,
        write: Write,
    ) -> Result<Response, ApiError> {
        let r = resources::get(resource);
        let bytes = read_body(body).await?;
        let mut v = decode(self.headers, &bytes)?;
        self.check_kind(resource, &v)?;
        if let Some(n) = v["metadata"]["name"].as_str()
            && n != name
        {
            return Err(ApiError::BadRequest(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )));
        }
        let old = self
            .store
            .get(resource, ns, name)
            .ok_or_else(|| ApiError::not_found(r.group, r.plural, name))?
            .value();
        if !v["metadata"].is_object() {
            v["metadata"] = json!({});
        }
        v["metadata"]["name"] = json!(name);
        if r.namespaced {
            v["metadata"]["namespace"] = json!(ns);
        }
        if matches!(resource, id::M_SECRETS | id::W_SECRETS) {
            string_data(&mut v);
        }
        let mode = if sub == Some("status") {
            UpdateMode::Status
        } else {
            UpdateMode::Main
        };
        let warnings = self.unknown_fields(resource, &mut v)?;
        let candidate = merged_for_admission(&old, &v, mode, r.status);
        admission::admit(
            self.store,
            &self.shared.schemas,
            resource,
            &candidate,
            Some(&old),
        )?;
        self.record("UpdateOptions", resource, sub, Some(&old), &mut v)?;
        let obj = self.store.update_as(resource, ns, name, v, mode, write)?;
        Ok(with_warnings(
            json_response(StatusCode::OK, obj.json.clone()),
            &warnings,
        ))
    }

    async fn patch(
        &self,
        resource: usize,
        ns: &str,
        name: &str,
        sub: Option<&str>,
        body: Body,
        write: Write,
    ) -> Result<Response, ApiError> {
        let r = resources::get(resource);
        let (kind, patch_body) = self.patch_body(body).await?;
        if kind == PatchType::Apply {
            return self.apply(resource, ns, name, sub, patch_body, write);
        }
        if self.query.contains_key("force") {
            return Err(ApiError::invalid(
                "meta.k8s.io",
                "PatchOptions",
                "",
                vec![Cause::new(
                    "force",
                    "Forbidden: may not be specified for non-apply patch",
                )],
            ));
        }
        // A field manager that is not valid is refused before anything is tried.
        self.manager("PatchOptions", false)?;
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
        if kind == PatchType::Strategic && !builtin {
            return Err(ApiError::UnsupportedMediaType(
                "the body of the request was in an unknown format - accepted media types include: \
                 application/json-patch+json, application/merge-patch+json"
                    .into(),
            ));
        }
        // Retry on a concurrent write, as the real server does for patches without a precondition.
        for _ in 0..5 {
            let old_obj = self
                .store
                .get(resource, ns, name)
                .ok_or_else(|| ApiError::not_found(r.group, r.plural, name))?;
            let old = old_obj.value();
            let mut v = old.clone();
            patch::apply(&mut v, &patch_body, kind, builtin)?;
            if !v.is_object() {
                return Err(ApiError::BadRequest(
                    "the patch must leave an object".into(),
                ));
            }
            self.check_kind(resource, &v)?;
            let place = Place {
                resource,
                ns,
                name,
                mode,
                write,
            };
            if let Some(done) = self.finish(&place, &old, v, Some(sub), !sets_rv)? {
                return Ok(done);
            }
        }
        Err(kept_changing(r, name))
    }

    /// The end of a patch or an apply: unknown fields, admission, field owners (recorded for the
    /// subresource in `record`; an apply set them itself), the write. None when the object changed
    /// meanwhile and `retry` allows another try.
    fn finish(
        &self,
        place: &Place,
        old: &Value,
        mut v: Value,
        record: Option<Option<&str>>,
        retry: bool,
    ) -> Result<Option<Response>, ApiError> {
        let r = resources::get(place.resource);
        let warnings = self.unknown_fields(place.resource, &mut v)?;
        let candidate = merged_for_admission(old, &v, place.mode, r.status);
        admission::admit(
            self.store,
            &self.shared.schemas,
            place.resource,
            &candidate,
            Some(old),
        )?;
        if let Some(sub) = record {
            self.record("PatchOptions", place.resource, sub, Some(old), &mut v)?;
        }
        let written = self.store.update_as(
            place.resource,
            place.ns,
            place.name,
            v,
            place.mode,
            place.write,
        );
        match written {
            Ok(obj) => Ok(Some(with_warnings(
                json_response(StatusCode::OK, obj.json.clone()),
                &warnings,
            ))),
            Err(ApiError::Conflict { .. }) if retry => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Server-side apply (`application/apply-patch+yaml`): creates the object when it is missing,
    /// else merges the configuration under the field ownership rules; 409 names the managers whose
    /// fields it would take, unless `force`.
    fn apply(
        &self,
        resource: usize,
        ns: &str,
        name: &str,
        sub: Option<&str>,
        mut config: Value,
        write: Write,
    ) -> Result<Response, ApiError> {
        let r = resources::get(resource);
        let manager = self.manager("PatchOptions", true)?;
        let force = match self.query.get("force").map(String::as_str) {
            None | Some("" | "false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(ApiError::BadRequest(format!(
                    "force must be true or false, got {:?}",
                    other.chars().take(32).collect::<String>()
                )));
            }
        };
        let api_version = r.api_version();
        let sent_version = config["apiVersion"].as_str().unwrap_or_default();
        if sent_version != api_version {
            return Err(ApiError::BadRequest(format!(
                "Incorrect version specified in apply patch. Specified patch version: {}, expected: {api_version}",
                sent_version.chars().take(64).collect::<String>()
            )));
        }
        if config["kind"].as_str().is_none() {
            return Err(ApiError::BadRequest(
                "Object 'Kind' is missing in the apply patch".into(),
            ));
        }
        self.check_kind(resource, &config)?;
        if !config["metadata"].is_object() {
            config["metadata"] = json!({});
        }
        if config["metadata"].get("managedFields").is_some() {
            return Err(ApiError::BadRequest(
                "metadata.managedFields must be nil".into(),
            ));
        }
        match config["metadata"]["name"].as_str() {
            Some(n) if n != name => {
                return Err(ApiError::BadRequest(format!(
                    "the name of the object ({}) does not match the name on the URL ({name})",
                    n.chars().take(64).collect::<String>()
                )));
            }
            _ => config["metadata"]["name"] = json!(name),
        }
        if r.namespaced {
            place_in_namespace(&mut config, ns)?;
        }
        if matches!(resource, id::M_SECRETS | id::W_SECRETS) {
            string_data(&mut config);
        }
        if resource == id::CLUSTERS && self.scope.is_some() {
            return Err(ApiError::NoRoute);
        }
        let who = Manager {
            name: &manager,
            subresource: sub,
            api_version: &api_version,
        };
        let mode = if sub == Some("status") {
            UpdateMode::Status
        } else {
            UpdateMode::Main
        };
        let sets_rv = config.pointer("/metadata/resourceVersion").is_some();
        // Unknown fields leave the configuration before it is merged, so that no one owns them.
        let warnings = self.unknown_fields(resource, &mut config)?;
        for _ in 0..5 {
            let Some(live) = self.store.get(resource, ns, name) else {
                if sub.is_some() {
                    return Err(ApiError::not_found(r.group, r.plural, name));
                }
                let v = managed::apply(None, &config, &who, force, r.status)
                    .map_err(managed::conflict_error)?;
                admission::admit(self.store, &self.shared.schemas, resource, &v, None)?;
                match self.store.create_as(resource, v, write) {
                    Ok(obj) => {
                        return Ok(with_warnings(
                            json_response(StatusCode::CREATED, obj.json.clone()),
                            &warnings,
                        ));
                    }
                    // Created meanwhile by someone else: apply onto theirs.
                    Err(ApiError::AlreadyExists { .. }) => continue,
                    Err(e) => return Err(e),
                }
            };
            let old = live.value();
            let v = managed::apply(Some(&old), &config, &who, force, r.status)
                .map_err(managed::conflict_error)?;
            let place = Place {
                resource,
                ns,
                name,
                mode,
                write,
            };
            if let Some(done) = self.finish(&place, &old, v, None, !sets_rv)? {
                return Ok(with_warnings(done, &warnings));
            }
        }
        Err(kept_changing(r, name))
    }
}

/// Puts a namespaced object sent for `ns` in it; 400 when the body names another.
pub(super) fn place_in_namespace(v: &mut Value, ns: &str) -> Result<(), ApiError> {
    if !v["metadata"].is_object() {
        v["metadata"] = json!({});
    }
    match v["metadata"]["namespace"].as_str() {
        Some(other) if !other.is_empty() && other != ns => Err(ApiError::BadRequest(format!(
            "the namespace of the provided object ({}) does not match the namespace sent on the request ({ns})",
            other.chars().take(64).collect::<String>()
        ))),
        _ => {
            v["metadata"]["namespace"] = json!(ns);
            Ok(())
        }
    }
}

fn kept_changing(r: &resources::Resource, name: &str) -> ApiError {
    ApiError::Conflict {
        group: r.group.into(),
        resource: r.plural.into(),
        name: name.into(),
        message: "the object kept changing while the patch was applied; try again".into(),
    }
}

/// An apply body: YAML (JSON is YAML too) holding one object.
fn apply_config(bytes: &[u8]) -> Result<Value, ApiError> {
    let v: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(_) => serde_yaml::from_slice(bytes)
            .map_err(|e| ApiError::BadRequest(format!("error decoding YAML: {e}")))?,
    };
    let found = match &v {
        Value::Object(_) => return Ok(v),
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::Null => "null",
    };
    Err(ApiError::BadRequest(format!(
        "error decoding YAML: error unmarshaling JSON: json: cannot unmarshal {found} into Go value of type map[string]interface {{}}"
    )))
}

/// Adds a `Warning` header per message, as kube-apiserver sends them (kubectl prints them).
pub(super) fn with_warnings(mut response: Response, warnings: &[String]) -> Response {
    for w in warnings {
        let escaped = w.replace('\\', "\\\\").replace('"', "\\\"");
        if let Ok(value) = http::HeaderValue::from_str(&format!("299 - \"{escaped}\"")) {
            response.headers_mut().append("warning", value);
        }
    }
    response
}

/// A DELETE's body: `DeleteOptions` as JSON (kubectl sends one), or nothing.
pub(super) fn delete_options(headers: &HeaderMap, bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    let v = decode(headers, bytes)?;
    if !v.is_object() {
        return Err(ApiError::BadRequest(
            "the body of a DELETE must be a DeleteOptions object".into(),
        ));
    }
    if let Some(kind) = v.get("kind").and_then(Value::as_str)
        && kind != "DeleteOptions"
    {
        return Err(ApiError::BadRequest(format!(
            "the body of a DELETE must be DeleteOptions, not {kind}"
        )));
    }
    Ok(v)
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
pub(super) fn string_data(v: &mut Value) {
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
