//! Field ownership (`managedFields`) and server-side apply: who set which field, merges and conflicts.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::clock::timestamp;
use crate::status::ApiError;

/// Update managers kept apart before the oldest are folded together, as the API server caps them
/// (an object written by many clients would otherwise grow without bound).
const MAX_UPDATE_MANAGERS: usize = 10;
const ANCIENT: &str = "ancient-changes";

/// Metadata that belongs to the server, never to a manager.
const SERVER_METADATA: [&str; 10] = [
    "f:name",
    "f:namespace",
    "f:uid",
    "f:resourceVersion",
    "f:generation",
    "f:creationTimestamp",
    "f:managedFields",
    "f:selfLink",
    "f:deletionTimestamp",
    "f:deletionGracePeriodSeconds",
];

/// A set of field paths in the `FieldsV1` form: `f:<field>`, `k:<item key as JSON>`,
/// `v:<item as JSON>`; a node is owned itself when it is a leaf or holds `.`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FieldSet {
    own: bool,
    children: BTreeMap<String, FieldSet>,
}

type Path = Vec<String>;

impl FieldSet {
    fn leaf() -> Self {
        FieldSet {
            own: true,
            children: BTreeMap::new(),
        }
    }

    pub fn from_v1(v: &Value) -> Self {
        let Some(m) = v.as_object() else {
            return FieldSet::leaf();
        };
        if m.is_empty() {
            return FieldSet::leaf();
        }
        let mut set = FieldSet::default();
        for (k, child) in m {
            if k == "." {
                set.own = true;
            } else {
                set.children.insert(k.clone(), FieldSet::from_v1(child));
            }
        }
        set
    }

    pub fn to_v1(&self) -> Value {
        let mut m = Map::new();
        if self.own && !self.children.is_empty() {
            m.insert(".".into(), json!({}));
        }
        for (k, child) in &self.children {
            m.insert(k.clone(), child.to_v1());
        }
        Value::Object(m)
    }

    pub fn is_empty(&self) -> bool {
        !self.own && self.children.is_empty()
    }

    fn node(&self, path: &[String]) -> Option<&FieldSet> {
        path.iter().try_fold(self, |n, seg| n.children.get(seg))
    }

    pub fn contains(&self, path: &[String]) -> bool {
        self.node(path).is_some_and(|n| n.own)
    }

    /// Whether the path or anything under it is in the set.
    fn touches(&self, path: &[String]) -> bool {
        self.node(path).is_some_and(|n| !n.is_empty())
    }

    fn insert(&mut self, path: &[String]) {
        let mut n = self;
        for seg in path {
            n = n.children.entry(seg.clone()).or_default();
        }
        n.own = true;
    }

    fn remove(&mut self, path: &[String]) {
        fn go(n: &mut FieldSet, path: &[String]) {
            match path {
                [] => n.own = false,
                [first, rest @ ..] => {
                    if let Some(child) = n.children.get_mut(first) {
                        go(child, rest);
                        if child.is_empty() {
                            n.children.remove(first);
                        }
                    }
                }
            }
        }
        go(self, path);
    }

    /// Every owned path, with whether it is a leaf (a value rather than a list item or map).
    pub fn paths(&self) -> Vec<(Path, bool)> {
        fn go(n: &FieldSet, prefix: &mut Path, out: &mut Vec<(Path, bool)>) {
            if n.own && !prefix.is_empty() {
                out.push((prefix.clone(), n.children.is_empty()));
            }
            for (k, child) in &n.children {
                prefix.push(k.clone());
                go(child, prefix, out);
                prefix.pop();
            }
        }
        let mut out = Vec::new();
        go(self, &mut Vec::new(), &mut out);
        out
    }

    fn union(&mut self, other: &FieldSet) {
        for (p, _) in other.paths() {
            self.insert(&p);
        }
    }

    /// The fields a value sets, as kube-apiserver counts them for ownership.
    pub fn of(v: &Value) -> Self {
        of_value(v, "")
    }
}

