//! The typed Cluster API objects and the shared fleet watch, against kubesim: every field survives
//! a read and write-back, the watch follows changes and keeps the last known state when the
//! management API goes away, and API refusals keep their meaning.

mod support;

use app::access::model::ClusterRef;
use app::error::AppError;
use server::fleet::resources::{Cluster, ClusterClass, Machine, MachineDeployment};
use server::fleet::watch::FleetWatch;
use server::fleet::{Management, clusters, pools, versions};

async fn demo() -> (kubesim::Sim, Management) {
    support::kubesim_demo(60.0).await
}

/// Every object of `plural` as the API returns it (JSON, untyped).
async fn raw(management: &Management, plural: &str) -> Vec<serde_json::Value> {
    let request = http::Request::get(format!("/apis/cluster.x-k8s.io/v1beta2/{plural}"))
        .body(Vec::new())
        .expect("request");
    let list: serde_json::Value = management.client().request(request).await.expect("list");
    list["items"].as_array().cloned().unwrap_or_default()
}

/// Reads each object as the typed kind and writes it back: nothing may be lost or changed.
fn round_trips<K: serde::de::DeserializeOwned + serde::Serialize>(items: &[serde_json::Value]) {
    assert!(!items.is_empty(), "there is something to compare");
    for item in items {
        let typed: K = serde_json::from_value(item.clone()).expect("typed");
        let back = serde_json::to_value(&typed).expect("serialised");
        assert_eq!(&back, item, "written back unchanged");
    }
}

#[tokio::test]
async fn typed_objects_read_what_the_portal_uses_and_keep_the_rest() {
    let (sim, management) = demo().await;
    // Machines appear once the control planes are up (seconds at this speed).
    support::until("machines appear", 20, async || {
        let machines = raw(&management, "machines").await;
        machines
            .iter()
            .any(|m| m["status"]["nodeRef"].is_object())
            .then_some(())
    })
    .await;
    round_trips::<Cluster>(&raw(&management, "clusters").await);
    round_trips::<MachineDeployment>(&raw(&management, "machinedeployments").await);
    round_trips::<Machine>(&raw(&management, "machines").await);
    round_trips::<ClusterClass>(&raw(&management, "clusterclasses").await);

    let prod = ClusterRef::new("default", "prod-weu");
    let cluster = clusters::require(&management, &prod)
        .await
        .expect("prod-weu");
    let topology = cluster.spec.topology.clone().expect("a topology");
    assert_eq!(topology.version, "v1.33.5");
    let pool_names: Vec<&str> = topology
        .workers
        .as_ref()
        .map(|w| {
            w.machine_deployments
                .iter()
                .map(|p| p.name.as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(pool_names, ["system", "apps"]);
    assert_eq!(topology.control_plane.and_then(|c| c.replicas), Some(3));

    let names: Vec<String> = clusters::names(&management)
        .await
        .expect("names")
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        names,
        ["default/ml-sea", "default/prod-weu", "default/staging-eus"]
    );

    let deployments = support::until("prod-weu's pools exist", 20, async || {
        let found = pools::list(&management, &prod).await.expect("pools");
        (found.len() == 2).then_some(found)
    })
    .await;
    assert!(
        deployments
            .iter()
            .all(|d| d.spec.cluster_name == "prod-weu"),
        "only prod-weu's pools"
    );

    let class = versions::class_of(&management, &cluster)
        .await
        .expect("class read")
        .expect("the demo class exists");
    let offered = versions::offered(&class);
    assert!(
        offered.iter().any(|v| v.to_string() == "v1.33.5"),
        "the class offers prod-weu's version: {offered:?}"
    );
    sim.stop().await;
}

#[tokio::test]
async fn refusals_keep_their_meaning() {
    let (sim, management) = demo().await;
    let missing = clusters::require(&management, &ClusterRef::new("default", "nope"))
        .await
        .expect_err("no such cluster");
    assert_eq!(missing.api_status(), Some(404));
    assert!(matches!(AppError::from(missing), AppError::NotFound(_)));

    let prod = clusters::require(&management, &ClusterRef::new("default", "prod-weu"))
        .await
        .expect("prod-weu");
    let mut again = prod.clone();
    again.metadata.resource_version = None;
    again.metadata.uid = None;
    again.status = None;
    let taken = clusters::create(&management, &again)
        .await
        .expect_err("the name is taken");
    assert_eq!(taken.api_status(), Some(409));
    assert!(matches!(AppError::from(taken), AppError::Conflict { .. }));
    sim.stop().await;
}

#[tokio::test]
async fn the_watch_follows_the_fleet_and_keeps_the_last_state_when_the_api_goes_away() {
    let (sim, management) = demo().await;
    let (watch, tasks) = FleetWatch::start(&management);
    let names = watch.cluster_names().await.expect("the first list arrives");
    let shown: Vec<String> = names.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        ["default/ml-sea", "default/prod-weu", "default/staging-eus"]
    );
    assert_eq!(watch.staleness(), None);

    // A new cluster shows up without anyone asking the API.
    let mut copy = clusters::require(&management, &ClusterRef::new("default", "staging-eus"))
        .await
        .expect("staging-eus");
    copy.metadata.name = Some("staging-copy".into());
    copy.metadata.resource_version = None;
    copy.metadata.uid = None;
    copy.status = None;
    clusters::create(&management, &copy).await.expect("created");
    support::until("the watch sees the new cluster", 20, async || {
        let names = watch.cluster_names().await?;
        names.iter().any(|c| c.name == "staging-copy").then_some(())
    })
    .await;

    // The API goes away: the last known state stays, and says since when it is stale.
    sim.stop().await;
    let stale = support::until("the watch notices", 20, async || watch.staleness()).await;
    assert!(!stale.reason.is_empty());
    let kept = watch.cluster_names().await.expect("still known");
    assert_eq!(kept.len(), 4, "{kept:?}");
    for task in tasks {
        task.abort();
    }
}
