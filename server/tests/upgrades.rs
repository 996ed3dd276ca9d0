//! Upgrading Kubernetes as operations, against kubesim validating with the official Cluster API
//! CRDs: the versions offered (next minor only, skew rules), the preflight, everything or the
//! control plane alone (pools held with defer-upgrade) or one pool, followed node by node to the
//! end; a blocking PodDisruptionBudget needs "Upgrade anyway" and holds the upgrade until it
//! allows; bad input and a second upgrade change nothing and are recorded; a restarted portal
//! finishes what the last one started; API errors in the middle do not lose it.

mod support;

use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::{Value, json};
use server::store::Db;
use server::store::audit::Outcome;
use support::ops::{
    ended, ends, form, listed, operation, recorded, schema_problems, topology, topology_pool,
};

const SPEED: f64 = 60.0;
const DEFER: &str = "topology.cluster.x-k8s.io/defer-upgrade";

fn sim_options() -> kubesim::SimOptions {
    kubesim::SimOptions {
        demo: true,
        speed: SPEED,
        crd_dir: Some(support::capi_crds()),
        ..kubesim::SimOptions::default()
    }
}

/// The upgrade page's data for `cluster` (with a choice when `to`/`scope` are given).
async fn view(app: &axum::Router, cookie: &str, cluster: &str, to: &str, scope: &str) -> Value {
    let path = format!(
        "/api/upgrades/view?namespace=default&name={cluster}&to={to}&scope={}",
        scope.replace(':', "%3A")
    );
    let (status, json) = support::call(app, cookie, &path, None).await;
    assert_eq!(status, 200, "{json}");
    json
}

/// Posts the upgrade form: status and JSON.
async fn start(
    app: &axum::Router,
    cookie: &str,
    cluster: &str,
    fields: &[(&str, &str)],
) -> (u16, Value) {
    let mut all = vec![("namespace", "default"), ("name", cluster)];
    all.extend_from_slice(fields);
    let (status, json) = support::call(app, cookie, "/api/upgrades/start", Some(&form(&all))).await;
    (status.as_u16(), json)
}

/// Waits until `cluster` may be upgraded (known to the portal, provisioned, nothing rolling
/// out); its versions.
async fn upgradable(app: &axum::Router, cookie: &str, cluster: &str) -> Value {
    let path = format!("/api/upgrades/view?namespace=default&name={cluster}");
    support::until(&format!("{cluster} may be upgraded"), 120, async || {
        let (status, v) = support::call(app, cookie, &path, None).await;
        (status == 200 && v["versions"]["blocked"].is_null()).then_some(v)
    })
    .await
}

/// The version each Machine of `pool` of `cluster` runs, sorted.
async fn machine_versions(
    management: &server::fleet::Management,
    cluster: &str,
    pool: &str,
) -> Vec<String> {
    let api: Api<server::fleet::resources::Machine> =
        Api::namespaced(management.client(), "default");
    let list = api
        .list(&kube::api::ListParams::default().labels(&format!(
            "cluster.x-k8s.io/cluster-name={cluster},topology.cluster.x-k8s.io/deployment-name={pool}"
        )))
        .await
        .expect("machines");
    let mut v: Vec<String> = list
        .items
        .iter()
        .filter_map(|m| m.spec.version.clone())
        .collect();
    v.sort();
    v
}

