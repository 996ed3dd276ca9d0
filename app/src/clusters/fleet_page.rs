//! The fleet page (`/clusters`): counts per health, search and filters, the sortable, paged table.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::fleet;
use super::model::{ClusterRow, FleetQuery, FleetView, Health};
use crate::ui::{Badge, Column, DataTable, EmptyState, Loaded, PageHeader, Pager, Sorting};

/// The view the address asks for (`/clusters?q=…&health=…&sort=…&page=…`).
fn query_from_address() -> impl Fn() -> FleetQuery + Copy {
    let query = use_query_map();
    move || {
        query.with(|q| {
            let get = |k: &str| q.get(k).unwrap_or_default();
            FleetQuery {
                q: get("q"),
                health: get("health"),
                version: get("version"),
                region: get("region"),
                tag: get("tag"),
                sort: get("sort"),
                dir: get("dir"),
                page: get("page"),
            }
        })
    }
}

#[component]
pub fn ClustersPage() -> impl IntoView {
    let query = query_from_address();
    let view = Resource::new(query, |q| {
        fleet(
            q.q, q.health, q.version, q.region, q.tag, q.sort, q.dir, q.page,
        )
    });
    view! {
        <PageHeader title="Clusters" subtitle="Every Kubernetes cluster of the fleet, its version, size and health." />
        <Loaded resource=view loading="Loading clusters…" show=move |v: FleetView| {
            let q = query();
            let create = if v.may_create {
                view! { <p class="page-actions"><a class="button" href="/clusters/new" rel="external">"Create cluster"</a></p> }.into_any()
            } else {
                view! {
                    <p class="page-actions">
                        <button type="button" disabled aria-describedby="create-needs">"Create cluster"</button>
                        " " <small id="create-needs" class="hint">"Creating clusters needs the portal-wide admin role."</small>
                    </p>
                }
                .into_any()
            };
            view! {
                {create}
                {v.stale.clone().map(|s| view! { <p class="stale-notice" role="status">{s}</p> })}
                <HealthCounts view=v.clone() query=q.clone() />
                <Filters view=v.clone() query=q.clone() />
                <FleetTable view=v query=q />
            }
        } />
    }
}

/// Counts per health state, each a link that filters by it.
#[component]
fn HealthCounts(view: FleetView, query: FleetQuery) -> impl IntoView {
    let total: usize = view.counts.iter().map(|(_, n)| n).sum();
    let current = Health::parse(&query.health);
    let all_href = query.with_health(None).href();
    let states = view
        .counts
        .iter()
        .filter(|(h, n)| *n > 0 || Some(*h) == current)
        .map(|(h, n)| {
            let href = query.with_health(Some(*h)).href();
            let here = (Some(*h) == current).then_some("true");
            view! {
                <li>
                    <a href=href class=crate::ui::badge_class(h.as_str()) aria-current=here rel="external">
                        {h.label()} " " <span class="count">{*n}</span>
                    </a>
                </li>
            }
        })
        .collect_view();
    view! {
        <nav class="health-counts" aria-label="Clusters by health">
            <ul>
                <li>
                    <a href=all_href class="badge" aria-current=current.is_none().then_some("true") rel="external">
                        "All " <span class="count">{total}</span>
                    </a>
                </li>
                {states}
            </ul>
        </nav>
    }
}

/// Search and filters: a GET form the browser submits (`data-native`), so it works without
/// JavaScript and the address carries the view.
#[component]
fn Filters(view: FleetView, query: FleetQuery) -> impl IntoView {
    let health: Vec<(String, String)> = Health::ALL
        .iter()
        .map(|h| (h.as_str().to_string(), h.label().to_string()))
        .collect();
    let same = |values: &[String]| values.iter().map(|v| (v.clone(), v.clone())).collect();
    view! {
        <form method="get" action="/clusters" class="binding-form filters" role="search" aria-label="Filter clusters" data-native="">
            <label>"Search clusters" <input type="search" name="q" maxlength="256" placeholder="name" value=query.q.clone() /></label>
            {select("Health", "health", &query.health, health)}
            {select("Version", "version", &query.version, same(&view.versions))}
            {select("Region", "region", &query.region, same(&view.regions))}
            <label>"Tag" <input name="tag" maxlength="256" placeholder="key=value" value=query.tag.clone() /></label>
            {(!query.sort.is_empty()).then(|| view! { <input type="hidden" name="sort" value=query.sort.clone() /> })}
            {(!query.dir.is_empty()).then(|| view! { <input type="hidden" name="dir" value=query.dir.clone() /> })}
            <button type="submit">"Filter"</button>
            <a href="/clusters" class="clear-filters" rel="external">"Clear"</a>
        </form>
    }
}

