//! The audit log: append-only records of who did what, when, and how it ended.

use serde::Serialize;
use sqlx::Row;

use super::{Db, StoreError, on_pool};

/// How an attempted action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Accepted,
    Denied,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Denied => "denied",
            Outcome::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Option<Outcome> {
        [Outcome::Accepted, Outcome::Denied, Outcome::Failed]
            .into_iter()
            .find(|o| o.as_str() == value)
    }
}

/// One entry to append. `parameters` is a JSON document (parameters, and before/after for changes).
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub at_ms: i64,
    pub actor_subject: String,
    pub actor_name: String,
    pub actor_groups: Vec<String>,
    pub action: String,
    pub target: String,
    pub parameters: serde_json::Value,
    pub outcome: Outcome,
    pub reason: Option<String>,
    pub request_id: String,
    pub client_addr: Option<String>,
}

/// Who acted and through which request: what every writer of the log fills in the same way.
pub struct Origin<'a> {
    pub subject: &'a str,
    pub name: &'a str,
    pub groups: &'a [String],
    pub request_id: &'a str,
    pub client_addr: Option<&'a str>,
}

impl NewEntry {
    /// An entry stamped now, for `origin`.
    pub fn now(
        origin: &Origin<'_>,
        action: &str,
        target: &str,
        parameters: serde_json::Value,
        outcome: Outcome,
        reason: Option<String>,
    ) -> Self {
        NewEntry {
            at_ms: super::now_ms(),
            actor_subject: origin.subject.into(),
            actor_name: origin.name.into(),
            actor_groups: origin.groups.to_vec(),
            action: action.into(),
            target: target.into(),
            parameters,
            outcome,
            reason,
            request_id: origin.request_id.into(),
            client_addr: origin.client_addr.map(str::to_string),
        }
    }
}

/// What happened, as one audit entry says it: the action on its target, its parameters (for a
/// change, `before` and/or `after`), and how it ended.
pub struct Change<'a> {
    pub action: &'a str,
    pub target: &'a str,
    pub parameters: serde_json::Value,
    pub outcome: Outcome,
    /// Why it was refused or failed, or why an accepted change was made when nobody asked for it
    /// (the start-up clean-up); `None` otherwise.
    pub reason: Option<String>,
}

impl<'a> Change<'a> {
    pub fn accepted(action: &'a str, target: &'a str, parameters: serde_json::Value) -> Self {
        Change {
            action,
            target,
            parameters,
            outcome: Outcome::Accepted,
            reason: None,
        }
    }

    /// The same change, ending with `outcome` (failed, denied — or accepted, with a note) for `reason`.
    pub fn ended(self, outcome: Outcome, reason: impl Into<String>) -> Self {
        Change {
            outcome,
            reason: Some(reason.into()),
            ..self
        }
    }
}

/// The audit log's one writer: `change`, made by `origin`, stamped now. Every part of the portal
/// that records something (sign-in, the gate's denials, access changes, start-up clean-up) calls it.
pub async fn record(db: &Db, origin: &Origin<'_>, change: Change<'_>) -> Result<i64, StoreError> {
    let entry = NewEntry::now(
        origin,
        change.action,
        change.target,
        change.parameters,
        change.outcome,
        change.reason,
    );
    append(db, &entry).await
}

/// One stored entry, as read back: its id, what was appended, and whom a change concerned.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: i64,
    pub entry: NewEntry,
    /// The group or user a change was about (`group payments-viewers`), when it was about one.
    pub concerns: Option<String>,
}

const COLUMNS: &str = "id, at_ms, actor_subject, actor_name, actor_groups, action, target, parameters, \
                       result, reason, request_id, client_addr, concerns";

/// Longest text kept in any one field; longer text is cut and marked with `…`.
pub const MAX_TEXT: usize = 512;
/// Most groups, list items or object members kept of anything stored.
const MAX_ITEMS: usize = 100;

