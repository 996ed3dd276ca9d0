//! The development sign-in: a few seeded identities for `make run` without an identity provider.
//! Enabled only when no issuer is configured and the portal listens on loopback.

use app::access::model::Principal;

use crate::access::bindings::{self, BindingError, NewBinding};
use crate::store::Db;

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
        groups: &["prod-weu-admins", "developers"],
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

/// Binds each identity's first group to its role, so the seeded people can do what they say.
pub async fn ensure_bindings(db: &Db) -> Result<(), BindingError> {
    for i in IDENTITIES {
        let b = NewBinding::parse(
            "group",
            i.groups[0],
            i.role,
            i.cluster,
            "development sign-in",
        )?;
        match bindings::add(db, &b).await {
            Ok(_) | Err(BindingError::Duplicate) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
