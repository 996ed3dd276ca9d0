//! Dashboards: team health dashboards (tiles, warnings, live charts), their list and editor.

// A server function takes one argument per form field (the editor has one per panel), and the
// macro's generated client function has no attributes of its own to carry an allowance.
#![allow(clippy::too_many_arguments)]

#[cfg(feature = "ssr")]
pub mod backend;
pub mod model;
mod page;

pub use page::{DashboardEditPage, DashboardPage, DashboardsPage, NewDashboardPage};

use leptos::prelude::*;

use crate::error::AppError;
use model::*;

#[server(endpoint = "dashboards/list", input = leptos::server_fn::codec::GetUrl)]
pub async fn list_dashboards() -> Result<DashboardList, AppError> {
    use crate::access::model::{Action, Target};
    let who = crate::backend::backend()?
        .authorize(Action::ViewDashboards, Target::Portal)
        .await?;
    backend::dashboards()?.list(&who).await
}

#[server(endpoint = "dashboards/get", input = leptos::server_fn::codec::GetUrl)]
pub async fn read_dashboard(slug: String) -> Result<DashboardView, AppError> {
    use crate::access::model::{Action, Target};
    let who = crate::backend::backend()?
        .authorize(Action::ViewDashboards, Target::Portal)
        .await?;
    backend::dashboards()?.get(&who, &slug).await
}

/// Creates (`slug` empty) or changes a dashboard, then goes to it (operators portal-wide).
#[server(endpoint = "dashboards/save")]
pub async fn save_dashboard(
    #[server(default)] slug: String,
    name: String,
    #[server(default)] clusters: String,
    #[server(default)] selector: String,
    #[server(default)] panel_health: Option<String>,
    #[server(default)] panel_nodes: Option<String>,
    #[server(default)] panel_pods: Option<String>,
    #[server(default)] panel_cpu: Option<String>,
    #[server(default)] panel_memory: Option<String>,
    #[server(default)] panel_warnings: Option<String>,
) -> Result<String, AppError> {
    use crate::access::model::{Action, Target};
    let who = crate::backend::backend()?
        .authorize(Action::ManageDashboards, Target::Portal)
        .await?;
    let chosen = [
        (Panel::Health, panel_health),
        (Panel::NodesReady, panel_nodes),
        (Panel::PodsNotRunning, panel_pods),
        (Panel::Cpu, panel_cpu),
        (Panel::Memory, panel_memory),
        (Panel::Warnings, panel_warnings),
    ];
    let spec = DashboardSpec {
        name,
        clusters: clusters
            .split([',', '\n', ' ', '\r', '\t'])
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect(),
        selector,
        panels: chosen
            .into_iter()
            .filter(|(_, on)| on.is_some())
            .map(|(p, _)| p)
            .collect(),
    };
    let slug = backend::dashboards()?.save(&who, &slug, spec).await?;
    leptos_axum::redirect(&format!("/dashboards/{slug}"));
    Ok(slug)
}

#[server(endpoint = "dashboards/delete")]
pub async fn delete_dashboard(slug: String) -> Result<(), AppError> {
    use crate::access::model::{Action, Target};
    let who = crate::backend::backend()?
        .authorize(Action::ManageDashboards, Target::Portal)
        .await?;
    backend::dashboards()?.delete(&who, &slug).await?;
    leptos_axum::redirect("/dashboards");
    Ok(())
}
