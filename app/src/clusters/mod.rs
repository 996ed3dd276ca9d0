//! Clusters: the fleet table and each cluster's pages, their server functions and backend.
//
// Pages: overview, pools, nodes, pods, events, logs.

// A server function takes one argument per query parameter (the fleet table has eight), and the
// macro's generated client function has no attributes of its own to carry an allowance.
#![allow(clippy::too_many_arguments)]

#[cfg(feature = "ssr")]
pub mod backend;
mod cluster_page;
mod fleet_page;
pub mod model;
mod pod_pages;
mod pools_page;
pub mod tags;
pub mod wizard;

pub(crate) use cluster_page::{ClusterFrame, cluster_in_address};
pub use cluster_page::{ClusterPage, DeletePage, EventsTabPage, NodePage, NodesTabPage, TagsPage};
pub use fleet_page::ClustersPage;
pub use pod_pages::{LogsPage, PodPage, PodsTabPage};
pub use pools_page::PoolsTabPage;
pub use wizard::NewClusterPage;

use leptos::prelude::*;

use crate::error::AppError;
use model::*;

/// The cluster `namespace/name`, or a 404 for names that cannot be one.
#[cfg(feature = "ssr")]
pub(crate) fn cluster_ref(
    namespace: &str,
    name: &str,
) -> Result<crate::access::model::ClusterRef, AppError> {
    let valid = |s: &str| !s.is_empty() && s.len() <= 253 && !s.contains('/');
    if valid(namespace) && valid(name) {
        Ok(crate::access::model::ClusterRef::new(namespace, name))
    } else {
        Err(AppError::NotFound(format!("cluster {namespace}/{name}")))
    }
}

/// Who may look at `namespace/name` (viewers and up; whether they see it is the backend's call).
#[cfg(feature = "ssr")]
async fn viewer_of(
    namespace: &str,
    name: &str,
) -> Result<
    (
        crate::access::model::Principal,
        crate::access::model::ClusterRef,
    ),
    AppError,
> {
    use crate::access::model::{Action, Target};
    let cluster = cluster_ref(namespace, name)?;
    let who = crate::backend::backend()?
        .authorize(Action::ViewClusters, Target::Cluster(cluster.clone()))
        .await?;
    Ok((who, cluster))
}

/// One page of the fleet table (viewers and up; each sees the clusters their roles reach).
#[server(endpoint = "clusters/fleet", input = leptos::server_fn::codec::GetUrl)]
pub async fn fleet(
    #[server(default)] q: String,
    #[server(default)] health: String,
    #[server(default)] version: String,
    #[server(default)] region: String,
    #[server(default)] tag: String,
    #[server(default)] sort: String,
    #[server(default)] dir: String,
    #[server(default)] page: String,
) -> Result<FleetView, AppError> {
    use crate::access::model::{Action, Target};
    let query = FleetQuery {
        q,
        health,
        version,
        region,
        tag,
        sort,
        dir,
        page,
    };
    let who = crate::backend::backend()?
        .authorize(Action::ViewClusters, Target::Portal)
        .await?;
    backend::clusters()?.fleet(&who, query).await
}

#[server(endpoint = "clusters/overview", input = leptos::server_fn::codec::GetUrl)]
pub async fn read_overview(namespace: String, name: String) -> Result<ClusterOverview, AppError> {
    let (who, cluster) = viewer_of(&namespace, &name).await?;
    backend::clusters()?.overview(&who, &cluster).await
}

/// Replaces a cluster's tags (admins of it) with `tags` (`key=value` lines), unless they are no
/// longer `was` (what the form showed): then a 409 with the current ones. Then back to Overview.
#[server(endpoint = "clusters/tags")]
pub async fn save_tags(
    namespace: String,
    name: String,
    #[server(default)] was: String,
    #[server(default)] tags: String,
) -> Result<(), AppError> {
    use crate::access::model::{Action, Target};
    let cluster = cluster_ref(&namespace, &name)?;
    let who = crate::backend::backend()?
        .authorize(Action::EditTags, Target::Cluster(cluster.clone()))
        .await?;
    backend::clusters()?
        .save_tags(&who, &cluster, &was, &tags)
        .await?;
    leptos_axum::redirect(&cluster_href(&cluster.namespace, &cluster.name, ""));
    Ok(())
}

