//! 1 GiB bodies streamed through the proxy in both directions with bounded memory.
#![allow(clippy::unwrap_used)]

mod common;

use common::client::Conn;
use common::proxy::{config, routes, Opts, Proxy};
use common::upstream::{echo, fixed, Upstream};
use common::{pattern_matches, pattern_slice};
use std::time::{Duration, Instant};

const GIB: u64 = 1 << 30;
const BUF: usize = 256 * 1024;

#[test]
fn one_gib_each_way_with_bounded_memory() {
    let down = Upstream::start(fixed(GIB));
    let up = Upstream::start(echo());
    let proxy = Proxy::start(
        &config(&Opts {
            workers: 1,
            read_timeout: "120s",
            ..Opts::default()
        }),
        &routes(&[("down.test", down.port), ("up.test", up.port)]),
    );
    let started = Instant::now();

    // Download: Content-Length response, read with a 256 KiB buffer, verified on the fly.
    let mut c = proxy.connect();
    c.send(b"GET /big HTTP/1.1\r\nHost: down.test\r\n\r\n");
    let mut got = 0u64;
    let mut intact = true;
    let r = c
        .read_response_streaming("GET", &mut |d| {
            if intact && !pattern_matches(got, d) {
                intact = false;
            }
            got += d.len() as u64;
        })
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(got, GIB, "downloaded byte count");
    assert!(intact, "downloaded bytes differ from what the upstream sent");
    let download = started.elapsed();

    // Upload: Content-Length request body generated on the fly.
    let mut c = Conn::connect(proxy.web_port);
    c.send(format!("PUT /big HTTP/1.1\r\nHost: up.test\r\nContent-Length: {GIB}\r\n\r\n").as_bytes());
    let mut off = 0u64;
    while off < GIB {
        let n = (GIB - off).min(BUF as u64) as usize;
        c.send(pattern_slice(off, n));
        off += n as u64;
    }
    let r = c.read_final_response("PUT").unwrap();
    assert_eq!(r.status, 200, "{}", r.body_str());
    let reqs = up.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].body_len, GIB, "uploaded byte count");
    assert!(reqs[0].body_pattern, "uploaded bytes differ from what the client sent");
    let upload = started.elapsed() - download;
    eprintln!("1 GiB down in {download:?}, up in {upload:?}");

    let hwm = proxy.rss_hwm_kib();
    eprintln!("proxy VmHWM {hwm} KiB");
    assert!(
        hwm < 32 * 1024,
        "proxy peak RSS {hwm} KiB >= 32 MiB: bodies are being buffered"
    );
    assert!(started.elapsed() < Duration::from_secs(60));
}
