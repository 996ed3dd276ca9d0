//! A chart's data from recent samples and history, and its numbers as a table.
//
// Ranges up to a day draw the database's one-minute points up to where memory begins, then the
// recent samples; 7 days draw one-hour points. Long series are averaged into at most `POINTS`
// bins; points farther apart than two and a half steps are not joined (a gap).

use std::collections::{BTreeMap, HashMap, HashSet};

use app::metrics::model::{ChartName, ChartScope, ChartTable, TimeRange};

use super::chart::{Body, ChartData, Line, Unit, time_label};
use super::history::{self, Resolution};
use super::recent::{Capacity, Infra, Usage};
use super::{ChartSpec, Metrics};
use crate::fleet::workloads::Reach;
use crate::store::{StoreError, now_ms};

/// The most points a line is drawn with.
const POINTS: usize = 240;
/// Bars in a top-pods chart.
const TOP: usize = 10;

fn clock(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map(|t| format!("{:02}:{:02}:{:02} UTC", t.hour(), t.minute(), t.second()))
        .unwrap_or_default()
}

fn scope_text(spec: &ChartSpec) -> String {
    match &spec.scope {
        ChartScope::Cluster => format!("cluster {}", spec.cluster),
        ChartScope::Pool(p) => format!("pool {p} of cluster {}", spec.cluster),
        ChartScope::Node(n) => format!("node {n}"),
        ChartScope::Pod { namespace, name } => format!("pod {namespace}/{name}"),
    }
}

/// "No data since 14:02:11 UTC — why" when the collector's last poll of the cluster failed or
/// is overdue; `None` while data comes (or on a replica that does not collect).
fn freshness(metrics: &Metrics, spec: &ChartSpec, now: i64) -> Option<String> {
    if !metrics.is_collecting() {
        return None;
    }
    let overdue = 3 * metrics.interval.as_millis() as i64;
    metrics.with_recent(|r| {
        let s = r.get(&spec.cluster)?;
        let since = s.last_ok_ms.map_or("the portal started".to_string(), clock);
        match &s.problem {
            Some((_, why)) => Some(format!("No data since {since} — {why}")),
            None if s.last_ok_ms.is_some_and(|t| now - t > overdue) => {
                Some(format!("No data since {since}"))
            }
            None => None,
        }
    })
}

/// Averages points into bins of `width` starting at `from`.
fn bin<const N: usize>(points: &[(i64, [f32; N])], from: i64, width: i64) -> Vec<(i64, [f32; N])> {
    let mut bins: BTreeMap<i64, Vec<[f32; N]>> = BTreeMap::new();
    for (at, v) in points {
        let b = from + (at - from).div_euclid(width) * width;
        bins.entry(b).or_default().push(*v);
    }
    bins.into_iter()
        .filter_map(|(at, vs)| Some((at, super::recent::mean(vs.into_iter())?)))
        .collect()
}

/// Thins `points` to at most `POINTS`; the distance beyond which points are not joined.
fn thin<const N: usize>(
    points: Vec<(i64, [f32; N])>,
    from: i64,
    range_ms: i64,
    step_ms: i64,
) -> (Vec<(i64, [f32; N])>, i64) {
    if points.len() <= POINTS {
        return (points, step_ms * 5 / 2);
    }
    let width = (range_ms / POINTS as i64).max(step_ms);
    (bin(&points, from, width), width * 5 / 2)
}

/// A nodes' series over the range: history, then memory.
async fn infra_points(
    metrics: &Metrics,
    spec: &ChartSpec,
    series: &Infra,
    from: i64,
    now: i64,
) -> Result<(Vec<(i64, Capacity)>, i64), StoreError> {
    if spec.range == TimeRange::D7 {
        let points = history::read(
            &metrics.db,
            &spec.cluster,
            series,
            Resolution::Hour,
            from,
            now + 1,
        )
        .await?;
        return Ok((points, Resolution::Hour.step_ms()));
    }
    let (memory, oldest) = metrics.with_recent(|r| {
        r.get(&spec.cluster)
            .map(|s| (s.infra_points(series, from), s.oldest_ms()))
            .unwrap_or_default()
    });
    let db_to = oldest.unwrap_or(now + 1).max(from);
    let mut points = if db_to > from {
        history::read(
            &metrics.db,
            &spec.cluster,
            series,
            Resolution::Minute,
            from,
            db_to,
        )
        .await?
    } else {
        Vec::new()
    };
    let step = if points.is_empty() {
        metrics.interval.as_millis() as i64
    } else {
        Resolution::Minute.step_ms()
    };
    points.extend(memory);
    Ok((points, step))
}

