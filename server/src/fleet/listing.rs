//! The fleet table as the address asks for it: search, filters, counts per health, sort and page.

use app::clusters::model::{
    ClusterRow, FLEET_PAGE_SIZE, FLEET_SORT_KEYS, FleetQuery, FleetView, Health,
};

/// The longest search or filter value accepted.
const VALUE_MAX: usize = 256;

/// Why a fleet query cannot be answered (a 400 with this text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadQuery(pub String);

/// One page of `rows` (every cluster the caller may see) for `query`. Unknown sort keys and page
/// numbers fall back to the default (sorted by name, first page; past the end: the last page);
/// a health filter that is not a health state, or values longer than 256 characters, are refused.
pub fn view(
    rows: &[&ClusterRow],
    query: &FleetQuery,
    stale: Option<String>,
) -> Result<FleetView, BadQuery> {
    for (name, value) in [
        ("q", &query.q),
        ("version", &query.version),
        ("region", &query.region),
        ("tag", &query.tag),
    ] {
        if value.chars().count() > VALUE_MAX {
            return Err(BadQuery(format!(
                "the {name} filter is longer than {VALUE_MAX} characters"
            )));
        }
    }
    let health = match query.health.trim() {
        "" => None,
        h => Some(Health::parse(h).ok_or_else(|| {
            BadQuery(format!(
                "\"{}\" is not a health state; use one of {}",
                h.chars().take(40).collect::<String>(),
                Health::ALL.map(Health::as_str).join(", ")
            ))
        })?),
    };
    let visible = rows.len();
    let distinct = |pick: fn(&ClusterRow) -> &str| {
        let mut values: Vec<&str> = rows
            .iter()
            .map(|r| pick(r))
            .filter(|v| !v.is_empty())
            .collect();
        values.sort_unstable();
        values.dedup();
        values.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    let regions = distinct(|r| &r.region);
    let versions = distinct(|r| &r.version);
    let needle = query.q.trim().to_lowercase();
    let tag = query.tag.trim();
    let others_match = |r: &ClusterRow| {
        (needle.is_empty() || r.name.to_lowercase().contains(&needle))
            && (query.version.is_empty() || r.version == query.version.trim())
            && (query.region.is_empty() || r.region == query.region.trim())
            && (tag.is_empty() || has_tag(r, tag))
    };
    let candidates: Vec<&ClusterRow> = rows.iter().copied().filter(|r| others_match(r)).collect();
    let counts = Health::ALL
        .map(|h| {
            (
                h,
                candidates.iter().filter(|r| r.health.health == h).count(),
            )
        })
        .to_vec();
    let mut matching: Vec<&ClusterRow> = candidates
        .into_iter()
        .filter(|r| health.is_none_or(|h| r.health.health == h))
        .collect();
    let sort = if FLEET_SORT_KEYS.contains(&query.sort.as_str()) {
        query.sort.clone()
    } else {
        "name".to_string()
    };
    let descending = query.dir == "desc";
    sort_rows(&mut matching, &sort);
    if descending {
        matching.reverse();
    }
    let total = matching.len();
    let (page, pages) = page_of(&query.page, total, FLEET_PAGE_SIZE);
    let rows = matching
        .into_iter()
        .skip((page - 1) * FLEET_PAGE_SIZE)
        .take(FLEET_PAGE_SIZE)
        .cloned()
        .collect();
    Ok(FleetView {
        rows,
        matching: total,
        visible,
        page,
        pages,
        counts,
        sort,
        descending,
        regions,
        versions,
        stale,
        may_create: false,
    })
}

/// The page asked for (1-based; anything that is not a page number: the first; past the end: the
/// last) and how many pages `total` rows of `size` make (at least one).
pub fn page_of(asked: &str, total: usize, size: usize) -> (usize, usize) {
    let pages = total.div_ceil(size).max(1);
    let page = asked
        .trim()
        .parse::<usize>()
        .ok()
        .filter(|p| *p >= 1)
        .unwrap_or(1)
        .min(pages);
    (page, pages)
}

/// `key=value` matches that tag; `key` alone matches any value of it.
pub(crate) fn has_tag(row: &ClusterRow, wanted: &str) -> bool {
    if wanted.contains('=') {
        row.tags.iter().any(|t| t == wanted)
    } else {
        row.tags
            .iter()
            .any(|t| t.split_once('=').is_some_and(|(k, _)| k == wanted))
    }
}

/// Sorts by `key`, ascending, ties broken by name and namespace (a stable, shareable order).
fn sort_rows(rows: &mut [&ClusterRow], key: &str) {
    fn id(r: &ClusterRow) -> (&str, &str) {
        (r.name.as_str(), r.namespace.as_str())
    }
    match key {
        "namespace" => rows.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name))),
        "region" => rows.sort_by(|a, b| (&a.region, id(a)).cmp(&(&b.region, id(b)))),
        "version" => rows.sort_by_cached_key(|r| {
            (
                super::versions::Version::parse(&r.version),
                r.version.clone(),
                r.name.clone(),
                r.namespace.clone(),
            )
        }),
        "health" => rows.sort_by(|a, b| (a.health.health, id(a)).cmp(&(b.health.health, id(b)))),
        "pools" => rows.sort_by(|a, b| (a.pools, id(a)).cmp(&(b.pools, id(b)))),
        "nodes" => rows.sort_by(|a, b| (a.nodes_total, id(a)).cmp(&(b.nodes_total, id(b)))),
        // Ascending age: the youngest first (the newest creation time first).
        "age" => rows.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| id(a).cmp(&id(b)))),
        _ => rows.sort_by(|a, b| id(a).cmp(&id(b))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::clusters::model::HealthState;

    fn row(name: &str, region: &str, version: &str, health: Health, created: &str) -> ClusterRow {
        ClusterRow {
            namespace: "default".into(),
            name: name.into(),
            region: region.into(),
            version: version.into(),
            upgrade: None,
            health: HealthState {
                health,
                reason: String::new(),
            },
            pools: 1,
            nodes_ready: Some(1),
            nodes_total: Some(1),
            tags: vec![format!("team={}", &name[..1])],
            created: created.into(),
            age: String::new(),
        }
    }

    fn fleet() -> Vec<ClusterRow> {
        vec![
            row(
                "beta",
                "eastus",
                "v1.32.7",
                Health::Degraded,
                "2026-11-02T00:00:00Z",
            ),
            row(
                "alpha",
                "westeurope",
                "v1.33.5",
                Health::Healthy,
                "2026-11-03T00:00:00Z",
            ),
            row(
                "gamma",
                "westeurope",
                "v1.9.0",
                Health::Healthy,
                "2026-11-01T00:00:00Z",
            ),
        ]
    }

    fn refs(rows: &[ClusterRow]) -> Vec<&ClusterRow> {
        rows.iter().collect()
    }

    fn names(v: &FleetView) -> Vec<&str> {
        v.rows.iter().map(|r| r.name.as_str()).collect()
    }

    fn query(pairs: &[(&str, &str)]) -> FleetQuery {
        let mut q = FleetQuery::default();
        for (k, v) in pairs {
            let v = v.to_string();
            match *k {
                "q" => q.q = v,
                "health" => q.health = v,
                "region" => q.region = v,
                "version" => q.version = v,
                "tag" => q.tag = v,
                "sort" => q.sort = v,
                "dir" => q.dir = v,
                "page" => q.page = v,
                _ => unreachable!(),
            }
        }
        q
    }

    #[test]
    fn filters_combine_and_counts_ignore_only_the_health_filter() {
        let v = view(&refs(&fleet()), &query(&[("region", "westeurope")]), None).expect("a view");
        assert_eq!(names(&v), ["alpha", "gamma"]);
        assert_eq!(v.counts[0], (Health::Healthy, 2));
        assert_eq!(v.counts[1], (Health::Degraded, 0));
        let v = view(&refs(&fleet()), &query(&[("health", "Degraded")]), None).expect("a view");
        assert_eq!(names(&v), ["beta"]);
        assert_eq!(v.counts[0], (Health::Healthy, 2));
        assert_eq!(v.counts[1], (Health::Degraded, 1));
        assert_eq!((v.visible, v.matching), (3, 1));
        let v = view(
            &refs(&fleet()),
            &query(&[("q", "AM"), ("tag", "team=g")]),
            None,
        )
        .expect("a view");
        assert_eq!(names(&v), ["gamma"]);
        let v = view(&refs(&fleet()), &query(&[("tag", "team")]), None).expect("a view");
        assert_eq!(v.matching, 3);
        assert_eq!(v.regions, ["eastus", "westeurope"]);
    }

    #[test]
    fn sorting_by_each_kind_of_column() {
        let by = |key: &str, dir: &str| {
            let v = view(
                &refs(&fleet()),
                &query(&[("sort", key), ("dir", dir)]),
                None,
            )
            .expect("a view");
            names(&v).join(",")
        };
        assert_eq!(by("name", ""), "alpha,beta,gamma");
        assert_eq!(by("name", "desc"), "gamma,beta,alpha");
        // v1.9.0 is older than v1.32.7: versions compare as numbers, not text.
        assert_eq!(by("version", ""), "gamma,beta,alpha");
        assert_eq!(by("age", ""), "alpha,beta,gamma");
        assert_eq!(by("age", "desc"), "gamma,beta,alpha");
        assert_eq!(by("health", ""), "alpha,gamma,beta");
        assert_eq!(by("no-such-column", ""), "alpha,beta,gamma");
    }

    #[test]
    fn pages_clamp_and_bad_values_are_refused_or_ignored() {
        let many: Vec<ClusterRow> = (0..120)
            .map(|i| {
                row(
                    &format!("c{i:03}"),
                    "eastus",
                    "v1.33.5",
                    Health::Healthy,
                    "",
                )
            })
            .collect();
        let v = view(&refs(&many), &query(&[("page", "2")]), None).expect("a view");
        assert_eq!((v.page, v.pages, v.rows.len()), (2, 3, 50));
        assert_eq!(v.rows[0].name, "c050");
        let v = view(&refs(&many), &query(&[("page", "99")]), None).expect("a view");
        assert_eq!((v.page, v.rows.len()), (3, 20));
        let v = view(&refs(&many), &query(&[("page", "-1x")]), None).expect("a view");
        assert_eq!(v.page, 1);
        let err = view(&refs(&many), &query(&[("health", "sick")]), None).expect_err("refused");
        assert!(
            err.0
                .starts_with("\"sick\" is not a health state; use one of healthy"),
            "{}",
            err.0
        );
        let long = "x".repeat(257);
        assert!(view(&refs(&many), &query(&[("q", &long)]), None).is_err());
    }
}
