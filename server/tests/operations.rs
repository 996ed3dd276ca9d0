//! Scaling node pools as operations, against kubesim validating with the official Cluster API
//! CRDs: each change is a patch Cluster API accepts, followed node by node to its end and recorded
//! once; bad input, a pool changed meanwhile and unconfirmed risky scale-downs change nothing; a
//! second press starts nothing new; a replica that stops following loses its operations to another.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use server::store::audit::Outcome;
use server::store::{Db, operations as ops};
use support::ops::{ended, ends, form, listed, recorded, schema_problems, topology, topology_pool};

const SPEED: f64 = 60.0;

fn sim_options() -> kubesim::SimOptions {
    kubesim::SimOptions {
        demo: true,
        speed: SPEED,
        crd_dir: Some(support::capi_crds()),
        ..kubesim::SimOptions::default()
    }
}

/// Posts a Node count form for `pool` of `cluster`: status and JSON.
async fn scale(
    app: &axum::Router,
    cookie: &str,
    cluster: &str,
    fields: &[(&str, &str)],
) -> (u16, Value) {
    let mut all = vec![("namespace", "default"), ("name", cluster)];
    all.extend_from_slice(fields);
    let (status, json) = support::call(app, cookie, "/api/clusters/scale", Some(&form(&all))).await;
    (status.as_u16(), json)
}

async fn autoscale(
    app: &axum::Router,
    cookie: &str,
    cluster: &str,
    fields: &[(&str, &str)],
) -> (u16, Value) {
    let mut all = vec![("namespace", "default"), ("name", cluster)];
    all.extend_from_slice(fields);
    let (status, json) =
        support::call(app, cookie, "/api/clusters/autoscale", Some(&form(&all))).await;
    (status.as_u16(), json)
}

/// The Node pools tab as the page reads it.
async fn pools_tab(app: &axum::Router, cookie: &str, cluster: &str) -> Value {
    let (status, json) = support::call(
        app,
        cookie,
        &format!("/api/clusters/pools?namespace=default&name={cluster}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{json}");
    json
}

fn pool<'a>(tab: &'a Value, name: &str) -> &'a Value {
    tab["pools"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == name))
        .unwrap_or_else(|| panic!("pool {name} in {tab}"))
}

/// Waits until `pool` of `cluster` has all its nodes Ready (the demo fleet starts provisioning).
async fn settled(app: &axum::Router, cookie: &str, cluster: &str, name: &str) -> Value {
    support::until(
        &format!("pool {name} of {cluster} settles"),
        120,
        async || {
            let tab = pools_tab(app, cookie, cluster).await;
            let p = pool(&tab, name).clone();
            (p["ready"] == p["desired"] && p["running"].is_null()).then_some(p)
        },
    )
    .await
}

/// Sets pool `pool` of `cluster` to `replicas` nodes as kubectl would (a JSON patch); the
/// generation the change made.
async fn set_replicas(
    management: &server::fleet::Management,
    cluster: &str,
    pool: &str,
    replicas: u32,
) -> i64 {
    let index = support::until(&format!("{cluster} has pool {pool}"), 60, async || {
        topology(management, cluster).await["workers"]["machineDeployments"]
            .as_array()
            .and_then(|p| p.iter().position(|p| p["name"] == pool))
    })
    .await;
    let api: kube::Api<server::fleet::resources::Cluster> =
        kube::Api::namespaced(management.client(), "default");
    let patch = json!([{"op": "replace",
        "path": format!("/spec/topology/workers/machineDeployments/{index}/replicas"), "value": replicas}]);
    let changed = api
        .patch(
            cluster,
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Json::<()>(serde_json::from_value(patch).expect("a JSON patch")),
        )
        .await
        .expect("their change");
    changed.metadata.generation.unwrap_or(0)
}

