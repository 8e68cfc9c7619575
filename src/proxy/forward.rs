//! One request/response exchange between a client connection and an upstream.
//!
//! LIFECYCLE: take a pooled connection to the routed server or dial it (a server that cannot be connected to is
//! reported to the balancer and the next one it offers is tried, all within one dial timeout) → rewrite the request
//! head (with the body bytes already received, in one write) → send → relay the rest of the request body → read the
//! response head (answering interim 1xx) → write the response head with the first body bytes → relay the rest of
//! the body → return the upstream connection to the pool if its exchange ended cleanly.
//!
//! Bodies are never held whole: they pass through the connection's two reused buffers. A response the upstream
//! truncates is never completed towards the client: the client connection is closed instead, so a client can
//! always tell. A request is sent twice only if it is idempotent, carried no body and got no byte back: on a fresh
//! connection to the same server when a pooled one turns out to have been closed while idle, otherwise to the next
//! server (the broken one is reported to the balancer).
//!
//! Every exchange fills the caller's [`Tally`] (statuses, client-side bytes, retries) and counts each upstream
//! failure by kind; the caller turns the tally into request metrics and the access-log line.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use monoio::net::TcpStream;

use super::bufpool::BufPool;
use super::dial::{dial, DialError};
use super::io::{read_append, read_fresh, with_timeout, write_all, write_pair, write_range};
use super::pool::Pool;
use super::respond;
use super::ClientStream;
use crate::balance::Failure;
use crate::http1::{
    parse_response, write_request_head, write_response_head, write_response_head_with, BodyKind, ChunkedDecoder,
    Forwarding, Limits, Method, Parsed, RequestHead, ResponseHead, ResponseOptions,
};
use crate::observe::{Tally, UpstreamError, WorkerCounters};

/// Body bytes read with a response head are copied behind the rewritten head below this many, and written from
/// where they were read (a vectored write of the two buffers) from this many on.
const VECTORED_FROM: usize = 4096;

/// Room for a response head in the upstream buffer next to a full relay buffer of body: a response whose body fits
/// the relay buffer comes in one read and goes out in one write (with a buffer of exactly the relay size, the head
/// would push the body's last bytes into a second read and a second, small write).
const HEAD_ROOM: usize = 4096;

/// Settings of the forwarding path, fixed for a worker's lifetime.
#[derive(Debug, Clone)]
pub struct ProxySettings {
    /// Head and header limits.
    pub limits: Limits,
    /// Upstream connect timeout.
    pub dial_timeout: Duration,
    /// Time from request sent to response head received; `None` waits forever.
    pub response_header_timeout: Option<Duration>,
    /// Size of the body relay buffers.
    pub buffer_bytes: usize,
}

/// Everything one exchange borrows from its connection.
pub struct Exchange<'a, C: ClientStream> {
    /// The client connection (plain TCP or TLS).
    pub client: &'a mut C,
    /// Client read buffer: the request head at `[0..head_len]`, then whatever else the client sent. On return it
    /// holds only bytes past this request (a pipelined next request).
    pub cbuf: &'a mut Vec<u8>,
    /// The parsed request head.
    pub head: &'a RequestHead,
    /// Where it may go: the routed server first, then the others the balancer offers.
    pub servers: &'a mut dyn Servers,
    /// Values for the X-Forwarded-* headers (`host_override` comes from [`Servers::host_override`]).
    pub fwd: Forwarding<'a>,
    /// Reused output buffer for heads.
    pub scratch: &'a mut Vec<u8>,
    /// Reused upstream read buffer.
    pub ubuf: &'a mut Vec<u8>,
    /// Reused response head.
    pub rhead: &'a mut ResponseHead,
    /// Inactivity limit while reading a request body from the client.
    pub read_timeout: Duration,
    /// What this exchange did (statuses, client-side bytes), for metrics and the access log.
    pub tally: &'a mut Tally,
}

