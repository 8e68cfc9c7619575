//! [`Monitor`]: the per-server up/down state machine the control thread owns.
//!
//! Owns one entry per `(service, server address)`: whether it is up, when it is next due, and
//! the id of its probe in flight. The control loop calls [`Monitor::sync`] when the route table
//! changes, [`Monitor::dispatch`] when [`Monitor::next_due`] passes, and [`Monitor::collect`]
//! when [`Monitor::results`] is ready; none of them blocks. A probe that hangs only keeps its
//! own entry in flight until its result (bounded by the check's timeout) arrives.
//!
//! Logs one line per transition and nothing else; never a header value.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;

use super::config::HealthCheck;
use super::probe::{Probe, ProbeOutcome};
use super::prober::Prober;

/// When the job queue was full, due entries are retried after this long (so the control loop
/// does not spin on a due time in the past).
pub const QUEUE_FULL_RETRY: Duration = Duration::from_millis(100);

/// One server of one service to check.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The service name.
    pub service: String,
    /// The server URL as written, e.g. `http://10.50.0.2:8080`.
    pub url: String,
    /// One resolved address of the URL.
    pub addr: SocketAddr,
    /// The `Host` header when the check has no `hostname`: the URL's authority.
    pub host: String,
    /// The service's check.
    pub check: Arc<HealthCheck>,
}

impl Target {
    /// A target whose `host` is the authority of `url` (`http://u:p@app:8080/x` → `app:8080`).
    pub fn new(service: impl Into<String>, url: impl Into<String>, addr: SocketAddr, check: Arc<HealthCheck>) -> Self {
        let url = url.into();
        let host = url_authority(&url).to_owned();
        Target {
            service: service.into(),
            url,
            addr,
            host,
            check,
        }
    }
}

/// The authority of a URL without userinfo; empty when there is none.
pub fn url_authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    authority.rsplit_once('@').map_or(authority, |(_, host)| host)
}

/// A server went down or came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The service name.
    pub service: String,
    /// The server URL as written.
    pub url: String,
    /// The address that changed.
    pub addr: SocketAddr,
    /// Up now.
    pub up: bool,
    /// Why it is down (`None` when up).
    pub reason: Option<String>,
}

struct Entry {
    target: Target,
    /// The URL's scheme is `https`.
    https: bool,
    /// Other URLs of the same service that resolved to the same address (reported, not probed).
    aliases: Vec<String>,
    up: bool,
    due: Instant,
    in_flight: Option<u64>,
}

impl Entry {
    fn new(target: Target, now: Instant) -> Entry {
        Entry {
            https: is_https(&target.url),
            target,
            aliases: Vec::new(),
            up: true,
            due: now,
            in_flight: None,
        }
    }
}

fn is_https(url: &str) -> bool {
    url.get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
}

/// Health state of every checked server; owned by the control thread.
pub struct Monitor {
    prober: Prober,
    services: BTreeMap<String, BTreeMap<SocketAddr, Entry>>,
    /// Probe id → the entry waiting for it; only ids entries still wait for.
    pending: HashMap<u64, (String, SocketAddr)>,
    next_id: u64,
    /// Set when the job queue was full: the earliest time to try again.
    retry_at: Option<Instant>,
}

impl Monitor {
    /// A monitor with no targets, probing on `prober`'s threads.
    pub fn new(prober: Prober) -> Monitor {
        Monitor {
            prober,
            services: BTreeMap::new(),
            pending: HashMap::new(),
            next_id: 1,
            retry_at: None,
        }
    }

