//! The HTTP provider against a stand-in control plane: routes follow the control plane within
//! one poll interval, the last good table survives every kind of control-plane failure under
//! load, the bearer token never leaks, 10,000 routers, round-robin and passHostHeader.
#![allow(clippy::unwrap_used)]

mod common;

use common::client::Conn;
use common::control_plane::{
    admin_json, apps, echoed_header, provider_config, random_token, tag_of, tagged, try_get, wait_until, ControlPlane,
    Dynamic, Mode, ProviderOpts, Token,
};
use common::proxy::{run_cli_env, Extra, Proxy};
use common::upstream::Upstream;
use common::{free_port, TempDir};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const NOT_FOUND: &str = "404 page not found\n";
/// One poll interval (1 s) plus slack.
const ONE_POLL: Duration = Duration::from_millis(1500);

fn start(opts: &ProviderOpts) -> Proxy {
    Proxy::start(&provider_config(opts), "")
}

fn serves(proxy: &Proxy, host: &str, tag: &str, timeout: Duration) -> Option<Duration> {
    wait_until(proxy.web_port, host, "/", timeout, |r| {
        r.status == 200 && tag_of(r).as_deref() == Some(tag)
    })
}

fn gone(proxy: &Proxy, host: &str, timeout: Duration) -> Option<Duration> {
    wait_until(proxy.web_port, host, "/", timeout, |r| {
        r.status == 404 && r.body_str() == NOT_FOUND
    })
}

fn providers_http(proxy: &Proxy) -> Value {
    let v = admin_json(proxy.admin_port, "/api/providers")
        .unwrap_or_else(|| panic!("GET /api/providers did not answer 200 JSON"));
    v.get("http")
        .cloned()
        .unwrap_or_else(|| panic!("/api/providers has no \"http\": {v}"))
}

/// What was logged after the first `from` bytes (all of it if the log is shorter or `from` is
/// not on a character boundary).
fn since(log: &str, from: usize) -> String {
    log.get(from..).unwrap_or(log).to_string()
}

fn failures_of(p: &Value) -> u64 {
    p.get("consecutiveFailures")
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("no numeric consecutiveFailures in {p}"))
}

#[test]
fn routes_follow_the_control_plane_within_one_poll_interval() {
    let a = Upstream::start(tagged("a"));
    let b = Upstream::start(tagged("b"));
    let one = Dynamic::new().app("a1", "a1.test", a.port);
    let two = one.clone().app("a2", "a2.test", b.port);
    let cp = ControlPlane::start(Mode::Json(one.json()), None);
    let proxy = start(&ProviderOpts::new(cp.endpoint()));
    assert!(
        serves(&proxy, "a1.test", "a", Duration::from_secs(3)).is_some(),
        "a1.test never served"
    );

    for cycle in 0..3u64 {
        // Vary where in the poll cycle the change lands.
        thread::sleep(Duration::from_millis(150 + 280 * cycle));
        cp.set_json(two.json());
        let took = serves(&proxy, "a2.test", "b", Duration::from_secs(4));
        assert!(
            took.is_some_and(|t| t <= ONE_POLL),
            "cycle {cycle}: added app served after {took:?} (want <= {ONE_POLL:?})"
        );
        let r = try_get(proxy.web_port, "a1.test", "/").unwrap();
        assert_eq!(tag_of(&r).as_deref(), Some("a"), "a1.test broke after adding a2");

        thread::sleep(Duration::from_millis(90 + 310 * cycle));
        cp.set_json(one.json());
        let took = gone(&proxy, "a2.test", Duration::from_secs(4));
        assert!(
            took.is_some_and(|t| t <= ONE_POLL),
            "cycle {cycle}: removed app gone after {took:?} (want <= {ONE_POLL:?})"
        );
        let r = try_get(proxy.web_port, "a1.test", "/").unwrap();
        assert_eq!(tag_of(&r).as_deref(), Some("a"), "a1.test broke after removing a2");
    }

    // Polling goes on once per interval.
    let before = cp.requests();
    thread::sleep(Duration::from_millis(3000));
    let polls = cp.requests() - before;
    assert!((2..=5).contains(&polls), "{polls} polls in 3 s with pollInterval 1s");

    // A valid answer without routers applies: everything disappears.
    for empty in ["{}", r#"{"http":{"routers":{}}}"#] {
        cp.set_json(two.json());
        assert!(serves(&proxy, "a2.test", "b", Duration::from_secs(4)).is_some());
        cp.set_json(empty.to_string());
        let took = gone(&proxy, "a1.test", Duration::from_secs(4));
        assert!(
            took.is_some_and(|t| t <= ONE_POLL),
            "{empty}: a1.test gone after {took:?} (want 404 {NOT_FOUND:?} within {ONE_POLL:?})"
        );
        let r = try_get(proxy.web_port, "a2.test", "/").unwrap();
        assert_eq!(r.status, 404, "{empty}: a2.test still served");
    }

    let err = proxy.stderr();
    assert!(
        err.contains("Configuration received from provider http"),
        "no 'Configuration received from provider http' line in stderr:\n{err}"
    );
}