#[tokio::test]
async fn a_pool_scales_up_and_down_as_operations_followed_to_the_end() {
    let db = support::sqlite().await;
    let (app, _sim, management) = support::portal_on(&db.db, &[], sim_options()).await;
    let operator = support::dev_session(&db.db, "operator").await;
    let before = settled(&app, &operator, "ml-sea", "gpu").await;
    assert_eq!(before["sizing"], "1");
    let tab = pools_tab(&app, &operator, "ml-sea").await;
    assert_eq!(tab["may_scale"], true);
    let key = format!("{}-gpu", tab["key"].as_str().expect("key"));

    // Apply 3: one operation, the topology says 3, the schema is content.
    let up = [
        ("pool", "gpu"),
        ("was", "1"),
        ("key", key.as_str()),
        ("count", "3"),
        ("count_slider", "1"),
    ];
    let (status, json) = scale(&app, &operator, "ml-sea", &up).await;
    assert_eq!(status, 200, "{json}");
    let ops = listed(&app, &operator, "cluster=default/ml-sea").await;
    assert_eq!(ops.len(), 1, "{ops:?}");
    let id = ops[0]["id"].as_str().expect("id").to_string();
    assert_eq!(ops[0]["what"], "Scale pool gpu from 1 to 3 nodes");
    assert_eq!(ops[0]["who"], "Otto Operator");
    assert_eq!(
        topology_pool(&topology(&management, "ml-sea").await, "gpu")["replicas"],
        3
    );
    assert_eq!(
        schema_problems(&management, "ml-sea").await,
        Vec::<String>::new()
    );

    // The same form pressed again starts nothing new.
    let (status, json) = scale(&app, &operator, "ml-sea", &up).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(listed(&app, &operator, "").await.len(), 1);

    // Followed node by node until both new nodes are Ready.
    let op = ended(&app, &operator, &id, 120).await;
    assert_eq!(op["status"], "Succeeded", "{op}");
    assert_eq!(
        (op["done"].as_u64(), op["total"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(op["message"], "pool gpu: all 3 nodes Ready");
    let ready: Vec<&Value> = op["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter(|s| s["state"] == "Ready")
        .collect();
    assert_eq!(ready.len(), 3, "{op}");
    // The tab counts Ready from the MachineDeployment's status, which Cluster API writes on its
    // next pass after the nodes the operation saw Ready.
    let tab = support::until("the pool tab shows 3 Ready", 30, async || {
        let tab = pools_tab(&app, &operator, "ml-sea").await;
        (pool(&tab, "gpu")["ready"].as_u64() == Some(3)).then_some(tab)
    })
    .await;
    assert_eq!(pool(&tab, "gpu")["sizing"].as_str(), Some("3"));

    // Down to 1 with the slider only (the number as shown): the slider wins.
    let key2 = format!("{}-gpu", tab["key"].as_str().expect("key"));
    let down = [
        ("pool", "gpu"),
        ("was", "3"),
        ("key", key2.as_str()),
        ("count", "3"),
        ("count_slider", "1"),
    ];
    let (status, json) = scale(&app, &operator, "ml-sea", &down).await;
    assert_eq!(status, 200, "{json}");
    let newest = listed(&app, &operator, "kind=scale-pool").await;
    let id2 = newest[0]["id"].as_str().expect("id").to_string();
    assert_ne!(id2, id);
    let op = ended(&app, &operator, &id2, 120).await;
    assert_eq!(op["status"], "Succeeded", "{op}");
    assert_eq!(op["message"], "pool gpu: its node is Ready");
    let removed = op["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter(|s| s["state"] == "Removed")
        .count();
    assert_eq!(removed, 2, "{op}");

    // Recorded: each change once with its operation, each end once.
    let changes = recorded(&db.db, "scale-pool").await;
    assert_eq!(
        changes
            .iter()
            .map(|(o, _, p)| (
                *o,
                p["before"].clone(),
                p["after"].clone(),
                p["operation"].clone()
            ))
            .collect::<Vec<_>>(),
        vec![
            (Outcome::Accepted, json!("1"), json!("3"), json!(id)),
            (Outcome::Accepted, json!("3"), json!("1"), json!(id2)),
        ]
    );
    let ends = ends(&db.db, 2).await;
    assert_eq!(
        ends.iter()
            .map(|(o, _, p)| (*o, p["operation"].clone(), p["status"].clone()))
            .collect::<Vec<_>>(),
        vec![
            (Outcome::Accepted, json!(id), json!("succeeded")),
            (Outcome::Accepted, json!(id2), json!("succeeded")),
        ]
    );
}

#[tokio::test]
async fn bad_input_is_refused_with_a_message_changes_nothing_and_is_recorded() {
    let db = support::sqlite().await;
    let (app, _sim, management) = support::portal_on(&db.db, &[], sim_options()).await;
    let operator = support::dev_session(&db.db, "operator").await;
    settled(&app, &operator, "staging-eus", "general").await;
    settled(&app, &operator, "prod-weu", "system").await;
    let before = (
        topology(&management, "staging-eus").await,
        topology(&management, "prod-weu").await,
    );

    let count = |pool: &'static str, was: &'static str, n: &'static str| {
        vec![("pool", pool), ("was", was), ("key", "k"), ("count", n)]
    };
    // (cluster, form, status, message)
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            "staging-eus",
            count("general", "2", "-1"),
            400,
            "the node count cannot be negative (it was -1)",
        ),
        (
            "staging-eus",
            count("general", "2", "2.5"),
            400,
            "the node count must be a whole number of nodes, not \"2.5\"",
        ),
        (
            "staging-eus",
            count("general", "2", "many"),
            400,
            "the node count must be a whole number of nodes, not \"many\"",
        ),
        (
            "staging-eus",
            count("general", "2", ""),
            400,
            "the node count is missing: type a whole number",
        ),
        (
            "staging-eus",
            count("general", "2", "5000"),
            400,
            "the node count is 5000: this cluster's class allows at most 1000 nodes per pool",
        ),
        (
            "staging-eus",
            count("general", "2", "99999999999999999999"),
            400,
            "the node count must be a whole number of nodes, not \"99999999999999999999\"",
        ),
        (
            "staging-eus",
            count("general", "2", "0"),
            400,
            "the node count must be at least 1: this is the cluster's last system pool, where its system pods run",
        ),
        (
            "staging-eus",
            count("no-such-pool", "2", "3"),
            400,
            "there is no node pool \"no-such-pool\" in cluster default/staging-eus",
        ),
        (
            "prod-weu",
            count("apps", "auto:2-6", "4"),
            400,
            "the autoscaler sets pool apps's node count (2–6): turn autoscaling off to scale it by hand",
        ),
    ];
    let mut refusals = 0;
    for (cluster, fields, want_status, want) in &cases {
        let (status, json) = scale(&app, &operator, cluster, fields).await;
        assert_eq!(
            (status, json["BadRequest"].as_str()),
            (*want_status, Some(*want)),
            "{fields:?}: {json}"
        );
        refusals += 1;
    }
    let bounds: Vec<(&str, &str, &str)> = vec![
        ("5", "2", "the minimum (5) is above the maximum (2)"),
        (
            "0",
            "3",
            "the minimum must be at least 1: this is the cluster's last system pool, where its system pods run",
        ),
        (
            "1",
            "1001",
            "the maximum is 1001: this cluster's class allows at most 1000 nodes per pool",
        ),
    ];
    for (min, max, want) in &bounds {
        let (status, json) = autoscale(
            &app,
            &operator,
            "staging-eus",
            &[
                ("pool", "general"),
                ("was", "2"),
                ("key", "k"),
                ("go", "on"),
                ("min", min),
                ("max", max),
            ],
        )
        .await;
        assert_eq!(
            (status, json["BadRequest"].as_str()),
            (400, Some(*want)),
            "{json}"
        );
        refusals += 1;
    }

    assert_eq!(
        (
            topology(&management, "staging-eus").await,
            topology(&management, "prod-weu").await
        ),
        before,
        "nothing changed"
    );
    assert_eq!(support::count(&db.db, "operations").await, 0);
    let failed =
        recorded(&db.db, "scale-pool").await.len() + recorded(&db.db, "autoscale-pool").await.len();
    assert_eq!(failed, refusals);
    assert!(
        recorded(&db.db, "scale-pool")
            .await
            .iter()
            .all(|(o, r, _)| *o == Outcome::Failed && r.is_some()),
        "each refusal recorded as failed with why"
    );

    // Viewers may not scale; operators only where they are operators.
    let viewer = support::dev_session(&db.db, "viewer").await;
    let (status, _) = scale(&app, &viewer, "staging-eus", &count("general", "2", "3")).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_pool_changed_meanwhile_is_a_conflict_and_is_not_overwritten() {
    let db = support::sqlite().await;
    let (app, _sim, management) = support::portal_on(&db.db, &[], sim_options()).await;
    let operator = support::dev_session(&db.db, "operator").await;
    settled(&app, &operator, "ml-sea", "gpu").await;

    // Someone else makes it 2 (as kubectl would) while the form still shows 1.
    set_replicas(&management, "ml-sea", "gpu", 2).await;

    let (status, json) = scale(
        &app,
        &operator,
        "ml-sea",
        &[("pool", "gpu"), ("was", "1"), ("key", "k"), ("count", "4")],
    )
    .await;
    assert_eq!(status, 409, "{json}");
    assert_eq!(
        json["Conflict"]["message"],
        "pool gpu changed since you opened it: now 2 nodes — review and apply again"
    );
    assert_eq!(
        topology_pool(&topology(&management, "ml-sea").await, "gpu")["replicas"],
        2
    );
    assert_eq!(support::count(&db.db, "operations").await, 0);
}

#[tokio::test]
async fn autoscaling_is_written_as_the_cluster_api_annotations_and_turned_off_again() {
    let db = support::sqlite().await;
    let (app, _sim, management) = support::portal_on(&db.db, &[], sim_options()).await;
    let operator = support::dev_session(&db.db, "operator").await;
    settled(&app, &operator, "ml-sea", "gpu").await;

    let (status, json) = autoscale(
        &app,
        &operator,
        "ml-sea",
        &[
            ("pool", "gpu"),
            ("was", "1"),
            ("key", "a1"),
            ("go", "on"),
            ("min", "1"),
            ("max", "3"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{json}");
    let t = topology(&management, "ml-sea").await;
    let gpu = topology_pool(&t, "gpu");
    assert_eq!(
        gpu["metadata"]["annotations"]["cluster.x-k8s.io/cluster-api-autoscaler-node-group-min-size"],
        "1"
    );
    assert_eq!(
        gpu["metadata"]["annotations"]["cluster.x-k8s.io/cluster-api-autoscaler-node-group-max-size"],
        "3"
    );
    assert_eq!(gpu.get("replicas"), None, "the autoscaler owns the count");
    assert_eq!(
        schema_problems(&management, "ml-sea").await,
        Vec::<String>::new()
    );
    let id = listed(&app, &operator, "").await[0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let op = ended(&app, &operator, &id, 120).await;
    assert_eq!(op["status"], "Succeeded", "{op}");
    assert_eq!(op["what"], "Autoscale pool gpu between 1 and 3 nodes");

    let tab = pools_tab(&app, &operator, "ml-sea").await;
    let now = pool(&tab, "gpu");
    assert_eq!(now["sizing"], "auto:1-3");
    let count = now["count"].as_u64().expect("count").to_string();
    let (status, json) = autoscale(
        &app,
        &operator,
        "ml-sea",
        &[
            ("pool", "gpu"),
            ("was", "auto:1-3"),
            ("key", "a2"),
            ("go", "off"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{json}");
    let t = topology(&management, "ml-sea").await;
    let gpu = topology_pool(&t, "gpu");
    assert_eq!(gpu["replicas"].to_string(), count);
    assert_eq!(
        gpu["metadata"]["annotations"]
            .get("cluster.x-k8s.io/cluster-api-autoscaler-node-group-min-size"),
        None
    );
    assert_eq!(
        schema_problems(&management, "ml-sea").await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn a_risky_scale_down_needs_confirming() {
    let db = support::sqlite().await;
    let (app, _sim, management) = support::portal_on(&db.db, &[], sim_options()).await;
    let operator = support::dev_session(&db.db, "operator").await;
    settled(&app, &operator, "staging-eus", "general").await;
    // Both nodes cordoned: whatever runs on the node that would go has nowhere to move.
    let workload = support::workload_client(&management, "staging-eus").await;
    let nodes: kube::Api<k8s_openapi::api::core::v1::Node> = kube::Api::all(workload);
    for n in nodes.list(&Default::default()).await.expect("nodes").items {
        let name = n.metadata.name.unwrap_or_default();
        nodes
            .patch(
                &name,
                &kube::api::PatchParams::default(),
                &kube::api::Patch::Merge(json!({"spec": {"unschedulable": true}})),
            )
            .await
            .expect("cordoned");
    }
    let one = support::until("the pods would not fit", 60, async || {
        let tab = pools_tab(&app, &operator, "staging-eus").await;
        pool(&tab, "general")["shrink"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["to"] == 1).cloned())
            .filter(|s| s["fits"] == false)
    })
    .await;
    let pods = one["pods"].as_u64().expect("pods");
    assert!(pods > 0, "{one}");
    let fields = [
        ("pool", "general"),
        ("was", "2"),
        ("key", "r1"),
        ("count", "1"),
    ];
    let (status, json) = scale(&app, &operator, "staging-eus", &fields).await;
    assert_eq!(status, 400, "{json}");
    assert_eq!(
        json["BadRequest"],
        format!(
            "scaling pool general down to 1 node needs confirming: {pods} pod{} would have to move and they do not fit on the remaining nodes. Tick \"Scale down anyway\" and apply again",
            if pods == 1 { "" } else { "s" }
        )
    );
    assert_eq!(
        topology_pool(&topology(&management, "staging-eus").await, "general")["replicas"],
        2
    );
    let confirmed = [
        ("pool", "general"),
        ("was", "2"),
        ("key", "r2"),
        ("count", "1"),
        ("confirm", "yes"),
    ];
    let (status, json) = scale(&app, &operator, "staging-eus", &confirmed).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(
        topology_pool(&topology(&management, "staging-eus").await, "general")["replicas"],
        1
    );
}

/// An operation on `pool` of `cluster` to `to` nodes, as the portal records it once the change
/// was accepted.
async fn running_op(
    db: &Db,
    cluster: &str,
    pool: &str,
    from: u32,
    to: u32,
    generation: i64,
) -> String {
    let parameters = json!({"pool": pool, "from": from, "to": to, "before": from.to_string(), "after": to.to_string()});
    let id = ops::begin(
        db,
        ops::New {
            actor_subject: "dev-operator",
            actor_name: "Otto Operator",
            key: &format!("{cluster}-{pool}-{to}"),
            kind: "scale-pool",
            namespace: "default",
            name: cluster,
            target: &format!("pool {pool}"),
            parameters: &parameters,
        },
    )
    .await
    .expect("begin")
    .expect("new");
    ops::accepted(db, &id, i64::from(to.abs_diff(from)), &[], generation)
        .await
        .expect("accepted");
    id
}

/// Two replicas on one database: one follows an operation at a time; when it stops renewing its
/// lease (it died) the other takes over and ends it, and the end is recorded once.
async fn one_replica_follows_and_another_takes_over(db: &Db) {
    let (_sim, management) = support::kubesim_with(sim_options()).await;
    let (watch, _tasks) = server::fleet::watch::FleetWatch::start(&management);
    watch.ready().await;
    let lease = Duration::from_millis(800);
    let a = server::operations::Follower::new(db.clone(), watch.clone(), Duration::from_secs(300))
        .with_lease(lease);
    let b = server::operations::Follower::new(db.clone(), watch.clone(), Duration::from_secs(300))
        .with_lease(lease);

    // ml-sea's gpu pool to 2, as a person's Apply would.
    let generation = set_replicas(&management, "ml-sea", "gpu", 2).await;
    let id = running_op(db, "ml-sea", "gpu", 1, 2, generation).await;

    assert_eq!(a.tick().await.expect("a"), 1, "a claims it");
    assert_eq!(
        b.tick().await.expect("b"),
        0,
        "b leaves a's operation alone"
    );
    assert_eq!(
        ops::get(db, &id)
            .await
            .expect("get")
            .expect("op")
            .holder
            .as_deref(),
        Some(a.holder())
    );
    // a dies (it stops renewing); once its lease is over, b follows it to the end.
    tokio::time::sleep(lease + Duration::from_millis(300)).await;
    let ended = support::until("b ends the operation", 120, async || {
        b.tick().await.expect("b");
        let op = ops::get(db, &id).await.expect("get").expect("op");
        (op.status != "running").then_some(op)
    })
    .await;
    assert_eq!(ended.status, "succeeded", "{ended:?}");
    // a comes back: nothing left for it, and nothing recorded twice.
    assert_eq!(a.tick().await.expect("a"), 0);
    let ends = recorded(db, "operation-ended").await;
    assert_eq!(ends.len(), 1, "{ends:?}");
    assert_eq!(ends[0].2["operation"], json!(id));
}

/// A node that never joins: the operation fails at its deadline, saying what to do.
async fn a_node_that_never_joins_fails_the_operation_at_its_deadline(db: &Db) {
    let (sim, management) = support::kubesim_with(sim_options()).await;
    let (watch, _tasks) = server::fleet::watch::FleetWatch::start(&management);
    watch.ready().await;
    let follower =
        server::operations::Follower::new(db.clone(), watch.clone(), Duration::from_secs(4));
    sim.faults()
        .apply(&kubesim::FaultRequest {
            fail_node_joins: Some(1_000),
            ..Default::default()
        })
        .expect("fault");
    let generation = set_replicas(&management, "staging-eus", "general", 3).await;
    let id = running_op(db, "staging-eus", "general", 2, 3, generation).await;
    let ended = support::until("the operation fails", 60, async || {
        follower.tick().await.expect("tick");
        let op = ops::get(db, &id).await.expect("get").expect("op");
        (op.status != "running").then_some(op)
    })
    .await;
    assert_eq!(ended.status, "failed", "{ended:?}");
    assert!(
        ended.message.starts_with("not done after 4 s: ")
            && ended
                .message
                .ends_with(". Look at the pool's nodes and events; scale again to retry"),
        "{}",
        ended.message
    );
    let ends = recorded(db, "operation-ended").await;
    assert_eq!(ends.len(), 1);
    assert_eq!(ends[0].0, Outcome::Failed);
    sim.faults().clear();
}

on_both_databases!(
    one_replica_follows_and_another_takes_over,
    a_node_that_never_joins_fails_the_operation_at_its_deadline
);

/// The portal stopped in the middle of an operation: the next one started on the same database
/// picks it up and follows it to the end, recorded once.
#[tokio::test]
async fn a_restarted_portal_finishes_what_the_last_one_started() {
    let db = support::sqlite().await;
    let (sim, management) = support::kubesim_with(sim_options()).await;
    let management = std::sync::Arc::new(management);
    let start = || {
        let (state, services) = server::state::build(
            &support::config(&[]),
            db.db.clone(),
            "127.0.0.1:3000".parse().expect("addr"),
            Some(management.clone()),
        )
        .expect("portal");
        (server::http::router(state), services)
    };
    let operator = support::dev_session(&db.db, "operator").await;
    let (first, services) = start();
    settled(&first, &operator, "ml-sea", "gpu").await;
    // Real time while it is stopped: a node takes many seconds to join.
    sim.set_speed(1.0);
    let (status, json) = scale(
        &first,
        &operator,
        "ml-sea",
        &[
            ("pool", "gpu"),
            ("was", "1"),
            ("key", "restart"),
            ("count", "3"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{json}");
    let id = listed(&first, &operator, "").await[0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    services.stop().await;
    assert_eq!(
        ops::get(&db.db, &id)
            .await
            .expect("get")
            .expect("op")
            .status,
        "running",
        "stopped in the middle"
    );

    sim.set_speed(SPEED);
    let (second, _services) = start();
    let op = ended(&second, &operator, &id, 120).await;
    assert_eq!(op["status"], "Succeeded", "{op}");
    assert_eq!(op["message"], "pool gpu: all 3 nodes Ready");
    let ends = ends(&db.db, 1).await;
    assert_eq!(ends.len(), 1, "{ends:?}");
}
