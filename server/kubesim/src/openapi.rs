//! OpenAPI v2 and v3 documents of what a plane serves: built-in kinds from Kubernetes' descriptors
//! (their comments are the descriptions), Cluster API kinds from their CRD schemas.

// kubectl reads these for `explain` (v3, falling back to v2), to learn whether the server takes
// `dryRun` and `fieldValidation` (the PATCH operation of a kind's path lists its query parameters),
// and to validate client-side. The documents are built on first use and kept: they only change
// with the schemas a kubesim starts with.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, OnceLock};

use bytes::Bytes;

use prost_reflect::{DescriptorPool, FieldDescriptor, Kind, MessageDescriptor};
use serde_json::{Map, Value, json};

use crate::proto_body;
use crate::resources::{CAPI_GROUP, Plane, RESOURCES, Resource};
use crate::schemas::Schemas;

const OBJECT_META: &str = "apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// Which OpenAPI: references and parameters are written differently in each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Style {
    V2,
    V3,
}

impl Style {
    fn reference(self, name: &str) -> Value {
        match self {
            Style::V2 => json!({"$ref": format!("#/definitions/{name}")}),
            Style::V3 => json!({"$ref": format!("#/components/schemas/{name}")}),
        }
    }

    /// A field holding another definition: v3 wraps the reference so that a description can sit
    /// beside it, as kube-apiserver publishes it.
    fn field_reference(self, name: &str, description: &str) -> Value {
        let mut v = match self {
            Style::V2 => self.reference(name),
            Style::V3 => json!({"allOf": [self.reference(name)]}),
        };
        if !description.is_empty() {
            v["description"] = json!(description);
        }
        v
    }

    fn param(self, name: &str, location: &str, description: &str) -> Value {
        let mut p = json!({"name": name, "in": location, "description": description});
        match self {
            Style::V2 => p["type"] = json!("string"),
            Style::V3 => p["schema"] = json!({"type": "string"}),
        }
        p["uniqueItems"] = json!(true);
        if location == "path" {
            p["required"] = json!(true);
        }
        p
    }
}

/// Documents already built, by plane, style and group version ("" for the whole v2 document),
/// each with the hash the v3 index names it by.
#[derive(Default)]
pub struct Cache {
    docs: Mutex<HashMap<DocKey, (Bytes, String)>>,
}

/// Plane, style and group version of a document.
type DocKey = (Plane, Style, String);

/// The name a built-in definition is published under (`io.k8s.api.core.v1.Pod`).
fn definition_name(m: &MessageDescriptor) -> String {
    format!("io.k8s.{}", m.full_name())
}

/// The name of a Cluster API kind's definition (`io.x-k8s.cluster.v1beta2.Cluster`).
fn capi_name(r: &Resource) -> String {
    let reversed: Vec<&str> = r.group.split('.').rev().collect();
    format!("io.{}.{}.{}", reversed.join("."), r.version, r.kind)
}

/// Leading comments of every described element, by file and descriptor path.
fn comments(pool: &DescriptorPool) -> &'static HashMap<(String, Vec<i32>), String> {
    static COMMENTS: OnceLock<HashMap<(String, Vec<i32>), String>> = OnceLock::new();
    COMMENTS.get_or_init(|| {
        let mut out = HashMap::new();
        for file in pool.files() {
            let Some(info) = &file.file_descriptor_proto().source_code_info else {
                continue;
            };
            for loc in &info.location {
                if let Some(c) = &loc.leading_comments {
                    out.insert((file.name().to_string(), loc.path.clone()), c.clone());
                }
            }
        }
        out
    })
}

/// What Kubernetes' comment markers (`+listType=map` …) say about a list.
#[derive(Default)]
struct Markers {
    list_type: Option<String>,
    map_keys: Vec<String>,
    merge_key: Option<String>,
    strategy: Option<String>,
}

