//! One API server's objects: kept as serialized JSON with a small index, versioned, watchable.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::clock::timestamp;
use crate::defaults;
use crate::index;
use crate::noise::{random_suffix, splitmix};
use crate::resources::{self, Plane, RESOURCES, Resource, id};
use crate::selector::{FieldSelector, LabelSelector};
use crate::status::ApiError;

/// A stored object: its JSON as served, plus what selectors and the simulation read from it.
#[derive(Debug)]
pub struct Obj {
    pub rv: u64,
    pub name: Box<str>,
    pub namespace: Box<str>,
    pub labels: Vec<(Box<str>, Box<str>)>,
    /// Selectable fields (`spec.nodeName`, …) and simulation facts (`x.*`).
    pub fields: Vec<(&'static str, Box<str>)>,
    pub deleting: bool,
    pub json: Bytes,
}

impl Obj {
    pub fn value(&self) -> Value {
        serde_json::from_slice(&self.json).unwrap_or(Value::Null)
    }

    pub fn field(&self, key: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| &**v)
            .unwrap_or("")
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| **k == *key)
            .map(|(_, v)| &**v)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, as watchers see it.
#[derive(Debug)]
pub struct Event {
    pub rv: u64,
    pub resource: usize,
    pub kind: EventType,
    pub obj: Arc<Obj>,
}

type Key = (Box<str>, Box<str>);

#[derive(Default)]
struct Table {
    objects: BTreeMap<Key, Arc<Obj>>,
    history: VecDeque<Arc<Event>>,
    /// Versions at or below this were dropped from `history`: watching from them is `410 Gone`.
    compacted: u64,
}

struct Inner {
    rv: u64,
    tables: Vec<Table>,
}

/// How an update treats `status` (Kubernetes' status subresource rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateMode {
    /// The main endpoint: status changes are ignored for kinds with a status subresource.
    Main,
    /// `/status`: only status changes are kept.
    Status,
}

/// Whether a write is kept or only shown: a dry run (`dryRun=All`) passes every check a real write
/// passes and answers the object as it would be, but stores, versions and announces nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Write {
    Commit,
    DryRun,
}

/// What happens to an object's dependents (objects whose `ownerReferences` name it) when it is
/// deleted: `propagationPolicy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Propagation {
    /// The owner goes now, its dependents after it (the garbage collector).
    Background,
    /// The owner stays, with the `foregroundDeletion` finalizer, until its dependents are gone.
    Foreground,
    /// Dependents stay, without their reference to the owner.
    Orphan,
}

/// A DELETE's options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deletion {
    pub write: Write,
    pub propagation: Propagation,
    /// `gracePeriodSeconds`: for pods on a node, how long the kubelet may take (default: the pod's
    /// `terminationGracePeriodSeconds`); 0 removes at once.
    pub grace: Option<i64>,
}

impl Deletion {
    pub fn now(write: Write) -> Self {
        Deletion {
            write,
            propagation: Propagation::Background,
            grace: None,
        }
    }
}

const FOREGROUND: &str = "foregroundDeletion";

/// A pod being deleted gracefully stays until its kubelet says it stopped (the simulation's kubelet
/// removes it).
fn held_by_kubelet(res_id: usize, v: &Value) -> bool {
    res_id == id::PODS
        && v["metadata"]["deletionGracePeriodSeconds"]
            .as_i64()
            .unwrap_or(0)
            > 0
}

/// One API server's state (the management cluster, or one workload cluster).
pub struct Store {
    pub plane: Plane,
    inner: Mutex<Inner>,
    tx: broadcast::Sender<Arc<Event>>,
    history_cap: usize,
    seed: u64,
    uids: AtomicU64,
}

/// What a list returns.
pub struct Listed {
    pub items: Vec<Arc<Obj>>,
    pub rv: u64,
    /// The key to continue after, when `limit` cut the list short.
    pub next: Option<(String, String)>,
    pub remaining: usize,
}

pub struct ListQuery<'a> {
    pub namespace: Option<&'a str>,
    pub labels: &'a LabelSelector,
    pub fields: &'a FieldSelector,
    pub after: Option<(String, String)>,
    pub limit: Option<usize>,
}

fn conflict(resource: &Resource, name: &str, message: &str) -> ApiError {
    ApiError::Conflict {
        group: resource.group.into(),
        resource: resource.plural.into(),
        name: name.into(),
        message: message.into(),
    }
}