#[test]
fn first_poll_happens_at_once() {
    let a = Upstream::start(tagged("a"));
    let cp = ControlPlane::start(Mode::Json(Dynamic::new().app("f", "first.test", a.port).json()), None);
    let mut o = ProviderOpts::new(cp.endpoint());
    // A long interval: a first poll that waited for it would take 10 s.
    o.poll_interval = "10s";
    let proxy = start(&o);
    let took = serves(&proxy, "first.test", "a", Duration::from_secs(5));
    assert!(
        took.is_some_and(|t| t <= Duration::from_millis(500)),
        "first.test served {took:?} after /ping answered (want <= 500 ms); control plane saw {} requests",
        cp.requests()
    );
}

/// Phases of the outage test: (mode, name, stderr words of which one must appear).
fn outage_phases() -> Vec<(Mode, &'static str, &'static [&'static str])> {
    vec![
        (Mode::Status(500), "status 500", &["500"]),
        (
            Mode::Garbage,
            "garbage body",
            &["json", "decode", "parse", "expected", "syntax"],
        ),
        (Mode::Empty, "empty body", &["empty"]),
        (Mode::Hang, "hang > pollTimeout", &["timeout", "timed out"]),
        (Mode::Down, "connection refused", &["refused", "connect"]),
    ]
}

#[test]
fn last_good_table_survives_every_control_plane_failure_under_load() {
    let ups: Vec<Upstream> = (0..3).map(|i| Upstream::start(tagged(&format!("o{i}")))).collect();
    let mut d = Dynamic::new();
    for (i, u) in ups.iter().enumerate() {
        d = d.app(&format!("o{i}"), &format!("o{i}.test"), u.port);
    }
    let good = d.json();
    let cp = ControlPlane::start(Mode::Json(good.clone()), None);
    let mut o = ProviderOpts::new(cp.endpoint());
    o.poll_timeout = Some("1s");
    let proxy = start(&o);
    for i in 0..3 {
        assert!(
            serves(&proxy, &format!("o{i}.test"), &format!("o{i}"), Duration::from_secs(3)).is_some(),
            "o{i}.test never served"
        );
    }

    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicUsize::new(0));
    let failures: Arc<Mutex<Vec<String>>> = Arc::default();
    let clients: Vec<_> = (0..4)
        .map(|t| {
            let (stop, ok, failures, port) = (stop.clone(), ok.clone(), failures.clone(), proxy.web_port);
            thread::spawn(move || {
                let mut conn: Option<Conn> = None;
                let mut i = t;
                while !stop.load(Ordering::SeqCst) {
                    i += 1;
                    let app = i % 3;
                    if conn.is_none() {
                        match Conn::try_connect(port) {
                            Ok(c) => conn = Some(c),
                            Err(e) => {
                                failures.lock().unwrap().push(format!("connect: {e}"));
                                thread::sleep(Duration::from_millis(50));
                                continue;
                            }
                        }
                    }
                    let c = conn.as_mut().unwrap();
                    c.set_read_timeout(Duration::from_secs(5));
                    let sent = c.try_send(format!("GET /{i} HTTP/1.1\r\nHost: o{app}.test\r\n\r\n").as_bytes());
                    match sent.and_then(|_| c.read_response("GET")) {
                        Ok(r) if r.status == 200 && tag_of(&r) == Some(format!("o{app}")) => {
                            ok.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(r) => {
                            failures
                                .lock()
                                .unwrap()
                                .push(format!("o{app}.test: {} {:?}", r.status, r.body_str()));
                            conn = None;
                        }
                        Err(e) => {
                            failures.lock().unwrap().push(format!("o{app}.test: {e}"));
                            conn = None;
                        }
                    }
                }
            })
        })
        .collect();

    let mut problems = Vec::new();
    let mut last_failures = 0;
    for (mode, name, words) in outage_phases() {
        let from = proxy.stderr().len();
        cp.set_mode(mode);
        thread::sleep(Duration::from_secs(4));
        let p = providers_http(&proxy);
        let f = failures_of(&p);
        if f == 0 || f < last_failures {
            problems.push(format!(
                "{name}: consecutiveFailures {f} (before: {last_failures}) in {p}"
            ));
        }
        last_failures = f;
        if !p.get("lastError").is_some_and(Value::is_string) {
            problems.push(format!("{name}: lastError not set in {p}"));
        }
        let logged = since(&proxy.stderr(), from).to_ascii_lowercase();
        if !words.iter().any(|w| logged.contains(w)) {
            problems.push(format!(
                "{name}: no stderr line mentioning any of {words:?} during the phase; it logged:\n{logged}"
            ));
        }
    }
    let p = providers_http(&proxy);
    if failures_of(&p) < 8 {
        problems.push(format!(
            "after 20 s of failures consecutiveFailures is only {}",
            failures_of(&p)
        ));
    }
    if let Some(age) = p.get("tableAgeSeconds").and_then(Value::as_f64) {
        if age < 3.0 {
            problems.push(format!("tableAgeSeconds {age} after 20 s without a good poll"));
        }
    }

    // Back to normal: failures reset and polling resumed (a new app appears).
    cp.set_json(good.clone());
    let deadline = Instant::now() + Duration::from_secs(4);
    let mut p = providers_http(&proxy);
    while failures_of(&p) != 0 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(100));
        p = providers_http(&proxy);
    }
    if failures_of(&p) != 0 || !p.get("lastSuccess").is_some_and(Value::is_string) {
        problems.push(format!("did not recover after the control plane came back: {p}"));
    }
    let extra = Upstream::start(tagged("o3"));
    cp.set_json(d.clone().app("o3", "o3.test", extra.port).json());
    let took = serves(&proxy, "o3.test", "o3", Duration::from_secs(4));
    if took.is_none_or(|t| t > ONE_POLL) {
        problems.push(format!("after recovery, a new app was served after {took:?}"));
    }

    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.join().unwrap();
    }
    let failures = failures.lock().unwrap();
    let served = ok.load(Ordering::SeqCst);
    assert!(
        failures.is_empty(),
        "{} failed requests ({served} ok) during the outage; first ones: {:?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );
    assert!(served > 400, "only {served} requests served in 20+ s");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(!proxy.stderr().contains("panicked"), "{}", proxy.stderr());
}

