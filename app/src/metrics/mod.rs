//! Charts: CPU and memory over time and top pods, drawn on the server, followed live by an island.

#[cfg(feature = "ssr")]
pub mod backend;
pub mod model;

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_query_map};

use crate::error::AppError;
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

/// A stable element id for a chart, from its address.
fn chart_id(path: &str, query: &str) -> String {
    // FNV-1a: short, and the same on the server and in the browser.
    let hash = path
        .bytes()
        .chain(query.bytes())
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    format!("chart-{hash:016x}")
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
    let stream = format!("{}/stream{}", chart.path, chart.query);
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
                <LiveChart stream target=id.clone() note=chart.note.clone().unwrap_or_default() />
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

/// Follows a chart: each new rendering arrives through server-sent events and replaces the SVG;
/// says "Live", "Paused — reconnecting" while the connection is down (the browser retries), or
/// that the session ended. Without JavaScript the chart stays as rendered at load.
#[island]
fn LiveChart(stream: String, target: String, note: String) -> impl IntoView {
    let status = RwSignal::new(if note.is_empty() {
        "Rendered at load".to_string()
    } else {
        note.clone()
    });
    #[cfg(feature = "hydrate")]
    live::follow(stream, target, note, status);
    #[cfg(not(feature = "hydrate"))]
    let _ = (&stream, &target);
    view! {
        <span class="chart-status" role="status" aria-live="polite">{move || status.get()}</span>
    }
}

#[cfg(feature = "hydrate")]
mod live {
    //! The browser side of a live chart: an EventSource whose messages are the chart's SVG.

    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    pub fn follow(stream: String, target: String, note: String, status: RwSignal<String>) {
        let Ok(es) = web_sys::EventSource::new(&stream) else {
            status.set("Live updates are not available in this browser".into());
            return;
        };
        let live_text = move || {
            if note.is_empty() {
                "Live".to_string()
            } else {
                note.clone()
            }
        };
        let on_open = Closure::<dyn Fn()>::new({
            let live_text = live_text.clone();
            move || status.set(live_text())
        });
        let on_message = Closure::<dyn Fn(web_sys::MessageEvent)>::new({
            let target = format!("{target}-svg");
            move |ev: web_sys::MessageEvent| {
                let Some(svg) = ev.data().as_string() else {
                    return;
                };
                if let Some(el) = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.get_element_by_id(&target))
                {
                    el.set_inner_html(&svg);
                }
            }
        });
        let on_note =
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
                let text = ev.data().as_string().unwrap_or_default();
                status.set(if text.is_empty() { "Live".into() } else { text });
            });
        let on_error = Closure::<dyn Fn()>::new({
            let es = es.clone();
            move || {
                // CLOSED: the server refused (the session ended); CONNECTING: the browser retries.
                if es.ready_state() == web_sys::EventSource::CLOSED {
                    status.set(
                        "Stopped — your session ended or access changed; reload the page to sign in again"
                            .into(),
                    );
                } else {
                    status.set("Paused — reconnecting".into());
                }
            }
        });
        let on_ended = Closure::<dyn Fn()>::new({
            let es = es.clone();
            move || {
                // Not reconnecting: the numbers would stop and look current.
                es.close();
                status.set("Stopped — your session ended; reload the page to sign in again".into());
            }
        });
        let _ = es.add_event_listener_with_callback("ended", on_ended.as_ref().unchecked_ref());
        on_ended.forget();
        es.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        es.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        es.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let _ = es.add_event_listener_with_callback("note", on_note.as_ref().unchecked_ref());
        on_open.forget();
        on_message.forget();
        on_error.forget();
        on_note.forget();
        // Closed when the island goes (navigation within the page), so no stream outlives it.
        let kept = StoredValue::new_local(es);
        on_cleanup(move || {
            if let Some(es) = kept.try_get_value() {
                es.close();
            }
        });
    }
}
