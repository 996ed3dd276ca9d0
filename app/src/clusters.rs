//! Clusters: the fleet list. Until a management cluster is connected it shows what will be here.

use leptos::prelude::*;

use crate::ui::{EmptyState, PageHeader};

#[component]
pub fn ClustersPage() -> impl IntoView {
    view! {
        <PageHeader title="Clusters" subtitle="Every Kubernetes cluster of the fleet, its version, size and health." />
        <EmptyState
            title="No clusters to show"
            detail="This portal is not connected to a management cluster yet. Clusters appear here once it is."
        />
    }
}
