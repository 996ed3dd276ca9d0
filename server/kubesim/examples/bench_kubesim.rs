//! kubesim at fleet scale: start-up time, resident memory with 200 clusters / ~10,000 nodes /
//! ~100,000 pods, listing every pod of a 500-node cluster through kube-rs, and watch throughput
//! with 100 watchers. Run with `make bench` (or `cargo run --release -p kubesim --example bench_kubesim`).

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, Pod, Secret};
use kube::Client;
use kube::api::{Api, ListParams, PostParams, WatchEvent, WatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kubesim::resources::id;
use kubesim::{Sim, SimOptions};
use serde_json::{Value, json};

// The same allocator as the `portolan` binary that embeds kubesim.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

async fn client(kubeconfig: &str) -> Client {
    let kc = Kubeconfig::from_yaml(kubeconfig).expect("kubeconfig");
    let cfg = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .expect("config");
    Client::try_from(cfg).expect("client")
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(String::from)
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|k| k.parse::<f64>().ok())
        })
        .map(|kib| kib / 1024.0)
        .unwrap_or(0.0)
}

fn cluster(name: &str, pools: usize, nodes_per_pool: usize, scale: u32) -> Value {
    let pools: Vec<Value> = (0..pools)
        .map(|i| json!({"class": "default-worker", "name": format!("p{i}"), "replicas": nodes_per_pool,
                        "variables": {"overrides": [{"name": "vmSize", "value": "Standard_D8s_v5"}]}}))
        .collect();
    json!({"metadata": {"name": name, "namespace": "default",
                        "annotations": {"kubesim.portolan.dev/workload-scale": scale.to_string()}},
           "spec": {"topology": {"classRef": {"name": "managed-k8s"}, "version": "v1.33.2",
               "variables": [{"name": "region", "value": "westeurope"}],
               "workers": {"machineDeployments": pools}}}})
}

