//! A client connection on a proxy entrypoint: read a request head, route it, forward it, repeat while the
//! connection stays keep-alive.
//!
//! LIFECYCLE: wait for a head (idle timeout between requests, cancelled at once when the worker drains; read timeout
//! once the first byte has arrived, as an absolute deadline so a slow sender cannot stretch it; between requests a
//! connection gives its buffers back to the worker's [`crate::proxy::BufPool`] and waits for readability holding
//! none, so thousands of idle keep-alive connections cost almost nothing) → reject malformed
//! heads with their 4xx and close → look the route up in the worker-local snapshot → forward → loop. Pipelined
//! requests are answered in order because the next head is parsed only after the previous exchange ended.
//!
//! PROTOCOL: the first bytes decide, per connection, like Traefik: a TLS handshake record (`0x16`) starts a TLS
//! handshake (the bytes already read are its start), anything else is plain HTTP. Both run the same code over one
//! [`Client`] value, so a connection is one future (one allocation) whatever it speaks. As in Traefik, provider routers with a `tls` section serve only TLS connections and
//! those without serve only plain HTTP (route-file routes serve both). A plain-HTTP request that only a TLS router
//! would match gets a redirect to https (301 for GET/HEAD, 308 otherwise) where Traefik answers 404. Before any routing, `/.well-known/acme-challenge/<token>`
//! is answered from the worker's challenge set (any host, a known token only), then the entrypoint's
//! `http.redirections.entryPoint` applies to everything else.
//!
//! ACCOUNTING: every request that got a head ends in exactly one [`Meter::finish`]: its status (499 when the client
//! went away before any response), method, duration (from the complete head to the end of the response) and
//! client-side bytes go to the entrypoint's counters, and its access-log line (when the log is on) is formatted
//! into a recycled buffer and queued for the writer thread without waiting. Rejected heads are counted (method
//! `other`) but not logged. Open connections are counted per entrypoint and protocol by [`OpenConn`].
//!
//! Never reads files, never blocks, never holds the snapshot borrow across an await.

use std::future::Future;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime};

use monoio::io::{AsyncWriteRent, Canceller};
use monoio::net::TcpStream;

use super::{EntrySettings, WorkerCtx};
use crate::balance::{Change, Failure};
use crate::challenge::PATH_PREFIX;
use crate::http1::{parse_request, BodyKind, Forwarding, HeadError, Method, Parsed, RequestHead, ResponseHead};
use crate::observe::labels::CLIENT_GONE;
use crate::observe::{Captured, Entry, EntryCounters, LogSender, Protocol, Tally, WorkerCounters};
use crate::proxy::forward::{Env, Exchange, Servers};
use crate::proxy::io::{linger_close, read_append, read_append_cancelable, write_all};
use crate::proxy::{forward, respond, tunnel, Client, ClientStream, Outcome, Pooled, Stream};
use crate::route::{request_view, RouterDef, Service, ViewScratch};
use crate::tls::HANDSHAKE_RECORD;

/// Initial capacity of a connection's read buffer; it grows up to the head limit when a head needs it.
const INITIAL_BUF: usize = 8 * 1024;

/// How long a TLS connection may take to send its close_notify before it is dropped anyway.
const CLOSE_NOTIFY_WAIT: Duration = Duration::from_secs(1);

/// Traefik's body when a service has no server to send to.
const NO_SERVER_BODY: &str = "no available server\n";

/// Body of the 503 when every server of the service is out of rotation (health check or passive cooldown).
const ALL_DOWN_BODY: &str = "no available server: every server of this service is down\n";

/// At most this many servers are tried for one request.
const MAX_ATTEMPTS: u32 = 8;

/// Where a request goes.
enum Pick<'s> {
    /// To server `.2` of this service, first.
    Upstream(&'s RouterDef, &'s Service, usize),
    NotFound,
    NoServer,
    AllDown,
    BadPath,
    /// A TLS-only router matched a plain-HTTP request: redirect to https.
    ToHttps,
}

