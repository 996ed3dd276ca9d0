//! The simulation through the API, as the portal sees it: create, scale, upgrade (with and without
//! a blocking PodDisruptionBudget), autoscale, delete, metrics, logs and every fault.

mod support;

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Node, Pod, Secret};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::Client;
use kube::api::{
    Api, DeleteParams, DynamicObject, ListParams, LogParams, Patch, PatchParams, PostParams,
};
use serde_json::{Value, json};

use support::*;

async fn create(client: &Client, body: Value) {
    let obj: DynamicObject = serde_json::from_value(body).expect("cluster object");
    clusters(client)
        .create(&PostParams::default(), &obj)
        .await
        .expect("cluster created");
}

async fn get(client: &Client, name: &str) -> Value {
    serde_json::to_value(clusters(client).get(name).await.expect("cluster")).expect("json")
}

async fn patch(client: &Client, name: &str, body: Value) {
    clusters(client)
        .patch(name, &PatchParams::default(), &Patch::Merge(&body))
        .await
        .expect("patched");
}

/// Waits until the cluster is Provisioned with `ready` worker nodes, then returns a workload client.
async fn workload(client: &Client, name: &str, ready: i64) -> Client {
    eventually(
        30,
        &format!("{name} provisioned with {ready} ready workers"),
        || async {
            let c = get(client, name).await;
            (c["status"]["phase"] == "Provisioned"
                && c["status"]["workers"]["readyReplicas"] == ready)
                .then_some(())
        },
    )
    .await;
    let secret = Api::<Secret>::namespaced(client.clone(), "default")
        .get(&format!("{name}-kubeconfig"))
        .await
        .expect("kubeconfig secret");
    let bytes = secret.data.expect("data")["value"].0.clone();
    client_for(&String::from_utf8(bytes).expect("utf-8 kubeconfig")).await
}

async fn ready_nodes(w: &Client) -> Vec<Node> {
    Api::<Node>::all(w.clone())
        .list(&ListParams::default())
        .await
        .map(|l| l.items)
        .unwrap_or_default()
        .into_iter()
        .filter(|n| {
            n.status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        })
        .collect()
}

fn kubelet(n: &Node) -> String {
    n.status
        .as_ref()
        .and_then(|s| s.node_info.as_ref())
        .map(|i| i.kubelet_version.clone())
        .unwrap_or_default()
}

fn replicas(n: i64) -> Value {
    json!({"spec": {"topology": {"workers": {"machineDeployments": [
        {"class": "default-worker", "name": "pool1", "replicas": n,
         "variables": {"overrides": [{"name": "vmSize", "value": "Standard_D4s_v5"}]}}]}}}})
}

