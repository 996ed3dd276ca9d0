//! The metrics.k8s.io API (what metrics-server serves): NodeMetrics and PodMetrics from the usage model.

use std::sync::Arc;

use axum::response::Response;
use http::StatusCode;
use serde_json::{Value, json};

use super::{Query, json_response};
use crate::clock::timestamp;
use crate::resources::{self, id};
use crate::selector::LabelSelector;
use crate::shared::Shared;
use crate::sim::metrics::{node_usage, pod_age, pod_usage, running};
use crate::status::ApiError;
use crate::store::{Obj, Store};

fn quantities(cpu_millis: f64, mem_bytes: f64) -> Value {
    json!({"cpu": format!("{}n", (cpu_millis * 1_000_000.0) as u64), "memory": format!("{}Ki", (mem_bytes / 1024.0) as u64)})
}

fn node_doc(node: &Obj, cpu: f64, mem: f64, now: &str) -> Value {
    let labels: serde_json::Map<String, Value> = node
        .labels
        .iter()
        .map(|(k, v)| (k.to_string(), json!(&**v)))
        .collect();
    json!({"kind": "NodeMetrics", "apiVersion": "metrics.k8s.io/v1beta1",
           "metadata": {"name": &*node.name, "creationTimestamp": now, "labels": labels},
           "timestamp": now, "window": "20.05s", "usage": quantities(cpu, mem)})
}

fn pod_doc(shared: &Shared, pod: &Obj, now: &str) -> Value {
    let v = pod.value();
    let (cpu, mem) = pod_usage(
        shared.seed,
        pod,
        shared.clock.unix(),
        pod_age(pod, shared.clock.speed()),
    );
    let containers = v["spec"]["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let (total_cpu, _) = crate::index::pod_requests(&v["spec"]);
    let n = containers.len().max(1) as f64;
    let list: Vec<Value> = containers
        .iter()
        .map(|c| {
            let req = c["resources"]["requests"]["cpu"]
                .as_str()
                .and_then(crate::quantity::cpu_millis)
                .unwrap_or(0) as f64;
            let share = if total_cpu > 0 {
                req / total_cpu as f64
            } else {
                1.0 / n
            };
            json!({"name": c["name"], "usage": quantities(cpu * share, mem * share)})
        })
        .collect();
    json!({"kind": "PodMetrics", "apiVersion": "metrics.k8s.io/v1beta1",
           "metadata": {"name": &*pod.name, "namespace": &*pod.namespace, "creationTimestamp": now, "labels": v["metadata"]["labels"]},
           "timestamp": now, "window": "20.05s", "containers": list})
}

/// GET on `nodes`/`pods` of metrics.k8s.io (list or one).
pub fn serve(
    shared: &Shared,
    store: &Arc<Store>,
    resource: usize,
    namespace: Option<&str>,
    name: Option<&str>,
    query: &Query,
) -> Result<Response, ApiError> {
    let r = resources::get(resource);
    let labels =
        LabelSelector::parse(query.get("labelSelector").map(String::as_str).unwrap_or(""))?;
    let now = timestamp();
    let items: Vec<Value> = if resource == id::NODE_METRICS {
        node_usage(shared, store)
            .into_iter()
            .filter(|(n, _, _)| {
                name.is_none_or(|want| *n.name == *want) && labels.matches(&n.labels)
            })
            .map(|(n, c, m)| node_doc(&n, c, m, &now))
            .collect()
    } else {
        store
            .all(id::PODS)
            .iter()
            .filter(|p| running(p))
            .filter(|p| namespace.is_none_or(|ns| *p.namespace == *ns))
            .filter(|p| name.is_none_or(|want| *p.name == *want) && labels.matches(&p.labels))
            .map(|p| pod_doc(shared, p, &now))
            .collect()
    };
    let body = match name {
        Some(n) => items
            .into_iter()
            .next()
            .ok_or_else(|| ApiError::not_found(r.group, r.plural, n))?,
        None => json!({"kind": format!("{}List", r.kind), "apiVersion": r.api_version(),
                       "metadata": {}, "items": items}),
    };
    Ok(json_response(
        StatusCode::OK,
        serde_json::to_vec(&body).unwrap_or_default(),
    ))
}
