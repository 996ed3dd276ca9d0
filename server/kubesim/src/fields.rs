//! Unknown fields: found with the kind's schema, then refused, warned about or dropped as `fieldValidation` asks.

// Built-in kinds are checked against Kubernetes' descriptors (the protobuf ones: their field names
// are the JSON names), custom resources against their CRD's structural schema, which prunes what it
// does not declare unless `x-kubernetes-preserve-unknown-fields` says to keep it. kubesim's own
// Cluster API schemas describe only what it uses, so they prune nothing: only the official CRDs
// (`--crds`) are complete enough to say a field is unknown.

use prost_reflect::{FieldDescriptor, Kind, MessageDescriptor};
use serde_json::Value;

use crate::proto_body;
use crate::resources::{self, CAPI_GROUP};
use crate::schemas::{SchemaSource, Schemas};
use crate::status::ApiError;

/// What to do with unknown fields (`fieldValidation`); Kubernetes' default is `Warn`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Validation {
    Ignore,
    Warn,
    Strict,
}

impl Validation {
    pub fn parse(asked: Option<&str>) -> Result<Self, ApiError> {
        match asked {
            None | Some("") | Some("Warn") => Ok(Validation::Warn),
            Some("Ignore") => Ok(Validation::Ignore),
            Some("Strict") => Ok(Validation::Strict),
            Some(other) => Err(ApiError::BadRequest(format!(
                "fieldValidation must be one of \"Ignore\", \"Warn\" or \"Strict\", got {:?}",
                other.chars().take(64).collect::<String>()
            ))),
        }
    }
}

/// Drops the fields of `v` that kind `res_id` does not declare and says what to tell the client:
/// an error (Strict) or the warnings to send (Warn; none for Ignore).
pub fn check(
    schemas: &Schemas,
    res_id: usize,
    v: &mut Value,
    validation: Validation,
) -> Result<Vec<String>, ApiError> {
    let unknown = prune(schemas, res_id, v);
    if unknown.is_empty() || validation == Validation::Ignore {
        return Ok(Vec::new());
    }
    // A body can name thousands of unknown fields, with keys of any length: report the first
    // hundred, each path cut at 256 characters.
    let named: Vec<String> = unknown
        .iter()
        .take(100)
        .map(|p| {
            let shown: String = p.chars().take(256).collect();
            let more = if shown.len() < p.len() { "…" } else { "" };
            format!("unknown field \"{shown}{more}\"")
        })
        .collect();
    match validation {
        Validation::Strict => Err(ApiError::BadRequest(format!(
            "strict decoding error: {}",
            named.join(", ")
        ))),
        _ => Ok(named),
    }
}

