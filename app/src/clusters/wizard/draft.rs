//! The wizard's draft: what has been entered so far, the steps and presets, and how a step's
//! posted form changes the draft.

use serde::{Deserialize, Serialize};

use super::offering::Offering;

/// The wizard's steps, in order; the address names the current one (`/clusters/new?step=pools`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    Basics,
    Pools,
    Tags,
    Review,
}

impl Step {
    pub const ALL: [Step; 4] = [Step::Basics, Step::Pools, Step::Tags, Step::Review];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Basics => "basics",
            Step::Pools => "pools",
            Step::Tags => "tags",
            Step::Review => "review",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Step::Basics => "Basics",
            Step::Pools => "Node pools",
            Step::Tags => "Tags",
            Step::Review => "Review + create",
        }
    }

    /// The step named `text`; anything else is Basics, where every wizard starts.
    pub fn parse(text: &str) -> Step {
        Step::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .unwrap_or(Step::Basics)
    }

    pub fn number(self) -> usize {
        Step::ALL.iter().position(|s| *s == self).unwrap_or(0) + 1
    }

    pub fn next(self) -> Step {
        Step::ALL
            .get(self.number())
            .copied()
            .unwrap_or(Step::Review)
    }

    pub fn previous(self) -> Step {
        Step::ALL
            .get(self.number().saturating_sub(2))
            .copied()
            .unwrap_or(Step::Basics)
    }

    pub fn href(self) -> String {
        format!("/clusters/new?step={}", self.as_str())
    }
}

/// Starting points that fill sensible defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Preset {
    DevTest,
    Production,
}

impl Preset {
    pub const ALL: [Preset; 2] = [Preset::DevTest, Preset::Production];

    pub fn as_str(self) -> &'static str {
        match self {
            Preset::DevTest => "dev-test",
            Preset::Production => "production",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Preset::DevTest => "Dev/Test",
            Preset::Production => "Production",
        }
    }

    pub fn detail(self) -> &'static str {
        match self {
            Preset::DevTest => {
                "1 control plane node, one small system pool: cheap, not highly available."
            }
            Preset::Production => {
                "3 control plane nodes, a system pool of 3 across zones and an autoscaling user pool."
            }
        }
    }

    pub fn parse(text: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.as_str() == text)
    }

    /// Control plane replicas.
    pub fn control_plane(self) -> u32 {
        match self {
            Preset::DevTest => 1,
            Preset::Production => 3,
        }
    }

    /// The fewest nodes its system pools must have.
    pub fn system_minimum(self) -> i64 {
        match self {
            Preset::DevTest => 1,
            Preset::Production => 2,
        }
    }

    /// The pools it starts with, sized from what `offering` has.
    pub fn pools(self, offering: &Offering) -> Vec<PoolDraft> {
        let image = offering.default_os_image.clone();
        match self {
            Preset::DevTest => vec![PoolDraft {
                name: "system".into(),
                mode: "system".into(),
                vm_size: offering.size_or("Standard_D2s_v5"),
                zones: vec![],
                os_image: image,
                count: "1".into(),
                ..PoolDraft::default()
            }],
            Preset::Production => vec![
                PoolDraft {
                    name: "system".into(),
                    mode: "system".into(),
                    vm_size: offering.size_or("Standard_D4s_v5"),
                    zones: offering.zones.clone(),
                    os_image: image.clone(),
                    count: "3".into(),
                    ..PoolDraft::default()
                },
                PoolDraft {
                    name: "apps".into(),
                    mode: "user".into(),
                    vm_size: offering.size_or("Standard_D8s_v5"),
                    zones: offering.zones.clone(),
                    os_image: image,
                    count: "2".into(),
                    autoscale: true,
                    min: "2".into(),
                    max: "6".into(),
                    ..PoolDraft::default()
                },
            ],
        }
    }
}

/// One node pool as entered. Numbers stay text until checked, so a form shows what was typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolDraft {
    pub name: String,
    /// "system" or "user".
    pub mode: String,
    pub vm_size: String,
    pub zones: Vec<String>,
    pub os_image: String,
    pub count: String,
    pub autoscale: bool,
    pub min: String,
    pub max: String,
    /// `key=value` lines.
    pub labels: String,
    /// `key=value:Effect` lines.
    pub taints: String,
}

