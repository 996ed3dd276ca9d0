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

/// The version the control plane runs now: the oldest its status reports (one machine may lag
/// while it rolls out), or the topology's when the status says nothing.
pub fn control_plane_now(cluster: &Cluster) -> Option<Version> {
    let reported = cluster
        .status
        .as_ref()
        .and_then(|s| s.control_plane.as_ref())
        .and_then(|cp| cp.rest.get("versions"))
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .filter_map(|e| Version::parse(e["version"].as_str()?))
        .min();
    reported.or_else(|| Version::parse(&cluster.spec.topology.as_ref()?.version))
}

/// How many minors a pool may lag behind its control plane (AKS's rule).
pub const MAX_POOL_LAG: u32 = 2;

/// The version the control plane may go to from `current`, as typed in `to`, or why not.
pub fn target(current: Version, to: &str, offered: &[Version]) -> Result<Version, String> {
    let shown: String = to.trim().chars().take(40).collect();
    let Some(v) = Version::parse(to.trim()) else {
        return Err(format!(
            "\"{shown}\" is not a Kubernetes version such as v1.33.5"
        ));
    };
    if v == current {
        return Err(format!("the control plane runs {v} already"));
    }
    if v < current {
        return Err(format!(
            "{v} is older than the control plane's {current}: Kubernetes cannot be downgraded"
        ));
    }
    if v.major != current.major || v.minor > current.minor + 1 {
        return Err(format!(
            "{v} skips a minor version: upgrade one minor at a time, to v{}.{} first",
            current.major,
            current.minor + 1
        ));
    }
    if !offered.contains(&v) {
        let list: Vec<String> = upgrades(current, offered)
            .iter()
            .map(ToString::to_string)
            .collect();
        return Err(format!(
            "{v} is not offered by the cluster's ClusterClass (from {current} it offers {})",
            if list.is_empty() {
                "nothing newer".to_string()
            } else {
                list.join(", ")
            }
        ));
    }
    Ok(v)
}

/// What is wrong with a pool on `pool` while its control plane runs `control_plane`, if anything:
/// pools may not be newer, nor more than `MAX_POOL_LAG` minors older.
pub fn skew(name: &str, pool: Version, control_plane: Version) -> Option<String> {
    if pool > control_plane {
        return Some(format!(
            "pool {name} would run {pool}, newer than the control plane's {control_plane}"
        ));
    }
    let lag = control_plane.minor.saturating_sub(pool.minor);
    (pool.major != control_plane.major || lag > MAX_POOL_LAG).then(|| {
        format!(
            "pool {name} would stay on {pool}, {lag} minor versions behind the control plane's {control_plane} (at most {MAX_POOL_LAG} allowed): upgrade it with the control plane"
        )
    })
}

/// Offered versions newer than `current` that it may not go to yet, each with why.
pub fn later(current: Version, offered: &[Version]) -> Vec<(Version, String)> {
    let next = upgrades(current, offered);
    offered
        .iter()
        .filter(|v| **v > current && !next.contains(v))
        .map(|v| {
            (
                *v,
                format!(
                    "skips a minor version: upgrade to v{}.{} first",
                    current.major,
                    current.minor + 1
                ),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{Version, later, skew, target, upgrades};

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

    #[test]
    fn a_target_is_offered_newer_and_at_most_one_minor_on() {
        let offered = ["v1.32.7", "v1.33.0", "v1.33.5", "v1.34.2"].map(v);
        let from = v("v1.32.7");
        assert_eq!(target(from, " v1.33.5 ", &offered), Ok(v("v1.33.5")));
        assert_eq!(
            target(from, "v1.34.2", &offered),
            Err(
                "v1.34.2 skips a minor version: upgrade one minor at a time, to v1.33 first".into()
            )
        );
        assert_eq!(
            target(from, "v1.33.3", &offered),
            Err("v1.33.3 is not offered by the cluster's ClusterClass (from v1.32.7 it offers v1.33.0, v1.33.5)".into())
        );
        assert_eq!(
            target(from, "v1.31.0", &offered),
            Err("v1.31.0 is older than the control plane's v1.32.7: Kubernetes cannot be downgraded".into())
        );
        assert_eq!(
            target(from, "v1.32.7", &offered),
            Err("the control plane runs v1.32.7 already".into())
        );
        assert_eq!(
            target(from, "latest", &offered),
            Err("\"latest\" is not a Kubernetes version such as v1.33.5".into())
        );
        assert_eq!(
            target(from, "v2.0.0", &offered),
            Err("v2.0.0 skips a minor version: upgrade one minor at a time, to v1.33 first".into())
        );
    }

    #[test]
    fn pools_may_lag_two_minors_and_never_lead() {
        assert_eq!(skew("work", v("v1.31.8"), v("v1.33.5")), None);
        assert_eq!(
            skew("work", v("v1.31.8"), v("v1.34.2")),
            Some("pool work would stay on v1.31.8, 3 minor versions behind the control plane's v1.34.2 (at most 2 allowed): upgrade it with the control plane".into())
        );
        assert_eq!(
            skew("work", v("v1.34.0"), v("v1.33.5")),
            Some("pool work would run v1.34.0, newer than the control plane's v1.33.5".into())
        );
    }

    #[test]
    fn later_versions_say_which_minor_comes_first() {
        let offered = ["v1.32.7", "v1.33.5", "v1.34.2"].map(v);
        let shown: Vec<(String, String)> = later(v("v1.32.7"), &offered)
            .into_iter()
            .map(|(v, why)| (v.to_string(), why))
            .collect();
        assert_eq!(
            shown,
            [(
                "v1.34.2".to_string(),
                "skips a minor version: upgrade to v1.33 first".to_string()
            )]
        );
    }
}
