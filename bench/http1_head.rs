//! Head parsing and rewriting on the request path: a typical browser request head (503 bytes),
//! the same parsed and rewritten for the upstream, and a typical response head.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ringress::http1::{
    parse_request, parse_response, write_request_head, write_response_head, Forwarding, Limits, Method, Parsed,
    RequestHead, ResponseHead,
};

const REQUEST: &[u8] = b"GET /dashboard/projects/42/settings?tab=general&lang=en HTTP/1.1\r\n\
Host: my-app.route.example\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Referer: https://my-app.route.example/dashboard\r\n\
Connection: keep-alive\r\n\
Cookie: session=3f1c9a7be2d04c61a9f0; theme=dark\r\n\
Sec-Fetch-Dest: document\r\n\
Sec-Fetch-Mode: navigate\r\n\
\r\n";

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\n\
Date: Mon, 27 Jul 2026 12:28:53 GMT\r\n\
Server: nginx\r\n\
Content-Type: text/html; charset=utf-8\r\n\
Content-Length: 18342\r\n\
Connection: keep-alive\r\n\
Cache-Control: private, max-age=0\r\n\
ETag: W/\"4fa6-18f7c2a1b20\"\r\n\
Vary: Accept-Encoding\r\n\
X-Content-Type-Options: nosniff\r\n\
\r\n";

fn bench_heads(c: &mut Criterion) {
    let limits = Limits::default();
    let fwd = Forwarding {
        client_ip: IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9)),
        proto: "https",
        port: 443,
        host_override: None,
    };
    let mut group = c.benchmark_group("http1_head");

    group.throughput(Throughput::Bytes(REQUEST.len() as u64));
    let mut req = RequestHead::new();
    group.bench_function("parse_request", |b| {
        b.iter(|| {
            let r = parse_request(black_box(REQUEST), &limits, &mut req);
            assert_eq!(r, Ok(Parsed::Complete));
            black_box(req.head_len)
        })
    });

    let mut out = Vec::with_capacity(1024);
    group.bench_function("parse_and_rewrite_request", |b| {
        b.iter(|| {
            let r = parse_request(black_box(REQUEST), &limits, &mut req);
            assert_eq!(r, Ok(Parsed::Complete));
            out.clear();
            write_request_head(REQUEST, &req, &fwd, &mut out);
            black_box(out.len())
        })
    });

    group.throughput(Throughput::Bytes(RESPONSE.len() as u64));
    let mut res = ResponseHead::new();
    group.bench_function("parse_response", |b| {
        b.iter(|| {
            let r = parse_response(black_box(RESPONSE), &limits, Method::Get, &mut res);
            assert_eq!(r, Ok(Parsed::Complete));
            black_box(res.head_len)
        })
    });

    group.bench_function("parse_and_rewrite_response", |b| {
        b.iter(|| {
            let r = parse_response(black_box(RESPONSE), &limits, Method::Get, &mut res);
            assert_eq!(r, Ok(Parsed::Complete));
            out.clear();
            write_response_head(RESPONSE, &res, true, &mut out);
            black_box(out.len())
        })
    });
    group.finish();
}

criterion_group!(benches, bench_heads);
criterion_main!(benches);
