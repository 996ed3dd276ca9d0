//! Inside each workload cluster: nodes become Ready, Deployments get pods, the scheduler places
//! them by requests vs. allocatable, pods start, PodDisruptionBudgets are kept, nodes drain.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Value, json};

use crate::clock::timestamp;
use crate::noise::{hash_str, random_suffix, splitmix};
use crate::resources::id;
use crate::selector::LabelSelector;
use crate::shared::Shared;
use crate::sim::metrics::{LEAK_CYCLE_SECS, pod_age};
use crate::sim::objects::{self, EventLog};
use crate::sim::rollout;
use crate::sim::timing;
use crate::store::{Obj, Store};

/// A node labelled with this (`"true"`) has a kubelet that stopped posting status: its Ready
/// condition turns Unknown until the label goes (then it becomes Ready again, as a node that joins).
pub const KUBELET_STOPPED_LABEL: &str = "kubesim.portolan.dev/kubelet-stopped";
/// A pod labelled with this (`"true"`) crashes on start: its first container goes CrashLoopBackOff.
pub const CRASH_LOOP_LABEL: &str = "kubesim.portolan.dev/crash-loop";

fn labelled(o: &Obj, key: &str) -> bool {
    o.labels.iter().any(|(k, v)| &**k == key && &**v == "true")
}

/// Per workload cluster simulation memory.
#[derive(Default)]
pub struct WorkloadRt {
    pub events: EventLog,
    /// When a node was created / a pod was bound (simulated seconds).
    since: HashMap<String, f64>,
    seq: u64,
    /// Mixed into generated names so that clusters do not share pod names.
    pub seed: u64,
    last_rv: u64,
    busy: bool,
    last_full: f64,
}

/// `(namespace, name)` of an owner.
type Key = (Box<str>, Box<str>);

fn terminal(p: &Obj) -> bool {
    matches!(p.field("status.phase"), "Succeeded" | "Failed")
}

fn num(o: &Obj, key: &str) -> i64 {
    o.field(key).parse().unwrap_or(0)
}

/// Runs the controllers once; cheap when nothing changed since the last run.
pub fn tick(shared: &Shared, rt: &mut WorkloadRt, store: &Store, now: f64) {
    let rv = store.current_rv();
    if rv == rt.last_rv && !rt.busy && now - rt.last_full < 10.0 {
        return;
    }
    rt.last_full = now;
    let mut busy = false;
    stopped_kubelets(rt, store);
    busy |= nodes_ready(rt, store, now);
    daemon_sets(shared, rt, store);
    busy |= rollout::deployments(store);
    busy |= replica_sets(rt, store);
    busy |= schedule(rt, store);
    busy |= start_pods(shared, rt, store, now);
    busy |= stop_pods(rt, store, now);
    store.finish_foreground_deletions();
    leak_restarts(shared, store);
    crash_loops(store);
    replica_set_status(store);
    rollout::deployment_status(store);
    daemon_set_status(store);
    pdb_status(store);
    rt.busy = busy;
    rt.last_rv = store.current_rv();
}

fn nodes_ready(rt: &mut WorkloadRt, store: &Store, now: f64) -> bool {
    let mut waiting = false;
    for n in store.all(id::NODES) {
        if n.field("x.ready") == "true" || labelled(&n, KUBELET_STOPPED_LABEL) {
            continue;
        }
        let since = *rt.since.entry(format!("node/{}", n.name)).or_insert(now);
        if now - since < timing::NODE_READY {
            waiting = true;
            continue;
        }
        let ts = timestamp();
        if let Some(obj) = store.modify(id::NODES, "", &n.name, |v| {
            for c in v["status"]["conditions"].as_array_mut().into_iter().flatten() {
                if c["type"] == "Ready" {
                    *c = json!({"type": "Ready", "status": "True", "reason": "KubeletReady",
                        "message": "kubelet is posting ready status", "lastHeartbeatTime": ts, "lastTransitionTime": ts});
                }
            }
        }) {
            rt.since.remove(&format!("node/{}", n.name));
            rt.events.record(store, &obj.value(), false, "NodeReady", &format!("Node {} status is now: NodeReady", n.name), "kubelet");
        }
    }
    waiting
}

