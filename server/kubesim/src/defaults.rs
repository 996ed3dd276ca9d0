//! What the API server fills in when an object is written: Kubernetes' defaults for the served kinds.
//
// Clients read these back (`kubectl get -o yaml`, `diff`, server-side dry runs) and compare them with
// a real cluster's answers, so the values are Kubernetes' own (pkg/apis/*/v1/defaults.go).

use serde_json::{Value, json};

use crate::resources::id;

/// Fills in the defaults of kind `res_id` that `v` leaves out; what is set is kept.
pub fn apply(res_id: usize, v: &mut Value) {
    match res_id {
        id::M_NAMESPACES | id::W_NAMESPACES => namespace(v),
        id::M_SECRETS | id::W_SECRETS => set(v, "type", json!("Opaque")),
        id::PODS => pod_spec(&mut v["spec"]),
        id::DEPLOYMENTS => deployment(v),
        id::DAEMON_SETS => daemon_set(v),
        id::REPLICA_SETS => replica_set(v),
        _ => {}
    }
}

/// Whether Kubernetes keeps `metadata.generation` for the kind (bumped when the spec changes):
/// custom resources and the workload controllers' kinds, not namespaces, secrets, pods or nodes.
pub fn has_generation(res_id: usize) -> bool {
    matches!(
        res_id,
        id::CLUSTERS
            | id::CLUSTER_CLASSES
            | id::MACHINE_DEPLOYMENTS
            | id::MACHINES
            | id::PDBS
            | id::DEPLOYMENTS
            | id::DAEMON_SETS
            | id::REPLICA_SETS
    )
}

/// Sets `key` of the object `v` when it is missing, null or an empty string.
fn set(v: &mut Value, key: &str, default: Value) {
    if !v.is_object() {
        return;
    }
    let missing = match v.get(key) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(_) => false,
    };
    if missing {
        v[key] = default;
    }
}

fn object(v: &mut Value, key: &str) -> bool {
    if !v.is_object() {
        return false;
    }
    if !v[key].is_object() {
        v[key] = json!({});
    }
    true
}

fn namespace(v: &mut Value) {
    let name = v["metadata"]["name"].clone();
    if name.is_string() && object(&mut v["metadata"], "labels") {
        v["metadata"]["labels"]["kubernetes.io/metadata.name"] = name;
    }
    if object(v, "spec") {
        set(&mut v["spec"], "finalizers", json!(["kubernetes"]));
    }
    if object(v, "status") {
        set(&mut v["status"], "phase", json!("Active"));
    }
}

fn deployment(v: &mut Value) {
    if !object(v, "spec") {
        return;
    }
    let spec = &mut v["spec"];
    set(spec, "replicas", json!(1));
    set(spec, "revisionHistoryLimit", json!(10));
    set(spec, "progressDeadlineSeconds", json!(600));
    if object(spec, "strategy") {
        let strategy = &mut spec["strategy"];
        set(strategy, "type", json!("RollingUpdate"));
        if strategy["type"] == "RollingUpdate" && object(strategy, "rollingUpdate") {
            set(
                &mut strategy["rollingUpdate"],
                "maxUnavailable",
                json!("25%"),
            );
            set(&mut strategy["rollingUpdate"], "maxSurge", json!("25%"));
        }
    }
    if object(spec, "template") && object(&mut spec["template"], "spec") {
        pod_spec(&mut spec["template"]["spec"]);
    }
}

fn replica_set(v: &mut Value) {
    if !object(v, "spec") {
        return;
    }
    set(&mut v["spec"], "replicas", json!(1));
    let spec = &mut v["spec"];
    if object(spec, "template") && object(&mut spec["template"], "spec") {
        pod_spec(&mut spec["template"]["spec"]);
    }
}

fn daemon_set(v: &mut Value) {
    if !object(v, "spec") {
        return;
    }
    let spec = &mut v["spec"];
    set(spec, "revisionHistoryLimit", json!(10));
    if object(spec, "updateStrategy") {
        let strategy = &mut spec["updateStrategy"];
        set(strategy, "type", json!("RollingUpdate"));
        if strategy["type"] == "RollingUpdate" && object(strategy, "rollingUpdate") {
            set(&mut strategy["rollingUpdate"], "maxUnavailable", json!(1));
            set(&mut strategy["rollingUpdate"], "maxSurge", json!(0));
        }
    }
    if object(spec, "template") && object(&mut spec["template"], "spec") {
        pod_spec(&mut spec["template"]["spec"]);
    }
}

