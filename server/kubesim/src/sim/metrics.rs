//! metrics.k8s.io: node and pod CPU/memory computed from the pods placed on each node, following a
//! daily pattern with noise, bursts and one memory leak, as metrics-server would report them.

use std::collections::HashMap;
use std::sync::Arc;

use axum::response::Response;
use http::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::api::{Query, json_response};
use crate::resources::{self, id};
use crate::selector::LabelSelector;
use crate::shared::Shared;
use crate::status::ApiError;
use crate::store::{Obj, Store};
use crate::util::{hash_str, splitmix, timestamp, unit};

/// How long a leaking container takes to reach its OOM kill (simulated seconds).
pub const LEAK_CYCLE_SECS: f64 = 6.0 * 3600.0;

/// A smooth random walk in [-0.5, 0.5]: values per minute, interpolated.
fn smooth_noise(h: u64, t: f64, period: f64) -> f64 {
    let k = (t / period).floor();
    let frac = t / period - k;
    let a = unit(splitmix(h ^ (k as i64 as u64))) - 0.5;
    let b = unit(splitmix(h ^ ((k + 1.0) as i64 as u64))) - 0.5;
    a + (b - a) * (frac * frac * (3.0 - 2.0 * frac))
}

/// 0 at night, 1 mid-afternoon.
fn daily(t_unix: f64) -> f64 {
    let hours = (t_unix / 3600.0) % 24.0;
    0.5 + 0.5 * ((hours - 9.0) / 24.0 * std::f64::consts::TAU).sin()
}

/// Seconds a pod has been running, in simulated time.
pub fn pod_age(obj: &Obj, speed: f64) -> f64 {
    OffsetDateTime::parse(obj.field("x.start"), &Rfc3339)
        .map(|t| (OffsetDateTime::now_utc() - t).as_seconds_f64().max(0.0) * speed)
        .unwrap_or(0.0)
}

/// A pod's usage now: (millicores, bytes).
pub fn pod_usage(seed: u64, obj: &Obj, t_unix: f64, age: f64) -> (f64, f64) {
    let h = hash_str(seed, &format!("{}/{}", obj.namespace, obj.name));
    let cpu_req = obj.field("x.cpu").parse::<f64>().unwrap_or(0.0).max(10.0);
    let mem_req = obj
        .field("x.mem")
        .parse::<f64>()
        .unwrap_or(0.0)
        .max(32.0 * 1048576.0);
    let d = daily(t_unix);
    let burst = if unit(splitmix(h ^ 0xb0 ^ ((t_unix / 300.0) as u64))) < 0.04 {
        1.8
    } else {
        1.0
    };
    let cpu = cpu_req * (0.15 + 0.45 * d + 0.3 * smooth_noise(h, t_unix, 60.0)).max(0.02) * burst;
    let mem = if obj.field("x.leak") == "true" {
        mem_req * (0.3 + 1.2 * (age % LEAK_CYCLE_SECS) / LEAK_CYCLE_SECS)
    } else {
        mem_req * (0.45 + 0.15 * d + 0.1 * smooth_noise(h ^ 0x3e, t_unix, 120.0)).max(0.05)
    };
    (cpu, mem)
}

fn quantities(cpu_millis: f64, mem_bytes: f64) -> Value {
    json!({"cpu": format!("{}n", (cpu_millis * 1_000_000.0) as u64), "memory": format!("{}Ki", (mem_bytes / 1024.0) as u64)})
}

fn running(obj: &Obj) -> bool {
    obj.field("status.phase") == "Running" && !obj.deleting
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

/// Usage of every Ready node: system overhead plus its running pods.
pub fn node_usage(sh: &Shared, store: &Store) -> Vec<(Arc<Obj>, f64, f64)> {
    let t = sh.clock.unix();
    let speed = sh.clock.speed();
    let mut per_node: HashMap<Box<str>, (f64, f64)> = HashMap::new();
    for pod in store.all(id::PODS).iter().filter(|p| running(p)) {
        let (c, m) = pod_usage(sh.seed, pod, t, pod_age(pod, speed));
        let e = per_node
            .entry(pod.field("spec.nodeName").into())
            .or_default();
        e.0 += c;
        e.1 += m;
    }
    store
        .all(id::NODES)
        .into_iter()
        .filter(|n| n.field("x.ready") == "true")
        .map(|n| {
            let h = hash_str(sh.seed, &n.name);
            let (c, m) = per_node.get(&n.name).copied().unwrap_or_default();
            let sys_cpu = 80.0 + 40.0 * (smooth_noise(h, t, 90.0) + 0.5);
            let sys_mem = 700.0 * 1048576.0 * (1.0 + 0.1 * smooth_noise(h ^ 1, t, 300.0));
            (n, c + sys_cpu, m + sys_mem)
        })
        .collect()
}

fn pod_doc(sh: &Shared, pod: &Obj, now: &str) -> Value {
    let v = pod.value();
    let (cpu, mem) = pod_usage(
        sh.seed,
        pod,
        sh.clock.unix(),
        pod_age(pod, sh.clock.speed()),
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
                .and_then(crate::util::cpu_millis)
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
    sh: &Shared,
    store: &Arc<Store>,
    res: usize,
    namespace: Option<&str>,
    name: Option<&str>,
    query: &Query,
) -> Result<Response, ApiError> {
    let r = resources::get(res);
    let labels =
        LabelSelector::parse(query.get("labelSelector").map(String::as_str).unwrap_or(""))?;
    let now = timestamp();
    let items: Vec<Value> = if res == id::NODE_METRICS {
        node_usage(sh, store)
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
            .map(|p| pod_doc(sh, p, &now))
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
