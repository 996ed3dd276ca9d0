//! What crosses the wire for dashboards: their definition, the list, and a dashboard as shown.

use serde::{Deserialize, Serialize};

use crate::clusters::model::HealthState;

/// The most clusters one dashboard may show.
pub const MAX_CLUSTERS: usize = 200;

/// What a dashboard can show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Panel {
    Health,
    NodesReady,
    PodsNotRunning,
    Cpu,
    Memory,
    Warnings,
}

impl Panel {
    pub const ALL: [Panel; 6] = [
        Panel::Health,
        Panel::NodesReady,
        Panel::PodsNotRunning,
        Panel::Cpu,
        Panel::Memory,
        Panel::Warnings,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Panel::Health => "health",
            Panel::NodesReady => "nodes",
            Panel::PodsNotRunning => "pods",
            Panel::Cpu => "cpu",
            Panel::Memory => "memory",
            Panel::Warnings => "warnings",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Panel::Health => "Health tiles",
            Panel::NodesReady => "Nodes ready",
            Panel::PodsNotRunning => "Pods not running",
            Panel::Cpu => "CPU charts",
            Panel::Memory => "Memory charts",
            Panel::Warnings => "Warnings",
        }
    }

    pub fn parse(text: &str) -> Option<Panel> {
        Panel::ALL.into_iter().find(|p| p.as_str() == text)
    }
}

/// A dashboard's definition, as an operator writes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DashboardSpec {
    pub name: String,
    /// Clusters by name, `namespace/name`.
    pub clusters: Vec<String>,
    /// Clusters by tag: `key=value` or `key`, comma-separated, all must match (`team=payments`).
    pub selector: String,
    pub panels: Vec<Panel>,
}

/// One dashboard in the list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardSummary {
    pub slug: String,
    pub name: String,
    /// "3 clusters: team=payments", in words.
    pub scope: String,
    pub updated: String,
    pub updated_by: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardList {
    pub dashboards: Vec<DashboardSummary>,
    pub may_manage: bool,
}

/// One cluster's tile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterTile {
    pub namespace: String,
    pub name: String,
    pub health: HealthState,
    pub nodes_ready: Option<u32>,
    pub nodes_total: Option<u32>,
    /// `None` when the cluster's pods cannot be read now.
    pub pods_not_running: Option<u32>,
}

/// Something that needs attention.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// `namespace/name`.
    pub cluster: String,
    /// Node, pod or pool concerned, if one.
    pub object: String,
    pub text: String,
}

/// A dashboard as shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardView {
    pub slug: String,
    pub spec: DashboardSpec,
    pub tiles: Vec<ClusterTile>,
    pub warnings: Vec<Warning>,
    pub may_manage: bool,
    /// When the page was made, "14:02:11 UTC".
    pub at: String,
}

/// A slug from a name: lower-case letters, digits and single dashes.
pub fn slug_of(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').chars().take(63).collect()
}

/// Checks a definition: `Err((field, message))` for the first problem.
pub fn check(spec: &DashboardSpec) -> Result<(), (&'static str, String)> {
    let name = spec.name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err((
            "name",
            "give the dashboard a name of 1 to 80 characters".into(),
        ));
    }
    if name.chars().any(|c| c.is_control() || c == '<' || c == '>') {
        return Err((
            "name",
            "a name may not contain < > or control characters".into(),
        ));
    }
    if slug_of(name).is_empty() {
        return Err(("name", "a name needs at least one letter or digit".into()));
    }
    if spec.clusters.len() > MAX_CLUSTERS {
        return Err((
            "clusters",
            format!(
                "a dashboard shows at most {MAX_CLUSTERS} clusters; {} are named",
                spec.clusters.len()
            ),
        ));
    }
    for c in &spec.clusters {
        let ok = c.split_once('/').is_some_and(|(ns, n)| {
            [ns, n].iter().all(|part| {
                // A Kubernetes name starts and ends with a letter or digit ("..": no).
                part.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                    && part.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                    && part.len() <= 253
                    && part.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'
                    })
            })
        });
        if !ok {
            return Err((
                "clusters",
                format!(
                    "\"{}\" is not a cluster: write namespace/name",
                    c.chars().take(80).collect::<String>()
                ),
            ));
        }
    }
    check_selector(&spec.selector).map_err(|e| ("selector", e))?;
    if spec.clusters.is_empty() && spec.selector.trim().is_empty() {
        return Err((
            "clusters",
            "name clusters, or a tag selector such as team=payments".into(),
        ));
    }
    if spec.panels.is_empty() {
        return Err(("panels", "choose at least one panel".into()));
    }
    Ok(())
}

/// A tag selector: comma-separated `key=value` or `key` terms, each a Kubernetes label-like name.
pub fn check_selector(selector: &str) -> Result<(), String> {
    if selector.len() > 512 {
        return Err("a selector is at most 512 characters".into());
    }
    let word = |w: &str| {
        !w.is_empty()
            && w.len() <= 63
            && w.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    };
    for term in selector.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let ok = match term.split_once('=') {
            Some((k, v)) => word(k) && word(v),
            None => word(term),
        };
        if !ok {
            return Err(format!(
                "\"{}\" is not a tag: write key=value or key (letters, digits, - _ .), separated by commas",
                term.chars().take(80).collect::<String>()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, clusters: &[&str], selector: &str) -> DashboardSpec {
        DashboardSpec {
            name: name.into(),
            clusters: clusters.iter().map(|c| c.to_string()).collect(),
            selector: selector.into(),
            panels: vec![Panel::Health],
        }
    }

    #[test]
    fn slugs_are_lower_case_words_joined_by_dashes() {
        assert_eq!(slug_of("Payments — EU!"), "payments-eu");
        assert_eq!(slug_of("  ML  team 2 "), "ml-team-2");
        assert_eq!(slug_of("!!!"), "");
    }

    #[test]
    fn bad_definitions_name_the_field() {
        assert_eq!(check(&spec("Payments", &[], "team=payments")), Ok(()));
        assert_eq!(
            check(&spec("", &["default/a"], "")).map_err(|e| e.0),
            Err("name")
        );
        assert_eq!(
            check(&spec("<b>", &["default/a"], "")).map_err(|e| e.0),
            Err("name")
        );
        assert_eq!(
            check(&spec("P", &["../x"], "")).map_err(|e| e.0),
            Err("clusters")
        );
        assert_eq!(
            check(&spec("P", &[], "team=pay ments")).map_err(|e| e.0),
            Err("selector")
        );
        assert_eq!(
            check(&spec("P", &[], "a==b")).map_err(|e| e.0),
            Err("selector")
        );
        assert_eq!(check(&spec("P", &[], "")).map_err(|e| e.0), Err("clusters"));
        let many: Vec<String> = (0..201).map(|i| format!("default/c{i}")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(
            check(&spec("P", &refs, "")),
            Err((
                "clusters",
                "a dashboard shows at most 200 clusters; 201 are named".into()
            ))
        );
    }
}
