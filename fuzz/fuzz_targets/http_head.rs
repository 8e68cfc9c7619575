//! Fuzzing the strict HTTP/1 head parsers (`http1::parse_request`, `http1::parse_response`) against an independent
//! oracle of the rules that matter for request smuggling and routing.
//!
//! The first input byte picks the parser (request or response), the `Limits` (small or default caps on head size,
//! target length and header count) and, for responses, whether the request was HEAD; the rest is the buffer.
//! Whatever the bytes, the parsers must not panic, and:
//! - `Partial` only while no complete head (CRLFCRLF after the leading empty lines) has arrived and the buffer is
//!   within `max_head`; a head one byte short of `head_len` is `Partial`, the head alone parses to the same result;
//! - `Complete` only for a head the oracle below accepts, with the same `head_len`, field list (names, trimmed values),
//!   start-line parts, host and body framing.
//!
//! The oracle is written from RFC 9110/9112 and the module docs, not from the parser. It covers:
//! - line endings: CRLF only (no bare LF, no bare CR), leading empty lines only as CRLF, the head ends at the first
//!   CRLFCRLF;
//! - field lines: `token ":" OWS value OWS`, no obs-fold (no line starting with SP/HTAB), no whitespace before the
//!   colon, value bytes HTAB / SP / VCHAR / obs-text only;
//! - request line: `method SP target SP HTTP/1.0|HTTP/1.1`, method a token of at most 64 bytes, target visible ASCII
//!   without `#` and at most `max_target` bytes; origin-, absolute- (http/https, no userinfo, valid host),
//!   asterisk- (OPTIONS only) or authority-form (CONNECT);
//! - status line: `HTTP/1.0|HTTP/1.1 SP 3DIGIT [SP reason]`, status 100..=599;
//! - Host: at most one; exactly one valid `host[:port]` in HTTP/1.1 (also when an absolute-form authority overrides
//!   it); the effective host is the authority, else the header;
//! - framing: Content-Length values `1*DIGIT` (comma lists allowed) that all agree and fit a u64; never together with
//!   Transfer-Encoding; no Transfer-Encoding in HTTP/1.0; requests: Transfer-Encoding only as one header saying exactly
//!   `chunked`; responses: well-formed codings, `chunked` at most once, chunked body only when it is last, otherwise
//!   close-delimited; no body for HEAD, 1xx, 204, 304;
//! - limits: head size, header count.
//!
//! Not covered (the oracle is lenient there): `Expect`, `Connection` options, `Upgrade`.
//! Accepted requests are also rewritten with `write_request_head`: the forwarded head must pass the oracle and parse
//! again to the same framing and host.

#![no_main]

use std::net::{IpAddr, Ipv4Addr};

use libfuzzer_sys::fuzz_target;
use ringress::http1::{
    parse_request, parse_response, write_request_head, BodyKind, Forwarding, Limits, Method, Parsed, RequestHead,
    ResponseHead, Span, TargetForm,
};

/// Stack slots the parser has for fields, whatever `Limits::max_headers` says.
const HARD_MAX_HEADERS: usize = 512;
/// Longest method the parser accepts.
const MAX_METHOD: usize = 64;

fn limits(bits: u8) -> Limits {
    Limits {
        max_head: [65536, 64, 200, 1024][usize::from(bits & 3)],
        max_target: [16384, 1, 8, 100][usize::from((bits >> 2) & 3)],
        max_headers: [128, 0, 3, 1000][usize::from((bits >> 4) & 3)],
    }
}

// ---------------------------------------------------------------------------------------------------------------------
// The oracle
// ---------------------------------------------------------------------------------------------------------------------

/// `tchar` of RFC 9110 §5.6.2.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// `field-vchar` / SP / HTAB (RFC 9110 §5.5), obs-text included.
fn is_value_byte(b: u8) -> bool {
    b == b'\t' || b == b' ' || (0x21..=0x7e).contains(&b) || b >= 0x80
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// A head split into its start line and fields, with line endings and field syntax checked.
struct Head<'a> {
    /// Offset just past the final CRLFCRLF (leading empty lines included).
    len: usize,
    start_line: &'a [u8],
    /// Name and OWS-trimmed value of each field line, in order.
    fields: Vec<(&'a [u8], &'a [u8])>,
}

impl<'a> Head<'a> {
    fn named(&self, name: &'static str) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.fields
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|&(_, v)| v)
    }
}

