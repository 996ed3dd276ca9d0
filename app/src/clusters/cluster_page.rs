//! A cluster's pages: the shared header and tabs, Overview, Node pools, Nodes, a node, Events.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::fleet_page::health_cell;
use super::model::*;
use super::{
    DeleteCluster, SaveTags, cluster_events, cluster_node, cluster_nodes, read_deletion,
    read_overview,
};
use crate::error::AppError;
use crate::metrics::ChartPanel;
use crate::metrics::model::{ChartName, ChartScope};
use crate::ui::{Badge, Column, DataTable, DetailsList, EmptyState, Loaded};
use leptos::form::ActionForm;

/// A path parameter of the current route (empty when absent).
pub(super) fn param(name: &'static str) -> impl Fn() -> String + Copy + Send + Sync + 'static {
    let params = use_params_map();
    move || params.with(|p| p.get(name).unwrap_or_default())
}

/// `(namespace, name)` of the cluster in the address.
pub(crate) fn cluster_in_address() -> impl Fn() -> (String, String) + Copy + Send + Sync + 'static {
    let (ns, name) = (param("namespace"), param("name"));
    move || (ns(), name())
}

/// The cluster's name, health and version, its tabs, and the stale notice when there is one.
#[component]
pub(crate) fn ClusterFrame(
    head: ClusterHead,
    tab: &'static str,
    children: Children,
) -> impl IntoView {
    let tabs = CLUSTER_TABS
        .iter()
        .map(|(segment, label)| {
            let href = cluster_href(&head.namespace, &head.name, segment);
            let here = (*segment == tab).then_some("page");
            view! { <li><a href=href aria-current=here rel="external">{*label}</a></li> }
        })
        .collect_view();
    let kubeconfig = head.may_download_kubeconfig.then(|| {
        let href = format!("{}/kubeconfig", cluster_href(&head.namespace, &head.name, ""));
        view! {
            <a class="button" href=href download="" rel="external"
               title="The cluster's admin credentials; the download is recorded in the activity log">
                "Download kubeconfig"
            </a>
        }
    });
    let h = head.health.health;
    view! {
        <Title text=format!("{} · Clusters", head.name) />
        <header class="page-header cluster-header">
            <p class="eyebrow"><a href="/clusters" rel="external">"Clusters"</a> " / " {head.namespace.clone()}</p>
            <h1>{head.name.clone()}</h1>
            <p class="subtitle">
                <Badge state=h.as_str() text=h.label() />
                " " <span class="health-reason">{head.health.reason.clone()}</span>
                " · Kubernetes " {head.version.clone()}
            </p>
            {kubeconfig}
        </header>
        {head.stale.clone().map(|s| view! { <p class="stale-notice" role="status">{s}</p> })}
        <nav class="tabs" aria-label="Cluster sections">
            <ul>{tabs}</ul>
        </nav>
        <section class="tab-panel">{children()}</section>
    }
}

fn conditions_table(rows: Vec<ConditionRow>, label: &'static str) -> impl IntoView {
    let columns = vec![
        Column::new("Condition", |c: &ConditionRow| c.type_.clone().into_any()),
        Column::new("Status", |c: &ConditionRow| {
            let state = match c.status.as_str() {
                "True" => "accepted",
                "False" => "denied",
                _ => "unknown",
            };
            view! { <Badge state text=c.status.clone() /> }.into_any()
        }),
        Column::new("Reason", |c: &ConditionRow| c.reason.clone().into_any()),
        Column::new("Message", |c: &ConditionRow| {
            view! { <span class="wrap">{c.message.clone()}</span> }.into_any()
        }),
        Column::new("Since", |c: &ConditionRow| {
            view! { <time datetime=c.since.clone()>{c.since.clone()}</time> }.into_any()
        }),
    ];
    view! {
        <DataTable label columns rows empty=|| view! { <p class="muted">"No conditions reported."</p> } />
    }
}

