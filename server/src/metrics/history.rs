//! Downsampled history in the database: one-minute points for 7 days, one-hour points for 90.
//
// The collector writes each closed minute from its recent samples (`flush`), merging into the
// hour's row so that a restart or a hand-over to another replica keeps what was written; pods
// keep one row per minute for the last hour. Rows past their age are deleted by `prune`.

use std::collections::{BTreeMap, HashMap};

use app::access::model::ClusterRef;

use super::recent::{Capacity, ClusterSamples, ContainerKey, Infra, NO_CAPACITY, Usage, mean};
use crate::store::{Db, StoreError, on_pool};

pub const MINUTE_MS: i64 = 60_000;
pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 86_400_000;
/// How long one-minute points are kept.
pub const MINUTES_KEPT_MS: i64 = 7 * DAY_MS;
/// How long one-hour points are kept.
pub const HOURS_KEPT_MS: i64 = 90 * DAY_MS;
/// How long pods' minutes are kept.
pub const POD_MINUTES_KEPT_MS: i64 = HOUR_MS;

/// The two resolutions: seconds per point, and the span of one row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    Minute,
    Hour,
}

impl Resolution {
    pub fn step_ms(self) -> i64 {
        match self {
            Resolution::Minute => MINUTE_MS,
            Resolution::Hour => HOUR_MS,
        }
    }
    fn row_ms(self) -> i64 {
        match self {
            Resolution::Minute => HOUR_MS,
            Resolution::Hour => DAY_MS,
        }
    }
    fn slots(self) -> usize {
        (self.row_ms() / self.step_ms()) as usize
    }
    fn seconds(self) -> i64 {
        self.step_ms() / 1000
    }
}

fn floor(ms: i64, to: i64) -> i64 {
    ms.div_euclid(to) * to
}

/// Points as stored: four little-endian f32 each.
pub fn encode(points: &[Capacity]) -> Vec<u8> {
    points
        .iter()
        .flat_map(|p| p.iter().flat_map(|v| v.to_le_bytes()))
        .collect()
}

/// A stored row back into `slots` points; a row of another length (never written by this
/// version) reads as no data rather than as wrong numbers.
pub fn decode(bytes: &[u8], slots: usize) -> Vec<Capacity> {
    if bytes.len() != slots * 16 {
        return vec![NO_CAPACITY; slots];
    }
    bytes
        .chunks_exact(16)
        .map(|c| {
            let f = |i: usize| f32::from_le_bytes([c[i], c[i + 1], c[i + 2], c[i + 3]]);
            [f(0), f(4), f(8), f(12)]
        })
        .collect()
}

/// One container's minute in a pod row: namespace, pod, container, CPU millicores, memory bytes.
pub type PodMinute = (String, String, String, f32, f32);

/// What the history writer remembers between flushes: up to where each cluster is written.
#[derive(Default)]
pub struct Writer {
    written_to: HashMap<ClusterRef, i64>,
}

/// One cluster's minutes, taken from its samples, waiting to be written.
pub struct Pending {
    cluster: ClusterRef,
    /// The hours whose minute rows change.
    hours: Vec<i64>,
    updates: BTreeMap<(Infra, i64), Vec<(usize, Capacity)>>,
    pods: Vec<(i64, Vec<PodMinute>)>,
    /// The start of the minute still open: written again next time.
    open_minute: i64,
}