/// Nodes whose kubelet stopped: Ready turns Unknown, as the node lifecycle controller marks them.
fn stopped_kubelets(rt: &mut WorkloadRt, store: &Store) {
    for n in store.all(id::NODES) {
        if !labelled(&n, KUBELET_STOPPED_LABEL) || n.field("x.ready") != "true" {
            continue;
        }
        let ts = timestamp();
        if let Some(obj) = store.modify(id::NODES, "", &n.name, |v| {
            for c in v["status"]["conditions"].as_array_mut().into_iter().flatten() {
                if c["type"] == "Ready" {
                    *c = json!({"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown",
                        "message": "Kubelet stopped posting node status.", "lastHeartbeatTime": c["lastHeartbeatTime"], "lastTransitionTime": ts});
                }
            }
        }) {
            rt.events.record(store, &obj.value(), true, "NodeNotReady", &format!("Node {} status is now: NodeNotReady", n.name), "node-controller");
        }
    }
}

/// Pods labelled to crash: the first container waits in CrashLoopBackOff after a failed start.
fn crash_loops(store: &Store) {
    for p in store.all(id::PODS) {
        if !labelled(&p, CRASH_LOOP_LABEL) || p.field("status.phase") != "Running" {
            continue;
        }
        let v = p.value();
        let first = &v["status"]["containerStatuses"][0];
        if first["state"]["waiting"]["reason"] == "CrashLoopBackOff" {
            continue;
        }
        let ts = timestamp();
        let restarts = first["restartCount"].as_i64().unwrap_or(0) + 1;
        store.modify(id::PODS, &p.namespace, &p.name, |v| {
            if let Some(c) = v["status"]["containerStatuses"].get_mut(0) {
                c["restartCount"] = json!(restarts);
                c["ready"] = json!(false);
                c["started"] = json!(false);
                c["state"] = json!({"waiting": {"reason": "CrashLoopBackOff",
                    "message": format!("back-off 10s restarting failed container={} pod={}", c["name"].as_str().unwrap_or(""), p.name)}});
                c["lastState"] = json!({"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ts}});
            }
            for c in v["status"]["conditions"].as_array_mut().into_iter().flatten() {
                if c["type"] == "Ready" || c["type"] == "ContainersReady" {
                    c["status"] = json!("False");
                    c["reason"] = json!("ContainersNotReady");
                }
            }
        });
    }
}

/// kube-proxy on every node (a DaemonSet, made simple).
/// The DaemonSet controller: one pod of each DaemonSet on every node it selects and tolerates;
/// pods of a vanished DaemonSet go.
fn daemon_sets(shared: &Shared, rt: &mut WorkloadRt, store: &Store) {
    let sets = store.all(id::DAEMON_SETS);
    let live: HashSet<(&str, &str)> = sets.iter().map(|d| (&*d.namespace, &*d.name)).collect();
    let mut placed: HashSet<(Box<str>, Box<str>, Box<str>)> = HashSet::new();
    for p in store.all(id::PODS) {
        if p.field("x.ownerKind") != "DaemonSet" {
            continue;
        }
        if !live.contains(&(&*p.namespace, p.field("x.owner"))) {
            store.force_remove(id::PODS, &p.namespace, &p.name);
            continue;
        }
        placed.insert((
            p.namespace.clone(),
            p.field("x.owner").into(),
            p.field("spec.nodeName").into(),
        ));
    }
    let nodes = store.all(id::NODES);
    for ds in sets.iter().filter(|ds| !ds.deleting) {
        let v = ds.value();
        let template = &v["spec"]["template"];
        let eligible: Vec<&Arc<Obj>> = nodes.iter().filter(|n| runs_on(template, n)).collect();
        for n in &eligible {
            if placed.contains(&(ds.namespace.clone(), ds.name.clone(), n.name.clone())) {
                continue;
            }
            let name = format!(
                "{}-{}",
                ds.name,
                random_suffix(hash_str(shared.seed, &format!("{}/{}", ds.name, n.name)), 5)
            );
            let pod = objects::pod(
                &name,
                &ds.namespace,
                template,
                "DaemonSet",
                &ds.name,
                &v["metadata"]["uid"],
                Some(&n.name),
            );
            let _ = store.create(id::PODS, pod);
            rt.seq += 1;
        }
    }
}

/// Whether a DaemonSet's pod `template` belongs on `node`: it selects and tolerates it.
fn runs_on(template: &Value, node: &Obj) -> bool {
    let node = node.value();
    tolerates(template, &node["spec"]["taints"])
        && selector_ok(template, &node["metadata"]["labels"])
}

/// The pods `owner` (a `kind`) controls that are not being deleted, and how many of them run.
fn owned_pods<'a>(pods: &'a [Arc<Obj>], owner: &Obj, kind: &str) -> (Vec<&'a Arc<Obj>>, usize) {
    let mine: Vec<&Arc<Obj>> = pods
        .iter()
        .filter(|p| {
            p.namespace == owner.namespace
                && p.field("x.ownerKind") == kind
                && p.field("x.owner") == &*owner.name
                && !p.deleting
        })
        .collect();
    let running = mine
        .iter()
        .filter(|p| p.field("status.phase") == "Running")
        .count();
    (mine, running)
}

/// DaemonSet status: how many nodes want a pod, have one, and have a running one.
fn daemon_set_status(store: &Store) {
    let pods = store.all(id::PODS);
    let nodes = store.all(id::NODES);
    for ds in store.all(id::DAEMON_SETS) {
        let v = ds.value();
        let template = &v["spec"]["template"];
        let desired = nodes.iter().filter(|n| runs_on(template, n)).count();
        let (mine, ready) = owned_pods(&pods, &ds, "DaemonSet");
        let status = json!({"observedGeneration": v["metadata"]["generation"], "desiredNumberScheduled": desired,
            "currentNumberScheduled": mine.len(), "numberMisscheduled": 0, "numberReady": ready,
            "updatedNumberScheduled": mine.len(), "numberAvailable": ready});
        if v["status"] != status {
            store.modify(id::DAEMON_SETS, &ds.namespace, &ds.name, |v| {
                v["status"] = status
            });
        }
    }
}

/// The kubelet's side of a graceful delete: a Terminating pod's containers stop (within its grace
/// period) and the pod goes. True while some are still stopping.
fn stop_pods(rt: &mut WorkloadRt, store: &Store, now: f64) -> bool {
    let mut stopping = false;
    for p in store.all(id::PODS) {
        if !p.deleting {
            continue;
        }
        let v = p.value();
        if v["metadata"]["finalizers"]
            .as_array()
            .is_some_and(|f| !f.is_empty())
        {
            continue;
        }
        let key = format!("stop/{}/{}", p.namespace, p.name);
        let since = *rt.since.entry(key.clone()).or_insert(now);
        let grace = v["metadata"]["deletionGracePeriodSeconds"]
            .as_f64()
            .unwrap_or(0.0);
        if now - since >= grace.min(timing::POD_STOP) {
            store.force_remove(id::PODS, &p.namespace, &p.name);
            rt.since.remove(&key);
        } else {
            stopping = true;
        }
    }
    stopping
}

/// Brings each ReplicaSet's pod count to its replicas; removes pods of vanished owners or nodes.
fn replica_sets(rt: &mut WorkloadRt, store: &Store) -> bool {
    let pods = store.all(id::PODS);
    let nodes: HashSet<Box<str>> = store
        .all(id::NODES)
        .iter()
        .map(|n| n.name.clone())
        .collect();
    let sets = store.all(id::REPLICA_SETS);
    let mut owned: HashMap<Key, Vec<Arc<Obj>>> = HashMap::new();
    for p in &pods {
        let node = p.field("spec.nodeName");
        if !node.is_empty() && !nodes.contains(node) {
            // The node is gone: its pods go with it (the controller recreates them elsewhere).
            store.force_remove(id::PODS, &p.namespace, &p.name);
            continue;
        }
        if p.field("x.ownerKind") == "ReplicaSet" && !p.deleting && !terminal(p) {
            owned
                .entry((p.namespace.clone(), p.field("x.owner").into()))
                .or_default()
                .push(p.clone());
        }
    }
    let mut changed = false;
    let live: HashSet<(Box<str>, Box<str>)> = sets
        .iter()
        .map(|d| (d.namespace.clone(), d.name.clone()))
        .collect();
    for (key, list) in &owned {
        if !live.contains(key) {
            for p in list {
                store.force_remove(id::PODS, &p.namespace, &p.name);
            }
        }
    }
    for d in &sets {
        // A ReplicaSet being deleted makes no more pods (Foreground waits for the last to go).
        if d.deleting {
            continue;
        }
        let v = d.value();
        let want = v["spec"]["replicas"].as_i64().unwrap_or(1).max(0) as usize;
        let mut have = owned
            .get(&(d.namespace.clone(), d.name.clone()))
            .cloned()
            .unwrap_or_default();
        if have.len() < want {
            // The template carries the Deployment's pod-template-hash label already.
            let template = &v["spec"]["template"];
            for _ in have.len()..want.min(have.len() + 200) {
                rt.seq += 1;
                let name = format!(
                    "{}-{}",
                    d.name,
                    random_suffix(hash_str(rt.seed, &d.name) ^ rt.seq, 5)
                );
                let pod = objects::pod(
                    &name,
                    &d.namespace,
                    template,
                    "ReplicaSet",
                    &d.name,
                    &v["metadata"]["uid"],
                    None,
                );
                let _ = store.create(id::PODS, pod);
            }
            changed = true;
        } else if have.len() > want {
            // Unscheduled pods go first, then the newest.
            have.sort_by_key(|p| {
                (
                    !p.field("spec.nodeName").is_empty(),
                    std::cmp::Reverse(p.rv),
                )
            });
            for p in have.iter().take(have.len() - want) {
                store.force_remove(id::PODS, &p.namespace, &p.name);
            }
            changed = true;
        }
    }
    changed
}

fn tolerates(pod: &Value, taints: &Value) -> bool {
    let tolerations = pod["spec"]["tolerations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    taints
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["effect"] != "PreferNoSchedule")
        .all(|t| {
            tolerations.iter().any(|tol| {
                let key_ok =
                    tol["key"].is_null() && tol["operator"] == "Exists" || tol["key"] == t["key"];
                let value_ok = tol["operator"] == "Exists" || tol["value"] == t["value"];
                let effect_ok = tol["effect"].is_null() || tol["effect"] == t["effect"];
                key_ok && value_ok && effect_ok
            })
        })
}

fn selector_ok(pod: &Value, labels: &Value) -> bool {
    pod["spec"]["nodeSelector"]
        .as_object()
        .is_none_or(|sel| sel.iter().all(|(k, v)| &labels[k] == v))
}

struct Slot {
    name: Box<str>,
    cpu: i64,
    mem: i64,
    taints: Value,
    labels: Value,
}

/// The scheduler: places pending pods on the Ready, schedulable node with the most free CPU.
fn schedule(rt: &mut WorkloadRt, store: &Store) -> bool {
    let pods = store.all(id::PODS);
    let pending: Vec<&Arc<Obj>> = pods
        .iter()
        .filter(|p| p.field("spec.nodeName").is_empty() && !p.deleting && !terminal(p))
        .collect();
    if pending.is_empty() {
        return false;
    }
    let mut used: HashMap<&str, (i64, i64)> = HashMap::new();
    for p in pods.iter().filter(|p| !terminal(p)) {
        let e = used.entry(p.field("spec.nodeName")).or_default();
        e.0 += num(p, "x.cpu");
        e.1 += num(p, "x.mem");
    }
    let nodes = store.all(id::NODES);
    let mut slots: Vec<Slot> = nodes
        .iter()
        .filter(|n| n.field("x.ready") == "true" && n.field("spec.unschedulable") != "true")
        .map(|n| {
            let v = n.value();
            let (c, m) = used.get(&*n.name).copied().unwrap_or_default();
            Slot {
                name: n.name.clone(),
                cpu: num(n, "x.cpu") - c,
                mem: num(n, "x.mem") - m,
                taints: v["spec"]["taints"].clone(),
                labels: v["metadata"]["labels"].clone(),
            }
        })
        .collect();
    let total_nodes = nodes.len();
    for p in pending.into_iter().take(2000) {
        let v = p.value();
        let (cpu, mem) = (num(p, "x.cpu"), num(p, "x.mem"));
        let best = slots
            .iter_mut()
            .filter(|s| {
                s.cpu >= cpu
                    && s.mem >= mem
                    && tolerates(&v, &s.taints)
                    && selector_ok(&v, &s.labels)
            })
            .max_by_key(|s| (s.cpu, s.mem));
        match best {
            Some(slot) => {
                slot.cpu -= cpu;
                slot.mem -= mem;
                let node = slot.name.clone();
                let ts = timestamp();
                if let Some(obj) = store.modify(id::PODS, &p.namespace, &p.name, |v| {
                    v["spec"]["nodeName"] = json!(&*node);
                    v["status"]["conditions"] = json!([{"type": "PodScheduled", "status": "True", "lastTransitionTime": ts}]);
                }) {
                    rt.events.record(store, &obj.value(), false, "Scheduled", &format!("Successfully assigned {}/{} to {node}", p.namespace, p.name), "default-scheduler");
                }
            }
            None => {
                if p.field("x.unschedulable") == "true" {
                    continue;
                }
                let message = if total_nodes == 0 {
                    "no nodes available to schedule pods".to_string()
                } else {
                    format!(
                        "0/{total_nodes} nodes are available: {total_nodes} Insufficient cpu or memory, or untolerated taints. preemption: 0/{total_nodes} nodes are available."
                    )
                };
                let ts = timestamp();
                if let Some(obj) = store.modify(id::PODS, &p.namespace, &p.name, |v| {
                    v["status"]["conditions"] = json!([{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message, "lastTransitionTime": ts}]);
                }) {
                    rt.events.record(store, &obj.value(), true, "FailedScheduling", &message, "default-scheduler");
                }
            }
        }
    }
    // Unschedulable pods wait for capacity: not "busy" (the next change wakes the controllers).
    false
}

/// 64 hex digits derived from `h` (image digests, container ids).
fn digest(h: u64) -> String {
    let (a, b, c) = (splitmix(h), splitmix(h ^ 1), splitmix(h ^ 2));
    format!("{h:016x}{a:016x}{b:016x}{c:016x}")
}

/// Bound pods start a few simulated seconds later.
fn start_pods(shared: &Shared, rt: &mut WorkloadRt, store: &Store, now: f64) -> bool {
    let mut waiting = false;
    for p in store.all(id::PODS) {
        if p.field("status.phase") != "Pending" || p.field("spec.nodeName").is_empty() || p.deleting
        {
            continue;
        }
        let key = format!("pod/{}/{}", p.namespace, p.name);
        let since = *rt.since.entry(key.clone()).or_insert(now);
        if now - since < timing::POD_START {
            waiting = true;
            continue;
        }
        rt.since.remove(&key);
        let ts = timestamp();
        let node = p.field("spec.nodeName").to_string();
        let host_ip = objects::node_ip(shared.seed, &node);
        let h = hash_str(shared.seed, &key);
        let pod_ip = format!("10.244.{}.{}", (h >> 8) % 250, h % 250 + 2);
        store.modify(id::PODS, &p.namespace, &p.name, |v| {
            let statuses: Vec<Value> = v["spec"]["containers"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| json!({"name": c["name"], "image": c["image"], "imageID": format!("{}@sha256:{}", c["image"].as_str().unwrap_or(""), digest(h)),
                    "containerID": format!("containerd://{}", digest(h.rotate_left(7))), "ready": true, "started": true, "restartCount": 0,
                    "state": {"running": {"startedAt": ts}}}))
                .collect();
            let c = |t: &str| json!({"type": t, "status": "True", "lastTransitionTime": ts});
            v["status"] = json!({"phase": "Running", "qosClass": "Burstable", "startTime": ts, "hostIP": host_ip, "podIP": pod_ip,
                "podIPs": [{"ip": pod_ip}], "conditions": [c("Initialized"), c("Ready"), c("ContainersReady"), c("PodScheduled")],
                "containerStatuses": statuses});
        });
    }
    waiting
}

/// The leaking pod is OOM-killed each time its memory reaches the limit.
fn leak_restarts(shared: &Shared, store: &Store) {
    for p in store.all(id::PODS) {
        if p.field("x.leak") != "true" || p.field("status.phase") != "Running" {
            continue;
        }
        let restarts = (pod_age(&p, shared.clock.speed()) / LEAK_CYCLE_SECS).floor() as i64;
        let v = p.value();
        if v["status"]["containerStatuses"][0]["restartCount"]
            .as_i64()
            .unwrap_or(0)
            >= restarts
        {
            continue;
        }
        let ts = timestamp();
        store.modify(id::PODS, &p.namespace, &p.name, |v| {
            if let Some(c) = v["status"]["containerStatuses"].get_mut(0) {
                c["restartCount"] = json!(restarts);
                c["lastState"] = json!({"terminated": {"exitCode": 137, "reason": "OOMKilled", "finishedAt": ts}});
            }
        });
    }
}

/// ReplicaSet status: its pods, and how many of them run.
fn replica_set_status(store: &Store) {
    let pods = store.all(id::PODS);
    for rs in store.all(id::REPLICA_SETS) {
        let (mine, ready) = owned_pods(&pods, &rs, "ReplicaSet");
        let v = rs.value();
        let mut status = json!({"replicas": mine.len(), "fullyLabeledReplicas": mine.len(),
            "observedGeneration": v["metadata"]["generation"]});
        if ready > 0 {
            status["readyReplicas"] = json!(ready);
            status["availableReplicas"] = json!(ready);
        }
        if v["status"] != status {
            store.modify(id::REPLICA_SETS, &rs.namespace, &rs.name, |v| {
                v["status"] = status;
            });
        }
    }
}

/// How many pods `spec` wants healthy out of `expected` (ints and percentages).
fn desired_healthy(spec: &Value, expected: i64) -> i64 {
    let amount = |v: &Value| -> Option<i64> {
        match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s
                .strip_suffix('%')
                .and_then(|p| p.parse::<i64>().ok())
                .map(|p| (p * expected + 99) / 100),
            _ => None,
        }
    };
    if let Some(min) = amount(&spec["minAvailable"]) {
        min
    } else if let Some(max) = amount(&spec["maxUnavailable"]) {
        (expected - max).max(0)
    } else {
        expected
    }
}

