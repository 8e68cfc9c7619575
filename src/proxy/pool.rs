//! The per-worker pool of idle upstream connections, keyed by upstream address.
//!
//! Owned by one worker (`RefCell`, no locks, never shared across threads). Connections are reused newest first; a
//! connection idle longer than `idleConnTimeout`, or one the upstream has closed or written to while idle, is
//! dropped instead of reused.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use monoio::net::TcpStream;

struct Idle {
    io: TcpStream,
    since: Instant,
}

/// Idle upstream connections of one worker.
pub struct Pool {
    idle: RefCell<HashMap<SocketAddr, Vec<Idle>>>,
    max_per_host: usize,
    idle_timeout: Duration,
}

impl Pool {
    /// An empty pool keeping at most `max_per_host` idle connections per upstream for at most `idle_timeout`.
    pub fn new(max_per_host: usize, idle_timeout: Duration) -> Self {
        Pool {
            idle: RefCell::new(HashMap::new()),
            max_per_host,
            idle_timeout,
        }
    }

    /// An idle connection to `addr` that still looks usable, if any.
    pub fn take(&self, addr: SocketAddr) -> Option<TcpStream> {
        let mut idle = self.idle.borrow_mut();
        let list = idle.get_mut(&addr)?;
        let now = Instant::now();
        while let Some(conn) = list.pop() {
            if now.duration_since(conn.since) < self.idle_timeout && quiet(&conn.io) {
                return Some(conn.io);
            }
        }
        None
    }

    /// Returns a connection whose last exchange completed cleanly.
    pub fn put(&self, addr: SocketAddr, io: TcpStream) {
        if self.max_per_host == 0 {
            return;
        }
        let mut idle = self.idle.borrow_mut();
        let list = idle.entry(addr).or_default();
        if list.len() >= self.max_per_host {
            list.remove(0);
        }
        list.push(Idle {
            io,
            since: Instant::now(),
        });
    }

    /// Drops expired and closed connections; called periodically so closed upstream sockets do not linger.
    pub fn sweep(&self) {
        let now = Instant::now();
        let mut idle = self.idle.borrow_mut();
        idle.retain(|_, list| {
            list.retain(|c| now.duration_since(c.since) < self.idle_timeout && quiet(&c.io));
            !list.is_empty()
        });
    }

    /// Number of idle connections held.
    pub fn len(&self) -> usize {
        self.idle.borrow().values().map(Vec::len).sum()
    }

    /// True when no idle connection is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every idle connection.
    pub fn clear(&self) {
        self.idle.borrow_mut().clear();
    }
}

/// True if the idle socket has neither been closed by the peer nor received unexpected bytes.
fn quiet(io: &TcpStream) -> bool {
    let mut byte = [0u8; 1];
    // SAFETY: `recv` on a valid, open fd owned by `io`, into a 1-byte stack buffer whose length we pass;
    // MSG_PEEK | MSG_DONTWAIT neither consumes data nor blocks.
    let n = unsafe {
        libc::recv(
            io.as_raw_fd(),
            byte.as_mut_ptr().cast(),
            1,
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::WouldBlock
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::TcpListener;

    fn runtime() -> monoio::Runtime<monoio::time::TimeDriver<monoio::LegacyDriver>> {
        monoio::RuntimeBuilder::<monoio::LegacyDriver>::new()
            .enable_timer()
            .build()
            .expect("runtime")
    }

    #[test]
    fn reuses_live_connections_and_drops_closed_ones() {
        let server = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = server.local_addr().expect("addr");
        runtime().block_on(async move {
            let pool = Pool::new(4, Duration::from_secs(60));
            let a = crate::proxy::dial::dial(addr, Duration::from_secs(1))
                .await
                .expect("dial a");
            let (peer_a, _) = server.accept().expect("accept a");
            pool.put(addr, a);
            assert_eq!(pool.len(), 1);
            assert!(pool.take(addr).is_some(), "a quiet connection is reused");
            assert!(pool.is_empty());

            let b = crate::proxy::dial::dial(addr, Duration::from_secs(1))
                .await
                .expect("dial b");
            let (peer_b, _) = server.accept().expect("accept b");
            pool.put(addr, b);
            drop(peer_b);
            std::thread::sleep(Duration::from_millis(50));
            assert!(pool.take(addr).is_none(), "a connection the upstream closed is dropped");

            let c = crate::proxy::dial::dial(addr, Duration::from_secs(1))
                .await
                .expect("dial c");
            let (mut peer_c, _) = server.accept().expect("accept c");
            pool.put(addr, c);
            peer_c.write_all(b"stray").expect("write");
            std::thread::sleep(Duration::from_millis(50));
            assert!(
                pool.take(addr).is_none(),
                "a connection with unexpected bytes is dropped"
            );
            drop(peer_a);
        });
    }

    #[test]
    fn expired_connections_are_swept() {
        let server = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = server.local_addr().expect("addr");
        runtime().block_on(async move {
            let pool = Pool::new(4, Duration::from_millis(30));
            let a = crate::proxy::dial::dial(addr, Duration::from_secs(1))
                .await
                .expect("dial");
            let _peer = server.accept().expect("accept");
            pool.put(addr, a);
            std::thread::sleep(Duration::from_millis(60));
            pool.sweep();
            assert!(pool.is_empty());
        });
    }
}
