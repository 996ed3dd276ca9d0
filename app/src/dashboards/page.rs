//! The dashboard pages: the list, a dashboard (and its kiosk mode), and the editor.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::model::*;
use super::{DeleteDashboard, SaveDashboard, list_dashboards, read_dashboard};
use crate::clusters::model::cluster_href;
use crate::metrics::ChartPanel;
use crate::metrics::model::{ChartName, ChartScope};
use crate::ui::{Badge, Column, DataTable, EmptyState, Loaded, PageHeader};

/// How many clusters get CPU and memory charts on one dashboard (each is a live chart).
const CHARTED: usize = 12;

/// `/dashboards`: every dashboard the caller may see, and "New dashboard" for operators.
#[component]
pub fn DashboardsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| list_dashboards());
    view! {
        <PageHeader title="Dashboards" subtitle="Team health dashboards: clusters, warnings and live CPU and memory." />
        <Loaded resource=data loading="Loading dashboards…" show=move |l: DashboardList| {
            let columns = vec![
                Column::new("Dashboard", |d: &DashboardSummary| {
                    view! { <a href=format!("/dashboards/{}", d.slug) rel="external">{d.name.clone()}</a> }.into_any()
                }),
                Column::new("Clusters", |d: &DashboardSummary| d.scope.clone().into_any()),
                Column::new("Changed", |d: &DashboardSummary| format!("{} by {}", d.updated, d.updated_by).into_any()),
            ];
            view! {
                {l.may_manage.then(|| view! { <p><a class="button" href="/dashboards/new" rel="external">"New dashboard"</a></p> })}
                <DataTable label="Dashboards" columns rows=l.dashboards.clone() empty=move || view! {
                    <EmptyState title="No dashboards yet" detail="A dashboard shows a team's clusters — by name or by a tag such as team=payments — with their health, warnings and live CPU and memory. Operators create them." />
                } />
            }
        } />
    }
}

/// The form both the editor and "New dashboard" use.
#[component]
fn DashboardForm(slug: String, spec: DashboardSpec) -> impl IntoView {
    let save = ServerAction::<SaveDashboard>::new();
    let checked = move |p: Panel| spec.panels.contains(&p);
    let boxes = Panel::ALL
        .into_iter()
        .map(|p| {
            let name = format!("panel_{}", p.as_str());
            view! { <label class="check"><input type="checkbox" name=name checked=checked(p) />" " {p.label()}</label> }
        })
        .collect_view();
    let creating = slug.is_empty();
    view! {
        <ActionForm action=save attr:class="dashboard-form" attr:aria-label="Dashboard" attr:data-native="">
            <input type="hidden" name="slug" value=slug />
            <label>"Name" <input name="name" required maxlength="80" value=spec.name.clone() placeholder="e.g. Payments" /></label>
            <label>"Clusters by name"
                <textarea name="clusters" rows="4" placeholder="default/prod-weu, one per line">{spec.clusters.join("\n")}</textarea>
                <small class="hint">"namespace/name, one per line or separated by commas"</small>
            </label>
            <label>"Clusters by tag"
                <input name="selector" maxlength="512" value=spec.selector.clone() placeholder="team=payments" />
                <small class="hint">"key=value or key, separated by commas; every term must match. At most 200 clusters in all."</small>
            </label>
            <fieldset><legend>"Panels"</legend>{boxes}</fieldset>
            <button type="submit" disabled=move || save.pending().get()>{if creating { "Create dashboard" } else { "Save dashboard" }}</button>
        </ActionForm>
        {move || save.value().get().and_then(|r| r.err()).map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })}
    }
}

/// `/dashboards/new`.
#[component]
pub fn NewDashboardPage() -> impl IntoView {
    let spec = DashboardSpec {
        panels: Panel::ALL.to_vec(),
        ..DashboardSpec::default()
    };
    view! {
        <Title text="New dashboard" />
        <header class="page-header">
            <p class="eyebrow"><a href="/dashboards" rel="external">"Dashboards"</a></p>
            <h1>"New dashboard"</h1>
        </header>
        <DashboardForm slug=String::new() spec />
    }
}

fn slug_param() -> impl Fn() -> String + Copy + Send + Sync + 'static {
    let params = use_params_map();
    move || params.with(|p| p.get("slug").unwrap_or_default())
}

