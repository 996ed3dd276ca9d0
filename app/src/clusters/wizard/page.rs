//! The wizard's page: the steps, the current step's form, and the summary beside it.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::cost;
use super::draft::{Preset, Step};
use super::islands::{LiveCost, NameField, cost_table, field_error, field_id, message_for};
use super::pools::pools_fields;
use super::rules::{self, FieldError};
use super::{WizardView, read_wizard};
use crate::clusters::tags;
use crate::ui::Loaded;

/// `/clusters/new?step=…`.
#[component]
pub fn NewClusterPage() -> impl IntoView {
    let query = use_query_map();
    let step = move || query.with(|q| q.get("step").unwrap_or_default());
    let data = Resource::new(step, read_wizard);
    view! {
        <header class="page-header">
            <p class="eyebrow"><a href="/clusters" rel="external">"Clusters"</a></p>
            <h1>"Create cluster"</h1>
        </header>
        <Loaded resource=data loading="Loading what the ClusterClass offers…" show=move |w: WizardView| view! { <Wizard w /> } />
    }
}

#[component]
fn Wizard(w: WizardView) -> impl IntoView {
    let step = w.step;
    let steps = Step::ALL
        .into_iter()
        .map(|s| {
            let here = (s == step).then_some("step");
            view! {
                <li class:current=s == step>
                    <a href=s.href() aria-current=here rel="external">
                        <span class="step-number">{s.number()}</span> " " {s.title()}
                    </a>
                </li>
            }
        })
        .collect_view();
    let errors = w.errors.clone();
    let summary = (!errors.is_empty() && step != Step::Review).then(|| {
        let items = errors
            .iter()
            .map(|e| view! { <li><a href=format!("#{}", field_id(&e.field))>{e.message.clone()}</a></li> })
            .collect_view();
        view! {
            <div class="form-error" role="alert">
                <p>"Fix these to continue:"</p>
                <ul>{items}</ul>
            </div>
        }
    });
    let fields = match step {
        Step::Basics => basics(&w).into_any(),
        Step::Pools => view! {
            {pools_fields(&w.draft.pools, &w.offering, &w.errors)}
            <LiveCost pools=w.draft.pools.clone() sizes=w.offering.vm_sizes.clone() />
            {field_error(&w.errors, "pools")}
            <p><button type="submit" name="go" value="add-pool" class="secondary">"Add node pool"</button></p>
        }
        .into_any(),
        Step::Tags => tags_step(&w).into_any(),
        Step::Review => review(&w).into_any(),
    };
    let back = (step != Step::Basics)
        .then(|| view! { <button type="submit" name="go" value="back" class="secondary">"Back"</button> " " });
    let forward = if step == Step::Review {
        let blocked = !w.errors.is_empty();
        view! {
            <button type="submit" name="go" value="create" disabled=blocked>"Create"</button>
            " " <button type="submit" name="go" value="start-over" class="secondary">"Start over"</button>
        }
        .into_any()
    } else {
        view! { <button type="submit" name="go" value="next">"Next"</button> }.into_any()
    };
    // Enter in a field moves on: the first submit button of a form is the one Enter presses.
    let default_button = (step != Step::Review).then(|| {
        view! { <button type="submit" name="go" value="next" class="default-submit" tabindex="-1" aria-hidden="true">"Next"</button> }
    });
    view! {
        <Title text=format!("Create cluster: {}", step.title()) />
        <nav class="wizard-steps" aria-label="Steps">
            <ol>{steps}</ol>
        </nav>
        <div class="wizard">
            <form method="post" action=step.href() class="wizard-form" aria-labelledby="step-h" data-native="" novalidate="">
                {default_button}
                <h2 id="step-h">{format!("{}. {}", step.number(), step.title())}</h2>
                {summary}
                {fields}
                <div class="form-actions">
                    {back}
                    {forward}
                    " " <a class="button secondary" href="/clusters" rel="external">"Cancel"</a>
                </div>
            </form>
            <Sidebar w=w.clone() />
        </div>
    }
}

