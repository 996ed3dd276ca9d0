//! kubesim's own Cluster API schemas agree with the official CRDs (read from `../shared/capi-crds`,
//! or `PORTOLAN_CAPI_CRDS`) on every field kubesim covers; kubesim can also validate with the CRDs.

mod support;

use std::path::PathBuf;

use kube::api::PostParams;
use kubesim::resources::id;
use kubesim::schemas::Schemas;
use kubesim::validate;
use serde_json::{Value, json};

/// Where the official CRDs are. Absent, the calling test is skipped visibly: it says so, and adds a
/// line to `$PORTOLAN_TEST_SKIPS` (set by `make unit`), which the summary counts as skipped, not
/// passed. In CI (`CI=true`) a missing folder is a failure.
fn crd_dir(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("PORTOLAN_CAPI_CRDS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            // Read when the tests run, not when they were built: clones sharing one target directory
            // reuse each other's test binaries, and the folder they were built in may be gone.
            std::env::var_os("CARGO_MANIFEST_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
                .join("../../../shared/capi-crds")
        });
    if dir.join("cluster.x-k8s.io_clusters.yaml").is_file() {
        return Some(dir);
    }
    let why = format!(
        "the official Cluster API CRDs are not at {} (set PORTOLAN_CAPI_CRDS to their folder)",
        dir.display()
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{why}: in CI they must be there");
    }
    eprintln!("SKIPPED {test}: {why}");
    if let Some(file) = std::env::var_os("PORTOLAN_TEST_SKIPS") {
        use std::io::Write;
        let line = format!("kubesim crds::{test}: {why}\n");
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&file)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        if let Err(e) = written {
            panic!(
                "cannot record the skip in {}: {e}",
                PathBuf::from(file).display()
            );
        }
    }
    None
}

fn fields(schemas: &Schemas, resource: usize, v: &Value) -> Vec<String> {
    let mut causes = Vec::new();
    validate::schema(schemas.get(resource).expect("schema"), v, "", &mut causes);
    let mut f: Vec<String> = causes.into_iter().map(|c| c.field).collect();
    f.sort();
    f
}

fn with(mut v: Value, pointer: &str, value: Value) -> Value {
    let (parent, key) = pointer.rsplit_once('/').expect("pointer");
    let target = v.pointer_mut(parent).expect("parent exists");
    if value.is_null() {
        target.as_object_mut().expect("object").remove(key);
    } else if let (Ok(i), Some(list)) = (key.parse::<usize>(), target.as_array_mut()) {
        if i < list.len() {
            list[i] = value;
        } else {
            list.push(value);
        }
    } else {
        target[key] = value;
    }
    v
}

