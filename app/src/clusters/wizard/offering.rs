//! What a ClusterClass offers the wizard: namespaces, regions, versions, VM sizes, images, limits.

use serde::{Deserialize, Serialize};

/// A VM size and what it costs (from the class's `portolan.dev/vm-sizes` annotation).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VmSize {
    pub name: String,
    pub family: String,
    pub vcpu: u32,
    pub memory_gib: u32,
    pub gpu: u32,
    pub price_per_hour: f64,
}

impl VmSize {
    /// "Standard_D4s_v5 — 4 vCPU, 16 GiB, $0.192/h", GPU sizes marked.
    pub fn label(&self) -> String {
        let gpu = if self.gpu > 0 {
            format!(", {} GPU", self.gpu)
        } else {
            String::new()
        };
        format!(
            "{} — {} vCPU, {} GiB{gpu}, ${:.3}/h",
            self.name, self.vcpu, self.memory_gib, self.price_per_hour
        )
    }
}

/// A Kubernetes version offered for new clusters: the newest patch of its minor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionChoice {
    pub version: String,
    /// "Latest" for the newest, "Ends soon" for the oldest minor still offered.
    pub badge: Option<String>,
}

/// The class's limits (its `portolan.dev/limits` annotation, or these defaults without one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub max_nodes_per_pool: u32,
    pub max_pools: u32,
    pub control_plane_replicas: Vec<u32>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_nodes_per_pool: 1000,
            max_pools: 100,
            control_plane_replicas: vec![1, 3, 5],
        }
    }
}

/// Everything the wizard may choose from; the server builds it from the ClusterClass watch.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Offering {
    pub class_namespace: String,
    pub class_name: String,
    /// The class's MachineDeployment class every pool uses.
    pub worker_class: String,
    /// Team namespaces on the management cluster (never `kube-*`).
    pub namespaces: Vec<String>,
    pub regions: Vec<String>,
    /// Newest first.
    pub versions: Vec<VersionChoice>,
    pub vm_sizes: Vec<VmSize>,
    pub os_images: Vec<String>,
    pub default_os_image: String,
    pub zones: Vec<String>,
    pub limits: Limits,
}

impl Offering {
    pub fn vm_size(&self, name: &str) -> Option<&VmSize> {
        self.vm_sizes.iter().find(|s| s.name == name)
    }

    /// The newest version offered, the wizard's default.
    pub fn newest(&self) -> Option<&str> {
        self.versions.first().map(|v| v.version.as_str())
    }

    /// `name` when offered, else the first size offered.
    pub fn size_or(&self, name: &str) -> String {
        self.vm_size(name)
            .or_else(|| self.vm_sizes.first())
            .map(|s| s.name.clone())
            .unwrap_or_default()
    }
}
