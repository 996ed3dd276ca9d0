//! The Access page: the signed-in person's groups, the role bindings that apply to them and what
//! they may do. (Managing bindings and the access simulator come next.)

use leptos::prelude::*;

use super::{AccessSummary, my_access};
use crate::ui::{ErrorPanel, PageHeader};

#[component]
pub fn AccessPage() -> impl IntoView {
    let mine = Resource::new(|| (), |_| my_access());
    view! {
        <PageHeader title="Access" subtitle="Identity-provider groups and users bound to portal roles." />
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading your access…"</p> }>
            {move || Suspend::new(async move {
                match mine.await {
                    Ok(m) => view! { <YourAccess access=m /> }.into_any(),
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn YourAccess(access: AccessSummary) -> impl IntoView {
    let AccessSummary {
        principal,
        bindings,
        actions,
    } = access;
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
