//! Schemas for the Cluster API kinds: kubesim's own (written here, covering the fields it uses)
//! or, when a directory of the official CRDs is given, theirs.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::resources::{self, CAPI_GROUP, CAPI_VERSION, id};

const NAME_PATTERN: &str = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

fn name(max: u64) -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": max, "pattern": NAME_PATTERN})
}

fn string_map() -> Value {
    json!({"type": "object", "additionalProperties": {"type": "string"}})
}

fn metadata() -> Value {
    json!({"type": "object", "properties": {"labels": string_map(), "annotations": string_map()}})
}

fn conditions() -> Value {
    json!({"type": "array", "maxItems": 32, "x-kubernetes-list-map-keys": ["type"], "items": {
    "type": "object", "required": ["lastTransitionTime", "message", "reason", "status", "type"],
    "properties": {
        "type": {"type": "string", "maxLength": 316},
        "status": {"type": "string", "enum": ["True", "False", "Unknown"]},
        "reason": {"type": "string", "minLength": 1, "maxLength": 1024},
        "message": {"type": "string", "maxLength": 32768},
        "lastTransitionTime": {"type": "string"},
        "observedGeneration": {"type": "integer", "minimum": 0}
    }}})
}

fn replicas_summary() -> Value {
    let n = json!({"type": "integer", "format": "int32"});
    json!({"type": "object", "properties": {"desiredReplicas": n, "replicas": n, "readyReplicas": n,
        "availableReplicas": n, "upToDateReplicas": n}})
}

