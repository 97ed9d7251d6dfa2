//! One fast hasher for the maps on hot paths (flow tables, digest-keyed
//! indexes) and the `HashMap` type that uses it.

use std::collections::HashMap;

/// One step of the multiply-rotate mix, for hashes built by hand (the
/// flow key's shard).
pub fn mix(h: u64, v: u64) -> u64 {
    (h ^ v).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(29)
}

/// A fast, non-cryptographic hasher. SipHash (std's default) was 10% of a
/// scan's time in `perf` on the flow table, and dominated the analysis'
/// index of certificate and key digests. Use it only for keys an attacker
/// cannot aim at one bucket, or where a flood only slows a capped table: a
/// flow table (its shard's size is capped), SHA-256 hex digests (already
/// uniform). Server names, which a capture controls, keep SipHash.
#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);

impl std::hash::Hasher for FastHasher {
    fn finish(&self) -> u64 {
        // Final avalanche so the table's low bits depend on every input bit.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^ (h >> 33)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = mix(self.0, u64::from_le_bytes(w));
        }
        let mut w = [0u8; 8];
        let rest = chunks.remainder();
        if let Some(dst) = w.get_mut(..rest.len()) {
            dst.copy_from_slice(rest);
            self.0 = mix(self.0, u64::from_le_bytes(w) ^ (rest.len() as u64) << 56);
        }
    }

    fn write_u8(&mut self, v: u8) {
        self.0 = mix(self.0, u64::from(v));
    }

    fn write_u16(&mut self, v: u16) {
        self.0 = mix(self.0, u64::from(v));
    }

    fn write_u32(&mut self, v: u32) {
        self.0 = mix(self.0, u64::from(v));
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = mix(self.0, v);
    }

    fn write_usize(&mut self, v: usize) {
        self.0 = mix(self.0, v as u64);
    }
}

/// A `HashMap` with [`FastHasher`].
pub type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<FastHasher>>;
