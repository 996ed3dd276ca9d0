//! The HTTP face of the portal: the router (pages, server functions, health, assets) and serving it.

mod caller;
mod charts;
mod cluster_files;
mod export;
mod guards;
mod headers;
mod health;
mod hosts;
mod stall;
mod wizard;

use std::future::Future;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRef, Request, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::serve::ListenerExt;
use leptos::prelude::LeptosOptions;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use app::{App, shell};

pub use caller::Caller;
pub use headers::content_security_policy;
pub use hosts::{HostPolicy, is_loopback_host};

/// Largest request body accepted; forms and server-function calls are far smaller.
pub const BODY_LIMIT_BYTES: usize = 1024 * 1024;

/// What every handler can reach: the shared core (database, sign-in, access, fleet) built once
/// in `state.rs`, and what only the HTTP layer needs.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub core: Arc<crate::state::Core>,
    /// Every backend trait the app's server functions and pages call (provided per request).
    pub backend: Arc<crate::backend::PortalBackend>,
    /// The portal's own origin (scheme://host:port), for the cross-origin guard.
    pub public_origin: Arc<str>,
    /// The host names requests may name (DNS-rebinding defence).
    pub hosts: Arc<HostPolicy>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The page routes, listed once per process. Listing renders the app with resource loading
/// suppressed through a process-wide flag, and a resource first polled meanwhile by another
/// request never resolves (leptos issue 4773): listing once, before anything is served, avoids it.
static ROUTES: LazyLock<Vec<AxumRouteListing>> = LazyLock::new(|| generate_route_list(App));

/// The whole application: tests call this and drive it with `tower::ServiceExt::oneshot`.
pub fn router(state: AppState) -> Router {
    router_with(state, Router::new())
}

/// The application plus `extra` routes behind the same middleware (the benchmark adds a static
/// handler this way, to compare like with like).
pub fn router_with(state: AppState, extra: Router<AppState>) -> Router {
    let context = leptos_context(state.backend.clone());
    let routes = ROUTES.clone();
    let page_shell = {
        let options = state.leptos_options.clone();
        move || shell(options.clone())
    };

    // Files under the site root (the wasm bundle, styles, icons); anything else is the app's 404
    // page. Not leptos_axum's `file_and_error_handler`: it answers a file inside a reactive owner
    // made with `Owner::new()`, which can adopt another request's owner as its parent and then
    // moves that request's response headers — the page's CSP nonce among them — onto the file,
    // leaving the page unable to hydrate (seen under concurrent load).
    let render_not_found =
        leptos_axum::render_app_async_with_context(context.clone(), page_shell.clone());
    let not_found = tower::service_fn(move |req: Request<Body>| {
        let render = render_not_found.clone();
        async move { Ok::<_, std::convert::Infallible>(render(req).await) }
    });
    let assets = tower_http::services::ServeDir::new(&*state.leptos_options.site_root)
        .precompressed_gzip()
        .precompressed_br()
        .fallback(not_found);

    let layers = ServiceBuilder::new()
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            headers::security_headers,
        ))
        .layer(CatchPanicLayer::custom(headers::panic_response))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            hosts::known_hosts,
        ))
        .layer(CompressionLayer::new().compress_when(compressible()))
        .layer(axum::middleware::from_fn(guards::body_limit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guards::same_origin_writes,
        ))
        .layer(axum::middleware::from_fn(guards::server_fn_responses))
        .layer(crate::auth::layer(&state));

    extra
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .merge(crate::auth::routes())
        .route("/activity/{file}", get(export::export))
        .merge(cluster_files::routes())
        .merge(charts::routes())
        .merge(wizard::routes())
        .route("/api/{*fn_name}", get(server_fn).post(server_fn))
        .leptos_routes_with_context(&state, routes, context.clone(), page_shell.clone())
        .fallback_service(assets)
        .layer(layers)
        .with_state(state)
}

/// Compress pages, scripts, wasm and JSON; never event streams (each event must reach the browser
/// when it is sent, not when a compression block fills).
pub fn compressible() -> impl Predicate {
    DefaultPredicate::new().and(NotForContentType::const_new("text/event-stream"))
}

/// What pages and server functions find in their Leptos context.
fn leptos_context(
    backend: Arc<crate::backend::PortalBackend>,
) -> impl Fn() + Clone + Send + Sync + 'static {
    move || backend.provide()
}

async fn server_fn(State(state): State<AppState>, req: Request<Body>) -> impl IntoResponse {
    leptos_axum::handle_server_fns_with_context(leptos_context(state.backend), req).await
}

fn request_span(req: &Request<Body>) -> tracing::Span {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), %request_id)
}

/// Serves until `shutdown` resolves, then stops accepting and lets in-flight requests finish
/// (bounded by `grace`, so a stuck client cannot hold the process forever). A connection whose
/// peer accepts nothing of a response for `write_timeout` is closed.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
    write_timeout: Duration,
) -> std::io::Result<()> {
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    // Without TCP_NODELAY, a response written in two parts (headers, then body) waits for the
    // client's delayed ACK: about 40 ms per request on keep-alive connections.
    let listener = stall::StallingListener::new(listener, write_timeout).tap_io(|io| {
        if let Err(err) = io.get_ref().set_nodelay(true) {
            tracing::debug!(error = %err, "could not set TCP_NODELAY");
        }
    });
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        let _ = stopping_tx.send(());
    });
    let server = server.into_future();
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => result,
        () = async {
            let _ = stopping_rx.await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!(grace_secs = grace.as_secs(), "in-flight requests did not finish in time; stopping anyway");
            Ok(())
        }
    }
}
