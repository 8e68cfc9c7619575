use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::*;
use crate::route::{RouteTable, Service, Slots, TableBuilder, Upstream};

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn service(name: &str, servers: &[(u16, u32)]) -> Service {
    let servers: Vec<Upstream> = servers
        .iter()
        .map(|&(port, weight)| Upstream {
            addr: addr(port),
            authority: addr(port).to_string(),
            weight,
        })
        .collect();
    Service::new(name.to_string(), servers.into_boxed_slice(), true)
}

fn table(services: Vec<Service>) -> RouteTable {
    let mut slots = Slots::default();
    RouteTable::build(Vec::new(), services.into_iter().map(|s| slots.place(s)).collect())
}

fn counts(b: &mut Balancer, s: &Service, rounds: usize, now: Instant) -> Vec<usize> {
    let mut seen = vec![0; s.servers.len()];
    for _ in 0..rounds {
        let i = b.pick(s, 0, now).expect("a server");
        seen[i] += 1;
    }
    seen
}

#[test]
fn smooth_weighted_round_robin_is_exact_and_interleaved() {
    let t = table(vec![service("a", &[(1, 3), (2, 1)])]);
    let s = t.services().next().expect("service");
    let mut b = Balancer::default();
    b.rebind(&t, DownSet::default());
    let now = Instant::now();
    let order: Vec<usize> = (0..8).map(|_| b.pick(s, 0, now).expect("server")).collect();
    // nginx's smooth WRR for 3:1: the light server sits between heavy ones, never a run of four.
    assert_eq!(order, [0, 0, 1, 0, 0, 0, 1, 0]);
    assert_eq!(counts(&mut b, s, 4000, now), [3000, 1000]);
}

#[test]
fn equal_weights_alternate_and_services_do_not_share_state() {
    let t = table(vec![service("a", &[(1, 1), (2, 1)]), service("b", &[(3, 1), (4, 1)])]);
    let (a, bs) = (
        t.services().next().expect("service"),
        t.services().nth(1).expect("service"),
    );
    assert_eq!((a.first_slot, bs.first_slot), (0, 2));
    assert_eq!(t.slot_count(), 4);
    let mut b = Balancer::default();
    b.rebind(&t, DownSet::default());
    let now = Instant::now();
    assert_eq!(b.pick(a, 0, now), Some(0));
    assert_eq!(b.pick(bs, 0, now), Some(0));
    assert_eq!(b.pick(a, 0, now), Some(1));
    assert_eq!(b.pick(bs, 0, now), Some(1));
}

#[test]
fn tried_and_active_down_servers_are_skipped() {
    let t = table(vec![service("a", &[(1, 1), (2, 1), (3, 1)])]);
    let s = t.services().next().expect("service");
    let mut b = Balancer::default();
    b.rebind(&t, DownSet::from_fn(3, |slot| slot == 1));
    let now = Instant::now();
    let seen = counts(&mut b, s, 100, now);
    assert_eq!(seen[1], 0, "an actively down server gets nothing");
    assert_eq!(seen[0] + seen[2], 100);
    assert_eq!(b.pick(s, 0b101, now), None, "everything usable was tried");
    assert_eq!(b.pick(s, 0b001, now), Some(2));
    b.set_down(DownSet::from_fn(3, |_| true));
    assert_eq!(b.pick(s, 0, now), None);
    b.set_down(DownSet::default());
    assert!(b.pick(s, 0, now).is_some());
}

#[test]
fn a_single_server_is_never_taken_out_by_passive_failures() {
    let t = table(vec![service("a", &[(1, 5)]), service("b", &[(1, 1), (2, 1)])]);
    let (s, shared) = (
        t.services().next().expect("service"),
        t.services().nth(1).expect("service"),
    );
    let mut b = Balancer::default();
    b.rebind(&t, DownSet::default());
    let now = Instant::now();
    assert_eq!(b.pick(s, 0, now), Some(0));
    assert_eq!(b.pick(s, 1, now), None, "tried already");
    assert_eq!(b.failed(s, 0, Failure::Connect, now), Change::Counted);
    assert_eq!(b.pick(s, 0, now), Some(0), "nothing else could serve: keep trying it");
    // The same address fails in a service with a choice: out there, still tried where it is alone.
    assert_eq!(
        b.failed(shared, 0, Failure::Connect, now),
        Change::WentDown(passive::FIRST_COOLDOWN)
    );
    assert_eq!(b.pick(shared, 0, now), Some(1));
    assert_eq!(b.pick(s, 0, now), Some(0));
    // An active check result still counts.
    b.set_down(DownSet::from_fn(t.slot_count(), |slot| slot == 0));
    assert_eq!(b.pick(s, 0, now), None);
}

