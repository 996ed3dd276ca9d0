//! Light, dark or system theme: a cookie the server reads when it renders, and the menu that sets it.

use leptos::form::ActionForm;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The cookie that remembers the choice; absent means "follow the system".
pub const THEME_COOKIE: &str = "portolan_theme";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    pub const ALL: [Theme; 3] = [Theme::System, Theme::Light, Theme::Dark];

    pub fn as_str(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Theme::System => "System",
            Theme::Light => "Light",
            Theme::Dark => "Dark",
        }
    }

    pub fn parse(value: &str) -> Option<Theme> {
        Theme::ALL.into_iter().find(|t| t.as_str() == value)
    }

    /// The theme a `Cookie` request header asks for.
    pub fn from_cookie_header(header: &str) -> Theme {
        header
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == THEME_COOKIE)
            .and_then(|(_, value)| Theme::parse(value.trim()))
            .unwrap_or_default()
    }
}

/// The theme in force while rendering: from the request's cookie on the server, from the page the
/// server rendered when hydrating (so both sides agree).
pub fn current_theme() -> Theme {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .and_then(|parts| {
                parts
                    .headers
                    .get(http::header::COOKIE)
                    .and_then(|v| v.to_str().ok())
                    .map(Theme::from_cookie_header)
            })
            .unwrap_or_default()
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
            .and_then(|e| e.get_attribute("data-theme"))
            .and_then(|v| Theme::parse(&v))
            .unwrap_or_default()
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        Theme::default()
    }
}

/// Remembers the theme for a year. A POST form without JavaScript lands here too and is sent back
/// to the page it came from.
#[server(endpoint = "theme")]
pub async fn set_theme(theme: Theme) -> Result<Theme, AppError> {
    let response = crate::backend::server_context::<leptos_axum::ResponseOptions>()?;
    let cookie = match theme {
        Theme::System => format!("{THEME_COOKIE}=; Path=/; Max-Age=0; SameSite=Lax"),
        other => format!(
            "{THEME_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            other.as_str()
        ),
    };
    if let Ok(value) = http::HeaderValue::from_str(&cookie) {
        response.append_header(http::header::SET_COOKIE, value);
    }
    Ok(theme)
}

/// Three buttons (System, Light, Dark); the pressed one is the theme in force. An island: with
/// JavaScript the theme changes in place.
#[island]
pub fn ThemeMenu() -> impl IntoView {
    let action = ServerAction::<SetTheme>::new();
    let current = RwSignal::new(current_theme());
    Effect::new(move |_| {
        if let Some(Ok(theme)) = action.value().get() {
            current.set(theme);
            apply_to_document(theme);
        }
    });
    view! {
        <ActionForm action=action attr:class="theme-menu">
            <span class="visually-hidden" id="theme-label">"Theme"</span>
            <div class="segmented" role="group" aria-labelledby="theme-label">
                {Theme::ALL
                    .into_iter()
                    .map(|t| {
                        view! {
                            <button
                                type="submit"
                                name="theme"
                                value=t.as_str()
                                aria-pressed=move || (current.get() == t).to_string()
                                title=format!("{} theme", t.label())
                            >
                                {t.label()}
                            </button>
                        }
                    })
                    .collect_view()}
            </div>
        </ActionForm>
    }
}

/// Switches the page without a reload once the server has stored the choice.
fn apply_to_document(theme: Theme) {
    #[cfg(feature = "hydrate")]
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("data-theme", theme.as_str());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = theme;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_header_picks_the_theme_cookie_and_ignores_others() {
        assert_eq!(
            Theme::from_cookie_header("a=b; portolan_theme=dark; c=d"),
            Theme::Dark
        );
        assert_eq!(
            Theme::from_cookie_header("portolan_theme=light"),
            Theme::Light
        );
        assert_eq!(
            Theme::from_cookie_header("portolan_theme=purple"),
            Theme::System
        );
        assert_eq!(Theme::from_cookie_header("other=dark"), Theme::System);
        assert_eq!(Theme::from_cookie_header(""), Theme::System);
    }
}
