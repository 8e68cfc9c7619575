//! End to end through a real worker on loopback: one ringress worker (its own monoio runtime, started through the
//! library as `ringress run` starts it) in front of a keep-alive upstream, routing by Host from a route file, and a
//! blocking client. Measures one request round trip on a kept-alive client connection (client → worker → upstream
//! → worker → client), small and 64 KiB bodies, a request on a fresh client connection, and a 1 GiB response (its
//! time, and once, the peak growth of the process's resident memory while it streams: client, worker and upstream
//! all live in this process, and only the worker's buffers can grow with the body).
//!
//! The figure includes the client's and the upstream's work on the same machine: compare runs of this bench with
//! each other, and use the peers bench for comparisons with other proxies.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ringress::challenge::Receipts;
use ringress::control::status::StatusBoard;
use ringress::control::{Control, Sources};
use ringress::http1::Limits;
use ringress::observe::Counters;
use ringress::proxy::forward::ProxySettings;
use ringress::worker::{self, listener, mailbox, EntryKind, EntrySettings, Settings, WorkerSpec};

const SMALL: &[u8] = b"hello, world\n";
/// Size of the `/1g` response.
const GIB: u64 = 1 << 30;

/// A keep-alive HTTP/1.1 upstream: `/64k` answers 64 KiB, anything else 13 bytes. One thread per connection.
fn upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind upstream");
    let addr = listener.local_addr().expect("addr");
    let big = vec![b'x'; 64 * 1024];
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let big = big.clone();
            std::thread::spawn(move || serve_upstream(conn, &big));
        }
    });
    addr
}

fn serve_upstream(mut conn: TcpStream, big: &[u8]) {
    let _ = conn.set_nodelay(true);
    let mut buf = vec![0u8; 16 * 1024];
    let mut have = 0;
    loop {
        let Some(end) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") else {
            match conn.read(&mut buf[have..]) {
                Ok(0) | Err(_) => return,
                Ok(n) => have += n,
            }
            continue;
        };
        if buf[..end].starts_with(b"GET /1g ") {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {GIB}\r\n\r\n");
            if conn.write_all(head.as_bytes()).is_err() {
                return;
            }
            let mut left = GIB;
            while left > 0 {
                let n = left.min(big.len() as u64) as usize;
                if conn.write_all(&big[..n]).is_err() {
                    return;
                }
                left -= n as u64;
            }
            buf.copy_within(end + 4..have, 0);
            have -= end + 4;
            continue;
        }
        let body = if buf[..end].starts_with(b"GET /64k ") {
            big
        } else {
            SMALL
        };
        let mut out = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
        out.extend_from_slice(body);
        if conn.write_all(&out).is_err() {
            return;
        }
        buf.copy_within(end + 4..have, 0);
        have -= end + 4;
    }
}

/// Starts one worker serving `bench.test` → `up`; returns its port. The worker runs until the process ends.
fn proxy(up: SocketAddr, dir: &std::path::Path) -> u16 {
    let routes = dir.join("routes.yml");
    std::fs::write(&routes, format!("- id: bench.test\n  target: \"{up}\"\n")).expect("routes");
    let listener = listener::bind("web", "127.0.0.1:0".parse().expect("addr"), 1024).expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let ep = Arc::new(EntrySettings {
        name: "web".into(),
        kind: EntryKind::Proxy,
        index: 0,
        port,
        read_timeout: Duration::from_secs(60),
        idle_timeout: Duration::from_secs(60),
        redirect: None,
    });
    let settings = Arc::new(Settings {
        proxy: ProxySettings {
            limits: Limits::default(),
            dial_timeout: Duration::from_secs(5),
            response_header_timeout: Some(Duration::from_secs(60)),
            buffer_bytes: 64 * 1024,
        },
        max_idle_per_host: 256,
        idle_conn_timeout: Duration::from_secs(90),
        grace: Duration::from_secs(1),
    });
    let (tx, rx) = mailbox::mailbox().expect("mailbox");
    let status = StatusBoard::new();
    let sources = Sources {
        http: None,
        token: None,
        routes_path: Some(routes),
        entry_points: vec!["web".into()],
    };
    let mut control = Control::new(sources, Duration::from_secs(3600), vec![tx], status.clone());
    control.tick();
    let default_cert = ringress::tls::default_cert::generate().expect("default cert");
    let spec = WorkerSpec {
        id: 0,
        listeners: vec![(ep, listener)],
        mailbox: rx,
        settings,
        counters: Counters::new(1),
        status,
        certs: Arc::new(ringress::tls::CertMap::new(default_cert)),
        receipts: Arc::new(Receipts::new(1)),
        tickets: ringress::tls::TicketKeys::generate().expect("ticket keys"),
    };
    worker::spawn(spec).expect("spawn worker");
    // The control side must outlive the benchmark: dropping it would close the worker's mailbox.
    std::mem::forget(control);
    port
}

