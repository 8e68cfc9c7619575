//! `RequestView`: the borrowed slice of a request that rules are evaluated against.
//!
//! Owns the contract between the HTTP layer and the matchers (what each field must already
//! look like). Holds only borrows; must never own or copy request bytes.

use std::net::IpAddr;

use crate::http1::Header;

/// What a rule can look at. Every field borrows the request; building one is free.
#[derive(Clone, Copy, Debug)]
pub struct RequestView<'a> {
    /// The method token as received (`GET`); compared case-sensitively.
    pub method: &'a [u8],
    /// The request host as [`crate::route::normalize_host`] writes it: lower-case, no port,
    /// no trailing dot, IPv6 literals bracketed in canonical form (`[::1]`). Empty when the
    /// request has no usable host (then `Host` matchers are false).
    pub host: &'a [u8],
    /// The routing path, as [`super::normalize_path`] returns it.
    pub path: &'a [u8],
    /// The raw query without `?`; may be empty.
    pub query: &'a [u8],
    /// The buffer the header spans index.
    pub buf: &'a [u8],
    /// The request's header lines (spans into `buf`). `Host` lines are never seen by
    /// `Header`/`HeaderRegexp` (Go moves `Host` out of the header map).
    pub headers: &'a [Header],
    /// The TCP peer address (never `X-Forwarded-For`).
    pub client_ip: IpAddr,
}
