//! The Activity page: the audit log with filters (who, what, cluster, result, time range), a page
//! at a time, and exports of what the filters select.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{ActivityEntry, ActivityFilter, search_activity};
use crate::ui::{EmptyState, ErrorPanel, PageHeader, percent_encode};

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
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading activity…"</p> }>
            {move || Suspend::new(async move {
                let f = filter();
                let filtered = f != ActivityFilter::default();
                match page.await {
                    Ok(p) if p.entries.is_empty() => {
                        if filtered {
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
                        }
                    }
                    Ok(p) => {
                        let export = if p.export_query.is_empty() {
                            String::new()
                        } else {
                            format!("?{}", p.export_query)
                        };
                        let older = p.next.map(|next| page_link(&f, &next));
                        let newest = (!f.before.is_empty()).then(|| page_link(&f, ""));
                        view! {
                            <p class="export-links">
                                "Export the newest 1,000 matching entries: "
                                <a href=format!("/activity/export.jsonl{export}") rel="external" download="">"JSON Lines"</a>
                                " · "
                                <a href=format!("/activity/export.csv{export}") rel="external" download="">"CSV"</a>
                            </p>
                            <ActivityTable entries=p.entries />
                            <nav class="pager" aria-label="Pages">
                                {newest.map(|href| view! { <a href=href>"← Newest"</a> })}
                                {older.map(|href| view! { <a href=href rel="next">"Older entries →"</a> })}
                            </nav>
                        }
                            .into_any()
                    }
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                }
            })}
        </Transition>
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

#[component]
fn ActivityTable(entries: Vec<ActivityEntry>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="data-table" aria-label="Activity">
                <thead>
                    <tr>
                        <th scope="col">"Time (UTC)"</th>
                        <th scope="col">"Who"</th>
                        <th scope="col">"What"</th>
                        <th scope="col">"Target"</th>
                        <th scope="col">"Result"</th>
                        <th scope="col">"From"</th>
                    </tr>
                </thead>
                <tbody>
                    {entries
                        .into_iter()
                        .map(|e| {
                            let result_class = format!("badge badge-{}", e.result);
                            view! {
                                <tr>
                                    <td><time datetime=e.at.clone()>{e.at.clone()}</time></td>
                                    <td>{e.actor}</td>
                                    <td>
                                        <span class="summary">{e.summary}</span>
                                        <small class="action-name">{e.action}</small>
                                        {e.details.map(|d| view! {
                                            <details>
                                                <summary>"Before and after"</summary>
                                                <pre>{d}</pre>
                                            </details>
                                        })}
                                    </td>
                                    <td>{e.target}</td>
                                    <td>
                                        <span class=result_class>{e.result}</span>
                                        {e.reason.map(|r| view! { <small class="reason">{r}</small> })}
                                    </td>
                                    <td title=format!("request {}", e.request_id)>{e.client_addr.unwrap_or_default()}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
