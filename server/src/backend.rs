//! PortalBackend: the server's implementation of the app's Backend trait.

use app::access::model::{Action, Principal, Target};
use app::activity::ActivityEntry;
use app::backend::Backend;
use app::error::AppError;

use crate::access::Decision;
use crate::error::internal;
use crate::store::{Db, audit};

pub struct PortalBackend {
    pub db: Db,
    pub auth: std::sync::Arc<crate::auth::AuthSettings>,
}

#[async_trait::async_trait]
impl Backend for PortalBackend {
    async fn recent_activity(&self, limit: u32) -> Result<Vec<ActivityEntry>, AppError> {
        let entries = audit::recent(&self.db, limit).await.map_err(internal)?;
        Ok(entries.into_iter().map(to_activity).collect())
    }

    async fn authorize(&self, action: Action, target: Target) -> Result<Principal, AppError> {
        let Some(who) = self.current_user().await? else {
            return Err(AppError::Unauthenticated);
        };
        let bindings = crate::access::bindings::list(&self.db)
            .await
            .map_err(internal)?;
        match crate::access::may(&who, &bindings, action, &target) {
            Decision::Allowed => Ok(who),
            Decision::Denied { needed, had } => {
                let target_text = match &target {
                    Target::Portal => "portal".to_string(),
                    Target::Cluster(c) => format!("cluster/{c}"),
                };
                let reason = format!(
                    "{} needs the {needed} role; {}",
                    action.as_str(),
                    had.map(|r| format!("the caller is {r} there"))
                        .unwrap_or_else(|| "the caller has no role there".into())
                );
                let caller = leptos::prelude::use_context::<http::request::Parts>()
                    .map(|parts| crate::http::Caller::from_parts(&parts))
                    .unwrap_or_default();
                let entry = audit::NewEntry {
                    at_ms: crate::store::now_ms(),
                    actor_subject: who.subject.clone(),
                    actor_name: who.name.clone(),
                    actor_groups: who.groups.clone(),
                    action: action.as_str().into(),
                    target: target_text,
                    parameters: serde_json::json!({}),
                    outcome: audit::Outcome::Denied,
                    reason: Some(reason),
                    request_id: caller.request_id,
                    client_addr: caller.client_addr,
                };
                audit::append(&self.db, &entry).await.map_err(internal)?;
                Err(AppError::Forbidden {
                    needed: needed.to_string(),
                    action: action.as_str().into(),
                })
            }
        }
    }

    async fn my_access(&self) -> Result<app::access::AccessSummary, AppError> {
        let who = self
            .current_user()
            .await?
            .ok_or(AppError::Unauthenticated)?;
        let all = crate::access::bindings::list(&self.db)
            .await
            .map_err(internal)?;
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
        let bindings = all.into_iter().filter(|b| b.applies_to(&who)).collect();
        Ok(app::access::AccessSummary {
            principal: who,
            bindings,
            actions,
        })
    }

    async fn current_user(&self) -> Result<Option<Principal>, AppError> {
        // The session layer put the session into the request; Leptos hands the request's parts over.
        let session = leptos::prelude::use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<tower_sessions::Session>().cloned());
        match session {
            Some(session) => Ok(crate::auth::principal(&session, &self.auth).await),
            None => Ok(None),
        }
    }
}

fn to_activity(stored: audit::Entry) -> ActivityEntry {
    let e = stored.entry;
    ActivityEntry {
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
        request_id: e.request_id,
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
