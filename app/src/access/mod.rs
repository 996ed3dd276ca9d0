//! Access: roles, actions and bindings (shared with the server's decision) and the Access page.

#[cfg(feature = "ssr")]
pub mod backend;
pub mod model;
mod page;

pub use page::AccessPage;

use leptos::prelude::*;

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use model::{Action, Binding, ClusterRef, Principal, Role};

/// What the signed-in person may do, as the Access page shows it to them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessSummary {
    pub principal: Principal,
    /// The bindings that apply to them (through one of their groups or their user).
    pub bindings: Vec<Binding>,
    /// Each action, the role it needs, and whether they may do it everywhere.
    pub actions: Vec<(Action, Role, bool)>,
    /// Who the management cluster takes the portal's calls for them to be, and whether that is
    /// them (impersonation) or the portal's own account; `Err` says why it is not known.
    pub acting_as: Result<(String, Vec<String>, bool), String>,
}

/// The caller's own groups, bindings and permissions (any signed-in person may ask).
#[server(endpoint = "access/mine", input = leptos::server_fn::codec::GetUrl)]
pub async fn my_access() -> Result<AccessSummary, AppError> {
    let who = crate::backend::backend()?
        .current_user()
        .await?
        .ok_or(AppError::Unauthenticated)?;
    backend::access()?.my_access(&who).await
}

/// Who is signed in (nobody: `None`), for the top bar and for hiding what a user may not do.
#[server(endpoint = "auth/whoami", input = leptos::server_fn::codec::GetUrl)]
pub async fn whoami() -> Result<Option<Principal>, AppError> {
    crate::backend::backend()?.current_user().await
}

/// Every role binding and the clusters a binding can name, for administrators.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessOverview {
    pub bindings: Vec<Binding>,
    pub clusters: Vec<ClusterRef>,
    /// Why the cluster list is missing (the management cluster did not answer), if it is.
    pub clusters_unavailable: Option<String>,
}

/// What a group or user may do in one place: portal-wide (`scope: None`) or on one cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeAccess {
    pub scope: Option<ClusterRef>,
    pub role: Option<Role>,
    pub allowed: Vec<Action>,
}

/// The access simulator's answer: who was asked about, the bindings that apply, and per place.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Simulation {
    pub principal: Principal,
    pub bindings: Vec<Binding>,
    pub scopes: Vec<ScopeAccess>,
}

/// All bindings and the clusters (admins only: it shows who may do what).
#[server(endpoint = "access/bindings", input = leptos::server_fn::codec::GetUrl)]
pub async fn list_bindings() -> Result<AccessOverview, AppError> {
    use model::Target;
    let who = crate::backend::backend()?
        .authorize(Action::ManageAccess, Target::Portal)
        .await?;
    backend::access()?.access_overview(&who).await
}

/// Binds a group or user to a role, everywhere (`cluster` empty) or on `<namespace>/<name>`.
#[server(endpoint = "access/bindings/add")]
pub async fn add_binding(
    kind: String,
    subject: String,
    role: String,
    cluster: String,
) -> Result<Binding, AppError> {
    use model::Target;
    let who = crate::backend::backend()?
        .authorize(Action::ManageAccess, Target::Portal)
        .await?;
    backend::access()?
        .add_binding(&who, &kind, &subject, &role, &cluster)
        .await
}

/// Removes a binding (not the last portal-wide admin binding: someone must be able to manage access).
#[server(endpoint = "access/bindings/remove")]
pub async fn remove_binding(id: i64) -> Result<(), AppError> {
    use model::Target;
    let who = crate::backend::backend()?
        .authorize(Action::ManageAccess, Target::Portal)
        .await?;
    backend::access()?.remove_binding(&who, id).await
}

/// "What can this group (or user) do?": effective roles and actions portal-wide and per cluster.
/// `groups` (comma-separated) are the user's groups when `kind` is `user`.
#[server(endpoint = "access/simulate", input = leptos::server_fn::codec::GetUrl)]
pub async fn simulate_access(
    kind: String,
    name: String,
    groups: String,
) -> Result<Simulation, AppError> {
    use model::Target;
    let who = crate::backend::backend()?
        .authorize(Action::ManageAccess, Target::Portal)
        .await?;
    backend::access()?
        .simulate_access(&who, &kind, &name, &groups)
        .await
}