pub(super) fn events_table(rows: Vec<EventRow>, label: &'static str) -> impl IntoView {
    let columns = vec![
        Column::new("Type", |e: &EventRow| {
            let state = if e.type_ == "Warning" {
                "degraded"
            } else {
                "neutral"
            };
            view! { <Badge state text=e.type_.clone() /> }.into_any()
        }),
        Column::new("Object", |e: &EventRow| e.object.clone().into_any()),
        Column::new("Reason", |e: &EventRow| e.reason.clone().into_any()),
        Column::new("Message", |e: &EventRow| {
            view! { <span class="wrap">{e.message.clone()}</span> }.into_any()
        }),
        Column::new("Count", |e: &EventRow| e.count.to_string().into_any()),
        Column::new("Last seen", |e: &EventRow| {
            view! { <time datetime=e.last_seen.clone() title=e.last_seen.clone()>{e.age.clone()}</time> }.into_any()
        }),
    ];
    view! {
        <DataTable label columns rows empty=|| view! {
            <EmptyState title="No events" detail="Kubernetes keeps events for about an hour; nothing was reported recently." />
        } />
    }
}

/// `/clusters/<namespace>/<name>`: health and conditions, facts, the kubeconfig download.
#[component]
pub fn ClusterPage() -> impl IntoView {
    let cluster = cluster_in_address();
    let data = Resource::new(cluster, |(ns, name)| read_overview(ns, name));
    view! {
        <Loaded resource=data loading="Loading the cluster…" show=move |o: ClusterOverview| {
            let r = o.row.clone();
            let tags_text = if r.tags.is_empty() { "none".to_string() } else { r.tags.join(", ") };
            let edit = o.head.may_edit_tags.then(|| {
                let href = cluster_href(&o.head.namespace, &o.head.name, "tags");
                view! { " " <a class="button secondary small" href=href rel="external">"Edit tags"</a> }
            });
            let tags = view! { <span class="wrap">{tags_text}</span> {edit} };
            let created = match &o.created_by {
                Some(by) => format!("{} ({} ago) by {by}", r.created, r.age),
                None => format!("{} ({} ago)", r.created, r.age),
            };
            let version = match &r.upgrade {
                Some(u) => format!("{} (upgrade available: {u})", r.version),
                None => r.version.clone(),
            };
            let nodes = match (r.nodes_ready, r.nodes_total) {
                (Some(a), Some(b)) => format!("{a} of {b} ready"),
                _ => "not known".to_string(),
            };
            // While it is being made (nodes joining one by one), the page follows by reloading.
            let following = matches!(r.health.health, Health::Provisioning | Health::Upgrading | Health::Scaling | Health::Deleting);
            let ops = view! {
                <h2>"Operations"</h2>
                <crate::operations::OpsList rows=o.operations.clone() namespace=o.head.namespace.clone() name=o.head.name.clone() />
            };
            let delete = o.head.may_delete.then(|| {
                let href = cluster_href(&o.head.namespace, &o.head.name, "delete");
                view! {
                    <h2>"Delete"</h2>
                    <p class="muted">"Deleting removes the cluster, its node pools and nodes, and everything running on it."</p>
                    <p><a class="button danger" href=href rel="external">"Delete cluster"</a></p>
                }
            });
            let versions = o.versions.clone().map(|v| view! {
                <h2>"Versions and upgrades"</h2>
                <crate::upgrades::VersionsSection versions=v namespace=o.head.namespace.clone() name=o.head.name.clone() />
            });
            view! {
                {following.then(|| view! { <leptos_meta::Meta http_equiv="refresh" content="3" /> })}
                <ClusterFrame head=o.head.clone() tab="">
                    <h2>"Overview"</h2>
                    <DetailsList label="Cluster" items=vec![
                        ("Health", health_cell(&r).into_any()),
                        ("Kubernetes version", version.into_any()),
                        ("Region", r.region.clone().into_any()),
                        ("Control plane", o.control_plane.clone().into_any()),
                        ("Node pools", r.pools.to_string().into_any()),
                        ("Nodes", nodes.into_any()),
                        ("Tags", tags.into_any()),
                        ("Created", created.into_any()),
                        ("ClusterClass", o.class.clone().into_any()),
                        ("Phase", o.phase.clone().into_any()),
                    ] />
                    {versions}
                    <h2>"CPU and memory"</h2>
                    <ChartPanel namespace=o.head.namespace.clone() name=o.head.name.clone()
                        scope=ChartScope::Cluster charts=vec![ChartName::Cpu, ChartName::Memory] />
                    <h2>"Conditions"</h2>
                    {conditions_table(o.conditions.clone(), "Conditions")}
                    {ops}
                    {delete}
                </ClusterFrame>
            }
        } />
    }
}

