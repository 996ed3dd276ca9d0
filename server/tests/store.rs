//! The database layer on SQLite and PostgreSQL: migrations, settings, the append-only audit log.

mod support;

use serde_json::json;
use server::store::audit::Query;
use server::store::audit::{self, NewEntry, Outcome};
use server::store::{Db, audit_export, execute_raw, settings};

fn entry(at_ms: i64, action: &str, outcome: Outcome) -> NewEntry {
    NewEntry {
        at_ms,
        actor_subject: "user-1".into(),
        actor_name: "Ada Admin".into(),
        actor_groups: vec!["platform-admins".into(), "<b>markup</b>".into()],
        action: action.into(),
        target: "cluster/default/prod-eu".into(),
        parameters: json!({ "before": { "replicas": 3 }, "after": { "replicas": 5 } }),
        outcome,
        reason: (outcome != Outcome::Accepted).then(|| "quota exhausted".to_string()),
        request_id: format!("req-{at_ms}"),
        client_addr: Some("127.0.0.1".into()),
    }
}

async fn migrations_are_idempotent(db: &Db) {
    db.migrate().await.expect("second migration run is a no-op");
    db.ping().await.expect("ping");
}

async fn settings_round_trip(db: &Db) {
    assert_eq!(settings::get(db, "greeting").await.expect("get"), None);
    settings::set(db, "greeting", "hello").await.expect("set");
    settings::set(db, "greeting", "hello again")
        .await
        .expect("overwrite");
    assert_eq!(
        settings::get(db, "greeting").await.expect("get").as_deref(),
        Some("hello again")
    );
}

async fn installation_id_is_created_once(db: &Db) {
    let first = settings::installation_id(db).await.expect("create");
    let second = settings::installation_id(db).await.expect("read");
    assert_eq!(first, second);
    assert_eq!(first.len(), 36, "a UUID: {first}");
}

async fn audit_entries_read_back_newest_first(db: &Db) {
    audit::append(db, &entry(1_000, "cluster.scale", Outcome::Accepted))
        .await
        .expect("append");
    audit::append(db, &entry(3_000, "cluster.delete", Outcome::Denied))
        .await
        .expect("append");
    audit::append(db, &entry(2_000, "cluster.upgrade", Outcome::Failed))
        .await
        .expect("append");

    let all = audit::recent(db, 10).await.expect("recent");
    let actions: Vec<&str> = all.iter().map(|e| e.entry.action.as_str()).collect();
    assert_eq!(
        actions,
        ["cluster.delete", "cluster.upgrade", "cluster.scale"]
    );
    assert!(all[0].id > all[2].id, "ids grow with each append");
    let newest = &all[0].entry;
    assert_eq!(newest.outcome, Outcome::Denied);
    assert_eq!(newest.reason.as_deref(), Some("quota exhausted"));
    assert_eq!(newest.actor_groups, ["platform-admins", "<b>markup</b>"]);
    assert_eq!(newest.parameters["after"]["replicas"], 5);
    assert_eq!(newest.request_id, "req-3000");

    assert_eq!(audit::recent(db, 2).await.expect("recent").len(), 2);
}

async fn audit_log_is_append_only(db: &Db) {
    audit::append(db, &entry(1_000, "cluster.scale", Outcome::Accepted))
        .await
        .expect("append");
    let update = execute_raw(db, "UPDATE audit_log SET action = 'forged'").await;
    assert!(
        update.is_err(),
        "an UPDATE of the audit log must be refused"
    );
    let delete = execute_raw(db, "DELETE FROM audit_log").await;
    assert!(
        delete.is_err(),
        "a DELETE from the audit log must be refused"
    );
    let all = audit::recent(db, 10).await.expect("recent");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].entry.action, "cluster.scale");
}

async fn audit_results_are_constrained(db: &Db) {
    let bad = execute_raw(
        db,
        "INSERT INTO audit_log (at_ms, actor_subject, actor_name, action, target, result, request_id) \
         VALUES (1, 's', 'n', 'a', 't', 'maybe', 'r')",
    )
    .await;
    assert!(
        bad.is_err(),
        "a result other than accepted/denied/failed must be refused"
    );
    assert!(audit::recent(db, 10).await.expect("recent").is_empty());
}

on_both_databases!(
    migrations_are_idempotent,
    settings_round_trip,
    installation_id_is_created_once,
    audit_entries_read_back_newest_first,
    audit_log_is_append_only,
    audit_results_are_constrained,
    filters_each_narrow_the_log,
    pages_cover_everything_once,
    exports_carry_every_field,
    changes_are_found_by_their_subject_and_scoped_by_cluster,
);

