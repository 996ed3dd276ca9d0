//! Where a node pool operation is, read from the watched Cluster API objects: each node joining or
//! leaving, until the pool is as asked, something else replaced the change, or it takes too long.

use std::collections::BTreeMap;

use app::access::model::ClusterRef;
use app::operations::model::OpStep;
use k8s_openapi::api::core::v1::Node;
use kube::runtime::reflector::ObjectRef;

use crate::fleet::pools::sizing;
use crate::fleet::resources::{CLUSTER_NAME_LABEL, Machine, POOL_NAME_LABEL, PoolTopology};
use crate::fleet::watch::FleetWatch;
use crate::fleet::workloads::Reach;
use crate::store::operations::{Progress, Stored};

/// How an evaluation ends an operation, if it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Succeeded,
    Failed,
    Superseded,
}

impl End {
    pub fn as_str(self) -> &'static str {
        match self {
            End::Succeeded => "succeeded",
            End::Failed => "failed",
            End::Superseded => "superseded",
        }
    }
}

/// What the pool should look like when the operation is done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Goal {
    /// Exactly this many nodes, all Ready.
    Count(u32),
    /// The autoscaler owns the count, within these bounds; the nodes it keeps are Ready.
    Bounds(u32, u32),
}

impl Goal {
    /// The goal of an operation from its parameters.
    pub fn of(op: &Stored) -> Option<Goal> {
        let p = &op.parameters;
        let n = |k: &str| p[k].as_u64().and_then(|v| u32::try_from(v).ok());
        match (op.kind.as_str(), n("min"), n("max"), n("to")) {
            ("autoscale-pool", Some(min), Some(max), _) => Some(Goal::Bounds(min, max)),
            (_, _, _, Some(to)) => Some(Goal::Count(to)),
            _ => None,
        }
    }

    /// The pool's sizing text once the change is in the topology (see `fleet::pools::sizing`).
    pub fn sizing(&self) -> String {
        match self {
            Goal::Count(n) => n.to_string(),
            Goal::Bounds(min, max) => format!("auto:{min}-{max}"),
        }
    }
}

/// The pool of `cluster` named `pool` in the topology, with its index.
pub fn in_topology<'a>(
    cluster: &'a crate::fleet::resources::Cluster,
    pool: &str,
) -> Option<(usize, &'a PoolTopology)> {
    cluster
        .spec
        .topology
        .as_ref()?
        .workers
        .as_ref()?
        .machine_deployments
        .iter()
        .enumerate()
        .find(|(_, p)| p.name == pool)
}

/// A node's readiness from the workload cluster, when it is reachable.
pub(super) fn node_ready(
    nodes: Option<&kube::runtime::reflector::Store<Node>>,
    name: &str,
) -> Option<bool> {
    let node = nodes?.get(&ObjectRef::new(name))?;
    let ready = node
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .any(|c| c.type_ == "Ready" && c.status == "True");
    Some(ready)
}

/// One Machine as a step: "Provisioning", "Joining", "Ready", "Draining", "Failed".
fn machine_step(m: &Machine, nodes: Option<&kube::runtime::reflector::Store<Node>>) -> OpStep {
    let name = m.metadata.name.clone().unwrap_or_default();
    let phase = m
        .status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_else(|| "Pending".into());
    let node = m
        .status
        .as_ref()
        .and_then(|s| s.node_ref.as_ref())
        .map(|n| n.name.clone());
    let (state, detail) = if m.metadata.deletion_timestamp.is_some() || phase == "Deleting" {
        (
            "Draining",
            "cordoned; its pods are being evicted before the machine goes".to_string(),
        )
    } else if phase == "Failed" {
        ("Failed", "the machine failed to provision".to_string())
    } else {
        match (
            node.as_deref()
                .and_then(|n| node_ready(nodes, n).map(|r| (n, r))),
            phase.as_str(),
        ) {
            (Some((n, true)), _) => ("Ready", format!("node {n} is Ready")),
            (Some((n, false)), _) => ("Joining", format!("node {n} has joined, not Ready yet")),
            (None, "Running" | "Provisioned") => ("Joining", "waiting for its node".to_string()),
            _ => ("Provisioning", format!("machine is {phase}")),
        }
    };
    OpStep {
        subject: format!("machine {name}"),
        state: state.into(),
        detail,
        since_ms: 0,
    }
}

