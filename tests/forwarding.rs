//! Forwarding through the real proxy: upstream keep-alive, chunked bodies, pipelining,
//! WebSocket tunnels, forwarding headers and longest-prefix routing.
#![allow(clippy::unwrap_used)]

mod common;

use common::client::{get, get_request, Framing};
use common::proxy::{config, routes, Opts, Proxy};
use common::upstream::{chunked, echo, raw, ws_echo, Upstream};
use common::{fnv, pattern_bytes, ws};

#[test]
fn upstream_connection_is_reused_across_client_connections() {
    let up = Upstream::start(echo());
    let proxy = Proxy::start(
        &config(&Opts {
            workers: 1,
            ..Opts::default()
        }),
        &routes(&[("x.test", up.port)]),
    );
    for i in 0..50 {
        let mut c = proxy.connect();
        // Half of the clients ask to close their connection: that is hop-by-hop and must
        // not close the pooled upstream connection.
        let close = if i % 2 == 0 { "Connection: close\r\n" } else { "" };
        c.send(format!("GET /r{i} HTTP/1.1\r\nHost: x.test\r\n{close}\r\n").as_bytes());
        let r = c.read_response("GET").unwrap();
        assert_eq!(r.status, 200, "request {i}: {}", r.body_str());
        assert!(r.body_str().contains(&format!("path=/r{i}\n")), "{}", r.body_str());
    }
    assert_eq!(up.completed_requests(), 50);
    assert_eq!(
        up.accepted(),
        1,
        "50 sequential requests should share one pooled upstream connection"
    );
}

#[test]
fn chunked_bodies_pass_both_ways() {
    let body_up = Upstream::start(echo());
    let pieces: Vec<Vec<u8>> = vec![
        b"first chunk|".to_vec(),
        pattern_bytes(5000),
        b"|".to_vec(),
        pattern_bytes(70_000),
        b"last".to_vec(),
    ];
    let chunk_up = Upstream::start(chunked(
        pieces.clone(),
        vec![("X-Checksum".to_string(), "whatever".to_string())],
    ));
    let proxy = Proxy::start(
        &config(&Opts::default()),
        &routes(&[("up.test", body_up.port), ("down.test", chunk_up.port)]),
    );

    // Request: several chunks (one with an extension) and a trailer.
    let mut req = b"POST /upload HTTP/1.1\r\nHost: up.test\r\nTransfer-Encoding: chunked\r\nContent-Type: application/octet-stream\r\n\r\n".to_vec();
    let mut expected = Vec::new();
    for (i, p) in [&b"hello"[..], &pattern_bytes(3000), b"x", &pattern_bytes(40_000)]
        .iter()
        .enumerate()
    {
        let ext = if i == 1 { ";name=value" } else { "" };
        req.extend_from_slice(format!("{:x}{ext}\r\n", p.len()).as_bytes());
        req.extend_from_slice(p);
        req.extend_from_slice(b"\r\n");
        expected.extend_from_slice(p);
    }
    req.extend_from_slice(b"0\r\nX-Trailer: yes\r\n\r\n");
    let mut c = proxy.connect();
    c.send(&req);
    let r = c.read_final_response("POST").unwrap();
    assert_eq!(r.status, 200, "{}", r.body_str());
    let got = body_up.requests();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].target, "/upload");
    assert_eq!(got[0].body_len, expected.len() as u64, "request body length");
    assert_eq!(got[0].body_fnv, Some(fnv(&expected)), "request body checksum");
    // The connection stays usable after a chunked request.
    c.send(&get_request("up.test", "/after"));
    let r = c.read_response("GET").unwrap();
    assert_eq!(r.status, 200);
    assert!(r.body_str().contains("path=/after\n"));

    // Response: chunked from the upstream, chunked at the client.
    let mut c = proxy.connect();
    c.send(&get_request("down.test", "/stream"));
    let r = c.read_response("GET").unwrap();
    assert_eq!(r.status, 200);
    assert!(
        r.has_token("transfer-encoding", "chunked"),
        "chunked framing not preserved: {:?}",
        r.headers
    );
    assert_eq!(r.framing, Framing::Chunked);
    assert!(r.header("content-length").is_none());
    assert_eq!(r.body, pieces.concat(), "response body");
    // And the client connection is still usable after the chunked response.
    c.send(&get_request("up.test", "/again"));
    let r = c.read_response("GET").unwrap();
    assert!(r.body_str().contains("path=/again\n"));
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let up = Upstream::start(echo());
    let proxy = Proxy::start(&config(&Opts::default()), &routes(&[("x.test", up.port)]));
    let mut c = proxy.connect();
    let mut all = Vec::new();
    for p in ["/a", "/b", "/c"] {
        all.extend_from_slice(&get_request("x.test", p));
    }
    c.send(&all); // one write()
    for p in ["/a", "/b", "/c"] {
        let r = c.read_response("GET").unwrap();
        assert_eq!(r.status, 200);
        assert!(
            r.body_str().contains(&format!("path={p}\n")),
            "expected the response to {p}, got:\n{}",
            r.body_str()
        );
    }
    assert_eq!(up.completed_requests(), 3);
}

