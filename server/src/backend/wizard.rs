//! The creation wizard's server side: the offering from the ClusterClass watch, the draft kept in
//! the session, each step's post checked again here, and Create (once per draft, audited).

use std::time::Duration;

use app::access::model::{ClusterRef, Principal};
use app::clusters::model::cluster_href;
use app::clusters::wizard::draft::{Draft, PoolDraft, Step};
use app::clusters::wizard::offering::Offering;
use app::clusters::wizard::rules::{self, FieldError};
use app::clusters::wizard::{WizardView, cost};
use app::error::AppError;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams};
use kube::runtime::reflector::ObjectRef;
use serde_json::json;
use tower_sessions::Session;

use super::PortalBackend;
use crate::error::unexpected;
use crate::fleet::resources::Cluster;
use crate::fleet::{clusters, manifest, offering, within};
use crate::store::audit::{self, Outcome};

/// Where the session keeps the draft.
const SESSION_KEY: &str = "wizard.draft";
/// The audit log's name of a creation (and of a refused attempt).
const ACTION: &str = "create-cluster";
/// How long Create waits for the fleet watch to list the new cluster, so its page can show it.
const LISTED_WAIT: Duration = Duration::from_secs(3);

/// A step's form that did not pass: the page is shown again with these, at status 422. Put in the
/// request's extensions by `http/wizard.rs` for the page render of the same request.
#[derive(Clone, Debug)]
pub struct Posted {
    pub step: Step,
    pub draft: Draft,
    pub errors: Vec<FieldError>,
}

/// What a posted step leads to.
pub enum Submitted {
    /// Go there (the next or previous step, the pools again, the new cluster's page).
    To(String),
    /// Show the step again with what is wrong.
    Invalid(Box<Posted>),
}

/// What the person asked for with the button they pressed.
enum Go {
    Next,
    Back,
    AddPool,
    RemovePool(usize),
    Create,
    StartOver,
}

impl Go {
    fn parse(text: &str) -> Go {
        match text {
            "back" => Go::Back,
            "add-pool" => Go::AddPool,
            "create" => Go::Create,
            "start-over" => Go::StartOver,
            other => other
                .strip_prefix("remove-pool-")
                .and_then(|n| n.parse().ok())
                .map_or(Go::Next, Go::RemovePool),
        }
    }
}

/// The audit target of a draft: its cluster when the name could be one.
fn target_of(draft: &Draft) -> String {
    if rules::dns_label(&draft.namespace, 63) && rules::dns_label(&draft.name, 63) {
        format!("cluster/{}/{}", draft.namespace, draft.name)
    } else {
        "clusters".into()
    }
}

impl PortalBackend {
    /// What the ClusterClass offers (the first class on the management cluster, by namespace and
    /// name), with the team namespaces `who` may create clusters in.
    pub(crate) async fn offering(&self, who: &Principal) -> Result<Offering, AppError> {
        let watch = self.ready_watch().await?;
        // Right after start the classes may not be listed yet: "there is none" would be wrong.
        if watch.classes.state().is_empty() {
            let _ = tokio::time::timeout(
                super::clusters::FIRST_LIST_WAIT,
                watch.classes.wait_until_ready(),
            )
            .await;
        }
        let mut classes = watch.classes.state();
        classes.sort_by_key(|c| (c.metadata.namespace.clone(), c.metadata.name.clone()));
        let class = classes.first().ok_or_else(|| {
            AppError::Unavailable(
                "the offering for new clusters (there is no ClusterClass on the management cluster)"
                    .into(),
            )
        })?;
        let api: Api<Namespace> = Api::all(self.management(who)?.client());
        let mut namespaces: Vec<String> =
            within("list namespaces", api.list(&ListParams::default()))
                .await?
                .items
                .into_iter()
                .filter_map(|n| n.metadata.name)
                .filter(|n| !n.starts_with("kube-"))
                .collect();
        namespaces.sort();
        Ok(offering::offering(class, namespaces))
    }

    /// The draft this session is working on, or a new one (not kept until something is posted).
    async fn draft(&self, session: Option<&Session>, offering: &Offering) -> Draft {
        let kept = match session {
            Some(s) => s.get::<Draft>(SESSION_KEY).await.ok().flatten(),
            None => None,
        };
        kept.filter(|d| d.created.is_empty())
            .unwrap_or_else(|| Draft::new(uuid::Uuid::new_v4().to_string(), offering))
    }

