//! Who is on the other end of a request, for the audit log: its request id and network address.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

/// The request id (set by the request-id middleware) and the client's address, when known.
#[derive(Clone, Debug, Default)]
pub struct Caller {
    pub request_id: String,
    pub client_addr: Option<String>,
}

impl Caller {
    pub fn from_parts(parts: &Parts) -> Self {
        Caller {
            request_id: parts
                .headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string(),
            // The peer address, not `X-Forwarded-For`: a header anyone can write is no evidence.
            client_addr: parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip().to_string()),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Caller::from_parts(parts))
    }
}
