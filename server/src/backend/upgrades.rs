//! Upgrading Kubernetes: where a cluster may go (Cluster API's topology version, one minor at a
//! time, pools within the skew rules), the preflight of a choice, and the change itself — a JSON
//! patch of the topology based on what the person saw, followed as an operation and recorded.

use std::collections::{BTreeMap, HashMap};

use app::access::model::{Action, ClusterRef, Principal, Target};
use app::clusters::model::PoolRow;
use app::error::AppError;
use app::upgrades::backend::{UpgradeRequest, UpgradesBackend};
use app::upgrades::model::{
    BlockingBudget, PoolPlan, PoolVersion, Preflight, Scope, UpgradeView, VersionChoice, Versions,
};
use serde_json::{Value, json};

use super::PortalBackend;
use super::change::{Built, Change};
use super::pools::{blocking_budgets, pointer_escape};
use crate::access::may;
use crate::error::internal;
use crate::fleet::pools;
use crate::fleet::resources::{Cluster, PoolTopology};
use crate::fleet::versions::{self, Version};
use crate::store::audit::{self, Outcome};
use crate::store::operations as ops;

/// What the estimate counts for the control plane (one minor, three replicas on a cloud) and for
/// each node (surge, join, cordon, drain, delete) — typical managed-cluster figures.
const CONTROL_PLANE_MINUTES: u32 = 10;
const NODE_MINUTES: u32 = 5;

/// The pools of `c` in topology order.
fn topology_pools(c: &Cluster) -> &[PoolTopology] {
    c.spec
        .topology
        .as_ref()
        .and_then(|t| t.workers.as_ref())
        .map(|w| w.machine_deployments.as_slice())
        .unwrap_or_default()
}

/// What an upgrade form saw: the topology's version and the pools held back. A change to either
/// since is a conflict.
fn seen(c: &Cluster) -> String {
    let version = c
        .spec
        .topology
        .as_ref()
        .map(|t| t.version.as_str())
        .unwrap_or_default();
    let held: Vec<&str> = topology_pools(c)
        .iter()
        .filter(|p| pools::deferred(p))
        .map(|p| p.name.as_str())
        .collect();
    format!("{version};{}", held.join(","))
}

/// Why the cluster is upgrading without the portal (Cluster API's RollingOut), if it is.
fn rolling_out(c: &Cluster) -> Option<String> {
    let topology_version = Version::parse(&c.spec.topology.as_ref()?.version)?;
    let status = c.status.as_ref()?;
    let rolling = status
        .conditions
        .iter()
        .find(|k| k.type_ == "RollingOut" && k.status == "True");
    match (rolling, versions::control_plane_now(c)) {
        (Some(k), _) => Some(k.message.clone().unwrap_or_else(|| "rolling out".into())),
        (None, Some(now)) if now != topology_version => Some(format!(
            "the control plane is moving from {now} to {topology_version}"
        )),
        _ => None,
    }
}

/// Pools as the Versions table shows them, from the pool rows and the topology.
fn pool_versions(c: &Cluster, rows: &[PoolRow], control_plane: Version) -> Vec<PoolVersion> {
    topology_pools(c)
        .iter()
        .map(|p| {
            let row = rows.iter().find(|r| r.name == p.name);
            let version = row.map(|r| r.version.clone()).unwrap_or_default();
            let blocked = match Version::parse(&version) {
                Some(v) if v == control_plane => None,
                Some(_) if !pools::deferred(p) => {
                    Some("it is being upgraded by Cluster API already".to_string())
                }
                Some(_) => None,
                None => Some("its version is not known".to_string()),
            };
            PoolVersion {
                name: p.name.clone(),
                version,
                nodes: row.map(|r| r.count).unwrap_or(0),
                deferred: pools::deferred(p),
                blocked,
            }
        })
        .collect()
}