enum HeadRead {
    Ready,
    Closed,
    Reject(u16, &'static str),
}

/// Counts a connection as open on its entrypoint, under the protocol it turned out to speak, until dropped.
struct OpenConn {
    ctx: Rc<WorkerCtx>,
    entry: usize,
    protocol: Protocol,
}

impl OpenConn {
    fn new(ctx: Rc<WorkerCtx>, entry: usize) -> Self {
        if let Some(e) = ctx.counters().entry(entry) {
            e.opened(Protocol::Http);
        }
        OpenConn {
            ctx,
            entry,
            protocol: Protocol::Http,
        }
    }

    fn set(&mut self, protocol: Protocol) {
        if let Some(e) = self.ctx.counters().entry(self.entry) {
            e.closed(self.protocol);
            e.opened(protocol);
        }
        self.protocol = protocol;
    }
}

impl Drop for OpenConn {
    fn drop(&mut self) {
        if let Some(e) = self.ctx.counters().entry(self.entry) {
            e.closed(self.protocol);
        }
    }
}

/// One connection's per-request accounting: the tally the request fills, and what its access-log line needs.
struct Meter<'a> {
    entry: Option<&'a EntryCounters>,
    counters: &'a WorkerCounters,
    log: Option<&'a LogSender>,
    ep: &'a EntrySettings,
    scheme: &'static str,
    /// When the current request's head was complete.
    start: Instant,
    /// The same instant on the wall clock (read only when the access log is on).
    wall: SystemTime,
    method: Method,
    /// The current request's outcome, filled in as it goes.
    tally: Tally,
    /// The current request's fields, copied for the access log (only when it is on).
    captured: Captured,
}

impl<'a> Meter<'a> {
    fn new(ctx: &'a WorkerCtx, ep: &'a EntrySettings, peer: SocketAddr, scheme: &'static str) -> Self {
        let counters = ctx.counters();
        let log = ctx.all_counters().access_log(ctx.id);
        let mut captured = Captured::default();
        if log.is_some() {
            captured.set_client(peer);
        }
        Meter {
            entry: counters.entry(ep.index),
            counters,
            log,
            ep,
            scheme,
            start: Instant::now(),
            wall: SystemTime::UNIX_EPOCH,
            method: Method::Other,
            tally: Tally::default(),
            captured,
        }
    }

    /// A request head is complete: start timing it (and copy its fields if the access log is on).
    #[inline]
    fn begin(&mut self, head: &RequestHead, buf: &[u8]) {
        self.start = Instant::now();
        self.method = head.method;
        self.tally = Tally::default();
        if self.log.is_some() {
            self.wall = SystemTime::now();
            self.captured.capture(head, buf);
        }
    }

    /// The request went to server `index` of `service` through `router`. Reads them only when the access log is on:
    /// after the exchange, with many routes, they are cold again.
    #[inline]
    fn route(&mut self, router: &RouterDef, service: &Service, index: usize) {
        if self.log.is_some() {
            if let Some(server) = service.servers.get(index) {
                self.captured.route(&router.name, &service.name, &server.authority);
            }
        }
    }

    /// A head was rejected before it could be parsed (it is counted, never logged).
    fn rejected(&mut self, received: usize) {
        self.start = Instant::now();
        self.method = Method::Other;
        self.tally = Tally {
            received: received as u64,
            ..Tally::default()
        };
    }

    /// The current request is over: count it and queue its access-log line.
    fn finish(&mut self, logged: bool) {
        let t = self.tally;
        let status = if t.status == 0 { CLIENT_GONE } else { t.status };
        let elapsed = self.start.elapsed();
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        if let Some(e) = self.entry {
            e.record(status, self.method, nanos, t.received, t.sent);
        }
        if t.status != 0 {
            WorkerCounters::inc(&self.counters.requests);
        }
        let Some(log) = self.log.filter(|_| logged) else {
            return;
        };
        let seq = self.counters.access_log_seq.load(std::sync::atomic::Ordering::Relaxed) + 1;
        WorkerCounters::add(&self.counters.access_log_seq, 1);
        let entry = Entry {
            start: self.wall,
            duration: elapsed,
            request: &self.captured,
            scheme: self.scheme,
            status,
            origin_status: t.origin_status,
            body_sent: t.body_sent,
            body_received: t.body_received,
            count: log.request_count(seq),
            entrypoint: &self.ep.name,
            retries: t.retries,
        };
        let mut line = log.buffer();
        entry.write(log.format(), &mut line);
        if !log.send(line) {
            WorkerCounters::inc(&self.counters.access_log_dropped);
        }
    }
}