/// Sends one GET and reads the whole response (Content-Length framing) into `buf`.
fn round_trip(conn: &mut TcpStream, request: &[u8], buf: &mut Vec<u8>) {
    conn.write_all(request).expect("send");
    buf.clear();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = conn.read(&mut chunk).expect("read");
        assert!(n > 0, "proxy closed the connection");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end]).expect("utf-8 head");
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.strip_prefix("content-length: ")
                        .or_else(|| l.strip_prefix("Content-Length: "))
                })
                .and_then(|v| v.trim().parse().ok())
                .expect("content-length");
            if buf.len() >= end + 4 + len {
                assert!(head.starts_with("HTTP/1.1 200"), "{head}");
                return;
            }
        }
    }
}

/// Sends `GET /1g` and reads the 1 GiB body through a fixed 64 KiB buffer; returns the body bytes read.
fn fetch_gib(conn: &mut TcpStream) -> u64 {
    conn.write_all(b"GET /1g HTTP/1.1\r\nHost: bench.test\r\n\r\n")
        .expect("send");
    let mut chunk = vec![0u8; 64 * 1024];
    let mut head = Vec::new();
    let mut body = 0u64;
    while body < GIB {
        let n = conn.read(&mut chunk).expect("read");
        assert!(n > 0, "proxy closed the connection");
        if head.len() < 4 || !head.ends_with(b"\r\n\r\n") {
            // Still in the head: find where it ends.
            let mut i = 0;
            while i < n && !head.ends_with(b"\r\n\r\n") {
                head.push(chunk[i]);
                i += 1;
            }
            body += (n - i) as u64;
        } else {
            body += n as u64;
        }
    }
    assert!(head.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&head));
    body
}

/// This process's resident set in KiB (`VmRSS`).
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Streams one 1 GiB response while sampling RSS every 5 ms; prints the peak growth over the RSS before it.
fn report_gib_rss(port: u16) {
    let mut conn = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let before = rss_kib();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut peak = 0;
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                peak = peak.max(rss_kib());
                std::thread::sleep(Duration::from_millis(5));
            }
            peak.max(rss_kib())
        })
    };
    let start = Instant::now();
    let body = fetch_gib(&mut conn);
    let took = start.elapsed();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let peak = sampler.join().expect("sampler");
    eprintln!(
        "e2e_loopback/response_1gib: {body} bytes in {took:?}; RSS before {before} KiB, peak {peak} KiB: +{} KiB",
        peak.saturating_sub(before)
    );
}

fn bench_e2e(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("ringress-bench-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let port = proxy(upstream(), &dir);
    let small = b"GET / HTTP/1.1\r\nHost: bench.test\r\nUser-Agent: bench\r\n\r\n";
    let big = b"GET /64k HTTP/1.1\r\nHost: bench.test\r\nUser-Agent: bench\r\n\r\n";
    let mut conn = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    conn.set_nodelay(true).expect("nodelay");
    let mut buf = Vec::with_capacity(128 * 1024);
    round_trip(&mut conn, small, &mut buf); // warm the upstream pool

    let mut group = c.benchmark_group("e2e_loopback");
    group.throughput(Throughput::Elements(1));
    group.bench_function("keepalive_small", |b| b.iter(|| round_trip(&mut conn, small, &mut buf)));
    group.bench_function("keepalive_64k", |b| b.iter(|| round_trip(&mut conn, big, &mut buf)));
    group.bench_function("new_connection_small", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                let mut fresh = TcpStream::connect(("127.0.0.1", port)).expect("connect");
                fresh.set_nodelay(true).expect("nodelay");
                round_trip(&mut fresh, small, &mut buf);
            }
            start.elapsed()
        })
    });
    group.finish();

    report_gib_rss(port);
    let mut group = c.benchmark_group("e2e_loopback");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(GIB));
    let mut gib_conn = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    group.bench_function("response_1gib", |b| b.iter(|| fetch_gib(&mut gib_conn)));
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench_e2e);
criterion_main!(benches);
