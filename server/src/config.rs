//! The command line: one clap struct, every option a flag and a `PORTOLAN_*` variable.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use url::Url;

#[derive(Parser, Debug)]
#[command(
    name = "portolan",
    version,
    about = "Self-hosted management portal for Kubernetes fleets"
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug, Clone, PartialEq)]
pub enum Command {
    /// Serve the portal (the default).
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
    /// Run kubesim alone: an embedded Kubernetes + Cluster API management cluster on loopback.
    Sim(SimArgs),
}

/// `portolan sim` options (`--listen` is shared; it defaults to a free loopback port here).
#[derive(clap::Args, Debug, Clone, PartialEq)]
pub struct SimArgs {
    /// Write the management cluster's kubeconfig to this file (mode 0600).
    #[arg(long)]
    pub kubeconfig: PathBuf,
    /// Simulated seconds per real second (a node joins in about 20 simulated seconds).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Seed for generated names, metrics and logs (same seed, same fleet).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Start with the demo fleet (three clusters in different regions and versions).
    #[arg(long)]
    pub demo: bool,
    /// Validate Cluster API objects against the official CRD manifests in this directory.
    #[arg(long)]
    pub crds: Option<PathBuf>,
}

/// Where `serve` listens unless told otherwise.
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 3000);

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Everything the portal can be told at start-up. `Debug` never shows a secret.
#[derive(clap::Args, Clone)]
pub struct Config {
    /// Address and port to listen on [default: 127.0.0.1:3000; for `sim`, a free loopback port].
    #[arg(long, env = "PORTOLAN_LISTEN", global = true)]
    pub listen: Option<SocketAddr>,

