//! A cluster's chart routes: the SVG, the PNG (rasterised here) and the live stream of a chart.
//
// Each asks the gate, then whether the caller may see the cluster: one they may not see answers
// 404, exactly like one that does not exist. Live streams share one rendering per chart.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use app::access::model::{ClusterRef, Principal};
use app::error::AppError;
use app::metrics::model::{ChartName, ChartScope, TimeRange};
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::Semaphore;

use super::AppState;
use super::cluster_files::{answer, cluster_of, viewer};
use crate::access::Asker;
use crate::metrics::{ChartSpec, Metrics, chart, png};

/// Live chart streams open at once, portal-wide (each holds a connection and one frame).
static STREAMS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(4096));
/// Live chart streams one person may hold open: a page opens one, so this counts tabs and wall
/// screens, and keeps one account from taking the portal-wide slots of everyone else.
pub const STREAMS_PER_PERSON: usize = 32;
/// Open streams by the subject of who follows them.
static STREAMS_BY_PERSON: LazyLock<Mutex<HashMap<String, usize>>> = LazyLock::new(Mutex::default);
/// PNG charts rasterised at once: each takes a core for milliseconds; more wait their turn.
static RASTERS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(2));
/// How long a PNG waits for its turn before the answer is "try again".
const RASTER_WAIT: Duration = Duration::from_secs(5);
/// A live stream ends after this long; the browser reconnects by itself.
const STREAM_LIFETIME: Duration = Duration::from_secs(3600);
/// A comment sent when nothing else was, so proxies keep the connection and drops are noticed.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/clusters/{namespace}/{name}/charts/{file}", get(file))
        .route(
            "/clusters/{namespace}/{name}/charts/{chart}/stream",
            get(stream),
        )
        .route("/charts/live", get(live))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ChartQuery {
    range: String,
    pool: String,
    node: String,
    pod: String,
}

/// The chart an address names; bad names and values are 400 with what is allowed, names that
/// cannot be Kubernetes names are "not found".
fn spec_of(cluster: ClusterRef, chart: &str, q: &ChartQuery) -> Result<ChartSpec, AppError> {
    let chart = ChartName::parse(chart).map_err(AppError::BadRequest)?;
    let range = TimeRange::parse(&q.range).map_err(AppError::BadRequest)?;
    let scope = ChartScope::from_query(&q.pool, &q.node, &q.pod).map_err(AppError::BadRequest)?;
    crate::metrics::check_scope(&scope)?;
    Ok(ChartSpec {
        cluster,
        chart,
        scope,
        range,
    })
}

fn metrics_of(state: &AppState) -> Result<std::sync::Arc<Metrics>, AppError> {
    state
        .core
        .fleet
        .as_ref()
        .map(|f| f.metrics.clone())
        .ok_or_else(|| AppError::Unavailable("the management cluster".into()))
}

/// A file name for downloads: `<cluster>-<chart>-<range>.<ext>` (all Kubernetes names or fixed).
fn attachment(spec: &ChartSpec, ext: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{}-{}-{}.{ext}\"",
        spec.cluster.name,
        spec.chart.as_str(),
        spec.range.as_str()
    ))
    .ok()
}

/// `GET …/charts/<chart>.svg` or `.png` with `range`, and `pool`, `node` or `pod`.
async fn file(
    State(state): State<AppState>,
    asker: Asker,
    Path((namespace, name, file)): Path<(String, String, String)>,
    Query(q): Query<ChartQuery>,
) -> Response {
    answer(
        async {
            let cluster = cluster_of(namespace, name)?;
            viewer(&state, &asker, &cluster).await?;
            let (chart, ext) = file.rsplit_once('.').ok_or_else(|| {
                AppError::BadRequest("name a chart file: <chart>.svg or <chart>.png".into())
            })?;
            if ext != "svg" && ext != "png" {
                return Err(AppError::BadRequest(format!(
                    "unknown chart format \"{}\": use svg or png",
                    ext.chars().take(16).collect::<String>()
                )));
            }
            let spec = spec_of(cluster, chart, &q)?;
            let metrics = metrics_of(&state)?;
            let data = crate::metrics::chart_data(&metrics, &spec)
                .await
                .map_err(crate::error::internal)?;
            let svg = chart::svg(&data);
            let (body, content_type) = if ext == "png" {
                let _turn = tokio::time::timeout(RASTER_WAIT, RASTERS.acquire())
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .ok_or_else(|| {
                        AppError::Unavailable("the PNG of this chart (many are being made)".into())
                    })?;
                // Rasterising takes milliseconds of CPU: off the request threads.
                let png = tokio::task::spawn_blocking(move || png::png(&svg))
                    .await
                    .unwrap_or_else(|e| Err(e.to_string()))
                    .map_err(|e| {
                        tracing::warn!(error = %e, "a chart could not be rasterised");
                        AppError::Unavailable("the PNG of this chart".into())
                    })?;
                (Body::from(png), "image/png")
            } else {
                (Body::from(svg), "image/svg+xml")
            };
            let mut res = (StatusCode::OK, body).into_response();
            let headers = res.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            if let Some(v) = attachment(&spec, ext) {
                headers.insert(header::CONTENT_DISPOSITION, v);
            }
            Ok(res)
        }
        .await,
    )
}

