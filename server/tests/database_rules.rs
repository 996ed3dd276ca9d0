//! Rules the database itself keeps: the last portal-wide admin binding survives concurrent
//! removals; on PostgreSQL the audit log refuses TRUNCATE, and `serve` runs as a least-privilege
//! role that may only append to and read the audit log.

mod support;

use axum::body::Body;
use http::{Request, StatusCode, header};
use server::access::bindings::{self, BindingError, NewBinding};
use server::store::{Db, audit, execute_raw};
use tower::ServiceExt;

fn admin(group: &str) -> NewBinding {
    NewBinding::parse("group", group, "admin", "", "test").expect("valid binding")
}

/// Two administrators remove the only two portal-wide admin bindings at the same moment: one
/// removal passes, the other is refused, and one admin binding is left — every time.
async fn concurrent_removals_never_remove_the_last_admin(db: &Db) {
    for round in 0..20 {
        let a = bindings::add(db, &admin(&format!("admins-a-{round}")))
            .await
            .expect("added");
        let b = bindings::add(db, &admin(&format!("admins-b-{round}")))
            .await
            .expect("added");
        let (ra, rb) = tokio::join!(
            bindings::remove_unless_last_admin(db, a),
            bindings::remove_unless_last_admin(db, b)
        );
        let refused = [&ra, &rb]
            .iter()
            .filter(|r| matches!(r, Err(BindingError::LastAdmin(_))))
            .count();
        let removed = [&ra, &rb].iter().filter(|r| r.is_ok()).count();
        assert_eq!((removed, refused), (1, 1), "round {round}: {ra:?} {rb:?}");
        let left = bindings::list(db).await.expect("list");
        assert_eq!(left.len(), 1, "round {round}: {left:?}");
        let survivor = left[0].id;
        // Start the next round from nothing: add a spare so the survivor may go.
        let spare = bindings::add(db, &admin("spare")).await.expect("added");
        bindings::remove_unless_last_admin(db, survivor)
            .await
            .expect("not the last one");
        bindings::remove(db, spare).await.expect("removed");
    }
}

on_both_databases!(concurrent_removals_never_remove_the_last_admin);

async fn pg_count(db: &Db, sql: &str) -> i64 {
    let Db::Postgres(pool) = db else {
        panic!("PostgreSQL only")
    };
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .expect("count")
}

#[tokio::test]
async fn postgres_refuses_truncate_on_the_audit_log() {
    let t = support::postgres().await;
    let entry = audit::NewEntry::now(
        &audit::Origin {
            subject: "s",
            name: "n",
            groups: &[],
            request_id: "r",
            client_addr: None,
        },
        "sign-in",
        "portal",
        serde_json::json!({}),
        audit::Outcome::Accepted,
        None,
    );
    audit::append(&t.db, &entry).await.expect("appended");
    let truncated = execute_raw(&t.db, "TRUNCATE audit_log").await;
    let err = truncated.expect_err("TRUNCATE must be refused").to_string();
    assert!(err.contains("append-only"), "{err}");
    assert_eq!(pg_count(&t.db, "SELECT COUNT(*) FROM audit_log").await, 1);
    t.db.close().await;
}

/// `portolan migrate` as the owner; `serve` as a role granted what README (Production) lists —
/// `server/sql/postgres-serve-role.sql` — which may only insert and select on the audit log. The
/// portal works that way, and the role can change no audit entry.
#[tokio::test]
async fn serve_works_as_a_role_that_may_only_append_to_the_audit_log() {
    let t = support::postgres().await;
    let role = format!("portolan_serve_{}", std::process::id());
    let _ = execute_raw(&t.db, &format!("DROP ROLE IF EXISTS {role}")).await;
    execute_raw(&t.db, &format!("CREATE ROLE {role} LOGIN"))
        .await
        .expect("role");
    let grants =
        std::fs::read_to_string(support::package_dir().join("sql/postgres-serve-role.sql"))
            .expect("the grants file");
    for statement in grants
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        execute_raw(&t.db, &statement.replace("portolan_serve", &role))
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }

    let mut url = url::Url::parse(&t.url).expect("url");
    url.set_username(&role).expect("user");
    let config = support::config(&["--database-url", url.as_str()]);
    // What `portolan serve` does at start-up, as that role.
    let db = server::open_database(&config)
        .await
        .expect("opens without migrating");
    server::store::settings::installation_id(&db)
        .await
        .expect("installation id");
    server::auth::dev::remove_stored_bindings(&db)
        .await
        .expect("reads bindings");

    // Signing in, granting and revoking roles, reading the activity log: all work.
    let admin = support::dev_session(&db, "admin").await;
    let call = |path: &str, body: &str| {
        Request::post(path)
            .header(header::ORIGIN, "http://127.0.0.1:3000")
            .header(header::ACCEPT, "application/json")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, &admin)
            .body(Body::from(body.to_string()))
            .expect("request")
    };
    let res = support::router(&db)
        .oneshot(call(
            "/api/access/bindings/add",
            "kind=group&subject=ops&role=operator&cluster=",
        ))
        .await
        .expect("response");
    assert_eq!(res.status(), StatusCode::OK);
    let id = bindings::list(&db).await.expect("list")[0].id;
    let res = support::router(&db)
        .oneshot(call("/api/access/bindings/remove", &format!("id={id}")))
        .await
        .expect("response");
    assert_eq!(res.status(), StatusCode::OK);
    let res = support::router(&db)
        .oneshot(
            Request::get("/api/activity/search")
                .header(header::ACCEPT, "application/json")
                .header(header::COOKIE, &admin)
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    assert_eq!(res.status(), StatusCode::OK);
    let entries = audit::recent(&db, 10).await.expect("read");
    let actions: Vec<&str> = entries.iter().map(|e| e.entry.action.as_str()).collect();
    assert_eq!(actions, ["revoke-role", "grant-role", "sign-in"]);

    // The role can neither change nor remove what was recorded, nor alter the schema.
    for forbidden in [
        "UPDATE audit_log SET action = 'forged'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update",
        "DROP TABLE audit_log",
    ] {
        let err = execute_raw(&db, forbidden)
            .await
            .expect_err(forbidden)
            .to_string();
        assert!(
            err.contains("permission denied") || err.contains("must be owner"),
            "{forbidden}: {err}"
        );
    }
    assert_eq!(pg_count(&t.db, "SELECT COUNT(*) FROM audit_log").await, 3);
    db.close().await;
    // Roles belong to the whole server: take this one's grants back and drop it.
    execute_raw(&t.db, &format!("DROP OWNED BY {role}"))
        .await
        .expect("grants revoked");
    t.db.close().await;
    let admin = Db::connect(&support::postgres_admin_url())
        .await
        .expect("admin");
    execute_raw(&admin, &format!("DROP ROLE IF EXISTS {role}"))
        .await
        .expect("role dropped");
    admin.close().await;
}
