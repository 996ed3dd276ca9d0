//! Kubernetes versions: what a ClusterClass offers and which of them a cluster may move to.

use std::fmt;

use kube::api::Api;

use super::resources::{Cluster, ClusterClass};
use super::{FleetError, Management, within};

/// A Kubernetes release, `vMAJOR.MINOR.PATCH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Version {
    /// `v1.33.5` or `1.33.5`; anything else (pre-releases included) is `None`.
    pub fn parse(text: &str) -> Option<Version> {
        let mut parts = text.strip_prefix('v').unwrap_or(text).split('.');
        let mut next = || parts.next()?.parse::<u32>().ok();
        let version = Version {
            major: next()?,
            minor: next()?,
            patch: next()?,
        };
        parts.next().is_none().then_some(version)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The ClusterClass a cluster's topology names, or `None` without a topology or such a class.
pub async fn class_of(
    management: &Management,
    cluster: &Cluster,
) -> Result<Option<ClusterClass>, FleetError> {
    let Some((namespace, name)) = cluster.class_ref() else {
        return Ok(None);
    };
    let api: Api<ClusterClass> = Api::namespaced(management.client(), &namespace);
    within(
        &format!("read ClusterClass {namespace}/{name}"),
        api.get_opt(&name),
    )
    .await
}

/// The versions a class offers, oldest first; entries that are not versions are left out.
pub fn offered(class: &ClusterClass) -> Vec<Version> {
    let mut versions: Vec<Version> = class
        .spec
        .kubernetes_versions
        .iter()
        .filter_map(|v| Version::parse(v))
        .collect();
    versions.sort();
    versions.dedup();
    versions
}

/// Where a cluster on `current` may go: newer patches of its minor and versions of the next
/// minor, never further (Kubernetes supports upgrading one minor at a time).
pub fn upgrades(current: Version, offered: &[Version]) -> Vec<Version> {
    offered
        .iter()
        .copied()
        .filter(|v| {
            v > &current
                && v.major == current.major
                && (v.minor == current.minor || v.minor == current.minor + 1)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{Version, upgrades};

    fn v(text: &str) -> Version {
        Version::parse(text).expect("a version")
    }

    #[test]
    fn versions_parse_with_or_without_the_v() {
        assert_eq!(
            Version::parse("v1.33.5"),
            Some(Version {
                major: 1,
                minor: 33,
                patch: 5
            })
        );
        assert_eq!(
            Version::parse("1.9.10").map(|v| v.to_string()).as_deref(),
            Some("v1.9.10")
        );
        for bad in ["", "v1.33", "v1.33.5-rc.1", "v1.33.5.1", "latest", "v1.x.0"] {
            assert_eq!(Version::parse(bad), None, "{bad}");
        }
        assert!(v("v1.33.10") > v("v1.33.9"), "patches compare as numbers");
    }

    #[test]
    fn upgrades_are_newer_patches_and_the_next_minor_only() {
        let offered = [
            "v1.31.9", "v1.32.6", "v1.32.7", "v1.33.4", "v1.33.5", "v1.34.2",
        ]
        .map(v);
        let shown = |from: &str| -> Vec<String> {
            upgrades(v(from), &offered)
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        assert_eq!(shown("v1.32.6"), ["v1.32.7", "v1.33.4", "v1.33.5"]);
        assert_eq!(shown("v1.33.5"), ["v1.34.2"]);
        assert_eq!(shown("v1.34.2"), Vec::<String>::new());
        assert_eq!(shown("v1.30.0"), ["v1.31.9"]);
    }
}
