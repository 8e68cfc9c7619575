//! Head rewriting: exact output bytes for requests and responses.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::http1::{
    parse_request, parse_response, write_request_head, write_response_head, write_response_head_with, Forwarding,
    Limits, Method, Parsed, RequestHead, ResponseHead, ResponseOptions,
};

const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9));

fn rewrite(src: &[u8], fwd: &Forwarding<'_>) -> String {
    let mut head = RequestHead::new();
    assert_eq!(parse_request(src, &Limits::default(), &mut head), Ok(Parsed::Complete));
    let mut out = Vec::new();
    write_request_head(src, &head, fwd, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn https() -> Forwarding<'static> {
    Forwarding {
        client_ip: CLIENT,
        proto: "https",
        port: 443,
        host_override: None,
    }
}

#[test]
fn request_drops_untrusted_and_hop_by_hop_fields() {
    let src = b"POST /api/items?id=7 HTTP/1.1\r\n\
Host: app.example:8443\r\n\
User-Agent: curl/8.5.0\r\n\
X-Forwarded-For: 6.6.6.6\r\n\
X-Real-IP: 6.6.6.6\r\n\
x_forwarded_host: evil.example\r\n\
X-Forwarded-Proto: http\r\n\
Connection: keep-alive, X-Secret\r\n\
X-Secret: drop me\r\n\
Keep-Alive: timeout=5\r\n\
Proxy-Authorization: Basic Zm9vOmJhcg==\r\n\
Proxy-Connection: keep-alive\r\n\
TE: trailers\r\n\
Trailer: X-Sum\r\n\
Expect: 100-continue\r\n\
Content-Length: 5, 5\r\n\
Accept: */*\r\n\
Forwarded: for=6.6.6.6\r\n\
\r\n";
    let want = "POST /api/items?id=7 HTTP/1.1\r\n\
Host: app.example:8443\r\n\
User-Agent: curl/8.5.0\r\n\
Content-Length: 5\r\n\
Accept: */*\r\n\
Forwarded: for=6.6.6.6\r\n\
X-Forwarded-For: 203.0.113.9\r\n\
X-Forwarded-Proto: https\r\n\
X-Forwarded-Host: app.example:8443\r\n\
X-Forwarded-Port: 8443\r\n\
X-Real-Ip: 203.0.113.9\r\n\
\r\n";
    assert_eq!(rewrite(src, &https()), want);
}

#[test]
fn request_absolute_form_becomes_origin_form() {
    let src = b"GET http://Up.Example?q=1 HTTP/1.0\r\nHost: ignored.example\r\nAccept: */*\r\n\r\n";
    let fwd = Forwarding {
        client_ip: CLIENT,
        proto: "http",
        port: 80,
        host_override: None,
    };
    let want = "GET /?q=1 HTTP/1.1\r\n\
Host: Up.Example\r\n\
Accept: */*\r\n\
X-Forwarded-For: 203.0.113.9\r\n\
X-Forwarded-Proto: http\r\n\
X-Forwarded-Host: Up.Example\r\n\
X-Forwarded-Port: 80\r\n\
X-Real-Ip: 203.0.113.9\r\n\
\r\n";
    assert_eq!(rewrite(src, &fwd), want);

    let src = b"GET https://a.example:444/p/q HTTP/1.1\r\nHost: a.example:444\r\n\r\n";
    let out = rewrite(src, &https());
    assert!(out.starts_with("GET /p/q HTTP/1.1\r\nHost: a.example:444\r\n"), "{out}");
    assert!(out.contains("X-Forwarded-Port: 444\r\n"), "{out}");
}

#[test]
fn request_http10_without_host() {
    let src = b"GET /x HTTP/1.0\r\nUser-Agent: old\r\n\r\n";
    let want = "GET /x HTTP/1.1\r\n\
Host: \r\n\
User-Agent: old\r\n\
X-Forwarded-For: 203.0.113.9\r\n\
X-Forwarded-Proto: https\r\n\
X-Forwarded-Port: 443\r\n\
X-Real-Ip: 203.0.113.9\r\n\
\r\n";
    assert_eq!(rewrite(src, &https()), want);
}

#[test]
fn request_websocket_upgrade() {
    let src = b"GET /chat HTTP/1.1\r\n\
Host: chat.example\r\n\
Connection: keep-alive, Upgrade\r\n\
Upgrade: websocket\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Version: 13\r\n\
\r\n";
    let want = "GET /chat HTTP/1.1\r\n\
Host: chat.example\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Version: 13\r\n\
Connection: upgrade\r\n\
Upgrade: websocket\r\n\
X-Forwarded-For: 203.0.113.9\r\n\
X-Forwarded-Proto: wss\r\n\
X-Forwarded-Host: chat.example\r\n\
X-Forwarded-Port: 443\r\n\
X-Real-Ip: 203.0.113.9\r\n\
\r\n";
    assert_eq!(rewrite(src, &https()), want);
    let plain = rewrite(
        src,
        &Forwarding {
            client_ip: CLIENT,
            proto: "http",
            port: 80,
            host_override: None,
        },
    );
    assert!(plain.contains("X-Forwarded-Proto: ws\r\n"), "{plain}");

    // Upgrade without the Connection option is not an upgrade: the header is dropped.
    let src = b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n";
    let out = rewrite(src, &https());
    assert!(
        !out.contains("Upgrade") && out.contains("X-Forwarded-Proto: https"),
        "{out}"
    );
}

#[test]
fn request_framing_cannot_be_stripped_by_connection() {
    let src = b"POST / HTTP/1.1\r\nHost: a\r\nConnection: Content-Length, Host, Transfer-Encoding\r\nContent-Length: 3\r\n\r\n";
    let out = rewrite(src, &https());
    assert!(
        out.starts_with("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"),
        "{out}"
    );

    let src = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked \r\n\r\n";
    let out = rewrite(src, &https());
    assert!(
        out.starts_with("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nX-Forwarded-For"),
        "{out}"
    );
}

#[test]
fn request_ipv6_client() {
    let fwd = Forwarding {
        client_ip: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
        proto: "https",
        port: 443,
        host_override: None,
    };
    let out = rewrite(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", &fwd);
    assert!(
        out.contains("X-Forwarded-For: 2001:db8::1\r\n") && out.contains("X-Real-Ip: 2001:db8::1\r\n"),
        "{out}"
    );
    let mapped = Forwarding {
        client_ip: "::ffff:192.0.2.1".parse().expect("ip"),
        proto: "http",
        port: 80,
        host_override: None,
    };
    let out = rewrite(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", &mapped);
    assert!(out.contains("X-Forwarded-For: 192.0.2.1\r\n"), "{out}");
}

#[test]
fn output_is_appended_and_reparses() {
    let src = b"GET /a HTTP/1.1\r\nHost: a\r\n\r\n";
    let mut head = RequestHead::new();
    assert_eq!(parse_request(src, &Limits::default(), &mut head), Ok(Parsed::Complete));
    let mut out = b"prefix".to_vec();
    write_request_head(src, &head, &https(), &mut out);
    assert!(out.starts_with(b"prefixGET /a HTTP/1.1\r\n"));
    let written = out.get(6..).unwrap_or_default().to_vec();
    let mut again = RequestHead::new();
    assert_eq!(
        parse_request(&written, &Limits::default(), &mut again),
        Ok(Parsed::Complete)
    );
    assert_eq!(again.head_len, written.len());
}

// ---- responses ----

fn response(src: &[u8], method: Method, opts: ResponseOptions) -> String {
    let mut head = ResponseHead::new();
    assert_eq!(
        parse_response(src, &Limits::default(), method, &mut head),
        Ok(Parsed::Complete)
    );
    let mut out = Vec::new();
    write_response_head_with(src, &head, opts, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

const KEEP: ResponseOptions = ResponseOptions {
    keep_alive: true,
    client_minor: 1,
};
const CLOSE: ResponseOptions = ResponseOptions {
    keep_alive: false,
    client_minor: 1,
};

#[test]
fn response_drops_hop_by_hop_fields() {
    let src = b"HTTP/1.0 200 Fine\r\n\
Content-Type: text/plain\r\n\
Connection: keep-alive, X-Internal\r\n\
X-Internal: secret\r\n\
Keep-Alive: timeout=5\r\n\
Proxy-Authenticate: Basic\r\n\
Content-Length: 12\r\n\
\r\n";
    let kept = "HTTP/1.1 200 Fine\r\n\
Content-Type: text/plain\r\n\
Content-Length: 12\r\n\
\r\n";
    assert_eq!(response(src, Method::Get, KEEP), kept);
    let closed = "HTTP/1.1 200 Fine\r\n\
Content-Type: text/plain\r\n\
Content-Length: 12\r\n\
Connection: close\r\n\
\r\n";
    assert_eq!(response(src, Method::Get, CLOSE), closed);

    let mut head = ResponseHead::new();
    assert_eq!(
        parse_response(src, &Limits::default(), Method::Get, &mut head),
        Ok(Parsed::Complete)
    );
    let mut out = Vec::new();
    write_response_head(src, &head, false, &mut out);
    assert_eq!(String::from_utf8_lossy(&out), closed);
}

#[test]
fn response_keeps_framing_as_received() {
    let src = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nConnection: Transfer-Encoding\r\n\r\n";
    assert_eq!(
        response(src, Method::Get, KEEP),
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
    );
    // HEAD: no body, but the length is passed on
    let src = b"HTTP/1.1 200 OK\r\nContent-Length: 100, 100\r\n\r\n";
    assert_eq!(
        response(src, Method::Head, KEEP),
        "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
    );
    // a close-delimited body always ends the client connection
    let src = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n";
    assert_eq!(
        response(src, Method::Get, KEEP),
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
    );
}

#[test]
fn response_switching_protocols() {
    let src = b"HTTP/1.1 101 Switching Protocols\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
\r\n";
    let want = "HTTP/1.1 101 Switching Protocols\r\n\
Upgrade: websocket\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
Connection: upgrade\r\n\
\r\n";
    assert_eq!(response(src, Method::Get, KEEP), want);
    assert_eq!(response(src, Method::Get, CLOSE), want);
}

#[test]
fn response_to_http10_client() {
    let ten_keep = ResponseOptions {
        keep_alive: true,
        client_minor: 0,
    };
    // chunked: TE removed (payload is forwarded de-chunked) and the connection closes
    let src = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n";
    assert_eq!(
        response(src, Method::Get, ten_keep),
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
    );
    let mut head = ResponseHead::new();
    assert_eq!(
        parse_response(src, &Limits::default(), Method::Get, &mut head),
        Ok(Parsed::Complete)
    );
    let mut out = Vec::new();
    crate::http1::write_response_head_dechunked(src, &head, &mut out);
    assert_eq!(
        out,
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
    );
    // with a length, keep-alive must be stated for a 1.0 client
    let src = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";
    assert_eq!(
        response(src, Method::Get, ten_keep),
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n"
    );
}

#[test]
fn response_reason_is_passed_as_received() {
    let src = b"HTTP/1.1 404 Pas trouv\xe9\r\nContent-Length: 0\r\n\r\n";
    let mut head = ResponseHead::new();
    assert_eq!(
        parse_response(src, &Limits::default(), Method::Get, &mut head),
        Ok(Parsed::Complete)
    );
    let mut out = Vec::new();
    write_response_head(src, &head, true, &mut out);
    assert_eq!(out, b"HTTP/1.1 404 Pas trouv\xe9\r\nContent-Length: 0\r\n\r\n");
    let src = b"HTTP/1.1 204\r\n\r\n";
    assert_eq!(response(src, Method::Get, KEEP), "HTTP/1.1 204 \r\n\r\n");
}

#[test]
fn request_host_override_replaces_host_but_not_x_forwarded_host() {
    let fwd = Forwarding {
        client_ip: IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 7)),
        proto: "http",
        port: 80,
        host_override: Some(b"10.50.0.2:24207"),
    };
    let out = rewrite(b"GET /x HTTP/1.1\r\nHost: app.example\r\n\r\n", &fwd);
    assert!(out.contains("Host: 10.50.0.2:24207\r\n"), "{out}");
    assert!(out.contains("X-Forwarded-Host: app.example\r\n"), "{out}");
    assert!(
        !out.contains("Host: app.example\r\n\r\n") && out.matches("\r\nHost: ").count() == 1,
        "{out}"
    );
}
