//! "What may this group or user do?": the simulator's rules, and a person's own view of their access.

use app::access::model::{
    Action, Binding, ClusterRef, Principal, Reach, Role, SubjectKind, Target,
};
use app::access::{ScopeAccess, Simulation};

use super::{effective_role, may};

/// Who the simulator is asked about: a group, or a user with comma-separated groups.
pub fn subject(kind: &str, name: &str, groups: &str) -> Result<Principal, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("name a group or a user to see what they may do".into());
    }
    match SubjectKind::parse(kind.trim()) {
        Some(SubjectKind::Group) => Ok(Principal {
            subject: String::new(),
            name: format!("members of {name}"),
            groups: vec![name.to_string()],
        }),
        Some(SubjectKind::User) => Ok(Principal {
            subject: name.to_string(),
            name: name.to_string(),
            groups: groups
                .split(',')
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .map(str::to_string)
                .collect(),
        }),
        None => Err(format!(
            "\"{kind}\" is not a subject kind; use group or user"
        )),
    }
}

/// What `principal` may do portal-wide and on each of `clusters`, and the bindings that say so.
pub fn simulate(principal: Principal, all: &[Binding], clusters: Vec<ClusterRef>) -> Simulation {
    let mut scopes = vec![scope_access(&principal, all, None)];
    scopes.extend(
        clusters
            .into_iter()
            .map(|c| scope_access(&principal, all, Some(c))),
    );
    let bindings = all
        .iter()
        .filter(|b| b.applies_to(&principal))
        .cloned()
        .collect();
    Simulation {
        principal,
        bindings,
        scopes,
    }
}

/// Each action, the role it needs, and whether `who` may do it everywhere (the Access page's
/// "what you may do").
pub fn actions_everywhere(who: &Principal, bindings: &[Binding]) -> Vec<(Action, Role, bool)> {
    Action::ALL
        .into_iter()
        .map(|a| {
            (
                a,
                a.needs(),
                may(who, bindings, a, &Target::Portal).is_allowed(),
            )
        })
        .collect()
}

/// What `who` may do portal-wide (`None`) or on one cluster. On a cluster, seeing counts only
/// through a binding that reaches that cluster: the lists show a cluster to those who have a role
/// on it.
fn scope_access(who: &Principal, bindings: &[Binding], scope: Option<ClusterRef>) -> ScopeAccess {
    let (role, allowed) = match &scope {
        None => (
            effective_role(who, bindings, &Target::Portal, Reach::Global),
            Action::ALL
                .into_iter()
                .filter(|a| a.reach() != Reach::Cluster)
                .filter(|a| may(who, bindings, *a, &Target::Portal).is_allowed())
                .collect(),
        ),
        Some(c) => {
            let role = effective_role(who, bindings, &Target::Cluster(c.clone()), Reach::Cluster);
            (
                role,
                Action::ALL
                    .into_iter()
                    .filter(|a| a.reach() != Reach::Global)
                    .filter(|a| role.is_some_and(|r| r >= a.needs()))
                    .collect(),
            )
        }
    };
    ScopeAccess {
        scope,
        role,
        allowed,
    }
}
