//! [`BufPool`]: a worker's spare connection buffers.
//!
//! A connection takes its read, write and upstream buffers when a request arrives and gives them back when it goes
//! idle, so an idle keep-alive connection holds no buffer and a busy worker allocates none: buffers move between
//! connections instead. Two size classes (below and from [`LARGE`] bytes: request heads, TLS ciphertext), so a
//! small buffer is never handed out to be grown. Worker-local (no locks). Bounded: at most [`MAX_POOLED`] small and
//! [`MAX_POOLED_LARGE`] large buffers are kept, and none larger than [`MAX_KEPT_CAPACITY`]; the rest are freed.

use std::cell::RefCell;

/// Spare small buffers kept per worker.
pub const MAX_POOLED: usize = 256;
/// Spare large buffers kept per worker (each up to [`MAX_KEPT_CAPACITY`]: at most 4 MiB held while unused).
pub const MAX_POOLED_LARGE: usize = 32;
/// Buffers of at least this capacity form the large class.
pub const LARGE: usize = 32 * 1024;
/// A buffer that grew beyond this (a large head, a big relay buffer) is freed rather than kept.
pub const MAX_KEPT_CAPACITY: usize = 128 * 1024;

/// Spare buffers of one worker.
#[derive(Debug, Default)]
pub struct BufPool {
    small: RefCell<Vec<Vec<u8>>>,
    large: RefCell<Vec<Vec<u8>>>,
}

impl BufPool {
    /// An empty buffer with at least `capacity` bytes of room (allocated only when no spare one is left).
    pub fn take(&self, capacity: usize) -> Vec<u8> {
        let class = if capacity >= LARGE { &self.large } else { &self.small };
        let mut buf = class.borrow_mut().pop().unwrap_or_default();
        if buf.capacity() < capacity {
            // Exact: a spare grown by doubling would be twice the size asked for.
            buf.reserve_exact(capacity);
        }
        buf
    }

    /// Gives `buf` back (its contents are discarded). A buffer that never had room is simply dropped.
    pub fn put(&self, mut buf: Vec<u8>) {
        if buf.capacity() == 0 || buf.capacity() > MAX_KEPT_CAPACITY {
            return;
        }
        let (class, limit) = if buf.capacity() >= LARGE {
            (&self.large, MAX_POOLED_LARGE)
        } else {
            (&self.small, MAX_POOLED)
        };
        let mut spare = class.borrow_mut();
        if spare.len() < limit {
            buf.clear();
            spare.push(buf);
        }
    }

    /// Spare buffers held now.
    pub fn len(&self) -> usize {
        self.small.borrow().len() + self.large.borrow().len()
    }

    /// True when no spare buffer is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A buffer on loan from a [`BufPool`]: it goes back when released or dropped.
#[derive(Debug)]
pub struct Pooled<'a> {
    pool: &'a BufPool,
    buf: Vec<u8>,
}

impl<'a> Pooled<'a> {
    /// No buffer yet (nothing is taken until [`Pooled::provision`]).
    pub fn new(pool: &'a BufPool) -> Self {
        Pooled { pool, buf: Vec::new() }
    }

    /// Takes a buffer of at least `capacity` bytes from the pool unless one is held.
    pub fn provision(&mut self, capacity: usize) {
        if self.buf.capacity() == 0 {
            self.buf = self.pool.take(capacity);
        }
    }

    /// Gives the buffer back (its contents are discarded).
    pub fn release(&mut self) {
        self.pool.put(std::mem::take(&mut self.buf));
    }
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.buf
    }
}

impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_and_bounded() {
        let pool = BufPool::default();
        let mut a = pool.take(8192);
        assert!(a.capacity() >= 8192);
        a.extend_from_slice(b"request");
        let ptr = a.as_ptr();
        pool.put(a);
        let b = pool.take(100);
        assert_eq!(b.as_ptr(), ptr, "the same allocation comes back");
        assert!(b.is_empty(), "contents are discarded");
        pool.put(Vec::new());
        pool.put(Vec::with_capacity(MAX_KEPT_CAPACITY + 1));
        assert!(pool.is_empty(), "empty and oversized buffers are not kept");
        for _ in 0..MAX_POOLED + 10 {
            pool.put(Vec::with_capacity(16));
        }
        assert_eq!(pool.len(), MAX_POOLED);
        for _ in 0..MAX_POOLED_LARGE + 10 {
            pool.put(Vec::with_capacity(LARGE));
        }
        assert_eq!(pool.len(), MAX_POOLED + MAX_POOLED_LARGE);
    }

    #[test]
    fn a_large_request_never_gets_a_small_buffer() {
        let pool = BufPool::default();
        pool.put(Vec::with_capacity(8192));
        let big = pool.take(LARGE * 2);
        assert!(big.capacity() >= LARGE * 2);
        assert_eq!(pool.len(), 1, "the small buffer stayed");
        pool.put(big);
        assert_eq!(pool.take(100).capacity(), 8192);
        assert!(pool.take(LARGE).capacity() >= LARGE * 2);
    }
}
