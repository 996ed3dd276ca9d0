//! Operations benchmarks (run by `make bench`): Apply pressed → patch accepted, and the follower's
//! cost with 50 operations running at once.
//
// `bench_operations [rounds]`: an in-process demo kubesim (the official Cluster API CRDs when
// `../shared/capi-crds` is there), the portal over a temporary SQLite file, a signed-in operator.
// 1. Apply: `rounds` posts of the Node count form (the server function, as a browser without
//    JavaScript sends it), alternating a pool between 2 and 3 nodes; the time from the request to
//    its answer (the patch accepted, the operation recorded, the change audited): p50, p99, max.
// 2. Follower: 50 running operations on one pool that is scaling slowly (kubesim at 0.05× real
//    time); the time of one follower round over them (claim, evaluate from the watch, write what
//    changed), p50/p99, and the CPU it takes per second at one round a second.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, to_bytes};
use serde_json::{Value, json};
use server::store::Db;
use tower::ServiceExt;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Error = Box<dyn std::error::Error>;

fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some((f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?) / 100.0)
        })
        .unwrap_or(0.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn call(
    app: &axum::Router,
    cookie: &str,
    path: &str,
    form: Option<String>,
) -> Result<(u16, Value), Error> {
    let req = match form {
        Some(body) => http::Request::post(path)
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(Body::from(body))?,
        None => http::Request::get(path).body(Body::empty())?,
    };
    let mut req = req;
    let h = req.headers_mut();
    h.insert(http::header::COOKIE, cookie.parse()?);
    h.insert(http::header::ORIGIN, "http://127.0.0.1:3000".parse()?);
    h.insert(http::header::ACCEPT, "application/json".parse()?);
    let res = app.clone().oneshot(req).await?;
    let status = res.status().as_u16();
    let body = to_bytes(res.into_body(), usize::MAX).await?;
    Ok((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let crds = std::path::Path::new("../shared/capi-crds");
    let sim = kubesim::Sim::start(kubesim::SimOptions {
        demo: true,
        speed: 60.0,
        crd_dir: crds.is_dir().then(|| crds.to_path_buf()),
        ..Default::default()
    })
    .await?;
    let management =
        server::fleet::Management::from_yaml(sim.kubeconfig(), "bench kubesim").await?;
    let dir = tempfile::tempdir()?;
    let db_url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let config = <server::config::Cli as clap::Parser>::try_parse_from([
        "portolan",
        "--database-url",
        &db_url,
        "--bootstrap-admin-group",
        "bench-admins",
    ])?
    .config;
    let db: Db = server::open_database(&config).await?;
    server::access::bindings::bootstrap_admin(&db, "bench-admins").await?;
    let (state, services) = server::state::build(
        &config,
        db.clone(),
        "127.0.0.1:3000".parse()?,
        Some(Arc::new(management.clone())),
    )?;
    std::mem::forget(services);
    let app = server::http::router(state.clone());
    let store = Arc::new(server::auth::store::PortalSessionStore::new(&db));
    let session = tower_sessions::Session::new(None, store, None);
    server::auth::sign_in(
        &session,
        app::access::model::Principal {
            subject: "bench".into(),
            name: "Bench Operator".into(),
            groups: vec!["bench-admins".into()],
        },
    )
    .await?;
    session.save().await?;
    let cookie = format!(
        "{}={}",
        server::auth::COOKIE,
        session.id().ok_or("no session id")?
    );

    // Until ml-sea's gpu pool is up.
    let tab_path = "/api/clusters/pools?namespace=default&name=ml-sea";
    let started = Instant::now();
    loop {
        let (status, tab) = call(&app, &cookie, tab_path, None).await?;
        let gpu = tab["pools"]
            .as_array()
            .and_then(|p| p.iter().find(|p| p["name"] == "gpu"))
            .cloned()
            .unwrap_or(Value::Null);
        if status == 200 && gpu["ready"] == 1 && gpu["desired"] == 1 {
            break;
        }
        if started.elapsed() > Duration::from_secs(120) {
            return Err("ml-sea's gpu pool did not come up within 120 s".into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    println!(
        "== Apply pressed → patch accepted by the management API ({rounds} posts, one at a time)"
    );
    let mut times = Vec::with_capacity(rounds);
    let mut was = 1u32;
    for i in 0..rounds {
        let to = if was == 2 { 3 } else { 2 };
        let form = format!(
            "namespace=default&name=ml-sea&pool=gpu&was={was}&key=bench-{i}&count={to}&count_slider={was}&confirm=yes"
        );
        let t0 = Instant::now();
        let (status, json) = call(&app, &cookie, "/api/clusters/scale", Some(form)).await?;
        times.push(t0.elapsed().as_secs_f64() * 1000.0);
        if status != 200 {
            return Err(format!("post {i} answered {status}: {json}").into());
        }
        was = to;
    }
    times.sort_by(f64::total_cmp);
    println!(
        "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (goal p99 <= 100 ms)",
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        percentile(&times, 1.0)
    );

    println!();
    println!("== the operation follower with 50 operations running at once");
    // Slow enough that nothing ends while it is measured.
    sim.set_speed(0.05);
    let api: kube::Api<server::fleet::resources::Cluster> =
        kube::Api::namespaced(management.client(), "default");
    let cluster = api.get("prod-weu").await?;
    let pools = &cluster.spec.topology.as_ref().ok_or("no topology")?;
    let index = pools
        .workers
        .as_ref()
        .and_then(|w| {
            w.machine_deployments
                .iter()
                .position(|p| p.name == "system")
        })
        .ok_or("no system pool")?;
    let patch = json!([{"op": "replace",
        "path": format!("/spec/topology/workers/machineDeployments/{index}/replicas"), "value": 40}]);
    let patched = api
        .patch(
            "prod-weu",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Json::<()>(serde_json::from_value(patch)?),
        )
        .await?;
    let generation = patched.metadata.generation.unwrap_or(0);
    // The portal's own follower is stopped by ending its leases' renewals: it holds none of these.
    let watch = state.core.fleet.as_ref().ok_or("no fleet")?.watch.clone();
    let follower = server::operations::Follower::new(db.clone(), watch, Duration::from_secs(3600));
    let mut ids = Vec::new();
    for i in 0..50 {
        let parameters =
            json!({"pool": "system", "from": 2, "to": 40, "before": "2", "after": "40"});
        let id = server::store::operations::begin(
            &db,
            server::store::operations::New {
                actor_subject: "bench",
                actor_name: "Bench Operator",
                key: &format!("follow-{i}"),
                kind: "scale-pool",
                namespace: "default",
                name: "prod-weu",
                target: "pool system",
                parameters: &parameters,
            },
        )
        .await?
        .map_err(|_| "a bench key was used twice")?;
        server::store::operations::accepted(&db, &id, 38, &[], generation).await?;
        ids.push(id);
    }
    // The portal's own follower may have claimed some: free them until this one holds all 50.
    for _ in 0..20 {
        server::store::execute_raw(
            &db,
            "UPDATE operations SET holder = NULL, lease_until_ms = 0 WHERE status = 'running'",
        )
        .await?;
        if follower.tick().await? == ids.len() {
            break;
        }
    }
    let mut rounds_ms = Vec::new();
    let c0 = cpu_seconds();
    let window = Instant::now();
    for _ in 0..30 {
        let t0 = Instant::now();
        let n = follower.tick().await?;
        rounds_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
        if n == 0 {
            return Err("the follower followed nothing".into());
        }
        tokio::time::sleep(Duration::from_millis(1000).saturating_sub(t0.elapsed())).await;
    }
    let cpu = (cpu_seconds() - c0) / window.elapsed().as_secs_f64();
    let running = server::store::operations::newest(&db, Default::default(), 1000)
        .await?
        .iter()
        .filter(|o| o.status == "running" && o.holder.as_deref() == Some(follower.holder()))
        .count();
    rounds_ms.sort_by(f64::total_cmp);
    println!(
        "{running} operations followed by this replica; one round: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; \
         the whole process (kubesim and the watches included) used {:.1} % of a core at one round a second",
        percentile(&rounds_ms, 0.5),
        percentile(&rounds_ms, 0.99),
        percentile(&rounds_ms, 1.0),
        cpu * 100.0
    );
    Ok(())
}
