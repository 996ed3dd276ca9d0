//! What a stranger can try from outside, on SQLite and PostgreSQL: another site's host name (DNS
//! rebinding), flooding the sign-in endpoints, forged identity-provider answers, development
//! bindings outliving development mode, and HSTS behind HTTPS.

mod support;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{Request, StatusCode, header};
use server::access::bindings::{self, NewBinding};
use server::store::{Db, audit};
use tower::ServiceExt;

use support::{count, send};

fn get(path: &str, host: &str) -> Request<Body> {
    Request::get(path)
        .header(header::HOST, host)
        .body(Body::empty())
        .expect("request")
}

/// The database's size in bytes (SQLite: pages in use; PostgreSQL: the database on disk).
async fn size(db: &Db) -> i64 {
    match db {
        Db::Sqlite(pool) => sqlx::query_scalar(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
        )
        .fetch_one(pool)
        .await
        .expect("size"),
        Db::Postgres(pool) => sqlx::query_scalar("SELECT pg_database_size(current_database())")
            .fetch_one(pool)
            .await
            .expect("size"),
    }
}

async fn requests_for_another_host_are_refused(db: &Db) {
    let app = support::router(db);
    // A page on evil.example whose name now resolves to 127.0.0.1 sends its own name as Host.
    for host in ["evil.example", "evil.example:3000", "portal.example.com"] {
        let (status, _, body) = send(&app, get("/auth/me", host)).await;
        assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{host}");
        assert!(body.contains("--public-url"), "{body}");
        let (status, _, _) = send(&app, get("/", host)).await;
        assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{host}");
        let write = Request::post("/auth/dev")
            .header(header::HOST, host)
            .header(header::ORIGIN, format!("http://{host}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("identity=admin"))
            .expect("request");
        assert_eq!(
            send(&app, write).await.0,
            StatusCode::MISDIRECTED_REQUEST,
            "{host}"
        );
    }
    assert_eq!(count(db, "sessions").await, 0, "nothing was signed in");
    // Probes by pod IP or any name still work.
    assert_eq!(
        send(&app, get("/healthz", "10.1.2.3:3000")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        send(&app, get("/readyz", "evil.example")).await.0,
        StatusCode::OK
    );
    // Loopback names reach a portal that listens on loopback.
    for host in ["127.0.0.1:3000", "localhost:3000", "[::1]:3000"] {
        assert_eq!(send(&app, get("/", host)).await.0, StatusCode::OK, "{host}");
    }

    // Listening everywhere, only the public URL's host is accepted.
    let app = support::router_with(
        db,
        &["--public-url", "https://portal.example.com"],
        "0.0.0.0:3000",
    );
    assert_eq!(
        send(&app, get("/", "portal.example.com")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        send(&app, get("/", "127.0.0.1:3000")).await.0,
        StatusCode::MISDIRECTED_REQUEST
    );
}

async fn https_public_urls_get_strict_transport_security(db: &Db) {
    let app = support::router_with(
        db,
        &["--public-url", "https://portal.example.com"],
        "0.0.0.0:3000",
    );
    let (_, headers, _) = send(&app, get("/", "portal.example.com")).await;
    assert_eq!(
        headers
            .get(header::STRICT_TRANSPORT_SECURITY)
            .and_then(|v| v.to_str().ok()),
        Some("max-age=31536000")
    );
    let (_, headers, _) = send(&support::router(db), get("/", "127.0.0.1:3000")).await;
    assert!(
        headers.get(header::STRICT_TRANSPORT_SECURITY).is_none(),
        "plain HTTP: no HSTS"
    );
}

/// 10,000 forged identity-provider answers and 10,000 development sign-in posts from one address:
/// forged answers store nothing at all, and sign-ins are cut off by the rate limit (429 with
/// Retry-After), so the database grows by a bounded amount.
async fn a_flood_of_sign_in_requests_barely_grows_the_database(db: &Db) {
    let oidc = support::router_with(db, support::UNREACHABLE_IDP, "127.0.0.1:3000");
    let dev = support::router(db);
    let from = SocketAddr::from(([192, 0, 2, 7], 50_000));
    let rows = |db: &Db| {
        let db = db.clone();
        async move { count(&db, "sessions").await + count(&db, "audit_log").await }
    };
    let rows_before = rows(db).await;
    let size_before = size(db).await;
    let junk = "x".repeat(4_000);
    let (mut limited, mut retry_after_seen) = (0, false);
    for i in 0..10_000 {
        let forged = match i % 4 {
            0 => format!("/auth/callback?code=c{i}&state=s{i}"),
            1 => format!("/auth/callback?error=access_denied&error_description={junk}&state=s{i}"),
            2 => format!("/auth/callback?code=c&state=s&iss=https%3A%2F%2Fevil.example%2F{i}"),
            _ => format!("/auth/callback?state={junk}"),
        };
        let req = Request::get(&forged)
            .header(header::COOKIE, format!("portolan_signin=forged{i}"))
            .extension(ConnectInfo(from))
            .body(Body::empty())
            .expect("request");
        let res = oidc.clone().oneshot(req).await.expect("response");
        assert!(
            res.status() == StatusCode::BAD_REQUEST
                || res.status() == StatusCode::TOO_MANY_REQUESTS,
            "{forged}: {}",
            res.status()
        );
        let identity = if i % 2 == 0 { "admin" } else { "nobody-at-all" };
        let post = Request::post("/auth/dev")
            .header(header::ORIGIN, "http://127.0.0.1:3000")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .extension(ConnectInfo(from))
            .body(Body::from(format!("identity={identity}&next=/{junk}")))
            .expect("request");
        let res = dev.clone().oneshot(post).await.expect("response");
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            limited += 1;
            retry_after_seen |= res.headers().contains_key(header::RETRY_AFTER);
        }
    }
    assert!(
        limited > 9_000,
        "the rate limit answered 429 {limited} times"
    );
    assert!(retry_after_seen, "429 comes with Retry-After");
    let grown = rows(db).await - rows_before;
    // At most the burst (30) and what refills while the loop runs (2 a second), two rows each
    // (a session and its sign-in entry); 10,000 forged answers add none.
    assert!(grown <= 200, "{grown} rows were added");
    let forged_recorded = audit::search(
        db,
        &audit::Query {
            actor: Some("anonymous".into()),
            limit: 1000,
            ..audit::Query::default()
        },
    )
    .await
    .expect("audit")
    .entries
    .len();
    assert_eq!(forged_recorded, 0, "forged answers are never recorded");
    let grown_bytes = size(db).await - size_before;
    assert!(
        grown_bytes < 2 * 1024 * 1024,
        "the database grew by {grown_bytes} bytes"
    );
    // Another address still gets its own allowance.
    let other = Request::post("/auth/dev")
        .header(header::ORIGIN, "http://127.0.0.1:3000")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .extension(ConnectInfo(SocketAddr::from(([192, 0, 2, 8], 50_000))))
        .body(Body::from("identity=viewer"))
        .expect("request");
    assert_eq!(send(&dev, other).await.0, StatusCode::SEE_OTHER);
}

/// A forged or stale answer shows the step and the request id, never what it carried.
async fn forged_answers_are_not_echoed_or_stored(db: &Db) {
    let app = support::router_with(db, support::UNREACHABLE_IDP, "127.0.0.1:3000");
    let req = Request::get(
        "/auth/callback?error=access_denied&error_description=%3Cscript%3Ecall%20%2B1-555%3C%2Fscript%3E&state=abc",
    )
    .header("x-request-id", "req-forged-1")
    .body(Body::empty())
    .expect("request");
    let (status, _, page) = send(&app, req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        page.contains("the identity provider refused the sign-in"),
        "{page}"
    );
    assert!(page.contains("<code>req-forged-1</code>"), "{page}");
    assert!(!page.contains("555") && !page.contains("script"), "{page}");
    assert!(audit::recent(db, 10).await.expect("audit").is_empty());
}

/// The development identities' bindings live in memory: none is written, an earlier version's
/// are removed (and recorded) once development mode is off, and a real IdP group with the same
/// name gets nothing.
async fn development_bindings_never_outlive_development_mode(db: &Db) {
    let admin = support::dev_session(db, "admin").await;
    let req = Request::get("/api/access/bindings")
        .header(header::ACCEPT, "application/json")
        .header(header::COOKIE, &admin)
        .body(Body::empty())
        .expect("request");
    let (status, _, listed) = send(&support::router(db), req).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert!(listed.contains("portolan-admins"), "{listed}");
    assert!(
        bindings::list(db).await.expect("bindings").is_empty(),
        "development bindings are never stored"
    );

    // What an earlier version stored, and a binding an administrator made.
    for (subject, by) in [
        ("portolan-admins", "development sign-in"),
        ("developers", "development sign-in"),
        ("real-admins", "Dana Root"),
        // Made by an administrator whose display name happens to be the old marker: kept.
        ("team-x", "development sign-in"),
    ] {
        let role = if subject == "developers" {
            "viewer"
        } else {
            "admin"
        };
        bindings::add(
            db,
            &NewBinding::parse("group", subject, role, "", by).expect("valid"),
        )
        .await
        .expect("stored");
    }
    let removed = server::auth::dev::remove_stored_bindings(db)
        .await
        .expect("removed");
    let mut removed: Vec<String> = removed.into_iter().map(|b| b.subject).collect();
    removed.sort();
    assert_eq!(removed, ["developers", "portolan-admins"]);
    let left: Vec<String> = bindings::list(db)
        .await
        .expect("bindings")
        .into_iter()
        .map(|b| b.subject)
        .collect();
    assert_eq!(left, ["real-admins", "team-x"]);
    let recorded = audit::recent(db, 10).await.expect("audit");
    let words: Vec<String> = recorded
        .iter()
        .filter(|e| e.entry.actor_subject == "portolan")
        .map(server::store::audit_words::summary)
        .collect();
    assert_eq!(
        words,
        [
            "removed portal-wide viewer from group developers",
            "removed portal-wide admin from group portolan-admins"
        ]
    );

    // With an identity provider, the same database gives `portolan-admins` nothing.
    let config = support::config(&[
        "--oidc-issuer",
        "https://idp.invalid",
        "--oidc-client-id",
        "portolan",
    ]);
    let state = server::app_state(&config, db.clone(), "127.0.0.1:3000".parse().expect("addr"))
        .expect("valid configuration");
    let all = state.core.gate.bindings.get().await.expect("bindings");
    let who = app::access::model::Principal {
        subject: "idp-user".into(),
        name: "Someone".into(),
        groups: vec!["portolan-admins".into(), "developers".into()],
    };
    assert!(
        !server::access::may(
            &who,
            &all,
            app::access::model::Action::ViewActivity,
            &app::access::model::Target::Portal
        )
        .is_allowed()
    );
}

on_both_databases!(
    requests_for_another_host_are_refused,
    https_public_urls_get_strict_transport_security,
    a_flood_of_sign_in_requests_barely_grows_the_database,
    forged_answers_are_not_echoed_or_stored,
    development_bindings_never_outlive_development_mode,
);
