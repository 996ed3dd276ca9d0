//! How every change the portal makes to a Cluster is sent: read it, build the patch (or refuse),
//! begin an operation under the form's idempotency key, send the JSON patch testing the
//! `resourceVersion` read, try again when only the cluster's status moved, and record what Cluster
//! API accepted. Scaling, autoscaling, adding and deleting pools and upgrading all go this way.

use app::access::model::{ClusterRef, Principal};
use app::error::AppError;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};

use super::PortalBackend;
use crate::error::{internal, unexpected};
use crate::fleet::resources::Cluster;
use crate::fleet::{clusters, within};
use crate::store::audit::{self, Outcome};
use crate::store::operations as ops;

/// What building a change gives: the change, or why it is refused. A boxed future, so that a
/// request's future stays `Send` whatever the builder borrows.
pub(super) type Built<'s> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Change, AppError>> + Send + 's>>;

/// The longest idempotency key a form may send.
const MAX_KEY: usize = 64;

/// Writes retried when only something else about the cluster (its status) changed meanwhile.
const ATTEMPTS: usize = 3;

/// A change as an operation: the patch (without the resourceVersion test), the operation's
/// parameters, how many steps it has, and what the activity log keeps.
pub(super) struct Change {
    pub(super) patch: Vec<Value>,
    pub(super) parameters: Value,
    pub(super) total: i64,
    /// The steps as they are when it is sent (a deleted pool's machines may go before the
    /// follower first looks).
    pub(super) steps: Vec<app::operations::model::OpStep>,
    pub(super) recorded: Value,
}

/// A form's idempotency key as sent, or a fresh one when it is not usable.
fn form_key(key: &str) -> String {
    let k = key.trim();
    if !k.is_empty()
        && k.len() <= MAX_KEY
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        k.to_string()
    } else {
        uuid::Uuid::new_v4().to_string()
    }
}

impl PortalBackend {
    /// Sends the change `build` makes of the cluster as read (or its refusal) as an operation
    /// `kind` on `target`; the same key again leads to the operation it started. `build` is asked
    /// again when the cluster changed meanwhile, with the id of the operation already begun.
    pub(super) async fn operate<'s>(
        &'s self,
        by: &Principal,
        cluster: &ClusterRef,
        key: &str,
        kind: &str,
        target: &str,
        build: impl Fn(Cluster, Option<String>) -> Built<'s> + Send + Sync,
    ) -> Result<String, AppError> {
        let management = self.management(by)?;
        let key = form_key(key);
        if let Some(existing) = ops::by_key(&self.core.db, &by.subject, &key)
            .await
            .map_err(internal)?
            && existing.namespace == cluster.namespace
            && existing.name == cluster.name
        {
            return Ok(existing.id);
        }
        let mut op_id: Option<String> = None;
        for attempt in 1..=ATTEMPTS {
            let current = clusters::require(&management, cluster).await?;
            let change = match build(current.clone(), op_id.clone()).await {
                Ok(c) => c,
                Err(e) => return Err(self.abandon(op_id, e).await),
            };
            let id = match &op_id {
                Some(id) => id.clone(),
                None => {
                    let started = ops::begin(
                        &self.core.db,
                        ops::New {
                            actor_subject: &by.subject,
                            actor_name: &by.name,
                            key: &key,
                            kind,
                            namespace: &cluster.namespace,
                            name: &cluster.name,
                            target,
                            parameters: &change.parameters,
                        },
                    )
                    .await
                    .map_err(internal)?;
                    match started {
                        Ok(id) => id,
                        Err(existing) => return Ok(existing.id),
                    }
                }
            };
            op_id = Some(id.clone());
            let version = current
                .metadata
                .resource_version
                .clone()
                .unwrap_or_default();
            let mut patch =
                vec![json!({"op": "test", "path": "/metadata/resourceVersion", "value": version})];
            patch.extend(change.patch);
            let patch = match serde_json::from_value(Value::Array(patch)) {
                Ok(p) => Patch::Json::<()>(p),
                Err(e) => {
                    return Err(self.abandon(op_id, unexpected("build the patch", e)).await);
                }
            };
            let api: Api<Cluster> = Api::namespaced(management.client(), &cluster.namespace);
            let sent = within(
                &format!("{kind} on cluster {cluster}"),
                api.patch(&cluster.name, &PatchParams::default(), &patch),
            )
            .await;
            match sent {
                Ok(changed) => {
                    let generation = changed.metadata.generation.unwrap_or(0);
                    ops::accepted(&self.core.db, &id, change.total, &change.steps, generation)
                        .await
                        .map_err(internal)?;
                    let mut recorded = change.recorded;
                    recorded["operation"] = json!(id);
                    let target = format!("cluster/{cluster}");
                    self.record(by, audit::Change::accepted(kind, &target, recorded))
                        .await?;
                    return Ok(id);
                }
                Err(e) if matches!(e.api_status(), Some(409 | 422)) && attempt < ATTEMPTS => {
                    continue;
                }
                Err(e) => return Err(self.abandon(op_id, e.into()).await),
            }
        }
        Err(self
            .abandon(
                op_id,
                AppError::Conflict {
                    message: format!(
                        "cluster {cluster} kept changing while the change was sent: try again"
                    ),
                    current: None,
                },
            )
            .await)
    }

    /// Records a refused `kind` with what was asked and why.
    pub(super) async fn record_refusal(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        kind: &str,
        asked: Value,
        e: &AppError,
    ) -> Result<(), AppError> {
        let target = format!("cluster/{cluster}");
        let change =
            audit::Change::accepted(kind, &target, asked).ended(Outcome::Failed, e.to_string());
        self.record(by, change).await
    }

    /// Forgets a pending operation whose change was not sent; hands `e` back.
    pub(super) async fn abandon(&self, op: Option<String>, e: AppError) -> AppError {
        if let Some(id) = op
            && let Err(why) = ops::forget(&self.core.db, &id).await
        {
            tracing::warn!(error = %why, operation = %id, "could not forget an operation that was not sent");
        }
        e
    }
}
