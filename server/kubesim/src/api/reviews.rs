//! The review kinds: `SelfSubjectReview` (`kubectl auth whoami`) and the access and rules reviews (`kubectl auth can-i`).

// kubesim has no RBAC: whoever holds a token may do everything its API serves, so every review
// answers "allowed" and says why. Reviews are answered, never stored.

use http::HeaderMap;
use serde_json::{Value, json};

use crate::status::{ApiError, Cause};

use super::decode;

/// The answer to a POSTed review of kind `plural`.
pub(super) fn answer(plural: &str, headers: &HeaderMap, bytes: &[u8]) -> Result<Value, ApiError> {
    let (api_version, kind) = match plural {
        "selfsubjectreviews" => ("authentication.k8s.io/v1", "SelfSubjectReview"),
        "selfsubjectaccessreviews" => ("authorization.k8s.io/v1", "SelfSubjectAccessReview"),
        _ => ("authorization.k8s.io/v1", "SelfSubjectRulesReview"),
    };
    // whoami may send an empty body; the other reviews must send theirs.
    let review = if plural == "selfsubjectreviews" && bytes.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        decode(headers, bytes)?
    };
    if !review.is_object()
        || review
            .get("kind")
            .and_then(Value::as_str)
            .is_some_and(|k| k != kind)
        || review
            .get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|a| a != api_version)
    {
        return Err(ApiError::BadRequest(format!(
            "the body must be a {api_version} {kind}"
        )));
    }
    let status = match plural {
        "selfsubjectreviews" => json!({"userInfo": user_info(headers)}),
        "selfsubjectaccessreviews" => {
            let spec = &review["spec"];
            let (resource, non_resource) = (
                spec["resourceAttributes"].is_object(),
                spec["nonResourceAttributes"].is_object(),
            );
            if resource == non_resource {
                return Err(ApiError::invalid(
                    "authorization.k8s.io",
                    kind,
                    "",
                    vec![Cause::new(
                        "spec.resourceAttributes",
                        "Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified",
                    )],
                ));
            }
            json!({"allowed": true, "reason": "kubesim has no RBAC: every authenticated request is allowed"})
        }
        _ => json!({
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
            "incomplete": false,
        }),
    };
    let mut out = json!({
        "kind": kind,
        "apiVersion": api_version,
        "metadata": {"creationTimestamp": null},
        "status": status,
    });
    // SelfSubjectReview has no spec; the others echo theirs.
    if plural != "selfsubjectreviews" {
        out["spec"] = review.get("spec").cloned().unwrap_or_else(|| json!({}));
    }
    Ok(out)
}

/// Who the caller is: the kubeconfig's user, or the user and groups named by `Impersonate-User` /
/// `Impersonate-Group` (a token's user may impersonate anyone, as a cluster admin may).
fn user_info(headers: &HeaderMap) -> Value {
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
    json!({"username": username, "groups": groups})
}
