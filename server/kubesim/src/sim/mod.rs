//! The simulation: starting kubesim, the reconcile loop, and the handle callers keep.

pub mod apps;
pub mod cluster;
pub mod demo;
pub mod logs;
pub mod metrics;
pub mod objects;
pub mod rollout;
pub mod timing;
pub mod workload;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::api;
use crate::catalog;
use crate::faults::Faults;
use crate::resources::id;
use crate::schemas::Schemas;
use crate::shared::Shared;
use crate::store::Store;

/// How kubesim runs.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// Where to listen (loopback; port 0 picks a free one).
    pub listen: SocketAddr,
    /// Simulated seconds per real second.
    pub speed: f64,
    /// Makes names, uids, metrics and logs reproducible.
    pub seed: u64,
    /// Seed the demo fleet.
    pub demo: bool,
    /// The bearer token clients must present (random when `None`).
    pub token: Option<String>,
    /// Validate Cluster API objects against the official CRDs in this directory instead of
    /// kubesim's own schemas.
    pub crd_dir: Option<PathBuf>,
    /// Real time between simulation steps.
    pub tick: Duration,
    /// Events kept per resource for watches to resume from (older versions get `410 Gone`).
    pub watch_history: usize,
    /// How often an idle watch that allows bookmarks gets one.
    pub bookmark_interval: Duration,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            speed: 1.0,
            seed: 1,
            demo: false,
            token: None,
            crd_dir: None,
            tick: Duration::from_millis(100),
            watch_history: 1000,
            bookmark_interval: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("kubesim listens on loopback only; {0} is not a loopback address")]
    NotLoopback(SocketAddr),
    #[error("--speed must be a positive number, got {0}")]
    Speed(f64),
    #[error("cannot load the Cluster API CRDs: {0}")]
    Crds(String),
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    #[error("the operating system's random source failed: {0}")]
    Random(String),
}

/// A running kubesim.
pub struct Sim {
    shared: Arc<Shared>,
    kubeconfig: String,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    running: Arc<AtomicBool>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

/// 32 bytes from the operating system's random source, as hex: the API's only credential.
fn random_token() -> Result<String, SimError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| SimError::Random(e.to_string()))?;
    Ok(format!(
        "kubesim-{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

impl Sim {
    /// Binds, seeds the ClusterClass (and the demo fleet), and starts serving and simulating.
    pub async fn start(options: SimOptions) -> Result<Sim, SimError> {
        if !options.listen.ip().is_loopback() {
            return Err(SimError::NotLoopback(options.listen));
        }
        if !(options.speed.is_finite() && options.speed > 0.0) {
            return Err(SimError::Speed(options.speed));
        }
        let schemas = match &options.crd_dir {
            Some(dir) => Schemas::from_crd_dir(dir).map_err(SimError::Crds)?,
            None => Schemas::default(),
        };
        let listener =
            TcpListener::bind(options.listen)
                .await
                .map_err(|source| SimError::Listen {
                    addr: options.listen,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| SimError::Listen {
            addr: options.listen,
            source,
        })?;
        let tls = crate::tls::generate(addr.ip()).map_err(SimError::Tls)?;
        let base_url = format!("https://{addr}");
        let token = match options.token.clone() {
            Some(token) => token,
            None => random_token()?,
        };
        let mut shared = Shared::new(
            token.clone(),
            tls.ca_pem.clone(),
            schemas,
            options.speed,
            options.seed,
            options.watch_history,
            base_url.clone(),
        );
        shared.bookmark_every = options.bookmark_interval;
        let shared = Arc::new(shared);
        // The class is what clusters are created from; it cannot fail on an empty store.
        let _ = shared
            .mgmt
            .create(id::CLUSTER_CLASSES, catalog::cluster_class("default"));
        if options.demo {
            demo::seed(&shared.mgmt);
        }
        let router = api::router(shared.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let listener = listener.into_std().map_err(|source| SimError::Listen {
            addr: options.listen,
            source,
        })?;
        let server = axum_server::from_tcp_rustls(
            listener,
            axum_server::tls_rustls::RustlsConfig::from_config(tls.config),
        )
        .map_err(|source| SimError::Listen {
            addr: options.listen,
            source,
        })?;
        let handle = axum_server::Handle::new();
        let server = tokio::spawn({
            let stopper = handle.clone();
            async move {
                tokio::spawn(async move {
                    let _ = rx.await;
                    stopper.graceful_shutdown(Some(Duration::from_secs(5)));
                });
                let serve = server.handle(handle).serve(router.into_make_service());
                if let Err(e) = serve.await {
                    tracing::error!(error = %e, "kubesim stopped serving");
                }
            }
        });
        let running = Arc::new(AtomicBool::new(true));
        let ticker = {
            let shared = shared.clone();
            let running = running.clone();
            let tick = options.tick;
            std::thread::Builder::new()
                .name("kubesim-sim".into())
                .spawn(move || {
                    let mut rt = cluster::Runtime::default();
                    while running.load(Ordering::Relaxed) {
                        let now = shared.clock.now();
                        cluster::tick(&shared, &mut rt, now);
                        std::thread::sleep(tick);
                    }
                })
                .ok()
        };
        let kubeconfig = shared.management_kubeconfig();
        tracing::info!(url = %base_url, speed = options.speed, seed = options.seed, demo = options.demo, "kubesim started");
        Ok(Sim {
            shared,
            kubeconfig,
            shutdown: Some(tx),
            server: Some(server),
            running,
            ticker,
        })
    }

    pub fn url(&self) -> &str {
        &self.shared.base_url
    }

    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// The management cluster's kubeconfig.
    pub fn kubeconfig(&self) -> &str {
        &self.kubeconfig
    }

    /// Runs the simulation at another speed from now on (see `Clock::set_speed`).
    pub fn set_speed(&self, speed: f64) {
        self.shared.clock.set_speed(speed);
    }

    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// The management cluster's objects (for tests and benchmarks in-process).
    pub fn management(&self) -> &Store {
        &self.shared.mgmt
    }

    /// A workload cluster's objects, once its control plane is up.
    pub fn workload(&self, namespace: &str, name: &str) -> Option<Arc<Store>> {
        self.shared
            .workload(&Shared::key(namespace, name))
            .map(|w| w.store)
    }

    /// The API as a tower service, for clients that run in the same process.
    pub fn router(&self) -> Router {
        api::router(self.shared.clone())
    }

    /// Simulated seconds since the start.
    pub fn now(&self) -> f64 {
        self.shared.clock.now()
    }

    /// Stops serving (open watches end) and stops the simulation.
    pub async fn stop(mut self) {
        self.shutdown_now().await;
    }

    async fn shutdown_now(&mut self) {
        self.running.store(false, Ordering::Relaxed);
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // Open watches would hold graceful shutdown forever: drop them.
        let _ = self.shared.faults.apply(&crate::faults::FaultRequest {
            drop_watches: true,
            ..Default::default()
        });
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
        }
        if let Some(t) = self.ticker.take() {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.running.store(false, Ordering::Relaxed);
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}