/// What the choice (`to`, `scope`) would do, or why it cannot be made.
fn plan(
    v: &Versions,
    offered: &[Version],
    rows: &[PoolRow],
    to: &str,
    scope: &Scope,
) -> Result<Preflight, String> {
    let current = Version::parse(&v.control_plane)
        .ok_or_else(|| "the control plane's version is not known".to_string())?;
    let price = |name: &str| {
        rows.iter()
            .find(|r| r.name == name)
            .map(|r| r.price_micros)
            .unwrap_or(0)
    };
    let (to, control_plane, moving): (Version, bool, Vec<&PoolVersion>) = match scope {
        Scope::All | Scope::ControlPlane => {
            let to = versions::target(current, to, offered)?;
            let moving = match scope {
                Scope::All => v
                    .pools
                    .iter()
                    .filter(|p| p.version != to.to_string())
                    .collect(),
                _ => Vec::new(),
            };
            (to, true, moving)
        }
        Scope::Pool(name) => {
            let shown: String = name.chars().take(64).collect();
            let pool = v
                .pools
                .iter()
                .find(|p| p.name == *name)
                .ok_or_else(|| format!("there is no node pool \"{shown}\" in this cluster"))?;
            if pool.version == v.control_plane {
                return Err(format!(
                    "pool {shown} runs the control plane's version ({}) already",
                    v.control_plane
                ));
            }
            if to.trim() != v.control_plane {
                return Err(format!(
                    "pool {shown} can only be upgraded to the control plane's version, {}",
                    v.control_plane
                ));
            }
            if let Some(why) = &pool.blocked {
                return Err(format!("pool {shown} cannot be upgraded now: {why}"));
            }
            (current, false, vec![pool])
        }
    };
    let skew = match scope {
        Scope::ControlPlane => v
            .pools
            .iter()
            .filter_map(|p| versions::skew(&p.name, Version::parse(&p.version)?, to))
            .collect(),
        Scope::All | Scope::Pool(_) => Vec::new(),
    };
    let pools: Vec<PoolPlan> = moving
        .iter()
        .map(|p| PoolPlan {
            name: p.name.clone(),
            from: p.version.clone(),
            nodes: p.nodes,
            price_micros: price(&p.name),
        })
        .collect();
    // Pools roll side by side once the control plane is done, node after node.
    let slowest = pools.iter().map(|p| p.nodes).max().unwrap_or(0);
    let minutes = u32::from(control_plane) * CONTROL_PLANE_MINUTES + slowest * NODE_MINUTES;
    let surge_hourly_micros = pools.iter().map(|p| p.price_micros).sum();
    let surge_total_micros = pools
        .iter()
        .map(|p| p.price_micros * u64::from(p.nodes * NODE_MINUTES) / 60)
        .sum();
    Ok(Preflight {
        to: to.to_string(),
        scope: scope.clone(),
        control_plane,
        surge_nodes: pools.iter().filter(|p| p.nodes > 0).count() as u32,
        pools,
        blocking: Vec::new(),
        skew,
        minutes,
        surge_hourly_micros,
        surge_total_micros,
        unknown: None,
    })
}

/// The JSON patch that starts the upgrade `p` of `c`.
fn patch_for(c: &Cluster, p: &Preflight) -> Vec<Value> {
    let mut ops = Vec::new();
    if p.control_plane {
        ops.push(json!({"op": "replace", "path": "/spec/topology/version", "value": p.to}));
    }
    for (index, pool) in topology_pools(c).iter().enumerate() {
        let base = format!("/spec/topology/workers/machineDeployments/{index}");
        let annotations = pool.metadata.as_ref().and_then(|m| m.annotations.as_ref());
        let has = annotations.is_some_and(|a| a.contains_key(pools::DEFER_UPGRADE));
        let path = format!(
            "{base}/metadata/annotations/{}",
            pointer_escape(pools::DEFER_UPGRADE)
        );
        let release = match &p.scope {
            Scope::All => true,
            Scope::Pool(name) => *name == pool.name,
            Scope::ControlPlane => false,
        };
        let mut mine =
            vec![json!({"op": "test", "path": format!("{base}/name"), "value": pool.name})];
        if release && has {
            mine.push(json!({"op": "remove", "path": path}));
        } else if matches!(p.scope, Scope::ControlPlane) {
            if pool.metadata.is_none() {
                mine.push(json!({"op": "add", "path": format!("{base}/metadata"), "value": {}}));
            }
            if annotations.is_none() {
                mine.push(json!({"op": "add", "path": format!("{base}/metadata/annotations"), "value": {}}));
            }
            mine.push(json!({"op": "add", "path": path, "value": "true"}));
        }
        if mine.len() > 1 {
            ops.extend(mine);
        }
    }
    ops
}

