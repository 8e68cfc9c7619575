//! Request heads: every strict rule with a concrete byte string, spans, partial input, pipelining.

use crate::http1::{
    parse_request, BodyKind, ConnFlags, HeadError, HeaderKind, Limits, Method, Parsed, RequestHead, TargetForm,
};

fn parse(buf: &[u8]) -> Result<RequestHead, HeadError> {
    let mut head = RequestHead::new();
    match parse_request(buf, &Limits::default(), &mut head)? {
        Parsed::Complete => Ok(head),
        Parsed::Partial => panic!("unexpected Partial for {}", String::from_utf8_lossy(buf)),
    }
}

fn status(buf: &[u8]) -> u16 {
    match parse(buf) {
        Ok(_) => 200,
        Err(e) => e.status(),
    }
}

fn text(buf: &[u8], span: Option<crate::http1::Span>) -> Option<String> {
    span.map(|s| String::from_utf8_lossy(s.get(buf)).into_owned())
}

const BROWSER: &[u8] = b"GET /app/index.html?lang=en&x=1 HTTP/1.1\r\n\
Host: my-app.route.example\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Connection: keep-alive\r\n\
Cookie: session=abc123; theme=dark\r\n\
Upgrade-Insecure-Requests: 1\r\n\
\r\n";

#[test]
fn parses_a_browser_request() {
    let head = parse(BROWSER).expect("valid");
    let b = BROWSER;
    assert_eq!(head.head_len, BROWSER.len());
    assert_eq!(head.method, Method::Get);
    assert_eq!(head.method_span.get(b), b"GET");
    assert_eq!(head.target.get(b), b"/app/index.html?lang=en&x=1");
    assert_eq!(head.form, TargetForm::Origin);
    assert_eq!(head.path.get(b), b"/app/index.html");
    assert_eq!(text(b, head.query).as_deref(), Some("lang=en&x=1"));
    assert_eq!(head.authority, None);
    assert_eq!(text(b, head.host).as_deref(), Some("my-app.route.example"));
    assert_eq!(text(b, head.host_name).as_deref(), Some("my-app.route.example"));
    assert_eq!(head.host_port, None);
    assert_eq!(head.version_minor, 1);
    assert_eq!(head.body, BodyKind::None);
    assert_eq!(
        head.conn,
        ConnFlags {
            close: false,
            keep_alive: true,
            upgrade: false
        }
    );
    assert!(head.keep_alive());
    assert!(!head.expect_continue);
    assert_eq!(head.headers.len(), 8);
    let first = head.headers.first().copied().expect("headers");
    assert_eq!(first.kind, HeaderKind::Host);
    assert_eq!(first.name.get(b), b"Host");
    assert_eq!(first.value.get(b), b"my-app.route.example");
}

#[test]
fn every_prefix_is_partial_and_limits_hold() {
    for n in 0..BROWSER.len() {
        let mut head = RequestHead::new();
        let prefix = BROWSER.get(..n).unwrap_or_default();
        assert_eq!(
            parse_request(prefix, &Limits::default(), &mut head),
            Ok(Parsed::Partial),
            "prefix {n}"
        );
    }
}

#[test]
fn pipelined_requests_split_at_the_boundary() {
    let first = b"GET /one HTTP/1.1\r\nHost: a\r\n\r\n";
    let second = b"POST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
    let mut buf = first.to_vec();
    buf.extend_from_slice(second);
    let mut head = RequestHead::new();
    assert_eq!(parse_request(&buf, &Limits::default(), &mut head), Ok(Parsed::Complete));
    assert_eq!(head.head_len, first.len());
    assert_eq!(head.path.get(&buf), b"/one");

    let rest = buf.get(head.head_len..).unwrap_or_default();
    assert_eq!(parse_request(rest, &Limits::default(), &mut head), Ok(Parsed::Complete));
    assert_eq!(head.method, Method::Post);
    assert_eq!(head.body, BodyKind::Length(3));
    assert_eq!(rest.get(head.head_len..), Some(&b"abc"[..]));
}

#[test]
fn head_is_reused_without_losing_capacity() {
    let mut head = RequestHead::new();
    assert_eq!(
        parse_request(BROWSER, &Limits::default(), &mut head),
        Ok(Parsed::Complete)
    );
    let cap = head.headers.capacity();
    let small = b"GET / HTTP/1.1\r\nHost: b\r\n\r\n";
    assert_eq!(
        parse_request(small, &Limits::default(), &mut head),
        Ok(Parsed::Complete)
    );
    assert_eq!(head.headers.len(), 1);
    assert_eq!(head.headers.capacity(), cap);
    assert_eq!(head.conn, ConnFlags::default());
    assert_eq!(head.query, None);
}

