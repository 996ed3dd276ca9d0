//! `portolan sim`: kubesim on its own, with its kubeconfig written to a file.

use std::fs::File;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;

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
    // Open the kubeconfig first: a path that cannot be written fails before anything starts.
    let unwritable = |source| StartupError::Kubeconfig {
        path: args.kubeconfig.clone(),
        source,
    };
    let mut file = private_file(&args.kubeconfig).map_err(unwritable)?;
    let sim = Sim::start(options(&config, &args)).await?;
    file.write_all(sim.kubeconfig().as_bytes())
        .map_err(unwritable)?;
    drop(file);
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

/// Writes the embedded kubesim's kubeconfig to `path` (owner-only), for kubectl next to the portal.
pub fn write_kubeconfig(path: &Path, kubeconfig: &str) -> Result<(), StartupError> {
    let unwritable = |source| StartupError::Kubeconfig {
        path: path.to_path_buf(),
        source,
    };
    let mut file = private_file(path).map_err(unwritable)?;
    file.write_all(kubeconfig.as_bytes()).map_err(unwritable)
}

/// Creates (or truncates) a file only its owner can read: it holds the API token. The mode given
/// at creation does not apply to a file that exists already, so it is set on the open file too,
/// before anything secret is written.
pub fn private_file(path: &Path) -> std::io::Result<File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let file = opts.open(path)?;
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    Ok(file)
}
