//! Machines leaving: drained, their nodes removed, their finalizers released.

use super::*;

/// Drains and removes deleting machines; returns why a drain is blocked, if it is.
pub(super) fn retire_machines(
    shared: &Shared,
    rt: &mut Runtime,
    mgmt: &Store,
    key: &str,
    deleting: &[&Arc<Obj>],
    now: f64,
    skip_drain: bool,
) -> Option<String> {
    let wstore = shared.workload(key).map(|w| w.store);
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

pub(super) fn set_deleting(mgmt: &Store, m: &Obj, reason: &str, message: &str) {
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
