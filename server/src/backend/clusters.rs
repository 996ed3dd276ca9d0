//! The clusters topic: the fleet and each cluster's pages, as the caller may see them.
//
// Read from the shared watches. A cluster outside the caller's scope is "not found", like a
// missing one.

use std::collections::HashSet;
use std::sync::Arc;

use app::access::model::{Action, ClusterRef, Principal, Target};
use app::clusters::backend::ClustersBackend;
use app::clusters::model::*;
use app::error::AppError;
use kube::runtime::reflector::ObjectRef;

use super::PortalBackend;
use crate::access::{cluster_scope, may};
use crate::error::internal;
use crate::fleet::pod_summary::PodSummary;
use crate::fleet::resources::{CLUSTER_NAME_LABEL, Cluster, ClusterClass};
use crate::fleet::watch::FleetWatch;
use crate::fleet::workloads::{Reach, Workload};
use crate::fleet::{events, health, kube_name, listing, logs, nodes, pods, pools, rows};
use crate::store::audit;

/// How long a page waits for the first list of the fleet after start-up.
pub(super) const FIRST_LIST_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Which clusters a caller may see.
pub(super) enum Scope {
    All,
    Only(HashSet<ClusterRef>),
}

impl Scope {
    pub(super) fn sees(&self, cluster: &ClusterRef) -> bool {
        match self {
            Scope::All => true,
            Scope::Only(set) => set.contains(cluster),
        }
    }

    /// The same for a fleet row, without making a `ClusterRef` when everything is visible.
    pub(super) fn sees_row(&self, row: &ClusterRow) -> bool {
        match self {
            Scope::All => true,
            Scope::Only(set) => set.contains(&ClusterRef::new(&row.namespace, &row.name)),
        }
    }
}

/// "stale since 14:02:11 UTC — <reason>" while the management API is not answering.
fn stale_text(watch: &FleetWatch) -> Option<String> {
    let stale = watch.staleness()?;
    let at = time::OffsetDateTime::from(stale.since);
    Some(format!(
        "stale since {:02}:{:02}:{:02} UTC — {}",
        at.hour(),
        at.minute(),
        at.second(),
        stale.reason
    ))
}

fn not_found(cluster: &ClusterRef) -> AppError {
    AppError::NotFound(format!("cluster {cluster}"))
}

impl PortalBackend {
    pub(super) fn watch(&self) -> Result<&FleetWatch, AppError> {
        Ok(&self.fleet()?.watch)
    }

    /// The clusters `who` may see: by their portal roles, and with `--impersonate` also by what
    /// Kubernetes RBAC lets them list.
    pub(super) async fn scope(&self, who: &Principal) -> Result<Scope, AppError> {
        let bindings = self.core.gate.bindings.get().await.map_err(internal)?;
        let by_roles = cluster_scope(who, &bindings);
        if !self.core.impersonate {
            return Ok(match by_roles {
                None => Scope::All,
                Some(list) => Scope::Only(list.into_iter().collect()),
            });
        }
        let listed = crate::fleet::clusters::names(&self.management(who)?).await?;
        Ok(Scope::Only(
            listed
                .into_iter()
                .filter(|c| by_roles.as_ref().is_none_or(|only| only.contains(c)))
                .collect(),
        ))
    }

    /// The watch, once it holds a first list (briefly after start-up), or as it is when the
    /// management API is failing (the last known state).
    pub(super) async fn ready_watch(&self) -> Result<&FleetWatch, AppError> {
        let watch = self.watch()?;
        if watch.staleness().is_none() {
            let _ = tokio::time::timeout(FIRST_LIST_WAIT, watch.clusters.wait_until_ready()).await;
        }
        Ok(watch)
    }

    /// The cluster, if it exists and `who` may see it; otherwise `NotFound` either way.
    pub(crate) async fn visible(
        &self,
        who: &Principal,
        cluster: &ClusterRef,
    ) -> Result<Arc<Cluster>, AppError> {
        let watch = self.ready_watch().await?;
        if !self.scope(who).await?.sees(cluster) {
            return Err(not_found(cluster));
        }
        watch
            .clusters
            .get(&ObjectRef::new(&cluster.name).within(&cluster.namespace))
            .ok_or_else(|| not_found(cluster))
    }

