//! The Node pools tab: each pool's facts and charts, and for operators a node count slider with a
//! number beside it (Apply), the autoscaler's bounds (Autoscale), and what a change would cost and
//! disrupt — shown live as the slider moves (the `ScalePreview` island), checked again on Apply.

use leptos::form::ActionForm;
use leptos::prelude::*;

use super::cluster_page::{ClusterFrame, cluster_in_address};
use super::model::*;
use super::{AddPool, AutoscalePool, DeletePool, ScalePool, cluster_pools};
use crate::error::AppError;
use crate::metrics::ChartPanel;
use crate::metrics::model::{ChartName, ChartScope};
use crate::ui::{Column, DataTable, EmptyState, Loaded};

/// Hours in a month, as the cost estimates count them.
const HOURS_PER_MONTH: f64 = 730.0;

/// The field ids of a pool's slider and number.
fn slider_id(pool: &str) -> String {
    format!("scale-{pool}-range")
}
fn number_id(pool: &str) -> String {
    format!("scale-{pool}-count")
}

/// What moving from `current` to `to` nodes means, in words: the count, the monthly cost change
/// and, for fewer nodes, the pods that must move and whether they fit.
pub fn preview(pool: &str, current: u32, to: u32, price_micros: u64, shrink: &[Shrink]) -> String {
    if to == current {
        return format!("Pool {pool} keeps {current} node{}.", plural(current));
    }
    let delta = f64::from(to) - f64::from(current);
    let monthly = delta * price_micros as f64 / 1_000_000.0 * HOURS_PER_MONTH;
    let sign = if delta < 0.0 { "−" } else { "+" };
    let cost = if price_micros == 0 {
        "cost change not known".to_string()
    } else {
        let m = super::wizard::cost::money((monthly.abs(), monthly.abs()));
        format!("{sign}{m} a month")
    };
    let mut text = format!("New node count: {to} ({sign}{}); {cost}.", delta.abs());
    if to < current {
        match shrink.iter().find(|s| s.to == to) {
            Some(s) => {
                text.push_str(&format!(
                    " {} pod{} on the nodes that go would have to move: {}.",
                    s.pods,
                    plural(s.pods),
                    if s.fits {
                        "they fit on the remaining nodes"
                    } else {
                        "they do not fit on the remaining nodes"
                    }
                ));
                if !s.blocked_by.is_empty() {
                    text.push_str(&format!(
                        " PodDisruptionBudget {} allows no disruption now: draining would stall.",
                        s.blocked_by.join(", ")
                    ));
                }
            }
            None => text.push_str(
                " Which pods would move is not known (the workload cluster cannot be reached).",
            ),
        }
    }
    text
}

/// The slider's upper end for a pool of `count` nodes: twice that, at least 10, at most `limit`.
pub fn slider_reach(count: u32, limit: u32) -> u32 {
    count.saturating_mul(2).max(10).min(limit)
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The live words under a pool's slider: follows the slider and the number beside it (and keeps
/// them together). Server-rendered for the count shown; without JavaScript Apply tells the rest.
#[island]
pub fn ScalePreview(
    pool: String,
    current: u32,
    price_micros: u64,
    shrink: Vec<Shrink>,
) -> impl IntoView {
    let to = RwSignal::new(current);
    #[cfg(feature = "hydrate")]
    follow_slider(&pool, to);
    let text = {
        let pool = pool.clone();
        move || preview(&pool, current, to.get(), price_micros, &shrink)
    };
    view! { <p class="scale-preview" id=format!("scale-{pool}-preview") aria-live="polite">{text}</p> }
}

/// Moves `to` (and the twin field) as the pool's slider or number is edited.
#[cfg(feature = "hydrate")]
fn follow_slider(pool: &str, to: RwSignal<u32>) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    let (slider, number) = (slider_id(pool), number_id(pool));
    let on_edit = Closure::<dyn Fn(web_sys::Event)>::new(move |ev: web_sys::Event| {
        let Some(target) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        let id = target.id();
        let twin = if id == slider {
            &number
        } else if id == number {
            &slider
        } else {
            return;
        };
        let Ok(value) = js_sys::Reflect::get(&target, &"value".into()) else {
            return;
        };
        if let Some(twin) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(twin))
        {
            let _ = js_sys::Reflect::set(&twin, &"value".into(), &value);
        }
        if let Some(n) = value.as_string().and_then(|v| v.trim().parse().ok()) {
            to.set(n);
        }
    });
    if let Some(window) = web_sys::window() {
        let _ = window.add_event_listener_with_callback("input", on_edit.as_ref().unchecked_ref());
    }
    // Lives as long as the page.
    on_edit.forget();
}

