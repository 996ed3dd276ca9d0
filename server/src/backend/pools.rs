//! Scaling node pools and setting their autoscaler: checked against the class's limits and the
//! cluster's last system pool, warned about when a scale-down would strand pods, never over a
//! change someone made meanwhile, started as an operation and recorded.

use std::collections::{BTreeSet, HashMap};

use app::access::model::{ClusterRef, Principal};
use app::clusters::model::{PoolChange, PoolRow, Shrink};
use app::error::AppError;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, ListParams};
use serde_json::{Value, json};

use super::PortalBackend;
use super::change::{Built, Change};
use crate::fleet::resources::{CLUSTER_NAME_LABEL, Cluster, POOL_NAME_LABEL};
use crate::fleet::{drain, nodes, pools, within};
use crate::operations::pool::{Goal, in_topology};
use crate::store::audit::{self, Outcome};
use crate::store::operations as ops;

/// The message of a change over a pool that changed after the form was opened.
fn changed(pool: &str, now: &str) -> String {
    let now = match now.strip_prefix("auto:") {
        Some(b) => format!("autoscaling between {}", b.replace('-', " and ")),
        None => format!("{now} node{}", if now == "1" { "" } else { "s" }),
    };
    format!("pool {pool} changed since you opened it: now {now} — review and apply again")
}

/// A node count as typed: a whole number from `floor` to `limit`.
fn count_in(text: &str, what: &str, floor: u32, limit: u32) -> Result<u32, String> {
    let t = text.trim();
    let shown: String = t.chars().take(20).collect();
    let n: u32 = match t.parse::<i64>() {
        Ok(n) if n < 0 => return Err(format!("{what} cannot be negative (it was {n})")),
        Ok(n) => u32::try_from(n).unwrap_or(u32::MAX),
        Err(_) if t.is_empty() => return Err(format!("{what} is missing: type a whole number")),
        Err(_) => {
            return Err(format!(
                "{what} must be a whole number of nodes, not \"{shown}\""
            ));
        }
    };
    if n > limit {
        return Err(format!(
            "{what} is {n}: this cluster's class allows at most {limit} nodes per pool"
        ));
    }
    if n < floor {
        return Err(format!(
            "{what} must be at least {floor}: this is the cluster's last system pool, where its system pods run"
        ));
    }
    Ok(n)
}

/// The goal a change asks for, checked against the pool as it is now.
fn goal_of(c: &PoolChange, row: &PoolRow) -> Result<Goal, String> {
    match c.what.as_str() {
        "count" => {
            if let Some((min, max)) = row.bounds {
                return Err(format!(
                    "the autoscaler sets pool {}'s node count ({min}–{max}): turn autoscaling off to scale it by hand",
                    row.name
                ));
            }
            count_in(&c.count, "the node count", row.floor, row.limit).map(Goal::Count)
        }
        "autoscale" => {
            let min = count_in(&c.min, "the minimum", row.floor, row.limit)?;
            let max = count_in(&c.max, "the maximum", row.floor.max(1), row.limit)?;
            if min > max {
                return Err(format!("the minimum ({min}) is above the maximum ({max})"));
            }
            Ok(Goal::Bounds(min, max))
        }
        "fixed" => match row.bounds {
            Some(_) => Ok(Goal::Count(row.count.max(row.floor))),
            None => Err(format!("pool {} is not autoscaled", row.name)),
        },
        _ => Err("unknown change: use Apply, Autoscale or Turn autoscaling off".into()),
    }
}

