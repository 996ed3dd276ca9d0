//! One poll of a workload cluster's `metrics.k8s.io` API: NodeMetrics and PodMetrics, bounded.
//
// The API has no watch, so it is listed. A workload cluster is not trusted: its answer is read up
// to `BODY_MAX` bytes, and anything that is not metrics is an error in words, never a panic.

use std::collections::HashMap;

use http_body_util::BodyExt;
use kube::Client;
use serde::Deserialize;

use super::recent::{ContainerKey, NodeSample, Scrape};
use crate::fleet::quantity;

/// The most one metrics list may carry (a 5,000-pod cluster's pod list is about 2 MB).
const BODY_MAX: usize = 64 * 1024 * 1024;

#[derive(Deserialize)]
struct List<T> {
    items: Vec<T>,
}

#[derive(Deserialize)]
struct Meta {
    name: String,
    #[serde(default)]
    namespace: String,
}

#[derive(Deserialize)]
struct Quantities {
    cpu: String,
    memory: String,
}

#[derive(Deserialize)]
struct NodeMetrics {
    metadata: Meta,
    usage: Quantities,
}

#[derive(Deserialize)]
struct ContainerMetrics {
    name: String,
    usage: Quantities,
}

#[derive(Deserialize)]
struct PodMetrics {
    metadata: Meta,
    containers: Vec<ContainerMetrics>,
}

/// CPU (millicores, fractions kept) and memory (bytes) of a usage, or why not.
fn usage(q: &Quantities, of: &str) -> Result<[f32; 2], String> {
    let cpu = cpu_millicores(&q.cpu)
        .ok_or_else(|| format!("{of} has a CPU usage that is not a quantity"))?;
    let mem = quantity::bytes(&q.memory)
        .ok_or_else(|| format!("{of} has a memory usage that is not a quantity"))?;
    Ok([cpu as f32, mem as f32])
}

/// metrics-server reports CPU in nanocores ("12345678n"); millicores keep the fraction.
fn cpu_millicores(text: &str) -> Option<f64> {
    let text = text.trim();
    if let Some(n) = text.strip_suffix('n') {
        return n
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .map(|v| v / 1e6);
    }
    if let Some(u) = text.strip_suffix('u') {
        return u
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .map(|v| v / 1e3);
    }
    quantity::millicores(text).map(|m| m as f64)
}

/// GETs `path` and reads it as JSON, at most `BODY_MAX` bytes.
async fn get<T: serde::de::DeserializeOwned>(
    client: &Client,
    path: &str,
    what: &str,
) -> Result<T, String> {
    let request = http::Request::get(path)
        .header(http::header::ACCEPT, "application/json")
        .body(kube::client::Body::empty())
        .map_err(|e| format!("could not ask for {what}: {e}"))?;
    let response = client
        .send(request)
        .await
        .map_err(|_| format!("the metrics API did not answer ({what})"))?;
    let status = response.status();
    let body = http_body_util::Limited::new(response.into_body(), BODY_MAX)
        .collect()
        .await
        .map_err(|_| {
            format!(
                "the metrics API's answer for {what} was cut off or larger than {} MiB",
                BODY_MAX >> 20
            )
        })?
        .to_bytes();
    if !status.is_success() {
        let hint = if status == http::StatusCode::NOT_FOUND {
            " (is metrics-server installed?)"
        } else {
            ""
        };
        return Err(format!(
            "the metrics API answered {status} for {what}{hint}"
        ));
    }
    serde_json::from_slice(&body)
        .map_err(|_| format!("the metrics API answered something that is not {what}"))
}

/// Polls the cluster's node and pod metrics; `allocatable` and `pools` come from the watches.
pub async fn scrape(
    client: &Client,
    at_ms: i64,
    allocatable: &HashMap<String, [f32; 2]>,
    pools: &HashMap<String, String>,
) -> Result<Scrape, String> {
    let nodes: List<NodeMetrics> =
        get(client, "/apis/metrics.k8s.io/v1beta1/nodes", "node metrics").await?;
    let pods: List<PodMetrics> =
        get(client, "/apis/metrics.k8s.io/v1beta1/pods", "pod metrics").await?;
    let mut scrape = Scrape {
        at_ms,
        nodes: Vec::with_capacity(nodes.items.len()),
        containers: Vec::with_capacity(pods.items.len()),
    };
    for n in nodes.items {
        let used = usage(&n.usage, &format!("node {}", n.metadata.name))?;
        scrape.nodes.push(NodeSample {
            allocatable: allocatable
                .get(&n.metadata.name)
                .copied()
                .unwrap_or([f32::NAN; 2]),
            pool: pools.get(&n.metadata.name).cloned(),
            name: n.metadata.name,
            used,
        });
    }
    for p in pods.items {
        let namespace: Box<str> = p.metadata.namespace.into();
        let pod: Box<str> = p.metadata.name.into();
        for c in p.containers {
            let used = usage(&c.usage, &format!("pod {namespace}/{pod}"))?;
            scrape.containers.push((
                ContainerKey {
                    namespace: namespace.clone(),
                    pod: pod.clone(),
                    container: c.name.into(),
                },
                used,
            ));
        }
    }
    Ok(scrape)
}

#[cfg(test)]
mod tests {
    use super::cpu_millicores;

    #[test]
    fn cpu_in_nanocores_microcores_and_millicores() {
        assert_eq!(cpu_millicores("250000000n"), Some(250.0));
        assert_eq!(cpu_millicores("1500u"), Some(1.5));
        assert_eq!(cpu_millicores("2"), Some(2000.0));
        assert_eq!(cpu_millicores("75m"), Some(75.0));
        assert_eq!(cpu_millicores("-5n"), None);
        assert_eq!(cpu_millicores("lots"), None);
    }
}