/// "1.2 of 3.9 cores" with a meter.
fn usage(requested: u64, allocatable: u64, unit: fn(u64) -> String, what: &str) -> AnyView {
    let percent = (requested * 100).checked_div(allocatable).unwrap_or(0);
    let label = format!(
        "{what}: {} of {} requested ({percent}%)",
        unit(requested),
        unit(allocatable)
    );
    view! {
        <span class="usage" title=label.clone()>
            <meter min="0" max=allocatable.to_string() value=requested.to_string() aria-label=label.clone()></meter>
            " " {format!("{percent}%")}
        </span>
    }
    .into_any()
}

fn cores(m: u64) -> String {
    format!("{:.1} cores", m as f64 / 1000.0)
}

fn gib(b: u64) -> String {
    format!("{:.1} GiB", b as f64 / 1_073_741_824.0)
}

fn node_columns(namespace: String, name: String) -> Vec<Column<NodeRow>> {
    vec![
        Column::new("Node", move |n: &NodeRow| {
            let href = format!(
                "{}/{}",
                cluster_href(&namespace, &name, "nodes"),
                crate::ui::percent_encode(&n.name)
            );
            view! { <a href=href rel="external">{n.name.clone()}</a> }.into_any()
        }),
        Column::new("Status", |n: &NodeRow| {
            let state = if n.ready { "healthy" } else { "degraded" };
            view! { <Badge state text=n.status.clone() /> }.into_any()
        }),
        Column::new("Pool", |n: &NodeRow| n.pool.clone().into_any()),
        Column::new("Zone", |n: &NodeRow| n.zone.clone().into_any()),
        Column::new("Version", |n: &NodeRow| n.version.clone().into_any()),
        Column::new("CPU requests", |n: &NodeRow| {
            usage(n.cpu_requested_m, n.cpu_allocatable_m, cores, "CPU")
        }),
        Column::new("Memory requests", |n: &NodeRow| {
            usage(n.memory_requested, n.memory_allocatable, gib, "Memory")
        }),
        Column::new("Pods", |n: &NodeRow| n.pods.to_string().into_any()),
        Column::new("Age", |n: &NodeRow| n.age.clone().into_any()),
    ]
}

/// `/clusters/<namespace>/<name>/nodes`.
#[component]
pub fn NodesTabPage() -> impl IntoView {
    let cluster = cluster_in_address();
    let data = Resource::new(cluster, |(ns, name)| cluster_nodes(ns, name));
    view! {
        <Loaded resource=data loading="Loading nodes…" show=move |t: NodesTab| {
            let columns = node_columns(t.head.namespace.clone(), t.head.name.clone());
            view! {
                <ClusterFrame head=t.head.clone() tab="nodes">
                    {t.pods_unknown.clone().map(|why| view! { <p class="stale-notice" role="status">"Requests and pod counts are missing: " {why}</p> })}
                    <DataTable label="Nodes" columns rows=t.nodes.clone() empty=|| view! {
                        <EmptyState title="No nodes" detail="No node has joined this cluster yet." />
                    } />
                </ClusterFrame>
            }
        } />
    }
}

/// `/clusters/<namespace>/<name>/nodes/<node>`.
#[component]
pub fn NodePage() -> impl IntoView {
    let cluster = cluster_in_address();
    let node = param("node");
    let data = Resource::new(
        move || (cluster(), node()),
        |((ns, name), node)| cluster_node(ns, name, node),
    );
    view! {
        <Loaded resource=data loading="Loading the node…" show=move |d: NodeDetail| {
            let n = d.node.clone();
            let pods = super::pod_pages::pod_table(d.pods.clone(), d.head.namespace.clone(), d.head.name.clone(), crate::ui::Pager::default());
            view! {
                <ClusterFrame head=d.head.clone() tab="nodes">
                    <h2>"Node " {n.name.clone()}</h2>
                    <DetailsList label="Node" items=vec![
                        ("Status", n.status.clone().into_any()),
                        ("Pool", n.pool.clone().into_any()),
                        ("Zone", n.zone.clone().into_any()),
                        ("Version", n.version.clone().into_any()),
                        ("CPU requests", usage(n.cpu_requested_m, n.cpu_allocatable_m, cores, "CPU")),
                        ("Memory requests", usage(n.memory_requested, n.memory_allocatable, gib, "Memory")),
                        ("Pods", n.pods.to_string().into_any()),
                        ("Age", n.age.clone().into_any()),
                        ("Taints", (if d.taints.is_empty() { "none".to_string() } else { d.taints.join(", ") }).into_any()),
                    ] />
                    <h2>"CPU and memory"</h2>
                    <ChartPanel namespace=d.head.namespace.clone() name=d.head.name.clone()
                        scope=ChartScope::Node(n.name.clone()) charts=vec![ChartName::Cpu, ChartName::Memory] />
                    <h2>"Top pods on this node"</h2>
                    <ChartPanel namespace=d.head.namespace.clone() name=d.head.name.clone()
                        scope=ChartScope::Node(n.name.clone()) charts=vec![ChartName::TopCpu, ChartName::TopMemory] ranges=false />
                    <h2>"Conditions"</h2>
                    {conditions_table(d.conditions.clone(), "Node conditions")}
                    <h2>"Pods on this node"</h2>
                    {pods}
                    <h2>"Events"</h2>
                    {events_table(d.events.clone(), "Node events")}
                    <details>
                        <summary>"Labels"</summary>
                        <ul class="plain-list">{d.labels.iter().map(|l| view! { <li><code>{l.clone()}</code></li> }).collect_view()}</ul>
                    </details>
                </ClusterFrame>
            }
        } />
    }
}