/// How often a live stream checks that its viewer is still signed in and may still see the clusters.
const RECHECK: Duration = Duration::from_secs(30);
/// The most charts one live stream follows.
const CHARTS_PER_STREAM: usize = 32;

/// One of a person's live streams, counted while it lives.
struct PersonSlot(String);

impl PersonSlot {
    fn take(subject: &str) -> Result<PersonSlot, AppError> {
        let mut open = STREAMS_BY_PERSON
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = open.entry(subject.to_string()).or_default();
        if *n >= STREAMS_PER_PERSON {
            return Err(AppError::Unavailable(format!(
                "live charts in another page ({STREAMS_PER_PERSON} portal pages follow them for you already; close some)"
            )));
        }
        *n += 1;
        Ok(PersonSlot(subject.to_string()))
    }
}

impl Drop for PersonSlot {
    fn drop(&mut self) {
        let mut open = STREAMS_BY_PERSON
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.0) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.0);
            }
        }
    }
}

/// What a stream holds while it lives: its portal-wide and its person's slot.
struct Slots {
    _portal: tokio::sync::SemaphorePermit<'static>,
    _person: PersonSlot,
}

/// What a live stream sends next.
enum Item {
    Bytes(Bytes),
    /// The last bytes: the stream ends after them.
    End(Bytes),
}

/// Every `KEEP_ALIVE` a comment (so proxies keep the connection and drops are noticed); every
/// `RECHECK` whether the viewer is still signed in and may still see each cluster, else the end.
fn control(
    state: AppState,
    asker: Asker,
    clusters: Vec<ClusterRef>,
    slots: Slots,
) -> impl futures_util::Stream<Item = Item> + Send {
    let checked = tokio::time::Instant::now();
    futures_util::stream::unfold(
        (state, asker, clusters, slots, checked),
        |(state, asker, clusters, slots, mut checked)| async move {
            tokio::time::sleep(KEEP_ALIVE.min(RECHECK)).await;
            if checked.elapsed() >= RECHECK {
                checked = tokio::time::Instant::now();
                let mut allowed = asker.still_signed_in().await;
                for c in &clusters {
                    allowed = allowed && viewer(&state, &asker, c).await.is_ok();
                }
                if !allowed {
                    // The browser would reconnect after a plain end and get 401; this says why.
                    let end = Item::End(Bytes::from_static(
                        b"event: ended\ndata: the session ended or access to this cluster changed\n\n",
                    ));
                    return Some((end, (state, asker, clusters, slots, checked)));
                }
            }
            let ping = Item::Bytes(Bytes::from_static(b": keep-alive\n\n"));
            Some((ping, (state, asker, clusters, slots, checked)))
        },
    )
}

