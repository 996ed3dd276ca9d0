//! Writes and reads of one object of a kind stored as another (events.k8s.io Events are core Events).

// Lists and watches convert in `verbs::list` and `watch`; here the single-object verbs: the body is
// checked as the kind the client sent (its fields, its apiVersion), stored in the core form, and
// answered in the client's form.

use axum::body::Body;
use axum::response::Response;
use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::admission;
use crate::events_v1;
use crate::patch::{self, PatchType};
use crate::resources;
use crate::status::ApiError;
use crate::store::{Deletion, UpdateMode, Write};

use super::verbs::{Call, delete_options, place_in_namespace, with_warnings};
use super::{decode, read_body, value_response};

impl Call<'_> {
    pub(super) async fn view(
        &self,
        shown: usize,
        namespace: Option<&str>,
        name: Option<&str>,
        method: &Method,
        body: Body,
    ) -> Result<Response, ApiError> {
        let stored = events_v1::stored_in(shown);
        let r = resources::get(shown);
        // As for every namespaced kind: a create without a namespace goes to "default", an object
        // named without one is not found.
        let ns = match (method, namespace) {
            (_, Some(ns)) => ns,
            (&Method::POST, None) => "default",
            _ => "",
        };
        let current = |name: &str| {
            self.store
                .get(stored, ns, name)
                .ok_or_else(|| ApiError::not_found(r.group, r.plural, name))
        };
        let answer = |code: StatusCode, core: &Value, warnings: &[String]| {
            with_warnings(value_response(code, &events_v1::to_v1(core)), warnings)
        };
        match (method, name) {
            (&Method::GET, Some(name)) => Ok(answer(StatusCode::OK, &current(name)?.value(), &[])),
            (&Method::POST, None) => {
                let write = self.write("CreateOptions", None)?;
                let mut v = decode(self.headers, &read_body(body).await?)?;
                self.check_kind(shown, &v)?;
                place_in_namespace(&mut v, ns)?;
                let warnings = self.unknown_fields(shown, &mut v)?;
                let mut core = events_v1::to_core(&v);
                admission::admit(self.store, &self.shared.schemas, stored, &core, None)?;
                self.record("CreateOptions", shown, None, None, &mut core)?;
                let obj = self.store.create_as(stored, core, write)?;
                Ok(answer(StatusCode::CREATED, &obj.value(), &warnings))
            }
            (&Method::PUT, Some(name)) => {
                let write = self.write("UpdateOptions", None)?;
                let mut v = decode(self.headers, &read_body(body).await?)?;
                self.check_kind(shown, &v)?;
                if v["metadata"]["name"].as_str().is_some_and(|n| n != name) {
                    return Err(ApiError::BadRequest(format!(
                        "the name of the object does not match the name on the URL ({name})"
                    )));
                }
                let old = current(name)?.value();
                let warnings = self.unknown_fields(shown, &mut v)?;
                self.store_update(shown, name, &old, v, write, warnings)
            }
            (&Method::PATCH, Some(name)) => {
                let write = self.write("PatchOptions", None)?;
                let (kind, patch_body) = self.patch_body(body).await?;
                if kind == PatchType::Apply {
                    return Err(ApiError::UnsupportedMediaType(
                        "server-side apply of events.k8s.io Events is not supported by kubesim; use a merge patch"
                            .into(),
                    ));
                }
                let old = current(name)?.value();
                let mut v = events_v1::to_v1(&old);
                patch::apply(&mut v, &patch_body, kind, true)?;
                self.check_kind(shown, &v)?;
                let warnings = self.unknown_fields(shown, &mut v)?;
                self.store_update(shown, name, &old, v, write, warnings)
            }
            (&Method::DELETE, Some(name)) => {
                let options = delete_options(self.headers, &read_body(body).await?)?;
                let how = Deletion {
                    write: self.write("DeleteOptions", options.get("dryRun"))?,
                    propagation: self.propagation(&options)?,
                    grace: self.grace(&options)?,
                };
                let (obj, _) = self.store.delete_with(stored, ns, name, how)?;
                Ok(answer(StatusCode::OK, &obj.value(), &[]))
            }
            _ => Err(ApiError::MethodNotAllowed),
        }
    }

    /// Stores `v` (the client's form) over `old` (the stored form) and answers the client's form.
    fn store_update(
        &self,
        shown: usize,
        name: &str,
        old: &Value,
        v: Value,
        write: Write,
        warnings: Vec<String>,
    ) -> Result<Response, ApiError> {
        let stored = events_v1::stored_in(shown);
        let ns = old["metadata"]["namespace"].as_str().unwrap_or("default");
        let mut core = events_v1::to_core(&v);
        core["metadata"]["name"] = json!(name);
        core["metadata"]["namespace"] = json!(ns);
        admission::admit(self.store, &self.shared.schemas, stored, &core, Some(old))?;
        self.record("UpdateOptions", shown, None, Some(old), &mut core)?;
        let obj = self
            .store
            .update_as(stored, ns, name, core, UpdateMode::Main, write)?;
        Ok(with_warnings(
            value_response(StatusCode::OK, &events_v1::to_v1(&obj.value())),
            &warnings,
        ))
    }
}
