//! JSON builders for what the simulation creates: conditions, events, machines, nodes, pods.

use std::collections::VecDeque;

use serde_json::{Map, Value, json};

use crate::catalog::{self, VmSize};
use crate::clock::timestamp;
use crate::noise::hash_str;
use crate::resources::id;
use crate::store::Store;

/// A v1beta2 condition (`reason` must be CamelCase, `message` may be empty).
pub fn cond(kind: &str, status: bool, reason: &str, message: impl Into<String>) -> Value {
    json!({"type": kind, "status": if status { "True" } else { "False" }, "reason": reason,
           "message": message.into(), "lastTransitionTime": ""})
}

/// Keeps `lastTransitionTime` of conditions whose status did not change.
pub fn conditions(old: &Value, new: Vec<Value>, generation: &Value) -> Value {
    let now = timestamp();
    let list: Vec<Value> = new
        .into_iter()
        .map(|mut c| {
            let prev = old
                .as_array()
                .into_iter()
                .flatten()
                .find(|o| o["type"] == c["type"]);
            c["lastTransitionTime"] = match prev {
                Some(p) if p["status"] == c["status"] => p["lastTransitionTime"].clone(),
                _ => json!(now),
            };
            if !generation.is_null() {
                c["observedGeneration"] = generation.clone();
            }
            c
        })
        .collect();
    Value::Array(list)
}

/// Records Kubernetes Events, keeping at most `CAP` per API (`CAP / 4` per workload cluster;
/// oldest dropped first), as an API server's event TTL would.
#[derive(Default)]
pub struct EventLog {
    keys: VecDeque<(String, String)>,
    seq: u64,
}

const CAP: usize = 1000;

impl EventLog {
    pub fn record(
        &mut self,
        store: &Store,
        involved: &Value,
        warning: bool,
        reason: &str,
        message: &str,
        component: &str,
    ) {
        let resource = if store.plane == crate::resources::Plane::Management {
            id::M_EVENTS
        } else {
            id::W_EVENTS
        };
        let meta = &involved["metadata"];
        let ns = meta["namespace"]
            .as_str()
            .filter(|s| !s.is_empty())
            .unwrap_or("default");
        self.seq += 1;
        let name = format!(
            "{}.{:016x}",
            meta["name"].as_str().unwrap_or("object"),
            hash_str(self.seq, reason) ^ self.seq
        );
        let now = timestamp();
        // Kubelets report Node events with the node's name as its uid; `kubectl describe` relies on it.
        let uid = if involved["kind"] == "Node" {
            meta["name"].clone()
        } else {
            meta["uid"].clone()
        };
        let event = json!({
            "metadata": {"name": name, "namespace": ns},
            "involvedObject": {"kind": involved["kind"], "apiVersion": involved["apiVersion"], "namespace": meta["namespace"],
                               "name": meta["name"], "uid": uid, "resourceVersion": meta["resourceVersion"]},
            "reason": reason, "message": message, "type": if warning { "Warning" } else { "Normal" },
            "source": {"component": component}, "reportingComponent": component, "reportingInstance": "kubesim",
            "firstTimestamp": now, "lastTimestamp": now, "count": 1,
            // As today's components record them (events.k8s.io requires it): microseconds.
            "eventTime": now.replace('Z', ".000000Z"),
        });
        if store.create(resource, event).is_ok() {
            self.keys.push_back((ns.to_string(), name));
        }
        let cap = if store.plane == crate::resources::Plane::Management {
            CAP
        } else {
            CAP / 4
        };
        while self.keys.len() > cap {
            if let Some((ns, name)) = self.keys.pop_front() {
                store.force_remove(resource, &ns, &name);
            }
        }
    }
}

/// Variables of a pool: the pool's override first, then the cluster's value.
pub fn variable<'a>(topology: &'a Value, pool: &'a Value, name: &str) -> Option<&'a Value> {
    let find = |list: &'a Value| {
        list.as_array()
            .into_iter()
            .flatten()
            .find(|v| v["name"] == name)
            .map(|v| &v["value"])
    };
    find(&pool["variables"]["overrides"]).or_else(|| find(&topology["variables"]))
}

/// What a pool's nodes look like, resolved from the ClusterClass variables.
pub struct PoolShape {
    pub size: &'static VmSize,
    pub region: String,
    pub mode: String,
    pub os_image: String,
    pub zones: Vec<String>,
    pub labels: Map<String, Value>,
    pub taints: Vec<Value>,
}

pub fn pool_shape(topology: &Value, pool: &Value) -> PoolShape {
    let text = |name: &str, default: &str| {
        variable(topology, pool, name)
            .and_then(Value::as_str)
            .unwrap_or(default)
            .to_string()
    };
    let size_name = text("vmSize", catalog::DEFAULT_VM_SIZE);
    let size = catalog::vm_size(&size_name)
        .or_else(|| catalog::vm_size(catalog::DEFAULT_VM_SIZE))
        .unwrap_or(&catalog::VM_SIZES[0]);
    let taints = variable(topology, pool, "nodeTaints")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|t| {
            let (kv, effect) = t.split_once(':')?;
            let (key, value) = kv.split_once('=').unwrap_or((kv, ""));
            Some(json!({"key": key, "value": value, "effect": effect}))
        })
        .collect();
    PoolShape {
        size,
        region: text("region", "westeurope"),
        mode: text("poolMode", "user"),
        os_image: text("osImage", "ubuntu-24.04"),
        zones: variable(topology, pool, "zones")
            .and_then(Value::as_array)
            .map(|z| {
                z.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default(),
        labels: variable(topology, pool, "nodeLabels")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
        taints,
    }
}

/// A deterministic private address for a node.
pub fn node_ip(seed: u64, node: &str) -> String {
    let h = hash_str(seed, node);
    format!("10.224.{}.{}", (h >> 8) % 250, h % 250 + 4)
}

fn os_name(image: &str) -> &'static str {
    match image {
        "ubuntu-22.04" => "Ubuntu 22.04.5 LTS",
        "azurelinux-3" => "Azure Linux 3.0",
        _ => "Ubuntu 24.04.2 LTS",
    }
}