/// The hidden fields every pool form carries: which pool, what it showed, its key.
fn pool_fields(p: &PoolRow, t: &PoolsTab, key_suffix: &str) -> AnyView {
    view! {
        <input type="hidden" name="namespace" value=t.head.namespace.clone() />
        <input type="hidden" name="name" value=t.head.name.clone() />
        <input type="hidden" name="pool" value=p.name.clone() />
        <input type="hidden" name="was" value=p.sizing.clone() />
        <input type="hidden" name="key" value=format!("{}-{}{key_suffix}", t.key, p.name) />
    }
    .into_any()
}

/// A pool's Apply form: the slider and the number, the live preview, the confirmation a risky
/// scale-down needs.
fn scale_form(p: &PoolRow, t: &PoolsTab, scale: ServerAction<ScalePool>) -> AnyView {
    let name = p.name.clone();
    let label = format!("Node count for pool {name}");
    let (floor, limit) = (p.floor.to_string(), p.limit.to_string());
    // A slider over the whole 0–1000 would move hundreds of nodes per step of a mouse: it covers
    // up to twice today's count (at least 10), and the number beside it takes anything allowed.
    let reach = slider_reach(p.count, p.limit).to_string();
    let by_autoscaler = p.bounds.map(|(min, max)| {
        format!("The autoscaler sets this pool's node count ({min}–{max}); turn autoscaling off to scale it by hand.")
    });
    let disabled = by_autoscaler.is_some();
    let hint_id = format!("scale-{name}-hint");
    let hint = by_autoscaler.unwrap_or_else(|| {
        format!(
            "From {} to {} nodes. Arrow keys move by one, Page Up and Page Down by ten.",
            p.floor, p.limit
        )
    });
    let fields = pool_fields(p, t, "");
    let (slider, number) = (slider_id(&name), number_id(&name));
    let count = p.count.to_string();
    let preview = view! { <ScalePreview pool=name.clone() current=p.count price_micros=p.price_micros shrink=p.shrink.clone() /> };
    let confirm = (!disabled).then(|| view! {
        <label class="check"><input type="checkbox" name="confirm" value="yes" />
            " Scale down anyway (needed when pods would not fit or a PodDisruptionBudget blocks draining)"</label>
    });
    let form_label = format!("Scale pool {name}");
    view! {
        <ActionForm action=scale attr:class="scale-form" attr:aria-label=form_label attr:data-native="">
            {fields}
            <div class="slider-row">
                <input type="range" id=slider name="count_slider" min=floor.clone() max=reach
                    value=count.clone() aria-label=label.clone() aria-describedby=hint_id.clone() disabled=disabled />
                <input type="number" id=number name="count" min=floor max=limit value=count
                    aria-label=label inputmode="numeric" aria-describedby=hint_id.clone() disabled=disabled />
                <button type="submit" disabled=disabled>"Apply"</button>
            </div>
            <small class="hint" id=hint_id>{hint}</small>
            {preview}
            {confirm}
        </ActionForm>
    }
    .into_any()
}

