//! The decision: every server function and state-changing route asks `may` before doing anything.

use app::access::model::{Action, Binding, Principal, Reach, Role, Target};

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
    use app::access::model::{ClusterRef, SubjectKind};

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
        let payments = Target::Cluster(ClusterRef::new("default", "payments"));
        let other = Target::Cluster(ClusterRef::new("default", "other"));
        let callers = [
            ("anonymous", person("anon", &[])),
            ("viewer", person("v", &["viewers"])),
            ("operator", person("o", &["ops", "viewers"])),
            ("admin", person("a", &["admins"])),
            ("cluster admin", person("p", &["payments-admins"])),
            ("user binding", person("carol", &[])),
        ];
        for action in Action::ALL {
            for (who, p) in &callers {
                for (where_, target) in [
                    ("portal", &Target::Portal),
                    ("payments", &payments),
                    ("other", &other),
                ] {
                    let allowed = may(p, &bindings, action, target).is_allowed();
                    let global_role = match *who {
                        "viewer" => Some(Role::Viewer),
                        "operator" => Some(Role::Operator),
                        "admin" => Some(Role::Admin),
                        _ => None,
                    };
                    let scoped_role = match *who {
                        "cluster admin" => Some(Role::Admin),
                        "user binding" => Some(Role::Operator),
                        _ => None,
                    };
                    let counts = match (action.reach(), where_) {
                        (Reach::Anywhere, _) => global_role.max(scoped_role),
                        (Reach::Cluster, "payments") => global_role.max(scoped_role),
                        (Reach::Cluster, "other") => global_role,
                        (Reach::Cluster, _) => global_role,
                        (Reach::Global, _) => global_role,
                    };
                    let expected = counts.is_some_and(|r| r >= action.needs());
                    assert_eq!(allowed, expected, "{who} {} on {where_}", action.as_str());
                }
            }
        }
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
