//! The decision: every server function and state-changing route asks `may` before doing anything.

use app::access::model::{Action, Binding, ClusterRef, Principal, Reach, Role, Target};

/// The answer, with what a denial message needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    Denied {
        needed: Role,
        /// The caller's strongest role where it would count (none at all: `None`).
        had: Option<Role>,
    },
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        *self == Decision::Allowed
    }

    /// Why `action` was refused, in the words the audit log keeps; `None` when it was allowed.
    pub fn refusal(&self, action: Action) -> Option<String> {
        match self {
            Decision::Allowed => None,
            Decision::Denied { needed, had } => Some(format!(
                "{} needs the {needed} role; {}",
                action.as_str(),
                had.map(|r| format!("the caller is {r} there"))
                    .unwrap_or_else(|| "the caller has no role there".into())
            )),
        }
    }
}

/// The strongest role `who` holds for `target`, counting bindings with the given reach.
pub fn effective_role(
    who: &Principal,
    bindings: &[Binding],
    target: &Target,
    reach: Reach,
) -> Option<Role> {
    bindings
        .iter()
        .filter(|b| b.applies_to(who))
        .filter(|b| match (&b.cluster, reach, target) {
            (None, _, _) => true,
            (Some(_), Reach::Anywhere, _) => true,
            (Some(c), Reach::Cluster, Target::Cluster(t)) => c == t,
            _ => false,
        })
        .map(|b| b.role)
        .max()
}

/// The clusters `who` may see: `None` means all of them (a portal-wide role); otherwise only the
/// clusters their bindings name (possibly none), sorted.
pub fn cluster_scope(who: &Principal, bindings: &[Binding]) -> Option<Vec<ClusterRef>> {
    if effective_role(who, bindings, &Target::Portal, Reach::Global).is_some() {
        return None;
    }
    let mut clusters: Vec<ClusterRef> = bindings
        .iter()
        .filter(|b| b.applies_to(who))
        .filter_map(|b| b.cluster.clone())
        .collect();
    clusters.sort();
    clusters.dedup();
    Some(clusters)
}

/// The audit entries `who` may read: `None` means all of them (a portal-wide role); otherwise only
/// the entries about the clusters their bindings name (`<namespace>/<name>`, possibly none).
pub fn activity_scope(who: &Principal, bindings: &[Binding]) -> Option<Vec<String>> {
    cluster_scope(who, bindings).map(|cs| cs.iter().map(ToString::to_string).collect())
}

