//! Metrics against kubesim and both databases: collection, history, hand-over, chart routes.
//
// Collection from the demo fleet's metrics.k8s.io APIs, downsampling and pruning with written-out
// numbers, history that outlives a restart, one slow or garbled cluster delaying no other, the
// collector lease passing between two portals on one database, and the chart routes' answers.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::access::model::ClusterRef;
use app::metrics::model::{ChartName, ChartScope, TimeRange};
use server::metrics::history::{self, Resolution, Writer};
use server::metrics::recent::{ContainerKey, Infra, NodeSample, Recent, Scrape};
use server::metrics::{ChartSpec, Metrics, chart::Body, chart_data};
use server::state::Services;
use server::store::Db;

/// 2025-12-01 12:00:00 UTC, the start of an hour.
const H: i64 = 1_764_590_400_000;
const MIN: i64 = 60_000;

fn prod() -> ClusterRef {
    ClusterRef::new("default", "prod-weu")
}

/// A portal over `db` polling every second, on the kubesim behind `management`.
fn portal(db: &Db, management: &server::fleet::Management) -> (server::http::AppState, Services) {
    server::state::build(
        &support::config(&["--metrics-interval", "1s"]),
        db.clone(),
        "127.0.0.1:3000".parse().expect("addr"),
        Some(Arc::new(management.clone())),
    )
    .expect("valid configuration")
}

fn metrics_of(state: &server::http::AppState) -> Arc<Metrics> {
    state.core.fleet.as_ref().expect("a fleet").metrics.clone()
}

/// The router of a portal over `db` polling every second, once prod-weu has `samples` samples.
async fn collecting(
    db: &Db,
    management: &server::fleet::Management,
    samples_wanted: usize,
) -> (axum::Router, Arc<Metrics>, Services) {
    let (state, services) = portal(db, management);
    let m = metrics_of(&state);
    support::until("prod-weu is collected", 60, async || {
        (samples(&m, &prod()) >= samples_wanted).then_some(())
    })
    .await;
    (server::http::router(state), m, services)
}

fn samples(m: &Metrics, cluster: &ClusterRef) -> usize {
    m.with_recent(|r| r.get(cluster).map_or(0, |s| s.samples()))
}

fn problem(m: &Metrics, cluster: &ClusterRef) -> Option<String> {
    m.with_recent(|r| r.get(cluster).and_then(|s| s.problem.clone()).map(|p| p.1))
}

fn node(name: &str, pool: &str, cpu: f32) -> NodeSample {
    NodeSample {
        name: name.into(),
        pool: Some(pool.into()),
        used: [cpu, 1000.0],
        allocatable: [2000.0, 8000.0],
    }
}

fn web(cpu: f32) -> (ContainerKey, [f32; 2]) {
    (
        ContainerKey {
            namespace: "shop".into(),
            pod: "web-1".into(),
            container: "app".into(),
        },
        [cpu, 64.0],
    )
}

/// Writes what `recent` holds of `cluster` up to `now`, as a freshly started collector would.
async fn write(db: &Db, cluster: &ClusterRef, recent: &Recent, now: i64) {
    let mut writer = Writer::default();
    let pending = writer
        .take(cluster, recent.get(cluster).expect("samples"), now)
        .expect("minutes to write");
    writer.commit(db, pending).await.expect("written");
}

