//! The authorization matrix: every server function × {anonymous, viewer, operator, admin of one
//! cluster only, admin}, called directly (no UI), on SQLite and PostgreSQL. A denied call must change
//! nothing; a server function missing from the matrix fails.

mod support;

use axum::body::Body;
use http::{Request, StatusCode, header};
use server::store::{Db, audit};
use tower::ServiceExt;

/// Callers, in this order: anonymous, viewer, operator, admin of `default/prod-weu` only, admin.
const CALLERS: [Option<&str>; 5] = [
    None,
    Some("viewer"),
    Some("operator"),
    Some("cluster-admin"),
    Some("admin"),
];

/// One server function: its path, a valid body for POSTs (`{removable}` becomes the id of a
/// binding made for the entry), who may call it, and whether what it names exists (a caller who
/// may ask about something missing gets 404; one who may not gets 401 or 403 first).
struct Entry {
    path: &'static str,
    body: &'static str,
    allowed: [bool; 5],
    exists: bool,
}

const MATRIX: &[Entry] = &[
    Entry {
        path: "/api/activity/search",
        body: "",
        allowed: [false, true, true, true, true],
        exists: true,
    },
    // Any signed-in person may see their own access.
    Entry {
        path: "/api/access/mine",
        body: "",
        allowed: [false, true, true, true, true],
        exists: true,
    },
    // Managing access is portal-wide: an admin of one cluster may not, and a viewer cannot grant
    // themselves a role.
    Entry {
        path: "/api/access/bindings",
        body: "",
        allowed: [false, false, false, false, true],
        exists: true,
    },
    Entry {
        path: "/api/access/bindings/add",
        body: "kind=user&subject=dev-viewer&role=admin&cluster=",
        allowed: [false, false, false, false, true],
        exists: true,
    },
    Entry {
        path: "/api/access/bindings/remove",
        body: "id={removable}",
        allowed: [false, false, false, false, true],
        exists: true,
    },
    Entry {
        path: "/api/access/simulate?kind=group&name=developers&groups=",
        body: "",
        allowed: [false, false, false, false, true],
        exists: true,
    },
    // Every viewer may look at clusters (Cora, admin of prod-weu only, at prod-weu).
    Entry {
        path: "/api/clusters/fleet",
        body: "",
        allowed: [false, true, true, true, true],
        exists: true,
    },
    // Tags: admins of the cluster (Cora at prod-weu), saved unchanged so each call succeeds.
    Entry {
        path: "/api/clusters/tags",
        body: "namespace=default&name=prod-weu&was=team%3Dpayments&tags=team%3Dpayments",
        allowed: [false, false, false, true, true],
        exists: true,
    },
    // Creating clusters is portal-wide: an admin of one cluster may not.
    Entry {
        path: "/api/clusters/wizard?step=basics",
        body: "",
        allowed: [false, false, false, false, true],
        exists: true,
    },
    Entry {
        path: "/api/clusters/name-check?namespace=default&name=new-one",
        body: "",
        allowed: [false, false, false, false, true],
        exists: true,
    },
    // Deleting: admins of the cluster; the delete itself names a cluster that does not exist.
    Entry {
        path: "/api/clusters/deletion?namespace=default&name=prod-weu",
        body: "",
        allowed: [false, false, false, true, true],
        exists: true,
    },
    Entry {
        path: "/api/clusters/delete",
        body: "namespace=default&name=no-such-cluster&confirm=no-such-cluster",
        allowed: [false, false, false, false, true],
        exists: false,
    },
    Entry {
        path: "/api/clusters/overview?namespace=default&name=prod-weu",
        body: "",
        allowed: [false, true, true, true, true],
        exists: true,
    },
    Entry {
        path: "/api/clusters/pools?namespace=default&name=prod-weu",
        body: "",
        allowed: [false, true, true, true, true],
        exists: true,
    },
    Entry {
        path: "/api/clusters/nodes?namespace=default&name=prod-weu",
        body: "",
        allowed: [false, true, true, true, true],
        exists: true,
    },
    Entry {
        path: "/api/clusters/node?namespace=default&name=prod-weu&node=no-such-node",
        body: "",
        allowed: [false, true, true, true, true],
        exists: false,
    },
    Entry {
        path: "/api/clusters/pods?namespace=default&name=prod-weu&phase=Running",
        body: "",
        allowed: [false, true, true, true, true],
        exists: true,
    },
    Entry {
        path: "/api/clusters/pod?namespace=default&name=prod-weu&pod_namespace=shop&pod=no-such-pod",
        body: "",
        allowed: [false, true, true, true, true],
        exists: false,
    },
    Entry {
        path: "/api/clusters/events?namespace=default&name=prod-weu",
        body: "",
        allowed: [false, true, true, true, true],
        exists: true,
    },
    Entry {
        path: "/api/clusters/logs?namespace=default&name=prod-weu&pod_namespace=shop&pod=no-such-pod",
        body: "",
        allowed: [false, true, true, true, true],
        exists: false,
    },
    // Charts follow the clusters: every viewer of the cluster.
    Entry {
        path: "/api/metrics/charts?namespace=default&name=prod-weu&charts=cpu,top-memory&range=15m",
        body: "",
        allowed: [false, true, true, true, true],
        exists: true,
    },
    // Dashboards: everyone views (each sees the clusters their roles reach); operators
    // portal-wide manage them ("matrix" is made before the calls).
    Entry {
        path: "/api/dashboards/list",
        body: "",
        allowed: [false, true, true, true, true],
        exists: true,
    },
    Entry {
        path: "/api/dashboards/get?slug=no-such-dashboard",
        body: "",
        allowed: [false, true, true, true, true],
        exists: false,
    },
    Entry {
        path: "/api/dashboards/save",
        body: "slug=matrix&name=Matrix&selector=team%3Dpayments&panel_health=on",
        allowed: [false, false, true, false, true],
        exists: true,
    },
    Entry {
        path: "/api/dashboards/delete",
        body: "slug=no-such-dashboard",
        allowed: [false, false, true, false, true],
        exists: false,
    },
    // Scaling pools: operators of the cluster (Cora is admin of prod-weu only).
    Entry {
        path: "/api/clusters/scale",
        body: "namespace=default&name=no-such-cluster&pool=apps&was=3&key=matrix&count=4",
        allowed: [false, false, true, false, true],
        exists: false,
    },
    Entry {
        path: "/api/clusters/autoscale",
        body: "namespace=default&name=no-such-cluster&pool=apps&was=3&key=matrix&go=on&min=2&max=5",
        allowed: [false, false, true, false, true],
        exists: false,
    },
    // Adding and deleting pools: admins of the cluster.
    Entry {
        path: "/api/clusters/add_pool",
        body: "namespace=default&name=no-such-cluster&key=matrix&pool=batch&mode=user&vm_size=Standard_D2s_v5&count=1",
        allowed: [false, false, false, false, true],
        exists: false,
    },
    Entry {
        path: "/api/clusters/delete_pool",
        body: "namespace=default&name=no-such-cluster&pool=apps&was=3&key=matrix",
        allowed: [false, false, false, false, true],
        exists: false,
    },
    // Upgrades: every viewer of the cluster sees the versions; operators of it start one.
    Entry {
        path: "/api/upgrades/view?namespace=default&name=prod-weu",
        body: "",
        allowed: [false, true, true, true, true],
        exists: true,
    },
    Entry {
        path: "/api/upgrades/start",
        body: "namespace=default&name=no-such-cluster&to=v1.34.2&scope=all&was=x&key=matrix",
        allowed: [false, false, true, false, true],
        exists: false,
    },
    // Operations: every viewer, each seeing those on clusters their roles reach.
    Entry {
        path: "/api/operations/list",
        body: "",
        allowed: [false, true, true, true, true],
        exists: true,
    },
    Entry {
        path: "/api/operations/one?id=no-such-operation",
        body: "",
        allowed: [false, true, true, true, true],
        exists: false,
    },
    // Public: who is signed in (possibly nobody), and the display theme.
    Entry {
        path: "/api/auth/whoami",
        body: "",
        allowed: [true, true, true, true, true],
        exists: true,
    },
    Entry {
        path: "/api/theme",
        body: "theme=dark",
        allowed: [true, true, true, true, true],
        exists: true,
    },
];