/// A pool's autoscaler form: bounds and Autoscale; Turn autoscaling off when it is on.
fn autoscale_form(p: &PoolRow, t: &PoolsTab, autoscale: ServerAction<AutoscalePool>) -> AnyView {
    let name = p.name.clone();
    let (min, max) = p
        .bounds
        .unwrap_or((p.count.max(p.floor), p.count.max(1) * 2));
    let (min_id, max_id) = (
        format!("autoscale-{name}-min"),
        format!("autoscale-{name}-max"),
    );
    let fields = pool_fields(p, t, "-auto");
    let (floor, limit) = (p.floor.to_string(), p.limit.to_string());
    let off = p.bounds.is_some().then(|| view! {
        " " <button type="submit" name="go" value="off" class="secondary">"Turn autoscaling off"</button>
    });
    let (form_label, min_label, max_label) = (
        format!("Autoscale pool {name}"),
        format!("Minimum nodes for pool {name}"),
        format!("Maximum nodes for pool {name}"),
    );
    view! {
        <ActionForm action=autoscale attr:class="autoscale-form" attr:aria-label=form_label attr:data-native="">
            {fields}
            <label for=min_id.clone()>{min_label}</label>
            <input type="number" id=min_id name="min" min=floor max=limit.clone() value=min.to_string() inputmode="numeric" />
            <label for=max_id.clone()>{max_label}</label>
            <input type="number" id=max_id name="max" min="1" max=limit value=max.to_string() inputmode="numeric" />
            <button type="submit" name="go" value="on">"Autoscale"</button>
            {off}
        </ActionForm>
    }
    .into_any()
}

/// What deleting pool `p` would move, in words, for the form (the server says it again).
pub fn removal(p: &PoolRow, all: &[PoolRow]) -> String {
    let others: Vec<&str> = all
        .iter()
        .filter(|r| r.name != p.name)
        .map(|r| r.name.as_str())
        .collect();
    match p.shrink.iter().find(|s| s.to == 0) {
        _ if p.count == 0 => format!("Pool {} has no nodes: nothing moves.", p.name),
        Some(s) if s.pods == 0 => format!(
            "Deleting pool {} removes its {} node{}; no pods would have to move.",
            p.name,
            p.count,
            plural(p.count)
        ),
        Some(s) => format!(
            "Deleting pool {} removes its {} node{}: {} pod{} would move to pool{} {} — {}.",
            p.name,
            p.count,
            plural(p.count),
            s.pods,
            plural(s.pods),
            if others.len() == 1 { "" } else { "s" },
            others.join(", "),
            if s.fits {
                "they fit there"
            } else {
                "they do not fit there, some would wait Pending"
            }
        ),
        None => format!(
            "Deleting pool {} removes its {} node{}; which pods would move is not known (the workload cluster cannot be reached).",
            p.name,
            p.count,
            plural(p.count)
        ),
    }
}

/// A pool's Delete pool form (admins): what would move, the confirmation, or why it stays.
fn delete_form(p: &PoolRow, t: &PoolsTab, delete: ServerAction<DeletePool>) -> AnyView {
    if let Some(why) = &p.keep {
        return view! {
            <p class="hint">{format!("Delete pool: not possible — {why}.")}</p>
        }
        .into_any();
    }
    let name = p.name.clone();
    let fields = pool_fields(p, t, "-delete");
    let words = removal(p, &t.pools);
    let form_label = format!("Delete pool {name}");
    view! {
        <ActionForm action=delete attr:class="delete-pool-form" attr:aria-label=form_label attr:data-native="">
            {fields}
            <p class="hint">{words}</p>
            <label class="check"><input type="checkbox" name="confirm" value="yes" />
                {format!(" Delete pool {name} and move its pods")}</label>
            <button type="submit" class="danger">"Delete pool"</button>
        </ActionForm>
    }
    .into_any()
}

