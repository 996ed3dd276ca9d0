//! Activity exports over HTTP on SQLite and PostgreSQL: signed-in viewers only, filters applied,
//! bad filters refused.

mod support;

use http::{StatusCode, header};
use serde_json::json;
use server::store::Db;
use server::store::audit::{self, NewEntry, Outcome};

async fn get(db: &Db, path: &str, cookie: Option<&str>) -> (StatusCode, String, String) {
    let res = support::response(db, support::get(path, cookie)).await;
    let status = res.status();
    let ct = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, ct, support::text(res).await)
}

async fn exports_are_for_viewers_and_honour_filters(db: &Db) {
    for (at, action, outcome) in [
        (1_000, "cluster.scale", Outcome::Accepted),
        (2_000, "cluster.delete", Outcome::Denied),
    ] {
        audit::append(
            db,
            &NewEntry {
                at_ms: at,
                actor_subject: "u".into(),
                actor_name: "Grace, \"the\" Operator".into(),
                actor_groups: vec![],
                action: action.into(),
                target: "cluster/default/prod".into(),
                parameters: json!({}),
                outcome,
                reason: None,
                request_id: "r".into(),
                client_addr: None,
            },
        )
        .await
        .expect("append");
    }
    assert_eq!(
        get(db, "/activity/export.csv", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    let viewer = support::dev_session(db, "viewer").await;

    let (status, ct, csv) = get(db, "/activity/export.csv?result=denied", Some(&viewer)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("text/csv"), "{ct}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(
        lines[1].contains("cluster.delete") && lines[1].contains("\"Grace, \"\"the\"\" Operator\""),
        "{csv}"
    );

    let (status, ct, jsonl) = get(
        db,
        "/activity/export.jsonl?cluster=default/prod",
        Some(&viewer),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ct, "application/jsonl");
    let actions: Vec<String> = jsonl
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("json")["action"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(actions, ["cluster.delete", "cluster.scale"]);

    let (status, _, message) = get(db, "/activity/export.csv?result=maybe", Some(&viewer)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message.contains("accepted, denied or failed"), "{message}");
    assert_eq!(
        get(db, "/activity/export.xml", Some(&viewer)).await.0,
        StatusCode::NOT_FOUND
    );
}

/// Someone signed in without any role is refused, and the refusal is in the audit log.
async fn a_refused_export_is_recorded(db: &Db) {
    // Signed in through the identity provider, in a group nobody bound to a role.
    let viewer = support::session_for(
        db,
        app::access::model::Principal {
            subject: "vera-2".into(),
            name: "Vera Viewer".into(),
            groups: vec!["unbound-group".into()],
        },
    )
    .await;
    let (status, _, message) = get(db, "/activity/export.csv", Some(&viewer)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{message}");
    let newest = audit::recent(db, 1).await.expect("audit");
    assert_eq!(newest[0].entry.outcome, Outcome::Denied);
    assert_eq!(newest[0].entry.action, "view-activity");
    assert_eq!(newest[0].entry.actor_name, "Vera Viewer");
    assert!(
        newest[0]
            .entry
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("needs the viewer role")),
        "{:?}",
        newest[0].entry.reason
    );
}

on_both_databases!(
    exports_are_for_viewers_and_honour_filters,
    a_refused_export_is_recorded,
);
