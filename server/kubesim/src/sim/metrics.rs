//! metrics.k8s.io: node and pod CPU/memory computed from the pods placed on each node, following a
//! daily pattern with noise, bursts and one memory leak, as metrics-server would report them.

use std::collections::HashMap;
use std::sync::Arc;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::noise::{hash_str, splitmix, unit};
use crate::resources::id;
use crate::shared::Shared;
use crate::store::{Obj, Store};

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

/// Whether a pod runs (and so uses anything).
pub fn running(obj: &Obj) -> bool {
    obj.field("status.phase") == "Running" && !obj.deleting
}

/// Usage of every Ready node: system overhead plus its running pods.
pub fn node_usage(shared: &Shared, store: &Store) -> Vec<(Arc<Obj>, f64, f64)> {
    let t = shared.clock.unix();
    let speed = shared.clock.speed();
    let mut per_node: HashMap<Box<str>, (f64, f64)> = HashMap::new();
    for pod in store.all(id::PODS).iter().filter(|p| running(p)) {
        let (c, m) = pod_usage(shared.seed, pod, t, pod_age(pod, speed));
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
            let h = hash_str(shared.seed, &n.name);
            let (c, m) = per_node.get(&n.name).copied().unwrap_or_default();
            let sys_cpu = 80.0 + 40.0 * (smooth_noise(h, t, 90.0) + 0.5);
            let sys_mem = 700.0 * 1048576.0 * (1.0 + 0.1 * smooth_noise(h ^ 1, t, 300.0));
            (n, c + sys_cpu, m + sys_mem)
        })
        .collect()
}
