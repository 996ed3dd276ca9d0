//! Team dashboards against kubesim and both databases: made by an operator, seen by viewers as
//! their roles allow, refused when wrong, and the warnings the fleet's state raises.

mod support;

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams};
use server::store::Db;

/// A dashboard server function: status and JSON answer.
async fn call(
    app: &axum::Router,
    cookie: &str,
    path: &str,
    form: Option<&str>,
) -> (u16, serde_json::Value) {
    let (status, json) = support::call(app, cookie, path, form).await;
    (status.as_u16(), json)
}

async fn dashboards_for_teams(db: &Db) {
    let (app, _sim, management) = support::portal_at_speed(db, &[], 60.0).await;
    let operator = support::dev_session(db, "operator").await;
    let viewer = support::dev_session(db, "viewer").await;
    let cora = support::dev_session(db, "cluster-admin").await;

    // Bad input: a clear field error, nothing stored.
    for (form, says) in [
        (
            "name=P&selector=team%3Dpay%20ments&panel_health=on",
            "selector: \"team=pay ments\" is not a tag",
        ),
        (
            "name=&clusters=default%2Fprod-weu&panel_health=on",
            "name: give the dashboard a name",
        ),
        (
            "name=P&clusters=default%2Fprod-weu",
            "panels: choose at least one panel",
        ),
        (
            "name=P&clusters=..%2Fsecrets&panel_health=on",
            "clusters: \"../secrets\" is not a cluster",
        ),
    ] {
        let (status, json) = call(&app, &operator, "/api/dashboards/save", Some(form)).await;
        assert_eq!(status, 400, "{form}");
        let message = json["BadRequest"].as_str().unwrap_or_default();
        assert!(message.starts_with(says), "{form}: {json}");
    }
    let many: String = (0..201).map(|i| format!("default%2Fc{i}%0A")).collect();
    let (status, json) = call(
        &app,
        &operator,
        "/api/dashboards/save",
        Some(&format!("name=Big&clusters={many}&panel_health=on")),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        json.to_string()
            .contains("clusters: a dashboard shows at most 200 clusters; 201 are named"),
        "{json}"
    );
    assert_eq!(support::count(db, "dashboards").await, 0);
    // A viewer may not make one.
    let (status, _) = call(
        &app,
        &viewer,
        "/api/dashboards/save",
        Some("name=Mine&selector=team&panel_health=on"),
    )
    .await;
    assert_eq!(status, 403);

    // The operator makes two: one by tag (prod-weu is team=payments), one naming ml-sea.
    let (status, json) = call(&app, &operator, "/api/dashboards/save",
        Some("name=Payments%20team&selector=team%3Dpayments&panel_health=on&panel_nodes=on&panel_pods=on&panel_warnings=on&panel_cpu=on")).await;
    assert!(
        status == 200 || status == 302 || status == 303,
        "{status} {json}"
    );
    let (status, _) = call(
        &app,
        &operator,
        "/api/dashboards/save",
        Some("name=ML&clusters=default%2Fml-sea&panel_health=on"),
    )
    .await;
    assert!(status < 400);
    // The same name again is the same address: refused.
    let (status, json) = call(
        &app,
        &operator,
        "/api/dashboards/save",
        Some("name=payments%20TEAM&selector=team&panel_health=on"),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        json.to_string()
            .contains("name: a dashboard at /dashboards/payments-team exists already"),
        "{json}"
    );

    // A viewer opens it at its address: prod-weu's tile with its nodes.
    let view = support::until("prod-weu's tile counts its nodes", 60, async || {
        let (status, json) = call(
            &app,
            &viewer,
            "/api/dashboards/get?slug=payments-team",
            None,
        )
        .await;
        assert_eq!(status, 200, "{json}");
        (json["tiles"][0]["nodes_ready"]
            .as_u64()
            .is_some_and(|n| n >= 2)
            && json["tiles"][0]["pods_not_running"].is_u64())
        .then_some(json)
    })
    .await;
    let names: Vec<&str> = view["tiles"]
        .as_array()
        .expect("tiles")
        .iter()
        .map(|t| t["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names, ["prod-weu"]);
    assert_eq!(
        view["spec"]["panels"],
        serde_json::json!(["Health", "NodesReady", "PodsNotRunning", "Cpu", "Warnings"])
    );

    // Cora sees prod-weu only: the ML dashboard does not exist for her, nor in her list.
    let (status, _) = call(&app, &cora, "/api/dashboards/get?slug=ml", None).await;
    assert_eq!(status, 404);
    let (_, list) = call(&app, &cora, "/api/dashboards/list", None).await;
    let listed: Vec<&str> = list["dashboards"]
        .as_array()
        .expect("list")
        .iter()
        .map(|d| d["slug"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(listed, ["payments-team"]);
    assert_eq!(list["may_manage"], false);
    let (_, list) = call(&app, &operator, "/api/dashboards/list", None).await;
    assert_eq!(list["dashboards"].as_array().expect("list").len(), 2);
    assert_eq!(list["may_manage"], true);

    // Warnings: a node whose kubelet stopped, and a pod crash-looping.
    let prod = support::workload_client(&management, "prod-weu").await;
    let nodes: Api<Node> = Api::all(prod.clone());
    let node = nodes
        .list(&ListParams::default())
        .await
        .expect("nodes")
        .items[0]
        .metadata
        .name
        .clone()
        .expect("name");
    let label = |k: &str| Patch::Merge(serde_json::json!({"metadata": {"labels": {k: "true"}}}));
    nodes
        .patch(
            &node,
            &PatchParams::default(),
            &label("kubesim.portolan.dev/kubelet-stopped"),
        )
        .await
        .expect("labelled");
    let pods: Api<Pod> = Api::namespaced(prod, "shop");
    let pod = pods.list(&ListParams::default()).await.expect("pods").items[0]
        .metadata
        .name
        .clone()
        .expect("name");
    pods.patch(
        &pod,
        &PatchParams::default(),
        &label("kubesim.portolan.dev/crash-loop"),
    )
    .await
    .expect("labelled");
    let warnings = support::until("the warnings name the node and the pod", 60, async || {
        let (_, json) = call(
            &app,
            &viewer,
            "/api/dashboards/get?slug=payments-team",
            None,
        )
        .await;
        let w = json["warnings"].to_string();
        (w.contains(&format!("node {node}"))
            && w.contains("NotReady")
            && w.contains(&format!("pod shop/{pod}"))
            && w.contains("CrashLoopBackOff"))
        .then_some(json)
    })
    .await;
    assert!(
        warnings["tiles"][0]["pods_not_running"]
            .as_u64()
            .is_some_and(|n| n >= 1),
        "{warnings}"
    );

    // Changing and deleting are recorded in the activity log.
    let (status, _) = call(&app, &operator, "/api/dashboards/save",
        Some("slug=ml&name=ML%20and%20staging&clusters=default%2Fml-sea%0Adefault%2Fstaging-eus&panel_health=on")).await;
    assert!(status < 400);
    let (status, _) = call(&app, &operator, "/api/dashboards/delete", Some("slug=ml")).await;
    assert!(status < 400);
    let (status, _) = call(&app, &viewer, "/api/dashboards/get?slug=ml", None).await;
    assert_eq!(status, 404);
    let entries = server::store::audit::recent(db, 50).await.expect("audit");
    let said: Vec<String> = entries
        .iter()
        .filter(|e| e.entry.action.ends_with("-dashboard"))
        .map(server::store::audit_words::summary)
        .collect();
    for expected in [
        "created dashboard \"Payments team\" (dashboard payments-team)",
        "created dashboard \"ML\" (dashboard ml)",
        "changed dashboard \"ML and staging\" (dashboard ml)",
        "deleted dashboard \"ML and staging\" (dashboard ml)",
    ] {
        assert!(said.iter().any(|s| s == expected), "{expected} in {said:?}");
    }
}

on_both_databases!(dashboards_for_teams);
