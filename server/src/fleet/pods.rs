//! A workload cluster's pods as the Pods tab and pod pages show them.
//
// Status in the words that matter (CrashLoopBackOff, OOMKilled, Pending with the scheduler's
// reason), containers, owner.

use app::clusters::model::{ConditionRow, ContainerRow, PodRow};
use k8s_openapi::api::core::v1::ContainerState;

use super::pod_summary::{ContainerStatus, PodSummary as Pod};

use super::rows::{age_of, condition_row, rfc3339};

fn statuses(pod: &Pod) -> impl Iterator<Item = &ContainerStatus> {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten()
}

/// (status word, reason in words) as `kubectl get pods` would put it, with the why beside it.
pub fn status(pod: &Pod) -> (String, String) {
    let status = pod.status.as_ref();
    let phase = status
        .and_then(|s| s.phase.clone())
        .unwrap_or_else(|| "Unknown".into());
    if pod.metadata.deletion_timestamp.is_some() {
        return ("Terminating".into(), String::new());
    }
    for c in statuses(pod) {
        let state = c.state.as_ref();
        if let Some(w) = state.and_then(|s| s.waiting.as_ref())
            && let Some(reason) = w
                .reason
                .clone()
                .filter(|r| r != "ContainerCreating" || phase != "Running")
        {
            return (reason, w.message.clone().unwrap_or_default());
        }
        if let Some(t) = state.and_then(|s| s.terminated.as_ref())
            && phase != "Succeeded"
        {
            let reason = t.reason.clone().unwrap_or_else(|| "Error".into());
            return (reason, format!("exit code {}", t.exit_code));
        }
    }
    if phase == "Pending"
        && let Some(c) = status
            .and_then(|s| s.conditions.as_ref())
            .into_iter()
            .flatten()
            .find(|c| c.type_ == "PodScheduled" && c.status == "False")
    {
        return ("Pending".into(), c.message.clone().unwrap_or_default());
    }
    let oom = statuses(pod).find_map(|c| {
        let t = c.last_state.as_ref()?.terminated.as_ref()?;
        (t.reason.as_deref() == Some("OOMKilled")).then(|| {
            format!(
                "container {} was OOMKilled (last restart{})",
                c.name,
                t.finished_at
                    .as_ref()
                    .map(|f| format!(" at {}", rfc3339(f)))
                    .unwrap_or_default()
            )
        })
    });
    (phase, oom.unwrap_or_default())
}

pub fn restarts(pod: &Pod) -> u32 {
    statuses(pod)
        .map(|c| u32::try_from(c.restart_count).unwrap_or(0))
        .sum()
}

/// `Kind/name` of the pod's controller (or first owner).
pub fn owner(pod: &Pod) -> String {
    let owners = pod.metadata.owner_references.as_deref().unwrap_or_default();
    owners
        .iter()
        .find(|o| o.controller == Some(true))
        .or(owners.first())
        .map(|o| format!("{}/{}", o.kind, o.name))
        .unwrap_or_default()
}

pub fn row(pod: &Pod, now: i64) -> PodRow {
    let (status, reason) = status(pod);
    PodRow {
        namespace: pod.metadata.namespace.clone().unwrap_or_default(),
        name: pod.metadata.name.clone().unwrap_or_default(),
        status,
        reason,
        restarts: restarts(pod),
        node: pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .unwrap_or_default(),
        age: age_of(pod.metadata.creation_timestamp.as_ref(), now),
        owner: owner(pod),
    }
}

fn state_words(state: Option<&ContainerState>) -> String {
    let Some(state) = state else {
        return "Unknown".into();
    };
    if let Some(r) = &state.running {
        return match &r.started_at {
            Some(at) => format!("Running since {}", rfc3339(at)),
            None => "Running".into(),
        };
    }
    if let Some(w) = &state.waiting {
        return format!(
            "Waiting: {}{}",
            w.reason.clone().unwrap_or_default(),
            w.message
                .as_ref()
                .map(|m| format!(" ({m})"))
                .unwrap_or_default()
        );
    }
    if let Some(t) = &state.terminated {
        return format!(
            "Terminated: {} (exit {})",
            t.reason.clone().unwrap_or_default(),
            t.exit_code
        );
    }
    "Unknown".into()
}

/// The pod's containers, in the order of its spec.
pub fn containers(pod: &Pod) -> Vec<ContainerRow> {
    let spec = pod
        .spec
        .as_ref()
        .map(|s| s.containers.as_slice())
        .unwrap_or_default();
    spec.iter()
        .map(|c| {
            let st = statuses(pod).find(|s| s.name == c.name);
            let last = st
                .and_then(|s| s.last_state.as_ref())
                .and_then(|l| l.terminated.as_ref())
                .map(|t| {
                    format!(
                        "{} (exit {}){}",
                        t.reason.clone().unwrap_or_else(|| "Terminated".into()),
                        t.exit_code,
                        t.finished_at
                            .as_ref()
                            .map(|f| format!(" at {}", rfc3339(f)))
                            .unwrap_or_default()
                    )
                })
                .unwrap_or_default();
            ContainerRow {
                name: c.name.clone(),
                image: c.image.clone().unwrap_or_default(),
                state: state_words(st.and_then(|s| s.state.as_ref())),
                ready: st.is_some_and(|s| s.ready),
                restarts: st.map_or(0, |s| u32::try_from(s.restart_count).unwrap_or(0)),
                last_termination: last,
            }
        })
        .collect()
}

pub fn conditions(pod: &Pod) -> Vec<ConditionRow> {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .map(|c| {
            condition_row(
                &c.type_,
                &c.status,
                c.reason.as_ref(),
                c.message.as_ref(),
                c.last_transition_time.as_ref(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(status: serde_json::Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "web-1", "namespace": "shop",
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d", "uid": "u", "controller": true}]},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}], "nodeName": "n1"},
            "status": status
        }))
        .expect("a pod")
    }

    #[test]
    fn the_reason_that_matters_is_shown() {
        let crash = pod(
            json!({"phase": "Running", "containerStatuses": [{"name": "web", "image": "nginx:1.27", "imageID": "", "ready": false, "restartCount": 7,
            "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container"}}}]}),
        );
        assert_eq!(
            status(&crash),
            (
                "CrashLoopBackOff".into(),
                "back-off 5m0s restarting failed container".into()
            )
        );
        assert_eq!(restarts(&crash), 7);
        assert_eq!(owner(&crash), "ReplicaSet/web-7d");
        let pending = pod(
            json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
            "message": "0/3 nodes are available: 3 Insufficient cpu."}]}),
        );
        assert_eq!(
            status(&pending),
            (
                "Pending".into(),
                "0/3 nodes are available: 3 Insufficient cpu.".into()
            )
        );
        let oom = pod(
            json!({"phase": "Running", "containerStatuses": [{"name": "web", "image": "nginx:1.27", "imageID": "", "ready": true, "restartCount": 2,
            "state": {"running": {"startedAt": "2026-12-01T10:00:00Z"}},
            "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled", "finishedAt": "2026-12-01T09:59:58Z"}}}]}),
        );
        assert_eq!(
            status(&oom),
            (
                "Running".into(),
                "container web was OOMKilled (last restart at 2026-12-01T09:59:58Z)".into()
            )
        );
        assert_eq!(
            containers(&oom)[0].last_termination,
            "OOMKilled (exit 137) at 2026-12-01T09:59:58Z"
        );
        assert_eq!(
            containers(&oom)[0].state,
            "Running since 2026-12-01T10:00:00Z"
        );
    }
}
