//! Access: roles, actions and bindings (shared with the server's decision) and the Access page.

pub mod model;
mod page;

pub use page::AccessPage;

use leptos::prelude::*;

use crate::error::AppError;
use model::Principal;

/// Who is signed in (nobody: `None`), for the top bar and for hiding what a user may not do.
#[server(endpoint = "auth/whoami", input = leptos::server_fn::codec::GetUrl)]
pub async fn whoami() -> Result<Option<Principal>, AppError> {
    crate::backend::backend()?.current_user().await
}
