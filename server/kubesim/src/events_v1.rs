//! `events.k8s.io/v1` Events: the core Events they are stored as, seen under the newer field names.

// kube-apiserver keeps one Event per object and serves it under both group versions; so does
// kubesim: an Event written as either is read as either. The names differ, the content does not
// (`involvedObject` is `regarding`, `message` is `note`, the old counters are `deprecated*`).

use serde_json::{Map, Value, json};

use crate::resources::id;

/// Core field ↔ events.k8s.io field, for the fields whose name changed.
const RENAMED: [(&str, &str); 7] = [
    ("involvedObject", "regarding"),
    ("message", "note"),
    ("reportingComponent", "reportingController"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
];

/// Fields both forms share under one name.
const SHARED: [&str; 8] = [
    "metadata",
    "reason",
    "type",
    "eventTime",
    "series",
    "action",
    "related",
    "reportingInstance",
];

/// The resource an events.k8s.io resource is stored as (itself for every other resource).
pub fn stored_in(res_id: usize) -> usize {
    match res_id {
        id::M_EVENTS_V1 => id::M_EVENTS,
        id::W_EVENTS_V1 => id::W_EVENTS,
        other => other,
    }
}

fn copy(
    from: &Value,
    pairs: impl Iterator<Item = (&'static str, &'static str)>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (src, dst) in pairs {
        if let Some(v) = from.get(src).filter(|v| !v.is_null()) {
            out.insert(dst.to_string(), v.clone());
        }
    }
    out
}

/// A core Event as events.k8s.io shows it.
pub fn to_v1(core: &Value) -> Value {
    let mut out = copy(
        core,
        SHARED
            .iter()
            .map(|k| (*k, *k))
            .chain(RENAMED.iter().copied()),
    );
    out.insert("apiVersion".into(), json!("events.k8s.io/v1"));
    out.insert("kind".into(), json!("Event"));
    Value::Object(out)
}

/// An events.k8s.io Event as it is stored (a core Event).
pub fn to_core(v1: &Value) -> Value {
    let mut out = copy(
        v1,
        SHARED
            .iter()
            .map(|k| (*k, *k))
            .chain(RENAMED.iter().map(|(core, v1)| (*v1, *core))),
    );
    out.insert("apiVersion".into(), json!("v1"));
    out.insert("kind".into(), json!("Event"));
    Value::Object(out)
}

/// The same conversion on stored JSON bytes (lists and watches hold bytes).
pub fn bytes_to_v1(core: &[u8]) -> Vec<u8> {
    serde_json::from_slice::<Value>(core)
        .ok()
        .and_then(|v| serde_json::to_vec(&to_v1(&v)).ok())
        .unwrap_or_default()
}

/// A field selector written for events.k8s.io, in the core names the store indexes.
pub fn core_selector(selector: &str) -> String {
    selector
        .split(',')
        .map(|term| {
            let term = term.trim();
            RENAMED
                .iter()
                .find_map(|(core, v1)| {
                    term.strip_prefix(v1)
                        .filter(|rest| rest.starts_with(['.', '=', '!']))
                        .map(|rest| format!("{core}{rest}"))
                })
                .unwrap_or_else(|| term.to_string())
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_reads_the_same_in_both_forms() {
        let core = json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "web-1"}, "reason": "Started", "message": "Started container",
            "type": "Normal", "source": {"component": "kubelet"}, "reportingComponent": "kubelet",
            "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:01Z", "count": 2});
        let v1 = to_v1(&core);
        assert_eq!(
            v1,
            json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e", "namespace": "default"},
                "regarding": {"kind": "Pod", "name": "web-1"}, "reason": "Started", "note": "Started container",
                "type": "Normal", "deprecatedSource": {"component": "kubelet"}, "reportingController": "kubelet",
                "deprecatedFirstTimestamp": "2026-01-01T00:00:00Z", "deprecatedLastTimestamp": "2026-01-01T00:00:01Z",
                "deprecatedCount": 2})
        );
        assert_eq!(to_core(&v1), core);
    }

    #[test]
    fn selectors_use_the_stored_names() {
        assert_eq!(
            core_selector("regarding.name=web-1,reason=Started,reportingController!=kubelet"),
            "involvedObject.name=web-1,reason=Started,reportingComponent!=kubelet"
        );
        assert_eq!(core_selector(""), "");
    }
}
