//! A pod as the pages read it, folded from the API's JSON on arrival: what pod watches keep.
//
// A fleet has a hundred thousand pods. A k8s-openapi `Pod` holds every field Kubernetes defines
// (gigabytes at that count), and even the API's few fields the pages read cost about 4 KB a pod in
// their serde shape (maps of quantities, owner references, two full container states). The JSON is
// read into `wire::Pod` and at once folded into `PodSummary`: the owner as `Kind/name`, requests as
// numbers, each container with its status, boxed strings.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use serde::Deserialize;

use super::quantity::{bytes, millicores};

#[derive(Debug, Clone, Deserialize)]
#[serde(from = "wire::Pod")]
pub struct PodSummary {
    /// Name, namespace, resource version (the watch resumes from it), created and deleted times.
    pub metadata: ObjectMeta,
    /// `Kind/name` of the pod's controller (or first owner); empty when it has none.
    pub owner: Box<str>,
    pub node: Option<Box<str>>,
    pub phase: Option<Box<str>>,
    /// CPU millicores and memory bytes the containers request, summed.
    pub cpu_m: u64,
    pub memory: u64,
    /// In the spec's order; a status the spec does not name comes last, without an image.
    pub containers: Box<[Container]>,
    pub conditions: Box<[Condition]>,
}

#[derive(Debug, Clone)]
pub struct Container {
    pub name: Box<str>,
    pub image: Box<str>,
    /// `None` until the kubelet reports the container.
    pub status: Option<ContainerStatus>,
}

#[derive(Debug, Clone)]
pub struct ContainerStatus {
    pub ready: bool,
    pub restarts: u32,
    pub state: State,
    /// How the previous run ended, when it did.
    pub last_terminated: Option<Terminated>,
}

#[derive(Debug, Clone)]
pub enum State {
    Unknown,
    Running {
        since: Option<Time>,
    },
    Waiting {
        reason: Option<Box<str>>,
        message: Option<Box<str>>,
    },
    Terminated(Terminated),
}

#[derive(Debug, Clone)]
pub struct Terminated {
    pub reason: Option<Box<str>>,
    pub exit_code: i32,
    pub finished_at: Option<Time>,
}

#[derive(Debug, Clone)]
pub struct Condition {
    pub type_: Box<str>,
    pub status: Box<str>,
    pub reason: Option<Box<str>>,
    pub message: Option<Box<str>>,
    pub since: Option<Time>,
}

impl PodSummary {
    pub fn namespace(&self) -> &str {
        self.metadata.namespace.as_deref().unwrap_or_default()
    }

    pub fn name(&self) -> &str {
        self.metadata.name.as_deref().unwrap_or_default()
    }

    pub fn node(&self) -> Option<&str> {
        self.node.as_deref()
    }

    pub fn phase(&self) -> Option<&str> {
        self.phase.as_deref()
    }

    /// Container statuses, in the containers' order.
    pub fn statuses(&self) -> impl Iterator<Item = (&str, &ContainerStatus)> {
        self.containers
            .iter()
            .filter_map(|c| Some((&*c.name, c.status.as_ref()?)))
    }
}

fn boxed(s: Option<String>) -> Option<Box<str>> {
    s.map(String::into_boxed_str)
}

impl From<wire::Pod> for PodSummary {
    fn from(pod: wire::Pod) -> Self {
        let meta = pod.metadata;
        let owners = meta.owner_references.unwrap_or_default();
        let owner = owners
            .iter()
            .find(|o| o.controller == Some(true))
            .or(owners.first())
            .map(|o| format!("{}/{}", o.kind, o.name))
            .unwrap_or_default()
            .into_boxed_str();
        let spec = pod.spec.unwrap_or_default();
        let status = pod.status.unwrap_or_default();
        let (mut cpu_m, mut memory) = (0, 0);
        let mut statuses = status.container_statuses.unwrap_or_default();
        let mut containers: Vec<Container> = spec
            .containers
            .into_iter()
            .map(|c| {
                let requests = c.resources.and_then(|r| r.requests).unwrap_or_default();
                let get = |k: &str| requests.get(k).map(|q| q.0.as_str());
                cpu_m += get("cpu").and_then(millicores).unwrap_or(0);
                memory += get("memory").and_then(bytes).unwrap_or(0);
                let status = statuses
                    .iter()
                    .position(|s| s.name == c.name)
                    .map(|i| statuses.remove(i).into());
                Container {
                    name: c.name.into_boxed_str(),
                    image: c.image.unwrap_or_default().into_boxed_str(),
                    status,
                }
            })
            .collect();
        containers.extend(statuses.into_iter().map(|s| Container {
            name: s.name.clone().into_boxed_str(),
            image: Box::default(),
            status: Some(s.into()),
        }));
        let conditions = status
            .conditions
            .unwrap_or_default()
            .into_iter()
            .map(|c| Condition {
                type_: c.type_.into_boxed_str(),
                status: c.status.into_boxed_str(),
                reason: boxed(c.reason),
                message: boxed(c.message),
                since: c.last_transition_time,
            })
            .collect();
        PodSummary {
            metadata: ObjectMeta {
                name: meta.name,
                namespace: meta.namespace,
                resource_version: meta.resource_version,
                creation_timestamp: meta.creation_timestamp,
                deletion_timestamp: meta.deletion_timestamp,
                ..ObjectMeta::default()
            },
            owner,
            node: boxed(spec.node_name),
            phase: boxed(status.phase),
            cpu_m,
            memory,
            containers: containers.into_boxed_slice(),
            conditions,
        }
    }
}

