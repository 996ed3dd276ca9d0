//! The authorization matrix: every server function × {anonymous, viewer, operator, admin}, called
//! directly (no UI), on SQLite and PostgreSQL. A server function missing from the matrix fails.

mod support;

use axum::body::Body;
use http::{Request, StatusCode, header};
use server::store::Db;
use tower::ServiceExt;

/// Callers, in this order: anonymous, viewer, operator, admin.
const CALLERS: [Option<&str>; 4] = [None, Some("viewer"), Some("operator"), Some("admin")];

/// One server function: its path, a valid body for POSTs, and who may call it.
struct Entry {
    path: &'static str,
    body: &'static str,
    allowed: [bool; 4],
}

const MATRIX: &[Entry] = &[
    Entry {
        path: "/api/activity/recent",
        body: "",
        allowed: [false, true, true, true],
    },
    // Any signed-in person may see their own access.
    Entry {
        path: "/api/access/mine",
        body: "",
        allowed: [false, true, true, true],
    },
    // Public: who is signed in (possibly nobody), and the display theme.
    Entry {
        path: "/api/auth/whoami",
        body: "",
        allowed: [true, true, true, true],
    },
    Entry {
        path: "/api/theme",
        body: "theme=dark",
        allowed: [true, true, true, true],
    },
];

#[test]
fn every_server_function_has_an_entry() {
    let registered: Vec<(&str, http::Method)> =
        leptos::server_fn::axum::server_fn_paths().collect();
    assert!(!registered.is_empty(), "server functions are registered");
    for (path, _) in &registered {
        assert!(
            MATRIX.iter().any(|e| e.path == *path),
            "server function {path} has no entry in the authorization matrix (server/tests/authz.rs)"
        );
    }
    for e in MATRIX {
        assert!(
            registered.iter().any(|(p, _)| *p == e.path),
            "{} is in the matrix but not a server function",
            e.path
        );
    }
}

async fn every_caller_gets_what_the_matrix_says(db: &Db) {
    let registered: Vec<(&str, http::Method)> =
        leptos::server_fn::axum::server_fn_paths().collect();
    let mut cookies = Vec::new();
    for caller in CALLERS {
        cookies.push(match caller {
            Some(identity) => Some(support::dev_session(db, identity).await),
            None => None,
        });
    }
    for e in MATRIX {
        let method = registered
            .iter()
            .find(|(p, _)| *p == e.path)
            .map(|(_, m)| m.clone())
            .expect("registered");
        for (i, caller) in CALLERS.iter().enumerate() {
            let mut req = Request::builder()
                .method(method.clone())
                .uri(e.path)
                .header(header::ORIGIN, "http://127.0.0.1:3000")
                .header(header::ACCEPT, "application/json")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            if let Some(c) = &cookies[i] {
                req = req.header(header::COOKIE, c);
            }
            let body = if method == http::Method::POST {
                e.body
            } else {
                ""
            };
            let res = support::router(db)
                .oneshot(req.body(Body::from(body)).expect("request"))
                .await
                .expect("response");
            let status = res.status();
            let who = caller.unwrap_or("anonymous");
            if e.allowed[i] {
                assert!(
                    status.is_success() || status.is_redirection(),
                    "{who} may call {}: got {status}",
                    e.path
                );
            } else {
                let expected = if caller.is_none() {
                    StatusCode::UNAUTHORIZED
                } else {
                    StatusCode::FORBIDDEN
                };
                assert_eq!(status, expected, "{who} calling {}", e.path);
            }
        }
    }
}

on_both_databases!(every_caller_gets_what_the_matrix_says);
