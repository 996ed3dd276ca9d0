//! Dashboards: live node and pod CPU/memory per cluster, once clusters exist.

use leptos::prelude::*;

use crate::ui::{EmptyState, PageHeader};

#[component]
pub fn DashboardsPage() -> impl IntoView {
    view! {
        <PageHeader title="Dashboards" subtitle="Live CPU and memory of nodes and pods, per cluster." />
        <EmptyState
            title="Dashboards are not built yet"
            detail="Each cluster of the management cluster will get a health dashboard with live node and pod CPU and memory; the clusters are there already, the charts come with the live metrics pages."
        />
    }
}