#[test]
fn passive_cooldown_backs_off_and_an_answer_clears_it() {
    let t = table(vec![service("a", &[(1, 1), (2, 1)])]);
    let s = t.services().next().expect("service");
    let mut b = Balancer::default();
    b.rebind(&t, DownSet::default());
    let t0 = Instant::now();
    assert_eq!(
        b.failed(s, 1, Failure::Reset, t0),
        Change::Counted,
        "one reset is not enough"
    );
    assert_eq!(
        b.failed(s, 1, Failure::Reset, t0),
        Change::WentDown(Duration::from_secs(1))
    );
    assert_eq!(counts(&mut b, s, 10, t0), [10, 0]);
    // A request already under way fails too: the cooldown is not extended.
    assert!(matches!(b.failed(s, 1, Failure::Connect, t0), Change::StillDown(_)));
    let t1 = t0 + Duration::from_secs(1);
    assert!(b.usable(s, 1, t1));
    assert_eq!(
        b.failed(s, 1, Failure::Connect, t1),
        Change::StillDown(Duration::from_secs(2))
    );
    let t2 = t1 + Duration::from_secs(2);
    assert_eq!(
        b.failed(s, 1, Failure::Connect, t2),
        Change::StillDown(Duration::from_secs(4))
    );
    let mut at = t2 + Duration::from_secs(4);
    for _ in 0..10 {
        if let Change::StillDown(c) = b.failed(s, 1, Failure::Connect, at) {
            assert!(c <= passive::MAX_COOLDOWN);
            at += c;
        }
    }
    assert!(!b.usable(s, 1, at - Duration::from_millis(1)));
    assert!(
        !b.answered(s, 1, t0),
        "an attempt older than the verdict proves nothing"
    );
    assert!(!b.usable(s, 1, at - Duration::from_millis(1)));
    assert!(b.answered(s, 1, at), "back in rotation");
    assert!(b.usable(s, 1, t0));
    assert!(!b.answered(s, 1, at), "only the first answer is a transition");
}

#[test]
fn rebind_keeps_passive_state_by_address() {
    let t = table(vec![service("a", &[(1, 1), (2, 1)])]);
    let mut b = Balancer::default();
    b.rebind(&t, DownSet::default());
    let now = Instant::now();
    b.failed(t.services().next().expect("service"), 1, Failure::Connect, now);
    // The same server now sits in another service at another slot.
    let t2 = table(vec![service("z", &[(9, 1)]), service("a", &[(2, 1), (1, 1)])]);
    b.rebind(&t2, DownSet::default());
    let s = t2.services().nth(1).expect("service");
    assert!(!b.usable(s, 0, now), "127.0.0.1:2 is still cooling down");
    assert!(b.usable(s, 1, now));
    assert!(b.usable(t2.services().next().expect("service"), 0, now));
}

#[test]
fn a_lone_servers_slot_holds_no_verdict() {
    let t = table(vec![service("a", &[(1, 1), (2, 1)])]);
    let mut b = Balancer::default();
    b.rebind(&t, DownSet::default());
    let now = Instant::now();
    let a = t.services().next().expect("service");
    assert_eq!(
        b.failed(a, 0, Failure::Connect, now),
        Change::WentDown(passive::FIRST_COOLDOWN)
    );
    // 127.0.0.1:1 is now a service's only server: its answers are not recorded, so its slot starts clear.
    let t2 = table(vec![service("z", &[(1, 1)])]);
    b.rebind(&t2, DownSet::default());
    let z = t2.services().next().expect("service");
    assert!(b.slots.iter().all(|slot| slot.passive.is_clear()));
    assert!(!b.answered(z, 0, now), "nothing to bring back");
    assert!(b.slots.iter().all(|slot| slot.passive.is_clear()));
    // Back in a service with a choice, it is not held out by the verdict of two tables ago.
    let t3 = table(vec![service("a", &[(1, 1), (2, 1)])]);
    b.rebind(&t3, DownSet::default());
    assert!(b.usable(t3.services().next().expect("service"), 0, now));
}