/// How a list's items are told apart when two writers touch it.
enum ListKind {
    /// Items are merged by these key fields (`x-kubernetes-list-type: map`).
    Map(&'static [&'static str]),
    /// Items are scalars merged as a set.
    Set,
    /// The list is one value, replaced whole.
    Atomic,
}

/// Kubernetes' merge keys for the lists kubesim serves; other lists of named objects merge by name.
fn list_kind(field: &str, items: &[Value]) -> ListKind {
    let keys: &'static [&'static str] = match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "machineDeployments"
        | "machinePools"
        | "variables" => &["name"],
        "volumeMounts" => &["mountPath"],
        "conditions" => &["type"],
        "ownerReferences" => &["uid"],
        "ports" if items.iter().all(|i| i.get("containerPort").is_some()) => &["containerPort"],
        "ports" => &["port"],
        "finalizers" => return ListKind::Set,
        _ => &["name"],
    };
    let keyed = items.iter().all(|i| {
        keys.iter()
            .all(|k| i.get(*k).is_some_and(|v| v.is_string() || v.is_number()))
    });
    if keyed && !items.is_empty() {
        ListKind::Map(keys)
    } else {
        ListKind::Atomic
    }
}

fn item_key(item: &Value, keys: &[&str]) -> String {
    let mut sorted: Vec<&str> = keys.to_vec();
    sorted.sort_unstable();
    let parts: Vec<String> = sorted
        .iter()
        .map(|k| {
            format!(
                "{}:{}",
                Value::String((*k).into()),
                item.get(*k).unwrap_or(&Value::Null)
            )
        })
        .collect();
    format!("k:{{{}}}", parts.join(","))
}

fn of_value(v: &Value, field: &str) -> FieldSet {
    match v {
        Value::Object(m) if !m.is_empty() => FieldSet {
            own: false,
            children: m
                .iter()
                .map(|(k, x)| (format!("f:{k}"), of_value(x, k)))
                .collect(),
        },
        Value::Array(items) if !items.is_empty() => match list_kind(field, items) {
            ListKind::Map(keys) => FieldSet {
                own: false,
                children: items
                    .iter()
                    .map(|i| {
                        let mut s = of_value(i, "");
                        s.own = true;
                        (item_key(i, keys), s)
                    })
                    .collect(),
            },
            ListKind::Set => FieldSet {
                own: false,
                children: items
                    .iter()
                    .map(|i| (format!("v:{i}"), FieldSet::leaf()))
                    .collect(),
            },
            ListKind::Atomic => FieldSet::leaf(),
        },
        _ => FieldSet::leaf(),
    }
}

/// One path segment's match in a list: the item with that key, or that value.
fn find_item(items: &[Value], seg: &str) -> Option<usize> {
    if let Some(k) = seg.strip_prefix("k:") {
        let key: Map<String, Value> = serde_json::from_str(k).ok()?;
        items
            .iter()
            .position(|i| key.iter().all(|(kk, kv)| i.get(kk) == Some(kv)))
    } else {
        let wanted: Value = serde_json::from_str(seg.strip_prefix("v:")?).ok()?;
        items.iter().position(|i| *i == wanted)
    }
}

fn step<'a>(v: &'a Value, seg: &str) -> Option<&'a Value> {
    match seg.strip_prefix("f:") {
        Some(f) => v.get(f),
        None => v.as_array().and_then(|a| a.get(find_item(a, seg)?)),
    }
}

fn value_at<'a>(root: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(root, |v, seg| step(v, seg))
}

fn remove_at(root: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = root;
    for seg in parents {
        let next = match seg.strip_prefix("f:") {
            Some(f) => cur.get_mut(f),
            None => match cur {
                Value::Array(a) => find_item(a, seg).and_then(|i| a.get_mut(i)),
                _ => None,
            },
        };
        match next {
            Some(n) => cur = n,
            None => return,
        }
    }
    match (last.strip_prefix("f:"), cur) {
        (Some(f), Value::Object(m)) => {
            m.remove(f);
        }
        (None, Value::Array(a)) => {
            if let Some(i) = find_item(a, last) {
                a.remove(i);
            }
        }
        _ => {}
    }
}

