//! A client connection on a proxy entrypoint: read a request head, route it, forward it, repeat while the
//! connection stays keep-alive.
//!
//! LIFECYCLE: wait for a head (idle timeout between requests, cancelled at once when the worker drains; read timeout
//! once the first byte has arrived, as an absolute deadline so a slow sender cannot stretch it) → reject malformed
//! heads with their 4xx and close → look the route up in the worker-local snapshot → forward → loop. Pipelined
//! requests are answered in order because the next head is parsed only after the previous exchange ended.
//!
//! Never reads files, never blocks, never holds the snapshot borrow across an await.

use std::net::SocketAddr;
use std::rc::Rc;

use monoio::net::TcpStream;

use super::{EntrySettings, WorkerCtx};
use crate::http1::{parse_request, BodyKind, Forwarding, HeadError, Method, Parsed, RequestHead, ResponseHead};
use crate::observe::WorkerCounters;
use crate::proxy::forward::{Env, Exchange};
use crate::proxy::io::{linger_close, read_append, read_append_cancelable, write_all};
use crate::proxy::{forward, respond, tunnel, Outcome};
use crate::route::{request_view, ViewScratch};

/// Initial capacity of a connection's read buffer; it grows up to the head limit when a head needs it.
const INITIAL_BUF: usize = 8 * 1024;

/// Traefik's body when a service has no server to send to.
const NO_SERVER_BODY: &str = "no available server\n";

/// Where a request goes.
enum Pick {
    /// To this server; `true` when the server's `host:port` replaces the client's Host.
    Upstream(SocketAddr, bool),
    NotFound,
    NoServer,
    BadPath,
}

enum HeadRead {
    Ready,
    Closed,
    Reject(u16, &'static str),
}

/// Serves one client connection to completion.
pub async fn serve(mut client: TcpStream, peer: SocketAddr, ep: Rc<EntrySettings>, ctx: Rc<WorkerCtx>) {
    let _open = ctx.track(true);
    let mut cbuf: Vec<u8> = Vec::with_capacity(INITIAL_BUF);
    let mut scratch: Vec<u8> = Vec::new();
    let mut ubuf: Vec<u8> = Vec::new();
    let mut head = RequestHead::default();
    let mut rhead = ResponseHead::default();
    let mut view_scratch = ViewScratch::default();
    let mut host_override: Vec<u8> = Vec::new();
    let mut first = true;
    loop {
        match read_head(&mut client, &mut cbuf, &mut head, &ep, &ctx, first).await {
            HeadRead::Ready => {}
            HeadRead::Closed => return,
            HeadRead::Reject(status, why) => {
                WorkerCounters::inc(&ctx.counters().bad_requests);
                WorkerCounters::inc(&ctx.counters().requests);
                scratch.clear();
                respond::write_text(&mut scratch, status, why, false);
                if write_all(&mut client, &mut scratch).await.is_ok() {
                    linger_close(&mut client, &mut scratch).await;
                }
                return;
            }
        }
        first = false;

        if head.method == Method::Connect {
            WorkerCounters::inc(&ctx.counters().requests);
            scratch.clear();
            respond::write_text(&mut scratch, 405, "405 Method Not Allowed\n", false);
            if write_all(&mut client, &mut scratch).await.is_ok() {
                linger_close(&mut client, &mut scratch).await;
            }
            return;
        }

        let pick = {
            let snapshot = ctx.snapshot();
            match request_view(&head, &cbuf, peer.ip().to_canonical(), &mut view_scratch) {
                Err(_) => Pick::BadPath,
                Ok(view) => match snapshot.routes.lookup(&view, ep.index) {
                    None => Pick::NotFound,
                    Some((router, service)) => {
                        match service.servers.get(ctx.next_rr(router.service, service.servers.len())) {
                            None => Pick::NoServer,
                            Some(server) => {
                                host_override.clear();
                                if !service.pass_host_header {
                                    host_override.extend_from_slice(server.authority.as_bytes());
                                }
                                Pick::Upstream(server.addr, !service.pass_host_header)
                            }
                        }
                    }
                },
            }
        };
        let (upstream, override_host) = match pick {
            Pick::Upstream(addr, override_host) => (addr, override_host),
            Pick::NotFound => {
                if !local_response(
                    &mut client,
                    &mut cbuf,
                    &head,
                    &mut scratch,
                    &ctx,
                    404,
                    respond::NOT_FOUND_BODY,
                )
                .await
                {
                    return;
                }
                continue;
            }
            Pick::NoServer => {
                if !local_response(&mut client, &mut cbuf, &head, &mut scratch, &ctx, 503, NO_SERVER_BODY).await {
                    return;
                }
                continue;
            }
            Pick::BadPath => {
                WorkerCounters::inc(&ctx.counters().bad_requests);
                WorkerCounters::inc(&ctx.counters().requests);
                scratch.clear();
                respond::write_text(
                    &mut scratch,
                    400,
                    "400 Bad Request: invalid percent-encoding in the path\n",
                    false,
                );
                if write_all(&mut client, &mut scratch).await.is_ok() {
                    linger_close(&mut client, &mut scratch).await;
                }
                return;
            }
        };

        let outcome = {
            let mut x = Exchange {
                client: &mut client,
                cbuf: &mut cbuf,
                head: &head,
                upstream,
                fwd: Forwarding {
                    client_ip: peer.ip().to_canonical(),
                    proto: "http",
                    port: ep.port,
                    host_override: override_host.then_some(host_override.as_slice()),
                },
                scratch: &mut scratch,
                ubuf: &mut ubuf,
                rhead: &mut rhead,
                read_timeout: ep.read_timeout,
            };
            let env = Env {
                pool: &ctx.pool,
                counters: ctx.counters(),
                settings: &ctx.settings.proxy,
                draining: ctx.draining(),
            };
            forward(&mut x, &env).await
        };
        match outcome {
            Outcome::KeepAlive => {}
            Outcome::Close => return,
            Outcome::CloseLinger => {
                linger_close(&mut client, &mut scratch).await;
                return;
            }
            Outcome::Upgrade(upstream) => {
                drop(ubuf);
                drop(scratch);
                tunnel::tunnel(client, cbuf, upstream, ctx.settings.proxy.buffer_bytes).await;
                return;
            }
        }
    }
}

/// Reads until `cbuf` holds a complete request head (parsed into `head`), the client goes away, or the head is
/// rejected. `cbuf` may already hold a pipelined request.
async fn read_head(
    client: &mut TcpStream,
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

/// Answers a request locally (404, 503). Keeps the connection only if the request's body (if any) was fully
/// received, skipping it.
async fn local_response(
    client: &mut TcpStream,
    cbuf: &mut Vec<u8>,
    head: &RequestHead,
    scratch: &mut Vec<u8>,
    ctx: &WorkerCtx,
    status: u16,
    body: &str,
) -> bool {
    WorkerCounters::inc(&ctx.counters().requests);
    let after_head = cbuf.len().saturating_sub(head.head_len);
    let skip = match head.body {
        BodyKind::None | BodyKind::CloseDelimited => Some(0),
        BodyKind::Length(n) if n <= after_head as u64 => Some(n as usize),
        _ => None,
    };
    let keep =
        skip.is_some() && !head.conn.close && !ctx.draining() && (head.version_minor == 1 || head.conn.keep_alive);
    scratch.clear();
    respond::write_text(scratch, status, body, keep);
    if write_all(client, scratch).await.is_err() {
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
