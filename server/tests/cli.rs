//! The `portolan` binary as an operator meets it: bad input exits with one clear line; serve and
//! migrate work; SIGTERM stops it cleanly.

mod support;

use std::net::{SocketAddr, TcpListener};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn portolan(args: &[&str], dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_portolan"));
    cmd.args(args).current_dir(dir).stdin(Stdio::null());
    for (key, _) in std::env::vars() {
        if key.starts_with("PORTOLAN_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

fn run(args: &[&str]) -> Output {
    let dir = tempfile::tempdir().expect("temp dir");
    portolan(args, dir.path()).output().expect("run portolan")
}

/// Exits non-zero, says one line on stderr that contains every `needles`, and does not panic.
fn assert_one_line_failure(output: &Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "must fail: {stderr}");
    assert_eq!(
        stderr.trim().lines().count(),
        1,
        "exactly one line: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("RUST_BACKTRACE"), "{stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "expected {needle:?} in: {stderr}");
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

#[test]
fn sim_refuses_bad_options_with_one_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let kc = dir.path().join("k.yaml");
    let kc = kc.to_str().expect("utf-8");
    assert_one_line_failure(
        &run(&["sim", "--kubeconfig", kc, "--speed", "0"]),
        &["--speed"],
    );
    assert_one_line_failure(
        &run(&["sim", "--kubeconfig", kc, "--listen", "0.0.0.0:0"]),
        &["loopback"],
    );
    assert_one_line_failure(&run(&["sim"]), &["--kubeconfig"]);
    assert_one_line_failure(
        &run(&["sim", "--kubeconfig", "/nonexistent-dir/k.yaml"]),
        &["cannot write the kubeconfig", "/nonexistent-dir/k.yaml"],
    );
    assert_one_line_failure(
        &run(&["sim", "--kubeconfig", kc, "--crds", "/nonexistent"]),
        &["CRDs"],
    );
}

#[test]
fn a_missing_management_kubeconfig_is_one_line() {
    assert_one_line_failure(
        &run(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--management-kubeconfig",
            "/nonexistent.yaml",
        ]),
        &["management kubeconfig", "/nonexistent.yaml"],
    );
}

#[test]
fn a_bootstrap_group_with_markup_is_refused() {
    assert_one_line_failure(
        &run(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--bootstrap-admin-group",
            "<b>admins</b>",
        ]),
        &["--bootstrap-admin-group", "markup"],
    );
}

#[test]
fn unknown_flag() {
    assert_one_line_failure(&run(&["--frobnicate"]), &["--frobnicate"]);
}

#[test]
fn malformed_listen_address() {
    assert_one_line_failure(&run(&["--listen", "localhost"]), &["--listen"]);
}

#[test]
fn unsupported_database_scheme() {
    assert_one_line_failure(
        &run(&["migrate", "--database-url", "mysql://db/x"]),
        &["mysql", "--database-url"],
    );
}

#[test]
fn malformed_postgres_url() {
    assert_one_line_failure(
        &run(&[
            "migrate",
            "--database-url",
            "postgres://user:pw@host:notaport/db",
        ]),
        &["--database-url", "PORTOLAN_DATABASE_URL"],
    );
}

#[test]
fn unreachable_database_names_the_setting_and_hides_the_password() {
    let port = free_port().to_string();
    let url = format!("postgres://portal:s3cr3t@127.0.0.1:{port}/portolan");
    let output = run(&["migrate", "--database-url", &url]);
    assert_one_line_failure(&output, &["--database-url", &port]);
    assert!(!String::from_utf8_lossy(&output.stderr).contains("s3cr3t"));
}

#[test]
fn unwritable_data_directory() {
    let dir = tempfile::tempdir().expect("temp dir");
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, "a file where a directory should be").expect("write");
    let url = format!("sqlite://{}/data/portolan.db", blocker.display());
    assert_one_line_failure(
        &run(&["migrate", "--database-url", &url]),
        &["data directory", "--database-url"],
    );
}

#[test]
fn port_in_use() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    assert_one_line_failure(&run(&["serve", "--listen", &addr]), &[&addr, "--listen"]);
}