/// `~` and `/` escaped for a JSON pointer.
pub(super) fn pointer_escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The JSON patch that makes pool `index` of `cluster` reach `goal` (only while that index still
/// holds that pool).
fn patch_for(cluster: &Cluster, index: usize, goal: &Goal) -> Vec<Value> {
    let base = format!("/spec/topology/workers/machineDeployments/{index}");
    let Some((_, pool)) = cluster
        .spec
        .topology
        .as_ref()
        .and_then(|t| t.workers.as_ref())
        .and_then(|w| w.machine_deployments.get(index))
        .map(|p| (index, p))
    else {
        return Vec::new();
    };
    let mut ops = vec![json!({"op": "test", "path": format!("{base}/name"), "value": pool.name})];
    let annotations = pool.metadata.as_ref().and_then(|m| m.annotations.as_ref());
    let has = |k: &str| annotations.is_some_and(|a| a.contains_key(k));
    match goal {
        Goal::Count(n) => {
            ops.push(json!({"op": "add", "path": format!("{base}/replicas"), "value": n}));
            for k in [pools::AUTOSCALER_MIN, pools::AUTOSCALER_MAX] {
                if has(k) {
                    ops.push(json!({"op": "remove",
                        "path": format!("{base}/metadata/annotations/{}", pointer_escape(k))}));
                }
            }
        }
        Goal::Bounds(min, max) => {
            let wanted = [
                (pools::AUTOSCALER_MIN, min.to_string()),
                (pools::AUTOSCALER_MAX, max.to_string()),
            ];
            if pool.metadata.is_none() {
                ops.push(json!({"op": "add", "path": format!("{base}/metadata"), "value": {}}));
            }
            if annotations.is_none() {
                ops.push(json!({"op": "add", "path": format!("{base}/metadata/annotations"), "value": {}}));
            }
            for (k, v) in wanted {
                ops.push(json!({"op": "add",
                    "path": format!("{base}/metadata/annotations/{}", pointer_escape(k)), "value": v}));
            }
            // The autoscaler owns the count now (Cluster API's advice: no replicas beside it).
            if pool.replicas.is_some() {
                ops.push(json!({"op": "remove", "path": format!("{base}/replicas")}));
            }
        }
    }
    ops
}

/// The warning a scale-down to `s.to` needs confirmed, if any.
fn warning(pool: &str, s: &Shrink) -> Option<String> {
    let mut why = Vec::new();
    if !s.fits {
        why.push(format!(
            "{} pod{} would have to move and they do not fit on the remaining nodes",
            s.pods,
            if s.pods == 1 { "" } else { "s" }
        ));
    }
    if !s.blocked_by.is_empty() {
        why.push(format!(
            "PodDisruptionBudget {} allows no disruption now, so draining would stall",
            s.blocked_by.join(", ")
        ));
    }
    (!why.is_empty()).then(|| {
        format!(
            "scaling pool {pool} down to {} node{} needs confirming: {}. Tick \"Scale down anyway\" and apply again",
            s.to,
            if s.to == 1 { "" } else { "s" },
            why.join("; ")
        )
    })
}

impl PortalBackend {
    /// What shrinking each pool would disrupt (left empty when the workload cluster cannot be
    /// reached: the warnings are then given when Apply is pressed, if it can be reached then).
    pub(super) async fn add_shrinks(&self, cluster: &ClusterRef, rows: &mut [PoolRow]) {
        let Ok(workload) = self.workload(cluster) else {
            return;
        };
        let Ok(pods) = workload.pods().await else {
            return;
        };
        let pods = pods.state();
        let by_node = self.pools_by_node(cluster);
        let held = nodes::loads(pods.iter());
        let moving = nodes::loads(pods.iter().filter(|p| !p.owner.starts_with("DaemonSet/")));
        let rooms: Vec<drain::Room> = workload
            .nodes
            .state()
            .iter()
            .map(|n| {
                let name = n.metadata.name.clone().unwrap_or_default();
                drain::room(
                    n,
                    by_node.get(&name).map(String::as_str).unwrap_or_default(),
                    held.get(&name),
                )
            })
            .collect();
        let blocked = blocked_nodes(&workload.client).await;
        let Ok(watch) = self.watch() else {
            return;
        };
        let machines = watch.machines.state();
        for row in rows.iter_mut() {
            let mut mine: Vec<_> = machines
                .iter()
                .filter(|m| {
                    m.metadata.namespace.as_deref() == Some(cluster.namespace.as_str())
                        && m.metadata.deletion_timestamp.is_none()
                        && m.metadata.labels.as_ref().is_some_and(|l| {
                            l.get(CLUSTER_NAME_LABEL) == Some(&cluster.name)
                                && l.get(POOL_NAME_LABEL) == Some(&row.name)
                        })
                })
                .collect();
            // Newest first: those go first.
            mine.sort_by(|a, b| {
                b.metadata
                    .creation_timestamp
                    .cmp(&a.metadata.creation_timestamp)
                    .then_with(|| b.metadata.name.cmp(&a.metadata.name))
            });
            let node_names: Vec<String> = mine
                .iter()
                .filter_map(|m| Some(m.status.as_ref()?.node_ref.as_ref()?.name.clone()))
                .collect();
            row.shrink = drain::shrinks(&node_names, &moving, &rooms, &blocked);
        }
    }

    /// The running operation of each pool, if any (one query for the cluster).
    pub(super) async fn add_running(&self, cluster: &ClusterRef, rows: &mut [PoolRow]) {
        let Ok(running) = ops::running_in(&self.core.db, &cluster.namespace, &cluster.name).await
        else {
            return;
        };
        for row in rows.iter_mut() {
            let target = format!("pool {}", row.name);
            row.running = running
                .iter()
                .find(|op| op.target == target)
                .map(|op| op.id.clone());
        }
    }

    /// Changes a pool's size as `c` asks (`by` may scale it, checked by the caller); the id of
    /// the operation that follows it. Refusals are recorded with why.
    pub(super) async fn change_pool(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        c: PoolChange,
    ) -> Result<String, AppError> {
        // Only clusters the caller may see: the same "not found" as a missing one.
        self.visible(by, cluster).await?;
        let action = if c.what == "count" {
            "scale-pool"
        } else {
            "autoscale-pool"
        };
        let result = self.try_change_pool(by, cluster, &c, action).await;
        if let Err(e) = &result {
            let shown = |s: &str| s.chars().take(64).collect::<String>();
            let asked = json!({"pool": shown(&c.pool), "count": shown(&c.count),
                               "min": shown(&c.min), "max": shown(&c.max), "change": shown(&c.what)});
            let target = format!("cluster/{cluster}");
            let change = audit::Change::accepted(action, &target, asked)
                .ended(Outcome::Failed, e.to_string());
            self.record(by, change).await?;
        }
        result
    }

    async fn try_change_pool(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        c: &PoolChange,
        action: &str,
    ) -> Result<String, AppError> {
        let shown: String = c.pool.chars().take(64).collect();
        let target = format!("pool {shown}");
        let shown = &shown;
        self.operate(by, cluster, &c.key, action, &target, move |current, _| -> Built<'_> {
            Box::pin(async move {
            let current = &current;
            let Some((index, pool)) = in_topology(current, &c.pool) else {
                return Err(AppError::BadRequest(format!(
                    "there is no node pool \"{shown}\" in cluster {cluster}"
                )));
            };
            let seen = pools::sizing(pool);
            if c.was.trim() != seen {
                return Err(AppError::Conflict {
                    message: changed(&pool.name, &seen),
                    current: Some(seen),
                });
            }
            let mut rows = self.pool_rows(current, cluster)?;
            let Some(row) = rows.iter_mut().find(|r| r.name == pool.name) else {
                return Err(AppError::BadRequest("the pool could not be read".into()));
            };
            let goal = goal_of(c, row).map_err(AppError::BadRequest)?;
            if let Goal::Count(to) = goal
                && to < row.count
                && !c.confirmed
            {
                self.add_shrinks(cluster, std::slice::from_mut(row)).await;
                if let Some(w) = row
                    .shrink
                    .iter()
                    .find(|s| s.to == to)
                    .and_then(|s| warning(&row.name, s))
                {
                    return Err(AppError::BadRequest(w));
                }
            }
            let (to, min, max) = match goal {
                Goal::Count(n) => (Some(n), None, None),
                Goal::Bounds(min, max) => (None, Some(min), Some(max)),
            };
            Ok(Change {
                patch: patch_for(current, index, &goal),
                parameters: json!({"pool": pool.name, "from": row.count, "before": seen,
                    "after": goal.sizing(), "to": to, "min": min, "max": max}),
                total: match goal {
                    Goal::Count(to) => i64::from(to.abs_diff(row.count)),
                    Goal::Bounds(..) => 1,
                },
                steps: crate::operations::pool::steps_now(self.watch()?, cluster, &pool.name),
                recorded: json!({"pool": pool.name, "before": seen, "after": goal.sizing()}),
            })
            })
        })
        .await
    }
}

