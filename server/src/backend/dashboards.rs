//! The dashboards topic: saved dashboards, resolved to the clusters the caller may see, with
//! tiles and warnings computed from the shared watches and the metrics.

use std::collections::BTreeSet;

use app::access::model::{Action, ClusterRef, Principal, Target};
use app::clusters::model::ClusterRow;
use app::dashboards::backend::DashboardsBackend;
use app::dashboards::model::*;
use app::error::AppError;
use kube::runtime::reflector::ObjectRef;

use super::PortalBackend;
use super::clusters::Scope;
use crate::access::may;
use crate::error::internal;
use crate::fleet::listing::has_tag;
use crate::fleet::{rows, warnings};
use crate::store::{audit, dashboards, now_ms};

/// Whether `row` is one of the dashboard's clusters: named, or matching every selector term.
fn selects(spec: &DashboardSpec, row: &ClusterRow) -> bool {
    let id = format!("{}/{}", row.namespace, row.name);
    if spec.clusters.contains(&id) {
        return true;
    }
    let terms: Vec<&str> = spec
        .selector
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    !terms.is_empty() && terms.iter().all(|t| has_tag(row, t))
}

fn clock(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map(|t| format!("{:02}:{:02}:{:02} UTC", t.hour(), t.minute(), t.second()))
        .unwrap_or_default()
}