/// Serves one client connection to completion: sniffs TLS or plain HTTP, then serves HTTP/1.1 requests until it
/// closes, then closes it (TLS: with close_notify, so a client reading a close-delimited body sees a clean end) or
/// tunnels it after an upgrade.
///
/// The connection is this one future, whatever it speaks ([`Client`] holds either stream): its task is the
/// connection's only allocation while it waits. Requests are served in bursts ([`serve_requests`]): a burst's state
/// (request and response heads, buffers, the exchange in progress) lives in a box only while the connection has
/// something to serve. Between bursts the connection gives its buffers back and waits for readability, so an idle
/// keep-alive connection is a small task holding no buffer.
// Not an `async fn` on purpose: an async block over the arguments keeps one copy of each argument in the future, not
// an argument and a moved local, which matters for what an idle connection costs.
#[allow(clippy::manual_async_fn)]
pub fn serve(
    mut client: Client,
    peer: SocketAddr,
    ep: Rc<EntrySettings>,
    ctx: Rc<WorkerCtx>,
) -> impl Future<Output = ()> {
    async move {
        let _open = ctx.track(true);
        let mut open = OpenConn::new(ctx.clone(), ep.index);
        let mut cbuf: Vec<u8> = ctx.bufs.take(INITIAL_BUF);
        let max = ctx.settings.proxy.limits.max_head + 1;
        // Boxed, like every sizeable step below: a waiting connection's task stays small.
        let first = read_append_cancelable(&mut client, &mut cbuf, max, ctx.idle_handle());
        match Box::pin(monoio::time::timeout(ep.read_timeout, first)).await {
            Ok(Ok(n)) if n > 0 => {}
            Ok(_) => {
                ctx.bufs.put(cbuf);
                return;
            }
            // Timed out: the buffer stayed with the cancelled read.
            Err(_) => return,
        }
        if cbuf.first() == Some(&HANDSHAKE_RECORD) {
            open.set(Protocol::Tls);
            let config = ctx.tls.config().clone();
            let hello = std::mem::take(&mut cbuf);
            let accept = client.start_tls(config, hello, ctx.bufs.clone());
            let server_name = match Box::pin(monoio::time::timeout(ep.read_timeout, accept)).await {
                Ok(Ok(name)) => name,
                Ok(Err(e)) => {
                    log::debug!("worker {}: {peer}: TLS handshake failed: {e}", ctx.id);
                    return;
                }
                Err(_) => {
                    log::debug!("worker {}: {peer}: TLS handshake timed out", ctx.id);
                    return;
                }
            };
            if let (true, Some(tls)) = (log::log_enabled!(log::Level::Debug), client.tls()) {
                log::debug!(
                    "worker {}: {peer}: TLS {:?}, SNI {:?}",
                    ctx.id,
                    tls.protocol_version(),
                    server_name
                );
            }
            cbuf = ctx.bufs.take(INITIAL_BUF);
        }
        let mut pace = Pace {
            first: true,
            last_start: None,
        };
        let end = loop {
            let mut parts = ctx.take_parts();
            let burst = Box::pin(serve_requests(
                &mut client,
                &mut cbuf,
                &mut parts,
                peer,
                &ep,
                &ctx,
                &mut pace,
            ))
            .await;
            ctx.put_parts(parts);
            pace.first = false;
            match burst {
                Burst::Idle => {
                    ctx.bufs.put(std::mem::take(&mut cbuf));
                    if !wait_idle(&mut client, &ep, &ctx).await {
                        break None;
                    }
                    cbuf = ctx.bufs.take(INITIAL_BUF);
                    match client.read_ready(&mut cbuf) {
                        Some(Ok(0)) | Some(Err(_)) => break None,
                        Some(Ok(_)) | None => {}
                    }
                }
                Burst::Closed => break None,
                Burst::Upgrade(upstream) => break Some(upstream),
            }
        };
        // Boxed and by value: the connection's future keeps no room for the tunnel's or the close's locals.
        Box::pin(finish(client, end, cbuf, &ep, &ctx)).await;
    }
}