fn states(op: &Value, state: &str) -> usize {
    op["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter(|s| s["state"] == state)
        .count()
}

#[tokio::test]
async fn versions_offered_are_newer_patches_and_the_next_minor_with_a_preflight() {
    let db = support::sqlite().await;
    let (app, _sim, _management) = support::portal_on(&db.db, &[], sim_options()).await;
    let viewer = support::dev_session(&db.db, "viewer").await;
    let operator = support::dev_session(&db.db, "operator").await;

    let v = upgradable(&app, &operator, "staging-eus").await;
    let versions = &v["versions"];
    assert_eq!(versions["control_plane"], "v1.32.7");
    assert_eq!(versions["may_upgrade"], true);
    let available: Vec<&str> = versions["available"]
        .as_array()
        .expect("available")
        .iter()
        .filter_map(|c| c["version"].as_str())
        .collect();
    assert_eq!(available, ["v1.33.0", "v1.33.2", "v1.33.5"]);
    assert_eq!(
        versions["later"],
        json!([
            ["v1.34.0", "skips a minor version: upgrade to v1.33 first"],
            ["v1.34.1", "skips a minor version: upgrade to v1.33 first"],
            ["v1.34.2", "skips a minor version: upgrade to v1.33 first"]
        ])
    );
    assert_eq!(
        versions["pools"],
        json!([{"name": "general", "version": "v1.32.7", "nodes": 2, "deferred": false, "blocked": null}])
    );
    // A viewer sees the same versions, without the right to start one.
    let seen = view(&app, &viewer, "staging-eus", "", "").await;
    assert_eq!(seen["versions"]["may_upgrade"], false);
    assert_eq!(seen["versions"]["available"], versions["available"]);
    // The newest cluster of the demo has nothing newer offered.
    let newest = upgradable(&app, &operator, "ml-sea").await;
    assert_eq!(newest["versions"]["available"], json!([]));

    // The preflight of the whole upgrade: the control plane, then the pool's two nodes.
    let p = view(&app, &operator, "staging-eus", "v1.33.5", "all").await["preflight"].clone();
    assert_eq!(p["control_plane"], true);
    assert_eq!(p["pools"][0]["name"], "general");
    assert_eq!(p["pools"][0]["nodes"], 2);
    assert_eq!(p["surge_nodes"], 1);
    assert_eq!(p["minutes"], 20);
    assert_eq!(p["skew"], json!([]));
    assert_eq!(p["blocking"], json!([]));
    // Standard_D2s_v5 at $0.096 an hour: one surge node for 2 × 5 minutes is $0.016.
    assert_eq!(p["surge_hourly_micros"], 96_000);
    assert_eq!(p["surge_total_micros"], 16_000);
    // A choice that skips a minor is refused on the page, with why.
    let refused = view(&app, &operator, "staging-eus", "v1.34.2", "all").await;
    assert_eq!(refused["preflight"], Value::Null);
    assert_eq!(
        refused["refusal"],
        "v1.34.2 skips a minor version: upgrade one minor at a time, to v1.33 first"
    );
}

#[tokio::test]
async fn an_upgrade_of_everything_is_followed_until_every_node_is_replaced() {
    let db = support::sqlite().await;
    let (app, sim, management) = support::portal_on(&db.db, &[], sim_options()).await;
    let operator = support::dev_session(&db.db, "operator").await;
    let v = upgradable(&app, &operator, "staging-eus").await;
    let was = v["was"].as_str().expect("was").to_string();
    let key = v["key"].as_str().expect("key").to_string();
    let fields = [
        ("to", "v1.33.5"),
        ("scope", "all"),
        ("was", was.as_str()),
        ("key", key.as_str()),
    ];

    let (status, json) = start(&app, &operator, "staging-eus", &fields).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(
        topology(&management, "staging-eus").await["version"],
        "v1.33.5"
    );
    assert_eq!(
        schema_problems(&management, "staging-eus").await,
        Vec::<String>::new()
    );
    let ops = listed(&app, &operator, "kind=upgrade-cluster").await;
    assert_eq!(ops.len(), 1, "{ops:?}");
    let id = ops[0]["id"].as_str().expect("id").to_string();
    assert_eq!(
        ops[0]["what"],
        "Upgrade the control plane and all pools to v1.33.5"
    );

    // The same form again leads to the same operation; another upgrade is refused, linked.
    let (status, json) = start(&app, &operator, "staging-eus", &fields).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(listed(&app, &operator, "").await.len(), 1);
    let again = [
        ("to", "v1.33.5"),
        ("scope", "all"),
        ("was", was.as_str()),
        ("key", "another"),
    ];
    let (status, json) = start(&app, &operator, "staging-eus", &again).await;
    assert_eq!(status, 409, "{json}");
    let message = json["Conflict"]["message"].as_str().expect("message");
    assert!(
        message.starts_with("cannot start another upgrade: an upgrade of this cluster is running (started by Otto Operator)")
            && message.ends_with(&format!("/operations/{id}")),
        "{message}"
    );
    assert_eq!(json["Conflict"]["current"], json!(id));

    // API errors and dropped watches in the middle do not lose it.
    sim.faults()
        .apply(&kubesim::FaultRequest {
            fail_requests: Some(10),
            drop_watches: true,
            ..Default::default()
        })
        .expect("fault");
    let op = ended(&app, &operator, &id, 180).await;
    assert_eq!(op["status"], "Succeeded", "{op}");
    assert_eq!(
        op["message"],
        "Kubernetes v1.33.5: control plane upgraded; 2 nodes replaced in pool general"
    );
    assert_eq!(
        (op["done"].as_u64(), op["total"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(states(&op, "Upgraded"), 1, "{op}");
    assert_eq!(states(&op, "Replaced"), 2, "{op}");
    assert_eq!(states(&op, "Ready"), 2, "{op}");
    assert!(
        op["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .all(|s| s["since_ms"].as_i64() > Some(0)),
        "{op}"
    );
    assert_eq!(
        machine_versions(&management, "staging-eus", "general").await,
        ["v1.33.5", "v1.33.5"]
    );
    // The Operations page's filters: by status and kind together.
    let done = listed(&app, &operator, "status=succeeded&kind=upgrade-cluster").await;
    assert_eq!(
        done.iter().map(|o| o["id"].clone()).collect::<Vec<_>>(),
        [json!(id)]
    );
    assert_eq!(
        listed(&app, &operator, "status=running").await,
        Vec::<Value>::new()
    );
    assert_eq!(
        listed(&app, &operator, "kind=scale-pool").await,
        Vec::<Value>::new()
    );

    // Recorded: the start once, the refused second one, the end once.
    let starts = recorded(&db.db, "upgrade-cluster").await;
    assert_eq!(
        starts
            .iter()
            .map(|(o, _, p)| (*o, p["to"].clone(), p["operation"].clone()))
            .collect::<Vec<_>>(),
        vec![
            (Outcome::Accepted, json!("v1.33.5"), json!(id)),
            (Outcome::Failed, json!("v1.33.5"), Value::Null)
        ]
    );
    let ends = ends(&db.db, 1).await;
    assert_eq!(ends.len(), 1, "{ends:?}");
    assert_eq!(ends[0].2["operation"], json!(id));
}

#[tokio::test]
async fn the_control_plane_alone_holds_the_pools_then_a_pool_catches_up_within_skew() {
    let db = support::sqlite().await;
    let (app, _sim, management) = support::portal_on(&db.db, &[], sim_options()).await;
    let operator = support::dev_session(&db.db, "operator").await;
    // A copy of staging-eus two minors older, to walk the skew rule.
    let clusters: Api<server::fleet::resources::Cluster> =
        Api::namespaced(management.client(), "default");
    let mut old =
        serde_json::to_value(clusters.get("staging-eus").await.expect("template")).expect("json");
    old["metadata"] =
        json!({"name": "old", "namespace": "default", "labels": {"portolan.dev/region": "eastus"}});
    old["spec"]["topology"]["version"] = json!("v1.31.8");
    old.as_object_mut().map(|o| o.remove("status"));
    clusters
        .create(
            &PostParams::default(),
            &serde_json::from_value(old).expect("cluster"),
        )
        .await
        .expect("created");

    // The control plane alone, one minor at a time: v1.32.7, then v1.33.5 (the pool two behind).
    for to in ["v1.32.7", "v1.33.5"] {
        let v = upgradable(&app, &operator, "old").await;
        let fields = [
            ("to", to),
            ("scope", "control-plane"),
            ("was", v["was"].as_str().expect("was")),
            ("key", v["key"].as_str().expect("key")),
        ];
        let (status, json) = start(&app, &operator, "old", &fields).await;
        assert_eq!(status, 200, "{json}");
        let id = listed(&app, &operator, "kind=upgrade-control-plane").await[0]["id"]
            .as_str()
            .expect("id")
            .to_string();
        let op = ended(&app, &operator, &id, 120).await;
        assert_eq!(op["status"], "Succeeded", "{op}");
        assert_eq!(
            op["message"],
            format!("Kubernetes {to}: control plane upgraded")
        );
        assert_eq!(
            op["what"],
            format!("Upgrade the control plane only to {to}")
        );
    }
    let t = topology(&management, "old").await;
    assert_eq!(t["version"], "v1.33.5");
    assert_eq!(
        topology_pool(&t, "general")["metadata"]["annotations"][DEFER],
        "true"
    );
    assert_eq!(
        schema_problems(&management, "old").await,
        Vec::<String>::new()
    );
    assert_eq!(
        machine_versions(&management, "old", "general").await,
        ["v1.31.8", "v1.31.8"]
    );

    // One minor more for the control plane alone would leave the pool three behind: offered with
    // why not, and refused when posted.
    let v = upgradable(&app, &operator, "old").await;
    let skew = "pool general would stay on v1.31.8, 3 minor versions behind the control plane's v1.34.2 (at most 2 allowed): upgrade it with the control plane";
    let choice = v["versions"]["available"]
        .as_array()
        .expect("available")
        .iter()
        .find(|c| c["version"] == "v1.34.2")
        .cloned()
        .expect("v1.34.2");
    assert_eq!(choice["control_plane_only"], skew);
    assert_eq!(
        view(&app, &operator, "old", "v1.34.2", "control-plane").await["preflight"]["skew"],
        json!([skew])
    );
    let fields = [
        ("to", "v1.34.2"),
        ("scope", "control-plane"),
        ("was", v["was"].as_str().expect("was")),
        ("key", "skewed"),
    ];
    let (status, json) = start(&app, &operator, "old", &fields).await;
    assert_eq!(
        (status, json),
        (400, json!({"BadRequest": format!("not allowed: {skew}")}))
    );
    assert_eq!(topology(&management, "old").await["version"], "v1.33.5");

    // The pool catches up with the control plane: its hold released, its nodes replaced.
    assert_eq!(v["versions"]["pools"][0]["deferred"], true);
    let fields = [
        ("to", "v1.33.5"),
        ("scope", "pool:general"),
        ("was", v["was"].as_str().expect("was")),
        ("key", "catch-up"),
    ];
    let (status, json) = start(&app, &operator, "old", &fields).await;
    assert_eq!(status, 200, "{json}");
    let t = topology(&management, "old").await;
    assert_eq!(
        topology_pool(&t, "general")["metadata"]["annotations"].get(DEFER),
        None
    );
    assert_eq!(
        schema_problems(&management, "old").await,
        Vec::<String>::new()
    );
    let id = listed(&app, &operator, "kind=upgrade-pool").await[0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let op = ended(&app, &operator, &id, 120).await;
    assert_eq!(op["status"], "Succeeded", "{op}");
    assert_eq!(op["what"], "Upgrade pool general to v1.33.5");
    assert_eq!(
        op["message"],
        "Kubernetes v1.33.5: 2 nodes replaced in pool general"
    );
    assert_eq!(
        machine_versions(&management, "old", "general").await,
        ["v1.33.5", "v1.33.5"]
    );
}

#[tokio::test]
async fn bad_input_is_refused_with_a_message_changes_nothing_and_is_recorded() {
    let db = support::sqlite().await;
    let (app, _sim, management) = support::portal_on(&db.db, &[], sim_options()).await;
    let operator = support::dev_session(&db.db, "operator").await;
    let viewer = support::dev_session(&db.db, "viewer").await;
    let v = upgradable(&app, &operator, "staging-eus").await;
    let was = v["was"].as_str().expect("was").to_string();
    let long = "v".repeat(5000);
    let cases: Vec<(&str, &str, &str, u16, Value)> = vec![
        (
            "v1.34.2",
            "all",
            &was,
            400,
            json!({"BadRequest": "v1.34.2 skips a minor version: upgrade one minor at a time, to v1.33 first"}),
        ),
        (
            "v1.33.3",
            "all",
            &was,
            400,
            json!({"BadRequest": "v1.33.3 is not offered by the cluster's ClusterClass (from v1.32.7 it offers v1.33.0, v1.33.2, v1.33.5)"}),
        ),
        (
            "v1.31.8",
            "all",
            &was,
            400,
            json!({"BadRequest": "v1.31.8 is older than the control plane's v1.32.7: Kubernetes cannot be downgraded"}),
        ),
        (
            "v1.32.7",
            "control-plane",
            &was,
            400,
            json!({"BadRequest": "the control plane runs v1.32.7 already"}),
        ),
        (
            "latest",
            "all",
            &was,
            400,
            json!({"BadRequest": "\"latest\" is not a Kubernetes version such as v1.33.5"}),
        ),
        (
            &long,
            "all",
            &was,
            400,
            json!({"BadRequest": format!("\"{}\" is not a Kubernetes version such as v1.33.5", "v".repeat(40))}),
        ),
        (
            "v1.33.5",
            "everything",
            &was,
            400,
            json!({"BadRequest": "unknown scope: use all, control-plane or pool:<name>"}),
        ),
        (
            "v1.32.7",
            "pool:nope",
            &was,
            400,
            json!({"BadRequest": "there is no node pool \"nope\" in this cluster"}),
        ),
        (
            "v1.32.7",
            "pool:general",
            &was,
            400,
            json!({"BadRequest": "pool general runs the control plane's version (v1.32.7) already"}),
        ),
        (
            "v1.33.5",
            "all",
            "v1.31.0;",
            409,
            json!({"Conflict": {"message": "cluster default/staging-eus changed since you opened the upgrade (its version or the pools held back) — review and upgrade again", "current": was}}),
        ),
    ];
    for (i, (to, scope, seen, code, expected)) in cases.iter().enumerate() {
        let key = format!("bad-{i}");
        let (status, json) = start(
            &app,
            &operator,
            "staging-eus",
            &[("to", to), ("scope", scope), ("was", seen), ("key", &key)],
        )
        .await;
        assert_eq!((status, &json), (*code, expected), "{to} {scope}");
    }
    // A viewer may not start one at all.
    let (status, _) = start(
        &app,
        &viewer,
        "staging-eus",
        &[("to", "v1.33.5"), ("scope", "all"), ("was", &was)],
    )
    .await;
    assert_eq!(status, 403);

    // Nothing changed, nothing started, every refusal recorded with its reason.
    assert_eq!(
        topology(&management, "staging-eus").await["version"],
        "v1.32.7"
    );
    assert_eq!(listed(&app, &operator, "").await, Vec::<Value>::new());
    let failed: Vec<_> = ["upgrade-cluster", "upgrade-control-plane", "upgrade-pool"]
        .iter()
        .map(|a| recorded(&db.db, a))
        .collect();
    let mut all = Vec::new();
    for f in failed {
        all.extend(f.await);
    }
    assert_eq!(all.len(), cases.len(), "{all:?}");
    assert!(
        all.iter()
            .all(|(o, reason, _)| *o == Outcome::Failed && reason.is_some()),
        "{all:?}"
    );
}

#[tokio::test]
async fn a_blocking_budget_needs_upgrade_anyway_then_holds_the_drain_until_it_allows() {
    let db = support::sqlite().await;
    let (app, _sim, management) = support::portal_on(&db.db, &[], sim_options()).await;
    let operator = support::dev_session(&db.db, "operator").await;
    let v = upgradable(&app, &operator, "prod-weu").await;
    assert_eq!(v["versions"]["control_plane"], "v1.33.5");
    // Once the ledger's pods run on nodes, the budget covering them allows no disruption.
    let p = support::until("the preflight finds the budget", 60, async || {
        let p = view(&app, &operator, "prod-weu", "v1.34.2", "all").await["preflight"].clone();
        (p["blocking"] != json!([])).then_some(p)
    })
    .await;
    let blocking = p["blocking"].as_array().expect("blocking");
    assert_eq!(blocking.len(), 1, "{p}");
    assert_eq!(blocking[0]["name"], "payments/ledger-pdb");
    let pods = blocking[0]["pods"].as_array().expect("pods");
    assert!(
        !pods.is_empty()
            && pods.iter().all(|p| p
                .as_str()
                .is_some_and(|p| p.starts_with("payments/ledger-") && p.contains(" on "))),
        "{p}"
    );

    let was = v["was"].as_str().expect("was");
    let (status, json) = start(
        &app,
        &operator,
        "prod-weu",
        &[
            ("to", "v1.34.2"),
            ("scope", "all"),
            ("was", was),
            ("key", "pdb"),
        ],
    )
    .await;
    assert_eq!(
        (status, json),
        (
            400,
            json!({"BadRequest": "upgrading needs confirming: PodDisruptionBudget payments/ledger-pdb allows no disruption, so draining would stall. Press \"Upgrade anyway\" to start it regardless"})
        )
    );
    assert_eq!(
        topology(&management, "prod-weu").await["version"],
        "v1.33.5"
    );
    assert_eq!(listed(&app, &operator, "").await, Vec::<Value>::new());

    let (status, json) = start(
        &app,
        &operator,
        "prod-weu",
        &[
            ("to", "v1.34.2"),
            ("scope", "all"),
            ("was", was),
            ("key", "pdb"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{json}");
    let id = listed(&app, &operator, "").await[0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    // It stalls where the budget blocks, saying which and what to do.
    let stalled = support::until("the drain is blocked", 120, async || {
        let op = operation(&app, &operator, &id).await;
        (op["status"] == "Running"
            && op["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("Blocked: ")))
        .then_some(op)
    })
    .await;
    let message = stalled["message"].as_str().expect("message");
    assert!(
        message.contains("ledger-pdb")
            && message.ends_with("Scale that workload up, or relax or delete the PodDisruptionBudget: the upgrade goes on by itself"),
        "{message}"
    );
    assert_eq!(states(&stalled, "Blocked"), 1, "{stalled}");

    // Once the budget goes, the upgrade goes on to its end.
    let workload = support::workload_client(&management, "prod-weu").await;
    let pdbs: Api<PodDisruptionBudget> = Api::namespaced(workload, "payments");
    pdbs.delete("ledger-pdb", &DeleteParams::default())
        .await
        .expect("deleted");
    let op = ended(&app, &operator, &id, 240).await;
    assert_eq!(op["status"], "Succeeded", "{op}");
    assert_eq!(states(&op, "Blocked"), 0, "{op}");
    assert!(states(&op, "Replaced") >= 4, "{op}");
}

/// The portal stopped in the middle of an upgrade: the next one on the same database finishes it,
/// recorded once (SQLite and PostgreSQL).
async fn a_restarted_portal_finishes_an_upgrade(db: &Db) {
    let (sim, management) = support::kubesim_with(sim_options()).await;
    let management = std::sync::Arc::new(management);
    let start_portal = || {
        let (state, services) = server::state::build(
            &support::config(&[]),
            db.clone(),
            "127.0.0.1:3000".parse().expect("addr"),
            Some(management.clone()),
        )
        .expect("portal");
        (server::http::router(state), services)
    };
    let operator = support::dev_session(db, "operator").await;
    let (first, services) = start_portal();
    let v = upgradable(&first, &operator, "staging-eus").await;
    // Real time while it is stopped: the control plane takes 40 s to move.
    sim.set_speed(1.0);
    let (status, json) = start(
        &first,
        &operator,
        "staging-eus",
        &[
            ("to", "v1.33.0"),
            ("scope", "all"),
            ("was", v["was"].as_str().expect("was")),
            ("key", "restart"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{json}");
    let id = listed(&first, &operator, "").await[0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    services.stop().await;
    let op = server::store::operations::get(db, &id)
        .await
        .expect("get")
        .expect("op");
    assert_eq!(op.status, "running", "stopped in the middle");

    sim.set_speed(SPEED);
    let (second, _services) = start_portal();
    let op = ended(&second, &operator, &id, 180).await;
    assert_eq!(op["status"], "Succeeded", "{op}");
    assert_eq!(
        op["message"],
        "Kubernetes v1.33.0: control plane upgraded; 2 nodes replaced in pool general"
    );
    assert_eq!(ends(db, 1).await.len(), 1);
}

on_both_databases!(a_restarted_portal_finishes_an_upgrade);