    /// Replaces the target set. A target whose `(service, addr)` is known with an equal check
    /// keeps its state (up or down, next due, probe in flight); any other starts up and due at
    /// once. Targets not given are forgotten and their results in flight ignored. When two
    /// URLs of one service resolve to the same address, the first is probed and the other is
    /// reported with its state.
    pub fn sync(&mut self, targets: Vec<Target>) {
        let now = Instant::now();
        let mut old = std::mem::take(&mut self.services);
        for target in targets {
            let entries = self.services.entry(target.service.clone()).or_default();
            if let Some(entry) = entries.get_mut(&target.addr) {
                if entry.target.url != target.url && !entry.aliases.contains(&target.url) {
                    log::debug!(
                        "health: server {} of service {} has the address of {}; checked once",
                        target.url,
                        target.service,
                        entry.target.url
                    );
                    entry.aliases.push(target.url);
                }
                continue;
            }
            let previous = old
                .get_mut(&target.service)
                .and_then(|entries| entries.remove(&target.addr));
            let entry = match previous {
                Some(mut entry) if entry.target.check == target.check => {
                    entry.https = is_https(&target.url);
                    entry.aliases.clear();
                    entry.target = target;
                    entry
                }
                _ => Entry::new(target, now),
            };
            entries.insert(entry.target.addr, entry);
        }
        let services = &self.services;
        self.pending.retain(|id, (service, addr)| {
            services
                .get(service)
                .and_then(|entries| entries.get(addr))
                .is_some_and(|entry| entry.in_flight == Some(*id))
        });
    }

    /// Submits every due target with no probe in flight, earliest due first. Never blocks: when
    /// the job queue is full the rest stay due and are tried again after [`QUEUE_FULL_RETRY`].
    pub fn dispatch(&mut self, now: Instant) {
        let mut due: Vec<(Instant, &str, SocketAddr)> = self
            .services
            .iter()
            .flat_map(|(service, entries)| {
                entries
                    .values()
                    .filter(|entry| entry.in_flight.is_none() && entry.due <= now)
                    .map(move |entry| (entry.due, service.as_str(), entry.target.addr))
            })
            .collect();
        due.sort_unstable();
        let mut submitted = Vec::new();
        let mut full = false;
        for (_, service, addr) in due {
            let Some(entry) = self.services.get(service).and_then(|entries| entries.get(&addr)) else {
                continue;
            };
            let id = self.next_id;
            let probe = Probe {
                id,
                addr,
                host: entry.target.host.clone(),
                https: entry.https,
                check: Arc::clone(&entry.target.check),
            };
            if self.prober.try_submit(probe).is_err() {
                full = true;
                break;
            }
            self.next_id += 1;
            submitted.push((id, service.to_owned(), addr));
        }
        for (id, service, addr) in submitted {
            if let Some(entry) = self
                .services
                .get_mut(&service)
                .and_then(|entries| entries.get_mut(&addr))
            {
                entry.in_flight = Some(id);
            }
            self.pending.insert(id, (service, addr));
        }
        self.retry_at = full.then(|| now + QUEUE_FULL_RETRY);
    }

    /// Takes every result already available, without blocking, and applies it: a failed check
    /// marks the server down, a passing one up; it is next due `interval` later (while down,
    /// `unhealthyInterval`). Returns only real changes, each logged once.
    pub fn collect(&mut self, now: Instant) -> Vec<Transition> {
        let mut transitions = Vec::new();
        while let Ok((id, outcome)) = self.prober.results().try_recv() {
            transitions.extend(self.apply(id, outcome, now));
        }
        transitions
    }

    /// Applies one result; the transition, if the server changed state.
    fn apply(&mut self, id: u64, outcome: ProbeOutcome, now: Instant) -> Option<Transition> {
        let (service, addr) = self.pending.remove(&id)?;
        // A slot in the job queue has most likely freed up.
        self.retry_at = None;
        let entry = self.services.get_mut(&service)?.get_mut(&addr)?;
        if entry.in_flight != Some(id) {
            return None;
        }
        entry.in_flight = None;
        let up = outcome == ProbeOutcome::Up;
        let check = &entry.target.check;
        entry.due = now + if up { check.interval } else { check.unhealthy_interval };
        if entry.up == up {
            return None;
        }
        entry.up = up;
        let url = &entry.target.url;
        let reason = match outcome {
            ProbeOutcome::Up => {
                log::info!("health: server {url} of service {service} is UP again");
                None
            }
            ProbeOutcome::Down(reason) => {
                log::warn!("health: server {url} of service {service} is DOWN: {reason}");
                Some(reason)
            }
        };
        Some(Transition {
            url: url.clone(),
            service,
            addr,
            up,
            reason,
        })
    }

