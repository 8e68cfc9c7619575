//! One request/response exchange between a client connection and an upstream.
//!
//! LIFECYCLE: rewrite the request head (with the body bytes already received, in one write) → take a pooled
//! connection or dial → send → relay the rest of the request body → read the response head (answering interim 1xx)
//! → write the response head with the first body bytes → relay the rest of the body → return the upstream
//! connection to the pool if its exchange ended cleanly.
//!
//! Bodies are never held whole: they pass through the connection's two reused buffers. A response the upstream
//! truncates is never completed towards the client: the client connection is closed instead, so a client can
//! always tell. A request is sent twice only if it is idempotent, carried no body, went out on a reused pooled
//! connection and got no byte back (the upstream had closed that connection while it was idle).
//!
//! Every exchange fills the caller's [`Tally`] (statuses, client-side bytes, retries) and counts each upstream
//! failure by kind; the caller turns the tally into request metrics and the access-log line.

use std::net::SocketAddr;
use std::time::Duration;

use monoio::net::TcpStream;

use super::dial::{dial, DialError};
use super::io::{read_append, read_fresh, with_timeout, write_all, write_range};
use super::pool::Pool;
use super::respond;
use super::ClientStream;
use crate::http1::{
    parse_response, write_request_head, write_response_head, write_response_head_with, BodyKind, ChunkedDecoder,
    Forwarding, Limits, Method, Parsed, RequestHead, ResponseHead, ResponseOptions,
};
use crate::observe::{Tally, UpstreamError, WorkerCounters};

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
    /// Where to send it.
    pub upstream: SocketAddr,
    /// Values for the X-Forwarded-* headers.
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

/// Runs one exchange. Never panics on peer input; every failure becomes a response or a closed connection.
pub async fn forward<C: ClientStream>(x: &mut Exchange<'_, C>, env: &Env<'_>) -> Outcome {
    let head = x.head;
    let hl = head.head_len;

    // 1. The upstream head plus the body bytes already received, for a single write.
    x.tally.received += hl as u64;
    x.scratch.clear();
    write_request_head(x.cbuf, head, &x.fwd, x.scratch);
    let avail = &x.cbuf[hl.min(x.cbuf.len())..];
    let (mut body, take) = match head.body {
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
    x.scratch.extend_from_slice(&avail[..take]);
    x.cbuf.drain(..(hl + take).min(x.cbuf.len()));
    x.tally.received += take as u64;
    x.tally.body_received += take as u64;
    let complete = matches!(body, ReqBody::Done);
    let replayable = complete && matches!(head.body, BodyKind::None) && is_idempotent(head.method);

    // 2. Send, retrying once on a fresh connection if a pooled one turns out to be dead.
    let mut fresh_only = false;
    let mut req_aborted = false;
    let mut up = loop {
        let (mut up, reused) = match obtain(x.upstream, fresh_only, env).await {
            Ok(c) => c,
            Err(DialError::Timeout { .. }) => {
                return upstream_failed(x, env, 504, UpstreamError::ConnectTimeout, complete).await
            }
            Err(DialError::Failed { source, .. }) => {
                let kind = if source.kind() == std::io::ErrorKind::ConnectionRefused {
                    UpstreamError::ConnectRefused
                } else {
                    UpstreamError::ConnectError
                };
                return upstream_failed(x, env, 502, kind, complete).await;
            }
        };
        if write_all(&mut up, x.scratch).await.is_err() {
            if reused && replayable {
                fresh_only = true;
                x.tally.retries += 1;
                continue;
            }
            return upstream_failed(x, env, 502, UpstreamError::Reset, complete).await;
        }
        if !complete {
            match relay_request_body(x, &mut up, &mut body, env.settings.buffer_bytes).await {
                Ok(()) => {}
                Err(BodyError::Client) => return Outcome::Close,
                Err(BodyError::BadChunk) => return reject(x, 400, "400 Bad Request: invalid chunked body\n").await,
                // The upstream stopped reading: it may have answered early (413, 401…); relay that if it did.
                Err(BodyError::Upstream) => req_aborted = true,
            }
        }
        let limit = if req_aborted {
            Some(Duration::from_secs(1))
        } else {
            env.settings.response_header_timeout
        };
        match read_response_head(x, &mut up, limit, &env.settings.limits).await {
            Ok(()) => break up,
            Err(HeadFailure::Empty) if reused && replayable => {
                fresh_only = true;
                x.tally.retries += 1;
            }
            Err(HeadFailure::Timeout) if !req_aborted => {
                return upstream_failed(x, env, 504, UpstreamError::ResponseTimeout, complete).await
            }
            Err(failure) => {
                let kind = match failure {
                    HeadFailure::Invalid => UpstreamError::InvalidResponse,
                    HeadFailure::Empty | HeadFailure::Timeout => UpstreamError::Reset,
                };
                return upstream_failed(x, env, 502, kind, complete && !req_aborted).await;
            }
        }
    };
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
    let mut resp = match x.rhead.body {
        BodyKind::None => {
            extra = !first.is_empty();
            RespBody::Done
        }
        BodyKind::Length(n) => {
            let take = n.min(first.len() as u64) as usize;
            x.scratch.extend_from_slice(&first[..take]);
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
                        x.scratch.extend_from_slice(&first[..p.consumed]);
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
            x.scratch.extend_from_slice(first);
            RespBody::UntilClose
        }
    };
    x.ubuf.clear();
    let status = x.rhead.status;
    x.tally
        .responded(status, x.scratch.len(), x.scratch.len().saturating_sub(head_bytes));
    if write_all(x.client, x.scratch).await.is_err() {
        return Outcome::Close;
    }
    match relay_response_body(x, &mut up, &mut resp, dechunk, env.settings.buffer_bytes).await {
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
        env.pool.put(x.upstream, up);
    }
    if keep_client {
        Outcome::KeepAlive
    } else {
        Outcome::Close
    }
}

fn is_idempotent(m: Method) -> bool {
    matches!(m, Method::Get | Method::Head | Method::Options | Method::Trace)
}

async fn obtain(addr: SocketAddr, fresh_only: bool, env: &Env<'_>) -> Result<(TcpStream, bool), DialError> {
    if !fresh_only {
        if let Some(c) = env.pool.take(addr) {
            WorkerCounters::inc(&env.counters.upstream_reuses);
            return Ok((c, true));
        }
    }
    WorkerCounters::inc(&env.counters.upstream_dials);
    dial(addr, env.settings.dial_timeout).await.map(|c| (c, false))
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
    let max = limits.max_head + 1;
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
    buffer_bytes: usize,
) -> Result<bool, Side> {
    if x.ubuf.capacity() < buffer_bytes {
        x.ubuf.reserve(buffer_bytes);
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