fn date(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map(|t| {
            format!(
                "{}-{:02}-{:02} {:02}:{:02} UTC",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        })
        .unwrap_or_default()
}

impl PortalBackend {
    /// The fleet rows a dashboard shows to `scope` (all of them, uncapped: callers check).
    async fn selected(
        &self,
        spec: &DashboardSpec,
        scope: &Scope,
    ) -> Result<Vec<ClusterRow>, AppError> {
        let watch = self.ready_watch().await?;
        let mut rows: Vec<ClusterRow> = watch
            .rows()
            .iter()
            .filter(|r| scope.sees_row(r) && selects(spec, r))
            .cloned()
            .collect();
        rows.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        Ok(rows)
    }

    /// One cluster's tile and warnings.
    async fn facts(&self, row: &ClusterRow, panels: &[Panel]) -> (ClusterTile, Vec<Warning>) {
        let cluster = ClusterRef::new(&row.namespace, &row.name);
        let id = cluster.to_string();
        let mut found = Vec::new();
        let needs_pods =
            panels.contains(&Panel::PodsNotRunning) || panels.contains(&Panel::Warnings);
        let mut pods_not_running = None;
        if row.health.health == app::clusters::model::Health::Unreachable {
            found.push(Warning {
                cluster: id.clone(),
                object: "cluster".into(),
                text: format!("Unreachable: {}", row.health.reason),
            });
        }
        if let Ok(workload) = self.workload(&cluster) {
            found.extend(warnings::nodes(&id, &workload.nodes.state()));
            if needs_pods && let Ok(store) = workload.pods().await {
                let (w, n) = warnings::pods(&id, &store.state(), rows::now_seconds());
                found.extend(w);
                pods_not_running = Some(n);
            }
        }
        if let Ok(watch) = self.watch()
            && let Some(c) = watch
                .clusters
                .get(&ObjectRef::new(&cluster.name).within(&cluster.namespace))
            && let Ok(pools) = self.pool_rows(&c, &cluster)
        {
            found.extend(warnings::pools(&id, &pools));
        }
        if let Ok(fleet) = self.fleet()
            && let Ok((series, step)) = fleet.metrics.last(&cluster, warnings::HIGH_FOR_MS).await
        {
            found.extend(warnings::usage(&id, &series, now_ms(), step));
        }
        let tile = ClusterTile {
            namespace: row.namespace.clone(),
            name: row.name.clone(),
            health: row.health.clone(),
            nodes_ready: row.nodes_ready,
            nodes_total: row.nodes_total,
            pods_not_running,
        };
        (tile, found)
    }

    async fn may_manage(&self, by: &Principal) -> Result<bool, AppError> {
        let bindings = self.core.gate.bindings.get().await.map_err(internal)?;
        Ok(may(by, &bindings, Action::ManageDashboards, &Target::Portal).is_allowed())
    }
}

#[async_trait::async_trait]
impl DashboardsBackend for PortalBackend {
    async fn list(&self, by: &Principal) -> Result<DashboardList, AppError> {
        let scope = self.scope(by).await?;
        let all_visible = matches!(scope, Scope::All);
        let mut out = Vec::new();
        for d in dashboards::list(&self.core.db).await.map_err(internal)? {
            let shown = self.selected(&d.spec, &scope).await?.len();
            // Someone who sees none of its clusters does not learn that it exists.
            if shown == 0 && !all_visible {
                continue;
            }
            let mut scope_text = format!("{shown} clusters");
            if !d.spec.selector.is_empty() {
                scope_text.push_str(&format!(" · tag {}", d.spec.selector));
            }
            out.push(DashboardSummary {
                slug: d.slug,
                name: d.spec.name,
                scope: scope_text,
                updated: date(d.updated_at_ms),
                updated_by: d.updated_by,
            });
        }
        Ok(DashboardList {
            dashboards: out,
            may_manage: self.may_manage(by).await?,
        })
    }

    async fn get(&self, by: &Principal, slug: &str) -> Result<DashboardView, AppError> {
        let missing = || {
            AppError::NotFound(format!(
                "dashboard {}",
                slug.chars().take(64).collect::<String>()
            ))
        };
        let stored = dashboards::get(&self.core.db, slug)
            .await
            .map_err(internal)?
            .ok_or_else(missing)?;
        let scope = self.scope(by).await?;
        let mut rows = self.selected(&stored.spec, &scope).await?;
        if rows.is_empty() && !matches!(scope, Scope::All) {
            return Err(missing());
        }
        rows.truncate(MAX_CLUSTERS);
        let facts =
            futures_util::future::join_all(rows.iter().map(|r| self.facts(r, &stored.spec.panels)))
                .await;
        let mut tiles = Vec::with_capacity(facts.len());
        let mut found = Vec::new();
        for (tile, w) in facts {
            tiles.push(tile);
            found.extend(w);
        }
        let mut spec = stored.spec;
        // Names of clusters the caller may not see stay on the server.
        if let Scope::Only(_) = &scope {
            spec.clusters
                .retain(|c| ClusterRef::parse(c).is_some_and(|c| scope.sees(&c)));
        }
        Ok(DashboardView {
            slug: stored.slug,
            spec,
            tiles,
            warnings: found,
            may_manage: self.may_manage(by).await?,
            at: clock(now_ms()),
        })
    }

    async fn save(
        &self,
        by: &Principal,
        slug: &str,
        spec: DashboardSpec,
    ) -> Result<String, AppError> {
        check(&spec)
            .map_err(|(field, message)| AppError::BadRequest(format!("{field}: {message}")))?;
        let mut spec = spec;
        spec.name = spec.name.trim().to_string();
        spec.selector = spec.selector.trim().to_string();
        let named: BTreeSet<String> = spec.clusters.iter().cloned().collect();
        spec.clusters = named.into_iter().collect();
        let shown = self.selected(&spec, &Scope::All).await?.len();
        if shown > MAX_CLUSTERS {
            return Err(AppError::BadRequest(format!(
                "selector: these clusters and tags select {shown} clusters; a dashboard shows at most {MAX_CLUSTERS}"
            )));
        }
        let creating = slug.is_empty();
        let slug = if creating {
            slug_of(&spec.name)
        } else {
            slug.to_string()
        };
        let db = &self.core.db;
        let done = if creating {
            dashboards::create(db, &slug, &spec, &by.name)
                .await
                .map_err(internal)?
        } else {
            dashboards::update(db, &slug, &spec, &by.name)
                .await
                .map_err(internal)?
        };
        if !done {
            return Err(if creating {
                AppError::BadRequest(format!(
                    "name: a dashboard at /dashboards/{slug} exists already; choose another name"
                ))
            } else {
                AppError::NotFound(format!(
                    "dashboard {}",
                    slug.chars().take(64).collect::<String>()
                ))
            });
        }
        let target = format!("dashboard {slug}");
        let change = audit::Change::accepted(
            if creating {
                "create-dashboard"
            } else {
                "change-dashboard"
            },
            &target,
            serde_json::json!({
                "name": spec.name,
                "clusters": spec.clusters,
                "selector": spec.selector,
                "panels": spec.panels.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            }),
        );
        self.record(by, change).await?;
        Ok(slug)
    }

    async fn delete(&self, by: &Principal, slug: &str) -> Result<(), AppError> {
        let Some(stored) = dashboards::get(&self.core.db, slug)
            .await
            .map_err(internal)?
        else {
            return Err(AppError::NotFound(format!(
                "dashboard {}",
                slug.chars().take(64).collect::<String>()
            )));
        };
        dashboards::delete(&self.core.db, slug)
            .await
            .map_err(internal)?;
        let target = format!("dashboard {slug}");
        let change = audit::Change::accepted(
            "delete-dashboard",
            &target,
            serde_json::json!({"name": stored.spec.name}),
        );
        self.record(by, change).await
    }
}
