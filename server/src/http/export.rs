//! `GET /activity/export.jsonl` and `/activity/export.csv`: the audit log, filtered, for viewers.

use super::AppState;
use crate::access::{Asker, Refusal, activity_scope};
use crate::store::{audit, audit_export, audit_filter};
use app::access::model::{Action, Target};
use app::activity::ActivityFilter;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

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
    asker: Asker,
    Path(file): Path<String>,
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
    let who = match asker.may(Action::ViewActivity, &Target::Portal).await {
        Ok(who) => who,
        Err(refusal) => return refusal.into_response(),
    };
    let all = match state.core.gate.bindings.get().await {
        Ok(all) => all,
        Err(e) => return Refusal::from(e).into_response(),
    };
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
    let page = match audit::search(&state.core.db, &query).await {
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