impl PortalBackend {
    /// Where `c` is and may go, as `by` sees it.
    pub(super) async fn versions_of(
        &self,
        by: &Principal,
        c: &Cluster,
        cluster: &ClusterRef,
    ) -> Result<(Versions, Vec<Version>, Vec<PoolRow>), AppError> {
        let rows = self.pool_rows(c, cluster)?;
        let offered = self
            .class_of(c)
            .map(|class| versions::offered(&class))
            .unwrap_or_default();
        let current = versions::control_plane_now(c);
        let bindings = self.core.gate.bindings.get().await.map_err(internal)?;
        let may_upgrade = may(
            by,
            &bindings,
            Action::StartUpgrade,
            &Target::Cluster(cluster.clone()),
        )
        .is_allowed();
        let running = ops::running_in(&self.core.db, &cluster.namespace, &cluster.name)
            .await
            .map_err(internal)?
            .into_iter()
            .find(|op| op.kind.starts_with("upgrade-"));
        let Some(current) = current else {
            let versions = Versions {
                control_plane: String::new(),
                pools: Vec::new(),
                available: Vec::new(),
                later: Vec::new(),
                blocked: Some("the cluster's Kubernetes version is not known".into()),
                running: running.map(|op| op.id),
                may_upgrade,
            };
            return Ok((versions, offered, rows));
        };
        let pools = pool_versions(c, &rows, current);
        let available = versions::upgrades(current, &offered)
            .into_iter()
            .map(|to| VersionChoice {
                version: to.to_string(),
                control_plane_only: pools
                    .iter()
                    .find_map(|p| versions::skew(&p.name, Version::parse(&p.version)?, to)),
            })
            .collect();
        let provisioned = c.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Provisioned");
        let blocked = if let Some(op) = &running {
            Some(format!(
                "an upgrade of this cluster is running (started by {}): wait until it ends — /operations/{}",
                if op.actor_name.is_empty() {
                    &op.actor_subject
                } else {
                    &op.actor_name
                },
                op.id
            ))
        } else if c.metadata.deletion_timestamp.is_some() {
            Some("the cluster is being deleted".into())
        } else if !provisioned {
            Some("the cluster is not provisioned yet: upgrades start once it is".into())
        } else {
            rolling_out(c).map(|why| {
                format!("the cluster is upgrading already ({why}): wait until it is done")
            })
        };
        let versions = Versions {
            control_plane: current.to_string(),
            pools,
            available,
            later: versions::later(current, &offered)
                .into_iter()
                .map(|(v, why)| (v.to_string(), why))
                .collect(),
            blocked,
            running: running.map(|op| op.id),
            may_upgrade,
        };
        Ok((versions, offered, rows))
    }

    /// The budgets that would block the drains of `p`'s pools, with their pods on those pools'
    /// nodes (or why that is not known).
    async fn add_blocking(&self, cluster: &ClusterRef, p: &mut Preflight) {
        if p.pools.is_empty() {
            return;
        }
        let Ok(workload) = self.workload(cluster) else {
            p.unknown = Some("The workload cluster cannot be reached: which PodDisruptionBudgets would block the drains is not known.".into());
            return;
        };
        let by_node: HashMap<String, String> = self.pools_by_node(cluster);
        let moving: Vec<&str> = p.pools.iter().map(|x| x.name.as_str()).collect();
        let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (budget, pods) in blocking_budgets(&workload.client).await {
            for (pod, node) in pods {
                if by_node
                    .get(&node)
                    .is_some_and(|pool| moving.contains(&pool.as_str()))
                {
                    found
                        .entry(budget.clone())
                        .or_default()
                        .push(format!("{pod} on {node}"));
                }
            }
        }
        p.blocking = found
            .into_iter()
            .map(|(name, mut pods)| {
                pods.sort();
                BlockingBudget { name, pods }
            })
            .collect();
    }