/// Minute means, their hour means, merging after a restart, and pruning by age.
async fn downsampling_and_pruning(db: &Db) {
    let cluster = ClusterRef::new("ns", "c1");
    let mut recent = Recent::default();
    for (at, cpu) in [
        (H, 100.0),
        (H + 30_000, 300.0),
        (H + MIN, 500.0),
        (H + 2 * MIN + 5_000, 700.0),
    ] {
        recent.record(
            &cluster,
            &Scrape {
                at_ms: at,
                nodes: vec![node("n1", "p1", cpu), node("n2", "p2", 50.0)],
                containers: vec![web(cpu / 10.0)],
            },
        );
    }
    write(db, &cluster, &recent, H + 2 * MIN + 10_000).await;

    let n1 = history::read(
        db,
        &cluster,
        &Infra::Node("n1".into()),
        Resolution::Minute,
        H,
        H + 3_600_000,
    )
    .await
    .expect("read");
    assert_eq!(
        n1,
        vec![
            (H, [200.0, 1000.0, 2000.0, 8000.0]),
            (H + MIN, [500.0, 1000.0, 2000.0, 8000.0]),
            (H + 2 * MIN, [700.0, 1000.0, 2000.0, 8000.0]),
        ]
    );
    // The cluster is the sum of its nodes; a pool of its own nodes.
    let whole = history::read(
        db,
        &cluster,
        &Infra::Cluster,
        Resolution::Minute,
        H,
        H + MIN,
    )
    .await
    .expect("read");
    assert_eq!(whole, vec![(H, [250.0, 2000.0, 4000.0, 16000.0])]);
    let p2 = history::read(
        db,
        &cluster,
        &Infra::Pool("p2".into()),
        Resolution::Minute,
        H,
        H + MIN,
    )
    .await
    .expect("read");
    assert_eq!(p2, vec![(H, [50.0, 1000.0, 2000.0, 8000.0])]);
    // The hour's point is the mean of its minutes: (200 + 500 + 700) / 3.
    let hours = history::read(
        db,
        &cluster,
        &Infra::Node("n1".into()),
        Resolution::Hour,
        H,
        H + 3_600_000,
    )
    .await
    .expect("read");
    assert_eq!(hours.len(), 1);
    assert_eq!(hours[0].0, H);
    assert!((hours[0].1[0] - 466.666_66).abs() < 0.01, "{hours:?}");
    // Pods: a row per minute with each container's mean.
    let pods = history::read_pods(db, &cluster, H).await.expect("pods");
    let cpu: Vec<(i64, f32)> = pods.iter().map(|(at, rows)| (*at, rows[0].3)).collect();
    assert_eq!(cpu, vec![(H, 20.0), (H + MIN, 50.0), (H + 2 * MIN, 70.0)]);

    // After a restart (nothing in memory, a new writer), minute 5 is added; 0–2 stay.
    let mut later = Recent::default();
    later.record(
        &cluster,
        &Scrape {
            at_ms: H + 5 * MIN,
            nodes: vec![node("n1", "p1", 900.0)],
            containers: vec![],
        },
    );
    write(db, &cluster, &later, H + 5 * MIN + 1_000).await;
    let n1 = history::read(
        db,
        &cluster,
        &Infra::Node("n1".into()),
        Resolution::Minute,
        H,
        H + 3_600_000,
    )
    .await
    .expect("read");
    let cpu: Vec<(i64, f32)> = n1.iter().map(|(at, v)| (*at, v[0])).collect();
    assert_eq!(
        cpu,
        vec![
            (H, 200.0),
            (H + MIN, 500.0),
            (H + 2 * MIN, 700.0),
            (H + 5 * MIN, 900.0)
        ]
    );

    // Pruning: a week and an hour later the minute rows and the pods' minutes go, the hour rows stay.
    let rows = |db: Db| async move { support::count(&db, "metric_history").await };
    let before = rows(db.clone()).await;
    assert_eq!(
        before, 10,
        "five series (cluster, p1, p2, n1, n2): a minute row and an hour row each"
    );
    history::prune(db, H + 7 * 86_400_000 + 3_600_000)
        .await
        .expect("pruned");
    assert_eq!(rows(db.clone()).await, 5, "the hour rows stay for 90 days");
    assert_eq!(support::count(db, "metric_pod_minutes").await, 0);
    history::prune(db, H + 91 * 86_400_000)
        .await
        .expect("pruned");
    assert_eq!(rows(db.clone()).await, 0);
}

