//! The Node pools step's fields, rendered on the server (the cost beside them is the `LiveCost`
//! island).

use leptos::prelude::*;

use super::draft::PoolDraft;
use super::islands::{field_error, field_id, message_for};
use super::offering::Offering;
use super::rules::FieldError;

/// Every pool's fieldset.
pub fn pools_fields(pools: &[PoolDraft], offering: &Offering, errors: &[FieldError]) -> AnyView {
    pools
        .iter()
        .enumerate()
        .map(|(i, p)| pool_fields(i, p.clone(), pools.len(), offering, errors))
        .collect::<Vec<AnyView>>()
        .into_any()
}

/// One pool's fieldset.
fn pool_fields(
    i: usize,
    p: PoolDraft,
    total: usize,
    offering: &Offering,
    errors: &[FieldError],
) -> AnyView {
    let f = |field: &str| format!("pool.{i}.{field}");
    let id = |field: &str| field_id(&f(field));
    // Only an error that is there describes its field (a reference to nothing is invalid ARIA).
    let described =
        |field: &str| message_for(errors, &f(field)).map(|_| format!("{}-error", id(field)));
    let invalid = |field: &str| message_for(errors, &f(field)).is_some().then_some("true");
    let limit = offering.limits.max_nodes_per_pool;
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
                    <select id=id("vm_size") name=f("vm_size") aria-describedby=described("vm_size") aria-invalid=invalid("vm_size")>
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
                            value=p.count.clone() />
                        <input type="number" id=id("count") name=f("count") min="0" max=limit.to_string() aria-label="Node count"
                            value=p.count.clone() inputmode="numeric"
                            aria-describedby=described("count") aria-invalid=invalid("count") />
                    </div>
                    {field_error(errors, &f("count"))}
                </div>
                <div class="field wide autoscale">
                    <label class="check"><input type="checkbox" id=id("autoscale") name=f("autoscale") checked=p.autoscale />
                        " Autoscale between a minimum and a maximum"</label>
                    <label for=id("min")>"Minimum nodes"</label>
                    <input type="number" id=id("min") name=f("min") min="0" max=limit.to_string() value=p.min.clone()
                        aria-describedby=described("min") aria-invalid=invalid("min") />
                    <label for=id("max")>"Maximum nodes"</label>
                    <input type="number" id=id("max") name=f("max") min="1" max=limit.to_string() value=p.max.clone()
                        aria-describedby=described("max") aria-invalid=invalid("max") />
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
