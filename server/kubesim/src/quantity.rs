//! Kubernetes resource quantities ("250m", "128Mi") as numbers.

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
}
