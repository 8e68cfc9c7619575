//! The control thread: the one place that does I/O other than request traffic.
//!
//! Every poll interval (the first at once) it polls the HTTP provider, reloads the route files, and when either
//! changed compiles one route table and sends each worker the new snapshot through its mailbox. A failed poll
//! (non-200, timeout, unreachable, invalid JSON, empty body) keeps the last good configuration and is logged once
//! per distinct reason (and again every minute while it lasts). Between polls it starts due active health checks
//! (on [`crate::health`]'s own threads, so a hung server never holds the loop), takes in their results and sends
//! the workers the servers found down; and it advances the ACME state machine
//! ([`crate::acme::manager`]) one step per due order, stopping as soon as the next poll is due, and sends the
//! workers new challenge sets and certificate maps. Plain blocking std code, no async runtime. It must never touch
//! a client socket, and a worker never waits for it.

pub mod compile;
mod entry;
mod layout;
pub mod rawdata;
pub mod status;

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, Select, TryRecvError};

use crate::acme::manager::Manager as AcmeManager;
use crate::balance::DownSet;
use crate::challenge::Challenges;
use crate::health::monitor::{Monitor, Target};
use crate::health::prober::Prober;
use crate::provider::http::HttpSource;
use crate::provider::TokenSource;
use crate::route::{load_route_files_if_changed, resolve_system, RouteFiles, RouteTable};
use crate::snapshot::{Graveyard, HealthUpdate, Snapshot};
use crate::worker::mailbox::{MailboxSender, WorkerMsg};
use compile::Compiler;
use status::{FilesStatus, ProviderStatus, ServerHealth, StatusBoard};

/// How often a persisting provider failure is logged again.
const REPEAT_FAILURE_LOG: Duration = Duration::from_secs(60);
/// Threads that run active health checks (each check is bounded by its own timeout).
const HEALTH_THREADS: usize = 4;
/// Checks waiting for a thread; a due check that finds the queue full waits for the next round.
const HEALTH_QUEUE: usize = 1024;
/// While servers are checked, the longest the loop spends on ACME before taking in check results.
const HEALTH_SLICE: Duration = Duration::from_millis(500);
/// At most this many disabled routers are logged one by one per change.
const MAX_DISABLED_LOGGED: usize = 20;

/// Where the routes come from.
pub struct Sources {
    /// The HTTP provider, if configured.
    pub http: Option<HttpSource>,
    /// Where the provider token comes from (re-read when its file changes).
    pub token: Option<TokenSource>,
    /// Route files (a file or a directory), if configured.
    pub routes_path: Option<PathBuf>,
    /// Proxy entrypoint names, in index order (routers' `entryPoints` refer to them).
    pub entry_points: Vec<String>,
}

/// The control thread's state between ticks.
pub struct Control {
    sources: Sources,
    interval: Duration,
    mailboxes: Vec<MailboxSender>,
    status: Arc<StatusBoard>,
    generation: u64,
    /// The provider's configuration as last applied, entry by entry (an identical answer is skipped).
    compiler: Compiler,
    files: Option<RouteFiles>,
    unresolved: bool,
    failure: Option<(String, Instant)>,
    failures: u64,
    current: Option<Arc<Snapshot>>,
    acme: Option<AcmeManager>,
    /// Active health checks; started when the first service asks for one.
    health: Option<Monitor>,
    /// The down set last sent to the workers.
    down: DownSet,
    /// Route tables of snapshots the workers no longer use, to free here.
    graveyard: (Graveyard, Receiver<RouteTable>),
}

impl Control {
    /// A control loop over `sources`, ticking every `interval`, feeding `mailboxes`, reporting on `status`.
    pub fn new(sources: Sources, interval: Duration, mailboxes: Vec<MailboxSender>, status: Arc<StatusBoard>) -> Self {
        if let Some(http) = &sources.http {
            let endpoint = http.endpoint_display();
            status.update(|b| {
                b.http = Some(ProviderStatus {
                    endpoint,
                    poll_interval: interval,
                    ..ProviderStatus::default()
                })
            });
        }
        let compiler = Compiler::new(sources.entry_points.clone());
        Control {
            sources,
            interval,
            mailboxes,
            status,
            generation: 0,
            compiler,
            files: None,
            unresolved: false,
            failure: None,
            failures: 0,
            current: None,
            acme: None,
            health: None,
            down: DownSet::default(),
            graveyard: crossbeam_channel::unbounded(),
        }
    }