/// `Ok(None)`: no complete head yet. `Err`: the bytes up to the end of the head break a rule.
fn split_head(buf: &[u8]) -> Result<Option<Head<'_>>, String> {
    let mut start = 0;
    while buf[start..].starts_with(b"\r\n") {
        start += 2;
    }
    let Some(at) = buf[start..].windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let len = start + at + 4;
    for i in 0..len {
        match buf[i] {
            b'\n' if i == 0 || buf[i - 1] != b'\r' => return Err(format!("bare LF at {i}")),
            b'\r' if buf[i + 1] != b'\n' => return Err(format!("bare CR at {i}")),
            _ => {}
        }
    }
    // Every line of `start..len - 2` ends in CRLF and holds no other CR or LF.
    let mut lines = buf[start..len - 2]
        .split(|&b| b == b'\n')
        .map(|l| &l[..l.len().saturating_sub(1)]);
    let start_line = lines.next().unwrap_or_default();
    let mut fields = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        if matches!(line[0], b' ' | b'\t') {
            return Err("obs-fold".into());
        }
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .ok_or("field line without a colon")?;
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if !is_token(name) {
            return Err(format!("field name {:?} is not a token", String::from_utf8_lossy(name)));
        }
        if !value.iter().all(|&b| is_value_byte(b)) {
            return Err("control byte in a field value".into());
        }
        fields.push((name, trim(value)));
    }
    Ok(Some(Head {
        len,
        start_line,
        fields,
    }))
}

/// Content-Length: every value a comma list of `1*DIGIT` elements, all equal across every header.
fn content_length(head: &Head<'_>) -> Result<Option<u64>, String> {
    let mut agreed = None;
    for value in head.named("content-length") {
        for element in value.split(|&b| b == b',').map(trim) {
            if element.is_empty() || !element.iter().all(u8::is_ascii_digit) {
                return Err("Content-Length is not 1*DIGIT".into());
            }
            let n = element
                .iter()
                .try_fold(0u64, |n, &d| n.checked_mul(10)?.checked_add(u64::from(d - b'0')))
                .ok_or("Content-Length overflows")?;
            if agreed.is_some_and(|a| a != n) {
                return Err("Content-Length values differ".into());
            }
            agreed = Some(n);
        }
    }
    Ok(agreed)
}

/// `host[:port]`: reg-name of letters, digits, `-`, `.`, `_`, or a bracketed IPv6 literal; port digits <= 65535.
/// Returns the host part and the port (`None` when absent or empty).
fn host_port(v: &[u8]) -> Option<(&[u8], Option<u16>)> {
    let name_len = if v.first() == Some(&b'[') {
        let close = v.iter().position(|&b| b == b']')?;
        let inner = &v[1..close];
        if inner.is_empty() || !inner.iter().all(|&b| b.is_ascii_hexdigit() || b == b':' || b == b'.') {
            return None;
        }
        close + 1
    } else {
        let n = v.iter().position(|&b| b == b':').unwrap_or(v.len());
        if n == 0 || !v[..n].iter().all(|&b| b.is_ascii_alphanumeric() || b"-._".contains(&b)) {
            return None;
        }
        n
    };
    let port = match &v[name_len..] {
        [] | [b':'] => None,
        [b':', digits @ ..] if digits.iter().all(u8::is_ascii_digit) => {
            let n = digits
                .iter()
                .fold(0u32, |n, &d| n.saturating_mul(10).saturating_add(u32::from(d - b'0')));
            Some(u16::try_from(n).ok()?)
        }
        _ => return None,
    };
    Some((&v[..name_len], port))
}

/// What the oracle expects of a valid request head.
#[derive(Debug)]
struct Request<'a> {
    method: &'a [u8],
    target: &'a [u8],
    minor: u8,
    form: TargetForm,
    path: &'a [u8],
    query: Option<&'a [u8]>,
    authority: Option<&'a [u8]>,
    host: Option<&'a [u8]>,
    host_name: Option<&'a [u8]>,
    host_port: Option<u16>,
    body: BodyKind,
    content_length: Option<u64>,
}

fn split_query(s: &[u8]) -> (&[u8], Option<&[u8]>) {
    match s.iter().position(|&b| b == b'?') {
        Some(q) => (&s[..q], Some(&s[q + 1..])),
        None => (s, None),
    }
}

