//! An audit entry in words: what was changed, for whom, and where ("granted viewer to group
//! payments-viewers, portal-wide"), as the Activity page and both exports show it.

use serde_json::Value;

use super::audit::{Entry, Outcome};

/// `portal-wide` or `on <namespace>/<name>` for a binding's `cluster` field.
fn place(cluster: &Value) -> String {
    match cluster {
        Value::Object(c) => format!(
            "on {}/{}",
            c.get("namespace").and_then(Value::as_str).unwrap_or("?"),
            c.get("name").and_then(Value::as_str).unwrap_or("?")
        ),
        Value::String(c) if !c.is_empty() => format!("on {c}"),
        _ => "portal-wide".into(),
    }
}

/// `group payments-viewers` for a binding (stored or as asked for).
fn subject(b: &Value) -> String {
    format!(
        "{} {}",
        b["kind"].as_str().unwrap_or("group"),
        b["subject"].as_str().unwrap_or("?")
    )
}

/// `namespace/name` of an entry about a cluster (its target without `cluster/`).
fn cluster_of(e: &Entry) -> &str {
    e.entry
        .target
        .strip_prefix("cluster/")
        .unwrap_or(&e.entry.target)
}

fn role(b: &Value) -> &str {
    b["role"].as_str().unwrap_or("?")
}

