//! Automatic certificates: ACME HTTP-01 on the control thread, stored in Traefik's `acme.json`.
//!
//! [`manager`] is the state machine the control loop steps: it turns the routers' certificate wants into orders
//! ([`job`]: probe, order, publish, validate, issue — one short step per call), keeps backoff and throttles
//! ([`schedule`]), checks that a name reaches this proxy before spending a validation ([`precheck`], resolving
//! through [`dns`] when a DNS server is configured), saves every change ([`store`], atomic via [`atomic`], mode
//! 0600) and hands the workers challenge sets and certificate maps ([`serving`]). Below it: [`client`] (the
//! instant-acme call sequence over [`http`], driven by [`block_on`]), [`inspect`] (validity, issuer, serial of a
//! chain; the one-third-of-lifetime renewal rule), [`traefik_key`] (whether a Traefik account key can be reused)
//! and [`listing`] (the `ringress certs ls` table).
//!
//! Runs on the control thread only. Must never: run on a worker, start a tokio runtime, call `Order::poll_ready` or
//! `Order::poll_certificate` (they sleep through tokio and panic without a runtime), sleep for long inside a step, or
//! put a private key or account credentials into a log line, an error or `Debug` output.

pub mod ari;
pub mod atomic;
pub mod block_on;
pub mod client;
pub mod dns;
pub mod http;
pub mod inspect;
pub mod job;
pub mod listing;
pub mod manager;
pub mod precheck;
pub mod schedule;
pub mod serving;
pub mod store;
pub mod traefik_key;

#[cfg(test)]
mod tests_manager;
#[cfg(test)]
mod tests_store;
