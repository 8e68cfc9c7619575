//! Traefik's access log (`accessLog.{filePath, format, bufferingSize}`): one line per request, in Traefik's
//! `common` format (CLF plus request count, router, server URL and duration), `genericCLF` (Apache's combined
//! format) or `json` (Traefik's field names).
//!
//! Owns the line formats, the per-worker queues and the writer thread. A worker formats a line into a buffer
//! taken from its spare-buffer queue (so steady state allocates nothing) and hands it over with `try_send` on its
//! own bounded lock-free queue; when the queue is full the line is dropped and counted
//! (`ringress_access_log_dropped_total`). The writer thread polls every worker's queue (a worker never wakes it:
//! no syscall on the request path), writes each round's lines with one `write`, returns the buffers, and reopens
//! the file when the reopen flag is set (SIGUSR1, for logrotate).
//!
//! A worker must never block on, wait for, or lock anything here; only the writer thread does file I/O. Lines never
//! hold header values other than Referer and User-Agent (escaped), and never a credential.
//!
//! Format details (ringress's choices where Traefik's do not apply):
//! - `common`: `<client ip> - - [<start, UTC, 02/Jan/2006:15:04:05 +0000>] "<method> <path?query> <HTTP/1.x>"
//!   <status> <response body bytes> "<Referer|->" "<User-Agent|->" <request count> "<router|->"
//!   "<server URL|->" <duration>ms`. The client IP is the connection's peer (ringress never trusts a client's
//!   X-Forwarded-For); the user is always `-` (no auth middleware). Bytes that could break the line (`"`, `\`,
//!   control and non-ASCII bytes) are escaped as `\"`, `\\` and `\xHH`, as nginx does.
//! - The request count is unique and increasing per worker, not across the process (`n * workers + worker + 1`),
//!   so no counter is shared between cores.
//! - `json`: one object per line with Traefik's keys in Traefik's (sorted) order: `ClientAddr`, `ClientHost`,
//!   `ClientPort`, `ClientUsername`, `DownstreamContentSize`, `DownstreamStatus`, `Duration` (ns), `OriginStatus`
//!   (when an upstream answered), `RequestAddr`, `RequestContentSize`, `RequestCount`, `RequestHost`,
//!   `RequestMethod`, `RequestPath`, `RequestPort`, `RequestProtocol`, `RequestScheme`, `RetryAttempts`,
//!   `RouterName`, `ServiceAddr`, `ServiceName`, `ServiceURL` (when routed), `StartUTC` (RFC 3339, ns),
//!   `entryPointName`, `level`, `msg`, `request_Referer`, `request_User-Agent` (when sent), `time`. Traefik's
//!   `StartLocal`, `Overhead`, `OriginDuration`, `OriginContentSize`, `GzipRatio` and TLS fields are left out.
//! - Requests rejected before their head could be parsed (400, 408, 431…) are counted in the metrics but not
//!   logged, as in Traefik, whose HTTP server rejects them before its handlers run.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::net::SocketAddr;
use std::ops::Range;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};

use crate::config::{AccessLog as AccessLogConfig, AccessLogFormat};
use crate::http1::{HeaderKind, RequestHead};

/// A line buffer larger than this is not recycled (one huge User-Agent must not pin memory).
const MAX_RECYCLED: usize = 16 * 1024;

/// Capacity a fresh line buffer starts with.
const LINE_CAPACITY: usize = 512;

/// The writer's poll interval while lines arrive, and its longest sleep when idle (it doubles up to this).
const BUSY_POLL: Duration = Duration::from_millis(2);
const IDLE_POLL: Duration = Duration::from_millis(20);

/// How long [`AccessLog::finish`] waits for the last lines to be written.
pub const FINISH_WAIT: Duration = Duration::from_secs(3);

/// Lines taken from one worker's queue per round before the next queue gets its turn.
const PER_ROUND: usize = 4096;

/// The writer writes what it has gathered once it reaches this many bytes.
const WRITE_AT: usize = 256 * 1024;

/// One worker's end of the access log: its line queue and its spare buffers.
#[derive(Debug)]
pub struct LogSender {
    format: AccessLogFormat,
    lines: Sender<Vec<u8>>,
    spare_rx: Receiver<Vec<u8>>,
    spare_tx: Sender<Vec<u8>>,
    worker: u64,
    workers: u64,
}

impl LogSender {
    /// The configured format.
    #[inline]
    pub fn format(&self) -> AccessLogFormat {
        self.format
    }

    /// An empty buffer to format a line into: a recycled one when there is one.
    #[inline]
    pub fn buffer(&self) -> Vec<u8> {
        match self.spare_rx.try_recv() {
            Ok(mut b) => {
                b.clear();
                b
            }
            Err(_) => Vec::with_capacity(LINE_CAPACITY),
        }
    }

