//! Workers: one thread per core, each with its own monoio runtime (io_uring, or the epoll driver where io_uring is
//! unavailable), its own listeners, upstream pool, buffers and counters.
//!
//! Key components: [`spawn`] starts a worker from a [`WorkerSpec`]; the worker's watcher task applies
//! snapshots, certificate maps and the drain order from its mailbox; accept loops hand connections to [`conn`]
//! (proxy entrypoints: plain HTTP or TLS, sniffed per connection) or [`admin`] (the internal entrypoint).
//!
//! A worker must never read files, call the control plane, block, or take a lock on the request path.

pub mod admin;
pub mod conn;
pub mod idle;
pub mod listener;
pub mod mailbox;

use std::cell::{Cell, RefCell};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use monoio::io::{CancelHandle, Canceller};
use monoio::net::{TcpListener, UnixStream};

use crate::balance::Balancer;
use crate::challenge::{Challenges, Receipts};
use crate::control::rawdata::Rawdata;
use crate::control::status::StatusBoard;
use crate::observe::{Counters, WorkerCounters};
use crate::proxy::forward::ProxySettings;
use crate::proxy::{BufPool, Client, Pool};
use crate::snapshot::Snapshot;
use crate::tls::{CertMap, TicketKeys, WorkerTls};
use idle::IdleWatch;
use mailbox::{Inbox, MailboxReceiver, WorkerMsg};

/// Spare per-request states a worker keeps.
const MAX_SPARE_PARTS: usize = 256;

/// What an entrypoint's connections are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// Proxied traffic.
    Proxy,
    /// The internal admin entrypoint (`/ping`, `/metrics`).
    Admin,
}

/// Per-entrypoint settings.
#[derive(Debug, Clone)]
pub struct EntrySettings {
    /// Entrypoint name from the config.
    pub name: String,
    /// Proxy or admin.
    pub kind: EntryKind,
    /// Position among the proxy entrypoints (routers' `entryPoints` masks use it); unused for admin.
    pub index: usize,
    /// The local port (for X-Forwarded-Port when the Host has none).
    pub port: u16,
    /// Time allowed to receive a request head, and the inactivity limit while receiving a body.
    pub read_timeout: Duration,
    /// How long a keep-alive connection may wait for its next request.
    pub idle_timeout: Duration,
    /// `http.redirections.entryPoint`: every request but ACME challenges is redirected.
    pub redirect: Option<EntryRedirect>,
}

/// Where an entrypoint redirects to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRedirect {
    /// `https` or `http`.
    pub scheme: String,
    /// The port in the Location URL (left out when it is the scheme's default).
    pub port: u16,
    /// 301/308 when true, 302/307 otherwise.
    pub permanent: bool,
}

/// Settings shared by every worker.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Forwarding settings.
    pub proxy: ProxySettings,
    /// Idle upstream connections kept per upstream address.
    pub max_idle_per_host: usize,
    /// How long an idle upstream connection is kept.
    pub idle_conn_timeout: Duration,
    /// How long in-flight requests may run on after a drain order.
    pub grace: Duration,
}

/// Everything a worker thread starts with.
pub struct WorkerSpec {
    /// Worker index, 0-based.
    pub id: usize,
    /// This worker's own listening sockets.
    pub listeners: Vec<(Arc<EntrySettings>, std::net::TcpListener)>,
    /// Its mailbox from the control side.
    pub mailbox: MailboxReceiver,
    /// Shared settings.
    pub settings: Arc<Settings>,
    /// The counters of all workers (this one writes only its own).
    pub counters: Counters,
    /// Provider and route-file health, for the admin API.
    pub status: Arc<StatusBoard>,
    /// The certificates served until the control side sends others (this worker's own copy).
    pub certs: Arc<CertMap>,
    /// Where this worker records the challenge version it serves.
    pub receipts: Arc<Receipts>,
    /// The session ticket secret (the same in every worker).
    pub tickets: TicketKeys,
}

