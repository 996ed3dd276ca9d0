//! The monthly cost estimate: each pool's VM hourly price × nodes × 730 hours, a range when it
//! autoscales. The control plane is the service's and is not counted.

use serde::{Deserialize, Serialize};

use super::draft::PoolDraft;
use super::offering::Offering;

/// Hours in the average month (8,760 / 12).
pub const HOURS_PER_MONTH: f64 = 730.0;

/// One pool's share.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoolCost {
    pub pool: String,
    pub vm_size: String,
    pub nodes: (i64, i64),
    pub monthly: (f64, f64),
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    pub pools: Vec<PoolCost>,
    pub total: (f64, f64),
}

/// The estimate for `pools`; a pool whose size or count is not valid yet counts as nothing.
pub fn estimate(pools: &[PoolDraft], offering: &Offering) -> Cost {
    let mut cost = Cost::default();
    for p in pools {
        let number = |t: &str| t.trim().parse::<i64>().ok().filter(|n| *n >= 0);
        let nodes = if p.autoscale {
            (number(&p.min), number(&p.max))
        } else {
            (number(&p.count), number(&p.count))
        };
        let (low, high) = match nodes {
            (Some(a), Some(b)) if a <= b => (a, b),
            _ => (0, 0),
        };
        let price = offering
            .vm_size(&p.vm_size)
            .map_or(0.0, |s| s.price_per_hour);
        let monthly = (
            price * low as f64 * HOURS_PER_MONTH,
            price * high as f64 * HOURS_PER_MONTH,
        );
        cost.total.0 += monthly.0;
        cost.total.1 += monthly.1;
        cost.pools.push(PoolCost {
            pool: p.name.clone(),
            vm_size: p.vm_size.clone(),
            nodes: (low, high),
            monthly,
        });
    }
    cost
}

/// `$1,234.56`, or `$1,234.56 – $3,703.68` for a range.
pub fn money(range: (f64, f64)) -> String {
    let one = |v: f64| {
        let cents = (v * 100.0).round() as i64;
        let dollars = (cents / 100).to_string();
        let mut grouped = String::new();
        for (i, c) in dollars.chars().enumerate() {
            if i > 0 && (dollars.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        format!("${grouped}.{:02}", cents % 100)
    };
    if (range.0 - range.1).abs() < 0.005 {
        one(range.0)
    } else {
        format!("{} – {}", one(range.0), one(range.1))
    }
}

/// "3 nodes" or "2–6 nodes".
pub fn nodes(range: (i64, i64)) -> String {
    let plural = if range.1 == 1 { "node" } else { "nodes" };
    if range.0 == range.1 {
        format!("{} {plural}", range.0)
    } else {
        format!("{}–{} {plural}", range.0, range.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clusters::wizard::offering::VmSize;

    fn offering() -> Offering {
        let size = |name: &str, price| VmSize {
            name: name.into(),
            family: "general".into(),
            vcpu: 4,
            memory_gib: 16,
            gpu: 0,
            price_per_hour: price,
        };
        Offering {
            vm_sizes: vec![size("small", 0.096), size("big", 0.384)],
            ..Offering::default()
        }
    }

    fn pool(size: &str, count: &str, scale: Option<(&str, &str)>) -> PoolDraft {
        PoolDraft {
            name: size.into(),
            vm_size: size.into(),
            count: count.into(),
            autoscale: scale.is_some(),
            min: scale.map(|s| s.0.into()).unwrap_or_default(),
            max: scale.map(|s| s.1.into()).unwrap_or_default(),
            ..PoolDraft::default()
        }
    }

    #[test]
    fn fixed_pools_cost_one_figure_and_autoscaling_pools_a_range() {
        let cost = estimate(
            &[pool("small", "3", None), pool("big", "2", Some(("2", "6")))],
            &offering(),
        );
        // 0.096 × 3 × 730 = 210.24; 0.384 × 2 × 730 = 560.64; 0.384 × 6 × 730 = 1681.92.
        assert_eq!(money(cost.pools[0].monthly), "$210.24");
        assert_eq!(money(cost.pools[1].monthly), "$560.64 – $1,681.92");
        assert_eq!(money(cost.total), "$770.88 – $1,892.16");
        assert_eq!(nodes(cost.pools[1].nodes), "2–6 nodes");
        assert_eq!(nodes((1, 1)), "1 node");
    }

    #[test]
    fn what_is_not_valid_yet_costs_nothing() {
        let cost = estimate(
            &[
                pool("small", "-2", None),
                pool("unknown", "3", None),
                pool("big", "1", Some(("5", "2"))),
            ],
            &offering(),
        );
        assert_eq!(money(cost.total), "$0.00");
        assert_eq!(money((1234567.891, 1234567.891)), "$1,234,567.89");
    }
}