    /// Hands a line to the writer without waiting. `false`: the queue was full and the line was dropped (its buffer
    /// is kept for reuse).
    #[inline]
    pub fn send(&self, line: Vec<u8>) -> bool {
        match self.lines.try_send(line) {
            Ok(()) => true,
            Err(TrySendError::Full(mut b) | TrySendError::Disconnected(mut b)) => {
                b.clear();
                let _ = self.spare_tx.try_send(b);
                false
            }
        }
    }

    /// Traefik's `RequestCount` for this worker's `seq`-th line (1-based): unique across workers.
    #[inline]
    pub fn request_count(&self, seq: u64) -> u64 {
        seq.saturating_sub(1)
            .wrapping_mul(self.workers)
            .wrapping_add(self.worker + 1)
    }
}

/// Every worker's sender, by worker index.
#[derive(Debug)]
pub struct AccessLogSenders {
    senders: Box<[LogSender]>,
}

impl AccessLogSenders {
    /// Worker `i`'s sender.
    pub fn worker(&self, i: usize) -> Option<&LogSender> {
        self.senders.get(i)
    }
}

/// The running writer thread. [`AccessLog::finish`] drains the queues and stops it.
#[derive(Debug)]
pub struct AccessLog {
    thread: Option<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
}

/// Where lines go.
enum Output {
    Stdout,
    File { path: PathBuf, file: File },
}

impl Output {
    fn open(path: &Path) -> io::Result<File> {
        OpenOptions::new().create(true).append(true).mode(0o640).open(path)
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Output::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(bytes)?;
                out.flush()
            }
            Output::File { file, .. } => file.write_all(bytes),
        }
    }

    fn reopen(&mut self) {
        if let Output::File { path, file } = self {
            match Output::open(path) {
                Ok(f) => {
                    *file = f;
                    log::info!("access log: reopened {}", path.display());
                }
                Err(e) => log::error!(
                    "access log: cannot reopen {}: {e}; still writing to the old file",
                    path.display()
                ),
            }
        }
    }
}

impl AccessLog {
    /// Opens the output (creating the file and its directory, as Traefik does), and starts the writer thread with
    /// one queue per worker. `reopen` is the flag a SIGUSR1 handler sets.
    ///
    /// # Errors
    ///
    /// When the file cannot be opened or the thread cannot start.
    pub fn start(
        cfg: &AccessLogConfig,
        workers: usize,
        reopen: Arc<AtomicBool>,
    ) -> io::Result<(AccessLog, AccessLogSenders)> {
        let output = match &cfg.file_path {
            None => Output::Stdout,
            Some(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| io::Error::new(e.kind(), format!("cannot create {}: {e}", dir.display())))?;
                }
                let file = Output::open(path)
                    .map_err(|e| io::Error::new(e.kind(), format!("cannot open {}: {e}", path.display())))?;
                Output::File {
                    path: path.clone(),
                    file,
                }
            }
        };
        let (senders, receivers) = queues(cfg.format, workers, cfg.buffering_size);
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("ringress-access-log".into())
                .spawn(move || write_loop(output, receivers, reopen, stop))?
        };
        Ok((
            AccessLog {
                thread: Some(thread),
                stop,
            },
            senders,
        ))
    }

    /// Writes every line still queued, then stops the writer. Call after the workers have stopped. Waits at most
    /// [`FINISH_WAIT`] for an output that does not take writes (a full pipe): shutdown never hangs on the log.
    pub fn finish(mut self) {
        self.stop.store(true, Ordering::Release);
        let Some(t) = self.thread.take() else {
            return;
        };
        let deadline = Instant::now() + FINISH_WAIT;
        while !t.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        if t.is_finished() {
            let _ = t.join();
        } else {
            log::warn!("access log: output still blocked after {FINISH_WAIT:?}; queued lines are lost");
        }
    }
}

/// The writer's end of one worker's queues.
struct Queue {
    lines: Receiver<Vec<u8>>,
    spare: Sender<Vec<u8>>,
}

/// One line queue and one spare-buffer queue per worker, `capacity` lines each.
fn queues(format: AccessLogFormat, workers: usize, capacity: usize) -> (AccessLogSenders, Vec<Queue>) {
    let capacity = capacity.max(1);
    let mut senders = Vec::with_capacity(workers);
    let mut receivers = Vec::with_capacity(workers);
    for worker in 0..workers {
        let (lines, lines_rx) = bounded(capacity);
        let (spare_tx, spare_rx) = bounded(capacity);
        senders.push(LogSender {
            format,
            lines,
            spare_rx,
            spare_tx: spare_tx.clone(),
            worker: worker as u64,
            workers: workers.max(1) as u64,
        });
        receivers.push(Queue {
            lines: lines_rx,
            spare: spare_tx,
        });
    }
    (
        AccessLogSenders {
            senders: senders.into_boxed_slice(),
        },
        receivers,
    )
}

