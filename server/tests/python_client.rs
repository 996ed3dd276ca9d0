//! The official Python client (`pip install kubernetes`, in the Makefile's virtual environment) against `portolan sim`.

// The session itself is tests/python/session.py: it checks each answer and exits non-zero on the
// first that is not what a real API server gives.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct SimProcess(Child);

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn python() -> String {
    let path = std::env::var("PYTHON_KUBERNETES").unwrap_or_else(|_| {
        panic!("PYTHON_KUBERNETES is not set: run the tests through `make test`, which makes a virtual environment with the kubernetes package")
    });
    assert!(
        Path::new(&path).is_file(),
        "the Python client is missing: PYTHON_KUBERNETES={path} does not exist (`make kubectl` creates it)"
    );
    path
}

/// The workload cluster's kubeconfig, from its Secret, once the cluster has one.
fn workload_kubeconfig(management: &Path, cluster: &str, dir: &Path) -> PathBuf {
    let kubectl = std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".into());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = Command::new(&kubectl)
            .arg("--kubeconfig")
            .arg(management)
            .args([
                "get",
                "secret",
                &format!("{cluster}-kubeconfig"),
                "-o",
                "go-template={{index .data \"value\" | base64decode}}",
            ])
            .output()
            .expect("kubectl runs");
        if out.status.success() {
            let path = dir.join(format!("{cluster}.yaml"));
            std::fs::write(&path, &out.stdout).expect("kubeconfig written");
            return path;
        }
        assert!(
            Instant::now() < deadline,
            "no kubeconfig Secret for {cluster}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_python_client_runs_a_whole_session() {
    let python = python();
    let dir = tempfile::tempdir().expect("temp dir");
    let management = dir.path().join("management.yaml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_portolan"))
        .args(["sim", "--demo", "--speed", "50", "--kubeconfig"])
        .arg(&management)
        .env("PORTOLAN_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("portolan sim starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("first line");
    let _sim = SimProcess(child);
    let workload = workload_kubeconfig(&management, "staging-eus", dir.path());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/session.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg(&management)
        .arg(&workload)
        .output()
        .expect("python runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the Python session failed:\n{said}");
    assert!(said.contains("python client session passed"), "{said}");
}
