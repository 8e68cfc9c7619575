//! The system resolver for route targets, for [`file_routers`](super::file_routers).
//!
//! Owns turning a [`Target`] into socket addresses through the OS resolver (`getaddrinfo`).
//! This blocks on DNS, so it must only ever run on the control thread, never on a worker.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

use super::spec::Target;

/// Resolves `target` with the operating system's resolver. Blocking.
pub fn resolve_system(target: &Target) -> io::Result<Vec<SocketAddr>> {
    (target.host.as_str(), target.port)
        .to_socket_addrs()
        .map(Iterator::collect)
}
