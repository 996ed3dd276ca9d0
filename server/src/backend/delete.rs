//! Deleting a cluster: what it destroys, the typed-name confirmation, the progress until the
//! Cluster object is gone. Recorded with what was there before.

use std::time::Duration;

use app::access::model::{ClusterRef, Principal};
use app::clusters::model::DeletionView;
use app::error::AppError;
use kube::api::{Api, DeleteParams};
use serde_json::json;

use super::PortalBackend;
use crate::fleet::resources::Cluster;
use crate::fleet::within;
use crate::store::audit::{self, Outcome};

const ACTION: &str = "delete-cluster";
/// How long the page waits for the workload cluster's pods to count them.
const PODS_WAIT: Duration = Duration::from_secs(2);

impl PortalBackend {
    pub(super) async fn deletion_view(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
    ) -> Result<DeletionView, AppError> {
        let mut view = DeletionView {
            namespace: cluster.namespace.clone(),
            name: cluster.name.clone(),
            gone: true,
            deleting: false,
            pools: Vec::new(),
            nodes: None,
            pods_running: None,
            phase: String::new(),
            progress: String::new(),
        };
        // Missing and not visible answer alike: "there is no such cluster".
        let Ok(c) = self.visible(by, cluster).await else {
            return Ok(view);
        };
        let watch = self.watch()?;
        let row = crate::fleet::rows::row_of(watch, &c);
        view.gone = false;
        view.deleting = c.metadata.deletion_timestamp.is_some();
        view.phase = c
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_default();
        view.progress = c
            .status
            .as_ref()
            .and_then(|s| {
                s.conditions
                    .iter()
                    .find(|k| k.type_ == "Deleting" && k.status == "True")
            })
            .and_then(|k| k.message.clone())
            .unwrap_or_default();
        view.nodes = row.as_ref().and_then(|r| r.nodes_total);
        view.pools = self
            .pool_rows(&c, cluster)?
            .into_iter()
            .map(|p| {
                let nodes = format!(
                    "{} node{}",
                    p.desired,
                    if p.desired == 1 { "" } else { "s" }
                );
                (p.name, nodes)
            })
            .collect();
        if let Ok(workload) = self.workload(cluster)
            && let Ok(Ok(store)) = tokio::time::timeout(PODS_WAIT, workload.pods()).await
        {
            view.pods_running = Some(
                store
                    .state()
                    .iter()
                    .filter(|p| p.phase() == Some("Running"))
                    .count(),
            );
        }
        Ok(view)
    }

    pub(super) async fn delete(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        confirm: &str,
    ) -> Result<(), AppError> {
        let c = self.visible(by, cluster).await?;
        let target = format!("cluster/{cluster}");
        if confirm.trim() != cluster.name {
            let why = format!(
                "Type the cluster's name, {}, to confirm: nothing was deleted.",
                cluster.name
            );
            let change = audit::Change::accepted(ACTION, &target, json!({}))
                .ended(Outcome::Failed, why.clone());
            self.record(by, change).await?;
            return Err(AppError::BadRequest(why));
        }
        if c.metadata.deletion_timestamp.is_some() {
            // Already being deleted (a second click): nothing more to do.
            return Ok(());
        }
        let before = json!({
            "version": c.spec.topology.as_ref().map(|t| t.version.clone()),
            "pools": c.spec.topology.as_ref().and_then(|t| t.workers.as_ref())
                .map(|w| w.machine_deployments.iter()
                    .map(|p| json!({"name": p.name, "replicas": p.replicas}))
                    .collect::<Vec<_>>()),
        });
        let api: Api<Cluster> = Api::namespaced(self.management(by)?.client(), &cluster.namespace);
        let gone = within(
            &format!("delete cluster {cluster}"),
            api.delete(&cluster.name, &DeleteParams::foreground()),
        )
        .await;
        match gone {
            Ok(_) => {}
            // Gone meanwhile: what the person wanted.
            Err(e) if e.api_status() == Some(404) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        let change = audit::Change::accepted(ACTION, &target, json!({"before": before}));
        self.record(by, change).await
    }
}
