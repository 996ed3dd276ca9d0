//! Audit log exports: JSON Lines (one object per entry) and CSV (spreadsheet-safe).

use serde_json::json;

use super::audit::Entry;
use super::audit_words::summary;

fn as_json(e: &Entry) -> serde_json::Value {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(e.entry.at_ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    json!({
        "id": e.id, "at": at, "actor": {"subject": e.entry.actor_subject, "name": e.entry.actor_name,
        "groups": e.entry.actor_groups}, "action": e.entry.action, "target": e.entry.target,
        "summary": summary(e), "concerns": e.concerns,
        "parameters": e.entry.parameters, "result": e.entry.outcome.as_str(), "reason": e.entry.reason,
        "requestId": e.entry.request_id, "clientAddress": e.entry.client_addr,
    })
}

/// One JSON object per line.
pub fn json_lines(entries: &[Entry]) -> String {
    entries
        .iter()
        .map(|e| format!("{}\n", as_json(e)))
        .collect()
}

/// A CSV cell: quoted when needed, and a leading `= + - @` neutralised so spreadsheets do not run it.
fn cell(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

pub const CSV_HEADER: &str = "id,at,actor_subject,actor_name,actor_groups,action,target,summary,parameters,result,reason,request_id,client_address";

/// RFC 4180 CSV with a header line.
pub fn csv(entries: &[Entry]) -> String {
    let mut out = format!("{CSV_HEADER}\r\n");
    for e in entries {
        let j = as_json(e);
        let row = [
            e.id.to_string(),
            j["at"].as_str().unwrap_or_default().to_string(),
            e.entry.actor_subject.clone(),
            e.entry.actor_name.clone(),
            e.entry.actor_groups.join(";"),
            e.entry.action.clone(),
            e.entry.target.clone(),
            summary(e),
            e.entry.parameters.to_string(),
            e.entry.outcome.as_str().to_string(),
            e.entry.reason.clone().unwrap_or_default(),
            e.entry.request_id.clone(),
            e.entry.client_addr.clone().unwrap_or_default(),
        ];
        out.push_str(&row.iter().map(|v| cell(v)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_neutralised() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("-1"), "'-1");
    }
}
