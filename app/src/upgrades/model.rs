//! Upgrades as pages show them: the versions a cluster runs, where it may go, and the preflight
//! of one choice (what it surges, what blocks its drains, skew, time and cost).

use serde::{Deserialize, Serialize};

use crate::clusters::model::ClusterHead;

/// What an upgrade moves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    /// The control plane, then every pool.
    All,
    /// The control plane; the pools are held where they are (`defer-upgrade`).
    ControlPlane,
    /// One pool, to the control plane's version.
    Pool(String),
}

impl Scope {
    /// As forms and addresses carry it: `all`, `control-plane`, `pool:<name>`.
    pub fn as_param(&self) -> String {
        match self {
            Scope::All => "all".into(),
            Scope::ControlPlane => "control-plane".into(),
            Scope::Pool(p) => format!("pool:{p}"),
        }
    }

    /// `None` for anything that is not one of `as_param`'s forms.
    pub fn parse(text: &str) -> Option<Scope> {
        match text.trim() {
            "all" => Some(Scope::All),
            "control-plane" => Some(Scope::ControlPlane),
            t => t
                .strip_prefix("pool:")
                .filter(|p| !p.is_empty())
                .map(|p| Scope::Pool(p.to_string())),
        }
    }

    /// The stored operation kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Scope::All => "upgrade-cluster",
            Scope::ControlPlane => "upgrade-control-plane",
            Scope::Pool(_) => "upgrade-pool",
        }
    }

    /// In words, for headings: "the control plane and all pools".
    pub fn words(&self) -> String {
        match self {
            Scope::All => "the control plane and all pools".into(),
            Scope::ControlPlane => "the control plane only (the pools stay where they are)".into(),
            Scope::Pool(p) => format!("pool {p}"),
        }
    }
}

/// One pool's version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolVersion {
    pub name: String,
    pub version: String,
    pub nodes: u32,
    /// Held back by `topology.cluster.x-k8s.io/defer-upgrade`.
    pub deferred: bool,
    /// Why it cannot be upgraded on its own now (none: it can).
    pub blocked: Option<String>,
}

/// A version the control plane could move to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionChoice {
    pub version: String,
    /// Why upgrading the control plane alone to it is not allowed (skew), if it is not.
    pub control_plane_only: Option<String>,
}

/// Where a cluster is and may go: the Overview's Versions section and the upgrade page's top.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Versions {
    /// The version the control plane runs now.
    pub control_plane: String,
    pub pools: Vec<PoolVersion>,
    /// Newer patches of its minor and versions of the next minor, oldest first.
    pub available: Vec<VersionChoice>,
    /// Offered versions it may not go to yet, with why ("skips v1.33").
    pub later: Vec<(String, String)>,
    /// Why no upgrade may start now (one is running, the cluster is not ready, no access).
    pub blocked: Option<String>,
    /// The upgrade running now, when the portal started it.
    pub running: Option<String>,
    /// May the caller start upgrades here (operators and up)?
    pub may_upgrade: bool,
}

/// A PodDisruptionBudget that allows no disruption now and the pods it covers on nodes that
/// would be drained.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockingBudget {
    /// `namespace/name`.
    pub name: String,
    /// `namespace/pod on node`.
    pub pods: Vec<String>,
}

/// One pool's part of an upgrade.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolPlan {
    pub name: String,
    pub from: String,
    /// Nodes replaced, one at a time after a surge node is Ready.
    pub nodes: u32,
    /// The VM size's price in millionths of a dollar per hour (0 when unknown).
    pub price_micros: u64,
}

/// What one upgrade would do, checked before it is confirmed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preflight {
    pub to: String,
    pub scope: Scope,
    /// Whether the control plane moves.
    pub control_plane: bool,
    pub pools: Vec<PoolPlan>,
    /// Extra nodes while it runs (one per pool being replaced).
    pub surge_nodes: u32,
    pub blocking: Vec<BlockingBudget>,
    /// Version skew that forbids this choice.
    pub skew: Vec<String>,
    /// Minutes it is expected to take.
    pub minutes: u32,
    /// What the surge nodes cost an hour and over the estimated time, in millionths of a dollar.
    pub surge_hourly_micros: u64,
    pub surge_total_micros: u64,
    /// When the workload cluster could not be asked about its budgets.
    pub unknown: Option<String>,
}

impl Preflight {
    /// Findings that need "Upgrade anyway".
    pub fn needs_confirming(&self) -> bool {
        !self.blocking.is_empty() || self.unknown.is_some()
    }
}

/// The upgrade page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpgradeView {
    pub head: ClusterHead,
    pub versions: Versions,
    /// The choice asked about in the address, checked.
    pub preflight: Option<Preflight>,
    /// Why the choice in the address cannot be made.
    pub refusal: Option<String>,
    /// The version and scope in the address (to keep the form as it was).
    pub to: String,
    pub scope: String,
    /// What the form saw (the topology version and the deferred pools): a change since is a 409.
    pub was: String,
    /// A fresh key: pressing the button twice starts one operation.
    pub key: String,
}

/// "$1.23" for millionths of a dollar.
pub fn dollars(micros: u64) -> String {
    let cents = (micros + 5_000) / 10_000;
    format!("${}.{:02}", cents / 100, cents % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_through_their_parameters() {
        for s in [Scope::All, Scope::ControlPlane, Scope::Pool("work".into())] {
            assert_eq!(Scope::parse(&s.as_param()), Some(s));
        }
        for bad in ["", "pool:", "everything", "ALL"] {
            assert_eq!(Scope::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn dollars_round_to_cents() {
        assert_eq!(dollars(0), "$0.00");
        assert_eq!(dollars(384_000), "$0.38");
        assert_eq!(dollars(1_234_567), "$1.23");
        assert_eq!(dollars(99_995_000), "$100.00");
    }
}