    /// Adds the ACME manager: certificates for routers with `tls.certResolver`.
    pub fn with_acme(mut self, acme: Option<AcmeManager>) -> Self {
        self.acme = acme;
        self
    }

    /// Advances ACME orders until `deadline` and sends the workers what changed. Returns when ACME next has work.
    pub fn acme_step(&mut self, deadline: Instant) -> Option<Instant> {
        let acme = self.acme.as_mut()?;
        let out = acme.step(deadline);
        if let Some((certs, counts)) = out.status {
            self.status.update(|b| {
                b.certs = certs;
                b.acme = counts;
            });
        }
        if let Some(set) = out.challenges {
            for m in &self.mailboxes {
                m.send(WorkerMsg::Challenges(Arc::new(Challenges::clone(&set))));
            }
        }
        if let Some(map) = out.certs {
            log::debug!("serving {} certificate name(s)", map.len());
            for m in &self.mailboxes {
                m.send(WorkerMsg::Certs(Arc::new(map.for_worker())));
            }
        }
        Some(acme.next_due())
    }

    /// The snapshot most recently published, if any.
    pub fn current(&self) -> Option<&Arc<Snapshot>> {
        self.current.as_ref()
    }

    /// Frees the route tables the workers handed back.
    fn bury(&self) {
        while let Ok(table) = self.graveyard.1.try_recv() {
            drop(table);
        }
    }

    /// Polls every source once and publishes a new snapshot if anything changed. Returns true if it published.
    pub fn tick(&mut self) -> bool {
        self.bury();
        let provider_changed = self.poll_provider();
        let files_changed = self.reload_files();
        if !(provider_changed || files_changed || self.unresolved || self.current.is_none()) {
            return false;
        }
        let compiled = self.compiler.compile(self.files.as_ref(), &mut resolve_system);
        self.unresolved = self.compiler.unresolved();
        if let (Some(acme), Some(certs)) = (self.acme.as_mut(), compiled.certs.clone()) {
            acme.set_wants(certs);
        }
        self.sync_health(&compiled);
        let down = self.down_set(&compiled.table);
        let health = self.server_status();
        let board = board_servers(&health);
        self.status.update(|b| b.servers = board);
        let rawdata = self.compiler.rawdata(&health);
        if !(provider_changed || files_changed || self.current.is_none())
            && self.current.as_ref().is_some_and(|c| *c.rawdata == rawdata)
        {
            return false;
        }
        if provider_changed {
            let (routers, disabled, first) = self.compiler.provider_routers(MAX_DISABLED_LOGGED);
            log_change(routers, disabled, &first);
            self.status.update(|b| {
                if let Some(h) = b.http.as_mut() {
                    h.last_change = Some(SystemTime::now());
                    h.routers = routers;
                }
            });
        }
        self.generation += 1;
        self.status.update(|b| {
            b.reloads += 1;
            b.last_reload = Some(SystemTime::now());
        });
        let rawdata = Arc::new(rawdata);
        // Each worker gets its own table: routers are shared, but no regex cache is (see `for_worker`).
        for m in self.mailboxes.iter().skip(1) {
            m.send(WorkerMsg::Snapshot(Arc::new(Snapshot {
                generation: self.generation,
                routes: compiled.table.for_worker(),
                rawdata: rawdata.clone(),
                down: down.clone(),
                graveyard: Some(self.graveyard.0.clone()),
            })));
        }
        self.down = down.clone();
        let snapshot = Arc::new(Snapshot {
            generation: self.generation,
            routes: compiled.table,
            rawdata,
            down,
            graveyard: Some(self.graveyard.0.clone()),
        });
        if let Some(first) = self.mailboxes.first() {
            first.send(WorkerMsg::Snapshot(snapshot.clone()));
        }
        self.current = Some(snapshot);
        true
    }

    /// Points the health checks at the servers of the services in `compiled` that ask for one.
    fn sync_health(&mut self, compiled: &compile::Applied) {
        if compiled.health.is_empty() && self.health.is_none() {
            return;
        }
        let mut targets = Vec::new();
        for plan in &compiled.health {
            let service = &plan.service;
            for (server, url) in service.servers.iter().zip(&plan.urls) {
                targets.push(Target {
                    service: service.name.clone(),
                    url: url.clone(),
                    addr: server.addr,
                    host: server.authority.clone(),
                    check: plan.check.clone(),
                });
            }
        }
        if self.health.is_none() {
            match Prober::new(HEALTH_THREADS, HEALTH_QUEUE) {
                Ok(prober) => self.health = Some(Monitor::new(prober)),
                Err(e) => {
                    log::error!("health checks: cannot start the checker threads: {e}; servers count as up");
                    return;
                }
            }
        }
        if let Some(monitor) = self.health.as_mut() {
            monitor.sync(targets);
            monitor.dispatch(Instant::now());
        }
    }