    /// What every tab of a cluster page shows at its top.
    pub(super) async fn head(
        &self,
        who: &Principal,
        cluster: &Cluster,
    ) -> Result<ClusterHead, AppError> {
        let watch = self.watch()?;
        let reference = cluster
            .reference()
            .ok_or_else(|| AppError::NotFound("cluster".into()))?;
        let bindings = self.core.gate.bindings.get().await.map_err(internal)?;
        let seen = rows::nodes_seen(watch, &reference);
        Ok(ClusterHead {
            health: health::health(cluster, &seen),
            version: rows::version(cluster),
            stale: stale_text(watch),
            may_download_kubeconfig: may(
                who,
                &bindings,
                Action::DownloadKubeconfig,
                &Target::Cluster(reference.clone()),
            )
            .is_allowed(),
            may_edit_tags: may(
                who,
                &bindings,
                Action::EditTags,
                &Target::Cluster(reference.clone()),
            )
            .is_allowed(),
            may_delete: may(
                who,
                &bindings,
                Action::DeleteCluster,
                &Target::Cluster(reference.clone()),
            )
            .is_allowed(),
            namespace: reference.namespace,
            name: reference.name,
        })
    }

    /// The workload cluster's API, or why it cannot be reached (a 503 naming this cluster only).
    pub(crate) fn workload(&self, cluster: &ClusterRef) -> Result<Arc<Workload>, AppError> {
        match self.watch()?.workloads.reach(cluster) {
            Reach::Connected(w) => Ok(w),
            Reach::NotListed | Reach::NoSecret => Err(AppError::Unavailable(format!(
                "the workload cluster {cluster} (it has no kubeconfig Secret yet; its control plane may still be starting)"
            ))),
            Reach::Unreachable(why) => Err(AppError::Unavailable(format!(
                "the workload cluster {cluster} ({why})"
            ))),
        }
    }

    /// The ClusterClass a cluster's topology names, from the watch.
    pub(super) fn class_of(&self, cluster: &Cluster) -> Option<Arc<ClusterClass>> {
        let (namespace, name) = cluster.class_ref()?;
        self.watch()
            .ok()?
            .classes
            .get(&ObjectRef::new(&name).within(&namespace))
    }

    /// Node → pool, from the Machines Cluster API made for the cluster.
    pub(super) fn pools_by_node(
        &self,
        cluster: &ClusterRef,
    ) -> std::collections::HashMap<String, String> {
        self.watch()
            .map(|w| w.pools_by_node(cluster))
            .unwrap_or_default()
    }

    /// The Node pools tab's rows of `c`.
    pub(super) fn pool_rows(
        &self,
        c: &Cluster,
        cluster: &ClusterRef,
    ) -> Result<Vec<app::clusters::model::PoolRow>, AppError> {
        let deployments: Vec<_> = self
            .watch()?
            .pools
            .state()
            .into_iter()
            .filter(|md| {
                md.metadata.namespace.as_deref() == Some(cluster.namespace.as_str())
                    && md
                        .metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get(CLUSTER_NAME_LABEL))
                        .is_some_and(|n| *n == cluster.name)
            })
            .collect();
        let class = self.class_of(c);
        Ok(pools::rows(c, &deployments, class.as_deref()))
    }

    /// A pod of a cluster `who` may see: the page header, the workload cluster, the pod.
    async fn find_pod(
        &self,
        who: &Principal,
        cluster: &ClusterRef,
        namespace: &str,
        pod: &str,
    ) -> Result<(ClusterHead, Arc<Workload>, Arc<PodSummary>), AppError> {
        kube_name("namespace", namespace)?;
        kube_name("pod", pod)?;
        let c = self.visible(who, cluster).await?;
        let head = self.head(who, &c).await?;
        let workload = self.workload(cluster)?;
        let store = workload.pods().await.map_err(AppError::Unavailable)?;
        let p = store
            .get(&ObjectRef::new(pod).within(namespace))
            .ok_or_else(|| {
                AppError::NotFound(format!("pod {namespace}/{pod} in cluster {cluster}"))
            })?;
        Ok((head, workload, p))
    }

    /// Who created the cluster through the portal, from the audit log.
    async fn created_by(&self, cluster: &ClusterRef) -> Option<String> {
        let query = audit::Query {
            action: Some(Action::CreateCluster.as_str().into()),
            cluster: Some(cluster.to_string()),
            outcome: Some(audit::Outcome::Accepted),
            limit: 1,
            ..Default::default()
        };
        let page = audit::search(&self.core.db, &query).await.ok()?;
        let entry = page.entries.into_iter().next()?;
        Some(entry.entry.actor_name.clone())
    }
}

