//! Health-aware load balancing against real loopback servers: weighted splits, passive health when a server dies
//! under load, active health checks, the fast 503 when every server is down, retries that are safe and only those,
//! and health checks that never hold up the provider poll.
#![allow(clippy::unwrap_used)]

mod common;

use common::client::Conn;
use common::control_plane::{
    admin_json, provider_config, tag_of, tagged, try_get, try_request, ControlPlane, Dynamic, Mode, ProviderOpts,
};
use common::full_listener::FullListener;
use common::proxy::Proxy;
use common::upstream::{Handler, Upstream};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const HOST: &str = "shop.test";

/// A proxy polling a stand-in control plane that serves `d` (poll interval 1 s, dial timeout 1 s).
fn start(d: &Dynamic, workers: usize) -> (ControlPlane, Proxy) {
    let cp = ControlPlane::start(Mode::Json(d.json()), None);
    let mut opts = ProviderOpts::new(cp.endpoint());
    opts.workers = workers;
    let proxy = Proxy::start(&provider_config(&opts), "");
    (cp, proxy)
}

/// Waits until `host` answers 200 through the proxy.
fn wait_routed(proxy: &Proxy, host: &str) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if try_get(proxy.web_port, host, "/").is_ok_and(|r| r.status == 200) {
            return;
        }
        thread::sleep(Duration::from_millis(25));
    }
    panic!("{host} never answered 200; proxy log:\n{}", proxy.stderr());
}

fn lb(servers: Value, health: Option<Value>) -> Value {
    let mut lb = json!({ "servers": servers });
    if let Some(h) = health {
        lb["healthCheck"] = h;
    }
    json!({ "loadBalancer": lb })
}

/// `serverStatus` of `service` in /api/rawdata: url → "UP"/"DOWN".
fn server_status(proxy: &Proxy, service: &str) -> Value {
    admin_json(proxy.admin_port, "/api/rawdata")
        .and_then(|v| v["services"][service]["serverStatus"].as_object().cloned())
        .map(Value::Object)
        .unwrap_or(Value::Null)
}

fn wait_status(proxy: &Proxy, service: &str, url: &str, want: &str, timeout: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if server_status(proxy, service)[url] == want {
            return Some(start.elapsed());
        }
        thread::sleep(Duration::from_millis(10));
    }
    None
}