impl From<wire::ContainerStatus> for ContainerStatus {
    fn from(s: wire::ContainerStatus) -> Self {
        ContainerStatus {
            ready: s.ready,
            restarts: u32::try_from(s.restart_count).unwrap_or(0),
            state: s.state.map_or(State::Unknown, State::from),
            last_terminated: s
                .last_state
                .and_then(|l| l.terminated)
                .map(Terminated::from),
        }
    }
}

impl From<wire::ContainerState> for State {
    fn from(s: wire::ContainerState) -> Self {
        // The API sets one of the three; the first one set wins, as `kubectl describe` reads it.
        if let Some(r) = s.running {
            State::Running {
                since: r.started_at,
            }
        } else if let Some(w) = s.waiting {
            State::Waiting {
                reason: boxed(w.reason),
                message: boxed(w.message),
            }
        } else if let Some(t) = s.terminated {
            State::Terminated(t.into())
        } else {
            State::Unknown
        }
    }
}

impl From<wire::Terminated> for Terminated {
    fn from(t: wire::Terminated) -> Self {
        Terminated {
            reason: boxed(t.reason),
            exit_code: t.exit_code,
            finished_at: t.finished_at,
        }
    }
}

impl k8s_openapi::Resource for PodSummary {
    const API_VERSION: &'static str = "v1";
    const GROUP: &'static str = "";
    const KIND: &'static str = "Pod";
    const VERSION: &'static str = "v1";
    const URL_PATH_SEGMENT: &'static str = "pods";
    type Scope = k8s_openapi::NamespaceResourceScope;
}

