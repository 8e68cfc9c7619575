//! Header fields: run `httparse` over a complete head, record each field as spans, and summarise
//! the fields that decide framing and routing (Host, Content-Length, Transfer-Encoding,
//! Connection, Upgrade, Expect).
//!
//! Owns field syntax and per-field value rules. Must never decide the body kind or apply
//! request/response policy (that is `request.rs` / `response.rs`), and never allocate beyond
//! growing the caller's header `Vec`.

use std::mem::MaybeUninit;

use super::chars::{is_token, list_elements, trim_ows};
use super::error::HeadError;
use super::header::{ConnFlags, Header, HeaderKind};
use super::limits::HARD_MAX_HEADERS;
use super::span::Span;

/// Most `Connection` options accepted in one head. Real clients send one or two; the cap bounds
/// the work of removing the headers they name.
pub(crate) const MAX_CONNECTION_OPTIONS: usize = 32;

/// Longest Content-Length value: 19 digits always fit in a u64.
const MAX_CONTENT_LENGTH_DIGITS: usize = 19;

/// What the framing- and routing-relevant fields said.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Fields {
    /// Value of the first Host header, and how many there were.
    pub host: Option<Span>,
    pub host_count: u32,
    /// The Content-Length all Content-Length headers agreed on.
    pub content_length: Option<u64>,
    pub te: TransferCodings,
    pub conn: ConnFlags,
    /// Value of the first Upgrade header.
    pub upgrade: Option<Span>,
    /// Some Expect header said `100-continue`.
    pub expect_continue: bool,
    /// Some Expect header said anything else.
    pub expect_other: bool,
}

/// Summary of all Transfer-Encoding headers, read as one combined list.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TransferCodings {
    /// Number of Transfer-Encoding header lines.
    pub headers: u32,
    /// The only header line's value is exactly `chunked` (case-insensitive).
    pub exactly_chunked: bool,
    /// Number of codings in the combined list.
    pub codings: u32,
    /// How many of them are `chunked`.
    pub chunked: u32,
    /// The final coding is `chunked`.
    pub last_chunked: bool,
    /// An element is empty or not a token (optionally with `;` parameters).
    pub malformed: bool,
}

impl TransferCodings {
    pub(crate) fn present(&self) -> bool {
        self.headers > 0
    }

    fn add(&mut self, value: &[u8]) {
        self.headers += 1;
        self.exactly_chunked = self.headers == 1 && value.eq_ignore_ascii_case(b"chunked");
        for element in list_elements(value) {
            let name = element.split(|&b| b == b';').next().map(trim_ows).unwrap_or(&[]);
            if !is_token(name) {
                self.malformed = true;
                continue;
            }
            let chunked = name.eq_ignore_ascii_case(b"chunked");
            self.codings += 1;
            self.chunked += u32::from(chunked);
            self.last_chunked = chunked;
        }
    }
}

/// Which kind of message the fields belong to (decides how httparse errors read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Request,
    Response,
}