/// A comment as a description: marker lines out, lines of a paragraph joined, stopping at `---`
/// (what follows is for Go readers).
fn describe(raw: Option<&String>) -> (String, Markers) {
    let mut markers = Markers::default();
    let mut paragraphs: Vec<Vec<&str>> = vec![Vec::new()];
    for line in raw.map(String::as_str).unwrap_or("").lines() {
        let line = line.trim();
        if line == "---" {
            break;
        }
        if let Some(marker) = line.strip_prefix('+') {
            let (k, v) = marker.split_once('=').unwrap_or((marker, ""));
            match k {
                "listType" => markers.list_type = Some(v.into()),
                "listMapKey" => markers.map_keys.push(v.into()),
                "patchMergeKey" => markers.merge_key = Some(v.into()),
                "patchStrategy" => markers.strategy = Some(v.into()),
                _ => {}
            }
            continue;
        }
        if line.starts_with("TODO") {
            continue;
        }
        match paragraphs.last_mut() {
            Some(p) if !line.is_empty() => p.push(line),
            Some(p) if !p.is_empty() => paragraphs.push(Vec::new()),
            _ => {}
        }
    }
    let text: Vec<String> = paragraphs
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| p.join(" "))
        .collect();
    (text.join("\n\n"), markers)
}

fn comment_of(pool: &DescriptorPool, file: &str, path: &[i32]) -> Option<&'static String> {
    comments(pool).get(&(file.to_string(), path.to_vec()))
}

fn field_comment(pool: &DescriptorPool, f: &FieldDescriptor) -> (String, Markers) {
    describe(comment_of(
        pool,
        f.parent_message().parent_file().name(),
        f.path(),
    ))
}

fn message_comment(pool: &DescriptorPool, m: &MessageDescriptor) -> String {
    describe(comment_of(pool, m.parent_file().name(), m.path())).0
}

/// The schema of a scalar field kind, or the definition it refers to.
fn element(kind: &Kind, style: Style, wanted: &mut VecDeque<MessageDescriptor>) -> Value {
    match kind {
        Kind::String | Kind::Enum(_) => json!({"type": "string"}),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 | Kind::Uint32 | Kind::Fixed32 => {
            json!({"type": "integer", "format": "int32"})
        }
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 | Kind::Uint64 | Kind::Fixed64 => {
            json!({"type": "integer", "format": "int64"})
        }
        Kind::Bool => json!({"type": "boolean"}),
        Kind::Double => json!({"type": "number", "format": "double"}),
        Kind::Float => json!({"type": "number", "format": "float"}),
        Kind::Bytes => json!({"type": "string", "format": "byte"}),
        Kind::Message(m) => {
            wanted.push_back(m.clone());
            style.reference(&definition_name(m))
        }
    }
}

fn field_schema(
    pool: &DescriptorPool,
    f: &FieldDescriptor,
    style: Style,
    wanted: &mut VecDeque<MessageDescriptor>,
) -> Value {
    let (description, markers) = field_comment(pool, f);
    let mut v = if f.is_map() {
        let value_kind = match f.kind() {
            Kind::Message(entry) => entry.map_entry_value_field().kind(),
            other => other,
        };
        json!({"type": "object", "additionalProperties": element(&value_kind, style, wanted)})
    } else if f.is_list() {
        let mut v = json!({"type": "array", "items": element(&f.kind(), style, wanted)});
        if let Some(t) = markers.list_type {
            v["x-kubernetes-list-type"] = json!(t);
        }
        if !markers.map_keys.is_empty() {
            v["x-kubernetes-list-map-keys"] = json!(markers.map_keys);
        }
        if let Some(k) = markers.merge_key {
            v["x-kubernetes-patch-merge-key"] = json!(k);
        }
        if let Some(s) = markers.strategy {
            v["x-kubernetes-patch-strategy"] = json!(s);
        }
        v
    } else if let Kind::Message(m) = f.kind() {
        wanted.push_back(m.clone());
        return style.field_reference(&definition_name(&m), &description);
    } else {
        element(&f.kind(), style, wanted)
    };
    if !description.is_empty() {
        v["description"] = json!(description);
    }
    v
}

/// Properties of a message, with embedded structs' fields lifted as JSON has them.
fn properties(
    pool: &DescriptorPool,
    m: &MessageDescriptor,
    style: Style,
    wanted: &mut VecDeque<MessageDescriptor>,
) -> Map<String, Value> {
    let mut props = Map::new();
    for f in m.fields() {
        if proto_body::inline(&f)
            && let Kind::Message(inner) = f.kind()
        {
            props.extend(properties(pool, &inner, style, wanted));
            continue;
        }
        props.insert(f.name().to_string(), field_schema(pool, &f, style, wanted));
    }
    props
}

