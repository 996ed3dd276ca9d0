//! The Portolan server: configuration, database, HTTP, and the Backend the app's server functions call.

pub mod access;
pub mod auth;
pub mod backend;
pub mod config;
pub mod error;
pub mod fleet;
pub mod http;
pub mod metrics;
pub mod operations;
pub mod simulate;
pub mod state;
pub mod store;

pub use state::{app_state, app_state_with};

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use leptos::prelude::LeptosOptions;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::error::StartupError;
use crate::store::{Db, settings};

/// How long in-flight requests may run on after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// Leptos settings derived from ours, so that no `LEPTOS_*` variable is needed to run the binary.
pub fn leptos_options(config: &Config, addr: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(app::OUTPUT_NAME)
        .site_root(config.site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build()
}

/// Opens and migrates the database named by the configuration.
pub async fn open_database(config: &Config) -> Result<Db, StartupError> {
    let db = Db::connect(&config.database_url).await?;
    db.migrate().await?;
    Ok(db)
}

/// `portolan serve`: bind, open the database, serve until SIGTERM/SIGINT.
pub async fn serve(config: Config) -> Result<(), StartupError> {
    let listen = config.listen_addr();
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|source| StartupError::Bind {
            addr: listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartupError::Bind {
        addr: listen,
        source,
    })?;
    let db = open_database(&config).await?;
    let installation_id = settings::installation_id(&db).await?;
    // A new install must not lock its administrators out: this group is always a global admin.
    if let Some(group) = &config.bootstrap_admin_group {
        access::bindings::bootstrap_admin(&db, group)
            .await
            .map_err(StartupError::Bootstrap)?;
    }
    // Without a management cluster, the embedded kubesim (with the demo fleet) stands in for one.
    let (management, embedded) = match &config.management_kubeconfig {
        Some(path) => (fleet::Management::from_file(path).await?, None),
        None => {
            let sim = kubesim::Sim::start(kubesim::SimOptions {
                demo: true,
                speed: config.kubesim_speed,
                ..kubesim::SimOptions::default()
            })
            .await?;
            if let Some(path) = &config.kubesim_kubeconfig {
                simulate::write_kubeconfig(path, sim.kubeconfig())?;
            }
            let management =
                fleet::Management::from_yaml(sim.kubeconfig(), "embedded kubesim").await?;
            tracing::info!(url = %sim.url(), "no --management-kubeconfig: started the embedded kubesim with a demo fleet");
            (management, Some(sim))
        }
    };
    if !config
        .site_root
        .join("pkg")
        .join(format!("{}.js", app::OUTPUT_NAME))
        .is_file()
    {
        tracing::warn!(
            site_root = %config.site_root.display(),
            "browser assets are missing: pages render but will not be styled or interactive (build them with `make build`, or set --site-root)"
        );
    }
    let (state, services) = state::build(&config, db.clone(), addr, Some(Arc::new(management)))?;
    // Development bindings live in memory only; any an earlier version stored go, recorded.
    let removed = auth::dev::remove_stored_bindings(&db)
        .await
        .map_err(StartupError::DevSignIn)?;
    if !removed.is_empty() {
        tracing::warn!(
            count = removed.len(),
            "removed the development sign-in's role bindings stored by an earlier version (recorded in the activity log)"
        );
    }
    if state.core.auth.dev_sign_in {
        tracing::warn!(
            "development sign-in is on (no --oidc-issuer; listening on and reached through loopback): anyone who can reach the portal may pick a seeded identity"
        );
    }
    if state.core.auth.no_sign_in() {
        tracing::error!(
            "nobody can sign in: set --oidc-issuer (PORTOLAN_OIDC_ISSUER) and --oidc-client-id; the development sign-in is offered only when --listen and --public-url are both loopback"
        );
    }
    // Everything that can refuse to start has been checked: now the side effects.
    // Expired sessions are deleted in the background, hourly.
    let sessions = auth::store::PortalSessionStore::new(&db);
    tokio::spawn(
        tower_sessions::session_store::ExpiredDeletion::continuously_delete_expired(
            sessions,
            tokio::time::Duration::from_secs(3600),
        ),
    );
    tracing::info!(
        %addr,
        public_origin = %state.public_origin,
        database = db.backend_name(),
        %installation_id,
        "portolan is serving"
    );
    http::serve(
        listener,
        http::router(state),
        shutdown_signal(),
        SHUTDOWN_GRACE,
        config.write_timeout,
    )
    .await
    .map_err(StartupError::Serve)?;
    services.stop().await;
    db.close().await;
    if let Some(sim) = embedded {
        sim.stop().await;
    }
    tracing::info!("portolan stopped");
    Ok(())
}

/// `portolan migrate`: bring the schema up to date and exit.
pub async fn migrate(config: Config) -> Result<(), StartupError> {
    let db = open_database(&config).await?;
    tracing::info!(database = db.backend_name(), "migrations applied");
    db.close().await;
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
