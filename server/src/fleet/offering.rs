//! What a ClusterClass offers new clusters, read from its versions, variable schemas and
//! annotations (Cluster API has no fields for prices and limits).

use app::clusters::wizard::offering::{Limits, Offering, VersionChoice, VmSize};
use serde::Deserialize;
use serde_json::Value;

use super::pools::VM_SIZES_ANNOTATION;
use super::resources::ClusterClass;
use super::versions::{Version, offered};

/// The class annotation with its limits (JSON: maxNodesPerPool, maxPools, controlPlaneReplicas).
pub const LIMITS_ANNOTATION: &str = "portolan.dev/limits";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SizeEntry {
    name: String,
    #[serde(default)]
    family: String,
    #[serde(default)]
    vcpu: u32,
    #[serde(default, rename = "memoryGiB")]
    memory_gib: u32,
    #[serde(default)]
    gpu: u32,
    #[serde(default)]
    price_per_hour: f64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LimitsEntry {
    max_nodes_per_pool: Option<u32>,
    max_pools: Option<u32>,
    control_plane_replicas: Option<Vec<u32>>,
}

/// The newest patch of each minor, newest first, badged "Latest" and (the oldest) "Ends soon".
pub fn newest_patches(all: &[Version]) -> Vec<VersionChoice> {
    let mut newest: Vec<Version> = Vec::new();
    for v in all.iter().rev() {
        if !newest
            .iter()
            .any(|n| n.major == v.major && n.minor == v.minor)
        {
            newest.push(*v);
        }
    }
    let last = newest.len().saturating_sub(1);
    newest
        .iter()
        .enumerate()
        .map(|(i, v)| VersionChoice {
            version: v.to_string(),
            badge: if i == 0 {
                Some("Latest".into())
            } else if i == last {
                Some("Ends soon".into())
            } else {
                None
            },
        })
        .collect()
}

/// The `enum` of the class variable `name`'s schema (or of its items, for a list).
fn choices(class: &ClusterClass, name: &str) -> (Vec<String>, Option<String>) {
    let Some(var) = class.spec.variables.iter().find(|v| v.name == name) else {
        return (Vec::new(), None);
    };
    let schema = &var.schema["openAPIV3Schema"];
    let list = if schema["enum"].is_array() {
        &schema["enum"]
    } else {
        &schema["items"]["enum"]
    };
    let values = list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(String::from)
        .collect();
    (values, schema["default"].as_str().map(String::from))
}

/// What `class` offers, with the team `namespaces` new clusters may go in.
pub fn offering(class: &ClusterClass, namespaces: Vec<String>) -> Offering {
    let annotation = |key: &str| {
        class
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(key))
            .cloned()
            .unwrap_or_default()
    };
    let (size_names, _) = choices(class, "vmSize");
    let vm_sizes: Vec<VmSize> =
        serde_json::from_str::<Vec<SizeEntry>>(&annotation(VM_SIZES_ANNOTATION))
            .unwrap_or_default()
            .into_iter()
            // Only sizes the variable's schema allows: the annotation only describes them.
            .filter(|s| size_names.is_empty() || size_names.contains(&s.name))
            .map(|s| VmSize {
                name: s.name,
                family: s.family,
                vcpu: s.vcpu,
                memory_gib: s.memory_gib,
                gpu: s.gpu,
                price_per_hour: s.price_per_hour,
            })
            .collect();
    let defaults = Limits::default();
    let limits = serde_json::from_str::<LimitsEntry>(&annotation(LIMITS_ANNOTATION))
        .map(|l| Limits {
            max_nodes_per_pool: l.max_nodes_per_pool.unwrap_or(defaults.max_nodes_per_pool),
            max_pools: l.max_pools.unwrap_or(defaults.max_pools),
            control_plane_replicas: l
                .control_plane_replicas
                .unwrap_or(defaults.control_plane_replicas.clone()),
        })
        .unwrap_or(defaults);
    let (os_images, default_os_image) = choices(class, "osImage");
    let worker_class = class
        .spec
        .rest
        .get("workers")
        .and_then(|w| w["machineDeployments"][0]["class"].as_str())
        .unwrap_or_default()
        .to_string();
    Offering {
        class_namespace: class.metadata.namespace.clone().unwrap_or_default(),
        class_name: class.metadata.name.clone().unwrap_or_default(),
        worker_class,
        namespaces,
        regions: choices(class, "region").0,
        versions: newest_patches(&offered(class)),
        vm_sizes,
        default_os_image: default_os_image
            .or_else(|| os_images.first().cloned())
            .unwrap_or_default(),
        os_images,
        zones: choices(class, "zones").0,
        limits,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_patch_of_each_minor_newest_first_with_badges() {
        let all: Vec<Version> = ["v1.31.0", "v1.31.8", "v1.32.7", "v1.32.3", "v1.33.5"]
            .iter()
            .filter_map(|v| Version::parse(v))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let shown: Vec<(String, Option<String>)> = newest_patches(&all)
            .into_iter()
            .map(|c| (c.version, c.badge))
            .collect();
        assert_eq!(
            shown,
            [
                ("v1.33.5".to_string(), Some("Latest".to_string())),
                ("v1.32.7".to_string(), None),
                ("v1.31.8".to_string(), Some("Ends soon".to_string())),
            ]
        );
    }

    #[test]
    fn the_seeded_class_offers_its_sizes_regions_images_and_limits() {
        let class: ClusterClass =
            serde_json::from_value(kubesim::catalog::cluster_class("default")).expect("class");
        let o = offering(&class, vec!["default".into()]);
        assert_eq!(o.class_name, "managed-k8s");
        assert_eq!(o.worker_class, "default-worker");
        assert_eq!(o.versions.len(), 4);
        assert_eq!(o.versions[0].version, "v1.34.2");
        assert_eq!(o.versions[3].version, "v1.31.8");
        assert_eq!(o.regions.first().map(String::as_str), Some("westeurope"));
        assert_eq!(o.zones, ["1", "2", "3"]);
        assert_eq!(o.default_os_image, "ubuntu-24.04");
        let gpu = o.vm_size("Standard_NC4as_T4_v3").expect("a GPU size");
        assert_eq!((gpu.vcpu, gpu.memory_gib, gpu.gpu), (4, 28, 1));
        assert_eq!(gpu.price_per_hour, 0.526);
        assert_eq!(o.limits.max_nodes_per_pool, 1000);
        assert_eq!(o.limits.control_plane_replicas, [1, 3, 5]);
    }
}
