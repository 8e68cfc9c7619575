//! Active health checks: Traefik's `loadBalancer.healthCheck`, run from the control side.
//!
//! Owns reading a service's raw `healthCheck` ([`config`]), one check request to one server
//! ([`probe`]), the fixed pool of `ringress-health-N` threads that run them ([`prober`]), and
//! the per-server up/down state machine the control thread drives ([`monitor`]): sync the
//! targets when the route table changes, dispatch when due, collect results when they arrive,
//! and hand transitions to whoever rebuilds the snapshot.
//!
//! Must never: touch a client socket or a worker (its only output is state and transitions for
//! the control thread); block the control loop (submission never waits, results are drained
//! without waiting, a hung server holds one prober thread for at most its check's `timeout`);
//! log or print a health check header value (they may carry credentials: `Debug` redacts them
//! and down reasons never include them).

pub mod config;
pub mod monitor;
pub mod probe;
pub mod prober;
#[cfg(test)]
mod testserver;

pub use config::{parse, HealthCheck, HealthConfigError};
pub use monitor::{Monitor, Target, Transition};
pub use probe::{Probe, ProbeOutcome};
pub use prober::Prober;
