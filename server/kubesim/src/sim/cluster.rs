//! What Cluster API and the cloud do on the management cluster: provision clusters, keep
//! MachineDeployments and Machines in line with the topology, upgrade, autoscale and delete.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Value, json};

use crate::catalog::{AUTOSCALER_MAX, AUTOSCALER_MIN, DEFER_UPGRADE};
use crate::kubeconfig;
use crate::resources::id;
use crate::shared::Shared;
use crate::sim::apps;
use crate::sim::objects::{self, EventLog, NodeSpec, cond, pool_shape};
use crate::sim::timing;
use crate::sim::workload::{self, Drain, WorkloadRt};
use crate::store::{Obj, Store};
use crate::util::{hash_str, random_suffix};

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

struct ClusterRt {
    stage: Stage,
    since: f64,
    cp_version: String,
    cp_upgrade_since: Option<f64>,
    last_delete_step: f64,
}

/// Everything the simulation remembers between ticks.
#[derive(Default)]
pub struct Runtime {
    clusters: HashMap<String, ClusterRt>,
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
pub fn tick(sh: &Shared, rt: &mut Runtime, now: f64) {
    let mgmt = sh.mgmt.clone();
    let machines = mgmt.all(id::MACHINES);
    let mut live = HashSet::new();
    for c in mgmt.all(id::CLUSTERS) {
        let v = c.value();
        let uid = v["metadata"]["uid"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        live.insert(uid.clone());
        reconcile(sh, rt, &mgmt, &c, &v, &uid, &machines, now);
    }
    rt.clusters.retain(|uid, _| live.contains(uid));
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
    for key in sh.workload_keys() {
        let Some(w) = sh.workload(&key) else { continue };
        let wrt = rt.workloads.entry(key.clone()).or_default();
        wrt.seed = hash_str(sh.seed, &key);
        workload::tick(sh, wrt, &w.store, now);
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
    sh: &Shared,
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
    let crt = rt
        .clusters
        .entry(uid.to_string())
        .or_insert_with(|| ClusterRt {
            stage: Stage::Pending,
            since: now,
            cp_version: String::new(),
            cp_upgrade_since: None,
            last_delete_step: now,
        });
    if c.deleting {
        delete(sh, rt, mgmt, c, v, uid, machines, now);
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
            Some(crt_phase(crt)),
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
    match crt.stage {
        Stage::Pending if now - crt.since >= timing::PENDING => {
            crt.stage = Stage::Provisioning;
            crt.since = now;
            rt.events.record(
                mgmt,
                v,
                false,
                "Provisioning",
                "Infrastructure provisioned; creating the control plane",
                "kubesim-capi",
            );
        }
        Stage::Provisioning if now - crt.since >= timing::CONTROL_PLANE => {
            crt.stage = Stage::Provisioned;
            crt.since = now;
            crt.cp_version = version.clone();
            let store = sh.ensure_workload(&key, &version);
            sh.set_workload_version(&key, &version);
            apps::seed(&store, v);
            write_kubeconfig_secret(sh, mgmt, v, &ns, &name);
            rt.events.record(
                mgmt,
                v,
                false,
                "ControlPlaneReady",
                &format!("Control plane {version} is available"),
                "kubesim-capi",
            );
        }
        Stage::Provisioned if crt.cp_version != version => {
            let started = *crt.cp_upgrade_since.get_or_insert(now);
            if now - started >= timing::CONTROL_PLANE_UPGRADE {
                let from = std::mem::replace(&mut crt.cp_version, version.clone());
                crt.cp_upgrade_since = None;
                sh.set_workload_version(&key, &version);
                rt.events.record(
                    mgmt,
                    v,
                    false,
                    "ControlPlaneUpgraded",
                    &format!("Control plane upgraded from {from} to {version}"),
                    "kubesim-capi",
                );
            } else if now - started < 0.001 {
                rt.events.record(
                    mgmt,
                    v,
                    false,
                    "ControlPlaneUpgrading",
                    &format!(
                        "Upgrading the control plane from {} to {version}",
                        crt.cp_version
                    ),
                    "kubesim-capi",
                );
            }
        }
        _ => {}
    }
    let stage = crt.stage;
    let cp_version = crt.cp_version.clone();
    let cp_upgrading = crt.cp_upgrade_since.is_some();
    let mut pools = Vec::new();
    if stage == Stage::Provisioned {
        let wstore = sh.workload(&key).map(|w| w.store);
        let pending = wstore
            .as_deref()
            .map(workload::unschedulable_pods)
            .unwrap_or(0);
        let idle = wstore
            .as_deref()
            .map(workload::idle_nodes)
            .unwrap_or_default();
        // Like the real autoscaler, wait until nodes being added have joined before judging.
        let settled = settled(mgmt, machines, &ns, &name, wstore.as_deref());
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
                sh,
                mgmt,
                cluster: v,
                ns: &ns,
                name: &name,
                key: &key,
                md,
                cp_version: &cp_version,
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
        // Pools removed from the topology: their MachineDeployments and Machines go.
        let wanted: HashSet<&str> = entries.iter().filter_map(|m| m["name"].as_str()).collect();
        for md in mgmt.all(id::MACHINE_DEPLOYMENTS) {
            if md.namespace.as_ref() == ns
                && md.label(CLUSTER_LABEL) == Some(&name)
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
                    mgmt.force_remove(id::MACHINE_DEPLOYMENTS, &ns, &md.name);
                } else {
                    for m in remaining.iter().filter(|m| !m.deleting) {
                        let _ = mgmt.delete(id::MACHINES, &ns, &m.name);
                    }
                    retire_machines(sh, rt, mgmt, &key, &remaining, now, true);
                }
            }
        }
    }
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

fn crt_phase(crt: &ClusterRt) -> &'static str {
    match crt.stage {
        Stage::Pending => "Pending",
        Stage::Provisioning => "Provisioning",
        Stage::Provisioned => "Provisioned",
    }
}

struct ControlPlane {
    replicas: i64,
    version: String,
    target: String,
    upgrading: bool,
    up: bool,
}

/// A pool's state after reconciling, for the Cluster's status.
#[derive(Default)]
struct PoolStatus {
    name: String,
    desired: i64,
    replicas: i64,
    ready: i64,
    up_to_date: i64,
    versions: BTreeMap<String, i64>,
    blocked: Option<String>,
    problem: Option<String>,
    deferred: bool,
}

fn cluster_conditions(stage: Stage, cp: &ControlPlane, pools: &[PoolStatus]) -> Vec<Value> {
    let up = stage == Stage::Provisioned;
    let desired: i64 = pools.iter().map(|p| p.desired).sum();
    let ready: i64 = pools.iter().map(|p| p.ready).sum();
    let replicas: i64 = pools.iter().map(|p| p.replicas).sum();
    let workers_ok = ready >= desired;
    let outdated: Vec<&PoolStatus> = pools
        .iter()
        .filter(|p| p.up_to_date < p.replicas && !p.deferred)
        .collect();
    let rolling = cp.upgrading || !outdated.is_empty() || (up && cp.version != cp.target);
    let mut rolling_msg = Vec::new();
    if cp.upgrading {
        rolling_msg.push(format!(
            "Control plane rolling out {} (from {})",
            cp.target, cp.version
        ));
    }
    for p in &outdated {
        rolling_msg.push(format!(
            "MachineDeployment {}: {} of {} replicas not up to date",
            p.name,
            p.replicas - p.up_to_date,
            p.replicas
        ));
    }
    for p in pools
        .iter()
        .filter_map(|p| p.blocked.as_ref().map(|b| (p, b)))
    {
        rolling_msg.push(format!(
            "MachineDeployment {}: drain blocked: {}",
            p.0.name, p.1
        ));
    }
    let problems: Vec<String> = pools
        .iter()
        .filter_map(|p| {
            p.problem
                .as_ref()
                .map(|m| format!("MachineDeployment {}: {m}", p.name))
        })
        .collect();
    vec![
        cond(
            "Available",
            up && workers_ok,
            if up && workers_ok {
                "Available"
            } else {
                "NotAvailable"
            },
            if up && workers_ok {
                String::new()
            } else if !up {
                "Control plane is not available yet".into()
            } else {
                format!("{ready} of {desired} worker replicas are ready")
            },
        ),
        cond(
            "InfrastructureReady",
            stage != Stage::Pending,
            if stage != Stage::Pending {
                "Ready"
            } else {
                "NotReady"
            },
            "",
        ),
        cond(
            "ControlPlaneInitialized",
            up,
            if up { "Initialized" } else { "NotInitialized" },
            "",
        ),
        cond(
            "ControlPlaneAvailable",
            up,
            if up { "Available" } else { "NotAvailable" },
            if up {
                String::new()
            } else {
                "Control plane is being created".into()
            },
        ),
        cond(
            "WorkersAvailable",
            up && workers_ok,
            if up && workers_ok {
                "Available"
            } else {
                "NotAvailable"
            },
            if workers_ok {
                String::new()
            } else {
                format!("{ready} of {desired} worker replicas are ready")
            },
        ),
        cond(
            "RollingOut",
            rolling,
            if rolling {
                "RollingOut"
            } else {
                "NotRollingOut"
            },
            rolling_msg.join("; "),
        ),
        cond(
            "ScalingUp",
            replicas < desired,
            if replicas < desired {
                "ScalingUp"
            } else {
                "NotScalingUp"
            },
            if replicas < desired {
                format!(
                    "Scaling up workers to {desired} replicas (actual {replicas}){}",
                    if problems.is_empty() {
                        String::new()
                    } else {
                        format!("; {}", problems.join("; "))
                    }
                )
            } else {
                String::new()
            },
        ),
        cond(
            "ScalingDown",
            replicas > desired,
            if replicas > desired {
                "ScalingDown"
            } else {
                "NotScalingDown"
            },
            "",
        ),
        cond(
            "RemoteConnectionProbe",
            up,
            if up { "ProbeSucceeded" } else { "ProbeFailed" },
            "",
        ),
        cond("Paused", false, "NotPaused", ""),
        cond("Deleting", false, "NotDeleting", ""),
    ]
}

fn versions_list(map: &BTreeMap<String, i64>) -> Value {
    json!(
        map.iter()
            .filter(|(_, n)| **n > 0)
            .map(|(v, n)| json!({"version": v, "replicas": n}))
            .collect::<Vec<_>>()
    )
}

fn write_status(
    mgmt: &Store,
    c: &Obj,
    v: &Value,
    phase: Option<&str>,
    conds: Vec<Value>,
    cp: Option<&ControlPlane>,
    pools: Option<&[PoolStatus]>,
) {
    let old = v["status"]["conditions"].clone();
    let generation = v["metadata"]["generation"].clone();
    mgmt.modify(id::CLUSTERS, &c.namespace, &c.name, |v| {
        let mut status = json!({"observedGeneration": generation, "conditions": objects::conditions(&old, conds, &generation)});
        if let Some(p) = phase {
            status["phase"] = json!(p);
        }
        if let Some(cp) = cp {
            let n = if cp.up { cp.replicas } else { 0 };
            let up_to_date = if cp.version == cp.target { n } else { 0 };
            status["initialization"] = json!({"infrastructureProvisioned": phase != Some("Pending"), "controlPlaneInitialized": cp.up});
            let mut versions = BTreeMap::new();
            if cp.up {
                versions.insert(cp.version.clone(), n);
            }
            status["controlPlane"] = json!({"desiredReplicas": cp.replicas, "replicas": n, "readyReplicas": n, "availableReplicas": n,
                "upToDateReplicas": up_to_date, "versions": versions_list(&versions)});
        }
        if let Some(pools) = pools {
            let mut versions = BTreeMap::new();
            for p in pools {
                for (ver, n) in &p.versions {
                    *versions.entry(ver.clone()).or_insert(0) += n;
                }
            }
            status["workers"] = json!({
                "desiredReplicas": pools.iter().map(|p| p.desired).sum::<i64>(),
                "replicas": pools.iter().map(|p| p.replicas).sum::<i64>(),
                "readyReplicas": pools.iter().map(|p| p.ready).sum::<i64>(),
                "availableReplicas": pools.iter().map(|p| p.ready).sum::<i64>(),
                "upToDateReplicas": pools.iter().map(|p| p.up_to_date).sum::<i64>(),
                "versions": versions_list(&versions)});
        }
        // Keep what an earlier writer set when this pass has no opinion (e.g. paused).
        for k in ["initialization", "controlPlane", "workers"] {
            if status.get(k).is_none() && !v["status"][k].is_null() {
                status[k] = v["status"][k].clone();
            }
        }
        v["status"] = status;
    });
}

fn write_kubeconfig_secret(sh: &Shared, mgmt: &Store, cluster: &Value, ns: &str, name: &str) {
    let key = Shared::key(ns, name);
    let config = kubeconfig::render(&sh.workload_url(&key), name, &sh.token);
    let secret = json!({
        "metadata": {"name": format!("{name}-kubeconfig"), "namespace": ns, "labels": {CLUSTER_LABEL: name},
                     "ownerReferences": [{"apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "Cluster", "name": name, "uid": cluster["metadata"]["uid"], "controller": true}]},
        "type": "cluster.x-k8s.io/secret",
        "data": {"value": kubeconfig::base64(config.as_bytes())},
    });
    if mgmt.create(id::M_SECRETS, secret).is_err() {
        // Already there (a restart of the same cluster name): refresh its content.
        let data = kubeconfig::base64(config.as_bytes());
        mgmt.modify(id::M_SECRETS, ns, &format!("{name}-kubeconfig"), |v| {
            v["data"]["value"] = json!(data)
        });
    }
}

/// A pool being reconciled.
struct Pool<'a> {
    sh: &'a Shared,
    mgmt: &'a Store,
    cluster: &'a Value,
    ns: &'a str,
    name: &'a str,
    key: &'a str,
    md: &'a Value,
    cp_version: &'a str,
    wstore: Option<&'a Store>,
    idle: &'a HashSet<String>,
}

fn annotation_int(md: &Value, key: &str) -> Option<i64> {
    md["metadata"]["annotations"][key]
        .as_str()
        .and_then(|s| s.trim().parse().ok())
}

impl Pool<'_> {
    fn reconcile(
        &self,
        rt: &mut Runtime,
        all_machines: &[Arc<Obj>],
        now: f64,
        autoscale_budget: bool,
    ) -> (PoolStatus, bool) {
        let pool = self.md["name"].as_str().unwrap_or_default();
        let md_name = format!("{}-{pool}", self.name);
        let existing = self
            .mgmt
            .get_value(id::MACHINE_DEPLOYMENTS, self.ns, &md_name);
        let bounds = match (
            annotation_int(self.md, AUTOSCALER_MIN),
            annotation_int(self.md, AUTOSCALER_MAX),
        ) {
            (Some(min), Some(max)) if 0 <= min && min <= max => Some((min, max)),
            _ => None,
        };
        let topo_replicas = self.md["replicas"].as_i64();
        let mut desired = match (bounds, &existing) {
            (Some((min, max)), Some(md)) => md["spec"]["replicas"]
                .as_i64()
                .unwrap_or(min)
                .clamp(min, max),
            (Some((min, max)), None) => topo_replicas.unwrap_or(min).clamp(min, max),
            (None, _) => topo_replicas.unwrap_or(1).max(0),
        };
        let deferred = self.md["metadata"]["annotations"][DEFER_UPGRADE]
            .as_str()
            .is_some_and(|s| s != "false");
        let current_version = existing
            .as_ref()
            .and_then(|m| m["spec"]["template"]["spec"]["version"].as_str())
            .unwrap_or(self.cp_version)
            .to_string();
        let target = if deferred {
            current_version.clone()
        } else {
            self.cp_version.to_string()
        };
        let machines: Vec<Arc<Obj>> = all_machines
            .iter()
            .filter(|m| {
                *m.namespace == *self.ns
                    && m.field("x.cluster") == self.name
                    && m.label(POOL_LABEL) == Some(pool)
            })
            .filter_map(|m| self.mgmt.get(id::MACHINES, &m.namespace, &m.name))
            .collect();
        let mut status = PoolStatus {
            name: md_name.clone(),
            desired,
            deferred: deferred && target != self.cp_version,
            ..Default::default()
        };
        let mut scaled_up = false;

        // Autoscaler: pending pods add a node; an idle node goes after a while.
        if let Some((min, max)) = bounds {
            let provisioning = machines.iter().any(|m| m.field("x.phase") != "Running");
            if autoscale_budget && desired < max && !provisioning {
                desired += 1;
                scaled_up = true;
                rt.events.record(
                    self.mgmt,
                    self.cluster,
                    false,
                    "ScaledUpGroup",
                    &format!(
                        "Scale-up: pool {pool} {} -> {desired} (pods pending)",
                        desired - 1
                    ),
                    "cluster-autoscaler",
                );
            } else if desired > min && !provisioning {
                let idle_machine = machines
                    .iter()
                    .find(|m| !m.deleting && self.idle.contains(m.field("x.node")));
                match idle_machine {
                    Some(m)
                        if rt.elapsed(&format!("idle/{}/{}", self.key, m.name), now)
                            >= timing::SCALE_DOWN_AFTER =>
                    {
                        desired -= 1;
                        let _ = self.mgmt.delete(id::MACHINES, self.ns, &m.name);
                        rt.events.record(
                            self.mgmt,
                            self.cluster,
                            false,
                            "ScaleDown",
                            &format!(
                                "Scale-down: removing empty node {} from pool {pool}",
                                m.field("x.node")
                            ),
                            "cluster-autoscaler",
                        );
                    }
                    Some(_) => {}
                    None => rt
                        .timers
                        .retain(|k, _| !k.starts_with(&format!("idle/{}/", self.key))),
                }
            }
            status.desired = desired;
        }

        self.ensure_machine_deployment(&md_name, pool, desired, &target, existing.as_ref());

        // Provisioning machines join as nodes, one at a time.
        for m in machines.iter().filter(|m| !m.deleting) {
            match m.field("x.phase") {
                "Provisioning"
                    if rt.elapsed(&format!("join/{}/{}", self.ns, m.name), now)
                        >= timing::NODE_JOIN =>
                {
                    rt.clear(&format!("join/{}/{}", self.ns, m.name));
                    self.join(rt, m);
                }
                "Failed"
                    if rt.elapsed(&format!("failed/{}/{}", self.ns, m.name), now)
                        >= timing::FAILED_RETRY =>
                {
                    rt.clear(&format!("failed/{}/{}", self.ns, m.name));
                    self.mgmt.force_remove(id::MACHINES, self.ns, &m.name);
                }
                _ => {}
            }
        }
        let deleting: Vec<&Arc<Obj>> = machines.iter().filter(|m| m.deleting).collect();
        status.blocked = retire_machines(self.sh, rt, self.mgmt, self.key, &deleting, now, false);

        let active: Vec<&Arc<Obj>> = machines
            .iter()
            .filter(|m| !m.deleting && m.field("x.phase") != "Failed")
            .collect();
        let provisioning = active.iter().any(|m| m.field("x.phase") != "Running");
        let total = active.len() as i64;
        let outdated: Vec<&&Arc<Obj>> = active
            .iter()
            .filter(|m| m.field("x.version") != target)
            .collect();
        if !provisioning && deleting.is_empty() {
            if total < desired || (total == desired && !outdated.is_empty()) {
                // Scale up, or surge one up-to-date machine before an old one is drained.
                self.create_machine(rt, &md_name, pool, &target, now, &mut status);
            } else if total > desired {
                let victim = outdated
                    .first()
                    .map(|m| **m)
                    .or_else(|| active.iter().max_by_key(|m| m.rv).copied());
                if let Some(m) = victim {
                    let _ = self.mgmt.delete(id::MACHINES, self.ns, &m.name);
                    let why = if outdated.is_empty() {
                        "scaling down"
                    } else {
                        "replacing with an up-to-date machine"
                    };
                    rt.events.record(
                        self.mgmt,
                        &m.value(),
                        false,
                        "DeletingMachine",
                        &format!("Deleting Machine {} ({why})", m.name),
                        "kubesim-capi",
                    );
                }
            }
        }
        if let Some(until) = rt.timers.get(&format!("quota/{}/{}", self.ns, md_name))
            && now < *until
        {
            let size = pool_shape(&self.cluster["spec"]["topology"], self.md)
                .size
                .name;
            status.problem = Some(format!(
                "scale-up failed: quota exceeded for {size} in this region; retrying"
            ));
        }

        // Status of the MachineDeployment.
        let ready_nodes: HashSet<String> = self
            .wstore
            .map(|w| {
                w.all(id::NODES)
                    .iter()
                    .filter(|n| n.field("x.ready") == "true")
                    .map(|n| n.name.to_string())
                    .collect()
            })
            .unwrap_or_default();
        let live: Vec<Arc<Obj>> = self
            .mgmt
            .all(id::MACHINES)
            .into_iter()
            .filter(|m| {
                *m.namespace == *self.ns
                    && m.field("x.cluster") == self.name
                    && m.label(POOL_LABEL) == Some(pool)
            })
            .collect();
        status.replicas = live.iter().filter(|m| !m.deleting).count() as i64;
        status.ready = live
            .iter()
            .filter(|m| !m.deleting && ready_nodes.contains(m.field("x.node")))
            .count() as i64;
        status.up_to_date = live
            .iter()
            .filter(|m| !m.deleting && m.field("x.version") == target)
            .count() as i64;
        for m in &live {
            if m.field("x.phase") == "Running" {
                *status
                    .versions
                    .entry(m.field("x.version").to_string())
                    .or_insert(0) += 1;
            }
        }
        self.write_md_status(&md_name, &status, live.len() as i64);
        (status, scaled_up)
    }

    fn ensure_machine_deployment(
        &self,
        md_name: &str,
        pool: &str,
        desired: i64,
        version: &str,
        existing: Option<&Value>,
    ) {
        let annotations = self.md["metadata"]["annotations"].clone();
        let labels = json!({CLUSTER_LABEL: self.name, POOL_LABEL: pool, "topology.cluster.x-k8s.io/owned": ""});
        match existing {
            None => {
                let md = json!({
                    "metadata": {"name": md_name, "namespace": self.ns, "labels": labels,
                        "annotations": if annotations.is_object() { annotations } else { json!({}) },
                        "ownerReferences": [{"apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "Cluster", "name": self.name, "uid": self.cluster["metadata"]["uid"]}]},
                    "spec": {"clusterName": self.name, "replicas": desired,
                        "selector": {"matchLabels": {CLUSTER_LABEL: self.name, POOL_LABEL: pool}},
                        "template": {"metadata": {"labels": {CLUSTER_LABEL: self.name, POOL_LABEL: pool}},
                            "spec": {"clusterName": self.name, "version": version,
                                "bootstrap": {"configRef": {"apiGroup": "bootstrap.cluster.x-k8s.io", "kind": "KubeadmConfigTemplate", "name": format!("{md_name}-bootstrap")}},
                                "infrastructureRef": {"apiGroup": "infrastructure.kubesim.portolan.dev", "kind": "KubesimMachineTemplate", "name": format!("{md_name}-infra")}}}}});
                let _ = self.mgmt.create(id::MACHINE_DEPLOYMENTS, md);
            }
            Some(_) => {
                self.mgmt
                    .modify(id::MACHINE_DEPLOYMENTS, self.ns, md_name, |v| {
                        v["spec"]["replicas"] = json!(desired);
                        v["spec"]["template"]["spec"]["version"] = json!(version);
                        if annotations.is_object() {
                            v["metadata"]["annotations"] = annotations.clone();
                        }
                    });
            }
        }
    }

    fn create_machine(
        &self,
        rt: &mut Runtime,
        md_name: &str,
        pool: &str,
        version: &str,
        now: f64,
        status: &mut PoolStatus,
    ) {
        let quota_key = format!("quota/{}/{md_name}", self.ns);
        if rt.timers.get(&quota_key).is_some_and(|until| now < *until) {
            return;
        }
        if self.sh.faults.take_quota_failure() {
            rt.timers.insert(quota_key, now + timing::QUOTA_RETRY);
            let size = pool_shape(&self.cluster["spec"]["topology"], self.md)
                .size
                .name;
            let msg = format!(
                "Scale-up failed: quota exceeded for {size} in this region (requested 1 more VM); retrying"
            );
            status.problem = Some(msg.clone());
            rt.events.record(
                self.mgmt,
                self.cluster,
                true,
                "QuotaExceeded",
                &msg,
                "kubesim-cloud",
            );
            return;
        }
        rt.seq += 1;
        let name = format!(
            "{md_name}-{}",
            random_suffix(hash_str(self.sh.seed, md_name) ^ rt.seq, 5)
        );
        let machine = json!({
            "metadata": {"name": name, "namespace": self.ns, "finalizers": [MACHINE_FINALIZER],
                "labels": {CLUSTER_LABEL: self.name, POOL_LABEL: pool, MD_LABEL: md_name, "topology.cluster.x-k8s.io/owned": ""},
                "ownerReferences": [{"apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "MachineDeployment", "name": md_name, "uid": ""}]},
            "spec": {"clusterName": self.name, "version": version,
                "bootstrap": {"configRef": {"apiGroup": "bootstrap.cluster.x-k8s.io", "kind": "KubeadmConfig", "name": name}},
                "infrastructureRef": {"apiGroup": "infrastructure.kubesim.portolan.dev", "kind": "KubesimMachine", "name": name},
                "providerID": format!("kubesim://{}/{}/{name}", self.ns, self.name)},
            "status": {"phase": "Provisioning", "conditions": objects::conditions(&Value::Null, vec![
                cond("Available", false, "NotAvailable", "Machine is being provisioned"),
                cond("Ready", false, "NotReady", "Waiting for the node to join"),
                cond("NodeHealthy", false, "NodeDoesNotExist", "Waiting for a node"),
                cond("UpToDate", true, "UpToDate", ""),
                cond("Deleting", false, "NotDeleting", ""),
            ], &json!(1))}});
        if let Ok(m) = self.mgmt.create(id::MACHINES, machine) {
            rt.timers.insert(format!("join/{}/{name}", self.ns), now);
            rt.events.record(
                self.mgmt,
                &m.value(),
                false,
                "SuccessfulCreate",
                &format!("Created Machine {name} ({version})"),
                "kubesim-capi",
            );
        }
    }

    fn join(&self, rt: &mut Runtime, m: &Obj) {
        let ns = self.ns;
        if self.sh.faults.take_join_failure() {
            let obj = self.mgmt.modify(id::MACHINES, ns, &m.name, |v| {
                let old = v["status"]["conditions"].clone();
                v["status"]["phase"] = json!("Failed");
                v["status"]["conditions"] = objects::conditions(
                    &old,
                    vec![
                        cond(
                            "Available",
                            false,
                            "NotAvailable",
                            "The node failed to join the cluster",
                        ),
                        cond(
                            "Ready",
                            false,
                            "NodeJoinFailed",
                            "kubelet did not register within the join timeout",
                        ),
                        cond("NodeHealthy", false, "NodeDoesNotExist", ""),
                        cond("Deleting", false, "NotDeleting", ""),
                    ],
                    &json!(1),
                );
            });
            if let Some(obj) = obj {
                rt.events.record(
                    self.mgmt,
                    &obj.value(),
                    true,
                    "NodeJoinFailed",
                    &format!(
                        "Machine {} failed to join: kubelet did not register; it will be replaced",
                        m.name
                    ),
                    "kubesim-cloud",
                );
            }
            return;
        }
        let Some(wstore) = self.wstore else { return };
        let shape = pool_shape(&self.cluster["spec"]["topology"], self.md);
        let version = m.field("x.version").to_string();
        let node = objects::node(&NodeSpec {
            name: &m.name,
            machine: &m.name,
            cluster: self.name,
            namespace: ns,
            pool: self.md["name"].as_str().unwrap_or_default(),
            version: &version,
            shape: &shape,
            seed: self.sh.seed,
        });
        let node_info = node["status"]["nodeInfo"].clone();
        if let Ok(n) = wstore.create(id::NODES, node)
            && let Some(w) = rt.workloads.get_mut(self.key)
        {
            w.events.record(
                wstore,
                &n.value(),
                false,
                "RegisteredNode",
                &format!(
                    "Node {} event: Registered Node {} in Controller",
                    m.name, m.name
                ),
                "node-controller",
            );
        }
        let obj = self.mgmt.modify(id::MACHINES, ns, &m.name, |v| {
            let old = v["status"]["conditions"].clone();
            v["status"]["phase"] = json!("Running");
            v["status"]["nodeRef"] = json!({"name": &*m.name});
            v["status"]["nodeInfo"] = node_info.clone();
            v["status"]["addresses"] =
                json!([{"type": "InternalIP", "address": objects::node_ip(self.sh.seed, &m.name)}]);
            v["status"]["initialization"] =
                json!({"bootstrapDataSecretCreated": true, "infrastructureProvisioned": true});
            v["status"]["conditions"] = objects::conditions(
                &old,
                vec![
                    cond("Available", true, "Available", ""),
                    cond("Ready", true, "Ready", ""),
                    cond("NodeHealthy", true, "NodeHealthy", ""),
                    cond("UpToDate", true, "UpToDate", ""),
                    cond("Deleting", false, "NotDeleting", ""),
                ],
                &json!(1),
            );
        });
        if let Some(obj) = obj {
            rt.events.record(
                self.mgmt,
                &obj.value(),
                false,
                "NodeJoined",
                &format!("Node {} joined the cluster", m.name),
                "kubesim-capi",
            );
        }
    }

    fn write_md_status(&self, md_name: &str, s: &PoolStatus, all: i64) {
        let Some(md) = self
            .mgmt
            .get_value(id::MACHINE_DEPLOYMENTS, self.ns, md_name)
        else {
            return;
        };
        let old = md["status"]["conditions"].clone();
        let generation = md["metadata"]["generation"].clone();
        let rolling = s.up_to_date < s.replicas;
        let mut rolling_msg = if rolling {
            format!(
                "Rolling out {} not up-to-date replicas",
                s.replicas - s.up_to_date
            )
        } else {
            String::new()
        };
        if let Some(b) = &s.blocked {
            rolling_msg = if rolling_msg.is_empty() {
                format!("Drain blocked: {b}")
            } else {
                format!("{rolling_msg}; drain blocked: {b}")
            };
        }
        let phase = if s.replicas < s.desired {
            "ScalingUp"
        } else if all > s.desired {
            "ScalingDown"
        } else {
            "Running"
        };
        let conds = vec![
            cond(
                "Available",
                s.ready >= s.desired,
                if s.ready >= s.desired {
                    "Available"
                } else {
                    "NotAvailable"
                },
                if s.ready >= s.desired {
                    String::new()
                } else {
                    format!(
                        "{} available replicas, at least {} required",
                        s.ready, s.desired
                    )
                },
            ),
            cond(
                "RollingOut",
                rolling || s.blocked.is_some(),
                if rolling || s.blocked.is_some() {
                    "RollingOut"
                } else {
                    "NotRollingOut"
                },
                rolling_msg,
            ),
            cond(
                "ScalingUp",
                s.replicas < s.desired,
                if s.replicas < s.desired {
                    "ScalingUp"
                } else {
                    "NotScalingUp"
                },
                match (&s.problem, s.replicas < s.desired) {
                    (Some(p), true) => format!(
                        "Scaling up from {} to {} replicas: {p}",
                        s.replicas, s.desired
                    ),
                    (None, true) => {
                        format!("Scaling up from {} to {} replicas", s.replicas, s.desired)
                    }
                    _ => String::new(),
                },
            ),
            cond(
                "ScalingDown",
                all > s.desired,
                if all > s.desired {
                    "ScalingDown"
                } else {
                    "NotScalingDown"
                },
                if all > s.desired {
                    format!(
                        "Scaling down from {all} to {} replicas{}",
                        s.desired,
                        s.blocked
                            .as_ref()
                            .map(|b| format!("; drain blocked: {b}"))
                            .unwrap_or_default()
                    )
                } else {
                    String::new()
                },
            ),
            cond(
                "MachinesUpToDate",
                !rolling,
                if rolling { "NotUpToDate" } else { "UpToDate" },
                "",
            ),
            cond("Deleting", false, "NotDeleting", ""),
        ];
        self.mgmt.modify(id::MACHINE_DEPLOYMENTS, self.ns, md_name, |v| {
            v["status"] = json!({"observedGeneration": generation, "phase": phase, "replicas": s.replicas, "readyReplicas": s.ready,
                "availableReplicas": s.ready, "upToDateReplicas": s.up_to_date, "selector": format!("{CLUSTER_LABEL}={},{POOL_LABEL}={}", self.name, md_name.trim_start_matches(&format!("{}-", self.name))),
                "conditions": objects::conditions(&old, conds, &generation)});
        });
    }
}

/// Drains and removes deleting machines; returns why a drain is blocked, if it is.
fn retire_machines(
    sh: &Shared,
    rt: &mut Runtime,
    mgmt: &Store,
    key: &str,
    deleting: &[&Arc<Obj>],
    now: f64,
    skip_drain: bool,
) -> Option<String> {
    let wstore = sh.workload(key).map(|w| w.store);
    let mut blocked = None;
    // One node drains at a time per pool, like a MachineDeployment with maxUnavailable 0.
    for m in deleting.iter().take(1) {
        let node = m.field("x.node").to_string();
        let outcome = match (&wstore, node.is_empty() || skip_drain) {
            (Some(w), false) => {
                let wrt = rt.workloads.entry(key.to_string()).or_default();
                workload::drain(wrt, w, &node)
            }
            _ => Drain::Done,
        };
        match outcome {
            Drain::Done => {
                if let Some(w) = &wstore
                    && !node.is_empty()
                {
                    w.force_remove(id::NODES, "", &node);
                }
                rt.clear(&format!("drain/{}/{}", m.namespace, m.name));
                let obj = mgmt.modify(id::MACHINES, &m.namespace, &m.name, |v| {
                    remove_finalizer(v, MACHINE_FINALIZER)
                });
                if let Some(obj) = obj {
                    rt.events.record(
                        mgmt,
                        &obj.value(),
                        false,
                        "MachineDeleted",
                        &format!(
                            "Machine {} deleted (node {node} drained and removed)",
                            m.name
                        ),
                        "kubesim-capi",
                    );
                }
            }
            Drain::InProgress => {
                rt.elapsed(&format!("drain/{}/{}", m.namespace, m.name), now);
                set_deleting(mgmt, m, "DrainingNode", &format!("Draining node {node}"));
            }
            Drain::Blocked(why) => {
                let first = !rt
                    .timers
                    .contains_key(&format!("drain/{}/{}", m.namespace, m.name));
                rt.elapsed(&format!("drain/{}/{}", m.namespace, m.name), now);
                let msg = format!("Machine {}: draining node {node} is blocked: {why}", m.name);
                if first {
                    rt.events
                        .record(mgmt, &m.value(), true, "DrainBlocked", &msg, "kubesim-capi");
                }
                set_deleting(
                    mgmt,
                    m,
                    "DrainingNode",
                    &format!("Drain blocked by a PodDisruptionBudget: {why}"),
                );
                blocked = Some(msg);
            }
        }
    }
    blocked
}

fn set_deleting(mgmt: &Store, m: &Obj, reason: &str, message: &str) {
    mgmt.modify(id::MACHINES, &m.namespace, &m.name, |v| {
        let old = v["status"]["conditions"].clone();
        let mut list: Vec<Value> = old
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|c| c["type"] != "Deleting")
            .map(|mut c| {
                c["lastTransitionTime"] = json!("");
                c
            })
            .collect();
        list.push(cond("Deleting", true, reason, message));
        v["status"]["phase"] = json!("Deleting");
        v["status"]["conditions"] = objects::conditions(&old, list, &json!(1));
    });
}

/// Tears a deleting Cluster down: Machines one per step, then everything else, then the finalizer.
#[allow(clippy::too_many_arguments)]
fn delete(
    sh: &Shared,
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
    let mine: Vec<&Arc<Obj>> = machines
        .iter()
        .filter(|m| *m.namespace == *ns && m.field("x.cluster") == name)
        .collect();
    let step_due = rt
        .clusters
        .get(uid)
        .is_some_and(|crt| now - crt.last_delete_step >= timing::DELETE_STEP);
    if v["status"]["phase"] != "Deleting" {
        rt.events.record(
            mgmt,
            v,
            false,
            "Deleting",
            &format!("Deleting cluster {name}: {} machines to remove", mine.len()),
            "kubesim-capi",
        );
    }
    if step_due {
        if let Some(crt) = rt.clusters.get_mut(uid) {
            crt.last_delete_step = now;
        }
        if let Some(m) = mine.first() {
            if let Some(w) = sh.workload(&key) {
                w.store.force_remove(id::NODES, "", m.field("x.node"));
            }
            mgmt.force_remove(id::MACHINES, &ns, &m.name);
        } else {
            for md in mgmt.all(id::MACHINE_DEPLOYMENTS) {
                if *md.namespace == *ns && md.label(CLUSTER_LABEL) == Some(&name) {
                    mgmt.force_remove(id::MACHINE_DEPLOYMENTS, &ns, &md.name);
                }
            }
            mgmt.force_remove(id::M_SECRETS, &ns, &format!("{name}-kubeconfig"));
            sh.remove_workload(&key);
            rt.workloads.remove(&key);
            mgmt.modify(id::CLUSTERS, &ns, &name, |v| {
                remove_finalizer(v, CLUSTER_FINALIZER)
            });
            rt.clusters.remove(uid);
            return;
        }
    }
    let old = v["status"]["conditions"].clone();
    let generation = v["metadata"]["generation"].clone();
    let remaining = mine.len();
    mgmt.modify(id::CLUSTERS, &ns, &name, |v| {
        v["status"]["phase"] = json!("Deleting");
        let mut list: Vec<Value> = old
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|c| c["type"] != "Deleting" && c["type"] != "Available")
            .collect();
        list.push(cond(
            "Available",
            false,
            "Deleting",
            "Cluster is being deleted",
        ));
        list.push(cond(
            "Deleting",
            true,
            "DeletingMachines",
            format!("Deleting {remaining} machines"),
        ));
        v["status"]["conditions"] = objects::conditions(&old, list, &generation);
    });
}