impl Writer {
    /// The minutes of `cluster` not written yet (at most the last hour), up to `now_ms`; the
    /// minute still open is included and rewritten by the next flush.
    pub fn take(
        &self,
        cluster: &ClusterRef,
        samples: &ClusterSamples,
        now_ms: i64,
    ) -> Option<Pending> {
        let open_minute = floor(now_ms, MINUTE_MS);
        let oldest = samples.oldest_ms()?;
        let from = self
            .written_to
            .get(cluster)
            .copied()
            .unwrap_or(i64::MIN)
            .max(floor(oldest, MINUTE_MS));
        if from > open_minute {
            return None;
        }
        let mut updates: BTreeMap<(Infra, i64), Vec<(usize, Capacity)>> = BTreeMap::new();
        let mut pods: Vec<(i64, Vec<PodMinute>)> = Vec::new();
        let mut hours: Vec<i64> = Vec::new();
        let mut minute = from;
        while minute <= open_minute {
            let row = floor(minute, HOUR_MS);
            if hours.last() != Some(&row) {
                hours.push(row);
            }
            let slot = ((minute - row) / MINUTE_MS) as usize;
            for (series, value) in samples.infra_means(minute, minute + MINUTE_MS) {
                updates
                    .entry((series, row))
                    .or_default()
                    .push((slot, value));
            }
            let containers = samples.container_means(minute, minute + MINUTE_MS);
            if !containers.is_empty() {
                pods.push((minute, pod_minutes(containers)));
            }
            minute += MINUTE_MS;
        }
        Some(Pending {
            cluster: cluster.clone(),
            hours,
            updates,
            pods,
            open_minute,
        })
    }

    /// Writes what `take` prepared: minute rows, the hour points of the hours touched, pods.
    pub async fn commit(&mut self, db: &Db, pending: Pending) -> Result<(), StoreError> {
        let key = pending.cluster.to_string();
        write_rows(db, &key, Resolution::Minute, pending.updates).await?;
        let mut hour_updates: BTreeMap<(Infra, i64), Vec<(usize, Capacity)>> = BTreeMap::new();
        for hour in pending.hours {
            for (series, points) in load_rows(db, &key, Resolution::Minute, hour).await? {
                if let Some(m) = mean(points.into_iter()) {
                    let day = floor(hour, DAY_MS);
                    let slot = ((hour - day) / HOUR_MS) as usize;
                    hour_updates
                        .entry((series, day))
                        .or_default()
                        .push((slot, m));
                }
            }
        }
        write_rows(db, &key, Resolution::Hour, hour_updates).await?;
        write_pods(db, &key, &pending.pods).await?;
        self.written_to.insert(pending.cluster, pending.open_minute);
        Ok(())
    }
}

/// Container means grouped as a pod row.
fn pod_minutes(containers: Vec<(ContainerKey, Usage)>) -> Vec<PodMinute> {
    let mut rows: Vec<PodMinute> = containers
        .into_iter()
        .map(|(k, u)| {
            (
                k.namespace.to_string(),
                k.pod.to_string(),
                k.container.to_string(),
                u[0],
                u[1],
            )
        })
        .collect();
    rows.sort_by(|a, b| (&a.0, &a.1, &a.2).cmp(&(&b.0, &b.1, &b.2)));
    rows
}

/// Every series' row of `cluster` starting at `start`.
async fn load_rows(
    db: &Db,
    cluster: &str,
    resolution: Resolution,
    start: i64,
) -> Result<Vec<(Infra, Vec<Capacity>)>, StoreError> {
    let rows: Vec<(String, Vec<u8>)> = on_pool!(db, pool => {
        sqlx::query_as(
            "SELECT series, points FROM metric_history WHERE cluster = $1 AND resolution_s = $2 AND start_ms = $3",
        )
        .bind(cluster)
        .bind(resolution.seconds())
        .bind(start)
        .fetch_all(pool)
        .await
    })?;
    Ok(rows
        .into_iter()
        .filter_map(|(s, p)| Some((Infra::from_key(&s)?, decode(&p, resolution.slots()))))
        .collect())
}