fn write_loop(mut out: Output, queues: Vec<Queue>, reopen: Arc<AtomicBool>, stop: Arc<AtomicBool>) {
    let mut batch: Vec<u8> = Vec::with_capacity(WRITE_AT + 4096);
    let mut sleep = BUSY_POLL;
    let mut last_error: Option<Instant> = None;
    let mut flush = |out: &mut Output, batch: &mut Vec<u8>| {
        if batch.is_empty() {
            return;
        }
        if let Err(e) = out.write(batch) {
            // At most one line a minute about a failing output.
            if last_error.is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
                log::error!("access log: write failed: {e}; lines are lost until it works again");
                last_error = Some(Instant::now());
            }
        }
        batch.clear();
    };
    loop {
        if reopen.swap(false, Ordering::AcqRel) {
            flush(&mut out, &mut batch);
            out.reopen();
        }
        let stopping = stop.load(Ordering::Acquire);
        let mut got = 0usize;
        for q in &queues {
            for _ in 0..PER_ROUND {
                let Ok(mut line) = q.lines.try_recv() else {
                    break;
                };
                got += 1;
                batch.extend_from_slice(&line);
                if line.capacity() <= MAX_RECYCLED {
                    line.clear();
                    let _ = q.spare.try_send(line);
                }
                if batch.len() >= WRITE_AT {
                    flush(&mut out, &mut batch);
                }
            }
        }
        flush(&mut out, &mut batch);
        if got == 0 && stopping {
            return;
        }
        sleep = if got > 0 { BUSY_POLL } else { (sleep * 2).min(IDLE_POLL) };
        if !stopping {
            std::thread::sleep(sleep);
        }
    }
}

/// Everything one line says about a request, borrowed from the connection's [`Captured`] fields.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// When the request head was complete.
    pub start: SystemTime,
    /// From then to the end of the response.
    pub duration: Duration,
    /// The captured request fields (and the client's address, see [`Captured::set_client`]).
    pub request: &'a Captured,
    /// `http` or `https`.
    pub scheme: &'static str,
    /// The status the client got (499: none, the client went away).
    pub status: u16,
    /// The upstream's status, 0 when no upstream answered.
    pub origin_status: u16,
    /// Response body bytes written to the client.
    pub body_sent: u64,
    /// Request body bytes read from the client.
    pub body_received: u64,
    /// Traefik's `RequestCount`.
    pub count: u64,
    /// The entrypoint's name.
    pub entrypoint: &'a str,
    /// Requests sent again on a fresh upstream connection after a pooled one was found dead.
    pub retries: u32,
}

/// A request's fields, copied out of the connection buffer before forwarding reuses it, and the connection's
/// client address already formatted. One per connection, refilled for every request (keeps its capacity).
#[derive(Debug, Default, Clone)]
pub struct Captured {
    buf: Vec<u8>,
    method: Range<usize>,
    path: Range<usize>,
    query: Option<Range<usize>>,
    host: Option<Range<usize>>,
    referer: Option<Range<usize>>,
    user_agent: Option<Range<usize>>,
    router: Option<Range<usize>>,
    service: Range<usize>,
    server: Range<usize>,
    version_minor: u8,
    /// `ip:port` (`[v6]:port`), then the IP alone and the port alone, as text.
    client: Vec<u8>,
    client_ip: Range<usize>,
    client_port: Range<usize>,
}

impl Captured {
    fn push(&mut self, bytes: &[u8]) -> Range<usize> {
        let start = self.buf.len();
        self.buf.extend_from_slice(bytes);
        start..self.buf.len()
    }

    fn get(&self, r: &Range<usize>) -> &[u8] {
        self.buf.get(r.clone()).unwrap_or_default()
    }

    /// Formats the connection's client address once (it does not change between requests).
    pub fn set_client(&mut self, peer: SocketAddr) {
        let ip = peer.ip().to_canonical();
        let peer = SocketAddr::new(ip, peer.port());
        self.client.clear();
        let _ = write!(self.client, "{peer}");
        let start = self.client.len();
        let _ = write!(self.client, "{ip}");
        self.client_ip = start..self.client.len();
        let start = self.client.len();
        push_u64(&mut self.client, u64::from(peer.port()));
        self.client_port = start..self.client.len();
    }

