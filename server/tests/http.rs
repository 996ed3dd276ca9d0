//! The router end to end in-process: health, headers, pages, server functions, guards, shutdown.

mod support;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;
use server::store::audit::{self, NewEntry, Outcome};
use server::store::{Db, execute_raw};
use tower::ServiceExt;

fn theme_post(origin: Option<&str>, body: &'static str) -> Request<Body> {
    let mut req = Request::post("/api/theme")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::HOST, "127.0.0.1:3000");
    if let Some(origin) = origin {
        req = req.header(header::ORIGIN, origin);
    }
    req.body(Body::from(body)).expect("request")
}

async fn health_endpoints_answer(db: &Db) {
    let res = support::response(db, support::get("/healthz", None)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = support::response(db, support::get("/readyz", None)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(support::text(res).await.contains("\"ready\""));

    db.close().await;
    let res = support::response(db, support::get("/readyz", None)).await;
    assert_eq!(
        res.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "a closed database is not ready"
    );
    let res = support::response(db, support::get("/healthz", None)).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "liveness does not depend on the database"
    );
}

async fn pages_carry_security_headers_and_a_matching_nonce(db: &Db) {
    let res = support::response(db, support::get("/clusters", None)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let h = res.headers().clone();
    assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(h[header::REFERRER_POLICY], "same-origin");
    assert!(h.get("x-request-id").is_some());
    assert!(
        h.get(app::NONCE_HEADER).is_none(),
        "the internal nonce header never leaves the server"
    );
    let csp = h[header::CONTENT_SECURITY_POLICY].to_str().expect("ascii");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("page CSP has a nonce");
    let html = support::text(res).await;
    let scripts = html.matches("<script").count();
    assert!(scripts >= 1, "the page has its hydration script");
    assert_eq!(
        html.matches(&format!("nonce=\"{nonce}\"")).count(),
        scripts,
        "every inline script carries the CSP nonce"
    );
    assert!(
        html.contains("<title>Clusters · Portolan</title>"),
        "{html}"
    );
    assert!(
        html.contains("aria-current=\"page\""),
        "the current section is marked in the navigation"
    );
}

async fn nonces_differ_between_requests(db: &Db) {
    let a = support::response(db, support::get("/", None))
        .await
        .headers()[header::CONTENT_SECURITY_POLICY]
        .clone();
    let b = support::response(db, support::get("/", None))
        .await
        .headers()[header::CONTENT_SECURITY_POLICY]
        .clone();
    assert_ne!(a, b);
}

async fn unknown_paths_get_the_404_page(db: &Db) {
    let res = support::response(db, support::get("/no/such/page", None)).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let html = support::text(res).await;
    assert!(html.contains("Page not found"), "{html}");
    assert!(
        html.contains("class=\"sidenav\""),
        "the 404 page keeps the portal frame"
    );
}

async fn theme_cookie_sets_the_document_theme(db: &Db) {
    let req = Request::get("/")
        .header(header::COOKIE, "portolan_theme=dark")
        .body(Body::empty())
        .expect("req");
    let html = support::text(support::response(db, req).await).await;
    assert!(
        html.contains("<html lang=\"en\" data-theme=\"dark\">"),
        "{}",
        &html[..200]
    );
    assert!(
        html.contains("value=\"dark\" aria-pressed=\"true\""),
        "the menu shows the choice"
    );
}

async fn theme_server_function_sets_the_cookie(db: &Db) {
    let res = support::response(db, theme_post(Some("http://127.0.0.1:3000"), "theme=dark")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res.headers()[header::SET_COOKIE]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(cookie.starts_with("portolan_theme=dark;"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
}

async fn theme_without_javascript_redirects_back(db: &Db) {
    let req = Request::post("/api/theme")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "text/html")
        .header(header::REFERER, "http://127.0.0.1:3000/activity")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from("theme=light"))
        .expect("req");
    let res = support::response(db, req).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert!(
        res.headers()[header::LOCATION]
            .to_str()
            .expect("ascii")
            .contains("/activity")
    );
    assert!(
        res.headers()[header::SET_COOKIE]
            .to_str()
            .expect("ascii")
            .starts_with("portolan_theme=light;")
    );
}

async fn bad_theme_is_a_clear_400_that_changes_nothing(db: &Db) {
    let res = support::response(db, theme_post(None, "theme=purple")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.headers().get(header::SET_COOKIE).is_none());
    let body = support::text(res).await;
    assert!(body.contains("unknown variant `purple`"), "{body}");
}

async fn cross_origin_writes_are_refused(db: &Db) {
    let res = support::response(db, theme_post(Some("https://evil.example"), "theme=dark")).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(
        res.headers().get(header::SET_COOKIE).is_none(),
        "nothing was changed"
    );

    let req = Request::post("/api/theme")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .body(Body::from("theme=dark"))
        .expect("req");
    assert_eq!(
        support::response(db, req).await.status(),
        StatusCode::FORBIDDEN
    );
}

async fn oversized_bodies_are_refused(db: &Db) {
    let big = "theme=".to_string() + &"x".repeat(server::http::BODY_LIMIT_BYTES + 1);
    let req = Request::post("/api/theme")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::CONTENT_LENGTH, big.len())
        .body(Body::from(big))
        .expect("req");
    assert_eq!(
        support::response(db, req).await.status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
}

async fn pages_are_compressed(db: &Db) {
    let req = Request::get("/")
        .header(header::ACCEPT_ENCODING, "gzip")
        .body(Body::empty())
        .expect("req");
    let res = support::response(db, req).await;
    assert_eq!(res.headers()[header::CONTENT_ENCODING], "gzip");
}

async fn activity_lists_the_audit_log(db: &Db) {
    let html = support::text(support::response(db, support::get("/activity", None)).await).await;
    assert!(
        html.contains("Sign in to see this"),
        "anonymous callers are asked to sign in"
    );

    audit::append(
        db,
        &NewEntry {
            at_ms: 1_795_000_000_000,
            actor_subject: "u-42".into(),
            actor_name: "Grace <Operator>".into(),
            actor_groups: vec![],
            action: "pool.scale".into(),
            target: "cluster/default/prod-eu".into(),
            parameters: json!({}),
            outcome: Outcome::Denied,
            reason: Some("needs operator".into()),
            request_id: "r-1".into(),
            client_addr: None,
        },
    )
    .await
    .expect("append");
    let anonymous =
        support::text(support::response(db, support::get("/activity", None)).await).await;
    assert!(anonymous.contains("Sign in to see this"), "{anonymous}");
    assert!(
        !anonymous.contains("pool.scale"),
        "nothing leaks to anonymous callers"
    );
    assert_eq!(
        support::response(db, support::get("/api/activity/search", None))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let viewer = support::dev_session(db, "viewer").await;
    let html =
        support::text(support::response(db, support::get("/activity", Some(&viewer))).await).await;
    assert!(html.contains("2026-11-18T11:06:40Z"), "{html}");
    assert!(html.contains("Grace &lt;Operator&gt;"), "names are escaped");
    assert!(html.contains("pool.scale"));
    assert!(html.contains("badge badge-denied"));

    let res = support::response(db, support::get("/api/activity/search", Some(&viewer))).await;
    assert_eq!(res.status(), StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&support::text(res).await).expect("json");
    assert_eq!(
        json["entries"][0]["action"], "sign-in",
        "the viewer's own sign-in is the newest entry"
    );
    assert_eq!(json["entries"][1]["action"], "pool.scale");

    // Filters: by result, by time range; bad filters are a clear 400.
    let res = support::response(
        db,
        support::get("/api/activity/search?result=denied", Some(&viewer)),
    )
    .await;
    let json: serde_json::Value = serde_json::from_str(&support::text(res).await).expect("json");
    assert_eq!(json["entries"].as_array().map(Vec::len), Some(1));
    assert_eq!(json["entries"][0]["reason"], "needs operator");
    let res = support::response(
        db,
        support::get(
            "/api/activity/search?from=2026-11-18&to=2026-11-18",
            Some(&viewer),
        ),
    )
    .await;
    let json: serde_json::Value = serde_json::from_str(&support::text(res).await).expect("json");
    assert_eq!(json["entries"].as_array().map(Vec::len), Some(1), "{json}");
    let res = support::response(
        db,
        support::get("/api/activity/search?from=yesterday", Some(&viewer)),
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(support::text(res).await.contains("YYYY-MM-DD"));
}

async fn activity_pages_through_the_log(db: &Db) {
    for i in 0..120 {
        audit::append(
            db,
            &NewEntry {
                at_ms: 1_795_000_000_000 + i,
                actor_subject: format!("user-{i}"),
                actor_name: format!("User {i}"),
                actor_groups: vec![],
                action: "pool.scale".into(),
                target: "cluster/default/prod".into(),
                parameters: json!({}),
                outcome: Outcome::Accepted,
                reason: None,
                request_id: format!("r{i}"),
                client_addr: Some("192.0.2.7".into()),
            },
        )
        .await
        .expect("append");
    }
    let viewer = support::dev_session(db, "viewer").await;
    let mut seen = Vec::new();
    let mut path = "/api/activity/search?action=pool.scale&cluster=default/prod".to_string();
    loop {
        let res = support::response(db, support::get(&path, Some(&viewer))).await;
        assert_eq!(res.status(), StatusCode::OK);
        let json: serde_json::Value =
            serde_json::from_str(&support::text(res).await).expect("json");
        let entries = json["entries"].as_array().expect("entries");
        assert!(entries.len() <= 50);
        seen.extend(
            entries
                .iter()
                .map(|e| e["actor"].as_str().unwrap_or("").to_string()),
        );
        assert_eq!(entries[0]["client_addr"], "192.0.2.7");
        match json["next"].as_str() {
            Some(next) => {
                path = format!(
                    "/api/activity/search?action=pool.scale&cluster=default/prod&before={next}"
                )
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), 120, "every entry once");
    assert_eq!(seen[0], "User 119", "newest first");
    assert_eq!(seen[119], "User 0");

    // The page shows the filters it was given and links to the next page.
    let html = support::text(
        support::response(
            db,
            support::get("/activity?action=pool.scale", Some(&viewer)),
        )
        .await,
    )
    .await;
    assert!(html.contains("Older entries"), "a next-page link");
    assert!(
        html.contains("/activity/export.csv?action=pool.scale"),
        "exports keep the filters"
    );
}

async fn a_failing_database_shows_an_error_without_internals(db: &Db) {
    let viewer = support::dev_session(db, "viewer").await;
    execute_raw(db, "DROP TABLE audit_log").await.expect("drop");
    let html =
        support::text(support::response(db, support::get("/activity", Some(&viewer))).await).await;
    assert!(html.contains("This could not be loaded"), "{html}");
    assert!(
        html.contains("request id"),
        "the message names the request id to look up"
    );
    assert!(
        !html.to_lowercase().contains("no such table"),
        "no SQL details leak"
    );
    assert!(!html.contains("relation"), "no SQL details leak");

    let res = support::response(db, support::get("/api/activity/search", Some(&viewer))).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!support::text(res).await.contains("audit_log"));
}

on_both_databases!(
    activity_pages_through_the_log,
    health_endpoints_answer,
    pages_carry_security_headers_and_a_matching_nonce,
    nonces_differ_between_requests,
    unknown_paths_get_the_404_page,
    theme_cookie_sets_the_document_theme,
    theme_server_function_sets_the_cookie,
    theme_without_javascript_redirects_back,
    bad_theme_is_a_clear_400_that_changes_nothing,
    cross_origin_writes_are_refused,
    oversized_bodies_are_refused,
    pages_are_compressed,
    activity_lists_the_audit_log,
    a_failing_database_shows_an_error_without_internals,
);

#[tokio::test]
async fn event_streams_are_never_compressed() {
    let app = axum::Router::new()
        .route(
            "/events",
            axum::routing::get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/event-stream")],
                    "data: ".to_string() + &"x".repeat(4096),
                )
            }),
        )
        .route("/page", axum::routing::get(|| async { "y".repeat(4096) }))
        .layer(
            tower_http::compression::CompressionLayer::new()
                .compress_when(server::http::compressible()),
        );
    let req = |p: &str| {
        Request::get(p)
            .header(header::ACCEPT_ENCODING, "gzip")
            .body(Body::empty())
            .expect("req")
    };
    let events = app
        .clone()
        .oneshot(req("/events"))
        .await
        .expect("infallible");
    assert!(events.headers().get(header::CONTENT_ENCODING).is_none());
    let page = app.oneshot(req("/page")).await.expect("infallible");
    assert_eq!(
        page.headers()[header::CONTENT_ENCODING],
        "gzip",
        "the same layer does compress other responses"
    );
}

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish() {
    let app = axum::Router::new().route(
        "/slow",
        axum::routing::get(|| async {
            tokio::time::sleep(Duration::from_millis(600)).await;
            "finished"
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(server::http::serve(
        listener,
        app,
        async move {
            let _ = stop_rx.await;
        },
        Duration::from_secs(10),
        Duration::from_secs(30),
    ));

    let request = tokio::spawn(support::http_get(addr, "/slow"));
    tokio::time::sleep(Duration::from_millis(150)).await;
    stop_tx.send(()).expect("server is running");
    let (status, body) = request
        .await
        .expect("join")
        .expect("the in-flight request completes");
    assert_eq!(status, 200);
    assert_eq!(body, "finished");
    server.await.expect("join").expect("clean stop");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no new connections after shutdown"
    );
}

/// Pages and static files served at the same time each keep their own headers: a page always has
/// its CSP nonce, a file never has one. (leptos_axum's file handler used to move a concurrently
/// rendering page's headers onto the file, and the page then could not hydrate.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_pages_and_files_keep_their_own_headers() {
    let t = support::sqlite().await;
    let site = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(site.path().join("pkg")).expect("pkg dir");
    std::fs::write(site.path().join("pkg/portolan.css"), "body{}").expect("css");
    let site_root = site.path().display().to_string();
    let config = support::config(&["--site-root", &site_root]);
    let app = server::http::router(
        server::app_state(
            &config,
            t.db.clone(),
            "127.0.0.1:3000".parse().expect("addr"),
        )
        .expect("valid configuration"),
    );
    let mut tasks = Vec::new();
    for i in 0..120 {
        let app = app.clone();
        let path = ["/", "/pkg/portolan.css", "/no/such/page"][i % 3];
        tasks.push(tokio::spawn(async move {
            let res = app
                .oneshot(support::get(path, None))
                .await
                .expect("response");
            let csp = res
                .headers()
                .get(header::CONTENT_SECURITY_POLICY)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            (path, res.status(), csp)
        }));
    }
    for task in tasks {
        let (path, status, csp) = task.await.expect("task");
        if path == "/pkg/portolan.css" {
            assert_eq!(status, StatusCode::OK);
            assert!(!csp.contains("'nonce-"), "a file got a page's nonce: {csp}");
        } else {
            assert!(
                csp.contains("'nonce-"),
                "{path} ({status}) lost its nonce: {csp}"
            );
        }
    }
}
