//! What the chart server functions ask of the server.

use std::sync::Arc;

use super::model::*;
use crate::access::model::{ClusterRef, Principal};
use crate::error::AppError;

/// Implemented in `server/src/backend/metrics.rs`: charts of a cluster `by` may see (any other
/// cluster is `NotFound`, exactly as one that does not exist).
#[async_trait::async_trait]
pub trait MetricsBackend: Send + Sync + 'static {
    async fn charts(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        scope: ChartScope,
        charts: Vec<ChartName>,
        range: TimeRange,
    ) -> Result<ChartsView, AppError>;
}

pub fn metrics() -> Result<Arc<dyn MetricsBackend>, AppError> {
    crate::backend::server_context::<Arc<dyn MetricsBackend>>()
}
