//! Live charts: one rendering per chart and change, its bytes shared by every viewer's stream.
//
// A chart someone follows has one task: it waits for its cluster's data to change, renders the
// SVG once, frames it as a server-sent event once, and publishes the bytes on a watch channel.
// A viewer holds only the latest frame (never a queue), so a viewer that stops reading holds one
// shared frame at most; the task ends when the last viewer goes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use tokio::sync::watch;

use super::{ChartSpec, Metrics, chart};

/// A rendered chart as server-sent events: its note (`event: note`), then its SVG (`message`).
#[derive(Clone, Debug, Default)]
pub struct Frame {
    /// How many renderings came before (0: none yet).
    pub seq: u64,
    pub bytes: Bytes,
}

/// The charts being followed.
#[derive(Default)]
pub struct Hub {
    channels: Mutex<HashMap<ChartSpec, watch::Sender<Frame>>>,
}

/// The longest a chart waits for a change before rendering again (its time axis moves on).
const REFRESH_MAX: Duration = Duration::from_secs(60);

/// Frames `svg` (and the note) as server-sent events named after the chart's element id
/// (`<id>-note`, then `<id>` with the SVG), so one stream carries every chart of a page. The event
/// id is the time of the cluster's latest sample (when its poll began, ms since the epoch), so a
/// viewer can tell how old what it shows is.
pub fn frame(chart: &str, note: Option<&str>, svg: &str, sample_ms: Option<i64>) -> Bytes {
    let mut out = String::with_capacity(svg.len() + svg.len() / 20 + 128);
    out.push_str("event: ");
    out.push_str(chart);
    out.push_str("-note\ndata: ");
    // A note is one line; anything else would end the event early.
    out.extend(
        note.unwrap_or_default()
            .chars()
            .filter(|c| *c != '\n' && *c != '\r'),
    );
    out.push_str("\n\nevent: ");
    out.push_str(chart);
    out.push('\n');
    if let Some(ms) = sample_ms {
        out.push_str(&format!("id: {ms}\n"));
    }
    for line in svg.lines() {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    Bytes::from(out)
}

impl Hub {
    /// Follows `spec`: the latest frame now (seq 0 until the first rendering) and each new one.
    pub fn subscribe(&self, metrics: &Arc<Metrics>, spec: ChartSpec) -> watch::Receiver<Frame> {
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(tx) = channels.get(&spec) {
            return tx.subscribe();
        }
        let (tx, rx) = watch::channel(Frame::default());
        channels.insert(spec.clone(), tx.clone());
        tokio::spawn(render_loop(metrics.clone(), spec, tx));
        rx
    }

    /// Charts followed now (for the benchmark).
    pub fn followed(&self) -> usize {
        self.channels
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

async fn render_loop(metrics: Arc<Metrics>, spec: ChartSpec, tx: watch::Sender<Frame>) {
    let mut changes = metrics.changes(&spec.cluster);
    let (path, query) = app::metrics::model::chart_address(
        &spec.cluster.namespace,
        &spec.cluster.name,
        spec.chart,
        spec.range,
        &spec.scope,
    );
    let id = app::metrics::model::chart_id(&path, &query);
    let mut seq = 0u64;
    let mut last = Bytes::new();
    loop {
        match super::chart_data(&metrics, &spec).await {
            Ok(data) => {
                let sample =
                    metrics.with_recent(|r| r.get(&spec.cluster).and_then(|s| s.latest_ms()));
                let bytes = frame(&id, data.note.as_deref(), &chart::svg(&data), sample);
                if bytes != last {
                    seq += 1;
                    last = bytes.clone();
                    tx.send_replace(Frame { seq, bytes });
                }
            }
            Err(e) => tracing::warn!(error = %e, chart = ?spec, "a live chart could not be read"),
        }
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { break },
            () = tx.closed() => {}
            () = tokio::time::sleep(REFRESH_MAX) => {}
        }
        // The last viewer gone: stop, unless one arrived meanwhile (checked under the lock that
        // subscribing takes).
        let mut channels = metrics
            .live
            .channels
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if tx.receiver_count() == 0 {
            channels.remove(&spec);
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_frame_is_a_note_event_then_one_data_line_per_svg_line() {
        let f = super::frame(
            "chart-1",
            Some("No data since 12:00:00 UTC\nsneaky"),
            "<svg>\n<g/>\n</svg>",
            Some(42),
        );
        assert_eq!(
            &f[..],
            b"event: chart-1-note\ndata: No data since 12:00:00 UTCsneaky\n\nevent: chart-1\nid: 42\ndata: <svg>\ndata: <g/>\ndata: </svg>\n\n"
        );
    }
}
