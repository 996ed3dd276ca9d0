//! The Versions section of a cluster's Overview (what it runs, where it may go, the buttons) and
//! the upgrade page: choose a version and what to move, read the preflight, confirm.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::model::{Preflight, Scope, UpgradeView, Versions, dollars};
use super::{StartUpgrade, read_upgrade};
use crate::clusters::model::cluster_href;
use crate::clusters::{ClusterFrame, cluster_in_address};
use crate::error::AppError;
use crate::ui::{Column, DataTable, Loaded, percent_encode};

/// The upgrade page of a cluster, for a version and scope.
fn upgrade_href(namespace: &str, name: &str, to: &str, scope: &Scope) -> String {
    format!(
        "{}?to={}&scope={}",
        cluster_href(namespace, name, "upgrade"),
        percent_encode(to),
        percent_encode(&scope.as_param())
    )
}

/// One row of the Versions table.
#[derive(Clone)]
struct Part {
    what: String,
    version: String,
    state: String,
}

/// The Overview's Versions section: the control plane's and each pool's version, the upgrades
/// available, and for operators the buttons (disabled with why when none may start).
#[component]
pub fn VersionsSection(
    versions: Versions,
    namespace: String,
    name: String,
    /// Only the table and what is running (the upgrade page has its own form).
    #[prop(optional)]
    plain: bool,
) -> impl IntoView {
    let v = versions;
    let newest = v.available.last().map(|c| c.version.clone());
    let cp_state = match (&newest, v.available.is_empty()) {
        (_, true) => "up to date: no newer version is offered".to_string(),
        _ => format!(
            "upgrades available: {}",
            v.available
                .iter()
                .map(|c| c.version.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut rows = vec![Part {
        what: "Control plane".into(),
        version: v.control_plane.clone(),
        state: cp_state,
    }];
    for p in &v.pools {
        let state = if p.version == v.control_plane {
            "at the control plane's version".to_string()
        } else if p.deferred {
            "held back (defer-upgrade): behind the control plane".to_string()
        } else {
            "behind the control plane".to_string()
        };
        rows.push(Part {
            what: format!("Pool {}", p.name),
            version: p.version.clone(),
            state,
        });
    }
    let columns = vec![
        Column::new("Part", |p: &Part| p.what.clone().into_any()),
        Column::new("Version", |p: &Part| p.version.clone().into_any()),
        Column::new("State", |p: &Part| {
            view! { <span class="wrap">{p.state.clone()}</span> }.into_any()
        }),
    ];
    let later = (!v.later.is_empty()).then(|| {
        view! {
            <p class="muted">
                {v.later.iter().map(|(ver, why)| format!("{ver}: {why}. ")).collect::<String>()}
            </p>
        }
    });
    let running = v.running.clone().map(|id| {
        view! {
            <p role="status">"An upgrade is running: "
                <a href=format!("/operations/{}", percent_encode(&id)) rel="external">"follow it"</a></p>
        }
    });
    let buttons = if plain {
        ().into_any()
    } else if !v.may_upgrade {
        view! { <p class="muted">"Upgrading needs the operator role for this cluster; ask an administrator for access."</p> }.into_any()
    } else if let (None, Some(to)) = (&v.blocked, &newest) {
        let cp_only = v
            .available
            .iter()
            .rev()
            .find(|c| c.control_plane_only.is_none())
            .map(|c| c.version.clone());
        let cp_button = match cp_only {
            Some(cp_to) => view! {
                <a class="button secondary" rel="external" href=upgrade_href(&namespace, &name, &cp_to, &Scope::ControlPlane)>"Upgrade control plane only"</a>
            }.into_any(),
            None => view! {
                <button type="button" disabled=true aria-describedby="cp-only-why">"Upgrade control plane only"</button>
                <small id="cp-only-why" class="hint">{v.available.last().and_then(|c| c.control_plane_only.clone()).unwrap_or_default()}</small>
            }.into_any(),
        };
        view! {
            <p class="actions">
                <a class="button" rel="external" href=upgrade_href(&namespace, &name, to, &Scope::All)>"Upgrade"</a>
                " " {cp_button}
            </p>
        }
        .into_any()
    } else {
        let why = v
            .blocked
            .clone()
            .unwrap_or_else(|| "no newer version is offered by the cluster's class".into());
        view! {
            <p class="actions">
                <button type="button" disabled=true aria-describedby="upgrade-why">"Upgrade"</button>
                " " <button type="button" disabled=true aria-describedby="upgrade-why">"Upgrade control plane only"</button>
            </p>
            <p class="hint" id="upgrade-why">{why}</p>
        }
        .into_any()
    };
    let pool_buttons = (!plain && v.may_upgrade && v.blocked.is_none()).then(|| {
        v.pools
            .iter()
            .filter(|p| p.version != v.control_plane)
            .map(|p| match &p.blocked {
                None => view! {
                    <p><a class="button secondary" rel="external"
                        href=upgrade_href(&namespace, &name, &v.control_plane, &Scope::Pool(p.name.clone()))>
                        {format!("Upgrade pool {}", p.name)}</a></p>
                }
                .into_any(),
                Some(why) => view! { <p class="hint">{format!("Pool {}: {why}", p.name)}</p> }.into_any(),
            })
            .collect_view()
    });
    view! {
        <DataTable label="Versions" columns rows empty=|| view! { <p class="muted">"No versions reported."</p> } />
        {later}
        {running}
        {buttons}
        {pool_buttons}
    }
}

/// The preflight's findings as a list.
fn findings(p: &Preflight, control_plane_from: &str) -> AnyView {
    let mut items: Vec<AnyView> = Vec::new();
    if p.control_plane {
        items.push(format!("Control plane: {control_plane_from} → {}.", p.to).into_any());
    }
    for pool in &p.pools {
        items.push(
            format!(
                "Pool {}: {} node{} replaced one at a time ({} → {}): a surge node joins, then an old node is cordoned and drained.",
                pool.name,
                pool.nodes,
                if pool.nodes == 1 { "" } else { "s" },
                pool.from,
                p.to
            )
            .into_any(),
        );
    }
    if p.pools.is_empty() && !p.control_plane {
        items.push("Nothing to move: every part is on this version.".into_any());
    }
    items.push(
        if p.surge_nodes == 0 {
            "Surge: no extra nodes (no pool is replaced).".to_string()
        } else {
            format!(
                "Surge: {} extra node{} while it runs: +{} an hour, about {} in all.",
                p.surge_nodes,
                if p.surge_nodes == 1 { "" } else { "s" },
                dollars(p.surge_hourly_micros),
                dollars(p.surge_total_micros)
            )
        }
        .into_any(),
    );
    items.push(format!("Estimated duration: about {} minutes.", p.minutes).into_any());
    for s in &p.skew {
        items.push(
            view! { <strong class="finding-blocking">"Version skew: " {s.clone()}</strong> }
                .into_any(),
        );
    }
    if let Some(u) = &p.unknown {
        items.push(view! { <strong class="finding-blocking">{u.clone()}</strong> }.into_any());
    }
    for b in &p.blocking {
        items.push(
            view! {
                <strong class="finding-blocking">"PodDisruptionBudget " {b.name.clone()}
                    " allows no disruption: draining would stall on its pods"</strong>
                <ul>{b.pods.iter().map(|pod| view! { <li>{pod.clone()}</li> }).collect_view()}</ul>
            }
            .into_any(),
        );
    }
    if p.blocking.is_empty() && p.unknown.is_none() && !p.pools.is_empty() {
        items.push("No PodDisruptionBudget blocks the drains.".into_any());
    }
    view! { <ul class="findings">{items.into_iter().map(|i| view! { <li>{i}</li> }).collect_view()}</ul> }
        .into_any()
}

/// The confirmation form under a preflight: the button its findings call for.
fn confirm_form(u: &UpgradeView, p: &Preflight, start: ServerAction<StartUpgrade>) -> AnyView {
    if !p.skew.is_empty() {
        return view! { <p class="form-error">"This upgrade is not allowed until the skew above is resolved."</p> }.into_any();
    }
    let button = if p.needs_confirming() {
        view! {
            <p class="muted">"A finding above would stall the upgrade: it waits where it blocks, and goes on once the budget allows it."</p>
            <button type="submit" name="confirm" value="yes" class="danger">"Upgrade anyway"</button>
        }
        .into_any()
    } else {
        let label = match p.scope {
            Scope::ControlPlane => "Upgrade control plane only",
            Scope::All | Scope::Pool(_) => "Upgrade",
        };
        view! { <button type="submit">{label}</button> }.into_any()
    };
    let (namespace, name, to, scope, was, key) = (
        u.head.namespace.clone(),
        u.head.name.clone(),
        p.to.clone(),
        p.scope.as_param(),
        u.was.clone(),
        u.key.clone(),
    );
    view! {
        <ActionForm action=start attr:class="upgrade-form" attr:aria-label="Confirm the upgrade" attr:data-native="">
            <input type="hidden" name="namespace" value=namespace />
            <input type="hidden" name="name" value=name />
            <input type="hidden" name="to" value=to />
            <input type="hidden" name="scope" value=scope />
            <input type="hidden" name="was" value=was />
            <input type="hidden" name="key" value=key />
            {button}
        </ActionForm>
    }
    .into_any()
}

/// The choice of version and scope (a GET form: the preflight follows in the address).
fn choose_form(u: &UpgradeView) -> AnyView {
    let v = &u.versions;
    let action = cluster_href(&u.head.namespace, &u.head.name, "upgrade");
    let chosen_to = if u.to.is_empty() {
        v.available
            .last()
            .map(|c| c.version.clone())
            .unwrap_or_default()
    } else {
        u.to.clone()
    };
    let scope = if u.scope.is_empty() {
        "all".to_string()
    } else {
        u.scope.clone()
    };
    let versions = v
        .available
        .iter()
        .map(|c| {
            let hint = c
                .control_plane_only
                .clone()
                .map(|why| format!(" (control plane alone: {why})"))
                .unwrap_or_default();
            view! {
                <label class="check"><input type="radio" name="to" value=c.version.clone()
                    checked=c.version == chosen_to />" " {c.version.clone()} <small class="muted">{hint}</small></label>
            }
        })
        .collect_view();
    let later = v
        .later
        .iter()
        .map(|(ver, why)| {
            view! {
                <label class="check"><input type="radio" name="to" value=ver.clone() disabled=true />
                    " " {ver.clone()} <small class="muted">{format!(" — {why}")}</small></label>
            }
        })
        .collect_view();
    let mut scopes = vec![
        ("all".to_string(), "Control plane and all pools".to_string()),
        (
            "control-plane".to_string(),
            "Control plane only".to_string(),
        ),
    ];
    scopes.extend(
        v.pools
            .iter()
            .filter(|p| p.version != v.control_plane)
            .map(|p| {
                (
                    format!("pool:{}", p.name),
                    format!(
                        "Pool {} (to the control plane's {})",
                        p.name, v.control_plane
                    ),
                )
            }),
    );
    let scopes = scopes
        .into_iter()
        .map(|(value, label)| {
            let checked = value == scope;
            view! { <label class="check"><input type="radio" name="scope" value=value checked=checked />" " {label}</label> }
        })
        .collect_view();
    view! {
        <form method="get" action=action class="upgrade-choice" aria-label="Choose an upgrade" data-native="">
            <fieldset>
                <legend>"Version"</legend>
                {versions}
                {later}
            </fieldset>
            <fieldset>
                <legend>"What to upgrade"</legend>
                {scopes}
            </fieldset>
            <button type="submit" class="secondary">"Run preflight"</button>
        </form>
    }
    .into_any()
}

/// `/clusters/<namespace>/<name>/upgrade?to=…&scope=…`.
#[component]
pub fn UpgradePage() -> impl IntoView {
    let cluster = cluster_in_address();
    let query = use_query_map();
    let asked = move || {
        let (ns, name) = cluster();
        query.with(|q| {
            (
                ns,
                name,
                q.get("to").unwrap_or_default(),
                q.get("scope").unwrap_or_default(),
            )
        })
    };
    let data = Resource::new(asked, |(ns, name, to, scope)| {
        read_upgrade(ns, name, to, scope)
    });
    let start = ServerAction::<StartUpgrade>::new();
    view! {
        <Loaded resource=data loading="Checking the upgrade…" show=move |u: UpgradeView| {
            let error = move || start.value().get().and_then(|r| r.err()).map(|e: AppError| view! {
                <div class="form-error" role="alert"><p>{e.to_string()}</p></div>
            });
            let may = u.versions.may_upgrade && u.versions.blocked.is_none();
            let blocked = u.versions.blocked.clone().map(|why| view! { <p class="form-error" role="status">{why}</p> });
            let refusal = u.refusal.clone().map(|why| view! { <p class="form-error" role="alert">{why}</p> });
            let preflight = u.preflight.clone().map(|p| {
                let heading = format!("Preflight: upgrade {} to {}", p.scope.words(), p.to);
                view! {
                    <section class="preflight" aria-labelledby="preflight-h">
                        <h2 id="preflight-h">{heading}</h2>
                        {findings(&p, &u.versions.control_plane)}
                        {may.then(|| confirm_form(&u, &p, start))}
                    </section>
                }
            });
            view! {
                <ClusterFrame head=u.head.clone() tab="upgrade">
                    <h2>"Upgrade Kubernetes"</h2>
                    {error}
                    <VersionsSection versions=u.versions.clone() namespace=u.head.namespace.clone() name=u.head.name.clone() plain=true />
                    {blocked}
                    {(!u.versions.available.is_empty()).then(|| choose_form(&u))}
                    {refusal}
                    {preflight}
                </ClusterFrame>
            }
        } />
    }
}