#[tokio::test]
async fn a_cluster_is_created_scaled_upgraded_and_deleted() {
    let sim = fast_sim().await;
    let client = client_for(sim.kubeconfig()).await;
    create(&client, cluster("life", "v1.33.2", 2, "Standard_D4s_v5")).await;
    eventually(10, "Provisioning", || async {
        (get(&client, "life").await["status"]["phase"] == "Provisioning").then_some(())
    })
    .await;
    let w = workload(&client, "life", 2).await;
    let c = get(&client, "life").await;
    assert_eq!(
        condition(&c, "Available").map(|c| c["status"].clone()),
        Some(json!("True")),
        "{c}"
    );
    assert_eq!(
        condition(&c, "ControlPlaneAvailable").map(|c| c["status"].clone()),
        Some(json!("True"))
    );
    assert_eq!(
        c["status"]["controlPlane"]["versions"][0]["version"],
        "v1.33.2"
    );
    assert_eq!(
        w.apiserver_version()
            .await
            .expect("workload version")
            .git_version,
        "v1.33.2"
    );
    assert_eq!(ready_nodes(&w).await.len(), 2);

    // Pods are scheduled by requests and start.
    let pods: Api<Pod> = Api::namespaced(w.clone(), "kube-system");
    let coredns = eventually(20, "coredns running", || async {
        let list = pods
            .list(&ListParams::default().labels("app=coredns"))
            .await
            .ok()?;
        let running: Vec<Pod> = list
            .items
            .into_iter()
            .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
            .collect();
        (running.len() == 2).then_some(running)
    })
    .await;
    let name = coredns[0].metadata.name.clone().expect("name");
    let on_node = Api::<Pod>::all(w.clone())
        .list(&ListParams::default().fields(&format!(
                "spec.nodeName={}",
                coredns[0]
                    .spec
                    .as_ref()
                    .and_then(|s| s.node_name.clone())
                    .expect("bound")
            )))
        .await
        .expect("by node");
    assert!(
        on_node
            .items
            .iter()
            .any(|p| p.metadata.name.as_deref() == Some(name.as_str()))
    );

    // Logs: tail, and they are plausible coredns lines.
    let log = pods
        .logs(
            &name,
            &LogParams {
                tail_lines: Some(3),
                ..Default::default()
            },
        )
        .await
        .expect("logs");
    assert_eq!(log.lines().count(), 3, "{log}");
    assert!(log.contains("IN "), "{log}");

    // Metrics: every ready node and running pod, moving with load.
    let nm = Api::<DynamicObject>::all_with(w.clone(), &metrics("NodeMetrics"));
    let node_metrics = eventually(10, "node metrics", || async {
        let l = nm.list(&ListParams::default()).await.ok()?;
        (l.items.len() == 2).then_some(l.items)
    })
    .await;
    assert!(
        node_metrics[0].data["usage"]["cpu"]
            .as_str()
            .is_some_and(|c| c.ends_with('n'))
    );
    let pm =
        Api::<DynamicObject>::namespaced_with(w.clone(), "kube-system", &metrics("PodMetrics"));
    let one = pm.get(&name).await.expect("pod metrics");
    assert_eq!(one.data["containers"][0]["name"], "coredns");

    // Scale up and down, one node at a time.
    patch(&client, "life", replicas(3)).await;
    eventually(30, "3 ready nodes", || async {
        (ready_nodes(&w).await.len() == 3).then_some(())
    })
    .await;
    patch(&client, "life", replicas(1)).await;
    eventually(30, "1 node left", || async {
        let n = Api::<Node>::all(w.clone())
            .list(&ListParams::default())
            .await
            .ok()?;
        (n.items.len() == 1).then_some(())
    })
    .await;
    let c = get(&client, "life").await;
    eventually(10, "workers report 1 replica", || async {
        (get(&client, "life").await["status"]["workers"]["replicas"] == 1).then_some(())
    })
    .await;
    assert_eq!(
        c["spec"]["topology"]["workers"]["machineDeployments"][0]["replicas"],
        1
    );

    // Upgrade: control plane first, then the pool, node by node (surge, drain, delete).
    patch(
        &client,
        "life",
        json!({"spec": {"topology": {"version": "v1.33.5"}}}),
    )
    .await;
    eventually(10, "RollingOut", || async {
        let c = get(&client, "life").await;
        (condition(&c, "RollingOut")?["status"] == "True").then_some(())
    })
    .await;
    eventually(40, "nodes on v1.33.5", || async {
        let nodes = ready_nodes(&w).await;
        (nodes.len() == 1 && nodes.iter().all(|n| kubelet(n) == "v1.33.5")).then_some(())
    })
    .await;
    assert_eq!(
        w.apiserver_version().await.expect("version").git_version,
        "v1.33.5"
    );
    eventually(10, "upgrade finished", || async {
        let c = get(&client, "life").await;
        (condition(&c, "RollingOut")?["status"] == "False"
            && c["status"]["workers"]["upToDateReplicas"] == 1)
            .then_some(())
    })
    .await;

    // Deletion takes time: Deleting first, then gone with its kubeconfig and workload API.
    clusters(&client)
        .delete("life", &DeleteParams::default())
        .await
        .expect("delete accepted");
    let c = get(&client, "life").await;
    assert!(
        c["metadata"]["deletionTimestamp"].is_string(),
        "a finalizer holds the Cluster"
    );
    eventually(30, "cluster gone", || async {
        clusters(&client).get("life").await.is_err().then_some(())
    })
    .await;
    assert!(
        Api::<Secret>::namespaced(client.clone(), "default")
            .get("life-kubeconfig")
            .await
            .is_err()
    );
    assert!(
        w.apiserver_version().await.is_err(),
        "the workload API is gone"
    );
    sim.stop().await;
}

#[tokio::test]
async fn a_pdb_with_no_allowed_disruption_blocks_the_upgrade_until_it_is_removed() {
    let sim = fast_sim().await;
    let client = client_for(sim.kubeconfig()).await;
    let mut body = cluster("guarded", "v1.32.3", 2, "Standard_D4s_v5");
    body["metadata"]["annotations"] =
        json!({"kubesim.portolan.dev/blocking-pdb": "payments/ledger"});
    create(&client, body).await;
    let w = workload(&client, "guarded", 2).await;
    let pdbs: Api<PodDisruptionBudget> = Api::namespaced(w.clone(), "payments");
    eventually(
        20,
        "the PDB allows 0 disruptions with its pod running",
        || async {
            let p = pdbs.get("ledger-pdb").await.ok()?;
            let s = p.status?;
            (s.current_healthy == 1 && s.disruptions_allowed == 0).then_some(())
        },
    )
    .await;
    patch(
        &client,
        "guarded",
        json!({"spec": {"topology": {"version": "v1.33.0"}}}),
    )
    .await;
    let msg = eventually(60, "the drain reported blocked", || async {
        let c = get(&client, "guarded").await;
        let m = condition(&c, "RollingOut")?["message"]
            .as_str()?
            .to_string();
        m.contains("disruption budget").then_some(m)
    })
    .await;
    assert!(msg.contains("ledger-pdb"), "{msg}");
    let md: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), "default", &capi("MachineDeployment"));
    let md = serde_json::to_value(md.get("guarded-pool1").await.expect("md")).expect("json");
    let rolling = condition(&md, "RollingOut").expect("RollingOut");
    assert!(
        rolling["message"]
            .as_str()
            .unwrap_or("")
            .contains("disruption budget"),
        "{rolling}"
    );
    // Blocked means blocked: the old node is still there, cordoned.
    let old: Vec<Node> = Api::<Node>::all(w.clone())
        .list(&ListParams::default())
        .await
        .expect("nodes")
        .items
        .into_iter()
        .filter(|n| kubelet(n) == "v1.32.3")
        .collect();
    assert!(!old.is_empty());
    assert!(
        old.iter()
            .any(|n| n.spec.as_ref().and_then(|s| s.unschedulable) == Some(true)),
        "the node being drained is cordoned"
    );

    pdbs.delete("ledger-pdb", &DeleteParams::default())
        .await
        .expect("pdb removed");
    eventually(60, "all nodes upgraded", || async {
        let nodes = Api::<Node>::all(w.clone())
            .list(&ListParams::default())
            .await
            .ok()?
            .items;
        (nodes.len() == 2 && nodes.iter().all(|n| kubelet(n) == "v1.33.0")).then_some(())
    })
    .await;
    sim.stop().await;
}

