//! Sign-in: OpenID Connect or the development sign-in, sessions kept in the portal's database,
//! sign-out, and who is signed in.

pub mod dev;
mod handlers;
pub mod html;
pub mod limit;
pub mod oidc;
pub mod pending;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;

use app::access::model::Principal;
use axum::Router;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

use crate::config::Config;
use crate::http::AppState;
use crate::store::now_ms;
use store::PortalSessionStore;

/// The session cookie's name.
pub const COOKIE: &str = "portolan_session";
const SIGNED_IN: &str = "signed_in";
/// When the session last showed activity (Unix ms), to extend its idle expiry.
const SEEN: &str = "seen_ms";

/// How sign-in behaves for this process.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    /// The development sign-in: only without an issuer and only on loopback.
    pub dev_sign_in: bool,
    /// `Secure` cookies, unless the portal is served over plain HTTP on loopback.
    pub secure_cookies: bool,
    pub idle: std::time::Duration,
    pub max: std::time::Duration,
    /// The identity provider, when one is configured.
    pub oidc: Option<Arc<oidc::Oidc>>,
    /// Seals the cookie that holds sign-ins in progress.
    pub sealer: Arc<pending::Sealer>,
}

impl AuthSettings {
    pub fn from_config(config: &Config, addr: SocketAddr) -> Result<Self, AuthConfigError> {
        let origin = config.public_origin();
        let public_loopback = url::Url::parse(&origin)
            .ok()
            .and_then(|u| u.host_str().map(String::from))
            .is_some_and(|h| crate::http::is_loopback_host(&h));
        Ok(AuthSettings {
            // Behind a proxy on the same machine the listen address is loopback while strangers
            // reach the portal through the public URL: both must be loopback.
            dev_sign_in: config.oidc_issuer.is_none() && addr.ip().is_loopback() && public_loopback,
            secure_cookies: !(origin.starts_with("http://") && public_loopback),
            idle: config.session_idle,
            max: config.session_max,
            oidc: oidc_from_config(config)?.map(Arc::new),
            sealer: Arc::default(),
        })
    }

    /// No identity provider and no development sign-in: nobody can sign in.
    pub fn no_sign_in(&self) -> bool {
        self.oidc.is_none() && !self.dev_sign_in
    }
}

/// What is wrong with the sign-in configuration; the process does not start.
#[derive(Debug, thiserror::Error)]
pub enum AuthConfigError {
    #[error(
        "--oidc-issuer needs --oidc-client-id (PORTOLAN_OIDC_CLIENT_ID): the portal's client id at the provider"
    )]
    MissingClientId,
    #[error("--oidc-client-secret-file {}: {source}", path.display())]
    SecretFile {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("--oidc-client-secret-file {}: the file is empty", .0.display())]
    EmptySecret(std::path::PathBuf),
    #[error("--oidc-issuer {0}: the issuer must be an https:// URL, or http:// on loopback")]
    InsecureIssuer(url::Url),
    #[error("--oidc-issuer: {0}")]
    Client(String),
}

fn oidc_from_config(config: &Config) -> Result<Option<oidc::Oidc>, AuthConfigError> {
    let Some(issuer) = config.oidc_issuer.clone() else {
        return Ok(None);
    };
    let loopback = issuer.host().is_some_and(|h| match h {
        url::Host::Domain(d) => d == "localhost",
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    });
    if issuer.scheme() != "https" && !(issuer.scheme() == "http" && loopback) {
        return Err(AuthConfigError::InsecureIssuer(issuer));
    }
    let client_id = config
        .oidc_client_id
        .clone()
        .ok_or(AuthConfigError::MissingClientId)?;
    let client_secret = match &config.oidc_client_secret_file {
        Some(path) => {
            let secret =
                std::fs::read_to_string(path).map_err(|source| AuthConfigError::SecretFile {
                    path: path.clone(),
                    source,
                })?;
            let secret = secret.trim().to_string();
            if secret.is_empty() {
                return Err(AuthConfigError::EmptySecret(path.clone()));
            }
            Some(secret)
        }
        None => None,
    };
    let public_url = config.public_url.clone().unwrap_or_else(|| {
        url::Url::parse(&config.public_origin()).unwrap_or_else(|_| issuer.clone())
    });
    oidc::Oidc::new(oidc::OidcSettings {
        issuer,
        client_id,
        client_secret,
        public_url,
        groups_claim: config.oidc_groups_claim.clone(),
        group_prefix: config.oidc_group_prefix.clone().unwrap_or_default(),
        scopes: config
            .oidc_scopes
            .split([' ', ','])
            .filter(|s| !s.is_empty() && *s != "openid")
            .map(str::to_string)
            .collect(),
    })
    .map(Some)
    .map_err(AuthConfigError::Client)
}

