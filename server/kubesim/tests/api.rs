//! kube-rs against kubesim over real HTTP: CRUD, conflicts, selectors, paging, patches, watches,
//! errors and bad input.

mod support;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::Client;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use serde_json::{Value, json};

use support::*;

fn secret(name: &str, tier: &str) -> Secret {
    serde_json::from_value(json!({"metadata": {"name": name, "labels": {"tier": tier}},
                                  "stringData": {"password": "s3cret"}}))
    .expect("valid secret")
}

async fn namespace(client: &Client, name: &str) {
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).expect("ns");
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .expect("namespace created");
}

#[tokio::test]
async fn typed_crud_with_conflicts_and_kubernetes_errors() {
    let sim = fast_sim().await;
    let client = client_for(sim.kubeconfig()).await;
    namespace(&client, "team-a").await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "team-a");

    let created = secrets
        .create(&PostParams::default(), &secret("db", "a"))
        .await
        .expect("created");
    let rv = created
        .metadata
        .resource_version
        .clone()
        .expect("has a resourceVersion");
    assert!(created.metadata.uid.is_some());
    // stringData is stored base64-encoded in data, as the real API server does.
    let data = created.data.expect("data");
    assert_eq!(data["password"].0, b"s3cret");

    let (code, reason, _) = api_error(
        secrets
            .create(&PostParams::default(), &secret("db", "a"))
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (409, "AlreadyExists"));

    let mut fresh = secrets.get("db").await.expect("get");
    fresh
        .metadata
        .labels
        .get_or_insert_default()
        .insert("tier".into(), "b".into());
    let updated = secrets
        .replace("db", &PostParams::default(), &fresh)
        .await
        .expect("update");
    assert_ne!(
        updated.metadata.resource_version.as_deref(),
        Some(rv.as_str())
    );

    let mut stale = fresh.clone();
    stale.metadata.resource_version = Some(rv);
    let (code, reason, message) = api_error(
        secrets
            .replace("db", &PostParams::default(), &stale)
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (409, "Conflict"), "{message}");

    let (code, reason, message) = api_error(secrets.get("missing").await.unwrap_err());
    assert_eq!((code, reason.as_str()), (404, "NotFound"));
    assert!(message.contains("\"missing\" not found"), "{message}");

    let err = secrets
        .create(&PostParams::default(), &secret("Bad_Name", "a"))
        .await
        .unwrap_err();
    match err {
        kube::Error::Api(s) => {
            assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"));
            let causes = s.details.expect("details").causes;
            assert_eq!(causes[0].field, "metadata.name");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }

    secrets
        .delete("db", &DeleteParams::default())
        .await
        .expect("deleted");
    assert_eq!(api_error(secrets.get("db").await.unwrap_err()).0, 404);
    let (code, _, _) = api_error(
        Api::<Secret>::namespaced(client.clone(), "nope")
            .create(&PostParams::default(), &secret("x", "a"))
            .await
            .unwrap_err(),
    );
    assert_eq!(code, 404, "creating in a namespace that does not exist");
    sim.stop().await;
}

#[tokio::test]
async fn label_and_field_selectors_and_pagination() {
    let sim = fast_sim().await;
    let client = client_for(sim.kubeconfig()).await;
    namespace(&client, "pages").await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "pages");
    for i in 0..25 {
        let tier = if i % 5 == 0 { "gold" } else { "bronze" };
        secrets
            .create(&PostParams::default(), &secret(&format!("s-{i:02}"), tier))
            .await
            .expect("created");
    }
    let gold = secrets
        .list(&ListParams::default().labels("tier=gold"))
        .await
        .expect("list");
    assert_eq!(gold.items.len(), 5);
    let not_gold = secrets
        .list(&ListParams::default().labels("tier notin (gold)"))
        .await
        .expect("list");
    assert_eq!(not_gold.items.len(), 20);
    let one = secrets
        .list(&ListParams::default().fields("metadata.name=s-07"))
        .await
        .expect("list");
    assert_eq!(one.items.len(), 1);

    let mut seen = Vec::new();
    let mut params = ListParams::default().limit(10);
    let mut pages = 0;
    loop {
        let page = secrets.list(&params).await.expect("page");
        pages += 1;
        seen.extend(page.items.iter().filter_map(|s| s.metadata.name.clone()));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let unique: BTreeSet<_> = seen.iter().collect();
    assert_eq!((seen.len(), unique.len()), (25, 25));

    let (code, _, message) = api_error(
        secrets
            .list(&ListParams::default().fields("spec.bogus=1"))
            .await
            .unwrap_err(),
    );
    assert_eq!(code, 400);
    assert!(message.contains("field label not supported"), "{message}");
    sim.stop().await;
}