/// "Who" finds a change by the group or user it was about, not only by who made it; a search
/// limited to clusters returns only their entries (never a cluster whose name merely starts alike).
async fn changes_are_found_by_their_subject_and_scoped_by_cluster(db: &Db) {
    seed(db).await;
    let mut grant = entry(6_000, "grant-role", Outcome::Accepted);
    grant.actor_name = "Dana Root".into();
    grant.target = "cluster/default/prod-eu".into();
    grant.parameters = json!({"after": {"kind": "group", "subject": "Payments-Viewers", "role": "viewer",
        "cluster": {"namespace": "default", "name": "prod-eu"}}});
    audit::append(db, &grant).await.expect("append");
    let found = audit::search(
        db,
        &Query {
            actor: Some("payments-viewers".into()),
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .expect("search");
    assert_eq!(found.entries.len(), 1);
    assert_eq!(
        found.entries[0].concerns.as_deref(),
        Some("group Payments-Viewers")
    );
    assert_eq!(
        server::store::audit_words::summary(&found.entries[0]),
        "granted viewer to group Payments-Viewers, on default/prod-eu"
    );
    let within = |clusters: &[&str]| Query {
        within: Some(clusters.iter().map(|c| c.to_string()).collect()),
        ..Default::default()
    };
    assert_eq!(ids(db, within(&["default/prod-eu"])).await, vec![6, 2, 1]);
    assert_eq!(ids(db, within(&["default/prod-eu-2"])).await, vec![4]);
    assert_eq!(ids(db, within(&[])).await, Vec::<i64>::new());
}

async fn seed(db: &Db) {
    let rows = [
        (
            1_000,
            "ada",
            "Ada Admin",
            "cluster.scale",
            "cluster/default/prod-eu",
            Outcome::Accepted,
        ),
        (
            2_000,
            "bob",
            "Bob Builder",
            "cluster.upgrade",
            "cluster/default/prod-eu/pool/apps",
            Outcome::Denied,
        ),
        (
            3_000,
            "ada",
            "Ada Admin",
            "access.bind",
            "access/binding/7",
            Outcome::Accepted,
        ),
        (
            4_000,
            "carol",
            "Carol 100%_sure",
            "cluster.delete",
            "cluster/default/prod-eu-2",
            Outcome::Failed,
        ),
        (
            5_000,
            "bob",
            "Bob Builder",
            "sign-in",
            "portal",
            Outcome::Accepted,
        ),
    ];
    for (at, subject, name, action, target, outcome) in rows {
        let mut e = entry(at, action, outcome);
        e.actor_subject = subject.into();
        e.actor_name = name.into();
        e.target = target.into();
        audit::append(db, &e).await.expect("append");
    }
}

async fn ids(db: &Db, q: Query) -> Vec<i64> {
    let q = Query {
        limit: if q.limit == 0 { 100 } else { q.limit },
        ..q
    };
    audit::search(db, &q)
        .await
        .expect("search")
        .entries
        .iter()
        .map(|e| e.entry.at_ms / 1000)
        .collect()
}

async fn filters_each_narrow_the_log(db: &Db) {
    seed(db).await;
    assert_eq!(ids(db, Query::default()).await, vec![5, 4, 3, 2, 1]);
    assert_eq!(
        ids(
            db,
            Query {
                actor: Some("ADA".into()),
                ..Default::default()
            }
        )
        .await,
        vec![3, 1]
    );
    assert_eq!(
        ids(
            db,
            Query {
                actor: Some("100%_".into()),
                ..Default::default()
            }
        )
        .await,
        vec![4],
        "wildcards are literal"
    );
    assert_eq!(
        ids(
            db,
            Query {
                actor: Some("0%".into()),
                ..Default::default()
            }
        )
        .await,
        vec![4]
    );
    assert_eq!(
        ids(
            db,
            Query {
                action: Some("cluster.".into()),
                ..Default::default()
            }
        )
        .await,
        vec![4, 2, 1]
    );
    assert_eq!(
        ids(
            db,
            Query {
                action: Some("sign-in".into()),
                ..Default::default()
            }
        )
        .await,
        vec![5]
    );
    assert_eq!(
        ids(
            db,
            Query {
                cluster: Some("default/prod-eu".into()),
                ..Default::default()
            }
        )
        .await,
        vec![2, 1],
        "prod-eu-2 is another cluster"
    );
    assert_eq!(
        ids(
            db,
            Query {
                outcome: Some(Outcome::Denied),
                ..Default::default()
            }
        )
        .await,
        vec![2]
    );
    assert_eq!(
        ids(
            db,
            Query {
                from_ms: Some(2_000),
                to_ms: Some(4_000),
                ..Default::default()
            }
        )
        .await,
        vec![3, 2]
    );
}

async fn pages_cover_everything_once(db: &Db) {
    seed(db).await;
    let mut seen = Vec::new();
    let mut q = Query {
        limit: 2,
        ..Default::default()
    };
    let mut pages = 0;
    loop {
        let page = audit::search(db, &q).await.expect("page");
        pages += 1;
        seen.extend(page.entries.iter().map(|e| e.id));
        match page.next {
            Some(next) => q.before = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (5, 5));
}

async fn exports_carry_every_field(db: &Db) {
    seed(db).await;
    let entries = audit::recent(db, 10).await.expect("recent");
    let jsonl = audit_export::json_lines(&entries);
    let lines: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0]["action"], "sign-in");
    assert_eq!(lines[0]["actor"]["groups"][1], "<b>markup</b>");
    let csv = audit_export::csv(&entries);
    assert!(csv.starts_with(audit_export::CSV_HEADER));
    assert_eq!(csv.lines().count(), 6);
    assert!(
        csv.contains("\"{\"\"after\"\":{\"\"replicas\"\":5}"),
        "{csv}"
    );
}

/// A database from before the `concerns` column: applying the new migration fills it in for the
/// access changes already recorded (and leaves the log append-only).
async fn upgrading_fills_in_whom_old_changes_concerned(t: support::TestDb) {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = support::package_dir()
        .join("migrations")
        .join(t.db.backend_name());
    for file in [
        "0001_init.sql",
        "0002_role_bindings.sql",
        "0003_sessions.sql",
    ] {
        std::fs::copy(source.join(file), dir.path().join(file)).expect("copy");
    }
    let earlier = sqlx::migrate::Migrator::new(dir.path())
        .await
        .expect("earlier migrations");
    let insert = "INSERT INTO audit_log (at_ms, actor_subject, actor_name, action, target, parameters, result, request_id) \
                  VALUES (1, 'dana', 'Dana Root', 'grant-role', 'portal', \
                  '{\"after\":{\"kind\":\"group\",\"subject\":\"payments-viewers\",\"role\":\"viewer\",\"cluster\":null}}', \
                  'accepted', 'r1'), \
                  (2, 'dana', 'Dana Root', 'revoke-role', 'portal', \
                  '{\"before\":{\"kind\":\"user\",\"subject\":\"ada\",\"role\":\"admin\",\"cluster\":null}}', \
                  'accepted', 'r2'), \
                  (3, 'vera', 'Vera', 'sign-in', 'portal', '{\"method\":\"oidc\"}', 'accepted', 'r3')";
    match &t.db {
        Db::Sqlite(pool) => {
            earlier.run(pool).await.expect("migrated to 0003");
            sqlx::query(insert)
                .execute(pool)
                .await
                .expect("old entries");
        }
        Db::Postgres(pool) => {
            earlier.run(pool).await.expect("migrated to 0003");
            sqlx::query(insert)
                .execute(pool)
                .await
                .expect("old entries");
        }
    }
    t.db.migrate().await.expect("the rest");
    let concerns: Vec<Option<String>> = audit::recent(&t.db, 10)
        .await
        .expect("read")
        .into_iter()
        .map(|e| e.concerns)
        .collect();
    assert_eq!(
        concerns,
        [
            None,
            Some("user ada".into()),
            Some("group payments-viewers".into())
        ]
    );
    let update = execute_raw(&t.db, "UPDATE audit_log SET action = 'forged'").await;
    assert!(update.is_err(), "still append-only after the upgrade");
}

#[tokio::test]
async fn upgrading_sqlite_fills_in_whom_old_changes_concerned() {
    upgrading_fills_in_whom_old_changes_concerned(support::sqlite_unmigrated().await).await;
}

#[tokio::test]
async fn upgrading_postgres_fills_in_whom_old_changes_concerned() {
    let t = support::postgres_unmigrated().await;
    let db = t.db.clone();
    upgrading_fills_in_whom_old_changes_concerned(t).await;
    db.close().await;
}
