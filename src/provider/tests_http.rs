//! [`HttpSource`] against real HTTP servers on 127.0.0.1: what is sent, how each failure is
//! reported, that `pollTimeout` bounds the whole exchange, and that no secret is ever shown.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use super::*;
use crate::config::HttpProvider;

const PATH: &str = "/v1/traefik/proxy-config";
const TOKEN: &str = "tok-SECRET-7f3a";
const HEADER_VALUE: &str = "hdr-SECRET-91c2";

/// What one accepted connection gets.
enum Reply {
    /// These bytes, then close.
    Bytes(Vec<u8>),
    /// This head, then one body byte every `every`, `count` times.
    Trickle {
        head: String,
        every: Duration,
        count: usize,
    },
    /// Nothing for this long, then close.
    Silent(Duration),
    /// A close-delimited 200 body of this many bytes.
    Huge(usize),
}

/// Serves `replies` in order, one connection each; every request head arrives on the receiver.
fn serve(replies: Vec<Reply>) -> (SocketAddr, Receiver<String>) {
    let listener = match TcpListener::bind("127.0.0.1:0").and_then(|l| Ok((l.local_addr()?, l))) {
        Ok((addr, listener)) => (addr, listener),
        Err(error) => panic!("cannot bind a test server: {error}"),
    };
    let (addr, listener) = listener;
    let (heads, received) = mpsc::channel();
    thread::spawn(move || {
        for reply in replies {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = heads.send(read_head(&mut stream));
            // Write errors mean the client gave up, which some tests expect.
            let _ = answer(&mut stream, reply);
        }
    });
    (addr, received)
}

fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

fn answer(stream: &mut TcpStream, reply: Reply) -> std::io::Result<()> {
    match reply {
        Reply::Bytes(bytes) => stream.write_all(&bytes),
        Reply::Trickle { head, every, count } => {
            stream.write_all(head.as_bytes())?;
            for _ in 0..count {
                thread::sleep(every);
                stream.write_all(b" ")?;
            }
            Ok(())
        }
        Reply::Silent(time) => {
            thread::sleep(time);
            Ok(())
        }
        Reply::Huge(size) => {
            stream.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")?;
            let chunk = vec![b' '; 1 << 20];
            let mut left = size;
            while left > 0 {
                let n = left.min(chunk.len());
                stream.write_all(&chunk[..n])?;
                left -= n;
            }
            Ok(())
        }
    }
}