impl k8s_openapi::Metadata for PodSummary {
    type Ty = ObjectMeta;
    fn metadata(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn metadata_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

/// The API's shape of the fields read, only for the moment between the JSON and `PodSummary`.
mod wire {
    use std::collections::BTreeMap;

    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
    use serde::Deserialize;

    #[derive(Deserialize)]
    pub struct Pod {
        #[serde(default)]
        pub metadata: ObjectMeta,
        #[serde(default)]
        pub spec: Option<PodSpec>,
        #[serde(default)]
        pub status: Option<PodStatus>,
    }

    #[derive(Default, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct PodSpec {
        #[serde(default)]
        pub node_name: Option<String>,
        #[serde(default)]
        pub containers: Vec<Container>,
    }

    #[derive(Deserialize)]
    pub struct Container {
        pub name: String,
        #[serde(default)]
        pub image: Option<String>,
        #[serde(default)]
        pub resources: Option<Resources>,
    }

    #[derive(Deserialize)]
    pub struct Resources {
        #[serde(default)]
        pub requests: Option<BTreeMap<String, Quantity>>,
    }

    #[derive(Default, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct PodStatus {
        #[serde(default)]
        pub phase: Option<String>,
        #[serde(default)]
        pub conditions: Option<Vec<Condition>>,
        #[serde(default)]
        pub container_statuses: Option<Vec<ContainerStatus>>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Condition {
        #[serde(rename = "type")]
        pub type_: String,
        pub status: String,
        #[serde(default)]
        pub reason: Option<String>,
        #[serde(default)]
        pub message: Option<String>,
        #[serde(default)]
        pub last_transition_time: Option<Time>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ContainerStatus {
        pub name: String,
        #[serde(default)]
        pub ready: bool,
        #[serde(default)]
        pub restart_count: i32,
        #[serde(default)]
        pub state: Option<ContainerState>,
        #[serde(default)]
        pub last_state: Option<ContainerState>,
    }

    #[derive(Deserialize)]
    pub struct ContainerState {
        #[serde(default)]
        pub running: Option<Running>,
        #[serde(default)]
        pub waiting: Option<Waiting>,
        #[serde(default)]
        pub terminated: Option<Terminated>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Running {
        #[serde(default)]
        pub started_at: Option<Time>,
    }

    #[derive(Deserialize)]
    pub struct Waiting {
        #[serde(default)]
        pub reason: Option<String>,
        #[serde(default)]
        pub message: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Terminated {
        #[serde(default)]
        pub reason: Option<String>,
        #[serde(default)]
        pub exit_code: i32,
        #[serde(default)]
        pub finished_at: Option<Time>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_pod_is_folded_into_what_the_pages_read() {
        let pod: PodSummary = serde_json::from_value(json!({
            "metadata": {"name": "web-1", "namespace": "shop", "resourceVersion": "42", "uid": "u-1",
                         "labels": {"app": "web"}, "annotations": {"note": "x"},
                         "ownerReferences": [
                             {"apiVersion": "v1", "kind": "ConfigMap", "name": "first", "uid": "a"},
                             {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d", "uid": "b", "controller": true}]},
            "spec": {"nodeName": "n1", "containers": [
                {"name": "web", "image": "nginx:1.27", "resources": {"requests": {"cpu": "250m", "memory": "128Mi"}}},
                {"name": "side", "image": "envoy:1.30", "resources": {"requests": {"cpu": "0.5", "memory": "1Gi"}}}]},
            "status": {"phase": "Running",
                       "conditions": [{"type": "Ready", "status": "False", "reason": "ContainersNotReady"}],
                       "containerStatuses": [
                           {"name": "side", "ready": false, "restartCount": 3, "image": "envoy:1.30", "imageID": "",
                            "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                            "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}},
                           {"name": "web", "ready": true, "restartCount": 0, "image": "nginx:1.27", "imageID": "",
                            "state": {"running": {"startedAt": "2026-12-01T10:00:00Z"}}},
                           {"name": "gone", "ready": false, "restartCount": 0, "image": "old", "imageID": ""}]}
        }))
        .expect("a pod");
        assert_eq!(pod.name(), "web-1");
        assert_eq!(pod.namespace(), "shop");
        assert_eq!(pod.metadata.resource_version.as_deref(), Some("42"));
        assert_eq!(pod.metadata.labels, None);
        assert_eq!(pod.metadata.annotations, None);
        assert_eq!(pod.metadata.uid, None);
        assert_eq!(&*pod.owner, "ReplicaSet/web-7d");
        assert_eq!(pod.node(), Some("n1"));
        assert_eq!(pod.phase(), Some("Running"));
        assert_eq!(pod.cpu_m, 750);
        assert_eq!(pod.memory, 134_217_728 + 1_073_741_824);
        let names: Vec<&str> = pod.containers.iter().map(|c| &*c.name).collect();
        assert_eq!(names, ["web", "side", "gone"]);
        assert_eq!(&*pod.containers[2].image, "");
        let side = pod.containers[1].status.as_ref().expect("side's status");
        assert_eq!(side.restarts, 3);
        assert!(
            matches!(&side.state, State::Waiting { reason: Some(r), message: None } if &**r == "CrashLoopBackOff")
        );
        assert_eq!(side.last_terminated.as_ref().map(|t| t.exit_code), Some(1));
        assert!(matches!(
            pod.containers[0].status.as_ref().map(|s| &s.state),
            Some(State::Running { since: Some(_) })
        ));
        assert_eq!(pod.conditions.len(), 1);
        assert_eq!(
            pod.conditions[0].reason.as_deref(),
            Some("ContainersNotReady")
        );
    }

    #[test]
    fn a_pod_without_spec_or_status_is_still_a_pod() {
        let pod: PodSummary =
            serde_json::from_value(json!({"metadata": {"name": "bare", "namespace": "default"}}))
                .expect("a pod");
        assert_eq!((pod.cpu_m, pod.memory), (0, 0));
        assert!(pod.containers.is_empty());
        assert_eq!(pod.phase(), None);
        assert_eq!(&*pod.owner, "");
    }
}
