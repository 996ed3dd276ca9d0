//! A cluster's pods: the Pods tab with its filters, a pod's page, and its logs.
//
// Logs show the last lines at load; with JavaScript they are followed live (server-sent events).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::cluster_page::{ClusterFrame, cluster_in_address, events_of, param};
use super::model::*;
use super::{cluster_pod, cluster_pods, pod_logs};
use crate::metrics::ChartPanel;
use crate::metrics::model::{ChartName, ChartScope};
use crate::ui::{Badge, Column, DataTable, DetailsList, EmptyState, Loaded, Pager, percent_encode};

/// `/clusters/<ns>/<name>/pods/<pod namespace>/<pod>`.
fn pod_href(namespace: &str, name: &str, pod_namespace: &str, pod: &str) -> String {
    format!(
        "{}/{}/{}",
        cluster_href(namespace, name, "pods"),
        percent_encode(pod_namespace),
        percent_encode(pod)
    )
}

/// The health colour of a pod's status word.
fn pod_state(status: &str) -> &'static str {
    match status {
        "Running" | "Succeeded" => "healthy",
        "Pending" | "ContainerCreating" | "Terminating" => "provisioning",
        _ => "failed",
    }
}

/// A table of pods, each linking to its page.
pub(super) fn pod_table(
    rows: Vec<PodRow>,
    namespace: String,
    name: String,
    pager: Pager,
) -> impl IntoView {
    let columns = vec![
        Column::new("Namespace", |p: &PodRow| p.namespace.clone().into_any()),
        Column::new("Pod", move |p: &PodRow| {
            let href = pod_href(&namespace, &name, &p.namespace, &p.name);
            view! { <a href=href rel="external">{p.name.clone()}</a> }.into_any()
        }),
        Column::new("Status", |p: &PodRow| {
            view! {
                <Badge state=pod_state(&p.status) text=p.status.clone() />
                {(!p.reason.is_empty()).then(|| view! { " " <small class="wrap reason">{p.reason.clone()}</small> })}
            }
            .into_any()
        }),
        Column::new("Restarts", |p: &PodRow| p.restarts.to_string().into_any()),
        Column::new("Node", |p: &PodRow| p.node.clone().into_any()),
        Column::new("Age", |p: &PodRow| p.age.clone().into_any()),
        Column::new("Owner", |p: &PodRow| p.owner.clone().into_any()),
    ];
    view! {
        <DataTable label="Pods" columns rows pager empty=|| view! {
            <EmptyState title="No pods match" detail="Clear a filter to see more." />
        } />
    }
}

fn pod_query() -> impl Fn() -> PodQuery + Copy + Send + Sync + 'static {
    let query = use_query_map();
    move || {
        query.with(|q| {
            let get = |k: &str| q.get(k).unwrap_or_default();
            PodQuery {
                namespace: get("namespace"),
                phase: get("phase"),
                node: get("node"),
                page: get("page"),
            }
        })
    }
}

fn pods_page_href(base: &str, q: &PodQuery, page: usize) -> String {
    let mut parts = Vec::new();
    for (k, v) in [
        ("namespace", &q.namespace),
        ("phase", &q.phase),
        ("node", &q.node),
    ] {
        if !v.is_empty() {
            parts.push(format!("{k}={}", percent_encode(v)));
        }
    }
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    if parts.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", parts.join("&"))
    }
}

