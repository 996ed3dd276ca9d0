//! Charts: CPU and memory over time and top pods, drawn on the server, followed live by an island.

#[cfg(feature = "ssr")]
pub mod backend;
pub mod model;

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_query_map};

use crate::error::AppError;
pub use model::chart_id;
use model::*;

/// The charts `charts` (comma-separated names) of a cluster, one of its pools, nodes or pods,
/// over `range` (viewers and up; a cluster they may not see is not found).
#[server(endpoint = "metrics/charts", input = leptos::server_fn::codec::GetUrl)]
pub async fn read_charts(
    namespace: String,
    name: String,
    #[server(default)] pool: String,
    #[server(default)] node: String,
    #[server(default)] pod: String,
    charts: String,
    #[server(default)] range: String,
) -> Result<ChartsView, AppError> {
    use crate::access::model::{Action, ClusterRef, Target};
    let range = TimeRange::parse(&range).map_err(AppError::BadRequest)?;
    let scope = ChartScope::from_query(&pool, &node, &pod).map_err(AppError::BadRequest)?;
    let charts = charts
        .split(',')
        .map(ChartName::parse)
        .collect::<Result<Vec<_>, _>>()
        .map_err(AppError::BadRequest)?;
    if charts.is_empty() || charts.len() > ChartName::ALL.len() {
        return Err(AppError::BadRequest("name one to four charts".into()));
    }
    let cluster = ClusterRef::new(namespace, name);
    let who = crate::backend::backend()?
        .authorize(Action::ViewClusters, Target::Cluster(cluster.clone()))
        .await?;
    backend::metrics()?
        .charts(&who, &cluster, scope, charts, range)
        .await
}

/// Links to the same page with each time range (other query parameters kept).
#[component]
pub fn RangeLinks(current: TimeRange) -> impl IntoView {
    let location = use_location();
    let query = use_query_map();
    let path = location.pathname.get_untracked();
    let others: String = query.with_untracked(|q| {
        q.clone()
            .into_iter()
            .filter(|(k, _)| k != "range")
            .map(|(k, v)| {
                format!(
                    "{}={}&",
                    crate::ui::percent_encode(&k),
                    crate::ui::percent_encode(&v)
                )
            })
            .collect()
    });
    let links = TimeRange::ALL
        .into_iter()
        .map(|r| {
            let href = format!("{path}?{others}range={}", r.as_str());
            let here = (r == current).then_some("page");
            view! { <li><a href=href aria-current=here rel="external">{r.label()}</a></li> }
        })
        .collect_view();
    view! {
        <nav class="range-links" aria-label="Time range">
            <ul>{links}</ul>
        </nav>
    }
}

/// One chart: the SVG, its status, downloads and its numbers as a table.
#[component]
pub fn Chart(chart: ChartView) -> impl IntoView {
    let id = chart_id(&chart.path, &chart.query);
    let svg_href = format!("{}.svg{}", chart.path, chart.query);
    let png_href = format!("{}.png{}", chart.path, chart.query);
    let address = format!("{}{}", chart.path, chart.query);
    let headers = chart
        .table
        .headers
        .iter()
        .map(|h| view! { <th scope="col">{h.clone()}</th> })
        .collect_view();
    let rows = chart
        .table
        .rows
        .iter()
        .map(|r| {
            let mut cells = r.iter();
            let first = cells.next().cloned().unwrap_or_default();
            view! {
                <tr>
                    <th scope="row">{first}</th>
                    {cells.map(|c| view! { <td>{c.clone()}</td> }).collect_view()}
                </tr>
            }
        })
        .collect_view();
    let table_label = format!("{} as a table", chart.name);
    view! {
        <figure class="chart" id=id.clone()>
            <div class="chart-body" id=format!("{id}-svg") inner_html=chart.svg.clone()></div>
            <figcaption>
                <LiveChart address target=id.clone() note=chart.note.clone().unwrap_or_default() />
                <a href=svg_href download="" rel="external">"Download SVG"</a>
                <a href=png_href download="" rel="external">"Download PNG"</a>
            </figcaption>
            <details class="chart-table">
                <summary>"Show as table"</summary>
                <div class="table-wrap">
                    <table aria-label=table_label>
                        <thead><tr>{headers}</tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            </details>
        </figure>
    }
}

/// The charts `charts` of `scope` in cluster `namespace/name`, with time range links; the
/// range comes from the address (`range=`).
#[component]
pub fn ChartPanel(
    namespace: String,
    name: String,
    scope: ChartScope,
    charts: Vec<ChartName>,
    #[prop(optional)] ranges: Option<bool>,
) -> impl IntoView {
    let query = use_query_map();
    let range = move || query.with(|q| q.get("range").unwrap_or_default());
    let (pool, node, pod) = match &scope {
        ChartScope::Cluster => (String::new(), String::new(), String::new()),
        ChartScope::Pool(p) => (p.clone(), String::new(), String::new()),
        ChartScope::Node(n) => (String::new(), n.clone(), String::new()),
        ChartScope::Pod { namespace, name } => {
            (String::new(), String::new(), format!("{namespace}/{name}"))
        }
    };
    let names = charts
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let data = Resource::new(range, move |range| {
        read_charts(
            namespace.clone(),
            name.clone(),
            pool.clone(),
            node.clone(),
            pod.clone(),
            names.clone(),
            range,
        )
    });
    let with_ranges = ranges.unwrap_or(true);
    view! {
        <crate::ui::Loaded resource=data loading="Loading charts…" show=move |v: ChartsView| {
            view! {
                {with_ranges.then(|| view! { <RangeLinks current=v.range /> })}
                <div class="chart-grid">
                    {v.charts.into_iter().map(|chart| view! { <Chart chart /> }).collect_view()}
                </div>
            }
        } />
    }
}

