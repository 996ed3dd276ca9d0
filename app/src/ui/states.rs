//! Page header, empty state and error panel: the three things every list page can show.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::error::AppError;

/// The page title (also the document title) with a one-line description under it.
#[component]
pub fn PageHeader(title: &'static str, subtitle: &'static str) -> impl IntoView {
    view! {
        <Title text=title />
        <header class="page-header">
            <h1>{title}</h1>
            <p class="subtitle">{subtitle}</p>
        </header>
    }
}

/// What a list shows when it has nothing in it: what would be here, and what to do about it.
#[component]
pub fn EmptyState(
    title: &'static str,
    detail: &'static str,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <section class="empty-state" aria-label=title>
            <svg class="empty-icon" viewBox="0 0 48 48" aria-hidden="true">
                <rect x="6" y="10" width="36" height="28" rx="3" />
                <path d="M6 18h36" />
            </svg>
            <h2>{title}</h2>
            <p>{detail}</p>
            {children.map(|c| c())}
        </section>
    }
}

/// An error as the user should read it: what failed and what to do; never a stack trace.
#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    // A page for something that is not there, or asked for wrongly, says so in its status too.
    #[cfg(feature = "ssr")]
    if let (Some(response), AppError::BadRequest(_)) =
        (use_context::<leptos_axum::ResponseOptions>(), &error)
    {
        response.set_status(http::StatusCode::BAD_REQUEST);
    }
    if let AppError::NotFound(_) = &error {
        // A missing cluster, and one the caller may not see, look the same: the 404 page.
        return view! { <crate::status::NotFound /> }.into_any();
    }
    if error == AppError::Unauthenticated {
        return view! {
            <section class="error-panel" role="alert">
                <h2>"Sign in to see this"</h2>
                <p>"This page shows information only signed-in users may see."</p>
                <p><a href=crate::ui::sign_in_href rel="external">"Sign in"</a></p>
            </section>
        }
        .into_any();
    }
    if let AppError::Forbidden { .. } = &error {
        return view! {
            <section class="error-panel" role="alert">
                <h2>"You do not have access"</h2>
                <p>{error.to_string()}</p>
            </section>
        }
        .into_any();
    }
    view! {
        <section class="error-panel" role="alert">
            <h2>"This could not be loaded"</h2>
            <p>{error.to_string()}</p>
            <p class="hint">"Reload the page to try again. If it keeps failing, an administrator can find the details in the server log."</p>
        </section>
    }
    .into_any()
}