/// The worker state an exchange uses.
pub struct Env<'a> {
    /// This worker's upstream pool.
    pub pool: &'a Pool,
    /// This worker's spare buffers.
    pub bufs: &'a BufPool,
    /// This worker's counters.
    pub counters: &'a WorkerCounters,
    /// Forwarding settings.
    pub settings: &'a ProxySettings,
    /// True once the worker drains: the client connection closes after this exchange.
    pub draining: bool,
}

/// What the client connection does next.
pub enum Outcome {
    /// Read the next request.
    KeepAlive,
    /// Close the connection.
    Close,
    /// Close politely (half-close and discard), after an error response.
    CloseLinger,
    /// The upstream switched protocols: tunnel bytes both ways. `ubuf`'s content was already written to the client.
    Upgrade(TcpStream),
}

enum ReqBody {
    Done,
    Length(u64),
    Chunked(ChunkedDecoder),
}

enum HeadFailure {
    /// Upstream closed or reset before sending a byte of the response.
    Empty,
    Timeout,
    Invalid,
}

/// The servers one request may go to, as the balancer offers them, and what became of each attempt.
pub trait Servers {
    /// The next server to try, or `None` when no usable server is left. The first call returns the server the
    /// request was routed to.
    fn next(&mut self) -> Option<SocketAddr>;
    /// The `Host` to send to the current server instead of the client's (a service with `passHostHeader: false`).
    fn host_override(&self) -> Option<&[u8]>;
    /// The current server failed this way.
    fn failed(&mut self, failure: Failure);
    /// The current server answered with a response head.
    fn answered(&mut self);
}

/// Why [`send`] gave up.
enum SendFailure {
    /// Answer with this status and count this upstream error; `complete` when the request was read whole.
    Reply(u16, UpstreamError, bool),
    /// The client went away.
    Close,
    /// The request body's chunked framing was invalid.
    BadChunk,
}