#[test]
fn pipelined_request_with_a_body_keeps_the_order() {
    let up = Upstream::start(echo());
    let proxy = Proxy::start(&config(&Opts::default()), &routes(&[("x.test", up.port)]));
    let mut c = proxy.connect();
    let mut all = b"POST /p HTTP/1.1\r\nHost: x.test\r\nContent-Length: 11\r\n\r\nhello world".to_vec();
    all.extend_from_slice(
        b"POST /q HTTP/1.1\r\nHost: x.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    );
    all.extend_from_slice(&get_request("x.test", "/r"));
    c.send(&all);
    for (p, len) in [("/p", 11), ("/q", 3), ("/r", 0)] {
        let r = c.read_response("GET").unwrap();
        assert_eq!(r.status, 200);
        let body = r.body_str();
        assert!(body.contains(&format!("path={p}\n")), "expected {p}:\n{body}");
        assert!(body.contains(&format!("body-len={len}\n")), "{p}:\n{body}");
    }
}

#[test]
fn upstream_closing_a_pooled_connection_is_not_a_client_error() {
    // Every upstream connection serves one keep-alive response, then the upstream closes it.
    let up = Upstream::start(raw(&b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"[..]));
    let proxy = Proxy::start(&config(&Opts::default()), &routes(&[("x.test", up.port)]));
    for (i, pause) in [0u64, 0, 200, 0, 200].into_iter().enumerate() {
        std::thread::sleep(std::time::Duration::from_millis(pause));
        let r = get(proxy.web_port, "x.test", "/");
        assert_eq!(
            r.status, 200,
            "request {i}: a closed pooled connection surfaced as {}",
            r.status
        );
        assert_eq!(r.body, b"ok");
    }
    assert_eq!(up.accepted(), 5);
}

#[test]
fn websocket_is_tunnelled() {
    let up = Upstream::start(ws_echo());
    let proxy = Proxy::start(&config(&Opts::default()), &routes(&[("ws.test", up.port)]));
    let key = "dGhlIHNhbXBsZSBub25jZQ==";
    let mut c = proxy.connect();
    c.send(
        format!(
            "GET /chat HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .as_bytes(),
    );
    let r = c.read_head().unwrap();
    assert_eq!(r.status, 101, "handshake failed: {:?}", r.headers);
    assert!(r.has_token("upgrade", "websocket"), "{:?}", r.headers);
    assert!(r.has_token("connection", "upgrade"), "{:?}", r.headers);
    assert_eq!(r.header("sec-websocket-accept"), Some(ws::accept_key(key).as_str()));
    assert_eq!(ws::accept_key(key), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");

    let messages: Vec<(u8, Vec<u8>)> = vec![
        (ws::OP_TEXT, b"hello through ringress".to_vec()),
        (ws::OP_BINARY, pattern_bytes(300)),
        (ws::OP_BINARY, pattern_bytes(100_000)),
    ];
    for (i, (op, payload)) in messages.iter().enumerate() {
        let mask = [0x11, 0x22, 0x33, i as u8];
        c.send(&ws::encode_frame(*op, payload, Some(mask)));
        let f = ws::read_frame(&mut c.wire, 1 << 20).unwrap();
        assert!(f.fin);
        assert!(!f.masked, "server frames are never masked");
        assert_eq!(f.opcode, *op);
        assert_eq!(&f.payload, payload, "message {i}");
    }
    c.send(&ws::encode_frame(ws::OP_CLOSE, &[0x03, 0xe8], Some([9, 9, 9, 9])));
    let f = ws::read_frame(&mut c.wire, 1024).unwrap();
    assert_eq!(f.opcode, ws::OP_CLOSE);
    assert_eq!(f.payload, vec![0x03, 0xe8]);
    assert_eq!(up.accepted(), 1);
}

#[test]
fn forwarding_headers_are_set_fresh_and_hop_by_hop_removed() {
    let up = Upstream::start(echo());
    let proxy = Proxy::start(&config(&Opts::default()), &routes(&[("x.test", up.port)]));
    let mut c = proxy.connect();
    c.send(
        b"GET /hdr?q=1 HTTP/1.1\r\n\
          Host: X.Test\r\n\
          X-Forwarded-For: 6.6.6.6\r\n\
          X-Real-Ip: 6.6.6.6\r\n\
          X-Forwarded-Proto: https\r\n\
          X-Forwarded-Host: evil.test\r\n\
          X-Forwarded-Port: 9999\r\n\
          Connection: keep-alive, x-secret\r\n\
          X-Secret: hunter2\r\n\
          Keep-Alive: timeout=5\r\n\
          Proxy-Connection: keep-alive\r\n\
          X-Custom: kept\r\n\
          \r\n",
    );
    let r = c.read_response("GET").unwrap();
    assert_eq!(r.status, 200, "{}", r.body_str());
    let reqs = up.requests();
    assert_eq!(reqs.len(), 1);
    let q = &reqs[0];
    assert_eq!(q.target, "/hdr?q=1");
    assert_eq!(q.header_all("host"), vec!["X.Test"], "Host must pass unchanged");
    assert_eq!(q.header_all("x-forwarded-for"), vec!["127.0.0.1"]);
    assert_eq!(q.header_all("x-real-ip"), vec!["127.0.0.1"]);
    assert_eq!(q.header_all("x-forwarded-proto"), vec!["http"]);
    assert_eq!(q.header_all("x-forwarded-host"), vec!["X.Test"]);
    let port = q.header_all("x-forwarded-port");
    assert_eq!(port.len(), 1, "exactly one X-Forwarded-Port: {port:?}");
    assert_ne!(port[0], "9999", "client X-Forwarded-Port must be dropped");
    assert!(
        q.header("x-secret").is_none(),
        "header named in Connection was forwarded"
    );
    assert!(q.header("keep-alive").is_none(), "Keep-Alive was forwarded");
    assert!(q.header("proxy-connection").is_none(), "Proxy-Connection was forwarded");
    assert!(
        !q.has_token("connection", "x-secret"),
        "client Connection tokens were forwarded: {:?}",
        q.header_all("connection")
    );
    assert_eq!(q.header_all("x-custom"), vec!["kept"]);
}

#[test]
fn longest_prefix_routing_on_segments() {
    let a = Upstream::start(echo());
    let b = Upstream::start(echo());
    let cc = Upstream::start(echo());
    let proxy = Proxy::start(
        &config(&Opts::default()),
        &routes(&[
            ("x.test", a.port),
            ("x.test/app", b.port),
            ("x.test/app/admin", cc.port),
        ]),
    );
    let ups = [("A", &a), ("B", &b), ("C", &cc)];
    let cases = [
        ("x.test", "/", "A"),
        ("x.test", "/app", "B"),
        ("x.test", "/app/", "B"),
        ("x.test", "/app/x", "B"),
        ("x.test", "/app/x?y=/app/admin", "B"),
        ("x.test", "/application", "A"),
        ("x.test", "/app/admin", "C"),
        ("x.test", "/app/admin/u", "C"),
        ("x.test", "/app/administrator", "B"),
        ("X.TEST:8080", "/", "A"),
        ("X.TEST:8080", "/app/x", "B"),
        ("x.test.", "/app/admin/u", "C"),
    ];
    for (host, path, want) in cases {
        let before: Vec<usize> = ups.iter().map(|(_, u)| u.completed_requests()).collect();
        let r = get(proxy.web_port, host, path);
        assert_eq!(r.status, 200, "Host {host} {path}: {}", r.body_str());
        let hit: Vec<&str> = ups
            .iter()
            .zip(&before)
            .filter(|((_, u), n)| u.completed_requests() > **n)
            .map(|((name, _), _)| *name)
            .collect();
        assert_eq!(hit, vec![want], "Host {host} {path} went to {hit:?}");
        let (_, u) = ups.iter().find(|(n, _)| *n == want).unwrap();
        let last = u.requests().pop().unwrap();
        assert_eq!(last.target, path, "path must arrive unstripped");
        assert_eq!(last.header("host"), Some(host), "Host must pass unchanged");
    }
}
