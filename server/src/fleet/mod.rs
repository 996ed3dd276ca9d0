//! The Cluster API management cluster, reached through kube-rs (the embedded kubesim or a real one).

use std::path::Path;
use std::time::Duration;

use app::access::model::{ClusterRef, Principal};
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};

/// How long a readiness probe waits for the management API.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("cannot read the management kubeconfig {path}: {reason}")]
    Kubeconfig { path: String, reason: String },
    #[error("the management cluster did not answer: {0}")]
    Unreachable(String),
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
        let client =
            Client::try_from(config.clone()).map_err(|e| FleetError::Unreachable(e.to_string()))?;
        Ok(Management {
            client,
            config,
            source: self.source.clone(),
        })
    }

    /// Who the management cluster takes this client for (a SelfSubjectReview): user and groups.
    pub async fn whoami(&self) -> Result<(String, Vec<String>), FleetError> {
        let body = serde_json::to_vec(&serde_json::json!({
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "SelfSubjectReview",
        }))
        .map_err(|e| FleetError::Unreachable(e.to_string()))?;
        let request = http::Request::post("/apis/authentication.k8s.io/v1/selfsubjectreviews")
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body)
            .map_err(|e| FleetError::Unreachable(e.to_string()))?;
        let review: serde_json::Value = within(PROBE_TIMEOUT, self.client.request(request)).await?;
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

    /// Every Cluster API `Cluster`, by namespace and name.
    pub async fn clusters(&self) -> Result<Vec<ClusterRef>, FleetError> {
        let api: Api<DynamicObject> = Api::all_with(self.client.clone(), &cluster_resource());
        let list = within(PROBE_TIMEOUT, api.list(&ListParams::default())).await?;
        let mut clusters: Vec<ClusterRef> = list
            .items
            .into_iter()
            .filter_map(|c| Some(ClusterRef::new(c.metadata.namespace?, c.metadata.name?)))
            .collect();
        clusters.sort();
        Ok(clusters)
    }

    /// Whether `cluster` exists on the management cluster.
    pub async fn cluster_exists(&self, cluster: &ClusterRef) -> Result<bool, FleetError> {
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.client.clone(), &cluster.namespace, &cluster_resource());
        Ok(within(PROBE_TIMEOUT, api.get_opt(&cluster.name))
            .await?
            .is_some())
    }

    /// The management API's version, or why it could not be reached.
    pub async fn ping(&self) -> Result<String, FleetError> {
        Ok(within(PROBE_TIMEOUT, self.client.apiserver_version())
            .await?
            .git_version)
    }
}

/// Cluster API's `Cluster` kind, as served by the management cluster.
fn cluster_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("cluster.x-k8s.io", "v1beta2", "Cluster"),
        "clusters",
    )
}

/// A management API call that gives up after `limit`, with the failure in words.
async fn within<T>(
    limit: Duration,
    call: impl std::future::Future<Output = Result<T, kube::Error>>,
) -> Result<T, FleetError> {
    match tokio::time::timeout(limit, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(FleetError::Unreachable(e.to_string())),
        Err(_) => Err(FleetError::Unreachable(format!(
            "no answer within {} s",
            limit.as_secs()
        ))),
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
