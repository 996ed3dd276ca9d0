//! Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`), read into the JSON kubesim stores.

// The envelope is the four bytes "k8s\0" and a `runtime.Unknown` naming apiVersion and kind around
// the object's own bytes. Kubernetes' descriptors (compiled by build.rs) drive one walk that turns any
// built-in kind into JSON: proto field names are the JSON names Kubernetes uses.

use std::sync::LazyLock;

use prost_reflect::{
    DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor,
    ReflectMessage,
};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::clock::format_time;
use crate::kubeconfig::base64;
use crate::status::ApiError;

pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";
const MAGIC: &[u8; 4] = b"k8s\0";

static POOL: LazyLock<Result<DescriptorPool, String>> = LazyLock::new(|| {
    DescriptorPool::decode(&include_bytes!(concat!(env!("OUT_DIR"), "/kubernetes.fds"))[..])
        .map_err(|e| e.to_string())
});

/// Kubernetes' message descriptors (the built-in kinds kubesim serves and what they use).
pub fn pool() -> Result<&'static DescriptorPool, ApiError> {
    POOL.as_ref()
        .map_err(|e| ApiError::Internal(format!("the Kubernetes descriptors do not load: {e}")))
}

/// The object in a protobuf body, as JSON with `apiVersion` and `kind` set.
pub fn decode(bytes: &[u8]) -> Result<Value, ApiError> {
    let Some(envelope) = bytes.strip_prefix(MAGIC) else {
        return Err(ApiError::BadRequest(format!(
            "provided data does not appear to be a protobuf message, expected prefix {:?}",
            MAGIC
        )));
    };
    let pool = pool()?;
    let unknown = pool
        .get_message_by_name("apimachinery.pkg.runtime.Unknown")
        .ok_or_else(|| ApiError::Internal("no runtime.Unknown descriptor".into()))?;
    let unknown = DynamicMessage::decode(unknown, envelope)
        .map_err(|e| ApiError::BadRequest(format!("the protobuf envelope cannot be read: {e}")))?;
    let text = |m: &DynamicMessage, name: &str| match m.get_field_by_name(name).as_deref() {
        Some(prost_reflect::Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    // An envelope without typeMeta reads as an empty one: no kind, refused below.
    let type_meta = match unknown.get_field_by_name("typeMeta").as_deref() {
        Some(prost_reflect::Value::Message(m)) => m.clone(),
        _ => DynamicMessage::new(type_meta_descriptor(pool)?),
    };
    let (api_version, kind) = (text(&type_meta, "apiVersion"), text(&type_meta, "kind"));
    let encoding = text(&unknown, "contentEncoding");
    if !encoding.is_empty() {
        return Err(ApiError::BadRequest(format!(
            "protobuf content encoding \"{}\" is not supported",
            cut(&encoding)
        )));
    }
    let descriptor = message_of(pool, &api_version, &kind).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "no kind \"{}\" is registered for version \"{}\"",
            cut(&kind),
            cut(&api_version)
        ))
    })?;
    let raw = match unknown.get_field_by_name("raw").as_deref() {
        Some(prost_reflect::Value::Bytes(b)) => b.clone(),
        _ => Default::default(),
    };
    let message = DynamicMessage::decode(descriptor, raw).map_err(|e| {
        ApiError::BadRequest(format!(
            "the protobuf body of a {} cannot be read: {e}",
            cut(&kind)
        ))
    })?;
    let mut v = object(&message);
    v.insert("apiVersion".into(), json!(api_version));
    v.insert("kind".into(), json!(kind));
    Ok(Value::Object(v))
}

/// At most 64 characters of something a client sent, for an error message.
fn cut(s: &str) -> String {
    s.chars().take(64).collect()
}

fn type_meta_descriptor(pool: &DescriptorPool) -> Result<MessageDescriptor, ApiError> {
    pool.get_message_by_name("apimachinery.pkg.runtime.TypeMeta")
        .ok_or_else(|| ApiError::Internal("no runtime.TypeMeta descriptor".into()))
}

/// The package of an API group version, as the descriptors name it.
fn package(api_version: &str) -> Option<&'static str> {
    Some(match api_version {
        "v1" => "api.core.v1",
        "apps/v1" => "api.apps.v1",
        "policy/v1" => "api.policy.v1",
        "policy/v1beta1" => "api.policy.v1beta1",
        "coordination.k8s.io/v1" => "api.coordination.v1",
        "events.k8s.io/v1" => "api.events.v1",
        "authorization.k8s.io/v1" => "api.authorization.v1",
        "authentication.k8s.io/v1" => "api.authentication.v1",
        _ => return None,
    })
}