/// What the entry says happened, in one sentence without the actor (shown beside it).
pub fn summary(e: &Entry) -> String {
    let p = &e.entry.parameters;
    let accepted = e.entry.outcome == Outcome::Accepted;
    let tried = if accepted { "" } else { "tried to " };
    match e.entry.action.as_str() {
        "grant-role" => {
            let b = if p["after"].is_object() {
                &p["after"]
            } else {
                p
            };
            format!(
                "{}{} {} to {}, {}",
                tried,
                if accepted { "granted" } else { "grant" },
                role(b),
                subject(b),
                place(&b["cluster"])
            )
        }
        "revoke-role" => {
            let b = &p["before"];
            let what = match place(&b["cluster"]).strip_prefix("on ") {
                Some(cluster) => format!("{} of {cluster}", role(b)),
                None => format!("portal-wide {}", role(b)),
            };
            format!(
                "{}{} {what} from {}",
                tried,
                if accepted { "removed" } else { "remove" },
                subject(b)
            )
        }
        "sign-in" => {
            let method = p["method"].as_str().unwrap_or("unknown");
            match e.entry.outcome {
                Outcome::Accepted => format!(
                    "signed in ({method}) with groups {}",
                    if e.entry.actor_groups.is_empty() {
                        "none".to_string()
                    } else {
                        e.entry.actor_groups.join(", ")
                    }
                ),
                Outcome::Denied => format!("sign-in refused ({method})"),
                Outcome::Failed => format!("sign-in failed ({method})"),
            }
        }
        "sign-out" => "signed out".into(),
        "create-dashboard" | "change-dashboard" | "delete-dashboard" => {
            let verb = match (e.entry.action.as_str(), accepted) {
                ("create-dashboard", true) => "created",
                ("create-dashboard", false) => "create",
                ("change-dashboard", true) => "changed",
                ("change-dashboard", false) => "change",
                (_, true) => "deleted",
                (_, false) => "delete",
            };
            format!(
                "{tried}{verb} dashboard \"{}\" ({})",
                p["name"].as_str().unwrap_or("?"),
                e.entry.target
            )
        }
        "edit-tags" => {
            let list = |v: &Value| {
                let tags: Vec<&str> = v
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                if tags.is_empty() {
                    "none".to_string()
                } else {
                    tags.join(", ")
                }
            };
            let cluster = cluster_of(e);
            if accepted {
                format!(
                    "changed the tags of {cluster} from {} to {}",
                    list(&p["before"]),
                    list(&p["after"])
                )
            } else {
                format!("tried to change the tags of {cluster}")
            }
        }
        "create-cluster" | "delete-cluster" if e.entry.outcome != Outcome::Denied => {
            let cluster = cluster_of(e);
            let creating = e.entry.action == "create-cluster";
            match (creating, accepted) {
                (true, true) => {
                    let topology = &p["after"]["spec"]["topology"];
                    let pools = topology["workers"]["machineDeployments"]
                        .as_array()
                        .map_or(0, Vec::len);
                    format!(
                        "created cluster {cluster} (Kubernetes {}, {pools} node pool{})",
                        topology["version"].as_str().unwrap_or("?"),
                        if pools == 1 { "" } else { "s" }
                    )
                }
                (true, false) => format!(
                    "tried to create cluster {cluster}: {}",
                    e.entry.reason.as_deref().unwrap_or("refused")
                ),
                (false, true) => format!("deleted cluster {cluster}"),
                (false, false) => format!(
                    "tried to delete cluster {cluster}: {}",
                    e.entry.reason.as_deref().unwrap_or("refused")
                ),
            }
        }
        "scale-pool" | "autoscale-pool" if e.entry.outcome != Outcome::Denied => {
            let cluster = cluster_of(e);
            let pool = p["pool"].as_str().unwrap_or("?");
            let sizing = |v: &Value| match v.as_str().unwrap_or("?") {
                s if s.starts_with("auto:") => {
                    format!(
                        "autoscaling {}",
                        s.trim_start_matches("auto:").replace('-', "–")
                    )
                }
                "1" => "1 node".to_string(),
                s => format!("{s} nodes"),
            };
            if accepted {
                format!(
                    "changed pool {pool} of {cluster} from {} to {}",
                    sizing(&p["before"]),
                    sizing(&p["after"])
                )
            } else {
                format!(
                    "tried to change pool {pool} of {cluster}: {}",
                    e.entry.reason.as_deref().unwrap_or("refused")
                )
            }
        }
        "upgrade-cluster" | "upgrade-control-plane" | "upgrade-pool"
            if e.entry.outcome != Outcome::Denied =>
        {
            let cluster = cluster_of(e);
            let what = match (e.entry.action.as_str(), p["scope"].as_str()) {
                ("upgrade-pool", Some(scope)) => scope.replace(':', " "),
                ("upgrade-control-plane", _) => "the control plane only".to_string(),
                _ => "the control plane and all pools".to_string(),
            };
            let to = p["to"].as_str().unwrap_or("?");
            if accepted {
                format!("upgraded {what} of {cluster} to {to}")
            } else {
                format!(
                    "tried to upgrade {cluster} to {to}: {}",
                    e.entry.reason.as_deref().unwrap_or("refused")
                )
            }
        }
        "add-pool" | "delete-pool" if e.entry.outcome != Outcome::Denied => {
            let cluster = cluster_of(e);
            let pool = p["pool"].as_str().unwrap_or("?");
            let (verb, done) = if e.entry.action == "add-pool" {
                ("add", "added")
            } else {
                ("delete", "deleted")
            };
            if accepted {
                format!("{done} pool {pool} of {cluster}")
            } else {
                format!(
                    "tried to {verb} pool {pool} of {cluster}: {}",
                    e.entry.reason.as_deref().unwrap_or("refused")
                )
            }
        }
        "operation-ended" => {
            let cluster = cluster_of(e);
            format!(
                "operation {} on {cluster} ended {}: {}",
                p["kind"].as_str().unwrap_or("?"),
                p["status"].as_str().unwrap_or("?"),
                p["message"].as_str().unwrap_or("")
            )
        }
        action => {
            let target = if e.entry.target == "portal" {
                "the portal".to_string()
            } else {
                e.entry.target.clone()
            };
            match e.entry.outcome {
                Outcome::Denied => format!("was refused {action} on {target}"),
                Outcome::Failed => format!("{action} on {target} failed"),
                Outcome::Accepted => format!("{action} on {target}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::audit::NewEntry;
    use serde_json::json;

    fn entry(action: &str, outcome: Outcome, parameters: Value) -> Entry {
        Entry {
            id: 1,
            concerns: None,
            entry: NewEntry {
                at_ms: 0,
                actor_subject: "dana".into(),
                actor_name: "Dana Root".into(),
                actor_groups: vec!["admins".into(), "ops".into()],
                action: action.into(),
                target: "cluster/default/prod-weu".into(),
                parameters,
                outcome,
                reason: None,
                request_id: "r".into(),
                client_addr: None,
            },
        }
    }

    #[test]
    fn pool_changes_and_operation_ends_read_as_sentences() {
        assert_eq!(
            summary(&entry(
                "scale-pool",
                Outcome::Accepted,
                json!({"pool": "apps", "before": "3", "after": "1", "operation": "o-1"})
            )),
            "changed pool apps of default/prod-weu from 3 nodes to 1 node"
        );
        assert_eq!(
            summary(&entry(
                "autoscale-pool",
                Outcome::Accepted,
                json!({"pool": "apps", "before": "3", "after": "auto:2-6"})
            )),
            "changed pool apps of default/prod-weu from 3 nodes to autoscaling 2–6"
        );
        let mut refused = entry("scale-pool", Outcome::Failed, json!({"pool": "apps"}));
        refused.entry.reason = Some("the node count cannot be negative (it was -1)".into());
        assert_eq!(
            summary(&refused),
            "tried to change pool apps of default/prod-weu: the node count cannot be negative (it was -1)"
        );
        assert_eq!(
            summary(&entry(
                "operation-ended",
                Outcome::Accepted,
                json!({"kind": "scale-pool", "status": "succeeded", "message": "pool apps: all 5 nodes Ready"})
            )),
            "operation scale-pool on default/prod-weu ended succeeded: pool apps: all 5 nodes Ready"
        );
    }

    #[test]
    fn upgrades_and_pools_added_or_deleted_read_as_sentences() {
        assert_eq!(
            summary(&entry(
                "upgrade-cluster",
                Outcome::Accepted,
                json!({"to": "v1.34.2", "scope": "all"})
            )),
            "upgraded the control plane and all pools of default/prod-weu to v1.34.2"
        );
        assert_eq!(
            summary(&entry(
                "upgrade-pool",
                Outcome::Accepted,
                json!({"to": "v1.34.2", "scope": "pool:apps"})
            )),
            "upgraded pool apps of default/prod-weu to v1.34.2"
        );
        let mut refused = entry(
            "upgrade-control-plane",
            Outcome::Failed,
            json!({"to": "v1.36.0"}),
        );
        refused.entry.reason = Some("v1.36.0 skips a minor version".into());
        assert_eq!(
            summary(&refused),
            "tried to upgrade default/prod-weu to v1.36.0: v1.36.0 skips a minor version"
        );
        assert_eq!(
            summary(&entry(
                "add-pool",
                Outcome::Accepted,
                json!({"pool": "batch"})
            )),
            "added pool batch of default/prod-weu"
        );
        assert_eq!(
            summary(&entry(
                "delete-pool",
                Outcome::Accepted,
                json!({"pool": "batch"})
            )),
            "deleted pool batch of default/prod-weu"
        );
    }

    #[test]
    fn changes_read_as_sentences() {
        let grant = json!({"after": {"kind": "group", "subject": "payments-viewers", "role": "viewer", "cluster": null}});
        assert_eq!(
            summary(&entry("grant-role", Outcome::Accepted, grant)),
            "granted viewer to group payments-viewers, portal-wide"
        );
        let scoped = json!({"after": {"kind": "user", "subject": "ada", "role": "operator",
            "cluster": {"namespace": "default", "name": "prod-weu"}}});
        assert_eq!(
            summary(&entry("grant-role", Outcome::Accepted, scoped)),
            "granted operator to user ada, on default/prod-weu"
        );
        let asked =
            json!({"kind": "group", "subject": "x", "role": "admin", "cluster": "default/nope"});
        assert_eq!(
            summary(&entry("grant-role", Outcome::Failed, asked)),
            "tried to grant admin to group x, on default/nope"
        );
        let revoke = json!({"before": {"kind": "group", "subject": "x", "role": "admin",
            "cluster": {"namespace": "default", "name": "prod-weu"}}});
        assert_eq!(
            summary(&entry("revoke-role", Outcome::Accepted, revoke)),
            "removed admin of default/prod-weu from group x"
        );
        let last = json!({"before": {"kind": "group", "subject": "admins", "role": "admin", "cluster": null}});
        assert_eq!(
            summary(&entry("revoke-role", Outcome::Failed, last)),
            "tried to remove portal-wide admin from group admins"
        );
    }

    #[test]
    fn sign_ins_and_denials_read_as_sentences() {
        assert_eq!(
            summary(&entry(
                "sign-in",
                Outcome::Accepted,
                json!({"method": "oidc"})
            )),
            "signed in (oidc) with groups admins, ops"
        );
        assert_eq!(
            summary(&entry(
                "sign-in",
                Outcome::Denied,
                json!({"method": "oidc"})
            )),
            "sign-in refused (oidc)"
        );
        assert_eq!(
            summary(&entry("scale-pool", Outcome::Denied, json!({}))),
            "was refused scale-pool on cluster/default/prod-weu"
        );
    }

    #[test]
    fn tag_changes_say_before_and_after() {
        assert_eq!(
            summary(&entry(
                "edit-tags",
                Outcome::Accepted,
                json!({"before": ["team=shop"], "after": ["env=prod", "team=shop"]})
            )),
            "changed the tags of default/prod-weu from team=shop to env=prod, team=shop"
        );
        assert_eq!(
            summary(&entry(
                "edit-tags",
                Outcome::Accepted,
                json!({"before": [], "after": ["team=shop"]})
            )),
            "changed the tags of default/prod-weu from none to team=shop"
        );
        assert_eq!(
            summary(&entry("edit-tags", Outcome::Failed, json!({}))),
            "tried to change the tags of default/prod-weu"
        );
    }

    #[test]
    fn creations_and_deletions_name_the_cluster() {
        let created = json!({"after": {"spec": {"topology": {"version": "v1.34.2",
            "workers": {"machineDeployments": [{"name": "system"}, {"name": "apps"}]}}}}});
        assert_eq!(
            summary(&entry("create-cluster", Outcome::Accepted, created)),
            "created cluster default/prod-weu (Kubernetes v1.34.2, 2 node pools)"
        );
        let mut failed = entry("create-cluster", Outcome::Failed, json!({}));
        failed.entry.reason = Some("Cluster name is required.".into());
        assert_eq!(
            summary(&failed),
            "tried to create cluster default/prod-weu: Cluster name is required."
        );
        assert_eq!(
            summary(&entry("delete-cluster", Outcome::Accepted, json!({}))),
            "deleted cluster default/prod-weu"
        );
        assert_eq!(
            summary(&entry("create-cluster", Outcome::Denied, json!({}))),
            "was refused create-cluster on cluster/default/prod-weu"
        );
    }
}
