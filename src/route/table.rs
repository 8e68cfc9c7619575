//! The route table: every router (provider and route files) compiled into one immutable index
//! that workers read per request.
//!
//! Owns router order (priority descending, then name ascending: deterministic ties), the
//! exact-host index and the fallback list, and [`RouteTable::lookup`]. Lookup never blocks,
//! never allocates and never scans every router: it takes the routers indexed under the
//! request host and the routers whose rule does not pin a host, merges the two position-ordered
//! lists, and returns the first router enabled on the entrypoint whose rule matches. Building
//! allocates and belongs on the control thread.

use std::collections::HashMap;
use std::net::SocketAddr;

use super::hash::BuildHostHasher;
use crate::rule::{RequestView, Rule};

/// One upstream server of a service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upstream {
    pub addr: SocketAddr,
    /// `host:port` sent as `Host` when the service does not pass the client's, and for logs
    /// (`10.50.0.2:24207`).
    pub authority: String,
    /// Share of the service's requests relative to its other servers (Traefik's `weight`, at least 1).
    pub weight: u32,
}

impl Upstream {
    /// A server of weight 1.
    pub fn new(addr: SocketAddr, authority: String) -> Self {
        Upstream {
            addr,
            authority,
            weight: 1,
        }
    }
}

/// A load-balanced group of upstreams.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    /// Qualified name: `83a6@http`, `x.com/app@routes`.
    pub name: String,
    pub servers: Box<[Upstream]>,
    /// Send the client's `Host` upstream (Traefik's default) instead of the server authority.
    pub pass_host_header: bool,
    /// Index of `servers[0]` in the table's flat server numbering (set by [`RouteTable::build`]): server `i` of
    /// this service is slot `first_slot + i`. Health state (active checks, passive cooldowns) is kept per slot.
    pub first_slot: u32,
}

impl Service {
    /// A service whose slots [`RouteTable::build`] assigns.
    pub fn new(name: String, servers: Box<[Upstream]>, pass_host_header: bool) -> Self {
        Service {
            name,
            servers,
            pass_host_header,
            first_slot: 0,
        }
    }
}

/// A router: a rule, where it applies, and the service it sends to.
#[derive(Clone, Debug)]
pub struct RouterDef {
    /// Qualified name: `83a6@http`, `x.com/app@routes`.
    pub name: String,
    pub rule: Rule,
    /// Explicit priority, or `rule.priority()`. Higher is tried first.
    pub priority: i64,
    /// Bit `i` set: the router serves entrypoint index `i`. `u64::MAX`: every entrypoint.
    pub entry_points: u64,
    /// Which connections the router serves: Traefik's provider routers with a `tls` section serve TLS only and
    /// those without serve plain HTTP only; route-file routes serve both. [`RouteTable::lookup_on`] honours it.
    pub transport: Transport,
    /// Index into the table's services.
    pub service: usize,
}

/// Which connections a router serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// Plain HTTP and TLS.
    Any,
    /// TLS only (a Traefik router with a `tls` section).
    Tls,
    /// Plain HTTP only (a Traefik router without one).
    Plain,
}

impl Transport {
    /// Does a router with this transport serve a connection that is (`secure`) or is not TLS?
    pub fn serves(self, secure: bool) -> bool {
        match self {
            Transport::Any => true,
            Transport::Tls => secure,
            Transport::Plain => !secure,
        }
    }
}

impl RouterDef {
    /// Does this router serve entrypoint `entry_point`?
    pub fn on_entry_point(&self, entry_point: usize) -> bool {
        self.entry_points == u64::MAX
            || u32::try_from(entry_point)
                .ok()
                .and_then(|bit| 1u64.checked_shl(bit))
                .is_some_and(|bit| self.entry_points & bit != 0)
    }
}

/// Immutable after [`RouteTable::build`]; `Send + Sync`, so one table can sit in a snapshot. Cloning gives a
/// table that shares nothing mutable with the original (each regex gets its own cache pool), which is how every
/// worker gets its own copy.
#[derive(Clone, Debug, Default)]
pub struct RouteTable {
    /// Sorted by priority descending, then name ascending.
    routers: Box<[RouterDef]>,
    services: Box<[Service]>,
    /// Normalised host → positions (ascending) of routers whose `rule.hosts()` contains it.
    by_host: HashMap<Box<[u8]>, Box<[u32]>, BuildHostHasher>,
    /// Positions (ascending) of routers whose `rule.hosts()` is `None`.
    fallback: Box<[u32]>,
    /// Number of server slots (the sum of every service's server count).
    slots: u32,
}