#[tokio::test]
async fn patches_status_subresource_and_cluster_validation() {
    let sim = fast_sim().await;
    let client = client_for(sim.kubeconfig()).await;
    let api = clusters(&client);
    let obj: DynamicObject =
        serde_json::from_value(cluster("patchy", "v1.33.2", 2, "Standard_D2s_v5")).expect("obj");
    api.create(&PostParams::default(), &obj)
        .await
        .expect("created");

    let pp = PatchParams::default();
    let merge = json!({"spec": {"topology": {"workers": {"machineDeployments": [
        {"class": "default-worker", "name": "pool1", "replicas": 3}]}}}});
    let after = api
        .patch("patchy", &pp, &Patch::Merge(&merge))
        .await
        .expect("merge patch");
    assert_eq!(
        after.data["spec"]["topology"]["workers"]["machineDeployments"][0]["replicas"],
        3
    );

    let ops = json!([{"op": "replace", "path": "/spec/topology/workers/machineDeployments/0/replicas", "value": 4}]);
    let after = raw(
        &client,
        "PATCH",
        "/apis/cluster.x-k8s.io/v1beta2/namespaces/default/clusters/patchy",
        "application/json-patch+json",
        serde_json::to_vec(&ops).unwrap(),
    )
    .await
    .expect("json patch");
    assert_eq!(
        after["spec"]["topology"]["workers"]["machineDeployments"][0]["replicas"],
        4
    );

    // A custom resource has no patch strategies, so no strategic merge patch: 415, as the API
    // server answers (kubectl then says to use --type merge or json).
    let labels = json!({"metadata": {"labels": {"team": "payments"}}});
    let (code, reason, message) = api_error(
        api.patch("patchy", &pp, &Patch::Strategic(&labels))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (code, reason.as_str()),
        (415, "UnsupportedMediaType"),
        "{message}"
    );
    assert!(
        message.contains("application/merge-patch+json"),
        "{message}"
    );
    let after = api
        .patch("patchy", &pp, &Patch::Merge(&labels))
        .await
        .expect("merge patch");
    assert_eq!(
        after
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("team"))
            .map(String::as_str),
        Some("payments")
    );
    // The simulation writes status meanwhile: what must not change is the spec.
    let before = after.data["spec"].clone();

    for (bad, field) in [
        (
            json!({"spec": {"topology": {"version": "v1.99.0"}}}),
            "spec.topology.version",
        ),
        (
            json!({"spec": {"topology": {"version": "v1.31.0"}}}),
            "spec.topology.version",
        ),
        (
            json!({"spec": {"topology": {"workers": {"machineDeployments": [{"class": "default-worker", "name": "pool1", "replicas": -1}]}}}}),
            "spec.topology.workers.machineDeployments[0].replicas",
        ),
        (
            json!({"spec": {"topology": {"variables": [{"name": "region", "value": "mars-north"}]}}}),
            "spec.topology.variables[region].value",
        ),
        // The class's limits (its portolan.dev/limits annotation).
        (
            json!({"spec": {"topology": {"workers": {"machineDeployments": [{"class": "default-worker", "name": "pool1", "replicas": 1001}]}}}}),
            "spec.topology.workers.machineDeployments[0].replicas",
        ),
        (
            json!({"spec": {"topology": {"controlPlane": {"replicas": 2}}}}),
            "spec.topology.controlPlane.replicas",
        ),
        (
            json!({"spec": {"topology": {"workers": {"machineDeployments": [{"class": "default-worker", "name": "pool1", "replicas": 2,
                "metadata": {"annotations": {"cluster.x-k8s.io/cluster-api-autoscaler-node-group-max-size": "5000"}}}]}}}}),
            "spec.topology.workers.machineDeployments[0].metadata.annotations[cluster.x-k8s.io/cluster-api-autoscaler-node-group-max-size]",
        ),
    ] {
        match api
            .patch("patchy", &pp, &Patch::Merge(&bad))
            .await
            .unwrap_err()
        {
            kube::Error::Api(s) => {
                assert_eq!(s.code, 422, "{}", s.message);
                let fields: Vec<String> = s
                    .details
                    .expect("details")
                    .causes
                    .into_iter()
                    .map(|c| c.field)
                    .collect();
                assert!(
                    fields.iter().any(|f| f == field),
                    "{fields:?} lacks {field}"
                );
            }
            other => panic!("expected 422, got {other:?}"),
        }
    }
    let unchanged = api.get("patchy").await.expect("get");
    assert_eq!(
        unchanged.data["spec"], before,
        "rejected patches change nothing"
    );

    // Status goes through /status only; the main endpoint keeps the server's status.
    let status = json!({"status": {"phase": "Failed"}});
    let via_main = api
        .patch("patchy", &pp, &Patch::Merge(&status))
        .await
        .expect("main patch");
    assert_ne!(via_main.data["status"]["phase"], "Failed");
    let via_status = api
        .patch_status(
            "patchy",
            &pp,
            &Patch::Merge(&json!({"status": {"phase": "Failed"}, "spec": {"paused": true}})),
        )
        .await
        .expect("status patch");
    assert_eq!(via_status.data["status"]["phase"], "Failed");
    assert!(
        via_status.data["spec"]["paused"].is_null(),
        "status patch must not touch spec"
    );
    sim.stop().await;
}

#[tokio::test]
async fn a_watcher_survives_dropped_watches_and_410_gone() {
    let sim = Sim::start(kubesim::SimOptions {
        watch_history: 16,
        ..Default::default()
    })
    .await
    .expect("sim");
    let client = client_for(sim.kubeconfig()).await;
    namespace(&client, "watched").await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "watched");
    let seen = Arc::new(Mutex::new(BTreeSet::new()));
    let restarts = Arc::new(Mutex::new(0usize));
    let task = {
        let (seen, restarts) = (seen.clone(), restarts.clone());
        let secrets = secrets.clone();
        tokio::spawn(async move {
            let mut stream = watcher(secrets, watcher::Config::default()).boxed();
            while let Some(event) = stream.next().await {
                match event {
                    Ok(watcher::Event::Apply(s) | watcher::Event::InitApply(s)) => {
                        seen.lock()
                            .unwrap()
                            .insert(s.metadata.name.unwrap_or_default());
                    }
                    Ok(watcher::Event::Init) => *restarts.lock().unwrap() += 1,
                    _ => {}
                }
            }
        })
    };
    let names_seen = |want: usize| {
        let seen = seen.clone();
        async move { (seen.lock().unwrap().len() >= want).then_some(()) }
    };
    secrets
        .create(&PostParams::default(), &secret("w-0", "a"))
        .await
        .expect("create");
    eventually(10, "first event", || names_seen(1)).await;

    // A dropped watch: the watcher re-watches from its last version and misses nothing.
    sim.faults()
        .apply(&kubesim::FaultRequest {
            drop_watches: true,
            ..Default::default()
        })
        .expect("fault");
    for i in 1..5 {
        secrets
            .create(&PostParams::default(), &secret(&format!("w-{i}"), "a"))
            .await
            .expect("create");
    }
    eventually(10, "events after a dropped watch", || names_seen(5)).await;

    // History overflows (16 events kept) while the watch is down (its next requests fail):
    // the re-watch from its old version gets 410 Gone and the watcher relists.
    let inits_before = *restarts.lock().unwrap();
    sim.faults()
        .apply(&kubesim::FaultRequest {
            drop_watches: true,
            fail_requests: Some(2),
            ..Default::default()
        })
        .expect("fault");
    for i in 5..30 {
        let obj = json!({"metadata": {"name": format!("w-{i}"), "namespace": "watched"}});
        sim.management()
            .create(kubesim::resources::id::M_SECRETS, obj)
            .expect("in-process create");
    }
    eventually(15, "all 30 secrets after a 410", || names_seen(30)).await;
    eventually(15, "a relist after 410", || {
        let restarts = restarts.clone();
        async move { (*restarts.lock().unwrap() > inits_before).then_some(()) }
    })
    .await;
    task.abort();
    sim.stop().await;
}

