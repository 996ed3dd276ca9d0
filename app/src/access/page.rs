//! The Access page: the signed-in person's groups, bindings and permissions; for administrators,
//! every role binding (add, remove) and the access simulator.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use super::model::{Action, Binding, ClusterRef, Role};
use super::{
    AccessSummary, AddBinding, RemoveBinding, Simulation, list_bindings, my_access, simulate_access,
};
use crate::ui::{ErrorPanel, PageHeader};

#[component]
pub fn AccessPage() -> impl IntoView {
    let mine = Resource::new(|| (), |_| my_access());
    view! {
        <PageHeader title="Access" subtitle="Identity-provider groups and users bound to portal roles." />
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading your access…"</p> }>
            {move || Suspend::new(async move {
                match mine.await {
                    Ok(m) => {
                        let manages = m
                            .actions
                            .iter()
                            .any(|(a, _, allowed)| *a == Action::ManageAccess && *allowed);
                        view! {
                            <YourAccess access=m />
                            {if manages {
                                view! { <ManageBindings /> <AccessSimulator /> }.into_any()
                            } else {
                                view! { <NotAnAdmin /> }.into_any()
                            }}
                        }
                            .into_any()
                    }
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// For people who may not manage access: the control is there, disabled, saying who may.
#[component]
fn NotAnAdmin() -> impl IntoView {
    let needed = Action::ManageAccess.needs();
    view! {
        <section class="panel" aria-labelledby="bindings-h">
            <h2 id="bindings-h">"Role bindings"</h2>
            <p id="bindings-why">
                "Only administrators see every binding and change them (the "
                {needed.as_str()} " role, portal-wide)."
            </p>
            <button
                type="button"
                disabled
                title=format!("Needs the {needed} role")
                aria-describedby="bindings-why"
            >
                "Add a role binding"
            </button>
        </section>
    }
}

fn scope_text(cluster: &Option<ClusterRef>) -> String {
    cluster
        .as_ref()
        .map(|c| format!("cluster {c}"))
        .unwrap_or_else(|| "everywhere".into())
}

/// Every binding with a remove button, and the form that adds one.
#[component]
fn ManageBindings() -> impl IntoView {
    let add = ServerAction::<AddBinding>::new();
    let remove = ServerAction::<RemoveBinding>::new();
    let bindings = Resource::new(
        move || (add.version().get(), remove.version().get()),
        |_| list_bindings(),
    );
    // The cluster list for the form is read once: a failed add keeps what was typed.
    let clusters = Resource::new(|| (), |_| list_bindings());
    view! {
        <section class="panel" aria-labelledby="bindings-h">
            <h2 id="bindings-h">"Role bindings"</h2>
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading role bindings…"</p> }>
                {move || Suspend::new(async move {
                    match bindings.await {
                        Ok(o) => view! { <BindingsTable bindings=o.bindings remove /> }.into_any(),
                        Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                    }
                })}
            </Transition>
            {move || {
                remove
                    .value()
                    .get()
                    .and_then(|r| r.err())
                    .map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })
            }}
            <h3 id="add-h">"Add a role binding"</h3>
            <ActionForm action=add attr:class="binding-form" attr:aria-labelledby="add-h">
                <label>
                    "Kind"
                    <select name="kind">
                        <option value="group" selected>"IdP group"</option>
                        <option value="user">"User (subject)"</option>
                    </select>
                </label>
                <label>
                    "Group or user"
                    <input name="subject" required maxlength="256" placeholder="e.g. payments-team" />
                </label>
                <label>
                    "Role"
                    <select name="role">
                        {Role::ALL
                            .into_iter()
                            .map(|r| view! { <option value=r.as_str()>{r.as_str()}</option> })
                            .collect_view()}
                    </select>
                </label>
                <label>
                    "Where"
                    <Suspense fallback=|| view! { <select name="cluster"><option value="">"Everywhere"</option></select> }>
                        {move || Suspend::new(async move {
                            let (list, note) = match clusters.await {
                                Ok(o) => (o.clusters, o.clusters_unavailable),
                                Err(e) => (Vec::new(), Some(e.to_string())),
                            };
                            view! {
                                <select name="cluster">
                                    <option value="">"Everywhere"</option>
                                    {list
                                        .into_iter()
                                        .map(|c| {
                                            let v = c.to_string();
                                            view! { <option value=v.clone()>{format!("cluster {v}")}</option> }
                                        })
                                        .collect_view()}
                                </select>
                                {note.map(|n| view! { <small class="hint">{format!("Clusters could not be listed: {n}")}</small> })}
                            }
                        })}
                    </Suspense>
                </label>
                <button type="submit" disabled=move || add.pending().get()>"Add binding"</button>
            </ActionForm>
            {move || {
                add.value()
                    .get()
                    .map(|r| match r {
                        Ok(b) => {
                            view! {
                                <p class="form-ok" role="status">
                                    {format!(
                                        "Added: {} {} is {} {}.",
                                        b.kind.as_str(),
                                        b.subject,
                                        b.role,
                                        scope_text(&b.cluster),
                                    )}
                                </p>
                            }
                                .into_any()
                        }
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    })
            }}
        </section>
    }
}

#[component]
fn BindingsTable(bindings: Vec<Binding>, remove: ServerAction<RemoveBinding>) -> impl IntoView {
    if bindings.is_empty() {
        return view! { <p>"No role bindings: nobody but the bootstrap group can do anything."</p> }
            .into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="data-table" aria-label="All role bindings">
                <thead>
                    <tr>
                        <th scope="col">"Subject"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Where"</th>
                        <th scope="col">"Added by"</th>
                        <th scope="col"><span class="visually-hidden">"Remove"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {bindings
                        .into_iter()
                        .map(|b| {
                            let label = format!(
                                "Remove {} {} ({} {})",
                                b.kind.as_str(),
                                b.subject,
                                b.role,
                                scope_text(&b.cluster),
                            );
                            view! {
                                <tr>
                                    <td>{format!("{} {}", b.kind.as_str(), b.subject)}</td>
                                    <td>{b.role.as_str()}</td>
                                    <td>{scope_text(&b.cluster)}</td>
                                    <td>{b.created_by.clone()}</td>
                                    <td>
                                        {if b.id < 0 {
                                            // In memory only, for as long as the development sign-in is on.
                                            view! { <span class="hint">"Development only"</span> }.into_any()
                                        } else {
                                            view! {
                                                <ActionForm action=remove attr:class="inline-form">
                                                    <input type="hidden" name="id" value=b.id.to_string() />
                                                    <button type="submit" class="link-button" aria-label=label>
                                                        "Remove"
                                                    </button>
                                                </ActionForm>
                                            }
                                                .into_any()
                                        }}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// "What can this group do?": pick a group (or a user and their groups), see each place. The
/// question lives in the address (`?sim_kind=…&sim_name=…`), so it works without JavaScript and
/// can be shared.
#[component]
fn AccessSimulator() -> impl IntoView {
    let query = use_query_map();
    let asked = move || {
        query.with(|q| {
            q.get("sim_name").map(|name| {
                (
                    q.get("sim_kind").unwrap_or_else(|| "group".into()),
                    name,
                    q.get("sim_groups").unwrap_or_default(),
                )
            })
        })
    };
    let answer = Resource::new(asked, |asked| async move {
        match asked {
            Some((kind, name, groups)) => Some(simulate_access(kind, name, groups).await),
            None => None,
        }
    });
    let kind_is = move |k: &str| {
        asked()
            .map(|(kind, _, _)| kind == k)
            .unwrap_or(k == "group")
    };
    view! {
        <section class="panel" aria-labelledby="sim-h">
            <h2 id="sim-h">"What can this group do?"</h2>
            <p>"Effective role and allowed actions, portal-wide and on each cluster, from the bindings above."</p>
            <Form method="GET" action="" attr:class="binding-form" attr:aria-labelledby="sim-h">
                <label>
                    "Kind"
                    <select name="sim_kind">
                        <option value="group" selected=move || kind_is("group")>"IdP group"</option>
                        <option value="user" selected=move || kind_is("user")>"User (subject)"</option>
                    </select>
                </label>
                <label>
                    "Group or user"
                    <input
                        name="sim_name"
                        required
                        maxlength="256"
                        placeholder="e.g. developers"
                        value=move || asked().map(|(_, n, _)| n).unwrap_or_default()
                    />
                </label>
                <label>
                    "The user's groups (comma-separated)"
                    <input
                        name="sim_groups"
                        placeholder="only for a user"
                        value=move || asked().map(|(_, _, g)| g).unwrap_or_default()
                    />
                </label>
                <button type="submit">"Show access"</button>
            </Form>
            <Transition fallback=|| view! { <p class="loading" role="status">"Working it out…"</p> }>
                {move || Suspend::new(async move {
                    match answer.await {
                        Some(Ok(sim)) => view! { <SimulationTable sim /> }.into_any(),
                        Some(Err(e)) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                        None => ().into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn SimulationTable(sim: Simulation) -> impl IntoView {
    let through = if sim.bindings.is_empty() {
        "no binding applies".to_string()
    } else {
        sim.bindings
            .iter()
            .map(|b| {
                format!(
                    "{} {} → {} {}",
                    b.kind.as_str(),
                    b.subject,
                    b.role,
                    scope_text(&b.cluster)
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    view! {
        <p class="sim-through">{format!("{}: {through}.", sim.principal.name)}</p>
        <div class="table-wrap">
            <table class="data-table" aria-label="Simulated access">
                <thead>
                    <tr>
                        <th scope="col">"Where"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"May"</th>
                    </tr>
                </thead>
                <tbody>
                    {sim.scopes
                        .into_iter()
                        .map(|s| {
                            let may = if s.allowed.is_empty() {
                                "nothing".to_string()
                            } else {
                                s.allowed.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ")
                            };
                            view! {
                                <tr>
                                    <td>{s.scope.map(|c| format!("cluster {c}")).unwrap_or_else(|| "portal-wide".into())}</td>
                                    <td>{s.role.map(|r| r.to_string()).unwrap_or_else(|| "none".into())}</td>
                                    <td class="wrap">{may}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn YourAccess(access: AccessSummary) -> impl IntoView {
    let AccessSummary {
        principal,
        bindings,
        actions,
        acting_as,
    } = access;
    let acting = match acting_as {
        Ok((user, groups, true)) => format!(
            "The portal calls the management cluster as you (impersonation): user {user}, groups {}. Kubernetes RBAC applies too.",
            groups.join(", ")
        ),
        Ok((user, groups, false)) => format!(
            "The portal calls the management cluster with its own account ({user}; groups {}); start it with --impersonate to call as each user.",
            groups.join(", ")
        ),
        Err(why) => format!("Who the management cluster takes the portal for is not known: {why}"),
    };
    let groups = if principal.groups.is_empty() {
        view! { <p>"Your identity provider sent no groups."</p> }.into_any()
    } else {
        view! { <ul class="groups">{principal.groups.into_iter().map(|g| view! { <li><code>{g}</code></li> }).collect_view()}</ul> }
            .into_any()
    };
    let bound = if bindings.is_empty() {
        view! { <p>"No role binding applies to you: ask an administrator for access."</p> }
            .into_any()
    } else {
        view! {
            <table class="data-table" aria-label="Role bindings that apply to you">
                <thead><tr><th scope="col">"Through"</th><th scope="col">"Role"</th><th scope="col">"Where"</th></tr></thead>
                <tbody>
                    {bindings.into_iter().map(|b| view! {
                        <tr>
                            <td>{format!("{} {}", b.kind.as_str(), b.subject)}</td>
                            <td>{b.role.as_str()}</td>
                            <td>{b.cluster.map(|c| format!("cluster {c}")).unwrap_or_else(|| "everywhere".into())}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <section class="your-access" aria-labelledby="your-access">
            <h2 id="your-access">"Your access"</h2>
            <p>"Signed in as " <strong>{principal.name}</strong> " (" <code>{principal.subject}</code> ")."</p>
            <h3>"Your groups"</h3>
            {groups}
            <h3>"Role bindings that apply to you"</h3>
            {bound}
            <h3>"On the management cluster"</h3>
            <p class="acting-as">{acting}</p>
            <h3>"What you may do everywhere"</h3>
            <table class="data-table" aria-label="What you may do everywhere">
                <thead><tr><th scope="col">"Action"</th><th scope="col">"Needs"</th><th scope="col">"You"</th></tr></thead>
                <tbody>
                    {actions.into_iter().map(|(a, needs, allowed)| view! {
                        <tr>
                            <td>{a.as_str()}</td>
                            <td>{needs.as_str()}</td>
                            <td class=if allowed { "allowed" } else { "denied" }>{if allowed { "allowed" } else { "not allowed" }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}