/// The demo fleet is collected; the history written outlives the portal; a new portal draws it.
async fn collection_and_restart_keep_history(db: &Db) {
    let (_sim, management) = support::kubesim_demo(60.0).await;
    let (state, services) = portal(db, &management);
    let m = metrics_of(&state);
    support::until("prod-weu is collected three times", 60, async || {
        (samples(&m, &prod()) >= 3).then_some(())
    })
    .await;
    let cpu = m.with_recent(|r| {
        r.get(&prod())
            .map(|s| s.infra_points(&Infra::Cluster, 0))
            .unwrap_or_default()
    });
    let last = cpu.last().expect("a point").1;
    assert!(
        last[0] > 0.0 && last[2] > last[0],
        "used CPU below allocatable: {last:?}"
    );
    let pod = m.with_recent(|r| {
        r.get(&prod())
            .map(|s| s.latest_containers())
            .unwrap_or_default()
    });
    assert!(
        pod.len() > 5,
        "the demo's pods are collected: {}",
        pod.len()
    );
    m.flush(&mut Writer::default()).await.expect("flushed");
    services.stop().await;

    // A new portal (nothing in memory yet) draws the hour from the database.
    let (state, services) = portal(db, &management);
    let m = metrics_of(&state);
    let spec = ChartSpec {
        cluster: prod(),
        chart: ChartName::Cpu,
        scope: ChartScope::Cluster,
        range: TimeRange::H1,
    };
    let data = chart_data(&m, &spec).await.expect("chart");
    let Body::Lines { lines, .. } = &data.body else {
        panic!("lines")
    };
    assert!(
        lines[0].points.iter().any(|p| p.1 > 0.0),
        "history after the restart: {lines:?}"
    );
    assert!(
        data.title.starts_with("CPU of cluster default/prod-weu"),
        "{}",
        data.title
    );
    // A pod's containers, from the pods' minutes.
    let (ns, pod_name) = {
        let rows = history::read_pods(db, &prod(), 0).await.expect("pods");
        let first = &rows.last().expect("a minute").1[0];
        (first.0.clone(), first.1.clone())
    };
    let spec = ChartSpec {
        cluster: prod(),
        chart: ChartName::Memory,
        scope: ChartScope::Pod {
            namespace: ns,
            name: pod_name,
        },
        range: TimeRange::M15,
    };
    let data = chart_data(&m, &spec).await.expect("chart");
    let Body::Lines { lines, .. } = &data.body else {
        panic!("lines")
    };
    assert!(
        !lines.is_empty() && lines[0].points.iter().any(|p| p.1 > 0.0),
        "{lines:?}"
    );
    services.stop().await;
}

/// One cluster answering slowly and one answering garbage: the others are polled every second.
async fn a_slow_or_garbled_cluster_delays_no_other(db: &Db) {
    let (sim, management) = support::kubesim_demo(60.0).await;
    let (state, services) = portal(db, &management);
    let m = metrics_of(&state);
    let staging = ClusterRef::new("default", "staging-eus");
    let ml = ClusterRef::new("default", "ml-sea");
    support::until("every cluster is collected", 60, async || {
        [prod(), staging.clone(), ml.clone()]
            .iter()
            .all(|c| samples(&m, c) >= 1)
            .then_some(())
    })
    .await;
    for (cluster, fault) in [
        (
            "default/staging-eus",
            serde_json::json!({"latencyMs": 8000}),
        ),
        (
            "default/ml-sea",
            serde_json::json!({"garbledMetrics": true}),
        ),
    ] {
        let mut req: kubesim::FaultRequest = serde_json::from_value(fault).expect("fault");
        req.cluster = Some(cluster.into());
        sim.faults().apply(&req).expect("applied");
    }
    let start = samples(&m, &prod());
    let staging_start = samples(&m, &staging);
    tokio::time::sleep(Duration::from_millis(6_500)).await;
    let polled = samples(&m, &prod()) - start;
    assert!(
        polled >= 4,
        "prod-weu polled {polled} times in 6.5 s while another cluster was slow"
    );
    assert_eq!(
        samples(&m, &staging),
        staging_start,
        "the slow cluster brought nothing"
    );
    assert_eq!(
        problem(&m, &staging).as_deref(),
        Some("the metrics API did not answer within 5 s")
    );
    assert_eq!(
        problem(&m, &ml).as_deref(),
        Some("the metrics API answered something that is not node metrics")
    );
    let spec = ChartSpec {
        cluster: ml.clone(),
        chart: ChartName::Cpu,
        scope: ChartScope::Cluster,
        range: TimeRange::M15,
    };
    let data = chart_data(&m, &spec).await.expect("chart");
    let note = data.note.expect("a note");
    assert!(
        note.starts_with("No data since ")
            && note.ends_with("answered something that is not node metrics"),
        "{note}"
    );
    assert!(server::metrics::chart::svg(&data_again(&m, &spec).await).contains("No data since"));
    services.stop().await;
}

async fn data_again(m: &Metrics, spec: &ChartSpec) -> server::metrics::chart::ChartData {
    chart_data(m, spec).await.expect("chart")
}