/// (currentHealthy, desiredHealthy, expected) for a PDB now.
fn pdb_counts(pdb: &Value, pods: &[Arc<Obj>], ns: &str) -> (i64, i64, i64) {
    let sel = LabelSelector::from_json(&pdb["spec"]["selector"]);
    let matching: Vec<&Arc<Obj>> = pods
        .iter()
        .filter(|p| {
            &*p.namespace == ns
                && !p.deleting
                && !terminal(p)
                && (!sel.is_empty() && sel.matches(&p.labels))
        })
        .collect();
    let expected = matching.len() as i64;
    let healthy = matching
        .iter()
        .filter(|p| p.field("status.phase") == "Running")
        .count() as i64;
    (healthy, desired_healthy(&pdb["spec"], expected), expected)
}

fn pdb_status(store: &Store) {
    let pods = store.all(id::PODS);
    for pdb in store.all(id::PDBS) {
        let v = pdb.value();
        let (healthy, desired, expected) = pdb_counts(&v, &pods, &pdb.namespace);
        let allowed = (healthy - desired).max(0);
        let old = v["status"]["conditions"].clone();
        let generation = v["metadata"]["generation"].clone();
        store.modify(id::PDBS, &pdb.namespace, &pdb.name, |v| {
            let cond = if allowed > 0 {
                json!({"type": "DisruptionAllowed", "status": "True", "reason": "SufficientPods", "message": ""})
            } else {
                json!({"type": "DisruptionAllowed", "status": "False", "reason": "InsufficientPods", "message": ""})
            };
            v["status"] = json!({"observedGeneration": generation, "currentHealthy": healthy, "desiredHealthy": desired,
                "expectedPods": expected, "disruptionsAllowed": allowed, "conditions": objects::conditions(&old, vec![cond], &Value::Null)});
        });
    }
}