/// Removes maps and lists a removal left empty, as Kubernetes' `omitempty` serialisation drops
/// them; the top-level sections (metadata, spec, status) stay, as do containers others own.
fn prune_empty(root: &mut Value, parent: &[String], others: &FieldSet) {
    let mut path = parent.to_vec();
    while path.len() > 1 {
        let empty = match value_at(root, &path) {
            Some(Value::Object(m)) => m.is_empty(),
            Some(Value::Array(a)) => a.is_empty(),
            _ => false,
        };
        if !empty || others.touches(&path) {
            return;
        }
        remove_at(root, &path);
        path.pop();
    }
    if let [top] = path.as_slice()
        && !matches!(top.as_str(), "f:metadata" | "f:spec" | "f:status")
        && value_at(root, &path).is_some_and(|v| v.as_object().is_some_and(Map::is_empty))
        && !others.touches(&path)
    {
        remove_at(root, &path);
    }
}

/// A path as kube-apiserver prints it in conflicts: `.spec.containers[name="web"].image`.
pub fn display(path: &[String]) -> String {
    let mut out = String::new();
    for seg in path {
        if let Some(f) = seg.strip_prefix("f:") {
            out.push('.');
            out.push_str(f);
        } else if let Some(k) = seg.strip_prefix("k:") {
            let key: Map<String, Value> = serde_json::from_str(k).unwrap_or_default();
            let parts: Vec<String> = key.iter().map(|(k, v)| format!("{k}={v}")).collect();
            out.push_str(&format!("[{}]", parts.join(",")));
        } else if let Some(v) = seg.strip_prefix("v:") {
            out.push_str(&format!("[={v}]"));
        }
    }
    out
}

/// Merges an applied configuration into the live object: maps field by field, keyed lists item
/// by item, everything else replaced.
fn merge(live: &mut Value, config: &Value, field: &str) {
    match (live, config) {
        (Value::Object(l), Value::Object(c)) => {
            for (k, cv) in c {
                if cv.is_null() {
                    l.remove(k);
                } else if let Some(lv) = l.get_mut(k) {
                    merge(lv, cv, k);
                } else {
                    l.insert(k.clone(), cv.clone());
                }
            }
        }
        (Value::Array(l), Value::Array(c)) => match list_kind(field, c) {
            ListKind::Map(keys) => {
                for item in c {
                    let key = item_key(item, keys);
                    match l.iter_mut().find(|i| item_key(i, keys) == key) {
                        Some(existing) => merge(existing, item, ""),
                        None => l.push(item.clone()),
                    }
                }
            }
            ListKind::Set => {
                for item in c {
                    if !l.contains(item) {
                        l.push(item.clone());
                    }
                }
            }
            ListKind::Atomic => *l = c.clone(),
        },
        (l, c) => *l = c.clone(),
    }
}

/// Who writes: the field manager, the subresource written through, the API version used.
pub struct Manager<'a> {
    pub name: &'a str,
    pub subresource: Option<&'a str>,
    pub api_version: &'a str,
}

/// One `managedFields` entry.
#[derive(Clone, Debug)]
struct Entry {
    manager: String,
    apply: bool,
    api_version: String,
    time: String,
    subresource: Option<String>,
    set: FieldSet,
}

impl Entry {
    /// An entry as a client may send it; what kube-apiserver would refuse (an unnamed or
    /// over-long manager, an unknown operation, no field set) is dropped.
    fn parse(v: &Value) -> Option<Entry> {
        let manager = v["manager"]
            .as_str()
            .filter(|m| !m.is_empty() && m.chars().count() <= 128)?;
        Some(Entry {
            manager: manager.to_string(),
            apply: match v["operation"].as_str()? {
                "Apply" => true,
                "Update" => false,
                _ => return None,
            },
            api_version: v["apiVersion"].as_str().unwrap_or_default().to_string(),
            time: v["time"].as_str().unwrap_or_default().to_string(),
            subresource: v["subresource"]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(String::from),
            set: FieldSet::from_v1(v.get("fieldsV1")?),
        })
    }