/// The Add pool form (admins): name, mode, VM size, node count.
fn add_form(t: &PoolsTab, choices: &PoolChoices, add: ServerAction<AddPool>) -> AnyView {
    if let Some(why) = &choices.full {
        return view! { <p class="hint">{format!("Add pool: not possible — {why}.")}</p> }
            .into_any();
    }
    let sizes = choices
        .vm_sizes
        .iter()
        .map(|(name, label)| view! { <option value=name.clone()>{label.clone()}</option> })
        .collect_view();
    let (namespace, name, key) = (
        t.head.namespace.clone(),
        t.head.name.clone(),
        format!("{}-add", t.key),
    );
    let limit = choices.limit.to_string();
    view! {
        <ActionForm action=add attr:class="add-pool-form" attr:aria-label="Add a node pool" attr:data-native="">
            <input type="hidden" name="namespace" value=namespace />
            <input type="hidden" name="name" value=name />
            <input type="hidden" name="key" value=key />
            <label for="add-pool-name">"Pool name"</label>
            <input id="add-pool-name" name="pool" required=true maxlength="12" pattern="[a-z][a-z0-9]{0,11}"
                aria-describedby="add-pool-name-hint" autocomplete="off" />
            <small class="hint" id="add-pool-name-hint">"1–12 lowercase letters or digits, starting with a letter."</small>
            <label for="add-pool-mode">"Mode"</label>
            <select id="add-pool-mode" name="mode">
                <option value="user">"User (applications)"</option>
                <option value="system">"System (the cluster's add-ons)"</option>
            </select>
            <label for="add-pool-size">"VM size"</label>
            <select id="add-pool-size" name="vm_size">{sizes}</select>
            <label for="add-pool-count">"Node count"</label>
            <input id="add-pool-count" type="number" name="count" min="0" max=limit value="1" inputmode="numeric" />
            <button type="submit">"Add pool"</button>
        </ActionForm>
    }
    .into_any()
}

