//! Traefik's access log over real sockets: the `common` line format (a regex over the whole line), JSON lines with
//! Traefik's fields, `accessLog: {}` on stdout, SIGUSR1 reopening a rotated file, and a blocked output that never
//! slows requests down (lines are dropped and counted instead).
#![allow(clippy::unwrap_used)]

mod common;

use common::client::get;
use common::proxy::{config, routes, Opts, Proxy};
use common::upstream::{echo, Upstream};
use regex::Regex;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

fn with_access_log(section: &str, workers: usize) -> String {
    let cfg = config(&Opts {
        workers,
        ..Opts::default()
    });
    format!("{cfg}accessLog:\n{section}")
}

/// The lines of `path` once it has at least `n` (panics after 5 s).
fn wait_lines(what: &str, n: usize, read: impl Fn() -> String) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = read();
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        if lines.len() >= n {
            assert!(text.ends_with('\n'), "{what}: last line unterminated: {text:?}");
            return lines;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: {} line(s), want {n}:\n{text}",
            lines.len()
        );
        thread::sleep(Duration::from_millis(20));
    }
}

fn file_lines(what: &str, path: &Path, n: usize) -> Vec<String> {
    wait_lines(what, n, || std::fs::read_to_string(path).unwrap_or_default())
}

/// Traefik's common format, anchored on the whole line.
fn common_regex() -> Regex {
    Regex::new(concat!(
        r#"^(?P<ip>\d{1,3}(?:\.\d{1,3}){3}) - (?P<user>\S+) \[(?P<time>\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] "#,
        r#""(?P<method>[A-Z]+) (?P<path>\S+) (?P<proto>HTTP/1\.[01])" (?P<status>\d{3}) (?P<size>\d+) "#,
        r#""(?P<referer>(?:[^"\\]|\\.)*)" "(?P<ua>(?:[^"\\]|\\.)*)" (?P<count>\d+) "#,
        r#""(?P<router>[^"]*)" "(?P<url>[^"]*)" (?P<ms>\d+)ms$"#
    ))
    .unwrap()
}

