//! [`run`]: one blocking health check request to one server.
//!
//! Owns the request (URL from the server address and the check's scheme, port and path; `Host`,
//! method and headers from the check), its limit (the check's `timeout` bounds the whole
//! exchange: connect, request, answer head and the few body bytes read) and the verdict
//! (Traefik's rule: the configured `status`, else any of 200..=399). Runs on a
//! [`super::prober::Prober`] thread, never on the control thread or a worker.
//!
//! The [`ProbeOutcome::Down`] reason is one short human phrase (`GET /health answered 500`,
//! `connection refused`, `timed out after 1s`). It never contains a header value, and the
//! path is shown without its query string.

use std::fmt;
use std::io::{self, Read};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ureq::http::{self, HeaderName, HeaderValue, Method};

use super::config::HealthCheck;

/// Redirects followed when `followRedirects` is true (Go's client stops after 10).
pub const MAX_REDIRECTS: u32 = 10;
/// Body bytes read (then dropped) after the answer head.
pub const MAX_BODY_READ: u64 = 4096;

/// One check of one server.
#[derive(Clone)]
pub struct Probe {
    /// Chosen by the submitter; comes back with the outcome.
    pub id: u64,
    /// The server's resolved address; the check's `port`, if set, replaces its port.
    pub addr: SocketAddr,
    /// The `Host` header when the check has no `hostname`: the server URL's authority, e.g.
    /// `10.50.0.2:8080` (its port replaced by the check's `port`, if set). Empty: the address.
    pub host: String,
    /// The server URL's scheme is `https`: used when the check sets no `scheme`.
    pub https: bool,
    /// The check.
    pub check: Arc<HealthCheck>,
}

impl fmt::Debug for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Probe")
            .field("id", &self.id)
            .field("addr", &self.addr)
            .field("host", &self.host)
            .field("https", &self.https)
            .field("check", &self.check)
            .finish()
    }
}

/// What one probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// The server answered a healthy status in time.
    Up,
    /// It did not; why, in a few words (never a header value).
    Down(String),
}

thread_local! {
    /// One client per prober thread: no proxy from the environment, no pooled connections
    /// (every check makes its own connection, as a new client would), statuses as answers.
    static AGENT: ureq::Agent = new_agent();
}

fn new_agent() -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .max_idle_connections(0)
        .max_idle_connections_per_host(0)
        .user_agent(concat!("ringress-health/", env!("CARGO_PKG_VERSION")))
        .build();
    ureq::Agent::new_with_config(config)
}

/// Sends one check request and judges the answer. Blocks for at most the check's `timeout`.
pub fn run(probe: &Probe) -> ProbeOutcome {
    AGENT.with(|agent| run_with(agent, probe))
}

fn run_with(agent: &ureq::Agent, probe: &Probe) -> ProbeOutcome {
    let check = &*probe.check;
    let request = match build_request(probe) {
        Ok(request) => request,
        Err(reason) => return ProbeOutcome::Down(reason),
    };
    let request = agent
        .configure_request(request)
        .timeout_global(Some(check.timeout))
        .timeout_connect(Some(check.timeout))
        .max_redirects(if check.follow_redirects { MAX_REDIRECTS } else { 0 })
        .build();
    let response = match agent.run(request) {
        Ok(response) => response,
        Err(error) => return ProbeOutcome::Down(describe(error, check.timeout)),
    };
    let status = response.status().as_u16();
    // Read a little of the body so a small answer is consumed cleanly; errors do not matter.
    // The global timeout still bounds this read.
    let mut body = response.into_body();
    let _ = io::copy(&mut body.as_reader().take(MAX_BODY_READ), &mut io::sink());
    if is_healthy(check, status) {
        ProbeOutcome::Up
    } else {
        ProbeOutcome::Down(format!(
            "{} {} answered {status}",
            check.method,
            path_display(&check.path)
        ))
    }
}

/// Traefik's rule: the configured status exactly, else any of 200..=399.
pub fn is_healthy(check: &HealthCheck, status: u16) -> bool {
    match check.status {
        Some(wanted) => status == wanted,
        None => (200..=399).contains(&status),
    }
}

