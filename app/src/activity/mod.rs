//! Activity: the audit log as the browser sees it, its server function and its page.

#[cfg(feature = "ssr")]
pub mod backend;
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
    /// What happened in words ("granted viewer to group payments-viewers, portal-wide").
    pub summary: String,
    /// The change's before and after (or what was asked for), as indented JSON, when there is one.
    pub details: Option<String>,
    /// The operation the change started, followed on its own page.
    #[serde(default)]
    pub operation: Option<String>,
    pub result: String,
    /// Why it was denied or failed.
    pub reason: Option<String>,
    pub request_id: String,
    pub client_addr: Option<String>,
}

/// The Activity filters as typed (empty: any). `from`/`to` are UTC dates (`2026-11-28`, `to`
/// inclusive) or times (`2026-11-28T14:30`); `before` is the cursor of the next page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ActivityFilter {
    pub actor: String,
    pub action: String,
    pub cluster: String,
    pub result: String,
    pub from: String,
    pub to: String,
    pub before: String,
}

/// One page of the log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityPage {
    pub entries: Vec<ActivityEntry>,
    /// The cursor of the next (older) page, if there is one.
    pub next: Option<String>,
    /// The filters as export query parameters (`actor=…&from=<ms>…`), for the export links.
    pub export_query: String,
}

/// Entries per page.
pub const PAGE_SIZE: u32 = 50;

/// The audit log, filtered, a page at a time (viewers and up).
#[server(endpoint = "activity/search", input = leptos::server_fn::codec::GetUrl)]
pub async fn search_activity(
    #[server(default)] actor: String,
    #[server(default)] action: String,
    #[server(default)] cluster: String,
    #[server(default)] result: String,
    #[server(default)] from: String,
    #[server(default)] to: String,
    #[server(default)] before: String,
) -> Result<ActivityPage, AppError> {
    use crate::access::model::{Action, Target};
    let who = crate::backend::backend()?
        .authorize(Action::ViewActivity, Target::Portal)
        .await?;
    let filter = ActivityFilter {
        actor,
        action,
        cluster,
        result,
        from,
        to,
        before,
    };
    backend::activity()?
        .search_activity(&who, filter, PAGE_SIZE)
        .await
}