/// `/clusters/<namespace>/<name>/pods`: trouble first, filters by namespace, phase and node.
#[component]
pub fn PodsTabPage() -> impl IntoView {
    let cluster = cluster_in_address();
    let query = pod_query();
    let data = Resource::new(
        move || (cluster(), query()),
        |((ns, name), q)| cluster_pods(ns, name, q.namespace, q.phase, q.node, q.page),
    );
    view! {
        <Loaded resource=data loading="Loading pods…" show=move |l: PodList| {
            let q = query();
            let base = cluster_href(&l.head.namespace, &l.head.name, "pods");
            let option = |value: &String, current: &str| {
                view! { <option value=value.clone() selected=value == current>{value.clone()}</option> }
            };
            let namespaces = l.namespaces.iter().map(|n| option(n, &q.namespace)).collect_view();
            let nodes = l.nodes.iter().map(|n| option(n, &q.node)).collect_view();
            let phases = ["Running", "Pending", "Succeeded", "Failed", "CrashLoopBackOff", "OOMKilled", "Terminating"]
                .map(|p| view! { <option value=p selected=q.phase == p>{p}</option> });
            let pager = Pager {
                previous: (l.page > 1).then(|| (pods_page_href(&base, &q, l.page - 1), "← Previous")),
                next: (l.page < l.pages).then(|| (pods_page_href(&base, &q, l.page + 1), "Next →")),
            };
            view! {
                <ClusterFrame head=l.head.clone() tab="pods">
                    <form method="get" action=base.clone() class="binding-form filters" aria-label="Filter pods" data-native="">
                        <label>"Namespace" <select name="namespace"><option value="" selected=q.namespace.is_empty()>"Any"</option>{namespaces}</select></label>
                        <label>"Phase" <select name="phase"><option value="" selected=q.phase.is_empty()>"Any"</option>{phases}</select></label>
                        <label>"Node" <select name="node"><option value="" selected=q.node.is_empty()>"Any"</option>{nodes}</select></label>
                        <button type="submit">"Filter"</button>
                        <a href=base.clone() class="clear-filters" rel="external">"Clear"</a>
                    </form>
                    <h2>"Top pods"</h2>
                    <ChartPanel namespace=l.head.namespace.clone() name=l.head.name.clone()
                        scope=ChartScope::Cluster charts=vec![ChartName::TopCpu, ChartName::TopMemory] ranges=false />
                    <p class="table-summary" role="status">{format!("{} pods · page {} of {}", l.matching, l.page, l.pages)}</p>
                    {pod_table(l.rows.clone(), l.head.namespace.clone(), l.head.name.clone(), pager)}
                </ClusterFrame>
            }
        } />
    }
}

/// `/clusters/<namespace>/<name>/pods/<pod namespace>/<pod>`: containers, conditions, events.
#[component]
pub fn PodPage() -> impl IntoView {
    let cluster = cluster_in_address();
    let (pod_ns, pod) = (param("pod_namespace"), param("pod"));
    let data = Resource::new(
        move || (cluster(), pod_ns(), pod()),
        |((ns, name), pns, pod)| cluster_pod(ns, name, pns, pod),
    );
    view! {
        <Loaded resource=data loading="Loading the pod…" show=move |d: PodDetail| {
            let p = d.pod.clone();
            let logs = format!("{}/logs", pod_href(&d.head.namespace, &d.head.name, &p.namespace, &p.name));
            let containers = vec![
                Column::new("Container", |c: &ContainerRow| c.name.clone().into_any()),
                Column::new("Image", |c: &ContainerRow| view! { <code>{c.image.clone()}</code> }.into_any()),
                Column::new("State", |c: &ContainerRow| view! { <span class="wrap">{c.state.clone()}</span> }.into_any()),
                Column::new("Ready", |c: &ContainerRow| (if c.ready { "yes" } else { "no" }).into_any()),
                Column::new("Restarts", |c: &ContainerRow| c.restarts.to_string().into_any()),
                Column::new("Last termination", |c: &ContainerRow| c.last_termination.clone().into_any()),
            ];
            view! {
                <ClusterFrame head=d.head.clone() tab="pods">
                    <h2>"Pod " {p.namespace.clone()} "/" {p.name.clone()}</h2>
                    <p><a class="button" href=logs rel="external">"Logs"</a></p>
                    <DetailsList label="Pod" items=vec![
                        ("Status", view! { <Badge state=pod_state(&p.status) text=p.status.clone() /> " " {p.reason.clone()} }.into_any()),
                        ("Restarts", p.restarts.to_string().into_any()),
                        ("Node", p.node.clone().into_any()),
                        ("Owner", p.owner.clone().into_any()),
                        ("Age", p.age.clone().into_any()),
                    ] />
                    <h2>"CPU and memory"</h2>
                    <ChartPanel namespace=d.head.namespace.clone() name=d.head.name.clone()
                        scope=ChartScope::Pod { namespace: p.namespace.clone(), name: p.name.clone() }
                        charts=vec![ChartName::Cpu, ChartName::Memory] />
                    <h2>"Containers"</h2>
                    <DataTable label="Containers" columns=containers rows=d.containers.clone() />
                    <h2>"Conditions"</h2>
                    <DataTable label="Pod conditions" columns=vec![
                        Column::new("Condition", |c: &ConditionRow| c.type_.clone().into_any()),
                        Column::new("Status", |c: &ConditionRow| c.status.clone().into_any()),
                        Column::new("Reason", |c: &ConditionRow| c.reason.clone().into_any()),
                        Column::new("Message", |c: &ConditionRow| view! { <span class="wrap">{c.message.clone()}</span> }.into_any()),
                    ] rows=d.conditions.clone() />
                    <h2>"Events"</h2>
                    {events_of(d.events.clone(), "Pod events")}
                </ClusterFrame>
            }
        } />
    }
}