use kubesim::Sim;

async fn raw(
    client: &Client,
    method: &str,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Result<Value, (u16, String)> {
    let req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", content_type)
        .body(body)
        .expect("request");
    match client.request::<Value>(req).await {
        Ok(v) => Ok(v),
        Err(kube::Error::Api(s)) => Err((s.code, s.reason.clone())),
        Err(other) => Err((0, other.to_string())),
    }
}

#[tokio::test]
async fn bad_input_gets_a_status_error_and_changes_nothing() {
    let sim = fast_sim().await;
    let client = client_for(sim.kubeconfig()).await;
    let path = "/apis/cluster.x-k8s.io/v1beta2/namespaces/default/clusters";
    let count = || async {
        clusters(&client)
            .list(&ListParams::default())
            .await
            .expect("list")
            .items
            .len()
    };
    let before = count().await;
    let good = cluster("ok-name", "v1.33.2", 1, "Standard_D2s_v5");
    let cases: Vec<(&str, Vec<u8>, &str, u16)> = vec![
        ("malformed JSON", b"{\"kind\": ".to_vec(), "application/json", 400),
        ("malformed YAML", b"kind: [".to_vec(), "application/yaml", 400),
        ("not an object", b"[1, 2]".to_vec(), "application/json", 400),
        ("wrong apiVersion", serde_json::to_vec(&json!({"apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Cluster", "metadata": {"name": "x"}, "spec": {}})).unwrap(), "application/json", 400),
        ("wrong kind", serde_json::to_vec(&json!({"apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "Machine", "metadata": {"name": "x"}, "spec": {}})).unwrap(), "application/json", 400),
        ("invalid name", serde_json::to_vec(&{ let mut c = good.clone(); c["metadata"]["name"] = json!("Not_DNS"); c }).unwrap(), "application/json", 422),
        ("negative replicas", serde_json::to_vec(&cluster("neg", "v1.33.2", -3, "Standard_D2s_v5")).unwrap(), "application/json", 422),
        ("version not offered", serde_json::to_vec(&cluster("old", "v1.20.0", 1, "Standard_D2s_v5")).unwrap(), "application/json", 422),
        ("unknown VM size", serde_json::to_vec(&cluster("big", "v1.33.2", 1, "Huge_VM")).unwrap(), "application/json", 422),
        ("oversized body", vec![b' '; 4 * 1024 * 1024], "application/json", 413),
        ("protobuf without a kind", b"k8s\x00".to_vec(), "application/vnd.kubernetes.protobuf", 400),
        ("protobuf without the magic", b"\x0a\x00".to_vec(), "application/vnd.kubernetes.protobuf", 400),
        ("malformed protobuf", b"k8s\x00\x0a\xff\xff\xff".to_vec(), "application/vnd.kubernetes.protobuf", 400),
        ("protobuf of a custom resource", proto("cluster.x-k8s.io/v1beta2", "Cluster", json!({})), "application/vnd.kubernetes.protobuf", 400),
        ("unknown content type", serde_json::to_vec(&good).unwrap(), "text/plain", 415),
    ];
    for (what, body, ct, want) in cases {
        match raw(&client, "POST", path, ct, body).await {
            Err((code, reason)) => assert_eq!(code, want, "{what}: {reason}"),
            Ok(v) => panic!("{what} was accepted: {v}"),
        }
    }
    for (what, p, want) in [
        (
            "unknown kind",
            "/apis/cluster.x-k8s.io/v1beta2/namespaces/default/widgets",
            404,
        ),
        (
            "unknown group version",
            "/apis/cluster.x-k8s.io/v1alpha9/clusters",
            404,
        ),
        ("workload kind on management", "/api/v1/pods", 404),
        (
            "unknown cluster",
            "/clusters/default/nope/api/v1/nodes",
            404,
        ),
    ] {
        match raw(&client, "GET", p, "application/json", Vec::new()).await {
            Err((code, _)) => assert_eq!(code, want, "{what}"),
            Ok(v) => panic!("{what} answered {v}"),
        }
    }
    assert_eq!(count().await, before, "nothing was created");
    sim.stop().await;
}

#[tokio::test]
async fn discovery_finds_cluster_api_and_a_wrong_token_is_unauthorized() {
    let sim = fast_sim().await;
    let client = client_for(sim.kubeconfig()).await;
    let discovery = kube::discovery::Discovery::new(client.clone())
        .run()
        .await
        .expect("discovery");
    let group = discovery
        .get("cluster.x-k8s.io")
        .expect("cluster.x-k8s.io is served");
    let kinds: BTreeSet<String> = group
        .recommended_resources()
        .into_iter()
        .map(|(ar, _)| ar.kind)
        .collect();
    for kind in ["Cluster", "ClusterClass", "MachineDeployment", "Machine"] {
        assert!(kinds.contains(kind), "{kind} missing from {kinds:?}");
    }
    let version = client.apiserver_version().await.expect("version");
    assert_eq!(version.major, "1");

    let forged = sim
        .kubeconfig()
        .replace(sim.token(), "kubesim-not-the-token");
    let intruder = client_for(&forged).await;
    let (code, reason, _) = api_error(
        clusters(&intruder)
            .list(&ListParams::default())
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (401, "Unauthorized"));
    tokio::time::sleep(Duration::from_millis(10)).await;
    sim.stop().await;
}

#[tokio::test]
async fn watches_send_bookmarks_and_end_at_their_timeout() {
    let sim = Sim::start(kubesim::SimOptions {
        bookmark_interval: Duration::from_millis(100),
        ..Default::default()
    })
    .await
    .expect("sim");
    let client = client_for(sim.kubeconfig()).await;
    let api = clusters(&client);
    let rv = api
        .list(&ListParams::default())
        .await
        .expect("list")
        .metadata
        .resource_version
        .expect("rv");
    let params = kube::api::WatchParams::default().timeout(1);
    let started = std::time::Instant::now();
    let events: Vec<_> = api
        .watch(&params, &rv)
        .await
        .expect("watch")
        .collect()
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the watch ended at its timeout"
    );
    let bookmarks = events
        .iter()
        .filter(|e| matches!(e, Ok(kube::api::WatchEvent::Bookmark(b)) if b.metadata.resource_version.parse::<u64>().is_ok()))
        .count();
    assert!(
        bookmarks >= 3,
        "bookmarks every 100 ms for a second: {events:?}"
    );
    sim.stop().await;
}

#[tokio::test]
async fn the_same_seed_gives_the_same_fleet() {
    let uids = |seed: u64| async move {
        let sim = Sim::start(kubesim::SimOptions {
            seed,
            demo: true,
            ..Default::default()
        })
        .await
        .expect("sim");
        let client = client_for(sim.kubeconfig()).await;
        let list = clusters(&client)
            .list(&ListParams::default())
            .await
            .expect("list");
        let uids: Vec<String> = list
            .items
            .iter()
            .filter_map(|c| c.metadata.uid.clone())
            .collect();
        sim.stop().await;
        uids
    };
    let (a, b, c) = (uids(7).await, uids(7).await, uids(8).await);
    assert_eq!(a.len(), 3);
    assert_eq!(a, b);
    assert_ne!(a, c);
}

/// A request with any headers; the answer's status and body.
async fn exchange(
    client: &Client,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (u16, Value) {
    let mut req = http::Request::builder().method(method).uri(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(kube::client::Body::from(body)).expect("request");
    let res = client.send(req).await.expect("kubesim answers");
    let code = res.status().as_u16();
    let bytes = res.into_body().collect_bytes().await.expect("a body");
    (code, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn protobuf_bodies_create_built_in_kinds_and_the_answers_are_json() {
    const PB: &str = "application/vnd.kubernetes.protobuf";
    let sim = fast_sim().await;
    let client = client_for(sim.kubeconfig()).await;
    // kubectl >= 1.32 sends typed creates like this one, accepting protobuf or JSON.
    let ns = json!({"metadata": {"name": "from-proto", "labels": {"team": "a"}}});
    let body = proto("v1", "Namespace", ns.clone());
    let accept = [
        ("content-type", PB),
        (
            "accept",
            "application/vnd.kubernetes.protobuf, application/json",
        ),
    ];
    let (code, v) = exchange(&client, "POST", "/api/v1/namespaces", &accept, body).await;
    assert_eq!(code, 201, "{v}");
    assert_eq!(v["kind"], "Namespace");
    assert_eq!(v["metadata"]["labels"]["team"], "a");
    assert_eq!(v["status"]["phase"], "Active", "defaults apply as to JSON");

    let cm = json!({"metadata": {"name": "settings"}, "data": {"mode": "fast"}, "binaryData": {"blob": "AAEC/w=="}});
    let body = proto("v1", "ConfigMap", cm);
    let path = "/api/v1/namespaces/from-proto/configmaps";
    let (code, v) = exchange(&client, "POST", path, &accept, body.clone()).await;
    assert_eq!(code, 201, "{v}");
    assert_eq!(v["data"], json!({"mode": "fast"}));
    assert_eq!(v["binaryData"], json!({"blob": "AAEC/w=="}));
    assert_eq!(v["metadata"]["namespace"], "from-proto");
    let (code, v) = exchange(&client, "POST", path, &accept, body).await;
    assert_eq!((code, v["reason"].as_str()), (409, Some("AlreadyExists")));

    let lease = json!({"metadata": {"name": "leader"}, "spec": {"holderIdentity": "portolan-0",
        "leaseDurationSeconds": 15, "renewTime": {"seconds": 1_700_000_000, "nanos": 123_456_000}}});
    let body = proto("coordination.k8s.io/v1", "Lease", lease);
    let path = "/apis/coordination.k8s.io/v1/namespaces/from-proto/leases";
    // A dry run in protobuf stores nothing either.
    let (code, v) = exchange(
        &client,
        "POST",
        &format!("{path}?dryRun=All"),
        &accept,
        body.clone(),
    )
    .await;
    assert_eq!(code, 201, "{v}");
    let (code, _) = exchange(&client, "GET", &format!("{path}/leader"), &[], Vec::new()).await;
    assert_eq!(code, 404, "the dry run kept nothing");
    let (code, v) = exchange(&client, "POST", path, &accept, body).await;
    assert_eq!(code, 201, "{v}");
    assert_eq!(
        v["spec"],
        json!({"holderIdentity": "portolan-0", "leaseDurationSeconds": 15, "renewTime": "2023-11-14T22:13:20.123456Z"})
    );

    // A body whose kind is not the endpoint's is refused as JSON would be.
    let body = proto("v1", "Namespace", ns);
    let (code, v) = exchange(
        &client,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        &accept,
        body,
    )
    .await;
    assert_eq!(code, 400, "{v}");
    // kubesim writes JSON only: a caller that takes protobuf alone is told so.
    let (code, v) = exchange(
        &client,
        "GET",
        "/api/v1/namespaces",
        &[("accept", PB)],
        Vec::new(),
    )
    .await;
    assert_eq!(
        (code, v["reason"].as_str()),
        (406, Some("NotAcceptable")),
        "{v}"
    );
    let (code, _) = exchange(
        &client,
        "GET",
        "/api/v1/namespaces",
        &[(
            "accept",
            "application/json;as=Table;v=v1;g=meta.k8s.io, application/json",
        )],
        Vec::new(),
    )
    .await;
    assert_eq!(code, 200);
    sim.stop().await;
}

#[tokio::test]
async fn dry_runs_answer_the_object_as_it_would_be_and_change_nothing() {
    let sim = fast_sim().await;
    let client = client_for(sim.kubeconfig()).await;
    namespace(&client, "dry").await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "dry");
    let dry = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    let version = || async {
        secrets
            .list(&ListParams::default())
            .await
            .expect("list")
            .metadata
            .resource_version
            .expect("a list version")
    };
    let mut events = std::pin::pin!(watcher(secrets.clone(), watcher::Config::default()));
    // The watch's first list ends with InitDone; anything after it is a change.
    loop {
        match events.next().await {
            Some(Ok(watcher::Event::InitDone)) => break,
            Some(Ok(_)) => {}
            other => panic!("the watch did not start: {other:?}"),
        }
    }
    let start = version().await;

    // create: identity filled in as a real create would, nothing kept.
    let shown = secrets
        .create(&dry, &secret("db", "a"))
        .await
        .expect("dry create");
    assert_eq!(shown.metadata.name.as_deref(), Some("db"));
    assert!(shown.metadata.uid.is_some(), "{shown:?}");
    assert!(shown.metadata.creation_timestamp.is_some());
    assert_eq!(shown.metadata.resource_version, None);
    assert_eq!(shown.data.expect("data")["password"].0, b"s3cret");
    let (code, _, _) = api_error(secrets.get("db").await.unwrap_err());
    assert_eq!(code, 404, "a dry-run create stores nothing");
    let mut generated = secret("", "a");
    generated.metadata.name = None;
    generated.metadata.generate_name = Some("gen-".into());
    let named = secrets.create(&dry, &generated).await.expect("dry create");
    assert!(
        named
            .metadata
            .name
            .as_deref()
            .is_some_and(|n| n.starts_with("gen-") && n.len() == 9),
        "{:?}",
        named.metadata.name
    );
    assert_eq!(version().await, start);

    // update, patch and delete of a real object: answered, not applied.
    let real = secrets
        .create(&PostParams::default(), &secret("db", "a"))
        .await
        .expect("created");
    let rv = real.metadata.resource_version.clone().expect("rv");
    let (code, reason, _) = api_error(secrets.create(&dry, &secret("db", "a")).await.unwrap_err());
    assert_eq!((code, reason.as_str()), (409, "AlreadyExists"));
    let mut changed = real.clone();
    changed
        .metadata
        .labels
        .get_or_insert_default()
        .insert("tier".into(), "b".into());
    let shown = secrets
        .replace("db", &dry, &changed)
        .await
        .expect("dry replace");
    assert_eq!(shown.metadata.labels.expect("labels")["tier"], "b");
    assert_eq!(
        shown.metadata.resource_version.as_deref(),
        Some(rv.as_str())
    );
    let patched = secrets
        .patch(
            "db",
            &PatchParams {
                dry_run: true,
                ..PatchParams::default()
            },
            &Patch::Merge(json!({"metadata": {"labels": {"tier": "c"}}})),
        )
        .await
        .expect("dry patch");
    assert_eq!(patched.metadata.labels.expect("labels")["tier"], "c");
    let deleted = secrets
        .delete(
            "db",
            &DeleteParams {
                dry_run: true,
                ..DeleteParams::default()
            },
        )
        .await
        .expect("dry delete");
    let shown = deleted.left().expect("the object, as it is deleted");
    assert!(shown.metadata.deletion_timestamp.is_some());
    let kept = secrets.get("db").await.expect("still there");
    assert_eq!(kept.metadata.resource_version.as_deref(), Some(rv.as_str()));
    assert_eq!(kept.metadata.labels.expect("labels")["tier"], "a");
    assert_eq!(kept.metadata.deletion_timestamp, None);
    let (code, _, _) = api_error(
        secrets
            .delete(
                "nope",
                &DeleteParams {
                    dry_run: true,
                    ..DeleteParams::default()
                },
            )
            .await
            .unwrap_err(),
    );
    assert_eq!(code, 404, "a dry-run delete of nothing is not found");

    // A dry-run value other than All is refused, as the API server refuses it.
    let body = serde_json::to_vec(&secret("odd", "a")).expect("json");
    let refused = raw(
        &client,
        "POST",
        "/api/v1/namespaces/dry/secrets?dryRun=Some",
        "application/json",
        body,
    )
    .await;
    assert_eq!(refused, Err((422, "Invalid".into())));
    let refused = raw(
        &client,
        "DELETE",
        "/api/v1/namespaces/dry/secrets/db",
        "application/json",
        br#"{"kind": "DeleteOptions", "apiVersion": "v1", "dryRun": ["Nope"]}"#.to_vec(),
    )
    .await;
    assert_eq!(refused, Err((422, "Invalid".into())));
    secrets.get("db").await.expect("still there after refusals");

    // The only change the watch saw is the real create.
    let mut changes = Vec::new();
    while let Ok(Some(event)) =
        tokio::time::timeout(Duration::from_millis(300), events.next()).await
    {
        if let Ok(watcher::Event::Apply(s)) = event {
            changes.push(s.metadata.name.unwrap_or_default());
        }
    }
    assert_eq!(changes, ["db"]);
    sim.stop().await;
}

#[tokio::test]
async fn writes_get_kubernetes_defaults_and_generation_only_where_kubernetes_keeps_it() {
    let sim = fast_sim().await;
    let client = client_for(sim.kubeconfig()).await;
    let ns: Namespace = Api::<Namespace>::all(client.clone())
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "defaults"}})).expect("ns"),
        )
        .await
        .expect("namespace created");
    assert_eq!(ns.status.and_then(|s| s.phase).as_deref(), Some("Active"));
    assert_eq!(
        ns.spec.and_then(|s| s.finalizers),
        Some(vec!["kubernetes".to_string()])
    );
    assert_eq!(
        ns.metadata.labels.expect("labels")["kubernetes.io/metadata.name"],
        "defaults"
    );
    assert_eq!(ns.metadata.generation, None);

    let secrets: Api<Secret> = Api::namespaced(client.clone(), "defaults");
    let s = secrets
        .create(&PostParams::default(), &secret("plain", "a"))
        .await
        .expect("secret created");
    assert_eq!(s.type_.as_deref(), Some("Opaque"));
    assert_eq!(s.metadata.generation, None);

    let api = clusters(&client);
    let created = api
        .create(
            &PostParams::default(),
            &serde_json::from_value(cluster("gen", "v1.33.2", 1, "Standard_D2s_v5"))
                .expect("cluster"),
        )
        .await
        .expect("cluster created");
    assert_eq!(created.metadata.generation, Some(1));
    let pp = PatchParams::default();
    let labelled = api
        .patch(
            "gen",
            &pp,
            &Patch::Merge(json!({"metadata": {"labels": {"team": "a"}}})),
        )
        .await
        .expect("label");
    assert_eq!(
        labelled.metadata.generation,
        Some(1),
        "metadata is not spec"
    );
    let scaled = api
        .patch("gen", &pp, &Patch::Merge(json!({"spec": {"paused": true}})))
        .await
        .expect("pause");
    assert_eq!(scaled.metadata.generation, Some(2));
    sim.stop().await;
}

#[tokio::test]
async fn exact_lists_are_served_while_the_kind_is_unchanged_and_410_once_compacted() {
    let sim = fast_sim().await;
    let client = client_without_retries(sim.kubeconfig()).await;
    namespace(&client, "exact").await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "exact");
    let version = || async {
        secrets
            .list(&ListParams::default())
            .await
            .expect("list")
            .metadata
            .resource_version
            .expect("a version")
    };
    secrets
        .create(&PostParams::default(), &secret("one", "a"))
        .await
        .expect("created");
    let first = version().await;
    let list = |query: String| {
        let client = client.clone();
        async move {
            exchange(
                &client,
                "GET",
                &format!("/api/v1/namespaces/exact/secrets?{query}"),
                &[],
                Vec::new(),
            )
            .await
        }
    };
    let (code, v) = list(format!(
        "resourceVersion={first}&resourceVersionMatch=Exact"
    ))
    .await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["metadata"]["resourceVersion"], first.as_str());
    assert_eq!(v["items"].as_array().map(Vec::len), Some(1));
    let (code, v) = list(format!(
        "resourceVersion={first}&resourceVersionMatch=NotOlderThan"
    ))
    .await;
    assert_eq!(code, 200, "{v}");
    let future: u64 = first.parse::<u64>().expect("number") + 1000;
    let (code, v) = list(format!(
        "resourceVersion={future}&resourceVersionMatch=NotOlderThan"
    ))
    .await;
    assert_eq!((code, v["reason"].as_str()), (504, Some("Timeout")), "{v}");
    let (code, v) = list("resourceVersionMatch=Exact".into()).await;
    assert_eq!((code, v["reason"].as_str()), (422, Some("Invalid")), "{v}");
    let (code, v) = list(format!(
        "resourceVersion={first}&resourceVersionMatch=Sometimes"
    ))
    .await;
    assert_eq!((code, v["reason"].as_str()), (422, Some("Invalid")), "{v}");

    // A change, then compaction: the first version is gone, as etcd's would be; the
    // compaction's own version can still be listed exactly.
    secrets
        .create(&PostParams::default(), &secret("two", "a"))
        .await
        .expect("created");
    let second = version().await;
    let req = http::Request::builder()
        .method("POST")
        .uri("/kubesim/compact")
        .body(kube::client::Body::empty())
        .expect("request");
    assert_eq!(
        client.send(req).await.expect("compacted").status().as_u16(),
        200
    );
    let (code, v) = list(format!(
        "resourceVersion={first}&resourceVersionMatch=Exact"
    ))
    .await;
    assert_eq!((code, v["reason"].as_str()), (410, Some("Expired")), "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("too old resource version"),
        "{v}"
    );
    let (code, v) = list(format!(
        "resourceVersion={second}&resourceVersionMatch=Exact"
    ))
    .await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["items"].as_array().map(Vec::len), Some(2));
    sim.stop().await;
}

