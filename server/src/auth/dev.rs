//! The development sign-in: a few seeded identities for `make run` without an identity provider.
//! Enabled only when no issuer is configured and the portal listens on loopback.

use app::access::model::{Binding, ClusterRef, Principal, Role, SubjectKind, Target};

use crate::access::bindings::{self, BindingError};
use crate::access::gate::target_text;
use crate::store::Db;
use crate::store::audit::{self, Change, Origin, Outcome};

/// A seeded identity: the form value, and who it signs in as.
pub struct Identity {
    pub key: &'static str,
    pub subject: &'static str,
    pub name: &'static str,
    pub groups: &'static [&'static str],
    pub role: &'static str,
    /// Where the role applies: `""` portal-wide, or a demo cluster `<namespace>/<name>`.
    pub cluster: &'static str,
}

pub const IDENTITIES: &[Identity] = &[
    Identity {
        key: "admin",
        subject: "dev-admin",
        name: "Ada Admin",
        groups: &["portolan-admins", "developers"],
        role: "admin",
        cluster: "",
    },
    Identity {
        key: "operator",
        subject: "dev-operator",
        name: "Otto Operator",
        groups: &["platform-operators", "developers"],
        role: "operator",
        cluster: "",
    },
    Identity {
        key: "viewer",
        subject: "dev-viewer",
        name: "Vera Viewer",
        groups: &["developers"],
        role: "viewer",
        cluster: "",
    },
    // An administrator of one cluster only, to show (and test) what a scoped binding allows.
    Identity {
        key: "cluster-admin",
        subject: "dev-cluster-admin",
        name: "Cora Cluster-Admin",
        // Not in `developers`: every role Cora has is on that one cluster.
        groups: &["prod-weu-admins"],
        role: "admin",
        cluster: "default/prod-weu",
    },
];

impl Identity {
    pub fn principal(&self) -> Principal {
        Principal {
            subject: self.subject.into(),
            name: self.name.into(),
            groups: self.groups.iter().map(|g| g.to_string()).collect(),
        }
    }
}

pub fn identity(key: &str) -> Option<&'static Identity> {
    IDENTITIES.iter().find(|i| i.key == key)
}

/// Who the development bindings say added them, in the Access page and the audit log.
pub const ADDED_BY: &str = "development sign-in (kept in memory, never stored)";
/// What earlier versions wrote into `created_by` when they stored these bindings in the database.
const STORED_BY: &str = "development sign-in";

/// Each identity's first group bound to its role, for as long as this process runs in development
/// mode. They live in memory only (ids below zero), so a database that later gets an identity
/// provider never hands a real group called `developers` a role.
pub fn bindings() -> Vec<Binding> {
    IDENTITIES
        .iter()
        .zip(1i64..)
        .map(|(i, n)| Binding {
            id: -n,
            kind: SubjectKind::Group,
            subject: i.groups[0].into(),
            role: Role::parse(i.role).unwrap_or(Role::Viewer),
            cluster: ClusterRef::parse(i.cluster),
            created_at_ms: 0,
            created_by: ADDED_BY.into(),
        })
        .collect()
}

/// Removes development bindings an earlier version stored in the database, recording each removal:
/// outside development mode they would give real groups of the same name a role.
pub async fn remove_stored_bindings(db: &Db) -> Result<Vec<Binding>, BindingError> {
    // Exactly the bindings those versions wrote: the marker alone could be an administrator's name.
    let development = bindings();
    let stale: Vec<Binding> = bindings::list(db)
        .await?
        .into_iter()
        .filter(|b| {
            b.created_by == STORED_BY
                && development.iter().any(|d| {
                    d.kind == b.kind
                        && d.subject == b.subject
                        && d.role == b.role
                        && d.cluster == b.cluster
                })
        })
        .collect();
    for b in &stale {
        bindings::remove(db, b.id).await?;
        let target = target_text(&b.cluster.clone().map_or(Target::Portal, Target::Cluster));
        let origin = Origin {
            subject: "portolan",
            name: "Portolan (start-up)",
            groups: &[],
            request_id: "start-up",
            client_addr: None,
        };
        let change = Change::accepted("revoke-role", &target, serde_json::json!({"before": b}));
        let reason = "development sign-in bindings never outlive development mode";
        audit::record(db, &origin, change.ended(Outcome::Accepted, reason)).await?;
    }
    Ok(stale)
}