/// A labelled menu of `(value, text)` options, `current` selected, with its error.
fn select(
    label: &'static str,
    field: &'static str,
    current: &str,
    options: Vec<(String, String)>,
    errors: &[FieldError],
) -> impl IntoView + use<> {
    let id = field_id(field);
    let options = options
        .into_iter()
        .map(|(value, text)| {
            let selected = value == current;
            view! { <option value=value selected=selected>{text}</option> }
        })
        .collect_view();
    let error = message_for(errors, field).map(|_| format!("{id}-error"));
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select id=id name=field aria-describedby=error.clone() aria-invalid=error.as_ref().map(|_| "true")>{options}</select>
            {field_error(errors, field)}
        </div>
    }
}

fn basics(w: &WizardView) -> impl IntoView + use<> {
    let d = &w.draft;
    let o = &w.offering;
    let e = &w.errors;
    let same = |v: &[String]| v.iter().map(|x| (x.clone(), x.clone())).collect::<Vec<_>>();
    let versions = o
        .versions
        .iter()
        .map(|v| {
            let text = match &v.badge {
                Some(b) => format!("{} — {b}", v.version),
                None => v.version.clone(),
            };
            (v.version.clone(), text)
        })
        .collect();
    let replicas = o
        .limits
        .control_plane_replicas
        .iter()
        .map(|n| (n.to_string(), n.to_string()))
        .collect();
    let presets = Preset::ALL
        .into_iter()
        .map(|p| {
            let id = format!("preset-{}", p.as_str());
            let hint = format!("{id}-hint");
            view! {
                <div class="radio">
                    <input type="radio" id=id.clone() name="preset" value=p.as_str() checked=d.preset == p.as_str() aria-describedby=hint.clone() />
                    <label for=id>{p.label()}</label>
                    <small id=hint class="hint">{p.detail()}</small>
                </div>
            }
        })
        .collect_view();
    view! {
        <NameField
            name=d.name.clone()
            namespace=d.namespace.clone()
            namespaces=o.namespaces.clone()
            name_error=message_for(e, "name")
            namespace_error=message_for(e, "namespace")
        />
        {select("Region", "region", &d.region, same(&o.regions), e)}
        {select("Kubernetes version", "version", &d.version, versions, e)}
        <fieldset class="field presets" id="field-preset">
            <legend>"Preset"</legend>
            {presets}
            <small class="hint">"Choosing another preset fills the node pools (and the control plane, unless you changed it) when you go on."</small>
            {field_error(e, "preset")}
        </fieldset>
        {select("Control plane replicas", "control_plane", &d.control_plane, replicas, e)}
    }
}

fn tags_step(w: &WizardView) -> impl IntoView + use<> {
    let error = message_for(&w.errors, "tags").map(|_| "field-tags-error");
    let described = match error {
        Some(e) => format!("field-tags-hint {e}"),
        None => "field-tags-hint".to_string(),
    };
    view! {
        <div class="field">
            <label for="field-tags">"Tags"</label>
            <textarea id="field-tags" name="tags" rows="8" placeholder="team=payments" aria-describedby=described aria-invalid=error.map(|_| "true")>{w.draft.tags.clone()}</textarea>
            <small id="field-tags-hint" class="hint">{format!("key=value, one per line. At most {} tags; keys up to {} letters, digits, \".\", \"_\", \"/\" or \"-\"; values up to {} characters, no markup. Tags drive the fleet's filters and team dashboards.", tags::MAX_TAGS, tags::MAX_KEY, tags::MAX_VALUE)}</small>
            {field_error(&w.errors, "tags")}
        </div>
    }
}

