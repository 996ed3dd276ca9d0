//! A cluster's health in one word and a reason, from its Cluster API conditions and its nodes.

use app::clusters::model::{Health, HealthState};

use super::resources::Cluster;

/// What the portal sees of a workload cluster's nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodesSeen {
    /// Not known yet (no kubeconfig Secret, or the first list has not arrived).
    Unknown,
    /// The workload API cannot be reached; why.
    Unreachable(String),
    Counted {
        ready: u32,
        total: u32,
    },
}

/// The health shown for `cluster`. The first that applies wins: Deleting, Failed, Provisioning
/// (the control plane is not available yet), Unreachable, Upgrading (rolling out), Scaling,
/// Degraded (nodes NotReady, or Cluster API says not available), Healthy.
pub fn health(cluster: &Cluster, nodes: &NodesSeen) -> HealthState {
    let state = |health: Health, reason: String| HealthState { health, reason };
    let phase = cluster
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("");
    let message = |type_: &str| {
        cluster
            .condition(type_)
            .and_then(|c| c.message.clone())
            .filter(|m| !m.is_empty())
    };
    let is_true = |type_: &str| cluster.condition(type_).is_some_and(|c| c.status == "True");
    let is_false = |type_: &str| {
        cluster
            .condition(type_)
            .is_some_and(|c| c.status == "False")
    };
    let not_ready = match nodes {
        NodesSeen::Counted { ready, total } if ready < total => {
            Some(format!("{} of {total} nodes NotReady", total - ready))
        }
        _ => None,
    };
    let with_nodes = |reason: String| match &not_ready {
        Some(n) => format!("{reason}; {n}"),
        None => reason,
    };

    if cluster.metadata.deletion_timestamp.is_some() || phase == "Deleting" {
        let why = message("Deleting").unwrap_or_else(|| "Removing its machines".into());
        return state(Health::Deleting, why);
    }
    if phase == "Failed" {
        let why = message("Available")
            .map(|m| format!("Cluster API reports it failed: {m}"))
            .unwrap_or_else(|| "Cluster API reports it failed".into());
        return state(Health::Failed, why);
    }
    if !is_true("ControlPlaneAvailable") || matches!(phase, "Pending" | "Provisioning") {
        let why = message("ControlPlaneAvailable")
            .or_else(|| message("Available"))
            .unwrap_or_else(|| "The control plane is being created".into());
        return state(Health::Provisioning, why);
    }
    if let NodesSeen::Unreachable(why) = nodes {
        return state(Health::Unreachable, why.clone());
    }
    if is_true("RollingOut") {
        let why = message("RollingOut").unwrap_or_else(|| "Rolling out a new version".into());
        return state(Health::Upgrading, with_nodes(why));
    }
    if is_true("ScalingUp") || is_true("ScalingDown") {
        let why = message("ScalingUp")
            .or_else(|| message("ScalingDown"))
            .unwrap_or_else(|| "Changing the number of nodes".into());
        return state(Health::Scaling, with_nodes(why));
    }
    if let Some(n) = not_ready {
        return state(Health::Degraded, n);
    }
    if is_false("Available") {
        let why =
            message("Available").unwrap_or_else(|| "Cluster API reports it not available".into());
        return state(Health::Degraded, why);
    }
    let why = match nodes {
        NodesSeen::Counted { total, .. } if *total == 1 => "The node is Ready".to_string(),
        NodesSeen::Counted { total, .. } => format!("All {total} nodes Ready"),
        _ => "Cluster API reports it available".to_string(),
    };
    state(Health::Healthy, why)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A Cluster with the given phase and `(type, status, message)` conditions.
    fn cluster(phase: &str, conditions: &[(&str, &str, &str)], deleting: bool) -> Cluster {
        let mut metadata = json!({"name": "c", "namespace": "default"});
        if deleting {
            metadata["deletionTimestamp"] = json!("2026-12-01T10:00:00Z");
        }
        let conditions: Vec<_> = conditions
            .iter()
            .map(|(t, s, m)| json!({"type": t, "status": s, "message": m}))
            .collect();
        serde_json::from_value(json!({
            "metadata": metadata,
            "spec": {},
            "status": {"phase": phase, "conditions": conditions}
        }))
        .expect("a cluster")
    }

    const UP: (&str, &str, &str) = ("ControlPlaneAvailable", "True", "");
    const AVAILABLE: (&str, &str, &str) = ("Available", "True", "");

    fn counted(ready: u32, total: u32) -> NodesSeen {
        NodesSeen::Counted { ready, total }
    }

    fn shown(c: &Cluster, nodes: NodesSeen) -> (Health, String) {
        let h = health(c, &nodes);
        (h.health, h.reason)
    }

    #[test]
    fn a_running_cluster_with_every_node_ready_is_healthy() {
        let c = cluster("Provisioned", &[UP, AVAILABLE], false);
        assert_eq!(
            shown(&c, counted(5, 5)),
            (Health::Healthy, "All 5 nodes Ready".into())
        );
        assert_eq!(
            shown(&c, NodesSeen::Unknown),
            (Health::Healthy, "Cluster API reports it available".into())
        );
    }

    #[test]
    fn not_ready_nodes_make_it_degraded_with_the_count() {
        let c = cluster("Provisioned", &[UP, AVAILABLE], false);
        assert_eq!(
            shown(&c, counted(3, 5)),
            (Health::Degraded, "2 of 5 nodes NotReady".into())
        );
        let c = cluster(
            "Provisioned",
            &[
                UP,
                ("Available", "False", "1 of 3 worker replicas are ready"),
            ],
            false,
        );
        assert_eq!(
            shown(&c, counted(3, 3)),
            (Health::Degraded, "1 of 3 worker replicas are ready".into())
        );
    }

    #[test]
    fn each_state_wins_over_the_ones_after_it() {
        let rolling = (
            "RollingOut",
            "True",
            "Control plane rolling out v1.34.2 (from v1.33.5)",
        );
        let scaling = (
            "ScalingUp",
            "True",
            "Scaling up workers to 4 replicas (actual 3)",
        );
        let c = cluster("Provisioned", &[UP, rolling, scaling], false);
        assert_eq!(
            shown(&c, counted(4, 5)),
            (
                Health::Upgrading,
                "Control plane rolling out v1.34.2 (from v1.33.5); 1 of 5 nodes NotReady".into()
            )
        );
        let c = cluster("Provisioned", &[UP, scaling], false);
        assert_eq!(
            shown(&c, counted(3, 3)),
            (
                Health::Scaling,
                "Scaling up workers to 4 replicas (actual 3)".into()
            )
        );
        assert_eq!(
            shown(
                &c,
                NodesSeen::Unreachable("its Secret c-kubeconfig is missing".into())
            ),
            (
                Health::Unreachable,
                "its Secret c-kubeconfig is missing".into()
            )
        );
        let c = cluster(
            "Provisioning",
            &[(
                "ControlPlaneAvailable",
                "False",
                "Control plane is being created",
            )],
            false,
        );
        assert_eq!(
            shown(&c, NodesSeen::Unreachable("no API yet".into())),
            (
                Health::Provisioning,
                "Control plane is being created".into()
            )
        );
        let c = cluster(
            "Failed",
            &[UP, ("Available", "False", "quota exceeded")],
            false,
        );
        assert_eq!(
            shown(&c, counted(1, 1)),
            (
                Health::Failed,
                "Cluster API reports it failed: quota exceeded".into()
            )
        );
        let c = cluster("Failed", &[UP], true);
        assert_eq!(
            shown(&c, counted(1, 1)),
            (Health::Deleting, "Removing its machines".into())
        );
    }
}
