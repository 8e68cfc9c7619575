//! The route table: built once on the control thread, then read by every worker per request.
//!
//! Owns the host index and longest-prefix matching. [`RouteTable::lookup`] never blocks, never
//! allocates and never scans all routes: it normalises the `Host` value into a stack buffer,
//! finds that host's entry in a hash map, then takes the longest prefix that matches on whole
//! path segments (a short list scanned longest first, or for hosts with many prefixes one hash
//! probe per `/` in the path). Building may allocate and calls the caller's resolver, so it
//! belongs on the control thread.
//!
//! Paths are compared as raw bytes, case-sensitively, without percent-decoding or dot-segment
//! removal: `/App`, `/app` and `/%61pp` are three different paths. Rejecting or normalising odd
//! paths (`/app/../admin`) before lookup is the HTTP layer's job. The table only picks a route;
//! the full request path goes upstream unchanged.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use super::host::normalize_host;
use super::spec::{RouteSpec, Target};

/// Hosts with at most this many non-empty prefixes are matched by a linear scan; above it, by
/// hashing each segment boundary of the path.
const LINEAR_MAX: usize = 8;

/// A compiled route, as handed to the proxy.
#[derive(Debug)]
pub struct Route {
    /// Normalised id (`host` or `host/prefix`).
    pub id: String,
    /// Resolved addresses of the target, in resolver order, without duplicates; never empty.
    pub upstreams: Box<[SocketAddr]>,
    pub target: Target,
    /// Where the route was defined (`routes/app.yml#2`), for logs and listings.
    pub source: String,
}

/// Immutable after [`RouteTable::build`]; `Send + Sync`, so one table can sit in a snapshot.
#[derive(Debug, Default)]
pub struct RouteTable {
    /// Sorted by host, then prefix.
    routes: Box<[Route]>,
    /// Normalised host bytes → that host's prefixes.
    hosts: HashMap<Box<[u8]>, HostRoutes>,
}

#[derive(Debug)]
struct HostRoutes {
    /// Index of the route with prefix `""`, which matches every path.
    whole: Option<usize>,
    prefixes: Prefixes,
}

#[derive(Debug)]
enum Prefixes {
    /// Non-empty prefixes, longest first.
    Linear(Box<[(Box<[u8]>, usize)]>),
    /// Non-empty prefix → route index; `max_len` bounds the candidates worth probing.
    Indexed {
        map: HashMap<Box<[u8]>, usize>,
        max_len: usize,
    },
}

/// A route left out of the table.
#[derive(Debug, thiserror::Error)]
pub enum RouteBuildError {
    #[error("route {id:?} ({origin}): duplicate of the route at {first}; ignored")]
    Duplicate { id: String, origin: String, first: String },
    #[error("route {id:?} ({origin}): {reason}; skipped")]
    InvalidSpec {
        id: String,
        origin: String,
        reason: &'static str,
    },
    #[error("route {id:?} ({origin}): target {target} resolved to no addresses; skipped")]
    NoAddresses { id: String, origin: String, target: Target },
    #[error("route {id:?} ({origin}): target {target} does not resolve: {error}; skipped")]
    Resolve {
        id: String,
        origin: String,
        target: Target,
        error: Arc<io::Error>,
    },
}

impl RouteTable {
    /// Compiles `specs` into a table. Each distinct target is resolved once. A route whose
    /// target does not resolve, a duplicate (same host and prefix as an earlier spec) or a spec
    /// that is not normalised is left out and reported; the rest are still built.
    pub fn build(
        specs: &[RouteSpec],
        resolve: &mut dyn FnMut(&Target) -> io::Result<Vec<SocketAddr>>,
    ) -> (RouteTable, Vec<RouteBuildError>) {
        let mut errors = Vec::new();
        let mut order: Vec<&RouteSpec> = specs.iter().collect();
        // Stable: among duplicates the earlier spec comes first and wins.
        order.sort_by(|a, b| (&a.host, &a.prefix).cmp(&(&b.host, &b.prefix)));

        let mut resolved: HashMap<&Target, Result<Box<[SocketAddr]>, Arc<io::Error>>> = HashMap::new();
        let mut routes: Vec<Route> = Vec::with_capacity(order.len());
        let mut kept: Vec<&RouteSpec> = Vec::with_capacity(order.len());
        // The last well-formed spec, resolvable or not: duplicates lose even to a failed route.
        let mut previous: Option<&RouteSpec> = None;
        for spec in order {
            if let Some(reason) = malformed(spec) {
                errors.push(RouteBuildError::InvalidSpec {
                    id: spec.id.clone(),
                    origin: spec.source.clone(),
                    reason,
                });
                continue;
            }
            match previous.filter(|p| p.host == spec.host && p.prefix == spec.prefix) {
                Some(first) => {
                    errors.push(RouteBuildError::Duplicate {
                        id: spec.id.clone(),
                        origin: spec.source.clone(),
                        first: first.source.clone(),
                    });
                    continue;
                }
                None => previous = Some(spec),
            }
            let addresses = resolved
                .entry(&spec.target)
                .or_insert_with(|| resolve_once(resolve, &spec.target));
            let upstreams = match addresses {
                Ok(addresses) if addresses.is_empty() => {
                    errors.push(RouteBuildError::NoAddresses {
                        id: spec.id.clone(),
                        origin: spec.source.clone(),
                        target: spec.target.clone(),
                    });
                    continue;
                }
                Ok(addresses) => addresses.clone(),
                Err(error) => {
                    errors.push(RouteBuildError::Resolve {
                        id: spec.id.clone(),
                        origin: spec.source.clone(),
                        target: spec.target.clone(),
                        error: Arc::clone(error),
                    });
                    continue;
                }
            };
            kept.push(spec);
            routes.push(Route {
                id: spec.id.clone(),
                upstreams,
                target: spec.target.clone(),
                source: spec.source.clone(),
            });
        }
        let hosts = index_hosts(&kept);
        let table = RouteTable {
            routes: routes.into_boxed_slice(),
            hosts,
        };
        (table, errors)
    }

