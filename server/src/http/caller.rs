//! Who is on the other end of a request, for the audit log: its request id and network address.

use std::convert::Infallible;
use std::net::SocketAddr;

use app::access::model::Principal;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::store::audit::Origin;

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

impl Caller {
    /// The audit log's origin for `subject`, `name` and `groups` acting through this request.
    pub fn origin<'a>(
        &'a self,
        subject: &'a str,
        name: &'a str,
        groups: &'a [String],
    ) -> Origin<'a> {
        Origin {
            subject,
            name,
            groups,
            request_id: &self.request_id,
            client_addr: self.client_addr.as_deref(),
        }
    }

    /// The same, for a signed-in person.
    pub fn origin_of<'a>(&'a self, who: &'a Principal) -> Origin<'a> {
        self.origin(&who.subject, &who.name, &who.groups)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Caller::from_parts(parts))
    }
}