/// A `tagged` server whose `/health` answers 200 or, while `sick` is set, 500.
fn with_health(tag: &str, sick: Arc<AtomicBool>) -> Handler {
    let ok = tagged(tag);
    Arc::new(move |req, conn| {
        if req.target == "/health" {
            let status = if sick.load(Ordering::SeqCst) {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            conn.write_all(format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n").as_bytes())?;
            return Ok(true);
        }
        ok(req, conn)
    })
}

/// `n` keep-alive GETs on one connection (reconnecting when the proxy closes it); the tag of each 200, or the
/// status of anything else as `status=<n>`.
fn keep_alive_gets(port: u16, host: &str, n: usize) -> Vec<String> {
    let mut out = Vec::with_capacity(n);
    let mut conn: Option<Conn> = None;
    while out.len() < n {
        let c = match conn.as_mut() {
            Some(c) => c,
            None => conn.insert(Conn::connect(port)),
        };
        c.set_read_timeout(Duration::from_secs(10));
        if c.try_send(format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes())
            .is_err()
        {
            conn = None;
            continue;
        }
        match c.read_response("GET") {
            Ok(r) => {
                let close = r.has_token("connection", "close");
                out.push(match (r.status, tag_of(&r)) {
                    (200, Some(tag)) => tag,
                    (status, _) => format!("status={status}"),
                });
                if close {
                    conn = None;
                }
            }
            Err(e) => {
                out.push(format!("error={e}"));
                conn = None;
            }
        }
    }
    out
}

fn metric(proxy: &Proxy, line_prefix: &str) -> f64 {
    let text = proxy.admin_get("/metrics").body_str();
    text.lines()
        .filter(|l| l.starts_with(line_prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[test]
fn weights_three_to_one_split_four_thousand_requests_three_to_one() {
    let heavy = Upstream::start(tagged("heavy"));
    let light = Upstream::start(tagged("light"));
    let servers = json!([
        { "url": format!("http://127.0.0.1:{}", heavy.port), "weight": 3 },
        { "url": format!("http://127.0.0.1:{}", light.port), "weight": 1 },
    ]);
    let d = Dynamic::new()
        .router("shop", &format!("Host(`{HOST}`)"), "shop")
        .service_value("shop", lb(servers, None));
    let (_cp, proxy) = start(&d, 2);
    wait_routed(&proxy, HOST);

    let port = proxy.web_port;
    let clients: Vec<_> = (0..4)
        .map(|_| thread::spawn(move || keep_alive_gets(port, HOST, 1000)))
        .collect();
    let tags: Vec<String> = clients.into_iter().flat_map(|c| c.join().unwrap()).collect();
    let h = tags.iter().filter(|t| *t == "heavy").count();
    let l = tags.iter().filter(|t| *t == "light").count();
    assert_eq!(
        h + l,
        4000,
        "every request answered by one of the two: {:?}",
        &tags[..20.min(tags.len())]
    );
    let ratio = h as f64 / l as f64;
    assert!(
        (2.85..=3.15).contains(&ratio),
        "3:1 within 5 %: heavy {h}, light {l} (ratio {ratio:.3})"
    );
}

#[test]
fn killing_a_server_under_load_loses_no_idempotent_request_and_it_gets_no_more_traffic() {
    let stays = Upstream::start(tagged("stays"));
    let dies = Upstream::start(tagged("dies"));
    let dies_port = dies.port;
    let d = Dynamic::new()
        .router("shop", &format!("Host(`{HOST}`)"), "shop")
        .service("shop", &[stays.port, dies.port]);
    let (_cp, proxy) = start(&d, 2);
    wait_routed(&proxy, HOST);

    let stop = Arc::new(AtomicBool::new(false));
    let results: Arc<Mutex<Vec<String>>> = Arc::default();
    let port = proxy.web_port;
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (stop, results) = (stop.clone(), results.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let batch = keep_alive_gets(port, HOST, 20);
                    results.lock().unwrap().extend(batch);
                }
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(700));
    let before_kill = results.lock().unwrap().len();
    let served_by_dead = results.lock().unwrap().iter().filter(|t| *t == "dies").count();
    assert!(served_by_dead > 0, "both servers took traffic before the kill");
    drop(dies);
    let killed_at = Instant::now();
    // Long enough for several cooldown rounds (1 s, then 2 s).
    thread::sleep(Duration::from_millis(2500));
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.join().unwrap();
    }
    let results = results.lock().unwrap();
    let failures: Vec<&String> = results.iter().filter(|t| *t != "stays" && *t != "dies").collect();
    assert!(
        failures.is_empty(),
        "{} request(s) failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );
    let after = results.len() - before_kill;
    assert!(
        after > 500,
        "the load went on after the kill ({after} requests in 2.5 s)"
    );
    // Each worker took it out once (one log line each, not one per request)…
    let log = proxy.stderr();
    let out_lines = log
        .lines()
        .filter(|l| l.contains("out of rotation") && l.contains(&format!(":{dies_port}")))
        .count();
    assert!(
        (1..=2).contains(&out_lines),
        "one transition line per worker, got {out_lines}:\n{log}"
    );
    // …and after that only tried it again when a cooldown ran out: ≤ 2 workers × (first failure + trials at
    // 1 s, 3 s) connect attempts, against hundreds of requests.
    let attempts = metric(&proxy, "ringress_upstream_errors_total{kind=\"connect_refused\"}")
        + metric(&proxy, "ringress_upstream_errors_total{kind=\"reset\"}");
    assert!(
        attempts <= 8.0,
        "the dead server kept getting attempts: {attempts} failed attempts in {:?} for {after} requests",
        killed_at.elapsed()
    );
    let retries = log.matches("back in rotation").count();
    assert_eq!(retries, 0, "a dead server never comes back:\n{log}");
}

#[test]
fn active_check_takes_a_failing_server_out_within_one_interval_and_back_after_recovery() {
    let sick = Arc::new(AtomicBool::new(false));
    let a = Upstream::start(with_health("a", Arc::new(AtomicBool::new(false))));
    let b = Upstream::start(with_health("b", sick.clone()));
    let b_url = format!("http://127.0.0.1:{}", b.port);
    let servers = json!([
        { "url": format!("http://127.0.0.1:{}", a.port) },
        { "url": b_url },
    ]);
    let health = json!({ "path": "/health", "interval": "500ms", "timeout": "300ms" });
    let d = Dynamic::new()
        .router("shop", &format!("Host(`{HOST}`)"), "shop")
        .service_value("shop", lb(servers, Some(health)));
    let (_cp, proxy) = start(&d, 2);
    wait_routed(&proxy, HOST);
    assert!(
        wait_status(&proxy, "shop@http", &b_url, "UP", Duration::from_secs(3)).is_some(),
        "serverStatus lists the server UP: {}",
        server_status(&proxy, "shop@http")
    );
    let gauge = format!("ringress_service_server_up{{service=\"shop@http\",url=\"{b_url}\"}}");
    assert_eq!(metric(&proxy, &gauge), 1.0);

    sick.store(true, Ordering::SeqCst);
    let took = wait_status(&proxy, "shop@http", &b_url, "DOWN", Duration::from_secs(3))
        .unwrap_or_else(|| panic!("never DOWN: {}\n{}", server_status(&proxy, "shop@http"), proxy.stderr()));
    // One interval (500 ms) plus the check's own time and the publication.
    assert!(
        took <= Duration::from_millis(900),
        "DOWN after {took:?}, more than one interval"
    );
    let tags = keep_alive_gets(proxy.web_port, HOST, 40);
    assert!(tags.iter().all(|t| t == "a"), "a DOWN server gets nothing: {tags:?}");
    assert_eq!(metric(&proxy, &gauge), 0.0);

    sick.store(false, Ordering::SeqCst);
    let took = wait_status(&proxy, "shop@http", &b_url, "UP", Duration::from_secs(3)).expect("UP again");
    assert!(took <= Duration::from_millis(900), "UP after {took:?}");
    let tags = keep_alive_gets(proxy.web_port, HOST, 40);
    assert!(tags.iter().any(|t| t == "b"), "b is back in rotation: {tags:?}");
    let log = proxy.stderr();
    assert_eq!(
        log.matches(&format!("server {b_url} of service shop@http is DOWN"))
            .count(),
        1,
        "{log}"
    );
    assert_eq!(
        log.matches(&format!("server {b_url} of service shop@http is UP again"))
            .count(),
        1,
        "{log}"
    );
}

#[test]
fn every_server_down_answers_503_within_100_ms() {
    // Found down by the active check.
    let sick = Arc::new(AtomicBool::new(true));
    let a = Upstream::start(with_health("a", sick.clone()));
    let b = Upstream::start(with_health("b", sick.clone()));
    let servers = json!([
        { "url": format!("http://127.0.0.1:{}", a.port) },
        { "url": format!("http://127.0.0.1:{}", b.port) },
    ]);
    let health = json!({ "path": "/health", "interval": "300ms", "timeout": "200ms" });
    // Both servers dead (refused): found down by the first failures.
    let gone1 = Upstream::start(tagged("x"));
    let gone2 = Upstream::start(tagged("y"));
    let (p1, p2) = (gone1.port, gone2.port);
    drop((gone1, gone2));
    let d = Dynamic::new()
        .router("checked", "Host(`checked.test`)", "checked")
        .service_value("checked", lb(servers, Some(health)))
        .router("dead", "Host(`dead.test`)", "dead")
        .service("dead", &[p1, p2]);
    let (_cp, proxy) = start(&d, 1);
    let start = Instant::now();
    loop {
        let r = try_get(proxy.web_port, "checked.test", "/").unwrap();
        if r.status == 503 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "never 503: {} {}",
            r.status,
            r.body_str()
        );
        thread::sleep(Duration::from_millis(20));
    }
    for host in ["checked.test", "dead.test", "dead.test", "dead.test"] {
        let t = Instant::now();
        let r = try_get(proxy.web_port, host, "/").unwrap();
        let took = t.elapsed();
        if host == "dead.test" && r.status == 502 {
            // The very first request learns that both refuse (each connect fails at once).
            assert!(took < Duration::from_millis(100), "{host}: 502 after {took:?}");
            continue;
        }
        assert_eq!(r.status, 503, "{host}: {}", r.body_str());
        assert!(r.body_str().contains("no available server"), "{host}: {}", r.body_str());
        assert!(took < Duration::from_millis(100), "{host}: 503 after {took:?}");
    }
}

#[test]
fn unreachable_servers_cost_one_dial_timeout_not_one_each() {
    // Connects to these hang (full accept queue): each would take the whole 1 s dial timeout.
    let hung: Vec<FullListener> = (0..3).map(|_| FullListener::start()).collect();
    let ports: Vec<u16> = hung.iter().map(|l| l.port).collect();
    let ready = Upstream::start(tagged("ready"));
    let d = Dynamic::new()
        .router("hung", "Host(`hung.test`)", "hung")
        .service("hung", &ports)
        .app("ready", "ready.test", ready.port);
    let (_cp, proxy) = start(&d, 1);
    wait_routed(&proxy, "ready.test");
    // Three requests at once: one server each, one dial timeout each (never three in series).
    let port = proxy.web_port;
    let parallel: Vec<_> = (0..3)
        .map(|_| {
            thread::spawn(move || {
                let t = Instant::now();
                let r = try_get(port, "hung.test", "/").unwrap();
                (r.status, t.elapsed())
            })
        })
        .collect();
    let answered: Vec<(u16, Duration)> = parallel.into_iter().map(|t| t.join().unwrap()).collect();
    for (status, took) in &answered {
        assert_eq!(*status, 504, "{answered:?}");
        assert!(
            *took < Duration::from_millis(1600),
            "at most one dial timeout per request: {answered:?}"
        );
    }
    // Every server is now cooling down (10 s after a connect timeout): no dialling at all.
    let t = Instant::now();
    let r = try_get(port, "hung.test", "/").unwrap();
    assert_eq!(r.status, 503, "{}", r.body_str());
    assert!(t.elapsed() < Duration::from_millis(100), "503 after {:?}", t.elapsed());
}

/// A server that reads one request, counts it, and closes without answering.
fn closing_server() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let counter = counter.clone();
            thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                conn.set_read_timeout(Some(Duration::from_secs(2))).ok();
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = conn.flush();
            });
        }
    });
    (port, seen)
}