#[test]
fn common_format_to_a_file() {
    let up = Upstream::start(echo());
    let proxy = Proxy::start(
        &with_access_log("  filePath: logs/access.log\n", 2),
        &routes(&[("app.test", up.port)]),
    );
    let path = proxy.dir().join("logs/access.log");
    let mut c = proxy.connect();
    c.send(b"GET /a/b?x=1&y=%22 HTTP/1.1\r\nHost: app.test\r\nUser-Agent: probe/1.0 \"quoted\"\r\nReferer: https://ref.test/p\r\n\r\n");
    assert_eq!(c.read_response("GET").unwrap().status, 200);
    c.send(b"POST /form HTTP/1.0\r\nHost: app.test\r\nContent-Length: 3\r\n\r\nabc");
    assert_eq!(c.read_response("POST").unwrap().status, 200);
    assert_eq!(get(proxy.web_port, "nobody.test", "/missing").status, 404);

    let mut lines = file_lines("access.log", &path, 3);
    assert_eq!(lines.len(), 3, "{lines:#?}");
    // Each worker queues its own lines: across connections (and so workers) the file order is not the request order.
    lines.sort_by_key(|l| {
        [r#""GET /a/b"#, r#""POST "#, "/missing"]
            .iter()
            .position(|p| l.contains(p))
    });
    let re = common_regex();
    let caps: Vec<_> = lines
        .iter()
        .map(|l| {
            re.captures(l)
                .unwrap_or_else(|| panic!("not Traefik's common format: {l:?}"))
        })
        .collect();
    let server_url = format!("http://127.0.0.1:{}", up.port);
    let field = |i: usize, name: &str| caps[i].name(name).unwrap().as_str().to_string();

    assert_eq!(field(0, "ip"), "127.0.0.1");
    assert_eq!(field(0, "user"), "-");
    assert_eq!(field(0, "method"), "GET");
    assert_eq!(field(0, "path"), "/a/b?x=1&y=%22");
    assert_eq!(field(0, "proto"), "HTTP/1.1");
    assert_eq!(field(0, "status"), "200");
    assert_eq!(field(0, "referer"), "https://ref.test/p");
    assert_eq!(field(0, "ua"), r#"probe/1.0 \"quoted\""#);
    assert_eq!(field(0, "router"), "app.test@routes");
    assert_eq!(field(0, "url"), server_url);
    assert!(field(0, "size").parse::<u64>().unwrap() > 0);

    assert_eq!(field(1, "method"), "POST");
    assert_eq!(field(1, "proto"), "HTTP/1.0");
    assert_eq!(field(1, "referer"), "-");
    assert_eq!(field(1, "ua"), "-");

    assert_eq!(field(2, "path"), "/missing");
    assert_eq!(field(2, "status"), "404");
    assert_eq!(field(2, "size"), "19", "body of 404 page not found");
    assert_eq!(field(2, "router"), "-");
    assert_eq!(field(2, "url"), "-");

    // Request counts are distinct; the time is now, in UTC.
    let mut counts: Vec<u64> = (0..3).map(|i| field(i, "count").parse().unwrap()).collect();
    counts.sort_unstable();
    counts.dedup();
    assert_eq!(counts.len(), 3, "{lines:#?}");
    let format = time::format_description::parse_borrowed::<2>(
        "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] [offset_hour sign:mandatory][offset_minute]",
    )
    .unwrap();
    for i in 0..3 {
        let t = time::OffsetDateTime::parse(&field(i, "time"), &format).unwrap();
        assert_eq!(t.offset(), time::UtcOffset::UTC);
        let skew = (time::OffsetDateTime::now_utc() - t).abs();
        assert!(skew < time::Duration::minutes(2), "{}", field(i, "time"));
    }
}

#[test]
fn json_format_on_stdout() {
    let up = Upstream::start(echo());
    let proxy = Proxy::start(
        &with_access_log("  format: json\n", 1),
        &routes(&[("app.test", up.port)]),
    );
    let mut c = proxy.connect();
    c.send(b"PUT /items/7?draft=1 HTTP/1.1\r\nHost: app.test:8080\r\nUser-Agent: ua\r\nContent-Length: 4\r\n\r\nbody");
    assert_eq!(c.read_response("PUT").unwrap().status, 200);
    assert_eq!(get(proxy.web_port, "nobody.test", "/").status, 404);

    let lines = wait_lines("stdout", 2, || proxy.stdout());
    let v: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let a = &v[0];
    assert_eq!(a["ClientHost"], "127.0.0.1");
    assert!(a["ClientAddr"].as_str().unwrap().starts_with("127.0.0.1:"));
    assert_eq!(a["RequestMethod"], "PUT");
    assert_eq!(a["RequestPath"], "/items/7?draft=1");
    assert_eq!(a["RequestProtocol"], "HTTP/1.1");
    assert_eq!(a["RequestScheme"], "http");
    assert_eq!(a["RequestAddr"], "app.test:8080");
    assert_eq!(a["RequestHost"], "app.test");
    assert_eq!(a["RequestPort"], "8080");
    assert_eq!(a["RequestContentSize"], 4);
    assert_eq!(a["DownstreamStatus"], 200);
    assert_eq!(a["OriginStatus"], 200);
    assert!(a["DownstreamContentSize"].as_u64().unwrap() > 0);
    assert!(a["Duration"].as_u64().unwrap() > 0, "Duration is in ns");
    assert_eq!(a["RouterName"], "app.test@routes");
    assert_eq!(a["ServiceName"], "app.test@routes");
    assert_eq!(a["ServiceURL"], format!("http://127.0.0.1:{}", up.port));
    assert_eq!(a["ServiceAddr"], format!("127.0.0.1:{}", up.port));
    assert_eq!(a["entryPointName"], "web");
    assert_eq!(a["request_User-Agent"], "ua");
    assert_eq!(a["level"], "info");
    assert_eq!(a["RetryAttempts"], 0);
    assert_eq!(a["RequestCount"], 1);
    assert!(a["StartUTC"].as_str().unwrap().ends_with('Z'));
    time::OffsetDateTime::parse(
        a["StartUTC"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    time::OffsetDateTime::parse(
        a["time"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();

    let b = &v[1];
    assert_eq!(b["DownstreamStatus"], 404);
    assert_eq!(b["RequestCount"], 2);
    assert!(b.get("RouterName").is_none() && b.get("OriginStatus").is_none(), "{b}");
    assert_eq!(b["RequestPort"], "-");
}

#[test]
fn empty_section_logs_common_lines_on_stdout() {
    let up = Upstream::start(echo());
    let cfg = format!("{}accessLog: {{}}\n", config(&Opts::default()));
    let proxy = Proxy::start(&cfg, &routes(&[("app.test", up.port)]));
    for i in 0..4 {
        assert_eq!(get(proxy.web_port, "app.test", &format!("/{i}")).status, 200);
    }
    let lines = wait_lines("stdout", 4, || proxy.stdout());
    let re = common_regex();
    for l in &lines {
        assert!(re.is_match(l), "{l:?}");
    }
    assert!(
        !proxy.stderr().contains("accessLog"),
        "no warning for accessLog: {}",
        proxy.stderr()
    );
}

#[test]
fn sigusr1_reopens_the_file_after_rotation() {
    let up = Upstream::start(echo());
    let mut proxy = Proxy::start(
        &with_access_log("  filePath: access.log\n", 2),
        &routes(&[("app.test", up.port)]),
    );
    let path = proxy.dir().join("access.log");
    let rotated = proxy.dir().join("access.log.1");
    for i in 0..3 {
        assert_eq!(get(proxy.web_port, "app.test", &format!("/before/{i}")).status, 200);
    }
    file_lines("before rotation", &path, 3);
    std::fs::rename(&path, &rotated).unwrap();
    proxy.signal(libc::SIGUSR1);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !path.exists() {
        assert!(Instant::now() < deadline, "access.log not reopened after SIGUSR1");
        thread::sleep(Duration::from_millis(10));
    }
    for i in 0..2 {
        assert_eq!(get(proxy.web_port, "app.test", &format!("/after/{i}")).status, 200);
    }
    let after = file_lines("after rotation", &path, 2);
    assert_eq!(after.len(), 2, "{after:#?}");
    assert!(after.iter().all(|l| l.contains("/after/")), "{after:#?}");
    let before = std::fs::read_to_string(&rotated).unwrap();
    assert_eq!(before.lines().count(), 3, "{before}");
    assert!(before.lines().all(|l| l.contains("/before/")), "{before}");
    // The proxy is still up and stops cleanly.
    assert!(proxy.ping());
    assert!(proxy.terminate().success());
}

#[test]
fn a_blocked_output_never_blocks_requests() {
    // The log goes to a FIFO the test opens but never reads: once the pipe is full the writer thread is stuck in
    // write(2), its queues fill up, and further lines are dropped.
    let dir = common::TempDir::new("access-fifo");
    let fifo = dir.path().join("access.fifo");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo on a NUL-terminated path in a directory this test owns.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let reader = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
            .unwrap()
    };
    let up = Upstream::start(echo());
    let section = format!("  filePath: \"{}\"\n  bufferingSize: 16\n", fifo.display());
    let mut proxy = Proxy::start(&with_access_log(&section, 1), &routes(&[("app.test", up.port)]));
    let ua = "x".repeat(2000);
    let mut c = proxy.connect();
    let started = Instant::now();
    let n = 400;
    for i in 0..n {
        c.send(format!("GET /{i} HTTP/1.1\r\nHost: app.test\r\nUser-Agent: {ua}\r\n\r\n").as_bytes());
        assert_eq!(c.read_response("GET").unwrap().status, 200);
    }
    let took = started.elapsed();
    // 400 lines of ~2 KiB: far more than a pipe (64 KiB) plus 16 queued lines.
    assert!(took < Duration::from_secs(20), "{n} requests took {took:?}");
    let r = proxy.admin_get("/metrics").body_str();
    let dropped: f64 = r
        .lines()
        .find_map(|l| l.strip_prefix("ringress_access_log_dropped_total "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(dropped >= 200.0, "dropped {dropped}");
    // Unblock the writer so the proxy can stop cleanly.
    let drain = thread::spawn(move || {
        use std::io::Read;
        let mut reader = reader;
        let mut buf = vec![0u8; 1 << 16];
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(_) => thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    assert!(proxy.terminate().success());
    drain.join().unwrap();
}
