//! `/metrics` over real sockets: request counts by entrypoint, code and method, the duration histogram, client-side
//! bytes, open connections by protocol, upstream errors by kind, the status board's families (reloads, route files,
//! certificates), and the exposition format itself.
#![allow(clippy::unwrap_used)]

mod common;

use common::client::{get, get_request, Conn};
use common::full_listener::RefusingPort;
use common::proxy::{config, routes, Extra, Opts, Proxy};
use common::upstream::{echo, hang, raw, Upstream};
use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// One sample: metric name and its labels.
type Key = (String, BTreeMap<String, String>);

/// Parses Prometheus text: every sample line, checked for syntax, with its value; and checks that every sample's
/// family was announced by `# HELP` and `# TYPE` lines before it.
fn parse(text: &str) -> Vec<(Key, f64)> {
    let mut typed: Vec<(String, String)> = Vec::new();
    let mut helped: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            helped.push(rest.split(' ').next().unwrap().to_string());
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split(' ');
            let name = it.next().unwrap().to_string();
            let kind = it.next().unwrap().to_string();
            assert!(
                ["counter", "gauge", "histogram"].contains(&kind.as_str()),
                "bad type in {line:?}"
            );
            assert!(helped.contains(&name), "# TYPE {name} without # HELP");
            typed.push((name, kind));
            continue;
        }
        assert!(!line.starts_with('#') && !line.is_empty(), "unexpected line {line:?}");
        let (name_labels, value) = line.rsplit_once(' ').unwrap();
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("bad value in {line:?}"));
        let (name, labels) = match name_labels.split_once('{') {
            None => (name_labels.to_string(), BTreeMap::new()),
            Some((name, rest)) => (name.to_string(), parse_labels(rest.strip_suffix('}').unwrap(), line)),
        };
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name in {line:?}"
        );
        let family = typed.iter().find(|(t, kind)| {
            *t == name
                || (kind == "histogram"
                    && ["_bucket", "_sum", "_count"]
                        .iter()
                        .any(|s| name.strip_suffix(s) == Some(t.as_str())))
        });
        assert!(family.is_some(), "{line:?} before its # TYPE");
        out.push(((name, labels), value));
    }
    out
}

/// `a="x",b="y\"z"` → map, unescaping values.
fn parse_labels(s: &str, line: &str) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    let mut rest = s;
    while !rest.is_empty() {
        let (k, after) = rest
            .split_once("=\"")
            .unwrap_or_else(|| panic!("bad labels in {line:?}"));
        let mut v = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => v.push('\n'),
                    Some((_, c)) => v.push(c),
                    None => panic!("bad escape in {line:?}"),
                },
                Some((i, '"')) => break i,
                Some((_, c)) => v.push(c),
                None => panic!("unterminated label value in {line:?}"),
            }
        };
        m.insert(k.to_string(), v);
        rest = after[end + 1..].strip_prefix(',').unwrap_or(&after[end + 1..]);
    }
    m
}

struct Metrics(Vec<(Key, f64)>);

impl Metrics {
    fn scrape(p: &Proxy) -> Metrics {
        let r = p.admin_get("/metrics");
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("text/plain; version=0.0.4"));
        Metrics(parse(&r.body_str()))
    }

    /// The value of `name` with exactly these labels, if present.
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let want: BTreeMap<String, String> = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.0
            .iter()
            .find(|((n, l), _)| n == name && *l == want)
            .map(|(_, v)| *v)
    }

    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels)
            .unwrap_or_else(|| panic!("no {name}{labels:?} in {:#?}", self.0))
    }

    /// Sum of every sample of `name` whose labels include these.
    fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.0
            .iter()
            .filter(|((n, l), _)| n == name && labels.iter().all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v)))
            .map(|(_, v)| *v)
            .sum()
    }
}

/// Scrapes until `ok` holds (the last request's accounting may land a moment after its response), or panics with
/// the last scrape after 5 s.
fn scrape_until(p: &Proxy, what: &str, ok: impl Fn(&Metrics) -> bool) -> Metrics {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let m = Metrics::scrape(p);
        if ok(&m) {
            return m;
        }
        assert!(Instant::now() < deadline, "{what}: never true; last scrape: {:#?}", m.0);
        thread::sleep(Duration::from_millis(20));
    }
}

const WEB: (&str, &str) = ("entrypoint", "web");