    fn client_addr(&self) -> &[u8] {
        self.client.get(..self.client_ip.start).unwrap_or_default()
    }

    fn client_ip(&self) -> &[u8] {
        self.client.get(self.client_ip.clone()).unwrap_or(b"-")
    }

    fn client_port(&self) -> &[u8] {
        self.client.get(self.client_port.clone()).unwrap_or(b"-")
    }

    /// Copies what the log needs from a parsed head (`buf` is the buffer it was parsed from).
    pub fn capture(&mut self, head: &RequestHead, buf: &[u8]) {
        self.buf.clear();
        self.method = self.push(head.method_span.get(buf));
        self.path = self.push(head.path.get(buf));
        self.query = head.query.map(|q| self.push(q.get(buf)));
        self.host = head.host.map(|h| self.push(h.get(buf)));
        self.referer = None;
        self.user_agent = None;
        for h in head.headers.iter().filter(|h| h.kind == HeaderKind::Other) {
            let name = h.name.get(buf);
            if self.referer.is_none() && name.eq_ignore_ascii_case(b"referer") {
                self.referer = Some(self.push(h.value.get(buf)));
            } else if self.user_agent.is_none() && name.eq_ignore_ascii_case(b"user-agent") {
                self.user_agent = Some(self.push(h.value.get(buf)));
            }
        }
        self.router = None;
        self.version_minor = head.version_minor;
    }

    /// Records the router, service and server the request was sent to.
    pub fn route(&mut self, router: &str, service: &str, server: &str) {
        self.router = Some(self.push(router.as_bytes()));
        self.service = self.push(service.as_bytes());
        self.server = self.push(server.as_bytes());
    }
}

impl Entry<'_> {
    /// Appends the line (with its newline) in `format` to `out`.
    pub fn write(&self, format: AccessLogFormat, out: &mut Vec<u8>) {
        match format {
            AccessLogFormat::Common => self.write_clf(out, true),
            AccessLogFormat::GenericClf => self.write_clf(out, false),
            AccessLogFormat::Json => self.write_json(out),
        }
    }

    fn write_clf(&self, out: &mut Vec<u8>, traefik: bool) {
        let r = self.request;
        out.reserve(128 + r.buf.len() + r.client.len());
        out.extend_from_slice(r.client_ip());
        out.extend_from_slice(b" - - [");
        with_clock(self.start, |c| out.extend_from_slice(&c.clf));
        out.extend_from_slice(b"] \"");
        push_clf(out, r.get(&r.method));
        out.push(b' ');
        push_clf_or_dash(out, r.get(&r.path));
        if let Some(q) = &r.query {
            out.push(b'?');
            push_clf(out, r.get(q));
        }
        out.extend_from_slice(if r.version_minor == 0 {
            b" HTTP/1.0\" "
        } else {
            b" HTTP/1.1\" "
        });
        push_u64(out, u64::from(self.status));
        out.push(b' ');
        push_u64(out, self.body_sent);
        out.push(b' ');
        push_quoted_clf(out, r.referer.as_ref().map(|x| r.get(x)));
        out.push(b' ');
        push_quoted_clf(out, r.user_agent.as_ref().map(|x| r.get(x)));
        if traefik {
            out.push(b' ');
            push_u64(out, self.count);
            out.push(b' ');
            push_quoted_clf(out, r.router.as_ref().map(|x| r.get(x)));
            out.push(b' ');
            match &r.router {
                Some(_) => {
                    out.extend_from_slice(b"\"http://");
                    push_clf(out, r.get(&r.server));
                    out.push(b'"');
                }
                None => out.extend_from_slice(b"\"-\""),
            }
            out.push(b' ');
            push_u64(out, u64::try_from(self.duration.as_millis()).unwrap_or(u64::MAX));
            out.extend_from_slice(b"ms");
        }
        out.push(b'\n');
    }

    fn write_json(&self, out: &mut Vec<u8>) {
        let r = self.request;
        out.reserve(640 + r.buf.len() + r.client.len() + self.entrypoint.len());
        out.extend_from_slice(b"{\"ClientAddr\":\"");
        out.extend_from_slice(r.client_addr());
        out.extend_from_slice(b"\",\"ClientHost\":\"");
        out.extend_from_slice(r.client_ip());
        out.extend_from_slice(b"\",\"ClientPort\":\"");
        out.extend_from_slice(r.client_port());
        out.extend_from_slice(b"\",\"ClientUsername\":\"-\"");
        json_num(out, "DownstreamContentSize", self.body_sent);
        json_num(out, "DownstreamStatus", u64::from(self.status));
        json_num(
            out,
            "Duration",
            u64::try_from(self.duration.as_nanos()).unwrap_or(u64::MAX),
        );
        if self.origin_status != 0 {
            json_num(out, "OriginStatus", u64::from(self.origin_status));
        }
        let host = r.host.as_ref().map(|h| r.get(h));
        if let Some(addr) = host {
            json_field(out, "RequestAddr", addr);
        }
        json_num(out, "RequestContentSize", self.body_received);
        json_num(out, "RequestCount", self.count);
        let split = host.map(split_host_port);
        if let Some((name, _)) = split {
            json_field(out, "RequestHost", name);
        }
        json_field(out, "RequestMethod", r.get(&r.method));
        out.extend_from_slice(b",\"RequestPath\":\"");
        push_json_str(out, r.get(&r.path));
        if let Some(q) = &r.query {
            out.push(b'?');
            push_json_str(out, r.get(q));
        }
        out.push(b'"');
        if let Some((_, port)) = split {
            json_field(out, "RequestPort", port.unwrap_or(b"-"));
        }
        out.extend_from_slice(if r.version_minor == 0 {
            b",\"RequestProtocol\":\"HTTP/1.0\""
        } else {
            b",\"RequestProtocol\":\"HTTP/1.1\""
        });
        json_field(out, "RequestScheme", self.scheme.as_bytes());
        json_num(out, "RetryAttempts", u64::from(self.retries));
        if let Some(router) = &r.router {
            json_field(out, "RouterName", r.get(router));
            json_field(out, "ServiceAddr", r.get(&r.server));
            json_field(out, "ServiceName", r.get(&r.service));
            out.extend_from_slice(b",\"ServiceURL\":\"http://");
            push_json_str(out, r.get(&r.server));
            out.push(b'"');
        }
        out.extend_from_slice(b",\"StartUTC\":\"");
        with_clock(self.start, |c| out.extend_from_slice(&c.rfc3339));
        push_nanos_fraction(out, self.start);
        out.extend_from_slice(b"Z\"");
        json_field(out, "entryPointName", self.entrypoint.as_bytes());
        out.extend_from_slice(b",\"level\":\"info\",\"msg\":\"\"");
        if let Some(x) = &r.referer {
            json_field(out, "request_Referer", r.get(x));
        }
        if let Some(x) = &r.user_agent {
            json_field(out, "request_User-Agent", r.get(x));
        }
        out.extend_from_slice(b",\"time\":\"");
        with_clock(self.start + self.duration, |c| out.extend_from_slice(&c.rfc3339));
        out.extend_from_slice(b"Z\"}\n");
    }
}

