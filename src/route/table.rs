//! The route table: every router (provider and route files) compiled into one immutable index
//! that workers read per request.
//!
//! Owns router order (priority descending, then name ascending: deterministic ties), the
//! exact-host index (sharded, so a table for a few changed routers copies a few shards and shares
//! the rest with the previous table, see [`TableBuilder`]), the fallback list, server slot
//! numbering ([`Slots`]) and [`RouteTable::lookup`]. Lookup never blocks, never allocates and
//! never scans every router: it takes the routers indexed under the request host and the routers
//! whose rule does not pin a host, merges the two lists in table order, and returns the first
//! router enabled on the entrypoint whose rule matches (a host's only router, with no host-less
//! router to merge, is decided from its index entry: see `index_entry.rs`). Building allocates
//! and belongs on the control thread.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use super::hash::BuildHostHasher;
use super::index_entry::{Filed, HostKey};
use super::servers::Servers;
use crate::rule::{RequestView, Rule};

/// One upstream server of a service. `repr(C)` keeps `addr`, which every request to it reads, first.
#[derive(Clone, Debug, PartialEq, Eq)]
#[repr(C)]
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
///
/// `repr(C)`: what a request reads (slot, `Host` choice, a lone server's address) comes first, so with many
/// services, each cold in the cache, choosing and dialling a server costs as few cache lines as the layout allows.
#[derive(Clone, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct Service {
    /// Index of `servers[0]` in the table's server numbering: server `i` of this service is slot `first_slot + i`.
    /// Health state (active checks, passive cooldowns) is kept per slot. Fixed when the service is built (see
    /// [`Slots`]), so a service kept from one table to the next keeps its slots.
    pub first_slot: u32,
    /// Send the client's `Host` upstream (Traefik's default) instead of the server authority.
    pub pass_host_header: bool,
    pub servers: Servers,
    /// Qualified name: `83a6@http`, `x.com/app@routes`.
    pub name: String,
}

