//! Deterministic randomness, hashes and the identifiers the simulator derives from them.

use serde_json::Value;

/// The alphabet Kubernetes uses for generated names and pod-template-hashes.
const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// A small seeded generator (splitmix64): the only source of randomness in the simulator.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    /// A generator whose whole output is fixed by `seed`.
    pub(crate) fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.state)
    }

    /// A number in `lo..=hi`.
    pub(crate) fn between(&mut self, lo: i64, hi: i64) -> i64 {
        let span = (hi - lo).max(0) as u64 + 1;
        lo + (self.next_u64() % span) as i64
    }

    /// `n` lowercase hex digits.
    pub(crate) fn hex(&mut self, n: usize) -> String {
        let mut text = String::with_capacity(n + 16);
        while text.len() < n {
            text.push_str(&format!("{:016x}", self.next_u64()));
        }
        text.truncate(n);
        text
    }

    /// A version-4-shaped UUID.
    pub(crate) fn uid(&mut self) -> String {
        let h = self.hex(32);
        format!(
            "{}-{}-4{}-{}{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            ["8", "9", "a", "b"][(self.next_u64() % 4) as usize],
            &h[17..20],
            &h[20..32]
        )
    }

    /// `n` characters of the generated-name alphabet, like a `generateName` suffix.
    pub(crate) fn name_suffix(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| ALPHANUMS[(self.next_u64() % ALPHANUMS.len() as u64) as usize] as char)
            .collect()
    }
}

fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a, 32 bits, as the deployment controller hashes pod templates.
pub(crate) fn fnv32a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |hash, b| {
        (hash ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

/// FNV-1a, 64 bits.
pub(crate) fn fnv64a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// `n` hex digits that depend only on `text` (image digests and the like).
pub(crate) fn stable_hex(text: &str, n: usize) -> String {
    Rng::new(fnv64a(text.as_bytes())).hex(n)
}

/// Maps each byte to the generated-name alphabet, as `rand.SafeEncodeString` does.
fn safe_encode(text: &str) -> String {
    text.bytes()
        .map(|b| ALPHANUMS[b as usize % ALPHANUMS.len()] as char)
        .collect()
}

/// The pod-template-hash of a pod template: FNV-32a of its canonical JSON, safe-encoded in decimal.
pub(crate) fn template_hash(template: &Value) -> String {
    let mut text = String::new();
    write_canonical(template, &mut text);
    safe_encode(&fnv32a(text.as_bytes()).to_string())
}

/// Writes `value` as JSON with every object's keys sorted.
pub(crate) fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_hashes_use_the_kubernetes_alphabet_and_ignore_key_order() {
        let a = serde_json::json!({"metadata": {"labels": {"app": "web"}}, "spec": {"x": 1}});
        let b = serde_json::json!({"spec": {"x": 1}, "metadata": {"labels": {"app": "web"}}});
        let hash = template_hash(&a);
        assert_eq!(hash, template_hash(&b));
        assert!((8..=10).contains(&hash.len()), "{hash}");
        assert!(hash.bytes().all(|c| ALPHANUMS.contains(&c)));
    }

    #[test]
    fn uids_are_uuid_shaped() {
        let uid = Rng::new(7).uid();
        let parts: Vec<usize> = uid.split('-').map(str::len).collect();
        assert_eq!(parts, vec![8, 4, 4, 4, 12]);
    }
}
