//! A small, fast hasher for the host index.
//!
//! Owns hashing of host keys (FxHash-style multiply-rotate over 8-byte words). Keys are
//! inserted only from configuration (trusted) at build time; request hosts are only looked up,
//! so crafted hosts cannot grow a collision chain. Must never be used for maps that insert
//! attacker-controlled keys.

use std::hash::{BuildHasherDefault, Hasher};

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// Fx-style hasher state.
#[derive(Default, Clone, Copy)]
pub(crate) struct HostHasher {
    hash: u64,
}

impl HostHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for HostHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            for (slot, &b) in word.iter_mut().zip(rest) {
                *slot = b;
            }
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

pub(crate) type BuildHostHasher = BuildHasherDefault<HostHasher>;
