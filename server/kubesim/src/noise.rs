//! Deterministic randomness: every "random" choice kubesim makes is a hash of its seed, so a run
//! can be repeated exactly.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_are_deterministic() {
        assert_eq!(random_suffix(7, 5), random_suffix(7, 5));
        assert_ne!(random_suffix(7, 5), random_suffix(8, 5));
    }
}