/// The message of `apiVersion`/`kind`: only kinds (messages with object metadata), not the types
/// inside them ("PodSpec"); DeleteOptions is sent under any group's version.
pub fn message_of(
    pool: &DescriptorPool,
    api_version: &str,
    kind: &str,
) -> Option<MessageDescriptor> {
    if kind == "DeleteOptions" {
        return pool.get_message_by_name("apimachinery.pkg.apis.meta.v1.DeleteOptions");
    }
    if kind.is_empty() || !kind.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let m = pool.get_message_by_name(&format!("{}.{kind}", package(api_version)?))?;
    let metadata = m.get_field_by_name("metadata")?;
    match metadata.kind() {
        Kind::Message(meta) if meta.full_name() == "apimachinery.pkg.apis.meta.v1.ObjectMeta" => {
            Some(m)
        }
        _ => None,
    }
}

fn object(message: &DynamicMessage) -> Map<String, Value> {
    let mut out = Map::new();
    for (field, v) in message.fields() {
        let value = match v {
            prost_reflect::Value::List(items) if items.is_empty() => continue,
            prost_reflect::Value::Map(entries) if entries.is_empty() => continue,
            v => value(v),
        };
        match (value, inline(&field)) {
            (Value::Object(fields), true) => out.extend(fields),
            (value, _) => {
                out.insert(field.name().to_string(), value);
            }
        }
    }
    out
}

/// Go structs embedded without a JSON name: protobuf gives them a field, JSON lifts their fields up.
pub fn inline(field: &FieldDescriptor) -> bool {
    let Kind::Message(m) = field.kind() else {
        return false;
    };
    !field.is_list()
        && matches!(
            (m.name(), field.name()),
            ("LocalObjectReference", "localObjectReference")
                | ("ProbeHandler", "handler")
                | ("VolumeSource", "volumeSource")
                | ("PersistentVolumeSource", "persistentVolumeSource")
                | ("EphemeralContainerCommon", "ephemeralContainerCommon")
        )
}

fn key(k: &MapKey) -> String {
    match k {
        MapKey::String(s) => s.clone(),
        MapKey::Bool(b) => b.to_string(),
        MapKey::I32(n) => n.to_string(),
        MapKey::I64(n) => n.to_string(),
        MapKey::U32(n) => n.to_string(),
        MapKey::U64(n) => n.to_string(),
    }
}

fn value(v: &prost_reflect::Value) -> Value {
    use prost_reflect::Value as V;
    match v {
        V::Bool(b) => json!(b),
        V::I32(n) => json!(n),
        V::I64(n) => json!(n),
        V::U32(n) => json!(n),
        V::U64(n) => json!(n),
        V::F32(n) => json!(n),
        V::F64(n) => json!(n),
        V::String(s) => json!(s),
        V::Bytes(b) => json!(base64(b)),
        V::EnumNumber(n) => json!(n),
        V::Message(m) => special(m).unwrap_or_else(|| Value::Object(object(m))),
        V::List(items) => Value::Array(items.iter().map(value).collect()),
        V::Map(entries) => Value::Object(entries.iter().map(|(k, v)| (key(k), value(v))).collect()),
    }
}

/// Whether a message is one of the apimachinery types whose JSON is a scalar or free-form.
pub fn is_scalar_type(full_name: &str) -> bool {
    matches!(
        full_name,
        "apimachinery.pkg.apis.meta.v1.Time"
            | "apimachinery.pkg.apis.meta.v1.MicroTime"
            | "apimachinery.pkg.apis.meta.v1.Duration"
            | "apimachinery.pkg.api.resource.Quantity"
            | "apimachinery.pkg.util.intstr.IntOrString"
            | "apimachinery.pkg.runtime.RawExtension"
            | "apimachinery.pkg.apis.meta.v1.FieldsV1"
    )
}

