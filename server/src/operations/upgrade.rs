//! Where an upgrade is, read from the watched Cluster API objects: the control plane rolling out,
//! then each pool's nodes surged, cordoned, drained (or blocked by a budget) and replaced.

use std::collections::{BTreeMap, HashSet};

use app::access::model::ClusterRef;
use app::operations::model::OpStep;
use k8s_openapi::api::core::v1::Node;
use kube::runtime::reflector::{ObjectRef, Store};

use super::pool::{End, in_topology, node_ready, pool_machines};
use crate::fleet::resources::Machine;
use crate::fleet::versions::{Version, control_plane_now};
use crate::fleet::watch::FleetWatch;
use crate::fleet::workloads::Reach;
use crate::store::operations::{Progress, Stored};

/// What to do about a drain a PodDisruptionBudget blocks.
const UNBLOCK: &str = "Scale that workload up, or relax or delete the PodDisruptionBudget: the upgrade goes on by itself";

/// The subject of the control plane's step.
const CONTROL_PLANE: &str = "control plane";

/// The message of a Machine's `Deleting` condition, when it is being deleted.
fn deleting_message(m: &Machine) -> Option<String> {
    m.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == "Deleting" && c.status == "True")
        .map(|c| c.message.clone().unwrap_or_default())
}

/// One machine of a pool being upgraded to `to`, as a step.
fn machine_step(
    pool: &str,
    m: &Machine,
    nodes: Option<&Store<Node>>,
    to: &str,
    control_plane_done: bool,
) -> OpStep {
    let name = m.metadata.name.clone().unwrap_or_default();
    let version = m.spec.version.clone().unwrap_or_default();
    let status = m.status.as_ref();
    let phase = status.and_then(|s| s.phase.clone()).unwrap_or_default();
    let node = status
        .and_then(|s| s.node_ref.as_ref())
        .map(|n| n.name.clone());
    let deleting = m.metadata.deletion_timestamp.is_some() || phase == "Deleting";
    let (state, detail) = if version != to {
        match (deleting, deleting_message(m)) {
            (true, Some(msg)) if msg.to_lowercase().contains("blocked") => {
                ("Blocked", format!("{msg}. {UNBLOCK}"))
            }
            (true, _) => (
                "Draining",
                format!(
                    "node {} cordoned; its pods are being evicted",
                    node.unwrap_or_default()
                ),
            ),
            (false, _) if !control_plane_done => (
                "Waiting",
                format!("runs {version}; waits for the control plane"),
            ),
            (false, _) => (
                "Waiting",
                format!("runs {version}; replaced once a surge node on {to} is Ready"),
            ),
        }
    } else {
        match node
            .as_deref()
            .and_then(|n| node_ready(nodes, n).map(|r| (n, r)))
        {
            Some((n, true)) => ("Ready", format!("node {n} is Ready on {to}")),
            Some((n, false)) => (
                "Joining",
                format!("node {n} on {to} has joined, not Ready yet"),
            ),
            None => (
                "Surged",
                format!(
                    "surge machine on {to}: {}",
                    if phase.is_empty() { "Pending" } else { &phase }
                ),
            ),
        }
    };
    OpStep {
        subject: format!("pool {pool}: machine {name}"),
        state: state.into(),
        detail,
        since_ms: 0,
    }
}