#[test]
fn built_in_schemas_agree_with_the_official_crds() {
    let Some(dir) = crd_dir("built_in_schemas_agree_with_the_official_crds") else {
        return;
    };
    let official = Schemas::from_crd_dir(&dir).expect("CRDs load");
    let ours = Schemas::default();
    let base = support::cluster("agree", "v1.33.2", 2, "Standard_D4s_v5");
    let cases = vec![
        ("valid", base.clone()),
        (
            "no version",
            with(base.clone(), "/spec/topology/version", Value::Null),
        ),
        (
            "no classRef",
            with(base.clone(), "/spec/topology/classRef", Value::Null),
        ),
        (
            "classRef name not DNS",
            with(
                base.clone(),
                "/spec/topology/classRef/name",
                json!("Managed_K8s"),
            ),
        ),
        (
            "pool without class",
            with(
                base.clone(),
                "/spec/topology/workers/machineDeployments/0/class",
                Value::Null,
            ),
        ),
        (
            "pool name too long",
            with(
                base.clone(),
                "/spec/topology/workers/machineDeployments/0/name",
                json!("p".repeat(64)),
            ),
        ),
        (
            "replicas a string",
            with(
                base.clone(),
                "/spec/topology/workers/machineDeployments/0/replicas",
                json!("three"),
            ),
        ),
        (
            "replicas beyond int32",
            with(
                base.clone(),
                "/spec/topology/workers/machineDeployments/0/replicas",
                json!(5_000_000_000i64),
            ),
        ),
        (
            "empty pool list",
            with(
                base.clone(),
                "/spec/topology/workers/machineDeployments",
                json!([]),
            ),
        ),
        (
            "duplicate pools",
            with(
                base.clone(),
                "/spec/topology/workers/machineDeployments/1",
                base["spec"]["topology"]["workers"]["machineDeployments"][0].clone(),
            ),
        ),
        (
            "variable without value",
            with(
                base.clone(),
                "/spec/topology/variables/0",
                json!({"name": "region"}),
            ),
        ),
        (
            "unknown phase",
            with(base.clone(), "/status", json!({"phase": "Exploded"})),
        ),
        ("no spec", with(base.clone(), "/spec", Value::Null)),
    ];
    for (what, v) in cases {
        let (a, b) = (
            fields(&official, id::CLUSTERS, &v),
            fields(&ours, id::CLUSTERS, &v),
        );
        assert_eq!(
            a, b,
            "{what}: official CRD found {a:?}, kubesim's schema found {b:?}"
        );
        if what != "valid" {
            assert!(!a.is_empty(), "{what} must be invalid");
        }
    }
    let class = kubesim::catalog::cluster_class("default");
    assert_eq!(
        fields(&official, id::CLUSTER_CLASSES, &class),
        Vec::<String>::new(),
        "the seeded ClusterClass is valid"
    );
    assert_eq!(
        fields(&ours, id::CLUSTER_CLASSES, &class),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn kubesim_can_validate_with_the_official_crds() {
    let Some(dir) = crd_dir("kubesim_can_validate_with_the_official_crds") else {
        return;
    };
    let sim = kubesim::Sim::start(kubesim::SimOptions {
        crd_dir: Some(dir),
        ..Default::default()
    })
    .await
    .expect("sim");
    let client = support::client_for(sim.kubeconfig()).await;
    let bad = with(
        support::cluster("strict", "v1.33.2", 1, "Standard_D2s_v5"),
        "/spec/topology/classRef",
        Value::Null,
    );
    let obj: kube::api::DynamicObject = serde_json::from_value(bad).expect("object");
    let (code, reason, message) = support::api_error(
        support::clusters(&client)
            .create(&PostParams::default(), &obj)
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (422, "Invalid"));
    assert!(message.contains("spec.topology.classRef"), "{message}");

    // Fields the CRD does not declare: Strict refuses them, Warn (the default) drops them and
    // says so in a Warning header, as kube-apiserver prunes custom resources.
    let odd = with(
        support::cluster("pruned", "v1.33.2", 1, "Standard_D2s_v5"),
        "/spec/topology/colour",
        json!("red"),
    );
    let post = |query: &str| {
        http::Request::builder()
            .method("POST")
            .uri(format!(
                "/apis/cluster.x-k8s.io/v1beta2/namespaces/default/clusters{query}"
            ))
            .header("content-type", "application/json")
            .body(kube::client::Body::from(
                serde_json::to_vec(&odd).expect("json"),
            ))
            .expect("request")
    };
    let res = client
        .send(post("?fieldValidation=Strict"))
        .await
        .expect("answer");
    assert_eq!(res.status().as_u16(), 400);
    let body: Value = serde_json::from_slice(&res.into_body().collect_bytes().await.expect("body"))
        .expect("status");
    assert_eq!(
        body["message"],
        "strict decoding error: unknown field \"spec.topology.colour\""
    );
    let res = client.send(post("")).await.expect("answer");
    assert_eq!(res.status().as_u16(), 201);
    let warning = res
        .headers()
        .get("warning")
        .and_then(|w| w.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        warning,
        "299 - \"unknown field \\\"spec.topology.colour\\\"\""
    );
    let stored = serde_json::to_value(
        support::clusters(&client)
            .get("pruned")
            .await
            .expect("created"),
    )
    .expect("json");
    assert!(
        stored["spec"]["topology"].get("colour").is_none(),
        "{stored}"
    );
    assert_eq!(stored["spec"]["topology"]["version"], "v1.33.2");
    sim.stop().await;
}

#[tokio::test]
async fn what_the_simulation_writes_is_valid_against_the_official_crds() {
    let Some(dir) = crd_dir("what_the_simulation_writes_is_valid_against_the_official_crds") else {
        return;
    };
    let official = Schemas::from_crd_dir(&dir).expect("CRDs load");
    let sim = support::fast_sim().await;
    let client = support::client_for(sim.kubeconfig()).await;
    let mut body = support::cluster("checked", "v1.33.2", 2, "Standard_D4s_v5");
    body["metadata"]["annotations"] =
        json!({"kubesim.portolan.dev/blocking-pdb": "payments/ledger"});
    let obj: kube::api::DynamicObject = serde_json::from_value(body).expect("object");
    support::clusters(&client)
        .create(&PostParams::default(), &obj)
        .await
        .expect("created");
    let check = |stage: &str| {
        for (resource, kind) in [
            (id::CLUSTERS, "Cluster"),
            (id::MACHINE_DEPLOYMENTS, "MachineDeployment"),
            (id::MACHINES, "Machine"),
            (id::CLUSTER_CLASSES, "ClusterClass"),
        ] {
            for o in sim.management().all(resource) {
                let v = o.value();
                let problems = fields(&official, resource, &v);
                assert!(
                    problems.is_empty(),
                    "{stage}: {kind} {} breaks the CRD at {problems:?}:\n{v}",
                    o.name
                );
                let unknown = kubesim::fields::prune(&official, resource, &mut v.clone());
                assert!(
                    unknown.is_empty(),
                    "{stage}: {kind} {} has fields its CRD does not declare: {unknown:?}",
                    o.name
                );
            }
        }
    };
    support::eventually(30, "provisioned with 2 ready workers", || async {
        let c = serde_json::to_value(support::clusters(&client).get("checked").await.ok()?).ok()?;
        (c["status"]["workers"]["readyReplicas"] == 2).then_some(())
    })
    .await;
    check("provisioned");
    // Mid-upgrade, with a drain blocked by the PodDisruptionBudget.
    let patch = json!({"spec": {"topology": {"version": "v1.33.5"}}});
    support::clusters(&client)
        .patch(
            "checked",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&patch),
        )
        .await
        .expect("patched");
    support::eventually(60, "a blocked drain", || async {
        let c = serde_json::to_value(support::clusters(&client).get("checked").await.ok()?).ok()?;
        support::condition(&c, "RollingOut")?["message"]
            .as_str()?
            .contains("disruption budget")
            .then_some(())
    })
    .await;
    check("blocked upgrade");
    support::clusters(&client)
        .delete("checked", &kube::api::DeleteParams::default())
        .await
        .expect("deleted");
    check("deleting");
    sim.stop().await;
}
