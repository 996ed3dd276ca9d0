//! The pages shown instead of content: not found, and an error boundary's fallback.

use leptos::prelude::*;
use leptos_meta::Title;

/// Any path no route matches. Answers with HTTP 404 when rendered on the server.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found" />
        <section class="status-page">
            <p class="status-code">"404"</p>
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. It may have been mistyped, or the page has moved."</p>
            <p>
                <a class="button" href="/">"Go to Home"</a>
            </p>
        </section>
    }
}

/// What a failed render shows: the errors' messages, never their internals.
#[component]
pub fn ErrorPage(errors: ArcRwSignal<Errors>) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::INTERNAL_SERVER_ERROR);
    }
    let messages = move || {
        errors
            .get()
            .into_iter()
            .map(|(_, e)| view! { <li>{e.to_string()}</li> })
            .collect_view()
    };
    view! {
        <Title text="Something went wrong" />
        <section class="status-page" role="alert">
            <h1>"Something went wrong"</h1>
            <ul>{messages}</ul>
            <p>"Reload the page to try again. An administrator can find the details in the server log."</p>
        </section>
    }
}
