//! One place for what every page does with data it loads: loading, error, unauthorized, shown.

use leptos::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::ErrorPanel;
use crate::error::AppError;

/// Waits for `resource` (saying `loading` meanwhile), then shows it with `show`, or shows why it
/// could not be loaded: "sign in" for anonymous visitors, "you do not have access" with the role
/// needed, or the error with what to do.
#[component]
pub fn Loaded<T, V, F>(
    resource: Resource<Result<T, AppError>>,
    loading: &'static str,
    show: F,
) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    V: IntoView + 'static,
    F: Fn(T) -> V + Clone + Send + Sync + 'static,
{
    view! {
        <Transition fallback=move || view! { <p class="loading" role="status">{loading}</p> }>
            {move || {
                let show = show.clone();
                Suspend::new(async move {
                    match resource.await {
                        Ok(value) => show(value).into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}
