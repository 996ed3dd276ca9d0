//! Watches: a chunked stream of `{"type", "object"}` lines, with bookmarks, timeouts and `410 Gone`.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::Response;
use http::{HeaderMap, StatusCode};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use super::{Query, json_response};
use crate::events_v1;
use crate::index;
use crate::resources;
use crate::selector::{FieldSelector, LabelSelector};
use crate::shared::Shared;
use crate::status::ApiError;
use crate::store::{Event, EventType, ListQuery, Obj, Store};
use crate::table;

/// A watch without `timeoutSeconds` ends after this long (clients re-watch).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

struct Filter {
    resource: usize,
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Filter {
    fn matches(&self, resource: usize, obj: &Obj) -> bool {
        resource == self.resource
            && self
                .namespace
                .as_deref()
                .is_none_or(|ns| *obj.namespace == *ns)
            && self.labels.matches(&obj.labels)
            && self.fields.matches(&obj.fields, &obj.name, &obj.namespace)
    }
}

fn line(kind: &str, obj: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(obj.len() + 32);
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\",\"object\":");
    out.extend_from_slice(obj);
    out.extend_from_slice(b"}\n");
    Bytes::from(out)
}

/// One event's line; `shown` is the resource the client watches, which differs from the stored
/// one for events.k8s.io Events (converted on the way out).
fn event_line(
    kind: EventType,
    (resource, shown): (usize, usize),
    obj: &Arc<Obj>,
    as_table: bool,
    rv: u64,
) -> Bytes {
    if as_table {
        let t = table::render(resource, std::slice::from_ref(obj), rv, None);
        line(kind.as_str(), &serde_json::to_vec(&t).unwrap_or_default())
    } else if shown != resource {
        line(kind.as_str(), &events_v1::bytes_to_v1(&obj.json))
    } else {
        line(kind.as_str(), &obj.json)
    }
}

fn gone_line(message: String) -> Bytes {
    line(
        "ERROR",
        &serde_json::to_vec(&ApiError::Gone(message).to_status()).unwrap_or_default(),
    )
}

pub async fn serve(
    shared: &Shared,
    store: Arc<Store>,
    shown: usize,
    namespace: Option<String>,
    query: &Query,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let r = resources::get(shown);
    let resource = events_v1::stored_in(shown);
    let labels =
        LabelSelector::parse(query.get("labelSelector").map(String::as_str).unwrap_or(""))?;
    let mut selector = query.get("fieldSelector").cloned().unwrap_or_default();
    if shown != resource {
        selector = events_v1::core_selector(&selector);
    }
    let fields = FieldSelector::parse(&selector, index::selectable(resource), r.kind)?;
    let since = match query.get("resourceVersion").map(String::as_str) {
        None | Some("") | Some("0") => None,
        Some(v) => Some(v.parse::<u64>().map_err(|_| {
            ApiError::BadRequest(format!(
                "resourceVersion \"{v}\" is not valid: it must be a number from a previous response"
            ))
        })?),
    };
    let timeout = match query.get("timeoutSeconds") {
        None => DEFAULT_TIMEOUT,
        Some(t) => Duration::from_secs(t.parse::<u64>().map_err(|_| {
            ApiError::BadRequest(format!(
                "timeoutSeconds must be a non-negative integer, got \"{t}\""
            ))
        })?),
    };
    let bookmarks = query
        .get("allowWatchBookmarks")
        .is_some_and(|b| b == "true" || b == "1");
    // Streaming lists (client-go's WatchList, on by default from kubectl 1.35): the current state
    // as ADDED events, then a bookmark that says the initial events ended.
    let initial_events = query
        .get("sendInitialEvents")
        .is_some_and(|b| b == "true" || b == "1");
    if initial_events {
        let invalid = |message: &str| {
            ApiError::invalid(
                "meta.k8s.io",
                "ListOptions",
                "",
                vec![crate::status::Cause::new("sendInitialEvents", message)],
            )
        };
        if query.get("resourceVersionMatch").map(String::as_str) != Some("NotOlderThan") {
            return Err(invalid(
                "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
            ));
        }
        if !bookmarks {
            return Err(invalid(
                "Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true",
            ));
        }
        if since.is_some_and(|rv| rv > store.current_rv()) {
            return Err(ApiError::Timeout(format!(
                "Too large resource version: {}, current: {}",
                since.unwrap_or_default(),
                store.current_rv()
            )));
        }
    }
    let since = if initial_events { None } else { since };
    let as_table = table::wanted(headers);
    let filter = Filter {
        resource,
        namespace,
        labels,
        fields,
    };
    let (backlog, rv_now, rx) = match store.watch(resource, since) {
        Ok(w) => w,
        // Like kube-apiserver: the watch starts, then says in an ERROR event that the version is
        // too old (clients such as kube-rs relist on that, not on an HTTP 410).
        Err(ApiError::Gone(message)) => {
            return Ok(json_response(StatusCode::OK, gone_line(message)));
        }
        Err(e) => return Err(e),
    };
    let mut queue: VecDeque<Bytes> = VecDeque::new();
    if since.is_none() {
        // No version: the current state first, as synthetic ADDED events.
        let listed = store.list(
            resource,
            &ListQuery {
                namespace: filter.namespace.as_deref(),
                labels: &filter.labels,
                fields: &filter.fields,
                after: None,
                limit: None,
            },
        );
        for obj in listed.items.iter().filter(|o| o.rv <= rv_now) {
            queue.push_back(event_line(
                EventType::Added,
                (resource, shown),
                obj,
                as_table,
                rv_now,
            ));
        }
    }
    if initial_events {
        let end = json!({"kind": r.kind, "apiVersion": r.api_version(),
            "metadata": {"resourceVersion": rv_now.to_string(),
                         "annotations": {"k8s.io/initial-events-end": "true"}}});
        queue.push_back(line(
            "BOOKMARK",
            &serde_json::to_vec(&end).unwrap_or_default(),
        ));
    }
    let mut last_rv = since.unwrap_or(rv_now);
    for e in backlog
        .iter()
        .filter(|e| filter.matches(e.resource, &e.obj))
    {
        queue.push_back(event_line(
            e.kind,
            (resource, shown),
            &e.obj,
            as_table,
            e.rv,
        ));
    }
    if let Some(e) = backlog.last() {
        last_rv = last_rv.max(e.rv);
    }
    let state = WatchState {
        queue,
        rx,
        drops: shared.faults.drops(),
        filter,
        shown,
        as_table,
        deadline: Instant::now() + timeout,
        bookmarks,
        next_bookmark: Instant::now() + shared.bookmark_every,
        bookmark_every: shared.bookmark_every,
        store,
        last_rv,
        api_version: r.api_version(),
        kind: r.kind,
        done: false,
    };
    let stream = futures_util::stream::unfold(state, next_chunk);
    Ok(json_response(StatusCode::OK, Body::from_stream(stream)))
}