/// The fleet's clusters: "big" and c001 … c199.
fn cluster_names() -> impl Iterator<Item = String> {
    (0..200).map(|i| {
        if i == 0 {
            "big".to_string()
        } else {
            format!("c{i:03}")
        }
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    // 1. Start-up of an empty kubesim.
    let mut starts = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let sim = Sim::start(SimOptions::default()).await.expect("start");
        starts.push(t.elapsed().as_secs_f64() * 1000.0);
        sim.stop().await;
    }
    println!(
        "kubesim start-up (empty), 20 runs: median {:.2} ms, max {:.2} ms (target <= 100 ms)",
        median(starts.clone()),
        starts.iter().cloned().fold(0.0, f64::max)
    );

    // 2. A fleet: one 500-node cluster (10 pools x 50) and 199 clusters of 48 nodes.
    let sim = Sim::start(SimOptions {
        speed: 2000.0,
        tick: Duration::from_millis(50),
        ..Default::default()
    })
    .await
    .expect("start");
    let rss_before = rss_mib();
    let built = Instant::now();
    sim.management()
        .create(id::CLUSTERS, cluster("big", 10, 50, 300))
        .expect("big cluster");
    for i in 1..200 {
        sim.management()
            .create(id::CLUSTERS, cluster(&format!("c{i:03}"), 1, 48, 30))
            .expect("cluster");
    }
    let (mut nodes, mut pods, mut running) = (0, 0, 0);
    let deadline = Instant::now() + Duration::from_secs(900);
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(2)).await;
        (nodes, pods, running) = (0, 0, 0);
        for name in cluster_names() {
            if let Some(w) = sim.workload("default", &name) {
                nodes += w.count(id::NODES);
                let all = w.all(id::PODS);
                pods += all.len();
                running += all
                    .iter()
                    .filter(|p| p.field("status.phase") == "Running")
                    .count();
            }
        }
        if nodes >= 10_052 && running == pods && pods > 0 {
            break;
        }
        eprintln!(
            "  … {:.0} s: {nodes} nodes, {pods} pods, {running} running, {:.0} MiB",
            built.elapsed().as_secs_f64(),
            rss_mib()
        );
    }
    println!(
        "fleet: 200 clusters, {nodes} nodes, {pods} pods ({running} running) built in {:.0} s at speed 2000",
        built.elapsed().as_secs_f64()
    );
    let rss = rss_mib();
    println!(
        "resident memory: {rss:.0} MiB (before the fleet: {rss_before:.0} MiB; target <= 1024 MiB)"
    );
    // Where it goes: the stored JSON of each workload kind, summed over the fleet.
    let mut stored: Vec<String> = Vec::new();
    for (label, res_id) in [
        ("pods", id::PODS),
        ("nodes", id::NODES),
        ("events", id::W_EVENTS),
        ("replicasets", id::REPLICA_SETS),
        ("deployments", id::DEPLOYMENTS),
    ] {
        let mut bytes = 0usize;
        for name in cluster_names() {
            if let Some(w) = sim.workload("default", &name) {
                bytes += w.all(res_id).iter().map(|o| o.json.len()).sum::<usize>();
            }
        }
        stored.push(format!("{label} {:.1}", bytes as f64 / 1048576.0));
    }
    println!("stored JSON (MiB): {}", stored.join(", "));

    // 3. Every pod of the 500-node cluster through kube-rs.
    let mgmt = client(sim.kubeconfig()).await;
    let secret = Api::<Secret>::namespaced(mgmt.clone(), "default")
        .get("big-kubeconfig")
        .await
        .expect("secret");
    let kubeconfig =
        String::from_utf8(secret.data.expect("data")["value"].0.clone()).expect("utf-8");
    let big = client(&kubeconfig).await;
    let pods_api: Api<Pod> = Api::all(big.clone());
    let mut times = Vec::new();
    let mut count = 0;
    for _ in 0..5 {
        let t = Instant::now();
        count = pods_api
            .list(&ListParams::default())
            .await
            .expect("list")
            .items
            .len();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "list all {count} pods of the 500-node cluster via kube-rs (typed Pods): median {:.0} ms of 5",
        median(times)
    );

    // 4. Watch throughput: 100 watchers, 2,000 changes.
    sim.management()
        .create(id::M_NAMESPACES, json!({"metadata": {"name": "bench"}}))
        .expect("ns");
    let secrets: Api<Secret> = Api::namespaced(mgmt.clone(), "bench");
    let changes = 2_000usize;
    let mut watchers = Vec::new();
    for _ in 0..100 {
        let mut stream = secrets
            .watch(&WatchParams::default().timeout(290), "0")
            .await
            .expect("watch")
            .boxed();
        watchers.push(tokio::spawn(async move {
            let mut seen = 0;
            while let Some(Ok(e)) = stream.next().await {
                if matches!(e, WatchEvent::Added(_)) {
                    seen += 1;
                    if seen == changes {
                        return Instant::now();
                    }
                }
            }
            Instant::now()
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let t = Instant::now();
    for i in 0..changes {
        sim.management()
            .create(id::M_SECRETS, json!({"metadata": {"name": format!("s{i}"), "namespace": "bench"}, "data": {"k": "dg=="}}))
            .expect("secret");
    }
    let mut last = t;
    for w in watchers {
        last = last.max(w.await.expect("watcher"));
    }
    let secs = (last - t).as_secs_f64();
    println!(
        "watch: 100 watchers x {changes} events delivered in {secs:.2} s = {:.0} events/s",
        (100 * changes) as f64 / secs
    );
    // 5. Writes through the API: 500 pods created one after another in the big cluster (JSON
    //    bodies, default field validation), each answered before the next is sent.
    let ns: Namespace =
        serde_json::from_value(json!({"metadata": {"name": "writes"}})).expect("ns");
    Api::<Namespace>::all(big.clone())
        .create(&PostParams::default(), &ns)
        .await
        .expect("namespace");
    let writes: Api<Pod> = Api::namespaced(big, "writes");
    let mut latencies = Vec::new();
    for i in 0..500 {
        let pod: Pod = serde_json::from_value(
            json!({"metadata": {"name": format!("w{i}"), "labels": {"app": "w"}},
            "spec": {"containers": [{"name": "c", "image": "nginx:1.27",
                "resources": {"requests": {"cpu": "1m", "memory": "1Mi"}}}]}}),
        )
        .expect("pod");
        let t = Instant::now();
        writes
            .create(&PostParams::default(), &pod)
            .await
            .expect("created");
        latencies.push(t.elapsed().as_secs_f64() * 1e6);
    }
    println!(
        "create a pod through kube-rs (JSON, field validation on), 500 in a row: median {:.0} us",
        median(latencies)
    );
    sim.stop().await;

    // 6. What a write pays for protobuf bodies and field validation, per object, in process: the
    //    same pod read from JSON and from protobuf, and its unknown-field check.
    per_object_costs();
}

/// A Deployment's pod as kubectl sends it, in JSON and in Kubernetes' protobuf envelope.
fn sample_pod() -> (Value, Vec<u8>) {
    use prost::Message;
    use prost_reflect::{DynamicMessage, Value as P};
    let pod = json!({"metadata": {"name": "web-7d4b9c-x2x8q", "namespace": "shop",
            "labels": {"app": "web", "pod-template-hash": "7d4b9c"}},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
            "ports": [{"containerPort": 80, "protocol": "TCP"}],
            "env": [{"name": "MODE", "value": "fast"}, {"name": "LEVEL", "value": "3"}],
            "resources": {"requests": {"cpu": {"string": "100m"}, "memory": {"string": "128Mi"}}}}],
            "nodeSelector": {"pool": "apps"}, "restartPolicy": "Always"}});
    let pool = kubesim::proto_body::pool().expect("descriptors");
    let desc = kubesim::proto_body::message_of(pool, "v1", "Pod").expect("Pod");
    let raw = DynamicMessage::deserialize(desc, pod)
        .expect("fits")
        .encode_to_vec();
    let mut type_meta = DynamicMessage::new(
        pool.get_message_by_name("apimachinery.pkg.runtime.TypeMeta")
            .expect("TypeMeta"),
    );
    type_meta.set_field_by_name("apiVersion", P::String("v1".into()));
    type_meta.set_field_by_name("kind", P::String("Pod".into()));
    let mut unknown = DynamicMessage::new(
        pool.get_message_by_name("apimachinery.pkg.runtime.Unknown")
            .expect("Unknown"),
    );
    unknown.set_field_by_name("typeMeta", P::Message(type_meta));
    unknown.set_field_by_name("raw", P::Bytes(raw.into()));
    let mut body = b"k8s\0".to_vec();
    body.extend(unknown.encode_to_vec());
    let as_json = kubesim::proto_body::decode(&body).expect("decodes");
    (as_json, body)
}

