//! Label and field selectors, parsed once per request and matched against stored objects.

use crate::status::ApiError;

#[derive(Clone, Debug, PartialEq)]
enum Op {
    Eq(String),
    NotEq(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    NotExists,
}

#[derive(Clone, Debug, PartialEq)]
struct Requirement {
    key: String,
    op: Op,
}

/// A parsed `labelSelector`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LabelSelector(Vec<Requirement>);

/// A parsed `fieldSelector` (only `=`, `==` and `!=`, as Kubernetes allows).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FieldSelector(Vec<Requirement>);

/// Splits on commas that are not inside parentheses.
fn split_top(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 316
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
}

fn set_values(rest: &str, raw: &str) -> Result<Vec<String>, ApiError> {
    let inner = rest
        .trim()
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| bad_label(raw, "expected a parenthesised list of values"))?;
    Ok(inner
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect())
}

fn bad_label(raw: &str, why: &str) -> ApiError {
    ApiError::BadRequest(format!(
        "unable to parse requirement \"{raw}\" of labelSelector: {why}"
    ))
}

impl LabelSelector {
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let mut reqs = Vec::new();
        for raw in split_top(s) {
            let part = raw.trim();
            if part.is_empty() {
                continue;
            }
            let req = if let Some(key) = part.strip_prefix('!') {
                Requirement {
                    key: key.trim().to_string(),
                    op: Op::NotExists,
                }
            } else if let Some((k, v)) = part.split_once("!=") {
                Requirement {
                    key: k.trim().to_string(),
                    op: Op::NotEq(v.trim().to_string()),
                }
            } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                Requirement {
                    key: k.trim().to_string(),
                    op: Op::Eq(v.trim().to_string()),
                }
            } else if let Some((k, rest)) = part.split_once(" notin ") {
                Requirement {
                    key: k.trim().to_string(),
                    op: Op::NotIn(set_values(rest, part)?),
                }
            } else if let Some((k, rest)) = part.split_once(" in ") {
                Requirement {
                    key: k.trim().to_string(),
                    op: Op::In(set_values(rest, part)?),
                }
            } else {
                Requirement {
                    key: part.to_string(),
                    op: Op::Exists,
                }
            };
            if !valid_key(&req.key) {
                return Err(bad_label(part, "invalid label key"));
            }
            reqs.push(req);
        }
        Ok(LabelSelector(reqs))
    }

    /// From a `matchLabels`/`matchExpressions` object (Deployment and PDB selectors).
    pub fn from_json(v: &serde_json::Value) -> Self {
        let mut reqs = Vec::new();
        if let Some(m) = v.get("matchLabels").and_then(|m| m.as_object()) {
            for (k, val) in m {
                reqs.push(Requirement {
                    key: k.clone(),
                    op: Op::Eq(val.as_str().unwrap_or_default().to_string()),
                });
            }
        }
        if let Some(exprs) = v.get("matchExpressions").and_then(|m| m.as_array()) {
            for e in exprs {
                let key = e["key"].as_str().unwrap_or_default().to_string();
                let values: Vec<String> = e["values"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                let op = match e["operator"].as_str().unwrap_or_default() {
                    "In" => Op::In(values),
                    "NotIn" => Op::NotIn(values),
                    "Exists" => Op::Exists,
                    _ => Op::NotExists,
                };
                reqs.push(Requirement { key, op });
            }
        }
        LabelSelector(reqs)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn matches(&self, labels: &[(Box<str>, Box<str>)]) -> bool {
        self.0.iter().all(|r| {
            let value = labels
                .iter()
                .find(|(k, _)| **k == *r.key)
                .map(|(_, v)| &**v);
            matches_op(&r.op, value)
        })
    }
}

fn matches_op(op: &Op, value: Option<&str>) -> bool {
    match op {
        Op::Eq(want) => value == Some(want.as_str()),
        Op::NotEq(want) => value != Some(want.as_str()),
        Op::In(set) => value.is_some_and(|v| set.iter().any(|s| s == v)),
        Op::NotIn(set) => value.is_none_or(|v| !set.iter().any(|s| s == v)),
        Op::Exists => value.is_some(),
        Op::NotExists => value.is_none(),
    }
}

impl FieldSelector {
    /// Parses and checks every key against the fields this resource supports.
    pub fn parse(s: &str, supported: &[&str], kind: &str) -> Result<Self, ApiError> {
        let mut reqs = Vec::new();
        for raw in s.split(',') {
            let part = raw.trim();
            if part.is_empty() {
                continue;
            }
            let (key, op) = if let Some((k, v)) = part.split_once("!=") {
                (k, Op::NotEq(v.to_string()))
            } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                (k, Op::Eq(v.to_string()))
            } else {
                return Err(ApiError::BadRequest(format!(
                    "invalid selector: '{part}'; can't understand '{part}'"
                )));
            };
            let key = key.trim();
            if key != "metadata.name" && key != "metadata.namespace" && !supported.contains(&key) {
                return Err(ApiError::BadRequest(format!(
                    "field label not supported: {key} (for {kind})"
                )));
            }
            reqs.push(Requirement {
                key: key.to_string(),
                op,
            });
        }
        Ok(FieldSelector(reqs))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `fields` lists the object's selectable fields (absent ones count as "").
    pub fn matches(
        &self,
        fields: &[(&'static str, Box<str>)],
        name: &str,
        namespace: &str,
    ) -> bool {
        self.0.iter().all(|r| {
            let value = match r.key.as_str() {
                "metadata.name" => name,
                "metadata.namespace" => namespace,
                key => fields
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| &**v)
                    .unwrap_or(""),
            };
            matches_op(&r.op, Some(value))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Vec<(Box<str>, Box<str>)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn label_selectors_follow_kubernetes_grammar() {
        let l = labels(&[("app", "web"), ("tier", "front")]);
        let cases = [
            ("app=web", true),
            ("app==web,tier=front", true),
            ("app!=web", false),
            ("app in (api, web)", true),
            ("tier notin (front)", false),
            ("app", true),
            ("!app", false),
            ("!missing", true),
            ("missing!=x", true),
        ];
        for (sel, want) in cases {
            let parsed = LabelSelector::parse(sel).expect(sel);
            assert_eq!(parsed.matches(&l), want, "{sel}");
        }
        assert!(LabelSelector::parse("app in web").is_err());
        assert!(LabelSelector::parse("bad key=x").is_err());
    }

    #[test]
    fn field_selectors_reject_unsupported_keys() {
        let fields = vec![("spec.nodeName", Box::<str>::from("n1"))];
        let sel = FieldSelector::parse(
            "spec.nodeName=n1,metadata.name!=x",
            &["spec.nodeName"],
            "Pod",
        )
        .expect("parses");
        assert!(sel.matches(&fields, "p", "default"));
        let err = FieldSelector::parse("spec.bogus=1", &["spec.nodeName"], "Pod").unwrap_err();
        assert!(err.to_string().contains("field label not supported"));
    }
}
