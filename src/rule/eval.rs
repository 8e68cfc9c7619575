//! Evaluating an [`Expr`] against a [`RequestView`].
//!
//! Owns the per-matcher semantics on the request path. Must never allocate or lock on its own
//! (regex matchers use the regex crate's per-regex cache pool; see `mod.rs`) and never panic on
//! any input.

use std::net::IpAddr;

use super::ast::{Expr, HostKind, IpNet, Matcher};
use super::build::mask;
use super::query::{query_eq, query_regex};
use super::view::RequestView;
use crate::http1::HeaderKind;

impl Expr {
    /// Does the request satisfy this expression?
    pub fn matches(&self, req: &RequestView<'_>) -> bool {
        match self {
            Expr::And(operands) => operands.iter().all(|e| e.matches(req)),
            Expr::Or(operands) => operands.iter().any(|e| e.matches(req)),
            Expr::Not(inner) => !inner.matches(req),
            Expr::Matcher(m) => m.matches(req),
        }
    }
}

impl Matcher {
    /// Does the request satisfy this matcher?
    pub fn matches(&self, req: &RequestView<'_>) -> bool {
        match self {
            Matcher::Host(pattern) => host_matches(&pattern.kind, req.host),
            Matcher::HostRegexp(p) => p.regex.is_match(unbracket(req.host)),
            Matcher::Path(path) => req.path == path.as_bytes(),
            Matcher::PathPrefix(prefix) => req.path.starts_with(prefix.as_bytes()),
            Matcher::PathRegexp(p) => p.regex.is_match(req.path),
            Matcher::Method(method) => req.method == method.as_bytes(),
            Matcher::Header { name, value } => header_values(req, name).any(|v| v == value.as_bytes()),
            Matcher::HeaderRegexp { name, pattern } => header_values(req, name).any(|v| pattern.regex.is_match(v)),
            Matcher::Query { key, value } => {
                let value = value.as_deref().unwrap_or("");
                query_eq(req.query, key.as_bytes(), value.as_bytes())
            }
            Matcher::QueryRegexp { key, pattern } => match pattern {
                Some(p) => query_regex(req.query, key.as_bytes(), &p.regex),
                None => query_eq(req.query, key.as_bytes(), b""),
            },
            Matcher::ClientIp(net) => ip_matches(net, req.client_ip),
            Matcher::SegmentPrefix(prefix) => segment_prefix(prefix.as_bytes(), req.path),
        }
    }
}

/// `Host` semantics on an already-normalised request host.
pub(crate) fn host_matches(kind: &HostKind, host: &[u8]) -> bool {
    if host.is_empty() {
        return false;
    }
    match kind {
        HostKind::Any => true,
        HostKind::Exact(exact) => host == exact.as_bytes(),
        HostKind::Wildcard(suffix) => match host.strip_suffix(suffix.as_bytes()) {
            Some(label) => !label.is_empty() && !label.contains(&b'.'),
            None => false,
        },
    }
}

/// The host as Go's `Host` handling leaves it: IPv6 literals without brackets.
fn unbracket(host: &[u8]) -> &[u8] {
    host.strip_prefix(b"[")
        .and_then(|h| h.strip_suffix(b"]"))
        .unwrap_or(host)
}

/// Values of the header lines named `name` (case-insensitive), `Host` excluded.
fn header_values<'r>(req: &'r RequestView<'_>, name: &'r str) -> impl Iterator<Item = &'r [u8]> + 'r {
    let buf = req.buf;
    req.headers
        .iter()
        .filter(move |h| h.kind != HeaderKind::Host && h.name.get(buf).eq_ignore_ascii_case(name.as_bytes()))
        .map(move |h| h.value.get(buf))
}

fn ip_matches(net: &IpNet, client: IpAddr) -> bool {
    let client = client.to_canonical();
    match net.prefix {
        None => client == net.addr,
        Some(bits) => client.is_ipv4() == net.addr.is_ipv4() && mask(client, bits) == net.addr,
    }
}

/// Whole-segment prefix: `/app` matches `/app`, `/app/`, `/app/x`, never `/application`;
/// `""` matches every path; a prefix ending in `/` already ends on a boundary.
pub(crate) fn segment_prefix(prefix: &[u8], path: &[u8]) -> bool {
    match path.strip_prefix(prefix) {
        Some(rest) => prefix.is_empty() || prefix.ends_with(b"/") || rest.is_empty() || rest.first() == Some(&b'/'),
        None => false,
    }
}