/// Parses the fields of the complete head `buf[start..end]` (which must begin with its start
/// line) into `out`, returning the summary. Spans are relative to `buf`.
pub(crate) fn parse(
    buf: &[u8],
    start: usize,
    end: usize,
    max_headers: usize,
    role: Role,
    out: &mut Vec<Header>,
) -> Result<Fields, HeadError> {
    let head = buf.get(start..end).ok_or(HeadError::BadHeader("head out of range"))?;
    let mut slots = [MaybeUninit::<httparse::Header<'_>>::uninit(); HARD_MAX_HEADERS];
    let slots = slots.get_mut(..max_headers.min(HARD_MAX_HEADERS)).unwrap_or_default();
    let config = httparse::ParserConfig::default();
    let (status, headers) = match role {
        Role::Request => {
            let mut req = httparse::Request::new(&mut []);
            let status = config.parse_request_with_uninit_headers(&mut req, head, slots);
            (status, req.headers)
        }
        Role::Response => {
            let mut res = httparse::Response::new(&mut []);
            let status = config.parse_response_with_uninit_headers(&mut res, head, slots);
            (status, res.headers)
        }
    };
    match status {
        Ok(httparse::Status::Complete(n)) if n == head.len() => {}
        Ok(_) => return Err(HeadError::BadHeader("head does not end where expected")),
        Err(e) => return Err(map_httparse_error(e, role)),
    }
    collect(buf, headers, role, out)
}

fn map_httparse_error(e: httparse::Error, role: Role) -> HeadError {
    match e {
        httparse::Error::HeaderName => {
            HeadError::BadHeader("invalid field name (non-token byte, whitespace before colon, or obs-fold)")
        }
        httparse::Error::HeaderValue => HeadError::BadHeader("invalid byte in field value"),
        httparse::Error::NewLine => HeadError::BadLineEnding("bare CR"),
        httparse::Error::TooManyHeaders => HeadError::TooManyHeaders,
        httparse::Error::Token | httparse::Error::Version | httparse::Error::Status => match role {
            Role::Request => HeadError::BadRequestLine("rejected by field parser"),
            Role::Response => HeadError::BadStatusLine("rejected by field parser"),
        },
    }
}

/// Records each parsed field as spans and folds the interesting ones into a summary.
fn collect(
    buf: &[u8],
    parsed: &[httparse::Header<'_>],
    role: Role,
    out: &mut Vec<Header>,
) -> Result<Fields, HeadError> {
    let mut f = Fields::default();
    let mut connection_options = 0usize;
    for h in parsed {
        let name_bytes = h.name.as_bytes();
        let (Some(name), Some(value)) = (Span::of(buf, name_bytes), Span::of(buf, h.value)) else {
            return Err(HeadError::BadHeader("field outside the head"));
        };
        if name_bytes.is_empty() {
            return Err(HeadError::BadHeader("empty field name"));
        }
        let kind = HeaderKind::of(name_bytes);
        out.push(Header { name, value, kind });
        match kind {
            HeaderKind::Host => {
                f.host_count += 1;
                f.host.get_or_insert(value);
            }
            HeaderKind::ContentLength => {
                let n = parse_content_length(h.value)?;
                if f.content_length.is_some_and(|prev| prev != n) {
                    return Err(HeadError::BadFraming("Content-Length headers disagree"));
                }
                f.content_length = Some(n);
            }
            HeaderKind::TransferEncoding => f.te.add(h.value),
            HeaderKind::Connection => {
                for option in list_elements(h.value).filter(|e| !e.is_empty()) {
                    if !is_token(option) {
                        return Err(HeadError::BadHeader("Connection option is not a token"));
                    }
                    connection_options += 1;
                    if connection_options > MAX_CONNECTION_OPTIONS {
                        return Err(HeadError::BadHeader("too many Connection options"));
                    }
                    f.conn.close |= option.eq_ignore_ascii_case(b"close");
                    f.conn.keep_alive |= option.eq_ignore_ascii_case(b"keep-alive");
                    f.conn.upgrade |= option.eq_ignore_ascii_case(b"upgrade");
                }
            }
            HeaderKind::Upgrade => {
                f.upgrade.get_or_insert(value);
            }
            HeaderKind::Expect if role == Role::Request => {
                if h.value.eq_ignore_ascii_case(b"100-continue") {
                    f.expect_continue = true;
                } else {
                    f.expect_other = true;
                }
            }
            _ => {}
        }
    }
    Ok(f)
}

/// `Content-Length = 1*DIGIT`, also as a list of identical values (RFC 9110 §8.6).
fn parse_content_length(value: &[u8]) -> Result<u64, HeadError> {
    let mut agreed = None;
    for element in list_elements(value) {
        if element.is_empty() || element.len() > MAX_CONTENT_LENGTH_DIGITS || !element.iter().all(u8::is_ascii_digit) {
            return Err(HeadError::BadFraming("Content-Length is not 1*DIGIT"));
        }
        let n = element.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
        if agreed.is_some_and(|prev| prev != n) {
            return Err(HeadError::BadFraming("Content-Length list values disagree"));
        }
        agreed = Some(n);
    }
    agreed.ok_or(HeadError::BadFraming("empty Content-Length"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_values() {
        assert_eq!(parse_content_length(b"0"), Ok(0));
        assert_eq!(parse_content_length(b"00042"), Ok(42));
        assert_eq!(parse_content_length(b"42, 42,42"), Ok(42));
        assert_eq!(
            parse_content_length(b"9999999999999999999"),
            Ok(9_999_999_999_999_999_999)
        );
        let bad: &[&[u8]] = &[
            b"",
            b"+5",
            b"-5",
            b"5 5",
            b"0x5",
            b"5,",
            b",5",
            b"42, 43",
            b"1e3",
            b"5.0",
            b"99999999999999999999",
            b"\xd9\xa5",
        ];
        for v in bad {
            assert!(parse_content_length(v).is_err(), "{}", String::from_utf8_lossy(v));
        }
    }

    #[test]
    fn transfer_codings() {
        let te = |values: &[&[u8]]| {
            let mut t = TransferCodings::default();
            for v in values {
                t.add(v);
            }
            t
        };
        let t = te(&[b"Chunked"]);
        assert!(t.exactly_chunked && t.last_chunked && t.chunked == 1 && !t.malformed);
        let t = te(&[b"gzip, chunked"]);
        assert!(!t.exactly_chunked && t.last_chunked && t.codings == 2);
        let t = te(&[b"gzip", b"chunked"]);
        assert!(!t.exactly_chunked && t.last_chunked && t.headers == 2);
        let t = te(&[b"chunked, gzip"]);
        assert!(!t.last_chunked && t.chunked == 1);
        let t = te(&[b"chunked;q=1"]);
        assert!(!t.exactly_chunked && t.last_chunked);
        let t = te(&[b""]);
        assert!(t.malformed && t.codings == 0);
        let t = te(&[b"chunked, \"x\""]);
        assert!(t.malformed);
    }
}