    /// The slots of `table` the health checks found down.
    fn down_set(&self, table: &RouteTable) -> DownSet {
        let Some(monitor) = self.health.as_ref().filter(|m| !m.is_empty()) else {
            return DownSet::default();
        };
        let mut slots: Vec<Option<(&str, std::net::SocketAddr)>> = vec![None; table.slot_count()];
        for service in table.services() {
            let first = service.first_slot as usize;
            for (i, server) in service.servers.iter().enumerate() {
                if let Some(slot) = slots.get_mut(first + i) {
                    *slot = Some((service.name.as_str(), server.addr));
                }
            }
        }
        DownSet::from_fn(slots.len(), |slot| {
            slots
                .get(slot)
                .and_then(|s| *s)
                .is_some_and(|(service, addr)| !monitor.is_up(service, addr))
        })
    }

    /// Every checked server's state, for `/api/rawdata`.
    fn server_status(&self) -> rawdata::Health {
        self.health.as_ref().map(Monitor::server_status).unwrap_or_default()
    }

    /// Takes in finished health checks, starts due ones, and tells the workers when a server changed state.
    /// Returns when checks are next due.
    pub fn health_step(&mut self) -> Option<Instant> {
        let monitor = self.health.as_mut()?;
        let now = Instant::now();
        let changed = !monitor.collect(now).is_empty();
        monitor.dispatch(now);
        let next = monitor.next_due();
        let status = monitor.server_status();
        if changed {
            self.publish_health(status);
        }
        next
    }

    /// Sends the workers the current down set and a `/api/rawdata` that shows it.
    fn publish_health(&mut self, status: rawdata::Health) {
        let board = board_servers(&status);
        self.status.update(|b| b.servers = board);
        let Some(current) = self.current.clone() else {
            return;
        };
        let down = self.down_set(&current.routes);
        if down == self.down {
            return;
        }
        self.down = down.clone();
        let rawdata = Arc::new(self.compiler.rawdata(&status));
        for m in &self.mailboxes {
            m.send(WorkerMsg::Health(Arc::new(HealthUpdate {
                generation: current.generation,
                down: down.clone(),
                rawdata: rawdata.clone(),
            })));
        }
    }

    /// Polls the provider. True when a new, valid configuration arrived.
    fn poll_provider(&mut self) -> bool {
        self.refresh_token();
        let Some(http) = &self.sources.http else {
            return false;
        };
        let now = SystemTime::now();
        let compiler = &mut self.compiler;
        let outcome = http.fetch().map_err(|e| e.to_string()).and_then(|fetched| {
            if compiler.body() == Some(&fetched.body[..]) {
                return Ok(false);
            }
            compiler
                .set_provider(fetched.body)
                .map(|()| true)
                .map_err(|e| format!("invalid configuration from {}: {e}", http.endpoint_display()))
        });
        match outcome {
            Ok(new) => {
                if self.failure.take().is_some() {
                    log::info!(
                        "provider http: polling works again after {} failed poll(s)",
                        self.failures
                    );
                }
                self.failures = 0;
                self.status.update(|b| {
                    if let Some(h) = b.http.as_mut() {
                        h.last_attempt = Some(now);
                        h.last_success = Some(now);
                        h.last_error = None;
                        h.consecutive_failures = 0;
                    }
                });
                new
            }
            Err(reason) => {
                self.failures += 1;
                let failures = self.failures;
                let repeat = match &self.failure {
                    Some((last, at)) => last != &reason || at.elapsed() >= REPEAT_FAILURE_LOG,
                    None => true,
                };
                if repeat {
                    let kept = if self.compiler.body().is_some() {
                        "keeping the last good configuration"
                    } else {
                        "no configuration received yet"
                    };
                    log::warn!("provider http: {reason}; {kept} (failed polls in a row: {failures})");
                    self.failure = Some((reason.clone(), Instant::now()));
                }
                self.status.update(|b| {
                    if let Some(h) = b.http.as_mut() {
                        h.last_attempt = Some(now);
                        h.last_error = Some((now, reason));
                        h.consecutive_failures = failures;
                        h.total_failures += 1;
                    }
                });
                false
            }
        }
    }

