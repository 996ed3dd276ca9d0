//! What Cluster API and the cloud do on the management cluster: provision clusters, keep
//! MachineDeployments and Machines in line with the topology, upgrade, autoscale and delete.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Value, json};

use crate::catalog::{AUTOSCALER_MAX, AUTOSCALER_MIN, DEFER_UPGRADE};
use crate::kubeconfig;
use crate::noise::{hash_str, random_suffix};
use crate::resources::id;
use crate::shared::Shared;
use crate::sim::apps;
use crate::sim::objects::{self, EventLog, NodeSpec, cond, pool_shape};
use crate::sim::timing;
use crate::sim::workload::{self, Drain, WorkloadRt};
use crate::store::{Obj, Store};

mod deletion;
mod machines;
mod pools;
mod status;

use deletion::*;
use machines::*;
use pools::*;
use status::*;

pub const CLUSTER_FINALIZER: &str = "cluster.cluster.x-k8s.io";
pub const MACHINE_FINALIZER: &str = "machine.cluster.x-k8s.io";
pub const CLUSTER_LABEL: &str = "cluster.x-k8s.io/cluster-name";
pub const POOL_LABEL: &str = "topology.cluster.x-k8s.io/deployment-name";
const MD_LABEL: &str = "cluster.x-k8s.io/deployment-name";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Pending,
    Provisioning,
    Provisioned,
}

struct ClusterProgress {
    stage: Stage,
    since: f64,
    cp_version: String,
    cp_upgrade_since: Option<f64>,
    last_delete_step: f64,
}

/// Everything the simulation remembers between ticks.
#[derive(Default)]
pub struct Runtime {
    clusters: HashMap<String, ClusterProgress>,
    pub workloads: HashMap<String, WorkloadRt>,
    events: EventLog,
    /// Keyed timers (simulated seconds): machine phases, quota back-off, autoscaler.
    timers: HashMap<String, f64>,
    seq: u64,
}

impl Runtime {
    fn elapsed(&mut self, key: &str, now: f64) -> f64 {
        now - *self.timers.entry(key.to_string()).or_insert(now)
    }

    fn clear(&mut self, key: &str) {
        self.timers.remove(key);
    }
}