/// Runs one exchange. Never panics on peer input; every failure becomes a response or a closed connection.
pub async fn forward<C: ClientStream>(x: &mut Exchange<'_, C>, env: &Env<'_>) -> Outcome {
    let head = x.head;
    let hl = head.head_len;

    // 1. How much of the body came with the head: it goes out in the same write as the head.
    x.tally.received += hl as u64;
    let avail = &x.cbuf[hl.min(x.cbuf.len())..];
    let (body, take) = match head.body {
        BodyKind::Length(n) => {
            let take = (n.min(avail.len() as u64)) as usize;
            let left = n - take as u64;
            (
                if left == 0 {
                    ReqBody::Done
                } else {
                    ReqBody::Length(left)
                },
                take,
            )
        }
        BodyKind::Chunked => {
            let mut dec = ChunkedDecoder::default();
            match dec.feed(avail) {
                Ok(p) if p.done => (ReqBody::Done, p.consumed),
                Ok(p) => (ReqBody::Chunked(dec), p.consumed),
                Err(_) => return reject(x, 400, "400 Bad Request: invalid chunked body\n").await,
            }
        }
        BodyKind::None | BodyKind::CloseDelimited => (ReqBody::Done, 0),
    };
    x.tally.received += take as u64;
    x.tally.body_received += take as u64;
    let complete = matches!(body, ReqBody::Done);
    let mut req = Request {
        body,
        consumed: (hl + take).min(x.cbuf.len()),
        take,
        complete,
        replayable: complete && matches!(head.body, BodyKind::None) && is_idempotent(head.method),
        aborted: false,
    };

    // 2. Send (to the next server while nothing could have reached one), and read the response head.
    let sent = send(x, env, &mut req).await;
    // The request's bytes leave the client buffer whatever happened: a pipelined request may follow them.
    release(x, &mut req);
    let (mut up, upstream) = match sent {
        Ok(sent) => sent,
        Err(SendFailure::Reply(status, kind, complete)) => {
            return upstream_failed(x, env, status, kind, complete).await
        }
        Err(SendFailure::Close) => return Outcome::Close,
        Err(SendFailure::BadChunk) => return reject(x, 400, "400 Bad Request: invalid chunked body\n").await,
    };
    let req_aborted = req.aborted;
    let complete = req.complete;
    x.tally.origin_status = x.rhead.status;

    // 3. Switching protocols.
    if x.rhead.status == 101 {
        if !head.conn.upgrade {
            return upstream_failed(x, env, 502, UpstreamError::InvalidResponse, complete).await;
        }
        x.scratch.clear();
        write_response_head(x.ubuf, x.rhead, true, x.scratch);
        let rhl = x.rhead.head_len.min(x.ubuf.len());
        x.scratch.extend_from_slice(&x.ubuf[rhl..]);
        x.ubuf.clear();
        // The bytes after the head belong to the tunnel, but they are written here: count them as sent.
        x.tally.responded(101, x.scratch.len(), 0);
        if write_all(x.client, x.scratch).await.is_err() {
            return Outcome::Close;
        }
        return Outcome::Upgrade(up);
    }

    // 4. The final response.
    let client_11 = head.version_minor == 1;
    let dechunk = !client_11 && x.rhead.body == BodyKind::Chunked;
    let keep_client =
        head.keep_alive() && !env.draining && !req_aborted && x.rhead.body != BodyKind::CloseDelimited && !dechunk;
    x.scratch.clear();
    let options = ResponseOptions {
        keep_alive: keep_client,
        client_minor: head.version_minor,
    };
    write_response_head_with(x.ubuf, x.rhead, options, x.scratch);
    let head_bytes = x.scratch.len();
    let rhl = x.rhead.head_len.min(x.ubuf.len());
    let first = &x.ubuf[rhl..];
    let mut extra = false;
    // Body bytes read with the head that go out unchanged with it: `ubuf[rhl..rhl + carry]`.
    let mut carry = 0;
    let mut resp = match x.rhead.body {
        BodyKind::None => {
            extra = !first.is_empty();
            RespBody::Done
        }
        BodyKind::Length(n) => {
            let take = n.min(first.len() as u64) as usize;
            carry = take;
            extra = first.len() > take;
            if n == take as u64 {
                RespBody::Done
            } else {
                RespBody::Length(n - take as u64)
            }
        }
        BodyKind::Chunked => {
            let mut dec = ChunkedDecoder::default();
            let fed = if dechunk {
                let scratch = &mut *x.scratch;
                dec.feed_payload(first, |r| scratch.extend_from_slice(&first[r]))
            } else {
                dec.feed(first)
            };
            match fed {
                Ok(p) => {
                    if !dechunk {
                        carry = p.consumed;
                    }
                    if p.done {
                        extra = first.len() > p.consumed;
                        RespBody::Done
                    } else {
                        RespBody::Chunked(dec)
                    }
                }
                Err(_) => {
                    let kind = UpstreamError::InvalidResponse;
                    return upstream_failed(x, env, 502, kind, complete && !req_aborted).await;
                }
            }
        }
        BodyKind::CloseDelimited => {
            carry = first.len();
            RespBody::UntilClose
        }
    };
    // The head and the body bytes read with it leave in one write: a few bytes are copied behind the head, more
    // go out from where they were read (a vectored write), so a body that came whole with its head is not copied.
    let (from, to) = (rhl, rhl + carry);
    let copy = carry < VECTORED_FROM;
    if copy {
        x.scratch.extend_from_slice(&x.ubuf[from..to]);
    }
    let total = x.scratch.len() + if copy { 0 } else { carry };
    x.tally
        .responded(x.rhead.status, total, total.saturating_sub(head_bytes));
    let written = if copy {
        write_all(x.client, x.scratch).await
    } else {
        write_pair(x.client, x.scratch, x.ubuf, from, to).await
    };
    x.ubuf.clear();
    if written.is_err() {
        return Outcome::Close;
    }
    match relay_response_body(x, &mut up, &mut resp, dechunk, env.bufs, env.settings.buffer_bytes).await {
        Ok(trailing) => extra |= trailing,
        Err(Side::Client) => return Outcome::Close,
        Err(Side::Upstream) => {
            env.counters.upstream_failed(UpstreamError::ResponseTruncated);
            return Outcome::Close;
        }
    }

    // 5. Reuse the upstream connection only after a clean, fully framed exchange.
    let reusable = !extra && !req_aborted && x.rhead.keep_alive();
    if reusable {
        env.pool.put(upstream, up);
    }
    if keep_client {
        Outcome::KeepAlive
    } else {
        Outcome::Close
    }
}

