//! Per-worker counters.
//!
//! Each worker owns one [`WorkerCounters`], aligned to its own cache lines, with one [`EntryCounters`] block per
//! proxy entrypoint (fixed-size arrays indexed by status slot, method slot and duration bucket, see
//! [`labels`](super::labels)), each block in the worker's own allocation and padded to whole cache lines. Only that
//! worker writes them (a `Relaxed` load + store, never a locked read-modify-write, on lines no other core writes);
//! a scrape reads every worker's values and sums them. Must never be written by two threads, never allocate or
//! lock on the request path, and never hold anything but plain counters (the access-log senders sit beside them in
//! [`Counters`], not inside a worker's block).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use super::access_log::{AccessLogSenders, LogSender};
use super::labels::{self, Protocol, UpstreamError, BUCKETS, CODES, METHODS, UPSTREAM_ERRORS};
use crate::control::status::Board;
use crate::http1::Method;

/// Counters of one worker. Written only by that worker's thread.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct WorkerCounters {
    /// Connections accepted on proxy entrypoints.
    pub connections: AtomicU64,
    /// Connections currently open on proxy entrypoints.
    pub open_connections: AtomicU64,
    /// Requests answered (any status).
    pub requests: AtomicU64,
    /// Requests rejected as malformed (4xx/5xx from the parser).
    pub bad_requests: AtomicU64,
    /// Upstream connections dialed.
    pub upstream_dials: AtomicU64,
    /// Upstream connections taken from the idle pool.
    pub upstream_reuses: AtomicU64,
    /// Upstream failures answered 502.
    pub upstream_errors: AtomicU64,
    /// Upstream timeouts answered 504.
    pub upstream_timeouts: AtomicU64,
    /// Upstream failures by kind (slot: [`UpstreamError::index`]).
    pub upstream_by_kind: [AtomicU64; UPSTREAM_ERRORS],
    /// Access-log lines dropped because the writer's queue was full.
    pub access_log_dropped: AtomicU64,
    /// Access-log lines this worker has numbered (for Traefik's `RequestCount`).
    pub access_log_seq: AtomicU64,
    /// One block per proxy entrypoint, by entrypoint index.
    entries: Box<[EntryCounters]>,
}

/// Counters of one proxy entrypoint on one worker. Padded to whole cache lines; written only by that worker.
#[derive(Debug)]
#[repr(align(128))]
pub struct EntryCounters {
    /// Requests by status slot, then method slot.
    requests: [[AtomicU64; METHODS]; CODES],
    /// Request durations, non-cumulative buckets (the last is `+Inf`).
    buckets: [AtomicU64; BUCKETS],
    /// Sum of request durations, in nanoseconds.
    duration_nanos: AtomicU64,
    /// Bytes read from clients: request heads and bodies, and tunnelled bytes (after TLS decryption).
    received: AtomicU64,
    /// Bytes written to clients: response heads and bodies, and tunnelled bytes (before TLS encryption).
    sent: AtomicU64,
    /// Open connections by protocol (0: http, 1: tls).
    open: [AtomicU64; 2],
}

impl Default for EntryCounters {
    fn default() -> Self {
        EntryCounters {
            requests: [const { [const { AtomicU64::new(0) }; METHODS] }; CODES],
            buckets: [const { AtomicU64::new(0) }; BUCKETS],
            duration_nanos: AtomicU64::new(0),
            received: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            open: [const { AtomicU64::new(0) }; 2],
        }
    }
}