/// Worker-local state shared by the worker's tasks (never crosses threads).
pub struct WorkerCtx {
    /// Worker index.
    pub id: usize,
    /// Shared settings.
    pub settings: Arc<Settings>,
    snapshot: RefCell<Arc<Snapshot>>,
    challenges: RefCell<Arc<Challenges>>,
    /// Idle upstream connections.
    pub pool: Pool,
    /// Spare connection buffers: an idle client connection holds none.
    pub bufs: Rc<BufPool>,
    /// Connections waiting between requests: ended by the drain or their idle timeout.
    pub(crate) idle_watch: IdleWatch,
    /// Reusable per-request state for connections that have a request at hand. Boxed so that lending one moves a
    /// pointer: a connection's task holds it only as a pointer.
    #[allow(clippy::vec_box)]
    parts: RefCell<Vec<Box<conn::ConnParts>>>,
    counters: Counters,
    /// Provider and route-file health, for the admin API.
    pub status: Arc<StatusBoard>,
    /// This worker's TLS configuration and certificate map.
    pub tls: WorkerTls,
    draining: Cell<bool>,
    canceller: RefCell<Canceller>,
    idle_handle: CancelHandle,
    active: Cell<usize>,
    listening: RefCell<Vec<RawFd>>,
    /// Server choice and passive health for the current snapshot's services.
    pub(crate) balancer: RefCell<Balancer>,
    /// The `/api/rawdata` document: the snapshot's, or a newer one with fresh health-check results.
    rawdata: RefCell<Arc<Rawdata>>,
}

impl WorkerCtx {
    /// This worker's counters.
    pub fn counters(&self) -> &WorkerCounters {
        // The index is checked when the worker starts.
        match self.counters.worker(self.id) {
            Some(c) => c,
            None => unreachable_counters(),
        }
    }

    /// All workers' counters, for the metrics page.
    pub fn all_counters(&self) -> &Counters {
        &self.counters
    }

    /// The current snapshot (a worker-local borrow; clone the `Arc` only to hold it across an await).
    pub fn snapshot(&self) -> std::cell::Ref<'_, Arc<Snapshot>> {
        self.snapshot.borrow()
    }

    /// The ACME HTTP-01 answers this worker serves.
    pub fn challenges(&self) -> std::cell::Ref<'_, Arc<Challenges>> {
        self.challenges.borrow()
    }

    /// True once the worker has been told to drain.
    pub fn draining(&self) -> bool {
        self.draining.get()
    }

    /// The handle idle reads use, cancelled when draining starts.
    pub fn idle_handle(&self) -> CancelHandle {
        self.idle_handle.clone()
    }

    /// Lends reusable per-request state (allocated only when every lent one is in use).
    pub(crate) fn take_parts(&self) -> Box<conn::ConnParts> {
        self.parts.borrow_mut().pop().unwrap_or_default()
    }

    /// Takes back what [`WorkerCtx::take_parts`] lent.
    pub(crate) fn put_parts(&self, parts: Box<conn::ConnParts>) {
        let mut spare = self.parts.borrow_mut();
        if spare.len() < MAX_SPARE_PARTS {
            spare.push(parts);
        }
    }

    /// The `/api/rawdata` document to serve.
    pub fn rawdata(&self) -> Arc<Rawdata> {
        self.rawdata.borrow().clone()
    }

    /// Marks a connection open until the guard drops.
    pub fn track(self: &Rc<Self>, proxy: bool) -> ConnGuard {
        self.active.set(self.active.get() + 1);
        if proxy {
            WorkerCounters::inc(&self.counters().connections);
            WorkerCounters::inc(&self.counters().open_connections);
        }
        ConnGuard {
            ctx: self.clone(),
            proxy,
        }
    }
}

#[cold]
fn unreachable_counters() -> ! {
    // `spawn` rejects a worker id without counters, so this cannot be reached from input.
    panic!("worker counters missing")
}

/// Keeps a connection counted as open.
pub struct ConnGuard {
    ctx: Rc<WorkerCtx>,
    proxy: bool,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.ctx.active.set(self.ctx.active.get().saturating_sub(1));
        if self.proxy {
            WorkerCounters::dec(&self.ctx.counters().open_connections);
        }
    }
}

/// Which I/O driver a worker runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    /// io_uring.
    IoUring,
    /// The epoll fallback.
    Epoll,
}

/// Starts a worker thread. It runs until drained (or its mailbox closes).
pub fn spawn(spec: WorkerSpec) -> io::Result<JoinHandle<()>> {
    if spec.counters.worker(spec.id).is_none() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "worker id has no counters"));
    }
    let tls = WorkerTls::new(spec.certs.clone(), spec.tickets.clone()).map_err(io::Error::other)?;
    std::thread::Builder::new()
        .name(format!("ringress-worker-{}", spec.id))
        .spawn(move || run_thread(spec, tls))
}