/// The apimachinery types whose JSON is not their fields: times, quantities, int-or-string,
/// embedded raw JSON.
fn special(m: &DynamicMessage) -> Option<Value> {
    use prost_reflect::Value as V;
    let field = |name: &str| m.get_field_by_name(name).map(|v| v.into_owned());
    let set = |name: &str| {
        m.descriptor()
            .get_field_by_name(name)
            .is_some_and(|f| m.has_field(&f))
    };
    let int = |name: &str| match field(name) {
        Some(V::I64(n)) => n,
        Some(V::I32(n)) => i64::from(n),
        _ => 0,
    };
    let text = |name: &str| match field(name) {
        Some(V::String(s)) => s,
        _ => String::new(),
    };
    let bytes = |name: &str| match field(name) {
        Some(V::Bytes(b)) => b.to_vec(),
        _ => Vec::new(),
    };
    Some(match m.descriptor().full_name() {
        // Go writes a zero time as an empty message; its JSON is null.
        "apimachinery.pkg.apis.meta.v1.Time" | "apimachinery.pkg.apis.meta.v1.MicroTime"
            if !set("seconds") && !set("nanos") =>
        {
            Value::Null
        }
        "apimachinery.pkg.apis.meta.v1.Time" => json!(time_at(int("seconds"), 0).map(format_time)),
        "apimachinery.pkg.apis.meta.v1.MicroTime" => {
            json!(time_at(int("seconds"), int("nanos")).map(format_micro))
        }
        "apimachinery.pkg.apis.meta.v1.Duration" => json!(go_duration(int("duration"))),
        "apimachinery.pkg.api.resource.Quantity" => json!(text("string")),
        "apimachinery.pkg.util.intstr.IntOrString" => match int("type") {
            1 => json!(text("strVal")),
            _ => json!(int("intVal")),
        },
        // Raw JSON inside the message (managedFields' field sets, embedded objects).
        "apimachinery.pkg.runtime.RawExtension" => raw_json(&bytes("raw")),
        "apimachinery.pkg.apis.meta.v1.FieldsV1" => raw_json(&bytes("Raw")),
        _ => return None,
    })
}

fn raw_json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or(Value::Null)
}

fn time_at(seconds: i64, nanos: i64) -> Option<OffsetDateTime> {
    let t = OffsetDateTime::from_unix_timestamp(seconds).ok()?;
    Some(t + time::Duration::nanoseconds(nanos.clamp(0, 999_999_999)))
}

fn format_micro(t: OffsetDateTime) -> String {
    let whole = format_time(t);
    let micros = t.nanosecond() / 1_000;
    match whole.strip_suffix('Z') {
        Some(s) => format!("{s}.{micros:06}Z"),
        None => whole,
    }
}

