//! A raw HTTP/1.1 client: sends exact bytes, reads whole responses (Content-Length, chunked,
//! close-delimited), with timeouts on every socket operation.

use super::wire::{self, Wire};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No body by definition (HEAD, 1xx, 204, 304).
    NoBody,
    ContentLength(u64),
    Chunked,
    /// Delimited by the server closing the connection.
    Close,
}

#[derive(Clone, Debug)]
pub struct Response {
    pub version: String,
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub trailers: Vec<(String, String)>,
    pub framing: Framing,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        wire::header(&self.headers, name)
    }

    pub fn header_all(&self, name: &str) -> Vec<&str> {
        wire::header_all(&self.headers, name)
    }

    pub fn has_token(&self, name: &str, token: &str) -> bool {
        wire::has_token(&self.headers, name, token)
    }

    pub fn body_str(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What `Conn::wait_closed` saw.
#[derive(Debug, PartialEq, Eq)]
pub enum Closed {
    /// EOF or reset.
    Yes,
    /// Nothing arrived and the connection stayed open until the timeout.
    StillOpen,
    /// More bytes arrived.
    Data(Vec<u8>),
}

pub struct Conn {
    pub wire: Wire,
}

impl Conn {
    pub fn connect(port: u16) -> Conn {
        Conn::try_connect(port).unwrap_or_else(|e| panic!("connect 127.0.0.1:{port}: {e}"))
    }

    pub fn try_connect(port: u16) -> io::Result<Conn> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let stream = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            wire: Wire::new(stream),
        })
    }

    pub fn set_read_timeout(&mut self, d: Duration) {
        self.wire.stream.set_read_timeout(Some(d)).expect("set_read_timeout");
    }

    /// Writes all bytes; panics on error.
    pub fn send(&mut self, bytes: &[u8]) {
        self.wire.stream.write_all(bytes).expect("client write");
    }

    /// Writes all bytes, returning the error (for requests the server may reject mid-write).
    pub fn try_send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.wire.stream.write_all(bytes)
    }

    /// Reads one response to a request with `method` (a 1xx interim response is returned as is).
    pub fn read_response(&mut self, method: &str) -> io::Result<Response> {
        let mut body = Vec::new();
        let mut r = self.read_response_streaming(method, &mut |d| body.extend_from_slice(d))?;
        r.body = body;
        Ok(r)
    }

    /// Like `read_response`, but skips 100-199 interim responses other than 101.
    pub fn read_final_response(&mut self, method: &str) -> io::Result<Response> {
        loop {
            let r = self.read_response(method)?;
            if r.status >= 200 || r.status == 101 {
                return Ok(r);
            }
        }
    }

    /// Reads the head only (status line + fields).
    pub fn read_head(&mut self) -> io::Result<Response> {
        let lines = self
            .wire
            .read_head(1 << 20)?
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "EOF before response"))?;
        let status_line = String::from_utf8_lossy(&lines[0]).into_owned();
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or_default().to_string();
        let status = parts
            .next()
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("bad status line {status_line:?}")))?;
        if !version.starts_with("HTTP/1.") {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad status line {status_line:?}"),
            ));
        }
        let reason = parts.next().unwrap_or_default().to_string();
        let mut headers = Vec::new();
        for l in &lines[1..] {
            headers.push(wire::parse_field(l).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("bad response field {:?}", String::from_utf8_lossy(l)),
                )
            })?);
        }
        Ok(Response {
            version,
            status,
            reason,
            headers,
            body: Vec::new(),
            trailers: Vec::new(),
            framing: Framing::NoBody,
        })
    }

    /// Reads one response, handing the body to `sink` (the returned `body` is empty).
    pub fn read_response_streaming(&mut self, method: &str, sink: &mut dyn FnMut(&[u8])) -> io::Result<Response> {
        let mut r = self.read_head()?;
        let no_body =
            method.eq_ignore_ascii_case("HEAD") || (100..200).contains(&r.status) || r.status == 204 || r.status == 304;
        let te = r.header_all("transfer-encoding");
        r.framing = if no_body {
            Framing::NoBody
        } else if !te.is_empty() {
            let last = te
                .iter()
                .flat_map(|v| v.split(','))
                .map(|t| t.trim().to_ascii_lowercase())
                .next_back()
                .unwrap_or_default();
            if last == "chunked" {
                Framing::Chunked
            } else {
                Framing::Close
            }
        } else if let Some(cl) = r.header("content-length") {
            let n = cl
                .trim()
                .parse::<u64>()
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, format!("bad Content-Length {cl:?}")))?;
            Framing::ContentLength(n)
        } else {
            Framing::Close
        };
        match r.framing {
            Framing::NoBody => {}
            Framing::ContentLength(n) => self.wire.read_exact_sink(n, sink)?,
            Framing::Chunked => r.trailers = self.wire.read_chunked_sink(sink)?,
            Framing::Close => self.wire.read_to_eof_sink(sink)?,
        }
        Ok(r)
    }

    /// Waits up to `timeout` for the server to close the connection.
    pub fn wait_closed(&mut self, timeout: Duration) -> Closed {
        if !self.wire.buffered().is_empty() {
            return Closed::Data(self.wire.buffered().to_vec());
        }
        self.set_read_timeout(timeout);
        let mut b = [0u8; 4096];
        let r = self.wire.stream.read(&mut b);
        let _ = self.wire.stream.set_read_timeout(Some(IO_TIMEOUT));
        match r {
            Ok(0) => Closed::Yes,
            Ok(n) => Closed::Data(b[..n].to_vec()),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted | io::ErrorKind::BrokenPipe
                ) =>
            {
                Closed::Yes
            }
            Err(_) => Closed::StillOpen,
        }
    }
}

/// Whether an I/O error means the peer closed or reset the connection.
pub fn is_closed_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}

/// `GET path HTTP/1.1` with `Host: host` and nothing else.
pub fn get_request(host: &str, path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes()
}

/// One request on a fresh connection; returns the response.
pub fn get(port: u16, host: &str, path: &str) -> Response {
    let mut c = Conn::connect(port);
    c.send(&get_request(host, path));
    c.read_response("GET")
        .unwrap_or_else(|e| panic!("GET {host}{path}: {e}"))
}