    /// Finds the route for a request. `host` is the raw `Host` header value (case, `:port` and
    /// one trailing dot are ignored); `path` is the raw request path without the query. The
    /// longest prefix that matches on whole segments wins: `/app` matches `/app`, `/app/` and
    /// `/app/x` but not `/application`; the prefix `""` matches every path on its host.
    pub fn lookup(&self, host: &[u8], path: &[u8]) -> Option<&Route> {
        let mut buf = [0u8; 256];
        let host = normalize_host(host, &mut buf)?;
        let entry = self.hosts.get(host)?;
        let index = entry.prefixes.longest_match(path).or(entry.whole)?;
        self.routes.get(index)
    }

    /// Number of routes in the table.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Every route, sorted by host, then prefix.
    pub fn routes(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter()
    }
}

impl Prefixes {
    fn longest_match(&self, path: &[u8]) -> Option<usize> {
        match self {
            Prefixes::Linear(prefixes) => prefixes
                .iter()
                .find(|(prefix, _)| segment_prefix(prefix, path))
                .map(|&(_, index)| index),
            Prefixes::Indexed { map, max_len } => {
                // Candidates are the whole path and every part before a `/`, longest first.
                let mut end = path.len().min(*max_len);
                while end > 0 {
                    if end == path.len() || path[end] == b'/' {
                        if let Some(&index) = map.get(&path[..end]) {
                            return Some(index);
                        }
                    }
                    end -= 1;
                }
                None
            }
        }
    }
}

/// Does the non-empty `prefix` match `path` on a segment boundary?
fn segment_prefix(prefix: &[u8], path: &[u8]) -> bool {
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest[0] == b'/',
        None => false,
    }
}

fn resolve_once(
    resolve: &mut dyn FnMut(&Target) -> io::Result<Vec<SocketAddr>>,
    target: &Target,
) -> Result<Box<[SocketAddr]>, Arc<io::Error>> {
    let mut addresses = resolve(target).map_err(Arc::new)?;
    let mut seen = Vec::with_capacity(addresses.len());
    addresses.retain(|address| {
        let new = !seen.contains(address);
        seen.push(*address);
        new
    });
    Ok(addresses.into_boxed_slice())
}

/// Checks what [`RouteSpec::new`] guarantees, for specs built by hand.
fn malformed(spec: &RouteSpec) -> Option<&'static str> {
    let mut buf = [0u8; 256];
    if normalize_host(spec.host.as_bytes(), &mut buf) != Some(spec.host.as_bytes()) {
        return Some("host is not normalised (lowercase, no port, no trailing dot)");
    }
    let prefix = spec.prefix.as_bytes();
    if !prefix.is_empty() && (prefix[0] != b'/' || prefix.ends_with(b"/")) {
        return Some("prefix must be empty or start with `/` and not end with `/`");
    }
    if prefix.contains(&b'?') {
        return Some("prefix must not contain `?`");
    }
    None
}

/// Groups the kept specs (sorted by host, then prefix; index = route index) by host.
fn index_hosts(kept: &[&RouteSpec]) -> HashMap<Box<[u8]>, HostRoutes> {
    let mut hosts = HashMap::new();
    let mut start = 0;
    while start < kept.len() {
        let host = &kept[start].host;
        let end = kept[start..]
            .iter()
            .position(|spec| &spec.host != host)
            .map_or(kept.len(), |offset| start + offset);
        let mut whole = None;
        let mut prefixes: Vec<(Box<[u8]>, usize)> = Vec::new();
        for (index, spec) in kept.iter().enumerate().take(end).skip(start) {
            if spec.prefix.is_empty() {
                whole = Some(index);
            } else {
                prefixes.push((spec.prefix.as_bytes().into(), index));
            }
        }
        let prefixes = if prefixes.len() <= LINEAR_MAX {
            prefixes.sort_by_key(|(prefix, _)| Reverse(prefix.len()));
            Prefixes::Linear(prefixes.into_boxed_slice())
        } else {
            let max_len = prefixes.iter().map(|(p, _)| p.len()).max().unwrap_or(0);
            Prefixes::Indexed {
                map: prefixes.into_iter().collect(),
                max_len,
            }
        };
        hosts.insert(host.as_bytes().into(), HostRoutes { whole, prefixes });
        start = end;
    }
    hosts
}

#[cfg(test)]
mod assertions {
    fn send_sync<T: Send + Sync>() {}

    #[test]
    fn table_is_send_and_sync() {
        send_sync::<super::RouteTable>();
    }
}
