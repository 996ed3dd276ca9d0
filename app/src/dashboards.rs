//! Dashboards: live node and pod CPU/memory per cluster, once clusters exist.

use leptos::prelude::*;

use crate::ui::{EmptyState, PageHeader};

#[component]
pub fn DashboardsPage() -> impl IntoView {
    view! {
        <PageHeader title="Dashboards" subtitle="Live CPU and memory of nodes and pods, per cluster." />
        <EmptyState
            title="No dashboards yet"
            detail="A health dashboard is created for every cluster. There are no clusters yet."
        />
    }
}