fn run_thread(spec: WorkerSpec, tls: WorkerTls) {
    let id = spec.id;
    let built = build_runtime(true).or_else(|e| {
        // Kernels before 6.1 refuse DEFER_TASKRUN: run with io_uring's defaults there.
        log::debug!("worker {id}: io_uring with deferred task work unavailable ({e}); using the defaults");
        build_runtime(false)
    });
    let mut rt = match built {
        Ok(rt) => rt,
        Err(e) => {
            log::error!("worker {id}: cannot build its runtime: {e}");
            return;
        }
    };
    let driver = match &rt {
        monoio::FusionRuntime::Uring(_) => Driver::IoUring,
        monoio::FusionRuntime::Legacy(_) => Driver::Epoll,
    };
    match driver {
        Driver::IoUring => log::debug!("worker {id}: running on io_uring"),
        Driver::Epoll => log::warn!("worker {id}: io_uring unavailable, running on the epoll driver"),
    }
    rt.block_on(run(spec, tls));
}

/// A worker's runtime: io_uring (1024 entries) where available, else the epoll driver; both with timers.
///
/// `deferred`: the ring is set up with `IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN` (Linux 6.1+). By
/// default a socket event for a pending operation (data for a pending recv) is completed by task work that the
/// kernel runs by interrupting the worker: an inter-processor interrupt whenever the event comes from another CPU
/// while the worker is running (measured: 0.4 per proxied request on a busy worker, where nginx's epoll loop takes
/// none). With deferred task work those completions wait until the worker next waits for completions, which
/// monoio does whenever it has no task left to run, and are then run in one batch. Only the thread that built the
/// ring may submit to it, which is how monoio uses it (a runtime never leaves its thread).
fn build_runtime(deferred: bool) -> io::Result<WorkerRuntime> {
    let mut urb = io_uring::IoUring::builder();
    if deferred {
        urb.setup_single_issuer().setup_defer_taskrun();
    }
    monoio::RuntimeBuilder::<monoio::FusionDriver>::new()
        .with_entries(1024)
        .uring_builder(urb)
        .enable_timer()
        .build()
}

/// The runtime type [`build_runtime`] returns.
type WorkerRuntime = monoio::FusionRuntime<
    monoio::time::TimeDriver<monoio::IoUringDriver>,
    monoio::time::TimeDriver<monoio::LegacyDriver>,
>;

/// Probes, on a throwaway runtime, which driver workers will get (for the start-up log line).
pub fn probe_driver() -> Driver {
    if monoio::utils::detect_uring() {
        Driver::IoUring
    } else {
        Driver::Epoll
    }
}

async fn run(spec: WorkerSpec, tls: WorkerTls) {
    let canceller = Canceller::new();
    let idle_handle = canceller.handle();
    let ctx = Rc::new(WorkerCtx {
        id: spec.id,
        pool: Pool::new(spec.settings.max_idle_per_host, spec.settings.idle_conn_timeout),
        settings: spec.settings,
        snapshot: RefCell::new(Arc::new(Snapshot::empty())),
        challenges: RefCell::new(Arc::new(Challenges::default())),
        counters: spec.counters,
        status: spec.status,
        tls,
        draining: Cell::new(false),
        canceller: RefCell::new(canceller),
        idle_handle,
        active: Cell::new(0),
        listening: RefCell::new(Vec::new()),
        balancer: RefCell::new(Balancer::default()),
        bufs: Rc::new(BufPool::default()),
        idle_watch: IdleWatch::default(),
        parts: RefCell::new(Vec::new()),
        rawdata: RefCell::new(Snapshot::empty().rawdata.clone()),
    });
    for (ep, std_listener) in spec.listeners {
        match TcpListener::from_std(std_listener) {
            Ok(l) => {
                ctx.listening.borrow_mut().push(l.as_raw_fd());
                monoio::spawn(accept_loop(l, ep, ctx.clone()));
            }
            Err(e) => log::error!(
                "worker {}: entrypoint `{}`: cannot register listener: {e}",
                ctx.id,
                ep.name
            ),
        }
    }
    monoio::spawn(sweep_pool(ctx.clone()));
    monoio::spawn(sweep_idle(ctx.clone()));
    let (wake, inbox) = spec.mailbox.into_parts();
    watch(wake, inbox, &ctx, &spec.receipts).await;
    drain(&ctx).await;
}

