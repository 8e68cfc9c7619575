//! Request framing: malformed and ambiguous requests are rejected before anything reaches
//! an upstream; legitimate edge cases (HEAD, 204/304, close-delimited responses,
//! Expect: 100-continue) are relayed correctly.
#![allow(clippy::unwrap_used)]

mod common;

use common::client::{get_request, is_closed_error, Closed, Framing};
use common::proxy::{config, routes, Opts, Proxy};
use common::upstream::{close_delimited, echo, fixed, status_only, Upstream};
use common::{fnv, pattern_bytes};
use std::thread;
use std::time::Duration;

#[derive(Clone, Copy, Debug)]
enum Expect {
    /// This status, then the connection is closed; the upstream sees nothing at all.
    Status(u16),
    /// The head is valid (the proxy may already have forwarded it): the client gets an
    /// error status or a closed connection, never a 2xx; the upstream never receives a
    /// complete request.
    BadChunk,
}

struct Case {
    name: &'static str,
    raw: Vec<u8>,
    expect: Expect,
}

fn cases() -> Vec<Case> {
    let c = |name: &'static str, raw: String, expect: Expect| Case {
        name,
        raw: raw.into_bytes(),
        expect,
    };
    let s400 = Expect::Status(400);
    // `{H}` is replaced by the case's own routed host.
    let mut v = vec![
        c(
            "both Content-Length and Transfer-Encoding",
            "POST / HTTP/1.1\r\nHost: {H}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".into(),
            s400,
        ),
        c(
            "two differing Content-Lengths",
            "POST / HTTP/1.1\r\nHost: {H}\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!".into(),
            s400,
        ),
        c(
            "Content-Length +5",
            "POST / HTTP/1.1\r\nHost: {H}\r\nContent-Length: +5\r\n\r\nhello".into(),
            s400,
        ),
        c(
            "Content-Length abc",
            "POST / HTTP/1.1\r\nHost: {H}\r\nContent-Length: abc\r\n\r\nhello".into(),
            s400,
        ),
        c(
            "Transfer-Encoding gzip",
            "POST / HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: gzip\r\n\r\nhello".into(),
            s400,
        ),
        c(
            "Transfer-Encoding chunked, chunked",
            "POST / HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n".into(),
            s400,
        ),
        c(
            "Transfer-Encoding in HTTP/1.0",
            "POST / HTTP/1.0\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n".into(),
            s400,
        ),
        c(
            "chunk size zz",
            "POST / HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n".into(),
            Expect::BadChunk,
        ),
        c(
            "chunk size overflow",
            "POST / HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\nhello\r\n0\r\n\r\n"
                .into(),
            Expect::BadChunk,
        ),
        c(
            "obs-fold",
            "GET / HTTP/1.1\r\nHost: {H}\r\nX-Folded: a\r\n b\r\n\r\n".into(),
            s400,
        ),
        c(
            "bare CR in a value",
            "GET / HTTP/1.1\r\nHost: {H}\r\nX-A: a\rb\r\n\r\n".into(),
            s400,
        ),
        c(
            "NUL in a value",
            "GET / HTTP/1.1\r\nHost: {H}\r\nX-A: a\0b\r\n\r\n".into(),
            s400,
        ),
        c(
            "space before colon",
            "GET / HTTP/1.1\r\nHost: {H}\r\nX-A : b\r\n\r\n".into(),
            s400,
        ),
        c(
            "invalid field name",
            "GET / HTTP/1.1\r\nHost: {H}\r\nFo o: x\r\n\r\n".into(),
            s400,
        ),
        c(
            "missing Host in HTTP/1.1",
            "GET / HTTP/1.1\r\nX-A: b\r\n\r\n".into(),
            s400,
        ),
        c(
            "two Host headers",
            "GET / HTTP/1.1\r\nHost: {H}\r\nHost: {H}\r\n\r\n".into(),
            s400,
        ),
        c(
            "HTTP/1.2",
            "GET / HTTP/1.2\r\nHost: {H}\r\n\r\n".into(),
            Expect::Status(505),
        ),
    ];
    let mut big_head = "GET / HTTP/1.1\r\nHost: {H}\r\n".to_string();
    for i in 0..70 {
        big_head.push_str(&format!("X-Pad-{i:02}: {}\r\n", "a".repeat(1030)));
    }
    big_head.push_str("\r\n");
    assert!(big_head.len() > 70 * 1024);
    v.push(c("70 KiB head", big_head, Expect::Status(431)));
    v.push(c(
        "20 KiB target",
        format!("GET /{} HTTP/1.1\r\nHost: {{H}}\r\n\r\n", "a".repeat(20 * 1024)),
        Expect::Status(414),
    ));
    v
}