/// One step of the whole simulation.
pub fn tick(shared: &Shared, rt: &mut Runtime, now: f64) {
    let mgmt = shared.mgmt.clone();
    let machines = mgmt.all(id::MACHINES);
    let mut live = HashSet::new();
    for c in mgmt.all(id::CLUSTERS) {
        let v = c.value();
        let uid = v["metadata"]["uid"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        live.insert(uid.clone());
        reconcile(shared, rt, &mgmt, &c, &v, &uid, &machines, now);
    }
    rt.clusters.retain(|uid, _| live.contains(uid));
    mgmt.finish_foreground_deletions();
    // Machines of clusters that no longer exist are garbage.
    let names: HashSet<(Box<str>, Box<str>)> = mgmt
        .all(id::CLUSTERS)
        .iter()
        .map(|c| (c.namespace.clone(), c.name.clone()))
        .collect();
    for m in &machines {
        if !names.contains(&(m.namespace.clone(), m.field("x.cluster").into())) {
            mgmt.force_remove(id::MACHINES, &m.namespace, &m.name);
        }
    }
    for key in shared.workload_keys() {
        let Some(w) = shared.workload(&key) else {
            continue;
        };
        let wrt = rt.workloads.entry(key.clone()).or_default();
        wrt.seed = hash_str(shared.seed, &key);
        workload::tick(shared, wrt, &w.store, now);
    }
}

fn has_finalizer(v: &Value, f: &str) -> bool {
    v["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|l| l.iter().any(|x| x == f))
}

fn remove_finalizer(v: &mut Value, f: &str) {
    if let Some(list) = v["metadata"]["finalizers"].as_array_mut() {
        list.retain(|x| x != f);
    }
}

#[allow(clippy::too_many_arguments)]
fn reconcile(
    shared: &Shared,
    rt: &mut Runtime,
    mgmt: &Store,
    c: &Obj,
    v: &Value,
    uid: &str,
    machines: &[Arc<Obj>],
    now: f64,
) {
    let (ns, name) = (c.namespace.to_string(), c.name.to_string());
    let key = Shared::key(&ns, &name);
    let topology = &v["spec"]["topology"];
    let version = topology["version"].as_str().unwrap_or_default().to_string();
    let progress = rt
        .clusters
        .entry(uid.to_string())
        .or_insert_with(|| ClusterProgress {
            stage: Stage::Pending,
            since: now,
            cp_version: String::new(),
            cp_upgrade_since: None,
            last_delete_step: now,
        });
    if c.deleting {
        delete(shared, rt, mgmt, c, v, uid, machines, now);
        return;
    }
    if !has_finalizer(v, CLUSTER_FINALIZER) {
        mgmt.modify(
            id::CLUSTERS,
            &ns,
            &name,
            |v| match v["metadata"]["finalizers"].as_array_mut() {
                Some(list) => list.push(json!(CLUSTER_FINALIZER)),
                None => v["metadata"]["finalizers"] = json!([CLUSTER_FINALIZER]),
            },
        );
        rt.events.record(
            mgmt,
            v,
            false,
            "Pending",
            "Cluster accepted; waiting for infrastructure",
            "kubesim-capi",
        );
        return;
    }
    if v["spec"]["paused"] == true {
        write_status(
            mgmt,
            c,
            v,
            Some(progress_phase(progress)),
            vec![cond("Paused", true, "Paused", "Reconciliation is paused")],
            None,
            None,
        );
        return;
    }
    if !topology.is_object() {
        write_status(
            mgmt,
            c,
            v,
            Some("Pending"),
            vec![cond(
                "TopologyReconciled",
                false,
                "NoTopology",
                "kubesim provisions only clusters with spec.topology",
            )],
            None,
            None,
        );
        return;
    }
    advance_control_plane(shared, &mut rt.events, progress, mgmt, v, &version, now);
    let stage = progress.stage;
    let cp_version = progress.cp_version.clone();
    let cp_upgrading = progress.cp_upgrade_since.is_some();
    let pools = if stage == Stage::Provisioned {
        let here = Here {
            ns: &ns,
            name: &name,
            key: &key,
        };
        let pools = reconcile_pools(shared, rt, mgmt, v, here, &cp_version, machines, now);
        remove_dropped_pools(shared, rt, mgmt, here, topology, machines, now);
        pools
    } else {
        Vec::new()
    };
    let phase = match stage {
        Stage::Pending => "Pending",
        Stage::Provisioning => "Provisioning",
        Stage::Provisioned => "Provisioned",
    };
    let cp = ControlPlane {
        replicas: topology["controlPlane"]["replicas"].as_i64().unwrap_or(3),
        version: cp_version,
        target: version,
        upgrading: cp_upgrading,
        up: stage == Stage::Provisioned,
    };
    let conds = cluster_conditions(stage, &cp, &pools);
    write_status(mgmt, c, v, Some(phase), conds, Some(&cp), Some(&pools));
}

/// Every machine of the cluster runs a Ready node and every pool has the replicas it asks for.
fn settled(
    mgmt: &Store,
    machines: &[Arc<Obj>],
    ns: &str,
    name: &str,
    wstore: Option<&Store>,
) -> bool {
    let mine: Vec<&Arc<Obj>> = machines
        .iter()
        .filter(|m| *m.namespace == *ns && m.field("x.cluster") == name)
        .collect();
    let wanted: i64 = mgmt
        .all(id::MACHINE_DEPLOYMENTS)
        .iter()
        .filter(|md| *md.namespace == *ns && md.label(CLUSTER_LABEL) == Some(name))
        .map(|md| md.value()["spec"]["replicas"].as_i64().unwrap_or(0))
        .sum();
    let nodes_ready = wstore.is_some_and(|w| {
        w.all(id::NODES)
            .iter()
            .all(|n| n.field("x.ready") == "true")
    });
    nodes_ready
        && mine.len() as i64 == wanted
        && mine
            .iter()
            .all(|m| m.field("x.phase") == "Running" && !m.deleting)
}

fn progress_phase(progress: &ClusterProgress) -> &'static str {
    match progress.stage {
        Stage::Pending => "Pending",
        Stage::Provisioning => "Provisioning",
        Stage::Provisioned => "Provisioned",
    }
}

/// The control plane's next step: provisioned after a while, then upgraded when the topology's
/// version changes.
fn advance_control_plane(
    shared: &Shared,
    events: &mut EventLog,
    progress: &mut ClusterProgress,
    mgmt: &Store,
    v: &Value,
    version: &str,
    now: f64,
) {
    let (ns, name) = (
        v["metadata"]["namespace"].as_str().unwrap_or_default(),
        v["metadata"]["name"].as_str().unwrap_or_default(),
    );
    let key = Shared::key(ns, name);
    match progress.stage {
        Stage::Pending if now - progress.since >= timing::PENDING => {
            progress.stage = Stage::Provisioning;
            progress.since = now;
            events.record(
                mgmt,
                v,
                false,
                "Provisioning",
                "Infrastructure provisioned; creating the control plane",
                "kubesim-capi",
            );
        }
        Stage::Provisioning if now - progress.since >= timing::CONTROL_PLANE => {
            progress.stage = Stage::Provisioned;
            progress.since = now;
            progress.cp_version = version.to_string();
            let store = shared.ensure_workload(&key, version);
            shared.set_workload_version(&key, version);
            apps::seed(&store, v);
            write_kubeconfig_secret(shared, mgmt, v, ns, name);
            events.record(
                mgmt,
                v,
                false,
                "ControlPlaneReady",
                &format!("Control plane {version} is available"),
                "kubesim-capi",
            );
        }
        Stage::Provisioned if progress.cp_version != version => {
            let started = *progress.cp_upgrade_since.get_or_insert(now);
            if now - started >= timing::CONTROL_PLANE_UPGRADE {
                let from = std::mem::replace(&mut progress.cp_version, version.to_string());
                progress.cp_upgrade_since = None;
                shared.set_workload_version(&key, version);
                events.record(
                    mgmt,
                    v,
                    false,
                    "ControlPlaneUpgraded",
                    &format!("Control plane upgraded from {from} to {version}"),
                    "kubesim-capi",
                );
            } else if now - started < 0.001 {
                events.record(
                    mgmt,
                    v,
                    false,
                    "ControlPlaneUpgrading",
                    &format!(
                        "Upgrading the control plane from {} to {version}",
                        progress.cp_version
                    ),
                    "kubesim-capi",
                );
            }
        }
        _ => {}
    }
}

/// Which cluster a step works on.
#[derive(Clone, Copy)]
struct Here<'a> {
    ns: &'a str,
    name: &'a str,
    key: &'a str,
}

