//! The Activity page: a table of the newest audit-log entries, or an empty state.

use leptos::prelude::*;

use super::{ActivityEntry, recent_activity};
use crate::ui::{EmptyState, ErrorPanel, PageHeader};

#[component]
pub fn ActivityPage() -> impl IntoView {
    let entries = Resource::new(|| (), |_| recent_activity());
    view! {
        <PageHeader
            title="Activity"
            subtitle="Sign-ins, denied attempts and every change, newest first."
        />
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading activity…"</p> }>
            {move || Suspend::new(async move {
                match entries.await {
                    Ok(list) if list.is_empty() => {
                        view! {
                            <EmptyState
                                title="No activity yet"
                                detail="Sign-ins and changes to clusters, pools and access will be listed here."
                            />
                        }
                            .into_any()
                    }
                    Ok(list) => {
                        view! {
                            <p class="export-links">
                                "Export the newest 1,000 entries: "
                                <a href="/activity/export.jsonl" rel="external" download="">"JSON Lines"</a>
                                " · "
                                <a href="/activity/export.csv" rel="external" download="">"CSV"</a>
                            </p>
                            <ActivityTable entries=list />
                        }
                            .into_any()
                    }
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                }
            })}
        </Suspense>
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
                        <th scope="col">"Action"</th>
                        <th scope="col">"Target"</th>
                        <th scope="col">"Result"</th>
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
                                    <td>{e.action}</td>
                                    <td>{e.target}</td>
                                    <td><span class=result_class>{e.result}</span></td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
