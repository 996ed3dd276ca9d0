//! `pods/log`: a container's log lines, with tail, since, timestamps and follow.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Query;
use crate::noise::hash_str;
use crate::resources::id;
use crate::shared::Shared;
use crate::sim::logs::{RETENTION, Source, flavour, now_unix};
use crate::status::ApiError;
use crate::store::Store;

fn bool_param(q: &Query, key: &str) -> bool {
    q.get(key).is_some_and(|v| v == "true" || v == "1")
}

fn int_param(q: &Query, key: &str) -> Result<Option<i64>, ApiError> {
    match q.get(key).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(Some)
            .ok_or_else(|| {
                ApiError::BadRequest(format!("{key} must be a non-negative integer, got \"{v}\""))
            }),
    }
}

pub async fn serve(
    shared: &Shared,
    store: Arc<Store>,
    ns: &str,
    name: &str,
    q: &Query,
) -> Result<Response, ApiError> {
    let pod = store
        .get(id::PODS, ns, name)
        .ok_or_else(|| ApiError::not_found("", "pods", name))?
        .value();
    let containers: Vec<(String, String)> = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or("").to_string(),
                c["image"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let (container, image) = match q.get("container").filter(|c| !c.is_empty()) {
        Some(c) => containers
            .iter()
            .find(|(n, _)| n == c)
            .cloned()
            .ok_or_else(|| {
                ApiError::BadRequest(format!("container {c} is not valid for pod {name}"))
            })?,
        None if containers.len() == 1 => containers[0].clone(),
        None => {
            let names: Vec<&str> = containers.iter().map(|(n, _)| n.as_str()).collect();
            return Err(ApiError::BadRequest(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                names.join(" ")
            )));
        }
    };
    let start = pod["status"]["startTime"]
        .as_str()
        .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
        .map(|t| t.unix_timestamp() as f64)
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "container \"{container}\" in pod \"{name}\" is waiting to start: ContainerCreating"
            ))
        })?;
    let tail = int_param(q, "tailLines")?;
    let since = int_param(q, "sinceSeconds")?;
    let h = hash_str(shared.seed, &format!("{ns}/{name}/{container}"));
    if bool_param(q, "previous") {
        return previous(shared, &pod, name, &container, &image, h, tail);
    }
    // A line every 1–4 simulated seconds, so logs keep pace with the simulation's speed.
    let speed = shared.clock.speed();
    let src = Source {
        h,
        start,
        period: (1.0 + (h % 4) as f64) / speed,
        flavour: flavour(&image),
        timestamps: bool_param(q, "timestamps"),
    };
    let now = now_unix();
    let from = since
        .map(|s| now - s as f64)
        .unwrap_or(now - RETENTION / speed)
        .max(start);
    let mut range = src.range(from, now);
    if let Some(t) = tail {
        range.start = range.start.max(range.end.saturating_sub(t as u64));
    }
    let initial: String = range.clone().map(|i| src.line(i)).collect();
    let mut response = if bool_param(q, "follow") {
        let state = (
            Some(Bytes::from(initial)),
            range.end,
            src,
            store,
            ns.to_string(),
            name.to_string(),
        );
        let stream =
            futures_util::stream::unfold(state, |(first, next, src, store, ns, name)| async move {
                if let Some(b) = first {
                    return Some((
                        Ok::<_, std::io::Error>(b),
                        (None, next, src, store, ns, name),
                    ));
                }
                loop {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    // The stream ends when the pod goes away, as with a real kubelet.
                    store.get(id::PODS, &ns, &name)?;
                    let end = src.range(src.start, now_unix()).end;
                    if end > next {
                        let chunk: String = (next..end).map(|i| src.line(i)).collect();
                        return Some((Ok(Bytes::from(chunk)), (None, end, src, store, ns, name)));
                    }
                }
            });
        (StatusCode::OK, Body::from_stream(stream)).into_response()
    } else {
        (StatusCode::OK, initial).into_response()
    };
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Ok(response)
}

/// The log of the container's previous run (`previous=true`): five simulated minutes of lines that
/// end when it terminated; a container that never restarted has none, as with a real kubelet.
fn previous(
    shared: &Shared,
    pod: &serde_json::Value,
    name: &str,
    container: &str,
    image: &str,
    h: u64,
    tail: Option<i64>,
) -> Result<Response, ApiError> {
    let status = pod["status"]["containerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == container);
    let restarts = status.and_then(|c| c["restartCount"].as_u64()).unwrap_or(0);
    let ended = status
        .and_then(|c| c["lastState"]["terminated"]["finishedAt"].as_str())
        .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
        .map(|t| t.unix_timestamp() as f64);
    let (true, Some(ended)) = (restarts > 0, ended) else {
        return Err(ApiError::BadRequest(format!(
            "previous terminated container \"{container}\" in pod \"{name}\" not found"
        )));
    };
    let speed = shared.clock.speed();
    let src = Source {
        h: h ^ restarts.rotate_left(17),
        start: ended - 300.0 / speed,
        period: (1.0 + (h % 4) as f64) / speed,
        flavour: flavour(image),
        timestamps: false,
    };
    let mut range = src.range(src.start, ended);
    if let Some(t) = tail {
        range.start = range.start.max(range.end.saturating_sub(t as u64));
    }
    let text: String = range.map(|i| src.line(i)).collect();
    let mut response = (StatusCode::OK, text).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Ok(response)
}
