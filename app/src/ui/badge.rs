//! Status badges: a state word shown in its colour (the word is always there, so colour is never
//! the only signal).

use leptos::prelude::*;

/// The CSS class of a state: `badge badge-<state>`, the state lower-cased and reduced to letters,
/// digits and dashes (a state is data, and must not inject classes).
pub fn badge_class(state: &str) -> String {
    let slug: String = state
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("badge badge-{slug}")
}

/// `text` in the colour of `state` (style/main.css gives each known state its colour; audit
/// results: accepted, denied, failed; cluster health: healthy, degraded, provisioning, upgrading,
/// scaling, failed, deleting, unreachable). `title` says more on hover.
#[component]
pub fn Badge(
    #[prop(into)] state: String,
    #[prop(into)] text: String,
    #[prop(optional, into)] title: Option<String>,
) -> impl IntoView {
    view! { <span class=badge_class(&state) title=title>{text}</span> }
}

#[cfg(test)]
mod tests {
    use super::badge_class;

    #[test]
    fn a_state_becomes_one_safe_class() {
        assert_eq!(badge_class("denied"), "badge badge-denied");
        assert_eq!(badge_class("Upgrading"), "badge badge-upgrading");
        assert_eq!(
            badge_class("x\" onmouseover=\"y"),
            "badge badge-x--onmouseover--y"
        );
    }
}
