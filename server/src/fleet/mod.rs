//! The Cluster API management cluster, reached through kube-rs (the embedded kubesim or a real one).

use std::path::Path;
use std::time::Duration;

use kube::Client;
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
        let client = Client::try_from(config).map_err(|e| bad(e.to_string()))?;
        Ok(Management {
            client,
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

    /// The management API's version, or why it could not be reached.
    pub async fn ping(&self) -> Result<String, FleetError> {
        match tokio::time::timeout(PROBE_TIMEOUT, self.client.apiserver_version()).await {
            Ok(Ok(info)) => Ok(info.git_version),
            Ok(Err(e)) => Err(FleetError::Unreachable(e.to_string())),
            Err(_) => Err(FleetError::Unreachable(format!(
                "no answer within {} s",
                PROBE_TIMEOUT.as_secs()
            ))),
        }
    }
}
