//! Opening upstream connections with a bounded connect time.
//!
//! The socket is created non-blocking and connected here, and the runtime only waits for writability; the stream
//! owns its fd the whole time. A timed-out dial therefore cancels a poll, never an in-flight connect operation,
//! which monoio 0.2.4 can leak an fd for. Never blocks the worker.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::Duration;

use monoio::net::TcpStream;
use socket2::{Domain, Protocol, SockRef, Socket, Type};
use thiserror::Error;

/// Why a dial failed.
#[derive(Debug, Error)]
pub enum DialError {
    /// The connect did not complete in time.
    #[error("connect to {addr} timed out after {after:?}")]
    Timeout {
        /// Upstream address.
        addr: SocketAddr,
        /// The configured dial timeout.
        after: Duration,
    },
    /// The connect failed (refused, unreachable, out of fds…).
    #[error("connect to {addr}: {source}")]
    Failed {
        /// Upstream address.
        addr: SocketAddr,
        /// The OS error.
        source: io::Error,
    },
}

/// Connects to `addr` within `timeout`.
pub async fn dial(addr: SocketAddr, timeout: Duration) -> Result<TcpStream, DialError> {
    let failed = |source| DialError::Failed { addr, source };
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP)).map_err(failed)?;
    socket.set_nonblocking(true).map_err(failed)?;
    socket.set_tcp_nodelay(true).map_err(failed)?;
    // A peer that vanished (a WireGuard link down, a host powered off) sends no RST: without this, a request
    // written to a pooled connection would wait for the full response-header timeout. With it, the kernel gives up
    // once sent data stays unacknowledged for the dial timeout, and the read fails with ETIMEDOUT.
    socket
        .set_tcp_user_timeout(Some(timeout.max(Duration::from_secs(1))))
        .map_err(failed)?;
    let pending = match socket.connect(&addr.into()) {
        Ok(()) => false,
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => true,
        Err(e) => return Err(failed(e)),
    };
    let std_stream: std::net::TcpStream = socket.into();
    let stream = TcpStream::from_std(std_stream).map_err(failed)?;
    if pending {
        match monoio::time::timeout(timeout, stream.writable(false)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(failed(e)),
            Err(_) => return Err(DialError::Timeout { addr, after: timeout }),
        }
        // SAFETY: the fd is owned by `stream`, which outlives this borrow.
        let fd = unsafe { BorrowedFd::borrow_raw(stream.as_raw_fd()) };
        match SockRef::from(&fd).take_error() {
            Ok(None) => {}
            Ok(Some(e)) | Err(e) => return Err(failed(e)),
        }
    }
    Ok(stream)
}
