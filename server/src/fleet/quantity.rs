//! Kubernetes resource quantities ("250m", "1.5", "512Mi", "1G") as millicores and bytes.

/// CPU in millicores; `None` for text that is not a quantity.
pub fn millicores(text: &str) -> Option<u64> {
    let text = text.trim();
    if let Some(m) = text.strip_suffix('m') {
        return m.parse::<f64>().ok().map(|v| v.max(0.0).round() as u64);
    }
    scaled(text).map(|v| (v * 1000.0).round() as u64)
}

/// Memory in bytes; `None` for text that is not a quantity.
pub fn bytes(text: &str) -> Option<u64> {
    scaled(text.trim()).map(|v| v.round() as u64)
}

/// A quantity's value with its suffix applied (binary Ki…Ei, decimal k…E, exponent, millis).
fn scaled(text: &str) -> Option<f64> {
    const SUFFIXES: [(&str, f64); 13] = [
        ("Ki", 1024.0),
        ("Mi", 1_048_576.0),
        ("Gi", 1_073_741_824.0),
        ("Ti", 1_099_511_627_776.0),
        ("Pi", 1_125_899_906_842_624.0),
        ("Ei", 1_152_921_504_606_846_976.0),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
        ("m", 1e-3),
    ];
    for (suffix, factor) in SUFFIXES {
        if let Some(number) = text.strip_suffix(suffix) {
            return number
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .map(|v| v * factor);
        }
    }
    text.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_and_memory_in_every_notation() {
        assert_eq!(millicores("250m"), Some(250));
        assert_eq!(millicores("2"), Some(2000));
        assert_eq!(millicores("0.5"), Some(500));
        assert_eq!(millicores("3860m"), Some(3860));
        assert_eq!(bytes("512Mi"), Some(536_870_912));
        assert_eq!(bytes("15728640Ki"), Some(16_106_127_360));
        assert_eq!(bytes("1G"), Some(1_000_000_000));
        assert_eq!(bytes("1e3"), Some(1000));
        assert_eq!(bytes("100"), Some(100));
        assert_eq!(bytes("lots"), None);
        assert_eq!(bytes("-1Mi"), None);
    }
}
