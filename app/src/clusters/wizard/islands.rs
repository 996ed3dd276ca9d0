//! The wizard's live parts: the cluster name checked as it is typed, and the node pools whose
//! sliders and numbers move together and update the cost at once. Without JavaScript they are
//! the same fields, checked when the step is posted.

use leptos::prelude::*;

use super::cost::{self, Cost};
use super::draft::PoolDraft;
use super::offering::{Offering, VmSize};
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

/// The cost estimate of the Node pools step. Server-rendered from the draft; with JavaScript it
/// follows the form as it is edited (slider, number, autoscale bounds, VM size) and keeps each
/// slider and the number beside it together. The fields themselves are plain server-rendered HTML
/// (`pools.rs`): only this, not the form, is in the browser's bundle.
#[island]
pub fn LiveCost(pools: Vec<PoolDraft>, sizes: Vec<VmSize>) -> impl IntoView {
    let count = pools.len();
    let state = RwSignal::new(pools);
    let prices = StoredValue::new(Offering {
        vm_sizes: sizes,
        ..Offering::default()
    });
    let estimate = Memo::new(move |_| prices.with_value(|o| cost::estimate(&state.get(), o)));
    #[cfg(feature = "hydrate")]
    follow_the_form(count, state);
    #[cfg(not(feature = "hydrate"))]
    let _ = count;
    view! {
        <section class="cost" aria-label="Estimated monthly cost" aria-live="polite">
            <h3>"Estimated monthly cost"</h3>
            {move || cost_table(&estimate.get())}
        </section>
    }
}

/// Reads the pools' fields (by their ids) into `state` on every edit, and moves a slider's twin.
#[cfg(feature = "hydrate")]
fn follow_the_form(count: usize, state: RwSignal<Vec<PoolDraft>>) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let on_edit = Closure::<dyn Fn(web_sys::Event)>::new(move |ev: web_sys::Event| {
        let property = |id: &str, name: &str| {
            document
                .get_element_by_id(id)
                .and_then(|el| js_sys::Reflect::get(&el, &name.into()).ok())
        };
        let text = |id: String| {
            property(&id, "value")
                .and_then(|v| v.as_string())
                .unwrap_or_default()
        };
        if let Some(target) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        {
            let id = target.id();
            let twin = id
                .strip_suffix("-count_slider")
                .map(|p| format!("{p}-count"))
                .or_else(|| {
                    id.strip_suffix("-count")
                        .map(|p| format!("{p}-count_slider"))
                });
            if let (Some(twin), Ok(value)) = (
                twin.and_then(|t| document.get_element_by_id(&t)),
                js_sys::Reflect::get(&target, &"value".into()),
            ) {
                let _ = js_sys::Reflect::set(&twin, &"value".into(), &value);
            }
        }
        state.set(
            (0..count)
                .map(|i| {
                    let id = |f: &str| field_id(&format!("pool.{i}.{f}"));
                    PoolDraft {
                        name: text(id("name")),
                        vm_size: text(id("vm_size")),
                        count: text(id("count")),
                        autoscale: property(&id("autoscale"), "checked")
                            .and_then(|v| v.as_bool())
                            .unwrap_or(false),
                        min: text(id("min")),
                        max: text(id("max")),
                        ..PoolDraft::default()
                    }
                })
                .collect(),
        );
    });
    if let Some(window) = web_sys::window() {
        for kind in ["input", "change"] {
            let _ = window.add_event_listener_with_callback(kind, on_edit.as_ref().unchecked_ref());
        }
    }
    // Lives as long as the page.
    on_edit.forget();
}
