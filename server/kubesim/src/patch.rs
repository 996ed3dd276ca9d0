//! The three patch types Kubernetes accepts: JSON merge, JSON patch (RFC 6902) and strategic merge.

use serde_json::Value;

use crate::status::ApiError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchType {
    Merge,
    Json,
    Strategic,
    /// Server-side apply: the body is the caller's whole intent (merged with ownership in `managed`).
    Apply,
}

impl PatchType {
    pub fn from_content_type(ct: &str) -> Result<Self, ApiError> {
        let base = ct.split(';').next().unwrap_or("").trim();
        match base {
            "application/merge-patch+json" => Ok(PatchType::Merge),
            "application/json-patch+json" => Ok(PatchType::Json),
            "application/strategic-merge-patch+json" => Ok(PatchType::Strategic),
            "application/apply-patch+yaml" => Ok(PatchType::Apply),
            other => Err(ApiError::UnsupportedMediaType(format!(
                "the body of the request was in an unknown format - accepted media types include: \
                 application/json-patch+json, application/merge-patch+json, \
                 application/strategic-merge-patch+json, application/apply-patch+yaml (got \"{other}\")"
            ))),
        }
    }
}

/// Applies `patch` to `target`. `strategic_lists` enables merging lists of named objects (built-in kinds).
pub fn apply(
    target: &mut Value,
    patch: &Value,
    kind: PatchType,
    strategic_lists: bool,
) -> Result<(), ApiError> {
    match kind {
        // A Scale applied is its one field set: merging it is the same.
        PatchType::Merge | PatchType::Apply => {
            merge(target, patch, false);
            Ok(())
        }
        // Built-in kinds only: the API (`verbs`) refuses it for custom resources with 415.
        PatchType::Strategic => {
            merge(target, patch, strategic_lists);
            Ok(())
        }
        PatchType::Json => json_patch(target, patch),
    }
}

fn merge(target: &mut Value, patch: &Value, strategic: bool) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let Value::Object(t) = target else { return };
    for (k, v) in p {
        if k.starts_with("$") {
            continue;
        }
        if v.is_null() {
            t.remove(k);
        } else if strategic && v.is_array() && t.get(k).is_some_and(Value::is_array) && named(v) {
            if let Some(existing) = t.get_mut(k) {
                merge_named_list(existing, v);
            }
        } else {
            merge(t.entry(k.clone()).or_insert(Value::Null), v, strategic);
        }
    }
}

/// A list whose items are objects with a `name` (containers, env, ports…): merged by name.
fn named(list: &Value) -> bool {
    list.as_array().is_some_and(|a| {
        !a.is_empty()
            && a.iter()
                .all(|i| i.get("name").is_some_and(Value::is_string))
    })
}

fn merge_named_list(target: &mut Value, patch: &Value) {
    let (Some(t), Some(p)) = (target.as_array_mut(), patch.as_array()) else {
        return;
    };
    for item in p {
        let name = &item["name"];
        let deleting = item.get("$patch").and_then(Value::as_str) == Some("delete");
        match t.iter().position(|x| &x["name"] == name) {
            Some(i) if deleting => {
                t.remove(i);
            }
            Some(i) => merge(&mut t[i], item, true),
            None if !deleting => t.push(item.clone()),
            None => {}
        }
    }
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::Invalid {
        group: String::new(),
        kind: "Patch".into(),
        name: String::new(),
        causes: vec![crate::status::Cause::new("patch", msg.into())],
    }
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

fn split_pointer(path: &str) -> Result<(Vec<String>, String), ApiError> {
    if !path.starts_with('/') {
        return Err(bad(format!("invalid JSON pointer \"{path}\"")));
    }
    let mut parts: Vec<String> = path[1..].split('/').map(unescape).collect();
    let last = parts.pop().unwrap_or_default();
    Ok((parts, last))
}

fn parent<'a>(
    root: &'a mut Value,
    parts: &[String],
    path: &str,
) -> Result<&'a mut Value, ApiError> {
    let mut cur = root;
    for p in parts {
        cur = match cur {
            Value::Object(m) => m.get_mut(p),
            Value::Array(a) => p.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
            _ => None,
        }
        .ok_or_else(|| bad(format!("path \"{path}\" does not exist")))?;
    }
    Ok(cur)
}

fn take(root: &mut Value, path: &str) -> Result<Value, ApiError> {
    let (parts, last) = split_pointer(path)?;
    let p = parent(root, &parts, path)?;
    match p {
        Value::Object(m) => m.remove(&last),
        Value::Array(a) => last
            .parse::<usize>()
            .ok()
            .filter(|i| *i < a.len())
            .map(|i| a.remove(i)),
        _ => None,
    }
    .ok_or_else(|| bad(format!("unable to remove nonexistent key \"{path}\"")))
}