impl RouteTable {
    /// Sorts `routers` by (priority desc, name asc) and indexes them. A router whose service
    /// index is out of range is dropped with a warning (the builder should never produce one).
    pub fn build(routers: Vec<RouterDef>, mut services: Vec<Service>) -> RouteTable {
        let mut slots = 0u32;
        for service in &mut services {
            service.first_slot = slots;
            slots = slots.saturating_add(u32::try_from(service.servers.len()).unwrap_or(u32::MAX));
        }
        let mut routers: Vec<RouterDef> = routers
            .into_iter()
            .filter(|r| {
                let ok = r.service < services.len();
                if !ok {
                    log::warn!("router {}: service index {} out of range; dropped", r.name, r.service);
                }
                ok
            })
            .collect();
        routers.sort_by(|a, b| b.priority.cmp(&a.priority).then_with(|| a.name.cmp(&b.name)));
        // Positions are u32: more than 4 billion routers cannot be indexed.
        routers.truncate(u32::MAX as usize);

        let mut by_host: HashMap<Box<[u8]>, Vec<u32>, BuildHostHasher> = HashMap::default();
        let mut fallback = Vec::new();
        for (position, router) in (0u32..).zip(&routers) {
            match router.rule.hosts() {
                None => fallback.push(position),
                Some(hosts) => {
                    for host in hosts {
                        by_host
                            .entry(host.into_bytes().into_boxed_slice())
                            .or_default()
                            .push(position);
                    }
                }
            }
        }
        RouteTable {
            routers: routers.into_boxed_slice(),
            services: services.into_boxed_slice(),
            by_host: by_host.into_iter().map(|(h, p)| (h, p.into_boxed_slice())).collect(),
            fallback: fallback.into_boxed_slice(),
            slots,
        }
    }

    /// Number of server slots: every service's servers, numbered from each [`Service::first_slot`].
    pub fn slot_count(&self) -> usize {
        self.slots as usize
    }

    /// The first router, in table order, that serves `entry_point` and whose rule matches
    /// `req`, with its service, whatever its transport. Never allocates.
    pub fn lookup(&self, req: &RequestView<'_>, entry_point: usize) -> Option<(&RouterDef, &Service)> {
        self.find(req, entry_point, |_| true)
    }

    /// Like [`RouteTable::lookup`], among the routers that serve a TLS (`secure`) or plain connection.
    pub fn lookup_on(&self, req: &RequestView<'_>, entry_point: usize, secure: bool) -> Option<(&RouterDef, &Service)> {
        self.find(req, entry_point, |r| r.transport.serves(secure))
    }

    fn find(
        &self,
        req: &RequestView<'_>,
        entry_point: usize,
        serves: impl Fn(&RouterDef) -> bool,
    ) -> Option<(&RouterDef, &Service)> {
        let exact: &[u32] = match self.by_host.get(req.host) {
            Some(positions) => positions,
            None => &[],
        };
        let (mut a, mut b) = (exact.iter().peekable(), self.fallback.iter().peekable());
        loop {
            let position = match (a.peek(), b.peek()) {
                (Some(&&x), Some(&&y)) if x < y => a.next(),
                (Some(_), Some(_)) => b.next(),
                (Some(_), None) => a.next(),
                (None, Some(_)) => b.next(),
                (None, None) => return None,
            };
            let Some(router) = position.and_then(|&p| self.routers.get(p as usize)) else {
                continue;
            };
            if router.on_entry_point(entry_point) && serves(router) && router.rule.matches(req) {
                if let Some(service) = self.services.get(router.service) {
                    return Some((router, service));
                }
            }
        }
    }

    /// Every router, in lookup order.
    pub fn routers(&self) -> &[RouterDef] {
        &self.routers
    }

    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// Number of routers.
    pub fn len(&self) -> usize {
        self.routers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.routers.is_empty()
    }
}

#[cfg(test)]
mod assertions {
    fn send_sync<T: Send + Sync>() {}

    #[test]
    fn table_is_send_and_sync() {
        send_sync::<super::RouteTable>();
        send_sync::<crate::rule::Rule>();
    }
}
