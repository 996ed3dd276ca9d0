//! Adding and deleting node pools (admins): a new pool is checked by the creation wizard's rules
//! against the cluster's class and appended to the topology; a pool is deleted only when it is not
//! the cluster's last system pool and, when pods run on it, once moving them is confirmed. Both
//! are JSON patches based on the cluster as read, followed as operations and recorded.

use app::access::model::{ClusterRef, Principal};
use app::clusters::model::{NewPool, PoolChange, PoolChoices, PoolRow};
use app::clusters::wizard::draft::PoolDraft;
use app::clusters::wizard::rules;
use app::error::AppError;
use serde_json::json;

use super::PortalBackend;
use super::change::{Built, Change};
use crate::fleet::resources::Cluster;
use crate::fleet::{manifest, offering, pools};
use crate::operations::pool::in_topology;

/// What deleting `row` would move, in words: how many pods and where to; `None` without pods.
fn moving(row: &PoolRow, rows: &[PoolRow]) -> Option<String> {
    let shrink = row.shrink.iter().find(|s| s.to == 0)?;
    if shrink.pods == 0 {
        return None;
    }
    let others: Vec<&str> = rows
        .iter()
        .filter(|r| r.name != row.name)
        .map(|r| r.name.as_str())
        .collect();
    let mut words = format!(
        "{} pod{} run on pool {}: they would move to pool{} {} — {}",
        shrink.pods,
        if shrink.pods == 1 { "" } else { "s" },
        row.name,
        if others.len() == 1 { "" } else { "s" },
        others.join(", "),
        if shrink.fits {
            "they fit there"
        } else {
            "they do not fit there, some would wait Pending"
        }
    );
    if !shrink.blocked_by.is_empty() {
        words.push_str(&format!(
            "; PodDisruptionBudget {} allows no disruption, so draining would stall",
            shrink.blocked_by.join(", ")
        ));
    }
    Some(words)
}

impl PortalBackend {
    /// The Add pool form's choices for `c`, from its class.
    pub(super) fn add_choices(&self, c: &Cluster, rows: &[PoolRow]) -> Option<PoolChoices> {
        let class = self.class_of(c)?;
        let o = offering::offering(&class, Vec::new());
        let full = (rows.len() >= o.limits.max_pools as usize).then(|| {
            format!(
                "this cluster has {} pools, the most its class allows",
                rows.len()
            )
        });
        Some(PoolChoices {
            vm_sizes: o
                .vm_sizes
                .iter()
                .map(|s| (s.name.clone(), s.label()))
                .collect(),
            limit: o.limits.max_nodes_per_pool,
            full,
        })
    }