fn build_request(probe: &Probe) -> Result<http::Request<()>, String> {
    let check = &*probe.check;
    let https = match check.scheme.as_deref() {
        Some(scheme) => scheme.eq_ignore_ascii_case("https"),
        None => probe.https,
    };
    let target = SocketAddr::new(probe.addr.ip(), check.port.unwrap_or(probe.addr.port()));
    let url = format!("{}://{target}{}", if https { "https" } else { "http" }, check.path);
    let method = Method::from_bytes(check.method.as_bytes()).map_err(|_| "invalid method".to_owned())?;
    let mut builder = http::Request::builder().method(method).uri(url);
    let host = match (&check.hostname, check.port) {
        (Some(hostname), _) => hostname.clone(),
        (None, Some(port)) if !probe.host.is_empty() => with_port(&probe.host, port),
        (None, _) => probe.host.clone(),
    };
    if !host.is_empty() {
        let value = HeaderValue::from_str(&host).map_err(|_| "invalid Host header".to_owned())?;
        builder = builder.header(http::header::HOST, value);
    }
    for (name, value) in &check.headers {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("invalid header name {name:?}"))?;
        if name == http::header::HOST {
            continue;
        }
        let mut value = HeaderValue::from_str(value).map_err(|_| format!("invalid value for header {name}"))?;
        value.set_sensitive(true);
        builder = builder.header(name, value);
    }
    builder.body(()).map_err(|_| "invalid request URL".to_owned())
}

/// `authority` with its port (if any) replaced by `port`: `app:8080` → `app:9090`,
/// `[::1]:80` → `[::1]:9090`, `app` → `app:9090`.
fn with_port(authority: &str, port: u16) -> String {
    let host = if authority.starts_with('[') {
        authority.find(']').map_or(authority, |end| &authority[..=end])
    } else {
        match authority.rsplit_once(':') {
            Some((host, _)) if !host.contains(':') => host,
            _ => authority,
        }
    };
    format!("{host}:{port}")
}

/// The path without its query string (which might carry a token).
fn path_display(path: &str) -> &str {
    path.split_once('?').map_or(path, |(path, _)| path)
}

/// A client error as a short phrase. Only texts known not to carry a header value pass.
fn describe(error: ureq::Error, timeout: Duration) -> String {
    match error {
        ureq::Error::Timeout(_) => timed_out(timeout),
        ureq::Error::Io(error) => describe_io(&error, timeout),
        ureq::Error::ConnectionFailed => "connection failed".to_owned(),
        ureq::Error::HostNotFound => "host not found".to_owned(),
        ureq::Error::TooManyRedirects => format!("more than {MAX_REDIRECTS} redirects"),
        ureq::Error::RedirectFailed => "redirect failed".to_owned(),
        ureq::Error::Tls(reason) => format!("TLS failed: {reason}"),
        ureq::Error::Rustls(error) => format!("TLS failed: {error}"),
        ureq::Error::Protocol(_) => "invalid HTTP answer".to_owned(),
        ureq::Error::LargeResponseHeader(..) => "answer head too large".to_owned(),
        ureq::Error::BadUri(_) | ureq::Error::Http(_) => "invalid request URL".to_owned(),
        _ => "request failed".to_owned(),
    }
}

fn describe_io(error: &io::Error, timeout: Duration) -> String {
    match error.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => timed_out(timeout),
        io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
        io::ErrorKind::ConnectionReset => "connection reset".to_owned(),
        io::ErrorKind::ConnectionAborted => "connection aborted".to_owned(),
        io::ErrorKind::UnexpectedEof => "connection closed without an answer".to_owned(),
        io::ErrorKind::BrokenPipe => "connection closed while sending".to_owned(),
        io::ErrorKind::HostUnreachable => "host unreachable".to_owned(),
        io::ErrorKind::NetworkUnreachable => "network unreachable".to_owned(),
        io::ErrorKind::AddrNotAvailable => "address not available".to_owned(),
        _ => error.to_string(),
    }
}