#[test]
fn a_request_already_sent_is_retried_elsewhere_only_when_idempotent_without_body() {
    let (broken, seen) = closing_server();
    let good = Upstream::start(tagged("good"));
    // The broken server first in every round, so each request starts there.
    let servers = json!([
        { "url": format!("http://127.0.0.1:{broken}"), "weight": 1000 },
        { "url": format!("http://127.0.0.1:{}", good.port), "weight": 1 },
    ]);
    let d = Dynamic::new()
        .router("shop", &format!("Host(`{HOST}`)"), "shop")
        .service_value("shop", lb(servers, None))
        .app("ready", "ready.test", good.port);
    let (_cp, proxy) = start(&d, 1);
    wait_routed(&proxy, "ready.test");
    let good_before = good.completed_requests();

    let get = try_get(proxy.web_port, HOST, "/").unwrap();
    assert_eq!(
        seen.load(Ordering::SeqCst),
        1,
        "the GET went to the broken server first"
    );
    assert_eq!(
        get.status,
        200,
        "a GET is sent again, to the next server: {}",
        get.body_str()
    );
    assert_eq!(tag_of(&get).as_deref(), Some("good"));
    assert_eq!(good.completed_requests(), good_before + 1);

    // One broken exchange does not take the server out: the POST goes there too.
    let post = try_request(proxy.web_port, "POST", HOST, "/", "").unwrap();
    assert_eq!(
        post.status,
        502,
        "a POST that reached a server is never sent twice: {}",
        post.body_str()
    );
    assert_eq!(seen.load(Ordering::SeqCst), 2, "the POST went out exactly once");
    assert_eq!(
        good.completed_requests(),
        good_before + 1,
        "and never to the other server"
    );
    let body = try_request(proxy.web_port, "PUT", HOST, "/", "").unwrap();
    assert_eq!(
        body.status,
        200,
        "the broken server is out after two broken exchanges: {}",
        body.body_str()
    );
    assert_eq!(seen.load(Ordering::SeqCst), 2);
}

