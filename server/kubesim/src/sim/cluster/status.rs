//! A Cluster's and its pools' status: conditions in Cluster API v1beta2 terms, replica counts.

use super::*;

pub(super) struct ControlPlane {
    pub(super) replicas: i64,
    pub(super) version: String,
    pub(super) target: String,
    pub(super) upgrading: bool,
    pub(super) up: bool,
}

/// A pool's state after reconciling, for the Cluster's status.
#[derive(Default)]
pub(super) struct PoolStatus {
    pub(super) name: String,
    pub(super) desired: i64,
    pub(super) replicas: i64,
    pub(super) ready: i64,
    pub(super) up_to_date: i64,
    pub(super) versions: BTreeMap<String, i64>,
    pub(super) blocked: Option<String>,
    pub(super) problem: Option<String>,
    pub(super) deferred: bool,
}

pub(super) fn cluster_conditions(
    stage: Stage,
    cp: &ControlPlane,
    pools: &[PoolStatus],
) -> Vec<Value> {
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

pub(super) fn versions_list(map: &BTreeMap<String, i64>) -> Value {
    json!(
        map.iter()
            .filter(|(_, n)| **n > 0)
            .map(|(v, n)| json!({"version": v, "replicas": n}))
            .collect::<Vec<_>>()
    )
}

pub(super) fn write_status(
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
                "upToDateReplicas": up_to_date});
            // The CRD wants at least one entry when the list is there at all.
            if versions.values().any(|n| *n > 0) {
                status["controlPlane"]["versions"] = versions_list(&versions);
            }
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
                "upToDateReplicas": pools.iter().map(|p| p.up_to_date).sum::<i64>()});
            if versions.values().any(|n| *n > 0) {
                status["workers"]["versions"] = versions_list(&versions);
            }
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

pub(super) fn write_kubeconfig_secret(
    shared: &Shared,
    mgmt: &Store,
    cluster: &Value,
    ns: &str,
    name: &str,
) {
    let key = Shared::key(ns, name);
    let Some(config) = shared.workload_kubeconfig(&key, name) else {
        return;
    };
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
