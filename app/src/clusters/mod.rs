//! Clusters: the fleet list. Until the fleet pages are built it says what is true today.

use leptos::prelude::*;

use crate::ui::{EmptyState, PageHeader};

#[component]
pub fn ClustersPage() -> impl IntoView {
    view! {
        <PageHeader title="Clusters" subtitle="Every Kubernetes cluster of the fleet, its version, size and health." />
        <EmptyState
            title="The cluster list is not built yet"
            detail="The portal is connected to its Cluster API management cluster (the embedded kubesim with a demo fleet, unless it was started with --management-kubeconfig); the Access page already picks clusters from it. Listing them here, with their pools, nodes and health, comes with the fleet pages."
        />
    }
}
