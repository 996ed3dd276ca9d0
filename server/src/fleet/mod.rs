//! The Cluster API management cluster, reached through kube-rs (the embedded kubesim or a real one).

pub mod clusters;
pub mod drain;
pub mod events;
pub mod health;
pub mod listing;
pub mod logs;
pub mod manifest;
pub mod nodes;
pub mod offering;
pub mod pod_summary;
pub mod pods;
pub mod pools;
pub mod quantity;
pub mod resources;
pub mod rows;
pub mod versions;
pub mod warnings;
pub mod watch;
pub mod workloads;

use std::path::Path;
use std::time::Duration;

use app::access::model::Principal;
use kube::Client;
use kube::config::{KubeConfigOptions, Kubeconfig};

/// How long one management API call may take before the portal gives up on it.
const CALL_TIMEOUT: Duration = Duration::from_secs(3);

/// Why a management cluster call failed. The kube-rs error stays attached as the source, so the
/// one place that turns this into a response (`error.rs`) can tell 404 from 409 from 403, and
/// the log shows the whole chain.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("cannot read the management kubeconfig {path}: {reason}")]
    Kubeconfig { path: String, reason: String },
    #[error("the management cluster could not {doing}: {source}")]
    Api {
        doing: String,
        /// Boxed: kube-rs errors are large, and every `Result` would carry their size.
        #[source]
        source: Box<kube::Error>,
    },
    #[error("the management cluster did not {doing} within {} s", after.as_secs())]
    Timeout { doing: String, after: Duration },
    /// Someone else changed the object since it was read; `current` is what it holds now (in
    /// words), for a "changed since you opened this" message.
    #[error("{what} changed since it was read: {source}")]
    Conflict {
        what: String,
        current: Option<String>,
        #[source]
        source: Box<kube::Error>,
    },
}

impl FleetError {
    /// The HTTP status the management API answered with, if it answered at all.
    pub fn api_status(&self) -> Option<u16> {
        let (FleetError::Api { source, .. } | FleetError::Conflict { source, .. }) = self else {
            return None;
        };
        match (source.as_ref(), self) {
            (kube::Error::Api(status), _) => Some(status.code),
            (_, FleetError::Conflict { .. }) => Some(409),
            _ => None,
        }
    }

    /// What the portal was doing when it failed, in words.
    pub fn doing(&self) -> &str {
        match self {
            FleetError::Kubeconfig { .. } => "read the management kubeconfig",
            FleetError::Api { doing, .. } | FleetError::Timeout { doing, .. } => doing,
            FleetError::Conflict { what, .. } => what,
        }
    }
}

/// A client for the management cluster and where its configuration came from.
#[derive(Clone)]
pub struct Management {
    client: Client,
    /// What the client was made from, to make clients that impersonate a user.
    config: kube::Config,
    /// "embedded kubesim" or the kubeconfig path, for logs and health output.
    pub source: String,
}

impl Management {
    /// From kubeconfig text (the embedded kubesim hands over its own).
    pub async fn from_yaml(yaml: &str, source: &str) -> Result<Self, FleetError> {
        let bad = |reason: String| FleetError::Kubeconfig {
            path: source.to_string(),
            reason,
        };
        let kubeconfig = Kubeconfig::from_yaml(yaml).map_err(|e| bad(e.to_string()))?;
        let config =
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .map_err(|e| bad(e.to_string()))?;
        let client = Client::try_from(config.clone()).map_err(|e| bad(e.to_string()))?;
        Ok(Management {
            client,
            config,
            source: source.to_string(),
        })
    }

