//! `portolan sim`: kubesim on its own, with its kubeconfig written to a file.

use std::net::SocketAddr;

use kubesim::{Sim, SimOptions};

use crate::config::{Config, SimArgs};
use crate::error::StartupError;

/// kubesim's options from the command line (a free loopback port unless `--listen` is given).
pub fn options(config: &Config, args: &SimArgs) -> SimOptions {
    SimOptions {
        listen: config
            .listen
            .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 0))),
        speed: args.speed,
        seed: args.seed,
        demo: args.demo,
        crd_dir: args.crds.clone(),
        ..SimOptions::default()
    }
}

pub async fn run(config: Config, args: SimArgs) -> Result<(), StartupError> {
    let sim = Sim::start(options(&config, &args)).await?;
    sim.write_kubeconfig(&args.kubeconfig)
        .map_err(|source| StartupError::Kubeconfig {
            path: args.kubeconfig.clone(),
            source,
        })?;
    // One line on stdout for scripts: where the API is and where the kubeconfig went.
    println!(
        "kubesim serving {} (kubeconfig: {})",
        sim.url(),
        args.kubeconfig.display()
    );
    crate::shutdown_signal().await;
    sim.stop().await;
    Ok(())
}
