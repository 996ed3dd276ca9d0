//! Sessions and the development sign-in on SQLite and PostgreSQL: cookie flags, a new session id at
//! sign-in, sign-out deleting the server-side session, the audit trail, and when dev sign-in is off.

mod support;

use axum::body::Body;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use server::store::Db;
use server::store::audit;
use tower::ServiceExt;

const ORIGIN: &str = "http://127.0.0.1:3000";

/// Status, the `Set-Cookie` header if any, and the body.
async fn send(app: &axum::Router, req: Request<Body>) -> (StatusCode, Option<String>, String) {
    let (status, headers, body) = support::send(app, req).await;
    let cookie = headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    (status, cookie, body)
}

fn sign_in(identity: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b = Request::post("/auth/dev")
        .header(header::ORIGIN, ORIGIN)
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::from(format!("identity={identity}")))
        .expect("request")
}

fn me(cookie: &str) -> Request<Body> {
    Request::get("/auth/me")
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .expect("request")
}

/// `name=value` from a Set-Cookie header.
fn pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or_default().to_string()
}

async fn sessions_in_db(db: &Db) -> i64 {
    support::count(db, "sessions").await
}

async fn sign_in_rotates_the_session_and_sign_out_deletes_it(db: &Db) {
    let app = support::router(db);
    let (status, _, page) =
        send(&app, Request::get("/auth/dev").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Development sign-in") && page.contains("Vera Viewer"),
        "{page}"
    );

    let (status, set, _) = send(&app, sign_in("viewer", None)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let set = set.expect("a session cookie");
    assert!(set.starts_with("portolan_session="), "{set}");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    assert!(
        !set.contains("Secure"),
        "plain HTTP on loopback: no Secure flag ({set})"
    );
    let first = pair(&set);
    let (status, _, who) = send(&app, me(&first)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        who.contains("Vera Viewer") && who.contains("developers"),
        "{who}"
    );

    // Signing in again (as someone else) issues a new id; the old one is worthless.
    let (_, set, _) = send(&app, sign_in("admin", Some(&first))).await;
    let second = pair(&set.expect("a new cookie"));
    assert_ne!(first, second, "the session id changes at sign-in");
    assert_eq!(send(&app, me(&first)).await.0, StatusCode::UNAUTHORIZED);
    assert!(send(&app, me(&second)).await.2.contains("Ada Admin"));
    assert_eq!(sessions_in_db(db).await, 1);

    let out = Request::post("/auth/logout")
        .header(header::ORIGIN, ORIGIN)
        .header(header::COOKIE, &second)
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, out).await.0, StatusCode::SEE_OTHER);
    assert_eq!(send(&app, me(&second)).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        sessions_in_db(db).await,
        0,
        "sign-out deletes the server-side session"
    );

    let actions: Vec<(String, String)> = audit::recent(db, 10)
        .await
        .expect("audit")
        .into_iter()
        .map(|e| (e.entry.action, e.entry.actor_name))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("sign-out".to_string(), "Ada Admin".to_string()),
            ("sign-in".into(), "Ada Admin".into()),
            ("sign-in".into(), "Vera Viewer".into())
        ]
    );
}

async fn bad_and_cross_origin_sign_ins_are_refused(db: &Db) {
    let app = support::router(db);
    let (status, set, page) = send(&app, sign_in("root", None)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(set.is_none(), "no session for a refused sign-in");
    assert!(
        page.contains("admin, operator, viewer, cluster-admin"),
        "{page}"
    );
    let forged = Request::post("/auth/dev")
        .header(header::ORIGIN, "https://evil.example")
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("identity=admin"))
        .unwrap();
    let (status, set, _) = send(&app, forged).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(set.is_none());
    assert_eq!(sessions_in_db(db).await, 0);
    // Neither is stored: an unknown identity is the caller's text, and a cross-origin post never
    // reaches the handler. (Recording such requests would let anyone fill the log.)
    let recorded = audit::recent(db, 10).await.expect("audit");
    assert!(recorded.is_empty(), "{recorded:?}");
}

async fn dev_sign_in_is_off_with_an_issuer_or_beyond_loopback(db: &Db) {
    let addr = "127.0.0.1:3000".parse().expect("addr");
    // An issuer nobody answers for: sign-in must say the provider could not be reached.
    let with_issuer = support::config(&[
        "--oidc-issuer",
        "https://idp.invalid",
        "--oidc-client-id",
        "portolan",
    ]);
    let app = server::http::router(
        server::app_state(&with_issuer, db.clone(), addr).expect("valid configuration"),
    );
    assert_eq!(
        send(&app, Request::get("/auth/dev").body(Body::empty()).unwrap())
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&app, sign_in("admin", None)).await.0,
        StatusCode::NOT_FOUND
    );
    let login = app
        .clone()
        .oneshot(Request::get("/auth/login").body(Body::empty()).unwrap())
        .await
        .expect("response");
    assert_eq!(login.status(), StatusCode::BAD_GATEWAY);
    let page = String::from_utf8(
        login
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec(),
    )
    .expect("utf-8");
    assert!(
        page.contains("Step 1 of 4: contacting the identity provider")
            && page.contains("configuration could not be read"),
        "{page}"
    );
    // The provider's address and the error chain are for the server log, not the page.
    assert!(!page.contains("idp.invalid"), "{page}");
    let failed = audit::recent(db, 1).await.expect("audit");
    assert_eq!(failed[0].entry.outcome, audit::Outcome::Failed);
    assert!(
        page.contains(&format!("<code>{}</code>", failed[0].entry.request_id)),
        "{page}"
    );

    let public = support::config(&["--public-url", "https://portal.example.com"]);
    // Listening everywhere, and — behind a reverse proxy or sidecar — listening on loopback while
    // strangers reach the portal through its public URL: no development sign-in either way.
    for listen in ["0.0.0.0:3000", "127.0.0.1:3000"] {
        let state = server::app_state(&public, db.clone(), listen.parse().expect("addr"))
            .expect("valid configuration");
        assert!(!state.core.auth.dev_sign_in, "{listen}");
        assert!(state.core.auth.no_sign_in(), "{listen}");
        let app = server::http::router(state);
        let dev_page = Request::get("/auth/dev")
            .header(header::HOST, "portal.example.com")
            .body(Body::empty())
            .unwrap();
        assert_eq!(
            send(&app, dev_page).await.0,
            StatusCode::NOT_FOUND,
            "{listen}"
        );
        let post = Request::post("/auth/dev")
            .header(header::ORIGIN, "https://portal.example.com")
            .header(header::HOST, "portal.example.com")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("identity=admin"))
            .unwrap();
        assert_eq!(send(&app, post).await.0, StatusCode::NOT_FOUND, "{listen}");
        let login = Request::get("/auth/login")
            .header(header::HOST, "portal.example.com")
            .body(Body::empty())
            .unwrap();
        let (status, _, page) = send(&app, login).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{listen}");
        assert!(page.contains("--oidc-issuer"), "{page}");
    }
    assert_eq!(sessions_in_db(db).await, 0);
}