#[test]
fn migrate_creates_the_sqlite_file_under_data() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = portolan(&["migrate"], dir.path()).output().expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        dir.path().join("data/portolan.db").is_file(),
        "the default database is ./data/portolan.db"
    );
}

#[tokio::test]
async fn migrate_works_on_postgres() {
    let t = support::postgres().await;
    t.db.close().await;
    let output = run(&["migrate", "--database-url", &t.url]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn serve_becomes_ready_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let child = portolan(
        &[
            "serve",
            "--listen",
            &addr.to_string(),
            "--log-format",
            "json",
        ],
        dir.path(),
    )
    .stderr(Stdio::piped())
    .spawn()
    .expect("spawn");

    let started = Instant::now();
    let ready = loop {
        if let Ok((200, body)) = support::http_get(addr, "/readyz").await {
            break body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "not ready within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(ready.contains("\"ready\""));
    // Without --management-kubeconfig, the embedded kubesim is the management cluster.
    assert!(ready.contains("\"management\":\"ok (v1.34.2)\""), "{ready}");
    let (status, page) = support::http_get(addr, "/").await.expect("page");
    assert_eq!(status, 200);
    assert!(page.contains("Portolan"));

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("join")
        .expect("wait");
    assert!(
        output.status.success(),
        "a SIGTERM is a clean stop: {:?}",
        output.status
    );
    let logs = String::from_utf8_lossy(&output.stderr);
    for line in logs.lines() {
        assert!(
            line.starts_with('{'),
            "--log-format json logs JSON lines only: {line}"
        );
    }
    assert!(logs.contains("portolan stopped"), "{logs}");
}

/// Serves until the child prints a line containing `needle` on the chosen stream (up to 30 s).
fn wait_for_line(reader: impl std::io::Read, needle: &str) -> Vec<String> {
    use std::io::BufRead;
    let mut seen = Vec::new();
    for line in std::io::BufReader::new(reader).lines() {
        let Ok(line) = line else { break };
        let done = line.contains(needle);
        seen.push(line);
        if done {
            break;
        }
    }
    seen
}

#[test]
fn sim_keeps_an_existing_kubeconfig_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let kc = dir.path().join("kubesim.yaml");
    std::fs::write(&kc, "old, world-readable").expect("write");
    std::fs::set_permissions(&kc, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let mut child = portolan(
        &["sim", "--kubeconfig", kc.to_str().expect("utf-8")],
        dir.path(),
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let lines = wait_for_line(stdout, "kubesim serving");
    let mode = std::fs::metadata(&kc)
        .expect("kubeconfig")
        .permissions()
        .mode()
        & 0o777;
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        lines.iter().any(|l| l.contains("kubesim serving")),
        "{lines:?}"
    );
    assert_eq!(mode, 0o600, "the kubeconfig holds the token");
    let written = std::fs::read_to_string(&kc).expect("read");
    assert!(
        written.contains("kubesim-") && !written.contains("world-readable"),
        "{written}"
    );
}

/// Behind a reverse proxy (`--listen` on loopback, `--public-url` elsewhere) the development
/// sign-in stays off, and the portal says once, loudly, that nobody can sign in.
#[test]
fn serve_behind_a_proxy_without_an_issuer_says_nobody_can_sign_in() {
    let dir = tempfile::tempdir().expect("temp dir");
    let listen = format!("127.0.0.1:{}", free_port());
    let mut child = portolan(
        &[
            "serve",
            "--listen",
            &listen,
            "--public-url",
            "https://portal.example.com",
        ],
        dir.path(),
    )
    .stderr(Stdio::piped())
    .stdout(Stdio::null())
    .spawn()
    .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let lines = wait_for_line(stderr, "portolan is serving");
    let _ = child.kill();
    let _ = child.wait();
    let loud: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("nobody can sign in"))
        .collect();
    assert_eq!(loud.len(), 1, "{lines:#?}");
    assert!(
        loud[0].contains("--oidc-issuer") && loud[0].contains("ERROR"),
        "{}",
        loud[0]
    );
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("development sign-in is on")),
        "{lines:#?}"
    );
}