fn review(w: &WizardView) -> impl IntoView + use<> {
    let d = &w.draft;
    let pools = d
        .pools
        .iter()
        .map(|p| {
            let (count, bounds) = rules::counted(p);
            let nodes = match bounds {
                Some((a, b)) => format!("{count} (autoscale {a}–{b})"),
                None => count.to_string(),
            };
            let zones = if p.zones.is_empty() {
                "none".to_string()
            } else {
                p.zones.join(", ")
            };
            view! {
                <tr>
                    <th scope="row">{p.name.clone()}</th>
                    <td>{if p.mode == "system" { "System" } else { "User" }}</td>
                    <td>{p.vm_size.clone()}</td>
                    <td>{nodes}</td>
                    <td>{zones}</td>
                    <td>{p.os_image.clone()}</td>
                </tr>
            }
        })
        .collect_view();
    let tag_list = tags::parse(&d.tags).unwrap_or_default();
    let tag_text = if tag_list.is_empty() {
        "none".to_string()
    } else {
        tag_list
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let result = if w.errors.is_empty() {
        view! { <p class="check-result ok" role="status">"Validation passed: everything checks out against the ClusterClass."</p> }.into_any()
    } else {
        let items = w
            .errors
            .iter()
            .map(|e| {
                let step = e.step();
                view! { <li>{e.message.clone()} " " <a href=step.href() rel="external">{format!("Go to {}", step.title())}</a></li> }
            })
            .collect_view();
        view! {
            <div class="form-error" role="alert">
                <p>"Validation failed: fix these before creating the cluster."</p>
                <ul>{items}</ul>
            </div>
        }
        .into_any()
    };
    let yaml = w.yaml.clone().map(|y| {
        let rows = y.lines().count().min(40);
        view! {
            <details class="yaml">
                <summary>"View as YAML"</summary>
                <p class="hint">"Exactly the Cluster that Create sends to the management cluster; copy it into Git to manage the cluster there."</p>
                <textarea class="code" readonly="" rows=rows.to_string() aria-label="Cluster YAML" spellcheck="false">{y}</textarea>
            </details>
        }
    });
    view! {
        <section aria-labelledby="review-basics">
            <h3 id="review-basics">"Basics"</h3>
            <dl class="details">
                <dt>"Cluster name"</dt><dd>{d.name.clone()}</dd>
                <dt>"Namespace"</dt><dd>{d.namespace.clone()}</dd>
                <dt>"Region"</dt><dd>{d.region.clone()}</dd>
                <dt>"Kubernetes version"</dt><dd>{d.version.clone()}</dd>
                <dt>"Control plane replicas"</dt><dd>{d.control_plane.clone()}</dd>
                <dt>"Preset"</dt><dd>{Preset::parse(&d.preset).map_or("", Preset::label)}</dd>
                <dt>"Tags"</dt><dd class="wrap">{tag_text}</dd>
            </dl>
        </section>
        <section aria-labelledby="review-pools">
            <h3 id="review-pools">"Node pools"</h3>
            <table class="data-table">
                <thead><tr><th scope="col">"Pool"</th><th scope="col">"Mode"</th><th scope="col">"VM size"</th><th scope="col">"Nodes"</th><th scope="col">"Zones"</th><th scope="col">"OS image"</th></tr></thead>
                <tbody>{pools}</tbody>
            </table>
        </section>
        <section class="cost" aria-label="Estimated monthly cost">
            <h3>"Estimated monthly cost"</h3>
            {cost_table(&w.cost)}
        </section>
        {result}
        {yaml}
    }
}

/// What has been chosen so far, beside every step.
#[component]
fn Sidebar(w: WizardView) -> impl IntoView {
    let d = w.draft;
    let nodes = w
        .cost
        .pools
        .iter()
        .fold((0, 0), |a, p| (a.0 + p.nodes.0, a.1 + p.nodes.1));
    let or_dash = |s: &str| {
        if s.is_empty() {
            "—".to_string()
        } else {
            s.to_string()
        }
    };
    let tags = tags::parse(&d.tags)
        .map(|t| t.len().to_string())
        .unwrap_or_else(|_| "not valid yet".into());
    view! {
        <aside class="wizard-summary" aria-label="Summary">
            <h2>"Summary"</h2>
            <dl>
                <dt>"Name"</dt><dd>{or_dash(&d.name)}</dd>
                <dt>"Namespace"</dt><dd>{or_dash(&d.namespace)}</dd>
                <dt>"Region"</dt><dd>{or_dash(&d.region)}</dd>
                <dt>"Version"</dt><dd>{or_dash(&d.version)}</dd>
                <dt>"Control plane"</dt><dd>{or_dash(&d.control_plane)}</dd>
                <dt>"Node pools"</dt><dd>{d.pools.len()} " · " {cost::nodes(nodes)}</dd>
                <dt>"Tags"</dt><dd>{tags}</dd>
                <dt>"Monthly cost"</dt><dd>{cost::money(w.cost.total)}</dd>
            </dl>
        </aside>
    }
}