fn pod_spec(spec: &mut Value) {
    if !spec.is_object() {
        return;
    }
    set(spec, "restartPolicy", json!("Always"));
    set(spec, "terminationGracePeriodSeconds", json!(30));
    set(spec, "dnsPolicy", json!("ClusterFirst"));
    set(spec, "schedulerName", json!("default-scheduler"));
    set(spec, "enableServiceLinks", json!(true));
    if !spec["securityContext"].is_object() {
        spec["securityContext"] = json!({});
    }
    for list in ["initContainers", "containers"] {
        for c in spec[list].as_array_mut().into_iter().flatten() {
            container(c);
        }
    }
}

fn container(c: &mut Value) {
    if !c.is_object() {
        return;
    }
    set(c, "terminationMessagePath", json!("/dev/termination-log"));
    set(c, "terminationMessagePolicy", json!("File"));
    let image = c["image"].as_str().unwrap_or_default();
    set(c, "imagePullPolicy", json!(pull_policy(image)));
    if !c["resources"].is_object() {
        c["resources"] = json!({});
    }
    for port in c["ports"].as_array_mut().into_iter().flatten() {
        set(port, "protocol", json!("TCP"));
    }
}

/// `Always` for an image without a tag or tagged `latest`, `IfNotPresent` otherwise (a digest
/// pins the image, whatever its tag).
fn pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    // The tag follows the last colon after the last slash (a registry may have a port).
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.rsplit_once(':') {
        Some((_, tag)) if tag != "latest" => "IfNotPresent",
        _ => "Always",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_policy_follows_the_tag() {
        assert_eq!(pull_policy("nginx"), "Always");
        assert_eq!(pull_policy("nginx:latest"), "Always");
        assert_eq!(pull_policy("nginx:1.27"), "IfNotPresent");
        assert_eq!(pull_policy("registry.local:5000/team/app"), "Always");
        assert_eq!(
            pull_policy("registry.local:5000/team/app:v2"),
            "IfNotPresent"
        );
        assert_eq!(pull_policy("app:latest@sha256:abcd"), "IfNotPresent");
    }

    #[test]
    fn defaults_fill_gaps_and_keep_what_is_set() {
        let mut d = json!({"metadata": {"name": "web"}, "spec": {
            "strategy": {"type": "Recreate"},
            "template": {"spec": {"restartPolicy": "Always", "containers": [
                {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]}}}});
        apply(id::DEPLOYMENTS, &mut d);
        assert_eq!(d["spec"]["replicas"], 1);
        assert_eq!(d["spec"]["revisionHistoryLimit"], 10);
        assert_eq!(d["spec"]["progressDeadlineSeconds"], 600);
        assert_eq!(d["spec"]["strategy"], json!({"type": "Recreate"}));
        let pod = &d["spec"]["template"]["spec"];
        assert_eq!(pod["dnsPolicy"], "ClusterFirst");
        assert_eq!(pod["terminationGracePeriodSeconds"], 30);
        assert_eq!(pod["schedulerName"], "default-scheduler");
        let c = &pod["containers"][0];
        assert_eq!(c["imagePullPolicy"], "IfNotPresent");
        assert_eq!(c["terminationMessagePath"], "/dev/termination-log");
        assert_eq!(c["ports"][0]["protocol"], "TCP");

        let mut rolling = json!({"spec": {"replicas": 3}});
        apply(id::DEPLOYMENTS, &mut rolling);
        assert_eq!(rolling["spec"]["replicas"], 3);
        assert_eq!(
            rolling["spec"]["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
        );

        let mut ns = json!({"metadata": {"name": "team-a"}});
        apply(id::W_NAMESPACES, &mut ns);
        assert_eq!(
            ns,
            json!({"metadata": {"name": "team-a", "labels": {"kubernetes.io/metadata.name": "team-a"}},
                   "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
        );

        let mut secret = json!({"metadata": {"name": "s"}, "type": ""});
        apply(id::M_SECRETS, &mut secret);
        assert_eq!(secret["type"], "Opaque");
        let mut tls = json!({"metadata": {"name": "s"}, "type": "kubernetes.io/tls"});
        apply(id::M_SECRETS, &mut tls);
        assert_eq!(tls["type"], "kubernetes.io/tls");
    }
}