fn check_request<'a>(head: &Head<'a>, limits: &Limits) -> Result<Request<'a>, String> {
    if head.len > limits.max_head {
        return Err("head larger than max_head".into());
    }
    if head.fields.len() > limits.max_headers.min(HARD_MAX_HEADERS) {
        return Err("more fields than max_headers".into());
    }

    // Request line.
    let parts: Vec<&[u8]> = head.start_line.split(|&b| b == b' ').collect();
    let [method, target, version] = parts[..] else {
        return Err("request line is not three parts separated by single spaces".into());
    };
    if !is_token(method) || method.len() > MAX_METHOD {
        return Err("method is not a token of at most 64 bytes".into());
    }
    if target.is_empty() || target.len() > limits.max_target {
        return Err("target empty or longer than max_target".into());
    }
    if !target.iter().all(|&b| (0x21..=0x7e).contains(&b) && b != b'#') {
        return Err("target byte outside VCHAR, or '#'".into());
    }
    let minor = match version {
        b"HTTP/1.1" => 1,
        b"HTTP/1.0" => 0,
        _ => return Err("version is not HTTP/1.0 or HTTP/1.1".into()),
    };

    // Target forms.
    let (form, path, query, authority) = if method == b"CONNECT" {
        (TargetForm::Authority, &b""[..], None, None)
    } else if target[0] == b'/' {
        let (path, query) = split_query(target);
        (TargetForm::Origin, path, query, None)
    } else if target == b"*" && method == b"OPTIONS" {
        (TargetForm::Asterisk, target, None, None)
    } else {
        let lower = target.to_ascii_lowercase();
        let rest = if lower.starts_with(b"http://") {
            &target[7..]
        } else if lower.starts_with(b"https://") {
            &target[8..]
        } else {
            return Err("target is no valid form".into());
        };
        let end = rest.iter().position(|&b| b == b'/' || b == b'?').unwrap_or(rest.len());
        let authority = &rest[..end];
        if authority.contains(&b'@') || host_port(authority).is_none() {
            return Err("absolute-form authority with userinfo or an invalid host".into());
        }
        let (path, query) = split_query(&rest[end..]);
        (TargetForm::Absolute, path, query, Some(authority))
    };

    // Host.
    let hosts: Vec<&[u8]> = head.named("host").collect();
    if hosts.len() > 1 {
        return Err("more than one Host".into());
    }
    let header_host = hosts.first().copied().filter(|h| !h.is_empty() || minor == 1);
    if minor == 1 && header_host.is_none() {
        return Err("HTTP/1.1 without Host".into());
    }
    if header_host.is_some_and(|h| host_port(h).is_none()) {
        return Err("invalid Host".into());
    }
    let host = authority.or(header_host);
    let (host_name, host_port) = match host.and_then(host_port) {
        Some((name, port)) => (Some(name), port),
        None => (None, None),
    };

    // Framing.
    let content_length = content_length(head)?;
    let te: Vec<&[u8]> = head.named("transfer-encoding").collect();
    let body = if te.is_empty() {
        content_length.map_or(BodyKind::None, BodyKind::Length)
    } else if content_length.is_some() {
        return Err("Content-Length with Transfer-Encoding".into());
    } else if minor == 0 {
        return Err("Transfer-Encoding in HTTP/1.0".into());
    } else if te.len() == 1 && te[0].eq_ignore_ascii_case(b"chunked") {
        BodyKind::Chunked
    } else {
        return Err("request Transfer-Encoding other than one `chunked`".into());
    };

    Ok(Request {
        method,
        target,
        minor,
        form,
        path,
        query,
        authority,
        host,
        host_name,
        host_port,
        body,
        content_length,
    })
}

/// What the oracle expects of a valid response head.
#[derive(Debug, PartialEq, Eq)]
struct Response<'a> {
    minor: u8,
    status: u16,
    reason: &'a [u8],
    body: BodyKind,
    content_length: Option<u64>,
}

