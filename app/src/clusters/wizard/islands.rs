//! The wizard's live parts: the cluster name checked as it is typed, and the node pools whose
//! sliders and numbers move together and update the cost at once. Without JavaScript they are
//! the same fields, checked when the step is posted.

use leptos::prelude::*;

use super::cost::{self, Cost};
use super::draft::PoolDraft;
use super::offering::Offering;
use super::rules::FieldError;

/// The message for `field` among `errors`, for the field's description.
pub fn message_for(errors: &[FieldError], field: &str) -> Option<String> {
    errors
        .iter()
        .find(|e| e.field == field)
        .map(|e| e.message.clone())
}

/// `field-pool-0-count` for `pool.0.count`: the element id an error links to.
pub fn field_id(field: &str) -> String {
    format!("field-{}", field.replace('.', "-"))
}

/// A field's error, under it, for `aria-describedby`.
pub fn field_error(errors: &[FieldError], field: &str) -> impl IntoView + use<> {
    let id = format!("{}-error", field_id(field));
    message_for(errors, field).map(|m| view! { <p class="field-error" id=id>{m}</p> })
}

/// The per-pool and total estimate, as a table.
pub fn cost_table(cost: &Cost) -> AnyView {
    let rows = cost
        .pools
        .iter()
        .map(|p| {
            view! {
                <tr>
                    <th scope="row">{if p.pool.is_empty() { "(unnamed)".to_string() } else { p.pool.clone() }}</th>
                    <td>{p.vm_size.clone()}</td>
                    <td>{cost::nodes(p.nodes)}</td>
                    <td class="num">{cost::money(p.monthly)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="cost-table">
            <caption class="visually-hidden">"Monthly cost per node pool"</caption>
            <thead><tr><th scope="col">"Pool"</th><th scope="col">"VM size"</th><th scope="col">"Nodes"</th><th scope="col" class="num">"Per month"</th></tr></thead>
            <tbody>{rows}</tbody>
            <tfoot><tr><th scope="row" colspan="3">"Total"</th><td class="num total-cost">{cost::money(cost.total)}</td></tr></tfoot>
        </table>
        <p class="hint">"VM hourly price × nodes × 730 hours; a range where a pool autoscales. The managed control plane is not charged."</p>
    }
    .into_any()
}

/// The cluster name (and its namespace, which decides whether it is taken), checked as typed.
#[island]
pub fn NameField(
    name: String,
    namespace: String,
    namespaces: Vec<String>,
    name_error: Option<String>,
    namespace_error: Option<String>,
) -> impl IntoView {
    let typed = RwSignal::new(name.clone());
    let ns = RwSignal::new(namespace.clone());
    // None: not checked since it was posted; Some(Ok) free; Some(Err(why)) not usable.
    let live = RwSignal::new(None::<Result<(), String>>);
    let asked = StoredValue::new(0u64);
    let check = move || {
        let (n, space) = (typed.get_untracked(), ns.get_untracked());
        asked.update_value(|a| *a += 1);
        let mine = asked.get_value();
        set_timeout(
            move || {
                if asked.get_value() != mine {
                    return;
                }
                leptos::task::spawn_local(async move {
                    let answer = super::check_cluster_name(space, n).await;
                    if asked.get_value() == mine {
                        live.set(Some(match answer {
                            Ok(None) => Ok(()),
                            Ok(Some(why)) => Err(why),
                            Err(e) => Err(e.to_string()),
                        }));
                    }
                });
            },
            std::time::Duration::from_millis(200),
        );
    };
    let posted = StoredValue::new(name_error);
    let status = move || match live.get() {
        Some(Ok(())) => Some(("ok", format!("\"{}\" is available.", typed.get()))),
        Some(Err(why)) => Some(("field-error", why)),
        None => posted.get_value().map(|m| ("field-error", m)),
    };
    let options = namespaces
        .into_iter()
        .map(|n| {
            let selected = n == namespace;
            view! { <option value=n.clone() selected=selected>{n.clone()}</option> }
        })
        .collect_view();
    let invalid_ns = namespace_error.is_some().then_some("true");
    view! {
        <div class="field">
            <label for="field-name">"Cluster name"</label>
            <input id="field-name" name="name" value=name autocomplete="off" spellcheck="false" maxlength="63"
                aria-describedby="field-name-hint field-name-error"
                aria-invalid=move || matches!(status(), Some(("field-error", _))).then_some("true")
                on:input=move |ev| { typed.set(event_target_value(&ev)); check(); } />
            <small id="field-name-hint" class="hint">"Lowercase letters, digits and \"-\", up to 63; unique in the namespace."</small>
            <p id="field-name-error" aria-live="polite" class=move || status().map_or("", |s| s.0)>{move || status().map(|s| s.1)}</p>
        </div>
        <div class="field">
            <label for="field-namespace">"Namespace"</label>
            <select id="field-namespace" name="namespace" aria-describedby="field-namespace-hint field-namespace-error" aria-invalid=invalid_ns
                on:change=move |ev| { ns.set(event_target_value(&ev)); check(); }>
                {options}
            </select>
            <small id="field-namespace-hint" class="hint">"The team's namespace on the management cluster."</small>
            {namespace_error.map(|m| view! { <p class="field-error" id="field-namespace-error">{m}</p> })}
        </div>
    }
}

/// Every node pool's fields and the cost estimate, which follows the sliders as they move.
#[island]
pub fn PoolsEditor(
    pools: Vec<PoolDraft>,
    offering: Offering,
    errors: Vec<FieldError>,
) -> impl IntoView {
    let state = RwSignal::new(pools.clone());
    let for_cost = offering.clone();
    let estimate = Memo::new(move |_| cost::estimate(&state.get(), &for_cost));
    let total = pools.len();
    let fieldsets = pools
        .into_iter()
        .enumerate()
        .map(|(i, p)| pool_fields(i, p, total, &offering, &errors, state))
        .collect::<Vec<AnyView>>();
    view! {
        {fieldsets}
        <section class="cost" aria-label="Estimated monthly cost" aria-live="polite">
            <h3>"Estimated monthly cost"</h3>
            {move || cost_table(&estimate.get())}
        </section>
    }
}

/// One pool's fieldset; its count, bounds and size write into `state`.
fn pool_fields(
    i: usize,
    p: PoolDraft,
    total: usize,
    offering: &Offering,
    errors: &[FieldError],
    state: RwSignal<Vec<PoolDraft>>,
) -> AnyView {
    let f = |field: &str| format!("pool.{i}.{field}");
    let id = |field: &str| field_id(&f(field));
    // Only an error that is there describes its field (a reference to nothing is invalid ARIA).
    let described =
        |field: &str| message_for(errors, &f(field)).map(|_| format!("{}-error", id(field)));
    let invalid = |field: &str| message_for(errors, &f(field)).is_some().then_some("true");
    let limit = offering.limits.max_nodes_per_pool;
    let set = move |apply: fn(&mut PoolDraft, String), value: String| {
        state.update(|pools| {
            if let Some(p) = pools.get_mut(i) {
                apply(p, value);
            }
        });
    };
    let count =
        move || state.with(|pools| pools.get(i).map(|p| p.count.clone()).unwrap_or_default());
    let mut families: Vec<&str> = Vec::new();
    for s in &offering.vm_sizes {
        if !families.contains(&s.family.as_str()) {
            families.push(&s.family);
        }
    }
    let sizes = families
        .into_iter()
        .map(|family| {
            let options = offering
                .vm_sizes
                .iter()
                .filter(|s| s.family == family)
                .map(|s| {
                    let selected = s.name == p.vm_size;
                    view! { <option value=s.name.clone() selected=selected>{s.label()}</option> }
                })
                .collect_view();
            let label = if family == "gpu" {
                "GPU".to_string()
            } else {
                family.to_string()
            };
            view! { <optgroup label=label>{options}</optgroup> }
        })
        .collect_view();
    let zones = offering
        .zones
        .iter()
        .map(|z| {
            let checked = p.zones.contains(z);
            view! { <label class="check"><input type="checkbox" name=f("zones") value=z.clone() checked=checked />" Zone " {z.clone()}</label> }
        })
        .collect_view();
    let images = offering
        .os_images
        .iter()
        .map(|img| {
            let selected = *img == p.os_image;
            view! { <option value=img.clone() selected=selected>{img.clone()}</option> }
        })
        .collect_view();
    let legend = if p.name.is_empty() {
        format!("Pool {}", i + 1)
    } else {
        format!("Pool {}: {}", i + 1, p.name)
    };
    let remove = (total > 1).then(|| {
        view! {
            <button type="submit" name="go" value=format!("remove-pool-{i}") class="secondary small">
                "Remove pool " {p.name.clone()}
            </button>
        }
    });
    let system = p.mode == "system";
    view! {
        <fieldset class="pool" id=format!("pool-{i}")>
            <legend>{legend}</legend>
            <div class="pool-grid">
                {view! { <div class="field">
                    <label for=id("name")>"Pool name"</label>
                    <input id=id("name") name=f("name") value=p.name.clone() maxlength="12" autocomplete="off"
                        aria-describedby=described("name") aria-invalid=invalid("name") />
                    {field_error(errors, &f("name"))}
                </div>
                <div class="field">
                    <label for=id("mode")>"Mode"</label>
                    <select id=id("mode") name=f("mode") aria-describedby=described("mode")>
                        <option value="system" selected=system>"System"</option>
                        <option value="user" selected=!system>"User"</option>
                    </select>
                    {field_error(errors, &f("mode"))}
                </div> }.into_any()}
                {view! { <div class="field wide">
                    <label for=id("vm_size")>"VM size"</label>
                    <select id=id("vm_size") name=f("vm_size") aria-describedby=described("vm_size") aria-invalid=invalid("vm_size")
                        on:change=move |ev| set(|p, v| p.vm_size = v, event_target_value(&ev))>
                        {sizes}
                    </select>
                    {field_error(errors, &f("vm_size"))}
                </div>
                <fieldset class="field zones" aria-describedby=described("zones")>
                    <legend>"Availability zones"</legend>
                    {zones}
                    {field_error(errors, &f("zones"))}
                </fieldset>
                <div class="field">
                    <label for=id("os_image")>"OS image"</label>
                    <select id=id("os_image") name=f("os_image") aria-describedby=described("os_image")>{images}</select>
                    {field_error(errors, &f("os_image"))}
                </div> }.into_any()}
                {view! { <div class="field wide count">
                    <label for=id("count_slider")>"Node count"</label>
                    <div class="slider-row">
                        <input type="range" id=id("count_slider") name=f("count_slider") min="0" max=limit.to_string()
                            value=p.count.clone() prop:value=count
                            on:input=move |ev| set(|p, v| p.count = v, event_target_value(&ev)) />
                        <input type="number" id=id("count") name=f("count") min="0" max=limit.to_string() aria-label="Node count"
                            value=p.count.clone() prop:value=count inputmode="numeric"
                            aria-describedby=described("count") aria-invalid=invalid("count")
                            on:input=move |ev| set(|p, v| p.count = v, event_target_value(&ev)) />
                    </div>
                    {field_error(errors, &f("count"))}
                </div>
                <div class="field wide autoscale">
                    <label class="check"><input type="checkbox" name=f("autoscale") checked=p.autoscale
                        on:change=move |ev| { let on = event_target_checked(&ev); state.update(|pools| if let Some(p) = pools.get_mut(i) { p.autoscale = on; }); } />
                        " Autoscale between a minimum and a maximum"</label>
                    <label for=id("min")>"Minimum nodes"</label>
                    <input type="number" id=id("min") name=f("min") min="0" max=limit.to_string() value=p.min.clone()
                        aria-describedby=described("min") aria-invalid=invalid("min")
                        on:input=move |ev| set(|p, v| p.min = v, event_target_value(&ev)) />
                    <label for=id("max")>"Maximum nodes"</label>
                    <input type="number" id=id("max") name=f("max") min="1" max=limit.to_string() value=p.max.clone()
                        aria-describedby=described("max") aria-invalid=invalid("max")
                        on:input=move |ev| set(|p, v| p.max = v, event_target_value(&ev)) />
                    {field_error(errors, &f("min"))}
                    {field_error(errors, &f("max"))}
                </div> }.into_any()}
                {view! { <div class="field">
                    <label for=id("labels")>"Node labels"</label>
                    <textarea id=id("labels") name=f("labels") rows="3" placeholder="workload=web" aria-describedby=described("labels")>{p.labels.clone()}</textarea>
                    {field_error(errors, &f("labels"))}
                </div>
                <div class="field">
                    <label for=id("taints")>"Taints"</label>
                    <textarea id=id("taints") name=f("taints") rows="3" placeholder="dedicated=gpu:NoSchedule" aria-describedby=described("taints")>{p.taints.clone()}</textarea>
                    {field_error(errors, &f("taints"))}
                </div> }.into_any()}
            </div>
            {remove}
        </fieldset>
    }
    .into_any()
}
