//! Buffered, timeout-aware reading of HTTP/1.1 framing from a `TcpStream`, shared by the
//! raw client and the upstream servers.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Read buffer size (also the largest piece handed to a body sink).
pub const READ_BUF: usize = 256 * 1024;
/// Longest line (request/status line, header line, chunk-size line) accepted.
pub const MAX_LINE: usize = 128 * 1024;

pub struct Wire {
    pub stream: TcpStream,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// Upstream side: every byte read is added here.
    counter: Option<Arc<AtomicU64>>,
    /// Upstream side: socket read timeouts are short polls; give up when this is set or
    /// after `idle_limit` without data.
    stop: Option<Arc<AtomicBool>>,
    idle_limit: Duration,
}

fn other(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

impl Wire {
    /// Client side: socket timeouts are errors.
    pub fn new(stream: TcpStream) -> Wire {
        Wire {
            stream,
            buf: vec![0; READ_BUF],
            pos: 0,
            end: 0,
            counter: None,
            stop: None,
            idle_limit: Duration::ZERO,
        }
    }

    /// Server side: the socket must have a short read timeout; reads retry until data
    /// arrives, `stop` is set, or `idle_limit` passes without data.
    pub fn server(stream: TcpStream, counter: Arc<AtomicU64>, stop: Arc<AtomicBool>, idle_limit: Duration) -> Wire {
        let mut w = Wire::new(stream);
        w.counter = Some(counter);
        w.stop = Some(stop);
        w.idle_limit = idle_limit;
        w
    }

    pub fn buffered(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    pub fn consume(&mut self, n: usize) {
        assert!(n <= self.end - self.pos);
        self.pos += n;
    }

    /// Reads more bytes into the buffer; returns how many (0 = EOF).
    pub fn fill(&mut self) -> io::Result<usize> {
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
        } else if self.end == self.buf.len() {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.end == self.buf.len() {
            return Err(other("read buffer full"));
        }
        let started = Instant::now();
        loop {
            match self.stream.read(&mut self.buf[self.end..]) {
                Ok(n) => {
                    if let Some(c) = &self.counter {
                        c.fetch_add(n as u64, Ordering::SeqCst);
                    }
                    self.end += n;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e)
                    if self.stop.is_some()
                        && matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) =>
                {
                    if self.stop.as_ref().is_some_and(|s| s.load(Ordering::SeqCst)) {
                        return Err(io::Error::new(io::ErrorKind::TimedOut, "stopped"));
                    }
                    if started.elapsed() > self.idle_limit {
                        return Err(e);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// One line without its line ending (CRLF or LF). `Ok(None)` on EOF before any byte.
    pub fn read_line(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut scanned = 0;
        loop {
            if let Some(i) = self.buffered()[scanned..].iter().position(|&b| b == b'\n') {
                let at = scanned + i;
                let mut line = self.buffered()[..at].to_vec();
                self.consume(at + 1);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(Some(line));
            }
            scanned = self.buffered().len();
            if scanned > MAX_LINE {
                return Err(other("line too long"));
            }
            if self.fill()? == 0 {
                if self.buffered().is_empty() {
                    return Ok(None);
                }
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "EOF in the middle of a line",
                ));
            }
        }
    }

    /// Lines up to the empty line. `Ok(None)` on a clean EOF before the first byte.
    pub fn read_head(&mut self, max_bytes: usize) -> io::Result<Option<Vec<Vec<u8>>>> {
        let mut lines = Vec::new();
        let mut total = 0;
        loop {
            match self.read_line()? {
                None if lines.is_empty() => return Ok(None),
                None => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "EOF inside a message head",
                    ))
                }
                Some(line) if line.is_empty() => return Ok(Some(lines)),
                Some(line) => {
                    total += line.len() + 2;
                    if total > max_bytes {
                        return Err(other("message head too large"));
                    }
                    lines.push(line);
                }
            }
        }
    }

    /// Exactly `n` body bytes, handed to `sink` in pieces of at most `READ_BUF`.
    pub fn read_exact_sink(&mut self, mut n: u64, sink: &mut dyn FnMut(&[u8])) -> io::Result<()> {
        while n > 0 {
            if self.buffered().is_empty() && self.fill()? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("EOF with {n} body bytes missing"),
                ));
            }
            let take = (self.buffered().len() as u64).min(n) as usize;
            sink(&self.buf[self.pos..self.pos + take]);
            self.consume(take);
            n -= take as u64;
        }
        Ok(())
    }

    pub fn read_exact_vec(&mut self, n: usize) -> io::Result<Vec<u8>> {
        let mut v = Vec::with_capacity(n);
        self.read_exact_sink(n as u64, &mut |d| v.extend_from_slice(d))?;
        Ok(v)
    }

    /// Everything until EOF.
    pub fn read_to_eof_sink(&mut self, sink: &mut dyn FnMut(&[u8])) -> io::Result<()> {
        loop {
            if !self.buffered().is_empty() {
                let n = self.buffered().len();
                sink(&self.buf[self.pos..self.pos + n]);
                self.consume(n);
            }
            if self.fill()? == 0 {
                return Ok(());
            }
        }
    }

    /// A chunked body (strict: hex sizes only, CRLF after data). Returns the trailer fields.
    pub fn read_chunked_sink(&mut self, sink: &mut dyn FnMut(&[u8])) -> io::Result<Vec<(String, String)>> {
        loop {
            let line = self
                .read_line()?
                .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "EOF at chunk size"))?;
            let size_part = match line.iter().position(|&b| b == b';') {
                Some(i) => &line[..i],
                None => &line[..],
            };
            let size_str = std::str::from_utf8(size_part)
                .map_err(|_| other("chunk size not UTF-8"))?
                .trim_matches(|c| c == ' ' || c == '\t');
            if size_str.is_empty() || !size_str.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(other(format!("invalid chunk size {size_str:?}")));
            }
            let size =
                u64::from_str_radix(size_str, 16).map_err(|_| other(format!("chunk size overflow {size_str:?}")))?;
            if size == 0 {
                let mut trailers = Vec::new();
                loop {
                    let t = self
                        .read_line()?
                        .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "EOF in trailers"))?;
                    if t.is_empty() {
                        return Ok(trailers);
                    }
                    trailers.push(parse_field(&t).ok_or_else(|| other("bad trailer field"))?);
                }
            }
            self.read_exact_sink(size, sink)?;
            let crlf = self.read_line()?.unwrap_or_default();
            if !crlf.is_empty() {
                return Err(other("missing CRLF after chunk data"));
            }
        }
    }

    pub fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.stream.write_all(data)
    }
}

/// `Name: value` → (name, trimmed value). `None` if there is no colon or the name is empty.
pub fn parse_field(line: &[u8]) -> Option<(String, String)> {
    let colon = line.iter().position(|&b| b == b':')?;
    if colon == 0 {
        return None;
    }
    let name = String::from_utf8_lossy(&line[..colon]).into_owned();
    let value = String::from_utf8_lossy(&line[colon + 1..])
        .trim_matches(|c| c == ' ' || c == '\t')
        .to_string();
    Some((name, value))
}

/// All values of a header (case-insensitive name), in order.
pub fn header_all<'a>(headers: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect()
}

/// The first value of a header (case-insensitive name).
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    header_all(headers, name).into_iter().next()
}

/// Whether a comma-separated header (any occurrence) contains `token` (case-insensitive).
pub fn has_token(headers: &[(String, String)], name: &str, token: &str) -> bool {
    header_all(headers, name)
        .iter()
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}