/// `/clusters/<namespace>/<name>/events`: warnings first.
#[component]
pub fn EventsTabPage() -> impl IntoView {
    let cluster = cluster_in_address();
    let data = Resource::new(cluster, |(ns, name)| cluster_events(ns, name));
    view! {
        <Loaded resource=data loading="Loading events…" show=move |t: EventsTab| {
            view! {
                <ClusterFrame head=t.head.clone() tab="events">
                    {events_table(t.events.clone(), "Events")}
                </ClusterFrame>
            }
        } />
    }
}

pub(super) use events_table as events_of;

/// `/clusters/<namespace>/<name>/tags`: the cluster's tags as `key=value` lines, for its admins.
#[component]
pub fn TagsPage() -> impl IntoView {
    let cluster = cluster_in_address();
    let data = Resource::new(cluster, |(ns, name)| read_overview(ns, name));
    view! {
        <Loaded resource=data loading="Loading the cluster…" show=move |o: ClusterOverview| {
            let form = if o.head.may_edit_tags {
                view! { <TagsForm namespace=o.head.namespace.clone() name=o.head.name.clone() tags=o.row.tags.clone() /> }.into_any()
            } else {
                view! { <p class="muted">"Changing tags needs the admin role for this cluster; ask an administrator for access."</p> }.into_any()
            };
            view! {
                <ClusterFrame head=o.head.clone() tab="">
                    <h2>"Edit tags"</h2>
                    <p class="muted">"Tags place the cluster in the fleet's filters and in team dashboards."</p>
                    {form}
                </ClusterFrame>
            }
        } />
    }
}

/// The tags form: what it showed goes with it, so a change made meanwhile is not overwritten.
#[component]
fn TagsForm(namespace: String, name: String, tags: Vec<String>) -> impl IntoView {
    let save = ServerAction::<SaveTags>::new();
    let text = super::tags::to_text(&tags);
    let back = cluster_href(&namespace, &name, "");
    view! {
        <ActionForm action=save attr:class="tags-form" attr:aria-label="Tags" attr:data-native="">
            <input type="hidden" name="namespace" value=namespace />
            <input type="hidden" name="name" value=name />
            <input type="hidden" name="was" value=text.clone() />
            <label for="tags-field">"Tags"</label>
            <textarea id="tags-field" name="tags" rows="8" placeholder="team=payments" aria-describedby="tags-hint">{text}</textarea>
            <small id="tags-hint" class="hint">"key=value, one per line. At most 50 tags; keys up to 128 letters, digits, \".\", \"_\", \"/\" or \"-\"; values up to 256 characters, no markup."</small>
            <div class="form-actions">
                <button type="submit" disabled=move || save.pending().get()>"Save tags"</button>
                " " <a class="button secondary" href=back rel="external">"Cancel"</a>
            </div>
        </ActionForm>
        {move || save.value().get().and_then(|r| r.err()).map(|e| {
            let now = match &e {
                AppError::Conflict { current: Some(c), .. } => Some(if c.is_empty() { "none".to_string() } else { c.replace('\n', ", ") }),
                _ => None,
            };
            view! {
                <div class="form-error" role="alert">
                    <p>{e.to_string()}</p>
                    {now.map(|n| view! { <p>"They are now: " {n}</p> })}
                </div>
            }
        })}
    }
}