/// `/dashboards/<slug>/edit`: the form, and "Delete dashboard".
#[component]
pub fn DashboardEditPage() -> impl IntoView {
    let slug = slug_param();
    let data = Resource::new(slug, read_dashboard);
    let delete = ServerAction::<DeleteDashboard>::new();
    view! {
        <Loaded resource=data loading="Loading the dashboard…" show=move |d: DashboardView| {
            view! {
                <Title text=format!("Edit {}", d.spec.name) />
                <header class="page-header">
                    <p class="eyebrow"><a href="/dashboards" rel="external">"Dashboards"</a> " / " <a href=format!("/dashboards/{}", d.slug) rel="external">{d.spec.name.clone()}</a></p>
                    <h1>"Edit " {d.spec.name.clone()}</h1>
                </header>
                <DashboardForm slug=d.slug.clone() spec=d.spec.clone() />
                <ActionForm action=delete attr:class="inline-form" attr:data-native="">
                    <input type="hidden" name="slug" value=d.slug.clone() />
                    <button type="submit" class="danger">"Delete dashboard"</button>
                </ActionForm>
            }
        } />
    }
}

fn tile(t: &ClusterTile, panels: &[Panel]) -> impl IntoView + use<> {
    let h = t.health.health;
    let nodes = match (t.nodes_ready, t.nodes_total) {
        (Some(r), Some(n)) => format!("{r}/{n} nodes ready"),
        _ => "nodes not known".to_string(),
    };
    let pods = match t.pods_not_running {
        Some(0) => "all pods running".to_string(),
        Some(n) => format!("{n} pods not running"),
        None => "pods not known".to_string(),
    };
    let label = format!("{}/{}", t.namespace, t.name);
    view! {
        <li class="tile" aria-label=label.clone()>
            <a href=cluster_href(&t.namespace, &t.name, "") rel="external" class="tile-name">{t.name.clone()}</a>
            {panels.contains(&Panel::Health).then(|| view! {
                <p><Badge state=h.as_str() text=h.label() />" " <span class="tile-reason">{t.health.reason.clone()}</span></p>
            })}
            {panels.contains(&Panel::NodesReady).then(|| view! { <p class="tile-figure">{nodes}</p> })}
            {panels.contains(&Panel::PodsNotRunning).then(|| view! { <p class="tile-figure">{pods}</p> })}
        </li>
    }
}