/// `host[:port]` → (host, port); an IPv6 literal loses its brackets, as Go's `SplitHostPort` does.
fn split_host_port(addr: &[u8]) -> (&[u8], Option<&[u8]>) {
    if let Some(rest) = addr.strip_prefix(b"[") {
        if let Some(end) = rest.iter().position(|&b| b == b']') {
            let host = rest.get(..end).unwrap_or_default();
            let port = rest.get(end + 1..).and_then(|p| p.strip_prefix(b":"));
            return (host, port);
        }
        return (addr, None);
    }
    match addr.iter().rposition(|&b| b == b':') {
        Some(i) => (addr.get(..i).unwrap_or_default(), addr.get(i + 1..)),
        None => (addr, None),
    }
}

fn json_field(out: &mut Vec<u8>, key: &str, value: &[u8]) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":\"");
    push_json_str(out, value);
    out.push(b'"');
}

fn json_num(out: &mut Vec<u8>, key: &str, value: u64) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
    push_u64(out, value);
}

/// Appends `n` in decimal (without going through `fmt`).
fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `s` escaped for a JSON string. Invalid UTF-8 becomes U+FFFD.
fn push_json_str(out: &mut Vec<u8>, s: &[u8]) {
    match std::str::from_utf8(s) {
        Ok(_) => push_escaped(out, s, json_plain, json_escape),
        Err(_) => push_escaped(out, String::from_utf8_lossy(s).as_bytes(), json_plain, json_escape),
    }
}

/// Bytes a JSON string holds as they are (valid UTF-8 is checked before).
#[inline]
fn json_plain(b: u8) -> bool {
    (b >= 0x20) & (b != 0x7f) & (b != b'"') & (b != b'\\')
}

fn json_escape(out: &mut Vec<u8>, b: u8) {
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        _ => {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[(b >> 4) as usize]);
            out.push(HEX[(b & 0xf) as usize]);
        }
    }
}

/// Appends `s` for a CLF line: `"` and `\` backslash-escaped, control and non-ASCII bytes as `\xHH`.
fn push_clf(out: &mut Vec<u8>, s: &[u8]) {
    push_escaped(out, s, clf_plain, clf_escape);
}

