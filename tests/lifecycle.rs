//! Process lifecycle and workers: admin endpoints, connection spread over workers,
//! graceful shutdown on SIGTERM.
#![allow(clippy::unwrap_used)]

mod common;

use common::client::{get_request, Closed, Conn};
use common::proxy::{config, routes, Opts, Proxy};
use common::upstream::{delayed, echo, Upstream};
use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

/// `ringress_worker_connections_total{worker="N"} V` lines of /metrics.
fn worker_connections(metrics: &str) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for line in metrics.lines() {
        let Some(rest) = line.strip_prefix("ringress_worker_connections_total{") else {
            continue;
        };
        let (labels, value) = rest.split_once('}').unwrap();
        let worker = labels
            .split(',')
            .find_map(|l| l.trim().strip_prefix("worker="))
            .unwrap()
            .trim_matches('"')
            .to_string();
        let v: f64 = value.trim().parse().unwrap();
        m.insert(worker, v as u64);
    }
    m
}

#[test]
fn admin_ping_answers_ok() {
    let proxy = Proxy::start(&config(&Opts::default()), &routes(&[("none.test", 9)]));
    let r = proxy.admin_get("/ping");
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str().trim_end(), "OK");
    let m = proxy.admin_get("/metrics");
    assert_eq!(m.status, 200);
    let w = worker_connections(&m.body_str());
    assert_eq!(w.len(), 1, "one line per worker with workers: 1:\n{}", m.body_str());
    assert_eq!(w.get("0"), Some(&0), "no web connections yet:\n{}", m.body_str());
}

#[test]
fn connections_spread_over_both_workers() {
    let up = Upstream::start(echo());
    let proxy = Proxy::start(
        &config(&Opts {
            workers: 2,
            ..Opts::default()
        }),
        &routes(&[("x.test", up.port)]),
    );
    let port = proxy.web_port;
    thread::scope(|s| {
        for t in 0..4 {
            s.spawn(move || {
                for i in 0..100 {
                    let mut c = Conn::connect(port);
                    c.send(format!("GET /{t}/{i} HTTP/1.1\r\nHost: x.test\r\nConnection: close\r\n\r\n").as_bytes());
                    let r = c.read_response("GET").unwrap();
                    assert_eq!(r.status, 200);
                }
            });
        }
    });
    let m = proxy.admin_get("/metrics");
    assert_eq!(m.status, 200);
    let w = worker_connections(&m.body_str());
    assert_eq!(
        w.keys().cloned().collect::<Vec<_>>(),
        vec!["0".to_string(), "1".to_string()],
        "{}",
        m.body_str()
    );
    assert!(w.values().all(|&n| n > 0), "a worker accepted nothing: {w:?}");
    assert_eq!(w.values().sum::<u64>(), 400, "{w:?}");
}

#[test]
fn sigterm_drains_in_flight_requests_and_exits_zero() {
    let up = Upstream::start(delayed(Duration::from_secs(2), echo()));
    let mut proxy = Proxy::start(
        &config(&Opts {
            workers: 2,
            grace: "10s",
            response_header_timeout: "5s",
            ..Opts::default()
        }),
        &routes(&[("slow.test", up.port)]),
    );
    let mut inflight = proxy.connect();
    let sent = Instant::now();
    inflight.send(&get_request("slow.test", "/in-flight"));
    thread::sleep(Duration::from_millis(300));
    proxy.signal(libc::SIGTERM);
    thread::sleep(Duration::from_millis(200));

    // A new connection now is refused, or closed without being served, well before the
    // in-flight response (due ~2 s after it was sent) is done.
    let addr = SocketAddr::from(([127, 0, 0, 1], proxy.web_port));
    match TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
        Err(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}"),
        Ok(mut s) => {
            s.set_read_timeout(Some(Duration::from_millis(1000))).unwrap();
            s.set_write_timeout(Some(Duration::from_millis(1000))).unwrap();
            let _ = s.write_all(&get_request("slow.test", "/after-sigterm"));
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            let closed = loop {
                match s.read(&mut buf) {
                    Ok(0) => break true,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
                        ) =>
                    {
                        break true
                    }
                    Err(_) => break false,
                }
            };
            let text = String::from_utf8_lossy(&got);
            assert!(
                closed,
                "connection made after SIGTERM neither refused nor closed within 1 s (got {text:?})"
            );
            assert!(
                !text.starts_with("HTTP/1.1 2"),
                "connection made after SIGTERM was served: {text:?}"
            );
            assert!(
                sent.elapsed() < Duration::from_millis(1900),
                "check took too long to tell refusal from the drain"
            );
        }
    }

    let r = inflight.read_response("GET").unwrap();
    assert_eq!(r.status, 200, "{}", r.body_str());
    assert!(r.body_str().contains("path=/in-flight\n"));
    assert!(r.body_str().contains("body-pattern=true\n"), "response complete");
    let status = proxy
        .wait_exit(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no exit within 10 s of the drain; stderr:\n{}", proxy.stderr()));
    assert_eq!(
        status.code(),
        Some(0),
        "exit status {status}; stderr:\n{}",
        proxy.stderr()
    );
    assert_eq!(
        up.completed_requests(),
        1,
        "the post-SIGTERM request must not be forwarded"
    );
}

