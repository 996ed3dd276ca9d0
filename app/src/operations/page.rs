//! The Operations page (every change, newest first, with progress and filters), one operation's
//! page with its steps, and the list a cluster's Overview shows of its own.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::model::{KINDS, OpQuery, OpStatus, OperationRow, OperationsView};
use super::{read_operation, read_operations};
use crate::clusters::model::cluster_href;
use crate::ui::{Badge, Column, DataTable, EmptyState, Loaded, PageHeader, percent_encode};

/// `/operations/<id>`.
fn op_href(id: &str) -> String {
    format!("/operations/{}", percent_encode(id))
}

/// A progress bar with its numbers: `done` of `total` steps.
fn progress(o: &OperationRow) -> AnyView {
    let label = format!("Progress of: {}", o.what);
    let (value, max) = if o.total == 0 {
        let finished = o.status != OpStatus::Running;
        (u32::from(finished), 1)
    } else {
        (o.done.min(o.total), o.total)
    };
    view! {
        <span class="op-progress">
            <progress value=value.to_string() max=max.to_string() aria-label=label></progress>
            <small>{format!("{value} of {max}")}</small>
        </span>
    }
    .into_any()
}

fn columns(with_cluster: bool) -> Vec<Column<OperationRow>> {
    let mut c = vec![
        Column::new("Operation", |o: &OperationRow| {
            view! { <a href=op_href(&o.id) rel="external">{o.what.clone()}</a> }.into_any()
        }),
        Column::new("Status", |o: &OperationRow| {
            view! {
                <Badge state=o.status.as_str() text=o.status.label() />
                {(!o.message.is_empty()).then(|| view! { <small class="reason">{o.message.clone()}</small> })}
            }
            .into_any()
        }),
        Column::new("Progress", progress),
    ];
    if with_cluster {
        c.push(Column::new("Cluster", |o: &OperationRow| {
            view! {
                <a href=cluster_href(&o.namespace, &o.name, "") rel="external">{format!("{}/{}", o.namespace, o.name)}</a>
            }
            .into_any()
        }));
    }
    c.push(Column::new("Who", |o: &OperationRow| {
        o.who.clone().into_any()
    }));
    c.push(Column::new("Started (UTC)", |o: &OperationRow| {
        view! { <time datetime=o.started.clone()>{o.started.clone()}</time> }.into_any()
    }));
    c.push(Column::new("Elapsed", |o: &OperationRow| {
        o.elapsed.clone().into_any()
    }));
    c
}

/// The operations of one cluster, as its Overview lists them (they come with the overview).
#[component]
pub fn OpsList(rows: Vec<OperationRow>, namespace: String, name: String) -> impl IntoView {
    let all = format!(
        "/operations?cluster={}",
        percent_encode(&format!("{namespace}/{name}"))
    );
    view! {
        <DataTable label="Operations of this cluster" columns=columns(false) rows empty=|| view! {
            <p class="muted">"No operations yet: scaling a pool or upgrading lists one here."</p>
        } />
        <p><a href=all rel="external">"All operations of this cluster"</a></p>
    }
}

fn query_in_address() -> impl Fn() -> OpQuery + Copy + Send + Sync + 'static {
    let query = use_query_map();
    move || {
        query.with(|q| OpQuery {
            status: q.get("status").unwrap_or_default(),
            cluster: q.get("cluster").unwrap_or_default(),
            kind: q.get("kind").unwrap_or_default(),
        })
    }
}

/// `/operations?status=…&cluster=…&kind=…`.
#[component]
pub fn OperationsPage() -> impl IntoView {
    let query = query_in_address();
    let data = Resource::new(query, |q| read_operations(q.status, q.cluster, q.kind));
    view! {
        <PageHeader title="Operations" subtitle="Every change made through the portal, followed until it is done." />
        <Filters query />
        <Loaded resource=data loading="Loading operations…" show=move |v: OperationsView| {
            let filtered = v.query != OpQuery::default();
            view! {
                // Without JavaScript the page follows running operations by reloading itself.
                {v.running.then(|| view! { <leptos_meta::Meta http_equiv="refresh" content="2" /> })}
                <DataTable label="Operations" columns=columns(true) rows=v.rows empty=move || if filtered {
                    view! { <EmptyState title="No operation matches these filters" detail="Clear a filter to see more.">
                        <p><a href="/operations" rel="external">"Clear all filters"</a></p>
                    </EmptyState> }.into_any()
                } else {
                    view! { <EmptyState title="No operations yet"
                        detail="Scaling a node pool or upgrading a cluster starts an operation; it is followed here until it ends." /> }.into_any()
                } />
            }
        } />
    }
}