    /// What is wrong with the name (its form, or that it is taken in `namespace`).
    pub(super) async fn name_check(
        &self,
        who: &Principal,
        namespace: &str,
        name: &str,
    ) -> Result<Option<String>, AppError> {
        if let Some(why) = rules::check_name(name) {
            return Ok(Some(why));
        }
        if !rules::dns_label(namespace, 63) {
            return Ok(Some(format!(
                "Namespace \"{namespace}\" is not a namespace name."
            )));
        }
        let cluster = ClusterRef::new(namespace, name);
        Ok(clusters::exists(&self.management(who)?, &cluster)
            .await?
            .then(|| format!("Cluster name \"{name}\" is taken: {namespace}/{name} exists. Choose another name.")))
    }

    pub(super) async fn wizard_view(
        &self,
        who: &Principal,
        step: Step,
    ) -> Result<WizardView, AppError> {
        let offering = self.offering(who).await?;
        let (session, _) = super::this_request();
        let posted = leptos::prelude::use_context::<http::request::Parts>()
            .and_then(|p| p.extensions.get::<Posted>().cloned())
            .filter(|p| p.step == step);
        let (draft, mut errors) = match posted {
            Some(p) => (p.draft, p.errors),
            None => (self.draft(session.as_ref(), &offering).await, Vec::new()),
        };
        if step == Step::Review && errors.is_empty() {
            errors = self.check_all(who, &draft, &offering).await?;
        }
        let yaml = if step == Step::Review && errors.is_empty() {
            let cluster = manifest::cluster(&draft, &offering)
                .map_err(|e| unexpected("build the Cluster", e))?;
            Some(manifest::yaml(&cluster))
        } else {
            None
        };
        Ok(WizardView {
            step,
            cost: cost::estimate(&draft.pools, &offering),
            draft,
            offering,
            errors,
            yaml,
        })
    }

    /// Every rule, and that the name is free.
    async fn check_all(
        &self,
        who: &Principal,
        draft: &Draft,
        offering: &Offering,
    ) -> Result<Vec<FieldError>, AppError> {
        let mut errors = rules::check_all(draft, offering);
        if !errors
            .iter()
            .any(|e| e.field == "name" || e.field == "namespace")
            && let Some(why) = self.name_check(who, &draft.namespace, &draft.name).await?
        {
            errors.insert(0, FieldError::new("name", why));
        }
        Ok(errors)
    }

    /// Records a refused post: what was wrong, at which step.
    async fn refused(
        &self,
        who: &Principal,
        draft: &Draft,
        step: Step,
        errors: &[FieldError],
    ) -> Result<(), AppError> {
        let target = target_of(draft);
        let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
        let change = audit::Change::accepted(
            ACTION,
            &target,
            json!({"step": step.as_str(), "errors": messages}),
        )
        .ended(
            Outcome::Failed,
            messages.first().copied().unwrap_or_default(),
        );
        self.record(who, change).await
    }

    /// One step's form, posted by `who` (who may create clusters): the draft changes, is checked
    /// when moving on, and is kept in `session`.
    pub async fn wizard_submit(
        &self,
        who: &Principal,
        session: &Session,
        step: Step,
        form: &[(String, String)],
    ) -> Result<Submitted, AppError> {
        let offering = self.offering(who).await?;
        let go = Go::parse(
            form.iter()
                .find(|(k, _)| k == "go")
                .map_or("", |(_, v)| v.as_str()),
        );
        let kept = session
            .get::<Draft>(SESSION_KEY)
            .await
            .map_err(|e| unexpected("read the wizard's draft", e))?;
        // A second Create of a draft already created (a double click): its cluster.
        if let (Some(done), Go::Create) = (&kept, &go)
            && !done.created.is_empty()
        {
            return Ok(Submitted::To(done.created.clone()));
        }
        let mut draft = match kept.filter(|d| d.created.is_empty()) {
            Some(d) if !matches!(go, Go::StartOver) => d,
            _ => Draft::new(uuid::Uuid::new_v4().to_string(), &offering),
        };
        draft.take(step, form);
        let keep = async |draft: &Draft| {
            session
                .insert(SESSION_KEY, draft)
                .await
                .map_err(|e| unexpected("keep the wizard's draft", e))
        };
        let to = match go {
            Go::StartOver => {
                session
                    .remove::<Draft>(SESSION_KEY)
                    .await
                    .map_err(|e| unexpected("drop the wizard's draft", e))?;
                return Ok(Submitted::To(Step::Basics.href()));
            }
            Go::Back => step.previous().href(),
            Go::AddPool => {
                if draft.pools.len() < offering.limits.max_pools as usize {
                    draft.pools.push(PoolDraft {
                        name: format!("pool{}", draft.pools.len() + 1),
                        mode: "user".into(),
                        vm_size: offering.size_or("Standard_D4s_v5"),
                        os_image: offering.default_os_image.clone(),
                        count: "1".into(),
                        ..PoolDraft::default()
                    });
                }
                // The new pool's fieldset (`pool-<index>`).
                format!(
                    "{}#pool-{}",
                    Step::Pools.href(),
                    draft.pools.len().saturating_sub(1)
                )
            }
            Go::RemovePool(i) => {
                if i < draft.pools.len() {
                    draft.pools.remove(i);
                }
                Step::Pools.href()
            }
            Go::Next if step != Step::Review => {
                let mut errors = rules::check(step, &draft, &offering);
                if step == Step::Basics
                    && errors.iter().all(|e| e.field != "name")
                    && let Some(why) = self.name_check(who, &draft.namespace, &draft.name).await?
                {
                    errors.insert(0, FieldError::new("name", why));
                }
                if !errors.is_empty() {
                    keep(&draft).await?;
                    self.refused(who, &draft, step, &errors).await?;
                    return Ok(Submitted::Invalid(Box::new(Posted {
                        step,
                        draft,
                        errors,
                    })));
                }
                if step == Step::Basics {
                    draft.apply_preset(&offering);
                }
                step.next().href()
            }
            Go::Next | Go::Create => {
                let errors = self.check_all(who, &draft, &offering).await?;
                if !errors.is_empty() {
                    keep(&draft).await?;
                    self.refused(who, &draft, Step::Review, &errors).await?;
                    return Ok(Submitted::Invalid(Box::new(Posted {
                        step: Step::Review,
                        draft,
                        errors,
                    })));
                }
                return self.create(who, session, draft, &offering).await;
            }
        };
        keep(&draft).await?;
        Ok(Submitted::To(to))
    }