    async fn try_upgrade(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        r: &UpgradeRequest,
        scope: &Scope,
    ) -> Result<String, AppError> {
        let target = match scope {
            Scope::All => "cluster".to_string(),
            Scope::ControlPlane => "control plane".to_string(),
            Scope::Pool(name) => format!("pool {}", name.chars().take(64).collect::<String>()),
        };
        self.operate(by, cluster, &r.key, scope.kind(), &target, move |current, mine| -> Built<'_> {
            Box::pin(async move {
            let (current, mine) = (&current, mine.as_deref());
            let (mut v, offered, rows) = self.versions_of(by, current, cluster).await?;
            // The operation begun for this very change is not "another upgrade running".
            if v.running.is_some() && v.running.as_deref() == mine {
                v.running = None;
                v.blocked = None;
            }
            if let Some(why) = v.blocked.clone() {
                let message = match &v.running {
                    Some(_) => format!("cannot start another upgrade: {why}"),
                    None => format!("cannot upgrade now: {why}"),
                };
                return Err(AppError::Conflict {
                    message,
                    current: v.running.clone(),
                });
            }
            let now = seen(current);
            if r.was.trim() != now {
                return Err(AppError::Conflict {
                    message: format!(
                        "cluster {cluster} changed since you opened the upgrade (its version or the pools held back) — review and upgrade again"
                    ),
                    current: Some(now),
                });
            }
            let mut p = plan(&v, &offered, &rows, &r.to, scope).map_err(AppError::BadRequest)?;
            if !p.skew.is_empty() {
                return Err(AppError::BadRequest(format!(
                    "not allowed: {}",
                    p.skew.join("; ")
                )));
            }
            // Judged once, before anything is begun: a retry only follows a status change.
            if mine.is_none() && !r.confirmed {
                self.add_blocking(cluster, &mut p).await;
                if p.needs_confirming() {
                    let mut why: Vec<String> = p
                        .blocking
                        .iter()
                        .map(|b| {
                            format!(
                                "PodDisruptionBudget {} allows no disruption, so draining would stall",
                                b.name
                            )
                        })
                        .collect();
                    why.extend(p.unknown.clone());
                    return Err(AppError::BadRequest(format!(
                        "upgrading needs confirming: {}. Press \"Upgrade anyway\" to start it regardless",
                        why.join("; ")
                    )));
                }
            }
            let pools: serde_json::Map<String, Value> = p
                .pools
                .iter()
                .map(|x| (x.name.clone(), json!({"from": x.from, "nodes": x.nodes})))
                .collect();
            Ok(Change {
                patch: patch_for(current, &p),
                parameters: json!({"to": p.to, "from": v.control_plane, "scope": scope.as_param(),
                    "control_plane": p.control_plane, "pools": pools}),
                total: i64::from(p.control_plane)
                    + p.pools.iter().map(|x| i64::from(x.nodes)).sum::<i64>(),
                steps: Vec::new(),
                recorded: json!({"from": v.control_plane, "to": p.to, "scope": scope.as_param()}),
            })
            })
        })
        .await
    }
}

#[async_trait::async_trait]
impl UpgradesBackend for PortalBackend {
    async fn upgrade_view(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        to: &str,
        scope: &str,
    ) -> Result<UpgradeView, AppError> {
        let c = self.visible(by, cluster).await?;
        let head = self.head(by, &c).await?;
        let (versions, offered, rows) = self.versions_of(by, &c, cluster).await?;
        let (mut preflight, mut refusal) = (None, None);
        if !to.trim().is_empty() || !scope.trim().is_empty() {
            match Scope::parse(scope) {
                None => {
                    refusal = Some("choose what to upgrade: the control plane and all pools, the control plane only, or one pool".into())
                }
                Some(s) => match plan(&versions, &offered, &rows, to, &s) {
                    Ok(mut p) => {
                        self.add_blocking(cluster, &mut p).await;
                        preflight = Some(p);
                    }
                    Err(why) => refusal = Some(why),
                },
            }
        }
        Ok(UpgradeView {
            head,
            was: seen(&c),
            key: uuid::Uuid::new_v4().to_string(),
            versions,
            preflight,
            refusal,
            to: to.chars().take(40).collect(),
            scope: scope.chars().take(80).collect(),
        })
    }

