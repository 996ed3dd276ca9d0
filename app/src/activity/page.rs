//! The Activity page: the audit log with filters (who, what, cluster, result, time range), a page
//! at a time, and exports of what the filters select.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{ActivityEntry, ActivityFilter, search_activity};
use crate::ui::{Badge, Column, DataTable, EmptyState, Loaded, PageHeader, Pager, percent_encode};

/// The filters in the address (`/activity?actor=…&before=…`), so a filtered view can be shared.
fn filter_from_query() -> impl Fn() -> ActivityFilter + Copy {
    let query = use_query_map();
    move || {
        query.with(|q| {
            let get = |k: &str| q.get(k).unwrap_or_default();
            ActivityFilter {
                actor: get("actor"),
                action: get("action"),
                cluster: get("cluster"),
                result: get("result"),
                from: get("from"),
                to: get("to"),
                before: get("before"),
            }
        })
    }
}

/// `/activity?…` for `filter` starting at page `before`.
fn page_link(filter: &ActivityFilter, before: &str) -> String {
    let mut parts = Vec::new();
    for (k, v) in [
        ("actor", &filter.actor),
        ("action", &filter.action),
        ("cluster", &filter.cluster),
        ("result", &filter.result),
        ("from", &filter.from),
        ("to", &filter.to),
    ] {
        if !v.is_empty() {
            parts.push(format!("{k}={}", percent_encode(v)));
        }
    }
    if !before.is_empty() {
        parts.push(format!("before={}", percent_encode(before)));
    }
    if parts.is_empty() {
        "/activity".into()
    } else {
        format!("/activity?{}", parts.join("&"))
    }
}

#[component]
pub fn ActivityPage() -> impl IntoView {
    let filter = filter_from_query();
    let page = Resource::new(filter, |f| {
        search_activity(
            f.actor, f.action, f.cluster, f.result, f.from, f.to, f.before,
        )
    });
    view! {
        <PageHeader
            title="Activity"
            subtitle="Sign-ins, denied attempts and every change, newest first."
        />
        <Filters filter />
        <Loaded resource=page loading="Loading activity…" show=move |p: super::ActivityPage| {
            let f = filter();
            let filtered = f != ActivityFilter::default();
            if p.entries.is_empty() {
                return if filtered {
                    view! {
                        <EmptyState
                            title="Nothing matches these filters"
                            detail="Widen the time range or clear a filter."
                        >
                            <p><a href="/activity">"Clear all filters"</a></p>
                        </EmptyState>
                    }
                        .into_any()
                } else {
                    view! {
                        <EmptyState
                            title="No activity yet"
                            detail="Sign-ins and changes to clusters, pools and access will be listed here."
                        />
                    }
                        .into_any()
                };
            }
            let export = if p.export_query.is_empty() {
                String::new()
            } else {
                format!("?{}", p.export_query)
            };
            let pager = Pager {
                previous: (!f.before.is_empty()).then(|| (page_link(&f, ""), "← Newest")),
                next: p.next.map(|next| (page_link(&f, &next), "Older entries →")),
            };
            view! {
                <p class="export-links">
                    "Export the newest 1,000 matching entries: "
                    <a href=format!("/activity/export.jsonl{export}") rel="external" download="">"JSON Lines"</a>
                    " · "
                    <a href=format!("/activity/export.csv{export}") rel="external" download="">"CSV"</a>
                </p>
                <DataTable
                    label="Activity"
                    columns=activity_columns()
                    rows=p.entries
                    pager
                />
            }
                .into_any()
        } />
    }
}

/// The filter form: a GET form, so it works without JavaScript and the address keeps the filters.
#[component]
fn Filters(filter: impl Fn() -> ActivityFilter + Copy + Send + Sync + 'static) -> impl IntoView {
    let value = move |pick: fn(ActivityFilter) -> String| move || pick(filter());
    let result_is = move |r: &'static str| move || filter().result == r;
    view! {
        // A plain GET form, left to the browser (`data-native`): its field named `action` hides the
        // form's own `action` from scripts such as the islands router.
        <form method="get" action="/activity" class="binding-form filters" aria-label="Filter activity" data-native="">
            <label>"Who" <input name="actor" maxlength="256" placeholder="name or subject" value=value(|f| f.actor) /></label>
            <label>"Action" <input name="action" maxlength="256" placeholder="e.g. sign-in, grant-role" value=value(|f| f.action) /></label>
            <label>"Cluster" <input name="cluster" maxlength="256" placeholder="namespace/name" value=value(|f| f.cluster) /></label>
            <label>
                "Result"
                <select name="result">
                    <option value="" selected=result_is("")>"Any"</option>
                    <option value="accepted" selected=result_is("accepted")>"Accepted"</option>
                    <option value="denied" selected=result_is("denied")>"Denied"</option>
                    <option value="failed" selected=result_is("failed")>"Failed"</option>
                </select>
            </label>
            <label>"From (UTC)" <input name="from" type="date" value=value(|f| f.from) /></label>
            <label>"To (UTC)" <input name="to" type="date" value=value(|f| f.to) /></label>
            <button type="submit">"Filter"</button>
            <a href="/activity" class="clear-filters">"Clear"</a>
        </form>
    }
}

/// The Activity table's columns.
fn activity_columns() -> Vec<Column<ActivityEntry>> {
    vec![
        Column::new("Time (UTC)", |e: &ActivityEntry| {
            view! { <time datetime=e.at.clone()>{e.at.clone()}</time> }.into_any()
        }),
        Column::new("Who", |e: &ActivityEntry| e.actor.clone().into_any()),
        Column::new("What", |e: &ActivityEntry| {
            view! {
                <span class="summary">{e.summary.clone()}</span>
                <small class="action-name">{e.action.clone()}</small>
                {e.operation.clone().map(|id| view! {
                    <a class="op-link" href=format!("/operations/{}", crate::ui::percent_encode(&id)) rel="external">"Operation"</a>
                })}
                {e.details.clone().map(|d| view! {
                    <details>
                        <summary>"Before and after"</summary>
                        <pre>{d}</pre>
                    </details>
                })}
            }
            .into_any()
        }),
        Column::new("Target", |e: &ActivityEntry| e.target.clone().into_any()),
        Column::new("Result", |e: &ActivityEntry| {
            view! {
                <Badge state=e.result.clone() text=e.result.clone() />
                {e.reason.clone().map(|r| view! { <small class="reason">{r}</small> })}
            }
            .into_any()
        }),
        Column::new("From", |e: &ActivityEntry| {
            view! {
                <span title=format!("request {}", e.request_id)>{e.client_addr.clone().unwrap_or_default()}</span>
            }
                .into_any()
        }),
    ]
}
