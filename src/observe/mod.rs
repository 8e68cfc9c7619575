//! Observability: per-worker counters merged at scrape time, rendered as Prometheus text.
//!
//! Nothing here takes a lock on the request path: each worker writes only its own cache-padded counters.

pub mod counters;

pub use counters::{Counters, WorkerCounters};