#[async_trait::async_trait]
impl ClustersBackend for PortalBackend {
    async fn fleet(&self, by: &Principal, query: FleetQuery) -> Result<FleetView, AppError> {
        let watch = self.ready_watch().await?;
        let scope = self.scope(by).await?;
        let all = watch.rows();
        let visible: Vec<&ClusterRow> = all.iter().filter(|r| scope.sees_row(r)).collect();
        let mut view = listing::view(&visible, &query, stale_text(watch))
            .map_err(|e| AppError::BadRequest(e.0))?;
        let bindings = self.core.gate.bindings.get().await.map_err(internal)?;
        view.may_create = may(by, &bindings, Action::CreateCluster, &Target::Portal).is_allowed();
        Ok(view)
    }

    async fn overview(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
    ) -> Result<ClusterOverview, AppError> {
        let c = self.visible(by, cluster).await?;
        let head = self.head(by, &c).await?;
        let watch = self.watch()?;
        let row = rows::row_of(watch, &c).ok_or_else(|| not_found(cluster))?;
        let conditions = c
            .status
            .as_ref()
            .map(|s| s.conditions.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|k| ConditionRow {
                type_: k.type_.clone(),
                status: k.status.clone(),
                reason: k.reason.clone().unwrap_or_default(),
                message: k.message.clone().unwrap_or_default(),
                since: k.last_transition_time.clone().unwrap_or_default(),
            })
            .collect();
        let topology = c.spec.topology.as_ref();
        let cp = c.status.as_ref().and_then(|s| s.control_plane.as_ref());
        let control_plane = format!(
            "{} of {} ready",
            cp.and_then(|p| p.ready_replicas).unwrap_or(0),
            topology
                .and_then(|t| t.control_plane.as_ref())
                .and_then(|p| p.replicas)
                .or_else(|| cp.and_then(|p| p.desired_replicas))
                .unwrap_or(0)
        );
        let versions = match topology {
            Some(_) => Some(self.versions_of(by, &c, cluster).await?.0),
            None => None,
        };
        Ok(ClusterOverview {
            versions,
            head,
            row,
            conditions,
            control_plane,
            class: topology
                .map(|t| t.class_ref.name.clone())
                .unwrap_or_default(),
            created_by: self.created_by(cluster).await,
            operations: self.cluster_operations(cluster, 5).await?,
            phase: c
                .status
                .as_ref()
                .and_then(|s| s.phase.clone())
                .unwrap_or_default(),
        })
    }

    async fn save_tags(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        was: &str,
        tags: &str,
    ) -> Result<(), AppError> {
        self.change_tags(by, cluster, was, tags).await
    }

    async fn wizard(
        &self,
        by: &Principal,
        step: app::clusters::wizard::draft::Step,
    ) -> Result<app::clusters::wizard::WizardView, AppError> {
        self.wizard_view(by, step).await
    }

    async fn name_problem(
        &self,
        by: &Principal,
        namespace: &str,
        name: &str,
    ) -> Result<Option<String>, AppError> {
        self.name_check(by, namespace, name).await
    }

    async fn deletion(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
    ) -> Result<DeletionView, AppError> {
        self.deletion_view(by, cluster).await
    }

    async fn delete_cluster(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        confirm: &str,
    ) -> Result<(), AppError> {
        self.delete(by, cluster, confirm).await
    }

