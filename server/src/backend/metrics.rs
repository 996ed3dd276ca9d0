//! The metrics topic: a cluster's charts, rendered for the page, as the caller may see them.

use app::access::model::{ClusterRef, Principal};
use app::error::AppError;
use app::metrics::backend::MetricsBackend;
use app::metrics::model::{ChartName, ChartScope, ChartView, ChartsView, TimeRange, chart_address};

use super::PortalBackend;
use crate::error::internal;
use crate::fleet::kube_name;
use crate::metrics::{ChartSpec, chart, chart_data, table};

#[async_trait::async_trait]
impl MetricsBackend for PortalBackend {
    async fn charts(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        scope: ChartScope,
        charts: Vec<ChartName>,
        range: TimeRange,
    ) -> Result<ChartsView, AppError> {
        kube_name("namespace", &cluster.namespace)?;
        kube_name("cluster", &cluster.name)?;
        crate::metrics::check_scope(&scope)?;
        self.visible(by, cluster).await?;
        let metrics = self.fleet()?.metrics.clone();
        let mut views = Vec::with_capacity(charts.len());
        for name in charts {
            let spec = ChartSpec {
                cluster: cluster.clone(),
                chart: name,
                scope: scope.clone(),
                range,
            };
            let data = chart_data(&metrics, &spec).await.map_err(internal)?;
            let (path, query) =
                chart_address(&cluster.namespace, &cluster.name, name, range, &scope);
            views.push(ChartView {
                name: data.title.clone(),
                svg: chart::svg(&data),
                path,
                query,
                table: table(&data),
                note: data.note.clone(),
            });
        }
        Ok(ChartsView {
            range,
            charts: views,
        })
    }
}