/// The pool's machines as steps, as they are when a change is sent: those that go later show as
/// removed, however quickly they go.
pub fn steps_now(watch: &FleetWatch, cluster: &ClusterRef, pool: &str) -> Vec<OpStep> {
    let nodes = match watch.workloads.reach(cluster) {
        Reach::Connected(w) => Some(w.nodes.clone()),
        _ => None,
    };
    let mut steps: Vec<OpStep> = pool_machines(watch, cluster, pool)
        .iter()
        .map(|m| machine_step(m, nodes.as_ref()))
        .collect();
    steps.sort_by(|a, b| a.subject.cmp(&b.subject));
    steps
}

/// The Machines of one pool of a cluster, from the watch.
pub(super) fn pool_machines(
    watch: &FleetWatch,
    cluster: &ClusterRef,
    pool: &str,
) -> Vec<std::sync::Arc<Machine>> {
    watch
        .machines
        .state()
        .into_iter()
        .filter(|m| {
            m.metadata.namespace.as_deref() == Some(cluster.namespace.as_str())
                && m.metadata.labels.as_ref().is_some_and(|l| {
                    l.get(CLUSTER_NAME_LABEL) == Some(&cluster.name)
                        && l.get(POOL_NAME_LABEL).map(String::as_str) == Some(pool)
                })
        })
        .collect()
}