/// The definition of a message: the apimachinery types whose JSON is a scalar are written as such.
fn message_schema(
    pool: &DescriptorPool,
    m: &MessageDescriptor,
    style: Style,
    wanted: &mut VecDeque<MessageDescriptor>,
) -> Value {
    let description = message_comment(pool, m);
    let mut v = match m.full_name() {
        "apimachinery.pkg.apis.meta.v1.Time" | "apimachinery.pkg.apis.meta.v1.MicroTime" => {
            json!({"type": "string", "format": "date-time"})
        }
        "apimachinery.pkg.util.intstr.IntOrString" => {
            json!({"type": "string", "format": "int-or-string"})
        }
        "apimachinery.pkg.api.resource.Quantity" | "apimachinery.pkg.apis.meta.v1.Duration" => {
            json!({"type": "string"})
        }
        "apimachinery.pkg.runtime.RawExtension" | "apimachinery.pkg.apis.meta.v1.FieldsV1" => {
            json!({"type": "object"})
        }
        _ => json!({"type": "object", "properties": properties(pool, m, style, wanted)}),
    };
    if !description.is_empty() {
        v["description"] = json!(description);
    }
    v
}

fn type_meta_properties(v: &mut Value) {
    if !v["properties"].is_object() {
        v["properties"] = json!({});
    }
    v["properties"]["apiVersion"] = json!({"type": "string", "description":
        "APIVersion defines the versioned schema of this representation of an object: the group and version the object is written in."});
    v["properties"]["kind"] = json!({"type": "string", "description":
        "Kind is a string value representing the REST resource this object represents, in CamelCase."});
}

fn gvk(r: &Resource, kind: &str) -> Value {
    json!({"group": r.group, "kind": kind, "version": r.version})
}

/// Adds the definitions of `start` and everything they refer to.
fn collect(
    pool: &DescriptorPool,
    start: Vec<MessageDescriptor>,
    style: Style,
    defs: &mut BTreeMap<String, Value>,
) {
    let mut wanted: VecDeque<MessageDescriptor> = start.into();
    while let Some(m) = wanted.pop_front() {
        let name = definition_name(&m);
        if defs.contains_key(&name) {
            continue;
        }
        let schema = message_schema(pool, &m, style, &mut wanted);
        defs.insert(name, schema);
    }
}

