//! The creation wizard and Delete against kubesim validating with the official Cluster API CRDs:
//! every preset's Cluster is accepted and is exactly the YAML shown, bad posts are refused field by
//! field and recorded, a double Create makes one cluster, only admins may create or delete, and
//! deleting needs the typed name.

mod support;

use kube::api::Api;
use serde_json::{Value, json};

const SPEED: f64 = 60.0;

/// A portal whose management cluster is a demo kubesim that validates Clusters with the official
/// CRDs (and the ClusterClass's own rules), and a client for the test's own reads.
async fn portal(db: &server::store::Db) -> (axum::Router, kubesim::Sim, server::fleet::Management) {
    support::portal_on(
        db,
        &[],
        kubesim::SimOptions {
            demo: true,
            speed: SPEED,
            crd_dir: Some(support::capi_crds()),
            ..kubesim::SimOptions::default()
        },
    )
    .await
}

/// One step's form posted as the browser posts it: status, `Location`, body.
async fn post(
    app: &axum::Router,
    cookie: &str,
    step: &str,
    fields: &[(&str, &str)],
) -> (u16, String, String) {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        form.append_pair(k, v);
    }
    let req = http::Request::post(format!("/clusters/new?step={step}"))
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(http::header::COOKIE, cookie)
        .header(http::header::ORIGIN, "http://127.0.0.1:3000")
        .header(http::header::ACCEPT, "text/html")
        .body(axum::body::Body::from(form.finish()))
        .expect("request");
    let (status, headers, body) = support::send(app, req).await;
    let location = headers
        .get(http::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status.as_u16(), location, body)
}

