//! Reachability pre-check before an ACME HTTP-01 validation is spent: does `http://<host>/.well-known/acme-challenge/
//! <token>` reach this proxy, at every address the name resolves to?
//!
//! Owns the resolution of the name (system resolver, or one given DNS server through [`super::dns`] in tests), one
//! plain HTTP/1.1 GET per resolved address (IPv4 first, then IPv6; every address must answer, because the CA may use
//! any of them), and the verdict as an [`Unreachable`] whose message tells the operator what to fix.
//!
//! Runs on the control thread only, blocking for at most the given timeout overall (a system lookup that outlives it
//! is abandoned on a helper thread). Must never: follow a redirect (a redirect means something else answers in front
//! of this proxy), speak TLS, read more than 16 KiB per answer, send anything but the one GET, or log (the caller
//! logs).

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use super::dns;

/// The most bytes read from one answer (status line, headers and body).
const READ_LIMIT: usize = 16 * 1024;
/// The most response headers parsed.
const MAX_HEADERS: usize = 32;

/// How the host name is turned into addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolve {
    /// The system resolver (`ToSocketAddrs`, i.e. getaddrinfo): production.
    System,
    /// This one DNS server only, over UDP: tests, where the CA resolves through pebble-challtestsrv.
    Server(SocketAddr),
}

/// Why `host` does not (demonstrably) reach this proxy. Every message starts with the host and says what to fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unreachable {
    #[error("{host}: cannot check whether it reaches this proxy: {reason}")]
    InvalidInput { host: String, reason: &'static str },
    #[error(
        "{host} does not reach this proxy: its DNS lookup failed ({detail}); check the DNS setup: the name needs \
         A/AAAA records that point at this host"
    )]
    Dns { host: String, detail: String },
    #[error(
        "{host} does not reach this proxy: {resolver} has no A or AAAA records for it; point the name's A/AAAA \
         records at this host"
    )]
    NoAddresses { host: String, resolver: String },
    #[error(
        "{host} does not reach this proxy: DNS resolves it to {}, and connecting to {addr} failed ({detail}); point \
         the name's A/AAAA records at this host and make sure port {} is open to the internet",
        resolved(.addr, *.total), .addr.port()
    )]
    Connect {
        host: String,
        addr: SocketAddr,
        total: usize,
        detail: String,
    },
    #[error(
        "{host} does not reach this proxy: DNS resolves it to {}, which accepted the connection but {detail} when \
         asked for {url}; point the name's A/AAAA records at this host and make sure nothing else listens on port \
         {} there",
        resolved(.addr, *.total), .addr.port()
    )]
    Exchange {
        host: String,
        addr: SocketAddr,
        total: usize,
        url: String,
        detail: String,
    },
    #[error(
        "{host} does not reach this proxy: DNS resolves it to {}, which answered {status} to {url} (expected this \
         proxy's probe answer); point the name's A/AAAA records at this host and make sure port {} is not behind a \
         CDN proxy",
        resolved(.addr, *.total), .addr.port()
    )]
    Status {
        host: String,
        addr: SocketAddr,
        total: usize,
        url: String,
        status: u16,
    },
    #[error(
        "{host} does not reach this proxy: DNS resolves it to {}, which answered {status} redirecting {url} to \
         {location} (this proxy answers challenges itself and never redirects them, so something else is in front); \
         point the name's A/AAAA records at this host and make sure port {} is not behind a CDN proxy",
        resolved(.addr, *.total), .addr.port()
    )]
    Redirect {
        host: String,
        addr: SocketAddr,
        total: usize,
        url: String,
        status: u16,
        location: String,
    },
    #[error(
        "{host} does not reach this proxy: DNS resolves it to {}, where another server answered {url} (status 200 \
         but not this proxy's probe answer, typical of a CDN or another web server in front); point the name's A/AAAA \
         records at this host and make sure port {} is not behind a CDN proxy",
        resolved(.addr, *.total), .addr.port()
    )]
    WrongBody {
        host: String,
        addr: SocketAddr,
        total: usize,
        url: String,
    },
    #[error(
        "{host} does not reach this proxy: DNS resolves it to {}, which sent an unusable answer to {url} ({reason}); \
         point the name's A/AAAA records at this host and make sure port {} is not behind another server",
        resolved(.addr, *.total), .addr.port()
    )]
    BadResponse {
        host: String,
        addr: SocketAddr,
        total: usize,
        url: String,
        reason: String,
    },
    #[error(
        "{host}: the reachability check ran out of time ({timeout:?}) before {} could be tried; every address the \
         name resolves to must answer on port {}",
        resolved(.addr, *.total), .addr.port()
    )]
    OutOfTime {
        host: String,
        addr: SocketAddr,
        total: usize,
        timeout: Duration,
    },
}