/// Why a pod may not be evicted now (what the eviction subresource answers).
#[derive(Debug, PartialEq)]
pub enum Refusal {
    /// Its PodDisruptionBudget has no disruption left: 429, and clients retry.
    Budget { pdb: String, needs: i64, has: i64 },
    /// More than one budget selects it, which Kubernetes refuses to arbitrate.
    ManyBudgets,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Budget { pdb, needs, has } => write!(
                f,
                "cannot evict pod as it would violate the pod's disruption budget {pdb} \
                 (it needs {needs} healthy pods and has {has})"
            ),
            Refusal::ManyBudgets => f.write_str(
                "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
            ),
        }
    }
}

/// Whether `pod` may be evicted now. As in Kubernetes, a pod that is not running (pending,
/// finished, already terminating) may always go; a running one only while every budget that
/// selects it keeps its desired healthy count after it leaves.
pub fn eviction_refusal(store: &Store, pod: &Obj) -> Option<Refusal> {
    if pod.deleting || pod.field("status.phase") != "Running" {
        return None;
    }
    let budgets: Vec<Value> = store
        .all(id::PDBS)
        .iter()
        .filter(|pdb| pdb.namespace == pod.namespace)
        .map(|pdb| pdb.value())
        .filter(|v| {
            let sel = LabelSelector::from_json(&v["spec"]["selector"]);
            !sel.is_empty() && sel.matches(&pod.labels)
        })
        .collect();
    match budgets.as_slice() {
        [] => None,
        [pdb] => {
            let pods = store.all(id::PODS);
            let (has, needs, _) = pdb_counts(pdb, &pods, &pod.namespace);
            (has - needs <= 0).then(|| Refusal::Budget {
                pdb: pdb["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                needs,
                has,
            })
        }
        _ => Some(Refusal::ManyBudgets),
    }
}

/// Progress of draining one node.
#[derive(Debug, PartialEq)]
pub enum Drain {
    Done,
    InProgress,
    Blocked(String),
}

/// Cordons `node` and evicts its pods, respecting PodDisruptionBudgets.
pub fn drain(rt: &mut WorkloadRt, store: &Store, node: &str) -> Drain {
    let Some(n) = store.get(id::NODES, "", node) else {
        return Drain::Done;
    };
    if n.field("spec.unschedulable") != "true"
        && let Some(obj) = store.modify(id::NODES, "", node, |v| {
            v["spec"]["unschedulable"] = json!(true);
            let taint = json!({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule", "timeAdded": timestamp()});
            match v["spec"]["taints"].as_array_mut() {
                Some(t) => t.push(taint),
                None => v["spec"]["taints"] = json!([taint]),
            }
        }) {
            rt.events.record(store, &obj.value(), false, "NodeNotSchedulable", &format!("Node {node} status is now: NodeNotSchedulable"), "kubelet");
    }
    let victims: Vec<Arc<Obj>> = store
        .all(id::PODS)
        .into_iter()
        .filter(|p| {
            p.field("spec.nodeName") == node
                && p.field("x.ownerKind") != "DaemonSet"
                && !p.deleting
                && !terminal(p)
        })
        .collect();
    if victims.is_empty() {
        return Drain::Done;
    }
    let mut blocked = Vec::new();
    for pod in victims {
        match eviction_refusal(store, &pod) {
            Some(refusal) => blocked.push(format!("Pod {}/{}: {refusal}", pod.namespace, pod.name)),
            None => {
                if let Some(obj) = store.force_remove(id::PODS, &pod.namespace, &pod.name) {
                    rt.events.record(
                        store,
                        &obj.value(),
                        false,
                        "Evicted",
                        &format!("Evicted pod {} while draining node {node}", pod.name),
                        "kubesim-drain",
                    );
                }
            }
        }
    }
    if blocked.is_empty() {
        Drain::InProgress
    } else {
        Drain::Blocked(blocked.join("; "))
    }
}

/// Pods waiting for capacity (what the autoscaler reacts to).
pub fn unschedulable_pods(store: &Store) -> usize {
    store
        .all(id::PODS)
        .iter()
        .filter(|p| p.field("x.unschedulable") == "true" && p.field("spec.nodeName").is_empty())
        .count()
}

/// Nodes that run nothing but daemon pods.
pub fn idle_nodes(store: &Store) -> HashSet<String> {
    let mut busy: HashSet<&str> = HashSet::new();
    let pods = store.all(id::PODS);
    for p in &pods {
        if p.field("x.ownerKind") != "DaemonSet" && !terminal(p) {
            busy.insert(p.field("spec.nodeName"));
        }
    }
    store
        .all(id::NODES)
        .iter()
        .filter(|n| n.field("x.ready") == "true" && !busy.contains(&*n.name))
        .map(|n| n.name.to_string())
        .collect()
}