    /// Creates the checked draft's Cluster as `who`; a draft already created (a double click
    /// racing the first) goes to its cluster.
    async fn create(
        &self,
        who: &Principal,
        session: &Session,
        mut draft: Draft,
        offering: &Offering,
    ) -> Result<Submitted, AppError> {
        let cluster =
            manifest::cluster(&draft, offering).map_err(|e| unexpected("build the Cluster", e))?;
        let reference = ClusterRef::new(&draft.namespace, &draft.name);
        let href = cluster_href(&draft.namespace, &draft.name, "");
        let management = self.management(who)?;
        match clusters::create(&management, &cluster).await {
            Ok(_) => {
                let target = target_of(&draft);
                let change = audit::Change::accepted(
                    ACTION,
                    &target,
                    json!({"after": serde_json::to_value(&cluster).map_err(|e| unexpected("record the Cluster", e))?}),
                );
                self.record(who, change).await?;
            }
            Err(e) if e.api_status() == Some(409) => {
                let existing = clusters::get(&management, &reference).await?;
                if !existing.as_ref().is_some_and(|c| is_from(c, &draft)) {
                    let errors = vec![FieldError::new(
                        "name",
                        format!(
                            "Cluster name \"{}\" is taken: {reference} was created meanwhile. Choose another name.",
                            draft.name
                        ),
                    )];
                    self.refused(who, &draft, Step::Review, &errors).await?;
                    return Ok(Submitted::Invalid(Box::new(Posted {
                        step: Step::Review,
                        draft,
                        errors,
                    })));
                }
            }
            Err(e) if e.api_status() == Some(422) || e.api_status() == Some(400) => {
                let errors = vec![FieldError::new(
                    "create",
                    format!(
                        "The management cluster refused the Cluster: {}",
                        api_message(&e)
                    ),
                )];
                self.refused(who, &draft, Step::Review, &errors).await?;
                return Ok(Submitted::Invalid(Box::new(Posted {
                    step: Step::Review,
                    draft,
                    errors,
                })));
            }
            Err(e) => return Err(e.into()),
        }
        draft.created = href.clone();
        session
            .insert(SESSION_KEY, &draft)
            .await
            .map_err(|e| unexpected("keep the wizard's draft", e))?;
        // The cluster's page reads the fleet watch: wait (briefly) until it lists the cluster.
        if let Ok(watch) = self.watch() {
            let key = ObjectRef::new(&reference.name).within(&reference.namespace);
            let _ = tokio::time::timeout(LISTED_WAIT, async {
                while watch.clusters.get(&key).is_none() {
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
            })
            .await;
        }
        Ok(Submitted::To(href))
    }
}

/// Whether `cluster` was created from `draft` (its annotation names the draft).
fn is_from(cluster: &Cluster, draft: &Draft) -> bool {
    cluster
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(manifest::DRAFT_ANNOTATION))
        .is_some_and(|id| *id == draft.id)
}

/// The management API's own message for a refused write.
fn api_message(e: &crate::fleet::FleetError) -> String {
    match e {
        crate::fleet::FleetError::Api { source, .. } => match source.as_ref() {
            kube::Error::Api(status) => status.message.clone(),
            other => other.to_string(),
        },
        other => other.to_string(),
    }
}