/// "203.0.113.9", or "203.0.113.9 (one of 2 addresses)".
fn resolved(addr: &SocketAddr, total: usize) -> String {
    if total > 1 {
        format!("{} (one of {total} addresses)", addr.ip())
    } else {
        addr.ip().to_string()
    }
}

/// Checks that `GET http://<host>:<port>/.well-known/acme-challenge/<token>` answers 200 with body `expected`
/// (trailing whitespace ignored) at every address `host` resolves to, within `timeout` overall.
///
/// Stops at the first address that does not answer correctly. `host` may also be an IP address literal (then it is
/// not resolved).
pub fn check(
    host: &str,
    port: u16,
    token: &str,
    expected: &str,
    how: &Resolve,
    timeout: Duration,
) -> Result<(), Unreachable> {
    let deadline = Instant::now() + timeout;
    validate(host, token)?;
    let ips = resolve(host, port, how, deadline)?;
    if ips.is_empty() {
        let resolver = match how {
            Resolve::System => "the system resolver".to_string(),
            Resolve::Server(server) => format!("DNS server {server}"),
        };
        return Err(Unreachable::NoAddresses {
            host: host.to_string(),
            resolver,
        });
    }

    let authority = match host.parse::<IpAddr>() {
        Ok(IpAddr::V6(_)) => format!("[{host}]"),
        _ => host.to_string(),
    };
    let authority = if port == 80 {
        authority
    } else {
        format!("{authority}:{port}")
    };
    let path = format!("/.well-known/acme-challenge/{token}");
    let probe = Probe {
        host,
        url: format!("http://{authority}{path}"),
        request: format!(
            "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: ringress-precheck\r\nConnection: close\r\n\
             Accept: */*\r\n\r\n"
        ),
        expected,
        total: ips.len(),
        timeout,
        deadline,
    };
    for ip in ips {
        probe.one(SocketAddr::new(ip, port))?;
    }
    Ok(())
}

/// Refuses inputs that could not be put into a request line and Host header as they are.
fn validate(host: &str, token: &str) -> Result<(), Unreachable> {
    let invalid = |reason| {
        Err(Unreachable::InvalidInput {
            host: host.to_string(),
            reason,
        })
    };
    if host.is_empty() || host.len() > 253 {
        return invalid("the host name is empty or longer than 253 characters");
    }
    let host_ok = host.parse::<IpAddr>().is_ok()
        || host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    if !host_ok {
        return invalid("the host name has characters other than letters, digits, '-', '_' and '.'");
    }
    if token.is_empty()
        || !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
    {
        return invalid("the challenge token is empty or not base64url");
    }
    Ok(())
}

/// The addresses of `host`, IPv4 first, duplicates removed, looked up before `deadline`.
fn resolve(host: &str, port: u16, how: &Resolve, deadline: Instant) -> Result<Vec<IpAddr>, Unreachable> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    let dns_error = |detail: String| Unreachable::Dns {
        host: host.to_string(),
        detail,
    };
    let left = deadline.saturating_duration_since(Instant::now());
    let ips = match how {
        Resolve::Server(server) => dns::lookup(*server, host, left).map_err(|e| dns_error(e.to_string()))?,
        Resolve::System => {
            // getaddrinfo cannot be given a timeout: run it on a helper thread and stop waiting at the deadline.
            let (tx, rx) = mpsc::channel();
            let name = host.to_string();
            thread::Builder::new()
                .name("acme-precheck-dns".to_string())
                .spawn(move || {
                    let result = (name.as_str(), port)
                        .to_socket_addrs()
                        .map(|addrs| addrs.map(|a| a.ip()).collect());
                    // The receiver may have given up already.
                    let _ = tx.send(result);
                })
                .map_err(|e| dns_error(format!("cannot start the lookup thread: {e}")))?;
            let result: io::Result<Vec<IpAddr>> = rx
                .recv_timeout(left)
                .map_err(|_| dns_error(format!("the system resolver did not answer within {left:?}")))?;
            result.map_err(|e| dns_error(format!("system resolver: {e}")))?
        }
    };
    Ok(order(ips))
}