#[test]
fn a_hung_health_endpoint_does_not_delay_the_provider_poll() {
    // Eight servers that accept health-check connections and never answer.
    let held: Arc<Mutex<Vec<std::net::TcpStream>>> = Arc::default();
    let mut hung_ports = Vec::new();
    for _ in 0..8 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        hung_ports.push(listener.local_addr().unwrap().port());
        let keep = held.clone();
        thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                keep.lock().unwrap().push(conn);
            }
        });
    }
    let app = Upstream::start(tagged("app"));
    let servers: Vec<Value> = hung_ports
        .iter()
        .map(|port| json!({ "url": format!("http://127.0.0.1:{port}") }))
        .collect();
    let health = json!({ "path": "/health", "interval": "1s", "timeout": "10s" });
    let d = Dynamic::new()
        .router("hung", "Host(`hung.test`)", "hung")
        .service_value("hung", lb(Value::Array(servers), Some(health)))
        .app("app", "app.test", app.port);
    let (cp, proxy) = start(&d, 1);
    wait_routed(&proxy, "app.test");
    // Eight checks hang for 10 s each; the poll (every 1 s) must go on.
    let polls = cp.requests();
    thread::sleep(Duration::from_millis(3500));
    let during = cp.requests() - polls;
    assert!(during >= 3, "{during} poll(s) in 3.5 s while health checks hang");
    let d2 = d.clone().app("new", "new.test", app.port);
    cp.set_json(d2.json());
    let changed = Instant::now();
    wait_routed(&proxy, "new.test");
    assert!(
        changed.elapsed() < Duration::from_millis(1600),
        "route change took {:?}",
        changed.elapsed()
    );
    assert!(
        held.lock().unwrap().len() >= 4,
        "the health checks did reach the hung server"
    );
}

