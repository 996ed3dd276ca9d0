//! A cluster's chart routes: the SVG, the PNG (rasterised here) and the live stream of a chart.
//
// Each asks the gate, then whether the caller may see the cluster: one they may not see answers
// 404, exactly like one that does not exist. Live streams share one rendering per chart.

use std::convert::Infallible;
use std::sync::LazyLock;
use std::time::Duration;

use app::access::model::ClusterRef;
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
use crate::fleet::kube_name;
use crate::metrics::{ChartSpec, Metrics, chart, png};

/// Live chart streams open at once, portal-wide (each holds a connection and one frame).
static STREAMS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(4096));
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
    match &scope {
        ChartScope::Cluster => {}
        ChartScope::Pool(p) => kube_name("pool", p)?,
        ChartScope::Node(n) => kube_name("node", n)?,
        ChartScope::Pod { namespace, name } => {
            kube_name("namespace", namespace)?;
            kube_name("pod", name)?;
        }
    }
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

/// How often a live stream checks that its viewer is still signed in and may still see the cluster.
const RECHECK: Duration = Duration::from_secs(30);

/// One viewer's live chart.
struct Follow {
    rx: tokio::sync::watch::Receiver<crate::metrics::live::Frame>,
    first: bool,
    asker: Asker,
    state: AppState,
    cluster: ClusterRef,
    checked: tokio::time::Instant,
    /// Counts against `STREAMS` while the stream lives.
    _permit: tokio::sync::SemaphorePermit<'static>,
}

enum Next {
    Frame(Bytes),
    /// The last bytes: the stream ends after them.
    End(Bytes),
}

impl Follow {
    async fn next(&mut self) -> Next {
        if std::mem::take(&mut self.first) {
            let current = self.rx.borrow_and_update().clone();
            if current.seq > 0 {
                return Next::Frame(current.bytes);
            }
        }
        if self.checked.elapsed() >= RECHECK {
            self.checked = tokio::time::Instant::now();
            let allowed = self.asker.still_signed_in().await
                && viewer(&self.state, &self.asker, &self.cluster)
                    .await
                    .is_ok();
            if !allowed {
                // The browser would reconnect after a plain end and get 401; this says why first.
                return Next::End(Bytes::from_static(
                    b"event: ended\ndata: the session ended or access to this cluster changed\n\n",
                ));
            }
        }
        let recheck_at = self.checked + RECHECK;
        tokio::select! {
            changed = self.rx.changed() => match changed {
                Ok(()) => Next::Frame(self.rx.borrow_and_update().bytes.clone()),
                Err(_) => Next::End(Bytes::new()),
            },
            () = tokio::time::sleep(KEEP_ALIVE) => Next::Frame(Bytes::from_static(b": keep-alive\n\n")),
            () = tokio::time::sleep_until(recheck_at) => Next::Frame(Bytes::new()),
        }
    }
}

/// `GET …/charts/<chart>/stream`: the chart as server-sent events, a new SVG whenever it changes.
async fn stream(
    State(state): State<AppState>,
    asker: Asker,
    Path((namespace, name, chart)): Path<(String, String, String)>,
    Query(q): Query<ChartQuery>,
) -> Response {
    answer(
        async {
            let cluster = cluster_of(namespace, name)?;
            viewer(&state, &asker, &cluster).await?;
            let spec = spec_of(cluster, &chart, &q)?;
            let metrics = metrics_of(&state)?;
            let permit = STREAMS.try_acquire().map_err(|_| {
                AppError::Unavailable("live charts (too many are being followed at once)".into())
            })?;
            let rx = metrics.live.subscribe(&metrics, spec.clone());
            let start = futures_util::stream::once(async {
                // Reconnect two seconds after a drop (the browser's default is three).
                Ok::<Bytes, Infallible>(Bytes::from_static(b"retry: 2000\n\n"))
            });
            let follow = Follow {
                rx,
                first: true,
                asker,
                state: state.clone(),
                cluster: spec.cluster,
                checked: tokio::time::Instant::now(),
                _permit: permit,
            };
            let frames = futures_util::stream::unfold(Some(follow), |follow| async move {
                let mut f = follow?;
                let next = f.next().await;
                let keep = matches!(next, Next::Frame(_));
                let bytes = match next {
                    Next::Frame(b) | Next::End(b) => b,
                };
                Some((Ok(bytes), keep.then_some(f)))
            });
            use futures_util::StreamExt;
            let body = start
                .chain(frames)
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
        .await,
    )
}