    /// Whether the server at `addr` of `service` passes its check; true when it is not checked.
    pub fn is_up(&self, service: &str, addr: SocketAddr) -> bool {
        self.services
            .get(service)
            .and_then(|entries| entries.get(&addr))
            .is_none_or(|entry| entry.up)
    }

    /// The earliest due time of a target with no probe in flight (not before the retry time
    /// after a full queue); `None` when every target is in flight or there are none.
    pub fn next_due(&self) -> Option<Instant> {
        let earliest = self
            .services
            .values()
            .flat_map(BTreeMap::values)
            .filter(|entry| entry.in_flight.is_none())
            .map(|entry| entry.due)
            .min()?;
        Some(self.retry_at.map_or(earliest, |retry| earliest.max(retry)))
    }

    /// Probe results, for `select!`; then call [`Monitor::collect`].
    pub fn results(&self) -> &Receiver<(u64, ProbeOutcome)> {
        self.prober.results()
    }

    /// Service → server URL → up, for status pages. A URL is up when any of its addresses is.
    pub fn server_status(&self) -> BTreeMap<String, BTreeMap<String, bool>> {
        let mut status: BTreeMap<String, BTreeMap<String, bool>> = BTreeMap::new();
        for (service, entries) in &self.services {
            if entries.is_empty() {
                continue;
            }
            let urls = status.entry(service.clone()).or_default();
            for entry in entries.values() {
                for url in std::iter::once(&entry.target.url).chain(&entry.aliases) {
                    *urls.entry(url.clone()).or_insert(false) |= entry.up;
                }
            }
        }
        status
    }

    /// How many `(service, address)` targets are checked.
    pub fn len(&self) -> usize {
        self.services.values().map(BTreeMap::len).sum()
    }

    /// No targets.
    pub fn is_empty(&self) -> bool {
        self.services.values().all(BTreeMap::is_empty)
    }
}

#[cfg(test)]
mod tests {
    use std::thread;

    use super::*;
    use crate::health::testserver::{Server, Switch};

    fn check(path: &str) -> Arc<HealthCheck> {
        let mut check = HealthCheck::new(path);
        check.interval = Duration::from_secs(10);
        check.unhealthy_interval = Duration::from_secs(2);
        check.timeout = Duration::from_secs(1);
        Arc::new(check)
    }

    fn target(service: &str, addr: SocketAddr, check: &Arc<HealthCheck>) -> Target {
        Target::new(service, format!("http://{addr}"), addr, Arc::clone(check))
    }

    fn monitor() -> Monitor {
        Monitor::new(Prober::new(2, 16).expect("prober"))
    }

    /// Applies results as they arrive until nothing is in flight (each probe is bounded by
    /// its 1 s timeout).
    fn settle(monitor: &mut Monitor) -> Vec<Transition> {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut transitions = Vec::new();
        while !monitor.pending.is_empty() {
            assert!(Instant::now() < deadline, "probes did not finish");
            if let Ok((id, outcome)) = monitor.results().recv_timeout(Duration::from_millis(50)) {
                transitions.extend(monitor.apply(id, outcome, Instant::now()));
            }
            transitions.extend(monitor.collect(Instant::now()));
        }
        transitions
    }

    /// Makes every target due and runs one round of checks.
    fn round(monitor: &mut Monitor) -> Vec<Transition> {
        monitor.dispatch(Instant::now() + Duration::from_secs(3600));
        settle(monitor)
    }