fn check_response<'a>(head: &Head<'a>, limits: &Limits, to_head: bool) -> Result<Response<'a>, String> {
    if head.len > limits.max_head {
        return Err("head larger than max_head".into());
    }
    if head.fields.len() > limits.max_headers.min(HARD_MAX_HEADERS) {
        return Err("more fields than max_headers".into());
    }
    let line = head.start_line;
    let minor = match line.get(..9) {
        Some(b"HTTP/1.1 ") => 1,
        Some(b"HTTP/1.0 ") => 0,
        _ => return Err("status line does not start with HTTP/1.x SP".into()),
    };
    let code = &line[9..line.len().min(12)];
    if code.len() != 3 || !code.iter().all(u8::is_ascii_digit) {
        return Err("status is not 3DIGIT".into());
    }
    let status = code.iter().fold(0u16, |n, &d| n * 10 + u16::from(d - b'0'));
    if !(100..=599).contains(&status) {
        return Err("status outside 100..=599".into());
    }
    let reason = match &line[12..] {
        [] => &[][..],
        [b' ', reason @ ..] if reason.iter().all(|&b| is_value_byte(b)) => reason,
        _ => return Err("status not followed by SP reason or CRLF".into()),
    };

    let content_length = content_length(head)?;
    let te: Vec<&[u8]> = head.named("transfer-encoding").collect();
    let mut last_chunked = false;
    if !te.is_empty() {
        if content_length.is_some() {
            return Err("Content-Length with Transfer-Encoding".into());
        }
        if minor == 0 {
            return Err("Transfer-Encoding in HTTP/1.0".into());
        }
        let mut chunked = 0;
        for element in te.iter().flat_map(|v| v.split(|&b| b == b',')) {
            let coding = trim(element.split(|&b| b == b';').next().unwrap_or_default());
            if !is_token(coding) {
                return Err("Transfer-Encoding element is not a coding".into());
            }
            last_chunked = coding.eq_ignore_ascii_case(b"chunked");
            chunked += usize::from(last_chunked);
        }
        if chunked > 1 {
            return Err("chunked more than once".into());
        }
    }
    let body = if to_head || (100..200).contains(&status) || status == 204 || status == 304 {
        BodyKind::None
    } else if !te.is_empty() {
        if last_chunked {
            BodyKind::Chunked
        } else {
            BodyKind::CloseDelimited
        }
    } else {
        content_length.map_or(BodyKind::CloseDelimited, BodyKind::Length)
    };
    Ok(Response {
        minor,
        status,
        reason,
        body,
        content_length,
    })
}

// ---------------------------------------------------------------------------------------------------------------------
// The target
// ---------------------------------------------------------------------------------------------------------------------

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn opt(buf: &[u8], span: Option<Span>) -> Option<&[u8]> {
    span.map(|s| s.get(buf))
}

/// The oracle's verdict on a buffer the parser called `Complete`, with the parser's field list checked against it.
fn agreed_head<'a>(buf: &'a [u8], head_len: usize, headers: &[ringress::http1::Header]) -> Head<'a> {
    let head = match split_head(buf) {
        Ok(Some(head)) => head,
        Ok(None) => panic!("Complete, but no CRLFCRLF in {:?}", text(buf)),
        Err(e) => panic!("Complete, but the oracle says {e}: {:?}", text(buf)),
    };
    assert_eq!(head_len, head.len, "head_len of {:?}", text(buf));
    let parsed: Vec<(&[u8], &[u8])> = headers.iter().map(|h| (h.name.get(buf), h.value.get(buf))).collect();
    assert_eq!(parsed, head.fields, "fields of {:?}", text(buf));
    for h in headers {
        assert!(h.name.end as usize <= head_len && h.value.end as usize <= head_len);
    }
    head
}

fn check_parsed_request(buf: &[u8], limits: &Limits, head: &RequestHead) {
    let oracle = agreed_head(buf, head.head_len, &head.headers);
    let want = check_request(&oracle, limits)
        .unwrap_or_else(|e| panic!("request accepted, but the oracle says {e}: {:?}", text(buf)));
    let got = Request {
        method: head.method_span.get(buf),
        target: head.target.get(buf),
        minor: head.version_minor,
        form: head.form,
        path: head.path.get(buf),
        query: opt(buf, head.query),
        authority: opt(buf, head.authority),
        host: opt(buf, head.host),
        host_name: opt(buf, head.host_name),
        host_port: head.host_port,
        body: head.body,
        content_length: head.content_length,
    };
    let same = (
        got.method,
        got.target,
        got.minor,
        got.form,
        got.path,
        got.query,
        got.authority,
        got.host,
        got.host_name,
        got.host_port,
        got.body,
        got.content_length,
    ) == (
        want.method,
        want.target,
        want.minor,
        want.form,
        want.path,
        want.query,
        want.authority,
        want.host,
        want.host_name,
        want.host_port,
        want.body,
        want.content_length,
    );
    assert!(same, "{:?}\nparsed {got:?}\noracle {want:?}", text(buf));
    match head.method.as_str() {
        Some(name) => assert_eq!(name.as_bytes(), got.method),
        None => assert!(
            !matches!(
                got.method,
                b"GET" | b"HEAD" | b"POST" | b"PUT" | b"DELETE" | b"OPTIONS" | b"PATCH" | b"CONNECT" | b"TRACE"
            ),
            "{:?} classified as Other",
            text(got.method)
        ),
    }
}

