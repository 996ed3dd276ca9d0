//! PortalBackend: the server's implementation of the app's Backend trait.

use std::sync::Arc;

use app::access::model::{Action, Binding, ClusterRef, Principal, Reach, SubjectKind, Target};
use app::access::{AccessOverview, ScopeAccess, Simulation};
use app::activity::{ActivityEntry, ActivityFilter, ActivityPage};
use app::backend::Backend;
use app::error::AppError;
use serde_json::{Value, json};

use crate::access::bindings::{self, BindingError, NewBinding};
use crate::access::{Gate, activity_scope, effective_role, gate, may};
use crate::error::internal;
use crate::fleet::Management;
use crate::store::{Db, audit, audit_filter};

pub struct PortalBackend {
    pub db: Db,
    /// Who is asking and what they may do: sessions, role bindings, the decision, denials recorded.
    pub gate: Gate,
    /// The Cluster API management cluster (absent only in tests that do not need one).
    pub management: Option<Arc<Management>>,
    /// Call the management cluster as the signed-in user (`--impersonate`).
    pub impersonate: bool,
}

impl PortalBackend {
    /// Appends to the audit log, with this request's id and client address.
    async fn record(
        &self,
        who: &Principal,
        action: &str,
        target: &str,
        parameters: Value,
        outcome: audit::Outcome,
        reason: Option<String>,
    ) -> Result<(), AppError> {
        let (_, caller) = this_request();
        let entry = audit::NewEntry::now(
            &caller.origin_of(who),
            action,
            target,
            parameters,
            outcome,
            reason,
        );
        audit::append(&self.db, &entry)
            .await
            .map(|_| ())
            .map_err(internal)
    }

    /// The management cluster as `who` calls it: as them with `--impersonate`, else as the portal.
    fn management(&self, who: &Principal) -> Result<Management, AppError> {
        let base = self
            .management
            .as_deref()
            .ok_or_else(|| AppError::Unavailable("the management cluster".into()))?;
        if !self.impersonate {
            return Ok(base.clone());
        }
        base.impersonating(who).map_err(|e| {
            tracing::warn!(error = %e, "cannot make an impersonating client");
            AppError::Unavailable("the management cluster".into())
        })
    }

    /// Refuses, records and explains a binding that cannot be stored.
    async fn refuse_binding(
        &self,
        by: &Principal,
        parameters: Value,
        err: AppError,
    ) -> Result<Binding, AppError> {
        self.record(
            by,
            "grant-role",
            "portal",
            parameters,
            audit::Outcome::Failed,
            Some(err.to_string()),
        )
        .await?;
        Err(err)
    }
}

fn binding_error(err: BindingError) -> AppError {
    match err {
        BindingError::Store(e) => internal(e),
        BindingError::NotFound(id) => AppError::NotFound(format!("role binding {id}")),
        other => AppError::BadRequest(other.to_string()),
    }
}

/// The audit log's target for a binding's place: the portal, or its cluster.
fn target_text(cluster: Option<&ClusterRef>) -> String {
    gate::target_text(&cluster.cloned().map_or(Target::Portal, Target::Cluster))
}

/// The request being served, as the gate needs it: its session and its caller.
fn this_request() -> (Option<tower_sessions::Session>, crate::http::Caller) {
    let parts = leptos::prelude::use_context::<http::request::Parts>();
    let session = parts
        .as_ref()
        .and_then(|p| p.extensions.get::<tower_sessions::Session>().cloned());
    let caller = parts
        .as_ref()
        .map(crate::http::Caller::from_parts)
        .unwrap_or_default();
    (session, caller)
}