#[test]
fn malformed_requests_are_rejected_and_never_forwarded() {
    let cases = cases();
    let ups: Vec<Upstream> = cases.iter().map(|_| Upstream::start(echo())).collect();
    let hosts: Vec<String> = (0..cases.len()).map(|i| format!("c{i}.test")).collect();
    let table: Vec<(&str, u16)> = hosts.iter().zip(&ups).map(|(h, u)| (h.as_str(), u.port)).collect();
    let proxy = Proxy::start(
        &config(&Opts {
            workers: 1,
            read_timeout: "5s",
            ..Opts::default()
        }),
        &routes(&table),
    );

    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let raw = String::from_utf8(case.raw.clone())
            .unwrap()
            .replace("{H}", &hosts[i])
            .into_bytes();
        let mut c = proxy.connect();
        c.set_read_timeout(Duration::from_secs(5));
        // The proxy may answer and close before it read everything: ignore write errors.
        let _ = c.try_send(&raw);
        let resp = c.read_response("POST");
        let verdict = match (case.expect, &resp) {
            (Expect::Status(want), Ok(r)) if r.status == want => match c.wait_closed(Duration::from_secs(3)) {
                Closed::Yes => None,
                other => Some(format!("answered {want} but the connection was not closed: {other:?}")),
            },
            (Expect::Status(want), Ok(r)) => Some(format!("want {want}, got {} {}", r.status, r.body_str())),
            (Expect::Status(want), Err(e)) => Some(format!("want {want}, got no response: {e}")),
            (Expect::BadChunk, Ok(r)) if (200..300).contains(&r.status) => {
                Some(format!("got a {} for an invalid chunked body", r.status))
            }
            (Expect::BadChunk, Ok(_)) => match c.wait_closed(Duration::from_secs(3)) {
                Closed::Yes => None,
                other => Some(format!("error answered but the connection was not closed: {other:?}")),
            },
            (Expect::BadChunk, Err(e)) if is_closed_error(e) => None,
            (Expect::BadChunk, Err(e)) => Some(format!("neither an error response nor a close: {e}")),
        };
        // Give a wrongly forwarded request time to arrive before looking at the upstream.
        thread::sleep(Duration::from_millis(100));
        let up = &ups[i];
        let leaked = match case.expect {
            Expect::Status(_) => up.accepted() != 0 || up.bytes_received() != 0,
            Expect::BadChunk => up.completed_requests() != 0,
        };
        let mut problems = Vec::new();
        if let Some(v) = verdict {
            problems.push(v);
        }
        if leaked {
            problems.push(format!(
                "upstream saw {} connections, {} bytes, {} complete requests",
                up.accepted(),
                up.bytes_received(),
                up.completed_requests()
            ));
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {}", case.name, problems.join("; ")));
        }
    }
    // The proxy is still healthy after all of that.
    let mut c = proxy.connect();
    c.send(&get_request(&hosts[0], "/healthy"));
    let r = c.read_response("GET").unwrap();
    assert_eq!(r.status, 200);
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n  {}",
        failures.len(),
        cases.len(),
        failures.join("\n  ")
    );
}

