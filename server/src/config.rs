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

    /// Minutes without a request after which a session ends.
    #[arg(long, env = "PORTOLAN_SESSION_IDLE_MINUTES", default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=10080), global = true)]
    pub session_idle_minutes: u32,

    /// Hours after sign-in after which a session ends however active it is.
    #[arg(long, env = "PORTOLAN_SESSION_MAX_HOURS", default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=720), global = true)]
    pub session_max_hours: u32,

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
            .field("bootstrap_admin_group", &self.bootstrap_admin_group)
            .field("log_format", &self.log_format)
            .field("session_idle_minutes", &self.session_idle_minutes)
            .field("session_max_hours", &self.session_max_hours)
            .field("site_root", &self.site_root)
            .finish()
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
    fn subcommands_accept_the_global_flags() {
        let cli = Cli::try_parse_from(["portolan", "migrate", "--database-url", "sqlite://x.db"])
            .expect("valid flags");
        assert_eq!(cli.command, Some(Command::Migrate));
        assert_eq!(cli.config.database_url, "sqlite://x.db");
    }
}
