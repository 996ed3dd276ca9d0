//! Admission: metadata rules, schemas and the checks Cluster API's webhooks would make.

use serde_json::Value;

use crate::catalog::{AUTOSCALER_MAX, AUTOSCALER_MIN, LIMITS_ANNOTATION, parse_version};
use crate::resources::{self, id};
use crate::schemas::Schemas;
use crate::status::{ApiError, Cause};
use crate::store::Store;
use crate::validate;

/// Checks an object about to be stored; `old` is the current object on update.
pub fn admit(
    store: &Store,
    schemas: &Schemas,
    res_id: usize,
    new: &Value,
    old: Option<&Value>,
) -> Result<(), ApiError> {
    let resource = resources::get(res_id);
    let mut causes = Vec::new();
    let label_names = matches!(res_id, id::M_NAMESPACES | id::W_NAMESPACES | id::CLUSTERS);
    validate::metadata(new, label_names, &mut causes);
    if let Some(schema) = schemas.get(res_id) {
        validate::schema(schema, new, "", &mut causes);
    }
    match res_id {
        id::CLUSTERS => cluster(store, new, old, &mut causes),
        id::DEPLOYMENTS | id::REPLICA_SETS => {
            nonnegative(&new["spec"]["replicas"], "spec.replicas", &mut causes);
            pod_controller(new, &mut causes);
        }
        id::DAEMON_SETS => pod_controller(new, &mut causes),
        id::PODS => containers(&new["spec"], "spec", &mut causes),
        id::PDBS => {
            let spec = &new["spec"];
            if !spec["minAvailable"].is_null() && !spec["maxUnavailable"].is_null() {
                causes.push(Cause::new(
                    "spec",
                    "Invalid value: minAvailable and maxUnavailable cannot be both set",
                ));
            }
        }
        _ => {}
    }
    if causes.is_empty() {
        Ok(())
    } else {
        let name = new["metadata"]["name"].as_str().unwrap_or_default();
        Err(ApiError::invalid(
            resource.group,
            resource.kind,
            name,
            causes,
        ))
    }
}

/// What a workload controller's spec needs: a selector and a valid pod template.
fn pod_controller(new: &Value, causes: &mut Vec<Cause>) {
    if new["spec"]["selector"].is_null() {
        causes.push(Cause::new("spec.selector", "Required value"));
    }
    containers(
        &new["spec"]["template"]["spec"],
        "spec.template.spec",
        causes,
    );
}

fn nonnegative(v: &Value, field: &str, causes: &mut Vec<Cause>) {
    if v.is_null() {
        return;
    }
    match v.as_i64() {
        Some(n) if n >= 0 => {}
        Some(n) => causes.push(Cause::new(
            field,
            format!("Invalid value: {n}: must be greater than or equal to 0"),
        )),
        None => causes.push(Cause::new(
            field,
            format!("Invalid value: {v}: must be an integer"),
        )),
    }
}

fn containers(spec: &Value, path: &str, causes: &mut Vec<Cause>) {
    match spec["containers"].as_array() {
        Some(list) if !list.is_empty() => {
            for (i, c) in list.iter().enumerate() {
                if c["name"].as_str().is_none_or(str::is_empty) {
                    causes.push(Cause::new(
                        format!("{path}.containers[{i}].name"),
                        "Required value",
                    ));
                }
                if c["image"].as_str().is_none_or(str::is_empty) {
                    causes.push(Cause::new(
                        format!("{path}.containers[{i}].image"),
                        "Required value",
                    ));
                }
            }
        }
        _ => causes.push(Cause::new(format!("{path}.containers"), "Required value")),
    }
}

