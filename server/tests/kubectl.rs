//! An unmodified kubectl (Debian's kubernetes-client; `KUBECTL` names it) against `portolan sim`:
//! get, describe, watch, top, apply, patch and delete, through the management and workload APIs.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// `portolan sim` running in the background; killed on drop.
struct SimProcess {
    child: Child,
    kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn kubectl_binary() -> String {
    std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".into())
}

fn start_sim(demo: bool) -> SimProcess {
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("management.yaml");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_portolan"));
    cmd.args(["sim", "--speed", "50", "--kubeconfig"])
        .arg(&kubeconfig);
    if demo {
        cmd.arg("--demo");
    }
    let mut child = cmd
        .env("PORTOLAN_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("portolan sim starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("first line");
    assert!(
        line.starts_with("kubesim serving https://127.0.0.1:"),
        "{line}"
    );
    SimProcess {
        child,
        kubeconfig,
        _dir: dir,
    }
}

/// A kubectl of today: the Google Cloud SDK keeps one per minor version beside its `kubectl`, and
/// `make test` names them in `KUBECTL_1_<minor>`.
fn kubectl_of(minor: u32) -> String {
    let var = format!("KUBECTL_1_{minor}");
    let path = std::env::var(&var).unwrap_or_else(|_| {
        panic!("{var} is not set: run the tests through `make test`, which points it at the Google Cloud SDK's kubectl.1.{minor}")
    });
    assert!(
        Path::new(&path).is_file(),
        "kubectl 1.{minor} is missing: {var}={path} does not exist (the Google Cloud SDK keeps kubectl.1.{minor} beside its kubectl)"
    );
    path
}

/// Every kubectl the tests run, by minor version: Debian's 1.20 and today's.
fn every_kubectl() -> [(u32, String); 4] {
    [
        (20, kubectl_binary()),
        (30, kubectl_of(30)),
        (33, kubectl_of(33)),
        (35, kubectl_of(35)),
    ]
}

fn kubectl(kubeconfig: &Path, args: &[&str]) -> Output {
    kubectl_with(&kubectl_binary(), kubeconfig, args)
}

fn kubectl_with(binary: &str, kubeconfig: &Path, args: &[&str]) -> Output {
    Command::new(binary)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run kubectl ({e}); `make test` installs Debian's kubernetes-client and sets KUBECTL")
        })
}

fn ok(kubeconfig: &Path, args: &[&str]) -> String {
    ok_with(&kubectl_binary(), kubeconfig, args)
}

