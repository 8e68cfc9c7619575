//! `parse_request`: a request head from the bytes received so far, with the proxy's policy.
//!
//! Owns the order of checks for requests and the rules that are request-specific: Host presence
//! and validity, the request framing rules (Content-Length xor `Transfer-Encoding: chunked`, no
//! Transfer-Encoding in HTTP/1.0) and Expect. Must never do I/O, borrow the buffer in its result,
//! or allocate except by growing `RequestHead::headers`.

use super::error::HeadError;
use super::fields::{self, Role};
use super::header::{ConnFlags, Header};
use super::host::parse_host;
use super::limits::Limits;
use super::method::Method;
use super::scan::{find_head_end, skip_empty_lines};
use super::span::Span;
use super::{request_line, target, BodyKind, Parsed};

pub use super::target::TargetForm;

/// A parsed request head. Reuse one per connection: `parse_request` clears and refills it, and
/// `headers` keeps its capacity. All spans index the buffer that was parsed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestHead {
    /// Bytes of the head including any leading empty lines and the final CRLFCRLF; the body (or
    /// the next pipelined request) starts here.
    pub head_len: usize,
    pub method: Method,
    pub method_span: Span,
    /// The request target as received.
    pub target: Span,
    /// 0 or 1.
    pub version_minor: u8,
    pub form: TargetForm,
    /// Path part of the target: before `?` in origin-form, `/p` of `http://h/p?q`, `*` for
    /// asterisk-form, empty for authority-form and for an absolute-form without path.
    pub path: Span,
    /// After `?`, without it.
    pub query: Option<Span>,
    /// `host[:port]` of an absolute-form target.
    pub authority: Option<Span>,
    /// Absolute-form target without a path (`http://h?q`): the writer emits `/`.
    pub origin_form_missing_slash: bool,
    /// The effective host: the absolute-form authority if present, else the Host header value.
    pub host: Option<Span>,
    /// `host` without its port (IPv6 literals keep their brackets). Match routes on this.
    pub host_name: Option<Span>,
    /// The port given in `host`, if any.
    pub host_port: Option<u16>,
    pub body: BodyKind,
    /// The agreed value of the Content-Length header(s), if any.
    pub content_length: Option<u64>,
    pub conn: ConnFlags,
    /// Upgrade header value, only if `conn.upgrade`.
    pub upgrade: Option<Span>,
    /// `Expect: 100-continue` on an HTTP/1.1 request (ignored on 1.0, RFC 9110 §10.1.1).
    pub expect_continue: bool,
    pub headers: Vec<Header>,
}

impl RequestHead {
    /// An empty head.
    pub fn new() -> RequestHead {
        RequestHead::default()
    }

    /// Resets every field, keeping the capacity of `headers`.
    pub fn clear(&mut self) {
        let mut headers = std::mem::take(&mut self.headers);
        headers.clear();
        *self = RequestHead {
            headers,
            ..RequestHead::default()
        };
    }

    /// True if the client connection may serve another request after this one (absent errors):
    /// HTTP/1.1 without `Connection: close`, or HTTP/1.0 with `Connection: keep-alive`.
    pub fn keep_alive(&self) -> bool {
        !self.conn.close && (self.version_minor == 1 || self.conn.keep_alive)
    }
}

/// Parses the request head at the start of `buf` (the bytes received so far on a connection).
///
/// `Ok(Parsed::Partial)`: read more and call again with the whole buffer. Limits are enforced
/// while partial too (431 once `buf` exceeds `max_head`, 414 once the target exceeds
/// `max_target`), so a client cannot grow the buffer without bound. Cost is linear in `buf.len()`.
pub fn parse_request(buf: &[u8], limits: &Limits, out: &mut RequestHead) -> Result<Parsed, HeadError> {
    out.clear();
    let max_head = limits.head_cap();
    let start = match skip_empty_lines(buf)? {
        Some(start) => start,
        None => return partial(buf, max_head),
    };
    let Some(end) = find_head_end(buf, start)? else {
        request_line::parse(buf, start, limits.max_target)?;
        return partial(buf, max_head);
    };
    if end > max_head {
        return Err(HeadError::HeadTooLarge);
    }
    let line = request_line::parse(buf, start, limits.max_target)?
        .ok_or(HeadError::BadRequestLine("request line incomplete"))?;
    let f = fields::parse(buf, start, end, limits.header_cap(), Role::Request, &mut out.headers)?;

    out.head_len = end;
    out.method_span = line.method;
    out.method = Method::from_bytes(line.method.get(buf));
    out.target = line.target;
    out.version_minor = line.version_minor;

    let t = target::parse(buf, line.target, out.method)?;
    out.form = t.form;
    out.path = t.path;
    out.query = t.query;
    out.authority = t.authority;
    out.origin_form_missing_slash = t.missing_slash;

    // Host: exactly one, valid, in HTTP/1.1 (RFC 9112 §3.2); at most one in HTTP/1.0.
    if f.host_count > 1 {
        return Err(HeadError::BadHost("more than one Host header"));
    }
    let header_host = f.host.filter(|h| !h.is_empty() || out.version_minor == 1);
    if header_host.is_none() && out.version_minor == 1 {
        return Err(HeadError::BadHost("missing Host header"));
    }
    if let (Some(h), Some(_)) = (header_host, t.authority) {
        // Ignored in favour of the authority (RFC 9112 §3.2.2), but still has to be valid.
        parse_host(h.get(buf)).map_err(HeadError::BadHost)?;
    }
    out.host = t.authority.or(header_host);
    if let Some(host) = out.host {
        let hp = parse_host(host.get(buf)).map_err(HeadError::BadHost)?;
        out.host_name = Some(host.prefix(hp.name_len));
        out.host_port = hp.port;
    }

    // Framing (RFC 9112 §6): one unambiguous body length.
    out.content_length = f.content_length;
    out.body = match (f.te.present(), f.content_length) {
        (true, Some(_)) => return Err(HeadError::BadFraming("both Content-Length and Transfer-Encoding")),
        (true, None) if out.version_minor == 0 => return Err(HeadError::BadFraming("Transfer-Encoding in HTTP/1.0")),
        (true, None) if f.te.exactly_chunked => BodyKind::Chunked,
        (true, None) => return Err(HeadError::BadFraming("Transfer-Encoding other than exactly chunked")),
        (false, Some(n)) => BodyKind::Length(n),
        (false, None) => BodyKind::None,
    };

    out.conn = f.conn;
    out.upgrade = f.upgrade.filter(|_| f.conn.upgrade);
    if f.expect_other {
        return Err(HeadError::ExpectationFailed);
    }
    out.expect_continue = f.expect_continue && out.version_minor == 1;
    Ok(Parsed::Complete)
}

fn partial(buf: &[u8], max_head: usize) -> Result<Parsed, HeadError> {
    if buf.len() > max_head {
        return Err(HeadError::HeadTooLarge);
    }
    Ok(Parsed::Partial)
}
