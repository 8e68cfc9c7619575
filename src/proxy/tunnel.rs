//! Byte tunnel between a client and an upstream after `101 Switching Protocols` (WebSocket and other upgrades).
//!
//! Copies both directions through two reused buffers until both sides are done; an end of stream on one side is
//! passed on as a half-close. Once one direction has ended, the other gets a bounded time to finish, so a peer that
//! never closes cannot hold the connection forever. Never interprets the bytes. The client side is plain TCP or TLS
//! (see [`Split`]); the upstream side is always plain TCP.

use std::time::Duration;

use monoio::io::{AsyncReadRent, AsyncWriteRent, Splitable};
use monoio::net::TcpStream;

use super::io::{read_fresh, write_all, write_range};
use super::Split;
use crate::observe::EntryCounters;

/// How long the second direction may run on after the first has ended.
const LINGER: Duration = Duration::from_secs(30);

/// Tunnels until both directions end. `pending` holds bytes the client sent after its upgrade request. Bytes read
/// from and written to the client are counted on `meter` (the entrypoint's counters) as they pass.
pub async fn tunnel<C: Split>(
    client: C,
    mut pending: Vec<u8>,
    mut upstream: TcpStream,
    buffer_bytes: usize,
    meter: Option<&EntryCounters>,
) {
    if let Some(m) = meter {
        m.add_received(pending.len() as u64);
    }
    if write_all(&mut upstream, &mut pending).await.is_err() {
        return;
    }
    let (mut cr, mut cw) = client.into_halves();
    let (mut ur, mut uw) = upstream.into_split();
    let mut up_buf = pending;
    up_buf.clear();
    up_buf.reserve(buffer_bytes);
    let mut down_buf = Vec::with_capacity(buffer_bytes);
    let received = |n: usize| {
        if let Some(m) = meter {
            m.add_received(n as u64);
        }
    };
    let sent = |n: usize| {
        if let Some(m) = meter {
            m.add_sent(n as u64);
        }
    };
    let mut upward = std::pin::pin!(copy(&mut cr, &mut uw, &mut up_buf, &received));
    let mut downward = std::pin::pin!(copy(&mut ur, &mut cw, &mut down_buf, &sent));
    monoio::select! {
        _ = &mut upward => { let _ = monoio::time::timeout(LINGER, downward).await; }
        _ = &mut downward => { let _ = monoio::time::timeout(LINGER, upward).await; }
    }
}

async fn copy<R: AsyncReadRent, W: AsyncWriteRent>(
    from: &mut R,
    to: &mut W,
    buf: &mut Vec<u8>,
    count: &dyn Fn(usize),
) -> std::io::Result<()> {
    loop {
        let cap = buf.capacity();
        let n = read_fresh(from, buf, cap).await?;
        if n == 0 {
            return to.shutdown().await;
        }
        count(n);
        write_range(to, buf, 0, n).await?;
    }
}
