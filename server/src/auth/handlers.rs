//! The `/auth/*` handlers: start sign-in, the development sign-in page and form, sign-out, "who am I".

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;

use super::dev::{self, IDENTITIES};
use super::html::{escape, page};
use super::oidc::{self, Pending, SignInError};
use crate::error::sign_in_failure;
use crate::http::{AppState, Caller};
use crate::store::audit::{self, Change, Outcome};

/// Session key of the ID token, kept to hint at the provider's logout.
const ID_TOKEN: &str = "oidc_id_token";

/// Someone not (yet) known: the actor of failed sign-ins.
const ANONYMOUS: (&str, &str, &[String]) = ("anonymous", "anonymous", &[]);

async fn record(
    state: &AppState,
    caller: &Caller,
    who: (&str, &str, &[String]),
    action: &str,
    method: &str,
    outcome: Outcome,
    reason: Option<String>,
) {
    let change = Change {
        action,
        target: "portal",
        parameters: json!({"method": method}),
        outcome,
        reason,
    };
    if let Err(e) = audit::record(&state.core.db, &caller.origin(who.0, who.1, who.2), change).await
    {
        tracing::error!(error = %e, action, "could not record an audit entry");
    }
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// Only a path on this portal: never another site, so the link cannot be used to redirect away;
/// nothing that could not be a `Location` header.
fn safe_next(next: Option<String>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control)
                && n.len() <= 2048 =>
        {
            n
        }
        _ => "/".into(),
    }
}

