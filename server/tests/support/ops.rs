//! What the operation tests share: form bodies, the operation pages' JSON, waiting for an end,
//! the audit log's entries, and Cluster API's view of a cluster checked against the CRD schema.

use std::time::Duration;

use app::access::model::ClusterRef;
use serde_json::Value;
use server::store::Db;
use server::store::audit::{self, Outcome};

/// A form body from pairs.
pub fn form(fields: &[(&str, &str)]) -> String {
    let mut f = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        f.append_pair(k, v);
    }
    f.finish()
}

/// The topology of `cluster` as Cluster API holds it.
pub async fn topology(management: &server::fleet::Management, cluster: &str) -> Value {
    let c = server::fleet::clusters::require(management, &ClusterRef::new("default", cluster))
        .await
        .expect("cluster");
    serde_json::to_value(&c).expect("json")["spec"]["topology"].clone()
}

pub fn topology_pool<'a>(topology: &'a Value, name: &str) -> &'a Value {
    topology["workers"]["machineDeployments"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == name))
        .unwrap_or_else(|| panic!("pool {name} in {topology}"))
}

/// What the official CRD schema finds wrong with `cluster` as Cluster API holds it.
pub async fn schema_problems(management: &server::fleet::Management, cluster: &str) -> Vec<String> {
    let schemas = kubesim::schemas::Schemas::from_crd_dir(&super::capi_crds()).expect("CRDs load");
    let c = server::fleet::clusters::require(management, &ClusterRef::new("default", cluster))
        .await
        .expect("cluster");
    let mut object = serde_json::to_value(&c).expect("json");
    // Status is written by Cluster API, not by the portal.
    object.as_object_mut().map(|o| o.remove("status"));
    let mut causes = Vec::new();
    kubesim::validate::schema(
        schemas
            .get(kubesim::resources::id::CLUSTERS)
            .expect("Cluster schema"),
        &object,
        "",
        &mut causes,
    );
    causes
        .iter()
        .map(|c| format!("{}: {}", c.field, c.message))
        .collect()
}

/// One operation as the page reads it.
pub async fn operation(app: &axum::Router, cookie: &str, id: &str) -> Value {
    let (status, json) =
        super::call(app, cookie, &format!("/api/operations/one?id={id}"), None).await;
    assert_eq!(status, 200, "{json}");
    json
}

/// The operations the Operations page lists.
pub async fn listed(app: &axum::Router, cookie: &str, query: &str) -> Vec<Value> {
    let (status, json) =
        super::call(app, cookie, &format!("/api/operations/list?{query}"), None).await;
    assert_eq!(status, 200, "{json}");
    json["rows"].as_array().cloned().unwrap_or_default()
}

/// Waits until operation `id` ends; its last state when it does not.
pub async fn ended(app: &axum::Router, cookie: &str, id: &str, secs: u64) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let op = operation(app, cookie, id).await;
        if op["status"] != "Running" {
            return op;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "operation did not end within {secs} s: {op}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Audit entries with `action`, oldest first: (outcome, reason, parameters).
pub async fn recorded(db: &Db, action: &str) -> Vec<(Outcome, Option<String>, Value)> {
    let mut log: Vec<_> = audit::recent(db, 10_000)
        .await
        .expect("log")
        .into_iter()
        .filter(|e| e.entry.action == action)
        .map(|e| (e.entry.outcome, e.entry.reason, e.entry.parameters))
        .collect();
    log.reverse();
    log
}

/// The `operation-ended` entries once `n` are there: an operation's end and its entry are two
/// writes, so a page may show the end first. Read again a moment later, so that an end recorded
/// twice shows.
pub async fn ends(db: &Db, n: usize) -> Vec<(Outcome, Option<String>, Value)> {
    super::until("the ends are recorded", 10, async || {
        (recorded(db, "operation-ended").await.len() >= n).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    recorded(db, "operation-ended").await
}