/// The wizard as the page reads it (JSON), at `step`.
async fn wizard(app: &axum::Router, cookie: &str, step: &str) -> Value {
    let (status, json) = support::call(
        app,
        cookie,
        &format!("/api/clusters/wizard?step={step}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{json}");
    json
}

/// The Node pools form as the page shows it for the draft's pools (each field as it is), with
/// `change` applied to pool `i`'s fields.
fn pools_form(view: &Value, change: &[(usize, &str, &str)]) -> Vec<(String, String)> {
    let mut form = Vec::new();
    for (i, p) in view["draft"]["pools"]
        .as_array()
        .expect("pools")
        .iter()
        .enumerate()
    {
        let mut put = |f: &str, v: &str| {
            let v = change
                .iter()
                .find(|(j, g, _)| *j == i && *g == f)
                .map_or(v.to_string(), |c| c.2.to_string());
            form.push((format!("pool.{i}.{f}"), v));
        };
        for f in [
            "name", "mode", "vm_size", "os_image", "count", "min", "max", "labels", "taints",
        ] {
            put(f, p[f].as_str().unwrap_or_default());
        }
        if p["autoscale"] == true {
            put("autoscale", "on");
        }
        for z in p["zones"].as_array().into_iter().flatten() {
            form.push((
                format!("pool.{i}.zones"),
                z.as_str().unwrap_or_default().into(),
            ));
        }
    }
    form
}

async fn post_owned(
    app: &axum::Router,
    cookie: &str,
    step: &str,
    fields: &[(String, String)],
) -> (u16, String, String) {
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    post(app, cookie, step, &borrowed).await
}

/// Basics for `name` with `preset`, the default namespace, westeurope and v1.34.2.
async fn basics(app: &axum::Router, cookie: &str, name: &str, preset: &str, cp: &str) {
    let (status, to, body) = post(
        app,
        cookie,
        "basics",
        &[
            ("name", name),
            ("namespace", "default"),
            ("region", "westeurope"),
            ("version", "v1.34.2"),
            ("control_plane", cp),
            ("preset", preset),
            ("go", "next"),
        ],
    )
    .await;
    assert_eq!(
        (status, to.as_str()),
        (303, "/clusters/new?step=pools"),
        "{body}"
    );
}

/// Through every step with the draft's pools and `tags`, to Review; its view.
async fn to_review(
    app: &axum::Router,
    cookie: &str,
    name: &str,
    preset: &str,
    cp: &str,
    tags: &str,
) -> Value {
    basics(app, cookie, name, preset, cp).await;
    let view = wizard(app, cookie, "pools").await;
    let mut form = pools_form(&view, &[]);
    form.push(("go".into(), "next".into()));
    let (status, to, body) = post_owned(app, cookie, "pools", &form).await;
    assert_eq!(
        (status, to.as_str()),
        (303, "/clusters/new?step=tags"),
        "{body}"
    );
    let (status, to, _) = post(app, cookie, "tags", &[("tags", tags), ("go", "next")]).await;
    assert_eq!((status, to.as_str()), (303, "/clusters/new?step=review"));
    wizard(app, cookie, "review").await
}

#[tokio::test]
async fn every_preset_makes_the_cluster_shown_as_yaml_and_the_official_crds_accept_it() {
    let db = support::sqlite().await;
    let (app, _sim, management) = portal(&db.db).await;
    let admin = support::dev_session(&db.db, "admin").await;
    let schemas =
        kubesim::schemas::Schemas::from_crd_dir(&support::capi_crds()).expect("CRDs load");
    let clusters: Api<server::fleet::resources::Cluster> =
        Api::namespaced(management.client(), "default");

    // (preset, name, control plane, pools as (name, replicas, vmSize, autoscaler bounds), zones).
    let cases = [
        (
            "dev-test",
            "wiz-dev",
            1,
            vec![("system", 1, "Standard_D2s_v5", None)],
            json!(null),
        ),
        (
            "production",
            "wiz-prod",
            3,
            vec![
                ("system", 3, "Standard_D4s_v5", None),
                ("apps", 2, "Standard_D8s_v5", Some(("2", "6"))),
            ],
            json!(["1", "2", "3"]),
        ),
    ];
    for (preset, name, cp, pools, zones) in cases {
        let review = to_review(
            &app,
            &admin,
            name,
            preset,
            &cp.to_string(),
            "team=wizard\ncost-center=42",
        )
        .await;
        assert_eq!(review["errors"], json!([]), "{preset}");
        let yaml = review["yaml"].as_str().expect("YAML on Review");
        let shown: Value = serde_yaml::from_str(yaml).expect("YAML parses");

        // What the preset makes, written out.
        let topology = &shown["spec"]["topology"];
        assert_eq!(shown["metadata"]["name"], name);
        assert_eq!(topology["version"], "v1.34.2");
        assert_eq!(topology["controlPlane"]["replicas"], cp);
        assert_eq!(
            topology["classRef"],
            json!({"name": "managed-k8s", "namespace": "default"})
        );
        assert_eq!(
            shown["metadata"]["annotations"]["portolan.dev/tags"],
            r#"{"cost-center":"42","team":"wizard"}"#
        );
        let mds = topology["workers"]["machineDeployments"]
            .as_array()
            .expect("pools");
        assert_eq!(mds.len(), pools.len(), "{preset}");
        for (md, (pool, replicas, size, bounds)) in mds.iter().zip(&pools) {
            assert_eq!(md["name"], *pool);
            assert_eq!(md["class"], "default-worker");
            assert_eq!(md["replicas"], *replicas);
            let overrides = md["variables"]["overrides"].as_array().expect("overrides");
            assert!(
                overrides.contains(&json!({"name": "vmSize", "value": size})),
                "{md}"
            );
            assert_eq!(
                md["metadata"]["annotations"]["cluster.x-k8s.io/cluster-api-autoscaler-node-group-min-size"],
                bounds.map_or(Value::Null, |b| json!(b.0))
            );
            assert_eq!(
                md["metadata"]["annotations"]["cluster.x-k8s.io/cluster-api-autoscaler-node-group-max-size"],
                bounds.map_or(Value::Null, |b| json!(b.1))
            );
        }
        assert_eq!(
            topology["variables"]
                .as_array()
                .and_then(|v| v.iter().find(|v| v["name"] == "zones"))
                .map(|v| v["value"].clone())
                .unwrap_or(Value::Null),
            zones
        );

        // The official CRD schema finds nothing wrong with it.
        let mut causes = Vec::new();
        kubesim::validate::schema(
            schemas
                .get(kubesim::resources::id::CLUSTERS)
                .expect("Cluster schema"),
            &shown,
            "",
            &mut causes,
        );
        let problems: Vec<String> = causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect();
        assert_eq!(problems, Vec::<String>::new(), "{preset}");

        // Create: the cluster's page, and the object on the management cluster is the YAML.
        let (status, to, body) = post(&app, &admin, "review", &[("go", "create")]).await;
        assert_eq!(
            (status, to.as_str()),
            (303, format!("/clusters/default/{name}").as_str()),
            "{body}"
        );
        let created =
            serde_json::to_value(clusters.get(name).await.expect("created")).expect("json");
        assert_eq!(created["spec"], shown["spec"], "{preset}: created as shown");
        for key in ["name", "namespace", "labels", "annotations"] {
            assert_eq!(
                created["metadata"][key], shown["metadata"][key],
                "{preset}: metadata.{key}"
            );
        }
        let (status, html) = {
            let (s, _, b) = support::send(
                &app,
                support::get(&format!("/clusters/default/{name}"), Some(&admin)),
            )
            .await;
            (s.as_u16(), b)
        };
        assert_eq!(status, 200);
        assert!(
            html.contains(&format!("<h1>{name}</h1>")),
            "the new cluster's page"
        );
    }
    let log = server::store::audit::recent(&db.db, 50).await.expect("log");
    let created: Vec<&str> = log
        .iter()
        .filter(|e| {
            e.entry.action == "create-cluster"
                && e.entry.outcome == server::store::audit::Outcome::Accepted
        })
        .map(|e| e.entry.target.as_str())
        .collect();
    assert_eq!(
        created,
        ["cluster/default/wiz-prod", "cluster/default/wiz-dev"]
    );
}

#[tokio::test]
async fn bad_posts_are_refused_field_by_field_recorded_and_create_nothing() {
    let db = support::sqlite().await;
    let (app, _sim, management) = portal(&db.db).await;
    let admin = support::dev_session(&db.db, "admin").await;
    let good = [
        ("name", "wiz-bad"),
        ("namespace", "default"),
        ("region", "westeurope"),
        ("version", "v1.34.2"),
        ("control_plane", "1"),
        ("preset", "dev-test"),
        ("go", "next"),
    ];
    let with = |key: &str, value: &'static str| -> Vec<(&'static str, &'static str)> {
        good.iter()
            .map(|(k, v)| (*k, if *k == key { value } else { *v }))
            .collect()
    };
    let mut refused = 0;
    for (key, value, message) in [
        (
            "name",
            "Bad_Name",
            "Cluster name must be 1–63 lowercase letters, digits or",
        ),
        ("name", "", "Cluster name is required."),
        (
            "name",
            "prod-weu",
            "is taken: default/prod-weu exists. Choose another name.",
        ),
        (
            "namespace",
            "nope",
            "is not one of the team namespaces: default",
        ),
        (
            "region",
            "mars-north",
            "is not offered; choose one of westeurope",
        ),
        (
            "version",
            "v1.33.2",
            "is not offered for new clusters; choose one of v1.34.2, v1.33.5, v1.32.7, v1.31.8",
        ),
        (
            "control_plane",
            "2",
            "Control plane replicas must be one of 1, 3, 5",
        ),
        ("preset", "huge", "Preset must be Dev/Test or Production."),
    ] {
        let (status, to, body) = post(&app, &admin, "basics", &with(key, value)).await;
        assert_eq!((status, to.as_str()), (422, ""), "{key}={value}");
        assert!(
            body.contains(message),
            "{key}={value}: {message} not in the page"
        );
        // The page keeps what was typed.
        if key == "name" && !value.is_empty() {
            assert!(body.contains(&format!("value=\"{value}\"")), "{value} kept");
        }
        refused += 1;
    }
    // Production needs 3 control plane nodes.
    let mut production = with("preset", "production");
    production.retain(|(k, _)| *k != "control_plane");
    production.push(("control_plane", "1"));
    let (status, _, body) = post(&app, &admin, "basics", &production).await;
    assert_eq!(status, 422);
    assert!(
        body.contains("Production needs at least 3"),
        "production control plane"
    );
    refused += 1;

    basics(&app, &admin, "wiz-bad", "dev-test", "1").await;
    let view = wizard(&app, &admin, "pools").await;
    // Adding and removing pools keeps the step (and what was typed in the others).
    let mut form = pools_form(&view, &[(0, "count", "2")]);
    form.push(("go".into(), "add-pool".into()));
    let (status, to, _) = post_owned(&app, &admin, "pools", &form).await;
    assert_eq!(
        (status, to.as_str()),
        (303, "/clusters/new?step=pools#pool-1")
    );
    let two = wizard(&app, &admin, "pools").await;
    let pools = &two["draft"]["pools"];
    assert_eq!(
        (&pools[0]["count"], &pools[1]["name"], &pools[1]["mode"]),
        (&json!("2"), &json!("pool2"), &json!("user"))
    );
    let mut form = pools_form(&two, &[]);
    form.push(("go".into(), "remove-pool-1".into()));
    let (status, to, _) = post_owned(&app, &admin, "pools", &form).await;
    assert_eq!((status, to.as_str()), (303, "/clusters/new?step=pools"));
    let view = wizard(&app, &admin, "pools").await;
    assert_eq!(view["draft"]["pools"].as_array().map(Vec::len), Some(1));
    for (change, message) in [
        (
            vec![(0, "count", "-1")],
            "Pool 1: Node count must be at least 0.",
        ),
        (
            vec![(0, "count", "5000")],
            "Pool 1: Node count must be at most 1000 (the ClusterClass",
        ),
        (
            vec![(0, "count", "many")],
            "Pool 1: Node count must be a whole number from 0 to 1000.",
        ),
        (vec![(0, "vm_size", "Standard_Z99")], "Pool 1: VM size"),
        (
            vec![(0, "os_image", "windows")],
            "is not offered; choose one of ubuntu-22.04",
        ),
        (
            vec![(0, "name", "Sys Tem")],
            "Pool 1: Pool name must be 1–12 lowercase letters or digits",
        ),
        (
            vec![(0, "mode", "user")],
            "at least one pool must be a system pool",
        ),
        (
            vec![(0, "count", "0")],
            "Pool 1: a system pool needs at least 1 node.",
        ),
        (vec![(0, "taints", "gpu")], "Pool 1: Taints:"),
        (vec![(0, "labels", "bad key=x")], "Pool 1: Node labels:"),
        (
            vec![(0, "autoscale", "on"), (0, "min", "5"), (0, "max", "2")],
            "Pool 1: Minimum nodes (5) must not be more than maximum nodes (2).",
        ),
    ] {
        let mut form = pools_form(&view, &change);
        if change.iter().any(|c| c.1 == "autoscale") {
            form.push(("pool.0.autoscale".into(), "on".into()));
        }
        form.push(("go".into(), "next".into()));
        let (status, _, body) = post_owned(&app, &admin, "pools", &form).await;
        assert_eq!(status, 422, "{change:?}");
        assert!(
            body.contains(message),
            "{change:?}: {message} not in the page"
        );
        refused += 1;
    }
    let many: Vec<String> = (0..51).map(|i| format!("k{i}=v")).collect();
    let many = many.join("\n");
    for (tags, message) in [
        (many.as_str(), "too many tags: a cluster carries at most 50"),
        ("team=<b>x</b>", "markup is not a tag value"),
        ("team=a\u{7}b", "has a control character"),
    ] {
        let (status, _, body) = post(&app, &admin, "tags", &[("tags", tags), ("go", "next")]).await;
        assert_eq!(status, 422, "{tags}");
        assert!(body.contains(message), "{tags}: {message}");
        refused += 1;
    }
    // A hand-made Create with the bad draft as it stands: refused, field by field.
    let (status, _, body) = post(&app, &admin, "review", &[("go", "create")]).await;
    assert_eq!(status, 422);
    assert!(
        body.contains("Validation failed"),
        "review lists the problems"
    );
    refused += 1;

    let clusters = server::fleet::clusters::names(&management)
        .await
        .expect("names");
    assert!(
        !clusters.iter().any(|c| c.name == "wiz-bad"),
        "nothing created"
    );
    let log = server::store::audit::recent(&db.db, 100)
        .await
        .expect("log");
    let failed = log
        .iter()
        .filter(|e| {
            e.entry.action == "create-cluster"
                && e.entry.outcome == server::store::audit::Outcome::Failed
        })
        .count();
    assert_eq!(failed, refused, "every refused post is in the activity log");
}