/// `/auth/login`: where the sign-in link points. With an identity provider, the browser is sent
/// there; otherwise to the development sign-in.
pub async fn login(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Response {
    let next = safe_next(query.next);
    if let Some(provider) = state.core.auth.oidc.clone() {
        let (url, pending) = match provider.begin(next).await {
            Ok(started) => started,
            Err(e) => return sign_in_failed(&state, &caller, e, true).await,
        };
        // The sign-in in progress waits in a sealed cookie, not in the database.
        let started = state
            .core
            .auth
            .sealer
            .start(
                &state.core.db,
                &headers,
                pending,
                state.core.auth.secure_cookies,
            )
            .await;
        return match started {
            Ok(cookie) => {
                let mut res = Redirect::to(url.as_str()).into_response();
                res.headers_mut().append(header::SET_COOKIE, cookie);
                res
            }
            Err(e) => {
                sign_in_failed(&state, &caller, SignInError::Session(e.to_string()), true).await
            }
        };
    }
    if state.core.auth.dev_sign_in {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("next", &next)
            .finish();
        return Redirect::to(&format!("/auth/dev?{query}")).into_response();
    }
    let body = "<p>No sign-in method is configured: no identity provider is set, and the development \
                sign-in is offered only when the portal both listens on loopback and is reached through \
                a loopback public URL. Start it with <code>--oidc-issuer</code>, \
                <code>--oidc-client-id</code> and <code>--oidc-client-secret-file</code>.</p>";
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Html(page("Sign-in unavailable", body)),
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    iss: Option<String>,
}

/// `GET /auth/callback`: the identity provider sends the browser back here.
pub async fn callback(
    State(state): State<AppState>,
    session: Session,
    caller: Caller,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let Some(provider) = state.core.auth.oidc.clone() else {
        return (
            StatusCode::NOT_FOUND,
            Html(page(
                "Not found",
                "<p>No identity provider is configured.</p>",
            )),
        )
            .into_response();
    };
    // Whatever happens next, the state in this response is spent.
    let taken = state
        .core
        .auth
        .sealer
        .take(
            &state.core.db,
            &headers,
            query.state.as_deref(),
            state.core.auth.secure_cookies,
        )
        .await;
    let (pending, spent) = match taken {
        Ok(taken) => taken,
        Err(e) => {
            return sign_in_failed(&state, &caller, SignInError::Session(e.to_string()), false)
                .await;
        }
    };
    // Only a response to a sign-in this browser started is recorded: anything else is forged or
    // stale, and recording it would let anyone fill the audit log with text of their choosing.
    let recorded = pending.is_some();
    let mut res = match finish_sign_in(&provider, &session, query, pending).await {
        Ok((who, next)) => {
            record(
                &state,
                &caller,
                (&who.subject, &who.name, &who.groups),
                "sign-in",
                "oidc",
                Outcome::Accepted,
                None,
            )
            .await;
            Redirect::to(&next).into_response()
        }
        Err(e) => sign_in_failed(&state, &caller, e, recorded).await,
    };
    if let Some(cookie) = spent {
        res.headers_mut().append(header::SET_COOKIE, cookie);
    }
    res
}

async fn finish_sign_in(
    provider: &oidc::Oidc,
    session: &Session,
    query: CallbackQuery,
    pending: Option<Pending>,
) -> Result<(app::access::model::Principal, String), SignInError> {
    if let Some(error) = query.error {
        return Err(SignInError::Refused {
            error,
            description: query.error_description,
        });
    }
    provider.check_response_issuer(query.iss.as_deref())?;
    if query.state.is_none() {
        return Err(SignInError::MissingParameter("state"));
    }
    let code = query.code.ok_or(SignInError::MissingParameter("code"))?;
    let pending = pending.ok_or(SignInError::UnknownState)?;
    let next = pending.next.clone();
    let verified = provider.finish(pending, code).await?;
    super::sign_in(session, verified.principal.clone())
        .await
        .map_err(|e| SignInError::Session(e.to_string()))?;
    session
        .insert(ID_TOKEN, verified.id_token)
        .await
        .map_err(|e| SignInError::Session(e.to_string()))?;
    Ok((verified.principal, next))
}

/// Shows the page that says which step failed; the details (and anything the provider sent) go to
/// the server log, and to the audit log when `record_it` (capped there like every stored text).
async fn sign_in_failed(
    state: &AppState,
    caller: &Caller,
    e: SignInError,
    record_it: bool,
) -> Response {
    tracing::warn!(
        error = %e.to_string().escape_debug(),
        step = e.step(),
        request_id = %caller.request_id,
        recorded = record_it,
        "sign-in failed"
    );
    if record_it {
        let outcome = match e {
            SignInError::IdToken(_) | SignInError::UnknownState | SignInError::WrongIssuer(_) => {
                Outcome::Denied
            }
            _ => Outcome::Failed,
        };
        record(
            state,
            caller,
            ANONYMOUS,
            "sign-in",
            "oidc",
            outcome,
            Some(e.to_string()),
        )
        .await;
    }
    sign_in_failure(&e, &caller.request_id)
}

/// `GET /auth/dev`: pick a seeded identity.
pub async fn dev_page(State(state): State<AppState>, Query(query): Query<LoginQuery>) -> Response {
    if !state.core.auth.dev_sign_in {
        return (StatusCode::NOT_FOUND, Html(page("Not found", "<p>The development sign-in is off: an identity provider is configured, or the portal listens or is reached beyond loopback.</p>"))).into_response();
    }
    let mut body = String::from(
        "<p class=\"warning\"><strong>Development sign-in.</strong> No identity provider is configured, so \
         anyone who can reach this loopback address may pick an identity. Configure <code>--oidc-issuer</code> \
         for real sign-in.</p><form method=\"post\" action=\"/auth/dev\" class=\"identities\">",
    );
    body.push_str(&format!(
        "<input type=\"hidden\" name=\"next\" value=\"{}\">",
        escape(&safe_next(query.next))
    ));
    for i in IDENTITIES {
        body.push_str(&format!(
            "<button type=\"submit\" name=\"identity\" value=\"{}\">{} <small>{}{} · groups: {}</small></button>",
            i.key,
            escape(i.name),
            i.role,
            if i.cluster.is_empty() {
                String::new()
            } else {
                format!(" of {}", escape(i.cluster))
            },
            escape(&i.groups.join(", "))
        ));
    }
    body.push_str("</form>");
    Html(page("Sign in", &body)).into_response()
}

#[derive(Deserialize)]
pub struct DevForm {
    identity: String,
    next: Option<String>,
}

/// `POST /auth/dev`: sign in as a seeded identity.
pub async fn dev_sign_in(
    State(state): State<AppState>,
    session: Session,
    caller: Caller,
    Form(form): Form<DevForm>,
) -> Response {
    if !state.core.auth.dev_sign_in {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Some(identity) = dev::identity(&form.identity) else {
        // Not recorded: the text is the caller's, and storing it would let anyone fill the log.
        tracing::warn!(identity = %form.identity.chars().take(64).collect::<String>().escape_debug(), "unknown development identity");
        let known: Vec<&str> = IDENTITIES.iter().map(|i| i.key).collect();
        let body = format!(
            "<p>There is no development identity called “{}”. Choose one of: {}.</p><p><a href=\"/auth/dev\">Back</a></p>",
            escape(&form.identity.chars().take(64).collect::<String>()),
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
            &caller,
            (&who.subject, &who.name, &who.groups),
            "sign-in",
            "development",
            Outcome::Failed,
            Some("the session could not be stored".into()),
        )
        .await;
        return (StatusCode::SERVICE_UNAVAILABLE, Html(page("Sign-in failed", "<p>The session could not be stored: the database did not answer. Try again in a moment.</p>"))).into_response();
    }
    record(
        &state,
        &caller,
        (&who.subject, &who.name, &who.groups),
        "sign-in",
        "development",
        Outcome::Accepted,
        None,
    )
    .await;
    Redirect::to(&safe_next(form.next)).into_response()
}

/// `POST /auth/logout`: ends the session on the server, clears the cookie and, when the identity
/// provider supports it, sends the browser on to end the provider's session too.
pub async fn sign_out(State(state): State<AppState>, session: Session, caller: Caller) -> Response {
    let method = if state.core.auth.oidc.is_some() {
        "oidc"
    } else {
        "development"
    };
    if let Some(who) = super::principal(&session, &state.core.auth).await {
        record(
            &state,
            &caller,
            (&who.subject, &who.name, &who.groups),
            "sign-out",
            method,
            Outcome::Accepted,
            None,
        )
        .await;
    }
    let id_token: Option<String> = session.get(ID_TOKEN).await.ok().flatten();
    if let Err(e) = session.flush().await {
        tracing::error!(error = %e, "could not delete the session");
    }
    if let Some(provider) = &state.core.auth.oidc
        && let Some(url) = provider.logout_url(id_token.as_deref()).await
    {
        return Redirect::to(url.as_str()).into_response();
    }
    Redirect::to("/").into_response()
}

/// `GET /auth/me`: the signed-in person as JSON, or 401.
pub async fn me(State(state): State<AppState>, session: Session) -> Response {
    match super::principal(&session, &state.core.auth).await {
        Some(who) => axum::Json(who).into_response(),
        None => (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "not signed in"})),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_paths_on_this_portal_are_followed_after_sign_in() {
        for (given, kept) in [
            ("/activity?result=denied", "/activity?result=denied"),
            ("//evil.example/", "/"),
            ("https://evil.example/", "/"),
            ("/\\evil.example", "/"),
            ("/a\r\nSet-Cookie: x=1", "/"),
            ("", "/"),
        ] {
            assert_eq!(safe_next(Some(given.into())), kept, "{given:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