/// Ends a connection whose request loop is over: tunnels it after an upgrade (`upstream`), else closes it (TLS with
/// close_notify, bounded: a client that stopped reading must not hold the connection open).
async fn finish(client: Client, upstream: Option<Box<TcpStream>>, cbuf: Vec<u8>, ep: &EntrySettings, ctx: &WorkerCtx) {
    let Some(upstream) = upstream else {
        ctx.bufs.put(cbuf);
        if let Client::Tls(mut tls) = client {
            let _ = monoio::time::timeout(CLOSE_NOTIFY_WAIT, tls.shutdown()).await;
        }
        return;
    };
    let meter = ctx.counters().entry(ep.index);
    let buffer_bytes = ctx.settings.proxy.buffer_bytes;
    match client.into_stream() {
        Some(Stream::Plain(c)) => tunnel::tunnel(c, cbuf, *upstream, buffer_bytes, meter).await,
        Some(Stream::Tls(c)) => tunnel::tunnel(*c, cbuf, *upstream, buffer_bytes, meter).await,
        None => ctx.bufs.put(cbuf),
    }
}

/// How a burst of requests ended.
enum Burst {
    /// Everything received was answered: wait for the next request.
    Idle,
    /// Close the connection.
    Closed,
    /// The upstream switched protocols: the connection becomes a tunnel. (Boxed: a waiting connection's task keeps
    /// room for this value.)
    Upgrade(Box<TcpStream>),
}

/// How a connection's requests have come so far.
struct Pace {
    /// No request was read yet (a new connection gets the read timeout to send its first).
    first: bool,
    /// When the last request's head was complete.
    last_start: Option<Instant>,
}

/// A connection's reusable per-request state, lent by the worker for the length of a burst.
#[derive(Default)]
pub struct ConnParts {
    head: RequestHead,
    rhead: ResponseHead,
    view: ViewScratch,
    location: Vec<u8>,
}