/// A table of `services` numbered by `slots` (as the compiler builds them).
fn numbered(slots: &Slots, services: &[&std::sync::Arc<Service>]) -> RouteTable {
    let mut builder = TableBuilder::default();
    for s in services {
        builder.insert_service(
            (std::sync::Arc::from(s.name.as_str()), 0, std::sync::Arc::from("")),
            (*s).clone(),
        );
    }
    builder.table(slots)
}

#[test]
fn a_table_of_the_same_numbering_keeps_every_slot_and_adds_the_new_ones() {
    let mut slots = Slots::default();
    let a = slots.place(service("a", &[(1, 1), (2, 1)]));
    let mut b = Balancer::default();
    b.rebind(&numbered(&slots, &[&a]), DownSet::default());
    let now = Instant::now();
    assert_eq!(
        b.failed(&a, 1, Failure::Connect, now),
        Change::WentDown(passive::FIRST_COOLDOWN)
    );
    // A service is added (its slots appended), another one changes (new slots), `a` stays.
    let c = slots.place(service("c", &[(3, 1), (4, 1)]));
    b.rebind(&numbered(&slots, &[&a, &c]), DownSet::default());
    assert!(!b.usable(&a, 1, now), "a's second server is still cooling down");
    assert!(b.usable(&a, 0, now) && b.usable(&c, 0, now) && b.usable(&c, 1, now));
    assert_eq!(
        b.failed(&c, 0, Failure::Connect, now),
        Change::WentDown(passive::FIRST_COOLDOWN)
    );
    // A new numbering (the compiler renumbered): state follows addresses, appended slots included.
    let mut fresh = Slots::default();
    let c2 = fresh.place(service("c", &[(4, 1), (3, 1)]));
    let a2 = fresh.place(service("a", &[(2, 1), (1, 1)]));
    b.rebind(&numbered(&fresh, &[&a2, &c2]), DownSet::default());
    assert!(!b.usable(&a2, 0, now), "127.0.0.1:2 is still cooling down");
    assert!(!b.usable(&c2, 1, now), "127.0.0.1:3 is still cooling down");
    assert!(b.usable(&a2, 1, now) && b.usable(&c2, 0, now));
}

#[test]
fn down_set_bits() {
    let d = DownSet::from_fn(130, |s| s == 0 || s == 64 || s == 129);
    assert!(d.contains(0) && d.contains(64) && d.contains(129));
    assert!(!d.contains(1) && !d.contains(128) && !d.contains(1000));
    assert_eq!(d.len(), 3);
    assert!(DownSet::from_fn(10, |_| false).is_empty());
    assert_eq!(DownSet::from_fn(10, |_| false), DownSet::default());
}

#[test]
fn a_connect_timeout_cools_down_longer() {
    let t = table(vec![service("a", &[(1, 1), (2, 1)])]);
    let s = t.services().next().expect("service");
    let mut b = Balancer::default();
    b.rebind(&t, DownSet::default());
    let t0 = Instant::now();
    assert_eq!(
        b.failed(s, 0, Failure::Timeout, t0),
        Change::WentDown(passive::TIMEOUT_COOLDOWN)
    );
    assert!(!b.usable(s, 0, t0 + Duration::from_secs(9)));
    let t1 = t0 + passive::TIMEOUT_COOLDOWN;
    assert!(b.usable(s, 0, t1));
    assert_eq!(
        b.failed(s, 0, Failure::Connect, t1),
        Change::StillDown(Duration::from_secs(20))
    );
}