struct WatchState {
    queue: VecDeque<Bytes>,
    rx: tokio::sync::broadcast::Receiver<Arc<Event>>,
    drops: tokio::sync::watch::Receiver<u64>,
    filter: Filter,
    shown: usize,
    as_table: bool,
    deadline: Instant,
    bookmarks: bool,
    next_bookmark: Instant,
    bookmark_every: Duration,
    store: Arc<Store>,
    last_rv: u64,
    api_version: String,
    kind: &'static str,
    done: bool,
}

async fn next_chunk(mut st: WatchState) -> Option<(Result<Bytes, std::io::Error>, WatchState)> {
    loop {
        if let Some(b) = st.queue.pop_front() {
            return Some((Ok(b), st));
        }
        if st.done {
            return None;
        }
        let bookmark_at = if st.bookmarks {
            st.next_bookmark
        } else {
            st.deadline
        };
        // Biased, the drop first: a dropped connection delivers nothing more (with a random pick,
        // events that arrived with the drop could slip through and spare the client its 410).
        tokio::select! {
            biased;
            _ = st.drops.changed() => return None,
            recv = st.rx.recv() => match recv {
                Ok(e) => {
                    if e.rv > st.last_rv && st.filter.matches(e.resource, &e.obj) {
                        st.last_rv = e.rv;
                        st.queue.push_back(event_line(e.kind, (st.filter.resource, st.shown), &e.obj, st.as_table, e.rv));
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    // This watcher fell behind the event stream: it must relist, as after compaction.
                    st.queue.push_back(gone_line(format!("too old resource version: {}", st.last_rv)));
                    st.done = true;
                }
                Err(RecvError::Closed) => st.done = true,
            },
            _ = tokio::time::sleep_until(st.deadline) => return None,
            _ = tokio::time::sleep_until(bookmark_at), if st.bookmarks => {
                st.next_bookmark = Instant::now() + st.bookmark_every;
                let rv = st.store.current_rv();
                // Only when every event up to `rv` has been received (the channel is drained).
                if st.rx.is_empty() {
                    st.last_rv = st.last_rv.max(rv);
                    let obj = json!({"kind": st.kind, "apiVersion": st.api_version,
                                     "metadata": {"resourceVersion": st.last_rv.to_string()}});
                    st.queue.push_back(line("BOOKMARK", &serde_json::to_vec(&obj).unwrap_or_default()));
                }
            }
        }
    }
}
