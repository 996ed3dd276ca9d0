//! The wizard's rules, one function per step; the pages show them as the server enforces them.

use serde::{Deserialize, Serialize};

use super::draft::{Draft, PoolDraft, Preset, Step};
use super::offering::Offering;
use crate::clusters::tags::{self, shown};

/// A problem with one field (`name`, `pool.1.count`, `tags` …), in words naming the field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The step whose form holds the field.
    pub fn step(&self) -> Step {
        match self.field.split('.').next().unwrap_or_default() {
            "pool" | "pools" => Step::Pools,
            "tags" => Step::Tags,
            "create" => Step::Review,
            _ => Step::Basics,
        }
    }
}

/// The most labels and taints a pool carries (the class allows 16 taints).
pub const MAX_LABELS: usize = 20;
pub const MAX_TAINTS: usize = 16;

/// A DNS-1123 label of at most `max` characters: lowercase letters, digits and `-`, starting and
/// ending with a letter or digit.
pub fn dns_label(text: &str, max: usize) -> bool {
    !text.is_empty()
        && text.len() <= max
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-')
}

/// The cluster name's own rule (uniqueness is the server's to check).
pub fn check_name(name: &str) -> Option<String> {
    if name.is_empty() {
        Some("Cluster name is required.".into())
    } else if !dns_label(name, 63) {
        Some("Cluster name must be 1–63 lowercase letters, digits or \"-\", starting and ending with a letter or digit.".into())
    } else {
        None
    }
}

/// Every problem with `step` of `draft`.
pub fn check(step: Step, draft: &Draft, offering: &Offering) -> Vec<FieldError> {
    let mut errors = Vec::new();
    match step {
        Step::Basics => basics(draft, offering, &mut errors),
        Step::Pools => pools(draft, offering, &mut errors),
        Step::Tags => {
            if let Err(why) = tags::parse(&draft.tags) {
                errors.push(FieldError::new("tags", format!("Tags: {why}.")));
            }
        }
        Step::Review => {}
    }
    errors
}

/// Every problem with every step.
pub fn check_all(draft: &Draft, offering: &Offering) -> Vec<FieldError> {
    Step::ALL
        .into_iter()
        .flat_map(|s| check(s, draft, offering))
        .collect()
}

fn basics(d: &Draft, o: &Offering, errors: &mut Vec<FieldError>) {
    if let Some(why) = check_name(&d.name) {
        errors.push(FieldError::new("name", why));
    }
    if !o.namespaces.contains(&d.namespace) {
        errors.push(FieldError::new(
            "namespace",
            format!(
                "Namespace \"{}\" is not one of the team namespaces: {}.",
                shown(&d.namespace),
                o.namespaces.join(", ")
            ),
        ));
    }
    if !o.regions.contains(&d.region) {
        errors.push(FieldError::new(
            "region",
            format!(
                "Region \"{}\" is not offered; choose one of {}.",
                shown(&d.region),
                o.regions.join(", ")
            ),
        ));
    }
    if !o.versions.iter().any(|v| v.version == d.version) {
        let offered: Vec<&str> = o.versions.iter().map(|v| v.version.as_str()).collect();
        errors.push(FieldError::new(
            "version",
            format!(
                "Kubernetes version \"{}\" is not offered for new clusters; choose one of {}.",
                shown(&d.version),
                offered.join(", ")
            ),
        ));
    }
    let preset = Preset::parse(&d.preset);
    if preset.is_none() {
        errors.push(FieldError::new(
            "preset",
            "Preset must be Dev/Test or Production.",
        ));
    }
    let sizes: Vec<String> = o
        .limits
        .control_plane_replicas
        .iter()
        .map(u32::to_string)
        .collect();
    match d.control_plane.parse::<u32>() {
        Ok(n) if o.limits.control_plane_replicas.contains(&n) => {
            if preset == Some(Preset::Production) && n < Preset::Production.control_plane() {
                errors.push(FieldError::new(
                    "control_plane",
                    "Control plane replicas: Production needs at least 3, so the cluster survives losing one.",
                ));
            }
        }
        _ => errors.push(FieldError::new(
            "control_plane",
            format!(
                "Control plane replicas must be one of {} (an odd number keeps etcd's quorum).",
                sizes.join(", ")
            ),
        )),
    }
}

