//! The composition root: the database, sign-in, access, fleet and long-lived services, built once.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::task::JoinHandle;

use crate::access::{BindingCache, Gate};
use crate::auth::{self, AuthSettings};
use crate::backend::PortalBackend;
use crate::config::Config;
use crate::error::StartupError;
use crate::fleet::{Management, watch::FleetWatch};
use crate::http::{AppState, HostPolicy};
use crate::store::Db;

/// What every request handler, server function and background service shares: built once per
/// process by [`build`], held by `AppState` and `PortalBackend` alike.
pub struct Core {
    pub db: Db,
    /// How sign-in and sessions behave.
    pub auth: Arc<AuthSettings>,
    /// Who is asking and what they may do: sessions, role bindings, the decision, denials recorded.
    pub gate: Gate,
    /// The Cluster API management cluster and its watched state (absent only in tests that do
    /// not need one).
    pub fleet: Option<Fleet>,
    /// Call the management cluster as the signed-in user (`--impersonate`).
    pub impersonate: bool,
}

/// The management cluster: a client, and the reflectors every request reads from.
pub struct Fleet {
    pub management: Arc<Management>,
    pub watch: FleetWatch,
    /// CPU and memory of the workload clusters: collected here while this replica holds the lease.
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// The long-lived tasks started with the server (the fleet watchers today; the metrics collector
/// and operation followers later), stopped with it.
#[derive(Default)]
pub struct Services {
    tasks: Vec<JoinHandle<()>>,
    follower: Option<crate::operations::Follower>,
}

/// How often running operations are looked at (and their leases renewed).
const FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

impl Services {
    /// Stops every task and waits until each has ended; operations followed here are given up,
    /// so another replica takes them over at once.
    pub async fn stop(self) {
        for task in &self.tasks {
            task.abort();
        }
        for task in self.tasks {
            // A task ends cancelled (what abort asks for) or with its own result: both are an end.
            let _ = task.await;
        }
        if let Some(follower) = self.follower
            && let Err(e) = follower.release().await
        {
            tracing::warn!(error = %e, "could not give up the operations followed here");
        }
    }
}

/// The router's state and the services behind it. Must be called inside the tokio runtime when
/// there is a management cluster (its watchers start at once).
pub fn build(
    config: &Config,
    db: Db,
    addr: SocketAddr,
    management: Option<Arc<Management>>,
) -> Result<(AppState, Services), StartupError> {
    let auth = Arc::new(AuthSettings::from_config(config, addr)?);
    // The development identities' roles exist only while the development sign-in is on.
    let fixed = if auth.dev_sign_in {
        auth::dev::bindings()
    } else {
        Vec::new()
    };
    let gate = Gate {
        db: db.clone(),
        auth: auth.clone(),
        bindings: Arc::new(BindingCache::new(db.clone(), fixed)),
    };
    let mut services = Services::default();
    let fleet = management.map(|management| {
        let (watch, tasks) = FleetWatch::start(&management);
        services.tasks.extend(tasks);
        let metrics =
            crate::metrics::Metrics::new(db.clone(), watch.clone(), config.metrics_interval);
        services.tasks.extend(metrics.start());
        let follower =
            crate::operations::Follower::new(db.clone(), watch.clone(), config.operation_deadline);
        services.tasks.push(follower.clone().start(FOLLOW_EVERY));
        services.follower = Some(follower);
        Fleet {
            management,
            watch,
            metrics,
        }
    });
    let core = Arc::new(Core {
        db,
        auth,
        gate,
        fleet,
        impersonate: config.impersonate,
    });
    let state = AppState {
        leptos_options: crate::leptos_options(config, addr),
        backend: Arc::new(PortalBackend { core: core.clone() }),
        public_origin: config.public_origin().into(),
        hosts: Arc::new(HostPolicy::new(&config.public_origin(), addr)),
        core,
    };
    Ok((state, services))
}

/// Everything the router needs, built from an open database (no management cluster).
pub fn app_state(config: &Config, db: Db, addr: SocketAddr) -> Result<AppState, StartupError> {
    app_state_with(config, db, addr, None)
}

/// Everything the router needs, with the management cluster when there is one; its watchers run
/// until the runtime ends (tests; `serve` keeps the services to stop them).
pub fn app_state_with(
    config: &Config,
    db: Db,
    addr: SocketAddr,
    management: Option<Arc<Management>>,
) -> Result<AppState, StartupError> {
    build(config, db, addr, management).map(|(state, _detached)| state)
}
