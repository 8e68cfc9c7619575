//! Response heads: body kinds per RFC 9112 §6.3, status line and framing errors.

use crate::http1::{parse_response, BodyKind, HeadError, Limits, Method, Parsed, ResponseHead};

fn parse(buf: &[u8], method: Method) -> Result<ResponseHead, HeadError> {
    let mut head = ResponseHead::new();
    match parse_response(buf, &Limits::default(), method, &mut head)? {
        Parsed::Complete => Ok(head),
        Parsed::Partial => panic!("unexpected Partial for {}", String::from_utf8_lossy(buf)),
    }
}

fn body(buf: &[u8], method: Method) -> Result<BodyKind, HeadError> {
    parse(buf, method).map(|h| h.body)
}

const TYPICAL: &[u8] = b"HTTP/1.1 200 OK\r\n\
Date: Mon, 27 Jul 2026 12:28:53 GMT\r\n\
Server: Apache\r\n\
Last-Modified: Wed, 22 Jul 2026 19:15:56 GMT\r\n\
ETag: \"34aa387-d-1568eb00\"\r\n\
Content-Type: text/html; charset=utf-8\r\n\
Content-Length: 5120\r\n\
Cache-Control: max-age=3600\r\n\
Vary: Accept-Encoding\r\n\
\r\n";

#[test]
fn parses_a_typical_response() {
    let head = parse(TYPICAL, Method::Get).expect("valid");
    assert_eq!(head.head_len, TYPICAL.len());
    assert_eq!(head.status, 200);
    assert_eq!(head.version_minor, 1);
    assert_eq!(head.reason.get(TYPICAL), b"OK");
    assert_eq!(head.body, BodyKind::Length(5120));
    assert_eq!(head.content_length, Some(5120));
    assert_eq!(head.headers.len(), 8);
    assert!(head.keep_alive());
    for n in 0..TYPICAL.len() {
        let mut h = ResponseHead::new();
        let prefix = TYPICAL.get(..n).unwrap_or_default();
        assert_eq!(
            parse_response(prefix, &Limits::default(), Method::Get, &mut h),
            Ok(Parsed::Partial),
            "prefix {n}"
        );
    }
}

#[test]
fn body_kinds() {
    let g = Method::Get;
    let cl = b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n";
    assert_eq!(body(cl, g), Ok(BodyKind::Length(12)));
    // HEAD: no body even with CL (CL kept for the writer)
    let h = parse(cl, Method::Head).expect("valid");
    assert_eq!((h.body, h.content_length), (BodyKind::None, Some(12)));
    assert_eq!(
        body(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", Method::Head),
        Ok(BodyKind::None)
    );
    // 204, 304, 1xx
    assert_eq!(
        body(b"HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n", g),
        Ok(BodyKind::None)
    );
    assert_eq!(
        body(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 3\r\n\r\n", g),
        Ok(BodyKind::None)
    );
    assert_eq!(body(b"HTTP/1.1 100 Continue\r\n\r\n", g), Ok(BodyKind::None));
    assert_eq!(
        body(
            b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
            g
        ),
        Ok(BodyKind::None)
    );
    assert_eq!(
        body(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n", g),
        Ok(BodyKind::None)
    );
    // chunked: final coding chunked
    assert_eq!(
        body(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", g),
        Ok(BodyKind::Chunked)
    );
    assert_eq!(
        body(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n", g),
        Ok(BodyKind::Chunked)
    );
    assert_eq!(
        body(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
            g
        ),
        Ok(BodyKind::Chunked)
    );
    // TE not ending in chunked: read until close
    assert_eq!(
        body(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", g),
        Ok(BodyKind::CloseDelimited)
    );
    assert_eq!(
        body(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", g),
        Ok(BodyKind::CloseDelimited)
    );
    // neither: until close
    let close = parse(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n", g).expect("valid");
    assert_eq!(close.body, BodyKind::CloseDelimited);
    assert!(!close.keep_alive());
    assert_eq!(body(b"HTTP/1.0 200 OK\r\n\r\n", g), Ok(BodyKind::CloseDelimited));
    // 404 with a length
    assert_eq!(
        body(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", g),
        Ok(BodyKind::Length(0))
    );
}

#[test]
fn keep_alive_rules() {
    let h = parse(b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", Method::Get).expect("valid");
    assert!(!h.keep_alive());
    let h = parse(
        b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n",
        Method::Get,
    )
    .expect("valid");
    assert!(h.keep_alive());
    let h = parse(
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n",
        Method::Get,
    )
    .expect("valid");
    assert!(h.conn.close && !h.keep_alive());
}

#[test]
fn rejected_responses() {
    let g = Method::Get;
    let cases: &[&[u8]] = &[
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, ,chunked\r\n\r\n",
        b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 600 Nope\r\n\r\n",
        b"HTTP/1.1 099 Nope\r\n\r\n",
        b"HTTP/1.1 20 OK\r\n\r\n",
        b"HTTP/1.2 200 OK\r\n\r\n",
        b"HTTP/2 200\r\n\r\n",
        b"HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\n\n",
        b"HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX : a\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: a\x00\r\n\r\n",
        b"HTTP/1.1 200 O\x01K\r\n\r\n",
    ];
    for buf in cases {
        assert!(parse(buf, g).is_err(), "{}", String::from_utf8_lossy(buf));
    }
}

#[test]
fn reason_may_be_missing_or_carry_obs_text() {
    let buf = b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n";
    let h = parse(buf, Method::Get).expect("valid");
    assert!(h.reason.is_empty());
    let buf = b"HTTP/1.1 200 D\xe9j\xe0 vu\r\nContent-Length: 0\r\n\r\n";
    let h = parse(buf, Method::Get).expect("valid");
    assert_eq!(h.reason.get(buf), b"D\xe9j\xe0 vu");
}

#[test]
fn oversize_response_head_is_an_error_while_partial() {
    let limits = Limits {
        max_head: 256,
        ..Limits::default()
    };
    let mut buf = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
    buf.extend(std::iter::repeat_n(b'a', 300));
    let mut h = ResponseHead::new();
    assert_eq!(
        parse_response(&buf, &limits, Method::Get, &mut h),
        Err(HeadError::HeadTooLarge)
    );
}

#[test]
fn early_status_line_errors() {
    let mut h = ResponseHead::new();
    assert!(parse_response(b"SSH-2.0-OpenSSH", &Limits::default(), Method::Get, &mut h).is_err());
    assert!(parse_response(b"HTTP/1.1 999", &Limits::default(), Method::Get, &mut h).is_err());
}
