//! Real upstream HTTP/1.1 servers on 127.0.0.1:0: a thread per connection, keep-alive, a
//! minimal request reader (Content-Length and chunked bodies), counters, and canned
//! behaviours.

use super::wire::{self, Wire};
use super::{pattern_matches, pattern_slice, ws, Fnv, PATTERN_MAX_SLICE};
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// Bodies up to this size get an FNV checksum (bigger ones only a pattern check).
pub const FNV_LIMIT: u64 = 16 << 20;

/// A request as the upstream received it (the body is not kept, only its digest).
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub target: String,
    pub version: String,
    pub headers: Vec<(String, String)>,
    pub chunked: bool,
    pub body_len: u64,
    /// FNV-1a 64 of the body when `body_len <= FNV_LIMIT`.
    pub body_fnv: Option<u64>,
    /// Whether the body equals the test pattern (see `pattern_slice`) from offset 0.
    pub body_pattern: bool,
    pub trailers: Vec<(String, String)>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        wire::header(&self.headers, name)
    }

    pub fn header_all(&self, name: &str) -> Vec<&str> {
        wire::header_all(&self.headers, name)
    }

    pub fn has_token(&self, name: &str, token: &str) -> bool {
        wire::has_token(&self.headers, name, token)
    }
}

/// Writes the response to `req` on `conn`; returns whether the connection may be reused.
pub type Handler = Arc<dyn Fn(&Request, &mut Wire) -> io::Result<bool> + Send + Sync>;

#[derive(Default)]
pub struct Stats {
    accepted: AtomicUsize,
    bytes: Arc<AtomicU64>,
    requests: AtomicUsize,
    recorded: Mutex<Vec<Request>>,
}

pub struct Upstream {
    pub port: u16,
    stats: Arc<Stats>,
    stop: Arc<AtomicBool>,
    accept_thread: Option<JoinHandle<()>>,
}

impl Upstream {
    pub fn start(handler: Handler) -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind upstream");
        let port = listener.local_addr().expect("local_addr").port();
        let stats = Arc::new(Stats::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (stats.clone(), stop.clone());
        let accept_thread = thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = conn else {
                    thread::sleep(Duration::from_millis(5));
                    continue;
                };
                st.accepted.fetch_add(1, Ordering::SeqCst);
                let (st, sp, h) = (st.clone(), sp.clone(), handler.clone());
                thread::spawn(move || serve_connection(stream, st, sp, h));
            }
        });
        Upstream {
            port,
            stats,
            stop,
            accept_thread: Some(accept_thread),
        }
    }

    /// TCP connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.stats.accepted.load(Ordering::SeqCst)
    }

    /// Bytes received on all connections so far.
    pub fn bytes_received(&self) -> u64 {
        self.stats.bytes.load(Ordering::SeqCst)
    }

    /// Requests received completely (head and whole body) so far.
    pub fn completed_requests(&self) -> usize {
        self.stats.requests.load(Ordering::SeqCst)
    }

    /// The completely received requests, in order of completion.
    pub fn requests(&self) -> Vec<Request> {
        self.stats.recorded.lock().expect("recorded lock").clone()
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], self.port)), Duration::from_secs(1));
        if let Some(t) = self.accept_thread.take() {
            let _ = t.join();
        }
    }
}

fn serve_connection(stream: TcpStream, stats: Arc<Stats>, stop: Arc<AtomicBool>, h: Handler) {
    let _ = stream.set_nodelay(true);
    if stream.set_read_timeout(Some(Duration::from_millis(200))).is_err()
        || stream.set_write_timeout(Some(Duration::from_secs(30))).is_err()
    {
        return;
    }
    let mut conn = Wire::server(stream, stats.bytes.clone(), stop, Duration::from_secs(60));
    loop {
        let req = match read_request(&mut conn) {
            Ok(Some(r)) => r,
            Ok(None) | Err(_) => return,
        };
        stats.requests.fetch_add(1, Ordering::SeqCst);
        stats.recorded.lock().expect("recorded lock").push(req.clone());
        let close = req.has_token("connection", "close")
            || (req.version == "HTTP/1.0" && !req.has_token("connection", "keep-alive"));
        match h(&req, &mut conn) {
            Ok(true) if !close => {}
            _ => {
                let _ = conn.stream.shutdown(std::net::Shutdown::Write);
                return;
            }
        }
    }
}

