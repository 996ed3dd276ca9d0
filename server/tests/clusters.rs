//! The fleet and cluster pages against kubesim over HTTP, as in production.
//
// The fleet from the shared watches, health for each state kubesim can be put in, visibility per role, stale and
// recovered state, broken kubeconfig Secrets, pods, logs (tail, previous, follow) and downloads.

mod support;

use std::time::{Duration, Instant};

use app::access::model::{ClusterRef, Principal, Role, SubjectKind};
use k8s_openapi::api::core::v1::{Node, Pod, Secret};
use kube::api::{Api, ListParams, Patch, PatchParams};
use server::store::Db;

const SPEED: f64 = 60.0;

/// A page as the browser gets it: status and HTML.
async fn page(app: &axum::Router, cookie: &str, path: &str) -> (u16, String) {
    let (status, _, body) = support::send(app, support::get(path, Some(cookie))).await;
    (status.as_u16(), body)
}

/// The fleet table's row of `name` (its HTML), when the page lists it.
fn row_of<'a>(html: &'a str, name: &str) -> Option<&'a str> {
    let link = format!(">{name}</a>");
    let at = html.find(&link)?;
    let start = html[..at].rfind("<tr>")?;
    let end = at + html[at..].find("</tr>")?;
    Some(&html[start..end])
}

/// Whether a fleet row says Healthy with every node ready (prod-weu's apps pool autoscales
/// between 2 and 6 nodes, so the count is not fixed).
fn all_ready(row: &str) -> bool {
    row.contains("badge-healthy")
        && (1..=12).any(|n| {
            row.contains(&format!("All {n} nodes Ready"))
                && row.contains(&format!("<td>{n}/{n}</td>"))
        })
}

/// Waits until every demo cluster is Healthy with all its nodes counted, and returns the page.
async fn healthy_fleet(app: &axum::Router, cookie: &str) -> String {
    support::until("the demo fleet is healthy", 30, async || {
        let (status, html) = page(app, cookie, "/clusters").await;
        assert_eq!(status, 200);
        ["prod-weu", "staging-eus", "ml-sea"]
            .iter()
            .all(|name| row_of(&html, name).is_some_and(all_ready))
            .then_some(html)
    })
    .await
}

fn label(key: &str, value: Option<&str>) -> Patch<serde_json::Value> {
    Patch::Merge(serde_json::json!({"metadata": {"labels": {key: value}}}))
}

/// A person with no portal-wide role, bound as viewer on one cluster only.
async fn scoped_viewer(db: &Db, cluster: &str) -> String {
    server::access::bindings::add(
        db,
        &server::access::bindings::NewBinding {
            kind: SubjectKind::User,
            subject: "sam".into(),
            role: Role::Viewer,
            cluster: Some(ClusterRef::new("default", cluster)),
            created_by: "test".into(),
        },
    )
    .await
    .expect("bound");
    support::session_for(
        db,
        Principal {
            subject: "sam".into(),
            name: "Sam Scoped".into(),
            groups: vec![],
        },
    )
    .await
}

#[tokio::test]
async fn the_fleet_lists_every_cluster_with_health_version_and_tags_and_filters_by_address() {
    let db = support::sqlite().await;
    let (app, sim, _) = support::portal_at_speed(&db.db, &[], SPEED).await;
    let admin = support::dev_session(&db.db, "admin").await;
    let html = healthy_fleet(&app, &admin).await;

    let prod = row_of(&html, "prod-weu").expect("prod-weu listed");
    for expected in [
        r#"href="/clusters/default/prod-weu""#,
        "westeurope",
        "v1.33.5",
        "upgrade available",
        "badge-healthy",
        "team=payments",
    ] {
        assert!(prod.contains(expected), "{expected} in {prod}");
    }
    let ml = row_of(&html, "ml-sea").expect("ml-sea listed");
    assert!(
        ml.contains("v1.34.2") && !ml.contains("upgrade available"),
        "{ml}"
    );
    assert!(html.contains("3 of 3 clusters"), "the summary counts");

    // Search, filters and sorting come from the address.
    let (_, only_ml) = page(&app, &admin, "/clusters?q=ML").await;
    assert!(row_of(&only_ml, "ml-sea").is_some() && row_of(&only_ml, "prod-weu").is_none());
    let (_, eastus) = page(&app, &admin, "/clusters?region=eastus&health=healthy").await;
    assert!(row_of(&eastus, "staging-eus").is_some() && row_of(&eastus, "ml-sea").is_none());
    let (_, tagged) = page(&app, &admin, "/clusters?tag=team%3Dml").await;
    assert!(row_of(&tagged, "ml-sea").is_some() && row_of(&tagged, "staging-eus").is_none());
    let (_, by_version) = page(&app, &admin, "/clusters?sort=version&dir=desc").await;
    let order: Vec<usize> = ["ml-sea", "prod-weu", "staging-eus"]
        .iter()
        .map(|n| by_version.find(&format!(">{n}</a>")).expect("listed"))
        .collect();
    assert!(
        order[0] < order[1] && order[1] < order[2],
        "newest version first"
    );

    // Bad input: a clear 400, or the default.
    let (status, bad) = page(&app, &admin, "/clusters?health=sick").await;
    assert_eq!(status, 400);
    assert!(bad.contains("is not a health state"), "{bad}");
    let (status, paged) = page(&app, &admin, "/clusters?page=-7&sort=%3Cscript%3E").await;
    assert_eq!(status, 200);
    assert!(row_of(&paged, "prod-weu").is_some());
    sim.stop().await;
}

