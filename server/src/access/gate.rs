//! The one authorize-and-audit path: who is asking (their session), may they do this (`may`), and
//! the denial recorded when not. Server functions reach it through `Backend::authorize`; plain axum
//! routes (exports, and the event streams and downloads to come) through the `Asker` extractor.

use std::convert::Infallible;
use std::sync::Arc;

use app::access::model::{Action, Principal, Role, Target};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use tower_sessions::Session;

use super::{BindingCache, Decision, may};
use crate::auth::AuthSettings;
use crate::http::{AppState, Caller};
use crate::store::{Db, StoreError, audit};

/// Why a request may not go on.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("sign in first")]
    Unauthenticated,
    #[error("{} needs the {needed} role", action.as_str())]
    Forbidden { needed: Role, action: Action },
    #[error("the portal's database did not answer: {0}")]
    Store(#[from] StoreError),
}

/// What deciding needs, built once with the server and shared by every request.
#[derive(Clone)]
pub struct Gate {
    pub db: Db,
    pub auth: Arc<AuthSettings>,
    pub bindings: Arc<BindingCache>,
}

impl Gate {
    /// The person `session` belongs to, if they may do `action` on `target`. A denial is recorded
    /// in the audit log with the caller's request id and address before it is returned.
    pub async fn authorize(
        &self,
        session: Option<&Session>,
        caller: &Caller,
        action: Action,
        target: &Target,
    ) -> Result<Principal, Refusal> {
        let who = match session {
            Some(session) => crate::auth::principal(session, &self.auth).await,
            None => None,
        };
        let Some(who) = who else {
            return Err(Refusal::Unauthenticated);
        };
        let bindings = self.bindings.get().await?;
        let decision = may(&who, &bindings, action, target);
        let Decision::Denied { needed, .. } = decision else {
            return Ok(who);
        };
        let target = target_text(target);
        let change = audit::Change::accepted(action.as_str(), &target, serde_json::json!({}));
        let reason = decision.refusal(action).unwrap_or_default();
        audit::record(
            &self.db,
            &caller.origin_of(&who),
            change.ended(audit::Outcome::Denied, reason),
        )
        .await?;
        Err(Refusal::Forbidden { needed, action })
    }
}

/// The audit log's target: `portal`, or `cluster/<namespace>/<name>`.
pub fn target_text(target: &Target) -> String {
    match target {
        Target::Portal => "portal".into(),
        Target::Cluster(c) => format!("cluster/{c}"),
    }
}

/// A plain route's caller: their session and request, and the gate to ask.
pub struct Asker {
    gate: Gate,
    session: Option<Session>,
    caller: Caller,
}

impl Asker {
    /// Who is asking, if they may do `action` on `target` (denials recorded).
    pub async fn may(&self, action: Action, target: &Target) -> Result<Principal, Refusal> {
        self.gate
            .authorize(self.session.as_ref(), &self.caller, action, target)
            .await
    }
}

impl Asker {
    /// Whether the session this request came with is still signed in (read afresh).
    pub async fn still_signed_in(&self) -> bool {
        match &self.session {
            Some(session) => {
                crate::auth::still_signed_in(&self.gate.db, &self.gate.auth, session).await
            }
            None => false,
        }
    }

    /// The audit origin of `who` making this request (its id and address).
    pub fn origin_of<'a>(&'a self, who: &'a Principal) -> audit::Origin<'a> {
        self.caller.origin_of(who)
    }
}

impl FromRequestParts<AppState> for Asker {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        Ok(Asker {
            gate: state.core.gate.clone(),
            session: parts.extensions.get::<Session>().cloned(),
            caller: Caller::from_parts(parts),
        })
    }
}