#[tokio::test]
async fn a_double_create_makes_one_cluster_and_only_admins_may_create() {
    let db = support::sqlite().await;
    let (app, _sim, management) = portal(&db.db).await;
    let admin = support::dev_session(&db.db, "admin").await;
    let review = to_review(&app, &admin, "wiz-twice", "dev-test", "1", "").await;
    assert_eq!(review["errors"], json!([]));
    let (a, b) = tokio::join!(
        post(&app, &admin, "review", &[("go", "create")]),
        post(&app, &admin, "review", &[("go", "create")]),
    );
    for (status, to, body) in [a, b] {
        assert_eq!(
            (status, to.as_str()),
            (303, "/clusters/default/wiz-twice"),
            "{body}"
        );
    }
    let (status, to, _) = post(&app, &admin, "review", &[("go", "create")]).await;
    assert_eq!(
        (status, to.as_str()),
        (303, "/clusters/default/wiz-twice"),
        "a third click too"
    );
    let names = server::fleet::clusters::names(&management)
        .await
        .expect("names");
    assert_eq!(names.iter().filter(|c| c.name == "wiz-twice").count(), 1);
    let log = server::store::audit::recent(&db.db, 50).await.expect("log");
    let created = log
        .iter()
        .filter(|e| {
            e.entry.action == "create-cluster"
                && e.entry.outcome == server::store::audit::Outcome::Accepted
        })
        .count();
    assert_eq!(created, 1, "one creation recorded");
    // A new wizard starts from scratch once the draft is created.
    let fresh = wizard(&app, &admin, "basics").await;
    assert_eq!(fresh["draft"]["name"], "");

    let (_, _, fleet) = support::send(&app, support::get("/clusters", Some(&admin))).await;
    assert!(
        fleet.contains(r#"href="/clusters/new""#),
        "admins get the Create cluster link"
    );
    for identity in ["operator", "viewer", "cluster-admin"] {
        let cookie = support::dev_session(&db.db, identity).await;
        let (status, _) =
            support::call(&app, &cookie, "/api/clusters/wizard?step=basics", None).await;
        assert_eq!(status, 403, "{identity} reads no wizard");
        let (status, _, _) = post(
            &app,
            &cookie,
            "basics",
            &[
                ("name", "sneaky"),
                ("namespace", "default"),
                ("region", "westeurope"),
                ("version", "v1.34.2"),
                ("control_plane", "1"),
                ("preset", "dev-test"),
                ("go", "next"),
            ],
        )
        .await;
        assert_eq!(status, 403, "{identity} may not post a step");
        let (status, _, _) = post(&app, &cookie, "review", &[("go", "create")]).await;
        assert_eq!(status, 403, "{identity} may not create");
        let (_, _, fleet) = support::send(&app, support::get("/clusters", Some(&cookie))).await;
        assert!(
            !fleet.contains(r#"href="/clusters/new""#),
            "{identity} has no Create link"
        );
        assert!(
            fleet.contains("Creating clusters needs the portal-wide admin role."),
            "{identity} sees why"
        );
    }
    let names = server::fleet::clusters::names(&management)
        .await
        .expect("names");
    assert!(!names.iter().any(|c| c.name == "sneaky"));
}

#[tokio::test]
async fn deleting_needs_the_typed_name_and_admins_and_is_followed_until_gone() {
    let db = support::sqlite().await;
    let (app, _sim, management) = portal(&db.db).await;
    let admin = support::dev_session(&db.db, "admin").await;
    let viewer = support::dev_session(&db.db, "viewer").await;
    let operator = support::dev_session(&db.db, "operator").await;
    let view = support::until("staging-eus is listed", 30, async || {
        let (status, json) = support::call(
            &app,
            &admin,
            "/api/clusters/deletion?namespace=default&name=staging-eus",
            None,
        )
        .await;
        (status == 200 && json["gone"] == false).then_some(json)
    })
    .await;
    assert_eq!(view["deleting"], false);
    assert_eq!(view["pools"], json!([["general", "2 nodes"]]));
    let delete = async |cookie: &str, confirm: &str| {
        let form = format!("namespace=default&name=staging-eus&confirm={confirm}");
        support::call(&app, cookie, "/api/clusters/delete", Some(&form)).await
    };
    for cookie in [&viewer, &operator] {
        let (status, _) = delete(cookie, "staging-eus").await;
        assert_eq!(status, 403);
    }
    let (status, json) = delete(&admin, "staging").await;
    assert_eq!(status, 400);
    assert_eq!(
        json["BadRequest"],
        "Type the cluster's name, staging-eus, to confirm: nothing was deleted."
    );
    let still = server::fleet::clusters::get(
        &management,
        &app::access::model::ClusterRef::new("default", "staging-eus"),
    )
    .await
    .expect("read")
    .expect("still there");
    assert!(
        still.metadata.deletion_timestamp.is_none(),
        "nothing deleted"
    );

    let (status, json) = delete(&admin, "staging-eus").await;
    assert_eq!(status, 200, "{json}");
    support::until("staging-eus is gone", 60, async || {
        let (_, json) = support::call(
            &app,
            &admin,
            "/api/clusters/deletion?namespace=default&name=staging-eus",
            None,
        )
        .await;
        (json["gone"] == true).then_some(())
    })
    .await;
    let names = server::fleet::clusters::names(&management)
        .await
        .expect("names");
    assert!(!names.iter().any(|c| c.name == "staging-eus"));
    let log = server::store::audit::recent(&db.db, 50).await.expect("log");
    let outcomes: Vec<(&str, server::store::audit::Outcome)> = log
        .iter()
        .filter(|e| e.entry.action == "delete-cluster")
        .map(|e| (e.entry.target.as_str(), e.entry.outcome))
        .collect();
    use server::store::audit::Outcome;
    assert_eq!(
        outcomes,
        [
            ("cluster/default/staging-eus", Outcome::Accepted),
            ("cluster/default/staging-eus", Outcome::Failed),
            ("cluster/default/staging-eus", Outcome::Denied),
            ("cluster/default/staging-eus", Outcome::Denied),
        ]
    );
}