#[test]
fn leading_empty_lines_are_skipped() {
    let buf = b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
    let head = parse(buf).expect("valid");
    assert_eq!(head.head_len, buf.len());
    assert_eq!(head.method_span.get(buf), b"GET");
    assert_eq!(status(b"\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
}

// ---- framing ----

#[test]
fn framing_rules() {
    let cases: &[(&[u8], u16)] = &[
        // both CL and TE
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            400,
        ),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
            400,
        ),
        // differing CL headers and lists
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            400,
        ),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n", 400),
        // malformed CL
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 5\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", 400),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n",
            400,
        ),
        // TE other than exactly chunked
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
            400,
        ),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            400,
        ),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n",
            400,
        ),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n", 400),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            400,
        ),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n",
            400,
        ),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n",
            400,
        ),
        // TE in HTTP/1.0
        (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
    ];
    for (buf, want) in cases {
        assert_eq!(status(buf), *want, "{}", String::from_utf8_lossy(buf));
        assert!(matches!(parse(buf), Err(HeadError::BadFraming(_))));
    }
}

#[test]
fn framing_accepted() {
    let h = parse(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n");
    assert_eq!(
        h.map(|h| (h.body, h.content_length)),
        Ok((BodyKind::Length(5), Some(5)))
    );
    let h = parse(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7, 7\r\n\r\n");
    assert_eq!(h.map(|h| h.body), Ok(BodyKind::Length(7)));
    let h = parse(b"POST / HTTP/1.1\r\nHost: a\r\ntransfer-encoding:  Chunked \r\n\r\n");
    assert_eq!(h.map(|h| (h.body, h.content_length)), Ok((BodyKind::Chunked, None)));
    let h = parse(b"POST / HTTP/1.0\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(h.map(|h| h.body), Ok(BodyKind::Length(0)));
}

// ---- field syntax ----

#[test]
fn field_syntax_rules() {
    let cases: &[&[u8]] = &[
        // obs-fold, on a later and on the first field line
        b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\n\r\n",
        b"GET / HTTP/1.1\r\n Host: a\r\n\r\n",
        // bare CR in a value and at a line end
        b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\r\n\r\n",
        // bare LF as a line end: request line, field line, final line
        b"GET / HTTP/1.1\nHost: a\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\nX-A: b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\n\n",
        b"GET / HTTP/1.1\nHost: a\n\n",
        // NUL and control bytes in a value
        b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x00c\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x0bc\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x7fc\r\n\r\n",
        // whitespace between name and colon
        b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\n",
        // invalid name bytes, empty name
        b"GET / HTTP/1.1\r\nHost: a\r\nX(A): b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nX\x80A: b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nnocolon\r\n\r\n",
        // Connection options must be tokens
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: \"close\"\r\n\r\n",
    ];
    for buf in cases {
        assert_eq!(status(buf), 400, "{}", String::from_utf8_lossy(buf));
    }
}

#[test]
fn obs_text_and_tabs_in_values_are_allowed() {
    let buf = b"GET / HTTP/1.1\r\nHost: a\r\nX-Name: caf\xc3\xa9\t\x80\xff end\r\nX-Empty:\r\n\r\n";
    let head = parse(buf).expect("valid");
    let x = head.headers.get(1).copied().expect("header");
    assert_eq!(x.value.get(buf), b"caf\xc3\xa9\t\x80\xff end");
    let empty = head.headers.get(2).copied().expect("header");
    assert_eq!(empty.value.get(buf), b"");
}

// ---- Host ----

#[test]
fn host_rules() {
    let cases: &[(&[u8], u16)] = &[
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost:\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost:   \r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a%2eexample\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: user@a.example\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a.example/x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a.example:99999\r\n\r\n", 400),
        (b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        (b"GET / HTTP/1.0\r\nHost: a/b\r\n\r\n", 400),
        (b"GET / HTTP/1.0\r\n\r\n", 200),
        (b"GET / HTTP/1.0\r\nHost:\r\n\r\n", 200),
        (b"GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", 200),
        (b"GET / HTTP/1.1\r\nHost: My_App.Example:80\r\n\r\n", 200),
    ];
    for (buf, want) in cases {
        assert_eq!(status(buf), *want, "{}", String::from_utf8_lossy(buf));
    }
}

#[test]
fn host_parts() {
    let buf = b"GET / HTTP/1.1\r\nHost: a.example:8443\r\n\r\n";
    let head = parse(buf).expect("valid");
    assert_eq!(text(buf, head.host).as_deref(), Some("a.example:8443"));
    assert_eq!(text(buf, head.host_name).as_deref(), Some("a.example"));
    assert_eq!(head.host_port, Some(8443));

    let buf = b"GET / HTTP/1.0\r\n\r\n";
    let head = parse(buf).expect("valid");
    assert_eq!((head.host, head.host_name, head.host_port), (None, None, None));
    assert!(!head.keep_alive());
}

// ---- request line and target ----

#[test]
fn request_line_rules() {
    let cases: &[(&[u8], u16)] = &[
        (b"GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505),
        (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
        (b"GET / HTTP/0.9\r\n\r\n", 505),
        (b"GET /\r\n\r\n", 505),
        (b"GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400),
        (b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET / HTTP/1.1 extra\r\nHost: a\r\n\r\n", 400),
        (b"GET / FOO/1.1\r\nHost: a\r\n\r\n", 400),
        (b"G@T / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"G\x80T / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400),
        (b"GET index.html HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET /a\x00 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET ftp://a/x HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET http://u@a/x HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 200),
        (b"PROPFIND /dav HTTP/1.1\r\nHost: a\r\n\r\n", 200),
    ];
    for (buf, want) in cases {
        let mut head = RequestHead::new();
        let got = match parse_request(buf, &Limits::default(), &mut head) {
            Ok(_) => 200,
            Err(e) => e.status(),
        };
        assert_eq!(got, *want, "{}", String::from_utf8_lossy(buf));
    }
}

#[test]
fn absolute_form_overrides_host() {
    let buf = b"GET HTTP://Up.Example:8080?q=1 HTTP/1.1\r\nHost: other.example\r\n\r\n";
    let head = parse(buf).expect("valid");
    assert_eq!(head.form, TargetForm::Absolute);
    assert_eq!(text(buf, head.authority).as_deref(), Some("Up.Example:8080"));
    assert_eq!(text(buf, head.host).as_deref(), Some("Up.Example:8080"));
    assert_eq!(text(buf, head.host_name).as_deref(), Some("Up.Example"));
    assert_eq!(head.host_port, Some(8080));
    assert!(head.origin_form_missing_slash);
    assert!(head.path.is_empty());
    assert_eq!(text(buf, head.query).as_deref(), Some("q=1"));

    // HTTP/1.0 absolute-form without Host: host comes from the authority
    let buf = b"GET http://a.example/x HTTP/1.0\r\n\r\n";
    let head = parse(buf).expect("valid");
    assert_eq!(text(buf, head.host).as_deref(), Some("a.example"));
    assert_eq!(head.path.get(buf), b"/x");
}

#[test]
fn connect_is_returned_for_the_caller_to_refuse() {
    let buf = b"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n";
    let head = parse(buf).expect("valid");
    assert_eq!(head.method, Method::Connect);
    assert_eq!(head.form, TargetForm::Authority);
    assert_eq!(head.target.get(buf), b"a.example:443");
}

#[test]
fn asterisk_form() {
    let buf = b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n";
    let head = parse(buf).expect("valid");
    assert_eq!(head.form, TargetForm::Asterisk);
    assert_eq!(head.path.get(buf), b"*");
}

// ---- limits ----

#[test]
fn oversize_head_is_431_even_while_partial() {
    let limits = Limits {
        max_head: 1024,
        ..Limits::default()
    };
    let mut buf = b"GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ".to_vec();
    let mut head = RequestHead::new();
    while buf.len() <= 1024 {
        assert_eq!(parse_request(&buf, &limits, &mut head), Ok(Parsed::Partial));
        buf.push(b'x');
    }
    assert_eq!(parse_request(&buf, &limits, &mut head), Err(HeadError::HeadTooLarge));
    assert_eq!(HeadError::HeadTooLarge.status(), 431);

    // complete but too large
    buf.extend_from_slice(b"\r\n\r\n");
    assert_eq!(parse_request(&buf, &limits, &mut head), Err(HeadError::HeadTooLarge));

    // a run of empty lines cannot grow the buffer either
    let crlfs = b"\r\n".repeat(513);
    assert_eq!(parse_request(&crlfs, &limits, &mut head), Err(HeadError::HeadTooLarge));
}

#[test]
fn head_exactly_at_the_limit_is_accepted() {
    let base = b"GET / HTTP/1.1\r\nHost: a\r\nX-Pad: \r\n\r\n";
    let mut buf = b"GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ".to_vec();
    buf.extend(std::iter::repeat_n(b'x', 1024 - base.len()));
    buf.extend_from_slice(b"\r\n\r\n");
    assert_eq!(buf.len(), 1024);
    let limits = Limits {
        max_head: 1024,
        ..Limits::default()
    };
    let mut head = RequestHead::new();
    assert_eq!(parse_request(&buf, &limits, &mut head), Ok(Parsed::Complete));
}

#[test]
fn long_target_is_414_even_while_partial() {
    let limits = Limits {
        max_target: 100,
        ..Limits::default()
    };
    let mut head = RequestHead::new();
    let mut buf = b"GET /".to_vec();
    buf.extend(std::iter::repeat_n(b'a', 99));
    assert_eq!(parse_request(&buf, &limits, &mut head), Ok(Parsed::Partial));
    buf.push(b'a');
    assert_eq!(parse_request(&buf, &limits, &mut head), Err(HeadError::TargetTooLong));
    assert_eq!(HeadError::TargetTooLong.status(), 414);
    // and when complete
    buf.extend_from_slice(b" HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(parse_request(&buf, &limits, &mut head), Err(HeadError::TargetTooLong));
}

#[test]
fn too_many_headers_is_431() {
    let limits = Limits {
        max_headers: 4,
        ..Limits::default()
    };
    let mut head = RequestHead::new();
    let ok = b"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    assert_eq!(parse_request(ok, &limits, &mut head), Ok(Parsed::Complete));
    let bad = b"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";
    assert_eq!(parse_request(bad, &limits, &mut head), Err(HeadError::TooManyHeaders));
    assert_eq!(HeadError::TooManyHeaders.status(), 431);
}

#[test]
fn early_errors_while_partial() {
    let mut head = RequestHead::new();
    let l = Limits::default();
    assert_eq!(
        parse_request(b"GET / HTTP/1.2", &l, &mut head),
        Err(HeadError::VersionNotSupported)
    );
    assert!(parse_request(b"G(T", &l, &mut head).is_err());
    assert!(parse_request(b"GET / HTTP/1.1\nHost", &l, &mut head).is_err());
    assert_eq!(parse_request(b"\r", &l, &mut head), Ok(Parsed::Partial));
    assert_eq!(parse_request(b"", &l, &mut head), Ok(Parsed::Partial));
}

// ---- Connection, Upgrade, Expect ----

#[test]
fn connection_flags() {
    let buf = b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, X-Foo\r\nconnection: UPGRADE\r\nUpgrade: websocket\r\n\r\n";
    let head = parse(buf).expect("valid");
    assert_eq!(
        head.conn,
        ConnFlags {
            close: false,
            keep_alive: true,
            upgrade: true
        }
    );
    assert_eq!(text(buf, head.upgrade).as_deref(), Some("websocket"));

    let buf = b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nUpgrade: websocket\r\n\r\n";
    let head = parse(buf).expect("valid");
    assert!(head.conn.close && !head.keep_alive());
    assert_eq!(head.upgrade, None);

    let buf = b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
    assert!(parse(buf).expect("valid").keep_alive());

    let many = format!(
        "GET / HTTP/1.1\r\nHost: a\r\nConnection: {}\r\n\r\n",
        vec!["x"; 33].join(",")
    );
    assert_eq!(status(many.as_bytes()), 400);
}

#[test]
fn expect_rules() {
    let buf = b"PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 9\r\n\r\n";
    assert!(parse(buf).expect("valid").expect_continue);
    let buf = b"PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 9\r\n\r\n";
    assert!(!parse(buf).expect("valid").expect_continue);
    assert_eq!(status(b"PUT / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n"), 417);
    assert_eq!(
        status(b"PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, x\r\n\r\n"),
        417
    );
    assert_eq!(status(b"PUT / HTTP/1.1\r\nHost: a\r\nExpect:\r\n\r\n"), 417);
}

#[test]
fn error_statuses() {
    assert_eq!(HeadError::BadFraming("x").status(), 400);
    assert_eq!(HeadError::ExpectationFailed.status(), 417);
    assert_eq!(HeadError::VersionNotSupported.status(), 505);
    assert_eq!(HeadError::BadStatusLine("x").status(), 502);
}
