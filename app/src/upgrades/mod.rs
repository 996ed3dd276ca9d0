//! Kubernetes upgrades: the versions a cluster may move to, the preflight of a choice, and the
//! server functions that show and start one (followed as an operation).

#[cfg(feature = "ssr")]
pub mod backend;
pub mod model;
mod page;

pub use page::{UpgradePage, VersionsSection};

use leptos::prelude::*;

use crate::error::AppError;
use model::UpgradeView;

/// The cluster's versions and, when `to` and `scope` are given, that choice's preflight
/// (viewers see it; only operators get the buttons).
#[server(endpoint = "upgrades/view", input = leptos::server_fn::codec::GetUrl)]
pub async fn read_upgrade(
    namespace: String,
    name: String,
    #[server(default)] to: String,
    #[server(default)] scope: String,
) -> Result<UpgradeView, AppError> {
    use crate::access::model::{Action, Target};
    let cluster = crate::clusters::cluster_ref(&namespace, &name)?;
    let who = crate::backend::backend()?
        .authorize(Action::ViewClusters, Target::Cluster(cluster.clone()))
        .await?;
    backend::upgrades()?
        .upgrade_view(&who, &cluster, &to, &scope)
        .await
}

/// Starts the upgrade the preflight showed (operators of the cluster); then its operation's page.
#[server(endpoint = "upgrades/start")]
pub async fn start_upgrade(
    namespace: String,
    name: String,
    #[server(default)] to: String,
    #[server(default)] scope: String,
    #[server(default)] was: String,
    #[server(default)] key: String,
    #[server(default)] confirm: String,
) -> Result<(), AppError> {
    use crate::access::model::{Action, Target};
    let cluster = crate::clusters::cluster_ref(&namespace, &name)?;
    let who = crate::backend::backend()?
        .authorize(Action::StartUpgrade, Target::Cluster(cluster.clone()))
        .await?;
    let id = backend::upgrades()?
        .upgrade(
            &who,
            &cluster,
            backend::UpgradeRequest {
                to,
                scope,
                was,
                key,
                confirmed: !confirm.is_empty(),
            },
        )
        .await?;
    leptos_axum::redirect(&format!("/operations/{}", crate::ui::percent_encode(&id)));
    Ok(())
}
