//! Adding and deleting node pools (admins), against kubesim validating with the official Cluster
//! API CRDs: a pool added joins its nodes and a pool deleted drains them, each followed as an
//! operation; the last system pool stays; a pool that runs pods is deleted only once moving them
//! is confirmed; bad input changes nothing and is recorded.

mod support;

use serde_json::{Value, json};
use server::store::audit::Outcome;
use support::ops::{ended, form, listed, recorded, schema_problems, topology};

/// A delete form's fields, the status it gets and the body.
type DeleteCase = ([(&'static str, &'static str); 2], u16, Value);

fn sim_options() -> kubesim::SimOptions {
    kubesim::SimOptions {
        demo: true,
        speed: 60.0,
        crd_dir: Some(support::capi_crds()),
        ..kubesim::SimOptions::default()
    }
}

async fn post(
    app: &axum::Router,
    cookie: &str,
    path: &str,
    cluster: &str,
    fields: &[(&str, &str)],
) -> (u16, Value) {
    let mut all = vec![("namespace", "default"), ("name", cluster)];
    all.extend_from_slice(fields);
    let (status, json) = support::call(app, cookie, path, Some(&form(&all))).await;
    (status.as_u16(), json)
}

fn pool_names(topology: &Value) -> Vec<String> {
    topology["workers"]["machineDeployments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["name"].as_str().map(String::from))
        .collect()
}

/// The Node pools tab once every pool of `cluster` has its nodes Ready.
async fn settled_tab(app: &axum::Router, cookie: &str, cluster: &str) -> Value {
    let path = format!("/api/clusters/pools?namespace=default&name={cluster}");
    support::until(&format!("{cluster}'s pools settle"), 120, async || {
        let (status, tab) = support::call(app, cookie, &path, None).await;
        let settled = status == 200
            && tab["pools"].as_array().is_some_and(|p| {
                !p.is_empty()
                    && p.iter()
                        .all(|p| p["ready"] == p["desired"] && p["running"].is_null())
            });
        settled.then_some(tab)
    })
    .await
}

#[tokio::test]
async fn an_admin_adds_a_pool_and_deletes_it_again() {
    let db = support::sqlite().await;
    let (app, _sim, management) = support::portal_on(&db.db, &[], sim_options()).await;
    let admin = support::dev_session(&db.db, "admin").await;
    let tab = settled_tab(&app, &admin, "staging-eus").await;
    let choices = &tab["add"];
    assert_eq!(choices["full"], Value::Null);
    assert!(
        choices["vm_sizes"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s[0] == "Standard_D2s_v5")),
        "{choices}"
    );

    let add = [
        ("key", "add-batch"),
        ("pool", "batch"),
        ("mode", "user"),
        ("vm_size", "Standard_D2s_v5"),
        ("count", "2"),
    ];
    let (status, json) = post(&app, &admin, "/api/clusters/add_pool", "staging-eus", &add).await;
    assert_eq!(status, 200, "{json}");
    let t = topology(&management, "staging-eus").await;
    assert_eq!(pool_names(&t), ["general", "batch"]);
    assert_eq!(t["workers"]["machineDeployments"][1]["replicas"], 2);
    assert_eq!(
        schema_problems(&management, "staging-eus").await,
        Vec::<String>::new()
    );
    // The same form again starts nothing new.
    let (status, _) = post(&app, &admin, "/api/clusters/add_pool", "staging-eus", &add).await;
    assert_eq!(status, 200);
    let ops = listed(&app, &admin, "kind=add-pool").await;
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert_eq!(ops[0]["what"], "Add pool batch with 2 nodes");
    let op = ended(&app, &admin, ops[0]["id"].as_str().expect("id"), 120).await;
    assert_eq!(op["status"], "Succeeded", "{op}");
    assert_eq!(op["message"], "pool batch: all 2 nodes Ready");

    // The new pool may go; the cluster's only system pool may not.
    let tab = settled_tab(&app, &admin, "staging-eus").await;
    let row = |name: &str| {
        tab["pools"]
            .as_array()
            .and_then(|p| p.iter().find(|p| p["name"] == name).cloned())
            .expect("pool")
    };
    assert_eq!(row("batch")["keep"], Value::Null);
    assert_eq!(
        row("general")["keep"],
        "pool general is the cluster's last system pool: its system pods run there. Add another system pool first"
    );
    let delete = [
        ("pool", "batch"),
        ("was", "2"),
        ("key", "delete-batch"),
        ("confirm", "yes"),
    ];
    let (status, json) = post(
        &app,
        &admin,
        "/api/clusters/delete_pool",
        "staging-eus",
        &delete,
    )
    .await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(
        pool_names(&topology(&management, "staging-eus").await),
        ["general"]
    );
    assert_eq!(
        schema_problems(&management, "staging-eus").await,
        Vec::<String>::new()
    );
    let id = listed(&app, &admin, "kind=delete-pool").await[0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let op = ended(&app, &admin, &id, 120).await;
    assert_eq!(op["status"], "Succeeded", "{op}");
    assert_eq!(op["what"], "Delete pool batch");
    assert_eq!(op["message"], "pool batch and its nodes are gone");
    let removed = op["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter(|s| s["state"] == "Removed")
        .count();
    assert_eq!(removed, 2, "{op}");

    let added = recorded(&db.db, "add-pool").await;
    let deleted = recorded(&db.db, "delete-pool").await;
    assert_eq!(
        (added.len(), added[0].0, deleted.len(), deleted[0].0),
        (1, Outcome::Accepted, 1, Outcome::Accepted)
    );
}

#[tokio::test]
async fn a_pool_with_pods_is_deleted_only_once_moving_them_is_confirmed() {
    let db = support::sqlite().await;
    let (app, _sim, management) = support::portal_on(&db.db, &[], sim_options()).await;
    let admin = support::dev_session(&db.db, "admin").await;
    // prod-weu's apps pool runs the shop's and the payments' pods.
    let tab = settled_tab(&app, &admin, "prod-weu").await;
    let apps = tab["pools"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "apps").cloned())
        .expect("apps");
    let was = apps["sizing"].as_str().expect("sizing").to_string();
    let (status, json) = post(
        &app,
        &admin,
        "/api/clusters/delete_pool",
        "prod-weu",
        &[("pool", "apps"), ("was", &was), ("key", "apps")],
    )
    .await;
    assert_eq!(status, 400, "{json}");
    let message = json["BadRequest"].as_str().expect("message");
    assert!(
        message.starts_with("deleting pool apps needs confirming: ")
            && message.contains(" pods run on pool apps: they would move to pool system — ")
            && message.ends_with(". Tick \"Delete pool apps and move its pods\" and delete again"),
        "{message}"
    );
    assert_eq!(
        pool_names(&topology(&management, "prod-weu").await),
        ["system", "apps"]
    );
    assert_eq!(listed(&app, &admin, "").await, Vec::<Value>::new());

    let (status, json) = post(
        &app,
        &admin,
        "/api/clusters/delete_pool",
        "prod-weu",
        &[
            ("pool", "apps"),
            ("was", &was),
            ("key", "apps2"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(
        pool_names(&topology(&management, "prod-weu").await),
        ["system"]
    );
}

#[tokio::test]
async fn bad_pool_input_is_refused_with_a_message_changes_nothing_and_is_recorded() {
    let db = support::sqlite().await;
    let (app, _sim, management) = support::portal_on(&db.db, &[], sim_options()).await;
    let admin = support::dev_session(&db.db, "admin").await;
    let operator = support::dev_session(&db.db, "operator").await;
    settled_tab(&app, &admin, "staging-eus").await;
    let adds: Vec<([(&str, &str); 4], &str)> = vec![
        (
            [
                ("pool", "Bad-Name"),
                ("mode", "user"),
                ("vm_size", "Standard_D2s_v5"),
                ("count", "1"),
            ],
            "New pool: Pool name must be 1–12 lowercase letters or digits, starting with a letter.",
        ),
        (
            [
                ("pool", "general"),
                ("mode", "user"),
                ("vm_size", "Standard_D2s_v5"),
                ("count", "1"),
            ],
            "New pool: Pool name \"general\" is used by another pool.",
        ),
        (
            [
                ("pool", "batch"),
                ("mode", "boss"),
                ("vm_size", "Standard_D2s_v5"),
                ("count", "1"),
            ],
            "New pool: Mode must be System or User.",
        ),
        (
            [
                ("pool", "batch"),
                ("mode", "user"),
                ("vm_size", "Huge"),
                ("count", "1"),
            ],
            "New pool: VM size \"Huge\" is not offered by the ClusterClass.",
        ),
        (
            [
                ("pool", "batch"),
                ("mode", "user"),
                ("vm_size", "Standard_D2s_v5"),
                ("count", "-1"),
            ],
            "New pool: Node count must be at least 0.",
        ),
        (
            [
                ("pool", "batch"),
                ("mode", "user"),
                ("vm_size", "Standard_D2s_v5"),
                ("count", "5000"),
            ],
            "New pool: Node count must be at most 1000 (the ClusterClass's limit).",
        ),
        (
            [
                ("pool", "batch"),
                ("mode", "user"),
                ("vm_size", "Standard_D2s_v5"),
                ("count", "2.5"),
            ],
            "New pool: Node count must be a whole number from 0 to 1000.",
        ),
    ];
    for (i, (fields, message)) in adds.iter().enumerate() {
        let key = format!("bad-add-{i}");
        let mut all = fields.to_vec();
        all.push(("key", &key));
        let (status, json) =
            post(&app, &admin, "/api/clusters/add_pool", "staging-eus", &all).await;
        assert_eq!(
            (status, json),
            (400, json!({"BadRequest": message})),
            "{fields:?}"
        );
    }
    let deletes: Vec<DeleteCase> = vec![
        (
            [("pool", "general"), ("was", "2")],
            400,
            json!({"BadRequest": "pool general is the cluster's last system pool: its system pods run there. Add another system pool first"}),
        ),
        (
            [("pool", "nope"), ("was", "2")],
            400,
            json!({"BadRequest": "there is no node pool \"nope\" in cluster default/staging-eus"}),
        ),
    ];
    for (fields, code, expected) in &deletes {
        let mut all = fields.to_vec();
        all.push(("confirm", "yes"));
        let (status, json) = post(
            &app,
            &admin,
            "/api/clusters/delete_pool",
            "staging-eus",
            &all,
        )
        .await;
        assert_eq!((status, &json), (*code, expected), "{fields:?}");
    }
    // Operators scale pools but do not add or delete them.
    let add = [
        ("pool", "batch"),
        ("mode", "user"),
        ("vm_size", "Standard_D2s_v5"),
        ("count", "1"),
    ];
    assert_eq!(
        post(
            &app,
            &operator,
            "/api/clusters/add_pool",
            "staging-eus",
            &add
        )
        .await
        .0,
        403
    );
    assert_eq!(
        post(
            &app,
            &operator,
            "/api/clusters/delete_pool",
            "staging-eus",
            &[("pool", "general"), ("was", "2")]
        )
        .await
        .0,
        403
    );

    assert_eq!(
        pool_names(&topology(&management, "staging-eus").await),
        ["general"]
    );
    assert_eq!(listed(&app, &admin, "").await, Vec::<Value>::new());
    // Each refusal once with its reason (the 403s are the gate's own "denied" entries).
    let failed = |log: Vec<(Outcome, Option<String>, Value)>| {
        log.into_iter()
            .filter(|(o, reason, _)| *o == Outcome::Failed && reason.is_some())
            .count()
    };
    assert_eq!(failed(recorded(&db.db, "add-pool").await), adds.len());
    assert_eq!(failed(recorded(&db.db, "delete-pool").await), deletes.len());
}
