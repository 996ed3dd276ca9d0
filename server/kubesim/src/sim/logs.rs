//! Plausible, reproducible log lines per container (served by `api/logs.rs`).

use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::noise::{splitmix, unit};

/// kubesim keeps this much log history per container (simulated seconds).
pub(crate) const RETENTION: f64 = 3600.0;

pub(crate) fn now_unix() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// One container's log source.
#[derive(Clone)]
pub(crate) struct Source {
    pub h: u64,
    pub start: f64,
    pub period: f64,
    pub flavour: Flavour,
    pub timestamps: bool,
}

#[derive(Clone, Copy)]
pub(crate) enum Flavour {
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
    pub(crate) fn line(&self, i: u64) -> String {
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
    pub(crate) fn range(&self, from: f64, to: f64) -> std::ops::Range<u64> {
        let a = ((from - self.start) / self.period).ceil().max(0.0) as u64;
        let b = ((to - self.start) / self.period).floor().max(-1.0) as i64 + 1;
        a..(b.max(0) as u64).max(a)
    }
}

pub(crate) fn flavour(image: &str) -> Flavour {
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
