//! `pods/log`: plausible, reproducible log lines per container, with tail, since and follow.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::api::Query;
use crate::resources::id;
use crate::shared::Shared;
use crate::status::ApiError;
use crate::store::Store;
use crate::util::{hash_str, splitmix, unit};

/// kubesim keeps this much log history per container (simulated seconds).
const RETENTION: f64 = 3600.0;

fn now_unix() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// One container's log source.
#[derive(Clone)]
struct Source {
    h: u64,
    start: f64,
    period: f64,
    flavour: Flavour,
    timestamps: bool,
}

#[derive(Clone, Copy)]
enum Flavour {
    Nginx,
    CoreDns,
    Database,
    Proxy,
    App,
}

const PATHS: &[&str] = &[
    "/",
    "/api/cart",
    "/api/catalog?page=2",
    "/api/orders",
    "/healthz",
    "/static/app.js",
    "/api/checkout",
];
const MESSAGES: &[&str] = &[
    "processed request",
    "cache refreshed",
    "order accepted",
    "payment authorised",
    "batch flushed",
    "connection pool resized",
];

impl Source {
    fn line(&self, i: u64) -> String {
        let h = splitmix(self.h ^ i);
        let r = unit(h);
        let t = self.start + i as f64 * self.period;
        let ts = OffsetDateTime::from_unix_timestamp_nanos((t * 1e9) as i128)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_default();
        let pick = |list: &[&'static str]| list[(h >> 20) as usize % list.len()];
        let ip = format!("10.244.{}.{}", (h >> 8) % 16, (h >> 16) % 250 + 2);
        let body = match self.flavour {
            Flavour::Nginx => {
                let status = if r < 0.02 {
                    500
                } else if r < 0.06 {
                    404
                } else {
                    200
                };
                format!(
                    "{ip} - - [{ts}] \"GET {} HTTP/1.1\" {status} {} \"-\" \"Mozilla/5.0\"",
                    pick(PATHS),
                    200 + (h >> 40) % 8000
                )
            }
            Flavour::CoreDns => format!(
                "[INFO] {ip}:{} - {} \"A IN {}.svc.cluster.local. udp 54 false 512\" NOERROR qr,aa,rd 106 0.000{}s",
                30000 + (h >> 12) % 30000,
                (h >> 24) % 65535,
                pick(&[
                    "api.payments",
                    "cart.shop",
                    "redis.data",
                    "kubernetes.default"
                ]),
                100 + (h >> 44) % 800
            ),
            Flavour::Database => {
                if r < 0.05 {
                    format!(
                        "{ts} LOG:  checkpoint complete: wrote {} buffers",
                        (h >> 30) % 900
                    )
                } else {
                    format!(
                        "{ts} LOG:  duration: {:.3} ms  statement: SELECT * FROM orders WHERE id = {}",
                        r * 40.0,
                        (h >> 18) % 100000
                    )
                }
            }
            Flavour::Proxy => format!(
                "I{} proxier.go:{}] \"Syncing iptables rules\" ipFamily=\"IPv4\"",
                &ts.get(5..19).unwrap_or(""),
                790 + (h >> 50) % 40
            ),
            Flavour::App => {
                let level = if r < 0.01 {
                    "error"
                } else if r < 0.05 {
                    "warn"
                } else {
                    "info"
                };
                let msg = if level == "error" {
                    "upstream timed out after 5s"
                } else {
                    pick(MESSAGES)
                };
                format!(
                    "{{\"level\":\"{level}\",\"ts\":\"{ts}\",\"msg\":\"{msg}\",\"duration_ms\":{},\"request_id\":\"{:016x}\"}}",
                    (h >> 36) % 250,
                    splitmix(h)
                )
            }
        };
        if self.timestamps {
            format!("{ts} {body}\n")
        } else {
            format!("{body}\n")
        }
    }

    /// Indices of lines written in `[from, to]`.
    fn range(&self, from: f64, to: f64) -> std::ops::Range<u64> {
        let a = ((from - self.start) / self.period).ceil().max(0.0) as u64;
        let b = ((to - self.start) / self.period).floor().max(-1.0) as i64 + 1;
        a..(b.max(0) as u64).max(a)
    }
}

fn flavour(image: &str) -> Flavour {
    if image.contains("nginx") {
        Flavour::Nginx
    } else if image.contains("coredns") {
        Flavour::CoreDns
    } else if image.contains("postgres") || image.contains("redis") {
        Flavour::Database
    } else if image.contains("kube-proxy") {
        Flavour::Proxy
    } else {
        Flavour::App
    }
}

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
    sh: &Shared,
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
    let h = hash_str(sh.seed, &format!("{ns}/{name}/{container}"));
    // A line every 1–4 simulated seconds, so logs keep pace with the simulation's speed.
    let speed = sh.clock.speed();
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