#[test]
fn head_204_304_keep_the_connection_in_sync() {
    let big = Upstream::start(fixed(1000));
    let no_content = Upstream::start(status_only("204 No Content", ""));
    let not_modified = Upstream::start(status_only("304 Not Modified", "ETag: \"x\"\r\n"));
    let e = Upstream::start(echo());
    let proxy = Proxy::start(
        &config(&Opts::default()),
        &routes(&[
            ("head.test", big.port),
            ("nc.test", no_content.port),
            ("nm.test", not_modified.port),
            ("echo.test", e.port),
        ]),
    );
    let mut c = proxy.connect();
    c.send(b"HEAD /x HTTP/1.1\r\nHost: head.test\r\n\r\n");
    let r = c.read_response("HEAD").unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some("1000"));
    assert_eq!(r.framing, Framing::NoBody);
    c.send(&get_request("nc.test", "/"));
    assert_eq!(c.read_response("GET").unwrap().status, 204);
    c.send(&get_request("nm.test", "/"));
    assert_eq!(c.read_response("GET").unwrap().status, 304);
    // If any of those leaked body bytes or waited for one, this response would be garbled.
    c.send(&get_request("echo.test", "/after"));
    let r = c.read_response("GET").unwrap();
    assert_eq!(r.status, 200);
    assert!(r.body_str().contains("path=/after\n"), "{}", r.body_str());
    // A GET to the HEAD upstream gets the whole body.
    c.send(&get_request("head.test", "/x"));
    let r = c.read_response("GET").unwrap();
    assert_eq!(r.body, pattern_bytes(1000));
}

#[test]
fn close_delimited_response_is_relayed_completely() {
    let body = pattern_bytes(300_000);
    let up = Upstream::start(close_delimited(body.clone()));
    let proxy = Proxy::start(&config(&Opts::default()), &routes(&[("x.test", up.port)]));
    for _ in 0..2 {
        let mut c = proxy.connect();
        c.send(&get_request("x.test", "/"));
        let r = c.read_response("GET").unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.body.len(), body.len());
        assert!(r.body == body, "close-delimited body corrupted");
    }
}

#[test]
fn expect_100_continue_is_answered_by_the_proxy() {
    let up = Upstream::start(echo());
    let proxy = Proxy::start(&config(&Opts::default()), &routes(&[("x.test", up.port)]));
    let body = pattern_bytes(10_000);
    let mut c = proxy.connect();
    c.send(
        format!(
            "PUT /file HTTP/1.1\r\nHost: x.test\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    c.set_read_timeout(Duration::from_secs(3));
    let interim = c.read_head().unwrap();
    assert_eq!(interim.status, 100, "expected 100 Continue before sending the body");
    c.send(&body);
    let r = c.read_final_response("PUT").unwrap();
    assert_eq!(r.status, 200, "{}", r.body_str());
    let reqs = up.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].body_len, body.len() as u64);
    assert_eq!(reqs[0].body_fnv, Some(fnv(&body)));
    // Exactly one 100 for the request: the next bytes are the next response.
    c.send(&get_request("x.test", "/next"));
    let r = c.read_response("GET").unwrap();
    assert!(r.body_str().contains("path=/next\n"), "{}", r.body_str());
}

#[test]
fn large_but_valid_heads_pass() {
    let up = Upstream::start(echo());
    let proxy = Proxy::start(&config(&Opts::default()), &routes(&[("x.test", up.port)]));
    // ~56 KiB of fields (under the 64 KiB head limit, under 128 fields) and a 15 KiB target.
    let mut head = format!("GET /{} HTTP/1.1\r\nHost: x.test\r\n", "t".repeat(15 * 1024));
    for i in 0..40 {
        head.push_str(&format!("X-Pad-{i:02}: {}\r\n", "b".repeat(1000)));
    }
    head.push_str("\r\n");
    let mut c = proxy.connect();
    c.send(head.as_bytes());
    let r = c.read_response("GET").unwrap();
    assert_eq!(r.status, 200, "{}", r.body_str());
    let reqs = up.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].target.len(), 15 * 1024 + 1);
    assert_eq!(reqs[0].header_all("x-pad-39").len(), 1);
}
