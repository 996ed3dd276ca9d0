//! Activity: the audit log as the browser sees it, its server function and its page.

mod page;

pub use page::ActivityPage;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// One line of the audit log: who did what to which target, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityEntry {
    pub id: i64,
    /// RFC 3339, UTC.
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub result: String,
    pub request_id: String,
}

/// How many entries the page shows until paging and filters arrive with the audit-log issue.
pub const PAGE_SIZE: u32 = 50;

#[server(endpoint = "activity/recent", input = leptos::server_fn::codec::GetUrl)]
pub async fn recent_activity() -> Result<Vec<ActivityEntry>, AppError> {
    use crate::access::model::{Action, Target};
    let backend = crate::backend::backend()?;
    backend
        .authorize(Action::ViewActivity, Target::Portal)
        .await?;
    backend.recent_activity(PAGE_SIZE).await
}
