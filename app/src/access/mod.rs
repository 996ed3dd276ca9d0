//! Access: roles, actions and bindings (shared with the server's decision) and the Access page.

pub mod model;
mod page;

pub use page::AccessPage;

use leptos::prelude::*;

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use model::{Action, Binding, Principal, Role};

/// What the signed-in person may do, as the Access page shows it to them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessSummary {
    pub principal: Principal,
    /// The bindings that apply to them (through one of their groups or their user).
    pub bindings: Vec<Binding>,
    /// Each action, the role it needs, and whether they may do it everywhere.
    pub actions: Vec<(Action, Role, bool)>,
}

/// The caller's own groups, bindings and permissions (any signed-in person may ask).
#[server(endpoint = "access/mine", input = leptos::server_fn::codec::GetUrl)]
pub async fn my_access() -> Result<AccessSummary, AppError> {
    crate::backend::backend()?.my_access().await
}

/// Who is signed in (nobody: `None`), for the top bar and for hiding what a user may not do.
#[server(endpoint = "auth/whoami", input = leptos::server_fn::codec::GetUrl)]
pub async fn whoami() -> Result<Option<Principal>, AppError> {
    crate::backend::backend()?.current_user().await
}