/// Two portals on one database: one collects; when it dies the other takes over within 30 s.
async fn the_lease_passes_to_the_other_portal(db: &Db) {
    let (_sim, management) = support::kubesim_demo(60.0).await;
    let (a_state, a_services) = portal(db, &management);
    let a = metrics_of(&a_state);
    support::until("the first portal collects", 10, async || {
        a.is_collecting().then_some(())
    })
    .await;
    let (b_state, b_services) = portal(db, &management);
    let b = metrics_of(&b_state);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        a.is_collecting() && !b.is_collecting(),
        "exactly one collects"
    );
    assert_eq!(samples(&b, &prod()), 0, "the other polls nothing");
    // The collector dies without a word (its tasks stop; the lease is not given back).
    a_services.stop().await;
    let died = Instant::now();
    support::until("the second portal takes over", 30, async || {
        b.is_collecting().then_some(())
    })
    .await;
    let took = died.elapsed();
    assert!(took <= Duration::from_secs(30), "took over after {took:?}");
    support::until("the second portal collects", 10, async || {
        (samples(&b, &prod()) >= 1).then_some(())
    })
    .await;
    b_services.stop().await;
}

on_both_databases!(
    downsampling_and_pruning,
    collection_and_restart_keep_history,
    a_slow_or_garbled_cluster_delays_no_other,
    the_lease_passes_to_the_other_portal,
);

/// The chart routes and the server function: formats, refusals, scoping.
#[tokio::test]
async fn chart_routes_answer_svg_png_streams_and_refuse_bad_input() {
    let t = support::sqlite().await;
    let db = &t.db;
    let (_sim, management) = support::kubesim_demo(60.0).await;
    let (app, _, services) = collecting(db, &management, 2).await;
    let admin = support::dev_session(db, "admin").await;
    let cora = support::dev_session(db, "cluster-admin").await;

    let base = "/clusters/default/prod-weu/charts";
    let (status, headers, body) = support::send(
        &app,
        support::get(&format!("{base}/cpu.svg?range=15m"), Some(&admin)),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "image/svg+xml");
    assert!(
        body.starts_with("<svg role=\"img\" aria-label=\"CPU of cluster default/prod-weu"),
        "{body}"
    );
    let (status, headers, _) = support::send(
        &app,
        support::get(&format!("{base}/top-memory.png"), Some(&admin)),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "image/png");
    let res = {
        use tower::ServiceExt;
        app.clone()
            .oneshot(support::get(
                &format!("{base}/memory.png?node=nope"),
                Some(&admin),
            ))
            .await
            .expect("answer")
    };
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 24)
        .await
        .expect("body");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");

    for (path, says) in [
        (
            format!("{base}/cpu.svg?range=2h"),
            "use one of 15m, 1h, 6h, 24h, 7d",
        ),
        (
            format!("{base}/disk.svg"),
            "use one of cpu, memory, top-cpu, top-memory",
        ),
        (format!("{base}/cpu.gif"), "use svg or png"),
        (
            format!("{base}/cpu.svg?node=a&pool=b"),
            "at most one of pool, node and pod",
        ),
        (
            format!("{base}/cpu/stream?range=1y"),
            "use one of 15m, 1h, 6h, 24h, 7d",
        ),
    ] {
        let (status, _, body) = support::send(&app, support::get(&path, Some(&admin))).await;
        assert_eq!(status, 400, "{path}");
        assert!(body.contains(says), "{path}: {body}");
    }
    // A path trick is not a name.
    let (status, _, _) = support::send(
        &app,
        support::get(&format!("{base}/cpu.svg?node=..%2Fsecrets"), Some(&admin)),
    )
    .await;
    assert_eq!(status, 404);
    // Someone scoped to prod-weu learns nothing about ml-sea.
    for path in [
        "/clusters/default/ml-sea/charts/cpu.svg",
        "/clusters/default/ml-sea/charts/cpu/stream",
    ] {
        let (status, _, _) = support::send(&app, support::get(path, Some(&cora))).await;
        assert_eq!(status, 404, "{path}");
    }
    let (status, _, _) = support::send(&app, support::get(&format!("{base}/cpu.svg"), None)).await;
    assert_eq!(status, 401);

    // The server function: the charts with their tables; a bad range is a 400.
    let (status, json) = support::call(
        &app,
        &admin,
        "/api/metrics/charts?namespace=default&name=prod-weu&charts=cpu,top-cpu&range=15m",
        None,
    )
    .await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["range"], "M15");
    assert!(
        json["charts"][0]["name"]
            .as_str()
            .expect("a name")
            .starts_with("CPU of cluster default/prod-weu")
    );
    assert_eq!(
        json["charts"][0]["table"]["headers"],
        serde_json::json!(["Time (UTC)", "used", "allocatable"])
    );
    assert!(
        json["charts"][1]["table"]["rows"]
            .as_array()
            .expect("rows")
            .len()
            >= 5
    );
    let (status, _) = support::call(
        &app,
        &admin,
        "/api/metrics/charts?namespace=default&name=prod-weu&charts=cpu&range=3d",
        None,
    )
    .await;
    assert_eq!(status, 400);

    // The live stream: a retry hint, then the chart as events named after its element id.
    // The CPU chart's element id on the overview page (?range=15m).
    let id = "chart-9964c4de9565419e";
    let seen = read_stream(
        &app,
        &admin,
        &format!("{base}/cpu/stream?range=15m"),
        "data: <svg role=",
    )
    .await;
    assert!(seen.starts_with("retry: 2000\n\n"), "{seen}");
    assert!(
        seen.contains(&format!("event: {id}-note\ndata: \n\nevent: {id}\nid: ")),
        "{seen}"
    );
    assert!(
        seen.contains("\ndata: <svg role=\"img\" aria-label=\"CPU of cluster default/prod-weu"),
        "{seen}"
    );

    // A page's charts share one stream: its addresses as c=…
    let both = "/charts/live?c=%2Fclusters%2Fdefault%2Fprod-weu%2Fcharts%2Fcpu%3Frange%3D15m&c=%2Fclusters%2Fdefault%2Fprod-weu%2Fcharts%2Fmemory%3Frange%3D15m";
    let seen = read_stream(&app, &admin, both, "aria-label=\"Memory of cluster").await;
    assert!(
        seen.contains("aria-label=\"CPU of cluster default/prod-weu, last 15 m"),
        "{seen}"
    );
    assert!(
        seen.contains("aria-label=\"Memory of cluster default/prod-weu, last 15 m"),
        "{seen}"
    );
    for (path, status) in [
        ("/charts/live", 400),
        ("/charts/live?c=%2Fetc%2Fpasswd", 400),
        (
            "/charts/live?c=%2Fclusters%2Fdefault%2Fprod-weu%2Fcharts%2Fcpu%3Frange%3D9y",
            400,
        ),
        // A path trick is not an address; a name that cannot be a cluster is not found.
        (
            "/charts/live?c=%2Fclusters%2F..%2Fprod-weu%2Fcharts%2Fcpu",
            400,
        ),
        (
            "/charts/live?c=%2Fclusters%2Fdefault%2FPROD%2Fcharts%2Fcpu",
            404,
        ),
    ] {
        let (got, _, body) = support::send(&app, support::get(path, Some(&admin))).await;
        assert_eq!(got, status, "{path}: {body}");
    }
    let many: String = (0..33)
        .map(|_| "c=%2Fclusters%2Fdefault%2Fprod-weu%2Fcharts%2Fcpu&")
        .collect();
    let (got, _, _) = support::send(
        &app,
        support::get(&format!("/charts/live?{many}"), Some(&admin)),
    )
    .await;
    assert_eq!(got, 400);
    // Cora may follow prod-weu, not ml-sea, not even beside prod-weu.
    let mixed = "/charts/live?c=%2Fclusters%2Fdefault%2Fprod-weu%2Fcharts%2Fcpu&c=%2Fclusters%2Fdefault%2Fml-sea%2Fcharts%2Fcpu";
    let (got, _, _) = support::send(&app, support::get(mixed, Some(&cora))).await;
    assert_eq!(got, 404);
    services.stop().await;
}