/// Follows a chart live: every chart of the page shares one server-sent event stream
/// (`/charts/live?c=<address>&c=…`; browsers allow only six connections per server), whose events
/// are named after each chart's element id and carry its new SVG. Says "Live", "Paused —
/// reconnecting" while the browser retries, or that the session ended. Without JavaScript the
/// chart stays as rendered at load.
#[island]
fn LiveChart(address: String, target: String, note: String) -> impl IntoView {
    let status = RwSignal::new(if note.is_empty() {
        "Rendered at load".to_string()
    } else {
        note.clone()
    });
    #[cfg(feature = "hydrate")]
    live::register(address, target, note, status);
    #[cfg(not(feature = "hydrate"))]
    let _ = (&address, &target);
    view! {
        <span class="chart-status" role="status" aria-live="polite">{move || status.get()}</span>
    }
}

#[cfg(feature = "hydrate")]
mod live {
    //! The browser side of live charts: one EventSource for every chart on the page.

    use std::cell::RefCell;

    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    struct Chart {
        address: String,
        target: String,
        note: String,
        status: RwSignal<String>,
    }

    #[derive(Default)]
    struct Page {
        charts: Vec<Chart>,
        source: Option<web_sys::EventSource>,
        /// A connect is queued (islands register one after another while the page hydrates).
        queued: bool,
    }

    thread_local! {
        static PAGE: RefCell<Page> = RefCell::new(Page::default());
    }

    fn each_status(set: impl Fn(&Chart) -> String) {
        PAGE.with_borrow(|p| {
            for c in &p.charts {
                c.status.set(set(c));
            }
        });
    }

    fn live_text(c: &Chart) -> String {
        if c.note.is_empty() {
            "Live".into()
        } else {
            c.note.clone()
        }
    }

    pub fn register(address: String, target: String, note: String, status: RwSignal<String>) {
        let key = target.clone();
        PAGE.with_borrow_mut(|p| {
            p.charts.push(Chart {
                address,
                target,
                note,
                status,
            });
        });
        queue_connect();
        on_cleanup(move || {
            PAGE.with_borrow_mut(|p| p.charts.retain(|c| c.target != key));
            queue_connect();
        });
    }

    /// (Re)connects once the islands being hydrated now have registered.
    fn queue_connect() {
        let queued = PAGE.with_borrow_mut(|p| std::mem::replace(&mut p.queued, true));
        if !queued {
            set_timeout(connect, std::time::Duration::ZERO);
        }
    }

    fn connect() {
        let (old, url) = PAGE.with_borrow_mut(|p| {
            p.queued = false;
            let query: Vec<String> = p
                .charts
                .iter()
                .map(|c| format!("c={}", crate::ui::percent_encode_all(&c.address)))
                .collect();
            (
                p.source.take(),
                (!p.charts.is_empty()).then(|| format!("/charts/live?{}", query.join("&"))),
            )
        });
        if let Some(es) = old {
            es.close();
        }
        let Some(url) = url else {
            return;
        };
        let Ok(es) = web_sys::EventSource::new(&url) else {
            each_status(|_| "Live updates are not available in this browser".into());
            return;
        };
        let targets: Vec<(String, RwSignal<String>, String)> = PAGE.with_borrow(|p| {
            p.charts
                .iter()
                .map(|c| (c.target.clone(), c.status, live_text(c)))
                .collect()
        });
        for (target, status, live) in targets {
            let svg_target = format!("{target}-svg");
            let on_svg =
                Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
                    let Some(svg) = ev.data().as_string() else {
                        return;
                    };
                    if let Some(el) = web_sys::window()
                        .and_then(|w| w.document())
                        .and_then(|d| d.get_element_by_id(&svg_target))
                    {
                        el.set_inner_html(&svg);
                        // When the sample shown was taken, and when it reached the page (the
                        // latency benchmark reads both).
                        let _ = el.set_attribute("data-sample-ms", &ev.last_event_id());
                        let _ = el.set_attribute("data-shown-ms", &js_sys::Date::now().to_string());
                    }
                });
            let on_note =
                Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
                    let text = ev.data().as_string().unwrap_or_default();
                    status.set(if text.is_empty() { live.clone() } else { text });
                });
            let _ = es.add_event_listener_with_callback(&target, on_svg.as_ref().unchecked_ref());
            let _ = es.add_event_listener_with_callback(
                &format!("{target}-note"),
                on_note.as_ref().unchecked_ref(),
            );
            on_svg.forget();
            on_note.forget();
        }
        let on_open = Closure::<dyn Fn()>::new(|| each_status(live_text));
        let on_error = Closure::<dyn Fn()>::new({
            let es = es.clone();
            move || {
                // CLOSED: the server refused (the session ended); CONNECTING: the browser retries.
                if es.ready_state() == web_sys::EventSource::CLOSED {
                    each_status(|_| {
                        "Stopped — your session ended or access changed; reload the page to sign in again".into()
                    });
                } else {
                    each_status(|_| "Paused — reconnecting".into());
                }
            }
        });
        let on_ended = Closure::<dyn Fn()>::new({
            let es = es.clone();
            move || {
                // Not reconnecting: the numbers would stop and look current.
                es.close();
                each_status(|_| {
                    "Stopped — your session ended; reload the page to sign in again".into()
                });
            }
        });
        es.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        es.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let _ = es.add_event_listener_with_callback("ended", on_ended.as_ref().unchecked_ref());
        on_open.forget();
        on_error.forget();
        on_ended.forget();
        PAGE.with_borrow_mut(|p| p.source = Some(es));
    }
}