/// The path a matrix entry calls, without its query.
fn route(path: &str) -> &str {
    path.split('?').next().unwrap_or(path)
}

/// What a denied call must leave alone: the bindings, and every audit entry except denials.
async fn state(db: &Db) -> (Vec<app::access::model::Binding>, usize) {
    let bindings = server::access::bindings::list(db).await.expect("bindings");
    let kept = audit::recent(db, 10_000)
        .await
        .expect("audit")
        .into_iter()
        .filter(|e| e.entry.outcome != audit::Outcome::Denied)
        .count();
    (bindings, kept)
}

#[test]
fn every_server_function_has_an_entry() {
    let registered: Vec<(&str, http::Method)> =
        leptos::server_fn::axum::server_fn_paths().collect();
    assert!(!registered.is_empty(), "server functions are registered");
    for (path, _) in &registered {
        assert!(
            MATRIX.iter().any(|e| route(e.path) == *path),
            "server function {path} has no entry in the authorization matrix (server/tests/authz.rs)"
        );
    }
    for e in MATRIX {
        assert!(
            registered.iter().any(|(p, _)| *p == route(e.path)),
            "{} is in the matrix but not a server function",
            e.path
        );
    }
}

async fn every_caller_gets_what_the_matrix_says(db: &Db) {
    // The cluster functions read the demo fleet: wait until prod-weu's nodes and pods are known.
    let (app, sim, _) = support::portal_at_speed(db, &[], 60.0).await;
    let admin = support::dev_session(db, "admin").await;
    let mut ready = false;
    for _ in 0..300 {
        let (status, _) = support::call(
            &app,
            &admin,
            "/api/clusters/nodes?namespace=default&name=prod-weu",
            None,
        )
        .await;
        if status == StatusCode::OK {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ready, "prod-weu's nodes became readable within 30 s");
    let registered: Vec<(&str, http::Method)> =
        leptos::server_fn::axum::server_fn_paths().collect();
    let matrix = app::dashboards::model::DashboardSpec {
        name: "Matrix".into(),
        clusters: vec![],
        selector: "team=payments".into(),
        panels: vec![app::dashboards::model::Panel::Health],
    };
    assert!(
        server::store::dashboards::create(db, "matrix", &matrix, "authz test")
            .await
            .expect("stored")
    );
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
            .find(|(p, _)| *p == route(e.path))
            .map(|(_, m)| m.clone())
            .expect("registered");
        let removable = server::access::bindings::add(
            db,
            &server::access::bindings::NewBinding::parse(
                "group",
                "matrix-removable",
                "viewer",
                "",
                "authz test",
            )
            .expect("valid binding"),
        )
        .await
        .expect("binding to remove");
        let at_start = state(db).await.0;
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
                e.body.replace("{removable}", &removable.to_string())
            } else {
                String::new()
            };
            let before = state(db).await;
            // Cluster functions need the fleet; the others get a fresh router per call, so that
            // bindings changed in the database apply at once (a router caches them for a second).
            let router = if [
                "/api/clusters/",
                "/api/metrics/",
                "/api/dashboards/",
                "/api/upgrades/",
            ]
            .iter()
            .any(|p| e.path.starts_with(p))
            {
                app.clone()
            } else {
                support::router(db)
            };
            let res = router
                .oneshot(req.body(Body::from(body)).expect("request"))
                .await
                .expect("response");
            let status = res.status();
            let who = caller.unwrap_or("anonymous");
            if e.allowed[i] && !e.exists {
                assert_eq!(status, StatusCode::NOT_FOUND, "{who} calling {}", e.path);
            } else if e.allowed[i] {
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
                assert_eq!(
                    state(db).await,
                    before,
                    "{who} was refused {} but something changed",
                    e.path
                );
            }
        }
        // Whatever the admin did (a viewer made admin, say) is undone before the next entry.
        for b in state(db).await.0 {
            if b.id == removable || !at_start.contains(&b) {
                server::access::bindings::remove(db, b.id)
                    .await
                    .expect("undo");
            }
        }
    }
    sim.stop().await;
}