/// One request's progress through [`send`].
struct Request {
    /// What is left of the body to relay after the head.
    body: ReqBody,
    /// Bytes of `cbuf` that belong to this request (head and the body bytes read with it); drained by [`release`].
    consumed: usize,
    /// Body bytes read with the head.
    take: usize,
    /// The whole request is in hand (no body left to read from the client).
    complete: bool,
    /// Idempotent and without a body: may be sent again if no response byte came back.
    replayable: bool,
    /// The upstream stopped reading the request body.
    aborted: bool,
}

/// Drops the request's bytes from the client buffer (once).
fn release<C: ClientStream>(x: &mut Exchange<'_, C>, req: &mut Request) {
    let n = std::mem::take(&mut req.consumed).min(x.cbuf.len());
    x.cbuf.drain(..n);
}

/// Sends the request and reads the response head. A server that cannot be connected to is skipped for the next
/// one the balancer offers, within one dial timeout in all; a request already sent is sent again (to a fresh
/// connection, and to another server if its own broke) only when it is replayable and no response byte came back.
async fn send<C: ClientStream>(
    x: &mut Exchange<'_, C>,
    env: &Env<'_>,
    req: &mut Request,
) -> Result<(TcpStream, SocketAddr), SendFailure> {
    let head = x.head;
    let hl = head.head_len;
    let dial_until = Instant::now() + env.settings.dial_timeout;
    // No server at all cannot happen (the caller picked the first); treat it as a refused connect.
    let mut addr = x
        .servers
        .next()
        .ok_or(SendFailure::Reply(503, UpstreamError::ConnectRefused, req.complete))?;
    let mut fresh_only = false;
    loop {
        let (mut up, reused) = match obtain(addr, fresh_only, dial_until, env).await {
            Ok(c) => c,
            Err(failure) => {
                let (status, kind) = match failure {
                    DialError::Timeout { .. } => (504, UpstreamError::ConnectTimeout),
                    DialError::Failed { source, .. } if source.kind() == std::io::ErrorKind::ConnectionRefused => {
                        (502, UpstreamError::ConnectRefused)
                    }
                    DialError::Failed { .. } => (502, UpstreamError::ConnectError),
                };
                x.servers.failed(match kind {
                    UpstreamError::ConnectTimeout => Failure::Timeout,
                    _ => Failure::Connect,
                });
                // Nothing was sent: any request may go to another server, while the dial budget lasts.
                match x.servers.next() {
                    Some(next) if Instant::now() + MIN_DIAL < dial_until => {
                        env.counters.upstream_failed(kind);
                        x.tally.retries += 1;
                        addr = next;
                        fresh_only = false;
                        continue;
                    }
                    _ => return Err(SendFailure::Reply(status, kind, req.complete)),
                }
            }
        };
        // The head (with this server's Host when the service overrides it) and the body bytes read with it.
        x.scratch.clear();
        let fwd = Forwarding {
            host_override: x.servers.host_override(),
            ..x.fwd
        };
        write_request_head(x.cbuf, head, &fwd, x.scratch);
        let body_start = hl.min(x.cbuf.len());
        let body_end = (hl + req.take).min(x.cbuf.len());
        x.scratch.extend_from_slice(&x.cbuf[body_start..body_end]);
        let written = write_all(&mut up, x.scratch).await.is_ok();
        if written && !req.replayable {
            // Sent: it will not be sent again, and the body relay needs the buffer.
            release(x, req);
        }
        let mut broke = !written;
        if written && !req.complete {
            match relay_request_body(x, &mut up, &mut req.body, env.settings.buffer_bytes).await {
                Ok(()) => {}
                Err(BodyError::Client) => return Err(SendFailure::Close),
                Err(BodyError::BadChunk) => return Err(SendFailure::BadChunk),
                // The upstream stopped reading: it may have answered early (413, 401…); relay that if it did.
                Err(BodyError::Upstream) => req.aborted = true,
            }
        }
        if written {
            let limit = if req.aborted {
                Some(Duration::from_secs(1))
            } else {
                env.settings.response_header_timeout
            };
            match read_response_head(x, &mut up, limit, &env.settings.limits).await {
                Ok(()) => {
                    x.servers.answered();
                    return Ok((up, addr));
                }
                Err(HeadFailure::Empty) => broke = true,
                Err(HeadFailure::Timeout) if !req.aborted => {
                    return Err(SendFailure::Reply(504, UpstreamError::ResponseTimeout, req.complete))
                }
                Err(HeadFailure::Invalid) => {
                    let complete = req.complete && !req.aborted;
                    return Err(SendFailure::Reply(502, UpstreamError::InvalidResponse, complete));
                }
                Err(HeadFailure::Timeout) => {}
            }
        }
        let complete = req.complete && !req.aborted;
        if broke && !reused {
            // A fresh connection that broke before any response byte speaks against the server.
            x.servers.failed(Failure::Reset);
        }
        if !(broke && req.replayable) {
            return Err(SendFailure::Reply(502, UpstreamError::Reset, complete));
        }
        x.tally.retries += 1;
        if reused {
            // A pooled connection the server had closed while idle says nothing about the server: same server, new
            // connection.
            fresh_only = true;
            continue;
        }
        env.counters.upstream_failed(UpstreamError::Reset);
        match x.servers.next() {
            Some(next) => {
                addr = next;
                fresh_only = false;
            }
            None => return Err(SendFailure::Reply(502, UpstreamError::Reset, complete)),
        }
    }
}