/// The Cluster API topology webhook: class, versions, variables, replicas, no downgrades.
fn cluster(store: &Store, new: &Value, old: Option<&Value>, causes: &mut Vec<Cause>) {
    let topology = &new["spec"]["topology"];
    if !topology.is_object() {
        return;
    }
    nonnegative(
        &topology["controlPlane"]["replicas"],
        "spec.topology.controlPlane.replicas",
        causes,
    );
    let pools = topology["workers"]["machineDeployments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for (i, md) in pools.iter().enumerate() {
        nonnegative(
            &md["replicas"],
            &format!("spec.topology.workers.machineDeployments[{i}].replicas"),
            causes,
        );
        if let Some(name) = md["name"].as_str()
            && let Some(problem) = validate::dns_label(name)
        {
            causes.push(Cause::new(
                format!("spec.topology.workers.machineDeployments[{i}].name"),
                problem,
            ));
        }
    }
    let namespace = new["metadata"]["namespace"]
        .as_str()
        .filter(|s| !s.is_empty())
        .unwrap_or("default");
    let class_ns = topology["classRef"]["namespace"]
        .as_str()
        .unwrap_or(namespace);
    let Some(class_name) = topology["classRef"]["name"].as_str() else {
        return;
    };
    let Some(class) = store.get_value(id::CLUSTER_CLASSES, class_ns, class_name) else {
        causes.push(Cause::new(
            "spec.topology.classRef",
            format!(
                "Invalid value: \"{class_name}\": ClusterClass {class_ns}/{class_name} not found"
            ),
        ));
        return;
    };
    let version = topology["version"].as_str().unwrap_or_default();
    let offered: Vec<&str> = class["spec"]["kubernetesVersions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if parse_version(version).is_none() {
        causes.push(Cause::new(
            "spec.topology.version",
            format!(
                "Invalid value: \"{version}\": must be a valid semantic version such as v1.33.2"
            ),
        ));
    } else if !offered.is_empty() && !offered.contains(&version) {
        causes.push(Cause::new(
            "spec.topology.version",
            format!(
                "Unsupported value: \"{version}\": supported values: \"{}\"",
                offered.join("\", \"")
            ),
        ));
    }
    if let Some(old) = old {
        let before = old["spec"]["topology"]["version"]
            .as_str()
            .unwrap_or_default();
        if let (Some(a), Some(b)) = (parse_version(before), parse_version(version)) {
            if b < a {
                causes.push(Cause::new("spec.topology.version", format!("Invalid value: \"{version}\": version cannot be decreased from \"{before}\"")));
            } else if b.1 > a.1 + 1 || b.0 != a.0 {
                causes.push(Cause::new("spec.topology.version", format!("Invalid value: \"{version}\": version cannot be increased from \"{before}\" by more than one minor version")));
            }
        }
    }
    let classes: Vec<&str> = class["spec"]["workers"]["machineDeployments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["class"].as_str())
        .collect();
    for (i, md) in pools.iter().enumerate() {
        if let Some(c) = md["class"].as_str()
            && !classes.contains(&c)
        {
            causes.push(Cause::new(
                format!("spec.topology.workers.machineDeployments[{i}].class"),
                format!("Invalid value: \"{c}\": MachineDeployment class not found in ClusterClass {class_name}"),
            ));
        }
    }
    check_limits(&class, topology, &pools, causes);
    let defs = class["spec"]["variables"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let given = topology["variables"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    check_variables(&defs, &given, "spec.topology.variables", true, causes);
    for (i, md) in pools.iter().enumerate() {
        let overrides = md["variables"]["overrides"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let path = format!("spec.topology.workers.machineDeployments[{i}].variables.overrides");
        check_variables(&defs, &overrides, &path, false, causes);
    }
}

/// The class's limits (its `portolan.dev/limits` annotation): control plane sizes, pools per
/// cluster, nodes per pool, the autoscaler's bounds included.
fn check_limits(class: &Value, topology: &Value, pools: &[Value], causes: &mut Vec<Cause>) {
    let Some(limits) = class["metadata"]["annotations"][LIMITS_ANNOTATION]
        .as_str()
        .and_then(|a| serde_json::from_str::<Value>(a).ok())
    else {
        return;
    };
    let sizes: Vec<i64> = limits["controlPlaneReplicas"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_i64)
        .collect();
    if let Some(n) = topology["controlPlane"]["replicas"].as_i64()
        && !sizes.is_empty()
        && !sizes.contains(&n)
    {
        let allowed: Vec<String> = sizes.iter().map(i64::to_string).collect();
        causes.push(Cause::new(
            "spec.topology.controlPlane.replicas",
            format!(
                "Unsupported value: {n}: supported values: {}",
                allowed.join(", ")
            ),
        ));
    }
    if let Some(most) = limits["maxPools"].as_u64()
        && pools.len() as u64 > most
    {
        causes.push(Cause::new(
            "spec.topology.workers.machineDeployments",
            format!("Too many: {}: must have at most {most} items", pools.len()),
        ));
    }
    let Some(most) = limits["maxNodesPerPool"].as_i64() else {
        return;
    };
    for (i, md) in pools.iter().enumerate() {
        let path = format!("spec.topology.workers.machineDeployments[{i}]");
        if let Some(n) = md["replicas"].as_i64()
            && n > most
        {
            causes.push(Cause::new(
                format!("{path}.replicas"),
                format!("Invalid value: {n}: must be at most {most} (the ClusterClass's limit)"),
            ));
        }
        for key in [AUTOSCALER_MIN, AUTOSCALER_MAX] {
            let Some(text) = md["metadata"]["annotations"][key].as_str() else {
                continue;
            };
            if !text.parse::<i64>().is_ok_and(|n| (0..=most).contains(&n)) {
                causes.push(Cause::new(
                    format!("{path}.metadata.annotations[{key}]"),
                    format!("Invalid value: \"{text}\": must be a whole number from 0 to {most}"),
                ));
            }
        }
    }
}

fn check_variables(
    defs: &[Value],
    given: &[Value],
    path: &str,
    enforce_required: bool,
    causes: &mut Vec<Cause>,
) {
    for (i, var) in given.iter().enumerate() {
        let name = var["name"].as_str().unwrap_or_default();
        match defs.iter().find(|d| d["name"] == name) {
            None => causes.push(Cause::new(
                format!("{path}[{i}].name"),
                format!("Invalid value: \"{name}\": variable is not defined in the ClusterClass"),
            )),
            Some(def) => validate::schema(
                &def["schema"]["openAPIV3Schema"],
                &var["value"],
                &format!("{path}[{name}].value"),
                causes,
            ),
        }
    }
    if enforce_required {
        for def in defs.iter().filter(|d| d["required"] == true) {
            let name = def["name"].as_str().unwrap_or_default();
            if !given.iter().any(|v| v["name"] == name) {
                causes.push(Cause::new(
                    format!("{path}[{name}]"),
                    "Required value: required variable is not set",
                ));
            }
        }
    }
}