#[tokio::test]
async fn a_node_going_not_ready_degrades_its_cluster_only_and_recovers() {
    let db = support::sqlite().await;
    let (app, sim, management) = support::portal_at_speed(&db.db, &[], SPEED).await;
    let admin = support::dev_session(&db.db, "admin").await;
    healthy_fleet(&app, &admin).await;

    let client = support::workload_client(&management, "prod-weu").await;
    let nodes: Api<Node> = Api::all(client);
    let first = nodes
        .list(&ListParams::default())
        .await
        .expect("nodes")
        .items[0]
        .metadata
        .name
        .clone()
        .expect("a name");
    let started = Instant::now();
    nodes
        .patch(
            &first,
            &PatchParams::default(),
            &label(kubesim::KUBELET_STOPPED_LABEL, Some("true")),
        )
        .await
        .expect("labelled");
    let html = support::until("prod-weu shows the NotReady node", 30, async || {
        let (_, html) = page(&app, &admin, "/clusters").await;
        row_of(&html, "prod-weu")
            .is_some_and(|r| {
                r.contains("badge-degraded")
                    && r.contains(" nodes NotReady")
                    && r.contains(">1 of ")
            })
            .then_some(html)
    })
    .await;
    eprintln!("NotReady shown after {:?}", started.elapsed());
    assert!(row_of(&html, "staging-eus").is_some_and(|r| r.contains("badge-healthy")));
    assert!(
        html.contains(r#"aria-current="true""#),
        "the All count is current"
    );

    // The Nodes tab and the node's page say which node and why.
    let (status, tab) = page(&app, &admin, "/clusters/default/prod-weu/nodes").await;
    assert_eq!(status, 200);
    assert!(tab.contains("NotReady") || tab.contains("Unknown"), "{tab}");
    let (status, node) = page(
        &app,
        &admin,
        &format!("/clusters/default/prod-weu/nodes/{first}"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        node.contains("Kubelet stopped posting node status."),
        "{node}"
    );
    assert!(node.contains("NodeNotReady"), "its event is listed: {node}");

    nodes
        .patch(
            &first,
            &PatchParams::default(),
            &label(kubesim::KUBELET_STOPPED_LABEL, None),
        )
        .await
        .expect("label removed");
    healthy_fleet(&app, &admin).await;
    sim.stop().await;
}

#[tokio::test]
async fn a_cluster_scoped_viewer_sees_only_their_cluster_and_404_for_others() {
    let db = support::sqlite().await;
    // Bound before the portal first reads the bindings (it caches them).
    let sam = scoped_viewer(&db.db, "staging-eus").await;
    let (app, sim, _) = support::portal_at_speed(&db.db, &[], SPEED).await;
    let admin = support::dev_session(&db.db, "admin").await;
    healthy_fleet(&app, &admin).await;

    let (status, html) = page(&app, &sam, "/clusters").await;
    assert_eq!(status, 200);
    assert!(row_of(&html, "staging-eus").is_some());
    for hidden in [
        "prod-weu",
        "ml-sea",
        "westeurope",
        "southeastasia",
        "payments",
    ] {
        assert!(!html.contains(hidden), "{hidden} must not appear: {html}");
    }
    assert!(
        html.contains("1 of 1 clusters"),
        "counts cover only what sam sees"
    );

    let (status, own) = page(&app, &sam, "/clusters/default/staging-eus").await;
    assert_eq!(status, 200);
    assert!(
        !own.contains("Download kubeconfig"),
        "viewers get no credentials"
    );
    let (hidden_status, hidden) = page(&app, &sam, "/clusters/default/prod-weu/pods").await;
    let (missing_status, missing) = page(&app, &sam, "/clusters/default/no-such/pods").await;
    assert_eq!((hidden_status, missing_status), (404, 404));
    assert!(hidden.contains("Page not found") && missing.contains("Page not found"));
    for path in [
        "/clusters/default/prod-weu/kubeconfig",
        "/clusters/default/prod-weu/pods/shop/x/logs/download",
        "/clusters/default/prod-weu/pods/shop/x/logs/stream",
    ] {
        let (status, body) = page(&app, &sam, path).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
    sim.stop().await;
}

#[tokio::test]
async fn the_kubeconfig_download_is_for_cluster_admins_and_recorded() {
    let db = support::sqlite().await;
    let (app, sim, _) = support::portal_at_speed(&db.db, &[], SPEED).await;
    let admin = support::dev_session(&db.db, "admin").await;
    let viewer = support::dev_session(&db.db, "viewer").await;
    healthy_fleet(&app, &admin).await;

    let (status, overview) = page(&app, &admin, "/clusters/default/prod-weu").await;
    assert_eq!(status, 200);
    assert!(overview.contains("Download kubeconfig"));
    let (status, headers, body) = support::send(
        &app,
        support::get("/clusters/default/prod-weu/kubeconfig", Some(&admin)),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        body.contains("kind: Config") && body.contains("name: \"prod-weu\""),
        "{body}"
    );
    // The cluster's own credentials: not the management cluster's token, which opens every cluster.
    assert!(
        body.contains("token: \"kubesim-") && !body.contains(sim.token()),
        "{body}"
    );
    assert_eq!(headers["cache-control"], "no-store");
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap_or("")
            .contains("prod-weu-kubeconfig.yaml")
    );

    let (status, _) = page(&app, &viewer, "/clusters/default/prod-weu/kubeconfig").await;
    assert_eq!(status, 403);
    let recorded = server::store::audit::recent(&db.db, 20).await.expect("log");
    let downloads: Vec<(&str, &str)> = recorded
        .iter()
        .filter(|e| e.entry.action == "download-kubeconfig")
        .map(|e| (e.entry.outcome.as_str(), e.entry.target.as_str()))
        .collect();
    assert_eq!(
        downloads,
        [
            ("denied", "cluster/default/prod-weu"),
            ("accepted", "cluster/default/prod-weu")
        ]
    );
    sim.stop().await;
}

#[tokio::test]
async fn a_broken_kubeconfig_secret_makes_that_cluster_unreachable_and_no_other() {
    let db = support::sqlite().await;
    let (app, sim, management) = support::portal_at_speed(&db.db, &[], SPEED).await;
    let admin = support::dev_session(&db.db, "admin").await;
    healthy_fleet(&app, &admin).await;

    let secrets: Api<Secret> = Api::namespaced(management.client(), "default");
    let put = |value: &str| {
        Patch::Merge(serde_json::json!({"stringData": null, "data": {"value": base64(value)}}))
    };
    secrets
        .patch(
            "staging-eus-kubeconfig",
            &PatchParams::default(),
            &put("not: [a kubeconfig"),
        )
        .await
        .expect("broken");
    let html = support::until("staging-eus is unreachable", 30, async || {
        let (_, html) = page(&app, &admin, "/clusters").await;
        row_of(&html, "staging-eus")
            .is_some_and(|r| r.contains("badge-unreachable") && r.contains("is not a kubeconfig"))
            .then_some(html)
    })
    .await;
    assert!(row_of(&html, "prod-weu").is_some_and(|r| r.contains("badge-healthy")));
    assert!(row_of(&html, "ml-sea").is_some_and(|r| r.contains("badge-healthy")));
    let (status, body) = page(&app, &admin, "/clusters/default/staging-eus/pods").await;
    assert_eq!(status, 200, "the page renders and says why");
    assert!(body.contains("is not a kubeconfig"), "{body}");

    // A kubeconfig that would run a command on the portal's host is refused.
    let exec = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: touch\n      args: [\"/tmp/pwned\"]\n";
    secrets
        .patch(
            "staging-eus-kubeconfig",
            &PatchParams::default(),
            &put(exec),
        )
        .await
        .expect("exec");
    support::until("the exec kubeconfig is refused", 30, async || {
        let (_, html) = page(&app, &admin, "/clusters").await;
        row_of(&html, "staging-eus")
            .is_some_and(|r| r.contains("asks to run a command"))
            .then_some(())
    })
    .await;

    // A Secret that is gone makes the cluster unreachable too, saying which Secret.
    secrets
        .delete("staging-eus-kubeconfig", &Default::default())
        .await
        .expect("deleted");
    support::until("the missing Secret is reported", 30, async || {
        let (_, html) = page(&app, &admin, "/clusters").await;
        row_of(&html, "staging-eus")
            .is_some_and(|r| {
                r.contains("badge-unreachable")
                    && r.contains("its Secret staging-eus-kubeconfig does not exist")
            })
            .then_some(())
    })
    .await;
    sim.stop().await;
}

fn base64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[tokio::test]
async fn pages_keep_the_last_known_fleet_while_the_api_fails_and_recover() {
    let db = support::sqlite().await;
    let (app, sim, _) = support::portal_at_speed(&db.db, &[], SPEED).await;
    let admin = support::dev_session(&db.db, "admin").await;
    healthy_fleet(&app, &admin).await;

    sim.faults()
        .apply(&kubesim::FaultRequest {
            fail_requests: Some(1_000_000),
            // kube-rs retries a 503 by itself; a 500 reaches the watch at once.
            fail_status: Some(500),
            drop_watches: true,
            ..Default::default()
        })
        .expect("fault");
    let mut last = String::new();
    for _ in 0..300 {
        let (_, html) = page(&app, &admin, "/clusters").await;
        last = html;
        if last.contains("stale since") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let html = last;
    eprintln!("faults now: {:?}", sim.faults().state());
    let main = html.find("<main").map(|i| &html[i..]).unwrap_or("");
    assert!(
        html.contains("stale since"),
        "{}",
        &main[..main.len().min(3000)]
    );
    assert!(
        row_of(&html, "prod-weu").is_some(),
        "the last known fleet is still listed"
    );
    sim.faults().clear();
    support::until("the page recovers", 30, async || {
        let (_, html) = page(&app, &admin, "/clusters").await;
        (!html.contains("stale since")).then_some(())
    })
    .await;
    sim.stop().await;
}

#[tokio::test]
async fn pods_show_crash_loops_and_their_logs_tail_previous_and_follow() {
    let db = support::sqlite().await;
    let (app, sim, management) = support::portal_at_speed(&db.db, &[], SPEED).await;
    let admin = support::dev_session(&db.db, "admin").await;
    healthy_fleet(&app, &admin).await;

    let client = support::workload_client(&management, "staging-eus").await;
    let pods: Api<Pod> = Api::namespaced(client, "kube-system");
    let coredns = support::until("coredns runs", 30, async || {
        let list = pods
            .list(&ListParams::default().labels("k8s-app=kube-dns"))
            .await
            .ok()?;
        let list = if list.items.is_empty() {
            pods.list(&ListParams::default().labels("app=coredns"))
                .await
                .ok()?
        } else {
            list
        };
        list.items
            .into_iter()
            .find(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
    })
    .await;
    let name = coredns.metadata.name.clone().expect("a name");
    pods.patch(
        &name,
        &PatchParams::default(),
        &label(kubesim::CRASH_LOOP_LABEL, Some("true")),
    )
    .await
    .expect("labelled");

    let base = format!("/clusters/default/staging-eus/pods/kube-system/{name}");
    let pod_page = support::until("the pod page shows the crash loop", 30, async || {
        let (_, html) = page(&app, &admin, &base).await;
        html.contains("CrashLoopBackOff").then_some(html)
    })
    .await;
    assert!(
        pod_page.contains("Error (exit 1)"),
        "last termination: {pod_page}"
    );
    assert!(
        pod_page.contains(&format!(r#"href="{base}/logs""#)),
        "a Logs link"
    );
    let (_, tab) = page(
        &app,
        &admin,
        "/clusters/default/staging-eus/pods?phase=CrashLoopBackOff",
    )
    .await;
    assert!(tab.contains(&name), "the phase filter finds it");
    let (_, filtered) = page(
        &app,
        &admin,
        "/clusters/default/staging-eus/pods?namespace=shop",
    )
    .await;
    assert!(!filtered.contains(&name), "another namespace hides it");

    let (status, logs) = page(&app, &admin, &format!("{base}/logs")).await;
    assert_eq!(status, 200);
    assert!(logs.matches(r#"<div class="line">"#).count() > 5, "{logs}");
    assert!(
        logs.contains("Previous container"),
        "a restarted container offers its previous log"
    );
    let (status, previous) = page(&app, &admin, &format!("{base}/logs?previous=true")).await;
    assert_eq!(status, 200);
    assert!(
        previous.matches(r#"<div class="line">"#).count() > 5,
        "{previous}"
    );
    let (status, wrong) = page(&app, &admin, &format!("{base}/logs?container=nope")).await;
    assert_eq!(status, 400);
    assert!(wrong.contains("has no container"), "{wrong}");

    // Follow: new lines arrive as server-sent events.
    let res = {
        use tower::ServiceExt;
        app.clone()
            .oneshot(support::get(&format!("{base}/logs/stream"), Some(&admin)))
            .await
            .expect("answer")
    };
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut body = res.into_body().into_data_stream();
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.matches("data: ").count() < 2 && Instant::now() < deadline {
        use futures_util::StreamExt;
        if let Ok(Some(Ok(chunk))) = tokio::time::timeout(Duration::from_secs(5), body.next()).await
        {
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
    assert!(
        seen.matches("data: ").count() >= 2,
        "two live lines: {seen}"
    );

    let (status, headers, text) = support::send(
        &app,
        support::get(&format!("{base}/logs/download"), Some(&admin)),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap_or("")
            .contains(".log")
    );
    assert!(text.lines().count() > 5);
    sim.stop().await;
}

#[tokio::test]
async fn unknown_names_are_404_pages_inside_the_frame() {
    let db = support::sqlite().await;
    let (app, sim, _) = support::portal_at_speed(&db.db, &[], SPEED).await;
    let admin = support::dev_session(&db.db, "admin").await;
    healthy_fleet(&app, &admin).await;
    for path in [
        "/clusters/default/no-such",
        "/clusters/default/prod-weu/nodes/no-such-node",
        "/clusters/default/prod-weu/pods/shop/no-such-pod",
        "/clusters/default/prod-weu/pods/shop/no-such-pod/logs",
        "/clusters/default/prod-weu/nodes/..%2F..%2Fsecrets",
        "/clusters/default/prod-weu/pods/..%2Fkube-system/x/logs/stream",
    ] {
        let (status, html) = page(&app, &admin, path).await;
        assert_eq!(status, 404, "{path}: {html}");
        if !path.ends_with("/stream") {
            assert!(
                html.contains("Page not found") && html.contains("Skip to content"),
                "{path}"
            );
        }
    }
    sim.stop().await;
}

/// The tags of a cluster: checked on the server (each rule its message, nothing written, the
/// attempt recorded), saved into the portal's annotation with the per-key ones folded in, never
/// over a change made meanwhile, refused to viewers and to admins of another cluster.
#[tokio::test]
async fn tags_are_checked_saved_and_never_written_over_a_change_made_meanwhile() {
    let db = support::sqlite().await;
    let (app, sim, management) = support::portal_at_speed(&db.db, &[], SPEED).await;
    let admin = support::dev_session(&db.db, "admin").await;
    let viewer = support::dev_session(&db.db, "viewer").await;
    let cora = support::dev_session(&db.db, "cluster-admin").await;
    healthy_fleet(&app, &admin).await;
    let clusters: Api<server::fleet::resources::Cluster> =
        Api::namespaced(management.client(), "default");
    let annotations = async |name: &str| {
        clusters
            .get(name)
            .await
            .expect("cluster")
            .metadata
            .annotations
            .unwrap_or_default()
    };
    let written = async |name: &str| annotations(name).await.get("portolan.dev/tags").cloned();
    // The form's post: the cluster, the tags it showed, the tags to save.
    let put = async |cookie: &str, cluster: &str, was: &str, tags: &str| {
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("namespace", "default")
            .append_pair("name", cluster)
            .append_pair("was", was)
            .append_pair("tags", tags)
            .finish();
        let (status, json) = support::call(&app, cookie, "/api/clusters/tags", Some(&form)).await;
        (status.as_u16(), json)
    };
    let before = annotations("staging-eus").await;
    assert_eq!(
        before.get("portolan.dev/team").map(String::as_str),
        Some("shop")
    );

    // Bad input: a field message, a 400, nothing written, the attempt in the activity log.
    let many: Vec<String> = (0..51).map(|i| format!("k{i}=v")).collect();
    for (tags, message) in [
        ("team", "tags: line 1: \"team\" is not key=value"),
        (
            "team=<script>",
            "tags: the value of \"team\" has \"<\" or \">\": markup is not a tag value",
        ),
        (
            "bad key=x",
            "tags: the key \"bad key\" has \" \": keys are letters, digits, \".\", \"_\", \"/\" and \"-\"",
        ),
        (
            &many.join("\n"),
            "tags: too many tags: a cluster carries at most 50",
        ),
    ] {
        let (status, json) = put(&admin, "staging-eus", "team=shop", tags).await;
        assert_eq!(status, 400, "{tags}");
        assert_eq!(json["BadRequest"].as_str(), Some(message), "{tags}");
    }
    assert_eq!(annotations("staging-eus").await, before);
    let failed = server::store::audit::recent(&db.db, 50).await.expect("log");
    let tried: Vec<(&str, &str)> = failed
        .iter()
        .filter(|e| e.entry.action == "edit-tags")
        .map(|e| (e.entry.outcome.as_str(), e.entry.target.as_str()))
        .collect();
    assert_eq!(tried, vec![("failed", "cluster/default/staging-eus"); 4]);

    // A good save: the JSON annotation holds every tag, the per-key one is gone.
    let (status, _) = put(
        &admin,
        "staging-eus",
        "team=shop",
        "team=shop\nexample.com/cost-center=R&D 42",
    )
    .await;
    assert!(status < 400, "{status}");
    let after = annotations("staging-eus").await;
    assert_eq!(after.get("portolan.dev/team"), None);
    assert_eq!(
        after.get("portolan.dev/tags").map(String::as_str),
        Some(r#"{"example.com/cost-center":"R&D 42","team":"shop"}"#)
    );
    let entry = server::store::audit::recent(&db.db, 1)
        .await
        .expect("log")
        .remove(0);
    assert_eq!(entry.entry.action, "edit-tags");
    assert_eq!(
        entry.entry.parameters,
        serde_json::json!({"before": ["team=shop"], "after": ["example.com/cost-center=R&D 42", "team=shop"]})
    );

    // Someone else changes them meanwhile: the form's save is a 409 with what they are now.
    let billing = Some(r#"{"team":"billing"}"#.to_string());
    let other = serde_json::json!({"metadata": {"annotations": {"portolan.dev/tags": billing}}});
    clusters
        .patch(
            "staging-eus",
            &PatchParams::default(),
            &Patch::Merge(&other),
        )
        .await
        .expect("patched");
    let shown = "example.com/cost-center=R&D 42\nteam=shop";
    let (status, json) = put(&admin, "staging-eus", shown, "team=mine").await;
    assert_eq!(status, 409);
    assert_eq!(
        json["Conflict"]["message"].as_str(),
        Some("tags changed since you opened this: review and save again"),
        "{json}"
    );
    assert_eq!(json["Conflict"]["current"].as_str(), Some("team=billing"));
    assert_eq!(written("staging-eus").await, billing);
    // Keys in another order than their lines ("a" before "a.b", but "a.b=1" before "a=2"): what
    // the form showed still matches what the cluster holds.
    assert!(
        put(&admin, "staging-eus", "team=billing", "a=2\na.b=1")
            .await
            .0
            < 400
    );
    assert!(
        put(&admin, "staging-eus", "a=2\na.b=1", "team=billing")
            .await
            .0
            < 400
    );
    assert_eq!(written("staging-eus").await, billing);

    // Viewers may not, nor may an admin of prod-weu only touch staging-eus; she may prod-weu.
    assert_eq!(
        put(&viewer, "staging-eus", "team=billing", "team=x")
            .await
            .0,
        403
    );
    assert_eq!(
        put(&cora, "staging-eus", "team=billing", "team=x").await.0,
        403
    );
    assert_eq!(written("staging-eus").await, billing);
    let (status, _) = put(
        &cora,
        "prod-weu",
        "team=payments",
        "team=payments\nenv=prod",
    )
    .await;
    assert!(status < 400, "{status}");
    assert_eq!(
        written("prod-weu").await.as_deref(),
        Some(r#"{"env":"prod","team":"payments"}"#)
    );
    sim.stop().await;
}
