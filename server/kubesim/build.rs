//! Compiles Kubernetes' .proto files (from the k8s-rs-pb crate's source) into the descriptor set kubesim reads protobuf bodies with.

// The files are read where Cargo unpacked the dependency; nothing of them is kept in this
// repository. With source info the descriptors keep the comments, which are Kubernetes' field docs.

use std::path::{Path, PathBuf};

const CRATE_DIR: &str = "k8s-rs-pb-0.5.0";
const API: &str = "src/v1_35";

/// The groups kubesim serves (and the option kinds clients send with them).
const FILES: &[&str] = &[
    "api/core/v1/generated.proto",
    "api/apps/v1/generated.proto",
    "api/policy/v1/generated.proto",
    "api/policy/v1beta1/generated.proto",
    "api/coordination/v1/generated.proto",
    "api/events/v1/generated.proto",
    "api/authorization/v1/generated.proto",
    "api/authentication/v1/generated.proto",
    "apimachinery/pkg/apis/meta/v1/generated.proto",
];

fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
}

/// `<cargo home>/registry/src/<index>/k8s-rs-pb-0.5.0/src/v1_35`, where Cargo unpacked it.
fn proto_root() -> Result<PathBuf, String> {
    let home = cargo_home().ok_or("neither CARGO_HOME nor HOME is set")?;
    let registry = home.join("registry").join("src");
    let indexes = std::fs::read_dir(&registry)
        .map_err(|e| format!("cannot read {}: {e}", registry.display()))?;
    for index in indexes.flatten() {
        let root = index.path().join(CRATE_DIR).join(API);
        if root.join(FILES[0]).is_file() {
            return Ok(root);
        }
    }
    Err(format!(
        "{CRATE_DIR} is not unpacked under {}: run `cargo fetch`",
        registry.display()
    ))
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let root = match proto_root() {
        Ok(root) => root,
        Err(e) => panic!("kubesim needs Kubernetes' .proto files: {e}"),
    };
    let mut compiler = match protox::Compiler::new([&root]) {
        Ok(c) => c,
        Err(e) => panic!("cannot read the .proto files under {}: {e}", root.display()),
    };
    compiler.include_imports(true).include_source_info(true);
    if let Err(e) = compiler.open_files(FILES) {
        panic!("cannot compile Kubernetes' .proto files: {e}");
    }
    let bytes = compiler.encode_file_descriptor_set();
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    if let Err(e) = std::fs::write(out.join("kubernetes.fds"), bytes) {
        panic!("cannot write the descriptor set: {e}");
    }
}
