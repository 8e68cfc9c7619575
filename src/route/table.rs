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
use std::sync::Arc;

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
    /// Index of `servers[0]` in the table's server numbering: server `i` of this service is slot `first_slot + i`.
    /// Health state (active checks, passive cooldowns) is kept per slot. Fixed when the service is built (see
    /// [`Slots`]), so a service kept from one table to the next keeps its slots.
    pub first_slot: u32,
}

impl Service {
    /// A service at slot 0; [`Service::at_slot`] places it.
    pub fn new(name: String, servers: Box<[Upstream]>, pass_host_header: bool) -> Self {
        Service {
            name,
            servers,
            pass_host_header,
            first_slot: 0,
        }
    }

    /// The same service with its servers at slots `first_slot..`.
    pub fn at_slot(mut self, first_slot: u32) -> Self {
        self.first_slot = first_slot;
        self
    }

    /// Number of server slots it takes.
    pub fn slot_len(&self) -> u32 {
        u32::try_from(self.servers.len()).unwrap_or(u32::MAX)
    }
}

/// Hands out server slot numbers to services as they are built. Numbers are never reused by one allocator, so a
/// table's slots stay distinct however services come and go; [`Slots::wasted`] tells the owner when starting over
/// with a new allocator (and new numbers for every service) would pay.
#[derive(Debug, Default, Clone)]
pub struct Slots {
    next: u32,
}

impl Slots {
    /// `service` placed at the next free slots.
    pub fn place(&mut self, service: Service) -> Arc<Service> {
        let first = self.next;
        self.next = self.next.saturating_add(service.slot_len());
        Arc::new(service.at_slot(first))
    }

    /// Slots handed out so far: every table built from these services has at most this many.
    pub fn count(&self) -> u32 {
        self.next
    }

    /// True when fewer than half the numbers handed out are still used by `live` slots.
    pub fn wasted(&self, live: u32) -> bool {
        self.next > 4096 && self.next / 2 > live
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
    /// The service it sends to.
    pub service: Arc<Service>,
    /// `rule.hosts()` in index form, computed once.
    hosts: Option<Box<[Arc<[u8]>]>>,
    /// `rule.has_regex()`, computed once.
    regex: bool,
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
    /// A router; its host set is computed here, once.
    pub fn new(
        name: String,
        rule: Rule,
        priority: i64,
        entry_points: u64,
        transport: Transport,
        service: Arc<Service>,
    ) -> Self {
        let hosts = rule
            .hosts()
            .map(|hosts| hosts.into_iter().map(|h| Arc::from(h.into_bytes())).collect());
        RouterDef {
            name,
            regex: rule.has_regex(),
            rule,
            priority,
            entry_points,
            transport,
            service,
            hosts,
        }
    }

    /// Does this router serve entrypoint `entry_point`?
    pub fn on_entry_point(&self, entry_point: usize) -> bool {
        self.entry_points == u64::MAX
            || u32::try_from(entry_point)
                .ok()
                .and_then(|bit| 1u64.checked_shl(bit))
                .is_some_and(|bit| self.entry_points & bit != 0)
    }
}

/// Where the routers of one host sit in the table.
#[derive(Clone, Debug)]
enum Positions {
    /// The common case: one router per host, no allocation.
    One(u32),
    /// Ascending.
    Many(Box<[u32]>),
}

impl Positions {
    fn as_slice(&self) -> &[u32] {
        match self {
            Positions::One(p) => std::slice::from_ref(p),
            Positions::Many(ps) => ps,
        }
    }

    fn push(&mut self, position: u32) {
        let mut all = self.as_slice().to_vec();
        all.push(position);
        *self = Positions::Many(all.into_boxed_slice());
    }
}

/// Immutable once built; `Send + Sync`, so one table can sit in a snapshot. Routers and services are shared
/// (`Arc`) with the tables built before and after it, so building one for a changed configuration copies pointers,
/// not routers. [`RouteTable::for_worker`] gives each further worker a table whose regex rules are its own.
#[derive(Clone, Debug, Default)]
pub struct RouteTable {
    /// Sorted by priority descending, then name ascending.
    routers: Arc<[Arc<RouterDef>]>,
    /// Every service a router uses (and the route files' own), each once.
    services: Arc<[Arc<Service>]>,
    /// Normalised host → positions (ascending) of routers whose `rule.hosts()` contains it.
    by_host: Arc<HashMap<Arc<[u8]>, Positions, BuildHostHasher>>,
    /// Positions (ascending) of routers whose `rule.hosts()` is `None`.
    fallback: Arc<[u32]>,
    /// Number of server slots: above every service's last slot.
    slots: u32,
    /// Some router's rule holds a regex.
    regex: bool,
}

impl RouteTable {
    /// Sorts `routers` by (priority desc, name asc) and indexes them. `services` are the table's services, placed
    /// at their slots (see [`Slots`]).
    pub fn build(routers: Vec<RouterDef>, services: Vec<Arc<Service>>) -> RouteTable {
        let mut routers: Vec<Arc<RouterDef>> = routers.into_iter().map(Arc::new).collect();
        routers.sort_by(|a, b| b.priority.cmp(&a.priority).then_with(|| a.name.cmp(&b.name)));
        let slots = services
            .iter()
            .map(|s| s.first_slot.saturating_add(s.slot_len()))
            .max()
            .unwrap_or(0);
        RouteTable::from_sorted(routers, services, slots)
    }

    /// Indexes `routers`, already in table order (priority desc, name asc), over `slots` server slots.
    pub fn from_sorted(mut routers: Vec<Arc<RouterDef>>, services: Vec<Arc<Service>>, slots: u32) -> RouteTable {
        // Positions are u32: more than 4 billion routers cannot be indexed.
        routers.truncate(u32::MAX as usize);
        let mut by_host: HashMap<Arc<[u8]>, Positions, BuildHostHasher> =
            HashMap::with_capacity_and_hasher(routers.len(), BuildHostHasher::default());
        let mut fallback = Vec::new();
        let mut regex = false;
        for (position, router) in (0u32..).zip(&routers) {
            regex |= router.regex;
            match &router.hosts {
                None => fallback.push(position),
                Some(hosts) => {
                    for host in hosts.iter() {
                        match by_host.get_mut(&**host) {
                            Some(positions) => positions.push(position),
                            None => {
                                by_host.insert(host.clone(), Positions::One(position));
                            }
                        }
                    }
                }
            }
        }
        RouteTable {
            routers: routers.into(),
            services: services.into(),
            by_host: Arc::new(by_host),
            fallback: fallback.into(),
            slots,
            regex,
        }
    }

    /// This table for another worker: the same routers, except that those whose rule holds a regex are copied, so
    /// no regex cache is shared between threads (a regex's cache is lock-free only for the thread that made it).
    pub fn for_worker(&self) -> RouteTable {
        if !self.regex {
            return self.clone();
        }
        let routers: Vec<Arc<RouterDef>> = self
            .routers
            .iter()
            .map(|r| {
                if r.regex {
                    Arc::new(RouterDef::clone(r))
                } else {
                    r.clone()
                }
            })
            .collect();
        RouteTable {
            routers: routers.into(),
            ..self.clone()
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
            Some(positions) => positions.as_slice(),
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
                return Some((router, &router.service));
            }
        }
    }

    /// Every router, in lookup order.
    pub fn routers(&self) -> &[Arc<RouterDef>] {
        &self.routers
    }

    /// Every service, each once (in no particular order; slots tell where each one's servers are).
    pub fn services(&self) -> &[Arc<Service>] {
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