/// The definitions of the kinds in `served` (with their lists) and all they refer to.
fn definitions(
    schemas: &Schemas,
    served: &[(usize, &'static Resource)],
    style: Style,
) -> BTreeMap<String, Value> {
    let mut defs = BTreeMap::new();
    let Ok(pool) = proto_body::pool() else {
        return defs;
    };
    let mut kinds: Vec<(String, Value)> = Vec::new();
    for (id, r) in served {
        if r.group == CAPI_GROUP {
            let Some(mut schema) = schemas.get(*id).cloned() else {
                continue;
            };
            type_meta_properties(&mut schema);
            schema["properties"]["metadata"] = style.field_reference(
                &format!("io.k8s.{OBJECT_META}"),
                "Standard object's metadata.",
            );
            schema["x-kubernetes-group-version-kind"] = json!([gvk(r, r.kind)]);
            kinds.push((capi_name(r), schema));
            if let Some(meta) = pool.get_message_by_name(OBJECT_META) {
                collect(pool, vec![meta], style, &mut defs);
            }
            continue;
        }
        let Some(m) = proto_body::message_of(pool, &r.api_version(), r.kind) else {
            continue;
        };
        let list = pool.get_message_by_name(&format!("{}List", m.full_name()));
        let mut start = vec![m.clone()];
        start.extend(list.clone());
        collect(pool, start, style, &mut defs);
        for (msg, kind) in [
            (Some(m), r.kind.to_string()),
            (list, format!("{}List", r.kind)),
        ] {
            let Some(msg) = msg else { continue };
            if let Some(def) = defs.get_mut(&definition_name(&msg)) {
                type_meta_properties(def);
                def["x-kubernetes-group-version-kind"] = json!([gvk(r, &kind)]);
            }
        }
    }
    defs.extend(kinds);
    defs
}

/// The definition name of a served kind (what its operations take and answer).
fn kind_definition(r: &Resource) -> Option<String> {
    if r.group == CAPI_GROUP {
        return Some(capi_name(r));
    }
    let pool = proto_body::pool().ok()?;
    proto_body::message_of(pool, &r.api_version(), r.kind).map(|m| definition_name(&m))
}

/// The query parameters each action takes (what kubectl looks for: `dryRun`, `fieldValidation`).
fn query_params(action: &str, style: Style) -> Vec<Value> {
    let names: &[(&str, &str)] = match action {
        "list" => &[
            (
                "labelSelector",
                "A selector to restrict the list of returned objects by their labels.",
            ),
            (
                "fieldSelector",
                "A selector to restrict the list of returned objects by their fields.",
            ),
            (
                "limit",
                "The maximum number of objects to return; continue with the token returned.",
            ),
            (
                "continue",
                "The token of a previous list that had more results.",
            ),
            (
                "resourceVersion",
                "Which version of the state to list from.",
            ),
            (
                "resourceVersionMatch",
                "How resourceVersion applies: Exact or NotOlderThan.",
            ),
            ("watch", "Watch for changes instead of listing."),
            (
                "allowWatchBookmarks",
                "Ask for BOOKMARK events while watching.",
            ),
            (
                "sendInitialEvents",
                "Start a watch with the current state, ended by a bookmark.",
            ),
            ("timeoutSeconds", "How long a list or watch call may last."),
        ],
        "post" | "put" => &[
            (
                "dryRun",
                "When All, the request is checked and answered but nothing is stored.",
            ),
            (
                "fieldManager",
                "The name of the actor making the change, for field ownership.",
            ),
            (
                "fieldValidation",
                "What to do with unknown fields: Ignore, Warn (default) or Strict.",
            ),
        ],
        "patch" => &[
            (
                "dryRun",
                "When All, the request is checked and answered but nothing is stored.",
            ),
            (
                "fieldManager",
                "The name of the actor making the change; required for apply patches.",
            ),
            (
                "fieldValidation",
                "What to do with unknown fields: Ignore, Warn (default) or Strict.",
            ),
            (
                "force",
                "Apply patches only: take the fields other managers own.",
            ),
        ],
        "delete" => &[
            (
                "dryRun",
                "When All, the request is checked and answered but nothing is deleted.",
            ),
            (
                "gracePeriodSeconds",
                "Seconds before the object is deleted; zero means now.",
            ),
            (
                "propagationPolicy",
                "Whether and how dependents are deleted: Orphan, Background or Foreground.",
            ),
        ],
        _ => &[],
    };
    names
        .iter()
        .map(|(n, d)| style.param(n, "query", d))
        .collect()
}

const PATCH_TYPES: [&str; 4] = [
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
];

fn operation(r: &Resource, action: &str, verb: &str, target: &str, style: Style) -> Value {
    let body = style.reference(target);
    let mut params = query_params(verb, style);
    let mut op = json!({
        "operationId": format!("{action}{}", r.kind),
        "x-kubernetes-action": verb,
        "x-kubernetes-group-version-kind": gvk(r, r.kind),
    });
    let takes_body = matches!(verb, "post" | "put" | "patch");
    let consumes: Vec<&str> = if verb == "patch" {
        PATCH_TYPES.to_vec()
    } else {
        vec!["application/json", "application/yaml"]
    };
    match style {
        Style::V2 => {
            if takes_body {
                params.insert(
                    0,
                    json!({"name": "body", "in": "body", "required": true,
                           "schema": if verb == "patch" { json!({"type": "object"}) } else { body.clone() }}),
                );
                op["consumes"] = json!(consumes);
            }
            op["produces"] = json!(["application/json"]);
            op["responses"] = json!({"200": {"description": "OK", "schema": body}});
        }
        Style::V3 => {
            if takes_body {
                let schema = if verb == "patch" {
                    json!({"type": "object"})
                } else {
                    body.clone()
                };
                let content: Map<String, Value> = consumes
                    .iter()
                    .map(|c| (c.to_string(), json!({"schema": schema})))
                    .collect();
                op["requestBody"] = json!({"required": true, "content": content});
            }
            op["responses"] = json!({"200": {"description": "OK",
                "content": {"application/json": {"schema": body}}}});
        }
    }
    op["parameters"] = Value::Array(params);
    op
}

/// The paths of one served kind: its collection, its objects and their status.
fn paths_of(r: &Resource, style: Style, paths: &mut Map<String, Value>) {
    let Some(target) = kind_definition(r) else {
        return;
    };
    let prefix = if r.group.is_empty() {
        format!("/api/{}", r.version)
    } else {
        format!("/apis/{}/{}", r.group, r.version)
    };
    let (collection, scope) = if r.namespaced {
        (
            format!("{prefix}/namespaces/{{namespace}}/{}", r.plural),
            vec![style.param("namespace", "path", "The object's namespace.")],
        )
    } else {
        (format!("{prefix}/{}", r.plural), Vec::new())
    };
    let list_target = format!("{target}List");
    let mut coll = json!({"get": operation(r, "list", "list", &list_target, style)});
    if !r.computed {
        coll["post"] = operation(r, "create", "post", &target, style);
    }
    coll["parameters"] = json!(scope);
    paths.insert(collection.clone(), coll);
    if r.namespaced {
        paths.insert(
            format!("{prefix}/{}", r.plural),
            json!({"get": operation(r, "listAllNamespaces", "list", &list_target, style)}),
        );
    }
    let mut item_params = scope.clone();
    item_params.push(style.param("name", "path", "The object's name."));
    let mut item = json!({"get": operation(r, "read", "get", &target, style)});
    if !r.computed {
        item["put"] = operation(r, "replace", "put", &target, style);
        item["patch"] = operation(r, "patch", "patch", &target, style);
        item["delete"] = operation(r, "delete", "delete", &target, style);
    }
    item["parameters"] = json!(item_params);
    paths.insert(format!("{collection}/{{name}}"), item);
    if r.status {
        paths.insert(
            format!("{collection}/{{name}}/status"),
            json!({
                "get": operation(r, "readStatus", "get", &target, style),
                "put": operation(r, "replaceStatus", "put", &target, style),
                "patch": operation(r, "patchStatus", "patch", &target, style),
                "parameters": item_params,
            }),
        );
    }
}

/// The group versions a plane serves, as OpenAPI v3 names them (`api/v1`, `apis/apps/v1`).
pub fn group_versions(plane: Plane) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in RESOURCES.iter().filter(|r| r.plane == plane) {
        let gv = if r.group.is_empty() {
            format!("api/{}", r.version)
        } else {
            format!("apis/{}/{}", r.group, r.version)
        };
        if !out.contains(&gv) {
            out.push(gv);
        }
    }
    out
}

fn served(plane: Plane, gv: Option<&str>) -> Vec<(usize, &'static Resource)> {
    RESOURCES
        .iter()
        .enumerate()
        .filter(|(_, r)| r.plane == plane)
        .filter(|(_, r)| {
            gv.is_none_or(|gv| {
                let own = if r.group.is_empty() {
                    format!("api/{}", r.version)
                } else {
                    format!("apis/{}/{}", r.group, r.version)
                };
                own == gv
            })
        })
        .collect()
}

fn build(schemas: &Schemas, plane: Plane, style: Style, gv: Option<&str>) -> Value {
    let kinds = served(plane, gv);
    let mut paths = Map::new();
    for (_, r) in &kinds {
        paths_of(r, style, &mut paths);
    }
    let defs: Map<String, Value> = definitions(schemas, &kinds, style).into_iter().collect();
    // Every workload cluster shares the document, whatever version it runs.
    let info = json!({"title": "Kubernetes", "version": "unversioned"});
    let security = json!({"BearerToken": {"type": "apiKey", "name": "authorization", "in": "header",
        "description": "Bearer token authentication"}});
    match style {
        Style::V2 => json!({"swagger": "2.0", "info": info, "paths": paths, "definitions": defs,
            "securityDefinitions": security, "security": [{"BearerToken": []}]}),
        Style::V3 => json!({"openapi": "3.0.0", "info": info, "paths": paths,
            "components": {"schemas": defs, "securitySchemes": security}}),
    }
}

/// A document's bytes: the v2 document (`gv` None) or one group version's v3 document; None when
/// the plane does not serve that group version.
pub fn document(
    cache: &Cache,
    schemas: &Schemas,
    plane: Plane,
    style: Style,
    gv: Option<&str>,
) -> Option<Bytes> {
    built(cache, schemas, plane, style, gv).map(|(doc, _)| doc)
}

/// A document and its hash, built once per plane and kubesim.
fn built(
    cache: &Cache,
    schemas: &Schemas,
    plane: Plane,
    style: Style,
    gv: Option<&str>,
) -> Option<(Bytes, String)> {
    if let Some(gv) = gv
        && !group_versions(plane).iter().any(|g| g == gv)
    {
        return None;
    }
    let key = (plane, style, gv.unwrap_or("").to_string());
    if let Ok(docs) = cache.docs.lock()
        && let Some(d) = docs.get(&key)
    {
        return Some(d.clone());
    }
    let bytes = Bytes::from(serde_json::to_vec(&build(schemas, plane, style, gv)).ok()?);
    let digest = ring::digest::digest(&ring::digest::SHA512_256, &bytes);
    let hash: String = digest.as_ref().iter().map(|b| format!("{b:02X}")).collect();
    if let Ok(mut docs) = cache.docs.lock() {
        docs.insert(key, (bytes.clone(), hash.clone()));
    }
    Some((bytes, hash))
}

/// `/openapi/v3`: where each group version's document is, with a hash that changes with it.
pub fn index(cache: &Cache, schemas: &Schemas, plane: Plane) -> Value {
    let mut paths = Map::new();
    for gv in group_versions(plane) {
        let Some((_, hash)) = built(cache, schemas, plane, Style::V3, Some(&gv)) else {
            continue;
        };
        paths.insert(
            gv.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{gv}?hash={hash}")}),
        );
    }
    json!({"paths": paths})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schemas() -> Schemas {
        Schemas::default()
    }

    fn v3(gv: &str) -> Value {
        let doc = document(
            &Cache::default(),
            &schemas(),
            Plane::Workload,
            Style::V3,
            Some(gv),
        )
        .expect("served");
        serde_json::from_slice(&doc).expect("json")
    }

    #[test]
    fn pods_are_described_from_the_descriptors_comments() {
        let doc = v3("api/v1");
        let pod = &doc["components"]["schemas"]["io.k8s.api.core.v1.Pod"];
        assert_eq!(
            pod["x-kubernetes-group-version-kind"],
            json!([{"group": "", "kind": "Pod", "version": "v1"}])
        );
        assert_eq!(
            pod["properties"]["spec"]["allOf"][0]["$ref"],
            "#/components/schemas/io.k8s.api.core.v1.PodSpec"
        );
        let containers =
            &doc["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
        assert_eq!(containers["type"], "array");
        assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
        assert!(
            containers["description"]
                .as_str()
                .is_some_and(|d| d.starts_with("List of containers belonging to the pod.")),
            "{containers}"
        );
        // Marker lines are not part of a description.
        assert!(!doc.to_string().contains("+optional"));
        let time = &doc["components"]["schemas"]["io.k8s.apimachinery.pkg.apis.meta.v1.Time"];
        assert_eq!(time["type"], "string");
        assert_eq!(time["format"], "date-time");
    }

    #[test]
    fn patch_operations_list_the_parameters_kubectl_looks_for() {
        let doc = v3("apis/apps/v1");
        let patch =
            &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(
            patch["x-kubernetes-group-version-kind"],
            json!({"group": "apps", "kind": "Deployment", "version": "v1"})
        );
        let names: Vec<&str> = patch["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert_eq!(
            names,
            vec!["dryRun", "fieldManager", "fieldValidation", "force"]
        );
    }

    #[test]
    fn the_index_points_at_every_group_version_and_only_those_are_served() {
        let cache = Cache::default();
        let index = index(&cache, &schemas(), Plane::Management);
        let url = index["paths"]["apis/cluster.x-k8s.io/v1beta2"]["serverRelativeURL"]
            .as_str()
            .expect("url");
        assert!(url.starts_with("/openapi/v3/apis/cluster.x-k8s.io/v1beta2?hash="));
        assert!(index["paths"]["apis/apps/v1"].is_null());
        assert!(
            document(
                &cache,
                &schemas(),
                Plane::Management,
                Style::V3,
                Some("apis/nope/v1"),
            )
            .is_none()
        );
    }
}