fn is_idempotent(m: Method) -> bool {
    matches!(m, Method::Get | Method::Head | Method::Options | Method::Trace)
}

/// Below this much of the dial budget left, no further server is tried.
const MIN_DIAL: Duration = Duration::from_millis(10);

async fn obtain(
    addr: SocketAddr,
    fresh_only: bool,
    dial_until: Instant,
    env: &Env<'_>,
) -> Result<(TcpStream, bool), DialError> {
    if !fresh_only {
        if let Some(c) = env.pool.take(addr) {
            WorkerCounters::inc(&env.counters.upstream_reuses);
            return Ok((c, true));
        }
    }
    WorkerCounters::inc(&env.counters.upstream_dials);
    let budget = dial_until.saturating_duration_since(Instant::now()).max(MIN_DIAL);
    dial(addr, budget).await.map(|c| (c, false))
}

enum BodyError {
    Client,
    Upstream,
    BadChunk,
}

async fn relay_request_body<C: ClientStream>(
    x: &mut Exchange<'_, C>,
    up: &mut TcpStream,
    body: &mut ReqBody,
    buffer_bytes: usize,
) -> Result<(), BodyError> {
    if x.head.expect_continue && x.head.version_minor == 1 {
        x.scratch.clear();
        x.scratch.extend_from_slice(respond::CONTINUE);
        x.tally.sent += respond::CONTINUE.len() as u64;
        write_all(x.client, x.scratch).await.map_err(|_| BodyError::Client)?;
    }
    if x.cbuf.capacity() < buffer_bytes {
        x.cbuf.reserve(buffer_bytes - x.cbuf.len());
    }
    let limit = Some(x.read_timeout);
    loop {
        match body {
            ReqBody::Done => return Ok(()),
            ReqBody::Length(left) => {
                let want = (*left).min(x.cbuf.capacity() as u64) as usize;
                let n = with_timeout(limit, read_fresh(x.client, x.cbuf, want))
                    .await
                    .map_err(|_| BodyError::Client)?;
                if n == 0 {
                    return Err(BodyError::Client);
                }
                x.tally.received += n as u64;
                x.tally.body_received += n as u64;
                write_range(up, x.cbuf, 0, n).await.map_err(|_| BodyError::Upstream)?;
                *left -= n as u64;
                if *left == 0 {
                    x.cbuf.clear();
                    *body = ReqBody::Done;
                }
            }
            ReqBody::Chunked(dec) => {
                let cap = x.cbuf.capacity();
                let n = with_timeout(limit, read_fresh(x.client, x.cbuf, cap))
                    .await
                    .map_err(|_| BodyError::Client)?;
                if n == 0 {
                    return Err(BodyError::Client);
                }
                let p = dec.feed(&x.cbuf[..n]).map_err(|_| BodyError::BadChunk)?;
                x.tally.received += p.consumed as u64;
                x.tally.body_received += p.consumed as u64;
                write_range(up, x.cbuf, 0, p.consumed)
                    .await
                    .map_err(|_| BodyError::Upstream)?;
                if p.done {
                    x.cbuf.drain(..p.consumed);
                    *body = ReqBody::Done;
                }
            }
        }
    }
}