/// `/clusters/<ns>/<name>/pods/<pod ns>/<pod>/logs?container=…&previous=true`.
#[component]
pub fn LogsPage() -> impl IntoView {
    let cluster = cluster_in_address();
    let (pod_ns, pod) = (param("pod_namespace"), param("pod"));
    let query = use_query_map();
    let options = move || {
        query.with(|q| {
            (
                q.get("container").unwrap_or_default(),
                q.get("previous").is_some_and(|v| v == "true"),
            )
        })
    };
    let data = Resource::new(
        move || (cluster(), pod_ns(), pod(), options()),
        |((ns, name), pns, pod, (container, previous))| {
            pod_logs(ns, name, pns, pod, container, previous)
        },
    );
    view! {
        <Loaded resource=data loading="Loading the log…" show=move |l: LogView| {
            let page = format!("{}/logs", pod_href(&l.head.namespace, &l.head.name, &l.namespace, &l.pod));
            let pod_page = pod_href(&l.head.namespace, &l.head.name, &l.namespace, &l.pod);
            let container_q = format!("container={}", percent_encode(&l.container));
            let stream = format!("{page}/stream?{container_q}");
            let download = format!("{page}/download?{container_q}{}", if l.previous { "&previous=true" } else { "" });
            let other = if l.previous {
                Some((format!("{page}?{container_q}"), "Current container's log"))
            } else if l.has_previous {
                Some((format!("{page}?{container_q}&previous=true"), "Previous container's log"))
            } else {
                None
            };
            let containers = l.containers.iter().map(|c| {
                view! { <option value=c.clone() selected=*c == l.container>{c.clone()}</option> }
            }).collect_view();
            let count = l.lines.len();
            view! {
                <ClusterFrame head=l.head.clone() tab="pods">
                    <h2>"Logs of " <a href=pod_page rel="external">{l.namespace.clone()} "/" {l.pod.clone()}</a></h2>
                    <form method="get" action=page.clone() class="binding-form filters" aria-label="Choose a container" data-native="">
                        <label>"Container" <select name="container">{containers}</select></label>
                        <button type="submit">"Show"</button>
                        {other.map(|(href, text)| view! { <a href=href rel="external">{text}</a> })}
                        <a href=download rel="external" download="">"Download"</a>
                    </form>
                    <p class="muted">
                        {if l.previous { "The previous container's last " } else { "The last " }}
                        {count} " lines"
                        {l.truncated.then_some(" (older lines and very long lines were cut)")}
                    </p>
                    {(!l.previous).then(|| view! { <LogFollow stream=stream.clone() /> })}
                    <div id="log-lines" class="log" role="log" aria-label="Log lines" tabindex="0">
                        {l.lines.iter().map(|line| view! { <div class="line">{line.clone()}</div> }).collect_view()}
                    </div>
                </ClusterFrame>
            }
        } />
    }
}