#[test]
fn requests_by_code_and_method_durations_and_bytes() {
    let up = Upstream::start(echo());
    let proxy = Proxy::start(
        &config(&Opts {
            workers: 2,
            ..Opts::default()
        }),
        &routes(&[("app.test", up.port)]),
    );
    // 37 to the route (30 GETs on one keep-alive connection, 7 POSTs each on its own), 5 to an unknown host.
    let mut c = proxy.connect();
    for i in 0..30 {
        c.send(&get_request("app.test", &format!("/r/{i}")));
        assert_eq!(c.read_response("GET").unwrap().status, 200);
    }
    for _ in 0..7 {
        let mut c = proxy.connect();
        c.send(b"POST /submit HTTP/1.1\r\nHost: app.test\r\nContent-Length: 5\r\n\r\nhello");
        assert_eq!(c.read_response("POST").unwrap().status, 200);
    }
    for i in 0..5 {
        assert_eq!(get(proxy.web_port, "nobody.test", &format!("/{i}")).status, 404);
    }

    let count = "ringress_request_duration_seconds_count";
    let m = scrape_until(&proxy, "42 requests counted", |m| m.get(count, &[WEB]) == Some(42.0));
    let req = "ringress_requests_total";
    assert_eq!(m.value(req, &[WEB, ("code", "200"), ("method", "GET")]), 30.0);
    assert_eq!(m.value(req, &[WEB, ("code", "200"), ("method", "POST")]), 7.0);
    assert_eq!(m.value(req, &[WEB, ("code", "404"), ("method", "GET")]), 5.0);
    assert_eq!(m.sum(req, &[WEB]), 42.0);
    assert_eq!(m.sum(req, &[WEB, ("code", "200")]), 37.0);

    // The histogram is cumulative and ends at +Inf with the count.
    let bucket = "ringress_request_duration_seconds_bucket";
    let mut last = 0.0;
    for le in [
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.3", "0.5", "1.2", "2.5", "5", "10", "+Inf",
    ] {
        let v = m.value(bucket, &[WEB, ("le", le)]);
        assert!(v >= last, "bucket {le} = {v} < {last}");
        last = v;
    }
    assert_eq!(last, 42.0);
    let sum = m.value("ringress_request_duration_seconds_sum", &[WEB]);
    assert!(sum > 0.0 && sum < 42.0 * 5.0, "duration sum {sum}");

    // Client-side bytes: at least every request line, and every response's body.
    let received = m.value("ringress_received_bytes_total", &[WEB]);
    let sent = m.value("ringress_sent_bytes_total", &[WEB]);
    assert!(received >= 42.0 * 20.0, "received {received}");
    assert!(
        sent >= 5.0 * "404 page not found\n".len() as f64 + 37.0 * 20.0,
        "sent {sent}"
    );

    // The per-worker families are still there and agree.
    assert_eq!(m.sum("ringress_worker_requests_total", &[]), 42.0);
    assert_eq!(m.sum("ringress_worker_connections_total", &[]), 1.0 + 7.0 + 5.0);
    // The route file load published a table.
    assert!(m.value("ringress_config_reloads_total", &[]) >= 1.0);
    let reloaded = m.value("ringress_config_last_reload_success_timestamp_seconds", &[]);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
    assert!(
        reloaded > now - 300.0 && reloaded <= now + 1.0,
        "last reload {reloaded}, now {now}"
    );
    assert_eq!(m.value("ringress_route_files_errors", &[]), 0.0);
    assert_eq!(m.value("ringress_access_log_dropped_total", &[]), 0.0);
    // No provider configured: no provider families' samples.
    assert_eq!(
        m.get("ringress_provider_consecutive_failures", &[("provider", "http")]),
        None
    );
}

#[test]
fn upstream_errors_by_kind() {
    let dead = RefusingPort::new();
    let garbage = Upstream::start(raw(b"HTTP/9.9 banana\r\n\r\n"));
    let silent = Upstream::start(hang());
    let proxy = Proxy::start(
        &config(&Opts {
            workers: 1,
            response_header_timeout: "1s",
            ..Opts::default()
        }),
        &routes(&[
            ("dead.test", dead.port),
            ("garbage.test", garbage.port),
            ("silent.test", silent.port),
        ]),
    );
    for _ in 0..3 {
        assert_eq!(get(proxy.web_port, "dead.test", "/").status, 502);
    }
    assert_eq!(get(proxy.web_port, "garbage.test", "/").status, 502);
    assert_eq!(get(proxy.web_port, "silent.test", "/").status, 504);

    let errors = "ringress_upstream_errors_total";
    let m = scrape_until(&proxy, "5 upstream errors", |m| m.sum(errors, &[]) == 5.0);
    assert_eq!(m.value(errors, &[("kind", "connect_refused")]), 3.0);
    assert_eq!(m.value(errors, &[("kind", "invalid_response")]), 1.0);
    assert_eq!(m.value(errors, &[("kind", "response_timeout")]), 1.0);
    for kind in ["connect_timeout", "connect_error", "reset", "response_truncated"] {
        assert_eq!(m.value(errors, &[("kind", kind)]), 0.0, "{kind}");
    }
    let req = "ringress_requests_total";
    assert_eq!(m.value(req, &[WEB, ("code", "502"), ("method", "GET")]), 4.0);
    assert_eq!(m.value(req, &[WEB, ("code", "504"), ("method", "GET")]), 1.0);
    // The 504 waited for the response header timeout.
    assert_eq!(
        m.value("ringress_request_duration_seconds_bucket", &[WEB, ("le", "0.5")]),
        4.0
    );
    // The older per-worker families still count them.
    assert_eq!(m.sum("ringress_worker_upstream_errors_total", &[]), 4.0);
    assert_eq!(m.sum("ringress_worker_upstream_timeouts_total", &[]), 1.0);
}