async fn read_response_head<C: ClientStream>(
    x: &mut Exchange<'_, C>,
    up: &mut TcpStream,
    limit: Option<Duration>,
    limits: &Limits,
) -> Result<(), HeadFailure> {
    x.ubuf.clear();
    let deadline = limit.map(|d| monoio::time::Instant::now() + d);
    // Fill whatever buffer the exchange holds (a relay-sized one on a busy connection), so body bytes that came with
    // the head are read with it; the parser enforces the head limit itself.
    let max = (limits.max_head + 1).max(x.ubuf.capacity());
    let mut received = false;
    loop {
        if !x.ubuf.is_empty() {
            match parse_response(x.ubuf, limits, x.head.method, x.rhead) {
                Ok(Parsed::Complete) => {
                    let s = x.rhead.status;
                    if !(100..200).contains(&s) || s == 101 {
                        return Ok(());
                    }
                    // Interim response: pass on everything but 100 (the proxy answered Expect itself).
                    let rhl = x.rhead.head_len.min(x.ubuf.len());
                    if s != 100 && x.head.version_minor == 1 {
                        x.scratch.clear();
                        x.scratch.extend_from_slice(&x.ubuf[..rhl]);
                        x.tally.sent += rhl as u64;
                        if write_all(x.client, x.scratch).await.is_err() {
                            return Err(HeadFailure::Invalid);
                        }
                    }
                    x.ubuf.drain(..rhl);
                    continue;
                }
                Ok(Parsed::Partial) => {}
                Err(_) => return Err(HeadFailure::Invalid),
            }
        }
        let read = read_append(up, x.ubuf, max);
        let n = match deadline {
            None => read.await,
            Some(d) => match monoio::time::timeout_at(d, read).await {
                Ok(r) => r,
                Err(_) => return Err(HeadFailure::Timeout),
            },
        };
        match n {
            // The kernel gave up on an unreachable peer (TCP_USER_TIMEOUT): replaying would only wait again.
            Err(e) if e.raw_os_error() == Some(libc::ETIMEDOUT) => return Err(HeadFailure::Timeout),
            Ok(0) | Err(_) if !received => return Err(HeadFailure::Empty),
            Ok(0) | Err(_) => return Err(HeadFailure::Invalid),
            Ok(_) => received = true,
        }
    }
}

enum Src {
    Scratch,
    Ubuf,
}

enum RespBody {
    Done,
    Length(u64),
    Chunked(ChunkedDecoder),
    UntilClose,
}

/// Which side of an exchange failed.
enum Side {
    Client,
    Upstream,
}

