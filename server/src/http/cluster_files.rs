//! A cluster's plain routes: kubeconfig download, log download, live log (server-sent events).
//
// The kubeconfig is for cluster admins only, and every download is recorded.
//
// Each asks the gate first, then whether the caller may see the cluster at all: a cluster they
// may not see answers 404, exactly like one that does not exist.

use std::convert::Infallible;
use std::sync::LazyLock;
use std::time::Duration;

use app::access::model::{Action, ClusterRef, Principal, Target};
use app::error::AppError;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use serde::Deserialize;
use tokio::sync::Semaphore;

use super::AppState;
use crate::access::Asker;
use crate::error::plain;
use crate::fleet::{kube_name, logs, within};
use crate::store::audit;

/// Live log streams open at once, portal-wide: each holds a connection to a workload cluster.
static STREAMS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(100));
/// A live log stream ends after this long (the page can follow again).
const STREAM_LIFETIME: Duration = Duration::from_secs(3600);
/// The most a log download carries.
const DOWNLOAD_MAX: i64 = 64 * 1024 * 1024;

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/clusters/{namespace}/{name}/kubeconfig", get(kubeconfig))
        .route(
            "/clusters/{namespace}/{name}/pods/{pod_namespace}/{pod}/logs/{what}",
            get(log),
        )
}

/// A viewer who may see `cluster` (a refusal, or "not found" when they may not see it).
pub(super) async fn viewer(
    state: &AppState,
    asker: &Asker,
    cluster: &ClusterRef,
) -> Result<Principal, AppError> {
    let who = asker
        .may(Action::ViewClusters, &Target::Cluster(cluster.clone()))
        .await?;
    state.backend.visible(&who, cluster).await?;
    Ok(who)
}

/// The cluster named by the path; names that cannot be one are "not found".
pub(super) fn cluster_of(namespace: String, name: String) -> Result<ClusterRef, AppError> {
    kube_name("namespace", &namespace)?;
    kube_name("cluster", &name)?;
    Ok(ClusterRef::new(namespace, name))
}

/// The answer of a route: what it made, or its error in words.
pub(super) fn answer(result: Result<Response, AppError>) -> Response {
    result.unwrap_or_else(|e| plain(&e))
}

/// `GET /clusters/<ns>/<name>/kubeconfig`: the `<name>-kubeconfig` Secret's value, read fresh from
/// the management cluster, for cluster admins only; every download is in the activity log.
async fn kubeconfig(
    State(state): State<AppState>,
    asker: Asker,
    Path((namespace, name)): Path<(String, String)>,
) -> Response {
    answer(kubeconfig_of(&state, &asker, namespace, name).await)
}

async fn kubeconfig_of(
    state: &AppState,
    asker: &Asker,
    namespace: String,
    name: String,
) -> Result<Response, AppError> {
    let cluster = cluster_of(namespace, name)?;
    viewer(state, asker, &cluster).await?;
    let target = Target::Cluster(cluster.clone());
    let who = asker.may(Action::DownloadKubeconfig, &target).await?;
    let fleet = state
        .core
        .fleet
        .as_ref()
        .ok_or_else(|| AppError::Unavailable("the management cluster".into()))?;
    let api: Api<Secret> = Api::namespaced(fleet.management.client(), &cluster.namespace);
    let secret_name = format!("{}-kubeconfig", cluster.name);
    let secret = within(
        &format!("read Secret {secret_name}"),
        api.get_opt(&secret_name),
    )
    .await?;
    let value = secret
        .as_ref()
        .and_then(|s| s.data.as_ref())
        .and_then(|d| d.get("value"))
        .map(|v| v.0.clone())
        .ok_or_else(|| {
            AppError::Unavailable(format!(
                "the kubeconfig of {cluster} (its Secret {secret_name} has no key \"value\" yet; the control plane may still be starting)"
            ))
        })?;
    let target_text = crate::access::gate::target_text(&target);
    let change = audit::Change::accepted(
        Action::DownloadKubeconfig.as_str(),
        &target_text,
        serde_json::json!({}),
    );
    // No record, no credentials: every download must be in the log.
    audit::record(&state.core.db, &asker.origin_of(&who), change)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "kubeconfig download: cannot write the audit log");
            AppError::Unavailable("the portal's database".into())
        })?;
    let mut res = (StatusCode::OK, value).into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/yaml"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The name is a Kubernetes name (checked above): safe in a header.
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}-kubeconfig.yaml\"",
        cluster.name
    )) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LogQuery {
    container: String,
    previous: bool,
}

/// `GET …/logs/stream?container=`: new lines as server-sent events (`data: <line>`), from now on;
/// `GET …/logs/download?container=&previous=`: the container's log as a text file, streamed.
async fn log(
    State(state): State<AppState>,
    asker: Asker,
    Path((namespace, name, pod_namespace, pod, what)): Path<(
        String,
        String,
        String,
        String,
        String,
    )>,
    Query(q): Query<LogQuery>,
) -> Response {
    answer(
        async {
            let cluster = cluster_of(namespace, name)?;
            viewer(&state, &asker, &cluster).await?;
            kube_name("namespace", &pod_namespace)?;
            kube_name("pod", &pod)?;
            if !q.container.is_empty() {
                kube_name("container", &q.container)?;
            }
            let client = state.backend.workload(&cluster)?.client.clone();
            match what.as_str() {
                "stream" => stream(client, &pod_namespace, &pod, &q).await,
                "download" => download(client, &pod_namespace, &pod, &q).await,
                _ => Err(AppError::NotFound(format!(
                    "logs/{}",
                    what.chars().take(32).collect::<String>()
                ))),
            }
        }
        .await,
    )
}

async fn stream(
    client: kube::Client,
    pod_namespace: &str,
    pod: &str,
    q: &LogQuery,
) -> Result<Response, AppError> {
    let permit = STREAMS.try_acquire().map_err(|_| {
        AppError::Unavailable("live logs (too many are being followed at once)".into())
    })?;
    let lines = logs::follow(client, pod_namespace, pod, &q.container, 0).await?;
    let events = lines
        .map(move |line| {
            // The permit lives as long as the stream.
            let _held = &permit;
            Ok::<_, Infallible>(Event::default().data(line))
        })
        .take_until(tokio::time::sleep(STREAM_LIFETIME));
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response())
}

async fn download(
    client: kube::Client,
    pod_namespace: &str,
    pod: &str,
    q: &LogQuery,
) -> Result<Response, AppError> {
    let stream = logs::download(
        client,
        pod_namespace,
        pod,
        &q.container,
        q.previous,
        DOWNLOAD_MAX,
    )
    .await?;
    let mut res = (StatusCode::OK, Body::from_stream(stream)).into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    let container = if q.container.is_empty() {
        "log"
    } else {
        q.container.as_str()
    };
    // Pod and container are Kubernetes names (checked above): safe in a header.
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{pod}-{container}.log\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}