/// Where the operation `op` on pool `pool` of `cluster` is, and whether it ends now. `now_ms`
/// and `deadline_ms` (how long it may take) decide when a pool that never gets there fails.
pub fn evaluate(
    op: &Stored,
    watch: &FleetWatch,
    now_ms: i64,
    deadline_ms: i64,
) -> (Progress, Option<End>) {
    let cluster_ref = ClusterRef::new(&op.namespace, &op.name);
    let pool = op.parameters["pool"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut steps: BTreeMap<String, OpStep> = op
        .steps
        .iter()
        .map(|s| (s.subject.clone(), s.clone()))
        .collect();
    let finish = |steps: &BTreeMap<String, OpStep>, done, total, message: String, end| {
        (
            Progress {
                done,
                total,
                steps: steps.values().cloned().collect(),
                message,
            },
            end,
        )
    };
    let Some(goal) = Goal::of(op) else {
        return finish(
            &steps,
            0,
            0,
            "the operation's parameters cannot be read".into(),
            Some(End::Failed),
        );
    };
    let cluster = match super::changed_cluster(op, watch) {
        Ok(c) => c,
        Err((message, end)) => return finish(&steps, op.done, op.total, message, end),
    };
    if op.kind == "delete-pool" {
        return deleting(
            op,
            watch,
            (&cluster_ref, &cluster),
            &pool,
            steps,
            (now_ms, deadline_ms),
        );
    }
    let Some((_, declared)) = in_topology(&cluster, &pool) else {
        return finish(
            &steps,
            op.done,
            op.total,
            format!("pool {pool} was removed from the cluster"),
            Some(End::Superseded),
        );
    };
    let now_sizing = sizing(declared);
    if now_sizing != goal.sizing() {
        let words = match now_sizing.strip_prefix("auto:") {
            Some(b) => format!("autoscaling between {}", b.replace('-', " and ")),
            None => format!("{now_sizing} nodes"),
        };
        return finish(
            &steps,
            op.done,
            op.total,
            format!("a later change set pool {pool} to {words}"),
            Some(End::Superseded),
        );
    }

    let nodes = match watch.workloads.reach(&cluster_ref) {
        Reach::Connected(w) => Some(w.nodes.clone()),
        _ => None,
    };
    let machines = pool_machines(watch, &cluster_ref, &pool);
    let mut present = std::collections::HashSet::new();
    for m in &machines {
        let step = super::since(&steps, machine_step(m, nodes.as_ref()), now_ms);
        present.insert(step.subject.clone());
        steps.insert(step.subject.clone(), step);
    }
    for (subject, step) in steps.iter_mut() {
        if !present.contains(subject) && step.state != "Removed" {
            step.state = "Removed".into();
            step.detail = "the machine and its node are gone".into();
            step.since_ms = now_ms;
        }
    }
    let ready = machines
        .iter()
        .filter(|m| m.metadata.deletion_timestamp.is_none())
        .filter(|m| machine_step(m, nodes.as_ref()).state == "Ready")
        .count() as i64;
    let live = machines.len() as i64;
    let staying = machines
        .iter()
        .filter(|m| m.metadata.deletion_timestamp.is_none())
        .count() as i64;

    // Where the pool's MachineDeployment says it is, in its own words (scaling, quota, drains).
    let md_name = format!("{}-{pool}", op.name);
    let md = watch
        .pools
        .get(&ObjectRef::new(&md_name).within(&op.namespace));
    let md_message = md.as_ref().and_then(|md| md.status.as_ref()).and_then(|s| {
        s.conditions
            .iter()
            .filter(|c| {
                c.status == "True" && matches!(c.type_.as_str(), "ScalingUp" | "ScalingDown")
            })
            .find_map(|c| c.message.clone())
    });

    let from = op.parameters["from"].as_i64().unwrap_or(live);
    let (target, done, total) = match goal {
        Goal::Count(to) => {
            let to = i64::from(to);
            let total = (to - from).abs();
            let done = if to >= from {
                (ready - from).clamp(0, total)
            } else {
                (from - live).clamp(0, total)
            };
            (to, done, total)
        }
        Goal::Bounds(min, max) => {
            let desired = md
                .as_ref()
                .and_then(|md| md.spec.replicas)
                .map_or(i64::from(min), i64::from)
                .clamp(i64::from(min), i64::from(max));
            let total = desired.max(1);
            (desired, ready.min(total), total)
        }
    };
    if live == target && staying == target && ready == target {
        let message = match target {
            0 => format!("pool {pool} has no nodes"),
            1 => format!("pool {pool}: its node is Ready"),
            n => format!("pool {pool}: all {n} nodes Ready"),
        };
        return finish(&steps, total, total, message, Some(End::Succeeded));
    }
    let message = md_message.unwrap_or_else(|| {
        format!("pool {pool}: {ready} of {target} nodes Ready, {live} machines")
    });
    if now_ms - op.started_at_ms > deadline_ms {
        return finish(
            &steps,
            done,
            total,
            format!(
                "not done after {}: {message}. Look at the pool's nodes and events; scale again to retry",
                app::operations::model::elapsed(deadline_ms)
            ),
            Some(End::Failed),
        );
    }
    finish(&steps, done, total, message, None)
}

/// Where deleting pool `pool` is: its machines drained and gone, one by one.
fn deleting(
    op: &Stored,
    watch: &FleetWatch,
    (cluster, cluster_now): (&ClusterRef, &crate::fleet::resources::Cluster),
    pool: &str,
    mut steps: BTreeMap<String, OpStep>,
    (now_ms, deadline_ms): (i64, i64),
) -> (Progress, Option<End>) {
    let nodes = match watch.workloads.reach(cluster) {
        Reach::Connected(w) => Some(w.nodes.clone()),
        _ => None,
    };
    let machines = pool_machines(watch, cluster, pool);
    let mut present = std::collections::HashSet::new();
    for m in &machines {
        let step = super::since(&steps, machine_step(m, nodes.as_ref()), now_ms);
        present.insert(step.subject.clone());
        steps.insert(step.subject.clone(), step);
    }
    for (subject, step) in steps.iter_mut() {
        if !present.contains(subject) && step.state != "Removed" {
            step.state = "Removed".into();
            step.detail = "the machine and its node are gone".into();
            step.since_ms = now_ms;
        }
    }
    let total = op.total.max(1);
    let from = op.parameters["from"].as_i64().unwrap_or(0);
    let done = (from - machines.len() as i64).clamp(0, total);
    let (message, end) = if in_topology(cluster_now, pool).is_some() {
        (
            format!("pool {pool} was added to the cluster again"),
            Some(End::Superseded),
        )
    } else if machines.is_empty() {
        (
            format!("pool {pool} and its nodes are gone"),
            Some(End::Succeeded),
        )
    } else if now_ms - op.started_at_ms > deadline_ms {
        (
            format!(
                "not done after {}: {} machines of pool {pool} are still there. Look at their drains and events",
                app::operations::model::elapsed(deadline_ms),
                machines.len()
            ),
            Some(End::Failed),
        )
    } else {
        (
            format!(
                "pool {pool}: {} machines left to drain and remove",
                machines.len()
            ),
            None,
        )
    };
    let done = if end == Some(End::Succeeded) {
        total
    } else {
        done
    };
    (
        Progress {
            done,
            total,
            steps: steps.into_values().collect(),
            message,
        },
        end,
    )
}