fn not_found(resource: &Resource, name: &str) -> ApiError {
    ApiError::not_found(resource.group, resource.plural, name)
}

fn meta_str<'a>(v: &'a Value, key: &str) -> &'a str {
    v["metadata"][key].as_str().unwrap_or("")
}

/// The kinds whose objects own others (through `ownerReferences`) in kubesim: workload controllers
/// and the Cluster API kinds.
fn owns_objects(res_id: usize) -> bool {
    matches!(
        res_id,
        id::DEPLOYMENTS
            | id::REPLICA_SETS
            | id::DAEMON_SETS
            | id::CLUSTERS
            | id::CLUSTER_CLASSES
            | id::MACHINE_DEPLOYMENTS
            | id::MACHINES
    )
}

fn owned_by(obj: &Obj, uid: &str) -> bool {
    // The JSON is searched for the uid before it is parsed: most objects own nothing.
    let needle = format!("\"uid\":\"{uid}\"");
    if !obj
        .json
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
    {
        return false;
    }
    obj.value()["metadata"]["ownerReferences"]
        .as_array()
        .is_some_and(|refs| refs.iter().any(|r| r["uid"].as_str() == Some(uid)))
}

fn remove_finalizer(mut v: Value, name: &str) -> Value {
    if let Some(list) = v["metadata"]["finalizers"].as_array_mut() {
        list.retain(|f| f != name);
        if list.is_empty()
            && let Some(m) = v["metadata"].as_object_mut()
        {
            m.remove("finalizers");
        }
    }
    v
}