/// The request loop of one burst: serves requests while the client has sent any (or, for a busy client, while it
/// keeps sending: see [`hold`]); returns [`Burst::Idle`] once everything received is answered.
async fn serve_requests<C: ClientStream>(
    client: &mut C,
    cbuf: &mut Vec<u8>,
    parts: &mut ConnParts,
    peer: SocketAddr,
    ep: &EntrySettings,
    ctx: &WorkerCtx,
    pace: &mut Pace,
) -> Burst {
    let scheme = client.scheme();
    let tls = scheme == "https";
    let mut scratch = Pooled::new(&ctx.bufs);
    let mut ubuf = Pooled::new(&ctx.bufs);
    scratch.provision(INITIAL_BUF);
    ubuf.provision(INITIAL_BUF);
    let ConnParts {
        head,
        rhead,
        view: view_scratch,
        location: location_buf,
    } = parts;
    let mut meter = Meter::new(ctx, ep, peer, scheme);
    let mut served = false;
    let mut busy = false;
    let mut canceller: Option<Canceller> = None;
    loop {
        if served && cbuf.is_empty() {
            if !busy {
                return Burst::Idle;
            }
            // A client sending request after request: wait for the next one holding the buffers, for a while.
            let canceller = canceller.get_or_insert_with(Canceller::new);
            match hold(client, cbuf, ctx, canceller).await {
                Hold::Data => {}
                Hold::Quiet => return Burst::Idle,
                Hold::Closed => return Burst::Closed,
            }
        }
        match read_head(client, cbuf, head, ep, ctx, pace.first && !served).await {
            HeadRead::Ready => {}
            HeadRead::Closed => return Burst::Closed,
            HeadRead::Reject(status, why) => {
                WorkerCounters::inc(&ctx.counters().bad_requests);
                meter.rejected(cbuf.len());
                scratch.clear();
                respond::write_text(&mut scratch, status, why, false);
                meter.tally.responded(status, scratch.len(), why.len());
                let written = write_all(client, &mut scratch).await.is_ok();
                meter.finish(false);
                if written {
                    linger_close(client, &mut scratch).await;
                }
                return Burst::Closed;
            }
        }
        served = true;
        meter.begin(head, cbuf);
        busy = pace
            .last_start
            .is_some_and(|previous| meter.start.saturating_duration_since(previous) < BUSY_GAP);
        pace.last_start = Some(meter.start);

        if head.method == Method::Connect {
            let body = "405 Method Not Allowed\n";
            scratch.clear();
            respond::write_text(&mut scratch, 405, body, false);
            meter.tally.received = head.head_len as u64;
            meter.tally.responded(405, scratch.len(), body.len());
            let written = write_all(client, &mut scratch).await.is_ok();
            meter.finish(true);
            if written {
                linger_close(client, &mut scratch).await;
            }
            return Burst::Closed;
        }

        // ACME HTTP-01 answers come first, for any host, then the entrypoint's redirect.
        let path = head.path.get(cbuf);
        if path.starts_with(PATH_PREFIX) {
            let set = ctx.challenges().clone();
            if let Some(answer) = set.answer(path) {
                let local = Local::Body(200, answer.as_bytes());
                if !local_response(client, cbuf, head, &mut scratch, ctx, local, &mut meter).await {
                    return Burst::Closed;
                }
                continue;
            }
        }
        if let Some(redirect) = &ep.redirect {
            let local = match location(head, cbuf, location_buf, &redirect.scheme, redirect.port) {
                Some(location) => Local::Redirect(redirect_status(head, redirect.permanent), location),
                None => Local::Text(404, respond::NOT_FOUND_BODY),
            };
            if !local_response(client, cbuf, head, &mut scratch, ctx, local, &mut meter).await {
                return Burst::Closed;
            }
            continue;
        }

        // Held across the exchange (a worker-local refcount): retries choose among the same service's servers.
        let snapshot = ctx.snapshot().clone();
        let pick = match request_view(head, cbuf, peer.ip().to_canonical(), view_scratch) {
            Err(_) => Pick::BadPath,
            Ok(view) => match snapshot.routes.lookup_on(&view, ep.index, tls) {
                // Nothing for plain HTTP, but a TLS router would serve it: send the client to https.
                None if !tls && snapshot.routes.lookup_on(&view, ep.index, true).is_some() => Pick::ToHttps,
                None => Pick::NotFound,
                Some((_, service)) if service.servers.is_empty() => Pick::NoServer,
                Some((router, service)) => match ctx.balancer.borrow_mut().pick(service, 0, meter.start) {
                    Some(index) => Pick::Upstream(router, service, index),
                    None => Pick::AllDown,
                },
            },
        };
        let (router, service, first) = match pick {
            Pick::Upstream(router, service, index) => (router, service, index),
            Pick::AllDown => {
                let local = Local::Text(503, ALL_DOWN_BODY);
                if !local_response(client, cbuf, head, &mut scratch, ctx, local, &mut meter).await {
                    return Burst::Closed;
                }
                continue;
            }
            Pick::NotFound => {
                let local = Local::Text(404, respond::NOT_FOUND_BODY);
                if !local_response(client, cbuf, head, &mut scratch, ctx, local, &mut meter).await {
                    return Burst::Closed;
                }
                continue;
            }
            Pick::NoServer => {
                let local = Local::Text(503, NO_SERVER_BODY);
                if !local_response(client, cbuf, head, &mut scratch, ctx, local, &mut meter).await {
                    return Burst::Closed;
                }
                continue;
            }
            Pick::ToHttps => {
                let local = match location(head, cbuf, location_buf, "https", 443) {
                    Some(location) => Local::Redirect(redirect_status(head, true), location),
                    None => Local::Text(404, respond::NOT_FOUND_BODY),
                };
                if !local_response(client, cbuf, head, &mut scratch, ctx, local, &mut meter).await {
                    return Burst::Closed;
                }
                continue;
            }
            Pick::BadPath => {
                WorkerCounters::inc(&ctx.counters().bad_requests);
                let body = "400 Bad Request: invalid percent-encoding in the path\n";
                scratch.clear();
                respond::write_text(&mut scratch, 400, body, false);
                meter.tally.received = head.head_len as u64;
                meter.tally.responded(400, scratch.len(), body.len());
                let written = write_all(client, &mut scratch).await.is_ok();
                meter.finish(true);
                if written {
                    linger_close(client, &mut scratch).await;
                }
                return Burst::Closed;
            }
        };

        let mut servers = Choice {
            ctx,
            service,
            lone: service.servers.len() == 1,
            current: first,
            tried: 0,
            attempts: 0,
            started: meter.start,
        };
        let outcome = {
            let mut x = Exchange {
                client: &mut *client,
                cbuf,
                head,
                servers: &mut servers,
                fwd: Forwarding {
                    client_ip: peer.ip().to_canonical(),
                    proto: scheme,
                    // Without a port in Host, a TLS client reached the https default port.
                    port: if tls { 443 } else { ep.port },
                    host_override: None,
                },
                scratch: &mut scratch,
                ubuf: &mut ubuf,
                rhead,
                read_timeout: ep.read_timeout,
                tally: &mut meter.tally,
            };
            let env = Env {
                pool: &ctx.pool,
                bufs: &ctx.bufs,
                counters: ctx.counters(),
                settings: &ctx.settings.proxy,
                draining: ctx.draining(),
            };
            forward(&mut x, &env).await
        };
        meter.route(router, service, servers.current);
        meter.finish(true);
        match outcome {
            Outcome::KeepAlive => {}
            Outcome::Close => return Burst::Closed,
            Outcome::CloseLinger => {
                linger_close(client, &mut scratch).await;
                return Burst::Closed;
            }
            Outcome::Upgrade(upstream) => return Burst::Upgrade(Box::new(upstream)),
        }
    }
}

