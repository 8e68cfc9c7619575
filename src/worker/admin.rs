//! The internal admin entrypoint: `/ping`, `/metrics`, `/api/rawdata`, `/api/providers`, `/api/certificates` and
//! the `/dashboard/` page, served by the workers from worker-local state, the status board and the merged
//! per-worker counters.
//!
//! Never proxies, never blocks, never reads files. Bound to loopback by default; it is not meant to be public.

use std::rc::Rc;

use monoio::net::TcpStream;

use std::time::SystemTime;

use super::WorkerCtx;
use crate::control::status::Board;
use crate::http1::{parse_request, BodyKind, Method, Parsed, RequestHead};
use crate::proxy::io::{linger_close, read_append_cancelable, write_all};
use crate::proxy::respond;

const JSON: &str = "application/json";

/// The dashboard: one self-contained page (inline style and script, no external assets) that polls the JSON APIs
/// and `/metrics` of this entrypoint.
const DASHBOARD: &str = include_str!("dashboard.html");

/// A status-board document. The board is written by the control thread for a moment each poll; rather than wait
/// on it, yield and try again.
async fn board_doc(ctx: &WorkerCtx, render: fn(&Board, SystemTime) -> String) -> String {
    for _ in 0..200 {
        if let Some(board) = ctx.status.try_read() {
            return render(&board, SystemTime::now());
        }
        monoio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    String::from(r#"{"error":"status busy, try again"}"#)
}

/// A copy of the status board for `/metrics`; `None` (board metrics left out) if the control thread holds it for
/// more than a moment.
async fn board(ctx: &WorkerCtx) -> Option<crate::control::status::Board> {
    for _ in 0..200 {
        if let Some(board) = ctx.status.try_read() {
            return Some(board);
        }
        monoio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    None
}

/// Serves one admin connection.
pub async fn serve(mut client: TcpStream, ctx: Rc<WorkerCtx>) {
    let _open = ctx.track(false);
    let mut buf = Vec::with_capacity(2048);
    let mut out = Vec::new();
    let mut head = RequestHead::default();
    let limits = ctx.settings.proxy.limits.clone();
    let idle = std::time::Duration::from_secs(30);
    loop {
        let complete = loop {
            if !buf.is_empty() {
                match parse_request(&buf, &limits, &mut head) {
                    Ok(Parsed::Complete) => break true,
                    Ok(Parsed::Partial) => {}
                    Err(e) => {
                        out.clear();
                        respond::write_text(&mut out, e.status(), "bad request\n", false);
                        let _ = write_all(&mut client, &mut out).await;
                        break false;
                    }
                }
            }
            let read = read_append_cancelable(&mut client, &mut buf, limits.max_head + 1, ctx.idle_handle());
            match monoio::time::timeout(idle, read).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => return,
            }
        };
        if !complete {
            linger_close(&mut client, &mut out).await;
            return;
        }
        let has_body = !matches!(head.body, BodyKind::None);
        let keep = !has_body && !head.conn.close && !ctx.draining() && head.version_minor == 1;
        out.clear();
        let path = head.path.get(&buf);
        match (head.method, path) {
            (Method::Get | Method::Head, b"/ping") => {
                if ctx.draining() {
                    respond::write_text(&mut out, 503, "Service Unavailable", keep);
                } else {
                    respond::write_text(&mut out, 200, "OK", keep);
                }
            }
            (Method::Get | Method::Head, b"/metrics") => {
                let board = board(&ctx).await;
                let mut text = String::with_capacity(16 * 1024);
                let now = std::time::SystemTime::now();
                ctx.all_counters().render_all(board.as_ref(), now, &mut text);
                respond::write_with_type(&mut out, 200, "text/plain; version=0.0.4", text.as_bytes(), keep);
            }
            (Method::Get | Method::Head, b"/api/rawdata") => {
                let rawdata = ctx.rawdata();
                respond::write_head(&mut out, 200, JSON, rawdata.len(), keep);
                rawdata.write_to(&mut out);
            }
            (Method::Get | Method::Head, b"/api/providers") => {
                let doc = board_doc(&ctx, Board::render).await;
                respond::write_with_type(&mut out, 200, JSON, doc.as_bytes(), keep);
            }
            (Method::Get | Method::Head, b"/api/certificates") => {
                let doc = board_doc(&ctx, Board::render_certificates).await;
                respond::write_with_type(&mut out, 200, JSON, doc.as_bytes(), keep);
            }
            (Method::Get | Method::Head, b"/dashboard/") => {
                respond::write_with_type(&mut out, 200, "text/html; charset=utf-8", DASHBOARD.as_bytes(), keep);
            }
            (Method::Get | Method::Head, b"/dashboard" | b"/") => {
                respond::write_redirect(&mut out, 302, b"/dashboard/", keep);
            }
            _ => respond::write_text(&mut out, 404, respond::NOT_FOUND_BODY, keep),
        }
        if head.method == Method::Head {
            // Same head, no body.
            if let Some(end) = out.windows(4).position(|w| w == b"\r\n\r\n") {
                out.truncate(end + 4);
            }
        }
        if write_all(&mut client, &mut out).await.is_err() || !keep {
            return;
        }
        let consumed = head.head_len.min(buf.len());
        buf.drain(..consumed);
    }
}