    pub async fn from_file(path: &Path) -> Result<Self, FleetError> {
        let shown = path.display().to_string();
        let yaml = tokio::fs::read_to_string(path)
            .await
            .map_err(|e| FleetError::Kubeconfig {
                path: shown.clone(),
                reason: e.to_string(),
            })?;
        Self::from_yaml(&yaml, &shown).await
    }

    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// The same management cluster, called as `who` (`Impersonate-User` with their subject,
    /// `Impersonate-Group` with each group), so that Kubernetes RBAC decides as well.
    pub fn impersonating(&self, who: &Principal) -> Result<Management, FleetError> {
        let mut config = self.config.clone();
        config.auth_info.impersonate = Some(who.subject.clone());
        config.auth_info.impersonate_groups = Some(impersonated_groups(&who.groups));
        let client = Client::try_from(config.clone()).map_err(|source| FleetError::Api {
            doing: "make a client that impersonates the signed-in user".into(),
            source: Box::new(source),
        })?;
        Ok(Management {
            client,
            config,
            source: self.source.clone(),
        })
    }

    /// Who the management cluster takes this client for (a SelfSubjectReview): user and groups.
    pub async fn whoami(&self) -> Result<(String, Vec<String>), FleetError> {
        let doing = "review who the portal acts as";
        let body = serde_json::to_vec(&serde_json::json!({
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "SelfSubjectReview",
        }))
        .map_err(|e| FleetError::Api {
            doing: doing.into(),
            source: Box::new(kube::Error::SerdeError(e)),
        })?;
        let request = http::Request::post("/apis/authentication.k8s.io/v1/selfsubjectreviews")
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body)
            .map_err(|e| FleetError::Api {
                doing: doing.into(),
                source: Box::new(kube::Error::HttpError(e)),
            })?;
        let review: serde_json::Value = within(doing, self.client.request(request)).await?;
        let info = &review["status"]["userInfo"];
        let user = info["username"].as_str().unwrap_or_default().to_string();
        let groups = info["groups"]
            .as_array()
            .map(|g| {
                g.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        Ok((user, groups))
    }

    /// The management API's version, or why it could not be reached.
    pub async fn ping(&self) -> Result<String, FleetError> {
        Ok(
            within("answer a version request", self.client.apiserver_version())
                .await?
                .git_version,
        )
    }
}

/// A Kubernetes object name as it may appear in a path (DNS subdomain: lower-case letters, digits,
/// `-` and `.`); anything else cannot name an object, so it is "not found" — and never reaches a
/// URL, where `/` or `..` would change what is asked for.
pub fn kube_name(kind: &str, value: &str) -> Result<(), app::error::AppError> {
    let ok = !value.is_empty()
        && value.len() <= 253
        && value != "."
        && value != ".."
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(app::error::AppError::NotFound(format!(
            "{kind} {}",
            value.chars().take(64).collect::<String>()
        )))
    }
}

/// A management API call that gives up after [`CALL_TIMEOUT`], keeping the kube-rs error.
pub(crate) async fn within<T>(
    doing: &str,
    call: impl std::future::Future<Output = Result<T, kube::Error>>,
) -> Result<T, FleetError> {
    match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(source)) => Err(FleetError::Api {
            doing: doing.to_string(),
            source: Box::new(source),
        }),
        Err(_) => Err(FleetError::Timeout {
            doing: doing.to_string(),
            after: CALL_TIMEOUT,
        }),
    }
}

/// The IdP groups passed on as `Impersonate-Group`: never one in Kubernetes' reserved `system:`
/// namespace (`system:masters` would make anyone who can name their IdP group a cluster admin).
pub fn impersonated_groups(groups: &[String]) -> Vec<String> {
    groups
        .iter()
        .filter(|g| !g.to_ascii_lowercase().starts_with("system:"))
        .cloned()
        .collect()
}

#[cfg(test)]
mod impersonation_tests {
    use super::impersonated_groups;

    #[test]
    fn reserved_kubernetes_groups_are_never_impersonated() {
        let from_idp: Vec<String> = [
            "developers",
            "system:masters",
            "SYSTEM:nodes",
            "ops:system:x",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        assert_eq!(
            impersonated_groups(&from_idp),
            ["developers", "ops:system:x"]
        );
    }
}