/// Bytes a CLF field holds as they are.
#[inline]
fn clf_plain(b: u8) -> bool {
    (0x20..=0x7e).contains(&b) & (b != b'"') & (b != b'\\')
}

fn clf_escape(out: &mut Vec<u8>, b: u8) {
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        _ => {
            out.extend_from_slice(b"\\x");
            out.push(HEX[(b >> 4) as usize]);
            out.push(HEX[(b & 0xf) as usize]);
        }
    }
}

/// Copies runs of `plain` bytes whole and `escape`s the others.
#[inline]
fn push_escaped(out: &mut Vec<u8>, s: &[u8], plain: impl Fn(u8) -> bool, escape: impl Fn(&mut Vec<u8>, u8)) {
    // Nearly every field needs no escaping: check the whole field without branching (this vectorizes), copy it.
    if s.iter().fold(true, |ok, &b| ok & plain(b)) {
        out.extend_from_slice(s);
        return;
    }
    let mut rest = s;
    loop {
        let n = rest.iter().take_while(|&&b| plain(b)).count();
        let (run, tail) = rest.split_at(n);
        out.extend_from_slice(run);
        let Some((&b, after)) = tail.split_first() else {
            return;
        };
        escape(out, b);
        rest = after;
    }
}

fn push_clf_or_dash(out: &mut Vec<u8>, s: &[u8]) {
    if s.is_empty() {
        out.push(b'-');
    } else {
        push_clf(out, s);
    }
}