/// IPv4 addresses first, then IPv6, each in the given order, without duplicates.
fn order(ips: Vec<IpAddr>) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = Vec::with_capacity(ips.len());
    for ip in ips
        .iter()
        .filter(|ip| ip.is_ipv4())
        .chain(ips.iter().filter(|ip| ip.is_ipv6()))
    {
        if !out.contains(ip) {
            out.push(*ip);
        }
    }
    out
}

/// One check's fixed parts.
struct Probe<'a> {
    host: &'a str,
    url: String,
    request: String,
    expected: &'a str,
    total: usize,
    timeout: Duration,
    deadline: Instant,
}

/// The parts of a response head that matter here.
struct Head {
    len: usize,
    status: u16,
    location: Option<String>,
    content_length: Option<usize>,
    transfer_encoding: bool,
}

impl Probe<'_> {
    /// Asks `addr` and judges its answer.
    fn one(&self, addr: SocketAddr) -> Result<(), Unreachable> {
        let Some(left) = self.left() else {
            return Err(Unreachable::OutOfTime {
                host: self.host.to_string(),
                addr,
                total: self.total,
                timeout: self.timeout,
            });
        };
        let mut stream = TcpStream::connect_timeout(&addr, left).map_err(|e| {
            let detail = if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) {
                format!("no answer within {left:?}")
            } else {
                e.to_string()
            };
            Unreachable::Connect {
                host: self.host.to_string(),
                addr,
                total: self.total,
                detail,
            }
        })?;

        let exchange = |detail: String| Unreachable::Exchange {
            host: self.host.to_string(),
            addr,
            total: self.total,
            url: self.url.clone(),
            detail,
        };
        let bad = |reason: String| Unreachable::BadResponse {
            host: self.host.to_string(),
            addr,
            total: self.total,
            url: self.url.clone(),
            reason,
        };
        let wrong_body = || Unreachable::WrongBody {
            host: self.host.to_string(),
            addr,
            total: self.total,
            url: self.url.clone(),
        };

        let left = self.left().ok_or_else(|| {
            exchange(format!(
                "the {:?} were used up before the request could be sent",
                self.timeout
            ))
        })?;
        stream
            .set_write_timeout(Some(left))
            .map_err(|e| exchange(format!("the socket failed: {e}")))?;
        stream
            .write_all(self.request.as_bytes())
            .map_err(|e| exchange(format!("sending the request failed: {e}")))?;

        let mut buf: Vec<u8> = Vec::with_capacity(1024);
        let mut chunk = [0u8; 4096];
        let mut head: Option<Head> = None;
        let mut eof = false;
        loop {
            if head.is_none() {
                head = parse_head(&buf).map_err(&bad)?;
                if let Some(h) = &head {
                    if h.status != 200 {
                        return Err(self.status_error(addr, h));
                    }
                    if h.transfer_encoding {
                        return Err(bad(
                            "a Transfer-Encoding body (chunked), which this check does not read".into(),
                        ));
                    }
                    if h.content_length.is_some_and(|cl| cl > READ_LIMIT) {
                        return Err(wrong_body());
                    }
                }
            }
            if let Some(Head {
                len,
                content_length: Some(cl),
                ..
            }) = &head
            {
                if buf.len().saturating_sub(*len) >= *cl {
                    break;
                }
            }
            if buf.len() >= READ_LIMIT {
                break;
            }
            let Some(left) = self.left() else {
                return Err(exchange(self.silence(buf.is_empty())));
            };
            stream
                .set_read_timeout(Some(left))
                .map_err(|e| exchange(format!("the socket failed: {e}")))?;
            let room = chunk.len().min(READ_LIMIT - buf.len());
            let Some(into) = chunk.get_mut(..room) else { break };
            match stream.read(into) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => buf.extend_from_slice(into.get(..n).unwrap_or_default()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                    return Err(exchange(self.silence(buf.is_empty())));
                }
                Err(e) => return Err(exchange(format!("the connection failed while reading ({e})"))),
            }
        }

        let Some(h) = head else {
            return Err(if buf.is_empty() {
                exchange("closed it without answering".to_string())
            } else if eof {
                bad("the connection closed inside the response header".to_string())
            } else {
                bad(format!("the response header is longer than {READ_LIMIT} bytes"))
            });
        };
        let body = buf.get(h.len..).unwrap_or_default();
        let body = match h.content_length {
            Some(cl) => match body.get(..cl) {
                Some(body) => body,
                None if eof => {
                    return Err(bad(format!(
                        "the connection closed after {} of {cl} body bytes",
                        body.len()
                    )));
                }
                None => return Err(wrong_body()),
            },
            // Without Content-Length the body ends at close; hitting the limit first means it is not ours.
            None if eof => body,
            None => return Err(wrong_body()),
        };
        if body.trim_ascii_end() == self.expected.as_bytes() {
            Ok(())
        } else {
            Err(wrong_body())
        }
    }

    /// Time left before the deadline, if any.
    fn left(&self) -> Option<Duration> {
        self.deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }

    /// What a read timeout means.
    fn silence(&self, nothing_yet: bool) -> String {
        if nothing_yet {
            format!("did not answer within {:?}", self.timeout)
        } else {
            format!("did not finish its answer within {:?}", self.timeout)
        }
    }

    /// The error for a complete head whose status is not 200.
    fn status_error(&self, addr: SocketAddr, head: &Head) -> Unreachable {
        let (host, url, total, status) = (self.host.to_string(), self.url.clone(), self.total, head.status);
        match (&head.location, (300..400).contains(&status)) {
            (Some(location), true) => Unreachable::Redirect {
                host,
                addr,
                total,
                url,
                status,
                location: location.clone(),
            },
            _ => Unreachable::Status {
                host,
                addr,
                total,
                url,
                status,
            },
        }
    }
}

