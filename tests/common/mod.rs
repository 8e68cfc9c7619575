//! Shared helpers for the integration tests: the real `ringress` binary as a child process,
//! real upstream servers on loopback, a raw HTTP/1.1 client and a WebSocket codec.
//!
//! Everything talks to 127.0.0.1 only, every socket has timeouts, every child process is
//! killed by PID on drop and every temp directory is removed on drop.
#![allow(dead_code, unused_imports)]

pub mod client;
pub mod control_plane;
pub mod full_listener;
pub mod pebble;
pub mod proxy;
pub mod upstream;
pub mod wire;
pub mod ws;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// A directory under the system temp dir, unique per test, removed on drop.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!("ringress-it-{tag}-{}-{n}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.path.join(name);
        std::fs::write(&p, contents).expect("write temp file");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A loopback port that is free right now, chosen below the kernel's ephemeral range
/// (32768+ here) so that the many client connections of parallel tests cannot grab it
/// as a source port between this call and the proxy binding it.
///
/// Ports are handed out along one sequence per test process (a fixed start, then steps of 37 modulo 12000), so two
/// calls in one process never return the same port, even when the first one is not bound yet.
pub fn free_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    static SEED: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let seed = *SEED.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        std::process::id().wrapping_mul(7919).wrapping_add(nanos % 1000)
    });
    for _ in 0..2000 {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = 20000 + (seed.wrapping_add(n.wrapping_mul(37)) % 12000) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port found in 20000..32000");
}

// ---------------------------------------------------------------------------------------
// Body content: a deterministic pattern so that huge bodies can be generated on the fly and
// verified with memcmp (fast even in debug builds) instead of being held in memory.
// ---------------------------------------------------------------------------------------

/// Period of the body pattern (a prime, so shifted or dropped bytes never line up again).
pub const PATTERN_PERIOD: usize = 4093;
/// Longest slice `pattern_slice` can return.
pub const PATTERN_MAX_SLICE: usize = 1 << 20;

fn pattern_block() -> &'static [u8] {
    static BLOCK: OnceLock<Vec<u8>> = OnceLock::new();
    BLOCK.get_or_init(|| {
        let mut period = Vec::with_capacity(PATTERN_PERIOD);
        let mut x: u32 = 0x1234_5678;
        for _ in 0..PATTERN_PERIOD {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            period.push((x >> 16) as u8);
        }
        let mut block = Vec::with_capacity(PATTERN_PERIOD + PATTERN_MAX_SLICE);
        while block.len() < PATTERN_PERIOD + PATTERN_MAX_SLICE {
            block.extend_from_slice(&period);
        }
        block
    })
}

/// The pattern bytes at body offsets `offset..offset+len` (`len <= PATTERN_MAX_SLICE`).
pub fn pattern_slice(offset: u64, len: usize) -> &'static [u8] {
    assert!(len <= PATTERN_MAX_SLICE);
    let start = (offset % PATTERN_PERIOD as u64) as usize;
    &pattern_block()[start..start + len]
}

/// Whether `data` equals the pattern at body offset `offset`.
pub fn pattern_matches(offset: u64, data: &[u8]) -> bool {
    let mut off = offset;
    for piece in data.chunks(PATTERN_MAX_SLICE) {
        if piece != pattern_slice(off, piece.len()) {
            return false;
        }
        off += piece.len() as u64;
    }
    true
}

/// `len` pattern bytes from offset 0, as an owned vector (for small bodies).
pub fn pattern_bytes(len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len);
    while v.len() < len {
        let n = (len - v.len()).min(PATTERN_MAX_SLICE);
        v.extend_from_slice(pattern_slice(v.len() as u64, n));
    }
    v
}

/// Incremental FNV-1a 64 (the "checksum" reported for small bodies).
#[derive(Clone, Copy, Debug)]
pub struct Fnv(pub u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    pub fn update(&mut self, data: &[u8]) {
        for &b in data {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

pub fn fnv(data: &[u8]) -> u64 {
    let mut f = Fnv::default();
    f.update(data);
    f.0
}
