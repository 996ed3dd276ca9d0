//! One node pool: its MachineDeployment and Machines kept in line with the topology (scale,
//! autoscale, rolling upgrade with surge and drain).

use super::*;

/// A pool being reconciled.
pub(super) struct Pool<'a> {
    pub(super) shared: &'a Shared,
    pub(super) mgmt: &'a Store,
    pub(super) cluster: &'a Value,
    pub(super) ns: &'a str,
    pub(super) name: &'a str,
    pub(super) key: &'a str,
    pub(super) md: &'a Value,
    pub(super) cp_version: &'a str,
    pub(super) wstore: Option<&'a Store>,
    pub(super) idle: &'a HashSet<String>,
}

pub(super) fn annotation_int(md: &Value, key: &str) -> Option<i64> {
    md["metadata"]["annotations"][key]
        .as_str()
        .and_then(|s| s.trim().parse().ok())
}

impl Pool<'_> {
    pub(super) fn reconcile(
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

        if let Some(bounds) = bounds {
            (desired, scaled_up) =
                self.autoscale(rt, pool, bounds, &machines, desired, autoscale_budget, now);
            status.desired = desired;
        }

        self.ensure_machine_deployment(&md_name, pool, desired, &target, existing.as_ref());

        self.join_or_retry(rt, &machines, now);
        let deleting: Vec<&Arc<Obj>> = machines.iter().filter(|m| m.deleting).collect();
        status.blocked =
            retire_machines(self.shared, rt, self.mgmt, self.key, &deleting, now, false);

        if deleting.is_empty() {
            self.converge(rt, &md_name, pool, &target, &machines, now, &mut status);
        }
        if let Some(problem) = self.quota_problem(rt, &md_name, now) {
            status.problem = Some(problem);
        }

        let live = self.count(pool, &target, &mut status);
        self.write_md_status(&md_name, &status, live);
        (status, scaled_up)
    }

    /// The autoscaler's turn (pool bounds `min..=max`): pending pods add a node, a node idle for
    /// long enough goes. The new desired count, and whether it scaled up.
    #[allow(clippy::too_many_arguments)]
    fn autoscale(
        &self,
        rt: &mut Runtime,
        pool: &str,
        (min, max): (i64, i64),
        machines: &[Arc<Obj>],
        mut desired: i64,
        autoscale_budget: bool,
        now: f64,
    ) -> (i64, bool) {
        let mut scaled_up = false;
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
        (desired, scaled_up)
    }

    /// Provisioning machines join as nodes, one at a time; failed ones are replaced after a while.
    fn join_or_retry(&self, rt: &mut Runtime, machines: &[Arc<Obj>], now: f64) {
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
    }

    /// With nothing being deleted: add a machine (to scale up, or to surge one up-to-date machine
    /// before an old one is drained) or delete one (scale down, or the old one after a surge).
    #[allow(clippy::too_many_arguments)]
    fn converge(
        &self,
        rt: &mut Runtime,
        md_name: &str,
        pool: &str,
        target: &str,
        machines: &[Arc<Obj>],
        now: f64,
        status: &mut PoolStatus,
    ) {
        let desired = status.desired;
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
        if !provisioning {
            if total < desired || (total == desired && !outdated.is_empty()) {
                // Scale up, or surge one up-to-date machine before an old one is drained.
                self.create_machine(rt, md_name, pool, target, now, status);
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
    }

    /// Why scale-ups fail for now (the cloud's quota), if they do.
    fn quota_problem(&self, rt: &Runtime, md_name: &str, now: f64) -> Option<String> {
        if let Some(until) = rt.timers.get(&format!("quota/{}/{}", self.ns, md_name))
            && now < *until
        {
            let size = pool_shape(&self.cluster["spec"]["topology"], self.md)
                .size
                .name;
            return Some(format!(
                "scale-up failed: quota exceeded for {size} in this region; retrying"
            ));
        }

        None
    }

    /// The pool's replica counts and versions into `status`; how many machines it has in all.
    fn count(&self, pool: &str, target: &str, status: &mut PoolStatus) -> i64 {
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
        live.len() as i64
    }

    pub(super) fn ensure_machine_deployment(
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

    pub(super) fn create_machine(
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
        if self.shared.faults.take_quota_failure() {
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
            random_suffix(hash_str(self.shared.seed, md_name) ^ rt.seq, 5)
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

    pub(super) fn join(&self, rt: &mut Runtime, m: &Obj) {
        let ns = self.ns;
        if self.shared.faults.take_join_failure() {
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
            seed: self.shared.seed,
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
                json!([{"type": "InternalIP", "address": objects::node_ip(self.shared.seed, &m.name)}]);
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

    pub(super) fn write_md_status(&self, md_name: &str, s: &PoolStatus, all: i64) {
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
