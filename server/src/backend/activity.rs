//! The activity topic: the audit log, filtered and scoped to what the caller may read.

use app::access::model::Principal;
use app::activity::backend::ActivityBackend;
use app::activity::{ActivityFilter, ActivityPage};
use app::error::AppError;

use super::PortalBackend;
use crate::access::activity_scope;
use crate::error::internal;
use crate::store::{audit, audit_filter, audit_view};

#[async_trait::async_trait]
impl ActivityBackend for PortalBackend {
    async fn search_activity(
        &self,
        by: &Principal,
        filter: ActivityFilter,
        limit: u32,
    ) -> Result<ActivityPage, AppError> {
        let mut query =
            audit_filter::query(&filter, limit).map_err(|e| AppError::BadRequest(e.to_string()))?;
        let bindings = self.core.gate.bindings.get().await.map_err(internal)?;
        query.within = activity_scope(by, &bindings);
        let page = audit::search(&self.core.db, &query)
            .await
            .map_err(internal)?;
        Ok(ActivityPage {
            entries: page
                .entries
                .into_iter()
                .map(audit_view::to_activity)
                .collect(),
            next: page.next.map(audit_filter::cursor),
            export_query: audit_filter::export_query(&query),
        })
    }
}
