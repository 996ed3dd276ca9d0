//! The small server-rendered pages of sign-in (outside the Leptos app, so they work when it cannot).

/// Text made safe to place in HTML, in element content and in quoted attributes.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A whole page: `title` is text, `body` is HTML the caller has escaped.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"color-scheme\" content=\"light dark\"><title>{t} · Portolan</title><link rel=\"stylesheet\" href=\"/pkg/portolan.css\"></head>\
         <body><main class=\"auth-page\"><h1>{t}</h1>{body}</main></body></html>",
        t = escape(title)
    )
}
