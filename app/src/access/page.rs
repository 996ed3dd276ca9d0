//! The Access page: who may do what. Role bindings arrive with sign-in.

use leptos::prelude::*;

use crate::ui::{EmptyState, PageHeader};

#[component]
pub fn AccessPage() -> impl IntoView {
    view! {
        <PageHeader title="Access" subtitle="Identity-provider groups and users bound to portal roles." />
        <EmptyState
            title="No role bindings"
            detail="Sign-in is not configured yet, so there are no groups to bind to roles."
        />
    }
}