/// Everything entered so far.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    /// Random, set when the draft starts: the created Cluster carries it, so a second Create of the
    /// same draft (a double click) finds its cluster instead of failing.
    pub id: String,
    pub preset: String,
    /// The preset whose pools and control plane the draft holds now.
    pub applied: String,
    pub name: String,
    pub namespace: String,
    pub region: String,
    pub version: String,
    pub control_plane: String,
    pub pools: Vec<PoolDraft>,
    /// `key=value` lines.
    pub tags: String,
    /// The created cluster's page, once Create succeeded (a second Create goes there).
    pub created: String,
}

/// The longest text any one field keeps (the rules then say what is allowed).
pub const FIELD_MAX: usize = 16 * 1024;

impl Draft {
    /// A new draft with `id`: the Dev/Test preset in the first namespace, region and the newest
    /// version offered.
    pub fn new(id: String, offering: &Offering) -> Draft {
        let preset = Preset::DevTest;
        Draft {
            id,
            preset: preset.as_str().into(),
            applied: preset.as_str().into(),
            namespace: offering
                .namespaces
                .iter()
                .find(|n| *n == "default")
                .or(offering.namespaces.first())
                .cloned()
                .unwrap_or_default(),
            region: offering.regions.first().cloned().unwrap_or_default(),
            version: offering.newest().unwrap_or_default().into(),
            control_plane: preset.control_plane().to_string(),
            pools: preset.pools(offering),
            ..Draft::default()
        }
    }

    /// Applies a newly chosen preset: its pools, and its control plane size unless that was
    /// changed from the previous preset's.
    pub fn apply_preset(&mut self, offering: &Offering) {
        let Some(preset) = Preset::parse(&self.preset) else {
            return;
        };
        if self.applied == preset.as_str() {
            return;
        }
        let previous = Preset::parse(&self.applied).map(|p| p.control_plane().to_string());
        if previous.is_none_or(|p| p == self.control_plane) {
            self.control_plane = preset.control_plane().to_string();
        }
        self.pools = preset.pools(offering);
        self.applied = preset.as_str().into();
    }

    /// Takes the fields of `step` from a posted form (`name`, `pool.0.count`, …); fields of other
    /// steps are ignored, absent ones of this step are emptied (an unticked box is not sent).
    pub fn take(&mut self, step: Step, form: &[(String, String)]) {
        let get = |key: &str| -> String {
            form.iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| clip(v))
                .unwrap_or_default()
        };
        match step {
            Step::Basics => {
                self.name = get("name").trim().to_string();
                self.namespace = get("namespace");
                self.region = get("region");
                self.version = get("version");
                self.control_plane = get("control_plane").trim().to_string();
                self.preset = get("preset");
            }
            Step::Pools => {
                let count = form
                    .iter()
                    .filter_map(|(k, _)| pool_index(k))
                    .max()
                    .map_or(0, |i| i + 1)
                    .min(self.pools.len().max(1) + 1);
                let mut pools = Vec::with_capacity(count);
                for i in 0..count {
                    let field = |f: &str| get(&format!("pool.{i}.{f}"));
                    let before = self.pools.get(i).cloned().unwrap_or_default();
                    pools.push(PoolDraft {
                        name: field("name").trim().to_string(),
                        mode: field("mode"),
                        vm_size: field("vm_size"),
                        zones: form
                            .iter()
                            .filter(|(k, _)| *k == format!("pool.{i}.zones"))
                            .map(|(_, v)| clip(v))
                            .take(16)
                            .collect(),
                        os_image: field("os_image"),
                        count: slider_or_number(
                            &before.count,
                            &field("count"),
                            &field("count_slider"),
                        ),
                        autoscale: !field("autoscale").is_empty(),
                        min: field("min").trim().to_string(),
                        max: field("max").trim().to_string(),
                        labels: field("labels"),
                        taints: field("taints"),
                    });
                }
                self.pools = pools;
            }
            Step::Tags => self.tags = get("tags"),
            Step::Review => {}
        }
    }
}