fn ok_with(binary: &str, kubeconfig: &Path, args: &[&str]) -> String {
    let out = kubectl_with(binary, kubeconfig, args);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{binary} {args:?} failed: {}{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn wait_for(secs: u64, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !check() {
        assert!(
            Instant::now() < deadline,
            "timed out after {secs}s waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The workload cluster's kubeconfig, read from its Secret with kubectl itself.
fn workload_kubeconfig(sim: &SimProcess, cluster: &str) -> PathBuf {
    let secret = format!("{cluster}-kubeconfig");
    wait_for(30, "the kubeconfig Secret", || {
        kubectl(&sim.kubeconfig, &["get", "secret", &secret])
            .status
            .success()
    });
    let text = ok(
        &sim.kubeconfig,
        &[
            "get",
            "secret",
            &secret,
            "-o",
            "go-template={{index .data \"value\" | base64decode}}",
        ],
    );
    let path = sim._dir.path().join(format!("{cluster}.yaml"));
    std::fs::write(&path, text).expect("write kubeconfig");
    path
}

fn node_lines(kubeconfig: &Path) -> Vec<String> {
    let out = kubectl(kubeconfig, &["get", "nodes", "--no-headers"]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn get_describe_watch_and_top_on_the_demo_fleet() {
    let sim = start_sim(true);
    let k = &sim.kubeconfig;
    let clusters = ok(k, &["get", "clusters"]);
    for name in ["prod-weu", "staging-eus", "ml-sea"] {
        assert!(clusters.contains(name), "{clusters}");
    }
    assert!(ok(k, &["get", "clusterclasses"]).contains("managed-k8s"));

    // `get -w` streams changes for a few seconds: the demo's own (phases move at 50x) and, so that
    // there is one however far provisioning got on a busy machine, an annotation made meanwhile.
    let watch = Command::new(kubectl_binary())
        .arg("--kubeconfig")
        .arg(k)
        .args(["get", "clusters", "-w", "--request-timeout=4s"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("kubectl get -w");
    std::thread::sleep(Duration::from_millis(1500));
    ok(
        k,
        &[
            "annotate",
            "cluster",
            "staging-eus",
            "portolan.dev/watched=yes",
            "--overwrite",
        ],
    );
    let out = watch.wait_with_output().expect("watch output");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines().count() > 4,
        "a watch shows more than the initial list:\n{text}"
    );
    assert!(text.contains("Provisioned"), "{text}");

    let described = ok(k, &["describe", "cluster", "prod-weu"]);
    assert!(
        described.contains("Topology:") && described.contains("Events:"),
        "{described}"
    );
    assert!(
        described.contains("Control plane"),
        "events are listed:\n{described}"
    );

    let w = workload_kubeconfig(&sim, "prod-weu");
    wait_for(30, "ready nodes", || {
        node_lines(&w)
            .iter()
            .filter(|l| l.contains(" Ready "))
            .count()
            >= 3
    });
    let node = node_lines(&w)[0]
        .split_whitespace()
        .next()
        .expect("node name")
        .to_string();
    let described = ok(&w, &["describe", "node", &node]);
    assert!(
        described.contains("Kubelet Version:") && described.contains("Non-terminated Pods:"),
        "{described}"
    );
    assert!(
        described.contains("NodeReady"),
        "node events are found:\n{described}"
    );

    wait_for(30, "kubectl top nodes", || {
        kubectl(&w, &["top", "nodes"]).status.success()
    });
    let top = ok(&w, &["top", "nodes"]);
    assert!(top.contains("CPU(cores)") && top.contains(&node), "{top}");
    wait_for(30, "kubectl top pods", || {
        kubectl(&w, &["top", "pods", "-n", "shop"]).status.success()
    });
    let top = ok(&w, &["top", "pods", "-n", "shop"]);
    assert!(top.contains("frontend-"), "{top}");

    let pod = ok(
        &w,
        &[
            "get",
            "pods",
            "-n",
            "shop",
            "-l",
            "app=frontend",
            "-o",
            "jsonpath={.items[0].metadata.name}",
        ],
    );
    wait_for(20, "the pod runs", || {
        ok(
            &w,
            &[
                "get",
                "pod",
                "-n",
                "shop",
                &pod,
                "-o",
                "jsonpath={.status.phase}",
            ],
        ) == "Running"
    });
    let logs = ok(&w, &["logs", "-n", "shop", &pod, "--tail=5"]);
    assert_eq!(logs.lines().count(), 5, "{logs}");
    // `logs -f` keeps streaming new lines (a line every 1–4 simulated seconds, at 50x).
    let mut follow = Command::new(kubectl_binary())
        .arg("--kubeconfig")
        .arg(&w)
        .args(["logs", "-f", "-n", "shop", &pod, "--tail=1"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("kubectl logs -f");
    std::thread::sleep(Duration::from_secs(2));
    let _ = follow.kill();
    let followed = follow.wait_with_output().expect("output");
    let lines = String::from_utf8_lossy(&followed.stdout).lines().count();
    assert!(lines > 3, "follow streamed {lines} lines");
    let described = ok(&w, &["describe", "pod", "-n", "shop", &pod]);
    assert!(
        described.contains("Scheduled"),
        "pod events are found:\n{described}"
    );
    // `-o wide` adds the columns of priority 1, as kube-apiserver's printers define them.
    let header = |args: &[&str]| {
        ok(&w, args)
            .lines()
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        header(&["get", "pods", "-n", "shop"]),
        "NAME READY STATUS RESTARTS AGE"
    );
    assert_eq!(
        header(&["get", "pods", "-n", "shop", "-o", "wide"]),
        "NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES"
    );
    assert_eq!(
        header(&["get", "nodes", "-o", "wide"]),
        "NAME STATUS ROLES AGE VERSION INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME"
    );
    let wide_pod = ok(
        &w,
        &[
            "get",
            "pod",
            "-n",
            "shop",
            &pod,
            "-o",
            "wide",
            "--no-headers",
        ],
    );
    assert!(
        wide_pod.contains(" 10.244."),
        "the pod IP is shown: {wide_pod}"
    );
    // `get all` lists the kinds discovery puts in the "all" category.
    let all = ok(&w, &["get", "all", "-n", "shop"]);
    assert!(
        all.contains(&format!("pod/{pod}")) && all.contains("deployment.apps/frontend"),
        "{all}"
    );
    // Configuration and leader election, as in any cluster.
    assert!(
        ok(
            &w,
            &[
                "create",
                "configmap",
                "settings",
                "-n",
                "shop",
                "--from-literal=level=debug"
            ]
        )
        .contains("configmap/settings created")
    );
    assert_eq!(
        ok(
            &w,
            &[
                "get",
                "configmap",
                "settings",
                "-n",
                "shop",
                "-o",
                "jsonpath={.data.level}"
            ]
        ),
        "debug"
    );
    let leases = kubectl(k, &["get", "leases", "-A"]);
    assert!(
        leases.status.success()
            && String::from_utf8_lossy(&leases.stderr).contains("No resources found"),
        "{}",
        String::from_utf8_lossy(&leases.stderr)
    );
}

const MANIFEST: &str = "apiVersion: cluster.x-k8s.io/v1beta2
kind: Cluster
metadata:
  name: demo
  namespace: default
spec:
  topology:
    classRef:
      name: managed-k8s
    version: v1.33.2
    variables:
    - name: region
      value: northeurope
    workers:
      machineDeployments:
      - class: default-worker
        name: pool1
        replicas: 1
";

#[test]
fn apply_patch_and_delete_a_cluster() {
    let sim = start_sim(false);
    let k = &sim.kubeconfig;
    let manifest = sim._dir.path().join("cluster.yaml");
    std::fs::write(&manifest, MANIFEST).expect("manifest");
    let applied = ok(k, &["apply", "-f", manifest.to_str().expect("utf-8 path")]);
    assert!(
        applied.contains("cluster.cluster.x-k8s.io/demo created"),
        "{applied}"
    );

    let w = workload_kubeconfig(&sim, "demo");
    wait_for(30, "one Ready node", || {
        node_lines(&w)
            .iter()
            .filter(|l| l.contains(" Ready "))
            .count()
            == 1
    });

    let replicas = r#"{"spec":{"topology":{"workers":{"machineDeployments":[{"class":"default-worker","name":"pool1","replicas":2}]}}}}"#;
    assert!(
        ok(
            k,
            &[
                "patch", "cluster", "demo", "--type", "merge", "-p", replicas
            ]
        )
        .contains("patched")
    );
    wait_for(40, "two Ready nodes", || {
        node_lines(&w)
            .iter()
            .filter(|l| l.contains(" Ready "))
            .count()
            == 2
    });

    assert!(
        ok(
            k,
            &[
                "patch",
                "cluster",
                "demo",
                "--type",
                "merge",
                "-p",
                r#"{"spec":{"topology":{"version":"v1.33.5"}}}"#
            ]
        )
        .contains("patched")
    );
    wait_for(60, "nodes on v1.33.5", || {
        let lines = node_lines(&w);
        lines.len() == 2
            && lines
                .iter()
                .all(|l| l.contains(" Ready ") && l.ends_with("v1.33.5"))
    });
    let md = ok(k, &["get", "machinedeployments"]);
    assert!(md.contains("demo-pool1") && md.contains("v1.33.5"), "{md}");

    let bad = kubectl(
        k,
        &[
            "patch",
            "cluster",
            "demo",
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"topology":{"version":"v9.9.9"}}}"#,
        ],
    );
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("Unsupported value") && err.contains("spec.topology.version"),
        "{err}"
    );

    assert!(ok(k, &["delete", "cluster", "demo", "--wait=false"]).contains("deleted"));
    wait_for(40, "the cluster is gone", || {
        let out = kubectl(k, &["get", "cluster", "demo"]);
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("NotFound")
    });
}

const SECRET: &str = "apiVersion: v1
kind: Secret
metadata:
  name: drytest
stringData:
  password: s3cret
";

#[test]
fn server_dry_runs_of_todays_kubectl_change_nothing() {
    let sim = start_sim(false);
    let k = &sim.kubeconfig;
    let manifest = sim._dir.path().join("secret.yaml");
    std::fs::write(&manifest, SECRET).expect("manifest");
    let file = manifest.to_str().expect("utf-8 path");
    for minor in [30, 33, 35] {
        let bin = kubectl_of(minor);
        let run = |args: &[&str]| ok_with(&bin, k, args);
        let exists = || {
            kubectl_with(&bin, k, &["get", "secret", "drytest"])
                .status
                .success()
        };
        assert_eq!(
            run(&["create", "-f", file, "--dry-run=server"]).trim(),
            "secret/drytest created (server dry run)",
            "kubectl 1.{minor}"
        );
        assert!(
            !exists(),
            "kubectl 1.{minor}: a dry-run create stored the secret"
        );
        run(&["apply", "-f", file]);
        assert_eq!(
            run(&[
                "label",
                "secret",
                "drytest",
                "stage=dry",
                "--dry-run=server"
            ])
            .trim(),
            "secret/drytest labeled (server dry run)"
        );
        // kubectl 1.35 names the namespace in what it prints.
        let deleted = if minor >= 35 {
            "secret \"drytest\" deleted from default namespace (server dry run)"
        } else {
            "secret \"drytest\" deleted (server dry run)"
        };
        assert_eq!(
            run(&["delete", "secret", "drytest", "--dry-run=server"]).trim(),
            deleted,
            "kubectl 1.{minor}"
        );
        assert!(
            exists(),
            "kubectl 1.{minor}: a dry-run delete deleted the secret"
        );
        assert_eq!(
            run(&[
                "get",
                "secret",
                "drytest",
                "-o",
                "jsonpath={.metadata.labels}"
            ]),
            "",
            "kubectl 1.{minor}: a dry-run label was kept"
        );
        run(&["delete", "secret", "drytest"]);
        assert!(!exists(), "kubectl 1.{minor}: the real delete");
    }
}

/// The node a running pod labelled `app=<app>` in `ns` is on.
fn node_of(w: &Path, ns: &str, app: &str) -> String {
    let mut node = String::new();
    wait_for(60, &format!("a running {app} pod"), || {
        node = ok(
            w,
            &[
                "get",
                "pods",
                "-n",
                ns,
                "-l",
                &format!("app={app}"),
                "--field-selector=status.phase=Running",
                "-o",
                "jsonpath={.items[0].spec.nodeName}",
            ],
        );
        !node.is_empty()
    });
    node
}

#[test]
fn todays_kubectl_creates_typed_objects_and_drains_around_a_blocking_pdb() {
    let sim = start_sim(true);
    let k = &sim.kubeconfig;
    let w = workload_kubeconfig(&sim, "prod-weu");
    wait_for(60, "ready nodes", || {
        node_lines(&w)
            .iter()
            .filter(|l| l.contains(" Ready "))
            .count()
            >= 5
    });
    for minor in [30, 33, 35] {
        let bin = kubectl_of(minor);
        let run = |kc: &Path, args: &[&str]| ok_with(&bin, kc, args);
        // Typed creates: kubectl 1.33 sends these as protobuf.
        let ns = format!("team-{minor}");
        assert_eq!(
            run(k, &["create", "namespace", &ns]).trim(),
            format!("namespace/{ns} created")
        );
        assert_eq!(
            run(
                k,
                &["get", "namespace", &ns, "-o", "jsonpath={.status.phase}"]
            ),
            "Active"
        );
        run(
            k,
            &[
                "create",
                "configmap",
                "settings",
                "-n",
                &ns,
                "--from-literal=mode=fast",
            ],
        );
        run(
            k,
            &[
                "create",
                "secret",
                "generic",
                "creds",
                "-n",
                &ns,
                "--from-literal=password=hunter2",
            ],
        );
        assert_eq!(
            run(
                k,
                &[
                    "get",
                    "secret",
                    "creds",
                    "-n",
                    &ns,
                    "-o",
                    "jsonpath={.type} {.data.password}"
                ]
            ),
            "Opaque aHVudGVyMg=="
        );
        run(&w, &["create", "namespace", &ns]);
        run(
            &w,
            &[
                "create",
                "deployment",
                "web",
                "-n",
                &ns,
                "--image=nginx:1.27",
                "--replicas=2",
                "--port=80",
            ],
        );
        run(
            &w,
            &[
                "create",
                "poddisruptionbudget",
                "web",
                "-n",
                &ns,
                "--selector=app=web",
                "--min-available=1",
            ],
        );
        run(
            &w,
            &[
                "run",
                "one",
                "-n",
                &ns,
                "--image=busybox:1.36",
                "--labels=kind=single",
                "--",
                "sleep",
                "3600",
            ],
        );
        assert_eq!(
            run(
                &w,
                &[
                    "get",
                    "deployment",
                    "web",
                    "-n",
                    &ns,
                    "-o",
                    "jsonpath={.spec.template.spec.containers[0].ports[0].containerPort} {.spec.strategy.type}"
                ]
            ),
            "80 RollingUpdate"
        );
        assert_eq!(
            run(
                &w,
                &[
                    "get",
                    "pod",
                    "one",
                    "-n",
                    &ns,
                    "-o",
                    "jsonpath={.spec.containers[0].args}"
                ]
            ),
            "[\"sleep\",\"3600\"]"
        );
        assert_eq!(
            run(
                &w,
                &[
                    "get",
                    "pdb",
                    "web",
                    "-n",
                    &ns,
                    "-o",
                    "jsonpath={.spec.minAvailable}"
                ]
            ),
            "1"
        );
        run(k, &["delete", "namespace", &ns]);
        run(&w, &["delete", "namespace", &ns]);
    }

    // Scale subresources and access reviews, with every kubectl.
    run_scale_and_can_i(&w, k);

    // prod-weu's ledger has a budget that allows no disruption: draining its node is refused
    // with 429, which every kubectl retries until its timeout.
    let blocked = node_of(&w, "payments", "ledger");
    for (minor, bin) in every_kubectl() {
        let out = kubectl_with(
            &bin,
            &w,
            &[
                "drain",
                &blocked,
                "--ignore-daemonsets",
                "--delete-emptydir-data",
                "--timeout=4s",
            ],
        );
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !out.status.success(),
            "1.{minor}: the drain finished past the budget:\n{said}"
        );
        assert!(
            said.contains("Cannot evict pod as it would violate the pod's disruption budget."),
            "1.{minor}: {said}"
        );
        assert_eq!(
            ok(
                &w,
                &[
                    "get",
                    "pods",
                    "-n",
                    "payments",
                    "-l",
                    "app=ledger",
                    "--field-selector",
                    &format!("spec.nodeName={blocked}"),
                    "-o",
                    "name"
                ]
            )
            .lines()
            .count(),
            1,
            "1.{minor}: the protected pod is still there"
        );
        ok_with(&bin, &w, &["uncordon", &blocked]);
    }
    let bin = kubectl_of(33);

    // A node without ledger pods drains: its pods are evicted and come back elsewhere.
    let nodes = ok(
        &w,
        &["get", "nodes", "-o", "jsonpath={.items[*].metadata.name}"],
    );
    let ledger_nodes = ok(
        &w,
        &[
            "get",
            "pods",
            "-n",
            "payments",
            "-l",
            "app=ledger",
            "-o",
            "jsonpath={.items[*].spec.nodeName}",
        ],
    );
    let free = nodes
        .split_whitespace()
        .find(|n| !ledger_nodes.split_whitespace().any(|l| l == *n))
        .expect("a node without ledger pods")
        .to_string();
    let drained = ok_with(
        &bin,
        &w,
        &[
            "drain",
            &free,
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            "--timeout=30s",
        ],
    );
    assert!(
        drained.contains(&format!("node/{free} drained")),
        "{drained}"
    );
    let left = ok(
        &w,
        &[
            "get",
            "pods",
            "-A",
            "--field-selector",
            &format!("spec.nodeName={free}"),
            "-o",
            "jsonpath={.items[*].metadata.ownerReferences[0].kind}",
        ],
    );
    assert_eq!(left, "DaemonSet", "only kube-proxy stays on a drained node");
    assert_eq!(
        ok(
            &w,
            &["get", "node", &free, "-o", "jsonpath={.spec.unschedulable}"]
        ),
        "true"
    );
}

/// A plain HTTP GET through `kubectl proxy` (which adds the credentials); the status line and body.
fn through_proxy(port: u16, path: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("the proxy listens");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").expect("request");
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("response");
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (
        head.lines().next().unwrap_or("").to_string(),
        body.to_string(),
    )
}

/// `kubectl proxy` on a free port, killed on drop.
struct Proxy(Child, u16);

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn proxy(binary: &str, kubeconfig: &Path) -> Proxy {
    let mut child = Command::new(binary)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["proxy", "--port=0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("kubectl proxy starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("kubectl proxy says where it serves");
    let port = line
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    Proxy(child, port)
}

#[test]
fn raw_calls_and_kubectl_proxy_reach_each_api_by_its_token() {
    let sim = start_sim(true);
    let k = &sim.kubeconfig;
    let w = workload_kubeconfig(&sim, "staging-eus");
    let text = std::fs::read_to_string(&w).expect("kubeconfig");
    assert!(
        !text.contains("/clusters/"),
        "the workload API is at the server's root:\n{text}"
    );
    for bin in [
        kubectl_binary(),
        kubectl_of(30),
        kubectl_of(33),
        kubectl_of(35),
    ] {
        let version: serde_json::Value =
            serde_json::from_str(&ok_with(&bin, k, &["get", "--raw", "/version"])).expect("json");
        assert_eq!(
            version["gitVersion"], "v1.34.2",
            "{bin}: the management API"
        );
        let version: serde_json::Value =
            serde_json::from_str(&ok_with(&bin, &w, &["get", "--raw", "/version"])).expect("json");
        assert_eq!(version["gitVersion"], "v1.32.7", "{bin}: staging-eus's API");
        // Metrics appear once the nodes are up: staging-eus has two.
        let raw_metrics = || {
            let out = kubectl_with(
                &bin,
                &w,
                &["get", "--raw", "/apis/metrics.k8s.io/v1beta1/nodes"],
            );
            serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap_or_default()
        };
        wait_for(60, "metrics of both nodes", || {
            raw_metrics()["items"].as_array().map(Vec::len) == Some(2)
        });
        assert_eq!(raw_metrics()["kind"], "NodeMetricsList", "{bin}");
        // The workload token does not open the management API.
        let out = kubectl_with(&bin, &w, &["get", "clusters.cluster.x-k8s.io"]);
        assert!(
            !out.status.success(),
            "{bin}: a workload kubeconfig listed Clusters"
        );
        // A wrong token is refused.
        let out = kubectl_with(
            &bin,
            k,
            &["--token=kubesim-wrong", "get", "--raw", "/version"],
        );
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && said.contains("Unauthorized"),
            "{bin}: {said}"
        );

        for (kc, path, want) in [
            (
                k.as_path(),
                "/apis/cluster.x-k8s.io/v1beta2/namespaces/default/clusters",
                "ClusterList",
            ),
            (w.as_path(), "/api/v1/nodes", "NodeList"),
        ] {
            let p = proxy(&bin, kc);
            let (status, body) = through_proxy(p.1, path);
            assert!(status.contains(" 200 "), "{bin} proxy {path}: {status}");
            let v: serde_json::Value = serde_json::from_str(&body).expect("json through the proxy");
            assert_eq!(v["kind"], want, "{bin} proxy {path}");
        }
    }
}

/// `kubectl scale` (through the scale subresource) and `kubectl auth can-i` with each kubectl.
fn run_scale_and_can_i(w: &Path, k: &Path) {
    ok(w, &["create", "namespace", "scaling"]);
    ok(
        w,
        &[
            "create",
            "deployment",
            "api",
            "-n",
            "scaling",
            "--image=nginx:1.27",
        ],
    );
    for (n, bin) in [
        kubectl_binary(),
        kubectl_of(30),
        kubectl_of(33),
        kubectl_of(35),
    ]
    .iter()
    .enumerate()
    {
        let replicas = (n + 2).to_string();
        assert_eq!(
            ok_with(
                bin,
                w,
                &[
                    "scale",
                    "deployment",
                    "api",
                    "-n",
                    "scaling",
                    &format!("--replicas={replicas}")
                ]
            )
            .trim(),
            "deployment.apps/api scaled",
            "{bin}"
        );
        assert_eq!(
            ok(
                w,
                &[
                    "get",
                    "deployment",
                    "api",
                    "-n",
                    "scaling",
                    "-o",
                    "jsonpath={.spec.replicas}"
                ]
            ),
            replicas,
            "{bin}"
        );
        assert_eq!(
            ok_with(
                bin,
                w,
                &["auth", "can-i", "create", "pods", "-n", "scaling"]
            )
            .trim(),
            "yes",
            "{bin}"
        );
        assert_eq!(
            ok_with(
                bin,
                k,
                &["auth", "can-i", "delete", "clusters.cluster.x-k8s.io"]
            )
            .trim(),
            "yes",
            "{bin}"
        );
        let list = ok_with(bin, w, &["auth", "can-i", "--list"]);
        assert!(
            list.contains("*.*") && list.contains("[*]"),
            "{bin}: {list}"
        );
    }
    let out = kubectl(
        w,
        &[
            "scale",
            "deployment",
            "api",
            "-n",
            "scaling",
            "--replicas=-1",
        ],
    );
    assert!(!out.status.success(), "negative replicas were accepted");
}

const ODD_CONFIGMAP: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: odd\ndata:\n  a: b\ndataa:\n  c: d\n";

#[test]
fn todays_kubectl_gets_field_validation_and_delete_propagation() {
    let sim = start_sim(true);
    let k = &sim.kubeconfig;
    let w = workload_kubeconfig(&sim, "staging-eus");
    let manifest = sim._dir.path().join("odd.yaml");
    std::fs::write(&manifest, ODD_CONFIGMAP).expect("manifest");
    let file = manifest.to_str().expect("utf-8 path");
    for minor in [30, 33, 35] {
        let bin = kubectl_of(minor);
        // Strict (kubectl's default): refused, naming the field, nothing stored.
        let out = kubectl_with(&bin, k, &["create", "-f", file, "--validate=strict"]);
        let said = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(
            !out.status.success(),
            "1.{minor}: an unknown field passed Strict"
        );
        assert!(
            said.contains("unknown field \"dataa\""),
            "1.{minor}: {said}"
        );
        assert!(
            !kubectl_with(&bin, k, &["get", "configmap", "odd"])
                .status
                .success()
        );
        // Warn: stored without the field, and kubectl prints the server's warning.
        let out = kubectl_with(&bin, k, &["create", "-f", file, "--validate=warn"]);
        let said = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "1.{minor}: {said}");
        assert!(
            said.contains("Warning: unknown field \"dataa\""),
            "1.{minor}: {said}"
        );
        assert_eq!(
            ok_with(
                &bin,
                k,
                &[
                    "get",
                    "configmap",
                    "odd",
                    "-o",
                    "jsonpath={.data.a}{.dataa}"
                ]
            ),
            "b"
        );
        ok_with(&bin, k, &["delete", "configmap", "odd"]);
        // Ignore: stored without it, silently.
        let out = kubectl_with(&bin, k, &["create", "-f", file, "--validate=false"]);
        assert!(out.status.success() && !String::from_utf8_lossy(&out.stderr).contains("Warning"));
        ok_with(&bin, k, &["delete", "configmap", "odd"]);

        // --cascade=orphan keeps the pods, --cascade=foreground removes them first.
        let ns = format!("cascade-{minor}");
        ok_with(&bin, &w, &["create", "namespace", &ns]);
        for d in ["kept", "fore"] {
            ok_with(
                &bin,
                &w,
                &[
                    "create",
                    "deployment",
                    d,
                    "-n",
                    &ns,
                    "--image=nginx:1.27",
                    "--replicas=2",
                ],
            );
        }
        wait_for(30, "four pods", || {
            ok(&w, &["get", "pods", "-n", &ns, "-o", "name"])
                .lines()
                .count()
                == 4
        });
        ok_with(
            &bin,
            &w,
            &[
                "delete",
                "deployment",
                "kept",
                "-n",
                &ns,
                "--cascade=orphan",
            ],
        );
        ok_with(
            &bin,
            &w,
            &[
                "delete",
                "deployment",
                "fore",
                "-n",
                &ns,
                "--cascade=foreground",
            ],
        );
        wait_for(30, "the foreground delete's pods gone", || {
            ok(
                &w,
                &["get", "pods", "-n", &ns, "-l", "app=fore", "-o", "name"],
            )
            .is_empty()
        });
        assert_eq!(
            ok(
                &w,
                &["get", "pods", "-n", &ns, "-l", "app=kept", "-o", "name"]
            )
            .lines()
            .count(),
            2,
            "1.{minor}: orphans stay"
        );
        ok_with(&bin, &w, &["delete", "namespace", &ns]);
        assert!(
            !kubectl_with(&bin, &w, &["get", "namespace", &ns])
                .status
                .success()
        );
    }
}

/// The `(manager, operation)` pairs of an object's `managedFields`, read raw (kubectl hides them).
fn managers(bin: &str, k: &Path, path: &str) -> Vec<(String, String)> {
    let obj: serde_json::Value =
        serde_json::from_str(&ok_with(bin, k, &["get", "--raw", path])).expect("json");
    obj["metadata"]["managedFields"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["manager"].as_str().unwrap_or_default().to_string(),
                        e["operation"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn kubectl_applies_server_side_diffs_and_reports_conflicts() {
    let sim = start_sim(false);
    let k = &sim.kubeconfig;
    for (minor, bin) in every_kubectl() {
        let name = format!("ssa-{minor}");
        let full = sim._dir.path().join(format!("{name}.yaml"));
        std::fs::write(
            &full,
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  labels:\n    team: a\ndata:\n  a: \"1\"\n  b: \"2\"\n"
            ),
        )
        .expect("manifest");
        let smaller = sim._dir.path().join(format!("{name}-smaller.yaml"));
        std::fs::write(
            &smaller,
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  a: \"1\"\n"
            ),
        )
        .expect("manifest");
        let (full, smaller) = (
            full.to_str().expect("utf-8"),
            smaller.to_str().expect("utf-8"),
        );
        let raw = format!("/api/v1/namespaces/default/configmaps/{name}");

        let out = ok_with(&bin, k, &["apply", "--server-side", "-f", full]);
        assert!(out.contains("serverside-applied"), "1.{minor}: {out}");
        assert_eq!(
            managers(&bin, k, &raw),
            vec![("kubectl".to_string(), "Apply".to_string())],
            "1.{minor}"
        );

        // Someone else changes a field kubectl applied: re-applying it is a conflict.
        ok_with(
            &bin,
            k,
            &[
                "patch",
                "configmap",
                &name,
                "--type=merge",
                "-p",
                r#"{"data":{"a":"changed"}}"#,
            ],
        );
        let out = kubectl_with(&bin, k, &["apply", "--server-side", "-f", full]);
        let said = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(!out.status.success(), "1.{minor}: the conflict was applied");
        assert!(
            said.contains("Apply failed with 1 conflict") && said.contains(".data.a"),
            "1.{minor}: {said}"
        );

        // diff --server-side shows what a forced apply would change, and changes nothing.
        let out = kubectl_with(
            &bin,
            k,
            &["diff", "--server-side", "--force-conflicts", "-f", full],
        );
        let shown = String::from_utf8_lossy(&out.stdout).to_string();
        if minor == 20 {
            // kubectl 1.20 looks dry-run support up in the protobuf OpenAPI v2 document, which
            // kubesim does not write (README: compatibility).
            let said = String::from_utf8_lossy(&out.stderr).to_string();
            assert!(said.contains("doesn't support dry-run"), "1.20: {said}");
        } else {
            assert_eq!(
                out.status.code(),
                Some(1),
                "1.{minor}: {shown}{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                shown.contains("-  a: changed") && shown.contains("+  a: \"1\""),
                "1.{minor}: {shown}"
            );
            let a = ok_with(
                &bin,
                k,
                &["get", "configmap", &name, "-o", "jsonpath={.data.a}"],
            );
            assert_eq!(a, "changed", "1.{minor}: the diff changed the object");
        }

        // Forced with fewer fields: the field is taken back, what is no longer applied goes.
        ok_with(
            &bin,
            k,
            &["apply", "--server-side", "--force-conflicts", "-f", smaller],
        );
        let data = ok_with(
            &bin,
            k,
            &[
                "get",
                "configmap",
                &name,
                "-o",
                "jsonpath={.data.a}|{.data.b}|{.metadata.labels.team}",
            ],
        );
        assert_eq!(data, "1||", "1.{minor}");
        ok_with(&bin, k, &["delete", "configmap", &name]);
    }
}

#[test]
fn kubectl_rolls_deployments_through_replica_sets() {
    let sim = start_sim(true);
    let w = workload_kubeconfig(&sim, "staging-eus");
    for (minor, bin) in every_kubectl() {
        let ns = format!("roll-{minor}");
        let run = |args: &[&str]| {
            let mut all: Vec<&str> = args.to_vec();
            all.extend(["-n", &ns]);
            ok_with(&bin, &w, &all)
        };
        let images = || {
            let mut seen: Vec<String> = run(&[
                "get",
                "pods",
                "-l",
                "app=web",
                "-o",
                "jsonpath={.items[*].spec.containers[0].image}",
            ])
            .split_whitespace()
            .map(String::from)
            .collect();
            seen.sort();
            seen
        };
        let rolled = |what: &str| {
            let out = run(&["rollout", "status", "deployment/web", "--timeout=60s"]);
            assert!(
                out.contains("successfully rolled out"),
                "1.{minor} {what}: {out}"
            );
        };
        ok_with(&bin, &w, &["create", "namespace", &ns]);
        run(&[
            "create",
            "deployment",
            "web",
            "--image=nginx:1.27",
            "--replicas=3",
        ]);
        rolled("create");
        assert_eq!(run(&["get", "rs", "-o", "name"]).lines().count(), 1);
        assert_eq!(images(), vec!["nginx:1.27"; 3], "1.{minor}");

        // set image rolls the pods onto a second ReplicaSet.
        run(&["set", "image", "deployment/web", "nginx=nginx:1.28"]);
        rolled("set image");
        assert_eq!(images(), vec!["nginx:1.28"; 3], "1.{minor}");
        let sets = run(&[
            "get",
            "rs",
            "-o",
            "jsonpath={range .items[*]}{.metadata.annotations.deployment\\.kubernetes\\.io/revision}={.spec.replicas} {end}",
        ]);
        let mut sets: Vec<&str> = sets.split_whitespace().collect();
        sets.sort();
        assert_eq!(sets, vec!["1=0", "2=3"], "1.{minor}");
        let history = run(&["rollout", "history", "deployment/web"]);
        let revisions: Vec<&str> = history
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|r| r.chars().all(|c| c.is_ascii_digit()))
            .collect();
        assert_eq!(revisions, vec!["1", "2"], "1.{minor}: {history}");

        // undo goes back to the first template (its ReplicaSet becomes revision 3).
        let out = run(&["rollout", "undo", "deployment/web"]);
        assert!(out.contains("rolled back"), "1.{minor}: {out}");
        rolled("undo");
        assert_eq!(images(), vec!["nginx:1.27"; 3], "1.{minor}");
        let revision = run(&[
            "get",
            "deployment",
            "web",
            "-o",
            "jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}",
        ]);
        assert_eq!(revision, "3", "1.{minor}");

        // restart replaces every pod with the same template, through a new ReplicaSet.
        let before = run(&["get", "pods", "-l", "app=web", "-o", "name"]);
        run(&["rollout", "restart", "deployment/web"]);
        rolled("restart");
        let after = run(&["get", "pods", "-l", "app=web", "-o", "name"]);
        assert_eq!(after.lines().count(), 3, "1.{minor}: {after}");
        assert!(
            after.lines().all(|p| !before.contains(p)),
            "1.{minor}: {before} / {after}"
        );
        assert_eq!(run(&["get", "rs", "-o", "name"]).lines().count(), 3);
        ok_with(&bin, &w, &["delete", "namespace", &ns]);
    }
}

#[test]
fn todays_kubectl_explains_kinds_from_openapi_and_reads_events_k8s_io() {
    let sim = start_sim(true);
    let k = &sim.kubeconfig;
    let w = workload_kubeconfig(&sim, "staging-eus");
    for minor in [30, 33, 35] {
        let bin = kubectl_of(minor);
        let pod_spec = ok_with(&bin, &w, &["explain", "pod.spec"]);
        assert!(
            pod_spec.contains("KIND:") && pod_spec.contains("Pod"),
            "1.{minor}: {pod_spec}"
        );
        assert!(
            pod_spec.contains("containers\t<[]Container>")
                || pod_spec.contains("containers <[]Container>")
                || pod_spec.contains("containers\t<[]Object>"),
            "1.{minor}: {pod_spec}"
        );
        assert!(
            pod_spec.contains("List of containers belonging to the pod."),
            "1.{minor}: {pod_spec}"
        );
        let replicas = ok_with(&bin, &w, &["explain", "deployment.spec.replicas"]);
        assert!(
            replicas.contains("FIELD: replicas <integer>"),
            "1.{minor}: {replicas}"
        );
        let topology = ok_with(&bin, k, &["explain", "clusters.spec.topology"]);
        assert!(
            topology.contains("GROUP:      cluster.x-k8s.io")
                && topology.contains("version")
                && topology.contains("workers"),
            "1.{minor}: {topology}"
        );
        // Client-side apply finds the schemas and the server's validation: no warnings.
        let manifest = sim._dir.path().join(format!("quiet-{minor}.yaml"));
        std::fs::write(
            &manifest,
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: quiet\ndata:\n  a: \"1\"\n",
        )
        .expect("manifest");
        let file = manifest.to_str().expect("utf-8 path");
        for _ in 0..2 {
            let out = kubectl_with(&bin, &w, &["apply", "-f", file]);
            let said = String::from_utf8_lossy(&out.stderr).to_string();
            assert!(out.status.success() && said.is_empty(), "1.{minor}: {said}");
        }
        ok_with(&bin, &w, &["delete", "configmap", "quiet"]);
        let out = kubectl_with(&bin, &w, &["explain", "pod.spec.nosuchfield"]);
        assert!(
            !out.status.success(),
            "1.{minor}: an unknown field explained"
        );
        // The reading half of the session: top, logs, describe, wide tables.
        wait_for(30, "kubectl top nodes", || {
            kubectl_with(&bin, &w, &["top", "nodes"]).status.success()
        });
        wait_for(30, "kubectl top pods", || {
            kubectl_with(&bin, &w, &["top", "pods", "-n", "shop"])
                .status
                .success()
        });
        let top = ok_with(&bin, &w, &["top", "pods", "-n", "shop"]);
        assert!(
            top.contains("CPU(cores)") && top.lines().count() > 1,
            "1.{minor}: {top}"
        );
        let running_pod = || {
            ok_with(
                &bin,
                &w,
                &[
                    "get",
                    "pods",
                    "-n",
                    "shop",
                    "--field-selector=status.phase=Running",
                    "-o",
                    "jsonpath={.items[*].metadata.name}",
                ],
            )
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string()
        };
        wait_for(30, "a running pod", || !running_pod().is_empty());
        let pod = running_pod();
        let logs = ok_with(&bin, &w, &["logs", "-n", "shop", &pod, "--tail=3"]);
        assert_eq!(logs.lines().count(), 3, "1.{minor}: {logs}");
        let described = ok_with(&bin, &w, &["describe", "pod", "-n", "shop", &pod]);
        assert!(
            described.contains("Controlled By:  ReplicaSet/"),
            "1.{minor}: {described}"
        );
        let wide = ok_with(&bin, &w, &["get", "pods", "-n", "shop", "-o", "wide"]);
        assert!(
            wide.contains("NOMINATED NODE") && wide.contains("10.244."),
            "1.{minor}: {wide}"
        );
        // The cluster's events, through events.k8s.io.
        let events = ok_with(
            &bin,
            &w,
            &[
                "get",
                "events.v1.events.k8s.io",
                "-n",
                "default",
                "-o",
                "name",
            ],
        );
        assert!(
            events.lines().count() > 0
                && events
                    .lines()
                    .all(|l| l.starts_with("event.events.k8s.io/")),
            "1.{minor}: {events}"
        );
    }
}
