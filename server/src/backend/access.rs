//! The access topic: role bindings, the simulator and a person's own access (rules in `access/`).

use app::access::backend::AccessBackend;
use app::access::model::{Binding, ClusterRef, Principal, Target};
use app::access::{AccessOverview, AccessSummary, Simulation};
use app::error::AppError;
use serde_json::json;

use super::PortalBackend;
use crate::access::bindings::{self, BindingError, NewBinding};
use crate::access::{gate, simulation};
use crate::error::internal;
use crate::fleet::clusters;
use crate::store::audit::{Change, Outcome};

/// The audit log's target for a binding's place: the portal, or its cluster.
fn target_text(cluster: Option<&ClusterRef>) -> String {
    gate::target_text(&cluster.cloned().map_or(Target::Portal, Target::Cluster))
}

fn binding_error(err: BindingError) -> AppError {
    match err {
        BindingError::Store(e) => internal(e),
        BindingError::NotFound(id) => AppError::NotFound(format!("role binding {id}")),
        other => AppError::BadRequest(other.to_string()),
    }
}

impl PortalBackend {
    /// Refuses, records and explains a binding that cannot be stored.
    async fn refuse_binding(
        &self,
        by: &Principal,
        asked: serde_json::Value,
        err: AppError,
    ) -> Result<Binding, AppError> {
        let change = Change::accepted("grant-role", "portal", asked);
        self.record(by, change.ended(Outcome::Failed, err.to_string()))
            .await?;
        Err(err)
    }
}

#[async_trait::async_trait]
impl AccessBackend for PortalBackend {
    async fn my_access(&self, who: &Principal) -> Result<AccessSummary, AppError> {
        let all = self.core.gate.bindings.get().await.map_err(internal)?;
        let acting_as = match self.management(who) {
            Ok(m) => m
                .whoami()
                .await
                .map(|(user, groups)| (user, groups, self.core.impersonate))
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        Ok(AccessSummary {
            principal: who.clone(),
            bindings: all.iter().filter(|b| b.applies_to(who)).cloned().collect(),
            actions: simulation::actions_everywhere(who, &all),
            acting_as,
        })
    }

    async fn access_overview(&self, by: &Principal) -> Result<AccessOverview, AppError> {
        let bindings = self
            .core
            .gate
            .bindings
            .get()
            .await
            .map_err(internal)?
            .to_vec();
        let (clusters, clusters_unavailable) = match self.cluster_names(by).await {
            Ok(c) => (c, None),
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
        Ok(AccessOverview {
            bindings,
            clusters,
            clusters_unavailable,
        })
    }

    async fn add_binding(
        &self,
        by: &Principal,
        kind: &str,
        subject: &str,
        role: &str,
        cluster: &str,
    ) -> Result<Binding, AppError> {
        let asked = json!({"kind": kind, "subject": subject, "role": role, "cluster": cluster});
        let new = match NewBinding::parse(kind, subject, role, cluster, &by.name) {
            Ok(new) => new,
            Err(e) => return self.refuse_binding(by, asked, binding_error(e)).await,
        };
        // Asked of the API, not the watch: a binding must name a cluster that exists now.
        if let Some(c) = &new.cluster
            && !clusters::exists(&self.management(by)?, c).await?
        {
            let err = AppError::BadRequest(format!(
                "there is no cluster {c} on the management cluster; pick one from the list"
            ));
            return self.refuse_binding(by, asked, err).await;
        }
        let added = bindings::add(&self.core.db, &new).await;
        self.core.gate.bindings.invalidate();
        let id = match added {
            Ok(id) => id,
            Err(e) => return self.refuse_binding(by, asked, binding_error(e)).await,
        };
        let stored = bindings::list(&self.core.db)
            .await
            .map_err(internal)?
            .into_iter()
            .find(|b| b.id == id)
            .ok_or_else(|| AppError::NotFound(format!("role binding {id}")))?;
        let target = target_text(stored.cluster.as_ref());
        self.record(
            by,
            Change::accepted("grant-role", &target, json!({"after": stored})),
        )
        .await?;
        Ok(stored)
    }

    async fn remove_binding(&self, by: &Principal, id: i64) -> Result<(), AppError> {
        if id < 0 {
            return Err(AppError::BadRequest(
                "the development sign-in's bindings exist only while it is on; they cannot be removed".into(),
            ));
        }
        let removed = bindings::remove_unless_last_admin(&self.core.db, id).await;
        self.core.gate.bindings.invalidate();
        match removed {
            Ok(before) => {
                let target = target_text(before.cluster.as_ref());
                self.record(
                    by,
                    Change::accepted("revoke-role", &target, json!({"before": before})),
                )
                .await
            }
            Err(e) => {
                // Refusing to lock everyone out is a decision worth recording, with the binding.
                if let BindingError::LastAdmin(before) = &e {
                    let target = target_text(before.cluster.as_ref());
                    let change =
                        Change::accepted("revoke-role", &target, json!({"before": before}));
                    self.record(by, change.ended(Outcome::Failed, e.to_string()))
                        .await?;
                }
                Err(binding_error(e))
            }
        }
    }

    async fn simulate_access(
        &self,
        by: &Principal,
        kind: &str,
        name: &str,
        groups: &str,
    ) -> Result<Simulation, AppError> {
        let principal = simulation::subject(kind, name, groups).map_err(AppError::BadRequest)?;
        let all = self.core.gate.bindings.get().await.map_err(internal)?;
        // Without the management cluster the simulator still answers portal-wide.
        let clusters = self.cluster_names(by).await.unwrap_or_default();
        Ok(simulation::simulate(principal, &all, clusters))
    }
}