/// The head of `buf` once complete (`None` while more bytes are needed).
fn parse_head(buf: &[u8]) -> Result<Option<Head>, String> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let len = match response.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(format!("not an HTTP/1.x response: {e}")),
    };
    let status = response.code.ok_or("no status code")?;
    let mut head = Head {
        len,
        status,
        location: None,
        content_length: None,
        transfer_encoding: false,
    };
    for header in response.headers.iter() {
        if header.name.eq_ignore_ascii_case("content-length") {
            let value = std::str::from_utf8(header.value)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .ok_or("invalid Content-Length")?;
            if head.content_length.is_some_and(|cl| cl != value) {
                return Err("conflicting Content-Length headers".to_string());
            }
            head.content_length = Some(value);
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            head.transfer_encoding = true;
        } else if header.name.eq_ignore_ascii_case("location") {
            // Shown to the operator: keep it printable and short.
            let location: String = String::from_utf8_lossy(header.value)
                .chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect();
            head.location = Some(location);
        }
    }
    Ok(Some(head))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr, TcpListener, UdpSocket};

    const TOKEN: &str = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";
    const KEY_AUTH: &str = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI";
    const SECOND: Duration = Duration::from_secs(1);

    /// Serves one connection on 127.0.0.1 with `response`; the thread returns the request it read.
    fn serve(response: Vec<u8>) -> (u16, thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let handle = thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("accept");
            stream.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
            let mut request = Vec::new();
            let mut byte = [0u8; 1];
            while !request.ends_with(b"\r\n\r\n") {
                match stream.read(&mut byte) {
                    Ok(1) => request.push(byte[0]),
                    _ => break,
                }
            }
            let _ = stream.write_all(&response);
            String::from_utf8_lossy(&request).into_owned()
        });
        (port, handle)
    }

    fn ok_response(body: &str) -> Vec<u8> {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    fn check_local(port: u16, timeout: Duration) -> Result<(), Unreachable> {
        check("127.0.0.1", port, TOKEN, KEY_AUTH, &Resolve::System, timeout)
    }

    #[test]
    fn right_answer_is_ok_and_the_request_is_as_specified() {
        let (port, handle) = serve(ok_response(&format!("{KEY_AUTH}\r\n")));
        check_local(port, 3 * SECOND).expect("reachable");
        let request = handle.join().expect("server");
        assert_eq!(
            request,
            format!(
                "GET /.well-known/acme-challenge/{TOKEN} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: \
                 ringress-precheck\r\nConnection: close\r\nAccept: */*\r\n\r\n"
            )
        );
    }

    #[test]
    fn body_until_close_without_content_length_is_ok() {
        let (port, handle) = serve(format!("HTTP/1.0 200 OK\r\n\r\n{KEY_AUTH}").into_bytes());
        check_local(port, 3 * SECOND).expect("reachable");
        handle.join().expect("server");
    }

    #[test]
    fn not_found_names_the_status() {
        let (port, handle) = serve(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found".to_vec());
        let err = check_local(port, 3 * SECOND).expect_err("404");
        assert!(matches!(err, Unreachable::Status { status: 404, .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.starts_with("127.0.0.1 does not reach this proxy"), "{message}");
        assert!(message.contains("answered 404 to http://127.0.0.1:"), "{message}");
        assert!(message.contains(TOKEN), "{message}");
        handle.join().expect("server");
    }

    #[test]
    fn wrong_body_says_another_server_answered() {
        let (port, handle) = serve(ok_response("<html>welcome to nginx</html>"));
        let err = check_local(port, 3 * SECOND).expect_err("wrong body");
        assert!(matches!(err, Unreachable::WrongBody { .. }), "{err:?}");
        assert!(err.to_string().contains("another server answered"), "{err}");
        handle.join().expect("server");
    }

    #[test]
    fn redirect_is_not_followed() {
        let (port, handle) = serve(
            b"HTTP/1.1 301 Moved Permanently\r\nLocation: https://cdn.example/x\r\nContent-Length: 0\r\n\r\n".to_vec(),
        );
        let err = check_local(port, 3 * SECOND).expect_err("redirect");
        assert!(matches!(err, Unreachable::Redirect { status: 301, .. }), "{err:?}");
        assert!(
            err.to_string().contains("redirecting") && err.to_string().contains("https://cdn.example/x"),
            "{err}"
        );
        handle.join().expect("server");
    }

    #[test]
    fn chunked_garbage_and_short_bodies_are_unusable() {
        let (port, handle) =
            serve(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n".to_vec());
        let err = check_local(port, 3 * SECOND).expect_err("chunked");
        assert!(matches!(err, Unreachable::BadResponse { .. }), "{err:?}");
        handle.join().expect("server");

        let (port, handle) = serve(b"SSH-2.0-OpenSSH_9.6\r\n\r\n".to_vec());
        let err = check_local(port, 3 * SECOND).expect_err("not http");
        assert!(matches!(err, Unreachable::BadResponse { .. }), "{err:?}");
        handle.join().expect("server");

        let (port, handle) = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\nshort".to_vec());
        let err = check_local(port, 3 * SECOND).expect_err("short body");
        assert!(err.to_string().contains("closed after 5 of 500 body bytes"), "{err}");
        handle.join().expect("server");

        let (port, handle) = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 999999\r\n\r\n".to_vec());
        let err = check_local(port, 3 * SECOND).expect_err("huge body");
        assert!(matches!(err, Unreachable::WrongBody { .. }), "{err:?}");
        handle.join().expect("server");

        let (port, handle) = serve(Vec::new());
        let err = check_local(port, 3 * SECOND).expect_err("no answer");
        assert!(err.to_string().contains("closed it without answering"), "{err}");
        handle.join().expect("server");
    }

    #[test]
    fn endless_body_is_cut_at_the_limit() {
        let mut response = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
        response.extend(std::iter::repeat_n(b'x', 64 * 1024));
        let (port, handle) = serve(response);
        let err = check_local(port, 3 * SECOND).expect_err("endless");
        assert!(matches!(err, Unreachable::WrongBody { .. }), "{err:?}");
        handle.join().expect("server");
    }

    #[test]
    fn refused_connection_names_the_address() {
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            listener.local_addr().expect("addr").port()
        };
        let err = check_local(port, 3 * SECOND).expect_err("refused");
        assert!(matches!(err, Unreachable::Connect { .. }), "{err:?}");
        assert!(
            err.to_string()
                .contains(&format!("connecting to 127.0.0.1:{port} failed")),
            "{err}"
        );
    }

    #[test]
    fn silent_server_fails_within_the_timeout() {
        // The kernel completes the handshake from the backlog; nobody ever answers.
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let timeout = Duration::from_millis(500);
        let started = Instant::now();
        let err = check_local(port, timeout).expect_err("silent");
        assert!(started.elapsed() < timeout + SECOND, "took {:?}", started.elapsed());
        assert!(matches!(err, Unreachable::Exchange { .. }), "{err:?}");
        assert!(
            err.to_string()
                .contains("but did not answer within 500ms when asked for http://127.0.0.1:"),
            "{err}"
        );
        drop(listener);
    }

    #[test]
    fn resolves_through_the_given_dns_server() {
        let dns_server = fake_dns(Some(Ipv4Addr::LOCALHOST));
        let (port, handle) = serve(ok_response(KEY_AUTH));
        check(
            "app.test",
            port,
            TOKEN,
            KEY_AUTH,
            &Resolve::Server(dns_server),
            3 * SECOND,
        )
        .expect("reachable");
        let request = handle.join().expect("server");
        assert!(request.contains(&format!("\r\nHost: app.test:{port}\r\n")), "{request}");
    }

    #[test]
    fn dns_failure_and_empty_answers_are_reported() {
        // A DNS "server" that never answers.
        let silent = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let server = silent.local_addr().expect("addr");
        let err = check(
            "app.test",
            80,
            TOKEN,
            KEY_AUTH,
            &Resolve::Server(server),
            Duration::from_millis(300),
        )
        .expect_err("dns timeout");
        assert!(matches!(err, Unreachable::Dns { .. }), "{err:?}");
        assert!(
            err.to_string()
                .starts_with("app.test does not reach this proxy: its DNS lookup failed"),
            "{err}"
        );
        assert!(err.to_string().contains(&server.to_string()), "{err}");

        // A name that exists without address records.
        let server = fake_dns(None);
        let err = check("app.test", 80, TOKEN, KEY_AUTH, &Resolve::Server(server), 3 * SECOND).expect_err("empty");
        assert!(matches!(err, Unreachable::NoAddresses { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!(
                "app.test does not reach this proxy: DNS server {server} has no A or AAAA records for it; point the \
                 name's A/AAAA records at this host"
            )
        );
    }

    #[test]
    fn invalid_input_is_refused_before_any_traffic() {
        let err = check("a b", 80, TOKEN, KEY_AUTH, &Resolve::System, SECOND).expect_err("host");
        assert!(matches!(err, Unreachable::InvalidInput { .. }), "{err:?}");
        let err = check("app.test", 80, "x\r\nEvil: 1", KEY_AUTH, &Resolve::System, SECOND).expect_err("token");
        assert!(matches!(err, Unreachable::InvalidInput { .. }), "{err:?}");
    }

    #[test]
    fn addresses_are_ordered_ipv4_first_without_duplicates() {
        let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
        let a = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        let b = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
        assert_eq!(order(vec![v6, a, b, a, v6]), vec![a, b, v6]);
    }

    #[test]
    fn messages_count_addresses() {
        let err = Unreachable::Status {
            host: "app.example.com".into(),
            addr: "203.0.113.9:80".parse().expect("addr"),
            total: 2,
            url: "http://app.example.com/.well-known/acme-challenge/t".into(),
            status: 404,
        };
        assert_eq!(
            err.to_string(),
            "app.example.com does not reach this proxy: DNS resolves it to 203.0.113.9 (one of 2 addresses), which \
             answered 404 to http://app.example.com/.well-known/acme-challenge/t (expected this proxy's probe answer); \
             point the name's A/AAAA records at this host and make sure port 80 is not behind a CDN proxy"
        );
    }

    /// A DNS server on 127.0.0.1 that answers every A query with `ip` (if any) and every other query with no records.
    fn fake_dns(ip: Option<Ipv4Addr>) -> SocketAddr {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
        socket.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        let addr = socket.local_addr().expect("addr");
        thread::spawn(move || {
            let mut buf = [0u8; 512];
            while let Ok((len, peer)) = socket.recv_from(&mut buf) {
                let Some(query) = buf.get(..len) else { return };
                // Echo the query as a response (QR, RD, RA), then append the A record when asked for one.
                let mut reply = query.to_vec();
                reply[2] = 0x81;
                reply[3] = 0x80;
                let is_a = query.get(len - 4..len - 2) == Some(&[0, 1]);
                if let (true, Some(ip)) = (is_a, ip) {
                    reply[7] = 1;
                    reply.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
                    reply.extend_from_slice(&ip.octets());
                }
                let _ = socket.send_to(&reply, peer);
            }
        });
        addr
    }
}
