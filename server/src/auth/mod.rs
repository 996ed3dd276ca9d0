//! Sign-in: sessions kept in the portal's database, the development sign-in, sign-out, and who is
//! signed in. (OpenID Connect sign-in is not built yet.)

pub mod dev;
mod handlers;
pub mod store;

use std::net::SocketAddr;

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

/// How sign-in behaves for this process.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    /// The development sign-in: only without an issuer and only on loopback.
    pub dev_sign_in: bool,
    /// `Secure` cookies, unless the portal is served over plain HTTP on loopback.
    pub secure_cookies: bool,
    pub idle_minutes: u32,
    pub max_hours: u32,
}

impl AuthSettings {
    pub fn from_config(config: &Config, addr: SocketAddr) -> Self {
        let origin = config.public_origin();
        let plain_loopback = origin.starts_with("http://")
            && url::Url::parse(&origin)
                .ok()
                .and_then(|u| u.host_str().map(String::from))
                .is_some_and(|h| {
                    h == "localhost"
                        || h.trim_matches(['[', ']'])
                            .parse::<std::net::IpAddr>()
                            .is_ok_and(|ip| ip.is_loopback())
                });
        AuthSettings {
            dev_sign_in: config.oidc_issuer.is_none() && addr.ip().is_loopback(),
            secure_cookies: !plain_loopback,
            idle_minutes: config.session_idle_minutes,
            max_hours: config.session_max_hours,
        }
    }
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
    SessionManagerLayer::new(PortalSessionStore::new(&state.db))
        .with_name(COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.auth.secure_cookies)
        .with_expiry(Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::minutes(i64::from(state.auth.idle_minutes)),
        ))
}

/// Who is signed in, if anyone; a session past its absolute lifetime is ended here.
pub async fn principal(session: &Session, settings: &AuthSettings) -> Option<Principal> {
    let signed_in: SignedIn = session.get(SIGNED_IN).await.ok().flatten()?;
    let max_ms = i64::from(settings.max_hours) * 3_600_000;
    if now_ms() - signed_in.at_ms > max_ms {
        let _ = session.flush().await;
        return None;
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

/// The `/auth/*` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/login", get(handlers::login))
        .route(
            "/auth/dev",
            get(handlers::dev_page).post(handlers::dev_sign_in),
        )
        .route("/auth/logout", post(handlers::sign_out))
        .route("/auth/me", get(handlers::me))
}
