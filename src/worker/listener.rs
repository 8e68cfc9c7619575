//! Listening sockets: one SO_REUSEPORT socket per worker per entrypoint, bound before the workers start.
//!
//! Binding happens on the main thread so a failure stops start-up with a clear message before any worker runs.
//! Because SO_REUSEPORT lets a stale process silently share a port, every address is probed first and start-up is
//! refused if something already accepts connections there. Never accepts connections itself.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use thiserror::Error;

use crate::config::ListenAddr;

/// Why an entrypoint could not be bound.
#[derive(Debug, Error)]
pub enum BindError {
    /// Another process already listens on the address.
    #[error("entrypoint `{entry_point}`: another process already listens on {addr}; stop it first (ringress shares ports between its own workers only)")]
    InUse {
        /// Entrypoint name.
        entry_point: String,
        /// The probed address.
        addr: SocketAddr,
    },
    /// The socket calls failed.
    #[error("entrypoint `{entry_point}`: cannot listen on {addr}: {source}")]
    Socket {
        /// Entrypoint name.
        entry_point: String,
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: io::Error,
    },
}

/// The concrete socket address for a configured listen address. `:80` means every interface: dual-stack `[::]`
/// where IPv6 exists, else `0.0.0.0`.
pub fn resolve(addr: &ListenAddr) -> SocketAddr {
    match addr {
        ListenAddr::Ip(sa) => *sa,
        ListenAddr::AnyIp(port) => {
            if ipv6_available() {
                SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), *port)
            } else {
                SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), *port)
            }
        }
    }
}

fn ipv6_available() -> bool {
    Socket::new(Domain::IPV6, Type::STREAM, Some(Protocol::TCP))
        .and_then(|s| {
            s.set_only_v6(false)?;
            s.bind(&SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), 0).into())
        })
        .is_ok()
}

/// Refuses to go on if something already accepts connections on `addr`.
pub fn probe_free(entry_point: &str, addr: SocketAddr) -> Result<(), BindError> {
    let target = match addr {
        SocketAddr::V4(a) if a.ip().is_unspecified() => SocketAddr::new(Ipv4Addr::LOCALHOST.into(), a.port()),
        SocketAddr::V6(a) if a.ip().is_unspecified() => SocketAddr::new(Ipv4Addr::LOCALHOST.into(), a.port()),
        other => other,
    };
    match TcpStream::connect_timeout(&target, Duration::from_millis(300)) {
        Ok(_) => Err(BindError::InUse {
            entry_point: entry_point.to_string(),
            addr,
        }),
        Err(_) => Ok(()),
    }
}

/// Binds one SO_REUSEPORT, non-blocking listening socket on `addr`.
pub fn bind(entry_point: &str, addr: SocketAddr, backlog: i32) -> Result<std::net::TcpListener, BindError> {
    let wrap = |source| BindError::Socket {
        entry_point: entry_point.to_string(),
        addr,
        source,
    };
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP)).map_err(wrap)?;
    socket.set_reuse_address(true).map_err(wrap)?;
    socket.set_reuse_port(true).map_err(wrap)?;
    if addr.is_ipv6() {
        // Every worker binds the same family and flags, so the kernel spreads connections over all of them.
        socket.set_only_v6(!addr.ip().is_unspecified()).map_err(wrap)?;
    }
    // Required: a blocking listener deadlocks the epoll fallback driver.
    socket.set_nonblocking(true).map_err(wrap)?;
    socket.bind(&addr.into()).map_err(wrap)?;
    socket.listen(backlog).map_err(wrap)?;
    Ok(socket.into())
}