/// `text` cut to `FIELD_MAX` bytes (at a character boundary).
fn clip(text: &str) -> String {
    let mut end = text.len().min(FIELD_MAX);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// The `N` of a `pool.N.…` field.
fn pool_index(key: &str) -> Option<usize> {
    key.strip_prefix("pool.")?.split('.').next()?.parse().ok()
}

/// The node count from a slider and the number beside it: without JavaScript they are not kept
/// in step, so whichever differs from what the page showed is what the person changed.
pub fn slider_or_number(shown: &str, number: &str, slider: &str) -> String {
    let number = number.trim();
    if number != shown || slider.is_empty() {
        number.to_string()
    } else {
        slider.trim().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn steps_go_forward_and_back_and_unknown_names_are_basics() {
        assert_eq!(Step::Basics.next(), Step::Pools);
        assert_eq!(Step::Tags.next(), Step::Review);
        assert_eq!(Step::Review.next(), Step::Review);
        assert_eq!(Step::Pools.previous(), Step::Basics);
        assert_eq!(Step::Basics.previous(), Step::Basics);
        assert_eq!(Step::parse("review"), Step::Review);
        assert_eq!(Step::parse("<script>"), Step::Basics);
        assert_eq!(Step::Tags.href(), "/clusters/new?step=tags");
    }

    #[test]
    fn a_pools_form_replaces_the_pools_keeping_what_was_typed() {
        let mut d = Draft {
            pools: vec![PoolDraft {
                count: "2".into(),
                ..PoolDraft::default()
            }],
            ..Draft::default()
        };
        d.take(
            Step::Pools,
            &form(&[
                ("pool.0.name", " system "),
                ("pool.0.mode", "system"),
                ("pool.0.count", "2"),
                ("pool.0.count_slider", "5"),
                ("pool.0.zones", "1"),
                ("pool.0.zones", "3"),
                ("pool.1.name", "gpu"),
                ("pool.1.count", "-4"),
                ("pool.1.autoscale", "on"),
                ("pool.1.min", "x"),
                // A forged index far beyond the pools shown adds one pool at most.
                ("pool.900.name", "many"),
                ("name", "ignored here"),
            ]),
        );
        assert_eq!(d.pools.len(), 2);
        assert_eq!(d.pools[0].name, "system");
        assert_eq!(
            d.pools[0].count, "5",
            "the slider moved, the number did not"
        );
        assert_eq!(d.pools[0].zones, ["1", "3"]);
        assert_eq!(d.pools[1].count, "-4");
        assert!(d.pools[1].autoscale);
        assert_eq!(d.pools[1].min, "x");
        assert_eq!(d.name, "");
    }

    #[test]
    fn the_number_wins_when_both_changed() {
        assert_eq!(slider_or_number("2", "7", "5"), "7");
        assert_eq!(slider_or_number("2", "2", "5"), "5");
        assert_eq!(slider_or_number("2", "2", ""), "2");
    }

    #[test]
    fn a_new_preset_fills_pools_and_keeps_a_changed_control_plane() {
        let offering = Offering {
            zones: vec!["1".into(), "2".into(), "3".into()],
            ..Offering::default()
        };
        let mut d = Draft::new("id".into(), &offering);
        assert_eq!(d.control_plane, "1");
        d.preset = "production".into();
        d.apply_preset(&offering);
        assert_eq!(d.control_plane, "3");
        assert_eq!(d.pools.len(), 2);
        assert_eq!(d.pools[0].count, "3");
        assert_eq!(d.pools[1].max, "6");
        // Back to Dev/Test with a control plane of 5 chosen by hand: the 5 stays.
        d.control_plane = "5".into();
        d.preset = "dev-test".into();
        d.apply_preset(&offering);
        assert_eq!(d.control_plane, "5");
        assert_eq!(d.pools.len(), 1);
    }

    #[test]
    fn long_fields_are_cut_at_a_character_boundary() {
        let long = "é".repeat(FIELD_MAX);
        let cut = clip(&long);
        assert!(cut.len() <= FIELD_MAX);
        assert_eq!(cut.chars().count(), FIELD_MAX / 2);
    }
}
