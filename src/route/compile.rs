//! Route files → routers: each valid [`RouteSpec`] becomes a router `<id>@routes` with a
//! `Host && SegmentPrefix` rule and its own service `<id>@routes`.
//!
//! Owns the checks a hand-built spec must pass, duplicate detection (first spec of a host and
//! prefix wins), and resolving each distinct target once. Calls the caller's resolver, which
//! may block: control thread only. Longest-prefix-wins follows from the rule priorities.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use super::host::normalize_host;
use super::spec::{RouteSpec, Target};
use super::table::{RouterDef, Service, Slots, Transport, Upstream};
use crate::rule::segment_prefix_rule;

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

impl RouteBuildError {
    /// The id of the route left out.
    pub fn id(&self) -> &str {
        match self {
            RouteBuildError::Duplicate { id, .. }
            | RouteBuildError::InvalidSpec { id, .. }
            | RouteBuildError::NoAddresses { id, .. }
            | RouteBuildError::Resolve { id, .. } => id,
        }
    }
}

/// Compiles route-file specs into routers, pushing one service per router onto `services`, placed at slots from
/// `slots`. Routers come out in spec order, the ones left out are reported; everything else is still built.
pub fn file_routers(
    specs: &[RouteSpec],
    resolve: &mut dyn FnMut(&Target) -> io::Result<Vec<SocketAddr>>,
    services: &mut Vec<Arc<Service>>,
    slots: &mut Slots,
) -> (Vec<RouterDef>, Vec<RouteBuildError>) {
    let mut errors = Vec::new();
    let mut routers = Vec::with_capacity(specs.len());
    let mut resolved: HashMap<&Target, Result<Box<[SocketAddr]>, Arc<io::Error>>> = HashMap::new();
    // The first well-formed spec of each (host, prefix), resolvable or not: duplicates lose
    // even to a route whose target failed.
    let mut claimed: HashMap<(&str, &str), &RouteSpec> = HashMap::new();
    for spec in specs {
        let error = |reason| RouteBuildError::InvalidSpec {
            id: spec.id.clone(),
            origin: spec.source.clone(),
            reason,
        };
        if let Some(reason) = malformed(spec) {
            errors.push(error(reason));
            continue;
        }
        if let Some(first) = claimed.get(&(spec.host.as_str(), spec.prefix.as_str())) {
            errors.push(RouteBuildError::Duplicate {
                id: spec.id.clone(),
                origin: spec.source.clone(),
                first: first.source.clone(),
            });
            continue;
        }
        claimed.insert((&spec.host, &spec.prefix), spec);
        let mut servers = Vec::new();
        let mut failure = None;
        for (target, weight) in spec.targets() {
            let addresses = resolved.entry(target).or_insert_with(|| resolve_once(resolve, target));
            match addresses {
                Ok(addresses) if addresses.is_empty() => {
                    failure = Some(RouteBuildError::NoAddresses {
                        id: spec.id.clone(),
                        origin: spec.source.clone(),
                        target: target.clone(),
                    });
                }
                Ok(addresses) => servers.extend(addresses.iter().map(|&addr| Upstream {
                    addr,
                    authority: addr.to_string(),
                    weight,
                })),
                Err(error) => {
                    failure = Some(RouteBuildError::Resolve {
                        id: spec.id.clone(),
                        origin: spec.source.clone(),
                        target: target.clone(),
                        error: Arc::clone(error),
                    });
                }
            }
        }
        // A route with several targets serves from those that resolve; one with none left is skipped.
        if servers.is_empty() {
            if let Some(failure) = failure {
                errors.push(failure);
            }
            continue;
        }
        if let Some(failure) = failure {
            log::warn!("{failure} (the route's other targets serve)");
        }
        let name = format!("{}@routes", spec.id);
        let rule = segment_prefix_rule(&spec.host, &spec.prefix);
        let service = slots.place(Service::new(name.clone(), servers.into_boxed_slice(), true));
        services.push(service.clone());
        let priority = rule.priority();
        routers.push(RouterDef::new(name, rule, priority, u64::MAX, Transport::Any, service));
    }
    (routers, errors)
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
    if !prefix.is_empty() && (!prefix.starts_with(b"/") || prefix.ends_with(b"/")) {
        return Some("prefix must be empty or start with `/` and not end with `/`");
    }
    if prefix.contains(&b'?') {
        return Some("prefix must not contain `?`");
    }
    None
}