fn put(root: &mut Value, path: &str, value: Value, replace: bool) -> Result<(), ApiError> {
    if path.is_empty() {
        *root = value;
        return Ok(());
    }
    let (parts, last) = split_pointer(path)?;
    let p = parent(root, &parts, path)?;
    match p {
        Value::Object(m) => {
            if replace && !m.contains_key(&last) {
                return Err(bad(format!(
                    "replace operation does not apply: doc is missing key: {path}"
                )));
            }
            m.insert(last, value);
            Ok(())
        }
        Value::Array(a) => {
            if last == "-" && !replace {
                a.push(value);
                return Ok(());
            }
            let i: usize = last
                .parse()
                .map_err(|_| bad(format!("invalid array index in \"{path}\"")))?;
            if replace {
                let slot = a
                    .get_mut(i)
                    .ok_or_else(|| bad(format!("index out of range in \"{path}\"")))?;
                *slot = value;
            } else if i <= a.len() {
                a.insert(i, value);
            } else {
                return Err(bad(format!("index out of range in \"{path}\"")));
            }
            Ok(())
        }
        _ => Err(bad(format!("path \"{path}\" does not exist"))),
    }
}

fn get<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    root.pointer(path)
}

fn json_patch(target: &mut Value, patch: &Value) -> Result<(), ApiError> {
    let ops = patch
        .as_array()
        .ok_or_else(|| bad("a JSON patch must be an array of operations"))?;
    // Applied to a copy: a failing operation leaves the object untouched.
    let mut doc = target.clone();
    for op in ops {
        let name = op["op"].as_str().unwrap_or_default();
        let path = op["path"]
            .as_str()
            .ok_or_else(|| bad("every operation needs a \"path\""))?;
        match name {
            "add" => put(
                &mut doc,
                path,
                op.get("value")
                    .cloned()
                    .ok_or_else(|| bad("add needs a value"))?,
                false,
            )?,
            "replace" => put(
                &mut doc,
                path,
                op.get("value")
                    .cloned()
                    .ok_or_else(|| bad("replace needs a value"))?,
                true,
            )?,
            "remove" => {
                take(&mut doc, path)?;
            }
            "move" | "copy" => {
                let from = op["from"]
                    .as_str()
                    .ok_or_else(|| bad(format!("{name} needs \"from\"")))?;
                let v = if name == "move" {
                    take(&mut doc, from)?
                } else {
                    get(&doc, from)
                        .cloned()
                        .ok_or_else(|| bad(format!("path \"{from}\" does not exist")))?
                };
                put(&mut doc, path, v, false)?;
            }
            "test" => {
                if get(&doc, path) != op.get("value") {
                    return Err(bad(format!(
                        "test failed: \"{path}\" does not have the expected value"
                    )));
                }
            }
            other => return Err(bad(format!("unknown JSON patch operation \"{other}\""))),
        }
    }
    *target = doc;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_sets_and_removes() {
        let mut v = json!({"a": {"b": 1, "c": 2}, "l": [1, 2]});
        apply(
            &mut v,
            &json!({"a": {"b": null, "d": 3}, "l": [3]}),
            PatchType::Merge,
            false,
        )
        .unwrap();
        assert_eq!(v, json!({"a": {"c": 2, "d": 3}, "l": [3]}));
    }

    #[test]
    fn strategic_merge_merges_named_lists() {
        let mut v =
            json!({"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]});
        let p = json!({"containers": [{"name": "b", "image": "z"}]});
        apply(&mut v, &p, PatchType::Strategic, true).unwrap();
        assert_eq!(v["containers"][1]["image"], "z");
        assert_eq!(v["containers"].as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn json_patch_is_all_or_nothing() {
        let mut v = json!({"spec": {"replicas": 1, "list": ["a"]}});
        let ok = json!([{"op": "replace", "path": "/spec/replicas", "value": 3},
                        {"op": "add", "path": "/spec/list/-", "value": "b"}]);
        apply(&mut v, &ok, PatchType::Json, false).unwrap();
        assert_eq!(v, json!({"spec": {"replicas": 3, "list": ["a", "b"]}}));
        let bad = json!([{"op": "replace", "path": "/spec/replicas", "value": 5},
                         {"op": "remove", "path": "/spec/missing"}]);
        assert!(apply(&mut v, &bad, PatchType::Json, false).is_err());
        assert_eq!(v["spec"]["replicas"], 3);
    }
}