/// `/clusters/<namespace>/<name>/delete`: what deleting destroys and the typed-name confirmation;
/// once begun, the progress (the page reloads itself) until the Cluster is gone.
#[component]
pub fn DeletePage() -> impl IntoView {
    let cluster = cluster_in_address();
    let data = Resource::new(cluster, |(ns, name)| read_deletion(ns, name));
    view! {
        <Loaded resource=data loading="Loading the cluster…" show=move |d: DeletionView| {
            let whole = format!("{}/{}", d.namespace, d.name);
            let body = if d.gone {
                view! {
                    <Title text=format!("{} deleted", d.name) />
                    <section class="empty-state" aria-label="Deleted" role="status">
                        <h2>"There is no cluster " {whole.clone()}</h2>
                        <p class="muted">"It has been deleted, or your roles do not let you see it."</p>
                        <p><a href="/clusters" rel="external">"Back to the clusters"</a></p>
                    </section>
                }
                .into_any()
            } else if d.deleting {
                let progress = if d.progress.is_empty() { "Waiting for Cluster API to remove it".to_string() } else { d.progress.clone() };
                let nodes = d.nodes.map_or("not known".to_string(), |n| n.to_string());
                view! {
                    <leptos_meta::Meta http_equiv="refresh" content="2" />
                    <Title text=format!("Deleting {}", d.name) />
                    <section class="deletion" aria-label="Deletion progress" role="status">
                        <h2>"Deleting " {whole.clone()}</h2>
                        <p><span class="spinner" aria-hidden="true"></span> {progress}</p>
                        <p>"Nodes left: " {nodes}</p>
                        <p class="muted">"This page follows the deletion until the cluster is gone."</p>
                    </section>
                }
                .into_any()
            } else {
                view! { <DeleteForm d=d.clone() /> }.into_any()
            };
            view! {
                <header class="page-header">
                    <p class="eyebrow"><a href="/clusters" rel="external">"Clusters"</a> " / " {d.namespace.clone()}</p>
                    <h1>"Delete " {d.name.clone()}</h1>
                </header>
                {body}
            }
        } />
    }
}

/// What will be destroyed, and the name to type.
#[component]
fn DeleteForm(d: DeletionView) -> impl IntoView {
    let delete = ServerAction::<DeleteCluster>::new();
    let pools = if d.pools.is_empty() {
        view! { <li>"no node pools"</li> }.into_any()
    } else {
        d.pools
            .iter()
            .map(|(pool, nodes)| view! { <li>"node pool " <strong>{pool.clone()}</strong> " (" {nodes.clone()} ")"</li> })
            .collect_view()
            .into_any()
    };
    let nodes = d
        .nodes
        .map_or("its nodes (how many is not known)".to_string(), |n| {
            format!("{n} node{}", if n == 1 { "" } else { "s" })
        });
    let pods = d.pods_running.map_or(
        "every pod running on it (the workload cluster cannot be reached to count them)"
            .to_string(),
        |n| format!("{n} running pod{}", if n == 1 { "" } else { "s" }),
    );
    let back = cluster_href(&d.namespace, &d.name, "");
    view! {
        <Title text=format!("Delete {}", d.name) />
        <section class="danger-zone" aria-labelledby="destroy-h">
            <h2 id="destroy-h">"This destroys"</h2>
            <ul>
                {pools}
                <li>{nodes}</li>
                <li>{pods}</li>
                <li>"the cluster's control plane, its kubeconfig and everything stored in it"</li>
            </ul>
            <p>"It cannot be undone."</p>
        </section>
        <ActionForm action=delete attr:class="delete-form" attr:aria-label="Delete cluster" attr:data-native="">
            <input type="hidden" name="namespace" value=d.namespace.clone() />
            <input type="hidden" name="name" value=d.name.clone() />
            <label for="confirm-field">"Type the cluster's name to confirm"</label>
            <input id="confirm-field" name="confirm" autocomplete="off" spellcheck="false" required aria-describedby="confirm-hint" />
            <small id="confirm-hint" class="hint">"Type " <code>{d.name.clone()}</code> " exactly."</small>
            <div class="form-actions">
                <button type="submit" class="danger" disabled=move || delete.pending().get()>"Delete cluster"</button>
                " " <a class="button secondary" href=back rel="external">"Cancel"</a>
            </div>
        </ActionForm>
        {move || delete.value().get().and_then(|r| r.err()).map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })}
    }
}