    async fn pools(&self, by: &Principal, cluster: &ClusterRef) -> Result<PoolsTab, AppError> {
        let c = self.visible(by, cluster).await?;
        let head = self.head(by, &c).await?;
        let bindings = self.core.gate.bindings.get().await.map_err(internal)?;
        let may_scale = may(
            by,
            &bindings,
            Action::ScalePool,
            &Target::Cluster(cluster.clone()),
        )
        .is_allowed();
        let may_manage = may(
            by,
            &bindings,
            Action::DeletePool,
            &Target::Cluster(cluster.clone()),
        )
        .is_allowed();
        let mut pools = self.pool_rows(&c, cluster)?;
        if may_scale || may_manage {
            self.add_shrinks(cluster, &mut pools).await;
        }
        self.add_running(cluster, &mut pools).await;
        let add = if may_manage {
            self.add_choices(&c, &pools)
        } else {
            None
        };
        Ok(PoolsTab {
            head,
            pools,
            may_scale,
            key: uuid::Uuid::new_v4().to_string(),
            add,
        })
    }

    async fn change_pool(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        change: PoolChange,
    ) -> Result<String, AppError> {
        PortalBackend::change_pool(self, by, cluster, change).await
    }

    async fn add_pool(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        pool: NewPool,
    ) -> Result<String, AppError> {
        PortalBackend::add_pool(self, by, cluster, pool).await
    }

    async fn delete_pool(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        change: PoolChange,
    ) -> Result<String, AppError> {
        PortalBackend::delete_pool(self, by, cluster, change).await
    }

    async fn nodes(&self, by: &Principal, cluster: &ClusterRef) -> Result<NodesTab, AppError> {
        let c = self.visible(by, cluster).await?;
        let head = self.head(by, &c).await?;
        let workload = self.workload(cluster)?;
        let (loads, pods_unknown) = match workload.pods().await {
            Ok(store) => (Some(nodes::loads(store.state().iter())), None),
            Err(why) => (None, Some(why)),
        };
        let by_node = self.pools_by_node(cluster);
        let now = rows::now_seconds();
        let mut list: Vec<NodeRow> = workload
            .nodes
            .state()
            .iter()
            .map(|n| {
                let name = n.metadata.name.clone().unwrap_or_default();
                nodes::row(
                    n,
                    by_node.get(&name).map(String::as_str),
                    loads.as_ref().and_then(|l| l.get(&name)),
                    now,
                )
            })
            .collect();
        list.sort_by(|a, b| a.pool.cmp(&b.pool).then_with(|| a.name.cmp(&b.name)));
        Ok(NodesTab {
            head,
            nodes: list,
            pods_unknown,
        })
    }

    async fn node(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        node: &str,
    ) -> Result<NodeDetail, AppError> {
        kube_name("node", node)?;
        let c = self.visible(by, cluster).await?;
        let head = self.head(by, &c).await?;
        let workload = self.workload(cluster)?;
        let n = workload
            .nodes
            .get(&ObjectRef::new(node))
            .ok_or_else(|| AppError::NotFound(format!("node {node} in cluster {cluster}")))?;
        let now = rows::now_seconds();
        let store = workload.pods().await.map_err(AppError::Unavailable)?;
        let on_node: Vec<_> = store
            .state()
            .into_iter()
            .filter(|p| p.node() == Some(node))
            .collect();
        let load = nodes::loads(on_node.iter());
        let mut pod_rows: Vec<PodRow> = on_node.iter().map(|p| pods::row(p, now)).collect();
        pod_rows.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        let by_node = self.pools_by_node(cluster);
        let events = events::list(
            workload.client.clone(),
            Some(format!(
                "involvedObject.kind=Node,involvedObject.name={node}"
            )),
            &format!("node {node}"),
        )
        .await?;
        Ok(NodeDetail {
            head,
            node: nodes::row(
                &n,
                by_node.get(node).map(String::as_str),
                load.get(node),
                now,
            ),
            conditions: nodes::conditions(&n),
            taints: nodes::taints(&n),
            labels: nodes::labels(&n),
            pods: pod_rows,
            events,
        })
    }