fn has_finalizers(v: &Value) -> bool {
    v["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|f| !f.is_empty())
}

impl Store {
    pub fn new(plane: Plane, seed: u64, history_cap: usize) -> Self {
        let (tx, _) = broadcast::channel(4096);
        let store = Store {
            plane,
            inner: Mutex::new(Inner {
                rv: 1,
                tables: (0..RESOURCES.len()).map(|_| Table::default()).collect(),
            }),
            tx,
            history_cap: history_cap.max(16),
            seed,
            uids: AtomicU64::new(0),
        };
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            // Infallible on an empty store; ignoring keeps construction total.
            let _ = store.create(
                store.namespace_resource(),
                json!({"metadata": {"name": ns}, "status": {"phase": "Active"}}),
            );
        }
        store
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn namespace_resource(&self) -> usize {
        match self.plane {
            Plane::Management => id::M_NAMESPACES,
            Plane::Workload => id::W_NAMESPACES,
        }
    }

    pub fn current_rv(&self) -> u64 {
        self.lock().rv
    }

    fn next_uid(&self) -> String {
        let n = self.uids.fetch_add(1, Ordering::Relaxed);
        let a = splitmix(self.seed ^ n.wrapping_mul(0x9e37_79b9));
        let b = splitmix(a);
        format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            b >> 52,
            b & 0xffff_ffff_ffff
        )
    }

    /// Serializes `value` at version `rv` into a stored object.
    fn seal(res_id: usize, mut value: Value, rv: u64) -> Arc<Obj> {
        value["metadata"]["resourceVersion"] = Value::String(rv.to_string());
        Self::pack(res_id, value, rv)
    }

    /// A dry run's answer: the object as it would be, at the version it has (none when new).
    fn preview(res_id: usize, value: Value) -> Arc<Obj> {
        let rv = value["metadata"]["resourceVersion"]
            .as_str()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        Self::pack(res_id, value, rv)
    }

    fn pack(res_id: usize, value: Value, rv: u64) -> Arc<Obj> {
        let resource = resources::get(res_id);
        let (labels, fields) = index::extract(res_id, &value);
        let json = Bytes::from(serde_json::to_vec(&value).unwrap_or_default());
        Arc::new(Obj {
            rv,
            name: meta_str(&value, "name").into(),
            namespace: if resource.namespaced {
                meta_str(&value, "namespace").into()
            } else {
                "".into()
            },
            labels,
            fields,
            deleting: !value["metadata"]["deletionTimestamp"].is_null(),
            json,
        })
    }

    fn emit(&self, inner: &mut Inner, res_id: usize, kind: EventType, obj: Arc<Obj>) {
        let event = Arc::new(Event {
            rv: obj.rv,
            resource: res_id,
            kind,
            obj,
        });
        let table = &mut inner.tables[res_id];
        table.history.push_back(event.clone());
        while table.history.len() > self.history_cap {
            if let Some(old) = table.history.pop_front() {
                table.compacted = old.rv;
            }
        }
        // No receivers is fine: nobody is watching.
        let _ = self.tx.send(event);
    }

    pub fn get(&self, res_id: usize, namespace: &str, name: &str) -> Option<Arc<Obj>> {
        let key: Key = (namespace.into(), name.into());
        self.lock().tables[res_id].objects.get(&key).cloned()
    }

    pub fn get_value(&self, res_id: usize, namespace: &str, name: &str) -> Option<Value> {
        self.get(res_id, namespace, name).map(|o| o.value())
    }

    /// Every object of a kind (the simulation's view, no selectors).
    pub fn all(&self, res_id: usize) -> Vec<Arc<Obj>> {
        self.lock().tables[res_id]
            .objects
            .values()
            .cloned()
            .collect()
    }

    pub fn count(&self, res_id: usize) -> usize {
        self.lock().tables[res_id].objects.len()
    }

    pub fn list(&self, res_id: usize, q: &ListQuery<'_>) -> Listed {
        let inner = self.lock();
        let table = &inner.tables[res_id];
        let mut items = Vec::new();
        let mut next = None;
        let mut remaining = 0;
        let start: Box<dyn Iterator<Item = (&Key, &Arc<Obj>)>> = match &q.after {
            Some((ns, name)) => {
                let key: Key = (ns.as_str().into(), name.as_str().into());
                Box::new(
                    table
                        .objects
                        .range(key..)
                        .filter(move |(k, _)| !(*k.0 == **ns && *k.1 == **name)),
                )
            }
            None => Box::new(table.objects.iter()),
        };
        for (key, obj) in start {
            if q.namespace.is_some_and(|ns| *key.0 != *ns) {
                continue;
            }
            if !q.labels.matches(&obj.labels)
                || !q.fields.matches(&obj.fields, &obj.name, &obj.namespace)
            {
                continue;
            }
            if let Some(limit) = q.limit
                && items.len() >= limit
            {
                if next.is_none()
                    && let Some(last) = items.last()
                {
                    let last: &Arc<Obj> = last;
                    next = Some((last.namespace.to_string(), last.name.to_string()));
                }
                remaining += 1;
                continue;
            }
            items.push(obj.clone());
        }
        Listed {
            items,
            rv: inner.rv,
            next,
            remaining,
        }
    }

    /// Creates an object; `value` has been validated by the caller.
    pub fn create(&self, res_id: usize, value: Value) -> Result<Arc<Obj>, ApiError> {
        self.create_as(res_id, value, Write::Commit)
    }

    /// POST: names it (`generateName`), checks its namespace and that it is new, fills in identity.
    pub fn create_as(
        &self,
        res_id: usize,
        mut value: Value,
        write: Write,
    ) -> Result<Arc<Obj>, ApiError> {
        let resource = resources::get(res_id);
        if !value["metadata"].is_object() {
            value["metadata"] = json!({});
        }
        let mut inner = self.lock();
        if meta_str(&value, "name").is_empty() {
            let prefix = meta_str(&value, "generateName").to_string();
            if prefix.is_empty() {
                return Err(ApiError::invalid(
                    resource.group,
                    resource.kind,
                    "",
                    vec![crate::status::Cause::new(
                        "metadata.name",
                        "Required value: name or generateName is required",
                    )],
                ));
            }
            let name = format!("{prefix}{}", random_suffix(self.seed ^ inner.rv, 5));
            value["metadata"]["name"] = Value::String(name);
        }
        let name = meta_str(&value, "name").to_string();
        let namespace = if resource.namespaced {
            let ns = meta_str(&value, "namespace");
            if ns.is_empty() {
                "default".to_string()
            } else {
                ns.to_string()
            }
        } else {
            String::new()
        };
        if resource.namespaced {
            let ns_res = self.namespace_resource();
            let key: Key = ("".into(), namespace.as_str().into());
            match inner.tables[ns_res].objects.get(&key) {
                None => return Err(ApiError::not_found("", "namespaces", &namespace)),
                Some(ns) if ns.deleting => {
                    return Err(ApiError::Conflict {
                        group: resource.group.into(),
                        resource: resource.plural.into(),
                        name,
                        message: format!(
                            "namespace {namespace} is being terminated; new content cannot be created in it"
                        ),
                    });
                }
                Some(_) => {}
            }
            value["metadata"]["namespace"] = Value::String(namespace.clone());
        }
        let key: Key = (namespace.as_str().into(), name.as_str().into());
        if inner.tables[res_id].objects.contains_key(&key) {
            return Err(ApiError::AlreadyExists {
                group: resource.group.into(),
                resource: resource.plural.into(),
                name,
            });
        }
        value["apiVersion"] = Value::String(resource.api_version());
        value["kind"] = Value::String(resource.kind.into());
        defaults::apply(res_id, &mut value);
        let meta = &mut value["metadata"];
        meta["uid"] = Value::String(self.next_uid());
        meta["creationTimestamp"] = Value::String(timestamp());
        if let Some(m) = meta.as_object_mut() {
            m.remove("deletionTimestamp");
            m.remove("resourceVersion");
            m.remove("generation");
        }
        if defaults::has_generation(res_id) {
            value["metadata"]["generation"] = json!(1);
        }
        if write == Write::DryRun {
            return Ok(Self::preview(res_id, value));
        }
        inner.rv += 1;
        let obj = Self::seal(res_id, value, inner.rv);
        inner.tables[res_id].objects.insert(key, obj.clone());
        self.emit(&mut inner, res_id, EventType::Added, obj.clone());
        Ok(obj)
    }

    /// Replaces an object (PUT, or the end of a PATCH) under Kubernetes' rules.
    pub fn update(
        &self,
        res_id: usize,
        namespace: &str,
        name: &str,
        value: Value,
        mode: UpdateMode,
    ) -> Result<Arc<Obj>, ApiError> {
        self.update_as(res_id, namespace, name, value, mode, Write::Commit)
    }

    pub fn update_as(
        &self,
        res_id: usize,
        namespace: &str,
        name: &str,
        mut value: Value,
        mode: UpdateMode,
        write: Write,
    ) -> Result<Arc<Obj>, ApiError> {
        let resource = resources::get(res_id);
        let mut inner = self.lock();
        let key: Key = (namespace.into(), name.into());
        let old_obj = inner.tables[res_id]
            .objects
            .get(&key)
            .cloned()
            .ok_or_else(|| not_found(resource, name))?;
        let wanted_rv = meta_str(&value, "resourceVersion");
        if !wanted_rv.is_empty() && wanted_rv != old_obj.rv.to_string() {
            return Err(conflict(
                resource,
                name,
                "the object has been modified; please apply your changes to the latest version and try again",
            ));
        }
        let old = old_obj.value();
        let mut next = match mode {
            UpdateMode::Status => {
                let mut next = old.clone();
                next["status"] = value["status"].take();
                // Field ownership of the status write (`managed`) comes with it.
                if let Some(owners) = value["metadata"].get_mut("managedFields") {
                    next["metadata"]["managedFields"] = owners.take();
                }
                next
            }
            UpdateMode::Main => {
                if resource.status {
                    value["status"] = old["status"].clone();
                }
                if let Some(m) = value.as_object_mut()
                    && m.get("status").is_some_and(Value::is_null)
                {
                    m.remove("status");
                }
                value
            }
        };
        // Identity and server-owned metadata never change through an update.
        for k in [
            "uid",
            "creationTimestamp",
            "name",
            "namespace",
            "deletionTimestamp",
            "generation",
        ] {
            match old["metadata"].get(k) {
                Some(v) => next["metadata"][k] = v.clone(),
                None => {
                    if let Some(m) = next["metadata"].as_object_mut() {
                        m.remove(k);
                    }
                }
            }
        }
        next["apiVersion"] = Value::String(resource.api_version());
        next["kind"] = Value::String(resource.kind.into());
        defaults::apply(res_id, &mut next);
        if mode == UpdateMode::Main
            && defaults::has_generation(res_id)
            && next.get("spec") != old.get("spec")
        {
            let generation = old["metadata"]["generation"].as_i64().unwrap_or(1) + 1;
            next["metadata"]["generation"] = json!(generation);
        }
        next["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"].clone();
        if next == old {
            return Ok(old_obj);
        }
        if write == Write::DryRun {
            return Ok(Self::preview(res_id, next));
        }
        Ok(self.commit(&mut inner, res_id, key, next))
    }

    /// Writes `next` (already merged), removing it if it is deleting and has no finalizers left.
    fn commit(&self, inner: &mut Inner, res_id: usize, key: Key, next: Value) -> Arc<Obj> {
        inner.rv += 1;
        let gone = !next["metadata"]["deletionTimestamp"].is_null()
            && !has_finalizers(&next)
            && !held_by_kubelet(res_id, &next);
        let obj = Self::seal(res_id, next, inner.rv);
        if gone {
            inner.tables[res_id].objects.remove(&key);
            self.emit(inner, res_id, EventType::Deleted, obj.clone());
        } else {
            inner.tables[res_id].objects.insert(key, obj.clone());
            self.emit(inner, res_id, EventType::Modified, obj.clone());
        }
        obj
    }

    /// The simulation's write: change an object in place (status included); no-op if unchanged.
    pub fn modify(
        &self,
        res_id: usize,
        namespace: &str,
        name: &str,
        f: impl FnOnce(&mut Value),
    ) -> Option<Arc<Obj>> {
        let mut inner = self.lock();
        let key: Key = (namespace.into(), name.into());
        let old_obj = inner.tables[res_id].objects.get(&key).cloned()?;
        let old = old_obj.value();
        let mut next = old.clone();
        f(&mut next);
        if next == old {
            return Some(old_obj);
        }
        if defaults::has_generation(res_id) && next.get("spec") != old.get("spec") {
            let generation = old["metadata"]["generation"].as_i64().unwrap_or(1) + 1;
            next["metadata"]["generation"] = json!(generation);
        }
        Some(self.commit(&mut inner, res_id, key, next))
    }

    /// DELETE: marks the object deleting when finalizers hold it, removes it otherwise.
    /// Returns the object as last seen and whether it is gone.
    pub fn delete(
        &self,
        res_id: usize,
        namespace: &str,
        name: &str,
    ) -> Result<(Arc<Obj>, bool), ApiError> {
        self.delete_as(res_id, namespace, name, Write::Commit)
    }

    /// DELETE, kept or dry run (a dry run shows the deletion and leaves everything in place).
    pub fn delete_as(
        &self,
        res_id: usize,
        namespace: &str,
        name: &str,
        write: Write,
    ) -> Result<(Arc<Obj>, bool), ApiError> {
        self.delete_with(res_id, namespace, name, Deletion::now(write))
    }

    /// DELETE as Kubernetes does it: finalizers hold the object (it gets `deletionTimestamp`), a
    /// pod on a node is deleted gracefully (Terminating until its kubelet stops it), a namespace
    /// passes through Terminating while what is in it is deleted, and dependents go before the
    /// owner (Foreground), after it (Background) or stay (Orphan).
    /// Returns the object as last seen and whether it is gone.
    pub fn delete_with(
        &self,
        res_id: usize,
        namespace: &str,
        name: &str,
        how: Deletion,
    ) -> Result<(Arc<Obj>, bool), ApiError> {
        let resource = resources::get(res_id);
        let key: Key = (namespace.into(), name.into());
        let old_obj = self.lock().tables[res_id]
            .objects
            .get(&key)
            .cloned()
            .ok_or_else(|| not_found(resource, name))?;
        let mut value = old_obj.value();
        // Only the kinds that own objects here are looked up as owners: a scan of the store per
        // deleted pod would make deleting a large Deployment quadratic.
        let uid = if owns_objects(res_id) {
            value["metadata"]["uid"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        } else {
            String::new()
        };
        if old_obj.deleting {
            // Deleting again changes nothing but may shorten a pod's grace to zero (finalizers
            // still hold it).
            if res_id == id::PODS
                && how.grace == Some(0)
                && how.write == Write::Commit
                && !has_finalizers(&value)
            {
                return Ok((
                    self.force_remove(res_id, namespace, name)
                        .unwrap_or(old_obj),
                    true,
                ));
            }
            return Ok((old_obj, false));
        }
        value["metadata"]["deletionTimestamp"] = Value::String(timestamp());
        let graceful = res_id == id::PODS
            && !value["spec"]["nodeName"]
                .as_str()
                .unwrap_or_default()
                .is_empty()
            && !matches!(
                value["status"]["phase"].as_str(),
                Some("Succeeded" | "Failed")
            );
        if graceful {
            let grace = how
                .grace
                .filter(|g| *g >= 0)
                .or_else(|| value["spec"]["terminationGracePeriodSeconds"].as_i64())
                .unwrap_or(30)
                .max(0);
            if grace > 0 {
                value["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
            }
        }
        let is_namespace = res_id == self.namespace_resource();
        if is_namespace {
            value["status"]["phase"] = json!("Terminating");
        }
        if how.propagation == Propagation::Foreground && !uid.is_empty() {
            let finalizers = &mut value["metadata"]["finalizers"];
            match finalizers.as_array_mut() {
                Some(list) => list.push(json!(FOREGROUND)),
                None => *finalizers = json!([FOREGROUND]),
            }
        }
        if how.write == Write::DryRun {
            return Ok((Self::preview(res_id, value), false));
        }
        if how.propagation == Propagation::Orphan && !uid.is_empty() {
            self.orphan_dependents(&uid);
        }
        let held = has_finalizers(&value) || held_by_kubelet(res_id, &value) || is_namespace;
        if !held {
            let obj = self.remove_now(res_id, key, value);
            if how.propagation == Propagation::Background {
                self.delete_dependents(&uid, how.write, Propagation::Background);
            }
            return Ok((obj, true));
        }
        // Seen as Terminating while something holds it: finalizers, a kubelet, the namespace
        // controller (which, here, empties the namespace at once).
        let obj = {
            let mut inner = self.lock();
            inner.rv += 1;
            let obj = Self::seal(res_id, value.clone(), inner.rv);
            inner.tables[res_id]
                .objects
                .insert(key.clone(), obj.clone());
            self.emit(&mut inner, res_id, EventType::Modified, obj.clone());
            obj
        };
        if is_namespace {
            self.purge_namespace(name);
            if !has_finalizers(&value) {
                return Ok((self.remove_now(res_id, key, value), true));
            }
        }
        if how.propagation == Propagation::Foreground {
            self.delete_dependents(&uid, how.write, Propagation::Foreground);
            if self.dependents(&uid).is_empty() {
                let next = remove_finalizer(value, FOREGROUND);
                let gone = !has_finalizers(&next);
                let mut inner = self.lock();
                return Ok((self.commit(&mut inner, res_id, key, next), gone));
            }
        }
        Ok((obj, false))
    }

    /// Removes an object now, announcing it with its last state.
    fn remove_now(&self, res_id: usize, key: Key, value: Value) -> Arc<Obj> {
        let mut inner = self.lock();
        inner.rv += 1;
        let obj = Self::seal(res_id, value, inner.rv);
        inner.tables[res_id].objects.remove(&key);
        self.emit(&mut inner, res_id, EventType::Deleted, obj.clone());
        obj
    }

    /// The objects whose ownerReferences name `uid`: (resource, namespace, name).
    fn dependents(&self, uid: &str) -> Vec<(usize, Box<str>, Box<str>)> {
        if uid.is_empty() {
            return Vec::new();
        }
        let inner = self.lock();
        let mut out = Vec::new();
        for (res_id, table) in inner.tables.iter().enumerate() {
            for ((ns, name), obj) in &table.objects {
                if owned_by(obj, uid) {
                    out.push((res_id, ns.clone(), name.clone()));
                }
            }
        }
        out
    }

    /// The garbage collector's cascade: dependents of a deleted owner are deleted in the background.
    /// A foreground deletion deletes its dependents in the foreground too, so that a
    /// Deployment waits for its ReplicaSets, which wait for their pods.
    fn delete_dependents(&self, uid: &str, write: Write, propagation: Propagation) {
        if uid.is_empty() {
            return;
        }
        for (res_id, ns, name) in self.dependents(uid) {
            let how = Deletion {
                propagation,
                ..Deletion::now(write)
            };
            let _ = self.delete_with(res_id, &ns, &name, how);
        }
    }

    /// Orphaning: dependents lose their reference to the owner and stay.
    fn orphan_dependents(&self, uid: &str) {
        for (res_id, ns, name) in self.dependents(uid) {
            self.modify(res_id, &ns, &name, |v| {
                if let Some(refs) = v["metadata"]["ownerReferences"].as_array_mut() {
                    refs.retain(|r| r["uid"].as_str() != Some(uid));
                    if refs.is_empty()
                        && let Some(m) = v["metadata"].as_object_mut()
                    {
                        m.remove("ownerReferences");
                    }
                }
            });
        }
    }

    /// Foreground deletions whose dependents are gone: their finalizer goes, and with it the object.
    pub fn finish_foreground_deletions(&self) {
        let waiting: Vec<(usize, Box<str>, Box<str>, String)> = {
            let inner = self.lock();
            inner
                .tables
                .iter()
                .enumerate()
                .flat_map(|(res_id, t)| {
                    // Deleting objects only: parsing every object on every tick would cost a
                    // large cluster dearly.
                    t.objects.iter().filter(|(_, o)| o.deleting).filter_map(
                        move |((ns, name), o)| {
                            let v = o.value();
                            let waiting = v["metadata"]["finalizers"]
                                .as_array()
                                .is_some_and(|f| f.iter().any(|x| x == FOREGROUND));
                            waiting.then(|| {
                                let uid = v["metadata"]["uid"].as_str().unwrap_or_default();
                                (res_id, ns.clone(), name.clone(), uid.to_string())
                            })
                        },
                    )
                })
                .collect()
        };
        for (res_id, ns, name, uid) in waiting {
            if self.dependents(&uid).is_empty() {
                self.modify(res_id, &ns, &name, |v| {
                    *v = remove_finalizer(v.take(), FOREGROUND);
                });
            }
        }
    }

    /// Deleting a namespace deletes what is in it (the namespace controller, made instant).
    fn purge_namespace(&self, namespace: &str) {
        for (res_id, resource) in RESOURCES.iter().enumerate() {
            if resource.plane != self.plane || !resource.namespaced || resource.computed {
                continue;
            }
            let names: Vec<Box<str>> = {
                let inner = self.lock();
                inner.tables[res_id]
                    .objects
                    .keys()
                    .filter(|(ns, _)| **ns == *namespace)
                    .map(|(_, n)| n.clone())
                    .collect()
            };
            for name in names {
                self.force_remove(res_id, namespace, &name);
            }
        }
    }

    /// Removes an object regardless of finalizers (the simulation's garbage collector).
    pub fn force_remove(&self, res_id: usize, namespace: &str, name: &str) -> Option<Arc<Obj>> {
        let mut inner = self.lock();
        let key: Key = (namespace.into(), name.into());
        let old = inner.tables[res_id].objects.remove(&key)?;
        inner.rv += 1;
        let mut value = old.value();
        if value["metadata"]["deletionTimestamp"].is_null() {
            value["metadata"]["deletionTimestamp"] = Value::String(timestamp());
        }
        let obj = Self::seal(res_id, value, inner.rv);
        self.emit(&mut inner, res_id, EventType::Deleted, obj.clone());
        Some(obj)
    }

    /// Starts a watch: the events after `since` still in history, and a live receiver.
    /// `since == None` means "from now". Subscribing under the lock leaves no gap.
    #[allow(clippy::type_complexity)]
    pub fn watch(
        &self,
        res_id: usize,
        since: Option<u64>,
    ) -> Result<(Vec<Arc<Event>>, u64, broadcast::Receiver<Arc<Event>>), ApiError> {
        let inner = self.lock();
        let table = &inner.tables[res_id];
        let rx = self.tx.subscribe();
        let backlog = match since {
            None => Vec::new(),
            Some(rv) => {
                if rv < table.compacted {
                    return Err(ApiError::Gone(format!(
                        "too old resource version: {rv} ({})",
                        table.compacted + 1
                    )));
                }
                table
                    .history
                    .iter()
                    .filter(|e| e.rv > rv)
                    .cloned()
                    .collect()
            }
        };
        Ok((backlog, inner.rv, rx))
    }

    /// Whether a list of kind `res_id` exactly at version `rv` (`resourceVersionMatch=Exact`) can be
    /// served: only the current state is kept, so it can when nothing of the kind changed since.
    pub fn exact(&self, res_id: usize, rv: u64) -> Result<(), ApiError> {
        let inner = self.lock();
        let table = &inner.tables[res_id];
        if rv > inner.rv {
            return Err(ApiError::Timeout(format!(
                "Too large resource version: {rv}, current: {}",
                inner.rv
            )));
        }
        if rv < table.compacted || table.history.iter().any(|e| e.rv > rv) {
            return Err(ApiError::Gone(format!(
                "too old resource version: {rv} ({})",
                table.compacted.max(rv) + 1
            )));
        }
        Ok(())
    }

    /// Lets a test (or the fault injector) make every existing version too old to watch from.
    pub fn compact(&self) {
        let mut inner = self.lock();
        let rv = inner.rv;
        for table in &mut inner.tables {
            table.history.clear();
            table.compacted = rv;
        }
    }
}