#[tokio::test]
async fn deferred_pools_keep_their_version() {
    let sim = fast_sim().await;
    let client = client_for(sim.kubeconfig()).await;
    let mut body = cluster("held", "v1.33.2", 1, "Standard_D4s_v5");
    body["spec"]["topology"]["workers"]["machineDeployments"][0]["metadata"] =
        json!({"annotations": {"topology.cluster.x-k8s.io/defer-upgrade": ""}});
    create(&client, body).await;
    let w = workload(&client, "held", 1).await;
    patch(
        &client,
        "held",
        json!({"spec": {"topology": {"version": "v1.33.5"}}}),
    )
    .await;
    eventually(20, "control plane upgraded", || async {
        (w.apiserver_version().await.ok()?.git_version == "v1.33.5").then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let nodes = ready_nodes(&w).await;
    assert_eq!(
        nodes.iter().map(kubelet).collect::<Vec<_>>(),
        vec!["v1.33.2"],
        "the deferred pool stays"
    );
    sim.stop().await;
}

#[tokio::test]
async fn the_autoscaler_adds_nodes_for_pending_pods_and_removes_idle_ones() {
    let sim = fast_sim().await;
    let client = client_for(sim.kubeconfig()).await;
    let mut body = cluster("elastic", "v1.34.0", 1, "Standard_D2s_v5");
    body["metadata"]["annotations"] = json!({"kubesim.portolan.dev/workload-scale": "2"});
    body["spec"]["topology"]["workers"]["machineDeployments"][0]["metadata"] = json!({"annotations": {
        "cluster.x-k8s.io/cluster-api-autoscaler-node-group-min-size": "1",
        "cluster.x-k8s.io/cluster-api-autoscaler-node-group-max-size": "3"}});
    create(&client, body).await;
    let w = workload(&client, "elastic", 1).await;
    let pending = eventually(20, "pods pending for capacity", || async {
        let pods = Api::<Pod>::all(w.clone())
            .list(&ListParams::default().fields("status.phase=Pending"))
            .await
            .ok()?;
        let unschedulable = pods
            .items
            .iter()
            .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_none())
            .count();
        (unschedulable > 0).then_some(unschedulable)
    })
    .await;
    assert!(pending > 0);
    eventually(40, "scaled up to the maximum", || async {
        (ready_nodes(&w).await.len() == 3).then_some(())
    })
    .await;

    // Shrink the workload: idle nodes go back down to the minimum.
    let deployments = ["frontend", "cart", "catalog", "checkout"];
    for d in deployments {
        let api: Api<k8s_openapi::api::apps::v1::Deployment> = Api::namespaced(w.clone(), "shop");
        api.patch(
            d,
            &PatchParams::default(),
            &Patch::Merge(&json!({"spec": {"replicas": 0}})),
        )
        .await
        .expect("scaled to 0");
    }
    for (ns, d) in [
        ("payments", "api"),
        ("payments", "ledger"),
        ("data", "redis"),
        ("data", "postgres"),
    ] {
        let api: Api<k8s_openapi::api::apps::v1::Deployment> = Api::namespaced(w.clone(), ns);
        api.patch(
            d,
            &PatchParams::default(),
            &Patch::Merge(&json!({"spec": {"replicas": 0}})),
        )
        .await
        .expect("scaled to 0");
    }
    eventually(60, "idle nodes removed", || async {
        let n = Api::<Node>::all(w.clone())
            .list(&ListParams::default())
            .await
            .ok()?;
        (n.items.len() < 3).then_some(())
    })
    .await;
    sim.stop().await;
}

#[tokio::test]
async fn injected_faults_fail_slow_drop_and_starve_then_recover() {
    let sim = fast_sim().await;
    let client = client_for(sim.kubeconfig()).await;
    let classes =
        Api::<DynamicObject>::namespaced_with(client.clone(), "default", &capi("ClusterClass"));

    sim.faults()
        .apply(&kubesim::FaultRequest {
            fail_requests: Some(2),
            fail_status: Some(500),
            ..Default::default()
        })
        .expect("armed");
    for _ in 0..2 {
        let (code, _, message) = api_error(classes.get("managed-k8s").await.unwrap_err());
        assert_eq!(code, 500, "{message}");
    }
    classes
        .get("managed-k8s")
        .await
        .expect("third request succeeds");

    sim.faults()
        .apply(&kubesim::FaultRequest {
            latency_ms: Some(300),
            ..Default::default()
        })
        .expect("armed");
    let started = Instant::now();
    classes.get("managed-k8s").await.expect("slow but fine");
    assert!(started.elapsed() >= Duration::from_millis(300));
    sim.faults().clear();
    assert!(
        sim.faults()
            .apply(&kubesim::FaultRequest {
                fail_status: Some(200),
                ..Default::default()
            })
            .is_err()
    );

    // A node that fails to join is replaced; a quota error delays the scale-up, then it succeeds.
    sim.faults()
        .apply(&kubesim::FaultRequest {
            fail_node_joins: Some(1),
            ..Default::default()
        })
        .expect("armed");
    create(&client, cluster("flaky", "v1.33.2", 1, "Standard_D4s_v5")).await;
    let machines =
        Api::<DynamicObject>::namespaced_with(client.clone(), "default", &capi("Machine"));
    eventually(30, "a failed machine", || async {
        let l = machines.list(&ListParams::default()).await.ok()?;
        l.items
            .iter()
            .any(|m| m.data["status"]["phase"] == "Failed")
            .then_some(())
    })
    .await;
    let w = workload(&client, "flaky", 1).await;
    sim.faults()
        .apply(&kubesim::FaultRequest {
            exhaust_quota: Some(1),
            ..Default::default()
        })
        .expect("armed");
    patch(&client, "flaky", replicas(2)).await;
    let message = eventually(20, "quota error reported", || async {
        let c = get(&client, "flaky").await;
        let m = condition(&c, "ScalingUp")?["message"].as_str()?.to_string();
        m.contains("quota").then_some(m)
    })
    .await;
    assert!(message.contains("Standard_D4s_v5"), "{message}");
    eventually(40, "scale-up succeeds after the quota error", || async {
        (ready_nodes(&w).await.len() == 2).then_some(())
    })
    .await;
    assert_eq!(sim.faults().state().exhaust_quota, 0);
    sim.stop().await;
}

#[tokio::test]
async fn clusters_serve_configmaps_secrets_leases_and_the_all_category() {
    use k8s_openapi::api::coordination::v1::Lease;
    use k8s_openapi::api::core::v1::ConfigMap;
    let sim = fast_sim().await;
    let client = client_for(sim.kubeconfig()).await;
    create(&client, cluster("kinds", "v1.33.2", 1, "Standard_D4s_v5")).await;
    let w = workload(&client, "kinds", 1).await;

    let maps: Api<ConfigMap> = Api::namespaced(w.clone(), "default");
    let map: ConfigMap = serde_json::from_value(
        json!({"metadata": {"name": "settings"}, "data": {"level": "debug"}}),
    )
    .expect("configmap");
    maps.create(&PostParams::default(), &map)
        .await
        .expect("configmap created");
    assert_eq!(
        maps.get("settings")
            .await
            .expect("configmap")
            .data
            .expect("data")["level"],
        "debug"
    );
    let secrets: Api<Secret> = Api::namespaced(w.clone(), "default");
    let secret: Secret =
        serde_json::from_value(json!({"metadata": {"name": "token"}, "stringData": {"t": "abc"}}))
            .expect("secret");
    let stored = secrets
        .create(&PostParams::default(), &secret)
        .await
        .expect("secret created");
    assert_eq!(stored.type_.as_deref(), Some("Opaque"));
    assert_eq!(stored.data.expect("data")["t"].0, b"abc");
    assert!(
        Api::<Secret>::namespaced(client.clone(), "default")
            .get_opt("token")
            .await
            .expect("management get")
            .is_none(),
        "the workload cluster's Secret is not the management cluster's"
    );

    // Leader election: two candidates race with the same resourceVersion; one wins, one gets 409.
    for plane in [client.clone(), w.clone()] {
        let leases: Api<Lease> = Api::namespaced(plane, "default");
        let lease: Lease = serde_json::from_value(json!({"metadata": {"name": "portal-leader"},
            "spec": {"holderIdentity": "replica-a", "leaseDurationSeconds": 15}}))
        .expect("lease");
        let first = leases
            .create(&PostParams::default(), &lease)
            .await
            .expect("lease created");
        let mut take = first.clone();
        take.spec.get_or_insert_default().holder_identity = Some("replica-b".into());
        leases
            .replace("portal-leader", &PostParams::default(), &take)
            .await
            .expect("first update wins");
        take.spec.get_or_insert_default().holder_identity = Some("replica-c".into());
        let (code, reason, _) = api_error(
            leases
                .replace("portal-leader", &PostParams::default(), &take)
                .await
                .unwrap_err(),
        );
        assert_eq!((code, reason.as_str()), (409, "Conflict"));
        let now = leases.get("portal-leader").await.expect("lease");
        assert_eq!(
            now.spec.and_then(|s| s.holder_identity).as_deref(),
            Some("replica-b")
        );
    }

    // `kubectl get all` finds its kinds through discovery's "all" category.
    let mut lists = vec![w.list_core_api_resources("v1").await.expect("core")];
    for group in w.list_api_groups().await.expect("groups").groups {
        for version in group.versions {
            lists.push(
                w.list_api_group_resources(&version.group_version)
                    .await
                    .expect("group resources"),
            );
        }
    }
    let mut all: Vec<String> = lists
        .into_iter()
        .flat_map(|l| l.resources)
        .filter(|r| r.categories.iter().flatten().any(|c| c == "all"))
        .map(|r| r.kind)
        .collect();
    all.sort();
    assert_eq!(all, ["DaemonSet", "Deployment", "Pod", "ReplicaSet"]);

    // kube-proxy is a DaemonSet: one pod per node, owned by it, counted in its status.
    use k8s_openapi::api::apps::v1::DaemonSet;
    let sets: Api<DaemonSet> = Api::namespaced(w.clone(), "kube-system");
    let proxy = eventually(30, "kube-proxy's status", || {
        let sets = sets.clone();
        async move {
            let ds = sets.get("kube-proxy").await.ok()?;
            let st = ds.status.clone()?;
            (st.desired_number_scheduled == 1 && st.number_ready == 1).then_some(ds)
        }
    })
    .await;
    assert_eq!(proxy.metadata.generation, Some(1));
    let pods: Api<Pod> = Api::namespaced(w.clone(), "kube-system");
    let owned: Vec<Pod> = pods
        .list(&ListParams::default())
        .await
        .expect("pods")
        .items
        .into_iter()
        .filter(|p| {
            p.metadata
                .owner_references
                .iter()
                .flatten()
                .any(|o| o.kind == "DaemonSet" && Some(&o.uid) == proxy.metadata.uid.as_ref())
        })
        .collect();
    assert_eq!(owned.len(), 1, "one kube-proxy pod on the one node");
    sim.stop().await;
}

/// The status code of a GET of `path` with `client`'s credentials.
async fn status_of(client: &Client, path: &str) -> u16 {
    let req = http::Request::builder()
        .uri(path)
        .body(kube::client::Body::empty())
        .expect("request");
    client.send(req).await.expect("an answer").status().as_u16()
}

/// A cluster's kubeconfig as its Secret holds it.
async fn kubeconfig_of(client: &Client, name: &str) -> String {
    let secret = Api::<Secret>::namespaced(client.clone(), "default")
        .get(&format!("{name}-kubeconfig"))
        .await
        .expect("kubeconfig secret");
    String::from_utf8(secret.data.expect("data")["value"].0.clone()).expect("utf-8")
}

fn token_in(kubeconfig: &str) -> String {
    let v: Value = serde_yaml::from_str(kubeconfig).expect("yaml");
    v["users"][0]["user"]["token"]
        .as_str()
        .expect("a token")
        .to_string()
}

#[tokio::test]
async fn each_workload_cluster_has_its_own_token_and_its_api_at_the_root() {
    let sim = fast_sim().await;
    let client = client_for(sim.kubeconfig()).await;
    create(&client, cluster("tok-a", "v1.33.2", 1, "Standard_D2s_v5")).await;
    create(&client, cluster("tok-b", "v1.33.2", 1, "Standard_D2s_v5")).await;
    let a = workload(&client, "tok-a", 1).await;
    let b = workload(&client, "tok-b", 1).await;
    let (ka, kb) = (
        kubeconfig_of(&client, "tok-a").await,
        kubeconfig_of(&client, "tok-b").await,
    );
    let (ta, tb) = (token_in(&ka), token_in(&kb));
    assert!(
        ta != tb && ta != sim.token() && tb != sim.token(),
        "three distinct tokens"
    );
    assert!(
        ka.contains("server: \"https://127.0.0.1:"),
        "served over TLS:\n{ka}"
    );
    assert!(ka.contains("certificate-authority-data:"), "{ka}");

    let names = |c: Client| async move {
        let nodes: Vec<String> = Api::<Node>::all(c)
            .list(&ListParams::default())
            .await
            .expect("nodes")
            .items
            .into_iter()
            .filter_map(|n| n.metadata.name)
            .collect();
        nodes
    };
    let (na, nb) = (names(a.clone()).await, names(b.clone()).await);
    assert_eq!(na.len(), 1);
    assert_ne!(na, nb, "each token opens its own cluster");
    // A workload token opens nothing else: not the other cluster, not the management API.
    assert_eq!(status_of(&a, "/api/v1/nodes").await, 200);
    assert_eq!(
        status_of(&a, "/clusters/default/tok-b/api/v1/nodes").await,
        404
    );
    assert_eq!(
        status_of(
            &a,
            "/apis/cluster.x-k8s.io/v1beta2/namespaces/default/clusters"
        )
        .await,
        404
    );
    assert_eq!(
        status_of(&a, "/api/v1/namespaces/default/secrets/tok-b-kubeconfig").await,
        404
    );
    assert_eq!(status_of(&a, "/kubesim/faults").await, 404);
    // The management token reaches every cluster under /clusters/<namespace>/<name>.
    assert_eq!(
        status_of(&client, "/clusters/default/tok-a/api/v1/nodes").await,
        200
    );
    // Without a token: 401, a Status.
    let anonymous = client_for(&ka.replace(&format!("token: \"{ta}\""), "token: \"\"")).await;
    let (code, reason, _) = api_error(
        Api::<Node>::all(anonymous)
            .list(&ListParams::default())
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (401, "Unauthorized"));

    // A deleted cluster's token opens nothing, even when the name comes back.
    clusters(&client)
        .delete("tok-a", &DeleteParams::default())
        .await
        .expect("deleted");
    eventually(30, "tok-a's token stops working", || {
        let a = a.clone();
        async move { (status_of(&a, "/api/v1/nodes").await == 401).then_some(()) }
    })
    .await;
    assert_eq!(
        status_of(&b, "/api/v1/nodes").await,
        200,
        "tok-b keeps working"
    );
    sim.stop().await;
}

#[tokio::test]
async fn scale_subresources_read_and_write_replicas() {
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::autoscaling::v1::Scale;
    let sim = fast_sim().await;
    let client = client_for(sim.kubeconfig()).await;
    create(&client, cluster("scl", "v1.33.2", 1, "Standard_D4s_v5")).await;
    let w = workload(&client, "scl", 1).await;

    // A MachineDeployment's Scale: replicas and the selector Cluster API publishes in status.
    let mds = Api::<DynamicObject>::namespaced_with(
        client.clone(),
        "default",
        &capi("MachineDeployment"),
    );
    let scale = mds
        .get_scale("scl-pool1")
        .await
        .expect("MachineDeployment scale");
    assert_eq!(scale.spec.and_then(|s| s.replicas), Some(1));
    let status = scale.status.expect("status");
    assert_eq!(status.replicas, 1);
    assert_eq!(
        status.selector.as_deref(),
        Some("cluster.x-k8s.io/cluster-name=scl,topology.cluster.x-k8s.io/deployment-name=pool1")
    );

    let deployments: Api<Deployment> = Api::namespaced(w.clone(), "default");
    let web: Deployment = serde_json::from_value(json!({"metadata": {"name": "web"}, "spec": {
        "replicas": 1, "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}}}))
    .expect("deployment");
    deployments
        .create(&PostParams::default(), &web)
        .await
        .expect("created");
    let scale = deployments
        .patch_scale(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 3}})),
        )
        .await
        .expect("scaled");
    assert_eq!(scale.spec.and_then(|s| s.replicas), Some(3));
    assert_eq!(
        scale.status.and_then(|s| s.selector).as_deref(),
        Some("app=web")
    );
    let d = deployments.get("web").await.expect("deployment");
    assert_eq!(d.spec.and_then(|s| s.replicas), Some(3));
    assert_eq!(d.metadata.generation, Some(2), "a scale is a spec change");
    eventually(30, "three pods", || {
        let deployments = deployments.clone();
        async move {
            let d = deployments.get("web").await.ok()?;
            (d.status?.replicas == Some(3)).then_some(())
        }
    })
    .await;

    // Bad input changes nothing: negative replicas (422), a stale resourceVersion (409).
    let mut stale: Scale = deployments.get_scale("web").await.expect("scale");
    stale.spec.get_or_insert_default().replicas = Some(-1);
    let (code, reason, _) = api_error(
        deployments
            .replace_scale("web", &PostParams::default(), &stale)
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (422, "Invalid"));
    let mut renamed = stale.clone();
    renamed.spec.get_or_insert_default().replicas = Some(4);
    renamed.metadata.name = Some("other".into());
    let (code, reason, _) = api_error(
        deployments
            .replace_scale("web", &PostParams::default(), &renamed)
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (400, "BadRequest"));
    stale.spec.get_or_insert_default().replicas = Some(5);
    stale.metadata.resource_version = Some("1".into());
    let (code, reason, _) = api_error(
        deployments
            .replace_scale("web", &PostParams::default(), &stale)
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (409, "Conflict"));
    let d = deployments.get("web").await.expect("deployment");
    assert_eq!(d.spec.and_then(|s| s.replicas), Some(3), "still three");
    sim.stop().await;
}

#[tokio::test]
async fn what_the_simulation_writes_declares_only_fields_kubernetes_knows() {
    use kubesim::resources::{Plane, RESOURCES};
    let sim = fast_sim().await;
    let client = client_for(sim.kubeconfig()).await;
    let mut body = cluster("known", "v1.33.2", 2, "Standard_D4s_v5");
    body["metadata"]["annotations"] =
        json!({"kubesim.portolan.dev/blocking-pdb": "payments/ledger"});
    create(&client, body).await;
    let w = workload(&client, "known", 2).await;
    // Some of everything: events, a crash loop, a lease, an eviction's aftermath.
    let pods: Api<Pod> = Api::namespaced(w.clone(), "shop");
    let frontend = eventually(30, "a frontend pod", || {
        let pods = pods.clone();
        async move {
            pods.list(&ListParams::default().labels("app=frontend"))
                .await
                .ok()?
                .items
                .into_iter()
                .next()
        }
    })
    .await;
    let name = frontend.metadata.name.clone().expect("name");
    pods.patch(
        &name,
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {kubesim::CRASH_LOOP_LABEL: "true"}}})),
    )
    .await
    .expect("labelled");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let schemas = kubesim::schemas::Schemas::default();
    let workload = sim.workload("default", "known").expect("workload store");
    for (res_id, r) in RESOURCES.iter().enumerate() {
        if r.computed || r.group == kubesim::resources::CAPI_GROUP {
            continue;
        }
        let store: &kubesim::store::Store = match r.plane {
            Plane::Management => sim.management(),
            Plane::Workload => &workload,
        };
        for o in store.all(res_id) {
            let v = o.value();
            let unknown = kubesim::fields::prune(&schemas, res_id, &mut v.clone());
            assert!(
                unknown.is_empty(),
                "{} {}/{} has fields Kubernetes does not declare: {unknown:?}\n{v}",
                r.kind,
                o.namespace,
                o.name
            );
        }
    }
    sim.stop().await;
}

