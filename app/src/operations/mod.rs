//! Operations: every change the portal made, followed until it ended — server functions and pages.

#[cfg(feature = "ssr")]
pub mod backend;
pub mod model;
mod page;

pub use page::{OperationPage, OperationsPage, OpsList};

use leptos::prelude::*;

use crate::error::AppError;
use model::{OperationRow, OperationsView};

/// The newest operations the caller may see (viewers and up), filtered by status, cluster, kind.
#[server(endpoint = "operations/list", input = leptos::server_fn::codec::GetUrl)]
pub async fn read_operations(
    #[server(default)] status: String,
    #[server(default)] cluster: String,
    #[server(default)] kind: String,
) -> Result<OperationsView, AppError> {
    use crate::access::model::{Action, Target};
    let who = crate::backend::backend()?
        .authorize(Action::ViewClusters, Target::Portal)
        .await?;
    backend::operations()?
        .operations(
            &who,
            model::OpQuery {
                status,
                cluster,
                kind,
            },
        )
        .await
}

/// One operation with its steps (viewers of its cluster).
#[server(endpoint = "operations/one", input = leptos::server_fn::codec::GetUrl)]
pub async fn read_operation(id: String) -> Result<OperationRow, AppError> {
    use crate::access::model::{Action, Target};
    let who = crate::backend::backend()?
        .authorize(Action::ViewClusters, Target::Portal)
        .await?;
    backend::operations()?.operation(&who, &id).await
}