/// What the session remembers about the person signed in.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct SignedIn {
    principal: Principal,
    at_ms: i64,
}

/// The session layer: database-backed, `HttpOnly`, `SameSite=Lax` (the IdP's redirect back is a
/// cross-site navigation), idle expiry.
pub fn layer(state: &AppState) -> SessionManagerLayer<PortalSessionStore> {
    SessionManagerLayer::new(PortalSessionStore::new(&state.core.db))
        .with_name(COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.core.auth.secure_cookies)
        .with_expiry(Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::try_from(state.core.auth.idle)
                .unwrap_or(tower_sessions::cookie::time::Duration::HOUR),
        ))
}

/// Whether `session` is still signed in now, read afresh from the database: for long-lived
/// responses (live charts), whose session object was loaded once when they began. A sign-out
/// elsewhere, the idle expiry or the absolute lifetime ends it.
pub async fn still_signed_in(
    db: &crate::store::Db,
    settings: &AuthSettings,
    session: &Session,
) -> bool {
    use tower_sessions::SessionStore;
    let Some(id) = session.id() else {
        return false;
    };
    let Ok(Some(record)) = store::PortalSessionStore::new(db).load(&id).await else {
        return false;
    };
    if record.expiry_date <= time::OffsetDateTime::now_utc() {
        return false;
    }
    let Some(signed_in) = record
        .data
        .get(SIGNED_IN)
        .and_then(|v| serde_json::from_value::<SignedIn>(v.clone()).ok())
    else {
        return false;
    };
    let max_ms = i64::try_from(settings.max.as_millis()).unwrap_or(i64::MAX);
    now_ms() - signed_in.at_ms <= max_ms
}

/// Who is signed in, if anyone; a session past its absolute lifetime is ended here.
pub async fn principal(session: &Session, settings: &AuthSettings) -> Option<Principal> {
    let signed_in: SignedIn = session.get(SIGNED_IN).await.ok().flatten()?;
    let now = now_ms();
    let max_ms = i64::try_from(settings.max.as_millis()).unwrap_or(i64::MAX);
    if now - signed_in.at_ms > max_ms {
        let _ = session.flush().await;
        return None;
    }
    // Activity keeps a session alive, but tower-sessions stores (and so extends) a session only
    // when it changes: touch it now and then, not on every request.
    let idle_ms = i64::try_from(settings.idle.as_millis()).unwrap_or(i64::MAX);
    let seen: i64 = session
        .get(SEEN)
        .await
        .ok()
        .flatten()
        .unwrap_or(signed_in.at_ms);
    if now - seen > (idle_ms / 4).min(60_000) {
        let _ = session.insert(SEEN, now).await;
    }
    Some(signed_in.principal)
}

/// Signs `who` in: a new session id (no fixation), then the identity.
pub async fn sign_in(
    session: &Session,
    who: Principal,
) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    session
        .insert(
            SIGNED_IN,
            SignedIn {
                principal: who,
                at_ms: now_ms(),
            },
        )
        .await
}

/// The `/auth/*` routes; starting and finishing a sign-in are rate-limited per client address.
pub fn routes() -> Router<AppState> {
    let signing_in = Router::new()
        .route("/auth/login", get(handlers::login))
        .route(
            "/auth/dev",
            get(handlers::dev_page).post(handlers::dev_sign_in),
        )
        .route("/auth/callback", get(handlers::callback));
    limit::limited(signing_in)
        .route("/auth/logout", post(handlers::sign_out))
        .route("/auth/me", get(handlers::me))
}