    /// Database: sqlite://<file> (created if missing) or postgres://user@host:port/db.
    #[arg(
        long,
        env = "PORTOLAN_DATABASE_URL",
        default_value = "sqlite://data/portolan.db",
        global = true,
        hide_env_values = true
    )]
    pub database_url: String,

    /// Kubeconfig of the Cluster API management cluster; absent: the embedded kubesim.
    #[arg(long, env = "PORTOLAN_MANAGEMENT_KUBECONFIG", global = true)]
    pub management_kubeconfig: Option<PathBuf>,

    /// Simulated seconds per real second of the embedded kubesim (its demo fleet is up after
    /// about 40 simulated seconds); 0.1 to 1000.
    #[arg(long, env = "PORTOLAN_KUBESIM_SPEED", default_value_t = 1.0, global = true,
          value_parser = parse_speed)]
    pub kubesim_speed: f64,

    /// Write the embedded kubesim's kubeconfig to this file (owner-only), so kubectl can work on
    /// the management cluster the portal shows.
    #[arg(long, env = "PORTOLAN_KUBESIM_KUBECONFIG", global = true)]
    pub kubesim_kubeconfig: Option<PathBuf>,

    /// The URL browsers use to reach the portal; default: http://<listen>.
    #[arg(long, env = "PORTOLAN_PUBLIC_URL", global = true)]
    pub public_url: Option<Url>,

    /// OpenID Connect issuer URL (enables sign-in through that provider).
    #[arg(long, env = "PORTOLAN_OIDC_ISSUER", global = true)]
    pub oidc_issuer: Option<Url>,

    /// OpenID Connect client id registered for the portal.
    #[arg(long, env = "PORTOLAN_OIDC_CLIENT_ID", global = true)]
    pub oidc_client_id: Option<String>,

    /// File holding the OpenID Connect client secret (kept out of the command line and environment).
    #[arg(long, env = "PORTOLAN_OIDC_CLIENT_SECRET_FILE", global = true)]
    pub oidc_client_secret_file: Option<PathBuf>,

    /// Token claim that lists the user's groups.
    #[arg(
        long,
        env = "PORTOLAN_OIDC_GROUPS_CLAIM",
        default_value = "groups",
        global = true
    )]
    pub oidc_groups_claim: String,

    /// Put in front of every group name from the provider (e.g. `oidc:`), so IdP groups cannot be
    /// mistaken for groups from another source.
    #[arg(long, env = "PORTOLAN_OIDC_GROUP_PREFIX", global = true)]
    pub oidc_group_prefix: Option<String>,

    /// Scopes to ask the provider for besides `openid` (space- or comma-separated).
    #[arg(
        long,
        env = "PORTOLAN_OIDC_SCOPES",
        default_value = "profile email groups",
        global = true
    )]
    pub oidc_scopes: String,

    /// Call the management cluster as the signed-in user (Impersonate-User / Impersonate-Group), so
    /// that Kubernetes RBAC agrees with the portal; the portal's own credentials need the
    /// `impersonate` verb.
    #[arg(long, env = "PORTOLAN_IMPERSONATE", global = true)]
    pub impersonate: bool,

    /// IdP group whose members are always admins, so a new install is not locked out.
    #[arg(long, env = "PORTOLAN_BOOTSTRAP_ADMIN_GROUP", global = true)]
    pub bootstrap_admin_group: Option<String>,

    /// Log line format.
    #[arg(
        long,
        env = "PORTOLAN_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,

    /// Time without a request after which a session ends (e.g. 90s, 60m, 8h; 10s to 7d).
    #[arg(long, env = "PORTOLAN_SESSION_IDLE", default_value = "60m", value_parser = session_idle, global = true)]
    pub session_idle: std::time::Duration,

    /// How often the metrics collector polls every workload cluster's metrics.k8s.io API
    /// (e.g. 15s; 1s to 10m).
    #[arg(long, env = "PORTOLAN_METRICS_INTERVAL", default_value = "15s", value_parser = metrics_interval, global = true)]
    pub metrics_interval: std::time::Duration,

    /// How long an operation (scaling a pool, an upgrade) may take before it is reported as failed
    /// (e.g. 30m; 10s to 24h).
    #[arg(long, env = "PORTOLAN_OPERATION_DEADLINE", default_value = "30m", value_parser = operation_deadline, global = true)]
    pub operation_deadline: std::time::Duration,

    /// How long a client may accept nothing of a response before its connection is closed
    /// (a live chart viewer that stopped reading; e.g. 30s; 1s to 10m).
    #[arg(long, env = "PORTOLAN_WRITE_TIMEOUT", default_value = "30s", value_parser = write_timeout, global = true)]
    pub write_timeout: std::time::Duration,

    /// Time after sign-in after which a session ends however active it is (e.g. 12h; 1m to 30d).
    #[arg(long, env = "PORTOLAN_SESSION_MAX", default_value = "12h", value_parser = session_max, global = true)]
    pub session_max: std::time::Duration,

    /// Directory with the browser assets (pkg/portolan.js, .wasm, .css and public files).
    #[arg(
        long,
        env = "PORTOLAN_SITE_ROOT",
        default_value = "target/site",
        global = true
    )]
    pub site_root: PathBuf,
}

impl Config {
    /// The address `serve` binds.
    pub fn listen_addr(&self) -> SocketAddr {
        self.listen.unwrap_or(DEFAULT_LISTEN)
    }

    /// The origin browsers send in `Origin` headers, e.g. `http://127.0.0.1:3000`.
    pub fn public_origin(&self) -> String {
        match &self.public_url {
            Some(url) => url.origin().ascii_serialization(),
            None => format!("http://{}", self.listen_addr()),
        }
    }
}

/// `90s`, `60m`, `12h`, `7d` → a duration; anything else, or outside `min..=max`, is refused.
fn duration_in(raw: &str, min: u64, max: u64) -> Result<std::time::Duration, String> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (number, unit) = raw.split_at(split);
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "{raw:?} is not a duration: write a number and a unit, s, m, h or d (e.g. 60m)"
            ));
        }
    };
    let secs = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| {
            format!("{raw:?} is not a duration: write a number and a unit (e.g. 60m)")
        })?;
    if !(min..=max).contains(&secs) {
        return Err(format!(
            "{raw} is out of range: between {min}s and {}d",
            max / 86_400
        ));
    }
    Ok(std::time::Duration::from_secs(secs))
}

fn session_idle(raw: &str) -> Result<std::time::Duration, String> {
    duration_in(raw, 10, 7 * 86_400)
}

fn metrics_interval(raw: &str) -> Result<std::time::Duration, String> {
    duration_in(raw, 1, 600)
}

fn operation_deadline(raw: &str) -> Result<std::time::Duration, String> {
    duration_in(raw, 10, 86_400)
}

