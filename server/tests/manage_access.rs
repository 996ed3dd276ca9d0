//! Managing access through the server functions, against kubesim as the management cluster: bindings
//! are validated (clusters must exist), recorded with before/after, the last portal-wide admin
//! binding stays, and the simulator answers per cluster.

mod support;

use http::StatusCode;
use serde_json::Value;
use server::store::{Db, audit};

/// The portal over `db` with a fresh kubesim (demo fleet) as its management cluster.
async fn portal(db: &Db) -> (axum::Router, kubesim::Sim) {
    support::portal_with_kubesim(db, &[]).await
}

async fn admins_add_and_remove_bindings_with_validation(db: &Db) {
    let admin = support::dev_session(db, "admin").await;
    let (app, _sim) = portal(db).await;
    let count = |db: &Db| {
        let db = db.clone();
        async move {
            server::access::bindings::list(&db)
                .await
                .expect("list")
                .len()
        }
    };
    let start = count(db).await;

    // The overview lists bindings and the clusters a binding may name.
    let (status, overview) = support::call(&app, &admin, "/api/access/bindings", None).await;
    assert_eq!(status, StatusCode::OK, "{overview}");
    let clusters: Vec<String> = overview["clusters"]
        .as_array()
        .expect("clusters")
        .iter()
        .map(|c| {
            format!(
                "{}/{}",
                c["namespace"].as_str().unwrap_or(""),
                c["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert!(
        clusters.contains(&"default/prod-weu".to_string()),
        "{clusters:?}"
    );

    // Bad input: a clear 400 and nothing stored.
    for (form, message) in [
        (
            "kind=group&subject=payments&role=admin&cluster=default/no-such",
            "there is no cluster default/no-such",
        ),
        (
            "kind=group&subject=payments&role=superuser&cluster=",
            "is not a role",
        ),
        (
            "kind=group&subject=%3Cscript%3E&role=viewer&cluster=",
            "markup",
        ),
        (
            "kind=team&subject=payments&role=viewer&cluster=",
            "is not a subject kind",
        ),
        ("kind=group&subject=&role=viewer&cluster=", "is empty"),
    ] {
        let (status, body) =
            support::call(&app, &admin, "/api/access/bindings/add", Some(form)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{form}: {body}");
        assert!(body.to_string().contains(message), "{form}: {body}");
        assert_eq!(count(db).await, start, "{form} stored nothing");
    }

    // A binding on an existing cluster is stored and recorded with what it is.
    let (status, added) = support::call(
        &app,
        &admin,
        "/api/access/bindings/add",
        Some("kind=group&subject=payments&role=operator&cluster=default/prod-weu"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{added}");
    assert_eq!(count(db).await, start + 1);
    let (status, dup) = support::call(
        &app,
        &admin,
        "/api/access/bindings/add",
        Some("kind=group&subject=payments&role=operator&cluster=default/prod-weu"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{dup}");
    assert_eq!(count(db).await, start + 1);

    let entries = audit::recent(db, 50).await.expect("audit");
    let grant = entries
        .iter()
        .find(|e| e.entry.action == "grant-role" && e.entry.outcome == audit::Outcome::Accepted)
        .expect("the grant is recorded");
    assert_eq!(grant.entry.target, "cluster/default/prod-weu");
    assert_eq!(grant.entry.actor_name, "Ada Admin");
    assert_eq!(grant.entry.parameters["after"]["subject"], "payments");
    assert!(
        entries.iter().any(|e| e.entry.action == "grant-role"
            && e.entry.outcome == audit::Outcome::Failed
            && e.entry
                .reason
                .as_deref()
                .is_some_and(|r| r.contains("default/no-such"))),
        "refused grants are recorded with the reason"
    );

    // Removing it is recorded with what was there.
    let id = added["id"].as_i64().expect("id");
    let (status, _) = support::call(
        &app,
        &admin,
        "/api/access/bindings/remove",
        Some(&format!("id={id}")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(count(db).await, start);
    let entries = audit::recent(db, 1).await.expect("audit");
    assert_eq!(entries[0].entry.action, "revoke-role");
    assert_eq!(entries[0].entry.parameters["before"]["id"], id);
    let (status, _) = support::call(
        &app,
        &admin,
        "/api/access/bindings/remove",
        Some(&format!("id={id}")),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn the_last_portal_wide_admin_binding_cannot_be_removed(db: &Db) {
    let admin = support::dev_session(db, "admin").await;
    let (app, _sim) = portal(db).await;
    // The development admin binding lives in memory only and does not count: once the portal
    // gets an identity provider it is gone, and a stored admin binding must be left.
    let (status, added) = support::call(
        &app,
        &admin,
        "/api/access/bindings/add",
        Some("kind=group&subject=root-admins&role=admin&cluster="),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{added}");
    let admins: Vec<i64> = server::access::bindings::list(db)
        .await
        .expect("list")
        .into_iter()
        .filter(|b| b.role == app::access::model::Role::Admin && b.cluster.is_none())
        .map(|b| b.id)
        .collect();
    assert_eq!(admins.len(), 1, "root-admins is the only stored one");
    let (status, body) = support::call(
        &app,
        &admin,
        "/api/access/bindings/remove",
        Some(&format!("id={}", admins[0])),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.to_string().contains("last portal-wide admin binding"),
        "{body}"
    );
    assert!(
        server::access::bindings::list(db)
            .await
            .expect("list")
            .iter()
            .any(|b| b.id == admins[0])
    );
    let refused = audit::recent(db, 1).await.expect("audit");
    assert_eq!(refused[0].entry.action, "revoke-role");
    assert_eq!(refused[0].entry.outcome, audit::Outcome::Failed);
    // The development bindings cannot be removed at all (they are not stored).
    let (status, body) =
        support::call(&app, &admin, "/api/access/bindings/remove", Some("id=-1")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

async fn the_simulator_answers_per_cluster(db: &Db) {
    let admin = support::dev_session(db, "admin").await;
    let (app, _sim) = portal(db).await;
    // The development bindings make prod-weu-admins admins of default/prod-weu only.
    let (status, sim) = support::call(
        &app,
        &admin,
        "/api/access/simulate?kind=group&name=prod-weu-admins&groups=",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{sim}");
    let scopes = sim["scopes"].as_array().expect("scopes");
    let scope = |name: &str| {
        scopes
            .iter()
            .find(|s| s["scope"]["name"] == name)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(scopes[0]["scope"], Value::Null, "portal-wide first");
    assert_eq!(scopes[0]["role"], Value::Null, "no portal-wide role");
    assert_eq!(scope("prod-weu")["role"], "admin");
    assert!(
        scope("prod-weu")["allowed"]
            .to_string()
            .contains("delete-cluster")
    );
    assert_eq!(scope("staging-eus")["role"], Value::Null);
    assert!(
        !scope("staging-eus")["allowed"]
            .to_string()
            .contains("scale-pool")
    );

    // A user is judged by their own bindings and their groups'.
    let (_, sim) = support::call(
        &app,
        &admin,
        "/api/access/simulate?kind=user&name=someone&groups=platform-operators,%20developers",
        None,
    )
    .await;
    assert_eq!(sim["scopes"][0]["role"], "operator");
    let (status, body) = support::call(
        &app,
        &admin,
        "/api/access/simulate?kind=group&name=%20&groups=",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

/// A revoked role stops working at once, although bindings are cached for authorization.
async fn a_revoked_role_stops_working_at_once(db: &Db) {
    let admin = support::dev_session(db, "admin").await;
    let viewer = support::dev_session(db, "viewer").await;
    let (app, _sim) = portal(db).await;
    // A stored portal-wide admin binding besides the one to revoke (the last one always stays).
    let (status, _) = support::call(
        &app,
        &admin,
        "/api/access/bindings/add",
        Some("kind=group&subject=root-admins&role=admin&cluster="),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        support::call(&app, &viewer, "/api/access/bindings", None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (status, added) = support::call(
        &app,
        &admin,
        "/api/access/bindings/add",
        Some("kind=user&subject=dev-viewer&role=admin&cluster="),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{added}");
    assert_eq!(
        support::call(&app, &viewer, "/api/access/bindings", None)
            .await
            .0,
        StatusCode::OK
    );
    let id = added["id"].as_i64().expect("id");
    let (status, _) = support::call(
        &app,
        &admin,
        "/api/access/bindings/remove",
        Some(&format!("id={id}")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        support::call(&app, &viewer, "/api/access/bindings", None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
}

/// With `--impersonate` the management cluster sees the signed-in person (subject and groups);
/// without, the portal's own account.
async fn impersonation_makes_the_management_cluster_see_the_user(db: &Db) {
    let admin = support::dev_session(db, "admin").await;
    let (app, _sim) = support::portal_with_kubesim(db, &["--impersonate"]).await;
    let (status, mine) = support::call(&app, &admin, "/api/access/mine", None).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    let acting = &mine["acting_as"]["Ok"];
    assert_eq!(acting[0], "dev-admin", "{mine}");
    assert!(acting[1].to_string().contains("portolan-admins"), "{mine}");
    assert_eq!(acting[2], true);

    let (app, _sim) = portal(db).await;
    let (_, mine) = support::call(&app, &admin, "/api/access/mine", None).await;
    assert_eq!(mine["acting_as"]["Ok"][0], "kubesim-admin", "{mine}");
    assert_eq!(mine["acting_as"]["Ok"][2], false);
}

on_both_databases!(
    a_revoked_role_stops_working_at_once,
    impersonation_makes_the_management_cluster_see_the_user,
    admins_add_and_remove_bindings_with_validation,
    the_last_portal_wide_admin_binding_cannot_be_removed,
    the_simulator_answers_per_cluster,
);
