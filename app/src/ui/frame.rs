//! The portal frame: top bar, left navigation and breadcrumb, as on the Azure portal.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

use crate::theme::ThemeMenu;

/// Left navigation entries: path and label. The breadcrumb names pages from this list too.
pub const SECTIONS: [(&str, &str); 5] = [
    ("/clusters", "Clusters"),
    ("/operations", "Operations"),
    ("/dashboards", "Dashboards"),
    ("/access", "Access"),
    ("/activity", "Activity"),
];

#[component]
pub fn TopBar() -> impl IntoView {
    view! {
        <header class="topbar">
            <a class="brand" href="/">
                <svg class="brand-mark" viewBox="0 0 24 24" aria-hidden="true">
                    <circle cx="12" cy="12" r="9" />
                    <path d="M12 3v18M3 12h18M6 6l12 12M18 6L6 18" />
                </svg>
                <span>"Portolan"</span>
            </a>
            <div class="topbar-tools">
                <ThemeMenu />
                <UserArea />
            </div>
        </header>
    }
}

/// Initials for the avatar ("Ada Admin" → "AA").
fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .collect::<String>()
        .to_uppercase()
}

/// Who is signed in, with a sign-out button (a form: it works without JavaScript); or a sign-in link.
#[component]
fn UserArea() -> impl IntoView {
    let me = Resource::new(|| (), |_| crate::access::whoami());
    view! {
        <div class="user-area" aria-label="Signed-in user">
            <Suspense fallback=|| view! { <span class="user-name">"…"</span> }>
                {move || {
                    me.get()
                        .map(|who| match who {
                            Ok(Some(p)) => {
                                view! {
                                    <span class="avatar" aria-hidden="true">{initials(&p.name)}</span>
                                    <span class="user-name" title=p.groups.join(", ")>{p.name.clone()}</span>
                                    <form method="post" action="/auth/logout" class="sign-out" data-native="">
                                        <button type="submit">"Sign out"</button>
                                    </form>
                                }
                                    .into_any()
                            }
                            _ => {
                                view! {
                                    <span class="avatar" aria-hidden="true">"?"</span>
                                    <span class="user-name">"Not signed in"</span>
                                    <a class="sign-in" href=crate::ui::sign_in_href rel="external">"Sign in"</a>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Suspense>
        </div>
    }
}

#[component]
pub fn SideNav() -> impl IntoView {
    view! {
        <nav class="sidenav" aria-label="Main">
            <ul>
                {SECTIONS
                    .iter()
                    .map(|(href, label)| {
                        view! {
                            <li>
                                <A href=*href>{*label}</A>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </nav>
    }
}

/// `Home / Section`: the trail derived from the path, so no page has to maintain it.
#[component]
pub fn Breadcrumb() -> impl IntoView {
    let location = use_location();
    let trail = move || {
        let path = location.pathname.get();
        SECTIONS
            .iter()
            .find(|(href, _)| path == *href || path.starts_with(&format!("{href}/")))
            .map(|(href, label)| (*href, *label))
    };
    view! {
        <nav class="breadcrumb" aria-label="Breadcrumb">
            <ol>
                <li>
                    <a href="/">"Home"</a>
                </li>
                {move || {
                    trail()
                        .map(|(href, label)| {
                            view! {
                                <li>
                                    <a href=href aria-current="page">
                                        {label}
                                    </a>
                                </li>
                            }
                        })
                }}
            </ol>
        </nav>
    }
}