#[tokio::test]
async fn streaming_lists_send_the_state_then_a_bookmark_that_ends_it() {
    let sim = fast_sim().await;
    let client = client_without_retries(sim.kubeconfig()).await;
    namespace(&client, "stream").await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "stream");
    for name in ["one", "two"] {
        secrets
            .create(&PostParams::default(), &secret(name, "a"))
            .await
            .expect("created");
    }
    let path = "/api/v1/namespaces/stream/secrets?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1";
    let req = http::Request::builder()
        .uri(path)
        .body(kube::client::Body::empty())
        .expect("request");
    let res = client.send(req).await.expect("answer");
    assert_eq!(res.status().as_u16(), 200);
    let text = String::from_utf8(
        res.into_body()
            .collect_bytes()
            .await
            .expect("body")
            .to_vec(),
    )
    .expect("utf-8");
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON event"))
        .collect();
    let kinds: Vec<(&str, &str)> = events
        .iter()
        .take(3)
        .map(|e| {
            (
                e["type"].as_str().unwrap_or(""),
                e["object"]["metadata"]["name"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [("ADDED", "one"), ("ADDED", "two"), ("BOOKMARK", "")]
    );
    assert_eq!(
        events[2]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    // Without NotOlderThan, or without bookmarks, it is refused.
    for bad in [
        "watch=true&sendInitialEvents=true&allowWatchBookmarks=true",
        "watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan",
    ] {
        let (code, v) = exchange(
            &client,
            "GET",
            &format!("/api/v1/namespaces/stream/secrets?{bad}"),
            &[],
            Vec::new(),
        )
        .await;
        assert_eq!(
            (code, v["reason"].as_str()),
            (422, Some("Invalid")),
            "{bad}: {v}"
        );
    }
    sim.stop().await;
}

/// The `managedFields` entry of one manager, as `(operation, fieldsV1)`.
fn owner(obj: &Value, manager: &str) -> Option<(String, Value)> {
    obj["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .find(|e| e["manager"] == manager)
        .map(|e| {
            (
                e["operation"].as_str().unwrap_or_default().to_string(),
                e["fieldsV1"].clone(),
            )
        })
}

#[tokio::test]
async fn server_side_apply_keeps_owners_refuses_conflicts_and_removes_what_is_no_longer_applied() {
    use k8s_openapi::api::core::v1::ConfigMap;
    let sim = fast_sim().await;
    let client = client_for(sim.kubeconfig()).await;
    namespace(&client, "ssa").await;
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), "ssa");
    let get =
        || async { serde_json::to_value(maps.get("settings").await.expect("get")).expect("json") };
    let config = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings", "labels": {"team": "a"}},
        "data": {"a": "1", "b": "2"}});
    let ci = PatchParams::apply("ci");

    // Applying creates, and the applier owns exactly what it sent.
    maps.patch("settings", &ci, &Patch::Apply(&config))
        .await
        .expect("created by apply");
    let live = get().await;
    assert_eq!(
        owner(&live, "ci"),
        Some((
            "Apply".into(),
            json!({"f:data": {"f:a": {}, "f:b": {}}, "f:metadata": {"f:labels": {"f:team": {}}}})
        ))
    );

    // An ordinary patch by another manager takes the field it changed.
    let operator = PatchParams {
        field_manager: Some("operator".into()),
        ..PatchParams::default()
    };
    maps.patch(
        "settings",
        &operator,
        &Patch::Merge(json!({"data": {"a": "changed"}})),
    )
    .await
    .expect("merge patch");
    let live = get().await;
    assert_eq!(
        owner(&live, "operator"),
        Some(("Update".into(), json!({"f:data": {"f:a": {}}})))
    );
    assert_eq!(
        owner(&live, "ci").map(|o| o.1),
        Some(json!({"f:data": {"f:b": {}}, "f:metadata": {"f:labels": {"f:team": {}}}}))
    );

    // Applying the old value again conflicts, naming the other manager; nothing changes.
    let (code, reason, message) = api_error(
        maps.patch("settings", &ci, &Patch::Apply(&config))
            .await
            .expect_err("a conflict"),
    );
    assert_eq!((code, reason.as_str()), (409, "Conflict"));
    assert_eq!(
        message,
        "Apply failed with 1 conflict: conflict with \"operator\" using v1: .data.a"
    );
    assert_eq!(get().await["data"]["a"], "changed");

    // A dry run of a forced apply answers the outcome and stores nothing.
    let mut dry = PatchParams::apply("ci").force();
    dry.dry_run = true;
    let preview = maps
        .patch("settings", &dry, &Patch::Apply(&config))
        .await
        .expect("dry run");
    assert_eq!(
        preview
            .data
            .as_ref()
            .and_then(|d| d.get("a"))
            .map(String::as_str),
        Some("1")
    );
    assert_eq!(get().await["data"]["a"], "changed");

    // Forced, with `b` and the label no longer applied: the field is taken, the rest removed.
    let smaller = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings"}, "data": {"a": "1"}});
    maps.patch(
        "settings",
        &PatchParams::apply("ci").force(),
        &Patch::Apply(&smaller),
    )
    .await
    .expect("forced apply");
    let live = get().await;
    assert_eq!(live["data"], json!({"a": "1"}));
    assert_eq!(live["metadata"]["labels"], Value::Null);
    assert_eq!(owner(&live, "operator"), None);
    assert_eq!(
        owner(&live, "ci"),
        Some(("Apply".into(), json!({"f:data": {"f:a": {}}})))
    );

    // Bad apply requests: the real server's codes, and nothing stored.
    let path = "/api/v1/namespaces/ssa/configmaps/other?fieldManager=ci";
    let yaml = "application/apply-patch+yaml";
    let cm = |extra: Value| {
        let mut v = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other"}});
        if let (Some(m), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            m.extend(e.clone());
        }
        serde_json::to_vec(&v).expect("json")
    };
    let cases: Vec<(&str, &str, Vec<u8>, &str, u16)> = vec![
        ("not an object", path, b"[1, 2]".to_vec(), yaml, 400),
        ("not YAML", path, b"kind: [".to_vec(), yaml, 400),
        (
            "no field manager",
            "/api/v1/namespaces/ssa/configmaps/other",
            cm(json!({})),
            yaml,
            422,
        ),
        (
            "another version",
            path,
            cm(json!({"apiVersion": "v2"})),
            yaml,
            400,
        ),
        (
            "managed fields sent",
            path,
            cm(json!({"metadata": {"name": "other", "managedFields": []}})),
            yaml,
            400,
        ),
        (
            "another name",
            path,
            cm(json!({"metadata": {"name": "else"}})),
            yaml,
            400,
        ),
        (
            "force on a merge patch",
            "/api/v1/namespaces/ssa/configmaps/settings?force=true",
            b"{}".to_vec(),
            "application/merge-patch+json",
            422,
        ),
    ];
    for (what, p, body, ct, want) in cases {
        match raw(&client, "PATCH", p, ct, body).await {
            Err((code, reason)) => assert_eq!(code, want, "{what}: {reason}"),
            Ok(v) => panic!("{what} was accepted: {v}"),
        }
    }
    assert!(maps.get_opt("other").await.expect("get").is_none());

    // Unknown fields: Strict refuses the apply; by default they are dropped with a warning and
    // no manager owns them.
    let odd = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"},
        "data": {"a": "1"}, "dataa": {"x": "y"}});
    let strict =
        "/api/v1/namespaces/ssa/configmaps/settings?fieldManager=ci&fieldValidation=Strict";
    match raw(
        &client,
        "PATCH",
        strict,
        yaml,
        serde_json::to_vec(&odd).expect("json"),
    )
    .await
    {
        Err((code, _)) => assert_eq!(code, 400),
        Ok(v) => panic!("Strict took an unknown field: {v}"),
    }
    maps.patch("settings", &PatchParams::apply("ci"), &Patch::Apply(&odd))
        .await
        .expect("applied without the unknown field");
    assert_eq!(
        owner(&get().await, "ci"),
        Some(("Apply".into(), json!({"f:data": {"f:a": {}}})))
    );

    // YAML is what the content type says: an apply written as YAML works too.
    let body =
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\ndata:\n  x: y\n".to_vec();
    raw(&client, "PATCH", path, yaml, body)
        .await
        .expect("YAML apply");
    assert_eq!(
        serde_json::to_value(maps.get("other").await.expect("get")).expect("json")["data"],
        json!({"x": "y"})
    );
    sim.stop().await;
}

