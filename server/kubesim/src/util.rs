//! Small shared helpers: deterministic randomness, timestamps and resource quantities.

use time::OffsetDateTime;
use time::macros::format_description;

/// SplitMix64: a fast, well-mixed hash of a 64-bit value (the basis of every "random" choice).
pub fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A stable hash of a string, mixed with `seed`.
pub fn hash_str(seed: u64, s: &str) -> u64 {
    s.bytes()
        .fold(splitmix(seed), |h, b| splitmix(h ^ u64::from(b)))
}

/// A uniform number in [0, 1) from a hash.
pub fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// `n` characters like Kubernetes' generated name suffixes.
pub fn random_suffix(seed: u64, n: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut h = splitmix(seed);
    (0..n)
        .map(|_| {
            h = splitmix(h);
            ALPHABET[(h % ALPHABET.len() as u64) as usize] as char
        })
        .collect()
}

/// Now, as Kubernetes writes times (RFC 3339, whole seconds, UTC).
pub fn timestamp() -> String {
    format_time(OffsetDateTime::now_utc())
}

pub fn format_time(t: OffsetDateTime) -> String {
    t.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .unwrap_or_default()
}

/// CPU quantity ("250m", "2", "0.5") in millicores.
pub fn cpu_millis(q: &str) -> Option<i64> {
    let q = q.trim();
    if let Some(m) = q.strip_suffix('m') {
        return m.parse::<i64>().ok();
    }
    if let Some(n) = q.strip_suffix('n') {
        return n.parse::<i64>().ok().map(|n| n / 1_000_000);
    }
    q.parse::<f64>().ok().map(|c| (c * 1000.0).round() as i64)
}

/// Memory quantity ("128Mi", "1Gi", "500M", "1024") in bytes.
pub fn mem_bytes(q: &str) -> Option<i64> {
    let q = q.trim();
    const UNITS: &[(&str, i64)] = &[
        ("Ki", 1 << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("Ti", 1 << 40),
        ("k", 1_000),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
        ("T", 1_000_000_000_000),
    ];
    for (suffix, factor) in UNITS {
        if let Some(n) = q.strip_suffix(suffix) {
            return n.parse::<f64>().ok().map(|n| (n * *factor as f64) as i64);
        }
    }
    q.parse::<f64>().ok().map(|n| n as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_parse_like_kubernetes() {
        assert_eq!(cpu_millis("250m"), Some(250));
        assert_eq!(cpu_millis("2"), Some(2000));
        assert_eq!(cpu_millis("0.5"), Some(500));
        assert_eq!(mem_bytes("128Mi"), Some(128 << 20));
        assert_eq!(mem_bytes("1G"), Some(1_000_000_000));
        assert_eq!(mem_bytes("lots"), None);
    }

    #[test]
    fn suffixes_are_deterministic() {
        assert_eq!(random_suffix(7, 5), random_suffix(7, 5));
        assert_ne!(random_suffix(7, 5), random_suffix(8, 5));
    }
}
