//! Discovery documents (`/api`, `/apis`, `/api/v1`, `/apis/<group>/<version>`), as kubectl reads them.

use serde_json::{Value, json};

use crate::resources::{self, Plane, Resource};

pub fn core_versions() -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"],
           "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}]})
}

fn group_doc(group: &str, version: &str) -> Value {
    let gv = json!({"groupVersion": format!("{group}/{version}"), "version": version});
    json!({"name": group, "versions": [gv.clone()], "preferredVersion": gv})
}

/// The review kinds every cluster answers (POST only, nothing stored): group, version, plural, kind.
const REVIEWS: &[(&str, &str, &str, &str)] = &[
    (
        "authentication.k8s.io",
        "v1",
        "selfsubjectreviews",
        "SelfSubjectReview",
    ),
    (
        "authorization.k8s.io",
        "v1",
        "selfsubjectaccessreviews",
        "SelfSubjectAccessReview",
    ),
    (
        "authorization.k8s.io",
        "v1",
        "selfsubjectrulesreviews",
        "SelfSubjectRulesReview",
    ),
];

/// The review kind at `group/version/plural`, if it is one.
pub fn review(group: &str, version: &str, plural: &str) -> Option<&'static str> {
    REVIEWS
        .iter()
        .find(|(g, v, p, _)| *g == group && *v == version && *p == plural)
        .map(|(_, _, _, kind)| *kind)
}

/// Served groups with their one version: the plane's resources', then the review groups.
fn all_groups(plane: Plane) -> Vec<(&'static str, &'static str)> {
    let mut groups = resources::groups(plane);
    for (g, v, _, _) in REVIEWS {
        if !groups.iter().any(|(have, _)| have == g) {
            groups.push((g, v));
        }
    }
    groups
}

/// The resource list of a review group (its kinds take `create` only).
pub fn review_list(group: &str, version: &str) -> Option<Value> {
    let list: Vec<Value> = REVIEWS
        .iter()
        .filter(|(g, v, _, _)| *g == group && *v == version)
        .map(|(_, _, plural, kind)| {
            json!({"name": plural, "singularName": "", "namespaced": false, "kind": kind, "verbs": ["create"]})
        })
        .collect();
    (!list.is_empty()).then(|| {
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": format!("{group}/{version}"), "resources": list})
    })
}

pub fn group_list(plane: Plane) -> Value {
    let groups: Vec<Value> = all_groups(plane)
        .into_iter()
        .map(|(g, v)| group_doc(g, v))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

pub fn group(plane: Plane, name: &str) -> Option<Value> {
    all_groups(plane)
        .into_iter()
        .find(|(g, _)| *g == name)
        .map(|(g, v)| {
            let mut doc = group_doc(g, v);
            doc["kind"] = json!("APIGroup");
            doc["apiVersion"] = json!("v1");
            doc
        })
}

fn entry(r: &Resource) -> Value {
    let mut e = json!({
        "name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
        "kind": r.kind, "verbs": r.verbs(),
    });
    if !r.short_names.is_empty() {
        e["shortNames"] = json!(r.short_names);
    }
    if r.group == resources::CAPI_GROUP {
        e["categories"] = json!(["cluster-api"]);
    }
    // `kubectl get all` lists the kinds in the "all" category (workloads, not configuration).
    if matches!(r.kind, "Pod" | "Deployment" | "DaemonSet" | "ReplicaSet") && !r.computed {
        e["categories"] = json!(["all"]);
    }
    e
}

pub fn resource_list(plane: Plane, group: &'static str, version: &'static str) -> Value {
    let mut list = Vec::new();
    for r in resources::in_group_version(plane, group, version) {
        list.push(entry(r));
        if r.status {
            list.push(
                json!({"name": format!("{}/status", r.plural), "singularName": "",
                "namespaced": r.namespaced, "kind": r.kind, "verbs": ["get", "patch", "update"]}),
            );
        }
        if crate::api::scalable(r) {
            list.push(
                json!({"name": format!("{}/scale", r.plural), "singularName": "", "namespaced": true,
                "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]}),
            );
        }
        if r.kind == "Pod" {
            list.push(
                json!({"name": "pods/log", "singularName": "", "namespaced": true,
                "kind": "Pod", "verbs": ["get"]}),
            );
            // kubectl drain looks here for the eviction API (and its version) before it evicts.
            list.push(
                json!({"name": "pods/eviction", "singularName": "", "namespaced": true,
                "group": "policy", "version": "v1", "kind": "Eviction", "verbs": ["create"]}),
            );
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": list})
}