#[test]
fn idle_keep_alive_connections_serve_again_close_at_their_timeout_and_on_drain() {
    let up = Upstream::start(echo());
    let mut proxy = Proxy::start(
        &config(&Opts {
            workers: 2,
            idle_timeout: "2s",
            ..Opts::default()
        }),
        &routes(&[("idle.test", up.port)]),
    );
    // A connection that pauses between requests (holding no buffer meanwhile) is served each time.
    let mut c = proxy.connect();
    for pause in [0, 300, 1200] {
        thread::sleep(Duration::from_millis(pause));
        c.send(&get_request("idle.test", "/again"));
        let r = c.read_response("GET").unwrap();
        assert_eq!(r.status, 200, "after {pause} ms idle");
    }
    // Left idle, it is closed at the idle timeout (2 s, checked once a second), not before.
    let start = Instant::now();
    assert!(
        matches!(c.wait_closed(Duration::from_millis(1400)), Closed::StillOpen),
        "closed too early"
    );
    assert!(
        matches!(c.wait_closed(Duration::from_secs(3)), Closed::Yes),
        "not closed after the idle timeout"
    );
    assert!(start.elapsed() < Duration::from_millis(4500), "{:?}", start.elapsed());

    // Idle connections are closed at once when the proxy drains.
    let mut idle: Vec<_> = (0..20)
        .map(|_| {
            let mut c = proxy.connect();
            c.send(&get_request("idle.test", "/"));
            assert_eq!(c.read_response("GET").unwrap().status, 200);
            c
        })
        .collect();
    let signalled = Instant::now();
    proxy.signal(libc::SIGTERM);
    for c in &mut idle {
        assert!(
            matches!(c.wait_closed(Duration::from_secs(2)), Closed::Yes),
            "an idle connection stayed open"
        );
    }
    assert!(
        signalled.elapsed() < Duration::from_millis(1000),
        "{:?}",
        signalled.elapsed()
    );
    let status = proxy.wait_exit(Duration::from_secs(5)).expect("exits");
    assert!(status.success(), "{status:?}");
}

/// `(comm, nice)` of every thread of `pid`.
fn threads_nice(pid: u32) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        // comm is in parentheses and may hold spaces; the fields after it are space-separated.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat[open + 1..close].to_string();
        let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
        // Field 19 of stat (nice) is the 17th after the comm.
        out.push((comm, fields[16].parse().unwrap()));
    }
    out
}

#[test]
fn the_control_thread_runs_below_the_workers_priority() {
    let proxy = Proxy::start(&config(&Opts::default()), &routes(&[("none.test", 9)]));
    let threads = threads_nice(proxy.pid());
    let control: Vec<_> = threads
        .iter()
        .filter(|(c, _)| c.starts_with("ringress-contr"))
        .collect();
    assert_eq!(control.len(), 1, "{threads:?}");
    assert_eq!(control[0].1, 10, "{threads:?}");
    let workers: Vec<_> = threads.iter().filter(|(c, _)| c.starts_with("ringress-w")).collect();
    assert!(!workers.is_empty(), "{threads:?}");
    assert!(workers.iter().all(|(_, nice)| *nice == 0), "{threads:?}");
}
