//! The demo fleet: three clusters on different versions in different regions, one with a GPU pool,
//! one whose PodDisruptionBudget will block an upgrade, one short of capacity.

use serde_json::{Value, json};

use crate::catalog::{AUTOSCALER_MAX, AUTOSCALER_MIN, CLASS_NAME, WORKER_CLASS};
use crate::resources::id;
use crate::sim::apps::BLOCKING_PDB_ANNOTATION;
use crate::store::Store;

fn var(name: &str, value: Value) -> Value {
    json!({"name": name, "value": value})
}

fn pool(
    name: &str,
    replicas: u32,
    size: &str,
    mode: &str,
    extra: Vec<Value>,
    annotations: Value,
) -> Value {
    let mut overrides = vec![var("vmSize", json!(size)), var("poolMode", json!(mode))];
    overrides.extend(extra);
    json!({"class": WORKER_CLASS, "name": name, "replicas": replicas,
           "metadata": {"annotations": annotations}, "variables": {"overrides": overrides}})
}

/// A Cluster manifest using the seeded ClusterClass.
pub fn cluster(
    name: &str,
    version: &str,
    region: &str,
    pools: Vec<Value>,
    annotations: Value,
) -> Value {
    json!({
        "apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "Cluster",
        "metadata": {"name": name, "namespace": "default", "annotations": annotations,
                     "labels": {"portolan.dev/region": region}},
        "spec": {
            "clusterNetwork": {"pods": {"cidrBlocks": ["10.244.0.0/16"]}, "services": {"cidrBlocks": ["10.96.0.0/12"]}},
            "topology": {"classRef": {"name": CLASS_NAME}, "version": version,
                "controlPlane": {"replicas": 3},
                "variables": [var("region", json!(region)), var("zones", json!(["1", "2", "3"]))],
                "workers": {"machineDeployments": pools}}}})
}

pub fn fleet() -> Vec<Value> {
    vec![
        cluster(
            "prod-weu",
            "v1.33.5",
            "westeurope",
            vec![
                pool("system", 2, "Standard_D4s_v5", "system", vec![], json!({})),
                pool(
                    "apps",
                    3,
                    "Standard_D8s_v5",
                    "user",
                    vec![],
                    json!({AUTOSCALER_MIN: "2", AUTOSCALER_MAX: "6"}),
                ),
            ],
            json!({BLOCKING_PDB_ANNOTATION: "payments/ledger", "portolan.dev/team": "payments"}),
        ),
        cluster(
            "staging-eus",
            "v1.32.7",
            "eastus",
            vec![pool(
                "general",
                2,
                "Standard_D2s_v5",
                "system",
                vec![],
                json!({}),
            )],
            json!({"portolan.dev/team": "shop"}),
        ),
        cluster(
            "ml-sea",
            "v1.34.2",
            "southeastasia",
            vec![
                pool("system", 2, "Standard_D4s_v5", "system", vec![], json!({})),
                pool(
                    "gpu",
                    1,
                    "Standard_NC4as_T4_v3",
                    "user",
                    vec![
                        var("nodeTaints", json!(["nvidia.com/gpu=present:NoSchedule"])),
                        var("nodeLabels", json!({"accelerator": "nvidia-t4"})),
                    ],
                    json!({}),
                ),
            ],
            json!({"portolan.dev/team": "ml"}),
        ),
    ]
}

/// Creates the demo fleet (objects that already exist are left alone).
pub fn seed(store: &Store) {
    for c in fleet() {
        let _ = store.create(id::CLUSTERS, c);
    }
}