enum TokenVia {
    File,
    Env,
    Header,
}

fn leaks(token: &str, text: &str) -> bool {
    // The whole token or any recognisable piece of it (a logged prefix is a leak too).
    text.contains(token) || text.contains(&token[2..18]) || text.contains(&token[token.len() - 16..])
}

fn token_secrecy(via: TokenVia) {
    let token = random_token();
    let wrong = random_token();
    let up = Upstream::start(tagged("s"));
    let d = Dynamic::new().app("s", "s.test", up.port);
    let cp = ControlPlane::start(Mode::Json(d.json()), Some(&token));
    let mut o = ProviderOpts::new(cp.endpoint());
    let mut extra = Extra::default();
    let var = format!("RINGRESS_IT_TOKEN_{}", std::process::id());
    match via {
        TokenVia::File => {
            o.token = Token::File("token.txt".into());
            extra.files.push(("token.txt".into(), format!("{token}\n")));
        }
        TokenVia::Env => {
            o.token = Token::Env(var.clone());
            extra.env.push((var.clone(), token.clone()));
        }
        TokenVia::Header => o.token = Token::Header(token.clone()),
    }
    let cfg = provider_config(&o);
    let proxy = Proxy::start_extra(&cfg, "", "-c", &extra);
    assert!(
        serves(&proxy, "s.test", "s", Duration::from_secs(3)).is_some(),
        "s.test never served; control plane saw {:?}",
        cp.authorizations().iter().map(|a| a.is_some()).collect::<Vec<_>>()
    );
    let want = format!("Bearer {token}");
    let auths = cp.authorizations();
    assert!(
        !auths.is_empty() && auths.iter().all(|a| a.as_deref() == Some(want.as_str())),
        "control plane saw Authorization values other than the configured bearer token ({} requests; first is {})",
        auths.len(),
        match auths.first() {
            Some(Some(a)) if a == &want => "right".to_string(),
            Some(Some(a)) => format!("wrong, {} chars", a.len()),
            _ => "absent".to_string(),
        }
    );

    // The control plane now expects another token: 401s, table kept, a line about 401.
    let from = proxy.stderr().len();
    cp.set_token(Some(&wrong));
    let n = cp.requests();
    let deadline = Instant::now() + Duration::from_secs(4);
    while cp.requests() < n + 3 && Instant::now() < deadline {
        let r = try_get(proxy.web_port, "s.test", "/").unwrap();
        assert_eq!(
            tag_of(&r).as_deref(),
            Some("s"),
            "table lost on 401: {} {}",
            r.status,
            r.body_str()
        );
        thread::sleep(Duration::from_millis(100));
    }
    assert!(cp.requests() >= n + 3, "polling stopped after a 401");
    let p = providers_http(&proxy);
    assert!(failures_of(&p) > 0, "401s not counted: {p}");
    let logged = since(&proxy.stderr(), from);
    assert!(logged.contains("401"), "no stderr line mentions the 401:\n{logged}");
    cp.set_token(Some(&token));
    thread::sleep(Duration::from_millis(1300));

    let rawdata = proxy.admin_get("/api/rawdata").body_str();
    let providers = proxy.admin_get("/api/providers").body_str();
    assert!(rawdata.contains("s@http"), "rawdata lacks s@http:\n{rawdata}");
    for (what, text) in [
        ("stderr", proxy.stderr()),
        ("stdout", proxy.stdout()),
        ("/api/rawdata", rawdata),
        ("/api/providers", providers),
    ] {
        assert!(!leaks(&token, &text), "the token appears in {what}");
    }

    // `ringress check` with the same config, run in a fresh directory.
    let dir = TempDir::new("check-token");
    let web = free_port();
    let mut admin = free_port();
    while admin == web {
        admin = free_port();
    }
    let cfg = cfg
        .replace("@WEB_PORT@", &web.to_string())
        .replace("@ADMIN_PORT@", &admin.to_string());
    dir.write("ringress.yml", &cfg);
    for (name, contents) in &extra.files {
        dir.write(name, contents);
    }
    let before = cp.requests();
    let out = run_cli_env(dir.path(), &["check", "--config", "ringress.yml"], &extra.env);
    assert!(!leaks(&token, &out.stdout), "the token appears in check's stdout");
    assert!(!leaks(&token, &out.stderr), "the token appears in check's stderr");
    assert_eq!(
        out.status.code(),
        Some(0),
        "check failed:\nstdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
    assert!(cp.requests() > before, "check did not poll the control plane");
    assert!(
        cp.authorizations().iter().all(|a| a.as_deref() == Some(want.as_str())),
        "check sent a different Authorization"
    );
}

#[test]
fn token_from_file_is_sent_and_never_shown() {
    token_secrecy(TokenVia::File);
}

#[test]
fn token_from_env_is_sent_and_never_shown() {
    token_secrecy(TokenVia::Env);
}

#[test]
fn token_from_headers_is_sent_and_never_shown() {
    token_secrecy(TokenVia::Header);
}

#[test]
fn ten_thousand_routers() {
    let ups: Vec<Upstream> = (0..4).map(|i| Upstream::start(tagged(&format!("u{i}")))).collect();
    let ports: Vec<u16> = ups.iter().map(|u| u.port).collect();
    let cp = ControlPlane::start(Mode::Json(apps(10_000, &ports).json()), None);
    let proxy = start(&ProviderOpts::new(cp.endpoint()));
    let took = serves(&proxy, "app-9999.test", "u3", Duration::from_secs(15));
    assert!(took.is_some(), "app-9999.test not served within 15 s");

    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..20 {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let i = (x >> 33) % 10_000;
        let r = try_get(proxy.web_port, &format!("app-{i}.test"), "/x").unwrap();
        assert_eq!(r.status, 200, "app-{i}.test: {}", r.body_str());
        assert_eq!(
            tag_of(&r),
            Some(format!("u{}", i % 4)),
            "app-{i}.test went to the wrong upstream"
        );
    }
    let r = try_get(proxy.web_port, "app-10000.test", "/").unwrap();
    assert_eq!(r.status, 404);

    let raw = admin_json(proxy.admin_port, "/api/rawdata").expect("/api/rawdata");
    let routers = raw["routers"].as_object().expect("routers object");
    let http = routers.keys().filter(|k| k.ends_with("@http")).count();
    assert_eq!(http, 10_000, "/api/rawdata lists {http} @http routers");
    assert_eq!(raw["routers"]["app-42@http"]["status"], json!("enabled"));
    assert_eq!(raw["routers"]["app-42@http"]["service"], json!("app-42@http"));
}

#[test]
fn round_robin_and_pass_host_header() {
    let a = Upstream::start(tagged("a"));
    let b = Upstream::start(tagged("b"));
    let d = Dynamic::new()
        .router("rr", "Host(`rr.test`)", "rr")
        .service("rr", &[a.port, b.port])
        .router("np", "Host(`np.test`)", "np")
        .service_value(
            "np",
            json!({"loadBalancer": {"servers": [{"url": format!("http://127.0.0.1:{}", a.port)}], "passHostHeader": false}}),
        )
        .app("pass", "pass.test", b.port);
    let cp = ControlPlane::start(Mode::Json(d.json()), None);
    let proxy = start(&ProviderOpts::new(cp.endpoint()));
    assert!(
        wait_until(proxy.web_port, "rr.test", "/", Duration::from_secs(3), |r| r.status
            == 200)
        .is_some()
    );

    let mut c = proxy.connect();
    let (mut na, mut nb) = (0u32, 0u32);
    for i in 0..100 {
        c.send(format!("GET /{i} HTTP/1.1\r\nHost: rr.test\r\n\r\n").as_bytes());
        let r = c.read_response("GET").unwrap();
        assert_eq!(r.status, 200, "request {i}: {}", r.body_str());
        match tag_of(&r).as_deref() {
            Some("a") => na += 1,
            Some("b") => nb += 1,
            t => panic!("request {i} answered by {t:?}"),
        }
    }
    assert!(
        na.abs_diff(50) <= 1 && nb.abs_diff(50) <= 1,
        "round-robin split {na}/{nb}"
    );

    let r = try_get(proxy.web_port, "np.test", "/").unwrap();
    assert_eq!(tag_of(&r).as_deref(), Some("a"));
    assert_eq!(
        echoed_header(&r, "host"),
        Some(format!("127.0.0.1:{}", a.port)),
        "passHostHeader false: {}",
        r.body_str()
    );
    let r = try_get(proxy.web_port, "pass.test", "/").unwrap();
    assert_eq!(
        echoed_header(&r, "host").as_deref(),
        Some("pass.test"),
        "{}",
        r.body_str()
    );
}
