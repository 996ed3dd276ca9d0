//! The last hour of samples per workload cluster, at full resolution, in memory.
//
// Each cluster keeps the times of its samples once (`ticks`) and every series a run of values
// aligned to them, so a sample costs 8 bytes per container and 16 per node, pool or cluster. A
// missing value is NaN: a gap, never a zero.

use std::collections::{HashMap, VecDeque};

use app::access::model::ClusterRef;

/// How long samples stay in memory.
pub const KEEP_MS: i64 = 3_600_000;

/// CPU in millicores and memory in bytes.
pub type Usage = [f32; 2];
/// Used CPU and memory, then allocatable CPU and memory.
pub type Capacity = [f32; 4];

pub const NO_USAGE: Usage = [f32::NAN; 2];
pub const NO_CAPACITY: Capacity = [f32::NAN; 4];

/// A series of nodes' figures: the cluster's total, a pool's, or one node's.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Infra {
    Cluster,
    Pool(Box<str>),
    Node(Box<str>),
}

impl Infra {
    /// How the series is named in the database ("cluster", "pool/<name>", "node/<name>").
    pub fn key(&self) -> String {
        match self {
            Infra::Cluster => "cluster".into(),
            Infra::Pool(p) => format!("pool/{p}"),
            Infra::Node(n) => format!("node/{n}"),
        }
    }

    /// Bytes of its name on the heap.
    fn heap_bytes(&self) -> usize {
        match self {
            Infra::Cluster => 0,
            Infra::Pool(n) | Infra::Node(n) => n.len(),
        }
    }

    pub fn from_key(key: &str) -> Option<Infra> {
        match key.split_once('/') {
            None if key == "cluster" => Some(Infra::Cluster),
            Some(("pool", p)) if !p.is_empty() => Some(Infra::Pool(p.into())),
            Some(("node", n)) if !n.is_empty() => Some(Infra::Node(n.into())),
            _ => None,
        }
    }
}

/// A container of a pod.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContainerKey {
    pub namespace: Box<str>,
    pub pod: Box<str>,
    pub container: Box<str>,
}

/// One node's sample.
#[derive(Clone, Debug)]
pub struct NodeSample {
    pub name: String,
    pub pool: Option<String>,
    pub used: Usage,
    /// Allocatable CPU and memory, from the node's status (NaN when not known).
    pub allocatable: Usage,
}

/// Everything one poll of a cluster's metrics API brought.
#[derive(Clone, Debug, Default)]
pub struct Scrape {
    pub at_ms: i64,
    pub nodes: Vec<NodeSample>,
    pub containers: Vec<(ContainerKey, Usage)>,
}

/// Values aligned to the cluster's ticks, from tick `start` on.
#[derive(Debug)]
struct Run<T> {
    start: u64,
    values: VecDeque<T>,
}

impl<T: Copy> Run<T> {
    fn new(start: u64) -> Self {
        Run {
            start,
            values: VecDeque::new(),
        }
    }

    /// Puts `value` at tick `at`, filling ticks it missed with `none`.
    fn put(&mut self, at: u64, value: T, none: T) {
        while self.start + (self.values.len() as u64) < at {
            self.values.push_back(none);
        }
        self.values.push_back(value);
    }

    /// Drops values before tick `first`; whether anything is left.
    fn trim(&mut self, first: u64) -> bool {
        while self.start < first && !self.values.is_empty() {
            self.values.pop_front();
            self.start += 1;
        }
        self.start = self.start.max(first);
        !self.values.is_empty()
    }

    fn get(&self, tick: u64) -> Option<T> {
        let i = tick.checked_sub(self.start)?;
        self.values.get(usize::try_from(i).ok()?).copied()
    }
}

/// One cluster's last hour.
#[derive(Debug, Default)]
pub struct ClusterSamples {
    /// The absolute number of `ticks[0]`.
    first: u64,
    ticks: VecDeque<i64>,
    infra: HashMap<Infra, Run<Capacity>>,
    containers: HashMap<ContainerKey, Run<Usage>>,
    /// When the metrics API last answered with metrics.
    pub last_ok_ms: Option<i64>,
    /// The latest failure (when, why in words), cleared by the next good answer.
    pub problem: Option<(i64, String)>,
}