/// Follow and Pause/Resume: with Follow on, new lines arrive through server-sent events and are
/// appended to the log (at most `LOG_LINES_MAX` kept); Pause holds them back until Resume.
#[island]
fn LogFollow(stream: String) -> impl IntoView {
    let following = RwSignal::new(false);
    let paused = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    let source = follow::Source::new(stream.clone(), paused);
    #[cfg(not(feature = "hydrate"))]
    let _ = &stream;
    let toggle = move |_| {
        let on = !following.get_untracked();
        following.set(on);
        paused.set(false);
        #[cfg(feature = "hydrate")]
        if on {
            source.open();
        } else {
            source.close();
        }
    };
    let pause = move |_| {
        let now = !paused.get_untracked();
        paused.set(now);
        #[cfg(feature = "hydrate")]
        if !now {
            source.flush();
        }
    };
    view! {
        <div class="log-controls" role="group" aria-label="Live log">
            <button type="button" aria-pressed=move || following.get().to_string() on:click=toggle>"Follow"</button>
            <button type="button" disabled=move || !following.get() on:click=pause>
                {move || if paused.get() { "Resume" } else { "Pause" }}
            </button>
            <span class="muted" role="status">
                {move || match (following.get(), paused.get()) {
                    (false, _) => "Not following",
                    (true, false) => "Following new lines",
                    (true, true) => "Paused; new lines are held",
                }}
            </span>
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod follow {
    //! The browser side of following a log: an EventSource appending lines to `#log-lines`.

    use std::cell::RefCell;
    use std::rc::Rc;

    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    use super::LOG_LINES_MAX;

    #[derive(Default)]
    struct Inner {
        source: Option<web_sys::EventSource>,
        held: Vec<String>,
    }

    /// The live connection; cheap to copy into event handlers.
    #[derive(Clone, Copy)]
    pub struct Source {
        url: StoredValue<String, LocalStorage>,
        paused: RwSignal<bool>,
        inner: StoredValue<Rc<RefCell<Inner>>, LocalStorage>,
    }

    fn append(lines: &[String]) {
        let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let Some(log) = doc.get_element_by_id("log-lines") else {
            return;
        };
        for line in lines {
            if let Ok(div) = doc.create_element("div") {
                div.set_class_name("line");
                div.set_text_content(Some(line));
                let _ = log.append_child(&div);
            }
        }
        while log.child_element_count() as usize > LOG_LINES_MAX {
            if let Some(first) = log.first_element_child() {
                first.remove();
            }
        }
        log.set_scroll_top(log.scroll_height());
    }

    impl Source {
        pub fn new(url: String, paused: RwSignal<bool>) -> Self {
            Source {
                url: StoredValue::new_local(url),
                paused,
                inner: StoredValue::new_local(Rc::new(RefCell::new(Inner::default()))),
            }
        }

        pub fn open(&self) {
            self.close();
            let Ok(es) = web_sys::EventSource::new(&self.url.get_value()) else {
                return;
            };
            let inner = self.inner.get_value();
            let paused = self.paused;
            let on_message =
                Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
                    let Some(line) = ev.data().as_string() else {
                        return;
                    };
                    if paused.get_untracked() {
                        let mut inner = inner.borrow_mut();
                        inner.held.push(line);
                        // Held lines are bounded like the page: the oldest go first.
                        let excess = inner.held.len().saturating_sub(LOG_LINES_MAX);
                        inner.held.drain(..excess);
                    } else {
                        append(&[line]);
                    }
                });
            es.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            on_message.forget();
            self.inner.get_value().borrow_mut().source = Some(es);
        }

        pub fn close(&self) {
            if let Some(es) = self.inner.get_value().borrow_mut().source.take() {
                es.close();
            }
        }

        /// Shows what was held while paused.
        pub fn flush(&self) {
            let held = std::mem::take(&mut self.inner.get_value().borrow_mut().held);
            append(&held);
        }
    }
}
