//! The `/auth/*` handlers: start sign-in, the development sign-in page and form, sign-out, "who am I".

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;

use super::dev::{self, IDENTITIES};
use crate::http::AppState;
use crate::store::audit::{self, NewEntry, Outcome};
use crate::store::now_ms;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t} · Portolan</title><link rel=\"stylesheet\" href=\"/pkg/portolan.css\"></head>\
         <body><main class=\"auth-page\"><h1>{t}</h1>{body}</main></body></html>",
        t = escape(title)
    )
}

async fn record(
    state: &AppState,
    headers: &HeaderMap,
    who: (&str, &str, &[String]),
    action: &str,
    outcome: Outcome,
    reason: Option<String>,
) {
    let entry = NewEntry {
        at_ms: now_ms(),
        actor_subject: who.0.into(),
        actor_name: who.1.into(),
        actor_groups: who.2.to_vec(),
        action: action.into(),
        target: "portal".into(),
        parameters: json!({"method": "development"}),
        outcome,
        reason,
        request_id: headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .into(),
        client_addr: None,
    };
    if let Err(e) = audit::append(&state.db, &entry).await {
        tracing::error!(error = %e, action, "could not record an audit entry");
    }
}

/// `/auth/login`: where the sign-in link points.
pub async fn login(State(state): State<AppState>) -> Response {
    if state.auth.dev_sign_in {
        return Redirect::to("/auth/dev").into_response();
    }
    let body = "<p>Sign-in through OpenID Connect is configured, but this version of Portolan cannot \
                perform it yet. Ask your administrator for a release with OpenID Connect sign-in.</p>";
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Html(page("Sign-in unavailable", body)),
    )
        .into_response()
}

/// `GET /auth/dev`: pick a seeded identity.
pub async fn dev_page(State(state): State<AppState>) -> Response {
    if !state.auth.dev_sign_in {
        return (StatusCode::NOT_FOUND, Html(page("Not found", "<p>The development sign-in is off: an identity provider is configured or the portal listens beyond loopback.</p>"))).into_response();
    }
    let mut body = String::from(
        "<p class=\"warning\"><strong>Development sign-in.</strong> No identity provider is configured, so \
         anyone who can reach this loopback address may pick an identity. Configure <code>--oidc-issuer</code> \
         for real sign-in.</p><form method=\"post\" action=\"/auth/dev\" class=\"identities\">",
    );
    for i in IDENTITIES {
        body.push_str(&format!(
            "<button type=\"submit\" name=\"identity\" value=\"{}\">{} <small>{} · groups: {}</small></button>",
            i.key,
            escape(i.name),
            i.role,
            escape(&i.groups.join(", "))
        ));
    }
    body.push_str("</form>");
    Html(page("Sign in", &body)).into_response()
}

#[derive(Deserialize)]
pub struct DevForm {
    identity: String,
}

/// `POST /auth/dev`: sign in as a seeded identity.
pub async fn dev_sign_in(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Form(form): Form<DevForm>,
) -> Response {
    if !state.auth.dev_sign_in {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Some(identity) = dev::identity(&form.identity) else {
        record(
            &state,
            &headers,
            ("anonymous", "anonymous", &[]),
            "sign-in",
            Outcome::Denied,
            Some(format!("unknown development identity {:?}", form.identity)),
        )
        .await;
        let known: Vec<&str> = IDENTITIES.iter().map(|i| i.key).collect();
        let body = format!(
            "<p>There is no development identity called “{}”. Choose one of: {}.</p><p><a href=\"/auth/dev\">Back</a></p>",
            escape(&form.identity),
            known.join(", ")
        );
        return (
            StatusCode::BAD_REQUEST,
            Html(page("Unknown identity", &body)),
        )
            .into_response();
    };
    let who = identity.principal();
    if let Err(e) = super::sign_in(&session, who.clone()).await {
        tracing::error!(error = %e, "could not store the session");
        record(
            &state,
            &headers,
            (&who.subject, &who.name, &who.groups),
            "sign-in",
            Outcome::Failed,
            Some("the session could not be stored".into()),
        )
        .await;
        return (StatusCode::SERVICE_UNAVAILABLE, Html(page("Sign-in failed", "<p>The session could not be stored: the database did not answer. Try again in a moment.</p>"))).into_response();
    }
    record(
        &state,
        &headers,
        (&who.subject, &who.name, &who.groups),
        "sign-in",
        Outcome::Accepted,
        None,
    )
    .await;
    Redirect::to("/").into_response()
}

/// `POST /auth/logout`: ends the session on the server and clears the cookie.
pub async fn sign_out(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
) -> Response {
    if let Some(who) = super::principal(&session, &state.auth).await {
        record(
            &state,
            &headers,
            (&who.subject, &who.name, &who.groups),
            "sign-out",
            Outcome::Accepted,
            None,
        )
        .await;
    }
    if let Err(e) = session.flush().await {
        tracing::error!(error = %e, "could not delete the session");
    }
    Redirect::to("/").into_response()
}

/// `GET /auth/me`: the signed-in person as JSON, or 401.
pub async fn me(State(state): State<AppState>, session: Session) -> Response {
    match super::principal(&session, &state.auth).await {
        Some(who) => axum::Json(who).into_response(),
        None => (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "not signed in"})),
        )
            .into_response(),
    }
}
