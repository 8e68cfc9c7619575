//! Dynamic configuration from Traefik's HTTP provider: polling the control plane and decoding
//! its JSON into typed routers and services.
//!
//! Owns everything between the control plane and the route table: [`HttpSource`] (one blocking
//! GET per poll), [`TokenSource`] (the bearer token from a file or the environment) and
//! [`decode`] (body to [`Dynamic`]). Runs on the control thread only: must never touch a
//! client socket and never run on a worker. Must never put the token or a header value into a
//! log line, an error, `Debug` output or the API: they are held as [`Secret`] or redacted.
//!
//! One poll, as the control thread drives it:
//!
//! ```text
//! tokens.refresh()? -> if changed: source.set_token(tokens.token().cloned())
//! source.fetch()    -> Fetched { body, hash }  (error: keep the last table, log the one-line error)
//! hash unchanged    -> nothing to do
//! decode(&body)     -> Dynamic { routers, services, middlewares, invalid, warnings }
//!                      (error: keep the last table; {} is a valid, empty table)
//! ```
//!
//! Files: `http.rs` (the request), `token.rs` (token source), `secret.rs` ([`Secret`]),
//! `dynamic.rs` (top level, `http` section, isolation of bad entries), `router.rs` and
//! `service.rs` (one entry each), `fields.rs` (Traefik's lenient key and scalar reading),
//! `node.rs` (JSON tree keeping order and repeated keys).

pub mod dynamic;
mod fields;
pub mod http;
mod node;
mod router;
mod secret;
mod service;
pub mod shallow;
pub mod token;

#[cfg(test)]
mod tests_decode;
#[cfg(test)]
mod tests_http;
#[cfg(test)]
mod tests_token;

pub use dynamic::{
    decode, decode_router, decode_service, decode_skeleton, is_null, split_body, DecodeError, Domain, Dynamic, Entry,
    LoadBalancer, Rejected, RouterConf, Section, ServerConf, ServiceConf, ServiceKind, TlsConf, MAX_BODY_BYTES,
};
pub use http::{FetchError, Fetched, HttpSource, ProviderError};
pub use secret::Secret;
pub use token::{TokenError, TokenSource};
