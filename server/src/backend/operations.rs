//! Operations as pages show them: the newest, filtered, only on clusters the caller may see.

use app::access::model::{ClusterRef, Principal};
use app::error::AppError;
use app::operations::backend::OperationsBackend;
use app::operations::model::{OpQuery, OpStatus, OperationRow, OperationsView, PAGE_SIZE, elapsed};

use super::PortalBackend;
use crate::error::internal;
use crate::store::audit_view::format_ms;
use crate::store::now_ms;
use crate::store::operations::{self as ops, Stored};

/// How many of the newest matching operations a page looks through for those the caller sees.
const LOOKED_AT: u32 = 500;

/// An operation in words.
fn what(op: &Stored) -> String {
    let p = &op.parameters;
    let pool = p["pool"].as_str().unwrap_or("?");
    let nodes = |n: u64| format!("{n} node{}", if n == 1 { "" } else { "s" });
    match op.kind.as_str() {
        "scale-pool" => format!(
            "Scale pool {pool} from {} to {}",
            p["from"].as_u64().unwrap_or(0),
            nodes(p["to"].as_u64().unwrap_or(0))
        ),
        "autoscale-pool" => match (p["min"].as_u64(), p["max"].as_u64()) {
            (Some(min), Some(max)) => {
                format!("Autoscale pool {pool} between {min} and {max} nodes")
            }
            _ => format!(
                "Turn autoscaling off for pool {pool} at {}",
                nodes(p["to"].as_u64().unwrap_or(0))
            ),
        },
        "add-pool" => format!(
            "Add pool {pool} with {}",
            nodes(p["to"].as_u64().unwrap_or(0))
        ),
        "delete-pool" => format!("Delete pool {pool}"),
        "upgrade-cluster" => format!(
            "Upgrade the control plane and all pools to {}",
            p["to"].as_str().unwrap_or("?")
        ),
        "upgrade-control-plane" => format!(
            "Upgrade the control plane only to {}",
            p["to"].as_str().unwrap_or("?")
        ),
        "upgrade-pool" => format!(
            "Upgrade {} to {}",
            op.target,
            p["to"].as_str().unwrap_or("?")
        ),
        other => format!("{other} on {}", op.target),
    }
}

/// A stored operation as a row (pending ones show as running: their change is being sent).
pub(super) fn row(op: &Stored) -> OperationRow {
    let status = OpStatus::parse(&op.status).unwrap_or(OpStatus::Running);
    let until = op.ended_at_ms.unwrap_or_else(now_ms);
    OperationRow {
        id: op.id.clone(),
        kind: op.kind.clone(),
        what: what(op),
        namespace: op.namespace.clone(),
        name: op.name.clone(),
        who: if op.actor_name.is_empty() {
            op.actor_subject.clone()
        } else {
            op.actor_name.clone()
        },
        status,
        started: format_ms(op.started_at_ms),
        ended: op.ended_at_ms.map(format_ms),
        elapsed: elapsed(until - op.started_at_ms),
        done: u32::try_from(op.done.max(0)).unwrap_or(u32::MAX),
        total: u32::try_from(op.total.max(0)).unwrap_or(u32::MAX),
        message: if op.status == "pending" {
            "Sending the change to Cluster API".into()
        } else {
            op.message.clone()
        },
        steps: op.steps.clone(),
        as_of_ms: until,
    }
}

impl PortalBackend {
    /// The newest operations on one cluster (the caller sees it already).
    pub(super) async fn cluster_operations(
        &self,
        cluster: &ClusterRef,
        limit: u32,
    ) -> Result<Vec<OperationRow>, AppError> {
        let only = ops::Filter {
            cluster: Some((&cluster.namespace, &cluster.name)),
            ..ops::Filter::default()
        };
        let stored = ops::newest(&self.core.db, only, limit)
            .await
            .map_err(internal)?;
        Ok(stored.iter().map(row).collect())
    }
}

#[async_trait::async_trait]
impl OperationsBackend for PortalBackend {
    async fn operations(&self, by: &Principal, query: OpQuery) -> Result<OperationsView, AppError> {
        let status = match query.status.trim() {
            "" => None,
            s => Some(OpStatus::parse(s).ok_or_else(|| {
                AppError::BadRequest(format!(
                    "unknown status \"{}\": use running, succeeded, failed or superseded",
                    s.chars().take(40).collect::<String>()
                ))
            })?),
        };
        let kind = query.kind.trim();
        if !kind.is_empty()
            && !app::operations::model::KINDS
                .iter()
                .any(|(k, _)| *k == kind)
        {
            return Err(AppError::BadRequest(
                "unknown kind: use scale-pool, autoscale-pool, add-pool, delete-pool, upgrade-cluster, upgrade-control-plane or upgrade-pool".into(),
            ));
        }
        let cluster = query.cluster.trim();
        let only = match cluster.split_once('/') {
            _ if cluster.is_empty() => None,
            Some((ns, name)) if !ns.is_empty() && !name.is_empty() => {
                Some(ClusterRef::new(ns, name))
            }
            _ => {
                return Err(AppError::BadRequest(
                    "the cluster filter is namespace/name, e.g. default/prod-weu".into(),
                ));
            }
        };
        let scope = self.scope(by).await?;
        // Running includes those still being sent (pending), as the rows show them.
        let statuses: &[&str] = match status {
            None => &[],
            Some(OpStatus::Running) => &["pending", "running"],
            Some(OpStatus::Succeeded) => &["succeeded"],
            Some(OpStatus::Failed) => &["failed"],
            Some(OpStatus::Superseded) => &["superseded"],
        };
        let filter = ops::Filter {
            cluster: only
                .as_ref()
                .map(|c| (c.namespace.as_str(), c.name.as_str())),
            statuses,
            kind: (!kind.is_empty()).then_some(kind),
        };
        let stored = ops::newest(&self.core.db, filter, LOOKED_AT)
            .await
            .map_err(internal)?;
        // Who sees which cluster is decided in memory (bindings, namespaces): the filters above
        // already cut the rows read to those that could be shown.
        let rows: Vec<OperationRow> = stored
            .iter()
            .filter(|op| scope.sees(&ClusterRef::new(&op.namespace, &op.name)))
            .map(row)
            .take(PAGE_SIZE as usize)
            .collect();
        Ok(OperationsView {
            running: rows.iter().any(|r| r.status == OpStatus::Running),
            rows,
            query,
        })
    }

    async fn operation(&self, by: &Principal, id: &str) -> Result<OperationRow, AppError> {
        let missing = || {
            AppError::NotFound(format!(
                "operation {}",
                id.chars().take(40).collect::<String>()
            ))
        };
        if id.len() > 64 {
            return Err(missing());
        }
        let op = ops::get(&self.core.db, id)
            .await
            .map_err(internal)?
            .ok_or_else(missing)?;
        // An operation on a cluster the caller may not see does not exist for them.
        if !self
            .scope(by)
            .await?
            .sees(&ClusterRef::new(&op.namespace, &op.name))
        {
            return Err(missing());
        }
        Ok(row(&op))
    }
}
