//! Generic building blocks every page is made of: frame, page header, empty state, error panel,
//! the resource loader, data table, details list and badges.

use leptos::prelude::Get;

mod badge;
mod details;
mod frame;
mod loader;
mod states;
mod table;

pub use badge::{Badge, badge_class};
pub use details::DetailsList;
pub use frame::{Breadcrumb, SideNav, TopBar};
pub use loader::Loaded;
pub use states::{EmptyState, ErrorPanel, PageHeader};
pub use table::{Column, DataTable, Pager, Sorting};

/// The sign-in link for the page being shown: back here afterwards (reactive: use as `href=sign_in_href`).
pub fn sign_in_href() -> String {
    let location = leptos_router::hooks::use_location();
    let search = location.search.get();
    let here = if search.is_empty() {
        location.pathname.get()
    } else {
        format!("{}?{search}", location.pathname.get())
    };
    let here = if here.is_empty() {
        "/".to_string()
    } else {
        here
    };
    format!("/auth/login?next={}", percent_encode(&here))
}

/// A value percent-encoded whole, `/`, `?`, `&` and `=` too (an address inside a query).
pub fn percent_encode_all(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A query value percent-encoded: all but unreserved characters and `/`.
pub fn percent_encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