    pub(super) async fn add_pool(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        new: NewPool,
    ) -> Result<String, AppError> {
        self.visible(by, cluster).await?;
        let shown = |s: &str| s.chars().take(64).collect::<String>();
        let name = shown(new.name.trim());
        let target = format!("pool {name}");
        let new = &new;
        let result = self
            .operate(by, cluster, &new.key, "add-pool", &target, move |c, _| -> Built<'_> {
                Box::pin(async move {
                let c = &c;
                let class = self.class_of(c).ok_or_else(|| {
                    AppError::BadRequest("the cluster's ClusterClass is not known: pools cannot be added".into())
                })?;
                let o = offering::offering(&class, Vec::new());
                let existing: Vec<&str> = c
                    .spec
                    .topology
                    .as_ref()
                    .and_then(|t| t.workers.as_ref())
                    .map(|w| w.machine_deployments.iter().map(|p| p.name.as_str()).collect())
                    .unwrap_or_default();
                if existing.len() >= o.limits.max_pools as usize {
                    return Err(AppError::BadRequest(format!(
                        "this cluster has {} pools, the most its class allows",
                        existing.len()
                    )));
                }
                let draft = PoolDraft {
                    name: new.name.trim().to_string(),
                    mode: new.mode.trim().to_string(),
                    vm_size: new.vm_size.trim().to_string(),
                    count: new.count.trim().to_string(),
                    os_image: o.default_os_image.clone(),
                    ..PoolDraft::default()
                };
                let problems = rules::pool_problems(&draft, "pool", "New pool", &existing, &o, 1);
                if !problems.is_empty() {
                    let words: Vec<String> = problems.into_iter().map(|p| p.message).collect();
                    return Err(AppError::BadRequest(words.join(" ")));
                }
                let count: i64 = draft.count.parse().unwrap_or(0);
                Ok(Change {
                    patch: vec![json!({"op": "add", "path": "/spec/topology/workers/machineDeployments/-",
                        "value": manifest::pool_entry(&draft, &o.worker_class)})],
                    parameters: json!({"pool": draft.name, "from": 0, "to": count, "before": "", "after": count.to_string(),
                        "mode": draft.mode, "vm_size": draft.vm_size}),
                    total: count,
                    steps: Vec::new(),
                    recorded: json!({"pool": draft.name, "mode": draft.mode, "vm_size": draft.vm_size, "count": count}),
                })
            })
            })
            .await;
        if let Err(e) = &result {
            let asked = json!({"pool": name, "mode": shown(&new.mode), "vm_size": shown(&new.vm_size), "count": shown(&new.count)});
            self.record_refusal(by, cluster, "add-pool", asked, e)
                .await?;
        }
        result
    }

    pub(super) async fn delete_pool(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        change: PoolChange,
    ) -> Result<String, AppError> {
        let c = self.visible(by, cluster).await?;
        let name: String = change.pool.chars().take(64).collect();
        let result = self.try_delete_pool(by, cluster, &c, &change, &name).await;
        if let Err(e) = &result {
            self.record_refusal(by, cluster, "delete-pool", json!({"pool": name}), e)
                .await?;
        }
        result
    }

    async fn try_delete_pool(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        c: &Cluster,
        change: &PoolChange,
        name: &str,
    ) -> Result<String, AppError> {
        // What would move is judged once, from the watch; the patch re-checks the rest.
        let mut rows = self.pool_rows(c, cluster)?;
        self.add_shrinks(cluster, &mut rows).await;
        let row = rows.iter().find(|r| r.name == change.pool);
        if let Some(why) = row.and_then(|r| r.keep.clone()) {
            return Err(AppError::BadRequest(why));
        }
        if let Some(row) = row
            && let Some(words) = moving(row, &rows)
            && !change.confirmed
        {
            return Err(AppError::BadRequest(format!(
                "deleting pool {name} needs confirming: {words}. Tick \"Delete pool {name} and move its pods\" and delete again"
            )));
        }
        let target = format!("pool {name}");
        self.operate(
            by,
            cluster,
            &change.key,
            "delete-pool",
            &target,
            move |current, _| -> Built<'_> {
                Box::pin(async move {
                let current = &current;
                let Some((index, pool)) = in_topology(current, &change.pool) else {
                    return Err(AppError::BadRequest(format!(
                        "there is no node pool \"{name}\" in cluster {cluster}"
                    )));
                };
                let seen = pools::sizing(pool);
                if change.was.trim() != seen {
                    return Err(AppError::Conflict {
                        message: format!(
                            "pool {name} changed since you opened it — review and delete again"
                        ),
                        current: Some(seen),
                    });
                }
                let rows = self.pool_rows(current, cluster)?;
                if let Some(why) = rows
                    .iter()
                    .find(|r| r.name == pool.name)
                    .and_then(|r| r.keep.clone())
                {
                    return Err(AppError::BadRequest(why));
                }
                let count = rows
                    .iter()
                    .find(|r| r.name == pool.name)
                    .map_or(0, |r| i64::from(r.count));
                let base = format!("/spec/topology/workers/machineDeployments/{index}");
                Ok(Change {
                    patch: vec![
                        json!({"op": "test", "path": format!("{base}/name"), "value": pool.name}),
                        json!({"op": "remove", "path": base}),
                    ],
                    parameters: json!({"pool": pool.name, "from": count, "to": 0, "before": seen}),
                    total: count.max(1),
                    steps: crate::operations::pool::steps_now(self.watch()?, cluster, &pool.name),
                    recorded: json!({"pool": pool.name, "before": seen}),
                })
            })
            },
        )
        .await
    }
}