/// A labelled menu of `(value, text)` options after "Any", with `current` selected.
fn select(
    label: &'static str,
    name: &'static str,
    current: &str,
    options: Vec<(String, String)>,
) -> impl IntoView + use<> {
    let any = current.is_empty();
    let current = current.to_string();
    let options = options
        .into_iter()
        .map(|(value, text)| {
            let selected = value.eq_ignore_ascii_case(&current);
            view! { <option value=value selected=selected>{text}</option> }
        })
        .collect_view();
    view! {
        <label>
            {label}
            <select name=name>
                <option value="" selected=any>"Any"</option>
                {options}
            </select>
        </label>
    }
}

#[component]
fn FleetTable(view: FleetView, query: FleetQuery) -> impl IntoView {
    if view.visible == 0 {
        return view! {
            <EmptyState
                title="No clusters to show"
                detail="There are no clusters on the management cluster yet, or none your roles let you see. An administrator can create one, or grant you a role on an existing one on the Access page."
            />
        }
        .into_any();
    }
    let filtered = query.is_filtered();
    let sort_query = query.clone();
    let sorting = Sorting {
        key: view.sort.clone(),
        descending: view.descending,
        href: Arc::new(move |key, descending| sort_query.sorted(key, descending).href()),
    };
    let pager = Pager {
        previous: (view.page > 1).then(|| (query.on_page(view.page - 1).href(), "← Previous")),
        next: (view.page < view.pages).then(|| (query.on_page(view.page + 1).href(), "Next →")),
    };
    let summary = format!(
        "{} of {} clusters{}",
        view.matching,
        view.visible,
        if view.pages > 1 {
            format!(" · page {} of {}", view.page, view.pages)
        } else {
            String::new()
        }
    );
    view! {
        <p class="table-summary" role="status">{summary}</p>
        <DataTable
            label="Clusters"
            columns=fleet_columns()
            rows=view.rows
            sorting
            pager
            empty=move || {
                if filtered {
                    view! {
                        <EmptyState title="No cluster matches these filters" detail="Clear a filter or search for another name.">
                            <p><a href="/clusters" rel="external">"Clear all filters"</a></p>
                        </EmptyState>
                    }
                    .into_any()
                } else {
                    view! { <EmptyState title="No clusters" detail="Nothing to show here." /> }.into_any()
                }
            }
        />
    }
    .into_any()
}

fn fleet_columns() -> Vec<Column<ClusterRow>> {
    vec![
        Column::new("Name", |r: &ClusterRow| {
            view! { <a href=r.href() class="cluster-link">{r.name.clone()}</a> }.into_any()
        })
        .sortable("name"),
        Column::new("Namespace", |r: &ClusterRow| r.namespace.clone().into_any()).sortable("namespace"),
        Column::new("Region", |r: &ClusterRow| r.region.clone().into_any()).sortable("region"),
        Column::new("Kubernetes version", |r: &ClusterRow| {
            view! {
                {r.version.clone()}
                {r.upgrade.clone().map(|u| view! {
                    " " <span class="upgrade-available" title=format!("{u} is available")>"upgrade available"</span>
                })}
            }
            .into_any()
        })
        .sortable("version"),
        Column::new("Health", |r: &ClusterRow| health_cell(r).into_any()).sortable("health"),
        Column::new("Node pools", |r: &ClusterRow| r.pools.to_string().into_any()).sortable("pools"),
        Column::new("Nodes ready", |r: &ClusterRow| {
            match (r.nodes_ready, r.nodes_total) {
                (Some(ready), Some(total)) => format!("{ready}/{total}").into_any(),
                _ => view! { <span class="muted" title="The workload cluster's nodes are not known">"—"</span> }.into_any(),
            }
        })
        .sortable("nodes"),
        Column::new("Tags", |r: &ClusterRow| {
            r.tags
                .iter()
                .map(|t| view! { <span class="tag">{t.clone()}</span> " " })
                .collect_view()
                .into_any()
        }),
        Column::new("Age", |r: &ClusterRow| {
            view! { <time datetime=r.created.clone() title=r.created.clone()>{r.age.clone()}</time> }.into_any()
        })
        .sortable("age"),
    ]
}

/// The health badge with its reason beside it.
pub fn health_cell(r: &ClusterRow) -> impl IntoView + use<> {
    let h = r.health.health;
    view! {
        <Badge state=h.as_str() text=h.label() />
        " "
        <span class="health-reason">{r.health.reason.clone()}</span>
    }
}