/// A duration in nanoseconds as Go prints it ("1h2m3s", "500ms", "0s"), which is its JSON form.
fn go_duration(ns: i64) -> String {
    if ns == 0 {
        return "0s".into();
    }
    let sign = if ns < 0 { "-" } else { "" };
    let ns = ns.unsigned_abs();
    if ns < 1_000_000_000 {
        let (n, unit) = match ns {
            n if n < 1_000 => (n as f64, "ns"),
            n if n < 1_000_000 => (n as f64 / 1e3, "µs"),
            n => (n as f64 / 1e6, "ms"),
        };
        return format!("{sign}{n}{unit}");
    }
    let (h, rest) = (ns / 3_600_000_000_000, ns % 3_600_000_000_000);
    let (m, rest) = (rest / 60_000_000_000, rest % 60_000_000_000);
    let seconds = rest as f64 / 1e9;
    match (h, m) {
        (0, 0) => format!("{sign}{seconds}s"),
        (0, m) => format!("{sign}{m}m{seconds}s"),
        (h, m) => format!("{sign}{h}h{m}m{seconds}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A protobuf field: its key (field number and wire type 2) and length-delimited bytes.
    fn field(number: u8, bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![(number << 3) | 2, u8::try_from(bytes.len()).expect("short")];
        out.extend_from_slice(bytes);
        out
    }

    fn varint(number: u8, n: u8) -> Vec<u8> {
        vec![number << 3, n]
    }

    /// What a client sends: the magic, then an `Unknown` {typeMeta {apiVersion, kind}, raw}.
    fn envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
        let type_meta = [field(1, api_version.as_bytes()), field(2, kind.as_bytes())].concat();
        let unknown = [field(1, &type_meta), field(2, raw)].concat();
        [MAGIC.to_vec(), unknown].concat()
    }

    #[test]
    fn a_pod_written_byte_by_byte_reads_as_the_json_kubernetes_writes() {
        // ObjectMeta: name (1), labels (11) app=web, creationTimestamp (8) empty (Go's zero time).
        let label = [field(1, b"app"), field(2, b"web")].concat();
        let meta = [field(1, b"web-0"), field(8, &[]), field(11, &label)].concat();
        // Container: name (1), image (2), resources (8) {limits (1) {cpu: Quantity{string "500m"}}},
        // livenessProbe (10) {handler (1) {httpGet (2) {path (1), port (2) IntOrString{type 0, intVal 8080}}}}.
        let quantity = field(1, b"500m");
        let limit = [field(1, b"cpu"), field(2, &quantity)].concat();
        let resources = field(1, &limit);
        let port = [varint(1, 0), vec![2 << 3, 0x90, 0x3f]].concat();
        let get = [field(1, b"/healthz"), field(2, &port)].concat();
        let probe = field(1, &field(2, &get));
        let container = [
            field(1, b"web"),
            field(2, b"nginx:1.27"),
            field(8, &resources),
            field(10, &probe),
        ]
        .concat();
        // PodSpec: containers (2).
        let spec = field(2, &container);
        let pod = [field(1, &meta), field(2, &spec)].concat();
        assert_eq!(
            decode(&envelope("v1", "Pod", &pod)).expect("decodes"),
            json!({
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "web-0", "labels": {"app": "web"}, "creationTimestamp": null},
                "spec": {"containers": [{
                    "name": "web",
                    "image": "nginx:1.27",
                    "resources": {"limits": {"cpu": "500m"}},
                    "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}}
                }]}
            })
        );
    }

    #[test]
    fn secret_bytes_are_base64_and_config_map_keys_inline_their_reference() {
        // Secret: data (2) {password: "hunter2"}, type (3) "Opaque".
        let entry = [field(1, b"password"), field(2, b"hunter2")].concat();
        let secret = [field(2, &entry), field(3, b"Opaque")].concat();
        let v = decode(&envelope("v1", "Secret", &secret)).expect("decodes");
        assert_eq!(v["data"], json!({"password": "aHVudGVyMg=="}));
        assert_eq!(v["type"], json!("Opaque"));
        // EnvVar's valueFrom.configMapKeyRef embeds LocalObjectReference: its name is lifted up.
        let selector = [field(1, &field(1, b"settings")), field(2, b"mode")].concat();
        let env = [field(1, b"MODE"), field(3, &field(3, &selector))].concat();
        let container = [field(1, b"app"), field(7, &env)].concat();
        let pod = field(2, &field(2, &container));
        let v = decode(&envelope("v1", "Pod", &pod)).expect("decodes");
        assert_eq!(
            v["spec"]["containers"][0]["env"],
            json!([{"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}}}])
        );
    }

    #[test]
    fn go_durations_print_as_go_prints_them() {
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(1_500_000_000), "1.5s");
        assert_eq!(go_duration(3_723_000_000_000), "1h2m3s");
        assert_eq!(go_duration(60_000_000_000), "1m0s");
        assert_eq!(go_duration(500_000_000), "500ms");
        assert_eq!(go_duration(-2_000_000_000), "-2s");
    }

    #[test]
    fn types_inside_kinds_and_foreign_groups_are_not_kinds() {
        let e = decode(&envelope("v1", "PodSpec", &[])).unwrap_err();
        assert!(e.to_string().contains("no kind \"PodSpec\""), "{e}");
        let e = decode(&envelope("batch/v1", "Job", &[])).unwrap_err();
        assert_eq!(e.code(), http::StatusCode::BAD_REQUEST);
        let e = decode(&envelope("v1", "Pod", &[0x0a, 0x05, 0x01])).unwrap_err();
        assert!(e.to_string().contains("cannot be read"), "{e}");
    }

    #[test]
    fn bodies_without_the_envelope_or_a_kind_are_bad_requests() {
        let e = decode(b"{\"kind\":\"Pod\"}").unwrap_err();
        assert_eq!(e.code(), http::StatusCode::BAD_REQUEST);
        assert!(e.to_string().contains("expected prefix"), "{e}");
        let e = decode(b"k8s\0\x0a\xff\xff").unwrap_err();
        assert_eq!(e.code(), http::StatusCode::BAD_REQUEST);
        assert!(e.to_string().contains("envelope"), "{e}");
        let e = decode(b"k8s\0").unwrap_err();
        assert_eq!(e.to_string(), "no kind \"\" is registered for version \"\"");
    }
}