    #[test]
    fn down_after_a_failing_check_and_up_again_after_recovery() {
        let switch = Switch::start(200);
        let addr = switch.server.addr;
        let url = format!("http://{addr}");
        let mut monitor = monitor();
        monitor.sync(vec![target("app", addr, &check("/health"))]);
        assert!(monitor.is_up("app", addr), "new targets start up");
        assert!(
            monitor.next_due().is_some_and(|due| due <= Instant::now()),
            "new targets are due at once"
        );

        assert_eq!(round(&mut monitor), vec![]);
        assert!(monitor.is_up("app", addr));

        switch.set(500);
        let before = Instant::now();
        let transitions = round(&mut monitor);
        assert_eq!(
            transitions,
            vec![Transition {
                service: "app".to_owned(),
                url: url.clone(),
                addr,
                up: false,
                reason: Some("GET /health answered 500".to_owned()),
            }]
        );
        assert!(!monitor.is_up("app", addr));
        // While down, the next check comes after unhealthyInterval (2 s), not interval (10 s).
        let due = monitor.next_due().expect("due");
        assert!(due >= before + Duration::from_secs(2) && due < Instant::now() + Duration::from_secs(3));
        assert_eq!(round(&mut monitor), vec![], "still down is not a transition");

        switch.set(200);
        let transitions = round(&mut monitor);
        assert_eq!(
            transitions,
            vec![Transition {
                service: "app".to_owned(),
                url,
                addr,
                up: true,
                reason: None,
            }]
        );
        assert!(monitor.is_up("app", addr));
        assert_eq!(round(&mut monitor), vec![], "still up is not a transition");
        let due = monitor.next_due().expect("due");
        assert!(due > Instant::now() + Duration::from_secs(9));
    }

    #[test]
    fn sync_keeps_state_for_an_equal_check_and_resets_it_otherwise() {
        let server = Server::status(503);
        let addr = server.addr;
        let health = check("/health");
        let mut monitor = monitor();
        monitor.sync(vec![target("app", addr, &health)]);
        assert_eq!(round(&mut monitor).len(), 1);
        assert!(!monitor.is_up("app", addr));
        let due = monitor.next_due();

        // Same service, address and an equal (not the same) check: state kept.
        monitor.sync(vec![target("app", addr, &Arc::new((*health).clone()))]);
        assert!(!monitor.is_up("app", addr));
        assert_eq!(monitor.next_due(), due);
        assert_eq!(monitor.len(), 1);

        // A changed check starts over: up and due at once.
        monitor.sync(vec![target("app", addr, &check("/other"))]);
        assert!(monitor.is_up("app", addr));
        assert!(monitor.next_due().is_some_and(|due| due <= Instant::now()));

        // The same address in another service is another target.
        monitor.sync(vec![target("app", addr, &health), target("api", addr, &health)]);
        assert_eq!(monitor.len(), 2);
        let transitions = round(&mut monitor);
        assert_eq!(transitions.len(), 2, "{transitions:?}");
        assert!(!monitor.is_up("app", addr) && !monitor.is_up("api", addr));
    }

    #[test]
    fn results_of_removed_targets_are_ignored() {
        let server = Server::status(500);
        let addr = server.addr;
        let health = check("/");
        let mut monitor = monitor();
        monitor.sync(vec![target("app", addr, &health)]);
        monitor.dispatch(Instant::now());
        assert_eq!(monitor.next_due(), None, "in flight");
        monitor.sync(Vec::new());
        assert!(monitor.is_empty());
        assert!(monitor.pending.is_empty());
        // Re-added while the old probe is still out: a new target, the old result is stale.
        monitor.sync(vec![target("app", addr, &health)]);
        let stale = monitor
            .results()
            .recv_timeout(Duration::from_secs(5))
            .expect("old result");
        assert!(matches!(stale.1, ProbeOutcome::Down(_)));
        assert_eq!(monitor.apply(stale.0, stale.1, Instant::now()), None);
        assert!(monitor.is_up("app", addr));
        assert!(monitor.next_due().is_some_and(|due| due <= Instant::now()), "still due");
        assert_eq!(monitor.collect(Instant::now()), vec![]);
    }

