//! The fixed label sets of the per-entrypoint metrics: status codes, methods, duration buckets, upstream error
//! kinds and connection protocols, each mapped to a small array index.
//!
//! Owns the compact code index: the statuses a proxy sees most get their own slot, every other status lands in the
//! "other" slot of its class (`1xx` … `5xx`), anything outside 100..=599 in `other`. Nothing here allocates or
//! branches on more than a table lookup; it runs once per request on the worker.

use crate::http1::Method;

/// Statuses counted exactly, in label order. 499 is not sent by anyone: it records a request whose client went
/// away before any response was started (nginx's convention).
pub const EXACT_CODES: [u16; 35] = [
    101, 200, 201, 202, 204, 206, 301, 302, 303, 304, 307, 308, 400, 401, 403, 404, 405, 408, 409, 410, 413, 414, 415,
    417, 421, 422, 429, 431, 499, 500, 501, 502, 503, 504, 505,
];

/// Labels of the slots after the exact codes: the rest of each class, then anything else.
const OTHER_LABELS: [&str; 6] = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"];

/// Number of code slots.
pub const CODES: usize = EXACT_CODES.len() + OTHER_LABELS.len();

/// The status a request is recorded with when no response was started (the client went away).
pub const CLIENT_GONE: u16 = 499;

const fn build_code_index() -> [u8; 600] {
    let mut table = [0u8; 600];
    let mut s = 0;
    while s < 600 {
        table[s] = if s < 100 {
            (EXACT_CODES.len() + 5) as u8
        } else {
            (EXACT_CODES.len() + s / 100 - 1) as u8
        };
        s += 1;
    }
    let mut i = 0;
    while i < EXACT_CODES.len() {
        table[EXACT_CODES[i] as usize] = i as u8;
        i += 1;
    }
    table
}

static CODE_INDEX: [u8; 600] = build_code_index();

/// The slot of `status`.
#[inline]
pub fn code_index(status: u16) -> usize {
    match CODE_INDEX.get(status as usize) {
        Some(&i) => i as usize,
        None => CODES - 1,
    }
}

/// The label of slot `i` (`"200"`, `"4xx"`, `"other"`).
pub fn code_label(i: usize) -> CodeLabel {
    match EXACT_CODES.get(i) {
        Some(&c) => CodeLabel::Exact(c),
        None => CodeLabel::Class(OTHER_LABELS.get(i - EXACT_CODES.len()).copied().unwrap_or("other")),
    }
}

/// A code slot's label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeLabel {
    /// An exact status.
    Exact(u16),
    /// A class or `other`.
    Class(&'static str),
}

impl std::fmt::Display for CodeLabel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CodeLabel::Exact(c) => write!(f, "{c}"),
            CodeLabel::Class(s) => f.write_str(s),
        }
    }
}

/// Method labels, in slot order.
pub const METHOD_LABELS: [&str; 10] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE", "other",
];

/// Number of method slots.
pub const METHODS: usize = METHOD_LABELS.len();

/// The slot of `m`.
#[inline]
pub fn method_index(m: Method) -> usize {
    match m {
        Method::Get => 0,
        Method::Head => 1,
        Method::Post => 2,
        Method::Put => 3,
        Method::Delete => 4,
        Method::Patch => 5,
        Method::Options => 6,
        Method::Connect => 7,
        Method::Trace => 8,
        Method::Other => 9,
    }
}

/// Upper bounds of the request duration buckets, in seconds as printed (Traefik's 0.1, 0.3, 1.2 and 5 are among
/// them, so dashboards built on Traefik's buckets keep working).
pub const BUCKET_LABELS: [&str; 11] = [
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.3", "0.5", "1.2", "2.5", "5", "10",
];

/// The same bounds in nanoseconds.
pub const BUCKET_NANOS: [u64; 11] = [
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    300_000_000,
    500_000_000,
    1_200_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
];

/// Number of histogram slots: one per bound plus `+Inf`.
pub const BUCKETS: usize = BUCKET_NANOS.len() + 1;