    async fn upgrade(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        r: UpgradeRequest,
    ) -> Result<String, AppError> {
        // Only clusters the caller may see: the same "not found" as a missing one.
        self.visible(by, cluster).await?;
        let scope = Scope::parse(&r.scope);
        let result = match &scope {
            Some(s) => self.try_upgrade(by, cluster, &r, s).await,
            None => Err(AppError::BadRequest(
                "unknown scope: use all, control-plane or pool:<name>".into(),
            )),
        };
        if let Err(e) = &result {
            let shown = |s: &str| s.chars().take(64).collect::<String>();
            let action = scope.as_ref().map(Scope::kind).unwrap_or("upgrade-cluster");
            let target = format!("cluster/{cluster}");
            let asked = json!({"to": shown(&r.to), "scope": shown(&r.scope)});
            let change = audit::Change::accepted(action, &target, asked)
                .ended(Outcome::Failed, e.to_string());
            self.record(by, change).await?;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(cp: &str, pools: &[(&str, &str, u32)]) -> Versions {
        Versions {
            control_plane: cp.into(),
            pools: pools
                .iter()
                .map(|(name, version, nodes)| PoolVersion {
                    name: (*name).into(),
                    version: (*version).into(),
                    nodes: *nodes,
                    deferred: *version != cp,
                    blocked: None,
                })
                .collect(),
            available: Vec::new(),
            later: Vec::new(),
            blocked: None,
            running: None,
            may_upgrade: true,
        }
    }

    fn offered() -> Vec<Version> {
        ["v1.32.7", "v1.33.0", "v1.33.5", "v1.34.2"]
            .iter()
            .filter_map(|v| Version::parse(v))
            .collect()
    }

    #[test]
    fn a_whole_upgrade_surges_a_node_per_pool_and_estimates_time_and_cost() {
        let v = versions(
            "v1.32.7",
            &[("system", "v1.32.7", 2), ("work", "v1.32.7", 4)],
        );
        let p = plan(&v, &offered(), &[], "v1.33.5", &Scope::All).expect("a plan");
        assert!(p.control_plane);
        assert_eq!(p.pools.iter().map(|x| x.nodes).collect::<Vec<_>>(), [2, 4]);
        assert_eq!(p.surge_nodes, 2);
        // 10 minutes for the control plane, then the 4-node pool at 5 minutes a node.
        assert_eq!(p.minutes, 30);
        assert!(p.skew.is_empty());
    }

    #[test]
    fn the_control_plane_alone_may_not_leave_a_pool_three_minors_behind() {
        let v = versions("v1.33.5", &[("old", "v1.31.8", 1)]);
        let offered: Vec<Version> = ["v1.31.8", "v1.33.5", "v1.34.2"]
            .iter()
            .filter_map(|v| Version::parse(v))
            .collect();
        let p = plan(&v, &offered, &[], "v1.34.2", &Scope::ControlPlane).expect("a plan");
        assert_eq!(p.pools.len(), 0);
        assert_eq!(p.surge_nodes, 0);
        assert_eq!(p.minutes, 10);
        assert_eq!(
            p.skew,
            [
                "pool old would stay on v1.31.8, 3 minor versions behind the control plane's v1.34.2 (at most 2 allowed): upgrade it with the control plane"
            ]
        );
    }

    #[test]
    fn a_pool_only_goes_to_the_control_planes_version() {
        let v = versions("v1.33.5", &[("work", "v1.32.7", 3)]);
        let scope = Scope::Pool("work".into());
        let p = plan(&v, &offered(), &[], "v1.33.5", &scope).expect("a plan");
        assert!(!p.control_plane);
        assert_eq!(p.minutes, 15);
        assert_eq!(
            plan(&v, &offered(), &[], "v1.34.2", &scope),
            Err("pool work can only be upgraded to the control plane's version, v1.33.5".into())
        );
        assert_eq!(
            plan(&v, &offered(), &[], "v1.33.5", &Scope::Pool("nope".into())),
            Err("there is no node pool \"nope\" in this cluster".into())
        );
    }
}
