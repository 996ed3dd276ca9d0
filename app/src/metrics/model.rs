//! What crosses the wire for charts: time ranges, chart names, scopes, rendered charts and tables.

use serde::{Deserialize, Serialize};

/// The time ranges a chart can show (the address carries one as `range=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum TimeRange {
    M15,
    #[default]
    H1,
    H6,
    H24,
    D7,
}

impl TimeRange {
    pub const ALL: [TimeRange; 5] = [
        TimeRange::M15,
        TimeRange::H1,
        TimeRange::H6,
        TimeRange::H24,
        TimeRange::D7,
    ];

    /// As written in addresses.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeRange::M15 => "15m",
            TimeRange::H1 => "1h",
            TimeRange::H6 => "6h",
            TimeRange::H24 => "24h",
            TimeRange::D7 => "7d",
        }
    }

    /// As shown on links and in chart names.
    pub fn label(self) -> &'static str {
        match self {
            TimeRange::M15 => "15 m",
            TimeRange::H1 => "1 h",
            TimeRange::H6 => "6 h",
            TimeRange::H24 => "24 h",
            TimeRange::D7 => "7 d",
        }
    }

    pub fn millis(self) -> i64 {
        const MIN: i64 = 60_000;
        match self {
            TimeRange::M15 => 15 * MIN,
            TimeRange::H1 => 60 * MIN,
            TimeRange::H6 => 360 * MIN,
            TimeRange::H24 => 1440 * MIN,
            TimeRange::D7 => 7 * 1440 * MIN,
        }
    }

    /// The range named in an address (empty: the default, 1 h); anything else is refused with
    /// the allowed values.
    pub fn parse(text: &str) -> Result<TimeRange, String> {
        if text.is_empty() {
            return Ok(TimeRange::default());
        }
        TimeRange::ALL
            .into_iter()
            .find(|r| r.as_str() == text)
            .ok_or_else(|| {
                format!(
                    "unknown time range \"{}\": use one of 15m, 1h, 6h, 24h, 7d",
                    text.chars().take(32).collect::<String>()
                )
            })
    }
}

/// Which chart: CPU or memory over time, or the pods using the most now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChartName {
    Cpu,
    Memory,
    TopCpu,
    TopMemory,
}

impl ChartName {
    pub const ALL: [ChartName; 4] = [
        ChartName::Cpu,
        ChartName::Memory,
        ChartName::TopCpu,
        ChartName::TopMemory,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChartName::Cpu => "cpu",
            ChartName::Memory => "memory",
            ChartName::TopCpu => "top-cpu",
            ChartName::TopMemory => "top-memory",
        }
    }

    pub fn parse(text: &str) -> Result<ChartName, String> {
        ChartName::ALL
            .into_iter()
            .find(|c| c.as_str() == text)
            .ok_or_else(|| {
                format!(
                    "unknown chart \"{}\": use one of cpu, memory, top-cpu, top-memory",
                    text.chars().take(32).collect::<String>()
                )
            })
    }

    pub fn is_memory(self) -> bool {
        matches!(self, ChartName::Memory | ChartName::TopMemory)
    }
}

/// What a chart is about, within its cluster.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum ChartScope {
    #[default]
    Cluster,
    Pool(String),
    Node(String),
    Pod {
        namespace: String,
        name: String,
    },
}

impl ChartScope {
    /// The query parameters that name it (`&pool=…`, `&node=…`, `&pod=ns/name`), for addresses.
    pub fn query(&self) -> String {
        match self {
            ChartScope::Cluster => String::new(),
            ChartScope::Pool(p) => format!("&pool={}", crate::ui::percent_encode(p)),
            ChartScope::Node(n) => format!("&node={}", crate::ui::percent_encode(n)),
            ChartScope::Pod { namespace, name } => format!(
                "&pod={}/{}",
                crate::ui::percent_encode(namespace),
                crate::ui::percent_encode(name)
            ),
        }
    }

    /// From the query parameters `pool`, `node`, `pod` (at most one may be set).
    pub fn from_query(pool: &str, node: &str, pod: &str) -> Result<ChartScope, String> {
        match (pool.is_empty(), node.is_empty(), pod.is_empty()) {
            (true, true, true) => Ok(ChartScope::Cluster),
            (false, true, true) => Ok(ChartScope::Pool(pool.to_string())),
            (true, false, true) => Ok(ChartScope::Node(node.to_string())),
            (true, true, false) => match pod.split_once('/') {
                Some((ns, name)) if !ns.is_empty() && !name.is_empty() => Ok(ChartScope::Pod {
                    namespace: ns.to_string(),
                    name: name.to_string(),
                }),
                _ => Err("pod must be written namespace/name".into()),
            },
            _ => Err("name at most one of pool, node and pod".into()),
        }
    }
}

/// A chart's address: `/clusters/<ns>/<name>/charts/<chart>` and `?range=…[&pool=|&node=|&pod=…]`,
/// always written the same way, so that its element id (`chart_id`) is the same on the page and in
/// the live stream's events.
pub fn chart_address(
    namespace: &str,
    name: &str,
    chart: ChartName,
    range: TimeRange,
    scope: &ChartScope,
) -> (String, String) {
    (
        format!(
            "/clusters/{}/{}/charts/{}",
            crate::ui::percent_encode(namespace),
            crate::ui::percent_encode(name),
            chart.as_str()
        ),
        format!("?range={}{}", range.as_str(), scope.query()),
    )
}

/// The element id of the chart at `path` + `query` ("chart-" and a hash of the address), which is
/// also the name of its events in live streams.
pub fn chart_id(path: &str, query: &str) -> String {
    // FNV-1a: short, and the same on the server and in the browser.
    let hash = path
        .bytes()
        .chain(query.bytes())
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    format!("chart-{hash:016x}")
}

/// A chart's numbers as a table ("Show as table").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct ChartTable {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// One rendered chart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChartView {
    /// Its accessible name, starting "CPU" or "Memory".
    pub name: String,
    /// The `<svg role="img">` markup, made on the server from numbers and Kubernetes names.
    pub svg: String,
    /// `/clusters/<ns>/<name>/charts/<chart>`: add `.svg`, `.png` or `/stream`, then `query`.
    pub path: String,
    /// `?range=…&node=…`.
    pub query: String,
    pub table: ChartTable,
    /// "No data since 14:02:11 UTC — …" when the metrics stopped coming.
    pub note: Option<String>,
}

/// The charts of one page section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChartsView {
    pub range: TimeRange,
    pub charts: Vec<ChartView>,
}