/// Removes what kind `res_id` does not declare from `v`; the paths removed.
pub fn prune(schemas: &Schemas, res_id: usize, v: &mut Value) -> Vec<String> {
    let r = resources::get(res_id);
    let mut unknown = Vec::new();
    let Ok(pool) = proto_body::pool() else {
        return unknown;
    };
    let Some(meta) = pool.get_message_by_name("apimachinery.pkg.apis.meta.v1.ObjectMeta") else {
        return unknown;
    };
    let Some(obj) = v.as_object_mut() else {
        return unknown;
    };
    if r.group == CAPI_GROUP {
        if schemas.source != SchemaSource::OfficialCrds {
            return unknown;
        }
        let Some(schema) = schemas.get(res_id) else {
            return unknown;
        };
        for (key, child) in obj.iter_mut() {
            match (key.as_str(), &schema["properties"][key]) {
                ("apiVersion" | "kind", _) => {}
                ("metadata", _) => message(&meta, child, "metadata", &mut unknown),
                (_, s) if s.is_object() => structural(s, child, key, &mut unknown),
                _ => {}
            }
        }
        retain_declared(obj, "", &mut unknown, |k| {
            matches!(k, "apiVersion" | "kind" | "metadata") || schema["properties"][k].is_object()
        });
        return unknown;
    }
    let Some(m) = proto_body::message_of(pool, &r.api_version(), r.kind) else {
        return unknown;
    };
    retain_declared(obj, "", &mut unknown, |k| {
        matches!(k, "apiVersion" | "kind") || find_field(&m, k).is_some()
    });
    walk_fields(&m, obj, "", &mut unknown);
    unknown
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Keeps the keys `declared` accepts, recording the others under `path`.
fn retain_declared(
    obj: &mut serde_json::Map<String, Value>,
    path: &str,
    unknown: &mut Vec<String>,
    declared: impl Fn(&str) -> bool,
) {
    obj.retain(|k, _| {
        let keep = declared(k);
        if !keep {
            unknown.push(join(path, k));
        }
        keep
    });
}

/// The field `key` of `m`, or of a struct it embeds inline (whose fields JSON lifts up).
fn find_field(m: &MessageDescriptor, key: &str) -> Option<FieldDescriptor> {
    if let Some(f) = m.get_field_by_name(key) {
        return Some(f);
    }
    m.fields()
        .filter(proto_body::inline)
        .find_map(|f| match f.kind() {
            Kind::Message(inner) => find_field(&inner, key),
            _ => None,
        })
}

fn message(m: &MessageDescriptor, v: &mut Value, path: &str, unknown: &mut Vec<String>) {
    if proto_body::is_scalar_type(m.full_name()) {
        return;
    }
    let Some(obj) = v.as_object_mut() else {
        return;
    };
    retain_declared(obj, path, unknown, |k| find_field(m, k).is_some());
    walk_fields(m, obj, path, unknown);
}

fn walk_fields(
    m: &MessageDescriptor,
    obj: &mut serde_json::Map<String, Value>,
    path: &str,
    unknown: &mut Vec<String>,
) {
    for (key, child) in obj.iter_mut() {
        let Some(field) = find_field(m, key) else {
            continue;
        };
        let Kind::Message(inner) = field.kind() else {
            continue;
        };
        let here = join(path, key);
        if field.is_map() {
            // A map's entry message holds the value's type in its field "value".
            let Some(Kind::Message(value_type)) =
                inner.get_field_by_name("value").map(|f| f.kind())
            else {
                continue;
            };
            for (k, item) in child.as_object_mut().into_iter().flatten() {
                message(&value_type, item, &format!("{here}.{k}"), unknown);
            }
        } else if field.is_list() {
            for (i, item) in child.as_array_mut().into_iter().flatten().enumerate() {
                message(&inner, item, &format!("{here}[{i}]"), unknown);
            }
        } else {
            message(&inner, child, &here, unknown);
        }
    }
}

/// Pruning by a CRD's structural schema.
fn structural(schema: &Value, v: &mut Value, path: &str, unknown: &mut Vec<String>) {
    if schema["x-kubernetes-preserve-unknown-fields"] == Value::Bool(true) {
        return;
    }
    match v {
        Value::Object(obj) => {
            if let Some(props) = schema["properties"].as_object() {
                retain_declared(obj, path, unknown, |k| props.contains_key(k));
                for (k, child) in obj.iter_mut() {
                    structural(&props[k], child, &join(path, k), unknown);
                }
            } else if schema["additionalProperties"].is_object() {
                let item = &schema["additionalProperties"];
                for (k, child) in obj.iter_mut() {
                    structural(item, child, &join(path, k), unknown);
                }
            }
        }
        Value::Array(items) if schema["items"].is_object() => {
            for (i, item) in items.iter_mut().enumerate() {
                structural(&schema["items"], item, &format!("{path}[{i}]"), unknown);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::id;
    use serde_json::json;

    #[test]
    fn unknown_fields_of_built_in_kinds_are_found_at_any_depth_and_dropped() {
        let mut pod = json!({"apiVersion": "v1", "kind": "Pod", "colour": "red",
            "metadata": {"name": "p", "labels": {"a": "b"}, "nickname": "x"},
            "spec": {"containers": [{"name": "c", "image": "i", "imagePullPolicy": "Always", "sizeHint": 3,
                "resources": {"limits": {"cpu": "1"}},
                "livenessProbe": {"httpGet": {"port": 80, "paht": "/"}, "periodSeconds": 5},
                "env": [{"name": "E", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k", "keyy": 1}}}]}]}});
        let found = prune(&Schemas::default(), id::PODS, &mut pod);
        assert_eq!(
            found,
            [
                "colour",
                "metadata.nickname",
                "spec.containers[0].sizeHint",
                "spec.containers[0].env[0].valueFrom.configMapKeyRef.keyy",
                "spec.containers[0].livenessProbe.httpGet.paht",
            ]
        );
        assert_eq!(
            pod,
            json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "p", "labels": {"a": "b"}},
                "spec": {"containers": [{"name": "c", "image": "i", "imagePullPolicy": "Always",
                    "resources": {"limits": {"cpu": "1"}},
                    "livenessProbe": {"httpGet": {"port": 80}, "periodSeconds": 5},
                    "env": [{"name": "E", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}}]}]}})
        );
    }

    #[test]
    fn strict_refuses_naming_the_fields_warn_reports_them_ignore_drops_quietly() {
        let cm = json!({"metadata": {"name": "c"}, "data": {"k": "v"}, "dataa": {}});
        let schemas = Schemas::default();
        let mut v = cm.clone();
        let e = check(&schemas, id::W_CONFIGMAPS, &mut v, Validation::Strict).unwrap_err();
        assert_eq!(
            e.to_string(),
            "strict decoding error: unknown field \"dataa\""
        );
        let mut v = cm.clone();
        let warned = check(&schemas, id::W_CONFIGMAPS, &mut v, Validation::Warn).expect("warn");
        assert_eq!(warned, ["unknown field \"dataa\""]);
        assert_eq!(v, json!({"metadata": {"name": "c"}, "data": {"k": "v"}}));
        let mut v = cm;
        let warned = check(&schemas, id::W_CONFIGMAPS, &mut v, Validation::Ignore).expect("ignore");
        assert!(warned.is_empty());
        assert!(v.get("dataa").is_none());
        assert!(Validation::parse(Some("Loose")).is_err());
    }

    #[test]
    fn structural_schemas_prune_what_they_do_not_declare_unless_told_to_keep_it() {
        let schema = json!({"type": "object", "properties": {
            "spec": {"type": "object", "properties": {
                "replicas": {"type": "integer"},
                "template": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "pools": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}}}}}});
        let mut v = json!({"spec": {"replicas": 1, "replica": 2, "template": {"anything": true},
            "labels": {"a": "b"}, "pools": [{"name": "p", "size": 3}]}});
        let mut unknown = Vec::new();
        structural(&schema, &mut v, "", &mut unknown);
        assert_eq!(unknown, ["spec.replica", "spec.pools[0].size"]);
        assert_eq!(
            v,
            json!({"spec": {"replicas": 1, "template": {"anything": true}, "labels": {"a": "b"}, "pools": [{"name": "p"}]}})
        );
    }
}
