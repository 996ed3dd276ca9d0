//! A key–value details list (a cluster's overview, a node's facts).

use leptos::prelude::*;

/// `<dl>` of `(term, value)` pairs, in order.
#[component]
pub fn DetailsList(label: &'static str, items: Vec<(&'static str, AnyView)>) -> impl IntoView {
    view! {
        <dl class="details" aria-label=label>
            {items
                .into_iter()
                .map(|(term, value)| view! { <div class="detail"><dt>{term}</dt><dd>{value}</dd></div> })
                .collect_view()}
        </dl>
    }
}