fn response(status: &str, body: &str) -> Reply {
    Reply::Bytes(
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

fn provider(addr: SocketAddr, headers: &[(&str, &str)]) -> HttpProvider {
    let mut conf = HttpProvider::new(format!("http://{addr}{PATH}"));
    conf.poll_timeout = Duration::from_secs(1);
    conf.headers = headers
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    conf
}

fn source(conf: &HttpProvider, token: Option<&str>) -> HttpSource {
    match HttpSource::new(conf, token.map(Secret::new)) {
        Ok(source) => source,
        Err(error) => panic!("should build: {error}"),
    }
}

fn fetch_err(source: &HttpSource) -> FetchError {
    match source.fetch() {
        Ok(fetched) => panic!("should fail, got {fetched:?}"),
        Err(error) => error,
    }
}

fn head_of(received: &Receiver<String>) -> String {
    match received.recv_timeout(Duration::from_secs(5)) {
        Ok(head) => head.to_ascii_lowercase(),
        Err(error) => panic!("no request arrived: {error}"),
    }
}

/// Fails if a secret shows in any way a value can be printed.
fn assert_no_secret(shown: &str) {
    assert!(!shown.contains("SECRET"), "a secret leaked: {shown}");
}

#[test]
fn a_200_returns_the_body_and_its_hash() {
    let body = r#"{"http":{"routers":{}}}"#;
    let (addr, received) = serve(vec![response("200 OK", body), response("200 OK", body)]);
    let conf = provider(addr, &[("X-Extra", "one"), ("Host", "cp.internal")]);
    let source = source(&conf, None);
    let first = match source.fetch() {
        Ok(fetched) => fetched,
        Err(error) => panic!("should fetch: {error}"),
    };
    assert_eq!(first.body, body.as_bytes());
    let head = head_of(&received);
    assert!(head.starts_with(&format!("get {PATH} http/1.1\r\n")), "{head}");
    assert!(head.contains("\r\nx-extra: one\r\n"), "{head}");
    assert!(head.contains("\r\nhost: cp.internal\r\n"), "{head}");
    assert!(!head.contains("authorization"), "{head}");
    // The same body twice hashes the same: the caller skips it.
    let second = source.fetch().map(|fetched| fetched.hash()).ok();
    assert_eq!(second, Some(first.hash()));
    assert_ne!(first.hash(), 0);
}

#[test]
fn the_token_replaces_a_configured_authorization_header() {
    let (addr, received) = serve(vec![response("200 OK", "{}"), response("200 OK", "{}")]);
    let conf = provider(addr, &[("authorization", "Bearer from-config"), ("X-Extra", "1")]);
    let mut source = source(&conf, Some(TOKEN));
    assert!(source.fetch().is_ok());
    let head = head_of(&received);
    assert_eq!(head.matches("authorization:").count(), 1, "{head}");
    assert!(head.contains(&format!("\r\nauthorization: bearer {}\r\n", TOKEN.to_ascii_lowercase())));
    assert!(head.contains("\r\nx-extra: 1\r\n"), "{head}");
    // Without a token the configured header is sent, as Traefik does.
    let cleared = source.set_token(None);
    assert!(cleared.is_ok());
    assert!(source.fetch().is_ok());
    assert!(head_of(&received).contains("\r\nauthorization: bearer from-config\r\n"));
}

#[test]
fn non_200_statuses_are_errors() {
    let (addr, _received) = serve(vec![
        response("401 Unauthorized", "no"),
        response("500 Internal Server Error", "oops"),
        response("204 No Content", ""),
    ]);
    let source = source(&provider(addr, &[]), Some(TOKEN));
    let endpoint = format!("http://{addr}{PATH}");
    let error = fetch_err(&source);
    assert!(matches!(error, FetchError::Status { status: 401, .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!("HTTP 401 Unauthorized from {endpoint} (check the provider token)")
    );
    let error = fetch_err(&source);
    assert_eq!(
        error.to_string(),
        format!("HTTP 500 Internal Server Error from {endpoint}")
    );
    assert!(matches!(fetch_err(&source), FetchError::Status { status: 204, .. }));
}

#[test]
fn redirects_are_not_followed() {
    let (elsewhere, elsewhere_received) = serve(vec![response("200 OK", "{}")]);
    let location = format!("http://{elsewhere}{PATH}");
    let (addr, _received) = serve(vec![Reply::Bytes(
        format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .into_bytes(),
    )]);
    let source = source(&provider(addr, &[]), Some(TOKEN));
    let error = fetch_err(&source);
    assert!(matches!(error, FetchError::Status { status: 302, .. }), "{error:?}");
    assert!(error.to_string().contains("redirects are not followed"), "{error}");
    // The token never went to the other host.
    assert!(elsewhere_received.recv_timeout(Duration::from_millis(300)).is_err());
}

#[test]
fn the_timeout_covers_a_slow_body() {
    let head = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n".to_owned();
    let (addr, _received) = serve(vec![Reply::Trickle {
        head,
        every: Duration::from_millis(200),
        count: 100,
    }]);
    let source = source(&provider(addr, &[]), None);
    let start = Instant::now();
    let error = fetch_err(&source);
    let took = start.elapsed();
    assert!(matches!(error, FetchError::Timeout { .. }), "{error:?}");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(2),
        "{took:?}"
    );
    assert_eq!(
        error.to_string(),
        format!("no complete answer from http://{addr}{PATH} within 1s (providers.http.pollTimeout)")
    );
}

#[test]
fn the_timeout_covers_a_silent_server() {
    let (addr, _received) = serve(vec![Reply::Silent(Duration::from_secs(4))]);
    let source = source(&provider(addr, &[]), None);
    let start = Instant::now();
    let error = fetch_err(&source);
    assert!(matches!(error, FetchError::Timeout { .. }), "{error:?}");
    assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
}

#[test]
fn a_refused_connection_is_a_connect_error() {
    let addr = match TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()) {
        Ok(addr) => addr,
        Err(error) => panic!("cannot bind: {error}"),
    };
    // The listener is dropped: nothing listens on `addr` now.
    let source = source(&provider(addr, &[]), Some(TOKEN));
    let error = fetch_err(&source);
    assert!(matches!(error, FetchError::Connect { .. }), "{error:?}");
    let shown = error.to_string();
    assert!(
        shown.starts_with(&format!("cannot connect to http://{addr}{PATH}: ")),
        "{shown}"
    );
}

#[test]
fn bodies_over_the_cap_are_refused() {
    let declared =
        Reply::Bytes(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", MAX_BODY_BYTES + 1).into_bytes());
    let (addr, _received) = serve(vec![declared, Reply::Huge(MAX_BODY_BYTES + 4096)]);
    let mut conf = provider(addr, &[]);
    conf.poll_timeout = Duration::from_secs(20);
    let source = source(&conf, None);
    // Refused from the Content-Length alone, then while reading a close-delimited body.
    for _ in 0..2 {
        let error = fetch_err(&source);
        assert!(matches!(error, FetchError::TooLarge { .. }), "{error:?}");
        assert_eq!(
            error.to_string(),
            format!("body from http://{addr}{PATH} is larger than 67108864 bytes")
        );
    }
}

#[test]
fn bad_endpoints_and_headers_are_refused_at_build() {
    let mut conf = HttpProvider::new("ftp://user:pw-SECRET@host/x?k=q-SECRET");
    let shown = match HttpSource::new(&conf, None) {
        Ok(source) => panic!("should fail: {source:?}"),
        Err(error) => format!("{error} {error:?}"),
    };
    assert!(shown.contains("scheme must be http or https"), "{shown}");
    assert_no_secret(&shown);
    conf.endpoint = "http://127.0.0.1:1/".into();
    conf.headers = vec![("X-Key".into(), "bad\nvalue-SECRET".into())];
    let shown = match HttpSource::new(&conf, None) {
        Ok(source) => panic!("should fail: {source:?}"),
        Err(error) => format!("{error} {error:?}"),
    };
    assert_eq!(
        shown.split(" Header").next(),
        Some("providers.http.headers.X-Key: invalid value (value not shown)")
    );
    assert_no_secret(&shown);
    conf.headers.clear();
    let shown = match HttpSource::new(&conf, Some(Secret::new("tok\r\nSECRET"))) {
        Ok(source) => panic!("should fail: {source:?}"),
        Err(error) => format!("{error} {error:?}"),
    };
    assert_no_secret(&shown);
}

#[test]
fn secrets_never_show_in_debug_errors_or_the_endpoint() {
    let (addr, _received) = serve(vec![
        response("401 Unauthorized", "no"),
        Reply::Silent(Duration::from_secs(3)),
    ]);
    let endpoint = format!("http://user:pw-SECRET@{addr}{PATH}?key=q-SECRET#f-SECRET");
    let mut conf = HttpProvider::new(endpoint);
    conf.poll_timeout = Duration::from_millis(500);
    conf.headers = vec![
        ("Authorization".into(), HEADER_VALUE.into()),
        ("X-Key".into(), HEADER_VALUE.into()),
    ];
    let source = source(&conf, Some(TOKEN));
    let mut shown = vec![
        format!("{source:?}"),
        format!("{conf:?}"),
        source.endpoint_display(),
        format!("{:?} {}", Secret::new(TOKEN), Secret::new(TOKEN)),
    ];
    assert_eq!(source.endpoint_display(), format!("http://{addr}{PATH}"));
    for _ in 0..2 {
        let error = fetch_err(&source);
        shown.push(format!("{error} {error:?}"));
    }
    let refused = provider(
        match TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
            Ok(addr) => addr,
            Err(error) => panic!("cannot bind: {error}"),
        },
        &[("X-Key", HEADER_VALUE)],
    );
    let error = fetch_err(&self::source(&refused, Some(TOKEN)));
    shown.push(format!("{error} {error:?}"));
    for text in &shown {
        assert_no_secret(text);
    }
    assert!(
        shown[0].contains("x-key") && shown[0].contains("<redacted>"),
        "{}",
        shown[0]
    );
}

/// Every log line written while the test runs, from any thread.
struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        if let Ok(mut lines) = self.0.lock() {
            lines.push(format!("{} {}", record.target(), record.args()));
        }
    }

    fn flush(&self) {}
}

#[test]
fn the_token_never_reaches_a_log_line_at_debug() {
    static CAPTURE: OnceLock<&'static Capture> = OnceLock::new();
    let capture = *CAPTURE.get_or_init(|| Box::leak(Box::new(Capture(Mutex::new(Vec::new())))));
    if log::set_logger(capture).is_err() {
        // Another logger owns this process; nothing to observe here.
        return;
    }
    // The process logger must cap the HTTP client at debug: at trace it logs the raw wire.
    log::set_max_level(log::LevelFilter::Debug);
    let (addr, _received) = serve(vec![response("200 OK", "{}"), response("401 Unauthorized", "")]);
    let conf = provider(addr, &[("X-Key", HEADER_VALUE)]);
    let source = source(&conf, Some(TOKEN));
    let fetched = source.fetch();
    let failed = source.fetch();
    log::set_max_level(log::LevelFilter::Off);
    assert!(fetched.is_ok() && failed.is_err());
    let lines = match capture.0.lock() {
        Ok(lines) => lines.clone(),
        Err(_) => panic!("capture poisoned"),
    };
    assert!(lines.iter().any(|line| line.starts_with("ureq")), "{lines:?}");
    for line in &lines {
        assert_no_secret(line);
    }
}
