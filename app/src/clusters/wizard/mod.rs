//! The creation wizard (`/clusters/new?step=…`): draft, offering, rules, cost, its pages and the
//! server functions that read it. Each step's form is posted to `/clusters/new` (the server's
//! `http/wizard.rs`), which keeps the draft in the session.

pub mod cost;
pub mod draft;
mod islands;
pub mod offering;
mod page;
mod pools;
pub mod rules;

pub use page::NewClusterPage;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use draft::{Draft, Step};
use offering::Offering;
use rules::FieldError;

/// One step of the wizard as its page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WizardView {
    pub step: Step,
    pub draft: Draft,
    pub offering: Offering,
    /// Problems found with what was posted (this step), or with the whole draft on Review.
    pub errors: Vec<FieldError>,
    pub cost: cost::Cost,
    /// The exact Cluster Create sends, on Review once nothing is wrong.
    pub yaml: Option<String>,
}

/// The wizard at `step` (admins only): the draft this session is working on, or a new one.
#[server(endpoint = "clusters/wizard", input = leptos::server_fn::codec::GetUrl)]
pub async fn read_wizard(#[server(default)] step: String) -> Result<WizardView, AppError> {
    use crate::access::model::{Action, Target};
    let who = crate::backend::backend()?
        .authorize(Action::CreateCluster, Target::Portal)
        .await?;
    crate::clusters::backend::clusters()?
        .wizard(&who, Step::parse(&step))
        .await
}

/// What is wrong with `name` for a new cluster in `namespace` (its form, or that it is taken),
/// checked as it is typed; `None` when it is free.
#[server(endpoint = "clusters/name-check", input = leptos::server_fn::codec::GetUrl)]
pub async fn check_cluster_name(
    #[server(default)] namespace: String,
    #[server(default)] name: String,
) -> Result<Option<String>, AppError> {
    use crate::access::model::{Action, Target};
    let who = crate::backend::backend()?
        .authorize(Action::CreateCluster, Target::Portal)
        .await?;
    crate::clusters::backend::clusters()?
        .name_problem(&who, &namespace, &name)
        .await
}
