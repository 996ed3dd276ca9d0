//! Home: one tile per section, the first page after sign-in.

use leptos::prelude::*;

use crate::ui::PageHeader;

const TILES: [(&str, &str, &str); 4] = [
    (
        "/clusters",
        "Clusters",
        "Create clusters, scale node pools and upgrade Kubernetes.",
    ),
    (
        "/dashboards",
        "Dashboards",
        "Watch node and pod CPU and memory live.",
    ),
    (
        "/access",
        "Access",
        "Map identity-provider groups to portal roles.",
    ),
    (
        "/activity",
        "Activity",
        "See who changed what, when, and how it ended.",
    ),
];

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <PageHeader title="Home" subtitle="Manage and observe your Kubernetes fleet." />
        <ul class="tiles">
            {TILES
                .into_iter()
                .map(|(href, title, detail)| {
                    view! {
                        <li>
                            <a class="tile" href=href>
                                <strong>{title}</strong>
                                <span>{detail}</span>
                            </a>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}
