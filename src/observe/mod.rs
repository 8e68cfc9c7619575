//! Observability: per-worker counters merged at scrape time and rendered as Prometheus text, and Traefik's access
//! log written by one writer thread.
//!
//! Nothing here takes a lock or blocks on the request path: each worker writes only its own cache-padded counters
//! and hands access-log lines over its own bounded lock-free queue (dropping them, counted, when it is full).

pub mod access_log;
pub mod counters;
pub mod labels;
pub mod metrics;
pub mod tally;

pub use access_log::{AccessLog, AccessLogSenders, Captured, Entry, LogSender};
pub use counters::{Counters, EntryCounters, WorkerCounters};
pub use labels::{Protocol, UpstreamError};
pub use tally::Tally;
