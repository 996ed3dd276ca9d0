//! Changing a cluster's tags: checked like the wizard checks them, never over someone else's
//! change, recorded with before and after.

use app::access::model::{ClusterRef, Principal};
use app::clusters::tags;
use app::error::AppError;
use serde_json::{Map, Value, json};

use super::PortalBackend;
use crate::fleet::clusters;
use crate::fleet::rows::{TAGS_ANNOTATION, per_key_tags, tag_pairs};
use crate::store::audit::{self, Outcome};

/// The audit log's name of the change.
const ACTION: &str = "edit-tags";
/// The message of a save over tags that changed after the form was opened.
const CHANGED: &str = "tags changed since you opened this: review and save again";
/// Writes retried when only something else about the cluster (its status) changed meanwhile.
const ATTEMPTS: usize = 3;

/// `key=value` lines of `pairs`, as the form shows them.
fn lines(pairs: &[(String, String)]) -> Vec<String> {
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect()
}

/// The merge patch that makes `new` the tags of a cluster with `meta`, at `version`: all tags in
/// the JSON annotation, the per-key ones folded into it (removed).
fn patch(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    new: &[(String, String)],
    version: &str,
) -> Value {
    let (labels, annotations) = per_key_tags(meta);
    let mut a: Map<String, Value> = annotations.into_iter().map(|k| (k, Value::Null)).collect();
    let written: Map<String, Value> = new
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    a.insert(
        TAGS_ANNOTATION.into(),
        if written.is_empty() {
            Value::Null
        } else {
            Value::String(Value::Object(written).to_string())
        },
    );
    let l: Map<String, Value> = labels.into_iter().map(|k| (k, Value::Null)).collect();
    let mut metadata = json!({"resourceVersion": version, "annotations": a});
    if !l.is_empty() {
        metadata["labels"] = Value::Object(l);
    }
    json!({ "metadata": metadata })
}

/// Tags as a form's text, in a form that compares whatever the order or spacing: its non-empty
/// lines trimmed and sorted (the form and the cluster may order `a=1` and `a.b=2` differently).
fn comparable(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines.sort_unstable();
    lines
}

impl PortalBackend {
    pub(super) async fn change_tags(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        was: &str,
        text: &str,
    ) -> Result<(), AppError> {
        // Only clusters the caller may see: the same "not found" as a missing one.
        self.visible(by, cluster).await?;
        let target = format!("cluster/{cluster}");
        let new = match tags::parse(text) {
            Ok(new) => new,
            Err(why) => {
                let change = audit::Change::accepted(ACTION, &target, json!({}))
                    .ended(Outcome::Failed, why.clone());
                self.record(by, change).await?;
                return Err(AppError::BadRequest(format!("tags: {why}")));
            }
        };
        let shown = comparable(was);
        let management = self.management(by)?;
        for attempt in 1..=ATTEMPTS {
            let current = clusters::require(&management, cluster).await?;
            let before = tag_pairs(&current);
            if comparable(&lines(&before).join("\n")) != shown {
                return Err(AppError::Conflict {
                    message: CHANGED.into(),
                    current: Some(lines(&before).join("\n")),
                });
            }
            let version = current
                .metadata
                .resource_version
                .clone()
                .unwrap_or_default();
            match clusters::merge(
                &management,
                cluster,
                &patch(&current.metadata, &new, &version),
            )
            .await
            {
                Ok(_) => {
                    let mut after = new.clone();
                    after.sort();
                    let change = audit::Change::accepted(
                        ACTION,
                        &target,
                        json!({"before": lines(&before), "after": lines(&after)}),
                    );
                    return self.record(by, change).await;
                }
                // Its status moved on meanwhile: read it again and compare the tags again.
                Err(e) if e.api_status() == Some(409) && attempt < ATTEMPTS => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Conflict {
            message: CHANGED.into(),
            current: None,
        })
    }
}