/// The servers of one request's service, offered by the worker's balancer; reports each attempt back to it.
struct Choice<'a> {
    ctx: &'a WorkerCtx,
    service: &'a Service,
    /// The service has one server: read while the service is in the cache, so that an answer, which comes when it
    /// may no longer be, need not read it again (a lone server has no passive state to clear).
    lone: bool,
    /// The server of the current (or next, before the first call) attempt.
    current: usize,
    /// Servers already tried (bit `i` = server `i`).
    tried: u64,
    attempts: u32,
    /// When the current attempt started.
    started: Instant,
}

impl Servers for Choice<'_> {
    fn next(&mut self) -> Option<SocketAddr> {
        if self.attempts > 0 {
            if self.attempts >= MAX_ATTEMPTS {
                return None;
            }
            self.current = self
                .ctx
                .balancer
                .borrow_mut()
                .pick(self.service, self.tried, Instant::now())?;
        }
        self.attempts += 1;
        if self.current < 64 {
            self.tried |= 1 << self.current;
        }
        self.service.servers.get(self.current).map(|s| s.addr)
    }

    fn host_override(&self) -> Option<&[u8]> {
        if self.service.pass_host_header {
            return None;
        }
        self.service.servers.get(self.current).map(|s| s.authority.as_bytes())
    }

    fn failed(&mut self, failure: Failure) {
        let change = self
            .ctx
            .balancer
            .borrow_mut()
            .failed(self.service, self.current, failure, Instant::now());
        if let (Change::WentDown(cooldown), Some(server)) = (change, self.service.servers.get(self.current)) {
            let what = match failure {
                Failure::Connect => "connection failed",
                Failure::Timeout => "connect timed out",
                Failure::Reset => "connection broke",
            };
            log::warn!(
                "worker {}: server {} of service {} out of rotation for {}s ({what})",
                self.ctx.id,
                server.authority,
                self.service.name,
                cooldown.as_secs()
            );
        }
    }

    fn answered(&mut self) {
        if self.lone {
            return;
        }
        let back = self
            .ctx
            .balancer
            .borrow_mut()
            .answered(self.service, self.current, self.started);
        if let (true, Some(server)) = (back, self.service.servers.get(self.current)) {
            log::info!(
                "worker {}: server {} of service {} answers again; back in rotation",
                self.ctx.id,
                server.authority,
                self.service.name
            );
        }
    }
}

