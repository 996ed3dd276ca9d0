//! Deleting a cluster: pools first, then the control plane, then the Cluster itself.

use super::*;

/// Tears a deleting Cluster down: Machines one per step, then everything else, then the finalizer.
#[allow(clippy::too_many_arguments)]
pub(super) fn delete(
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
    let mine: Vec<&Arc<Obj>> = machines
        .iter()
        .filter(|m| *m.namespace == *ns && m.field("x.cluster") == name)
        .collect();
    let step_due = rt
        .clusters
        .get(uid)
        .is_some_and(|progress| now - progress.last_delete_step >= timing::DELETE_STEP);
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
        if let Some(progress) = rt.clusters.get_mut(uid) {
            progress.last_delete_step = now;
        }
        if let Some(m) = mine.first() {
            if let Some(w) = shared.workload(&key) {
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
            shared.remove_workload(&key);
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
