//! The Activity filters as a person typed them, checked and turned into an audit-log search.

use app::access::model::ClusterRef;
use app::activity::ActivityFilter;
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{Date, PrimitiveDateTime};

use super::audit::{Outcome, Query};

const DATE: &[FormatItem<'static>] = format_description!("[year]-[month]-[day]");
const MINUTE: &[FormatItem<'static>] = format_description!("[year]-[month]-[day]T[hour]:[minute]");
const SECOND: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
const DAY_MS: i64 = 86_400_000;
/// Longest text accepted in a filter field.
const MAX_LEN: usize = 256;

/// A filter that cannot be searched for, in words that say how to fix it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct FilterError(String);

/// `2026-11-28` (a whole UTC day: its start, or with `end` the start of the next day),
/// `2026-11-28T14:30[:05]` (UTC) or Unix milliseconds; empty means no bound.
fn time_ms(field: &str, raw: &str, end: bool) -> Result<Option<i64>, FilterError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    if raw.bytes().all(|b| b.is_ascii_digit()) {
        return raw
            .parse::<i64>()
            .map(Some)
            .map_err(|_| FilterError(format!("{field}: {raw} is too large")));
    }
    let ms = |t: PrimitiveDateTime| {
        let t = t.assume_utc();
        t.unix_timestamp() * 1000 + i64::from(t.millisecond())
    };
    if let Ok(day) = Date::parse(raw, DATE) {
        let start = ms(day.midnight());
        return Ok(Some(if end { start + DAY_MS } else { start }));
    }
    PrimitiveDateTime::parse(raw, SECOND)
        .or_else(|_| PrimitiveDateTime::parse(raw, MINUTE))
        .map(|t| Some(ms(t)))
        .map_err(|_| {
            FilterError(format!(
                "{field}: {raw:?} is not a date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)"
            ))
        })
}

/// `<at_ms>.<id>` — where the next page starts.
pub fn cursor((at_ms, id): (i64, i64)) -> String {
    format!("{at_ms}.{id}")
}

fn parse_cursor(raw: &str) -> Result<Option<(i64, i64)>, FilterError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.split_once('.')
        .and_then(|(a, i)| Some((a.parse().ok()?, i.parse().ok()?)))
        .map(Some)
        .ok_or_else(|| FilterError("the page link is damaged: go back to the first page".into()))
}

fn text(field: &str, raw: &str) -> Result<Option<String>, FilterError> {
    let raw = raw.trim();
    if raw.chars().count() > MAX_LEN {
        return Err(FilterError(format!(
            "{field} is longer than {MAX_LEN} characters"
        )));
    }
    Ok((!raw.is_empty()).then(|| raw.to_string()))
}

/// The search a filter asks for, `limit` entries at a time.
pub fn query(f: &ActivityFilter, limit: u32) -> Result<Query, FilterError> {
    let outcome = match f.result.trim() {
        "" | "any" => None,
        r => Some(Outcome::parse(r).ok_or_else(|| {
            FilterError(format!("result: use accepted, denied or failed, not {r:?}"))
        })?),
    };
    let cluster = text("cluster", &f.cluster)?;
    if let Some(c) = &cluster
        && ClusterRef::parse(c).is_none()
    {
        return Err(FilterError(format!(
            "cluster: {c:?} is not <namespace>/<name>"
        )));
    }
    let from_ms = time_ms("from", &f.from, false)?;
    let to_ms = time_ms("to", &f.to, true)?;
    if let (Some(from), Some(to)) = (from_ms, to_ms)
        && from >= to
    {
        return Err(FilterError("from must be before to".into()));
    }
    Ok(Query {
        actor: text("who", &f.actor)?,
        action: text("action", &f.action)?,
        cluster,
        outcome,
        from_ms,
        to_ms,
        // Who may read what is the caller's to decide (`access::activity_scope`), not the filter's.
        within: None,
        before: parse_cursor(&f.before)?,
        limit,
    })
}

/// The query's filters (not its page) as export parameters, times in Unix milliseconds.
pub fn export_query(q: &Query) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in [
        ("actor", q.actor.clone()),
        ("action", q.action.clone()),
        ("cluster", q.cluster.clone()),
        ("result", q.outcome.map(|o| o.as_str().to_string())),
        ("from", q.from_ms.map(|v| v.to_string())),
        ("to", q.to_ms.map(|v| v.to_string())),
    ] {
        if let Some(v) = value {
            out.append_pair(key, &v);
        }
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(from: &str, to: &str) -> ActivityFilter {
        ActivityFilter {
            from: from.into(),
            to: to.into(),
            ..ActivityFilter::default()
        }
    }

    #[test]
    fn dates_cover_whole_utc_days_and_times_are_exact() {
        let q = query(&filter("2026-11-28", "2026-11-28"), 50).expect("valid");
        assert_eq!(q.from_ms, Some(1_795_824_000_000));
        assert_eq!(q.to_ms, Some(1_795_824_000_000 + DAY_MS));
        let q = query(&filter("2026-11-28T14:30", "1795900000000"), 50).expect("valid");
        assert_eq!(q.from_ms, Some(1_795_824_000_000 + (14 * 60 + 30) * 60_000));
        assert_eq!(q.to_ms, Some(1_795_900_000_000));
    }

    #[test]
    fn bad_filters_say_what_to_write() {
        for (f, says) in [
            (filter("yesterday", ""), "not a date"),
            (filter("2026-11-29", "2026-11-28"), "before"),
            (
                ActivityFilter {
                    result: "maybe".into(),
                    ..ActivityFilter::default()
                },
                "accepted, denied or failed",
            ),
            (
                ActivityFilter {
                    cluster: "prod".into(),
                    ..ActivityFilter::default()
                },
                "<namespace>/<name>",
            ),
            (
                ActivityFilter {
                    before: "x".into(),
                    ..ActivityFilter::default()
                },
                "damaged",
            ),
        ] {
            let err = query(&f, 50).expect_err("refused").to_string();
            assert!(err.contains(says), "{f:?}: {err}");
        }
    }

    #[test]
    fn cursors_and_export_parameters_round_trip() {
        let f = ActivityFilter {
            actor: "ada & co".into(),
            result: "denied".into(),
            before: cursor((5, 7)),
            ..ActivityFilter::default()
        };
        let q = query(&f, 10).expect("valid");
        assert_eq!(q.before, Some((5, 7)));
        assert_eq!(export_query(&q), "actor=ada+%26+co&result=denied");
    }
}