#[component]
fn Filters(query: impl Fn() -> OpQuery + Copy + Send + Sync + 'static) -> impl IntoView {
    let status_is = move |s: &'static str| move || query().status == s;
    let kind_is = move |k: &'static str| move || query().kind == k;
    view! {
        <form method="get" action="/operations" class="binding-form filters" aria-label="Filter operations" data-native="">
            <label>
                "Status"
                <select name="status">
                    <option value="" selected=status_is("")>"Any"</option>
                    {OpStatus::ALL.into_iter().map(|s| view! {
                        <option value=s.as_str() selected=status_is(s.as_str())>{s.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>"Cluster" <input name="cluster" maxlength="256" placeholder="namespace/name" value=move || query().cluster /></label>
            <label>
                "Kind"
                <select name="kind">
                    <option value="" selected=kind_is("")>"Any"</option>
                    {KINDS.into_iter().map(|(k, label)| view! {
                        <option value=k selected=kind_is(k)>{label}</option>
                    }).collect_view()}
                </select>
            </label>
            <button type="submit">"Filter"</button>
            <a href="/operations" class="clear-filters">"Clear"</a>
        </form>
    }
}

/// `/operations/<id>`: one operation, its progress and its steps; kept after it ends.
#[component]
pub fn OperationPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let data = Resource::new(id, read_operation);
    view! {
        <Loaded resource=data loading="Loading the operation…" show=move |o: OperationRow| {
            let running = o.status == OpStatus::Running;
            let as_of = o.as_of_ms;
            let steps = vec![
                Column::new("Step", |s: &super::model::OpStep| s.subject.clone().into_any()),
                Column::new("State", |s: &super::model::OpStep| view! { <Badge state=s.state.clone() text=s.state.clone() /> }.into_any()),
                Column::new("For", move |s: &super::model::OpStep| {
                    if s.since_ms > 0 { super::model::elapsed(as_of - s.since_ms).into_any() } else { "—".into_any() }
                }),
                Column::new("Detail", |s: &super::model::OpStep| view! { <span class="wrap">{s.detail.clone()}</span> }.into_any()),
            ];
            view! {
                {running.then(|| view! { <leptos_meta::Meta http_equiv="refresh" content="2" /> })}
                <Title text=o.what.clone() />
                <header class="page-header">
                    <p class="eyebrow"><a href="/operations" rel="external">"Operations"</a> " / "
                        <a href=cluster_href(&o.namespace, &o.name, "") rel="external">{format!("{}/{}", o.namespace, o.name)}</a></p>
                    <h1>{o.what.clone()}</h1>
                </header>
                <section class="op-summary" aria-label="Operation" role="status">
                    <p><Badge state=o.status.as_str() text=o.status.label() /> " " {o.message.clone()}</p>
                    {progress(&o)}
                    <dl class="details">
                        <dt>"Started by"</dt><dd>{o.who.clone()}</dd>
                        <dt>"Started (UTC)"</dt><dd><time datetime=o.started.clone()>{o.started.clone()}</time></dd>
                        <dt>"Ended (UTC)"</dt><dd>{o.ended.clone().unwrap_or_else(|| "still running".into())}</dd>
                        <dt>"Elapsed"</dt><dd>{o.elapsed.clone()}</dd>
                    </dl>
                </section>
                <h2>"Steps"</h2>
                <DataTable label="Steps" columns=steps rows=o.steps.clone() empty=|| view! {
                    <p class="muted">"No steps recorded yet."</p>
                } />
            }
        } />
    }
}
