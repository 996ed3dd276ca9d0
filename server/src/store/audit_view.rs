//! Audit entries as the Activity page shows them: in words, with their before and after.

use app::activity::ActivityEntry;

use super::audit;

/// A stored entry as the browser sees it.
pub fn to_activity(stored: audit::Entry) -> ActivityEntry {
    let summary = super::audit_words::summary(&stored);
    let p = &stored.entry.parameters;
    // The before and after of a change (or what was asked for); other parameters say nothing new.
    let details =
        (p.get("before").is_some() || p.get("after").is_some() || p.get("subject").is_some())
            .then(|| serde_json::to_string_pretty(p).unwrap_or_default());
    let operation = p["operation"].as_str().map(str::to_string);
    let e = stored.entry;
    ActivityEntry {
        summary,
        details,
        operation,
        id: stored.id,
        at: format_ms(e.at_ms),
        actor: if e.actor_name.is_empty() {
            e.actor_subject
        } else {
            e.actor_name
        },
        action: e.action,
        target: e.target,
        result: e.outcome.as_str().to_string(),
        reason: e.reason,
        request_id: e.request_id,
        client_addr: e.client_addr,
    }
}

/// RFC 3339 in UTC, to the second; an out-of-range value is shown as its raw number.
pub fn format_ms(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::format_ms;

    #[test]
    fn timestamps_render_as_rfc3339_utc() {
        assert_eq!(format_ms(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_ms(1_795_000_000_123), "2026-11-18T11:06:40Z");
        assert_eq!(format_ms(i64::MAX), i64::MAX.to_string());
    }
}