fn variables(max: u64) -> Value {
    json!({"type": "array", "minItems": 1, "maxItems": max, "x-kubernetes-list-map-keys": ["name"], "items": {
        "type": "object", "required": ["name", "value"],
        "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 256}}}})
}

fn template_ref() -> Value {
    json!({"type": "object", "required": ["templateRef"], "properties": {"templateRef": {
        "type": "object", "required": ["apiVersion", "kind", "name"],
        "properties": {"apiVersion": {"type": "string", "minLength": 1}, "kind": {"type": "string", "minLength": 1},
                       "name": name(253)}}}})
}

fn cluster() -> Value {
    let replicas = json!({"type": "integer", "format": "int32"});
    json!({"type": "object", "required": ["spec"], "properties": {
        "metadata": {"type": "object"},
        "spec": {"type": "object", "properties": {
            "paused": {"type": "boolean"},
            "topology": {"type": "object", "required": ["classRef", "version"], "properties": {
                "classRef": {"type": "object", "required": ["name"], "properties": {
                    "name": name(253),
                    "namespace": {"type": "string", "minLength": 1, "maxLength": 63}}},
                "version": {"type": "string", "minLength": 1, "maxLength": 256},
                "controlPlane": {"type": "object", "properties": {"replicas": replicas, "metadata": metadata()}},
                "workers": {"type": "object", "properties": {"machineDeployments": {
                    "type": "array", "minItems": 1, "maxItems": 2000, "x-kubernetes-list-map-keys": ["name"],
                    "items": {"type": "object", "required": ["class", "name"], "properties": {
                        "class": {"type": "string", "minLength": 1, "maxLength": 256},
                        "name": {"type": "string", "minLength": 1, "maxLength": 63},
                        "replicas": replicas,
                        "failureDomain": {"type": "string", "minLength": 1, "maxLength": 256},
                        "metadata": metadata(),
                        "variables": {"type": "object", "properties": {"overrides": variables(1000)}}}}}}},
                "variables": variables(1000)}}}},
        "status": {"type": "object", "properties": {
            "phase": {"type": "string", "enum": ["Pending", "Provisioning", "Provisioned", "Deleting", "Failed", "Unknown"]},
            "conditions": conditions(),
            "controlPlane": replicas_summary(),
            "workers": replicas_summary()}}}})
}

fn cluster_class() -> Value {
    json!({"type": "object", "required": ["spec"], "properties": {
        "spec": {"type": "object", "required": ["controlPlane", "infrastructure"], "properties": {
            "controlPlane": template_ref(),
            "infrastructure": template_ref(),
            "kubernetesVersions": {"type": "array", "minItems": 1, "maxItems": 100,
                "items": {"type": "string", "minLength": 1, "maxLength": 256}},
            "variables": {"type": "array", "minItems": 1, "maxItems": 1000, "x-kubernetes-list-map-keys": ["name"],
                "items": {"type": "object", "required": ["name", "required", "schema"], "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 256},
                    "required": {"type": "boolean"},
                    "schema": {"type": "object", "required": ["openAPIV3Schema"]}}}},
            "workers": {"type": "object", "properties": {"machineDeployments": {
                "type": "array", "minItems": 1, "maxItems": 100, "x-kubernetes-list-map-keys": ["class"],
                "items": {"type": "object", "required": ["bootstrap", "class", "infrastructure"], "properties": {
                    "class": {"type": "string", "minLength": 1, "maxLength": 256},
                    "bootstrap": template_ref(), "infrastructure": template_ref()}}}}}}},
        "status": {"type": "object", "properties": {"conditions": conditions()}}}})
}

fn machine_deployment() -> Value {
    json!({"type": "object", "required": ["spec"], "properties": {
        "spec": {"type": "object", "required": ["clusterName", "selector", "template"], "properties": {
            "clusterName": {"type": "string", "minLength": 1, "maxLength": 63},
            "replicas": {"type": "integer", "format": "int32"},
            "selector": {"type": "object"},
            "template": {"type": "object", "required": ["spec"], "properties": {"spec": {
                "type": "object", "required": ["bootstrap", "clusterName", "infrastructureRef"], "properties": {
                    "clusterName": {"type": "string", "minLength": 1, "maxLength": 63},
                    "version": {"type": "string", "minLength": 1, "maxLength": 256}}}}}}},
        "status": {"type": "object", "properties": {"conditions": conditions(),
            "phase": {"type": "string", "enum": ["ScalingUp", "ScalingDown", "Running", "Failed", "Unknown"]}}}}})
}

fn machine() -> Value {
    json!({"type": "object", "required": ["spec"], "properties": {
        "spec": {"type": "object", "required": ["bootstrap", "clusterName", "infrastructureRef"], "properties": {
            "clusterName": {"type": "string", "minLength": 1, "maxLength": 63},
            "version": {"type": "string", "minLength": 1, "maxLength": 256}}},
        "status": {"type": "object", "properties": {"conditions": conditions(),
            "phase": {"type": "string", "enum": ["Pending", "Provisioning", "Provisioned", "Running", "Updating", "Deleting", "Deleted", "Failed", "Unknown"]}}}}})
}

/// The schemas objects are validated against, per resource id.
#[derive(Clone, Debug)]
pub struct Schemas {
    by_resource: HashMap<usize, Value>,
    pub source: SchemaSource,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchemaSource {
    BuiltIn,
    OfficialCrds,
}

impl Default for Schemas {
    fn default() -> Self {
        Schemas {
            by_resource: HashMap::from([
                (id::CLUSTERS, cluster()),
                (id::CLUSTER_CLASSES, cluster_class()),
                (id::MACHINE_DEPLOYMENTS, machine_deployment()),
                (id::MACHINES, machine()),
            ]),
            source: SchemaSource::BuiltIn,
        }
    }
}

impl Schemas {
    pub fn get(&self, res_id: usize) -> Option<&Value> {
        self.by_resource.get(&res_id)
    }

    /// Reads the `v1beta2` schemas from a directory of official CRD manifests.
    pub fn from_crd_dir(dir: &Path) -> Result<Self, String> {
        let mut by_resource = HashMap::new();
        for res_id in [
            id::CLUSTERS,
            id::CLUSTER_CLASSES,
            id::MACHINE_DEPLOYMENTS,
            id::MACHINES,
        ] {
            let resource = resources::get(res_id);
            let file = dir.join(format!("{CAPI_GROUP}_{}.yaml", resource.plural));
            let text = std::fs::read_to_string(&file)
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let crd: Value = serde_yaml::from_str(&text)
                .map_err(|e| format!("{} is not valid YAML: {e}", file.display()))?;
            let schema = crd["spec"]["versions"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|v| v["name"] == CAPI_VERSION)
                .map(|v| v["schema"]["openAPIV3Schema"].clone())
                .filter(Value::is_object)
                .ok_or_else(|| format!("{} has no {CAPI_VERSION} schema", file.display()))?;
            by_resource.insert(res_id, schema);
        }
        Ok(Schemas {
            by_resource,
            source: SchemaSource::OfficialCrds,
        })
    }
}
