//! A workload cluster's pods as the Pods tab and pod pages show them.
//
// Status in the words that matter (CrashLoopBackOff, OOMKilled, Pending with the scheduler's
// reason), containers, owner.

use app::clusters::model::{ConditionRow, ContainerRow, PodRow};

use super::pod_summary::{PodSummary as Pod, State, Terminated};

use super::rows::{age_of, condition_row, rfc3339};

fn text(s: Option<&str>) -> String {
    s.unwrap_or_default().to_string()
}

/// (status word, reason in words) as `kubectl get pods` would put it, with the why beside it.
pub fn status(pod: &Pod) -> (String, String) {
    let phase = pod.phase().unwrap_or("Unknown");
    if pod.metadata.deletion_timestamp.is_some() {
        return ("Terminating".into(), String::new());
    }
    for (_, c) in pod.statuses() {
        match &c.state {
            State::Waiting {
                reason: Some(reason),
                message,
            } if &**reason != "ContainerCreating" || phase != "Running" => {
                return (reason.to_string(), text(message.as_deref()));
            }
            State::Terminated(t) if phase != "Succeeded" => {
                let reason = t.reason.as_deref().unwrap_or("Error").to_string();
                return (reason, format!("exit code {}", t.exit_code));
            }
            _ => {}
        }
    }
    if phase == "Pending"
        && let Some(c) = pod
            .conditions
            .iter()
            .find(|c| &*c.type_ == "PodScheduled" && &*c.status == "False")
    {
        return ("Pending".into(), text(c.message.as_deref()));
    }
    let oom = pod.statuses().find_map(|(name, c)| {
        let t = c.last_terminated.as_ref()?;
        (t.reason.as_deref() == Some("OOMKilled")).then(|| {
            format!(
                "container {name} was OOMKilled (last restart{})",
                t.finished_at
                    .as_ref()
                    .map(|f| format!(" at {}", rfc3339(f)))
                    .unwrap_or_default()
            )
        })
    });
    (phase.to_string(), oom.unwrap_or_default())
}

pub fn restarts(pod: &Pod) -> u32 {
    pod.statuses().map(|(_, c)| c.restarts).sum()
}

pub fn row(pod: &Pod, now: i64) -> PodRow {
    let (status, reason) = status(pod);
    PodRow {
        namespace: pod.namespace().to_string(),
        name: pod.name().to_string(),
        status,
        reason,
        restarts: restarts(pod),
        node: text(pod.node()),
        age: age_of(pod.metadata.creation_timestamp.as_ref(), now),
        owner: pod.owner.to_string(),
    }
}

fn state_words(state: Option<&State>) -> String {
    match state {
        None | Some(State::Unknown) => "Unknown".into(),
        Some(State::Running { since: Some(at) }) => format!("Running since {}", rfc3339(at)),
        Some(State::Running { since: None }) => "Running".into(),
        Some(State::Waiting { reason, message }) => format!(
            "Waiting: {}{}",
            text(reason.as_deref()),
            message
                .as_ref()
                .map(|m| format!(" ({m})"))
                .unwrap_or_default()
        ),
        Some(State::Terminated(t)) => format!(
            "Terminated: {} (exit {})",
            text(t.reason.as_deref()),
            t.exit_code
        ),
    }
}

fn last_termination(t: &Terminated) -> String {
    format!(
        "{} (exit {}){}",
        t.reason.as_deref().unwrap_or("Terminated"),
        t.exit_code,
        t.finished_at
            .as_ref()
            .map(|f| format!(" at {}", rfc3339(f)))
            .unwrap_or_default()
    )
}

/// The pod's containers, in the order of its spec.
pub fn containers(pod: &Pod) -> Vec<ContainerRow> {
    pod.containers
        .iter()
        .map(|c| {
            let st = c.status.as_ref();
            ContainerRow {
                name: c.name.to_string(),
                image: c.image.to_string(),
                state: state_words(st.map(|s| &s.state)),
                ready: st.is_some_and(|s| s.ready),
                restarts: st.map_or(0, |s| s.restarts),
                last_termination: st
                    .and_then(|s| s.last_terminated.as_ref())
                    .map(last_termination)
                    .unwrap_or_default(),
            }
        })
        .collect()
}

pub fn conditions(pod: &Pod) -> Vec<ConditionRow> {
    pod.conditions
        .iter()
        .map(|c| {
            condition_row(
                &c.type_,
                &c.status,
                c.reason.as_deref(),
                c.message.as_deref(),
                c.since.as_ref(),
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
        assert_eq!(&*crash.owner, "ReplicaSet/web-7d");
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
