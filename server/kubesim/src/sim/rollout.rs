//! The Deployment controller: one ReplicaSet per pod template, rolled by the Deployment's strategy, with revisions for history and undo.

// As in Kubernetes: a template change (`set image`, `rollout restart`, `rollout undo`) gets a new
// ReplicaSet named after the template's hash; a rolling update grows it by at most maxSurge above
// the wanted count and shrinks the old ones while at most maxUnavailable pods are unavailable. The
// ReplicaSet controller (`workload`) makes and removes the pods, so rolls happen pod by pod.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::resources::id;
use crate::sim::objects;
use crate::store::{Obj, Store};

pub const REVISION: &str = "deployment.kubernetes.io/revision";
pub const TEMPLATE_HASH: &str = "pod-template-hash";
const DESIRED: &str = "deployment.kubernetes.io/desired-replicas";
const MAX: &str = "deployment.kubernetes.io/max-replicas";
/// Annotations that belong to the controller or to kubectl, never copied to a ReplicaSet.
const NOT_COPIED: [&str; 4] = [
    REVISION,
    DESIRED,
    MAX,
    "kubectl.kubernetes.io/last-applied-configuration",
];

/// A value without its empty parts (null, "", false, 0, {}, []): a template read back through a
/// typed client loses them (Go's `omitempty`) and must still be the same template.
fn meaningful(v: &Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::Bool(false) => None,
        Value::Number(n) if n.as_f64() == Some(0.0) => None,
        Value::Object(m) => {
            let kept: Map<String, Value> = m
                .iter()
                .filter_map(|(k, x)| meaningful(x).map(|x| (k.clone(), x)))
                .collect();
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        Value::Array(a) if a.is_empty() => None,
        Value::Array(a) => Some(Value::Array(
            a.iter()
                .map(|x| meaningful(x).unwrap_or(Value::Null))
                .collect(),
        )),
        other => Some(other.clone()),
    }
}

/// The pod-template-hash of a template: the same for equal templates (FNV-1a of its meaningful
/// JSON, written with the characters Kubernetes uses for generated names).
pub fn template_hash(template: &Value) -> String {
    let mut t = template.clone();
    if let Some(labels) = t["metadata"]["labels"].as_object_mut() {
        labels.remove(TEMPLATE_HASH);
    }
    let text = meaningful(&t).unwrap_or(Value::Null).to_string();
    let mut h: u32 = 0x811c_9dc5;
    for b in text.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    const SAFE: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    h.to_string()
        .bytes()
        .map(|b| char::from(SAFE[usize::from(b) % SAFE.len()]))
        .collect()
}