/// What deleting the cluster destroys, then how far its deletion is (admins of it).
#[server(endpoint = "clusters/deletion", input = leptos::server_fn::codec::GetUrl)]
pub async fn read_deletion(namespace: String, name: String) -> Result<DeletionView, AppError> {
    use crate::access::model::{Action, Target};
    let cluster = cluster_ref(&namespace, &name)?;
    let who = crate::backend::backend()?
        .authorize(Action::DeleteCluster, Target::Cluster(cluster.clone()))
        .await?;
    backend::clusters()?.deletion(&who, &cluster).await
}

/// Deletes the cluster when `confirm` is its name (admins of it); then its Delete page shows the
/// progress.
#[server(endpoint = "clusters/delete")]
pub async fn delete_cluster(
    namespace: String,
    name: String,
    #[server(default)] confirm: String,
) -> Result<(), AppError> {
    use crate::access::model::{Action, Target};
    let cluster = cluster_ref(&namespace, &name)?;
    let who = crate::backend::backend()?
        .authorize(Action::DeleteCluster, Target::Cluster(cluster.clone()))
        .await?;
    backend::clusters()?
        .delete_cluster(&who, &cluster, &confirm)
        .await?;
    leptos_axum::redirect(&cluster_href(&cluster.namespace, &cluster.name, "delete"));
    Ok(())
}

#[server(endpoint = "clusters/pools", input = leptos::server_fn::codec::GetUrl)]
pub async fn cluster_pools(namespace: String, name: String) -> Result<PoolsTab, AppError> {
    let (who, cluster) = viewer_of(&namespace, &name).await?;
    backend::clusters()?.pools(&who, &cluster).await
}

/// Sets a pool's node count (operators of the cluster). The slider and the number beside it both
/// post: the number wins unless only the slider moved (`was` is what the form showed). Then the
/// operation's page follows the change.
#[server(endpoint = "clusters/scale")]
pub async fn scale_pool(
    namespace: String,
    name: String,
    #[server(default)] pool: String,
    #[server(default)] was: String,
    #[server(default)] key: String,
    #[server(default)] count: String,
    #[server(default)] count_slider: String,
    #[server(default)] confirm: String,
) -> Result<(), AppError> {
    let count = wizard::draft::slider_or_number(&was, &count, &count_slider);
    change_pool(
        &namespace,
        &name,
        PoolChange {
            pool,
            was,
            key,
            what: "count".into(),
            count,
            confirmed: !confirm.is_empty(),
            ..PoolChange::default()
        },
    )
    .await
}

/// Turns a pool's autoscaler on with bounds (`go=on`), or off at its current count (`go=off`).
#[server(endpoint = "clusters/autoscale")]
pub async fn autoscale_pool(
    namespace: String,
    name: String,
    #[server(default)] pool: String,
    #[server(default)] was: String,
    #[server(default)] key: String,
    #[server(default)] go: String,
    #[server(default)] min: String,
    #[server(default)] max: String,
) -> Result<(), AppError> {
    let what = if go == "off" { "fixed" } else { "autoscale" };
    change_pool(
        &namespace,
        &name,
        PoolChange {
            pool,
            was,
            key,
            what: what.into(),
            min,
            max,
            ..PoolChange::default()
        },
    )
    .await
}

/// Adds a node pool (admins of the cluster); then the operation that follows its nodes joining.
#[server(endpoint = "clusters/add_pool")]
pub async fn add_pool(
    namespace: String,
    name: String,
    #[server(default)] key: String,
    #[server(default)] pool: String,
    #[server(default)] mode: String,
    #[server(default)] vm_size: String,
    #[server(default)] count: String,
) -> Result<(), AppError> {
    use crate::access::model::{Action, Target};
    let cluster = cluster_ref(&namespace, &name)?;
    let who = crate::backend::backend()?
        .authorize(Action::CreatePool, Target::Cluster(cluster.clone()))
        .await?;
    let new = NewPool {
        key,
        name: pool,
        mode,
        vm_size,
        count,
    };
    let id = backend::clusters()?.add_pool(&who, &cluster, new).await?;
    leptos_axum::redirect(&format!("/operations/{}", crate::ui::percent_encode(&id)));
    Ok(())
}

