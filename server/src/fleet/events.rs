//! A workload cluster's events: warnings first, then the most recent.

use app::clusters::model::EventRow;
use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, ListParams};

use super::rows::{age_of, rfc3339, unix_seconds};
use super::{FleetError, within};

/// The most events one page lists.
pub const EVENTS_MAX: u32 = 500;

/// Events of the whole cluster, or (with `field_selector`) of one object, ordered for reading.
pub async fn list(
    client: kube::Client,
    field_selector: Option<String>,
    what: &str,
) -> Result<Vec<EventRow>, FleetError> {
    let api: Api<Event> = Api::all(client);
    let mut params = ListParams::default().limit(EVENTS_MAX);
    if let Some(fields) = &field_selector {
        params = params.fields(fields);
    }
    let events = within(&format!("list the events of {what}"), api.list(&params))
        .await?
        .items;
    Ok(ordered(events, super::rows::now_seconds()))
}

/// When an event was last seen: its last timestamp, event time or creation.
fn last_seen(e: &Event) -> Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::Time> {
    e.last_timestamp
        .as_ref()
        .or(e.first_timestamp.as_ref())
        .or(e.metadata.creation_timestamp.as_ref())
}

/// Warnings first; within each, the most recently seen first.
pub fn ordered(mut events: Vec<Event>, now: i64) -> Vec<EventRow> {
    events.sort_by_key(|e| {
        (
            e.type_.as_deref() != Some("Warning"),
            std::cmp::Reverse(last_seen(e).map_or(0, unix_seconds)),
        )
    });
    events
        .iter()
        .map(|e| {
            let o = &e.involved_object;
            let object = match (&o.namespace, &o.kind, &o.name) {
                (Some(ns), Some(k), Some(n)) if !ns.is_empty() => format!("{k}/{ns}/{n}"),
                (_, Some(k), Some(n)) => format!("{k}/{n}"),
                _ => String::new(),
            };
            EventRow {
                type_: e.type_.clone().unwrap_or_else(|| "Normal".into()),
                object,
                reason: e.reason.clone().unwrap_or_default(),
                message: e.message.clone().unwrap_or_default(),
                count: e.count.and_then(|c| u32::try_from(c).ok()).unwrap_or(1),
                last_seen: last_seen(e).map(rfc3339).unwrap_or_default(),
                age: age_of(last_seen(e), now),
            }
        })
        .collect()
}