#[tokio::test]
async fn events_k8s_io_serves_the_core_events_under_their_newer_names() {
    use k8s_openapi::api::core::v1::Event as CoreEvent;
    use k8s_openapi::api::events::v1::Event;
    let sim = fast_sim().await;
    let client = client_for(sim.kubeconfig()).await;
    namespace(&client, "ev").await;
    let events: Api<Event> = Api::namespaced(client.clone(), "ev");
    let core: Api<CoreEvent> = Api::namespaced(client.clone(), "ev");

    // Written as events.k8s.io/v1, read as core/v1 (and back).
    let written: Event = serde_json::from_value(json!({
        "metadata": {"name": "web-1.started"},
        "eventTime": "2026-01-01T00:00:00.000000Z",
        "regarding": {"kind": "Pod", "namespace": "ev", "name": "web-1"},
        "reason": "Started", "note": "Started container web", "type": "Normal",
        "action": "Starting", "reportingController": "kubelet", "reportingInstance": "node-1"}))
    .expect("event");
    let created = events
        .create(&PostParams::default(), &written)
        .await
        .expect("created");
    assert_eq!(created.note.as_deref(), Some("Started container web"));
    let stored = core.get("web-1.started").await.expect("the core Event");
    assert_eq!(stored.involved_object.name.as_deref(), Some("web-1"));
    assert_eq!(stored.message.as_deref(), Some("Started container web"));
    assert_eq!(stored.reporting_component.as_deref(), Some("kubelet"));

    // Written as core/v1, listed as events.k8s.io/v1, with its field selectors.
    let other: CoreEvent = serde_json::from_value(json!({
        "metadata": {"name": "db-0.killing"},
        "involvedObject": {"kind": "Pod", "namespace": "ev", "name": "db-0"},
        "reason": "Killing", "message": "Stopping container db", "type": "Normal",
        "source": {"component": "kubelet"}, "count": 3}))
    .expect("event");
    core.create(&PostParams::default(), &other)
        .await
        .expect("created");
    let listed = events
        .list(&ListParams::default().fields("regarding.name=db-0"))
        .await
        .expect("list");
    assert_eq!(listed.items.len(), 1);
    let db = &listed.items[0];
    assert_eq!(db.note.as_deref(), Some("Stopping container db"));
    assert_eq!(db.deprecated_count, Some(3));
    assert_eq!(
        db.deprecated_source
            .as_ref()
            .and_then(|s| s.component.as_deref()),
        Some("kubelet")
    );
    assert_eq!(
        events
            .list(&ListParams::default())
            .await
            .expect("list")
            .items
            .len(),
        2
    );

    // A patch through the newer names changes the one stored Event; a delete removes it.
    events
        .patch(
            "db-0.killing",
            &PatchParams::default(),
            &Patch::Merge(json!({"note": "Stopped container db"})),
        )
        .await
        .expect("patched");
    assert_eq!(
        core.get("db-0.killing")
            .await
            .expect("get")
            .message
            .as_deref(),
        Some("Stopped container db")
    );
    events
        .delete("db-0.killing", &DeleteParams::default())
        .await
        .expect("deleted");
    assert!(core.get_opt("db-0.killing").await.expect("get").is_none());

    // A field the newer form does not have is refused under Strict, as for any kind.
    let mut odd = serde_json::to_value(&written).expect("json");
    odd["metadata"] = json!({"name": "odd"});
    odd["message"] = json!("the core name");
    let req = http::Request::builder()
        .method("POST")
        .uri("/apis/events.k8s.io/v1/namespaces/ev/events?fieldValidation=Strict")
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&odd).expect("json"))
        .expect("request");
    let err = client.request::<Value>(req).await.expect_err("refused");
    assert_eq!(api_error(err).0, 400);
    assert!(events.get_opt("odd").await.expect("get").is_none());
    sim.stop().await;
}