impl ClusterSamples {
    fn record(&mut self, scrape: &Scrape) {
        let tick = self.first + self.ticks.len() as u64;
        self.ticks.push_back(scrape.at_ms);
        let mut sums: HashMap<Infra, Capacity> = HashMap::new();
        for node in &scrape.nodes {
            let v = [
                node.used[0],
                node.used[1],
                node.allocatable[0],
                node.allocatable[1],
            ];
            let mut add = |key: Infra| {
                let sum = sums.entry(key).or_insert([0.0; 4]);
                for (s, x) in sum.iter_mut().zip(v) {
                    // A node whose allocatable is not known adds nothing to the pool's.
                    if x.is_finite() {
                        *s += x;
                    }
                }
            };
            add(Infra::Cluster);
            if let Some(pool) = &node.pool {
                add(Infra::Pool(pool.as_str().into()));
            }
            self.infra
                .entry(Infra::Node(node.name.as_str().into()))
                .or_insert_with(|| Run::new(tick))
                .put(tick, v, NO_CAPACITY);
        }
        for (key, sum) in sums {
            self.infra
                .entry(key)
                .or_insert_with(|| Run::new(tick))
                .put(tick, sum, NO_CAPACITY);
        }
        for (key, usage) in &scrape.containers {
            match self.containers.get_mut(key) {
                Some(run) => run.put(tick, *usage, NO_USAGE),
                None => {
                    let mut run = Run::new(tick);
                    run.put(tick, *usage, NO_USAGE);
                    self.containers.insert(key.clone(), run);
                }
            }
        }
        self.last_ok_ms = Some(scrape.at_ms);
        self.problem = None;
        self.trim(scrape.at_ms - KEEP_MS);
    }

    /// Forgets samples older than `oldest_ms`, and series with nothing left.
    fn trim(&mut self, oldest_ms: i64) {
        while self.ticks.front().is_some_and(|t| *t < oldest_ms) {
            self.ticks.pop_front();
            self.first += 1;
        }
        let first = self.first;
        self.infra.retain(|_, run| run.trim(first));
        self.containers.retain(|_, run| run.trim(first));
    }

    /// The nodes' series held (cluster, pools, nodes).
    pub fn infra_series(&self) -> impl Iterator<Item = &Infra> {
        self.infra.keys()
    }

    /// How many samples are kept.
    pub fn samples(&self) -> usize {
        self.ticks.len()
    }

    /// Time of the oldest sample kept.
    pub fn oldest_ms(&self) -> Option<i64> {
        self.ticks.front().copied()
    }