/// What each caller reads back from the activity log, through the page's server function and
/// both exports: entries are marked by request id; written out by hand per caller.
async fn each_caller_reads_only_the_activity_their_role_covers(db: &Db) {
    let seeded = [
        ("seed-portal", "portal"),
        ("seed-prod", "cluster/default/prod-weu"),
        ("seed-prod-pool", "cluster/default/prod-weu/pools/system"),
        ("seed-prod-2", "cluster/default/prod-weu-2"),
        ("seed-staging", "cluster/default/staging-eus"),
    ];
    for (marker, target) in seeded {
        let origin = audit::Origin {
            subject: "someone",
            name: "Some One",
            groups: &["secret-group".to_string()],
            request_id: marker,
            client_addr: Some("198.51.100.9"),
        };
        let entry = audit::NewEntry::now(
            &origin,
            "sign-in",
            target,
            serde_json::json!({"method": "oidc"}),
            audit::Outcome::Accepted,
            None,
        );
        audit::append(db, &entry).await.expect("seeded");
    }
    const ALL: &[&str] = &[
        "seed-portal",
        "seed-prod",
        "seed-prod-pool",
        "seed-prod-2",
        "seed-staging",
    ];
    // Cora is admin of default/prod-weu only: that cluster's entries, not prod-weu-2's, not the
    // portal's sign-ins (with everyone's groups and addresses).
    let expected: [(&str, &[&str]); 4] = [
        ("viewer", ALL),
        ("operator", ALL),
        ("cluster-admin", &["seed-prod", "seed-prod-pool"]),
        ("admin", ALL),
    ];
    for (identity, visible) in expected {
        let cookie = support::dev_session(db, identity).await;
        for path in [
            "/api/activity/search",
            "/activity/export.jsonl",
            "/activity/export.csv",
        ] {
            let req = Request::get(path)
                .header(header::ACCEPT, "application/json")
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .expect("request");
            let res = support::router(db).oneshot(req).await.expect("response");
            assert_eq!(res.status(), StatusCode::OK, "{identity} {path}");
            let body = http_body_util::BodyExt::collect(res.into_body())
                .await
                .expect("body")
                .to_bytes();
            let body = String::from_utf8_lossy(&body);
            let mut seen: Vec<&str> = ALL
                .iter()
                .copied()
                .filter(|m| body.contains(&format!("{m}\"")) || body.contains(&format!(",{m},")))
                .collect();
            seen.sort();
            let mut want = visible.to_vec();
            want.sort();
            assert_eq!(seen, want, "{identity} reading {path}");
            if identity == "cluster-admin" {
                // Earlier callers' portal-wide sign-ins (with their groups and addresses) stay hidden.
                assert!(!body.contains("Vera Viewer"), "{path}: {body}");
                assert!(!body.contains("Otto Operator"), "{path}: {body}");
            }
        }
    }
}

on_both_databases!(
    every_caller_gets_what_the_matrix_says,
    each_caller_reads_only_the_activity_their_role_covers,
);