/// A whole number from `low` to `high`, or the message saying so about `what`.
fn number(text: &str, what: &str, low: i64, high: i64) -> Result<i64, String> {
    match text.trim().parse::<i64>() {
        Ok(n) if (low..=high).contains(&n) => Ok(n),
        Ok(n) if n < low => Err(format!("{what} must be at least {low}.")),
        Ok(_) => Err(format!(
            "{what} must be at most {high} (the ClusterClass's limit)."
        )),
        Err(_) => Err(format!(
            "{what} must be a whole number from {low} to {high}."
        )),
    }
}

/// What is wrong with one pool as entered (`field` prefixes its fields' names, `pool` names it in
/// messages, `taken` are the other pools' names, `minimum` the nodes a system pool needs).
pub fn pool_problems(
    p: &PoolDraft,
    field: &str,
    pool: &str,
    taken: &[&str],
    o: &Offering,
    minimum: i64,
) -> Vec<FieldError> {
    let limit = i64::from(o.limits.max_nodes_per_pool);
    let at = |f: &str| format!("{field}.{f}");
    let mut errors = Vec::new();
    if !(dns_label(&p.name, 12)
        && p.name.starts_with(|c: char| c.is_ascii_lowercase())
        && !p.name.contains('-'))
    {
        errors.push(FieldError::new(
            at("name"),
            format!("{pool}: Pool name must be 1–12 lowercase letters or digits, starting with a letter."),
        ));
    } else if taken.contains(&p.name.as_str()) {
        errors.push(FieldError::new(
            at("name"),
            format!("{pool}: Pool name \"{}\" is used by another pool.", p.name),
        ));
    }
    if !matches!(p.mode.as_str(), "system" | "user") {
        errors.push(FieldError::new(
            at("mode"),
            format!("{pool}: Mode must be System or User."),
        ));
    }
    if o.vm_size(&p.vm_size).is_none() {
        errors.push(FieldError::new(
            at("vm_size"),
            format!(
                "{pool}: VM size \"{}\" is not offered by the ClusterClass.",
                shown(&p.vm_size)
            ),
        ));
    }
    for (j, z) in p.zones.iter().enumerate() {
        if !o.zones.contains(z) || p.zones[..j].contains(z) {
            errors.push(FieldError::new(
                at("zones"),
                format!(
                    "{pool}: Zones must be some of {}, each once.",
                    o.zones.join(", ")
                ),
            ));
            break;
        }
    }
    if !o.os_images.contains(&p.os_image) {
        errors.push(FieldError::new(
            at("os_image"),
            format!(
                "{pool}: OS image \"{}\" is not offered; choose one of {}.",
                shown(&p.os_image),
                o.os_images.join(", ")
            ),
        ));
    }
    let floor = if p.mode == "system" { minimum } else { 0 };
    let count = number(&p.count, &format!("{pool}: Node count"), 0, limit);
    if let Err(why) = &count {
        errors.push(FieldError::new(at("count"), why.clone()));
    }
    let mut smallest = count.clone().ok();
    if p.autoscale {
        let min = number(&p.min, &format!("{pool}: Minimum nodes"), 0, limit);
        let max = number(&p.max, &format!("{pool}: Maximum nodes"), 1, limit);
        match (&min, &max, &count) {
            (Ok(min), Ok(max), _) if min > max => errors.push(FieldError::new(
                at("min"),
                format!("{pool}: Minimum nodes ({min}) must not be more than maximum nodes ({max})."),
            )),
            (Ok(min), Ok(max), Ok(count)) if count < min || count > max => {
                errors.push(FieldError::new(
                    at("count"),
                    format!("{pool}: Node count ({count}) must be between the minimum ({min}) and the maximum ({max})."),
                ))
            }
            _ => {}
        }
        for (f, r) in [("min", &min), ("max", &max)] {
            if let Err(why) = r {
                errors.push(FieldError::new(at(f), why.clone()));
            }
        }
        smallest = min.ok();
    }
    if p.mode == "system" {
        match smallest {
            Some(n) if n >= floor => {}
            Some(_) => errors.push(FieldError::new(
                at(if p.autoscale { "min" } else { "count" }),
                format!(
                    "{pool}: a system pool needs at least {floor} node{}{}.",
                    if floor == 1 { "" } else { "s" },
                    if floor > 1 { " in Production" } else { "" }
                ),
            )),
            None => {}
        }
    }
    if let Err(why) = node_labels(&p.labels) {
        errors.push(FieldError::new(
            at("labels"),
            format!("{pool}: Node labels: {why}."),
        ));
    }
    if let Err(why) = taints(&p.taints) {
        errors.push(FieldError::new(
            at("taints"),
            format!("{pool}: Taints: {why}."),
        ));
    }
    errors
}

