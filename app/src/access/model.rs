//! Roles, what each action needs, who is asking and what is bound: the vocabulary of authorization,
//! shared by the server (which decides) and the UI (which hides what a user may not do).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Portal roles, weakest first: each includes everything the ones before it may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Operator,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == value)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an action may be granted from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Seeing lists: a role on any cluster (or globally) lets you in; lists show what you may see.
    Anywhere,
    /// On one cluster: a global binding or one for that cluster.
    Cluster,
    /// Portal-wide: only a global binding.
    Global,
}

/// Everything a user can ask the portal to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    ViewClusters,
    ViewDashboards,
    /// Create, edit and delete team dashboards (they name clusters across the fleet).
    ManageDashboards,
    ViewActivity,
    ScalePool,
    StartUpgrade,
    PauseUpgrade,
    CreateCluster,
    DeleteCluster,
    /// Change a cluster's tags (they place it in fleet filters and team dashboards).
    EditTags,
    CreatePool,
    DeletePool,
    /// The cluster's admin kubeconfig: it carries the cluster's admin credentials.
    DownloadKubeconfig,
    ManageAccess,
}

impl Action {
    pub const ALL: [Action; 14] = [
        Action::ViewClusters,
        Action::ViewDashboards,
        Action::ManageDashboards,
        Action::ViewActivity,
        Action::ScalePool,
        Action::StartUpgrade,
        Action::PauseUpgrade,
        Action::CreateCluster,
        Action::DeleteCluster,
        Action::EditTags,
        Action::CreatePool,
        Action::DeletePool,
        Action::DownloadKubeconfig,
        Action::ManageAccess,
    ];

    /// The weakest role that may do this.
    pub fn needs(self) -> Role {
        match self {
            Action::ViewClusters | Action::ViewDashboards | Action::ViewActivity => Role::Viewer,
            Action::ScalePool
            | Action::StartUpgrade
            | Action::PauseUpgrade
            | Action::ManageDashboards => Role::Operator,
            Action::CreateCluster
            | Action::DeleteCluster
            | Action::EditTags
            | Action::CreatePool
            | Action::DeletePool
            | Action::DownloadKubeconfig
            | Action::ManageAccess => Role::Admin,
        }
    }

    pub fn reach(self) -> Reach {
        match self {
            Action::ViewClusters | Action::ViewDashboards | Action::ViewActivity => Reach::Anywhere,
            Action::ScalePool
            | Action::StartUpgrade
            | Action::PauseUpgrade
            | Action::DeleteCluster
            | Action::EditTags
            | Action::CreatePool
            | Action::DeletePool
            | Action::DownloadKubeconfig => Reach::Cluster,
            // A cluster that does not exist yet has no bindings; access is the portal's own. A
            // dashboard names clusters across the fleet.
            Action::CreateCluster | Action::ManageAccess | Action::ManageDashboards => {
                Reach::Global
            }
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::ViewClusters => "view-clusters",
            Action::ViewDashboards => "view-dashboards",
            Action::ManageDashboards => "manage-dashboards",
            Action::ViewActivity => "view-activity",
            Action::ScalePool => "scale-pool",
            Action::StartUpgrade => "start-upgrade",
            Action::PauseUpgrade => "pause-upgrade",
            Action::CreateCluster => "create-cluster",
            Action::DeleteCluster => "delete-cluster",
            Action::EditTags => "edit-tags",
            Action::CreatePool => "create-pool",
            Action::DeletePool => "delete-pool",
            Action::DownloadKubeconfig => "download-kubeconfig",
            Action::ManageAccess => "manage-access",
        }
    }
}

/// A cluster, as bindings and targets name it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ClusterRef {
    pub namespace: String,
    pub name: String,
}

impl ClusterRef {
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        ClusterRef {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// `<namespace>/<name>`.
    pub fn parse(value: &str) -> Option<ClusterRef> {
        let (ns, name) = value.split_once('/')?;
        (!ns.is_empty() && !name.is_empty() && !name.contains('/'))
            .then(|| ClusterRef::new(ns, name))
    }
}

impl fmt::Display for ClusterRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// What an action is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    /// The portal as a whole (lists, access, creating clusters).
    Portal,
    Cluster(ClusterRef),
}

/// The signed-in person, as the identity provider described them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub subject: String,
    pub name: String,
    pub groups: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubjectKind {
    Group,
    User,
}

impl SubjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Group => "group",
            SubjectKind::User => "user",
        }
    }

    pub fn parse(value: &str) -> Option<SubjectKind> {
        [SubjectKind::Group, SubjectKind::User]
            .into_iter()
            .find(|k| k.as_str() == value)
    }
}

/// A group or user bound to a role, globally (`cluster: None`) or on one cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    pub id: i64,
    pub kind: SubjectKind,
    pub subject: String,
    pub role: Role,
    pub cluster: Option<ClusterRef>,
    pub created_at_ms: i64,
    pub created_by: String,
}

impl Binding {
    /// Whether this binding is about `who`.
    pub fn applies_to(&self, who: &Principal) -> bool {
        match self.kind {
            SubjectKind::User => self.subject == who.subject,
            SubjectKind::Group => who.groups.contains(&self.subject),
        }
    }
}
