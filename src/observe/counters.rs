//! Per-worker counters.
//!
//! Each worker owns one [`WorkerCounters`], aligned to its own cache lines; only that worker increments it
//! (`Relaxed` adds on a line no other core writes), and a scrape reads every worker's values. Must never be written
//! by two threads, and must never hold anything but plain counters.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

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
}

/// All workers' counters, shared read-only for scraping.
#[derive(Debug, Clone)]
pub struct Counters {
    workers: Arc<[WorkerCounters]>,
}

impl Counters {
    /// Counters for `n` workers, all zero.
    pub fn new(n: usize) -> Self {
        Counters {
            workers: (0..n).map(|_| WorkerCounters::default()).collect(),
        }
    }

    /// The counters of worker `i`, or `None` if out of range.
    pub fn worker(&self, i: usize) -> Option<&WorkerCounters> {
        self.workers.get(i)
    }

    /// Renders every counter in Prometheus text exposition format.
    pub fn render(&self, out: &mut String) {
        type Field = fn(&WorkerCounters) -> &AtomicU64;
        let families: [(&str, &str, &str, Field); 8] = [
            (
                "ringress_worker_connections_total",
                "counter",
                "Connections accepted on proxy entrypoints.",
                |w| &w.connections,
            ),
            (
                "ringress_worker_open_connections",
                "gauge",
                "Connections open on proxy entrypoints.",
                |w| &w.open_connections,
            ),
            ("ringress_worker_requests_total", "counter", "Requests answered.", |w| {
                &w.requests
            }),
            (
                "ringress_worker_bad_requests_total",
                "counter",
                "Requests rejected as malformed.",
                |w| &w.bad_requests,
            ),
            (
                "ringress_worker_upstream_dials_total",
                "counter",
                "Upstream connections dialed.",
                |w| &w.upstream_dials,
            ),
            (
                "ringress_worker_upstream_reuses_total",
                "counter",
                "Upstream connections reused from the pool.",
                |w| &w.upstream_reuses,
            ),
            (
                "ringress_worker_upstream_errors_total",
                "counter",
                "Upstream failures answered 502.",
                |w| &w.upstream_errors,
            ),
            (
                "ringress_worker_upstream_timeouts_total",
                "counter",
                "Upstream timeouts answered 504.",
                |w| &w.upstream_timeouts,
            ),
        ];
        for (name, kind, help, field) in families {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (i, w) in self.workers.iter().enumerate() {
                let _ = writeln!(out, "{name}{{worker=\"{i}\"}} {}", field(w).load(Ordering::Relaxed));
            }
        }
    }
}
