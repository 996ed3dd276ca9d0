//! `GET /activity/export.jsonl` and `/activity/export.csv`: the audit log, filtered, for viewers.

use app::access::model::{Action, Target};
use app::activity::ActivityFilter;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use super::{AppState, Caller};
use crate::access::{activity_scope, may};
use crate::store::{audit, audit_export, audit_filter};

/// At most this many entries per export (the newest first).
const MAX_ROWS: u32 = 1000;

fn refuse(code: StatusCode, message: &str) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{message}\n"),
    )
        .into_response()
}

pub async fn export(
    State(state): State<AppState>,
    session: Session,
    Path(file): Path<String>,
    caller: Caller,
    Query(f): Query<ActivityFilter>,
) -> Response {
    let (content_type, csv) = match file.as_str() {
        "export.jsonl" => ("application/jsonl", false),
        "export.csv" => ("text/csv; charset=utf-8", true),
        _ => {
            return refuse(
                StatusCode::NOT_FOUND,
                "use /activity/export.jsonl or /activity/export.csv",
            );
        }
    };
    let Some(who) = crate::auth::principal(&session, &state.auth).await else {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "sign in to export the activity log",
        );
    };
    let all = match state.bindings.get().await {
        Ok(all) => all,
        Err(e) => {
            tracing::error!(error = %e, "export: cannot read role bindings");
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "the database did not answer; try again in a moment",
            );
        }
    };
    let decision = may(&who, &all, Action::ViewActivity, &Target::Portal);
    if !decision.is_allowed() {
        let denial = audit::NewEntry::now(
            &caller.origin_of(&who),
            Action::ViewActivity.as_str(),
            "portal",
            serde_json::json!({"export": file}),
            audit::Outcome::Denied,
            decision.refusal(Action::ViewActivity),
        );
        if let Err(e) = audit::append(&state.db, &denial).await {
            tracing::error!(error = %e, "export: cannot record a denied export");
        }
        return refuse(
            StatusCode::FORBIDDEN,
            "exporting the activity log needs the viewer role",
        );
    }
    // The newest entries matching the Activity page's filters (its paging does not apply).
    let mut query = match audit_filter::query(
        &ActivityFilter {
            before: String::new(),
            ..f
        },
        MAX_ROWS,
    ) {
        Ok(q) => q,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    // What the Activity page would show this person, and nothing more.
    query.within = activity_scope(&who, &all);
    let page = match audit::search(&state.db, &query).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "export: cannot read the audit log");
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "the database did not answer; try again in a moment",
            );
        }
    };
    let body = if csv {
        audit_export::csv(&page.entries)
    } else {
        audit_export::json_lines(&page.entries)
    };
    let mut res = (StatusCode::OK, body).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let disposition = if csv {
        "attachment; filename=\"portolan-activity.csv\""
    } else {
        "attachment; filename=\"portolan-activity.jsonl\""
    };
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static(disposition),
    );
    res
}