    fn render(&self) -> Value {
        let mut v = json!({
            "manager": self.manager,
            "operation": if self.apply { "Apply" } else { "Update" },
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": self.set.to_v1(),
        });
        if let Some(s) = &self.subresource {
            v["subresource"] = json!(s);
        }
        v
    }

    fn is(&self, who: &Manager, apply: bool) -> bool {
        self.manager == who.name
            && self.apply == apply
            && self.subresource.as_deref() == who.subresource
            && (apply || self.api_version == who.api_version)
    }

    /// The name a conflict gives: Update managers with the API version they wrote through.
    fn describe(&self) -> String {
        if self.apply {
            format!("{:?}", self.manager)
        } else {
            format!("{:?} using {}", self.manager, self.api_version)
        }
    }
}

fn entries(obj: Option<&Value>) -> Vec<Entry> {
    obj.and_then(|o| o["metadata"]["managedFields"].as_array())
        .map(|a| a.iter().filter_map(Entry::parse).collect())
        .unwrap_or_default()
}

fn store_entries(obj: &mut Value, list: Vec<Entry>) {
    let rendered: Vec<Value> = list
        .iter()
        .filter(|e| !e.set.is_empty())
        .map(Entry::render)
        .collect();
    if !obj["metadata"].is_object() {
        obj["metadata"] = json!({});
    }
    if rendered.is_empty() {
        if let Some(m) = obj["metadata"].as_object_mut() {
            m.remove("managedFields");
        }
    } else {
        obj["metadata"]["managedFields"] = Value::Array(rendered);
    }
}

/// The fields a write through `subresource` may own: never identity or server metadata; the
/// status only through `status`, and only the status there.
fn owned_part(v: &Value, subresource: Option<&str>, has_status: bool) -> FieldSet {
    let mut set = FieldSet::of(v);
    set.children.remove("f:apiVersion");
    set.children.remove("f:kind");
    if let Some(meta) = set.children.get_mut("f:metadata") {
        for k in SERVER_METADATA {
            meta.children.remove(k);
        }
        if meta.is_empty() || (!meta.own && meta.children.is_empty()) {
            set.children.remove("f:metadata");
        }
    }
    match subresource {
        Some("status") => set.children.retain(|k, _| k == "f:status"),
        _ if has_status => {
            set.children.remove("f:status");
        }
        _ => {}
    }
    set
}

/// A conflict: the other manager and the field both set.
pub struct Conflict {
    pub manager: String,
    pub field: String,
}

