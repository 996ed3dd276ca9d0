//! Shared helpers for kubesim's integration tests: start a sim, make kube-rs clients, wait.

#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kubesim::{Sim, SimOptions};
use serde_json::Value;

/// A fast kubesim: 100 simulated seconds per real second, stepping every 20 ms.
pub async fn fast_sim() -> Sim {
    Sim::start(SimOptions {
        speed: 100.0,
        tick: Duration::from_millis(20),
        ..SimOptions::default()
    })
    .await
    .expect("kubesim starts")
}

pub async fn client_for(kubeconfig: &str) -> Client {
    let kc = Kubeconfig::from_yaml(kubeconfig).expect("kubeconfig parses");
    let config = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .expect("kubeconfig is usable");
    Client::try_from(config).expect("client builds")
}

/// A client that reports 429, 503 and 504 instead of retrying them (kube-rs retries by default).
pub async fn client_without_retries(kubeconfig: &str) -> Client {
    let kc = Kubeconfig::from_yaml(kubeconfig).expect("kubeconfig parses");
    let mut config = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .expect("kubeconfig is usable");
    config.default_retry = false;
    Client::try_from(config).expect("client builds")
}

pub fn capi(kind: &str) -> ApiResource {
    ApiResource::from_gvk(&GroupVersionKind::gvk("cluster.x-k8s.io", "v1beta2", kind))
}

pub fn clusters(client: &Client) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), "default", &capi("Cluster"))
}

pub fn metrics(kind: &str) -> ApiResource {
    let mut ar = ApiResource::from_gvk(&GroupVersionKind::gvk("metrics.k8s.io", "v1beta1", kind));
    ar.plural = if kind == "NodeMetrics" {
        "nodes".into()
    } else {
        "pods".into()
    };
    ar
}

/// Polls `check` until it returns `Some`, failing the test with `what` after `secs` real seconds.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out after {secs}s waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A Cluster of the seeded class with one pool.
pub fn cluster(name: &str, version: &str, replicas: i64, size: &str) -> Value {
    serde_json::json!({
        "apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "Cluster",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"topology": {"classRef": {"name": "managed-k8s"}, "version": version,
            "variables": [{"name": "region", "value": "westeurope"}],
            "workers": {"machineDeployments": [{"class": "default-worker", "name": "pool1", "replicas": replicas,
                "variables": {"overrides": [{"name": "vmSize", "value": size}]}}]}}}
    })
}

pub fn api_error(err: kube::Error) -> (u16, String, String) {
    match err {
        kube::Error::Api(s) => (s.code, s.reason.clone(), s.message.clone()),
        other => panic!("expected an API error, got {other:?}"),
    }
}

pub fn condition<'a>(obj: &'a Value, kind: &str) -> Option<&'a Value> {
    obj["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
}

/// A Kubernetes protobuf body as clients send it: "k8s\0", then an `Unknown` around the object,
/// written from `object` (JSON in the protobuf mapping: times as `{"seconds": n}`).
pub fn proto(api_version: &str, kind: &str, object: Value) -> Vec<u8> {
    use prost::Message;
    use prost_reflect::{DynamicMessage, Value as P};
    let pool = kubesim::proto_body::pool().expect("descriptors load");
    let raw = match kubesim::proto_body::message_of(pool, api_version, kind) {
        Some(desc) => DynamicMessage::deserialize(desc, object)
            .expect("the object fits the message")
            .encode_to_vec(),
        None => Vec::new(),
    };
    let unknown_desc = pool
        .get_message_by_name("apimachinery.pkg.runtime.Unknown")
        .expect("Unknown");
    let type_meta_desc = pool
        .get_message_by_name("apimachinery.pkg.runtime.TypeMeta")
        .expect("TypeMeta");
    let mut type_meta = DynamicMessage::new(type_meta_desc);
    type_meta.set_field_by_name("apiVersion", P::String(api_version.into()));
    type_meta.set_field_by_name("kind", P::String(kind.into()));
    let mut unknown = DynamicMessage::new(unknown_desc);
    unknown.set_field_by_name("typeMeta", P::Message(type_meta));
    unknown.set_field_by_name("raw", P::Bytes(raw.into()));
    let mut out = b"k8s\0".to_vec();
    out.extend(unknown.encode_to_vec());
    out
}
