//! The `Cluster` a wizard draft becomes: exactly what Create sends and "View as YAML" shows.

use app::clusters::tags;
use app::clusters::wizard::draft::{Draft, PoolDraft};
use app::clusters::wizard::offering::Offering;
use app::clusters::wizard::rules;
use serde_json::{Map, Value, json};

use super::pools::{AUTOSCALER_MAX, AUTOSCALER_MIN};
use super::resources::Cluster;
use super::rows::{REGION_LABEL, TAGS_ANNOTATION};

/// The annotation carrying the draft a cluster was created from (a second Create of the same
/// draft finds it).
pub const DRAFT_ANNOTATION: &str = "portolan.dev/wizard-draft";

fn var(name: &str, value: Value) -> Value {
    json!({"name": name, "value": value})
}

/// One pool of a Cluster's topology, as a draft that passed the rules describes it.
pub fn pool_entry(p: &PoolDraft, worker_class: &str) -> Value {
    let (count, bounds) = rules::counted(p);
    let mut overrides = vec![
        var("vmSize", json!(p.vm_size)),
        var("poolMode", json!(p.mode)),
        var("osImage", json!(p.os_image)),
    ];
    if !p.zones.is_empty() {
        overrides.push(var("zones", json!(p.zones)));
    }
    let labels: Map<String, Value> = rules::node_labels(&p.labels)
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    if !labels.is_empty() {
        overrides.push(var("nodeLabels", Value::Object(labels)));
    }
    let taints = rules::taints(&p.taints).unwrap_or_default();
    if !taints.is_empty() {
        overrides.push(var("nodeTaints", json!(taints)));
    }
    let mut pool = json!({"class": worker_class, "name": p.name, "replicas": count,
        "variables": {"overrides": overrides}});
    if let Some((min, max)) = bounds {
        pool["metadata"] = json!({"annotations": {
            AUTOSCALER_MIN: min.to_string(), AUTOSCALER_MAX: max.to_string()}});
    }
    pool
}

/// The Cluster for a draft that passed `rules::check_all` (unparsable numbers become 0; they
/// cannot reach here from a checked draft).
pub fn cluster(draft: &Draft, offering: &Offering) -> Result<Cluster, serde_json::Error> {
    let mut annotations = Map::new();
    if let Ok(pairs) = tags::parse(&draft.tags)
        && !pairs.is_empty()
    {
        let tags: Map<String, Value> = pairs
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        annotations.insert(
            TAGS_ANNOTATION.into(),
            Value::String(Value::Object(tags).to_string()),
        );
    }
    annotations.insert(DRAFT_ANNOTATION.into(), Value::String(draft.id.clone()));
    let pools: Vec<Value> = draft
        .pools
        .iter()
        .map(|p| pool_entry(p, &offering.worker_class))
        .collect();
    let mut zones: Vec<&String> = draft.pools.iter().flat_map(|p| &p.zones).collect();
    zones.sort();
    zones.dedup();
    let mut variables = vec![var("region", json!(draft.region))];
    if !zones.is_empty() {
        variables.push(var("zones", json!(zones)));
    }
    let value = json!({
        "apiVersion": "cluster.x-k8s.io/v1beta2",
        "kind": "Cluster",
        "metadata": {
            "name": draft.name,
            "namespace": draft.namespace,
            "labels": {REGION_LABEL: draft.region},
            "annotations": annotations,
        },
        "spec": {
            "clusterNetwork": {
                "pods": {"cidrBlocks": ["10.244.0.0/16"]},
                "services": {"cidrBlocks": ["10.96.0.0/12"]},
            },
            "topology": {
                "classRef": {"name": offering.class_name, "namespace": offering.class_namespace},
                "version": draft.version,
                "controlPlane": {"replicas": draft.control_plane.parse::<i64>().unwrap_or(0)},
                "variables": variables,
                "workers": {"machineDeployments": pools},
            },
        },
    });
    serde_json::from_value(value)
}

/// The YAML "View as YAML" shows, of exactly the object Create sends.
pub fn yaml(cluster: &Cluster) -> String {
    serde_yaml::to_string(cluster).unwrap_or_else(|e| format!("# cannot show as YAML: {e}\n"))
}