/// Server-side apply of `config` by `who` onto `live` (None: the object is created): the merged
/// object with its managed fields, or the conflicts when `force` is not set.
pub fn apply(
    live: Option<&Value>,
    config: &Value,
    who: &Manager,
    force: bool,
    has_status: bool,
) -> Result<Value, Vec<Conflict>> {
    let mut list = entries(live);
    let applied = owned_part(config, who.subresource, has_status);
    let mut config = config.clone();
    if let Some(m) = config.as_object_mut() {
        match who.subresource {
            Some("status") => {
                m.retain(|k, _| matches!(k.as_str(), "status" | "apiVersion" | "kind" | "metadata"))
            }
            _ if has_status => {
                m.remove("status");
            }
            _ => {}
        }
    }
    let mine = list.iter().position(|e| e.is(who, true));
    let base = live.cloned().unwrap_or_else(|| json!({}));
    let mut conflicts = Vec::new();
    let mut taken: Vec<(usize, Path)> = Vec::new();
    for (i, e) in list.iter().enumerate() {
        if Some(i) == mine {
            continue;
        }
        for (p, leaf) in applied.paths() {
            if !leaf || !e.set.contains(&p) {
                continue;
            }
            if value_at(&base, &p) != value_at(&config, &p) {
                conflicts.push(Conflict {
                    manager: e.describe(),
                    field: display(&p),
                });
                taken.push((i, p));
            }
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(conflicts);
    }
    for (i, p) in taken {
        list[i].set.remove(&p);
    }
    let mut merged = base;
    merge(&mut merged, &config, "");
    // What this manager applied before and no longer does is removed, unless someone else owns it.
    let previous = mine.map(|i| list[i].set.clone()).unwrap_or_default();
    let mut others = FieldSet::default();
    for (i, e) in list.iter().enumerate() {
        if Some(i) != mine {
            others.union(&e.set);
        }
    }
    for (p, _) in previous.paths() {
        if !applied.touches(&p) && !others.touches(&p) {
            remove_at(&mut merged, &p);
            prune_empty(&mut merged, &p[..p.len().saturating_sub(1)], &others);
        }
    }
    let entry = Entry {
        manager: who.name.to_string(),
        apply: true,
        api_version: who.api_version.to_string(),
        time: timestamp(),
        subresource: who.subresource.map(String::from),
        set: applied,
    };
    match mine {
        Some(i) => list[i] = entry,
        None => list.push(entry),
    }
    store_entries(&mut merged, list);
    Ok(merged)
}

/// Records an ordinary write (create, update, non-apply patch) of `new` over `old`: the writer
/// takes every field it changed, removed fields leave every set. A body that carries
/// `managedFields` replaces them (an empty list clears them, as kubectl's reset does).
pub fn record_update(old: Option<&Value>, new: &mut Value, who: &Manager, has_status: bool) {
    let sent = new["metadata"].get("managedFields").cloned();
    let mut list = match &sent {
        Some(Value::Array(a)) if a.is_empty() => {
            store_entries(new, Vec::new());
            return;
        }
        Some(Value::Array(a)) => a.iter().filter_map(Entry::parse).collect(),
        _ => entries(old),
    };
    let empty = json!({});
    let old = old.unwrap_or(&empty);
    let before = owned_part(old, who.subresource, has_status);
    let after = owned_part(new, who.subresource, has_status);
    let mut changed = FieldSet::default();
    for (p, leaf) in after.paths() {
        let differs = if leaf {
            value_at(old, &p) != value_at(new, &p)
        } else {
            value_at(old, &p).is_none()
        };
        if differs {
            changed.insert(&p);
        }
    }
    let removed: Vec<Path> = before
        .paths()
        .into_iter()
        .filter(|(p, _)| !after.contains(p))
        .map(|(p, _)| p)
        .collect();
    for e in list.iter_mut() {
        for (p, _) in changed.paths() {
            e.set.remove(&p);
        }
        for p in &removed {
            e.set.remove(p);
        }
    }
    if !changed.is_empty() {
        let time = timestamp();
        match list.iter_mut().find(|e| e.is(who, false)) {
            Some(e) => {
                e.set.union(&changed);
                e.time = time;
            }
            None => list.push(Entry {
                manager: who.name.to_string(),
                apply: false,
                api_version: who.api_version.to_string(),
                time,
                subresource: who.subresource.map(String::from),
                set: changed,
            }),
        }
    }
    list.retain(|e| !e.set.is_empty());
    cap_update_managers(&mut list);
    store_entries(new, list);
}

/// Folds the oldest Update managers into one once there are more than the API server keeps.
fn cap_update_managers(list: &mut Vec<Entry>) {
    while list.iter().filter(|e| !e.apply).count() > MAX_UPDATE_MANAGERS {
        let oldest = list
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.apply && e.manager != ANCIENT)
            .min_by(|(i, a), (j, b)| a.time.cmp(&b.time).then(i.cmp(j)))
            .map(|(i, _)| i);
        let Some(oldest) = oldest else { return };
        let e = list.remove(oldest);
        match list.iter_mut().find(|x| !x.apply && x.manager == ANCIENT) {
            Some(ancient) => {
                ancient.set.union(&e.set);
                ancient.time = e.time;
            }
            None => list.insert(
                0,
                Entry {
                    manager: ANCIENT.into(),
                    subresource: None,
                    ..e
                },
            ),
        }
    }
}