    async fn pods(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        query: PodQuery,
    ) -> Result<PodList, AppError> {
        let c = self.visible(by, cluster).await?;
        let head = self.head(by, &c).await?;
        let workload = self.workload(cluster)?;
        let store = workload.pods().await.map_err(AppError::Unavailable)?;
        let now = rows::now_seconds();
        let all = store.state();
        let mut namespaces: Vec<String> = all
            .iter()
            .filter_map(|p| p.metadata.namespace.clone())
            .collect();
        namespaces.sort();
        namespaces.dedup();
        let mut node_names: Vec<String> = workload
            .nodes
            .state()
            .iter()
            .filter_map(|n| n.metadata.name.clone())
            .collect();
        node_names.sort();
        let phase = query.phase.trim().to_ascii_lowercase();
        // The phase filter finds a pod by its phase or by the word its status shows instead
        // ("Running" finds running pods with an OOMKilled restart; "CrashLoopBackOff" finds those).
        let mut rows: Vec<PodRow> = all
            .iter()
            .filter(|p| {
                query.namespace.is_empty()
                    || p.metadata.namespace.as_deref() == Some(query.namespace.as_str())
            })
            .filter(|p| query.node.is_empty() || p.node() == Some(query.node.as_str()))
            .filter_map(|p| {
                let row = pods::row(p, now);
                let plain = p.phase().unwrap_or("");
                let keep = phase.is_empty()
                    || row.status.eq_ignore_ascii_case(&phase)
                    || plain.eq_ignore_ascii_case(&phase);
                keep.then_some(row)
            })
            .collect();
        // Trouble first (anything not Running or Succeeded), then by namespace and name.
        rows.sort_by(|a, b| {
            let calm = |r: &PodRow| {
                matches!(r.status.as_str(), "Running" | "Succeeded") && r.reason.is_empty()
            };
            (calm(a), &a.namespace, &a.name).cmp(&(calm(b), &b.namespace, &b.name))
        });
        let matching = rows.len();
        let (page, pages) = listing::page_of(&query.page, matching, POD_PAGE_SIZE);
        let rows = rows
            .into_iter()
            .skip((page - 1) * POD_PAGE_SIZE)
            .take(POD_PAGE_SIZE)
            .collect();
        Ok(PodList {
            head,
            rows,
            matching,
            page,
            pages,
            namespaces,
            nodes: node_names,
        })
    }

    async fn pod(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        namespace: &str,
        pod: &str,
    ) -> Result<PodDetail, AppError> {
        let (head, workload, p) = self.find_pod(by, cluster, namespace, pod).await?;
        let events = events::list(
            workload.client.clone(),
            Some(format!(
                "involvedObject.kind=Pod,involvedObject.namespace={namespace},involvedObject.name={pod}"
            )),
            &format!("pod {namespace}/{pod}"),
        )
        .await?;
        Ok(PodDetail {
            head,
            pod: pods::row(&p, rows::now_seconds()),
            containers: pods::containers(&p),
            conditions: pods::conditions(&p),
            events,
        })
    }

    async fn events(&self, by: &Principal, cluster: &ClusterRef) -> Result<EventsTab, AppError> {
        let c = self.visible(by, cluster).await?;
        let head = self.head(by, &c).await?;
        let workload = self.workload(cluster)?;
        let events =
            events::list(workload.client.clone(), None, &format!("cluster {cluster}")).await?;
        Ok(EventsTab { head, events })
    }

    async fn logs(
        &self,
        by: &Principal,
        cluster: &ClusterRef,
        namespace: &str,
        pod: &str,
        container: &str,
        previous: bool,
    ) -> Result<LogView, AppError> {
        let (head, workload, p) = self.find_pod(by, cluster, namespace, pod).await?;
        let containers: Vec<String> = p.containers.iter().map(|c| c.name.to_string()).collect();
        let container = if container.is_empty() {
            containers.first().cloned().unwrap_or_default()
        } else {
            container.to_string()
        };
        if !containers.contains(&container) {
            return Err(AppError::BadRequest(format!(
                "pod {namespace}/{pod} has no container \"{}\"; it has {}",
                container.chars().take(64).collect::<String>(),
                containers.join(", ")
            )));
        }
        let has_previous = pods::containers(&p)
            .iter()
            .any(|row| row.name == container && row.restarts > 0);
        if previous && !has_previous {
            return Err(AppError::BadRequest(format!(
                "container {container} of pod {namespace}/{pod} has not restarted, so there is no previous log"
            )));
        }
        let (lines, truncated) = logs::tail(
            workload.client.clone(),
            namespace,
            pod,
            &container,
            previous,
            LOG_LINES_DEFAULT,
        )
        .await?;
        Ok(LogView {
            head,
            namespace: namespace.into(),
            pod: pod.into(),
            container,
            containers,
            previous,
            has_previous,
            lines,
            truncated,
        })
    }
}