/// What a live stream sent until `until` appeared (at most 10 s).
async fn read_stream(app: &axum::Router, cookie: &str, path: &str, until: &str) -> String {
    use futures_util::StreamExt;
    use tower::ServiceExt;
    let res = app
        .clone()
        .oneshot(support::get(path, Some(cookie)))
        .await
        .expect("answer");
    assert_eq!(res.status(), 200, "{path}");
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut body = res.into_body().into_data_stream();
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !seen.contains(until) && Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(5), body.next()).await {
            Ok(Some(Ok(chunk))) => seen.push_str(&String::from_utf8_lossy(&chunk)),
            _ => break,
        }
    }
    seen
}

/// A live chart stops (saying why) once its viewer signs out, rather than showing numbers to
/// someone who is no longer signed in.
#[tokio::test]
async fn a_live_chart_ends_when_its_viewer_signs_out() {
    use futures_util::StreamExt;
    let t = support::sqlite().await;
    let db = &t.db;
    let (_sim, management) = support::kubesim_demo(60.0).await;
    let (app, _, services) = collecting(db, &management, 1).await;
    let viewer = support::dev_session(db, "viewer").await;
    let res = {
        use tower::ServiceExt;
        app.clone()
            .oneshot(support::get(
                "/clusters/default/prod-weu/charts/memory/stream",
                Some(&viewer),
            ))
            .await
            .expect("answer")
    };
    assert_eq!(res.status(), 200);
    let mut body = res.into_body().into_data_stream();
    let out = http::Request::post("/auth/logout")
        .header(http::header::ORIGIN, "http://127.0.0.1:3000")
        .header(http::header::COOKIE, &viewer)
        .body(axum::body::Body::empty())
        .expect("request");
    assert_eq!(support::send(&app, out).await.0, 303);
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(45);
    let mut ended = false;
    while Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(40), body.next()).await {
            Ok(Some(Ok(chunk))) => seen.push_str(&String::from_utf8_lossy(&chunk)),
            Ok(None) => {
                ended = true;
                break;
            }
            _ => break,
        }
    }
    assert!(ended, "the stream ended");
    assert!(
        seen.ends_with(
            "event: ended\ndata: the session ended or access to this cluster changed\n\n"
        ),
        "{}",
        &seen[seen.len().saturating_sub(300)..]
    );
    services.stop().await;
}

