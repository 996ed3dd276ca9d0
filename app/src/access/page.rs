//! The Access page: the signed-in person's groups, bindings and permissions; for administrators,
//! every role binding (add, remove) and the access simulator.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use super::model::{Action, Binding, ClusterRef, Role};
use super::{
    AccessOverview, AccessSummary, AddBinding, RemoveBinding, ScopeAccess, Simulation,
    list_bindings, my_access, simulate_access,
};
use crate::ui::{Column, DataTable, Loaded, PageHeader};

#[component]
pub fn AccessPage() -> impl IntoView {
    let mine = Resource::new(|| (), |_| my_access());
    view! {
        <PageHeader title="Access" subtitle="Identity-provider groups and users bound to portal roles." />
        <Loaded resource=mine loading="Loading your access…" show=|m: AccessSummary| {
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
        } />
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
            <Loaded resource=bindings loading="Loading role bindings…" show=move |o: AccessOverview| {
                view! { <BindingsTable bindings=o.bindings remove /> }
            } />
            {move || {
                remove
                    .value()
                    .get()
                    .and_then(|r| r.err())
                    .map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })
            }}
            <h3 id="add-h">"Add a role binding"</h3>
            // Forms that change data load the whole page again (`data-native`): the islands router's
            // in-place patching misplaces table rows when the list changes length.
            <ActionForm action=add attr:class="binding-form" attr:aria-labelledby="add-h" attr:data-native="">
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
    let columns = vec![
        Column::new("Subject", |b: &Binding| {
            format!("{} {}", b.kind.as_str(), b.subject).into_any()
        }),
        Column::new("Role", |b: &Binding| b.role.as_str().into_any()),
        Column::new("Where", |b: &Binding| scope_text(&b.cluster).into_any()),
        Column::new("Added by", |b: &Binding| b.created_by.clone().into_any()),
        Column::new("Remove", move |b: &Binding| {
            if b.id < 0 {
                // In memory only, for as long as the development sign-in is on.
                return view! { <span class="hint">"Development only"</span> }.into_any();
            }
            let label = format!(
                "Remove {} {} ({} {})",
                b.kind.as_str(),
                b.subject,
                b.role,
                scope_text(&b.cluster),
            );
            let id = b.id.to_string();
            view! {
                <ActionForm action=remove attr:class="inline-form" attr:data-native="">
                    <input type="hidden" name="id" value=id />
                    <button type="submit" class="link-button" aria-label=label>
                        "Remove"
                    </button>
                </ActionForm>
            }
            .into_any()
        })
        .hidden(),
    ];
    view! {
        <DataTable
            label="All role bindings"
            columns
            rows=bindings
            empty=|| view! { <p>"No role bindings: nobody but the bootstrap group can do anything."</p> }
        />
    }
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
            <Form method="GET" action="" attr:class="binding-form" attr:aria-labelledby="sim-h" attr:data-native="">
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
        <DataTable
            label="Simulated access"
            columns=simulation_columns()
            rows=sim.scopes
        />
    }
}

fn simulation_columns() -> Vec<Column<ScopeAccess>> {
    vec![
        Column::new("Where", |s: &ScopeAccess| {
            s.scope
                .as_ref()
                .map(|c| format!("cluster {c}"))
                .unwrap_or_else(|| "portal-wide".into())
                .into_any()
        }),
        Column::new("Role", |s: &ScopeAccess| {
            s.role
                .map(|r| r.to_string())
                .unwrap_or_else(|| "none".into())
                .into_any()
        }),
        Column::new("May", |s: &ScopeAccess| {
            let may = if s.allowed.is_empty() {
                "nothing".to_string()
            } else {
                s.allowed
                    .iter()
                    .map(|a| a.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            view! { <span class="wrap">{may}</span> }.into_any()
        }),
    ]
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
        let columns = vec![
            Column::new("Through", |b: &Binding| {
                format!("{} {}", b.kind.as_str(), b.subject).into_any()
            }),
            Column::new("Role", |b: &Binding| b.role.as_str().into_any()),
            Column::new("Where", |b: &Binding| scope_text(&b.cluster).into_any()),
        ];
        view! {
            <DataTable
                label="Role bindings that apply to you"
                columns
                rows=bindings
            />
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
            <DataTable
                label="What you may do everywhere"
                columns=action_columns()
                rows=actions
            />
        </section>
    }
}

fn action_columns() -> Vec<Column<(Action, Role, bool)>> {
    vec![
        Column::new("Action", |(a, _, _): &(Action, Role, bool)| {
            a.as_str().into_any()
        }),
        Column::new("Needs", |(_, needs, _): &(Action, Role, bool)| {
            needs.as_str().into_any()
        }),
        Column::new("You", |(_, _, allowed): &(Action, Role, bool)| {
            let (class, text) = if *allowed {
                ("allowed", "allowed")
            } else {
                ("denied", "not allowed")
            };
            view! { <span class=class>{text}</span> }.into_any()
        }),
    ]
}