/// A connection whose requests start less than this apart is busy: it waits for the next one holding its buffers
/// (see [`hold`]) rather than giving them back.
const BUSY_GAP: Duration = Duration::from_millis(10);

/// What [`hold`] saw.
enum Hold {
    /// Bytes of the next request are in `cbuf`.
    Data,
    /// Nothing came for a second or two: give the buffers back and wait without them.
    Quiet,
    /// The client closed, the read failed, or the worker drains.
    Closed,
}

/// Reads the next request of a busy connection into `cbuf`, for one to two seconds (until the idle watch's next
/// sweep but one): a busy connection skips the readiness wait and the buffer round trip of [`wait_idle`], and one
/// that goes quiet still gives its buffers back. The read is cancelled, never dropped, when the time is up, so bytes
/// that arrived just then are kept.
async fn hold<C: ClientStream>(client: &mut C, cbuf: &mut Vec<u8>, ctx: &WorkerCtx, canceller: &mut Canceller) -> Hold {
    if ctx.draining() {
        return Hold::Closed;
    }
    let max = ctx.settings.proxy.limits.max_head + 1;
    let mut read = std::pin::pin!(read_append_cancelable(client, cbuf, max, canceller.handle()));
    // Biased: a completed read is taken without looking at the idle watch (which would read the clock).
    let done = monoio::select! {
        biased;
        r = &mut read => Some(r),
        _ = ctx.idle_watch.after(Duration::ZERO) => None,
    };
    let result = match done {
        Some(r) => r,
        None => {
            *canceller = std::mem::take(canceller).cancel();
            read.await
        }
    };
    match result {
        Ok(n) if n > 0 => Hold::Data,
        Err(e) if e.raw_os_error() == Some(libc::ECANCELED) && !ctx.draining() => Hold::Quiet,
        _ => Hold::Closed,
    }
}

/// Waits, holding no buffer and no timer, until the client sends its next request (true) or closes, stays idle
/// past the entrypoint's idle timeout (up to two seconds late, see [`super::idle`]), or the worker drains (false).
async fn wait_idle<C: ClientStream>(client: &mut C, ep: &EntrySettings, ctx: &WorkerCtx) -> bool {
    if ctx.draining() {
        return false;
    }
    monoio::select! {
        biased;
        ready = client.idle() => ready.is_ok(),
        _ = ctx.idle_watch.after(ep.idle_timeout) => false,
    }
}

/// Reads until `cbuf` holds a complete request head (parsed into `head`), the client goes away, or the head is
/// rejected. `cbuf` may already hold a pipelined request.
async fn read_head<C: ClientStream>(
    client: &mut C,
    cbuf: &mut Vec<u8>,
    head: &mut RequestHead,
    ep: &EntrySettings,
    ctx: &WorkerCtx,
    first: bool,
) -> HeadRead {
    let limits = &ctx.settings.proxy.limits;
    let mut deadline = None;
    loop {
        if !cbuf.is_empty() {
            match parse_request(cbuf, limits, head) {
                Ok(Parsed::Complete) => return HeadRead::Ready,
                Ok(Parsed::Partial) => {}
                Err(e) => return HeadRead::Reject(e.status(), reject_body(e)),
            }
        }
        if ctx.draining() && cbuf.is_empty() {
            return HeadRead::Closed;
        }
        let max = limits.max_head + 1;
        let read = if cbuf.is_empty() {
            // Waiting for a request: idle timeout between requests (read timeout for a new connection), and cancelled
            // as soon as the worker drains.
            let wait = if first { ep.read_timeout } else { ep.idle_timeout };
            match monoio::time::timeout(wait, read_append_cancelable(client, cbuf, max, ctx.idle_handle())).await {
                Ok(r) => r,
                Err(_) => return HeadRead::Closed,
            }
        } else {
            let d = *deadline.get_or_insert_with(|| monoio::time::Instant::now() + ep.read_timeout);
            match monoio::time::timeout_at(d, read_append(client, cbuf, max)).await {
                Ok(r) => r,
                Err(_) => return HeadRead::Reject(408, "408 Request Timeout\n"),
            }
        };
        match read {
            Ok(0) | Err(_) => return HeadRead::Closed,
            Ok(_) => {
                if deadline.is_none() {
                    deadline = Some(monoio::time::Instant::now() + ep.read_timeout);
                }
            }
        }
    }
}

