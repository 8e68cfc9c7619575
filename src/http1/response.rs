//! `parse_response`: an upstream response head and how its body is delimited.
//!
//! Owns the response framing rules of RFC 9112 §6.3: no body for HEAD, 1xx, 204 and 304;
//! Transfer-Encoding ending in chunked → chunked, otherwise → until close; Content-Length; else
//! until close. Must never do I/O, borrow the buffer in its result, or allocate except by growing
//! `ResponseHead::headers`. Any error here means the proxy answers 502.

use super::error::HeadError;
use super::fields::{self, Role};
use super::header::{ConnFlags, Header};
use super::limits::Limits;
use super::method::Method;
use super::scan::{find_head_end, skip_empty_lines};
use super::span::Span;
use super::{status_line, BodyKind, Parsed};

/// A parsed response head. Reuse one per upstream connection: `parse_response` clears and refills
/// it. All spans index the buffer that was parsed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResponseHead {
    /// Bytes of the head including the final CRLFCRLF; the body starts here.
    pub head_len: usize,
    pub status: u16,
    /// 0 or 1.
    pub version_minor: u8,
    /// Reason phrase as received (may be empty, may contain obs-text).
    pub reason: Span,
    pub body: BodyKind,
    /// The agreed value of the Content-Length header(s), if any (also when `body` is `None`, as
    /// in a response to HEAD).
    pub content_length: Option<u64>,
    pub conn: ConnFlags,
    pub headers: Vec<Header>,
}

impl ResponseHead {
    /// An empty head.
    pub fn new() -> ResponseHead {
        ResponseHead::default()
    }

    /// Resets every field, keeping the capacity of `headers`.
    pub fn clear(&mut self) {
        let mut headers = std::mem::take(&mut self.headers);
        headers.clear();
        *self = ResponseHead {
            headers,
            ..ResponseHead::default()
        };
    }

    /// True if the upstream connection can be reused after this response's body: HTTP/1.1
    /// without `Connection: close` (or 1.0 with keep-alive), and a body not delimited by close.
    pub fn keep_alive(&self) -> bool {
        !self.conn.close && (self.version_minor == 1 || self.conn.keep_alive) && self.body != BodyKind::CloseDelimited
    }
}

/// Parses the response head at the start of `buf`. `request_method` is the method of the request
/// this answers (a response to HEAD has no body whatever its headers say).
pub fn parse_response(
    buf: &[u8],
    limits: &Limits,
    request_method: Method,
    out: &mut ResponseHead,
) -> Result<Parsed, HeadError> {
    out.clear();
    let max_head = limits.head_cap();
    let start = match skip_empty_lines(buf)? {
        Some(start) => start,
        None => return partial(buf, max_head),
    };
    let Some(end) = find_head_end(buf, start)? else {
        status_line::parse(buf, start)?;
        return partial(buf, max_head);
    };
    if end > max_head {
        return Err(HeadError::HeadTooLarge);
    }
    let line = status_line::parse(buf, start)?.ok_or(HeadError::BadStatusLine("status line incomplete"))?;
    let f = fields::parse(buf, start, end, limits.header_cap(), Role::Response, &mut out.headers)?;

    out.head_len = end;
    out.status = line.status;
    out.version_minor = line.version_minor;
    out.reason = line.reason;
    out.content_length = f.content_length;
    out.conn = f.conn;

    let te = f.te;
    if te.present() {
        if f.content_length.is_some() {
            return Err(HeadError::BadFraming("both Content-Length and Transfer-Encoding"));
        }
        if line.version_minor == 0 {
            return Err(HeadError::BadFraming("Transfer-Encoding in HTTP/1.0"));
        }
        if te.malformed || te.codings == 0 {
            return Err(HeadError::BadFraming("malformed Transfer-Encoding"));
        }
        if te.chunked > 1 {
            return Err(HeadError::BadFraming("chunked applied more than once"));
        }
    }
    let bodyless =
        request_method == Method::Head || (100..200).contains(&line.status) || line.status == 204 || line.status == 304;
    out.body = if bodyless {
        BodyKind::None
    } else if te.present() {
        if te.last_chunked {
            BodyKind::Chunked
        } else {
            BodyKind::CloseDelimited
        }
    } else if let Some(n) = f.content_length {
        BodyKind::Length(n)
    } else {
        BodyKind::CloseDelimited
    };
    Ok(Parsed::Complete)
}

fn partial(buf: &[u8], max_head: usize) -> Result<Parsed, HeadError> {
    if buf.len() > max_head {
        return Err(HeadError::HeadTooLarge);
    }
    Ok(Parsed::Partial)
}