/// Relays the rest of the response body. `Ok(true)` if the upstream sent bytes past the end of the response.
async fn relay_response_body<C: ClientStream>(
    x: &mut Exchange<'_, C>,
    up: &mut TcpStream,
    body: &mut RespBody,
    dechunk: bool,
    env_bufs: &BufPool,
    buffer_bytes: usize,
) -> Result<bool, Side> {
    if x.ubuf.capacity() < buffer_bytes + HEAD_ROOM {
        // A relay-sized buffer from the worker's spares (the small one goes back): no allocation per response. It
        // stays with the connection for the rest of its burst, where it takes the next response head with its body.
        let small = std::mem::replace(&mut *x.ubuf, env_bufs.take(buffer_bytes + HEAD_ROOM));
        env_bufs.put(small);
    }
    loop {
        match body {
            RespBody::Done => return Ok(false),
            RespBody::Length(left) => {
                let want = (*left).min(x.ubuf.capacity() as u64) as usize;
                let n = read_fresh(up, x.ubuf, want).await.map_err(|_| Side::Upstream)?;
                if n == 0 {
                    return Err(Side::Upstream);
                }
                x.tally.sent += n as u64;
                x.tally.body_sent += n as u64;
                write_range(x.client, x.ubuf, 0, n).await.map_err(|_| Side::Client)?;
                *left -= n as u64;
                if *left == 0 {
                    return Ok(false);
                }
            }
            RespBody::Chunked(dec) => {
                let cap = x.ubuf.capacity();
                let n = read_fresh(up, x.ubuf, cap).await.map_err(|_| Side::Upstream)?;
                if n == 0 {
                    return Err(Side::Upstream);
                }
                let (src, end, p) = if dechunk {
                    // HTTP/1.0 client: pass only the payload bytes (the connection closes at the end).
                    x.scratch.clear();
                    let scratch = &mut *x.scratch;
                    let buf = &x.ubuf[..n];
                    let p = dec
                        .feed_payload(buf, |r| scratch.extend_from_slice(&buf[r]))
                        .map_err(|_| Side::Upstream)?;
                    (Src::Scratch, x.scratch.len(), p)
                } else {
                    let p = dec.feed(&x.ubuf[..n]).map_err(|_| Side::Upstream)?;
                    (Src::Ubuf, p.consumed, p)
                };
                let target = match src {
                    Src::Scratch => &mut *x.scratch,
                    Src::Ubuf => &mut *x.ubuf,
                };
                x.tally.sent += end as u64;
                x.tally.body_sent += end as u64;
                write_range(x.client, target, 0, end).await.map_err(|_| Side::Client)?;
                if p.done {
                    return Ok(n > p.consumed);
                }
            }
            RespBody::UntilClose => {
                let cap = x.ubuf.capacity();
                let n = read_fresh(up, x.ubuf, cap).await.map_err(|_| Side::Upstream)?;
                if n == 0 {
                    return Ok(false);
                }
                x.tally.sent += n as u64;
                x.tally.body_sent += n as u64;
                write_range(x.client, x.ubuf, 0, n).await.map_err(|_| Side::Client)?;
            }
        }
    }
}

/// Answers a request the proxy refuses before anything reached the upstream, then closes.
async fn reject<C: ClientStream>(x: &mut Exchange<'_, C>, status: u16, body: &str) -> Outcome {
    x.scratch.clear();
    respond::write_text(x.scratch, status, body, false);
    x.tally.responded(status, x.scratch.len(), body.len());
    let _ = write_all(x.client, x.scratch).await;
    Outcome::CloseLinger
}

/// Answers an upstream failure (502/504) of kind `kind`. The client connection stays open only if its request was
/// fully read.
async fn upstream_failed<C: ClientStream>(
    x: &mut Exchange<'_, C>,
    env: &Env<'_>,
    status: u16,
    kind: UpstreamError,
    request_complete: bool,
) -> Outcome {
    if status == 504 {
        WorkerCounters::inc(&env.counters.upstream_timeouts);
    } else {
        WorkerCounters::inc(&env.counters.upstream_errors);
    }
    env.counters.upstream_failed(kind);
    let keep = request_complete && x.head.keep_alive() && !env.draining;
    x.scratch.clear();
    let body = if status == 504 {
        "Gateway Timeout"
    } else {
        "Bad Gateway"
    };
    respond::write_text(x.scratch, status, body, keep);
    x.tally.responded(status, x.scratch.len(), body.len());
    if write_all(x.client, x.scratch).await.is_err() {
        return Outcome::Close;
    }
    if keep {
        Outcome::KeepAlive
    } else if request_complete {
        Outcome::Close
    } else {
        Outcome::CloseLinger
    }
}