/// `/clusters/<namespace>/<name>/pools`.
#[component]
pub fn PoolsTabPage() -> impl IntoView {
    let cluster = cluster_in_address();
    let data = Resource::new(cluster, |(ns, name)| cluster_pools(ns, name));
    // One action each for every pool's forms: a refusal is shown once, naming the pool.
    let scale = ServerAction::<ScalePool>::new();
    let autoscale = ServerAction::<AutoscalePool>::new();
    let add = ServerAction::<AddPool>::new();
    let delete = ServerAction::<DeletePool>::new();
    view! {
        <Loaded resource=data loading="Loading node pools…" show=move |t: PoolsTab| {
            let columns = vec![
                Column::new("Pool", |p: &PoolRow| p.name.clone().into_any()),
                Column::new("Mode", |p: &PoolRow| p.mode.clone().into_any()),
                Column::new("VM size", |p: &PoolRow| view! {
                    {p.vm_size.name.clone()}
                    {(!p.vm_size.shape.is_empty()).then(|| view! { <small class="muted">" (" {p.vm_size.shape.clone()} ")"</small> })}
                }.into_any()),
                Column::new("Kubernetes version", |p: &PoolRow| p.version.clone().into_any()),
                Column::new("Nodes ready", |p: &PoolRow| format!("{}/{}", p.ready, p.desired).into_any()),
                Column::new("Autoscaler", |p: &PoolRow| {
                    if p.autoscaler.is_empty() { "off".into_any() } else { p.autoscaler.clone().into_any() }
                }),
                Column::new("Zones", |p: &PoolRow| p.zones.join(", ").into_any()),
                Column::new("Labels", |p: &PoolRow| view! { <span class="wrap">{p.labels.join(", ")}</span> }.into_any()),
                Column::new("Taints", |p: &PoolRow| view! { <span class="wrap">{p.taints.join(", ")}</span> }.into_any()),
                Column::new("Operation", |p: &PoolRow| match &p.running {
                    Some(id) => view! { <a href=format!("/operations/{}", crate::ui::percent_encode(id)) rel="external">"In progress"</a> }.into_any(),
                    None => "none".into_any(),
                }),
            ];
            let error = move || {
                let failed = scale.value().get().and_then(|r| r.err())
                    .or_else(|| autoscale.value().get().and_then(|r| r.err()))
                    .or_else(|| add.value().get().and_then(|r| r.err()))
                    .or_else(|| delete.value().get().and_then(|r| r.err()));
                failed.map(|e| {
                    let now = match &e {
                        AppError::Conflict { current: Some(c), .. } => Some(c.clone()),
                        _ => None,
                    };
                    view! {
                        <div class="form-error" role="alert">
                            <p>{e.to_string()}</p>
                            {now.map(|_| view! { <p>"The form below shows the pool as it is now."</p> })}
                        </div>
                    }
                })
            };
            let may_scale = t.may_scale;
            view! {
                <ClusterFrame head=t.head.clone() tab="pools">
                    {error}
                    <DataTable label="Node pools" columns rows=t.pools.clone() empty=|| view! {
                        <EmptyState title="No node pools" detail="This cluster's topology declares no worker pools." />
                    } />
                    {(!may_scale && !t.pools.is_empty()).then(|| view! {
                        <p class="muted">"Scaling pools needs the operator role for this cluster; ask an administrator for access."</p>
                    })}
                    {t.pools.iter().enumerate().map(|(i, p)| view! {
                        <section class="pool" aria-labelledby=format!("pool-{}-h", p.name)>
                            <h2 id=format!("pool-{}-h", p.name)>"Pool " {p.name.clone()}</h2>
                            {may_scale.then(|| view! {
                                <h3>"Node count"</h3>
                                {scale_form(p, &t, scale)}
                                <h3>"Autoscaler"</h3>
                                {autoscale_form(p, &t, autoscale)}
                            })}
                            {t.add.is_some().then(|| view! {
                                <h3>"Delete"</h3>
                                {delete_form(p, &t, delete)}
                            })}
                            <h3>"CPU and memory"</h3>
                            <ChartPanel namespace=t.head.namespace.clone() name=t.head.name.clone()
                                scope=ChartScope::Pool(p.name.clone()) charts=vec![ChartName::Cpu, ChartName::Memory]
                                ranges={i == 0} />
                        </section>
                    }).collect_view()}
                    {t.add.clone().map(|choices| view! {
                        <section class="pool" aria-labelledby="add-pool-h">
                            <h2 id="add-pool-h">"Add pool"</h2>
                            {add_form(&t, &choices, add)}
                        </section>
                    })}
                </ClusterFrame>
            }
        } />
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shrink(to: u32, pods: u32, fits: bool, blocked: &[&str]) -> Shrink {
        Shrink {
            to,
            pods,
            fits,
            blocked_by: blocked.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn the_slider_covers_twice_the_count_within_bounds() {
        assert_eq!(slider_reach(3, 1000), 10);
        assert_eq!(slider_reach(40, 1000), 80);
        assert_eq!(slider_reach(900, 1000), 1000);
        assert_eq!(slider_reach(2, 6), 6);
    }

    #[test]
    fn the_preview_says_count_cost_and_what_moves() {
        // Standard_D8s_v5 at $0.384 an hour: one node is $280.32 a month.
        let price = 384_000;
        assert_eq!(
            preview("apps", 3, 3, price, &[]),
            "Pool apps keeps 3 nodes."
        );
        assert_eq!(
            preview("apps", 3, 5, price, &[]),
            "New node count: 5 (+2); +$560.64 a month."
        );
        let s = [
            shrink(1, 7, false, &["payments/ledger-pdb"]),
            shrink(2, 3, true, &[]),
        ];
        assert_eq!(
            preview("apps", 3, 2, price, &s),
            "New node count: 2 (−1); −$280.32 a month. 3 pods on the nodes that go would have to move: they fit on the remaining nodes."
        );
        assert_eq!(
            preview("apps", 3, 1, price, &s),
            "New node count: 1 (−2); −$560.64 a month. 7 pods on the nodes that go would have to move: they do not fit on the remaining nodes. PodDisruptionBudget payments/ledger-pdb allows no disruption now: draining would stall."
        );
        assert_eq!(
            preview("apps", 3, 0, 0, &s),
            "New node count: 0 (−3); cost change not known. Which pods would move is not known (the workload cluster cannot be reached)."
        );
    }
}
