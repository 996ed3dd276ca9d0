//! What runs in a new workload cluster: add-ons, a spread of applications, scenario extras.

use serde_json::{Value, json};

use crate::resources::id;
use crate::store::Store;

/// Multiplies application replicas (for large simulated fleets); an integer 0–1000.
pub const WORKLOAD_SCALE_ANNOTATION: &str = "kubesim.portolan.dev/workload-scale";
/// `<namespace>/<deployment>`: adds a PodDisruptionBudget that allows no disruption of it.
pub const BLOCKING_PDB_ANNOTATION: &str = "kubesim.portolan.dev/blocking-pdb";

struct App {
    ns: &'static str,
    name: &'static str,
    replicas: u32,
    image: &'static str,
    cpu: &'static str,
    mem: &'static str,
    leak: bool,
}

impl App {
    /// The Deployment (add-ons tolerate the system pool's CriticalAddonsOnly taint).
    fn deployment(&self, replicas: u32, system: bool) -> Value {
        let mut annotations = json!({});
        if self.leak {
            annotations[crate::index::LEAK_ANNOTATION] = json!("true");
        }
        let mut spec = json!({"containers": [{"name": self.name, "image": self.image,
            "resources": {"requests": {"cpu": self.cpu, "memory": self.mem}, "limits": {"memory": self.mem}},
            "ports": [{"containerPort": 8080, "protocol": "TCP"}]}]});
        if system {
            spec["tolerations"] = json!([{"key": "CriticalAddonsOnly", "operator": "Exists"}]);
            spec["priorityClassName"] = json!("system-cluster-critical");
        }
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": self.name, "namespace": self.ns, "labels": {"app": self.name}},
               "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": self.name}},
                        "template": {"metadata": {"labels": {"app": self.name}, "annotations": annotations}, "spec": spec}}})
    }
}

const SYSTEM: &[App] = &[
    App {
        ns: "kube-system",
        name: "coredns",
        replicas: 2,
        image: "registry.k8s.io/coredns/coredns:v1.11.3",
        cpu: "100m",
        mem: "70Mi",
        leak: false,
    },
    App {
        ns: "kube-system",
        name: "metrics-server",
        replicas: 1,
        image: "registry.k8s.io/metrics-server/metrics-server:v0.7.2",
        cpu: "100m",
        mem: "200Mi",
        leak: false,
    },
    App {
        ns: "kube-system",
        name: "konnectivity-agent",
        replicas: 2,
        image: "registry.k8s.io/kas-network-proxy/proxy-agent:v0.31.0",
        cpu: "20m",
        mem: "30Mi",
        leak: false,
    },
];

const APPS: &[App] = &[
    App {
        ns: "shop",
        name: "frontend",
        replicas: 3,
        image: "nginx:1.27",
        cpu: "200m",
        mem: "256Mi",
        leak: false,
    },
    App {
        ns: "shop",
        name: "cart",
        replicas: 2,
        image: "ghcr.io/example/cart:2.4.1",
        cpu: "250m",
        mem: "512Mi",
        leak: false,
    },
    App {
        ns: "shop",
        name: "catalog",
        replicas: 3,
        image: "ghcr.io/example/catalog:1.9.0",
        cpu: "300m",
        mem: "384Mi",
        leak: false,
    },
    App {
        ns: "shop",
        name: "checkout",
        replicas: 2,
        image: "ghcr.io/example/checkout:3.0.2",
        cpu: "200m",
        mem: "256Mi",
        leak: false,
    },
    App {
        ns: "payments",
        name: "api",
        replicas: 2,
        image: "ghcr.io/example/payments-api:5.2.0",
        cpu: "500m",
        mem: "512Mi",
        leak: false,
    },
    App {
        ns: "payments",
        name: "ledger",
        replicas: 1,
        image: "ghcr.io/example/ledger:0.14.3",
        cpu: "250m",
        mem: "1Gi",
        leak: true,
    },
    App {
        ns: "data",
        name: "redis",
        replicas: 1,
        image: "redis:7.4",
        cpu: "500m",
        mem: "2Gi",
        leak: false,
    },
    App {
        ns: "data",
        name: "postgres",
        replicas: 1,
        image: "postgres:17",
        cpu: "1",
        mem: "4Gi",
        leak: false,
    },
];

/// Seeds a workload cluster once its control plane is up.
pub fn seed(store: &Store, cluster: &Value) {
    let annotations = &cluster["metadata"]["annotations"];
    let scale = annotations[WORKLOAD_SCALE_ANNOTATION]
        .as_str()
        .and_then(|s| s.parse::<u32>().ok())
        .unwrap_or(1)
        .min(1000);
    for ns in ["shop", "payments", "data"] {
        let _ = store.create(
            id::W_NAMESPACES,
            json!({"metadata": {"name": ns}, "status": {"phase": "Active"}}),
        );
    }
    // kube-proxy runs on every node, as kubeadm installs it.
    let version = cluster["spec"]["topology"]["version"]
        .as_str()
        .unwrap_or("v1.33.0");
    let _ = store.create(
        id::DAEMON_SETS,
        json!({"metadata": {"name": "kube-proxy", "namespace": "kube-system", "labels": {"k8s-app": "kube-proxy"}},
            "spec": {"selector": {"matchLabels": {"k8s-app": "kube-proxy"}},
                "template": {"metadata": {"labels": {"k8s-app": "kube-proxy"}},
                    "spec": {"priorityClassName": "system-node-critical", "tolerations": [{"operator": "Exists"}],
                        "containers": [{"name": "kube-proxy", "image": format!("registry.k8s.io/kube-proxy:{version}"),
                            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}}}}),
    );
    for app in SYSTEM {
        let _ = store.create(id::DEPLOYMENTS, app.deployment(app.replicas, true));
    }
    for app in APPS {
        let replicas = app.replicas * scale;
        let _ = store.create(id::DEPLOYMENTS, app.deployment(replicas, false));
    }
    if let Some((ns, name)) = annotations[BLOCKING_PDB_ANNOTATION]
        .as_str()
        .and_then(|s| s.split_once('/'))
    {
        let pdb = json!({"metadata": {"name": format!("{name}-pdb"), "namespace": ns},
            "spec": {"minAvailable": "100%", "selector": {"matchLabels": {"app": name}}}});
        let _ = store.create(id::PDBS, pdb);
    }
}