/// A pod's containers over the range (pods' history is kept for an hour).
async fn pod_points(
    metrics: &Metrics,
    spec: &ChartSpec,
    namespace: &str,
    pod: &str,
    from: i64,
) -> Result<(BTreeMap<String, Vec<(i64, Usage)>>, i64), StoreError> {
    let (memory, oldest) = metrics.with_recent(|r| {
        r.get(&spec.cluster)
            .map(|s| (s.pod_points(namespace, pod, from), s.oldest_ms()))
            .unwrap_or_default()
    });
    let mut lines: BTreeMap<String, Vec<(i64, Usage)>> = BTreeMap::new();
    let db_to = oldest.unwrap_or(i64::MAX);
    let mut step = metrics.interval.as_millis() as i64;
    for (at, rows) in history::read_pods(&metrics.db, &spec.cluster, from).await? {
        if at >= db_to {
            break;
        }
        step = Resolution::Minute.step_ms();
        for (ns, p, container, cpu, mem) in rows {
            if ns == namespace && p == pod {
                lines.entry(container).or_default().push((at, [cpu, mem]));
            }
        }
    }
    for (container, points) in memory {
        lines.entry(container).or_default().extend(points);
    }
    Ok((lines, step))
}

/// The latest usage per pod (or per container of one pod): memory when fresh, else the database.
async fn latest_pods(
    metrics: &Metrics,
    spec: &ChartSpec,
    now: i64,
) -> Result<Vec<((String, String, String), Usage)>, StoreError> {
    let fresh = 3 * metrics.interval.as_millis() as i64;
    let memory: Vec<((String, String, String), Usage)> = metrics.with_recent(|r| {
        r.get(&spec.cluster)
            .filter(|s| s.latest_ms().is_some_and(|t| now - t <= fresh))
            .map(|s| {
                s.latest_containers()
                    .into_iter()
                    .map(|(k, u)| {
                        (
                            (
                                k.namespace.to_string(),
                                k.pod.to_string(),
                                k.container.to_string(),
                            ),
                            u,
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    });
    if !memory.is_empty() {
        return Ok(memory);
    }
    let rows =
        history::read_pods(&metrics.db, &spec.cluster, now - 10 * history::MINUTE_MS).await?;
    Ok(rows
        .into_iter()
        .next_back()
        .map(|(_, rows)| {
            rows.into_iter()
                .map(|(ns, p, c, cpu, mem)| ((ns, p, c), [cpu, mem]))
                .collect()
        })
        .unwrap_or_default())
}

/// The pods running on the nodes of the scope, from the cluster's pod watch.
async fn pods_on(
    metrics: &Metrics,
    spec: &ChartSpec,
    nodes: &HashSet<String>,
) -> HashSet<(String, String)> {
    let Reach::Connected(workload) = metrics.watch.workloads.reach(&spec.cluster) else {
        return HashSet::new();
    };
    let Ok(store) = workload.pods().await else {
        return HashSet::new();
    };
    store
        .state()
        .iter()
        .filter(|p| p.node().is_some_and(|n| nodes.contains(n)))
        .map(|p| (p.namespace().to_string(), p.name().to_string()))
        .collect()
}

/// What `spec` shows now.
pub async fn chart_data(metrics: &Metrics, spec: &ChartSpec) -> Result<ChartData, StoreError> {
    let now = now_ms();
    let range_ms = spec.range.millis();
    let from = now - range_ms;
    let note = freshness(metrics, spec, now);
    let what = scope_text(spec);
    let unit = if spec.chart.is_memory() {
        Unit::Memory
    } else {
        Unit::Cpu
    };
    let measure = if spec.chart.is_memory() {
        "Memory"
    } else {
        "CPU"
    };
    let i = usize::from(spec.chart.is_memory());
    let empty = match &note {
        Some(n) => n.clone(),
        None => format!("No data in the last {}", spec.range.label()),
    };
    let body = match (spec.chart, &spec.scope) {
        (ChartName::TopCpu | ChartName::TopMemory, scope) => {
            let latest = latest_pods(metrics, spec, now).await?;
            let only: Option<HashSet<(String, String)>> = match scope {
                ChartScope::Cluster | ChartScope::Pod { .. } => None,
                ChartScope::Node(n) => {
                    Some(pods_on(metrics, spec, &HashSet::from([n.clone()])).await)
                }
                ChartScope::Pool(p) => {
                    let nodes: HashSet<String> = metrics
                        .watch
                        .pools_by_node(&spec.cluster)
                        .into_iter()
                        .filter(|(_, pool)| pool == p)
                        .map(|(n, _)| n)
                        .collect();
                    Some(pods_on(metrics, spec, &nodes).await)
                }
            };
            let mut sums: HashMap<String, f64> = HashMap::new();
            for ((ns, pod, container), usage) in latest {
                let key = match scope {
                    ChartScope::Pod { namespace, name } => {
                        if &ns != namespace || &pod != name {
                            continue;
                        }
                        container
                    }
                    _ => {
                        if only
                            .as_ref()
                            .is_some_and(|set| !set.contains(&(ns.clone(), pod.clone())))
                        {
                            continue;
                        }
                        format!("{ns}/{pod}")
                    }
                };
                *sums.entry(key).or_default() += f64::from(usage[i]);
            }
            let mut bars: Vec<(String, f64)> =
                sums.into_iter().filter(|(_, v)| v.is_finite()).collect();
            bars.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            bars.truncate(TOP);
            let title = format!("{measure}: top pods of {what}, latest sample");
            return Ok(ChartData {
                title,
                unit,
                body: Body::Bars(bars),
                empty,
                note,
            });
        }
        (_, ChartScope::Pod { namespace, name }) => {
            let (lines, step) = pod_points(metrics, spec, namespace, name, from).await?;
            let mut gap = step * 5 / 2;
            let lines = lines
                .into_iter()
                .map(|(container, points)| {
                    let (points, g) = thin(points, from, range_ms, step);
                    gap = gap.max(g);
                    Line {
                        label: container,
                        points: points
                            .into_iter()
                            .map(|(at, v)| (at, f64::from(v[i])))
                            .collect(),
                        dashed: false,
                    }
                })
                .collect();
            Body::Lines {
                lines,
                from_ms: from,
                to_ms: now,
                gap_ms: gap,
            }
        }
        (_, scope) => {
            let series = match scope {
                ChartScope::Pool(p) => Infra::Pool(p.as_str().into()),
                ChartScope::Node(n) => Infra::Node(n.as_str().into()),
                _ => Infra::Cluster,
            };
            let (points, step) = infra_points(metrics, spec, &series, from, now).await?;
            let (points, gap) = thin(points, from, range_ms, step);
            let line = |label: &str, k: usize, dashed: bool| Line {
                label: label.to_string(),
                points: points
                    .iter()
                    .map(|(at, v)| (*at, f64::from(v[k])))
                    .collect(),
                dashed,
            };
            Body::Lines {
                lines: vec![line("used", i, false), line("allocatable", i + 2, true)],
                from_ms: from,
                to_ms: now,
                gap_ms: gap,
            }
        }
    };
    let by = if matches!(spec.scope, ChartScope::Pod { .. }) {
        " by container"
    } else {
        ""
    };
    let title = format!("{measure} of {what}{by}, last {}", spec.range.label());
    Ok(ChartData {
        title,
        unit,
        body,
        empty,
        note,
    })
}

/// The chart's numbers, as "Show as table" lists them (in the axis' unit).
pub fn table(data: &ChartData) -> ChartTable {
    let max = data.max();
    let cell = |v: f64| {
        if v.is_finite() {
            data.unit.format(v, max)
        } else {
            "—".to_string()
        }
    };
    match &data.body {
        Body::Bars(bars) => ChartTable {
            headers: vec![
                "Name".into(),
                if data.unit == Unit::Cpu {
                    "CPU".into()
                } else {
                    "Memory".into()
                },
            ],
            rows: bars
                .iter()
                .map(|(name, v)| vec![name.clone(), cell(*v)])
                .collect(),
        },
        Body::Lines {
            lines,
            from_ms,
            to_ms,
            ..
        } => {
            let span = to_ms - from_ms;
            let mut by_time: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
            for (k, line) in lines.iter().enumerate() {
                for (at, v) in &line.points {
                    let row = by_time
                        .entry(*at)
                        .or_insert_with(|| vec![f64::NAN; lines.len()]);
                    row[k] = *v;
                }
            }
            let mut headers = vec!["Time (UTC)".to_string()];
            headers.extend(lines.iter().map(|l| l.label.clone()));
            ChartTable {
                headers,
                rows: by_time
                    .into_iter()
                    .filter(|(_, vs)| vs.iter().any(|v| v.is_finite()))
                    .map(|(at, vs)| {
                        let mut row = vec![if span > 86_400_000 {
                            time_label(at, span)
                        } else {
                            clock(at).trim_end_matches(" UTC").to_string()
                        }];
                        row.extend(vs.into_iter().map(cell));
                        row
                    })
                    .collect(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_average_and_leave_empty_bins_out() {
        let points = vec![(0, [1.0f32]), (10, [3.0]), (25, [5.0]), (61, [7.0])];
        assert_eq!(
            bin(&points, 0, 20),
            vec![(0, [2.0]), (20, [5.0]), (60, [7.0])]
        );
    }

    #[test]
    fn tables_list_each_time_once_with_every_line() {
        let data = ChartData {
            title: "CPU".into(),
            unit: Unit::Cpu,
            body: Body::Lines {
                lines: vec![
                    Line {
                        label: "used".into(),
                        points: vec![(1_764_590_700_000, 250.0), (1_764_590_715_000, f64::NAN)],
                        dashed: false,
                    },
                    Line {
                        label: "allocatable".into(),
                        points: vec![(1_764_590_700_000, 900.0)],
                        dashed: true,
                    },
                ],
                from_ms: 1_764_590_000_000,
                to_ms: 1_764_590_800_000,
                gap_ms: 40_000,
            },
            empty: String::new(),
            note: None,
        };
        let t = table(&data);
        assert_eq!(t.headers, vec!["Time (UTC)", "used", "allocatable"]);
        assert_eq!(
            t.rows,
            vec![vec![
                "12:05:00".to_string(),
                "250 millicores".into(),
                "900 millicores".into()
            ]]
        );
    }
}