pub struct NodeSpec<'a> {
    pub name: &'a str,
    pub machine: &'a str,
    pub cluster: &'a str,
    pub namespace: &'a str,
    pub pool: &'a str,
    pub version: &'a str,
    pub shape: &'a PoolShape,
    pub seed: u64,
}

pub fn node(n: &NodeSpec<'_>) -> Value {
    let s = n.shape.size;
    let h = hash_str(n.seed, n.name);
    let zone = if n.shape.zones.is_empty() {
        "0".to_string()
    } else {
        n.shape.zones[(h % n.shape.zones.len() as u64) as usize].clone()
    };
    let mut labels = json!({
        "kubernetes.io/hostname": n.name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
        "kubernetes.io/role": "agent", "node.kubernetes.io/instance-type": s.name,
        "topology.kubernetes.io/region": n.shape.region, "topology.kubernetes.io/zone": format!("{}-{zone}", n.shape.region),
        "kubernetes.azure.com/agentpool": n.pool, "kubernetes.azure.com/mode": n.shape.mode,
        "cluster.x-k8s.io/pool": n.pool,
    });
    for (k, v) in &n.shape.labels {
        labels[k] = v.clone();
    }
    let mem_ki = u64::from(s.memory_gib) * 1024 * 1024;
    let alloc_cpu = u64::from(s.vcpu) * 1000 - (60 + 20 * u64::from(s.vcpu));
    let alloc_mem = mem_ki * 9 / 10 - 750 * 1024;
    let mut capacity = json!({"cpu": s.vcpu.to_string(), "memory": format!("{mem_ki}Ki"), "pods": "110", "ephemeral-storage": "129886128Ki"});
    let mut allocatable = json!({"cpu": format!("{alloc_cpu}m"), "memory": format!("{alloc_mem}Ki"), "pods": "110", "ephemeral-storage": "119703055367"});
    if s.gpu > 0 {
        capacity["nvidia.com/gpu"] = json!(s.gpu.to_string());
        allocatable["nvidia.com/gpu"] = json!(s.gpu.to_string());
    }
    let mut spec = json!({"providerID": format!("kubesim://{}/{}/{}", n.namespace, n.cluster, n.name),
                          "podCIDR": format!("10.244.{}.0/24", h % 250)});
    if !n.shape.taints.is_empty() {
        spec["taints"] = json!(n.shape.taints);
    }
    let now = timestamp();
    let pressure = |t: &str, reason: &str| json!({"type": t, "status": "False", "reason": reason, "message": "", "lastHeartbeatTime": now, "lastTransitionTime": now});
    json!({
        "metadata": {"name": n.name, "labels": labels, "annotations": {
            "cluster.x-k8s.io/machine": n.machine, "cluster.x-k8s.io/cluster-name": n.cluster,
            "cluster.x-k8s.io/cluster-namespace": n.namespace}},
        "spec": spec,
        "status": {
            "capacity": capacity, "allocatable": allocatable,
            "conditions": [
                pressure("MemoryPressure", "KubeletHasSufficientMemory"),
                pressure("DiskPressure", "KubeletHasNoDiskPressure"),
                pressure("PIDPressure", "KubeletHasSufficientPID"),
                {"type": "Ready", "status": "False", "reason": "KubeletNotReady", "message": "container runtime network not ready: NetworkReady=false", "lastHeartbeatTime": now, "lastTransitionTime": now},
            ],
            "addresses": [{"type": "InternalIP", "address": node_ip(n.seed, n.name)}, {"type": "Hostname", "address": n.name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {"kubeletVersion": n.version, "kubeProxyVersion": n.version, "osImage": os_name(&n.shape.os_image),
                         "containerRuntimeVersion": "containerd://1.7.27", "kernelVersion": "6.8.0-1026-azure",
                         "operatingSystem": "linux", "architecture": "amd64",
                         "machineID": format!("{h:032x}"), "systemUUID": format!("{:032x}", h.rotate_left(17)), "bootID": format!("{:032x}", h.rotate_left(33))},
        }
    })
}

/// A pod of a Deployment (or the kube-proxy DaemonSet when `node` is given).
pub fn pod(
    name: &str,
    namespace: &str,
    template: &Value,
    owner_kind: &str,
    owner: &str,
    owner_uid: &Value,
    node: Option<&str>,
) -> Value {
    let mut meta = template["metadata"].clone();
    if !meta.is_object() {
        meta = json!({});
    }
    meta["name"] = json!(name);
    meta["namespace"] = json!(namespace);
    let api_version = "apps/v1";
    meta["ownerReferences"] = json!([{"apiVersion": api_version, "kind": owner_kind, "name": owner, "uid": owner_uid, "controller": true, "blockOwnerDeletion": true}]);
    let mut spec = template["spec"].clone();
    spec["schedulerName"] = json!("default-scheduler");
    spec["restartPolicy"] = json!("Always");
    spec["terminationGracePeriodSeconds"] = json!(30);
    spec["dnsPolicy"] = json!("ClusterFirst");
    if let Some(n) = node {
        spec["nodeName"] = json!(n);
    }
    json!({"metadata": meta, "spec": spec, "status": {"phase": "Pending", "qosClass": "Burstable"}})
}