/// May `who` do `action` on `target`, given every role binding?
pub fn may(who: &Principal, bindings: &[Binding], action: Action, target: &Target) -> Decision {
    let needed = action.needs();
    let had = effective_role(who, bindings, target, action.reach());
    if had.is_some_and(|r| r >= needed) {
        Decision::Allowed
    } else {
        Decision::Denied { needed, had }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::access::model::SubjectKind;

    fn binding(kind: SubjectKind, subject: &str, role: Role, cluster: Option<&str>) -> Binding {
        Binding {
            id: 0,
            kind,
            subject: subject.into(),
            role,
            cluster: cluster.and_then(ClusterRef::parse),
            created_at_ms: 0,
            created_by: "test".into(),
        }
    }

    fn person(subject: &str, groups: &[&str]) -> Principal {
        Principal {
            subject: subject.into(),
            name: subject.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }

    /// Each action × caller, on (the portal, cluster payments, cluster other): `Y` allowed, `.`
    /// refused. Written out by hand from the role model, not derived from `may`.
    #[rustfmt::skip]
    const EXPECTED: &[(Action, [&str; 6])] = &[
        // Columns: anonymous, viewer, operator, admin, payments-admin (admin of payments), carol (operator there).
        (Action::ViewClusters,    ["...", "YYY", "YYY", "YYY", "YYY", "YYY"]),
        (Action::ViewDashboards,  ["...", "YYY", "YYY", "YYY", "YYY", "YYY"]),
        (Action::ManageDashboards, ["...", "...", "YYY", "YYY", "...", "..."]),
        (Action::ViewActivity,    ["...", "YYY", "YYY", "YYY", "YYY", "YYY"]),
        (Action::ScalePool,       ["...", "...", "YYY", "YYY", ".Y.", ".Y."]),
        (Action::StartUpgrade,    ["...", "...", "YYY", "YYY", ".Y.", ".Y."]),
        (Action::PauseUpgrade,    ["...", "...", "YYY", "YYY", ".Y.", ".Y."]),
        (Action::CreateCluster,   ["...", "...", "...", "YYY", "...", "..."]),
        (Action::DeleteCluster,   ["...", "...", "...", "YYY", ".Y.", "..."]),
        (Action::EditTags,        ["...", "...", "...", "YYY", ".Y.", "..."]),
        (Action::CreatePool,      ["...", "...", "...", "YYY", ".Y.", "..."]),
        (Action::DeletePool,      ["...", "...", "...", "YYY", ".Y.", "..."]),
        (Action::DownloadKubeconfig, ["...", "...", "...", "YYY", ".Y.", "..."]),
        (Action::ManageAccess,    ["...", "...", "...", "YYY", "...", "..."]),
    ];

    #[test]
    fn every_action_against_every_kind_of_caller() {
        let bindings = vec![
            binding(SubjectKind::Group, "viewers", Role::Viewer, None),
            binding(SubjectKind::Group, "ops", Role::Operator, None),
            binding(SubjectKind::Group, "admins", Role::Admin, None),
            binding(
                SubjectKind::Group,
                "payments-admins",
                Role::Admin,
                Some("default/payments"),
            ),
            binding(
                SubjectKind::User,
                "carol",
                Role::Operator,
                Some("default/payments"),
            ),
        ];
        let targets = [
            Target::Portal,
            Target::Cluster(ClusterRef::new("default", "payments")),
            Target::Cluster(ClusterRef::new("default", "other")),
        ];
        let callers = [
            person("anon", &[]),
            person("v", &["viewers"]),
            person("o", &["ops", "viewers"]),
            person("a", &["admins"]),
            person("p", &["payments-admins"]),
            person("carol", &[]),
        ];
        assert_eq!(EXPECTED.len(), Action::ALL.len(), "every action has a row");
        for (action, row) in EXPECTED {
            for (caller, expected) in callers.iter().zip(row) {
                let got: String = targets
                    .iter()
                    .map(|t| {
                        if may(caller, &bindings, *action, t).is_allowed() {
                            'Y'
                        } else {
                            '.'
                        }
                    })
                    .collect();
                assert_eq!(
                    got,
                    *expected,
                    "{} by {} on portal/payments/other",
                    action.as_str(),
                    caller.subject
                );
            }
        }
    }

    #[test]
    fn the_activity_log_is_scoped_to_the_clusters_people_hold_roles_on() {
        let bindings = vec![
            binding(SubjectKind::Group, "viewers", Role::Viewer, None),
            binding(
                SubjectKind::Group,
                "pay",
                Role::Admin,
                Some("default/payments"),
            ),
            binding(
                SubjectKind::Group,
                "pay2",
                Role::Viewer,
                Some("default/payments"),
            ),
            binding(SubjectKind::User, "carol", Role::Viewer, Some("team/a")),
        ];
        assert_eq!(
            activity_scope(&person("v", &["viewers", "pay"]), &bindings),
            None
        );
        assert_eq!(
            activity_scope(&person("carol", &["pay", "pay2"]), &bindings),
            Some(vec!["default/payments".to_string(), "team/a".to_string()])
        );
        assert_eq!(
            activity_scope(&person("nobody", &[]), &bindings),
            Some(Vec::new())
        );
    }

    #[test]
    fn a_denial_says_which_role_was_needed() {
        let bindings = vec![binding(SubjectKind::Group, "viewers", Role::Viewer, None)];
        let d = may(
            &person("v", &["viewers"]),
            &bindings,
            Action::ScalePool,
            &Target::Cluster(ClusterRef::new("default", "x")),
        );
        assert_eq!(
            d,
            Decision::Denied {
                needed: Role::Operator,
                had: Some(Role::Viewer)
            }
        );
    }
}