/// Deletes a node pool (admins of the cluster); moving pods off it needs `confirm`. Then the
/// operation that follows its nodes going.
#[server(endpoint = "clusters/delete_pool")]
pub async fn delete_pool(
    namespace: String,
    name: String,
    #[server(default)] pool: String,
    #[server(default)] was: String,
    #[server(default)] key: String,
    #[server(default)] confirm: String,
) -> Result<(), AppError> {
    use crate::access::model::{Action, Target};
    let cluster = cluster_ref(&namespace, &name)?;
    let who = crate::backend::backend()?
        .authorize(Action::DeletePool, Target::Cluster(cluster.clone()))
        .await?;
    let change = PoolChange {
        pool,
        was,
        key,
        what: "delete".into(),
        confirmed: !confirm.is_empty(),
        ..PoolChange::default()
    };
    let id = backend::clusters()?
        .delete_pool(&who, &cluster, change)
        .await?;
    leptos_axum::redirect(&format!("/operations/{}", crate::ui::percent_encode(&id)));
    Ok(())
}

/// Authorizes and sends a pool change, then goes to its operation.
#[cfg(feature = "ssr")]
async fn change_pool(namespace: &str, name: &str, change: PoolChange) -> Result<(), AppError> {
    use crate::access::model::{Action, Target};
    let cluster = cluster_ref(namespace, name)?;
    let who = crate::backend::backend()?
        .authorize(Action::ScalePool, Target::Cluster(cluster.clone()))
        .await?;
    let id = backend::clusters()?
        .change_pool(&who, &cluster, change)
        .await?;
    leptos_axum::redirect(&format!("/operations/{}", crate::ui::percent_encode(&id)));
    Ok(())
}

#[server(endpoint = "clusters/nodes", input = leptos::server_fn::codec::GetUrl)]
pub async fn cluster_nodes(namespace: String, name: String) -> Result<NodesTab, AppError> {
    let (who, cluster) = viewer_of(&namespace, &name).await?;
    backend::clusters()?.nodes(&who, &cluster).await
}

#[server(endpoint = "clusters/node", input = leptos::server_fn::codec::GetUrl)]
pub async fn cluster_node(
    namespace: String,
    name: String,
    node: String,
) -> Result<NodeDetail, AppError> {
    let (who, cluster) = viewer_of(&namespace, &name).await?;
    backend::clusters()?.node(&who, &cluster, &node).await
}

#[server(endpoint = "clusters/pods", input = leptos::server_fn::codec::GetUrl)]
pub async fn cluster_pods(
    namespace: String,
    name: String,
    #[server(default)] in_namespace: String,
    #[server(default)] phase: String,
    #[server(default)] node: String,
    #[server(default)] page: String,
) -> Result<PodList, AppError> {
    let (who, cluster) = viewer_of(&namespace, &name).await?;
    let query = PodQuery {
        namespace: in_namespace,
        phase,
        node,
        page,
    };
    backend::clusters()?.pods(&who, &cluster, query).await
}

#[server(endpoint = "clusters/pod", input = leptos::server_fn::codec::GetUrl)]
pub async fn cluster_pod(
    namespace: String,
    name: String,
    pod_namespace: String,
    pod: String,
) -> Result<PodDetail, AppError> {
    let (who, cluster) = viewer_of(&namespace, &name).await?;
    backend::clusters()?
        .pod(&who, &cluster, &pod_namespace, &pod)
        .await
}

#[server(endpoint = "clusters/events", input = leptos::server_fn::codec::GetUrl)]
pub async fn cluster_events(namespace: String, name: String) -> Result<EventsTab, AppError> {
    let (who, cluster) = viewer_of(&namespace, &name).await?;
    backend::clusters()?.events(&who, &cluster).await
}

/// The last lines of a container's log (the page without JavaScript; the live follow streams).
#[server(endpoint = "clusters/logs", input = leptos::server_fn::codec::GetUrl)]
pub async fn pod_logs(
    namespace: String,
    name: String,
    pod_namespace: String,
    pod: String,
    #[server(default)] container: String,
    #[server(default)] previous: bool,
) -> Result<LogView, AppError> {
    let (who, cluster) = viewer_of(&namespace, &name).await?;
    backend::clusters()?
        .logs(&who, &cluster, &pod_namespace, &pod, &container, previous)
        .await
}