fn per_object_costs() {
    let (json_pod, proto_body) = sample_pod();
    let json_body = serde_json::to_vec(&json_pod).expect("json");
    let schemas = kubesim::schemas::Schemas::default();
    let runs = 20_000;
    let time = |f: &mut dyn FnMut()| {
        let t = Instant::now();
        for _ in 0..runs {
            f();
        }
        t.elapsed().as_secs_f64() * 1e6 / runs as f64
    };
    let from_json = time(&mut || {
        let v: Value = serde_json::from_slice(&json_body).expect("json");
        std::hint::black_box(v);
    });
    let from_proto = time(&mut || {
        std::hint::black_box(kubesim::proto_body::decode(&proto_body).expect("proto"));
    });
    let validate = time(&mut || {
        let mut v = json_pod.clone();
        let warnings = kubesim::fields::check(
            &schemas,
            id::PODS,
            &mut v,
            kubesim::fields::Validation::Warn,
        )
        .expect("valid");
        std::hint::black_box(warnings);
    });
    let clone = time(&mut || {
        std::hint::black_box(json_pod.clone());
    });
    println!(
        "per pod body ({} B JSON, {} B protobuf), {runs} runs: JSON read {from_json:.1} us, protobuf read {from_proto:.1} us, field validation {:.1} us",
        json_body.len(),
        proto_body.len(),
        (validate - clone).max(0.0)
    );
}
