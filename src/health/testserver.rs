//! Real loopback HTTP/1.1 servers for the health checker's tests: a `TcpListener` on
//! `127.0.0.1:0` and one thread per connection answering raw bytes. No mocks.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use crossbeam_channel::{unbounded, Receiver, Sender};

/// What the server does with one request.
pub enum Reply {
    /// Write these bytes and close.
    Raw(String),
    /// Read nothing more, answer nothing, keep the connection open until the client closes it.
    Hang,
    /// Write these bytes, then hold the connection open like [`Reply::Hang`].
    Stall(String),
}

/// A server answering every request with what its handler returns.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    heads: Receiver<String>,
}

impl Server {
    /// Starts a server; `handler` sees each request head (request line and headers).
    pub fn start(handler: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let (heads_tx, heads) = unbounded();
        let handler = Arc::new(handler);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let handler = Arc::clone(&handler);
                let heads_tx = heads_tx.clone();
                thread::spawn(move || serve(stream, handler.as_ref(), &heads_tx));
            }
        });
        Server { addr, heads }
    }

    /// A server answering `status` with an empty body to everything.
    pub fn status(status: u16) -> Server {
        Server::start(move |_| Reply::Raw(answer(status, "")))
    }

    /// A server that never answers.
    pub fn hanging() -> Server {
        Server::start(|_| Reply::Hang)
    }

    /// Request heads received so far, in arrival order.
    pub fn heads(&self) -> Vec<String> {
        self.heads.try_iter().collect()
    }
}

/// A server answering from a switchable status: for recovery tests.
pub struct Switch {
    /// The server.
    pub server: Server,
    status: Arc<Mutex<u16>>,
}

impl Switch {
    /// Starts answering `status`.
    pub fn start(status: u16) -> Switch {
        let shared = Arc::new(Mutex::new(status));
        let read = Arc::clone(&shared);
        let server = Server::start(move |_| {
            let status = *read.lock().expect("status lock");
            Reply::Raw(answer(status, ""))
        });
        Switch { server, status: shared }
    }

    /// Answers `status` from now on.
    pub fn set(&self, status: u16) {
        *self.status.lock().expect("status lock") = status;
    }
}

/// `HTTP/1.1 <status>` with `extra` header lines (each ending in `\r\n`), no body, closing.
pub fn answer(status: u16, extra: &str) -> String {
    format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n{extra}\r\n")
}

/// An address nothing listens on (bound, then released).
pub fn refused_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    listener.local_addr().expect("local addr")
}

fn serve(mut stream: TcpStream, handler: &(dyn Fn(&str) -> Reply + Send + Sync), heads: &Sender<String>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let reply = handler(&head);
    let _ = heads.send(head);
    match reply {
        Reply::Raw(bytes) => {
            let _ = stream.write_all(bytes.as_bytes());
            let _ = stream.flush();
            let _ = stream.shutdown(Shutdown::Write);
            // Let the client read the answer before the socket closes.
            while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
        }
        // Hold the connection until the client gives up (or 30 s pass).
        Reply::Hang => while matches!(stream.read(&mut buf), Ok(n) if n > 0) {},
        Reply::Stall(bytes) => {
            let _ = stream.write_all(bytes.as_bytes());
            let _ = stream.flush();
            while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
        }
    }
}