fn timed_out(timeout: Duration) -> String {
    format!("timed out after {timeout:?}")
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::health::testserver::{answer, refused_addr, Reply, Server};

    fn probe(addr: SocketAddr, check: HealthCheck) -> Probe {
        Probe {
            id: 1,
            addr,
            host: addr.to_string(),
            https: false,
            check: Arc::new(check),
        }
    }

    fn down(outcome: ProbeOutcome) -> String {
        match outcome {
            ProbeOutcome::Down(reason) => reason,
            ProbeOutcome::Up => panic!("expected Down, got Up"),
        }
    }

    #[test]
    fn ok_is_up_and_request_is_as_configured() {
        let server = Server::status(200);
        assert_eq!(
            run(&probe(server.addr, HealthCheck::new("/health?x=1"))),
            ProbeOutcome::Up
        );
        let heads = server.heads();
        assert_eq!(heads.len(), 1);
        assert!(heads[0].starts_with("GET /health?x=1 HTTP/1.1\r\n"), "{}", heads[0]);
        assert!(
            heads[0]
                .to_ascii_lowercase()
                .contains(&format!("\r\nhost: {}\r\n", server.addr)),
            "{}",
            heads[0]
        );
    }

    #[test]
    fn server_error_is_down_with_a_short_reason() {
        let server = Server::status(500);
        let mut check = HealthCheck::new("/health?token=s3cret");
        check.headers = vec![("X-Token".to_owned(), "hunter2".to_owned())];
        let reason = down(run(&probe(server.addr, check)));
        assert_eq!(reason, "GET /health answered 500");
    }

    #[test]
    fn client_errors_are_down_and_3xx_is_up_by_default() {
        let server = Server::status(404);
        assert_eq!(
            down(run(&probe(server.addr, HealthCheck::new("/")))),
            "GET / answered 404"
        );
        let server = Server::status(304);
        assert_eq!(run(&probe(server.addr, HealthCheck::new("/"))), ProbeOutcome::Up);
    }

    #[test]
    fn configured_status_is_the_only_healthy_one() {
        let server = Server::status(204);
        let mut check = HealthCheck::new("/");
        check.status = Some(204);
        assert_eq!(run(&probe(server.addr, check.clone())), ProbeOutcome::Up);
        let server = Server::status(200);
        assert_eq!(down(run(&probe(server.addr, check))), "GET / answered 200");
    }

    fn redirecting() -> Server {
        Server::start(|head| {
            if head.starts_with("GET /old ") {
                Reply::Raw(answer(302, "location: /new\r\n"))
            } else if head.starts_with("GET /new ") {
                Reply::Raw(answer(200, ""))
            } else {
                Reply::Raw(answer(404, ""))
            }
        })
    }

    #[test]
    fn redirect_followed() {
        let server = redirecting();
        let mut check = HealthCheck::new("/old");
        check.status = Some(200);
        check.hostname = Some("app.example".to_owned());
        assert_eq!(run(&probe(server.addr, check)), ProbeOutcome::Up);
        let heads = server.heads();
        assert_eq!(heads.len(), 2, "{heads:?}");
        assert!(heads[1].starts_with("GET /new HTTP/1.1\r\n"), "{}", heads[1]);
        assert!(
            heads[1].to_ascii_lowercase().contains("\r\nhost: app.example\r\n"),
            "{}",
            heads[1]
        );
    }

    #[test]
    fn redirect_not_followed() {
        let server = redirecting();
        let mut check = HealthCheck::new("/old");
        check.follow_redirects = false;
        // 302 is within Traefik's default 200..=399.
        assert_eq!(run(&probe(server.addr, check.clone())), ProbeOutcome::Up);
        check.status = Some(200);
        assert_eq!(down(run(&probe(server.addr, check))), "GET /old answered 302");
        assert_eq!(server.heads().len(), 2, "no request may reach /new");
    }

    #[test]
    fn endless_redirects_are_down() {
        let server = Server::start(|_| Reply::Raw(answer(302, "location: /again\r\n")));
        assert_eq!(
            down(run(&probe(server.addr, HealthCheck::new("/")))),
            "more than 10 redirects"
        );
    }

    #[test]
    fn hostname_method_and_headers_arrive() {
        let server = Server::status(200);
        let mut check = HealthCheck::new("/ping");
        check.method = "HEAD".to_owned();
        check.hostname = Some("app.example.com".to_owned());
        check.headers = vec![
            ("X-Check".to_owned(), "yes".to_owned()),
            ("Authorization".to_owned(), "Bearer s3cret".to_owned()),
        ];
        assert_eq!(run(&probe(server.addr, check)), ProbeOutcome::Up);
        let head = server.heads().remove(0);
        let lower = head.to_ascii_lowercase();
        assert!(head.starts_with("HEAD /ping HTTP/1.1\r\n"), "{head}");
        assert!(lower.contains("\r\nhost: app.example.com\r\n"), "{head}");
        assert_eq!(lower.matches("\r\nhost:").count(), 1, "{head}");
        assert!(lower.contains("\r\nx-check: yes\r\n"), "{head}");
        assert!(lower.contains("\r\nauthorization: bearer s3cret\r\n"), "{head}");
    }

    #[test]
    fn url_authority_is_the_default_host_and_port_override_moves_it() {
        let server = Server::status(200);
        let elsewhere = refused_addr();
        let mut check = HealthCheck::new("/");
        check.port = Some(server.addr.port());
        let probe = Probe {
            id: 7,
            addr: elsewhere,
            host: "backend.internal:8080".to_owned(),
            https: false,
            check: Arc::new(check),
        };
        assert_eq!(run(&probe), ProbeOutcome::Up);
        let head = server.heads().remove(0).to_ascii_lowercase();
        let want = format!("\r\nhost: backend.internal:{}\r\n", server.addr.port());
        assert!(head.contains(&want), "{head}");
    }

    #[test]
    fn hanging_server_is_down_within_the_timeout() {
        let server = Server::hanging();
        let mut check = HealthCheck::new("/");
        check.timeout = Duration::from_secs(1);
        let started = Instant::now();
        let reason = down(run(&probe(server.addr, check)));
        let elapsed = started.elapsed();
        assert_eq!(reason, "timed out after 1s");
        assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    }

    #[test]
    fn stalled_body_is_bounded_by_the_timeout() {
        let server =
            Server::start(|_| Reply::Stall("HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\npartial".to_owned()));
        let mut check = HealthCheck::new("/");
        check.timeout = Duration::from_secs(1);
        let started = Instant::now();
        // The answer head arrived in time and is healthy; the stalled body only costs time.
        assert_eq!(run(&probe(server.addr, check)), ProbeOutcome::Up);
        let elapsed = started.elapsed();
        assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    }

    #[test]
    fn refused_is_down() {
        let reason = down(run(&probe(refused_addr(), HealthCheck::new("/"))));
        assert_eq!(reason, "connection refused");
    }

    #[test]
    fn closed_without_answer_is_down() {
        let server = Server::start(|_| Reply::Raw(String::new()));
        let reason = down(run(&probe(server.addr, HealthCheck::new("/"))));
        assert_eq!(reason, "connection closed without an answer");
    }

    #[test]
    fn scheme_comes_from_the_url_unless_the_check_sets_one() {
        let server = Server::status(200);
        let mut check = HealthCheck::new("/");
        check.timeout = Duration::from_secs(1);
        let mut tls = probe(server.addr, check);
        tls.https = true;
        // A TLS ClientHello never completes an HTTP head: the plain server waits, the probe
        // times out, and no HTTP request arrived.
        assert_eq!(down(run(&tls)), "timed out after 1s");
        assert!(server.heads().is_empty());
        let mut check = HealthCheck::new("/");
        check.scheme = Some("http".to_owned());
        tls.check = Arc::new(check);
        assert_eq!(run(&tls), ProbeOutcome::Up);
    }

    #[test]
    fn with_port_replaces_or_adds_the_port() {
        assert_eq!(with_port("app:8080", 9090), "app:9090");
        assert_eq!(with_port("app", 9090), "app:9090");
        assert_eq!(with_port("[::1]:80", 9090), "[::1]:9090");
        assert_eq!(with_port("[::1]", 9090), "[::1]:9090");
    }
}