/// Behind an `https://` public URL the session cookie is `Secure` (here a loopback one, so the
/// development sign-in is still offered and can be used to get a cookie).
async fn cookies_are_secure_behind_an_https_public_url(db: &Db) {
    let config = support::config(&["--public-url", "https://127.0.0.1:3000"]);
    let app = server::http::router(
        server::app_state(&config, db.clone(), "127.0.0.1:3000".parse().expect("addr"))
            .expect("valid configuration"),
    );
    let post = Request::post("/auth/dev")
        .header(header::ORIGIN, "https://127.0.0.1:3000")
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("identity=viewer"))
        .unwrap();
    let (status, set, _) = send(&app, post).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let set = set.expect("a session cookie");
    assert!(set.starts_with("portolan_session="), "{set}");
    assert!(set.contains("; Secure"), "{set}");
}

/// `--session-max`: a session ends this long after sign-in, however active it is.
async fn the_absolute_session_limit_ends_an_active_session(db: &Db) {
    let config = support::config(&["--session-max", "1m"]);
    let app = server::http::router(
        server::app_state(&config, db.clone(), "127.0.0.1:3000".parse().expect("addr"))
            .expect("valid configuration"),
    );
    let (_, set, _) = send(&app, sign_in("viewer", None)).await;
    let cookie = pair(&set.expect("a session cookie"));
    // Active all along: a request every 15 s (the idle limit is an hour).
    for _ in 0..3 {
        assert_eq!(send(&app, me(&cookie)).await.0, StatusCode::OK);
        tokio::time::sleep(std::time::Duration::from_secs(15)).await;
    }
    assert_eq!(
        send(&app, me(&cookie)).await.0,
        StatusCode::OK,
        "45 s after sign-in"
    );
    tokio::time::sleep(std::time::Duration::from_secs(17)).await;
    assert_eq!(
        send(&app, me(&cookie)).await.0,
        StatusCode::UNAUTHORIZED,
        "62 s after sign-in, with --session-max 1m"
    );
}

/// Idle expiry counts from the last activity, not from sign-in: activity extends the session (and
/// its cookie) in the database, and a session left alone ends.
async fn activity_keeps_a_session_alive_and_idleness_ends_it(db: &Db) {
    let config = support::config(&["--session-idle", "12s"]);
    let app = server::http::router(
        server::app_state(&config, db.clone(), "127.0.0.1:3000".parse().expect("addr"))
            .expect("valid configuration"),
    );
    let (_, set, _) = send(&app, sign_in("viewer", None)).await;
    let cookie = pair(&set.expect("a session cookie"));
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    // Active after 4 s: the session is stored again with a later expiry, and the cookie renewed.
    let (status, renewed, _) = send(&app, me(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(renewed.is_some(), "activity renews the cookie's lifetime");
    tokio::time::sleep(std::time::Duration::from_secs(9)).await;
    // 13 s after sign-in but 9 s after the last request: still signed in.
    assert_eq!(send(&app, me(&cookie)).await.0, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_secs(13)).await;
    assert_eq!(send(&app, me(&cookie)).await.0, StatusCode::UNAUTHORIZED);
}

/// A sign-out through one router is seen at once by that router even though sessions are cached.
async fn the_session_cache_never_outlives_a_sign_out(db: &Db) {
    let app = support::router(db);
    let (_, set, _) = send(&app, sign_in("viewer", None)).await;
    let cookie = pair(&set.expect("a session cookie"));
    assert_eq!(send(&app, me(&cookie)).await.0, StatusCode::OK);
    let out = Request::post("/auth/logout")
        .header(header::ORIGIN, ORIGIN)
        .header(header::COOKIE, &cookie)
        .body(Body::empty())
        .expect("request");
    assert_eq!(send(&app, out).await.0, StatusCode::SEE_OTHER);
    assert_eq!(send(&app, me(&cookie)).await.0, StatusCode::UNAUTHORIZED);
}

on_both_databases!(
    cookies_are_secure_behind_an_https_public_url,
    the_absolute_session_limit_ends_an_active_session,
    activity_keeps_a_session_alive_and_idleness_ends_it,
    the_session_cache_never_outlives_a_sign_out,
    sign_in_rotates_the_session_and_sign_out_deletes_it,
    bad_and_cross_origin_sign_ins_are_refused,
    dev_sign_in_is_off_with_an_issuer_or_beyond_loopback,
);
