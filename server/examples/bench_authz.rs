//! Benchmark: what the session load and the authorization check add to a request, under 32
//! concurrent callers, on SQLite and on PostgreSQL — the exact path `Backend::authorize` takes
//! (load the session, read who is signed in, read the role bindings, decide), with the session
//! store and the binding cache as `portolan serve` has them.
//! Each caller checks, then waits 1 ms (a busy client), for `seconds`. `cached` is the portal as it
//! runs; `uncached` reads the session and the bindings from the database on every check.
//! Usage: bench_authz <sqlite|postgres> [cached|uncached] [seconds]

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::access::model::{Action, ClusterRef, Target};
use axum::body::Body;
use server::access::bindings::{self, NewBinding};
use server::auth::store::PortalSessionStore;
use server::store::{Db, execute_raw};
use tower::ServiceExt;
use tower_sessions::Session;
use tower_sessions::session::Id;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CALLERS: usize = 32;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let backend = args.next().unwrap_or_else(|| "sqlite".into());
    let cached = match args.next().as_deref() {
        None | Some("cached") => true,
        Some("uncached") => false,
        Some(other) => return Err(format!("unknown mode {other}: use cached or uncached").into()),
    };
    let seconds: u64 = args.next().map(|n| n.parse()).transpose()?.unwrap_or(10);
    let run_for = Duration::from_secs(seconds);
    let dir = tempfile::tempdir()?;
    let url = match backend.as_str() {
        "sqlite" => format!("sqlite://{}", dir.path().join("bench.db").display()),
        "postgres" => {
            let admin = std::env::var("PORTOLAN_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
            let db = Db::connect(&admin).await?;
            execute_raw(
                &db,
                "DROP DATABASE IF EXISTS portolan_bench_authz WITH (FORCE)",
            )
            .await?;
            execute_raw(&db, "CREATE DATABASE portolan_bench_authz").await?;
            db.close().await;
            let mut url = url::Url::parse(&admin)?;
            url.set_path("/portolan_bench_authz");
            url.to_string()
        }
        other => return Err(format!("unknown backend {other}: use sqlite or postgres").into()),
    };
    let config = <server::config::Cli as clap::Parser>::try_parse_from([
        "portolan",
        "--database-url",
        &url,
    ])?
    .config;
    let db = server::open_database(&config).await?;
    let addr = "127.0.0.1:3000".parse()?;
    let state = server::app_state(&config, db.clone(), addr)?;
    let settings = state.core.auth.clone();

    // A realistic table: the development bindings (in memory) plus 200 groups bound on 50 clusters.
    for i in 0..200 {
        let b = NewBinding::parse(
            "group",
            &format!("team-{i}"),
            ["viewer", "operator", "admin"][i % 3],
            &format!("default/cluster-{}", i % 50),
            "bench",
        )?;
        bindings::add(&db, &b).await?;
    }

    // Real sessions, one per caller, made by the development sign-in.
    let app = server::http::router(state);
    let mut ids: Vec<Id> = Vec::new();
    for caller in 0..CALLERS {
        // Each caller from its own address: sign-ins are rate-limited per address.
        let from = std::net::SocketAddr::from(([10, 0, 0, u8::try_from(caller)?], 40_000));
        let res = app
            .clone()
            .oneshot(
                http::Request::post("/auth/dev")
                    .extension(axum::extract::ConnectInfo(from))
                    .header(http::header::ORIGIN, "http://127.0.0.1:3000")
                    .header(
                        http::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(Body::from("identity=operator"))?,
            )
            .await?;
        let cookie = res
            .headers()
            .get(http::header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|c| c.split(';').next())
            .and_then(|c| c.split_once('='))
            .map(|(_, v)| v.to_string())
            .ok_or("the development sign-in set no cookie")?;
        ids.push(cookie.parse()?);
    }
    // As in `portolan serve`: one session store and one binding cache for the process.
    let bindings_cache = Arc::new(server::access::BindingCache::new(
        db.clone(),
        server::auth::dev::bindings(),
    ));
    let store = Arc::new(PortalSessionStore::new(&db));
    let target = Target::Cluster(ClusterRef::new("default", "cluster-7"));

    let started = Instant::now();
    let mut tasks = Vec::new();
    for id in ids {
        let (db, cache, store, settings, target) = (
            db.clone(),
            bindings_cache.clone(),
            store.clone(),
            settings.clone(),
            target.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            while started.elapsed() < run_for {
                let t = Instant::now();
                // As for each request: a fresh session handle over the process's store (or,
                // uncached, over a store that has never seen the session).
                let store = if cached {
                    store.clone()
                } else {
                    Arc::new(PortalSessionStore::new(&db))
                };
                let session = Session::new(Some(id), store, None);
                let who = server::auth::principal(&session, &settings)
                    .await
                    .ok_or("the session did not load")?;
                let all = if cached {
                    cache.get().await?
                } else {
                    Arc::new(bindings::list(&db).await?)
                };
                let decision = server::access::may(&who, &all, Action::ScalePool, &target);
                if !decision.is_allowed() {
                    return Err("the operator should be allowed".into());
                }
                times.push(t.elapsed());
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(times)
        }));
    }
    let mut times: Vec<Duration> = Vec::new();
    for t in tasks {
        times.extend(t.await?.map_err(|e| e.to_string())?);
    }
    let wall = started.elapsed();
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{backend} ({}): session load + authorization, {CALLERS} concurrent callers, {} checks in {:.1} s ({:.0}/s): p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms, max {:.3} ms (target p99 <= 1 ms)",
        if cached { "cached" } else { "uncached" },
        times.len(),
        wall.as_secs_f64(),
        times.len() as f64 / wall.as_secs_f64(),
        ms(at(0.50)),
        ms(at(0.90)),
        ms(at(0.99)),
        ms(at(0.999)),
        ms(at(1.0)),
    );
    db.close().await;
    Ok(())
}