#[test]
fn open_connections_by_protocol_and_rejected_heads() {
    let up = Upstream::start(echo());
    let proxy = Proxy::start(
        &config(&Opts {
            workers: 2,
            ..Opts::default()
        }),
        &routes(&[("app.test", up.port)]),
    );
    let open = "ringress_open_connections";
    let m = Metrics::scrape(&proxy);
    assert_eq!(m.value(open, &[WEB, ("protocol", "http")]), 0.0);
    assert_eq!(m.value(open, &[WEB, ("protocol", "tls")]), 0.0);

    // Three idle plain connections (one has served a request), two that started a TLS handshake.
    let mut plain: Vec<Conn> = (0..3).map(|_| proxy.connect()).collect();
    plain[0].send(&get_request("app.test", "/"));
    assert_eq!(plain[0].read_response("GET").unwrap().status, 200);
    let mut tls: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(("127.0.0.1", proxy.web_port)).unwrap())
        .collect();
    for s in &mut tls {
        // A handshake record header, then nothing: the connection waits in the TLS handshake.
        s.write_all(&[0x16, 0x03, 0x01]).unwrap();
    }
    scrape_until(&proxy, "3 http + 2 tls open", |m| {
        m.get(open, &[WEB, ("protocol", "http")]) == Some(3.0) && m.get(open, &[WEB, ("protocol", "tls")]) == Some(2.0)
    });
    drop(tls);
    drop(plain);
    scrape_until(&proxy, "all closed", |m| {
        m.get(open, &[WEB, ("protocol", "http")]) == Some(0.0) && m.get(open, &[WEB, ("protocol", "tls")]) == Some(0.0)
    });

    // A malformed head is answered 400 and counted with method "other".
    let mut c = proxy.connect();
    c.send(b"GET / HTTP/1.1\r\nHost: app.test\r\nBad Header\r\n\r\n");
    assert_eq!(c.read_response("GET").unwrap().status, 400);
    let m = scrape_until(&proxy, "the 400 counted", |m| {
        m.get("ringress_requests_total", &[WEB, ("code", "400"), ("method", "other")]) == Some(1.0)
    });
    assert_eq!(m.sum("ringress_worker_bad_requests_total", &[]), 1.0);
}

#[test]
fn client_gone_mid_body_counts_as_499() {
    let up = Upstream::start(echo());
    let proxy = Proxy::start(&config(&Opts::default()), &routes(&[("app.test", up.port)]));
    let mut c = proxy.connect();
    c.send(b"PUT /upload HTTP/1.1\r\nHost: app.test\r\nContent-Length: 1000\r\n\r\nonly a few bytes");
    thread::sleep(Duration::from_millis(200));
    drop(c);
    let m = scrape_until(&proxy, "the abandoned PUT counted", |m| {
        m.get("ringress_requests_total", &[WEB, ("code", "499"), ("method", "PUT")]) == Some(1.0)
    });
    assert_eq!(
        m.sum("ringress_worker_requests_total", &[]),
        0.0,
        "not a request answered"
    );
}

#[test]
fn certificate_expiry_from_the_status_board() {
    // A stored certificate for a name no router wants: loaded at start-up, reported, never ordered.
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["stored.test".to_string()]).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, "stored.test");
    let not_after = UNIX_EPOCH + Duration::from_secs(2_000_000_000);
    params.not_before = (SystemTime::now() - Duration::from_secs(86_400)).into();
    params.not_after = not_after.into();
    let cert = params.self_signed(&key).unwrap();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let acme = serde_json::json!({
        "le": {
            "Account": null,
            "Certificates": [{
                "domain": {"main": "stored.test"},
                "certificate": b64.encode(cert.pem()),
                "key": b64.encode(key.serialize_pem()),
                "Store": "default"
            }]
        }
    });
    let yaml = config(&Opts::default()).replace(
        "ringress:\n",
        "certificatesResolvers:\n  le:\n    acme:\n      email: it@ringress.test\n      storage: acme.json\n      caServer: \"https://127.0.0.1:9/dir\"\n      httpChallenge: { entryPoint: web }\nringress:\n",
    );
    let dir = common::TempDir::new("metrics-certs");
    let storage = dir.write("acme.json", &acme.to_string());
    std::fs::set_permissions(&storage, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let yaml = yaml.replace("storage: acme.json", &format!("storage: \"{}\"", storage.display()));
    let proxy = Proxy::start_extra(&yaml, &routes(&[]), "-c", &Extra::default());
    let name = "ringress_certificate_not_after_timestamp_seconds";
    let labels = [("resolver", "le"), ("domain", "stored.test")];
    let m = scrape_until(&proxy, "the stored certificate reported", |m| {
        m.get(name, &labels).is_some()
    });
    assert_eq!(m.value(name, &labels), 2_000_000_000.0);
    assert_eq!(m.value("ringress_acme_orders_total", &[]), 0.0);
    assert_eq!(m.value("ringress_acme_order_failures_total", &[]), 0.0);
    assert_eq!(m.value("ringress_acme_certificates_issued_total", &[]), 0.0);
}