/// Applies mailbox messages until a drain order or a closed mailbox.
async fn watch(wake: std::os::unix::net::UnixStream, inbox: Inbox, ctx: &Rc<WorkerCtx>, receipts: &Receipts) {
    let mut wake = match UnixStream::from_std(wake) {
        Ok(w) => w,
        Err(e) => {
            log::error!("worker {}: cannot register its mailbox: {e}", ctx.id);
            return;
        }
    };
    let mut buf = Vec::with_capacity(64);
    loop {
        let n = crate::proxy::io::read_fresh(&mut wake, &mut buf, 64).await;
        let hung_up = !matches!(n, Ok(k) if k > 0);
        loop {
            match inbox.try_next() {
                Ok(WorkerMsg::Snapshot(s)) => {
                    log::debug!("worker {}: serving snapshot {}", ctx.id, s.generation);
                    ctx.balancer.borrow_mut().rebind(&s.routes, s.down.clone());
                    *ctx.rawdata.borrow_mut() = s.rawdata.clone();
                    *ctx.snapshot.borrow_mut() = s;
                }
                Ok(WorkerMsg::Health(update)) => {
                    // Results for an older table name other slots: the next update for this table follows.
                    if update.generation == ctx.snapshot.borrow().generation {
                        ctx.balancer.borrow_mut().set_down(update.down.clone());
                        *ctx.rawdata.borrow_mut() = update.rawdata.clone();
                    }
                }
                Ok(WorkerMsg::Certs(certs)) => {
                    log::debug!("worker {}: serving {} certificate(s)", ctx.id, certs.len());
                    ctx.tls.store(&certs);
                }
                Ok(WorkerMsg::Challenges(set)) => {
                    log::debug!(
                        "worker {}: serving {} ACME challenge(s), version {}",
                        ctx.id,
                        set.len(),
                        set.version
                    );
                    let version = set.version;
                    *ctx.challenges.borrow_mut() = set;
                    receipts.record(ctx.id, version);
                }
                Ok(WorkerMsg::Drain) | Err(true) => return,
                Err(false) => break,
            }
        }
        if hung_up {
            return;
        }
    }
}

/// Stops accepting, closes idle connections, and waits for in-flight ones up to the grace period.
async fn drain(ctx: &Rc<WorkerCtx>) {
    log::debug!("worker {}: draining, {} connection(s) open", ctx.id, ctx.active.get());
    ctx.draining.set(true);
    // Stop listening at once: the kernel refuses new connections from here on. The accept loops still own these
    // fds (they only exit after seeing `draining`, which needs this task to yield), so every fd is still open.
    for fd in ctx.listening.borrow_mut().drain(..) {
        // SAFETY: `fd` is a listening socket owned by an accept loop that has not run since `draining` was set,
        // so it has not been closed or reused; shutdown does not close it.
        unsafe {
            libc::shutdown(fd, libc::SHUT_RDWR);
        }
    }
    let canceller = std::mem::take(&mut *ctx.canceller.borrow_mut());
    let _ = canceller.cancel();
    ctx.idle_watch.drain();
    let deadline = std::time::Instant::now() + ctx.settings.grace;
    // Let the accept loops and idle connections observe the cancellation and drop their sockets while the runtime
    // still runs (a task left behind when the runtime ends is never dropped, and its fds would stay open).
    monoio::time::sleep(Duration::from_millis(5)).await;
    while ctx.active.get() > 0 && std::time::Instant::now() < deadline {
        monoio::time::sleep(Duration::from_millis(20)).await;
    }
    if ctx.active.get() > 0 {
        log::warn!(
            "worker {}: grace period over, closing {} connection(s) still open",
            ctx.id,
            ctx.active.get()
        );
    }
    ctx.pool.clear();
}

async fn accept_loop(listener: TcpListener, ep: Arc<EntrySettings>, ctx: Rc<WorkerCtx>) {
    let ep = Rc::new((*ep).clone());
    loop {
        let accepted = listener.cancelable_accept(ctx.idle_handle()).await;
        if ctx.draining() {
            log::debug!("worker {}: entrypoint `{}`: stopped accepting", ctx.id, ep.name);
            break;
        }
        match accepted {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                match ep.kind {
                    EntryKind::Proxy => {
                        monoio::spawn(conn::serve(Client::Plain(stream), peer, ep.clone(), ctx.clone()))
                    }
                    EntryKind::Admin => monoio::spawn(admin::serve(stream, ctx.clone())),
                };
            }
            Err(e) => {
                // Out of fds and similar: back off briefly rather than spin.
                log::warn!("worker {}: entrypoint `{}`: accept failed: {e}", ctx.id, ep.name);
                monoio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn sweep_idle(ctx: Rc<WorkerCtx>) {
    while !ctx.draining() {
        monoio::time::sleep(idle::SWEEP_EVERY).await;
        ctx.idle_watch.sweep(std::time::Instant::now());
    }
}

async fn sweep_pool(ctx: Rc<WorkerCtx>) {
    let every = (ctx.settings.idle_conn_timeout / 2).clamp(Duration::from_secs(1), Duration::from_secs(30));
    while !ctx.draining() {
        monoio::time::sleep(every).await;
        ctx.pool.sweep();
    }
}
