//! Portolan's user interface: the HTML shell, the route table, and the hydration entry point.
// The wizard's views are deeply nested types; the compiler's default depth is too small for them.
#![recursion_limit = "256"]

pub mod access;
pub mod activity;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod clusters;
pub mod dashboards;
pub mod error;
pub mod home;
pub mod metrics;
pub mod operations;
pub mod status;
pub mod theme;
pub mod ui;
pub mod upgrades;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::status::{ErrorPage, NotFound};
use crate::ui::{Breadcrumb, SideNav, TopBar};

/// The name of the wasm/JS bundle under the site's `pkg/` directory, and of the stylesheet.
pub const OUTPUT_NAME: &str = "portolan";

/// Response header through which the page hands its CSP nonce to the server's header middleware,
/// which builds the Content-Security-Policy from it and removes this header.
pub const NONCE_HEADER: &str = "x-portolan-csp-nonce";

/// The whole HTML document, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let theme = theme::current_theme();
    #[cfg(feature = "ssr")]
    hand_nonce_to_server();
    view! {
        <!DOCTYPE html>
        <html lang="en" data-theme=theme.as_str()>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <link rel="stylesheet" href=format!("/pkg/{OUTPUT_NAME}.css") />
                <HydrationScripts options islands=true islands_router=true />
                <MetaTags />
            </head>
            <body>
                <App />
                // Last in the page, so hydrated last: it marks the page live for tests.
                <HydratedMark />
            </body>
        </html>
    }
}

#[cfg(feature = "ssr")]
fn hand_nonce_to_server() {
    if let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) && let Ok(value) = http::HeaderValue::from_str(&nonce)
    {
        response.insert_header(http::HeaderName::from_static(NONCE_HEADER), value);
    }
}

/// The portal: frame (top bar, navigation, breadcrumb) around the routed page.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title formatter=|page: String| format!("{page} · Portolan") />
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <div class="layout">
                <TopBar />
                <SideNav />
                <main id="main" class="main" tabindex="-1">
                    <Breadcrumb />
                    <ErrorBoundary fallback=|errors| view! { <ErrorPage errors /> }>
                        // Async: a page is rendered whole before it is sent, so the status it
                        // sets (404, 500) reaches the response and readers without JavaScript
                        // get finished HTML.
                        <Routes fallback=NotFound>
                            <Route path=path!("") view=home::HomePage ssr=SsrMode::Async />
                            <Route path=path!("clusters") view=clusters::ClustersPage ssr=SsrMode::Async />
                            <Route path=path!("clusters/new") view=clusters::NewClusterPage ssr=SsrMode::Async />
                            <Route path=path!("clusters/:namespace/:name") view=clusters::ClusterPage ssr=SsrMode::Async />
                            <Route path=path!("clusters/:namespace/:name/pools") view=clusters::PoolsTabPage ssr=SsrMode::Async />
                            <Route path=path!("clusters/:namespace/:name/nodes") view=clusters::NodesTabPage ssr=SsrMode::Async />
                            <Route path=path!("clusters/:namespace/:name/nodes/:node") view=clusters::NodePage ssr=SsrMode::Async />
                            <Route path=path!("clusters/:namespace/:name/pods") view=clusters::PodsTabPage ssr=SsrMode::Async />
                            <Route path=path!("clusters/:namespace/:name/pods/:pod_namespace/:pod") view=clusters::PodPage ssr=SsrMode::Async />
                            <Route path=path!("clusters/:namespace/:name/pods/:pod_namespace/:pod/logs") view=clusters::LogsPage ssr=SsrMode::Async />
                            <Route path=path!("clusters/:namespace/:name/events") view=clusters::EventsTabPage ssr=SsrMode::Async />
                            <Route path=path!("clusters/:namespace/:name/tags") view=clusters::TagsPage ssr=SsrMode::Async />
                            <Route path=path!("clusters/:namespace/:name/delete") view=clusters::DeletePage ssr=SsrMode::Async />
                            <Route path=path!("clusters/:namespace/:name/upgrade") view=upgrades::UpgradePage ssr=SsrMode::Async />
                            <Route path=path!("dashboards") view=dashboards::DashboardsPage ssr=SsrMode::Async />
                            <Route path=path!("dashboards/new") view=dashboards::NewDashboardPage ssr=SsrMode::Async />
                            <Route path=path!("dashboards/:slug") view=dashboards::DashboardPage ssr=SsrMode::Async />
                            <Route path=path!("dashboards/:slug/edit") view=dashboards::DashboardEditPage ssr=SsrMode::Async />
                            <Route path=path!("access") view=access::AccessPage ssr=SsrMode::Async />
                            <Route path=path!("activity") view=activity::ActivityPage ssr=SsrMode::Async />
                            <Route path=path!("operations") view=operations::OperationsPage ssr=SsrMode::Async />
                            <Route path=path!("operations/:id") view=operations::OperationPage ssr=SsrMode::Async />
                        </Routes>
                    </ErrorBoundary>
                </main>
            </div>
        </Router>
    }
}

/// Entry point of the wasm bundle: islands mode; each `#[island]` hydrates itself after this.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    leave_native_forms_to_the_browser();
}

/// The islands router turns form submissions into in-page fetches. Forms marked `data-native` are
/// submitted the browser's way instead: the sign-out, which continues to the identity provider's
/// own page, and forms whose fields hide the form's `action` from scripts. This listener runs first
/// (capture phase) and stops the router by preventing the event's default.
#[cfg(feature = "hydrate")]
fn leave_native_forms_to_the_browser() {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    let on_submit = Closure::<dyn Fn(web_sys::Event)>::new(|ev: web_sys::Event| {
        let form = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok());
        if let Some(form) = form.filter(|f| f.has_attribute("data-native")) {
            ev.prevent_default();
            keep_submitter(&ev, &form);
            // `submit()` sends the form without another submit event.
            let _ = form.submit();
        }
    });
    if let Some(window) = web_sys::window() {
        let _ = window.add_event_listener_with_callback_and_bool(
            "submit",
            on_submit.as_ref().unchecked_ref(),
            true,
        );
    }
    // Lives as long as the page.
    on_submit.forget();
}

/// `submit()` leaves out the button that was pressed (the wizard's Back, Add node pool, Create all
/// carry `go=…`): its name and value go along as a hidden field instead.
#[cfg(feature = "hydrate")]
fn keep_submitter(ev: &web_sys::Event, form: &web_sys::HtmlFormElement) {
    use wasm_bindgen::JsCast;
    let Some(button) = js_sys::Reflect::get(ev, &"submitter".into())
        .ok()
        .and_then(|b| b.dyn_into::<web_sys::Element>().ok())
    else {
        return;
    };
    let Some(name) = button.get_attribute("name").filter(|n| !n.is_empty()) else {
        return;
    };
    let value = button.get_attribute("value").unwrap_or_default();
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    // One carried field per form: a second press replaces the first's.
    if let Ok(Some(old)) = form.query_selector("input[data-submitter]") {
        old.remove();
    }
    if let Ok(field) = document.create_element("input") {
        let _ = field.set_attribute("type", "hidden");
        let _ = field.set_attribute("name", &name);
        let _ = field.set_attribute("value", &value);
        let _ = field.set_attribute("data-submitter", "");
        let _ = form.append_child(&field);
    }
}

/// Sets `body[data-hydrated]` when it comes to life. Islands hydrate in document order, one after
/// the other, and this one is the last in the page: when it runs, every island before it is live.
#[island]
fn HydratedMark() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