/// The (non-cumulative) bucket of a duration of `nanos`.
#[inline]
pub fn bucket_index(nanos: u64) -> usize {
    let mut i = 0;
    while i < BUCKET_NANOS.len() {
        if nanos <= BUCKET_NANOS[i] {
            return i;
        }
        i += 1;
    }
    BUCKET_NANOS.len()
}

/// Why an exchange with an upstream failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamError {
    /// The connect was refused (nothing listens there).
    ConnectRefused,
    /// The connect did not complete within `dialTimeout`.
    ConnectTimeout,
    /// The connect failed otherwise (unreachable, out of file descriptors…).
    ConnectError,
    /// The upstream closed or reset the connection before sending a response (or stopped reading the request).
    Reset,
    /// No response head within `responseHeaderTimeout`.
    ResponseTimeout,
    /// The response was not valid HTTP/1.x (bad head, bad chunked framing, an unrequested 101).
    InvalidResponse,
    /// The upstream closed or failed in the middle of a response body (the client connection is closed).
    ResponseTruncated,
}

impl UpstreamError {
    /// Every kind, in slot order.
    pub const ALL: [UpstreamError; 7] = [
        UpstreamError::ConnectRefused,
        UpstreamError::ConnectTimeout,
        UpstreamError::ConnectError,
        UpstreamError::Reset,
        UpstreamError::ResponseTimeout,
        UpstreamError::InvalidResponse,
        UpstreamError::ResponseTruncated,
    ];

    /// The `kind` label.
    pub fn label(self) -> &'static str {
        match self {
            UpstreamError::ConnectRefused => "connect_refused",
            UpstreamError::ConnectTimeout => "connect_timeout",
            UpstreamError::ConnectError => "connect_error",
            UpstreamError::Reset => "reset",
            UpstreamError::ResponseTimeout => "response_timeout",
            UpstreamError::InvalidResponse => "invalid_response",
            UpstreamError::ResponseTruncated => "response_truncated",
        }
    }

    /// The slot.
    #[inline]
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Number of upstream error slots.
pub const UPSTREAM_ERRORS: usize = UpstreamError::ALL.len();

/// What a client connection speaks, as the `protocol` label of open connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Plain HTTP (also a connection that has not sent its first byte yet).
    Http,
    /// TLS.
    Tls,
}

impl Protocol {
    /// The label.
    pub fn label(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Tls => "tls",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_codes_map_to_their_own_slot_and_others_to_their_class() {
        for (i, &c) in EXACT_CODES.iter().enumerate() {
            assert_eq!(code_index(c), i);
            assert_eq!(code_label(i), CodeLabel::Exact(c));
        }
        assert_eq!(code_label(code_index(100)).to_string(), "1xx");
        assert_eq!(code_label(code_index(299)).to_string(), "2xx");
        assert_eq!(code_label(code_index(305)).to_string(), "3xx");
        assert_eq!(code_label(code_index(418)).to_string(), "4xx");
        assert_eq!(code_label(code_index(599)).to_string(), "5xx");
        assert_eq!(code_label(code_index(0)).to_string(), "other");
        assert_eq!(code_label(code_index(600)).to_string(), "other");
        assert_eq!(code_label(code_index(u16::MAX)).to_string(), "other");
        assert_eq!(code_index(u16::MAX), CODES - 1);
    }

    #[test]
    fn buckets_are_inclusive_upper_bounds() {
        assert_eq!(bucket_index(0), 0);
        assert_eq!(bucket_index(5_000_000), 0);
        assert_eq!(bucket_index(5_000_001), 1);
        assert_eq!(bucket_index(10_000_000_001), BUCKETS - 1);
        assert_eq!(BUCKET_LABELS.len(), BUCKET_NANOS.len());
    }

    #[test]
    fn upstream_kinds_are_in_slot_order() {
        for (i, k) in UpstreamError::ALL.iter().enumerate() {
            assert_eq!(k.index(), i);
        }
    }
}