/// Where the upgrade `op` is, and whether it ends now (see `pool::evaluate`).
pub fn evaluate(
    op: &Stored,
    watch: &FleetWatch,
    now_ms: i64,
    deadline_ms: i64,
) -> (Progress, Option<End>) {
    let p = &op.parameters;
    let to = p["to"].as_str().unwrap_or_default().to_string();
    let with_control_plane = p["control_plane"].as_bool().unwrap_or(false);
    let pools: Vec<(String, i64)> = p["pools"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, v)| (name.clone(), v["nodes"].as_i64().unwrap_or(0)))
        .collect();
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
    let cluster_ref = ClusterRef::new(&op.namespace, &op.name);
    let Some(target) = Version::parse(&to) else {
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
    let declared = cluster
        .spec
        .topology
        .as_ref()
        .map(|t| t.version.clone())
        .unwrap_or_default();
    if Version::parse(&declared) != Some(target) {
        return finish(
            &steps,
            op.done,
            op.total,
            format!("a later change set the cluster's version to {declared}"),
            Some(End::Superseded),
        );
    }

    let control_plane_done = control_plane_now(&cluster) == Some(target);
    if with_control_plane {
        let from = p["from"].as_str().unwrap_or_default();
        let step = if control_plane_done {
            OpStep {
                subject: CONTROL_PLANE.into(),
                state: "Upgraded".into(),
                detail: format!("runs {to}"),
                since_ms: 0,
            }
        } else {
            OpStep {
                subject: CONTROL_PLANE.into(),
                state: "Upgrading".into(),
                detail: format!("rolling out {to} (from {from})"),
                since_ms: 0,
            }
        };
        let step = super::since(&steps, step, now_ms);
        steps.insert(step.subject.clone(), step);
    }

    let nodes = match watch.workloads.reach(&cluster_ref) {
        Reach::Connected(w) => Some(w.nodes.clone()),
        _ => None,
    };
    let before = steps.clone();
    let mut present = HashSet::new();
    let (mut done, mut total) = (
        i64::from(with_control_plane && control_plane_done),
        i64::from(with_control_plane),
    );
    let mut pools_done = true;
    let mut where_now = Vec::new();
    for (pool, planned) in &pools {
        total += planned;
        if in_topology(&cluster, pool).is_none() {
            // Removed from the cluster meanwhile: nothing left to upgrade there.
            done += planned;
            continue;
        }
        let machines = pool_machines(watch, &cluster_ref, pool);
        let mut old = 0i64;
        let (mut ready, mut deleting) = (0i64, 0i64);
        for m in &machines {
            let step = machine_step(pool, m, nodes.as_ref(), &to, control_plane_done);
            if m.spec.version.as_deref() != Some(to.as_str()) {
                old += 1;
            }
            match step.state.as_str() {
                "Ready" => ready += 1,
                "Draining" | "Blocked" => deleting += 1,
                _ => {}
            }
            present.insert(step.subject.clone());
            let step = super::since(&before, step, now_ms);
            steps.insert(step.subject.clone(), step);
        }
        let replaced = (planned - old).clamp(0, *planned);
        done += replaced;
        let desired = watch
            .pools
            .get(&ObjectRef::new(&format!("{}-{pool}", op.name)).within(&op.namespace))
            .and_then(|md| md.spec.replicas)
            .map_or(machines.len() as i64, i64::from);
        let settled =
            old == 0 && deleting == 0 && ready == desired && machines.len() as i64 == desired;
        pools_done &= settled;
        if !settled {
            where_now.push(format!(
                "pool {pool}: {replaced} of {planned} nodes replaced"
            ));
        }
    }
    for (subject, step) in steps.iter_mut() {
        if subject == CONTROL_PLANE || present.contains(subject) {
            continue;
        }
        let gone = match step.state.as_str() {
            "Waiting" | "Draining" | "Blocked" => Some((
                "Replaced",
                format!("drained and removed; replaced by a node on {to}"),
            )),
            "Replaced" | "Removed" => None,
            _ => Some(("Removed", "the machine and its node are gone".to_string())),
        };
        if let Some((state, detail)) = gone {
            step.state = state.into();
            step.detail = detail;
            step.since_ms = now_ms;
        }
    }
    let total = total.max(op.total);
    if (!with_control_plane || control_plane_done) && pools_done {
        let replaced: i64 = pools.iter().map(|(_, n)| n).sum();
        let mut parts = Vec::new();
        if with_control_plane {
            parts.push("control plane upgraded".to_string());
        }
        if !pools.is_empty() {
            let names: Vec<&str> = pools.iter().map(|(n, _)| n.as_str()).collect();
            parts.push(format!(
                "{replaced} node{} replaced in pool{} {}",
                if replaced == 1 { "" } else { "s" },
                if names.len() == 1 { "" } else { "s" },
                names.join(", ")
            ));
        }
        return finish(
            &steps,
            total,
            total,
            format!("Kubernetes {to}: {}", parts.join("; ")),
            Some(End::Succeeded),
        );
    }
    let blocked = steps
        .values()
        .find(|s| s.state == "Blocked")
        .map(|s| format!("Blocked: {}", s.detail));
    let message = blocked.unwrap_or_else(|| {
        if with_control_plane && !control_plane_done {
            format!("control plane rolling out {to}")
        } else {
            where_now.join("; ")
        }
    });
    if now_ms - op.started_at_ms > deadline_ms {
        return finish(
            &steps,
            done,
            total,
            format!(
                "not done after {}: {message}. Cluster API keeps trying: look at the cluster's nodes and events",
                app::operations::model::elapsed(deadline_ms)
            ),
            Some(End::Failed),
        );
    }
    finish(&steps, done, total, message, None)
}