    /// Picks up a rotated token file.
    fn refresh_token(&mut self) {
        let Some(tokens) = self.sources.token.as_mut() else {
            return;
        };
        match tokens.refresh() {
            Ok(true) => {
                if let Some(http) = self.sources.http.as_mut() {
                    match http.set_token(tokens.token().cloned()) {
                        Ok(()) => log::info!("provider token reloaded from {}", tokens.describe()),
                        Err(e) => log::warn!("provider token from {}: {e}", tokens.describe()),
                    }
                }
            }
            Ok(false) => {}
            Err(e) => log::warn!("provider token: {e}; keeping the previous token"),
        }
        for w in tokens.take_warnings() {
            log::warn!("provider token: {w}");
        }
    }

    /// Reloads route files. True when their content changed.
    fn reload_files(&mut self) -> bool {
        let Some(path) = &self.sources.routes_path else {
            return false;
        };
        let Some(files) = load_route_files_if_changed(path, self.files.as_ref().map(|f| f.fingerprint)) else {
            return false;
        };
        for e in &files.errors {
            log::warn!("route files: {e}");
        }
        log::info!(
            "route files {}: {} route(s) loaded, {} problem(s)",
            path.display(),
            files.specs.len(),
            files.errors.len()
        );
        let status = FilesStatus {
            path: path.display().to_string(),
            routers: files.specs.len(),
            errors: files.errors.iter().map(|e| e.to_string()).collect(),
        };
        self.status.update(|b| b.files = Some(status));
        self.files = Some(files);
        true
    }

    /// Ticks until `stop` fires or its sender is dropped, then tells every worker to drain. Between ticks, ACME
    /// work runs whenever it is due; a tick is never later than one ACME step after its time.
    pub fn run(mut self, stop: Receiver<()>) {
        let mut next_poll = Instant::now() + self.interval;
        loop {
            let now = Instant::now();
            if now >= next_poll {
                self.tick();
                next_poll = Instant::now() + self.interval;
            }
            self.bury();
            let health_due = self.health_step();
            // While servers are checked, ACME yields often enough for their results to be taken in promptly.
            let acme_until = match health_due {
                Some(_) => next_poll.min(Instant::now() + HEALTH_SLICE),
                None => next_poll,
            };
            let mut wake = match self.acme_step(acme_until) {
                Some(due) => due.min(next_poll),
                None => next_poll,
            };
            if let Some(due) = health_due {
                wake = wake.min(due);
            }
            let timeout = wake.saturating_duration_since(Instant::now());
            // Wake for a stop order, a finished health check, or the next due work.
            let mut select = Select::new();
            let stop_index = select.recv(&stop);
            if let Some(monitor) = &self.health {
                select.recv(monitor.results());
            }
            match select.ready_timeout(timeout) {
                Ok(i) if i == stop_index => match stop.try_recv() {
                    Err(TryRecvError::Empty) => {}
                    // A stop message, or the sender gone, ends the loop.
                    _ => break,
                },
                _ => {}
            }
        }
        for m in &self.mailboxes {
            m.send(WorkerMsg::Drain);
        }
    }

    /// Starts the control thread.
    pub fn spawn(self, stop: Receiver<()>) -> std::io::Result<JoinHandle<()>> {
        std::thread::Builder::new()
            .name("ringress-control".into())
            .spawn(move || {
                lower_priority();
                self.run(stop)
            })
    }
}

/// Nice value of the control thread (and of the checker threads it starts, which inherit it).
const CONTROL_NICE: libc::c_int = 10;

/// Gives this thread a lower scheduling priority than the workers: compiling a large table or checking servers
/// competes with requests for the same cores, and requests should win.
fn lower_priority() {
    // SAFETY: gettid and setpriority take no pointers and change only this thread's nice value.
    let r = unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, CONTROL_NICE) };
    if r != 0 {
        log::debug!(
            "control thread: cannot lower its priority: {}",
            std::io::Error::last_os_error()
        );
    }
}

/// The status board's list of checked servers.
fn board_servers(status: &rawdata::Health) -> Vec<ServerHealth> {
    status
        .iter()
        .flat_map(|(service, urls)| {
            urls.iter().map(move |(url, &up)| ServerHealth {
                service: service.clone(),
                url: url.clone(),
                up,
            })
        })
        .collect()
}

fn log_change(routers: usize, disabled: usize, first: &[Arc<compile::RouterReport>]) {
    log::info!("Configuration received from provider http: {routers} router(s), {disabled} disabled");
    for r in first {
        log::warn!("router {:?} disabled: {}", r.name, r.errors.join("; "));
    }
    if disabled > first.len() {
        log::warn!("{} more router(s) disabled; see /api/rawdata", disabled - first.len());
    }
}
