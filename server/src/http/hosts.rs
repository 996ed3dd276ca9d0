//! Which `Host` names the portal answers to: its public URL's host, and loopback names when it
//! listens on loopback. Anything else is a DNS-rebinding attempt or a misrouted request.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::error::HttpError;

/// Paths probes reach by pod IP or any name: they reveal nothing and change nothing.
const PROBES: [&str; 2] = ["/healthz", "/readyz"];

/// The host names a request may name.
#[derive(Clone, Debug)]
pub struct HostPolicy {
    /// The public URL's host, lower-case, without port or brackets.
    public_host: String,
    /// Loopback names (`localhost`, `127.0.0.1`, `[::1]` …) are accepted too.
    loopback: bool,
}

impl HostPolicy {
    pub fn new(public_origin: &str, listen: SocketAddr) -> Self {
        let public_host = url::Url::parse(public_origin)
            .ok()
            .and_then(|u| u.host_str().map(host_only))
            .unwrap_or_default();
        HostPolicy {
            public_host,
            loopback: listen.ip().is_loopback(),
        }
    }

    /// Whether a request naming `host` (a `Host` header value, port allowed) is for this portal.
    pub fn allows(&self, host: &str) -> bool {
        let name = host_only(strip_port(host));
        !name.is_empty() && (name == self.public_host || (self.loopback && is_loopback_host(&name)))
    }
}

/// `localhost`, or a loopback IP address (with or without IPv6 brackets).
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_matches(['[', ']']);
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn host_only(host: &str) -> String {
    host.trim_matches(['[', ']'])
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

/// `example.com:443` → `example.com`; `[::1]:3000` → `[::1]`; a bare IPv6 literal stays whole.
fn strip_port(host: &str) -> &str {
    if let Some(end) = host.find(']') {
        return &host[..=end];
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    }
}

/// Refuses requests for another host name with 421. A request without any host (possible only
/// outside browsers, which always send one, so not a rebinding attempt) is let through.
pub async fn known_hosts(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if PROBES.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    let host = req
        .headers()
        .get(header::HOST)
        .map(|h| h.to_str().unwrap_or("\u{fffd}").to_string())
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_string()));
    match host {
        Some(host) if !state.hosts.allows(&host) => {
            tracing::warn!(host = %host.escape_debug(), "refused a request for another host name");
            HttpError::UnknownHost(state.public_origin.to_string()).into_response()
        }
        _ => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_host_and_loopback_names_are_accepted() {
        let on_loopback = HostPolicy::new(
            "https://portal.example.com",
            "127.0.0.1:3000".parse().expect("addr"),
        );
        for ok in [
            "portal.example.com",
            "PORTAL.example.com:443",
            "portal.example.com.",
            "127.0.0.1:3000",
            "localhost:3000",
            "[::1]:3000",
            "127.0.0.2",
        ] {
            assert!(on_loopback.allows(ok), "{ok}");
        }
        for refused in [
            "evil.example",
            "rebind.evil.example:3000",
            "portal.example.com.evil.example",
            "10.0.0.5:3000",
            "",
        ] {
            assert!(!on_loopback.allows(refused), "{refused}");
        }
        let everywhere = HostPolicy::new(
            "https://portal.example.com",
            "0.0.0.0:3000".parse().expect("addr"),
        );
        assert!(everywhere.allows("portal.example.com"));
        assert!(!everywhere.allows("localhost:3000"));
        assert!(!everywhere.allows("127.0.0.1:3000"));
    }
}