/// `/dashboards/<slug>` (and `?kiosk=1`: no navigation, large type, for a wall screen).
#[component]
pub fn DashboardPage() -> impl IntoView {
    let slug = slug_param();
    let query = use_query_map();
    let kiosk = move || query.with(|q| q.get("kiosk").is_some_and(|v| v == "1"));
    let data = Resource::new(slug, read_dashboard);
    view! {
        <Loaded resource=data loading="Loading the dashboard…" show=move |d: DashboardView| {
            let kiosk = kiosk();
            let panels = d.spec.panels.clone();
            let tiles_shown = [Panel::Health, Panel::NodesReady, Panel::PodsNotRunning].iter().any(|p| panels.contains(p));
            let charts: Vec<ChartName> = [(Panel::Cpu, ChartName::Cpu), (Panel::Memory, ChartName::Memory)]
                .into_iter()
                .filter(|(p, _)| panels.contains(p))
                .map(|(_, c)| c)
                .collect();
            let scope = {
                let mut parts = Vec::new();
                if !d.spec.clusters.is_empty() {
                    parts.push(format!("{} named", d.spec.clusters.len()));
                }
                if !d.spec.selector.is_empty() {
                    parts.push(format!("tag {}", d.spec.selector));
                }
                format!("{} clusters shown ({}) · as of {}", d.tiles.len(), parts.join(", "), d.at)
            };
            let href = format!("/dashboards/{}", d.slug);
            let warnings = d.warnings.clone();
            view! {
                <Title text=d.spec.name.clone() />
                <div class="dashboard" class:kiosk-page=kiosk>
                    <header class="page-header">
                        {(!kiosk).then(|| view! { <p class="eyebrow"><a href="/dashboards" rel="external">"Dashboards"</a></p> })}
                        <h1>{d.spec.name.clone()}</h1>
                        <p class="subtitle">{scope}</p>
                        <p class="actions">
                            {if kiosk {
                                view! { <a class="button" href=href.clone() rel="external">"Leave kiosk"</a> }.into_any()
                            } else {
                                view! { <a class="button" href=format!("{href}?kiosk=1") rel="external">"Kiosk"</a> }.into_any()
                            }}
                            {(d.may_manage && !kiosk).then(|| view! { " " <a class="button secondary" href=format!("{href}/edit") rel="external">"Edit"</a> })}
                        </p>
                        <KioskWatch slug=d.slug.clone() at=d.at.clone() active=kiosk />
                    </header>
                    {(d.tiles.is_empty()).then(|| view! {
                        <EmptyState title="No clusters match" detail="No cluster you may see has one of the names or the tags this dashboard lists." />
                    })}
                    {tiles_shown.then(|| {
                        let tiles = d.tiles.iter().map(|t| tile(t, &panels)).collect_view();
                        view! { <ul class="tiles" aria-label="Clusters">{tiles}</ul> }
                    })}
                    {panels.contains(&Panel::Warnings).then(|| view! {
                        <section aria-labelledby="warnings-h">
                            <h2 id="warnings-h">"Warnings"</h2>
                            {if warnings.is_empty() {
                                view! { <p class="muted">"Nothing needs attention."</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="warnings">
                                        {warnings.iter().map(|w| view! {
                                            <li><strong>{w.cluster.clone()}</strong> " · " {w.object.clone()} ": " {w.text.clone()}</li>
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                        </section>
                    })}
                    {(!charts.is_empty()).then(|| {
                        let charts = charts.clone();
                        view! {
                            <section aria-label="CPU and memory">
                                <h2>"CPU and memory"</h2>
                                {(d.tiles.len() > CHARTED).then(|| view! { <p class="muted">{format!("Charts for the first {CHARTED} clusters.")}</p> })}
                                {d.tiles.iter().take(CHARTED).enumerate().map(|(i, t)| view! {
                                    <h3>{format!("{}/{}", t.namespace, t.name)}</h3>
                                    <ChartPanel namespace=t.namespace.clone() name=t.name.clone() scope=ChartScope::Cluster charts=charts.clone() ranges={i == 0} />
                                }).collect_view()}
                            </section>
                        }
                    })}
                </div>
            }
        } />
    }
}

/// Keeps a kiosk current: every 20 s it asks for the dashboard again; when tiles or warnings
/// changed (or the portal is back after an outage) it reloads the page; when the portal does not
/// answer or the session ended it says so ("reconnecting", "signed out") instead of showing the
/// numbers as current. Charts follow by themselves. Outside kiosk mode it does nothing.
#[island]
fn KioskWatch(slug: String, at: String, active: bool) -> impl IntoView {
    let problem = RwSignal::new(None::<String>);
    #[cfg(feature = "hydrate")]
    if active {
        let was_down = RwSignal::new(false);
        let seen = StoredValue::new(None::<(Vec<ClusterTile>, Vec<Warning>)>);
        let check = move || {
            let slug = slug.clone();
            let at = at.clone();
            leptos::task::spawn_local(async move {
                match super::read_dashboard(slug).await {
                    Ok(d) => {
                        let now = (d.tiles, d.warnings);
                        let changed = seen.with_value(|s| s.as_ref().is_some_and(|s| *s != now));
                        seen.set_value(Some(now));
                        if (changed || was_down.get_untracked())
                            && let Some(w) = web_sys::window()
                        {
                            let _ = w.location().reload();
                        }
                    }
                    Err(crate::error::AppError::Unauthenticated) => {
                        problem.set(Some(format!("Signed out: these numbers stopped at {at}. Sign in again to follow them.")));
                    }
                    Err(_) => {
                        was_down.set(true);
                        problem.set(Some(format!(
                            "Reconnecting: the portal does not answer; these numbers are from {at}."
                        )));
                    }
                }
            });
        };
        let handle = set_interval_with_handle(check, std::time::Duration::from_secs(20)).ok();
        on_cleanup(move || {
            if let Some(h) = handle {
                h.clear();
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (&slug, &at, active);
    view! {
        <p class="stale-notice kiosk-problem" role="status" hidden=move || problem.get().is_none()>
            {move || problem.get().unwrap_or_default()}
        </p>
    }
}