/// Every pool of the topology reconciled (autoscaling one pool per tick at most), with its status.
#[allow(clippy::too_many_arguments)]
fn reconcile_pools(
    shared: &Shared,
    rt: &mut Runtime,
    mgmt: &Store,
    v: &Value,
    here: Here<'_>,
    cp_version: &str,
    machines: &[Arc<Obj>],
    now: f64,
) -> Vec<PoolStatus> {
    let Here { ns, name, key } = here;
    let topology = &v["spec"]["topology"];
    let mut pools = Vec::new();
    let wstore = shared.workload(key).map(|w| w.store);
    let pending = wstore
        .as_deref()
        .map(workload::unschedulable_pods)
        .unwrap_or(0);
    let idle = wstore
        .as_deref()
        .map(workload::idle_nodes)
        .unwrap_or_default();
    // Like the real autoscaler, wait until nodes being added have joined before judging.
    let settled = settled(mgmt, machines, ns, name, wstore.as_deref());
    let mut autoscale_budget = settled
        && pending > 0
        && rt.elapsed(&format!("pending/{key}"), now) >= timing::SCALE_UP_AFTER;
    if pending == 0 || !settled {
        rt.clear(&format!("pending/{key}"));
    }
    let entries = topology["workers"]["machineDeployments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for md in &entries {
        let p = Pool {
            shared,
            mgmt,
            cluster: v,
            ns,
            name,
            key,
            md,
            cp_version,
            wstore: wstore.as_deref(),
            idle: &idle,
        };
        let (status, scaled_up) = p.reconcile(rt, machines, now, autoscale_budget);
        if scaled_up {
            autoscale_budget = false;
            rt.clear(&format!("pending/{key}"));
        }
        pools.push(status);
    }
    pools
}

/// Pools removed from the topology: their MachineDeployments and Machines go.
#[allow(clippy::too_many_arguments)]
fn remove_dropped_pools(
    shared: &Shared,
    rt: &mut Runtime,
    mgmt: &Store,
    here: Here<'_>,
    topology: &Value,
    machines: &[Arc<Obj>],
    now: f64,
) {
    let Here { ns, name, key } = here;
    let entries = topology["workers"]["machineDeployments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let wanted: HashSet<&str> = entries.iter().filter_map(|m| m["name"].as_str()).collect();
    for md in mgmt.all(id::MACHINE_DEPLOYMENTS) {
        if md.namespace.as_ref() == ns
            && md.label(CLUSTER_LABEL) == Some(name)
            && !md.label(POOL_LABEL).is_some_and(|p| wanted.contains(p))
        {
            let pool = md.label(POOL_LABEL).unwrap_or_default().to_string();
            let remaining: Vec<&Arc<Obj>> = machines
                .iter()
                .filter(|m| {
                    m.namespace.as_ref() == ns
                        && m.field("x.cluster") == name
                        && m.label(POOL_LABEL) == Some(&pool)
                })
                .collect();
            if remaining.is_empty() {
                mgmt.force_remove(id::MACHINE_DEPLOYMENTS, ns, &md.name);
            } else {
                for m in remaining.iter().filter(|m| !m.deleting) {
                    let _ = mgmt.delete(id::MACHINES, ns, &m.name);
                }
                retire_machines(shared, rt, mgmt, key, &remaining, now, true);
            }
        }
    }
}
