//! Benchmark server: the portal on a temporary SQLite file, plus `/bench/static-shell`, a static
//! handler answering the bytes the server rendered for `/clusters`, behind the same middleware.
//! Usage: bench_server <listen-addr> <site-root>

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::response::Html;
use axum::routing::get;
use tower::ServiceExt;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr: SocketAddr = args
        .next()
        .ok_or("usage: bench_server <listen-addr> <site-root>")?
        .parse()?;
    let site_root = args
        .next()
        .ok_or("usage: bench_server <listen-addr> <site-root>")?;
    let dir = tempfile::tempdir()?;
    let db_url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let config = <server::config::Cli as clap::Parser>::try_parse_from([
        "portolan",
        "--database-url",
        &db_url,
        "--site-root",
        &site_root,
    ])?
    .config;
    let db = server::open_database(&config).await?;

    let render = server::http::router(server::app_state(&config, db.clone(), addr)?);
    let page = render
        .oneshot(http::Request::get("/clusters").body(Body::empty())?)
        .await?;
    let shell = to_bytes(page.into_body(), usize::MAX).await?;
    let shell = String::from_utf8(shell.to_vec())?;

    let extra = Router::new().route(
        "/bench/static-shell",
        get(move || std::future::ready(Html(shell.clone()))),
    );
    let app = server::http::router_with(server::app_state(&config, db, addr)?, extra);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    server::http::serve(
        listener,
        app,
        stop,
        Duration::from_secs(5),
        Duration::from_secs(30),
    )
    .await?;
    Ok(())
}
