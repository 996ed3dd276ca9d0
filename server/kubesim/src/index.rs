//! What a store remembers about each object besides its JSON: labels, selectable fields, facts.

use serde_json::Value;

use crate::quantity::{cpu_millis, mem_bytes};
use crate::resources::id;

/// Marks a simulated pod whose memory grows until it is OOM-killed.
pub const LEAK_ANNOTATION: &str = "kubesim.portolan.dev/leaks-memory";

type Labels = Vec<(Box<str>, Box<str>)>;
type Fields = Vec<(&'static str, Box<str>)>;

/// Field selectors each resource accepts (besides `metadata.name`/`metadata.namespace`).
pub fn selectable(res_id: usize) -> &'static [&'static str] {
    match res_id {
        id::PODS => &[
            "spec.nodeName",
            "status.phase",
            "spec.schedulerName",
            "spec.restartPolicy",
            "status.podIP",
        ],
        id::NODES => &["spec.unschedulable"],
        id::M_EVENTS | id::W_EVENTS => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        id::M_SECRETS | id::W_SECRETS => &["type"],
        id::M_NAMESPACES | id::W_NAMESPACES => &["status.phase"],
        _ => &[],
    }
}

fn s(v: &Value) -> Box<str> {
    match v {
        Value::String(s) => s.as_str().into(),
        Value::Null => "".into(),
        other => other.to_string().into(),
    }
}

/// Sums container requests of a pod spec: (millicores, bytes).
pub fn pod_requests(spec: &Value) -> (i64, i64) {
    let mut cpu = 0;
    let mut mem = 0;
    for c in spec["containers"].as_array().into_iter().flatten() {
        let req = &c["resources"]["requests"];
        cpu += req["cpu"].as_str().and_then(cpu_millis).unwrap_or(0);
        mem += req["memory"].as_str().and_then(mem_bytes).unwrap_or(0);
    }
    (cpu, mem)
}

pub fn extract(res_id: usize, v: &Value) -> (Labels, Fields) {
    let labels: Labels = v["metadata"]["labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, val)| (k.as_str().into(), s(val)))
                .collect()
        })
        .unwrap_or_default();
    let mut fields: Fields = Vec::new();
    match res_id {
        id::PODS => {
            fields.push(("spec.nodeName", s(&v["spec"]["nodeName"])));
            fields.push(("status.phase", s(&v["status"]["phase"])));
            fields.push(("spec.schedulerName", s(&v["spec"]["schedulerName"])));
            fields.push(("spec.restartPolicy", s(&v["spec"]["restartPolicy"])));
            fields.push(("status.podIP", s(&v["status"]["podIP"])));
            let (cpu, mem) = pod_requests(&v["spec"]);
            fields.push(("x.cpu", cpu.to_string().into()));
            fields.push(("x.mem", mem.to_string().into()));
            let owner = v["metadata"]["ownerReferences"][0]["name"].clone();
            fields.push(("x.owner", s(&owner)));
            fields.push((
                "x.ownerKind",
                s(&v["metadata"]["ownerReferences"][0]["kind"]),
            ));
            fields.push(("x.start", s(&v["status"]["startTime"])));
            fields.push(("x.leak", s(&v["metadata"]["annotations"][LEAK_ANNOTATION])));
            let unschedulable = v["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["type"] == "PodScheduled" && c["reason"] == "Unschedulable");
            fields.push(("x.unschedulable", unschedulable.to_string().into()));
        }
        id::NODES => {
            let unsched = v["spec"]["unschedulable"].as_bool().unwrap_or(false);
            fields.push(("spec.unschedulable", unsched.to_string().into()));
            let ready = v["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["type"] == "Ready" && c["status"] == "True");
            fields.push(("x.ready", ready.to_string().into()));
            let alloc = &v["status"]["allocatable"];
            let cpu = alloc["cpu"].as_str().and_then(cpu_millis).unwrap_or(0);
            let mem = alloc["memory"].as_str().and_then(mem_bytes).unwrap_or(0);
            fields.push(("x.cpu", cpu.to_string().into()));
            fields.push(("x.mem", mem.to_string().into()));
            fields.push(("x.version", s(&v["status"]["nodeInfo"]["kubeletVersion"])));
        }
        id::M_EVENTS | id::W_EVENTS => {
            let io = &v["involvedObject"];
            for (key, field) in [
                ("involvedObject.kind", "kind"),
                ("involvedObject.namespace", "namespace"),
                ("involvedObject.name", "name"),
                ("involvedObject.uid", "uid"),
                ("involvedObject.apiVersion", "apiVersion"),
                ("involvedObject.resourceVersion", "resourceVersion"),
                ("involvedObject.fieldPath", "fieldPath"),
            ] {
                fields.push((key, s(&io[field])));
            }
            fields.push(("reason", s(&v["reason"])));
            fields.push(("reportingComponent", s(&v["reportingComponent"])));
            fields.push(("source", s(&v["source"]["component"])));
            fields.push(("type", s(&v["type"])));
        }
        id::M_SECRETS | id::W_SECRETS => fields.push(("type", s(&v["type"]))),
        id::M_NAMESPACES | id::W_NAMESPACES => {
            fields.push(("status.phase", s(&v["status"]["phase"])))
        }
        id::MACHINES => {
            fields.push(("x.cluster", s(&v["spec"]["clusterName"])));
            fields.push(("x.version", s(&v["spec"]["version"])));
            fields.push(("x.phase", s(&v["status"]["phase"])));
            fields.push(("x.node", s(&v["status"]["nodeRef"]["name"])));
        }
        _ => {}
    }
    (labels, fields)
}