impl WorkerCounters {
    /// Adds one to `c`. Only the owning worker calls this.
    #[inline]
    pub fn inc(c: &AtomicU64) {
        // Single writer: a load + store avoids a locked read-modify-write.
        c.store(c.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
    }

    /// Subtracts one from `c`. Only the owning worker calls this.
    #[inline]
    pub fn dec(c: &AtomicU64) {
        c.store(c.load(Ordering::Relaxed).wrapping_sub(1), Ordering::Relaxed);
    }

    /// Adds `n` to `c`. Only the owning worker calls this.
    #[inline]
    pub fn add(c: &AtomicU64, n: u64) {
        c.store(c.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
    }

    /// The block of proxy entrypoint `index` (`None` for the admin entrypoint or an unknown index).
    #[inline]
    pub fn entry(&self, index: usize) -> Option<&EntryCounters> {
        self.entries.get(index)
    }

    /// Counts one upstream failure of kind `kind`.
    #[inline]
    pub fn upstream_failed(&self, kind: UpstreamError) {
        if let Some(c) = self.upstream_by_kind.get(kind.index()) {
            Self::inc(c);
        }
    }

    fn with_entries(n: usize) -> Self {
        WorkerCounters {
            entries: (0..n).map(|_| EntryCounters::default()).collect(),
            ..WorkerCounters::default()
        }
    }
}

impl EntryCounters {
    /// Records one finished request: its status (what the client got; [`labels::CLIENT_GONE`] when nothing was
    /// sent), method, duration, and the client-side bytes it moved.
    #[inline]
    pub fn record(&self, status: u16, method: Method, nanos: u64, received: u64, sent: u64) {
        let row = self.requests.get(labels::code_index(status));
        if let Some(c) = row.and_then(|r| r.get(labels::method_index(method))) {
            WorkerCounters::inc(c);
        }
        if let Some(c) = self.buckets.get(labels::bucket_index(nanos)) {
            WorkerCounters::inc(c);
        }
        WorkerCounters::add(&self.duration_nanos, nanos);
        WorkerCounters::add(&self.received, received);
        WorkerCounters::add(&self.sent, sent);
    }

    /// Counts bytes read from a client outside a request (a tunnel).
    #[inline]
    pub fn add_received(&self, n: u64) {
        WorkerCounters::add(&self.received, n);
    }

    /// Counts bytes written to a client outside a request (a tunnel).
    #[inline]
    pub fn add_sent(&self, n: u64) {
        WorkerCounters::add(&self.sent, n);
    }

    /// A connection speaking `p` opened.
    #[inline]
    pub fn opened(&self, p: Protocol) {
        WorkerCounters::inc(&self.open[p as usize]);
    }

    /// A connection speaking `p` closed.
    #[inline]
    pub fn closed(&self, p: Protocol) {
        WorkerCounters::dec(&self.open[p as usize]);
    }
}

/// Sums over workers of one entrypoint's counters, for rendering.
#[derive(Debug, Clone)]
pub(super) struct EntryTotals {
    pub requests: Vec<[u64; METHODS]>,
    pub buckets: [u64; BUCKETS],
    pub duration_nanos: u64,
    pub received: u64,
    pub sent: u64,
    pub open: [u64; 2],
}

/// All workers' counters, shared read-only for scraping, and the access-log senders the workers use.
#[derive(Debug, Clone)]
pub struct Counters {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    workers: Box<[WorkerCounters]>,
    entrypoints: Box<[String]>,
    access_log: Option<AccessLogSenders>,
}

impl Counters {
    /// Counters for `n` workers and no proxy entrypoint, all zero.
    pub fn new(n: usize) -> Self {
        Counters::build(n, &[], None)
    }

    /// Counters for `n` workers and the proxy entrypoints `entrypoints` (by index: the name of entrypoint `i` is
    /// `entrypoints[i]`), with the access log's senders when it is on (one per worker).
    pub fn build(n: usize, entrypoints: &[String], access_log: Option<AccessLogSenders>) -> Self {
        Counters {
            inner: Arc::new(Inner {
                workers: (0..n)
                    .map(|_| WorkerCounters::with_entries(entrypoints.len()))
                    .collect(),
                entrypoints: entrypoints.into(),
                access_log,
            }),
        }
    }

    /// The counters of worker `i`, or `None` if out of range.
    pub fn worker(&self, i: usize) -> Option<&WorkerCounters> {
        self.inner.workers.get(i)
    }

    /// Every worker's counters.
    pub(super) fn workers(&self) -> &[WorkerCounters] {
        &self.inner.workers
    }

    /// The proxy entrypoints' names, by index.
    pub fn entrypoints(&self) -> &[String] {
        &self.inner.entrypoints
    }

    /// Worker `i`'s access-log sender, when the access log is on.
    #[inline]
    pub fn access_log(&self, i: usize) -> Option<&LogSender> {
        self.inner.access_log.as_ref().and_then(|a| a.worker(i))
    }

    /// How many workers there are.
    pub fn len(&self) -> usize {
        self.inner.workers.len()
    }

    /// True without workers.
    pub fn is_empty(&self) -> bool {
        self.inner.workers.is_empty()
    }

    /// Entrypoint `index`'s counters summed over workers.
    pub(super) fn entry_totals(&self, index: usize) -> EntryTotals {
        let mut t = EntryTotals {
            requests: vec![[0; METHODS]; CODES],
            buckets: [0; BUCKETS],
            duration_nanos: 0,
            received: 0,
            sent: 0,
            open: [0; 2],
        };
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        for e in self.inner.workers.iter().filter_map(|w| w.entry(index)) {
            for (sum, row) in t.requests.iter_mut().zip(e.requests.iter()) {
                for (s, c) in sum.iter_mut().zip(row.iter()) {
                    *s = s.wrapping_add(load(c));
                }
            }
            for (s, c) in t.buckets.iter_mut().zip(e.buckets.iter()) {
                *s = s.wrapping_add(load(c));
            }
            t.duration_nanos = t.duration_nanos.wrapping_add(load(&e.duration_nanos));
            t.received = t.received.wrapping_add(load(&e.received));
            t.sent = t.sent.wrapping_add(load(&e.sent));
            for (s, c) in t.open.iter_mut().zip(e.open.iter()) {
                *s = s.wrapping_add(load(c));
            }
        }
        t
    }

    /// Renders the per-worker families in Prometheus text exposition format.
    pub fn render(&self, out: &mut String) {
        super::metrics::render_workers(self, out);
    }

    /// Renders every metric: the per-worker families, the per-entrypoint ones, and those taken from the control
    /// thread's status board (`None` when it could not be read).
    pub fn render_all(&self, board: Option<&Board>, now: SystemTime, out: &mut String) {
        super::metrics::render(self, board, now, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_cache_line_padded() {
        assert_eq!(std::mem::align_of::<EntryCounters>(), 128);
        assert_eq!(std::mem::size_of::<EntryCounters>() % 128, 0);
        assert_eq!(std::mem::align_of::<WorkerCounters>(), 128);
    }

    #[test]
    fn record_sums_over_workers() {
        let c = Counters::build(2, &["web".to_string()], None);
        let (Some(a), Some(b)) = (
            c.worker(0).and_then(|w| w.entry(0)),
            c.worker(1).and_then(|w| w.entry(0)),
        ) else {
            panic!("entries missing");
        };
        a.record(200, Method::Get, 1_000, 10, 20);
        b.record(200, Method::Get, 2_000_000_000, 1, 2);
        b.record(404, Method::Post, 0, 1, 2);
        a.opened(Protocol::Tls);
        let t = c.entry_totals(0);
        assert_eq!(t.requests[labels::code_index(200)][0], 2);
        assert_eq!(t.requests[labels::code_index(404)][2], 1);
        assert_eq!(t.buckets.iter().sum::<u64>(), 3);
        assert_eq!(t.duration_nanos, 2_000_001_000);
        assert_eq!((t.received, t.sent), (12, 24));
        assert_eq!(t.open, [0, 1]);
        assert!(c.worker(0).and_then(|w| w.entry(1)).is_none());
    }
}
