//! PortalBackend: the server's implementation of the app's backend traits, one file per topic.
//!
//! Each implementation is thin: it reads what the request needs from the shared core, calls the
//! topic's server module (where the rules live) and records what changed.

mod access;
mod activity;
mod change;
mod clusters;
mod dashboards;
mod delete;
mod metrics;
mod operations;
mod pool_admin;
mod pools;
mod tags;
mod upgrades;
mod wizard;

pub use wizard::{Posted, Submitted};

use std::sync::Arc;

use app::access::backend::AccessBackend;
use app::access::model::{Action, ClusterRef, Principal, Target};
use app::activity::backend::ActivityBackend;
use app::backend::Backend;
use app::clusters::backend::ClustersBackend;
use app::dashboards::backend::DashboardsBackend;
use app::error::AppError;
use app::metrics::backend::MetricsBackend;
use app::operations::backend::OperationsBackend;
use app::upgrades::backend::UpgradesBackend;

use crate::fleet::Management;
use crate::state::{Core, Fleet};
use crate::store::audit;

pub struct PortalBackend {
    pub core: Arc<Core>,
}

impl PortalBackend {
    /// Provides every backend trait to the Leptos context of one request.
    pub fn provide(self: &Arc<Self>) {
        use leptos::prelude::provide_context;
        provide_context::<Arc<dyn Backend>>(self.clone());
        provide_context::<Arc<dyn AccessBackend>>(self.clone());
        provide_context::<Arc<dyn ActivityBackend>>(self.clone());
        provide_context::<Arc<dyn ClustersBackend>>(self.clone());
        provide_context::<Arc<dyn MetricsBackend>>(self.clone());
        provide_context::<Arc<dyn DashboardsBackend>>(self.clone());
        provide_context::<Arc<dyn OperationsBackend>>(self.clone());
        provide_context::<Arc<dyn UpgradesBackend>>(self.clone());
    }

    /// Appends to the audit log as `who`, with this request's id and client address.
    async fn record(&self, who: &Principal, change: audit::Change<'_>) -> Result<(), AppError> {
        let (_, caller) = this_request();
        audit::record(&self.core.db, &caller.origin_of(who), change)
            .await
            .map(|_| ())
            .map_err(crate::error::internal)
    }

    /// The management cluster and its watch (absent only in tests that do not need one).
    fn fleet(&self) -> Result<&Fleet, AppError> {
        self.core
            .fleet
            .as_ref()
            .ok_or_else(|| AppError::Unavailable("the management cluster".into()))
    }

    /// The management cluster as `who` calls it: as them with `--impersonate`, else as the portal.
    fn management(&self, who: &Principal) -> Result<Management, AppError> {
        let fleet = self.fleet()?;
        if !self.core.impersonate {
            return Ok((*fleet.management).clone());
        }
        Ok(fleet.management.impersonating(who)?)
    }

    /// Every cluster `who` can see on the management cluster: from the shared watch, or (with
    /// `--impersonate`, where Kubernetes RBAC decides per person) asked as them.
    async fn cluster_names(&self, who: &Principal) -> Result<Vec<ClusterRef>, AppError> {
        let fleet = self.fleet()?;
        if !self.core.impersonate
            && let Some(known) = fleet.watch.cluster_names().await
        {
            return Ok(known);
        }
        Ok(crate::fleet::clusters::names(&self.management(who)?).await?)
    }
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
    async fn authorize(&self, action: Action, target: Target) -> Result<Principal, AppError> {
        let (session, caller) = this_request();
        Ok(self
            .core
            .gate
            .authorize(session.as_ref(), &caller, action, &target)
            .await?)
    }

    async fn current_user(&self) -> Result<Option<Principal>, AppError> {
        match this_request().0 {
            Some(session) => Ok(crate::auth::principal(&session, &self.core.auth).await),
            None => Ok(None),
        }
    }
}