/// The head the proxy forwards must pass the oracle and parse again to the same framing and host.
fn check_rewrite(buf: &[u8], head: &RequestHead) {
    if head.host.is_none() || head.method == Method::Connect {
        // A hostless HTTP/1.0 request is forwarded with an empty Host, which strict parsing refuses from a client;
        // CONNECT is refused before forwarding.
        return;
    }
    let fwd = Forwarding {
        client_ip: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        proto: "http",
        port: 80,
        host_override: None,
    };
    let mut out = Vec::new();
    write_request_head(buf, head, &fwd, &mut out);
    let big = Limits {
        max_head: 1 << 20,
        max_target: 1 << 20,
        max_headers: HARD_MAX_HEADERS,
    };
    let mut again = RequestHead::new();
    let verdict = parse_request(&out, &big, &mut again);
    assert_eq!(
        verdict,
        Ok(Parsed::Complete),
        "{:?} forwarded as {:?}",
        text(buf),
        text(&out)
    );
    check_parsed_request(&out, &big, &again);
    assert_eq!(again.head_len, out.len());
    assert_eq!(
        again.body,
        head.body,
        "framing changed: {:?} → {:?}",
        text(buf),
        text(&out)
    );
    assert_eq!(
        opt(&out, again.host),
        opt(buf, head.host),
        "host changed: {:?}",
        text(&out)
    );
}

fn fuzz_request(buf: &[u8], limits: &Limits) {
    let mut head = RequestHead::new();
    let verdict = parse_request(buf, limits, &mut head);
    match verdict {
        Ok(Parsed::Partial) => {
            assert!(buf.len() <= limits.max_head, "Partial beyond max_head");
            assert!(
                matches!(split_head(buf), Ok(None)),
                "Partial, but the head is complete: {:?}",
                text(buf)
            );
        }
        Ok(Parsed::Complete) => {
            check_parsed_request(buf, limits, &head);
            let mut alone = RequestHead::new();
            assert_eq!(parse_request(&buf[..head.head_len], limits, &mut alone), verdict);
            assert_eq!(alone, head, "the bytes after the head changed it");
            assert_eq!(
                parse_request(&buf[..head.head_len - 1], limits, &mut alone),
                Ok(Parsed::Partial),
                "a head one byte short is not Partial: {:?}",
                text(buf)
            );
            check_rewrite(buf, &head);
        }
        Err(e) => {
            let _ = (e.to_string(), e.status());
        }
    }
}

fn fuzz_response(buf: &[u8], limits: &Limits, method: Method) {
    let mut head = ResponseHead::new();
    let verdict = parse_response(buf, limits, method, &mut head);
    match verdict {
        Ok(Parsed::Partial) => {
            assert!(buf.len() <= limits.max_head, "Partial beyond max_head");
            assert!(
                matches!(split_head(buf), Ok(None)),
                "Partial, but the head is complete: {:?}",
                text(buf)
            );
        }
        Ok(Parsed::Complete) => {
            let oracle = agreed_head(buf, head.head_len, &head.headers);
            let want = check_response(&oracle, limits, method == Method::Head)
                .unwrap_or_else(|e| panic!("response accepted, but the oracle says {e}: {:?}", text(buf)));
            let got = Response {
                minor: head.version_minor,
                status: head.status,
                reason: head.reason.get(buf),
                body: head.body,
                content_length: head.content_length,
            };
            assert_eq!(got, want, "{:?}", text(buf));
            let _ = head.keep_alive();
            let mut alone = ResponseHead::new();
            assert_eq!(
                parse_response(&buf[..head.head_len], limits, method, &mut alone),
                verdict
            );
            assert_eq!(alone, head, "the bytes after the head changed it");
            assert_eq!(
                parse_response(&buf[..head.head_len - 1], limits, method, &mut alone),
                Ok(Parsed::Partial),
                "a head one byte short is not Partial: {:?}",
                text(buf)
            );
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, buf)) = data.split_first() else {
        return;
    };
    let limits = limits(mode);
    if mode & 0x40 == 0 {
        fuzz_request(buf, &limits);
    } else {
        let method = if mode & 0x80 != 0 { Method::Head } else { Method::Get };
        fuzz_response(buf, &limits, method);
    }
});
