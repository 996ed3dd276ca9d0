//! Structural OpenAPI v3 validation (the subset CRDs use) and Kubernetes' metadata rules.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use regex::Regex;
use serde_json::Value;

use crate::status::Cause;

static DNS_SUBDOMAIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
        .expect("static regex")
});
static DNS_LABEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$").expect("static regex"));
static LABEL_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$").expect("static regex")
});
static PATTERNS: LazyLock<Mutex<HashMap<String, Option<Regex>>>> = LazyLock::new(Default::default);

pub fn dns_subdomain(name: &str) -> Option<String> {
    if name.len() > 253 {
        return Some("must be no more than 253 characters".into());
    }
    (!DNS_SUBDOMAIN.is_match(name)).then(|| {
        format!(
            "Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case \
             alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
        )
    })
}

pub fn dns_label(name: &str) -> Option<String> {
    if name.len() > 63 {
        return Some(format!(
            "Invalid value: \"{name}\": must be no more than 63 characters"
        ));
    }
    (!DNS_LABEL.is_match(name)).then(|| {
        format!(
            "Invalid value: \"{name}\": a lowercase RFC 1123 label must consist of lower case \
             alphanumeric characters or '-', and must start and end with an alphanumeric character"
        )
    })
}

/// Name, namespace, labels and annotations, as every Kubernetes kind checks them.
pub fn metadata(v: &Value, label_names: bool, causes: &mut Vec<Cause>) {
    let meta = &v["metadata"];
    if !meta.is_null() && !meta.is_object() {
        causes.push(Cause::new("metadata", "must be an object"));
        return;
    }
    if let Some(name) = meta["name"].as_str() {
        let problem = if label_names {
            dns_label(name)
        } else {
            dns_subdomain(name)
        };
        if let Some(p) = problem {
            causes.push(Cause::new("metadata.name", p));
        }
    } else if !meta["name"].is_null() {
        causes.push(Cause::new("metadata.name", "must be a string"));
    }
    if let Some(labels) = meta.get("labels").filter(|l| !l.is_null()) {
        match labels.as_object() {
            None => causes.push(Cause::new("metadata.labels", "must be a map of strings")),
            Some(m) => {
                for (k, val) in m {
                    let key_ok = !k.is_empty()
                        && k.len() <= 316
                        && k.rsplit('/').next().is_some_and(|n| {
                            !n.is_empty() && n.len() <= 63 && LABEL_VALUE.is_match(n)
                        });
                    if !key_ok {
                        causes.push(Cause::new(
                            "metadata.labels",
                            format!("Invalid value: \"{k}\": not a valid label key"),
                        ));
                    }
                    match val.as_str() {
                        Some(s) if s.len() <= 63 && LABEL_VALUE.is_match(s) => {}
                        _ => causes.push(Cause::new(
                            format!("metadata.labels[{k}]"),
                            format!("Invalid value: {val}: a valid label must be 63 characters or less, alphanumeric, '-', '_' or '.'"),
                        )),
                    }
                }
            }
        }
    }
    if let Some(ann) = meta.get("annotations").filter(|a| !a.is_null()) {
        match ann.as_object() {
            Some(m) if m.values().all(Value::is_string) => {}
            _ => causes.push(Cause::new(
                "metadata.annotations",
                "must be a map of strings",
            )),
        }
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn pattern_matches(pattern: &str, s: &str) -> bool {
    let mut cache = PATTERNS.lock().unwrap_or_else(|e| e.into_inner());
    let re = cache
        .entry(pattern.to_string())
        .or_insert_with(|| Regex::new(pattern).ok());
    // A pattern this engine cannot compile is not enforced rather than rejecting everything.
    re.as_ref().is_none_or(|re| re.is_match(s))
}

/// Validates `v` against an OpenAPI v3 `schema`, appending one cause per problem.
pub fn schema(schema: &Value, v: &Value, path: &str, causes: &mut Vec<Cause>) {
    // Kubernetes drops nulls; `required` checks catch a missing value that matters.
    if v.is_null() {
        return;
    }
    let field = if path.is_empty() {
        "<root>".to_string()
    } else {
        path.to_string()
    };
    let int_or_string = schema["x-kubernetes-int-or-string"].as_bool() == Some(true);
    if let Some(t) = schema["type"].as_str() {
        let actual = type_name(v);
        let ok = actual == t
            || (t == "number" && actual == "integer")
            || (int_or_string && (actual == "integer" || actual == "string"));
        if !ok {
            causes.push(Cause::new(
                field,
                format!(
                    "Invalid value: \"{actual}\": {field_type} must be of type {t}",
                    field_type = path.rsplit('.').next().unwrap_or(path)
                ),
            ));
            return;
        }
    } else if int_or_string && !matches!(type_name(v), "integer" | "string") {
        causes.push(Cause::new(field, "must be an integer or a string"));
        return;
    }
    if let Some(options) = schema["enum"].as_array()
        && !options.contains(v)
    {
        let list: Vec<String> = options.iter().map(|o| o.to_string()).collect();
        causes.push(Cause::new(
            field.clone(),
            format!(
                "Unsupported value: {v}: supported values: {}",
                list.join(", ")
            ),
        ));
    }
    match v {
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(0.0);
            if let Some(min) = schema["minimum"].as_f64() {
                let excl = schema["exclusiveMinimum"].as_bool() == Some(true);
                if x < min || (excl && x == min) {
                    causes.push(Cause::new(
                        field.clone(),
                        format!("Invalid value: {v}: must be greater than or equal to {min}"),
                    ));
                }
            }
            if let Some(max) = schema["maximum"].as_f64() {
                let excl = schema["exclusiveMaximum"].as_bool() == Some(true);
                if x > max || (excl && x == max) {
                    causes.push(Cause::new(
                        field.clone(),
                        format!("Invalid value: {v}: must be less than or equal to {max}"),
                    ));
                }
            }
            if schema["format"] == "int32" && (x < i32::MIN as f64 || x > i32::MAX as f64) {
                causes.push(Cause::new(
                    field,
                    format!("Invalid value: {v}: must fit in a 32-bit integer"),
                ));
            }
        }
        Value::String(s) => {
            let len = s.chars().count() as u64;
            if let Some(min) = schema["minLength"].as_u64()
                && len < min
            {
                causes.push(Cause::new(
                    field.clone(),
                    format!("Invalid value: \"{s}\": should be at least {min} chars long"),
                ));
            }
            if let Some(max) = schema["maxLength"].as_u64()
                && len > max
            {
                causes.push(Cause::new(
                    field.clone(),
                    format!("Too long: may not be more than {max} bytes"),
                ));
            }
            if let Some(p) = schema["pattern"].as_str()
                && !pattern_matches(p, s)
            {
                causes.push(Cause::new(
                    field,
                    format!("Invalid value: \"{s}\": should match '{p}'"),
                ));
            }
        }
        Value::Array(items) => {
            if let Some(min) = schema["minItems"].as_u64()
                && (items.len() as u64) < min
            {
                causes.push(Cause::new(
                    field.clone(),
                    format!(
                        "Invalid value: {}: should have at least {min} items",
                        items.len()
                    ),
                ));
            }
            if let Some(max) = schema["maxItems"].as_u64()
                && items.len() as u64 > max
            {
                causes.push(Cause::new(
                    field.clone(),
                    format!("Too many: {}: must have at most {max} items", items.len()),
                ));
            }
            if let Some(item_schema) = schema.get("items").filter(|s| s.is_object()) {
                for (i, item) in items.iter().enumerate() {
                    self::schema(item_schema, item, &format!("{path}[{i}]"), causes);
                }
            }
            if let Some(keys) = schema["x-kubernetes-list-map-keys"].as_array() {
                let mut seen = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let key: Vec<&Value> = keys
                        .iter()
                        .filter_map(|k| k.as_str())
                        .map(|k| &item[k])
                        .collect();
                    if seen.contains(&key) {
                        causes.push(Cause::new(
                            format!("{path}[{i}]"),
                            format!(
                                "Duplicate value: {}",
                                serde_json::to_string(&key).unwrap_or_default()
                            ),
                        ));
                    }
                    seen.push(key);
                }
            }
        }
        Value::Object(m) => {
            for req in schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if m.get(req).is_none_or(Value::is_null) {
                    causes.push(Cause::new(join(path, req), "Required value"));
                }
            }
            let props = schema["properties"].as_object();
            for (k, child) in m {
                if let Some(child_schema) = props.and_then(|p| p.get(k)) {
                    self::schema(child_schema, child, &join(path, k), causes);
                } else if let Some(extra) =
                    schema.get("additionalProperties").filter(|s| s.is_object())
                {
                    self::schema(extra, child, &join(path, k), causes);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schema_reports_each_problem_with_its_field() {
        let s = json!({"type": "object", "required": ["spec"], "properties": {"spec": {"type": "object",
            "properties": {"replicas": {"type": "integer", "minimum": 0, "format": "int32"},
                           "mode": {"type": "string", "enum": ["system", "user"]},
                           "name": {"type": "string", "maxLength": 3, "pattern": "^[a-z]+$"}}}}});
        let mut causes = Vec::new();
        schema(
            &s,
            &json!({"spec": {"replicas": -1, "mode": "x", "name": "ABCD"}}),
            "",
            &mut causes,
        );
        let fields: Vec<&str> = causes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(
            fields,
            ["spec.mode", "spec.name", "spec.name", "spec.replicas"]
        );
        let mut none = Vec::new();
        schema(
            &s,
            &json!({"spec": {"replicas": 2, "mode": "user", "name": "ab"}}),
            "",
            &mut none,
        );
        assert!(none.is_empty(), "{none:?}");
        let mut missing = Vec::new();
        schema(&s, &json!({}), "", &mut missing);
        assert_eq!(missing, vec![Cause::new("spec", "Required value")]);
    }

    #[test]
    fn names_follow_rfc_1123() {
        assert!(dns_subdomain("web-1.example").is_none());
        assert!(dns_subdomain("Web").is_some());
        assert!(dns_label("a.b").is_some());
        assert!(dns_label(&"a".repeat(64)).is_some());
    }
}