/// A live stream whose viewer reads nothing: the portal closes the connection once a write has
/// waited for the write timeout, and the stream's slot is free again. A person holds at most
/// `STREAMS_PER_PERSON` streams; the next is refused with the reason.
#[tokio::test]
async fn a_viewer_that_never_reads_is_dropped_and_a_person_holds_at_most_32_streams() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tower::ServiceExt;
    let t = support::sqlite().await;
    let db = &t.db;
    let (_sim, management) = support::kubesim_demo(60.0).await;
    let (app, _, services) = collecting(db, &management, 1).await;
    let operator = support::dev_session(db, "operator").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let serving = tokio::spawn(server::http::serve(
        listener,
        app.clone(),
        std::future::pending(),
        Duration::from_secs(1),
        Duration::from_secs(1),
    ));

    // Every chart of prod-weu in every range: each new sample sends all twenty again.
    let mut query = Vec::new();
    for chart in ["cpu", "memory", "top-cpu", "top-memory"] {
        for range in ["15m", "1h", "6h", "24h", "7d"] {
            query.push(format!(
                "c=%2Fclusters%2Fdefault%2Fprod-weu%2Fcharts%2F{chart}%3Frange%3D{range}"
            ));
        }
    }
    let live = format!("/charts/live?{}", query.join("&"));
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    // A small receive buffer, so the portal's side fills soon.
    socket.set_recv_buffer_size(4096).expect("buffer size");
    let mut stalled = socket.connect(addr).await.expect("connect");
    stalled
        .write_all(
            format!("GET {live} HTTP/1.1\r\nHost: {addr}\r\nCookie: {operator}\r\n\r\n").as_bytes(),
        )
        .await
        .expect("request");
    let mut head = [0u8; 12];
    stalled.read_exact(&mut head).await.expect("status line");
    assert_eq!(&head, b"HTTP/1.1 200");

    // 31 more streams of this person are allowed, the 33rd is not.
    let open = |path: String| {
        let app = app.clone();
        let cookie = operator.clone();
        async move {
            app.oneshot(support::get(&path, Some(&cookie)))
                .await
                .expect("answer")
        }
    };
    let one = "/clusters/default/prod-weu/charts/cpu/stream?range=15m".to_string();
    let mut held = Vec::new();
    for _ in 0..31 {
        let res = open(one.clone()).await;
        assert_eq!(res.status(), 200);
        held.push(res);
    }
    let (status, _, body) = support::send(&app, support::get(&one, Some(&operator))).await;
    assert_eq!(status, 503);
    assert!(
        body.contains("32 portal pages follow them for you already"),
        "{body}"
    );

    // The stalled viewer is dropped (it reads nothing from here on), which frees its slot.
    let freed = support::until("the stalled stream's slot is free", 60, async || {
        let res = open(one.clone()).await;
        (res.status() == 200).then_some(res)
    })
    .await;
    drop(freed);
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stalled.read_to_end(&mut rest)).await;
    // End of stream or a reset: either way closed; a timeout means it is still open.
    assert!(read.is_ok(), "the portal closed the stalled connection");
    drop(held);
    serving.abort();
    services.stop().await;
}