fn pools(d: &Draft, o: &Offering, errors: &mut Vec<FieldError>) {
    if d.pools.is_empty() {
        errors.push(FieldError::new(
            "pools",
            "Node pools: a cluster needs a system pool.",
        ));
    }
    if d.pools.len() > o.limits.max_pools as usize {
        errors.push(FieldError::new(
            "pools",
            format!("Node pools: at most {} per cluster.", o.limits.max_pools),
        ));
    }
    let minimum = Preset::parse(&d.preset).map_or(1, Preset::system_minimum);
    for (i, p) in d.pools.iter().enumerate() {
        let taken: Vec<&str> = d.pools[..i].iter().map(|q| q.name.as_str()).collect();
        errors.extend(pool_problems(
            p,
            &format!("pool.{i}"),
            &format!("Pool {}", i + 1),
            &taken,
            o,
            minimum,
        ));
    }
    let any_system = d.pools.iter().any(|p| p.mode == "system");
    if !d.pools.is_empty() && !any_system {
        errors.push(FieldError::new(
            "pools",
            "Node pools: at least one pool must be a system pool (it runs the cluster's add-ons).",
        ));
    }
}

/// A label key: an optional DNS-subdomain prefix and `/`, then 1–63 characters of letters, digits,
/// `-`, `_`, `.`, starting and ending with a letter or digit.
fn label_key(key: &str) -> bool {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty() && p.len() <= 253 && p.split('.').all(|part| dns_label(part, 63))
    });
    prefix_ok && !name.is_empty() && label_value(name)
}

/// A label value: at most 63 letters, digits, `-`, `_`, `.`, starting and ending with a letter or
/// digit (empty is allowed).
fn label_value(v: &str) -> bool {
    v.len() <= 63
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && v.bytes().next().is_none_or(|b| b.is_ascii_alphanumeric())
        && v.bytes().last().is_none_or(|b| b.is_ascii_alphanumeric())
}

/// Reads node labels, `key=value` per line.
pub fn node_labels(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut labels: Vec<(String, String)> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((k, v)) = line.split_once('=') else {
            return Err(format!("\"{}\" is not key=value", shown(line)));
        };
        let (k, v) = (k.trim(), v.trim());
        if !label_key(k) {
            return Err(format!(
                "\"{}\" is not a label key (letters, digits, \"-\", \"_\", \".\", up to 63, with an optional DNS prefix and \"/\")",
                shown(k)
            ));
        }
        if !label_value(v) {
            return Err(format!(
                "the value of \"{k}\" must be up to 63 letters, digits, \"-\", \"_\" or \".\", starting and ending with a letter or digit"
            ));
        }
        if labels.iter().any(|(x, _)| x == k) {
            return Err(format!("\"{k}\" is there twice"));
        }
        labels.push((k.into(), v.into()));
        if labels.len() > MAX_LABELS {
            return Err(format!("at most {MAX_LABELS} labels"));
        }
    }
    Ok(labels)
}

/// Reads taints, `key=value:Effect` per line (the ClusterClass's `nodeTaints` pattern).
pub fn taints(text: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let well_formed = line.split_once('=').and_then(|(key, rest)| {
            let (value, effect) = rest.rsplit_once(':')?;
            let key_ok = !key.is_empty()
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'/' | b'-'));
            let value_ok = value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
            let effect_ok = matches!(effect, "NoSchedule" | "PreferNoSchedule" | "NoExecute");
            (key_ok && value_ok && effect_ok).then_some(())
        });
        if well_formed.is_none() {
            return Err(format!(
                "\"{}\" is not key=value:Effect with Effect NoSchedule, PreferNoSchedule or NoExecute",
                shown(line)
            ));
        }
        if out.len() == MAX_TAINTS {
            return Err(format!("at most {MAX_TAINTS} taints"));
        }
        out.push(line.to_string());
    }
    Ok(out)
}

/// A checked pool's node count and, when it autoscales, its minimum and maximum.
pub fn counted(p: &PoolDraft) -> (i64, Option<(i64, i64)>) {
    let n = |t: &str| t.trim().parse::<i64>().unwrap_or(0);
    (n(&p.count), p.autoscale.then(|| (n(&p.min), n(&p.max))))
}
