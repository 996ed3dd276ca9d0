//! The `scale` subresource (autoscaling/v1 `Scale`) of Deployments and MachineDeployments.

// A Scale is a view: reading it copies replicas and the selector out of the object, writing it sets
// the object's `spec.replicas` with every check an update of the object gets (admission, preconditions).

use axum::body::Body;
use axum::response::Response;
use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::admission;
use crate::patch;
use crate::resources::{self, id};
use crate::status::ApiError;
use crate::store::UpdateMode;

use super::verbs::Call;
use super::{decode, read_body, value_response};

/// Whether `resource` has a scale subresource.
pub fn scalable(resource: usize) -> bool {
    matches!(
        resource,
        id::DEPLOYMENTS | id::REPLICA_SETS | id::MACHINE_DEPLOYMENTS
    )
}

/// The label selector of the pods (or Machines) the object counts, as a string.
fn selector(resource: usize, v: &Value) -> String {
    if resource == id::MACHINE_DEPLOYMENTS {
        // Cluster API publishes it in status (the CRD's labelSelectorPath).
        return v["status"]["selector"]
            .as_str()
            .unwrap_or_default()
            .to_string();
    }
    let mut parts: Vec<String> = v["spec"]["selector"]["matchLabels"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, l)| format!("{k}={}", l.as_str().unwrap_or_default()))
        .collect();
    parts.sort();
    parts.join(",")
}

/// The Scale of an object.
fn view(resource: usize, v: &Value) -> Value {
    let meta = &v["metadata"];
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"], "creationTimestamp": meta["creationTimestamp"],
        },
        "spec": {"replicas": v["spec"]["replicas"].as_i64().unwrap_or(0)},
        "status": {
            "replicas": v["status"]["replicas"].as_i64().unwrap_or(0),
            "selector": selector(resource, v),
        },
    })
}

impl Call<'_> {
    /// GET, PUT or PATCH of `<kind>/<name>/scale`.
    pub(super) async fn scale(
        &self,
        resource: usize,
        ns: &str,
        name: &str,
        method: &Method,
        body: Body,
    ) -> Result<Response, ApiError> {
        let r = resources::get(resource);
        let current = self
            .store
            .get(resource, ns, name)
            .ok_or_else(|| ApiError::not_found(r.group, r.plural, name))?
            .value();
        let (wanted, write) = match *method {
            Method::GET => return Ok(value_response(StatusCode::OK, &view(resource, &current))),
            Method::PUT => {
                let write = self.write("UpdateOptions", None)?;
                (decode(self.headers, &read_body(body).await?)?, write)
            }
            Method::PATCH => {
                let write = self.write("PatchOptions", None)?;
                let (kind, patch_body) = self.patch_body(body).await?;
                // Patched without the version it was read at: only a version the patch itself
                // names is a precondition (as for any patch, which the API server retries).
                let mut scale = view(resource, &current);
                if let Some(m) = scale["metadata"].as_object_mut() {
                    m.remove("resourceVersion");
                }
                patch::apply(&mut scale, &patch_body, kind, true)?;
                (scale, write)
            }
            _ => return Err(ApiError::MethodNotAllowed),
        };
        if wanted
            .get("kind")
            .and_then(Value::as_str)
            .is_some_and(|k| k != "Scale")
        {
            return Err(ApiError::BadRequest(
                "the body of a scale request must be an autoscaling/v1 Scale".into(),
            ));
        }
        // As for any update: the body names the object of the URL, or nothing.
        if let Some(n) = wanted["metadata"]["name"].as_str()
            && n != name
        {
            return Err(ApiError::BadRequest(format!(
                "the name of the object ({}) does not match the name on the URL ({name})",
                n.chars().take(64).collect::<String>()
            )));
        }
        let replicas = match &wanted["spec"]["replicas"] {
            Value::Null => 0,
            n => n.as_i64().ok_or_else(|| {
                ApiError::BadRequest("spec.replicas of a Scale must be an integer".into())
            })?,
        };
        if replicas < 0 {
            return Err(ApiError::invalid(
                "autoscaling",
                "Scale",
                name,
                vec![crate::status::Cause::new(
                    "spec.replicas",
                    format!("Invalid value: {replicas}: must be greater than or equal to 0"),
                )],
            ));
        }
        let mut next = current.clone();
        next["spec"]["replicas"] = json!(replicas);
        // A resourceVersion in the Scale is a precondition on the object, as Kubernetes has it.
        match wanted["metadata"]["resourceVersion"].as_str() {
            Some(rv) if !rv.is_empty() => next["metadata"]["resourceVersion"] = json!(rv),
            _ => {
                if let Some(m) = next["metadata"].as_object_mut() {
                    m.remove("resourceVersion");
                }
            }
        }
        admission::admit(
            self.store,
            &self.shared.schemas,
            resource,
            &next,
            Some(&current),
        )?;
        let options = if *method == Method::PUT {
            "UpdateOptions"
        } else {
            "PatchOptions"
        };
        self.record(options, resource, Some("scale"), Some(&current), &mut next)?;
        let obj = self
            .store
            .update_as(resource, ns, name, next, UpdateMode::Main, write)?;
        Ok(value_response(
            StatusCode::OK,
            &view(resource, &obj.value()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deployment_scale_names_its_selector_in_order() {
        let d = json!({"metadata": {"name": "web", "namespace": "shop"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"tier": "front", "app": "web"}}},
            "status": {"replicas": 2}});
        let s = view(id::DEPLOYMENTS, &d);
        assert_eq!(s["spec"]["replicas"], 3);
        assert_eq!(
            s["status"],
            json!({"replicas": 2, "selector": "app=web,tier=front"})
        );
        assert_eq!(s["metadata"]["name"], "web");
    }
}