#[tokio::test]
async fn deletes_propagate_to_dependents_and_pods_and_namespaces_pass_through_terminating() {
    use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
    use k8s_openapi::api::core::v1::Namespace;
    use kube::api::PropagationPolicy;
    let sim = fast_sim().await;
    let client = client_for(sim.kubeconfig()).await;
    create(&client, cluster("del", "v1.33.2", 1, "Standard_D8s_v5")).await;
    let w = workload(&client, "del", 1).await;
    let deployments: Api<Deployment> = Api::namespaced(w.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(w.clone(), "default");
    let running = |app: &'static str| {
        let pods = pods.clone();
        async move {
            eventually(30, &format!("two running {app} pods"), || {
                let pods = pods.clone();
                async move {
                    let list = pods
                        .list(&ListParams::default().labels(&format!("app={app}")))
                        .await
                        .ok()?;
                    let names: Vec<String> = list
                        .items
                        .iter()
                        .filter(|p| {
                            p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
                        })
                        .filter_map(|p| p.metadata.name.clone())
                        .collect();
                    (names.len() == 2).then_some(names)
                }
            })
            .await
        }
    };
    for app in ["keep", "fg", "bg"] {
        let d: Deployment = serde_json::from_value(json!({"metadata": {"name": app}, "spec": {
            "replicas": 2, "selector": {"matchLabels": {"app": app}},
            "template": {"metadata": {"labels": {"app": app}}, "spec": {"containers": [{"name": "c", "image": "nginx:1.27",
                "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}}}))
        .expect("deployment");
        deployments
            .create(&PostParams::default(), &d)
            .await
            .expect("created");
    }

    // Orphan: the Deployment goes, its ReplicaSet stays, no longer owned, and keeps its pods.
    let kept = running("keep").await;
    let orphan = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Orphan),
        ..DeleteParams::default()
    };
    deployments.delete("keep", &orphan).await.expect("deleted");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sets: Api<ReplicaSet> = Api::namespaced(w.clone(), "default");
    let kept_sets = sets
        .list(&ListParams::default().labels("app=keep"))
        .await
        .expect("replica sets")
        .items;
    assert_eq!(kept_sets.len(), 1);
    assert!(kept_sets[0].metadata.owner_references.is_none());
    let set_name = kept_sets[0].metadata.name.clone().expect("named");
    for name in &kept {
        let p = pods.get(name).await.expect("an orphan stays");
        let owners = p.metadata.owner_references.clone().unwrap_or_default();
        assert_eq!(
            owners
                .iter()
                .map(|o| (o.kind.as_str(), o.name.as_str()))
                .collect::<Vec<_>>(),
            vec![("ReplicaSet", set_name.as_str())],
            "{name}"
        );
        assert!(p.metadata.deletion_timestamp.is_none());
    }

    // Foreground: the Deployment is held (202, foregroundDeletion) until its pods are gone.
    let fg = running("fg").await;
    let foreground = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Foreground),
        ..DeleteParams::default()
    };
    let held = deployments
        .delete("fg", &foreground)
        .await
        .expect("deleted")
        .left()
        .expect("the Deployment, still there");
    assert_eq!(
        held.metadata.finalizers,
        Some(vec!["foregroundDeletion".to_string()])
    );
    assert!(held.metadata.deletion_timestamp.is_some());
    let terminating = pods.get(&fg[0]).await.expect("a pod, terminating");
    assert!(terminating.metadata.deletion_timestamp.is_some());
    assert_eq!(terminating.metadata.deletion_grace_period_seconds, Some(30));
    eventually(30, "fg and its pods gone", || {
        let (deployments, pods, fg) = (deployments.clone(), pods.clone(), fg.clone());
        async move {
            let d = deployments.get_opt("fg").await.ok()?;
            let p = pods.get_opt(&fg[1]).await.ok()?;
            (d.is_none() && p.is_none()).then_some(())
        }
    })
    .await;

    // Background (the default): the Deployment goes at once, its pods after it.
    let bg = running("bg").await;
    let gone = deployments
        .delete("bg", &DeleteParams::default())
        .await
        .expect("deleted");
    assert!(gone.is_left());
    assert!(deployments.get_opt("bg").await.expect("get").is_none());
    eventually(30, "bg's pods gone", || {
        let (pods, bg) = (pods.clone(), bg.clone());
        async move { pods.get_opt(&bg[0]).await.ok()?.is_none().then_some(()) }
    })
    .await;

    // A pod deleted with gracePeriodSeconds=0 goes at once; so does a terminating one deleted
    // again with it (kubectl delete --force), unless a finalizer holds it.
    let now = DeleteParams {
        grace_period_seconds: Some(0),
        ..DeleteParams::default()
    };
    deleted_at_once(&pods, &kept[0], &now).await;
    let held: Pod = serde_json::from_value(
        json!({"metadata": {"name": "held", "finalizers": ["example.com/hold"]}, "spec": {
        "containers": [{"name": "c", "image": "busybox:1.36",
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}),
    )
    .expect("pod");
    pods.create(&PostParams::default(), &held)
        .await
        .expect("created");
    let lone: Pod = serde_json::from_value(json!({"metadata": {"name": "lone"}, "spec": {
        "containers": [{"name": "c", "image": "busybox:1.36",
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}))
    .expect("pod");
    pods.create(&PostParams::default(), &lone)
        .await
        .expect("created");
    for name in ["lone", "held"] {
        eventually(30, &format!("{name} is scheduled"), || {
            let pods = pods.clone();
            async move {
                let p = pods.get(name).await.ok()?;
                p.spec?.node_name.map(|_| ())
            }
        })
        .await;
    }
    sim.set_speed(0.001);
    let graceful = pods
        .delete("lone", &DeleteParams::default())
        .await
        .expect("deleted")
        .left()
        .expect("still there, terminating");
    assert_eq!(graceful.metadata.deletion_grace_period_seconds, Some(30));
    deleted_at_once(&pods, "lone", &now).await;
    pods.delete("held", &DeleteParams::default())
        .await
        .expect("deleted");
    pods.delete("held", &now).await.expect("deleted again");
    let still = pods.get("held").await.expect("the finalizer holds it");
    assert!(still.metadata.deletion_timestamp.is_some());
    sim.set_speed(100.0);
    pods.patch(
        "held",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .expect("released");
    eventually(30, "held gone once released", || {
        let pods = pods.clone();
        async move { pods.get_opt("held").await.ok()?.is_none().then_some(()) }
    })
    .await;

    // A bad policy changes nothing.
    let req = http::Request::builder()
        .method("DELETE")
        .uri(format!(
            "/api/v1/namespaces/default/pods/{}?propagationPolicy=Sideways",
            kept[1]
        ))
        .body(kube::client::Body::empty())
        .expect("request");
    assert_eq!(w.send(req).await.expect("answer").status().as_u16(), 422);
    assert!(pods.get_opt(&kept[1]).await.expect("get").is_some());

    // A namespace passes through Terminating, and what is in it goes with it.
    let namespaces: Api<Namespace> = Api::all(w.clone());
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": "temp"}})).expect("ns");
    namespaces
        .create(&PostParams::default(), &ns)
        .await
        .expect("created");
    let maps: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(w.clone(), "temp");
    let cm = serde_json::from_value(json!({"metadata": {"name": "c"}})).expect("cm");
    maps.create(&PostParams::default(), &cm)
        .await
        .expect("created");
    let last = namespaces
        .delete("temp", &DeleteParams::default())
        .await
        .expect("deleted")
        .left()
        .expect("the namespace");
    assert_eq!(
        last.status.and_then(|s| s.phase).as_deref(),
        Some("Terminating")
    );
    assert!(namespaces.get_opt("temp").await.expect("get").is_none());
    assert!(maps.get_opt("c").await.expect("get").is_none());
    sim.stop().await;
}

async fn deleted_at_once(pods: &Api<Pod>, name: &str, how: &DeleteParams) {
    pods.delete(name, how).await.expect("deleted");
    assert!(
        pods.get_opt(name).await.expect("get").is_none(),
        "{name} is gone at once"
    );
}