fn write_timeout(raw: &str) -> Result<std::time::Duration, String> {
    duration_in(raw, 1, 600)
}

fn session_max(raw: &str) -> Result<std::time::Duration, String> {
    duration_in(raw, 60, 30 * 86_400)
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`; anything unparsable is hidden whole.
pub fn redact_url(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut url) => {
            if url.password().is_some() {
                let _ = url.set_password(Some("***"));
            }
            if url
                .query_pairs()
                .any(|(k, _)| k.eq_ignore_ascii_case("password"))
            {
                "<url with a password in its query>".to_string()
            } else {
                url.to_string()
            }
        }
        Err(_) => "<unparsable url>".to_string(),
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("database_url", &redact_url(&self.database_url))
            .field("management_kubeconfig", &self.management_kubeconfig)
            .field("public_url", &self.public_url.as_ref().map(Url::as_str))
            .field("oidc_issuer", &self.oidc_issuer.as_ref().map(Url::as_str))
            .field("oidc_client_id", &self.oidc_client_id)
            .field("oidc_client_secret_file", &self.oidc_client_secret_file)
            .field("oidc_groups_claim", &self.oidc_groups_claim)
            .field("oidc_group_prefix", &self.oidc_group_prefix)
            .field("oidc_scopes", &self.oidc_scopes)
            .field("impersonate", &self.impersonate)
            .field("kubesim_speed", &self.kubesim_speed)
            .field("kubesim_kubeconfig", &self.kubesim_kubeconfig)
            .field("bootstrap_admin_group", &self.bootstrap_admin_group)
            .field("log_format", &self.log_format)
            .field("session_idle", &self.session_idle)
            .field("session_max", &self.session_max)
            .field("metrics_interval", &self.metrics_interval)
            .field("operation_deadline", &self.operation_deadline)
            .field("write_timeout", &self.write_timeout)
            .field("site_root", &self.site_root)
            .finish()
    }
}

/// A kubesim speed: a number from 0.1 to 1000.
fn parse_speed(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if (0.1..=1000.0).contains(&v) => Ok(v),
        _ => Err(format!("{text} is not a speed from 0.1 to 1000")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_database_password() {
        let cli = Cli::try_parse_from([
            "portolan",
            "--database-url",
            "postgres://portal:s3cr3t@db.example:5432/portolan",
        ])
        .expect("valid flags");
        let shown = format!("{:?}", cli.config);
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("portal:***@db.example"), "{shown}");
    }

    #[test]
    fn a_password_in_the_query_string_is_hidden_too() {
        let shown = redact_url("postgres://db.example/portolan?password=s3cr3t");
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }

    #[test]
    fn public_origin_defaults_to_the_listen_address() {
        let cli =
            Cli::try_parse_from(["portolan", "--listen", "127.0.0.1:4000"]).expect("valid flags");
        assert_eq!(cli.config.public_origin(), "http://127.0.0.1:4000");
        let cli =
            Cli::try_parse_from(["portolan", "--public-url", "https://portal.example.com/x/"])
                .expect("valid flags");
        assert_eq!(cli.config.public_origin(), "https://portal.example.com");
    }

    #[test]
    fn session_lifetimes_take_a_unit_and_stay_in_range() {
        let cli = Cli::try_parse_from(["portolan", "--session-idle", "90s", "--session-max", "2d"])
            .expect("valid flags");
        assert_eq!(cli.config.session_idle.as_secs(), 90);
        assert_eq!(cli.config.session_max.as_secs(), 2 * 86_400);
        for bad in ["60", "5s", "8d", "1x", "m", "-1m", "99999999999999999999h"] {
            let flag = format!("--session-idle={bad}");
            let err = Cli::try_parse_from(["portolan", flag.as_str()])
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains("--session-idle"), "{bad}: {err}");
        }
    }

    #[test]
    fn subcommands_accept_the_global_flags() {
        let cli = Cli::try_parse_from(["portolan", "migrate", "--database-url", "sqlite://x.db"])
            .expect("valid flags");
        assert_eq!(cli.command, Some(Command::Migrate));
        assert_eq!(cli.config.database_url, "sqlite://x.db");
    }
}