#[async_trait::async_trait]
impl Backend for PortalBackend {
    async fn search_activity(
        &self,
        by: &Principal,
        filter: ActivityFilter,
        limit: u32,
    ) -> Result<ActivityPage, AppError> {
        let mut query =
            audit_filter::query(&filter, limit).map_err(|e| AppError::BadRequest(e.to_string()))?;
        let bindings = self.gate.bindings.get().await.map_err(internal)?;
        query.within = activity_scope(by, &bindings);
        let page = audit::search(&self.db, &query).await.map_err(internal)?;
        Ok(ActivityPage {
            entries: page.entries.into_iter().map(to_activity).collect(),
            next: page.next.map(audit_filter::cursor),
            export_query: audit_filter::export_query(&query),
        })
    }

    async fn authorize(&self, action: Action, target: Target) -> Result<Principal, AppError> {
        let (session, caller) = this_request();
        Ok(self
            .gate
            .authorize(session.as_ref(), &caller, action, &target)
            .await?)
    }

    async fn access_overview(&self, by: &Principal) -> Result<AccessOverview, AppError> {
        let bindings = self.gate.bindings.get().await.map_err(internal)?.to_vec();
        let (clusters, clusters_unavailable) = match self.management(by) {
            Ok(m) => match m.clusters().await {
                Ok(c) => (c, None),
                Err(e) => (Vec::new(), Some(e.to_string())),
            },
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
        if let Some(c) = &new.cluster {
            match self.management(by)?.cluster_exists(c).await {
                Ok(true) => {}
                Ok(false) => {
                    let err = AppError::BadRequest(format!(
                        "there is no cluster {c} on the management cluster; pick one from the list"
                    ));
                    return self.refuse_binding(by, asked, err).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not check a binding's cluster");
                    return Err(AppError::Unavailable("the management cluster".into()));
                }
            }
        }
        let added = bindings::add(&self.db, &new).await;
        self.gate.bindings.invalidate();
        let id = match added {
            Ok(id) => id,
            Err(e) => return self.refuse_binding(by, asked, binding_error(e)).await,
        };
        let stored = bindings::list(&self.db)
            .await
            .map_err(internal)?
            .into_iter()
            .find(|b| b.id == id)
            .ok_or_else(|| AppError::NotFound(format!("role binding {id}")))?;
        self.record(
            by,
            "grant-role",
            &target_text(stored.cluster.as_ref()),
            json!({"after": stored}),
            audit::Outcome::Accepted,
            None,
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
        let removed = bindings::remove_unless_last_admin(&self.db, id).await;
        self.gate.bindings.invalidate();
        match removed {
            Ok(before) => {
                self.record(
                    by,
                    "revoke-role",
                    &target_text(before.cluster.as_ref()),
                    json!({"before": before}),
                    audit::Outcome::Accepted,
                    None,
                )
                .await
            }
            Err(e) => {
                // Refusing to lock everyone out is a decision worth recording, with the binding.
                if let BindingError::LastAdmin(before) = &e {
                    self.record(
                        by,
                        "revoke-role",
                        &target_text(before.cluster.as_ref()),
                        json!({"before": before}),
                        audit::Outcome::Failed,
                        Some(e.to_string()),
                    )
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
        let name = name.trim();
        if name.is_empty() {
            return Err(AppError::BadRequest(
                "name a group or a user to see what they may do".into(),
            ));
        }
        let principal = match SubjectKind::parse(kind.trim()) {
            Some(SubjectKind::Group) => Principal {
                subject: String::new(),
                name: format!("members of {name}"),
                groups: vec![name.to_string()],
            },
            Some(SubjectKind::User) => Principal {
                subject: name.to_string(),
                name: name.to_string(),
                groups: groups
                    .split(',')
                    .map(str::trim)
                    .filter(|g| !g.is_empty())
                    .map(str::to_string)
                    .collect(),
            },
            None => {
                return Err(AppError::BadRequest(format!(
                    "\"{kind}\" is not a subject kind; use group or user"
                )));
            }
        };
        let all = self.gate.bindings.get().await.map_err(internal)?.to_vec();
        let clusters = match self.management(by) {
            Ok(m) => m.clusters().await.unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        let mut scopes = vec![scope_access(&principal, &all, None)];
        scopes.extend(
            clusters
                .into_iter()
                .map(|c| scope_access(&principal, &all, Some(c))),
        );
        let bindings = all
            .into_iter()
            .filter(|b| b.applies_to(&principal))
            .collect();
        Ok(Simulation {
            principal,
            bindings,
            scopes,
        })
    }

    async fn my_access(&self) -> Result<app::access::AccessSummary, AppError> {
        let who = self
            .current_user()
            .await?
            .ok_or(AppError::Unauthenticated)?;
        let all = self.gate.bindings.get().await.map_err(internal)?;
        let actions = Action::ALL
            .into_iter()
            .map(|a| {
                (
                    a,
                    a.needs(),
                    crate::access::may(&who, &all, a, &Target::Portal).is_allowed(),
                )
            })
            .collect();
        let bindings = all.iter().filter(|b| b.applies_to(&who)).cloned().collect();
        let acting_as = match self.management(&who) {
            Ok(m) => m
                .whoami()
                .await
                .map(|(user, groups)| (user, groups, self.impersonate))
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        Ok(app::access::AccessSummary {
            principal: who,
            bindings,
            actions,
            acting_as,
        })
    }

    async fn current_user(&self) -> Result<Option<Principal>, AppError> {
        match this_request().0 {
            Some(session) => Ok(crate::auth::principal(&session, &self.gate.auth).await),
            None => Ok(None),
        }
    }
}

/// What `who` may do portal-wide (`None`) or on one cluster. On a cluster, seeing counts only
/// through a binding that reaches that cluster: the lists show a cluster to those who have a role
/// on it.
fn scope_access(who: &Principal, bindings: &[Binding], scope: Option<ClusterRef>) -> ScopeAccess {
    let (role, allowed) = match &scope {
        None => (
            effective_role(who, bindings, &Target::Portal, Reach::Global),
            Action::ALL
                .into_iter()
                .filter(|a| a.reach() != Reach::Cluster)
                .filter(|a| may(who, bindings, *a, &Target::Portal).is_allowed())
                .collect(),
        ),
        Some(c) => {
            let role = effective_role(who, bindings, &Target::Cluster(c.clone()), Reach::Cluster);
            (
                role,
                Action::ALL
                    .into_iter()
                    .filter(|a| a.reach() != Reach::Global)
                    .filter(|a| role.is_some_and(|r| r >= a.needs()))
                    .collect(),
            )
        }
    };
    ScopeAccess {
        scope,
        role,
        allowed,
    }
}

fn to_activity(stored: audit::Entry) -> ActivityEntry {
    let summary = crate::store::audit_words::summary(&stored);
    let p = &stored.entry.parameters;
    // The before and after of a change (or what was asked for); other parameters say nothing new.
    let details =
        (p.get("before").is_some() || p.get("after").is_some() || p.get("subject").is_some())
            .then(|| serde_json::to_string_pretty(p).unwrap_or_default());
    let e = stored.entry;
    ActivityEntry {
        summary,
        details,
        id: stored.id,
        at: format_ms(e.at_ms),
        actor: if e.actor_name.is_empty() {
            e.actor_subject
        } else {
            e.actor_name
        },
        action: e.action,
        target: e.target,
        result: e.outcome.as_str().to_string(),
        reason: e.reason,
        request_id: e.request_id,
        client_addr: e.client_addr,
    }
}

/// RFC 3339 in UTC, to the second; an out-of-range value is shown as its raw number.
fn format_ms(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::format_ms;

    #[test]
    fn timestamps_render_as_rfc3339_utc() {
        assert_eq!(format_ms(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_ms(1_795_000_000_123), "2026-11-18T11:06:40Z");
        assert_eq!(format_ms(i64::MAX), i64::MAX.to_string());
    }
}