/// Each node's pods covered by a PodDisruptionBudget that allows no disruption now.
async fn blocked_nodes(client: &kube::Client) -> HashMap<String, BTreeSet<String>> {
    let mut out: HashMap<String, BTreeSet<String>> = HashMap::new();
    for (name, pods) in blocking_budgets(client).await {
        for (_, node) in pods {
            out.entry(node).or_default().insert(name.clone());
        }
    }
    out
}

/// The PodDisruptionBudgets that allow no disruption now (`namespace/name`), each with the pods
/// it covers (`namespace/pod`) and their nodes. Empty when the budgets cannot be listed.
pub(super) async fn blocking_budgets(
    client: &kube::Client,
) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    let pdbs: Api<PodDisruptionBudget> = Api::all(client.clone());
    let Ok(list) = within(
        "list PodDisruptionBudgets",
        pdbs.list(&ListParams::default()),
    )
    .await
    else {
        return out;
    };
    for pdb in drain::blocking(&list.items) {
        let namespace = pdb.metadata.namespace.clone().unwrap_or_default();
        let name = format!(
            "{namespace}/{}",
            pdb.metadata.name.clone().unwrap_or_default()
        );
        let Some(selector) = pdb
            .spec
            .as_ref()
            .and_then(|s| s.selector.as_ref())
            .and_then(drain::selector_text)
        else {
            continue;
        };
        let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
        let Ok(covered) = within::<_>(
            "list the pods a PodDisruptionBudget covers",
            pods.list(&ListParams::default().labels(&selector)),
        )
        .await
        else {
            continue;
        };
        let on_nodes = covered
            .items
            .into_iter()
            .filter_map(|pod| {
                let pod_name = format!("{namespace}/{}", pod.metadata.name.unwrap_or_default());
                Some((pod_name, pod.spec?.node_name?))
            })
            .collect();
        out.push((name, on_nodes));
    }
    out
}