/// Merges `updates` into the stored rows (slots not updated keep what they held), in one
/// transaction per call.
async fn write_rows(
    db: &Db,
    cluster: &str,
    resolution: Resolution,
    updates: BTreeMap<(Infra, i64), Vec<(usize, Capacity)>>,
) -> Result<(), StoreError> {
    let starts: Vec<i64> = {
        let mut s: Vec<i64> = updates.keys().map(|(_, start)| *start).collect();
        s.sort_unstable();
        s.dedup();
        s
    };
    let mut stored: HashMap<(Infra, i64), Vec<Capacity>> = HashMap::new();
    for start in starts {
        for (series, points) in load_rows(db, cluster, resolution, start).await? {
            stored.insert((series, start), points);
        }
    }
    let rows: Vec<(String, i64, Vec<u8>)> = updates
        .into_iter()
        .map(|((series, start), values)| {
            let mut points = stored
                .remove(&(series.clone(), start))
                .unwrap_or_else(|| vec![NO_CAPACITY; resolution.slots()]);
            for (slot, value) in values {
                if let Some(p) = points.get_mut(slot) {
                    *p = value;
                }
            }
            (series.key(), start, encode(&points))
        })
        .collect();
    on_pool!(db, pool => {
        async {
            let mut tx = pool.begin().await?;
            for (series, start, points) in &rows {
                sqlx::query(
                    "INSERT INTO metric_history (cluster, series, resolution_s, start_ms, points) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (cluster, series, resolution_s, start_ms) DO UPDATE SET points = excluded.points",
                )
                .bind(cluster)
                .bind(series)
                .bind(resolution.seconds())
                .bind(*start)
                .bind(points)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        }
        .await
    })?;
    Ok(())
}

async fn write_pods(
    db: &Db,
    cluster: &str,
    pods: &[(i64, Vec<PodMinute>)],
) -> Result<(), StoreError> {
    if pods.is_empty() {
        return Ok(());
    }
    on_pool!(db, pool => {
        async {
            let mut tx = pool.begin().await?;
            for (start, rows) in pods {
                let body = serde_json::to_vec(rows).unwrap_or_default();
                sqlx::query(
                    "INSERT INTO metric_pod_minutes (cluster, start_ms, pods) VALUES ($1, $2, $3) \
                     ON CONFLICT (cluster, start_ms) DO UPDATE SET pods = excluded.pods",
                )
                .bind(cluster)
                .bind(*start)
                .bind(body)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        }
        .await
    })?;
    Ok(())
}

/// A series' points in `[from_ms, to_ms)` at `resolution`, each at the start of its minute or hour.
pub async fn read(
    db: &Db,
    cluster: &ClusterRef,
    series: &Infra,
    resolution: Resolution,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<(i64, Capacity)>, StoreError> {
    let rows: Vec<(i64, Vec<u8>)> = on_pool!(db, pool => {
        sqlx::query_as(
            "SELECT start_ms, points FROM metric_history WHERE cluster = $1 AND series = $2 AND resolution_s = $3 \
             AND start_ms >= $4 AND start_ms < $5 ORDER BY start_ms",
        )
        .bind(cluster.to_string())
        .bind(series.key())
        .bind(resolution.seconds())
        .bind(floor(from_ms, resolution.row_ms()))
        .bind(to_ms)
        .fetch_all(pool)
        .await
    })?;
    let step = resolution.step_ms();
    Ok(rows
        .into_iter()
        .flat_map(|(start, bytes)| {
            decode(&bytes, resolution.slots())
                .into_iter()
                .enumerate()
                .map(move |(i, p)| (start + i as i64 * step, p))
        })
        .filter(|(at, p)| *at >= from_ms && *at < to_ms && p.iter().any(|v| v.is_finite()))
        .collect())
}

/// Every series' one-minute points of `cluster` in `[from_ms, to_ms)`.
pub async fn read_all(
    db: &Db,
    cluster: &ClusterRef,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<(Infra, Vec<(i64, Capacity)>)>, StoreError> {
    let rows: Vec<(String, i64, Vec<u8>)> = on_pool!(db, pool => {
        sqlx::query_as(
            "SELECT series, start_ms, points FROM metric_history WHERE cluster = $1 AND resolution_s = 60 \
             AND start_ms >= $2 AND start_ms < $3 ORDER BY series, start_ms",
        )
        .bind(cluster.to_string())
        .bind(floor(from_ms, HOUR_MS))
        .bind(to_ms)
        .fetch_all(pool)
        .await
    })?;
    let mut out: BTreeMap<Infra, Vec<(i64, Capacity)>> = BTreeMap::new();
    for (series, start, bytes) in rows {
        let Some(infra) = Infra::from_key(&series) else {
            continue;
        };
        let points = out.entry(infra).or_default();
        for (i, p) in decode(&bytes, Resolution::Minute.slots())
            .into_iter()
            .enumerate()
        {
            let at = start + i as i64 * MINUTE_MS;
            if at >= from_ms && at < to_ms && p.iter().any(|v| v.is_finite()) {
                points.push((at, p));
            }
        }
    }
    Ok(out.into_iter().collect())
}

/// The pods' minutes of `cluster` from `from_ms` on, oldest first.
pub async fn read_pods(
    db: &Db,
    cluster: &ClusterRef,
    from_ms: i64,
) -> Result<Vec<(i64, Vec<PodMinute>)>, StoreError> {
    let rows: Vec<(i64, Vec<u8>)> = on_pool!(db, pool => {
        sqlx::query_as(
            "SELECT start_ms, pods FROM metric_pod_minutes WHERE cluster = $1 AND start_ms >= $2 ORDER BY start_ms",
        )
        .bind(cluster.to_string())
        .bind(from_ms)
        .fetch_all(pool)
        .await
    })?;
    Ok(rows
        .into_iter()
        .filter_map(|(at, body)| Some((at, serde_json::from_slice(&body).ok()?)))
        .collect())
}

/// Deletes what is past its age; the number of rows deleted.
pub async fn prune(db: &Db, now_ms: i64) -> Result<u64, StoreError> {
    let minutes_before = floor(now_ms - MINUTES_KEPT_MS, HOUR_MS);
    let hours_before = floor(now_ms - HOURS_KEPT_MS, DAY_MS);
    let pods_before = now_ms - POD_MINUTES_KEPT_MS;
    let done = on_pool!(db, pool => {
        async {
            let a = sqlx::query("DELETE FROM metric_history WHERE resolution_s = 60 AND start_ms < $1")
                .bind(minutes_before)
                .execute(pool)
                .await?
                .rows_affected();
            let b = sqlx::query("DELETE FROM metric_history WHERE resolution_s = 3600 AND start_ms < $1")
                .bind(hours_before)
                .execute(pool)
                .await?
                .rows_affected();
            let c = sqlx::query("DELETE FROM metric_pod_minutes WHERE start_ms < $1")
                .bind(pods_before)
                .execute(pool)
                .await?
                .rows_affected();
            Ok::<u64, sqlx::Error>(a + b + c)
        }
        .await
    })?;
    Ok(done)
}

/// Bytes one day of `cluster`'s history takes in the database (payload and keys of its rows): its
/// one-minute rows of one stored hour times 24, plus a one-hour row per series. For the size
/// benchmark; `None` while nothing is stored.
pub async fn bytes_per_day(db: &Db, cluster: &ClusterRef) -> Result<Option<i64>, StoreError> {
    let row: (Option<i64>, Option<i64>, Option<i64>) = on_pool!(db, pool => {
        sqlx::query_as(
            "SELECT CAST(SUM(LENGTH(points) + LENGTH(series) + LENGTH(cluster) + 16) AS BIGINT), \
                    CAST(COUNT(DISTINCT start_ms) AS BIGINT), CAST(COUNT(DISTINCT series) AS BIGINT) \
             FROM metric_history WHERE cluster = $1 AND resolution_s = 60",
        )
        .bind(cluster.to_string())
        .fetch_one(pool)
        .await
    })?;
    let (Some(bytes), Some(hours), Some(series)) = row else {
        return Ok(None);
    };
    if hours == 0 {
        return Ok(None);
    }
    let hour_row = 24 * 16 + 48;
    Ok(Some(bytes / hours * 24 + series * hour_row))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_survive_the_round_trip_and_bad_rows_read_as_no_data() {
        let points = vec![[1.5, 2.0, 3.0, 4.0], NO_CAPACITY];
        let back = decode(&encode(&points), 2);
        assert_eq!(back[0], [1.5, 2.0, 3.0, 4.0]);
        assert!(back[1].iter().all(|v| v.is_nan()));
        assert!(decode(&[1, 2, 3], 2).iter().flatten().all(|v| v.is_nan()));
    }
}