#[test]
fn route_files_spread_over_several_targets_with_weights_and_health_checks() {
    let sick = Arc::new(AtomicBool::new(false));
    let a = Upstream::start(with_health("a", Arc::new(AtomicBool::new(false))));
    let b = Upstream::start(with_health("b", sick.clone()));
    let routes = format!(
        "- id: files.test\n  targets:\n    - 127.0.0.1:{}\n    - target: 127.0.0.1:{}\n      weight: 3\n  healthCheck:\n    path: /health\n    interval: 300ms\n    timeout: 200ms\n",
        a.port, b.port
    );
    let config = "entryPoints:\n  web:\n    address: \"127.0.0.1:@WEB_PORT@\"\nringress:\n  workers: 1\n  routes: routes.yml\n  admin: { address: \"127.0.0.1:@ADMIN_PORT@\" }\n";
    let proxy = Proxy::start(config, &routes);
    wait_routed(&proxy, "files.test");
    let tags = keep_alive_gets(proxy.web_port, "files.test", 400);
    let na = tags.iter().filter(|t| *t == "a").count();
    let nb = tags.iter().filter(|t| *t == "b").count();
    assert_eq!((na, nb), (100, 300), "weights 1:3 over 400 requests");
    sick.store(true, Ordering::SeqCst);
    let b_url = format!("http://127.0.0.1:{}", b.port);
    wait_status(&proxy, "files.test@routes", &b_url, "DOWN", Duration::from_secs(3))
        .unwrap_or_else(|| panic!("never DOWN: {}", server_status(&proxy, "files.test@routes")));
    let tags = keep_alive_gets(proxy.web_port, "files.test", 40);
    assert!(tags.iter().all(|t| t == "a"), "{tags:?}");
}
