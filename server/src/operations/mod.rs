//! Operations followed to their end: a task per replica claims running operations (a lease per
//! operation in the database), reads where each is from the watched Cluster API objects, writes
//! its progress, and records its end in the activity log exactly once.

pub mod pool;
pub mod upgrade;

use std::collections::BTreeMap;
use std::time::Duration;

use app::operations::model::OpStep;

use serde_json::json;
use tokio::task::JoinHandle;

use kube::runtime::reflector::ObjectRef;

use crate::fleet::resources::Cluster;
use crate::fleet::watch::FleetWatch;
use crate::store::audit::{self, Origin, Outcome};
use crate::store::operations::{self as ops, Progress, Stored};
use crate::store::{Db, StoreError, now_ms};

/// The activity log's name for an operation's end.
pub const ENDED: &str = "operation-ended";

/// One replica's follower of operations.
#[derive(Clone)]
pub struct Follower {
    db: Db,
    watch: FleetWatch,
    /// This replica (random per process).
    holder: String,
    /// How long an operation may take before it is failed.
    deadline: Duration,
    /// How long a claim holds without renewal (`ops::LEASE_MS`).
    lease_ms: i64,
}

impl Follower {
    pub fn new(db: Db, watch: FleetWatch, deadline: Duration) -> Follower {
        Follower {
            db,
            watch,
            holder: uuid::Uuid::new_v4().to_string(),
            deadline,
            lease_ms: ops::LEASE_MS,
        }
    }

    /// The same with claims that hold `lease` without renewal (a replica that stops renewing
    /// loses its operations to another after that long).
    pub fn with_lease(self, lease: Duration) -> Follower {
        Follower {
            lease_ms: i64::try_from(lease.as_millis()).unwrap_or(ops::LEASE_MS),
            ..self
        }
    }

    /// This replica's name in the leases.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Follows operations every `interval` until aborted.
    pub fn start(self, interval: Duration) -> JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = self.tick().await {
                    tracing::warn!(error = %e, "following operations failed; trying again");
                }
            }
        })
    }

    /// One round: claim, evaluate, write what changed, end what is done. How many it follows
    /// (none until the watch holds a first list of everything: before, every pool would look
    /// gone).
    pub async fn tick(&self) -> Result<usize, StoreError> {
        if !self.watch.listed() {
            return Ok(0);
        }
        let followed = ops::claim(&self.db, &self.holder, self.lease_ms).await?;
        let deadline_ms = i64::try_from(self.deadline.as_millis()).unwrap_or(i64::MAX);
        let now = now_ms();
        for op in &followed {
            let (progress, end) = if op.kind.starts_with("upgrade-") {
                upgrade::evaluate(op, &self.watch, now, deadline_ms)
            } else {
                pool::evaluate(op, &self.watch, now, deadline_ms)
            };
            if let Some(end) = end {
                // Only the replica whose write ended it records the end.
                if ops::end(&self.db, &op.id, &self.holder, end.as_str(), &progress).await? {
                    record_end(&self.db, op, end, &progress).await?;
                }
            } else if changed(op, &progress) {
                ops::advance(&self.db, &op.id, &self.holder, &progress).await?;
            }
        }
        Ok(followed.len())
    }

    /// Gives this replica's operations up (at shutdown), so another takes them at once.
    pub async fn release(&self) -> Result<(), StoreError> {
        ops::release(&self.db, &self.holder).await
    }
}

/// The Cluster `op` changed, as the watch has it once it shows the change; otherwise what an
/// evaluation says now: the cluster gone fails the operation, a watch behind the change waits.
pub(crate) fn changed_cluster(
    op: &Stored,
    watch: &FleetWatch,
) -> Result<std::sync::Arc<Cluster>, (String, Option<pool::End>)> {
    let Some(cluster) = watch
        .clusters
        .get(&ObjectRef::new(&op.name).within(&op.namespace))
    else {
        return Err((
            format!("cluster {}/{} no longer exists", op.namespace, op.name),
            Some(pool::End::Failed),
        ));
    };
    // The watch may not show the change yet: judge nothing until it does.
    if cluster.metadata.generation.unwrap_or(0) < op.generation {
        return Err(("waiting for Cluster API to pick the change up".into(), None));
    }
    Ok(cluster)
}

/// `step` with the time it took its state: kept from `before` when the state is the same.
pub(crate) fn since(before: &BTreeMap<String, OpStep>, mut step: OpStep, now_ms: i64) -> OpStep {
    step.since_ms = match before.get(&step.subject) {
        Some(old) if old.state == step.state && old.since_ms > 0 => old.since_ms,
        _ => now_ms,
    };
    step
}

fn changed(op: &Stored, p: &Progress) -> bool {
    op.done != p.done || op.total != p.total || op.steps != p.steps || op.message != p.message
}

/// The end of `op` in the activity log, in the name of whoever started it.
async fn record_end(db: &Db, op: &Stored, end: pool::End, p: &Progress) -> Result<(), StoreError> {
    let origin = Origin {
        subject: &op.actor_subject,
        name: &op.actor_name,
        groups: &[],
        request_id: &op.id,
        client_addr: None,
    };
    let target = format!("cluster/{}/{}", op.namespace, op.name);
    let change = audit::Change::accepted(
        ENDED,
        &target,
        json!({"operation": op.id, "kind": op.kind, "status": end.as_str(), "message": p.message}),
    );
    let change = match end {
        pool::End::Failed => change.ended(Outcome::Failed, p.message.clone()),
        pool::End::Succeeded | pool::End::Superseded => change,
    };
    audit::record(db, &origin, change).await.map(|_| ())
}
