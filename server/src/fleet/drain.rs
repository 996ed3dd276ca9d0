//! What scaling a pool down would disrupt: the pods on the nodes that go, whether they fit on the
//! nodes that stay, and the PodDisruptionBudgets that would block their eviction.

use std::collections::{BTreeSet, HashMap};

use app::clusters::model::Shrink;
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::nodes::Load;
use super::quantity::{bytes, millicores};

/// One node as a place pods could move to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Room {
    pub name: String,
    /// Its pool (empty when not known).
    pub pool: String,
    pub cpu_free_m: i64,
    pub memory_free: i64,
    /// Taken out of scheduling (cordoned) or tainted NoSchedule/NoExecute.
    pub closed: bool,
}

/// A node's room, given what the pods on it request.
pub fn room(node: &Node, pool: &str, load: Option<&Load>) -> Room {
    let allocatable = node.status.as_ref().and_then(|s| s.allocatable.as_ref());
    let alloc = |k: &str, parse: fn(&str) -> Option<u64>| {
        allocatable
            .and_then(|a| a.get(k))
            .and_then(|q| parse(&q.0))
            .unwrap_or(0) as i64
    };
    let load = load.copied().unwrap_or_default();
    let spec = node.spec.as_ref();
    let closed = spec.and_then(|s| s.unschedulable) == Some(true)
        || spec.and_then(|s| s.taints.as_ref()).is_some_and(|t| {
            t.iter()
                .any(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
        });
    Room {
        name: node.metadata.name.clone().unwrap_or_default(),
        pool: pool.to_string(),
        cpu_free_m: alloc("cpu", millicores) - load.cpu_m as i64,
        memory_free: alloc("memory", bytes) - load.memory as i64,
        closed,
    }
}

/// The label selector of a PodDisruptionBudget as list-call text (`app=ledger,tier in (a,b)`);
/// `None` when it selects nothing.
pub fn selector_text(selector: &LabelSelector) -> Option<String> {
    let mut parts: Vec<String> = selector
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for e in selector.match_expressions.iter().flatten() {
        let values = e.values.clone().unwrap_or_default().join(",");
        parts.push(match e.operator.as_str() {
            "In" => format!("{} in ({values})", e.key),
            "NotIn" => format!("{} notin ({values})", e.key),
            "Exists" => e.key.clone(),
            "DoesNotExist" => format!("!{}", e.key),
            _ => return None,
        });
    }
    (!parts.is_empty()).then(|| parts.join(","))
}

/// Budgets that allow no disruption now, as `namespace/name`.
pub fn blocking(pdbs: &[PodDisruptionBudget]) -> Vec<&PodDisruptionBudget> {
    pdbs.iter()
        .filter(|p| {
            p.status
                .as_ref()
                .is_some_and(|s| s.disruptions_allowed == 0)
        })
        .collect()
}

/// For every count below `nodes.len()`: the pods that would move off the nodes that go (`nodes`
/// newest first: they go first), whether the staying nodes have room for their requests, and
/// which blocking budgets cover them. `moving` holds each node's pods that would move
/// (DaemonSet pods go with their node); `blocked` each node's blocking budgets.
pub fn shrinks(
    nodes: &[String],
    moving: &HashMap<String, Load>,
    rooms: &[Room],
    blocked: &HashMap<String, BTreeSet<String>>,
) -> Vec<Shrink> {
    let count = nodes.len();
    (0..count)
        .map(|to| {
            let going = &nodes[..count - to];
            let load = going.iter().fold(Load::default(), |mut sum, n| {
                if let Some(l) = moving.get(n) {
                    sum.cpu_m += l.cpu_m;
                    sum.memory += l.memory;
                    sum.pods += l.pods;
                }
                sum
            });
            // Pods land on staying nodes that are open to them: not cordoned, not tainted.
            let (cpu, memory) = rooms
                .iter()
                .filter(|r| !going.contains(&r.name) && !r.closed)
                .fold((0i64, 0i64), |(c, m), r| {
                    (c + r.cpu_free_m.max(0), m + r.memory_free.max(0))
                });
            let blocked_by: BTreeSet<String> = going
                .iter()
                .filter_map(|n| blocked.get(n))
                .flatten()
                .cloned()
                .collect();
            Shrink {
                to: to as u32,
                pods: load.pods,
                fits: load.cpu_m as i64 <= cpu && load.memory as i64 <= memory,
                blocked_by: blocked_by.into_iter().collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(name: &str, pool: &str, cpu: i64, memory: i64, closed: bool) -> Room {
        Room {
            name: name.into(),
            pool: pool.into(),
            cpu_free_m: cpu,
            memory_free: memory,
            closed,
        }
    }

    #[test]
    fn the_newest_nodes_go_first_and_their_pods_must_fit_on_open_staying_nodes() {
        let nodes = vec!["n3".to_string(), "n2".into(), "n1".into()];
        let moving = HashMap::from([
            (
                "n3".to_string(),
                Load {
                    cpu_m: 500,
                    memory: 100,
                    pods: 2,
                },
            ),
            (
                "n2".to_string(),
                Load {
                    cpu_m: 1500,
                    memory: 100,
                    pods: 3,
                },
            ),
            (
                "n1".to_string(),
                Load {
                    cpu_m: 100,
                    memory: 100,
                    pods: 1,
                },
            ),
        ]);
        let rooms = vec![
            room("n1", "apps", 1000, 1000, false),
            room("n2", "apps", 800, 1000, false),
            room("n3", "apps", 0, 0, false),
            room("gpu1", "gpu", 9000, 9000, true),
        ];
        let blocked = HashMap::from([(
            "n2".to_string(),
            BTreeSet::from(["payments/ledger-pdb".to_string()]),
        )]);
        let s = shrinks(&nodes, &moving, &rooms, &blocked);
        assert_eq!(
            s,
            vec![
                Shrink {
                    to: 0,
                    pods: 6,
                    fits: false,
                    blocked_by: vec!["payments/ledger-pdb".into()]
                },
                // n3 and n2 go: 2000 m must fit in n1's 1000 m.
                Shrink {
                    to: 1,
                    pods: 5,
                    fits: false,
                    blocked_by: vec!["payments/ledger-pdb".into()]
                },
                // Only n3 goes: 500 m fit in n1 and n2 (1800 m).
                Shrink {
                    to: 2,
                    pods: 2,
                    fits: true,
                    blocked_by: vec![]
                },
            ]
        );
    }

    #[test]
    fn selectors_become_list_call_text() {
        let s: LabelSelector = serde_json::from_value(serde_json::json!({
            "matchLabels": {"app": "ledger"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]},
                                 {"key": "canary", "operator": "DoesNotExist"}]
        }))
        .unwrap_or_default();
        assert_eq!(
            selector_text(&s).as_deref(),
            Some("app=ledger,tier in (a,b),!canary")
        );
        assert_eq!(selector_text(&LabelSelector::default()), None);
    }
}
