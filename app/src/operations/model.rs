//! Operations as pages show them: one row per change the portal made, with its progress and steps.

use serde::{Deserialize, Serialize};

/// Where an operation is: still followed, or how it ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpStatus {
    Running,
    Succeeded,
    Failed,
    /// A later change to the same target replaced what this one asked for.
    Superseded,
}

impl OpStatus {
    pub const ALL: [OpStatus; 4] = [
        OpStatus::Running,
        OpStatus::Succeeded,
        OpStatus::Failed,
        OpStatus::Superseded,
    ];

    /// The stored and addressed name (`running`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            OpStatus::Running => "running",
            OpStatus::Succeeded => "succeeded",
            OpStatus::Failed => "failed",
            OpStatus::Superseded => "superseded",
        }
    }

    pub fn parse(s: &str) -> Option<OpStatus> {
        OpStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            OpStatus::Running => "Running",
            OpStatus::Succeeded => "Succeeded",
            OpStatus::Failed => "Failed",
            OpStatus::Superseded => "Superseded",
        }
    }
}

/// One step of an operation: a node joining or leaving, a setting taking effect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpStep {
    /// What it is about ("node prod-apps-7", "pool apps").
    pub subject: String,
    /// "Provisioning", "Joining", "Ready", "Draining", "Removed", …
    pub state: String,
    /// More words, when there is something to say ("blocked by PodDisruptionBudget payments/ledger-pdb").
    pub detail: String,
    /// When it took this state (milliseconds since the epoch; 0: not known).
    #[serde(default)]
    pub since_ms: i64,
}

/// One operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationRow {
    pub id: String,
    /// `scale-pool`, `autoscale-pool`.
    pub kind: String,
    /// In words: "Scale pool apps from 3 to 5 nodes".
    pub what: String,
    pub namespace: String,
    pub name: String,
    pub who: String,
    pub status: OpStatus,
    /// RFC 3339, UTC.
    pub started: String,
    pub ended: Option<String>,
    /// "1 min 20 s" (until now while running).
    pub elapsed: String,
    pub done: u32,
    pub total: u32,
    /// Where it is now, or how it ended, or what blocks it and what to do.
    pub message: String,
    pub steps: Vec<OpStep>,
    /// The time the steps' durations run to: now, or when it ended (milliseconds since the epoch).
    pub as_of_ms: i64,
}

/// The Operations filters as typed (empty: any).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OpQuery {
    pub status: String,
    /// `namespace/name`.
    pub cluster: String,
    pub kind: String,
}

/// The Operations page: the newest operations the caller may see, filtered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationsView {
    pub rows: Vec<OperationRow>,
    pub query: OpQuery,
    /// Whether any shown is still running (the page then follows them).
    pub running: bool,
}

/// The operation kinds there are, as filters offer them.
pub const KINDS: [(&str, &str); 7] = [
    ("scale-pool", "Scale pool"),
    ("autoscale-pool", "Autoscale pool"),
    ("add-pool", "Add pool"),
    ("delete-pool", "Delete pool"),
    ("upgrade-cluster", "Upgrade cluster"),
    ("upgrade-control-plane", "Upgrade control plane"),
    ("upgrade-pool", "Upgrade pool"),
];

/// How many operations a page lists.
pub const PAGE_SIZE: u32 = 100;

/// "42 s", "3 min 5 s", "2 h 10 min" for a duration in milliseconds.
pub fn elapsed(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_the_largest_units() {
        assert_eq!(elapsed(0), "0 s");
        assert_eq!(elapsed(59_999), "59 s");
        assert_eq!(elapsed(185_000), "3 min 5 s");
        assert_eq!(elapsed(7_800_000), "2 h 10 min");
        assert_eq!(elapsed(-5), "0 s");
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for s in OpStatus::ALL {
            assert_eq!(OpStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(OpStatus::parse("done"), None);
    }
}