fn reject_body(e: HeadError) -> &'static str {
    match e.status() {
        414 => "414 URI Too Long\n",
        417 => "417 Expectation Failed\n",
        431 => "431 Request Header Fields Too Large\n",
        505 => "505 HTTP Version Not Supported\n",
        _ => "400 Bad Request\n",
    }
}

/// A response the proxy gives itself.
enum Local<'a> {
    /// Status and text body.
    Text(u16, &'static str),
    /// Status and Location.
    Redirect(u16, &'a [u8]),
    /// Status and a text body that is not static (an ACME key authorization).
    Body(u16, &'a [u8]),
}

/// 301/308 (permanent) or 302/307: the first of each pair only for GET and HEAD, so other methods keep their body.
fn redirect_status(head: &RequestHead, permanent: bool) -> u16 {
    let safe = matches!(head.method, Method::Get | Method::Head);
    match (permanent, safe) {
        (true, true) => 301,
        (true, false) => 308,
        (false, true) => 302,
        (false, false) => 307,
    }
}

/// `<scheme>://<host>[:<port>]<path>[?<query>]` for `head` into `out`; the port is left out when it is the
/// scheme's default. `None` without a host to redirect to.
fn location<'a>(head: &RequestHead, buf: &[u8], out: &'a mut Vec<u8>, scheme: &str, port: u16) -> Option<&'a [u8]> {
    let host = head.host_name?.get(buf);
    if host.is_empty() {
        return None;
    }
    out.clear();
    out.extend_from_slice(scheme.as_bytes());
    out.extend_from_slice(b"://");
    out.extend_from_slice(host);
    if !matches!((scheme, port), ("https", 443) | ("http", 80)) {
        out.push(b':');
        out.extend_from_slice(port.to_string().as_bytes());
    }
    let path = head.path.get(buf);
    if path.first() == Some(&b'/') {
        out.extend_from_slice(path);
    } else {
        out.push(b'/');
    }
    if let Some(q) = head.query {
        out.push(b'?');
        out.extend_from_slice(q.get(buf));
    }
    Some(out.as_slice())
}

/// Answers a request locally (404, 503, redirect) and finishes its accounting. Keeps the connection only if the
/// request's body (if any) was fully received, skipping it.
async fn local_response<C: ClientStream>(
    client: &mut C,
    cbuf: &mut Vec<u8>,
    head: &RequestHead,
    scratch: &mut Vec<u8>,
    ctx: &WorkerCtx,
    local: Local<'_>,
    meter: &mut Meter<'_>,
) -> bool {
    let after_head = cbuf.len().saturating_sub(head.head_len);
    let skip = match head.body {
        BodyKind::None | BodyKind::CloseDelimited => Some(0),
        BodyKind::Length(n) if n <= after_head as u64 => Some(n as usize),
        _ => None,
    };
    let keep = skip.is_some() && head.keep_alive() && !ctx.draining();
    scratch.clear();
    let (status, body_len) = match local {
        Local::Text(status, body) => {
            respond::write_text(scratch, status, body, keep);
            (status, body.len())
        }
        Local::Redirect(status, location) => {
            respond::write_redirect(scratch, status, location, keep);
            (status, 0)
        }
        Local::Body(status, body) => {
            respond::write_with_type(scratch, status, "text/plain", body, keep);
            (status, body.len())
        }
    };
    let body_received = skip.unwrap_or(0);
    meter.tally.received = (head.head_len + body_received) as u64;
    meter.tally.body_received = body_received as u64;
    meter.tally.responded(status, scratch.len(), body_len);
    let written = write_all(client, scratch).await.is_ok();
    meter.finish(true);
    if !written {
        return false;
    }
    match skip {
        Some(n) if keep => {
            cbuf.drain(..(head.head_len + n).min(cbuf.len()));
            true
        }
        _ => {
            linger_close(client, scratch).await;
            false
        }
    }
}
