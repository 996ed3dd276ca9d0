//! Server-side printing: `meta.k8s.io/v1` Tables, which is what `kubectl get` asks for.

use std::sync::Arc;

use http::{HeaderMap, header};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::resources::id;
use crate::store::Obj;

/// Whether the client asked for a Table (kubectl does; kube-rs does not).
pub fn wanted(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|a| a.contains("as=Table"))
}

/// Kubernetes' short age format ("45s", "12m", "5h", "3d").
pub fn age(ts: &str) -> String {
    let Ok(t) = OffsetDateTime::parse(ts, &Rfc3339) else {
        return "<unknown>".into();
    };
    let secs = (OffsetDateTime::now_utc() - t).whole_seconds().max(0);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 3600 * 2 => format!("{}m", s / 60),
        s if s < 86400 * 2 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

fn s(v: &Value) -> Value {
    match v {
        Value::Null => json!("<none>"),
        Value::String(x) if x.is_empty() => json!("<none>"),
        Value::String(_) => v.clone(),
        other => json!(other.to_string()),
    }
}

fn n(v: &Value) -> Value {
    json!(v.as_i64().unwrap_or(0))
}

fn condition(v: &Value, kind: &str) -> Value {
    v["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == kind)
        .map(|c| c["status"].clone())
        .unwrap_or(json!("Unknown"))
}

type Column = (&'static str, &'static str, fn(&Value) -> Value);

fn columns(resource: usize) -> Vec<Column> {
    let age_col: Column = ("Age", "string", |v| {
        json!(age(v["metadata"]["creationTimestamp"]
            .as_str()
            .unwrap_or("")))
    });
    let name: Column = ("Name", "string", |v| v["metadata"]["name"].clone());
    match resource {
        id::M_NAMESPACES | id::W_NAMESPACES => vec![
            name,
            ("Status", "string", |v| s(&v["status"]["phase"])),
            age_col,
        ],
        id::M_CONFIGMAPS | id::W_CONFIGMAPS => vec![
            name,
            ("Data", "integer", |v| {
                let count = |k: &str| v[k].as_object().map_or(0, |m| m.len());
                json!(count("data") + count("binaryData"))
            }),
            age_col,
        ],
        id::M_LEASES | id::W_LEASES => vec![
            name,
            ("Holder", "string", |v| s(&v["spec"]["holderIdentity"])),
            age_col,
        ],
        id::M_SECRETS | id::W_SECRETS => vec![
            name,
            ("Type", "string", |v| s(&v["type"])),
            ("Data", "integer", |v| {
                json!(v["data"].as_object().map(|m| m.len()).unwrap_or(0))
            }),
            age_col,
        ],
        id::M_EVENTS | id::W_EVENTS => vec![
            ("Last Seen", "string", |v| {
                json!(age(v["lastTimestamp"]
                    .as_str()
                    .or(v["eventTime"].as_str())
                    .unwrap_or("")))
            }),
            ("Type", "string", |v| s(&v["type"])),
            ("Reason", "string", |v| s(&v["reason"])),
            ("Object", "string", |v| {
                json!(format!(
                    "{}/{}",
                    v["involvedObject"]["kind"]
                        .as_str()
                        .unwrap_or("")
                        .to_lowercase(),
                    v["involvedObject"]["name"].as_str().unwrap_or("")
                ))
            }),
            ("Message", "string", |v| s(&v["message"])),
        ],
        id::CLUSTERS => vec![
            name,
            ("ClusterClass", "string", |v| {
                s(&v["spec"]["topology"]["classRef"]["name"])
            }),
            ("Available", "string", |v| condition(v, "Available")),
            ("W Desired", "integer", |v| {
                n(&v["status"]["workers"]["desiredReplicas"])
            }),
            ("W Ready", "integer", |v| {
                n(&v["status"]["workers"]["readyReplicas"])
            }),
            ("Phase", "string", |v| s(&v["status"]["phase"])),
            age_col,
            ("Version", "string", |v| {
                s(&v["spec"]["topology"]["version"])
            }),
        ],
        id::MACHINE_DEPLOYMENTS => vec![
            name,
            ("Cluster", "string", |v| s(&v["spec"]["clusterName"])),
            ("Desired", "integer", |v| n(&v["spec"]["replicas"])),
            ("Current", "integer", |v| n(&v["status"]["replicas"])),
            ("Ready", "integer", |v| n(&v["status"]["readyReplicas"])),
            ("Up-to-date", "integer", |v| {
                n(&v["status"]["upToDateReplicas"])
            }),
            ("Phase", "string", |v| s(&v["status"]["phase"])),
            age_col,
            ("Version", "string", |v| {
                s(&v["spec"]["template"]["spec"]["version"])
            }),
        ],
        id::MACHINES => vec![
            name,
            ("Cluster", "string", |v| s(&v["spec"]["clusterName"])),
            ("Node Name", "string", |v| {
                s(&v["status"]["nodeRef"]["name"])
            }),
            ("Phase", "string", |v| s(&v["status"]["phase"])),
            age_col,
            ("Version", "string", |v| s(&v["spec"]["version"])),
        ],
        id::NODES => vec![
            name,
            ("Status", "string", |v| {
                let ready = if condition(v, "Ready") == "True" {
                    "Ready"
                } else {
                    "NotReady"
                };
                json!(if v["spec"]["unschedulable"] == true {
                    format!("{ready},SchedulingDisabled")
                } else {
                    ready.to_string()
                })
            }),
            ("Roles", "string", |v| {
                s(&v["metadata"]["labels"]["kubernetes.io/role"])
            }),
            age_col,
            ("Version", "string", |v| {
                s(&v["status"]["nodeInfo"]["kubeletVersion"])
            }),
        ],
        id::PODS => vec![
            name,
            ("Ready", "string", |v| {
                let total = v["spec"]["containers"]
                    .as_array()
                    .map(Vec::len)
                    .unwrap_or(0);
                let ready = v["status"]["containerStatuses"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|c| c["ready"] == true)
                    .count();
                json!(format!("{ready}/{total}"))
            }),
            ("Status", "string", |v| {
                let waiting =
                    v["status"]["containerStatuses"][0]["state"]["waiting"]["reason"].as_str();
                match (v["metadata"]["deletionTimestamp"].is_null(), waiting) {
                    (false, _) => json!("Terminating"),
                    (true, Some(r)) => json!(r),
                    _ => s(&v["status"]["phase"]),
                }
            }),
            ("Restarts", "integer", |v| {
                json!(
                    v["status"]["containerStatuses"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|c| c["restartCount"].as_i64().unwrap_or(0))
                        .sum::<i64>()
                )
            }),
            age_col,
        ],
        id::PDBS => vec![
            name,
            ("Min Available", "string", |v| {
                if v["spec"]["minAvailable"].is_null() {
                    json!("N/A")
                } else {
                    json!(v["spec"]["minAvailable"].to_string().trim_matches('"'))
                }
            }),
            ("Max Unavailable", "string", |v| {
                if v["spec"]["maxUnavailable"].is_null() {
                    json!("N/A")
                } else {
                    json!(v["spec"]["maxUnavailable"].to_string().trim_matches('"'))
                }
            }),
            ("Allowed Disruptions", "integer", |v| {
                n(&v["status"]["disruptionsAllowed"])
            }),
            age_col,
        ],
        id::DEPLOYMENTS => vec![
            name,
            ("Ready", "string", |v| {
                json!(format!(
                    "{}/{}",
                    v["status"]["readyReplicas"].as_i64().unwrap_or(0),
                    v["spec"]["replicas"].as_i64().unwrap_or(0)
                ))
            }),
            ("Up-to-date", "integer", |v| {
                n(&v["status"]["updatedReplicas"])
            }),
            ("Available", "integer", |v| {
                n(&v["status"]["availableReplicas"])
            }),
            age_col,
        ],
        id::REPLICA_SETS => vec![
            name,
            ("Desired", "integer", |v| n(&v["spec"]["replicas"])),
            ("Current", "integer", |v| n(&v["status"]["replicas"])),
            ("Ready", "integer", |v| n(&v["status"]["readyReplicas"])),
            age_col,
        ],
        id::DAEMON_SETS => vec![
            name,
            ("Desired", "integer", |v| {
                n(&v["status"]["desiredNumberScheduled"])
            }),
            ("Current", "integer", |v| {
                n(&v["status"]["currentNumberScheduled"])
            }),
            ("Ready", "integer", |v| n(&v["status"]["numberReady"])),
            ("Up-to-date", "integer", |v| {
                n(&v["status"]["updatedNumberScheduled"])
            }),
            ("Available", "integer", |v| {
                n(&v["status"]["numberAvailable"])
            }),
            ("Node Selector", "string", |v| {
                let labels = v["spec"]["template"]["spec"]["nodeSelector"].as_object();
                let text: Vec<String> = labels
                    .into_iter()
                    .flatten()
                    .map(|(k, l)| format!("{k}={}", l.as_str().unwrap_or_default()))
                    .collect();
                json!(if text.is_empty() {
                    "<none>".to_string()
                } else {
                    text.join(",")
                })
            }),
            age_col,
        ],
        _ => vec![name, age_col],
    }
}

/// A Table of `objs` (each row carries the object's metadata, as `includeObject=Metadata`).
/// The columns `kubectl get -o wide` adds (priority 1), as kube-apiserver's printers define them.
fn wide(resource: usize) -> Vec<Column> {
    match resource {
        id::PODS => vec![
            ("IP", "string", |v| s(&v["status"]["podIP"])),
            ("Node", "string", |v| s(&v["spec"]["nodeName"])),
            ("Nominated Node", "string", |v| {
                s(&v["status"]["nominatedNodeName"])
            }),
            ("Readiness Gates", "string", |v| {
                let gates = v["spec"]["readinessGates"].as_array().map_or(0, Vec::len);
                if gates == 0 {
                    json!("<none>")
                } else {
                    let ready = v["status"]["conditions"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|c| {
                            c["status"] == "True"
                                && v["spec"]["readinessGates"]
                                    .as_array()
                                    .into_iter()
                                    .flatten()
                                    .any(|g| g["conditionType"] == c["type"])
                        })
                        .count();
                    json!(format!("{ready}/{gates}"))
                }
            }),
        ],
        id::NODES => vec![
            ("Internal-IP", "string", |v| address(v, "InternalIP")),
            ("External-IP", "string", |v| address(v, "ExternalIP")),
            ("OS-Image", "string", |v| {
                s(&v["status"]["nodeInfo"]["osImage"])
            }),
            ("Kernel-Version", "string", |v| {
                s(&v["status"]["nodeInfo"]["kernelVersion"])
            }),
            ("Container-Runtime", "string", |v| {
                s(&v["status"]["nodeInfo"]["containerRuntimeVersion"])
            }),
        ],
        id::DEPLOYMENTS | id::REPLICA_SETS => vec![
            ("Containers", "string", |v| pod_template(v, "name")),
            ("Images", "string", |v| pod_template(v, "image")),
            ("Selector", "string", |v| {
                let labels = v["spec"]["selector"]["matchLabels"].as_object();
                let text: Vec<String> = labels
                    .into_iter()
                    .flatten()
                    .map(|(k, l)| format!("{k}={}", l.as_str().unwrap_or_default()))
                    .collect();
                s(&json!(text.join(",")))
            }),
        ],
        _ => Vec::new(),
    }
}

fn address(v: &Value, kind: &str) -> Value {
    let found = v["status"]["addresses"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["type"] == kind);
    found.map_or(json!("<none>"), |a| s(&a["address"]))
}

/// A field of each container of a Deployment's pod template, comma-separated.
fn pod_template(v: &Value, field: &str) -> Value {
    let values: Vec<&str> = v["spec"]["template"]["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c[field].as_str())
        .collect();
    s(&json!(values.join(",")))
}

pub fn render(resource: usize, objs: &[Arc<Obj>], rv: u64, next: Option<&str>) -> Value {
    let mut cols: Vec<(Column, u8)> = columns(resource).into_iter().map(|c| (c, 0)).collect();
    cols.extend(wide(resource).into_iter().map(|c| (c, 1)));
    let defs: Vec<Value> = cols
        .iter()
        .map(|((name, ty, _), priority)| json!({"name": name, "type": ty, "format": if *name == "Name" { "name" } else { "" }, "description": "", "priority": priority}))
        .collect();
    let cols: Vec<Column> = cols.into_iter().map(|(c, _)| c).collect();
    let rows: Vec<Value> = objs
        .iter()
        .map(|o| {
            let v = o.value();
            let cells: Vec<Value> = cols.iter().map(|(_, _, f)| f(&v)).collect();
            json!({"cells": cells, "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": v["metadata"]}})
        })
        .collect();
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if let Some(next) = next {
        meta["continue"] = json!(next);
    }
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta, "columnDefinitions": defs, "rows": rows})
}