/// Reads one request; `Ok(None)` on a clean EOF between requests.
pub fn read_request(conn: &mut Wire) -> io::Result<Option<Request>> {
    let bad = |m: String| io::Error::new(io::ErrorKind::InvalidData, m);
    let Some(lines) = conn.read_head(1 << 20)? else {
        return Ok(None);
    };
    let line0 = String::from_utf8_lossy(&lines[0]).into_owned();
    let parts: Vec<&str> = line0.split(' ').collect();
    if parts.len() != 3 {
        return Err(bad(format!("bad request line {line0:?}")));
    }
    let mut headers = Vec::new();
    for l in &lines[1..] {
        headers.push(wire::parse_field(l).ok_or_else(|| bad(format!("bad field {:?}", String::from_utf8_lossy(l))))?);
    }
    let mut req = Request {
        method: parts[0].to_string(),
        target: parts[1].to_string(),
        version: parts[2].to_string(),
        headers,
        chunked: false,
        body_len: 0,
        body_fnv: None,
        body_pattern: true,
        trailers: Vec::new(),
    };
    let mut fnv = Fnv::default();
    let mut len = 0u64;
    let mut pattern = true;
    let mut sink = |d: &[u8]| {
        if len + d.len() as u64 <= FNV_LIMIT {
            fnv.update(d);
        }
        if pattern && !pattern_matches(len, d) {
            pattern = false;
        }
        len += d.len() as u64;
    };
    if !req.header_all("transfer-encoding").is_empty() {
        if !req.has_token("transfer-encoding", "chunked") {
            return Err(bad("transfer-encoding without chunked".into()));
        }
        req.chunked = true;
        req.trailers = conn.read_chunked_sink(&mut sink)?;
    } else if let Some(cl) = req.header("content-length") {
        let n: u64 = cl.parse().map_err(|_| bad(format!("bad content-length {cl:?}")))?;
        conn.read_exact_sink(n, &mut sink)?;
    }
    req.body_len = len;
    req.body_fnv = (len <= FNV_LIMIT).then_some(fnv.0);
    req.body_pattern = pattern;
    Ok(Some(req))
}

/// The echo body: one `key=value` line per fact.
pub fn describe(req: &Request) -> String {
    let mut s = format!("method={}\npath={}\nversion={}\n", req.method, req.target, req.version);
    for (k, v) in &req.headers {
        s.push_str(&format!("header.{}={v}\n", k.to_ascii_lowercase()));
    }
    s.push_str(&format!("body-len={}\n", req.body_len));
    match req.body_fnv {
        Some(f) => s.push_str(&format!("body-fnv={f:016x}\n")),
        None => s.push_str("body-fnv=none\n"),
    }
    s.push_str(&format!("body-pattern={}\n", req.body_pattern));
    s
}

fn write_simple(conn: &mut Wire, status: &str, extra: &str, body: &[u8]) -> io::Result<()> {
    let mut out = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n{extra}\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    conn.write_all(&out)
}

/// 200 with a `text/plain` body describing the request (see `describe`).
pub fn echo() -> Handler {
    Arc::new(|req, conn| {
        let body = describe(req);
        let body = if req.method == "HEAD" { "" } else { body.as_str() };
        write_simple(conn, "200 OK", "Content-Type: text/plain\r\n", body.as_bytes())?;
        Ok(true)
    })
}