fn revision(rs: &Value) -> i64 {
    rs["metadata"]["annotations"][REVISION]
        .as_str()
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

fn replicas(v: &Value) -> i64 {
    v["spec"]["replicas"].as_i64().unwrap_or(0).max(0)
}

/// maxSurge / maxUnavailable of `desired`: a count or a percentage (rounded up for surge, down
/// for unavailable, as Kubernetes does).
fn amount(v: &Value, desired: i64, round_up: bool) -> i64 {
    match v {
        Value::Number(n) => n.as_i64().unwrap_or(0).max(0),
        Value::String(s) => match s.strip_suffix('%').and_then(|p| p.parse::<i64>().ok()) {
            Some(p) if round_up => (p.max(0) * desired + 99) / 100,
            Some(p) => p.max(0) * desired / 100,
            None => s.parse().unwrap_or(0),
        },
        _ => 0,
    }
}

/// (maxSurge, maxUnavailable) of a Deployment; never both zero.
fn limits(d: &Value, desired: i64) -> (i64, i64) {
    let rolling = &d["spec"]["strategy"]["rollingUpdate"];
    let surge = amount(&rolling["maxSurge"], desired, true);
    let unavailable = amount(&rolling["maxUnavailable"], desired, false);
    if surge == 0 && unavailable == 0 {
        (0, 1)
    } else {
        (surge, unavailable)
    }
}

/// The ReplicaSets each Deployment controls (not being deleted), by the Deployment's uid, oldest
/// revision first.
pub fn sets_by_owner(sets: &[Arc<Obj>]) -> HashMap<String, Vec<Value>> {
    let mut out: HashMap<String, Vec<Value>> = HashMap::new();
    for rs in sets.iter().filter(|rs| !rs.deleting) {
        let v = rs.value();
        let owner = v["metadata"]["ownerReferences"]
            .as_array()
            .and_then(|refs| {
                refs.iter()
                    .find(|r| r["kind"] == "Deployment" && r["controller"] == true)
            })
            .and_then(|r| r["uid"].as_str())
            .map(String::from);
        if let Some(uid) = owner {
            out.entry(uid).or_default().push(v);
        }
    }
    for list in out.values_mut() {
        list.sort_by_key(revision);
    }
    out
}

fn uid(d: &Value) -> &str {
    d["metadata"]["uid"].as_str().unwrap_or_default()
}

fn copied_annotations(d: &Value) -> Map<String, Value> {
    d["metadata"]["annotations"]
        .as_object()
        .map(|a| {
            a.iter()
                .filter(|(k, _)| !NOT_COPIED.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

fn new_replica_set(d: &Value, hash: &str, revision: i64, count: i64, max: i64) -> Value {
    let name = d["metadata"]["name"].as_str().unwrap_or_default();
    let mut template = d["spec"]["template"].clone();
    template["metadata"]["labels"][TEMPLATE_HASH] = json!(hash);
    let mut selector = d["spec"]["selector"].clone();
    selector["matchLabels"][TEMPLATE_HASH] = json!(hash);
    let mut annotations = copied_annotations(d);
    annotations.insert(REVISION.into(), json!(revision.to_string()));
    annotations.insert(DESIRED.into(), json!(replicas(d).to_string()));
    annotations.insert(MAX.into(), json!(max.to_string()));
    json!({
        "metadata": {
            "name": format!("{name}-{hash}"),
            "namespace": d["metadata"]["namespace"],
            "labels": template["metadata"]["labels"],
            "annotations": annotations,
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                "uid": d["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true}],
        },
        "spec": {"replicas": count, "minReadySeconds": d["spec"]["minReadySeconds"].as_i64().unwrap_or(0),
                 "selector": selector, "template": template},
    })
}

fn set_replicas(store: &Store, rs: &Value, count: i64, d: &Value, max: i64) {
    let ns = rs["metadata"]["namespace"].as_str().unwrap_or_default();
    let name = rs["metadata"]["name"].as_str().unwrap_or_default();
    let desired = replicas(d).to_string();
    store.modify(id::REPLICA_SETS, ns, name, |v| {
        v["spec"]["replicas"] = json!(count);
        v["metadata"]["annotations"][DESIRED] = json!(desired);
        v["metadata"]["annotations"][MAX] = json!(max.to_string());
    });
}

/// Rolls every Deployment one step towards its template and replica count; true when it changed
/// something.
pub fn deployments(store: &Store) -> bool {
    let sets = sets_by_owner(&store.all(id::REPLICA_SETS));
    let mut rolling = false;
    for d in store.all(id::DEPLOYMENTS) {
        if d.deleting {
            continue;
        }
        let v = d.value();
        let mine = sets.get(uid(&v)).map(Vec::as_slice).unwrap_or_default();
        rolling |= roll(store, mine, &d, &v);
    }
    rolling
}

fn roll(store: &Store, mine: &[Value], d_obj: &Obj, d: &Value) -> bool {
    let desired = replicas(d);
    let hash = template_hash(&d["spec"]["template"]);
    let newest = mine.last().map(revision).unwrap_or(0);
    let (surge, unavailable) = limits(d, desired);
    let recreate = d["spec"]["strategy"]["type"] == "Recreate";
    let current = mine
        .iter()
        .find(|rs| rs["metadata"]["labels"][TEMPLATE_HASH] == hash.as_str());
    let olds: Vec<&Value> = mine
        .iter()
        .filter(|rs| rs["metadata"]["labels"][TEMPLATE_HASH] != hash.as_str())
        .collect();
    let old_total: i64 = olds.iter().map(|rs| replicas(rs)).sum();
    let max_total = desired + surge;
    if d["spec"]["paused"].as_bool() == Some(true) {
        // A paused Deployment only scales what it runs.
        if let Some(rs) = current.or(mine.last())
            && replicas(rs) != desired
            && old_total == 0
        {
            set_replicas(store, rs, desired, d, max_total);
        }
        revision_annotation(store, d_obj, newest);
        return false;
    }
    let current = match current {
        Some(rs) => {
            // A template seen before (a rollback) becomes the newest revision again.
            if revision(rs) < newest {
                let ns = &*d_obj.namespace;
                let name = rs["metadata"]["name"].as_str().unwrap_or_default();
                store.modify(id::REPLICA_SETS, ns, name, |v| {
                    v["metadata"]["annotations"][REVISION] = json!((newest + 1).to_string());
                });
                revision_annotation(store, d_obj, newest + 1);
                return true;
            }
            rs.clone()
        }
        None => {
            let start = if olds.is_empty() { desired } else { 0 };
            let rs = new_replica_set(d, &hash, newest + 1, start, max_total);
            let _ = store.create(id::REPLICA_SETS, rs);
            revision_annotation(store, d_obj, newest + 1);
            return true;
        }
    };
    revision_annotation(store, d_obj, revision(&current));
    let new_count = replicas(&current);
    let available = |rs: &Value| rs["status"]["availableReplicas"].as_i64().unwrap_or(0);
    let mut moved = false;
    if recreate {
        // Every old pod goes before a new one starts.
        if old_total > 0 {
            for rs in &olds {
                if replicas(rs) > 0 {
                    set_replicas(store, rs, 0, d, desired);
                }
            }
            return true;
        }
        let old_pods: i64 = olds
            .iter()
            .map(|rs| rs["status"]["replicas"].as_i64().unwrap_or(0))
            .sum();
        if old_pods == 0 && new_count != desired {
            set_replicas(store, &current, desired, d, desired);
            moved = true;
        }
    } else {
        // Up: the new set grows while the total stays within desired + maxSurge.
        let target = if new_count > desired || old_total == 0 {
            desired
        } else {
            (max_total - old_total).clamp(new_count, desired)
        };
        if target != new_count {
            set_replicas(store, &current, target, d, max_total);
            moved = true;
        }
        // Down: old sets shrink while at least desired - maxUnavailable pods stay available;
        // old pods that are not available can go at once.
        let all_available: i64 = mine.iter().map(available).sum();
        let mut can_remove = (all_available - (desired - unavailable)).max(0);
        for rs in &olds {
            let count = replicas(rs);
            if count == 0 {
                continue;
            }
            let unhealthy = (count - available(rs)).max(0);
            let remove = (unhealthy + can_remove).min(count);
            can_remove -= (remove - unhealthy).max(0);
            if remove > 0 {
                set_replicas(store, rs, count - remove, d, max_total);
                moved = true;
            }
        }
    }
    cleanup(store, d, &olds);
    // Waiting for pods to become available is not work: their status changes wake the loop.
    moved
}

fn revision_annotation(store: &Store, d: &Obj, revision: i64) {
    let value = revision.to_string();
    if revision == 0 || d.value()["metadata"]["annotations"][REVISION] == value.as_str() {
        return;
    }
    store.modify(id::DEPLOYMENTS, &d.namespace, &d.name, |v| {
        if !v["metadata"]["annotations"].is_object() {
            v["metadata"]["annotations"] = json!({});
        }
        v["metadata"]["annotations"][REVISION] = json!(value);
    });
}

/// Old ReplicaSets scaled to nothing beyond `revisionHistoryLimit` are deleted, oldest first.
fn cleanup(store: &Store, d: &Value, olds: &[&Value]) {
    let limit = d["spec"]["revisionHistoryLimit"]
        .as_i64()
        .unwrap_or(10)
        .max(0) as usize;
    let idle: Vec<&&Value> = olds
        .iter()
        .filter(|rs| replicas(rs) == 0 && rs["status"]["replicas"].as_i64().unwrap_or(0) == 0)
        .collect();
    if idle.len() <= limit {
        return;
    }
    for rs in idle.iter().take(idle.len() - limit) {
        let ns = rs["metadata"]["namespace"].as_str().unwrap_or_default();
        let name = rs["metadata"]["name"].as_str().unwrap_or_default();
        let _ = store.delete(id::REPLICA_SETS, ns, name);
    }
}

/// Deployment status from its ReplicaSets, with the conditions `kubectl rollout status` reads.
pub fn deployment_status(store: &Store) {
    let sets = sets_by_owner(&store.all(id::REPLICA_SETS));
    for d_obj in store.all(id::DEPLOYMENTS) {
        let d = d_obj.value();
        let mine = sets.get(uid(&d)).map(Vec::as_slice).unwrap_or_default();
        let hash = template_hash(&d["spec"]["template"]);
        let count = |rs: &Value, key: &str| rs["status"][key].as_i64().unwrap_or(0);
        let total: i64 = mine.iter().map(|rs| count(rs, "replicas")).sum();
        let ready: i64 = mine.iter().map(|rs| count(rs, "readyReplicas")).sum();
        let available: i64 = mine.iter().map(|rs| count(rs, "availableReplicas")).sum();
        let current = mine
            .iter()
            .find(|rs| rs["metadata"]["labels"][TEMPLATE_HASH] == hash.as_str());
        let updated = current.map(|rs| count(rs, "replicas")).unwrap_or(0);
        let desired = replicas(&d);
        let (_, unavailable) = limits(&d, desired);
        let is_available = available >= desired - unavailable;
        let complete = updated == desired && total == desired && available == desired;
        let rs_name = current
            .and_then(|rs| rs["metadata"]["name"].as_str())
            .unwrap_or_default()
            .to_string();
        let progressing = if complete {
            json!({"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                   "message": format!("ReplicaSet \"{rs_name}\" has successfully progressed.")})
        } else {
            json!({"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated",
                   "message": format!("ReplicaSet \"{rs_name}\" is progressing.")})
        };
        let availability = if is_available {
            json!({"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                   "message": "Deployment has minimum availability."})
        } else {
            json!({"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable",
                   "message": "Deployment does not have minimum availability."})
        };
        let old = d["status"]["conditions"].clone();
        let mut status = json!({"observedGeneration": d["metadata"]["generation"], "replicas": total,
            "updatedReplicas": updated, "readyReplicas": ready, "availableReplicas": available,
            "conditions": objects::conditions(&old, vec![availability, progressing], &Value::Null)});
        if desired - available > 0 {
            status["unavailableReplicas"] = json!(desired - available);
        }
        if d["status"] != status {
            store.modify(id::DEPLOYMENTS, &d_obj.namespace, &d_obj.name, |v| {
                v["status"] = status;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_templates_hash_alike_and_the_hash_label_is_left_out() {
        let t = json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}});
        let mut labelled = t.clone();
        labelled["metadata"]["labels"][TEMPLATE_HASH] = json!("x");
        let mut other = t.clone();
        other["spec"]["containers"][0]["image"] = json!("nginx:1.28");
        assert_eq!(template_hash(&t), template_hash(&labelled));
        assert_ne!(template_hash(&t), template_hash(&other));
        // What a typed client drops on the way back is not a change.
        let mut verbose = t.clone();
        verbose["spec"]["hostIPC"] = json!(false);
        verbose["spec"]["containers"][0]["workingDir"] = json!("");
        verbose["metadata"]["creationTimestamp"] = Value::Null;
        assert_eq!(template_hash(&t), template_hash(&verbose));
        assert!(
            template_hash(&t)
                .chars()
                .all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c))
        );
    }

    #[test]
    fn surge_rounds_up_and_unavailable_down() {
        let d = json!({"spec": {"strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}}});
        assert_eq!(limits(&d, 3), (1, 0));
        assert_eq!(limits(&d, 10), (3, 2));
        let none =
            json!({"spec": {"strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}}}});
        assert_eq!(limits(&none, 4), (0, 1));
    }
}
