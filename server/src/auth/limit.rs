//! Rate limits on the sign-in endpoints, per client address: each attempt may cost the identity
//! provider a round trip and the database a session, so one address gets a burst and then a trickle.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response, StatusCode, header};
use tower_governor::GovernorError;
use tower_governor::GovernorLayer;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::KeyExtractor;

/// Attempts one address may make at once…
pub const BURST: u32 = 30;
/// …and then one more each this often.
pub const REFILL: Duration = Duration::from_millis(500);

/// The key: the peer address (never a forwarded header, which anyone can write). IPv6 clients
/// are grouped by their /64, which one household or host can rotate through freely.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddress;

impl KeyExtractor for ClientAddress {
    type Key = IpAddr;

    fn extract<T>(&self, req: &Request<T>) -> Result<IpAddr, GovernorError> {
        let ip = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            // Only in-process callers (tests) come without a peer: they share one allowance.
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        Ok(match ip {
            IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        })
    }
}

fn too_many(err: GovernorError) -> Response<Body> {
    let (status, wait, headers) = match err {
        GovernorError::TooManyRequests { wait_time, headers } => {
            (StatusCode::TOO_MANY_REQUESTS, wait_time, headers)
        }
        _ => (StatusCode::TOO_MANY_REQUESTS, 1, None),
    };
    let mut res = Response::new(Body::from(format!(
        "Too many sign-in attempts from your address: wait {wait} s and try again.\n"
    )));
    *res.status_mut() = status;
    if let Some(headers) = headers {
        res.headers_mut().extend(headers);
    }
    res.headers_mut()
        .entry(header::RETRY_AFTER)
        .or_insert_with(|| wait.max(1).into());
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}

/// `routes` behind the limit. Addresses not seen for a while are forgotten every minute.
pub fn limited<S: Clone + Send + Sync + 'static>(routes: Router<S>) -> Router<S> {
    let config = GovernorConfigBuilder::default()
        .period(REFILL)
        .burst_size(BURST)
        .key_extractor(ClientAddress)
        .finish()
        .expect("the period and burst are non-zero constants");
    let config = Arc::new(config);
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        let weak = Arc::downgrade(&config);
        runtime.spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                let Some(config) = weak.upgrade() else { break };
                config.limiter().retain_recent();
            }
        });
    }
    routes.layer(GovernorLayer::new(config).error_handler(too_many))
}