impl Service {
    /// A service at slot 0; [`Service::at_slot`] places it.
    pub fn new(name: String, servers: Box<[Upstream]>, pass_host_header: bool) -> Self {
        Service {
            first_slot: 0,
            pass_host_header,
            servers: servers.into(),
            name,
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
#[derive(Debug, Clone)]
pub struct Slots {
    next: u32,
    /// Distinct for every allocator: tables whose slots come from the same one number them alike.
    epoch: u64,
}

impl Default for Slots {
    fn default() -> Self {
        static EPOCHS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Slots {
            next: 0,
            epoch: EPOCHS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }
}

impl Slots {
    /// This allocator's numbering (see [`RouteTable::slot_epoch`]).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

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
///
/// `repr(C)`: the fields a lookup reads of a router found under the request's host (entrypoints, transport, the
/// shortcut flag) and the service pointer come first, in the router's first cache line whenever the allocator
/// allows; the rule tree and the name follow.
#[derive(Clone, Debug)]
#[repr(C)]
pub struct RouterDef {
    /// Bit `i` set: the router serves entrypoint index `i`. `u64::MAX`: every entrypoint.
    pub entry_points: u64,
    /// The service it sends to.
    pub service: Arc<Service>,
    /// Which connections the router serves: Traefik's provider routers with a `tls` section serve TLS only and
    /// those without serve plain HTTP only; route-file routes serve both. [`RouteTable::lookup_on`] honours it.
    pub transport: Transport,
    /// `rule.decided_by_host()`, computed once: found under the request's host, the router matches without its
    /// rule being evaluated again (which would touch the rule tree and its host strings, cold with many hosts).
    host_decides: bool,
    /// `rule.has_regex()`, computed once.
    regex: bool,
    /// Explicit priority, or `rule.priority()`. Higher is tried first.
    pub priority: i64,
    /// Qualified name: `83a6@http`, `x.com/app@routes`.
    pub name: String,
    pub rule: Rule,
    /// `rule.hosts()` in index form, computed once.
    hosts: Option<Box<[Arc<[u8]>]>>,
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
            host_decides: hosts.is_some() && rule.decided_by_host(),
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
        serves_entry_point(self.entry_points, entry_point)
    }

    /// Found under the request's host, does the router match without its rule being evaluated? (Its rule is only
    /// `Host()` names, plus `SegmentPrefix("")` for a whole-host route-file route: see [`Rule::decided_by_host`].)
    pub(crate) fn host_decides(&self) -> bool {
        self.host_decides
    }
}

/// Does a router whose entrypoint bits are `entry_points` serve entrypoint `entry_point`?
fn serves_entry_point(entry_points: u64, entry_point: usize) -> bool {
    entry_points == u64::MAX
        || u32::try_from(entry_point)
            .ok()
            .and_then(|bit| 1u64.checked_shl(bit))
            .is_some_and(|bit| entry_points & bit != 0)
}

/// A sort key unique per provider or route-file entry: its qualified name, its kind, its name as written.
pub type EntryKey = (Arc<str>, u8, Arc<str>);

/// Where a router sits in the table: priority descending, then name.
pub type OrderKey = (std::cmp::Reverse<i64>, String);

/// Host shards: a table built for a few changed routers copies the shards those routers' hosts fall in and shares
/// the rest with the previous table.
const SHARDS: usize = 256;

/// Normalised host → routers whose `rule.hosts()` contains it, in table order (see [`Filed`] for the layout).
type Shard = HashMap<HostKey, Filed, BuildHostHasher>;

fn shard_of(host: &[u8]) -> usize {
    let mut h = super::hash::HostHasher::default();
    std::hash::Hasher::write(&mut h, host);
    // Bits the shard maps do not use to place keys.
    (std::hash::Hasher::finish(&h) >> 32) as usize % SHARDS
}

fn order_of(r: &RouterDef) -> OrderKey {
    (std::cmp::Reverse(r.priority), r.name.clone())
}

/// Does `a` come before `b` in the table (priority descending, then name)?
fn before(a: &RouterDef, b: &RouterDef) -> bool {
    b.priority.cmp(&a.priority).then_with(|| a.name.cmp(&b.name)).is_lt()
}

/// Immutable once built; `Send + Sync`, so one table can sit in a snapshot. Routers and services are shared
/// (`Arc`) with the tables built before and after it by the same [`TableBuilder`], and so are the host shards no
/// router of a change falls in: a table for one changed router copies one shard, not the index.
/// [`RouteTable::for_worker`] gives each further worker a table whose regex rules are its own.
#[derive(Clone, Debug, Default)]
pub struct RouteTable {
    /// `SHARDS` host maps (none when the table has no host-pinned router).
    shards: Arc<[Arc<Shard>]>,
    /// Routers whose `rule.hosts()` is `None`, in table order.
    fallback: Arc<[Arc<RouterDef>]>,
    /// Every router, in table order.
    all: imbl::OrdMap<OrderKey, Arc<RouterDef>>,
    /// Routers whose rule holds a regex.
    regex: imbl::OrdMap<OrderKey, Arc<RouterDef>>,
    /// Every service a router uses (and the route files' own), each once.
    services: imbl::OrdMap<EntryKey, Arc<Service>>,
    /// Number of server slots: above every service's last slot.
    slots: u32,
    /// The slot numbering (see [`Slots`]): within one, a slot is never given to another server.
    epoch: u64,
}

/// Builds tables and keeps their parts, so the next table for a few changed routers shares everything else.
#[derive(Clone, Debug, Default)]
pub struct TableBuilder {
    table: RouteTable,
    shards: Vec<Arc<Shard>>,
    fallback: Vec<Arc<RouterDef>>,
    fallback_changed: bool,
}

impl TableBuilder {
    /// Adds a router (its name must be unique in the table).
    pub fn insert_router(&mut self, router: Arc<RouterDef>) {
        let order = order_of(&router);
        if router.regex {
            self.table.regex.insert(order.clone(), router.clone());
        }
        self.table.all.insert(order, router.clone());
        match &router.hosts {
            None => {
                let at = self.fallback.partition_point(|r| before(r, &router));
                self.fallback.insert(at, router);
                self.fallback_changed = true;
            }
            Some(hosts) => {
                if self.shards.is_empty() {
                    self.shards = (0..SHARDS).map(|_| Arc::new(Shard::default())).collect();
                }
                for host in hosts.iter() {
                    let shard = Arc::make_mut(&mut self.shards[shard_of(host)]);
                    let mut list = shard.get(&**host).map(|f| f.as_slice().to_vec()).unwrap_or_default();
                    let at = list.partition_point(|r| before(r, &router));
                    list.insert(at, router.clone());
                    if let Some(filed) = Filed::from_vec(list) {
                        shard.insert(HostKey::new(host), filed);
                    }
                }
            }
        }
    }

    /// Removes a router added before.
    pub fn remove_router(&mut self, router: &Arc<RouterDef>) {
        let order = order_of(router);
        self.table.all.remove(&order);
        if router.regex {
            self.table.regex.remove(&order);
        }
        match &router.hosts {
            None => {
                self.fallback.retain(|r| !Arc::ptr_eq(r, router));
                self.fallback_changed = true;
            }
            Some(hosts) => {
                for host in hosts.iter() {
                    let Some(shard) = self.shards.get_mut(shard_of(host)) else {
                        continue;
                    };
                    let shard = Arc::make_mut(shard);
                    if let Some(filed) = shard.get_mut(&**host) {
                        let kept: Vec<Arc<RouterDef>> = filed
                            .as_slice()
                            .iter()
                            .filter(|r| !Arc::ptr_eq(r, router))
                            .cloned()
                            .collect();
                        match Filed::from_vec(kept) {
                            Some(rest) => *filed = rest,
                            None => {
                                shard.remove(&**host);
                            }
                        }
                    }
                }
            }
        }
    }

    /// Adds a service under `key`.
    pub fn insert_service(&mut self, key: EntryKey, service: Arc<Service>) {
        self.table.services.insert(key, service);
    }

    /// Removes the service under `key`, returning it.
    pub fn remove_service(&mut self, key: &EntryKey) -> Option<Arc<Service>> {
        self.table.services.remove(key)
    }

    /// The table as it stands, over the slots `slots` handed out.
    pub fn table(&mut self, slots: &Slots) -> RouteTable {
        self.table.epoch = slots.epoch();
        let slots = slots.count();
        if self.fallback_changed {
            self.table.fallback = self.fallback.clone().into();
            self.fallback_changed = false;
        }
        self.table.shards = self.shards.clone().into();
        self.table.slots = slots;
        self.table.clone()
    }
}

impl RouteTable {
    /// Indexes `routers` (names unique) with `services`, placed at their slots (see [`Slots`]).
    pub fn build(routers: Vec<RouterDef>, services: Vec<Arc<Service>>) -> RouteTable {
        let mut builder = TableBuilder::default();
        // Slots placed by the caller: a numbering of their own.
        let slots = Slots {
            next: services
                .iter()
                .map(|s| s.first_slot.saturating_add(s.slot_len()))
                .max()
                .unwrap_or(0),
            ..Slots::default()
        };
        // Keyed by position: `services()` gives them back in this order.
        for (i, s) in services.into_iter().enumerate() {
            builder.insert_service((Arc::from(format!("{i:020}")), 0, Arc::from(s.name.as_str())), s);
        }
        for r in routers {
            builder.insert_router(Arc::new(r));
        }
        builder.table(&slots)
    }

    /// This table for another worker: the same routers, except that those whose rule holds a regex are copied, so
    /// no regex cache is shared between threads (a regex's cache is lock-free only for the thread that made it).
    pub fn for_worker(&self) -> RouteTable {
        if self.regex.is_empty() {
            return self.clone();
        }
        let mut builder = TableBuilder {
            table: self.clone(),
            shards: self.shards.to_vec(),
            fallback: self.fallback.to_vec(),
            fallback_changed: false,
        };
        for router in self.regex.values() {
            builder.remove_router(router);
            builder.insert_router(Arc::new(RouterDef::clone(router)));
        }
        builder.table.slots = self.slots;
        builder.table.epoch = self.epoch;
        if builder.fallback_changed {
            builder.table.fallback = builder.fallback.clone().into();
        }
        builder.table.shards = builder.shards.clone().into();
        builder.table
    }

    /// Number of server slots: every service's servers, numbered from each [`Service::first_slot`].
    pub fn slot_count(&self) -> usize {
        self.slots as usize
    }

    /// The slot numbering: two tables of the same epoch give a slot to the same server (slots are only added), so
    /// a worker keeps its per-slot state across them without looking at every service.
    pub fn slot_epoch(&self) -> u64 {
        self.epoch
    }

    /// The first router, in table order, that serves `entry_point` and whose rule matches
    /// `req`, with its service, whatever its transport. Never allocates.
    pub fn lookup(&self, req: &RequestView<'_>, entry_point: usize) -> Option<(&RouterDef, &Service)> {
        self.find(req, entry_point, |_| true)
    }

    /// Like [`RouteTable::lookup`], among the routers that serve a TLS (`secure`) or plain connection.
    pub fn lookup_on(&self, req: &RequestView<'_>, entry_point: usize, secure: bool) -> Option<(&RouterDef, &Service)> {
        self.find(req, entry_point, |t| t.serves(secure))
    }

    fn find(
        &self,
        req: &RequestView<'_>,
        entry_point: usize,
        serves: impl Fn(Transport) -> bool,
    ) -> Option<(&RouterDef, &Service)> {
        let filed = self
            .shards
            .get(shard_of(req.host))
            .and_then(|shard| shard.get(req.host));
        let fallback: &[Arc<RouterDef>] = &self.fallback;
        if let (Some(Filed::One(lone)), []) = (filed, fallback) {
            // The host's only router and nothing else to try: decided from the index entry's copies, reading the
            // router only when its rule must be evaluated.
            let matches = serves_entry_point(lone.entry_points, entry_point)
                && serves(lone.transport)
                && (lone.host_decides || lone.router.rule.matches(req));
            return matches.then_some((&*lone.router, &*lone.service));
        }
        let exact: &[Arc<RouterDef>] = filed.map_or(&[], Filed::as_slice);
        let (mut a, mut b) = (exact.iter().peekable(), fallback.iter().peekable());
        loop {
            // `indexed`: found under the request's host (so its `Host()` names already matched). Only indexed routers
            // can have `host_decides` set (it needs `rule.hosts()`); the flag keeps the shortcut off the fallback
            // list even if that changes.
            let (router, indexed) = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) if before(x, y) => (a.next(), true),
                (Some(_), Some(_)) => (b.next(), false),
                (Some(_), None) => (a.next(), true),
                (None, Some(_)) => (b.next(), false),
                (None, None) => return None,
            };
            let Some(router) = router else {
                continue;
            };
            if router.on_entry_point(entry_point)
                && serves(router.transport)
                && ((indexed && router.host_decides) || router.rule.matches(req))
            {
                return Some((router, &router.service));
            }
        }
    }

    /// Every router, in lookup order.
    pub fn routers(&self) -> impl ExactSizeIterator<Item = &Arc<RouterDef>> {
        self.all.values()
    }

    /// Every service, each once (slots tell where each one's servers are).
    pub fn services(&self) -> impl ExactSizeIterator<Item = &Arc<Service>> {
        self.services.values()
    }

    /// Number of routers.
    pub fn len(&self) -> usize {
        self.all.len()
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
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