/// The 409 a refused apply answers, worded as kube-apiserver words it.
pub fn conflict_error(mut conflicts: Vec<Conflict>) -> ApiError {
    let n = conflicts.len();
    // The count is the whole; the listing stops at a hundred (a body can hold many thousands).
    conflicts.truncate(100);
    let detail = if n == 1 {
        format!(
            "conflict with {}: {}",
            conflicts[0].manager, conflicts[0].field
        )
    } else {
        let mut by_manager: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for c in &conflicts {
            by_manager.entry(&c.manager).or_default().push(&c.field);
        }
        by_manager
            .iter()
            .map(|(m, fields)| {
                let listed: Vec<String> = fields.iter().map(|f| format!("- {f}")).collect();
                format!("conflicts with {m}:\n{}", listed.join("\n"))
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    ApiError::ApplyConflict {
        message: format!(
            "Apply failed with {n} conflict{}: {detail}",
            if n == 1 { "" } else { "s" }
        ),
        causes: conflicts
            .into_iter()
            .map(|c| crate::status::Cause::new(c.field, format!("conflict with {}", c.manager)))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kubectl() -> Manager<'static> {
        Manager {
            name: "kubectl",
            subresource: None,
            api_version: "apps/v1",
        }
    }

    fn fields_of(obj: &Value, manager: &str) -> Value {
        obj["metadata"]["managedFields"]
            .as_array()
            .and_then(|a| a.iter().find(|e| e["manager"] == manager))
            .map(|e| e["fieldsV1"].clone())
            .unwrap_or(Value::Null)
    }

    #[test]
    fn field_sets_use_kubernetes_keys() {
        let v = json!({"apiVersion": "v1", "metadata": {"name": "x", "labels": {"a": "1"}, "finalizers": ["f"]},
                       "spec": {"containers": [{"name": "web", "image": "nginx"}], "args": ["x"]}});
        let set = owned_part(&v, None, false);
        assert_eq!(
            set.to_v1(),
            json!({"f:metadata": {"f:labels": {"f:a": {}}, "f:finalizers": {"v:\"f\"": {}}},
                   "f:spec": {"f:args": {}, "f:containers": {"k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}}}}})
        );
        assert_eq!(FieldSet::from_v1(&set.to_v1()), set);
        let p: Vec<String> = vec![
            "f:spec".into(),
            "f:containers".into(),
            "k:{\"name\":\"web\"}".into(),
            "f:image".into(),
        ];
        assert_eq!(display(&p), ".spec.containers[name=\"web\"].image");
        assert_eq!(value_at(&v, &p), Some(&json!("nginx")));
    }

    #[test]
    fn apply_creates_then_removes_what_it_stopped_applying() {
        let first = json!({"metadata": {"name": "d", "labels": {"a": "1", "b": "2"}}, "spec": {"replicas": 2}});
        let created = apply(None, &first, &kubectl(), false, true).ok().unwrap();
        assert_eq!(
            fields_of(&created, "kubectl"),
            json!({"f:metadata": {"f:labels": {"f:a": {}, "f:b": {}}}, "f:spec": {"f:replicas": {}}})
        );
        let second =
            json!({"metadata": {"name": "d", "labels": {"a": "1"}}, "spec": {"replicas": 2}});
        let next = apply(Some(&created), &second, &kubectl(), false, true)
            .ok()
            .unwrap();
        assert_eq!(next["metadata"]["labels"], json!({"a": "1"}));
    }

    #[test]
    fn a_field_another_manager_set_differently_conflicts_unless_forced() {
        let live = apply(
            None,
            &json!({"metadata": {"name": "d"}, "spec": {"replicas": 2}}),
            &kubectl(),
            false,
            true,
        )
        .ok()
        .unwrap();
        let mut scaled = live.clone();
        scaled["spec"]["replicas"] = json!(5);
        let hpa = Manager {
            name: "hpa",
            subresource: None,
            api_version: "apps/v1",
        };
        record_update(Some(&live), &mut scaled, &hpa, true);
        assert_eq!(
            fields_of(&scaled, "hpa"),
            json!({"f:spec": {"f:replicas": {}}})
        );
        // kubectl no longer owns replicas: the update took it.
        assert_eq!(fields_of(&scaled, "kubectl"), Value::Null);
        let again = json!({"metadata": {"name": "d"}, "spec": {"replicas": 3}});
        let Err(conflicts) = apply(Some(&scaled), &again, &kubectl(), false, true) else {
            panic!("expected a conflict");
        };
        assert_eq!(conflicts.len(), 1);
        assert_eq!(conflicts[0].manager, "\"hpa\" using apps/v1");
        assert_eq!(conflicts[0].field, ".spec.replicas");
        match conflict_error(conflicts) {
            ApiError::ApplyConflict { message, .. } => assert_eq!(
                message,
                "Apply failed with 1 conflict: conflict with \"hpa\" using apps/v1: .spec.replicas"
            ),
            other => panic!("unexpected {other:?}"),
        }
        // The same value is no conflict: both own it.
        let same = json!({"metadata": {"name": "d"}, "spec": {"replicas": 5}});
        let shared = apply(Some(&scaled), &same, &kubectl(), false, true)
            .ok()
            .unwrap();
        assert_eq!(
            fields_of(&shared, "hpa"),
            json!({"f:spec": {"f:replicas": {}}})
        );
        let forced = apply(Some(&scaled), &again, &kubectl(), true, true)
            .ok()
            .unwrap();
        assert_eq!(forced["spec"]["replicas"], 3);
        assert_eq!(fields_of(&forced, "hpa"), Value::Null);
    }

    #[test]
    fn keyed_list_items_merge_and_others_items_stay() {
        let live = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "x"}]}});
        let mut live = live;
        record_update(
            None,
            &mut live,
            &Manager {
                name: "creator",
                subresource: None,
                api_version: "v1",
            },
            true,
        );
        let config = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "b", "image": "y"}]}});
        let merged = apply(Some(&live), &config, &kubectl(), false, true)
            .ok()
            .unwrap();
        assert_eq!(
            merged["spec"]["containers"],
            json!([{"name": "a", "image": "x"}, {"name": "b", "image": "y"}])
        );
    }

    #[test]
    fn sent_entries_are_kept_only_when_well_formed_and_an_empty_list_clears() {
        let long = "m".repeat(129);
        let mut obj = json!({"metadata": {"name": "c", "managedFields": [
            {"manager": "ok", "operation": "Update", "apiVersion": "v1", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:data": {"f:a": {}}}},
            {"manager": long, "operation": "Update", "apiVersion": "v1", "fieldsV1": {"f:data": {}}},
            {"manager": "odd", "operation": "Replace", "apiVersion": "v1", "fieldsV1": {}}]},
            "data": {"a": "1"}});
        let old = json!({"metadata": {"name": "c"}, "data": {"a": "1"}});
        let who = Manager {
            name: "writer",
            subresource: None,
            api_version: "v1",
        };
        record_update(Some(&old), &mut obj, &who, false);
        let kept: Vec<&str> = obj["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["manager"].as_str().unwrap())
            .collect();
        assert_eq!(kept, vec!["ok"]);
        let mut cleared =
            json!({"metadata": {"name": "c", "managedFields": []}, "data": {"a": "2"}});
        record_update(Some(&obj), &mut cleared, &who, false);
        assert!(cleared["metadata"].get("managedFields").is_none());
    }

    #[test]
    fn update_managers_are_capped() {
        let mut obj = json!({"metadata": {"name": "c"}, "data": {}});
        for i in 0..15 {
            let old = obj.clone();
            obj["data"][format!("k{i}")] = json!("v");
            let name = format!("m{i}");
            record_update(
                Some(&old),
                &mut obj,
                &Manager {
                    name: &name,
                    subresource: None,
                    api_version: "v1",
                },
                false,
            );
        }
        let managers: Vec<&str> = obj["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["manager"].as_str().unwrap())
            .collect();
        assert_eq!(managers.len(), 10);
        assert_eq!(managers[0], ANCIENT);
        assert_eq!(managers[1], "m6");
        assert_eq!(managers[9], "m14");
        // Nothing is lost: the folded managers' fields are the ancient entry's.
        assert_eq!(
            obj["metadata"]["managedFields"][0]["fieldsV1"]["f:data"]
                .as_object()
                .map(|m| m.len()),
            Some(6)
        );
    }
}