/// 200 with a Content-Length body of `n` pattern bytes generated on the fly (no body for HEAD).
pub fn fixed(n: u64) -> Handler {
    Arc::new(move |req, conn| {
        conn.write_all(
            format!("HTTP/1.1 200 OK\r\nContent-Length: {n}\r\nContent-Type: application/octet-stream\r\n\r\n")
                .as_bytes(),
        )?;
        if req.method != "HEAD" {
            let mut off = 0u64;
            while off < n {
                let len = (n - off).min(PATTERN_MAX_SLICE as u64 / 4) as usize;
                conn.write_all(pattern_slice(off, len))?;
                off += len as u64;
            }
        }
        Ok(true)
    })
}

/// 200 with `Transfer-Encoding: chunked`, one chunk per element, then the trailer fields.
pub fn chunked(chunks: Vec<Vec<u8>>, trailers: Vec<(String, String)>) -> Handler {
    Arc::new(move |_req, conn| {
        let mut out = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for c in &chunks {
            out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
            out.extend_from_slice(c);
            out.extend_from_slice(b"\r\n");
            // Separate writes so the proxy sees the chunks arrive over time.
            conn.write_all(&out)?;
            out.clear();
            std::thread::sleep(Duration::from_millis(5));
        }
        out.extend_from_slice(b"0\r\n");
        for (k, v) in &trailers {
            out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        conn.write_all(&out)?;
        Ok(true)
    })
}

/// 200 without Content-Length or Transfer-Encoding: the body ends when the connection closes.
pub fn close_delimited(body: Vec<u8>) -> Handler {
    Arc::new(move |_req, conn| {
        conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n")?;
        for piece in body.chunks(1000) {
            conn.write_all(piece)?;
        }
        Ok(false)
    })
}

/// A response with this status line (e.g. "204 No Content"), extra header lines and no body.
pub fn status_only(status: &'static str, extra: &'static str) -> Handler {
    Arc::new(move |_req, conn| {
        conn.write_all(format!("HTTP/1.1 {status}\r\n{extra}\r\n").as_bytes())?;
        Ok(true)
    })
}

/// Sleeps `d`, then behaves as `inner`.
pub fn delayed(d: Duration, inner: Handler) -> Handler {
    Arc::new(move |req, conn| {
        thread::sleep(d);
        inner(req, conn)
    })
}

/// Reads the request and never answers (until the peer closes or the upstream is dropped).
pub fn hang() -> Handler {
    Arc::new(|_req, conn| loop {
        match conn.fill() {
            Ok(0) | Err(_) => return Ok(false),
            Ok(_) => {
                let n = conn.buffered().len();
                conn.consume(n);
            }
        }
    })
}

/// Writes these exact bytes and closes.
pub fn raw(bytes: impl Into<Vec<u8>>) -> Handler {
    let bytes: Vec<u8> = bytes.into();
    Arc::new(move |_req, conn| {
        conn.write_all(&bytes)?;
        Ok(false)
    })
}

/// WebSocket: checks the upgrade request, answers 101 with the proper Sec-WebSocket-Accept,
/// then echoes every data frame (unmasked) until a close frame, which it echoes too.
pub fn ws_echo() -> Handler {
    Arc::new(|req, conn| {
        let key = req.header("sec-websocket-key").unwrap_or_default().to_string();
        if !req.has_token("upgrade", "websocket")
            || !req.has_token("connection", "upgrade")
            || key.is_empty()
            || req.header("sec-websocket-version") != Some("13")
        {
            let body = format!("not a websocket upgrade:\n{}", describe(req));
            write_simple(conn, "400 Bad Request", "", body.as_bytes())?;
            return Ok(false);
        }
        conn.write_all(
            format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
                ws::accept_key(&key)
            )
            .as_bytes(),
        )?;
        loop {
            let f = ws::read_frame(conn, 16 << 20)?;
            if !f.masked {
                // RFC 6455: the server must fail the connection on unmasked client frames.
                return Ok(false);
            }
            conn.write_all(&ws::encode_frame(f.opcode, &f.payload, None))?;
            if f.opcode == ws::OP_CLOSE {
                return Ok(false);
            }
        }
    })
}
