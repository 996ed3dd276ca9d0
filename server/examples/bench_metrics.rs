//! Live-chart benchmark (run by `make bench` through `end2end/bench.sh`): 1,000 viewers of one chart.
//
// `bench_metrics live [viewers] [seconds]`: the portal over an in-process demo kubesim (60×), polling
// every second, served on loopback; a session from the development sign-in for the probe, and one
// session per viewer (each a different person, as a person may follow at most 32 streams); `viewers`
// clients follow `/clusters/default/prod-weu/charts/cpu/stream` over plain HTTP/1.1. Reports the portal
// process's memory and CPU per viewer, how many renderings there were and how many each viewer
// missed, and how old each frame's sample was when it arrived (from the event id).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// This process's resident memory (MiB) and CPU time so far (seconds, user + system).
fn usage() -> (f64, f64) {
    let rss = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0);
    // Fields 14 and 15 of /proc/self/stat, in clock ticks (100 per second on Linux).
    let cpu = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some((f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?) / 100.0)
        })
        .unwrap_or(0.0);
    (rss, cpu)
}

/// One viewer's tally.
#[derive(Default)]
struct Tally {
    frames: AtomicU64,
}

/// Follows the stream at `path`, counting frames (each ends with its SVG's `</svg>` line) and
/// noting each frame's age (now minus its event id) in `ages`.
async fn follow(
    addr: std::net::SocketAddr,
    path: String,
    cookie: String,
    tally: Arc<Tally>,
    ages: Option<Arc<std::sync::Mutex<Vec<i64>>>>,
) -> Result<(), Error> {
    let mut tcp = TcpStream::connect(addr).await?;
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n"
    );
    tcp.write_all(req.as_bytes()).await?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut carry = String::new();
    loop {
        let n = tcp.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        carry.push_str(&String::from_utf8_lossy(&buf[..n]));
        while let Some(end) = carry.find("</svg>") {
            tally.frames.fetch_add(1, Ordering::Relaxed);
            if let Some(ages) = &ages
                && let Some(id) = carry[..end].rfind("\nid: ").and_then(|i| {
                    carry[i + 5..]
                        .split('\n')
                        .next()?
                        .trim()
                        .parse::<i64>()
                        .ok()
                })
            {
                let now = server::store::now_ms();
                ages.lock().map_err(|_| "poisoned")?.push(now - id);
            }
            carry.drain(..end + 6);
        }
        if carry.len() > 1 << 20 {
            carry.clear();
        }
    }
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn live(viewers: usize, seconds: u64) -> Result<(), Error> {
    let sim = kubesim::Sim::start(kubesim::SimOptions {
        demo: true,
        speed: 60.0,
        ..kubesim::SimOptions::default()
    })
    .await
    .map_err(|e| format!("kubesim: {e}"))?;
    let management =
        server::fleet::Management::from_yaml(sim.kubeconfig(), "bench kubesim").await?;
    let dir = tempfile::tempdir()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let config = <server::config::Cli as clap::Parser>::try_parse_from([
        "portolan".to_string(),
        "--database-url".into(),
        format!("sqlite://{}", dir.path().join("bench.db").display()),
        "--listen".into(),
        addr.to_string(),
        "--metrics-interval".into(),
        "1s".into(),
    ])?
    .config;
    let db = server::open_database(&config).await?;
    let (state, services) =
        server::state::build(&config, db.clone(), addr, Some(Arc::new(management)))?;
    let metrics = state.core.fleet.as_ref().ok_or("no fleet")?.metrics.clone();
    let app = server::http::router(state);
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await;
    });
    // A development session (the portal listens on loopback).
    let client = TcpStream::connect(addr).await?;
    drop(client);
    let cookie = dev_cookie(addr).await?;
    let prod = app::access::model::ClusterRef::new("default", "prod-weu");
    let start = Instant::now();
    while metrics.with_recent(|r| r.get(&prod).map_or(0, |s| s.samples())) < 2 {
        if start.elapsed() > Duration::from_secs(60) {
            return Err("prod-weu was not collected within 60 s".into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let path = "/clusters/default/prod-weu/charts/cpu/stream?range=15m".to_string();
    // The probe: the first viewer; its count is the number of renderings.
    let probe = Arc::new(Tally::default());
    let ages = Arc::new(std::sync::Mutex::new(Vec::new()));
    tokio::spawn(follow(
        addr,
        path.clone(),
        cookie.clone(),
        probe.clone(),
        Some(ages.clone()),
    ));
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (rss0, cpu0) = usage();
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (_, cpu_idle) = usage();
    let idle_cpu_per_s = (cpu_idle - cpu0) / t0.elapsed().as_secs_f64();

    let cookies = viewer_cookies(&db, viewers).await?;
    let tallies: Vec<Arc<Tally>> = (0..viewers).map(|_| Arc::new(Tally::default())).collect();
    for (t, c) in tallies.iter().zip(cookies) {
        tokio::spawn(follow(addr, path.clone(), c, t.clone(), None));
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let connected = tallies
        .iter()
        .filter(|t| t.frames.load(Ordering::Relaxed) > 0)
        .count();
    let (rss1, cpu1) = usage();
    let frames_before: Vec<u64> = tallies
        .iter()
        .map(|t| t.frames.load(Ordering::Relaxed))
        .collect();
    let probe_before = probe.frames.load(Ordering::Relaxed);
    ages.lock().map_err(|_| "poisoned")?.clear();
    let t1 = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let (rss2, cpu2) = usage();
    let elapsed = t1.elapsed().as_secs_f64();
    let rendered = probe.frames.load(Ordering::Relaxed) - probe_before;
    let missed: Vec<u64> = tallies
        .iter()
        .zip(&frames_before)
        .map(|(t, before)| rendered.saturating_sub(t.frames.load(Ordering::Relaxed) - before))
        .collect();
    let total_missed: u64 = missed.iter().sum();
    let worst = missed.iter().max().copied().unwrap_or(0);
    let mut ages = ages.lock().map_err(|_| "poisoned")?.clone();
    ages.sort_unstable();
    println!("viewers connected: {connected} of {viewers}");
    println!(
        "portal memory: {rss0:.0} MiB with one viewer, {rss1:.0} MiB with {viewers} more ({:.1} KiB per viewer), {rss2:.0} MiB after {seconds} s",
        (rss1 - rss0) * 1024.0 / viewers as f64
    );
    println!(
        "portal CPU: {:.3} cores with one viewer (kubesim's 3 demo clusters included), {:.3} cores with {viewers} more ({:.1} µs of CPU per viewer per second)",
        idle_cpu_per_s,
        (cpu2 - cpu1) / elapsed,
        ((cpu2 - cpu1) / elapsed - idle_cpu_per_s) * 1e6 / viewers as f64
    );
    println!(
        "renderings in {elapsed:.0} s: {rendered}; frames missed: {total_missed} in all, at most {worst} by one viewer (goal: none)"
    );
    println!(
        "sample (poll start) → frame at a viewer: p50 {} ms, p99 {} ms, max {} ms ({} frames)",
        percentile(&ages, 0.5),
        percentile(&ages, 0.99),
        ages.last().copied().unwrap_or(0),
        ages.len()
    );
    let _ = cpu1;
    services.stop().await;
    sim.stop().await;
    Ok(())
}

/// Signs in through the development sign-in as the viewer and returns `name=value`.
/// Sessions of `n` different viewers (in `developers`, whom the development sign-in made viewers):
/// a person follows at most 32 live streams, and 1,000 viewers are 1,000 people.
async fn viewer_cookies(db: &server::store::Db, n: usize) -> Result<Vec<String>, Error> {
    let store = Arc::new(server::auth::store::PortalSessionStore::new(db));
    let mut cookies = Vec::with_capacity(n);
    for i in 0..n {
        let session = tower_sessions::Session::new(
            None,
            store.clone(),
            Some(tower_sessions::Expiry::OnInactivity(
                tower_sessions::cookie::time::Duration::HOUR,
            )),
        );
        let who = app::access::model::Principal {
            subject: format!("bench-viewer-{i}"),
            name: format!("Viewer {i}"),
            groups: vec!["developers".into()],
        };
        server::auth::sign_in(&session, who).await?;
        session.save().await?;
        let id = session.id().ok_or("a stored session has an id")?;
        cookies.push(format!("{}={id}", server::auth::COOKIE));
    }
    Ok(cookies)
}

async fn dev_cookie(addr: std::net::SocketAddr) -> Result<String, Error> {
    let mut tcp = TcpStream::connect(addr).await?;
    let body = "identity=viewer";
    let req = format!(
        "POST /auth/dev HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(req.as_bytes()).await?;
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).await?;
    let cookie = answer
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .and_then(|l| {
            l.split_once(':')?
                .1
                .split(';')
                .next()
                .map(|c| c.trim().to_string())
        })
        .ok_or("no session cookie from the development sign-in")?;
    Ok(cookie)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["live"] => live(1000, 30).await,
        ["live", n] => live(n.parse()?, 30).await,
        ["live", n, s] => live(n.parse()?, s.parse()?).await,
        _ => Err("usage: bench_metrics live [viewers] [seconds]".into()),
    }
}