/// The live stream of `specs` (each already allowed to `who`): their current frames, then each
/// new one.
fn follow(
    state: &AppState,
    asker: Asker,
    who: &Principal,
    specs: Vec<ChartSpec>,
) -> Result<Response, AppError> {
    use futures_util::StreamExt;
    let metrics = metrics_of(state)?;
    let person = PersonSlot::take(&who.subject)?;
    let portal = STREAMS.try_acquire().map_err(|_| {
        AppError::Unavailable("live charts (too many are being followed at once)".into())
    })?;
    let slots = Slots {
        _portal: portal,
        _person: person,
    };
    let mut clusters: Vec<ClusterRef> = specs.iter().map(|s| s.cluster.clone()).collect();
    clusters.sort();
    clusters.dedup();
    let charts = specs.into_iter().map(|spec| {
        let rx = metrics.live.subscribe(&metrics, spec);
        futures_util::stream::unfold((rx, true), |(mut rx, first)| async move {
            if first {
                let current = rx.borrow_and_update().clone();
                if current.seq > 0 {
                    return Some((Item::Bytes(current.bytes), (rx, false)));
                }
            }
            rx.changed().await.ok()?;
            let bytes = rx.borrow_and_update().bytes.clone();
            Some((Item::Bytes(bytes), (rx, false)))
        })
        .boxed()
    });
    let frames = futures_util::stream::select_all(charts);
    // Reconnect two seconds after a drop (the browser's default is three).
    let start =
        futures_util::stream::once(async { Item::Bytes(Bytes::from_static(b"retry: 2000\n\n")) });
    let body = start
        .chain(futures_util::stream::select(
            frames,
            control(state.clone(), asker, clusters, slots),
        ))
        .scan(false, |ended, item| {
            let out = match item {
                _ if *ended => None,
                Item::Bytes(b) => Some(Ok::<Bytes, Infallible>(b)),
                Item::End(b) => {
                    *ended = true;
                    Some(Ok(b))
                }
            };
            std::future::ready(out)
        })
        .take_until(tokio::time::sleep(STREAM_LIFETIME));
    let mut res = (StatusCode::OK, Body::from_stream(body)).into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// `GET …/charts/<chart>/stream`: one chart as server-sent events, a new SVG whenever it changes.
async fn stream(
    State(state): State<AppState>,
    asker: Asker,
    Path((namespace, name, chart)): Path<(String, String, String)>,
    Query(q): Query<ChartQuery>,
) -> Response {
    answer(
        async {
            let cluster = cluster_of(namespace, name)?;
            let who = viewer(&state, &asker, &cluster).await?;
            let spec = spec_of(cluster, &chart, &q)?;
            follow(&state, asker, &who, vec![spec])
        }
        .await,
    )
}

/// The chart an address names (`/clusters/<ns>/<name>/charts/<chart>?range=…`).
fn spec_of_address(address: &str) -> Result<ChartSpec, AppError> {
    let bad = || {
        AppError::BadRequest(format!(
            "\"{}\" is not a chart's address: /clusters/<namespace>/<name>/charts/<chart>?range=…",
            address.chars().take(80).collect::<String>()
        ))
    };
    if !address.starts_with('/') || address.len() > 512 {
        return Err(bad());
    }
    let url = url::Url::parse(&format!("http://portal{address}")).map_err(|_| bad())?;
    // Kubernetes names need no escapes: a segment with one fails the name checks below.
    let segments: Vec<String> = url
        .path_segments()
        .ok_or_else(bad)?
        .map(str::to_string)
        .collect();
    let [clusters, namespace, name, charts, chart] = segments.as_slice() else {
        return Err(bad());
    };
    if clusters != "clusters" || charts != "charts" {
        return Err(bad());
    }
    let mut q = ChartQuery::default();
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "range" => q.range = v.into_owned(),
            "pool" => q.pool = v.into_owned(),
            "node" => q.node = v.into_owned(),
            "pod" => q.pod = v.into_owned(),
            _ => return Err(bad()),
        }
    }
    spec_of(cluster_of(namespace.clone(), name.clone())?, chart, &q)
}

/// `GET /charts/live?c=<address>&c=…`: every chart of a page in one stream of server-sent events
/// (browsers keep at most six connections per server); each chart's events are named after its
/// element id. Every chart must be one the caller may see: one they may not is "not found".
async fn live(
    State(state): State<AppState>,
    asker: Asker,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    answer(
        async {
            let addresses: Vec<String> = pairs
                .into_iter()
                .filter(|(k, _)| k == "c")
                .map(|(_, v)| v)
                .collect();
            if addresses.is_empty() || addresses.len() > CHARTS_PER_STREAM {
                return Err(AppError::BadRequest(format!(
                    "name 1 to {CHARTS_PER_STREAM} charts, each as c=<its address>"
                )));
            }
            let mut specs = Vec::with_capacity(addresses.len());
            let mut allowed: Vec<ClusterRef> = Vec::new();
            let mut who = None;
            for address in &addresses {
                let spec = spec_of_address(address)?;
                if !allowed.contains(&spec.cluster) {
                    who = Some(viewer(&state, &asker, &spec.cluster).await?);
                    allowed.push(spec.cluster.clone());
                }
                specs.push(spec);
            }
            let who = who.ok_or_else(|| AppError::BadRequest("name at least one chart".into()))?;
            follow(&state, asker, &who, specs)
        }
        .await,
    )
}
