//! `POST /clusters/new?step=…`: one step of the creation wizard, posted as a plain form (with or
//! without JavaScript). A step that passes redirects (303) to the next; one that does not is the
//! same page again with the problems beside the fields, at 422.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use leptos::prelude::provide_context;
use leptos::reactive::computed::ScopedFuture;
use leptos::reactive::owner::Owner;
use tower_sessions::Session;

use app::access::model::{Action, Target};
use app::clusters::wizard::draft::Step;
use app::error::AppError;

use super::AppState;
use crate::access::Asker;
use crate::backend::Submitted;
use crate::error::plain;

/// The largest step form read: 50 tags and a hundred pools fit many times over.
const FORM_LIMIT: usize = 256 * 1024;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/clusters/new", axum::routing::post(submit))
}

async fn submit(State(state): State<AppState>, asker: Asker, req: Request) -> Response {
    match step(&state, &asker, req).await {
        Ok(response) => response,
        Err(e) => plain(&e),
    }
}

/// The step named in the address (`?step=pools`).
fn step_of(query: Option<&str>) -> Step {
    let step = query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "step")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        })
        .unwrap_or_default();
    Step::parse(&step)
}

async fn step(state: &AppState, asker: &Asker, req: Request) -> Result<Response, AppError> {
    let who = asker.may(Action::CreateCluster, &Target::Portal).await?;
    let (parts, body) = req.into_parts();
    let session = parts
        .extensions
        .get::<Session>()
        .cloned()
        .ok_or(AppError::Unauthenticated)?;
    let bytes = to_bytes(body, FORM_LIMIT).await.map_err(|_| {
        AppError::BadRequest(format!(
            "the form is larger than {} KiB; nothing was changed",
            FORM_LIMIT / 1024
        ))
    })?;
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&bytes).into_owned().collect();
    let step = step_of(parts.uri.query());

    // The backend records in the audit log with this request's id and address, which it reads
    // from the Leptos context, as for server functions.
    let owner = Owner::new();
    let backend = state.backend.clone();
    let context_parts = parts.clone();
    let submitted = owner
        .with(|| {
            ScopedFuture::new(async move {
                provide_context(context_parts);
                backend.wizard_submit(&who, &session, step, &form).await
            })
        })
        .await?;
    match submitted {
        Submitted::To(to) => Ok(Redirect::to(&to).into_response()),
        Submitted::Invalid(posted) => {
            // The page of this step, rendered for this request, showing what was posted.
            let mut get = Request::new(Body::empty());
            *get.method_mut() = Method::GET;
            *get.uri_mut() = parts.uri.clone();
            *get.headers_mut() = parts.headers.clone();
            get.headers_mut().remove(header::CONTENT_TYPE);
            get.headers_mut().remove(header::CONTENT_LENGTH);
            *get.extensions_mut() = parts.extensions.clone();
            get.extensions_mut().insert(*posted);
            let render = leptos_axum::render_app_async_with_context(
                super::leptos_context(state.backend.clone()),
                {
                    let options = state.leptos_options.clone();
                    move || app::shell(options.clone())
                },
            );
            let mut page = render(get).await;
            if page.status() == StatusCode::OK {
                *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            }
            Ok(page)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_step_comes_from_the_address() {
        assert_eq!(step_of(Some("step=pools")), Step::Pools);
        assert_eq!(step_of(Some("x=1&step=review")), Step::Review);
        assert_eq!(step_of(Some("step=nonsense")), Step::Basics);
        assert_eq!(step_of(None), Step::Basics);
    }
}