    /// The ticks at or after `since_ms`, with their absolute numbers.
    fn ticks_since(&self, since_ms: i64) -> impl Iterator<Item = (u64, i64)> + '_ {
        self.ticks
            .iter()
            .enumerate()
            .filter(move |(_, t)| **t >= since_ms)
            .map(|(i, t)| (self.first + i as u64, *t))
    }

    /// One nodes' series from `since_ms`: a point per sample (NaN where the series had none).
    pub fn infra_points(&self, series: &Infra, since_ms: i64) -> Vec<(i64, Capacity)> {
        let run = self.infra.get(series);
        self.ticks_since(since_ms)
            .map(|(tick, at)| (at, run.and_then(|r| r.get(tick)).unwrap_or(NO_CAPACITY)))
            .collect()
    }

    /// A pod's containers from `since_ms`, by container name.
    pub fn pod_points(
        &self,
        namespace: &str,
        pod: &str,
        since_ms: i64,
    ) -> Vec<(String, Vec<(i64, Usage)>)> {
        let mut out: Vec<(String, Vec<(i64, Usage)>)> = self
            .containers
            .iter()
            .filter(|(k, _)| &*k.namespace == namespace && &*k.pod == pod)
            .map(|(k, run)| {
                let points = self
                    .ticks_since(since_ms)
                    .map(|(tick, at)| (at, run.get(tick).unwrap_or(NO_USAGE)))
                    .collect();
                (k.container.to_string(), points)
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Each container's mean usage over the samples in `[from_ms, to_ms)`, when it has any.
    pub fn container_means(&self, from_ms: i64, to_ms: i64) -> Vec<(ContainerKey, Usage)> {
        let ticks: Vec<u64> = self
            .ticks_since(from_ms)
            .filter(|(_, at)| *at < to_ms)
            .map(|(tick, _)| tick)
            .collect();
        self.containers
            .iter()
            .filter_map(|(key, run)| {
                let mean = mean(ticks.iter().filter_map(|t| run.get(*t)))?;
                Some((key.clone(), mean))
            })
            .collect()
    }

    /// Each series' mean over the samples in `[from_ms, to_ms)`, when it has any.
    pub fn infra_means(&self, from_ms: i64, to_ms: i64) -> Vec<(Infra, Capacity)> {
        let ticks: Vec<u64> = self
            .ticks_since(from_ms)
            .filter(|(_, at)| *at < to_ms)
            .map(|(tick, _)| tick)
            .collect();
        self.infra
            .iter()
            .filter_map(|(key, run)| {
                let mean = mean(ticks.iter().filter_map(|t| run.get(*t)))?;
                Some((key.clone(), mean))
            })
            .collect()
    }

    /// Every container's usage at the latest sample (containers absent from it are left out).
    pub fn latest_containers(&self) -> Vec<(ContainerKey, Usage)> {
        let Some(last) = (self.first + self.ticks.len() as u64).checked_sub(1) else {
            return Vec::new();
        };
        self.containers
            .iter()
            .filter_map(|(k, run)| Some((k.clone(), run.get(last)?)))
            .filter(|(_, u)| u[0].is_finite())
            .collect()
    }

    /// Time of the latest sample.
    pub fn latest_ms(&self) -> Option<i64> {
        self.ticks.back().copied()
    }

    /// The heap bytes this holds, counted from capacities (for the memory benchmark): what the
    /// samples cost apart from the allocator's own bookkeeping and transient scrape buffers.
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        // A hashbrown entry: the pair and one control byte.
        let infra = self.infra.capacity() * (size_of::<(Infra, Run<Capacity>)>() + 1)
            + self
                .infra
                .iter()
                .map(|(k, r)| k.heap_bytes() + r.values.capacity() * size_of::<Capacity>())
                .sum::<usize>();
        let containers = self.containers.capacity() * (size_of::<(ContainerKey, Run<Usage>)>() + 1)
            + self
                .containers
                .iter()
                .map(|(k, r)| {
                    k.namespace.len()
                        + k.pod.len()
                        + k.container.len()
                        + r.values.capacity() * size_of::<Usage>()
                })
                .sum::<usize>();
        self.ticks.capacity() * size_of::<i64>() + infra + containers
    }

    /// How many values are held (for the memory benchmark).
    pub fn values_held(&self) -> usize {
        self.infra.values().map(|r| r.values.len()).sum::<usize>()
            + self
                .containers
                .values()
                .map(|r| r.values.len())
                .sum::<usize>()
    }
}

/// The mean of each figure over the values where it is a number; `None` when none is.
pub fn mean<const N: usize>(values: impl Iterator<Item = [f32; N]>) -> Option<[f32; N]> {
    let mut sum = [0f64; N];
    let mut count = [0u32; N];
    for v in values {
        for i in 0..N {
            if v[i].is_finite() {
                sum[i] += f64::from(v[i]);
                count[i] += 1;
            }
        }
    }
    if count.iter().all(|c| *c == 0) {
        return None;
    }
    let mut out = [f32::NAN; N];
    for i in 0..N {
        if count[i] > 0 {
            out[i] = (sum[i] / f64::from(count[i])) as f32;
        }
    }
    Some(out)
}

/// Every cluster's last hour.
#[derive(Default)]
pub struct Recent {
    clusters: HashMap<ClusterRef, ClusterSamples>,
}

impl Recent {
    pub fn record(&mut self, cluster: &ClusterRef, scrape: &Scrape) {
        self.clusters
            .entry(cluster.clone())
            .or_default()
            .record(scrape);
    }

    pub fn fail(&mut self, cluster: &ClusterRef, at_ms: i64, reason: String) {
        let samples = self.clusters.entry(cluster.clone()).or_default();
        samples.problem = Some((at_ms, reason));
        samples.trim(at_ms - KEEP_MS);
    }

    pub fn clusters(&self) -> impl Iterator<Item = (&ClusterRef, &ClusterSamples)> {
        self.clusters.iter()
    }

    pub fn get(&self, cluster: &ClusterRef) -> Option<&ClusterSamples> {
        self.clusters.get(cluster)
    }

    /// Forgets clusters that are gone.
    pub fn retain(&mut self, keep: impl Fn(&ClusterRef) -> bool) {
        self.clusters.retain(|c, _| keep(c));
    }

    pub fn values_held(&self) -> usize {
        self.clusters
            .values()
            .map(ClusterSamples::values_held)
            .sum()
    }

    /// The heap bytes of every cluster's samples (see [`ClusterSamples::heap_bytes`]).
    pub fn heap_bytes(&self) -> usize {
        self.clusters.values().map(ClusterSamples::heap_bytes).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, pool: &str, cpu: f32, mem: f32) -> NodeSample {
        NodeSample {
            name: name.into(),
            pool: Some(pool.into()),
            used: [cpu, mem],
            allocatable: [1000.0, 4000.0],
        }
    }

    fn container(pod: &str, cpu: f32) -> (ContainerKey, Usage) {
        (
            ContainerKey {
                namespace: "shop".into(),
                pod: pod.into(),
                container: "app".into(),
            },
            [cpu, 100.0],
        )
    }

    #[test]
    fn heap_bytes_count_every_value_held() {
        // 1,000 ticks of one node (its cluster, pool and node series: 16 bytes each), one
        // container (8 bytes) and the tick times (8 bytes), 64 bytes a tick: at least 64,000
        // bytes, and at most twice that (capacities double) plus the tables.
        let mut s = ClusterSamples::default();
        for i in 0..1000 {
            s.record(&Scrape {
                at_ms: i * 1000,
                nodes: vec![node("a", "p1", 1.0, 1.0)],
                containers: vec![container("web-1", 1.0)],
            });
        }
        assert_eq!(s.values_held(), 4000);
        let held = s.heap_bytes();
        assert!((64_000..=140_000).contains(&held), "{held}");
    }

    #[test]
    fn pools_and_the_cluster_are_sums_and_missing_samples_are_gaps() {
        let mut s = ClusterSamples::default();
        s.record(&Scrape {
            at_ms: 1_000,
            nodes: vec![node("a", "p1", 100.0, 10.0), node("b", "p2", 300.0, 30.0)],
            containers: vec![container("web", 5.0)],
        });
        // Node b and pod web are missing from the second sample.
        s.record(&Scrape {
            at_ms: 2_000,
            nodes: vec![node("a", "p1", 200.0, 20.0)],
            containers: vec![container("api", 7.0)],
        });
        assert_eq!(
            s.infra_points(&Infra::Cluster, 0),
            vec![
                (1_000, [400.0, 40.0, 2000.0, 8000.0]),
                (2_000, [200.0, 20.0, 1000.0, 4000.0])
            ]
        );
        let b = s.infra_points(&Infra::Node("b".into()), 0);
        assert_eq!(b[0], (1_000, [300.0, 30.0, 1000.0, 4000.0]));
        assert!(b[1].1.iter().all(|v| v.is_nan()));
        let web = s.pod_points("shop", "web", 0);
        assert_eq!(web.len(), 1);
        assert_eq!(web[0].1[0], (1_000, [5.0, 100.0]));
        assert!(web[0].1[1].1[0].is_nan());
        let latest: Vec<_> = s
            .latest_containers()
            .into_iter()
            .map(|(k, u)| (k.pod.to_string(), u))
            .collect();
        assert_eq!(latest, vec![("api".to_string(), [7.0, 100.0])]);
    }

    #[test]
    fn samples_older_than_an_hour_are_forgotten() {
        let mut s = ClusterSamples::default();
        for i in 0..5 {
            s.record(&Scrape {
                at_ms: i * 1_000_000,
                nodes: vec![node("a", "p1", i as f32, 1.0)],
                containers: vec![],
            });
        }
        // At 4,000,000 ms the hour began at 400,000: the samples at 0 went.
        assert_eq!(s.oldest_ms(), Some(1_000_000));
        let cpu: Vec<f32> = s
            .infra_points(&Infra::Node("a".into()), 0)
            .iter()
            .map(|p| p.1[0])
            .collect();
        assert_eq!(cpu, vec![1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn means_skip_gaps() {
        let m = mean([[1.0f32, f32::NAN], [3.0, 4.0]].into_iter()).expect("values");
        assert_eq!(m, [2.0, 4.0]);
        assert!(mean([[f32::NAN; 2]].into_iter()).is_none());
    }
}
