//! Choosing a server for each request, per worker: smooth weighted round-robin over the servers that are up.
//!
//! Owns the per-worker, per-server state a choice needs: the round-robin weights, the active health result the
//! control thread sent ([`DownSet`]) and the worker's own passive verdicts ([`Passive`]). State is kept per server
//! slot (see [`crate::route::Service::first_slot`]) and carried over to a new route table by server address, so a
//! reload neither forgets a dead server nor resets a cooldown.
//!
//! Lives on one worker thread: no locks, no atomics, no I/O, and no allocation when choosing (only when a new table
//! arrives). Never decides what to do with a failed request; the forwarding path asks it for the next server.

pub mod down;
pub mod passive;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::route::{RouteTable, Service};
pub use down::DownSet;
pub use passive::{Failure, Passive, Verdict};

/// One server slot's state on this worker.
#[derive(Debug, Clone)]
struct Slot {
    addr: SocketAddr,
    /// Smooth weighted round-robin: the running weight.
    current: i64,
    passive: Passive,
}

/// A slot no server holds yet.
fn placeholder() -> Slot {
    Slot {
        addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        current: 0,
        passive: Passive::default(),
    }
}

/// A worker's server choices and passive health.
#[derive(Debug, Default)]
pub struct Balancer {
    slots: Vec<Slot>,
    /// The slot numbering of the table the slots are bound to.
    epoch: u64,
    /// Slots the last active health check found down.
    down: DownSet,
}

/// What a passive failure changed, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The server was up and is now out of rotation for this long.
    WentDown(Duration),
    /// Still failing: the cooldown was extended to this long.
    StillDown(Duration),
    /// Counted, below the threshold.
    Counted,
}

impl Balancer {
    /// Rebinds to `table`'s slots with the active results `down`, keeping each server's passive state. A table of the
    /// same slot numbering only adds slots: they are appended (no walk over the services, which can be 100,000).
    /// Otherwise every slot is bound anew and passive state follows the server's address, except into the slot of a
    /// service's only server, which never holds any.
    pub fn rebind(&mut self, table: &RouteTable, down: DownSet) {
        self.down = down;
        if table.slot_epoch() == self.epoch && table.slot_count() >= self.slots.len() {
            self.slots.resize(table.slot_count(), placeholder());
            return;
        }
        self.epoch = table.slot_epoch();
        let mut old: HashMap<SocketAddr, Passive> = HashMap::new();
        for slot in self.slots.drain(..) {
            if !slot.passive.is_clear() {
                old.insert(slot.addr, slot.passive);
            }
        }
        // Slots a service no longer holds stay as placeholders (numbers are not reused within an epoch).
        self.slots.resize(table.slot_count(), placeholder());
        for service in table.services() {
            let first = service.first_slot as usize;
            for (i, server) in service.servers.iter().enumerate() {
                if let Some(slot) = self.slots.get_mut(first + i) {
                    slot.addr = server.addr;
                    // A lone server's slot holds no verdict: nothing judges it (see `failed`) or clears it (see
                    // `answered`), so a verdict carried into it would outlive the server's recovery.
                    slot.passive = if service.servers.len() == 1 {
                        Passive::default()
                    } else {
                        old.get(&server.addr).cloned().unwrap_or_default()
                    };
                }
            }
        }
    }

    /// Installs new active health results for the current table.
    pub fn set_down(&mut self, down: DownSet) {
        self.down = down;
    }

    /// Is server `index` of `service` in rotation at `now` (neither found down by the active check nor cooling down
    /// after passive failures)? The only server of a service is never out for passive failures: nothing else could
    /// serve its requests, so they keep trying it (as nginx does).
    pub fn usable(&self, service: &Service, index: usize, now: Instant) -> bool {
        let slot = service.first_slot as usize + index;
        if self.down.contains(slot) {
            return false;
        }
        service.servers.len() == 1 || self.slots.get(slot).is_none_or(|s| !s.passive.is_down(now))
    }

    /// The next server of `service` for a request, skipping the servers in `tried` (bit `i` = server `i`, for the
    /// first 64) and every server out of rotation. `None`: no server is usable.
    pub fn pick(&mut self, service: &Service, tried: u64, now: Instant) -> Option<usize> {
        let n = service.servers.len();
        let skipped = |i: usize| i < 64 && tried & (1u64 << i) != 0;
        if n == 1 {
            return (!skipped(0) && self.usable(service, 0, now)).then_some(0);
        }
        let first = service.first_slot as usize;
        let mut total: i64 = 0;
        let mut best: Option<usize> = None;
        let mut best_weight = i64::MIN;
        for (i, server) in service.servers.iter().enumerate() {
            if skipped(i) || !self.usable(service, i, now) {
                continue;
            }
            let Some(slot) = self.slots.get_mut(first + i) else {
                continue;
            };
            let weight = i64::from(server.weight.max(1));
            slot.current = slot.current.saturating_add(weight);
            total = total.saturating_add(weight);
            if slot.current > best_weight {
                best_weight = slot.current;
                best = Some(i);
            }
        }
        let chosen = best?;
        if let Some(slot) = self.slots.get_mut(first + chosen) {
            slot.current = slot.current.saturating_sub(total);
        }
        Some(chosen)
    }

    /// Records that an attempt on server `index` of `service` failed with `failure` at `now`. A service's only
    /// server is never taken out (see [`Balancer::usable`]).
    pub fn failed(&mut self, service: &Service, index: usize, failure: Failure, now: Instant) -> Change {
        if service.servers.len() == 1 {
            return Change::Counted;
        }
        let Some(slot) = self.slots.get_mut(service.first_slot as usize + index) else {
            return Change::Counted;
        };
        // A slot appended without a walk over the services learns its address here, where passive state starts: a
        // rebind to another numbering carries that state by address.
        if let Some(server) = service.servers.get(index) {
            slot.addr = server.addr;
        }
        match slot.passive.fail(failure, now) {
            Verdict::Counted => Change::Counted,
            Verdict::Down { cooldown, was_up: true } => Change::WentDown(cooldown),
            Verdict::Down { cooldown, .. } => Change::StillDown(cooldown),
        }
    }

    /// Records that server `index` of `service` answered an attempt started at `started`. True when it had been
    /// out of rotation (it is back). A service's only server is never taken out (see [`Balancer::failed`]), so
    /// there is nothing to record for it, and its slot is not read: with many services it is a cache miss per
    /// request.
    pub fn answered(&mut self, service: &Service, index: usize, started: Instant) -> bool {
        if service.servers.len() == 1 {
            return false;
        }
        match self.slots.get_mut(service.first_slot as usize + index) {
            Some(slot) => slot.passive.ok(started),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests;