/// `"value"`, or `"-"` when absent or empty (Traefik's default for these fields).
fn push_quoted_clf(out: &mut Vec<u8>, s: Option<&[u8]>) {
    out.push(b'"');
    match s {
        Some(v) if !v.is_empty() => push_clf(out, v),
        _ => out.push(b'-'),
    }
    out.push(b'"');
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// One second of wall-clock time, formatted both ways (UTC).
struct Clock {
    secs: u64,
    /// `02/Jan/2006:15:04:05 +0000`
    clf: [u8; 26],
    /// `2006-01-02T15:04:05` (the caller adds a fraction and `Z`)
    rfc3339: [u8; 19],
}

impl Clock {
    const fn empty() -> Clock {
        Clock {
            secs: u64::MAX,
            clf: [b'-'; 26],
            rfc3339: [b'-'; 19],
        }
    }

    fn set(&mut self, secs: u64) {
        let (y, mo, d, h, mi, s) = civil(secs);
        let month = MONTHS.get((mo as usize).wrapping_sub(1)).copied().unwrap_or(b"Jan");
        let mut clf = Vec::with_capacity(26);
        let _ = write!(clf, "{d:02}/");
        clf.extend_from_slice(month);
        let _ = write!(clf, "/{y:04}:{h:02}:{mi:02}:{s:02} +0000");
        let mut rfc = Vec::with_capacity(19);
        let _ = write!(rfc, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
        // Years outside 0..=9999 would not fit: leave the dashes rather than panic.
        if let (Ok(clf), Ok(rfc)) = (clf.try_into(), rfc.try_into()) {
            self.clf = clf;
            self.rfc3339 = rfc;
        }
        self.secs = secs;
    }
}

thread_local! {
    /// The last second formatted on this thread: a worker formats its date once a second, not once a line.
    static CLOCK: std::cell::RefCell<Clock> = const { std::cell::RefCell::new(Clock::empty()) };
}

/// Runs `f` with `t`'s second formatted (from this thread's cache when it is the same second).
fn with_clock(t: SystemTime, f: impl FnOnce(&Clock)) {
    let secs = t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    CLOCK.with(|c| match c.try_borrow_mut() {
        Ok(mut c) => {
            if c.secs != secs {
                c.set(secs);
            }
            f(&c);
        }
        Err(_) => {
            let mut fresh = Clock::empty();
            fresh.set(secs);
            f(&fresh);
        }
    });
}

/// (year, month 1..=12, day, hour, minute, second) of `secs` after the epoch, in UTC.
fn civil(secs: u64) -> (i64, u32, u32, u64, u64, u64) {
    let rem = secs % 86_400;
    let (year, month, day) = crate::civil::civil_from_days((secs / 86_400) as i64);
    (year, month, day, rem / 3600, (rem / 60) % 60, rem % 60)
}

/// Go's RFC3339Nano fraction of `t`: `.` and the nanoseconds without trailing zeros; nothing on a whole second.
fn push_nanos_fraction(out: &mut Vec<u8>, t: SystemTime) {
    let ns = t.duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    if ns == 0 {
        return;
    }
    let mut digits = [b'0'; 9];
    let mut n = ns;
    for d in digits.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
    let end = digits.iter().rposition(|&d| d != b'0').map_or(0, |i| i + 1);
    out.push(b'.');
    out.extend_from_slice(&digits[..end]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http1::{parse_request, Limits, Parsed};

    fn captured(req: &[u8]) -> Captured {
        let mut head = RequestHead::default();
        let limits = Limits::default();
        assert!(matches!(parse_request(req, &limits, &mut head), Ok(Parsed::Complete)));
        let mut c = Captured::default();
        c.capture(&head, req);
        c.set_client("10.0.0.1:41234".parse().expect("addr"));
        c
    }

    fn entry<'a>(c: &'a Captured, status: u16) -> Entry<'a> {
        Entry {
            start: UNIX_EPOCH + Duration::new(1_257_894_000, 120_000_000),
            duration: Duration::from_micros(12_345),
            request: c,
            scheme: "http",
            status,
            origin_status: status,
            body_sent: 132,
            body_received: 0,
            count: 7,
            entrypoint: "web",
            retries: 0,
        }
    }

    #[test]
    fn common_format_matches_traefik() {
        let mut c = captured(
            b"GET /foo?x=1 HTTP/1.1\r\nHost: a.test\r\nReferer: http://r/\r\nUser-Agent: curl/8 \"q\"\r\n\r\n",
        );
        c.route("app@http", "app@http", "10.0.0.2:8080");
        let mut out = Vec::new();
        entry(&c, 200).write(AccessLogFormat::Common, &mut out);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "10.0.0.1 - - [10/Nov/2009:23:00:00 +0000] \"GET /foo?x=1 HTTP/1.1\" 200 132 \"http://r/\" \"curl/8 \\\"q\\\"\" 7 \"app@http\" \"http://10.0.0.2:8080\" 12ms\n"
        );
        out.clear();
        entry(&c, 200).write(AccessLogFormat::GenericClf, &mut out);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "10.0.0.1 - - [10/Nov/2009:23:00:00 +0000] \"GET /foo?x=1 HTTP/1.1\" 200 132 \"http://r/\" \"curl/8 \\\"q\\\"\"\n"
        );
    }

    #[test]
    fn common_format_without_route_or_headers() {
        let c = captured(b"POST /x HTTP/1.0\r\n\r\n");
        let mut out = Vec::new();
        entry(&c, 404).write(AccessLogFormat::Common, &mut out);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "10.0.0.1 - - [10/Nov/2009:23:00:00 +0000] \"POST /x HTTP/1.0\" 404 132 \"-\" \"-\" 7 \"-\" \"-\" 12ms\n"
        );
    }

    #[test]
    fn json_format_has_traefik_fields() {
        let mut c =
            captured(b"GET /p?q=%221 HTTP/1.1\r\nHost: a.test:8080\r\nUser-Agent: ua\t\"x\" \\ \xc3\xa9\xff\r\n\r\n");
        c.route("r@routes", "s@routes", "127.0.0.1:9");
        let mut out = Vec::new();
        entry(&c, 502).write(AccessLogFormat::Json, &mut out);
        assert_eq!(out.last(), Some(&b'\n'));
        let v: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        assert_eq!(v["ClientHost"], "10.0.0.1");
        assert_eq!(v["ClientAddr"], "10.0.0.1:41234");
        assert_eq!(v["ClientPort"], "41234");
        assert_eq!(v["DownstreamStatus"], 502);
        assert_eq!(v["DownstreamContentSize"], 132);
        assert_eq!(v["Duration"], 12_345_000);
        assert_eq!(v["RequestHost"], "a.test");
        assert_eq!(v["RequestPort"], "8080");
        assert_eq!(v["RequestAddr"], "a.test:8080");
        assert_eq!(v["RequestMethod"], "GET");
        assert_eq!(v["RequestPath"], "/p?q=%221");
        assert_eq!(v["RequestProtocol"], "HTTP/1.1");
        assert_eq!(v["RouterName"], "r@routes");
        assert_eq!(v["ServiceURL"], "http://127.0.0.1:9");
        assert_eq!(v["ServiceAddr"], "127.0.0.1:9");
        assert_eq!(v["StartUTC"], "2009-11-10T23:00:00.12Z");
        assert_eq!(v["entryPointName"], "web");
        assert_eq!(v["request_User-Agent"], "ua\t\"x\" \\ \u{e9}\u{fffd}");
        assert_eq!(v["RequestCount"], 7);
        assert!(v.get("request_Referer").is_none());
    }

    #[test]
    fn ipv6_clients_and_hosts() {
        let mut c = captured(b"GET / HTTP/1.1\r\nHost: [::1]:443\r\n\r\n");
        c.set_client("[::1]:5000".parse().expect("addr"));
        let e = entry(&c, 200);
        let mut out = Vec::new();
        e.write(AccessLogFormat::Json, &mut out);
        let v: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        assert_eq!(v["ClientAddr"], "[::1]:5000");
        assert_eq!(v["ClientHost"], "::1");
        assert_eq!(v["ClientPort"], "5000");
        assert_eq!(v["RequestHost"], "::1");
        assert_eq!(v["RequestPort"], "443");
        out.clear();
        e.write(AccessLogFormat::Common, &mut out);
        assert!(out.starts_with(b"::1 - - ["), "{}", String::from_utf8_lossy(&out));
    }

    #[test]
    fn clf_escapes_control_and_non_ascii_bytes() {
        let mut out = Vec::new();
        push_clf(&mut out, b"a\"b\\c\x1b\xc3\xa9 d");
        assert_eq!(out, b"a\\\"b\\\\c\\x1b\\xc3\\xa9 d");
    }

    #[test]
    fn times_like_go() {
        let t = UNIX_EPOCH + Duration::new(951_782_400, 0);
        with_clock(t, |c| {
            assert_eq!(&c.rfc3339, b"2000-02-29T00:00:00");
            assert_eq!(&c.clf, b"29/Feb/2000:00:00:00 +0000");
        });
        let mut out = Vec::new();
        push_nanos_fraction(&mut out, t);
        assert_eq!(out, b"");
        push_nanos_fraction(&mut out, UNIX_EPOCH + Duration::new(0, 1));
        assert_eq!(out, b".000000001");
        out.clear();
        push_nanos_fraction(&mut out, UNIX_EPOCH + Duration::new(0, 120_000_000));
        assert_eq!(out, b".12");
        // The cache follows the clock.
        with_clock(UNIX_EPOCH + Duration::from_secs(1_795_000_000), |c| {
            assert_eq!(&c.clf, b"18/Nov/2026:11:06:40 +0000");
        });
        out.clear();
        for n in [0, 7, 10, 12_345, u64::MAX] {
            out.clear();
            push_u64(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }

    #[test]
    fn a_full_queue_drops_without_blocking_and_recycles_buffers() {
        let (senders, receivers) = queues(AccessLogFormat::Common, 2, 4);
        let Some(s) = senders.worker(1) else {
            panic!("no sender");
        };
        let t = Instant::now();
        let mut sent = 0;
        for _ in 0..100 {
            let mut b = s.buffer();
            b.extend_from_slice(b"line\n");
            if s.send(b) {
                sent += 1;
            }
        }
        assert_eq!(sent, 4);
        assert!(t.elapsed() < Duration::from_secs(1));
        // Dropped lines' buffers came back for reuse.
        assert!(s.buffer().capacity() >= LINE_CAPACITY);
        assert_eq!(receivers.get(1).map(|q| q.lines.len()), Some(4));
        assert_eq!(s.request_count(1), 2);
        assert_eq!(s.request_count(2), 4);
    }

    #[test]
    fn writer_drains_and_reopens() {
        let dir = std::env::temp_dir().join(format!("ringress-access-log-unit-{}", std::process::id()));
        let path = dir.join("sub").join("access.log");
        let cfg = AccessLogConfig {
            file_path: Some(path.clone()),
            format: AccessLogFormat::Common,
            buffering_size: 16,
        };
        let reopen = Arc::new(AtomicBool::new(false));
        let (log, senders) = AccessLog::start(&cfg, 1, reopen.clone()).expect("start");
        let Some(s) = senders.worker(0) else {
            panic!("no sender");
        };
        let send = |text: &str| {
            let mut b = s.buffer();
            b.extend_from_slice(text.as_bytes());
            assert!(s.send(b));
        };
        send("one\n");
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::fs::read_to_string(&path).unwrap_or_default() != "one\n" {
            assert!(Instant::now() < deadline, "first line never written");
            std::thread::sleep(Duration::from_millis(5));
        }
        let rotated = dir.join("access.log.1");
        std::fs::rename(&path, &rotated).expect("rename");
        reopen.store(true, Ordering::Release);
        while !path.exists() {
            assert!(Instant::now() < deadline, "file not reopened");
            std::thread::sleep(Duration::from_millis(5));
        }
        send("two\n");
        log.finish();
        assert_eq!(std::fs::read_to_string(&path).unwrap_or_default(), "two\n");
        assert_eq!(std::fs::read_to_string(&rotated).unwrap_or_default(), "one\n");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