    #[test]
    fn a_hung_probe_stalls_nothing_else() {
        let hanging = Server::hanging();
        let failing = Server::status(500);
        let health = check("/");
        let mut monitor = monitor();
        monitor.sync(vec![
            target("slow", hanging.addr, &health),
            target("fast", failing.addr, &health),
        ]);
        let started = Instant::now();
        monitor.dispatch(started);
        let (id, outcome) = monitor.results().recv_timeout(Duration::from_secs(5)).expect("result");
        let first = monitor.apply(id, outcome, Instant::now()).expect("fast goes down");
        assert_eq!(first.service, "fast");
        assert!(
            started.elapsed() < Duration::from_millis(900),
            "{:?}",
            started.elapsed()
        );
        assert!(monitor.is_up("slow", hanging.addr), "still in flight, still up");
        // Dispatching again does not submit the hung target twice.
        monitor.dispatch(Instant::now() + Duration::from_secs(3600));
        let in_flight_slow = monitor
            .pending
            .values()
            .filter(|(service, _)| service == "slow")
            .count();
        assert_eq!(in_flight_slow, 1);
        let transitions = settle(&mut monitor);
        assert!(
            transitions
                .iter()
                .any(|t| t.service == "slow" && !t.up && t.reason.as_deref() == Some("timed out after 1s")),
            "{transitions:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    }

    #[test]
    fn a_full_queue_leaves_targets_due_without_blocking() {
        let hanging = Server::hanging();
        let mut health = HealthCheck::new("/");
        health.timeout = Duration::from_millis(500);
        let health = Arc::new(health);
        let mut monitor = Monitor::new(Prober::new(1, 1).expect("prober"));
        let targets: Vec<Target> = (1..=4u16)
            .map(|n| {
                let addr = SocketAddr::new(hanging.addr.ip(), hanging.addr.port());
                Target::new(format!("svc{n}"), format!("http://{addr}"), addr, Arc::clone(&health))
            })
            .collect();
        monitor.sync(targets);
        let now = Instant::now();
        monitor.dispatch(now);
        assert!(now.elapsed() < Duration::from_millis(100));
        let in_flight = monitor.pending.len();
        assert!((1..=2).contains(&in_flight), "{in_flight}");
        // The rest stay due, retried a little later rather than at once.
        let due = monitor.next_due().expect("some are still due");
        assert!(due >= now + QUEUE_FULL_RETRY);
        // Eventually every target gets checked.
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut down = 0;
        while down < 4 {
            assert!(Instant::now() < deadline, "only {down} went down");
            monitor.dispatch(Instant::now());
            if let Ok((id, outcome)) = monitor.results().recv_timeout(Duration::from_millis(50)) {
                down += usize::from(monitor.apply(id, outcome, Instant::now()).is_some());
            }
            thread::yield_now();
        }
    }

    #[test]
    fn server_status_and_unknown_targets() {
        let up = Server::status(200);
        let failing = Server::status(500);
        let health = check("/");
        let url = "http://app.internal:8080";
        let mut monitor = monitor();
        assert!(monitor.is_empty());
        monitor.sync(vec![
            Target::new("app", url, up.addr, Arc::clone(&health)),
            Target::new("app", url, failing.addr, Arc::clone(&health)),
            Target::new("api", "http://api.internal", failing.addr, Arc::clone(&health)),
        ]);
        assert_eq!(monitor.len(), 3);
        let transitions = round(&mut monitor);
        assert_eq!(transitions.len(), 2, "{transitions:?}");
        let status = monitor.server_status();
        assert!(status["app"][url], "up when any of its addresses is");
        assert!(!status["api"]["http://api.internal"]);
        assert!(monitor.is_up("app", up.addr));
        assert!(!monitor.is_up("app", failing.addr));
        assert!(monitor.is_up("nope", failing.addr), "unknown targets count as up");
        // The Host header is the URL's authority.
        let heads = up.heads();
        assert!(
            heads[0]
                .to_ascii_lowercase()
                .contains("\r\nhost: app.internal:8080\r\n"),
            "{heads:?}"
        );
    }

    #[test]
    fn url_authority_strips_scheme_userinfo_and_path() {
        assert_eq!(url_authority("http://10.50.0.2:8080"), "10.50.0.2:8080");
        assert_eq!(url_authority("https://u:p@app:8443/x?y#z"), "app:8443");
        assert_eq!(url_authority("http://[::1]:80/"), "[::1]:80");
        assert_eq!(url_authority("app:80"), "app:80");
        assert!(is_https("HTTPS://x") && !is_https("http://x") && !is_https("h2c://x"));
    }
}