/// Text as it may be stored: control characters written out (`\u{1b}`), at most `MAX_TEXT`
/// characters. Much of what is logged (names, groups, a provider's error text) is not the portal's.
pub fn clean(text: &str) -> String {
    let mut out = String::new();
    for (n, c) in text.chars().enumerate() {
        if n == MAX_TEXT {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// A JSON document with every string cleaned and every list and object cut to `MAX_ITEMS`.
fn clean_json(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(clean(s)),
        Value::Array(items) => Value::Array(items.iter().take(MAX_ITEMS).map(clean_json).collect()),
        Value::Object(members) => Value::Object(
            members
                .iter()
                .take(MAX_ITEMS)
                .map(|(k, v)| (clean(k), clean_json(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Whom a change was about: the binding after a grant, before a revocation, or as asked for.
fn concerns(parameters: &serde_json::Value) -> Option<String> {
    [&parameters["after"], &parameters["before"], parameters]
        .into_iter()
        .find_map(|b| {
            let subject = b["subject"].as_str()?;
            Some(format!(
                "{} {subject}",
                b["kind"].as_str().unwrap_or("group")
            ))
        })
}

/// Appends `entry` as given (its time included): [`record`] for everything that happens now;
/// this for imports and tests that need a given time.
pub async fn append(db: &Db, entry: &NewEntry) -> Result<i64, StoreError> {
    let groups: Vec<String> = entry
        .actor_groups
        .iter()
        .take(MAX_ITEMS)
        .map(|g| clean(g))
        .collect();
    let groups = serde_json::to_string(&groups).unwrap_or_else(|_| "[]".into());
    let parameters = clean_json(&entry.parameters);
    let concerns = concerns(&parameters).map(|c| clean(&c));
    let parameters = parameters.to_string();
    let id = on_pool!(db, pool => {
        sqlx::query_scalar(
            "INSERT INTO audit_log (at_ms, actor_subject, actor_name, actor_groups, action, target, \
             parameters, result, reason, request_id, client_addr, concerns) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        )
        .bind(entry.at_ms)
        .bind(clean(&entry.actor_subject))
        .bind(clean(&entry.actor_name))
        .bind(&groups)
        .bind(clean(&entry.action))
        .bind(clean(&entry.target))
        .bind(&parameters)
        .bind(entry.outcome.as_str())
        .bind(entry.reason.as_deref().map(clean))
        .bind(clean(&entry.request_id))
        .bind(entry.client_addr.as_deref().map(clean))
        .bind(&concerns)
        .fetch_one(pool)
        .await
    })?;
    Ok(id)
}

/// The newest `limit` entries, newest first.
pub async fn recent(db: &Db, limit: u32) -> Result<Vec<Entry>, StoreError> {
    let page = search(
        db,
        &Query {
            limit,
            ..Query::default()
        },
    )
    .await?;
    Ok(page.entries)
}

/// Filters for the Activity page and exports; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Part of the actor's subject or display name, or of the group or user a change was about
    /// (case-insensitive).
    pub actor: Option<String>,
    /// An action, or a prefix of one ending in `.` or `-` (e.g. `cluster.`).
    pub action: Option<String>,
    /// `<namespace>/<name>`: entries whose target is that cluster or something in it.
    pub cluster: Option<String>,
    pub outcome: Option<Outcome>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    /// Only entries about these clusters (`<namespace>/<name>`): what a person whose roles are
    /// all on single clusters may read. `None`: every entry.
    pub within: Option<Vec<String>>,
    /// Keyset paging: only entries older than this `(at_ms, id)` (the previous page's `next`).
    pub before: Option<(i64, i64)>,
    pub limit: u32,
}

/// One page of results, newest first, and where the next page starts.
#[derive(Debug, Clone)]
pub struct Page {
    pub entries: Vec<Entry>,
    pub next: Option<(i64, i64)>,
}

enum Bind {
    Text(String),
    Int(i64),
}

/// `LIKE` pattern for a literal substring (`\` escapes the wildcards).
fn like_literal(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Adds a bound value and returns its placeholder (`$n` works on SQLite and PostgreSQL).
fn param(b: Bind, binds: &mut Vec<Bind>) -> String {
    binds.push(b);
    format!("${}", binds.len())
}

/// Entries whose target is `cluster` (`<namespace>/<name>`) or something in it.
fn about_cluster(cluster: &str, binds: &mut Vec<Bind>) -> String {
    let exact = param(Bind::Text(format!("cluster/{cluster}")), binds);
    let inside = param(
        Bind::Text(format!("cluster/{}/%", like_literal(cluster))),
        binds,
    );
    format!("(target = {exact} OR target LIKE {inside} ESCAPE '\\')")
}

/// Searches the log with filters, newest first, a page at a time (at most 1,000 entries).
pub async fn search(db: &Db, q: &Query) -> Result<Page, StoreError> {
    let mut clauses = Vec::new();
    let mut binds = Vec::new();
    if let Some(actor) = q.actor.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        let p = param(
            Bind::Text(format!("%{}%", like_literal(&actor.to_lowercase()))),
            &mut binds,
        );
        clauses.push(format!(
            "(LOWER(actor_subject) LIKE {p} ESCAPE '\\' OR LOWER(actor_name) LIKE {p} ESCAPE '\\' \
             OR LOWER(COALESCE(concerns, '')) LIKE {p} ESCAPE '\\')"
        ));
    }
    if let Some(action) = q.action.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        if action.ends_with('.') || action.ends_with('-') {
            let p = param(Bind::Text(format!("{}%", like_literal(action))), &mut binds);
            clauses.push(format!("action LIKE {p} ESCAPE '\\'"));
        } else {
            let p = param(Bind::Text(action.to_string()), &mut binds);
            clauses.push(format!("action = {p}"));
        }
    }
    if let Some(cluster) = q
        .cluster
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        clauses.push(about_cluster(cluster, &mut binds));
    }
    if let Some(within) = &q.within {
        let any: Vec<String> = within
            .iter()
            .map(|c| about_cluster(c, &mut binds))
            .collect();
        clauses.push(if any.is_empty() {
            "1 = 0".to_string()
        } else {
            format!("({})", any.join(" OR "))
        });
    }
    if let Some(outcome) = q.outcome {
        let p = param(Bind::Text(outcome.as_str().to_string()), &mut binds);
        clauses.push(format!("result = {p}"));
    }
    if let Some(from) = q.from_ms {
        let p = param(Bind::Int(from), &mut binds);
        clauses.push(format!("at_ms >= {p}"));
    }
    if let Some(to) = q.to_ms {
        let p = param(Bind::Int(to), &mut binds);
        clauses.push(format!("at_ms < {p}"));
    }
    if let Some((at, id)) = q.before {
        let a = param(Bind::Int(at), &mut binds);
        let i = param(Bind::Int(id), &mut binds);
        clauses.push(format!("(at_ms < {a} OR (at_ms = {a} AND id < {i}))"));
    }
    let limit = q.limit.clamp(1, 1000);
    let where_ = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    // One more than asked: whether a next page exists.
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_log {where_} ORDER BY at_ms DESC, id DESC LIMIT {}",
        limit + 1
    );
    let mut entries = on_pool!(db, pool => {
        let mut query = sqlx::query(&sql);
        for b in &binds {
            query = match b {
                Bind::Text(s) => query.bind(s.clone()),
                Bind::Int(i) => query.bind(*i),
            };
        }
        let rows = query.fetch_all(pool).await?;
        rows.iter()
            .map(|row| {
                let groups: String = row.try_get("actor_groups")?;
                let parameters: String = row.try_get("parameters")?;
                let result: String = row.try_get("result")?;
                Ok(Entry {
                    id: row.try_get("id")?,
                    entry: NewEntry {
                        at_ms: row.try_get("at_ms")?,
                        actor_subject: row.try_get("actor_subject")?,
                        actor_name: row.try_get("actor_name")?,
                        actor_groups: serde_json::from_str(&groups).unwrap_or_default(),
                        action: row.try_get("action")?,
                        target: row.try_get("target")?,
                        parameters: serde_json::from_str(&parameters).unwrap_or_default(),
                        // The table's CHECK constraint admits only the three outcomes.
                        outcome: Outcome::parse(&result).unwrap_or(Outcome::Failed),
                        reason: row.try_get("reason")?,
                        request_id: row.try_get("request_id")?,
                        client_addr: row.try_get("client_addr")?,
                    },
                    concerns: row.try_get("concerns")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?
    });
    let next = if entries.len() > limit as usize {
        entries.truncate(limit as usize);
        entries.last().map(|e| (e.entry.at_ms, e.id))
    } else {
        None
    };
    Ok(Page { entries, next })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_text_is_capped_and_control_characters_are_written_out() {
        assert_eq!(clean("plain"), "plain");
        assert_eq!(clean("a\nb\u{1b}[31m"), "a\\u{a}b\\u{1b}[31m");
        let long = "x".repeat(600);
        let kept = clean(&long);
        assert_eq!(kept.chars().count(), 513);
        assert!(kept.ends_with("x…"));
    }

    #[test]
    fn parameters_are_cleaned_throughout() {
        let many: Vec<String> = (0..150).map(|i| format!("g{i}")).collect();
        let cleaned =
            clean_json(&serde_json::json!({"list": many, "deep": {"text": "\u{7}".repeat(3)}}));
        assert_eq!(cleaned["list"].as_array().map(Vec::len), Some(100));
        assert_eq!(cleaned["deep"]["text"], "\\u{7}\\u{7}\\u{7}");
    }

    #[test]
    fn a_change_concerns_the_binding_after_before_or_asked_for() {
        let after = serde_json::json!({"after": {"kind": "group", "subject": "payments-viewers"}});
        assert_eq!(concerns(&after).as_deref(), Some("group payments-viewers"));
        let before = serde_json::json!({"before": {"kind": "user", "subject": "ada"}});
        assert_eq!(concerns(&before).as_deref(), Some("user ada"));
        let asked = serde_json::json!({"kind": "group", "subject": "x", "role": "admin"});
        assert_eq!(concerns(&asked).as_deref(), Some("group x"));
        assert_eq!(concerns(&serde_json::json!({"method": "oidc"})), None);
    }
}
