//! Authorization: role bindings in the database and the one function that decides "may X do Y on Z".

pub mod bindings;
mod cache;
mod decide;
pub mod gate;
pub mod simulation;

pub use cache::BindingCache;
pub use decide::{Decision, activity_scope, cluster_scope, effective_role, may};
pub use gate::{Asker, Gate, Refusal};
