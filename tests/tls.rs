//! TLS termination over real sockets, with curl, openssl s_client and a rustls client as TLS clients: TLS 1.3 and
//! 1.2, ALPN (http/1.1, never h2), the default certificate, plain HTTP and TLS on one entrypoint, a 10 MiB body
//! each way, a WebSocket over TLS, and routers with a `tls` section served only over TLS.
#![allow(clippy::unwrap_used)]

mod common;

use common::control_plane::{provider_config, tag_of, tagged, try_request, ControlPlane, Dynamic, Mode, ProviderOpts};
use common::proxy::{config, routes, Opts, Proxy};
use common::upstream::{close_delimited, echo, fixed, ws_echo, Upstream};
use common::{pattern_matches, pattern_slice, ws, TempDir};
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

const MIB: u64 = 1 << 20;

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `curl -sk` against `https://<host>:<port><path>` resolved to loopback, with extra arguments; returns the output
/// (body on stdout, `-w` text after it).
fn curl(port: u16, scheme: &str, host: &str, path: &str, extra: &[&str]) -> Output {
    let resolve = format!("{host}:{port}:127.0.0.1");
    let url = format!("{scheme}://{host}:{port}{path}");
    Command::new("curl")
        .args(["-sS", "-k", "--max-time", "30", "--resolve", &resolve])
        .args(extra)
        .arg(&url)
        .stdin(Stdio::null())
        .output()
        .expect("run curl")
}

/// `openssl s_client` with `args`, stdin closed, so it handshakes and exits.
fn s_client(port: u16, args: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run openssl");
    text(&out)
}

fn echo_proxy() -> (Upstream, Proxy) {
    let up = Upstream::start(echo());
    let proxy = Proxy::start(&config(&Opts::default()), &routes(&[("app.test", up.port)]));
    (up, proxy)
}

#[test]
fn tls13_and_tls12_both_reach_the_upstream() {
    let (_up, proxy) = echo_proxy();
    for (versions, expect) in [
        (&["--tlsv1.3"][..], "TLSv1.3"),
        (&["--tlsv1.2", "--tls-max", "1.2"][..], "TLSv1.2"),
    ] {
        let mut args = vec!["-v", "-w", "\nstatus=%{http_code}\n"];
        args.extend_from_slice(versions);
        let out = curl(proxy.web_port, "https", "app.test", "/hello", &args);
        let all = text(&out);
        assert!(all.contains("status=200"), "{expect}: {all}");
        assert!(
            all.contains(&format!("SSL connection using {expect}")),
            "{expect}: {all}"
        );
        assert!(all.contains("path=/hello"), "{all}");
        assert!(all.contains("header.x-forwarded-proto=https"), "{all}");
        assert!(
            all.contains(&format!("header.x-forwarded-port={}", proxy.web_port)),
            "{all}"
        );
    }
}

#[test]
fn alpn_offers_only_http11() {
    let (_up, proxy) = echo_proxy();
    let out = s_client(proxy.web_port, &["-servername", "x", "-alpn", "h2,http/1.1"]);
    assert!(out.contains("ALPN protocol: http/1.1"), "{out}");
    assert!(!out.contains("ALPN protocol: h2"), "{out}");
    // curl, which prefers h2, ends up on HTTP/1.1.
    let out = curl(
        proxy.web_port,
        "https",
        "app.test",
        "/",
        &["-w", "\nv=%{http_version}\n"],
    );
    assert!(text(&out).contains("v=1.1"), "{}", text(&out));
}

#[test]
fn default_certificate_without_sni_or_for_an_unknown_name() {
    let (_up, proxy) = echo_proxy();
    for args in [&["-noservername"][..], &["-servername", "unknown.example"][..]] {
        let out = s_client(proxy.web_port, args);
        assert!(out.contains("RINGRESS DEFAULT CERT"), "{args:?}: {out}");
        assert!(
            out.contains("Cipher is") || out.contains("Cipher    :"),
            "{args:?}: {out}"
        );
    }
}

#[test]
fn plain_http_and_tls_on_one_entrypoint() {
    let (up, proxy) = echo_proxy();
    let plain = curl(
        proxy.web_port,
        "http",
        "app.test",
        "/p",
        &["-w", "\nstatus=%{http_code}\n"],
    );
    assert!(text(&plain).contains("status=200"), "{}", text(&plain));
    assert!(
        text(&plain).contains("header.x-forwarded-proto=http\n"),
        "{}",
        text(&plain)
    );
    let tls = curl(
        proxy.web_port,
        "https",
        "app.test",
        "/t",
        &["-w", "\nstatus=%{http_code}\n"],
    );
    assert!(text(&tls).contains("status=200"), "{}", text(&tls));
    // Keep-alive over TLS: two requests on one connection.
    let url2 = format!("https://app.test:{}/second", proxy.web_port);
    let both = curl(
        proxy.web_port,
        "https",
        "app.test",
        "/first",
        &["-v", "-w", "\nstatus=%{http_code}\n", "--next", "-sS", "-k", &url2],
    );
    let all = text(&both);
    assert!(all.contains("status=200"), "{all}");
    assert!(all.contains("path=/first") && all.contains("path=/second"), "{all}");
    assert!(
        all.contains("Re-using existing connection") || all.contains("Reusing existing"),
        "{all}"
    );
    assert_eq!(up.requests().len(), 4);
}

#[test]
fn ten_mib_each_way_over_tls() {
    let down = Upstream::start(fixed(10 * MIB));
    let up = Upstream::start(echo());
    let proxy = Proxy::start(
        &config(&Opts::default()),
        &routes(&[("down.test", down.port), ("up.test", up.port)]),
    );
    let dir = TempDir::new("tls-big");
    let got = dir.path().join("down.bin");
    let out = curl(
        proxy.web_port,
        "https",
        "down.test",
        "/big",
        &["-o", got.to_str().unwrap(), "-w", "status=%{http_code}"],
    );
    assert!(text(&out).contains("status=200"), "{}", text(&out));
    let body = std::fs::read(&got).unwrap();
    assert_eq!(body.len() as u64, 10 * MIB);
    assert!(
        pattern_matches(0, &body),
        "downloaded bytes differ from what the upstream sent"
    );

    let sent = dir.path().join("up.bin");
    let mut data = Vec::with_capacity((10 * MIB) as usize);
    let mut off = 0u64;
    while off < 10 * MIB {
        let n = (10 * MIB - off).min(64 * 1024) as usize;
        data.extend_from_slice(pattern_slice(off, n));
        off += n as u64;
    }
    std::fs::write(&sent, &data).unwrap();
    let file_arg = format!("@{}", sent.display());
    let out = curl(
        proxy.web_port,
        "https",
        "up.test",
        "/big",
        &["-X", "PUT", "--data-binary", &file_arg, "-w", "\nstatus=%{http_code}\n"],
    );
    assert!(text(&out).contains("status=200"), "{}", text(&out));
    let reqs = up.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].body_len, 10 * MIB);
    assert!(reqs[0].body_pattern, "uploaded bytes differ from what the client sent");
}

/// Accepts any server certificate: these tests check the proxy's TLS, not a PKI.
#[derive(Debug)]
struct AnyCert(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &rustls::pki_types::CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &rustls::pki_types::CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

type TlsClient = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

fn tls_connect(port: u16, host: &str) -> TlsClient {
    tls_connect_with(port, host, None)
}

/// Like [`tls_connect`], the client sending records of at most `max_fragment` bytes (handshake messages too).
fn tls_connect_with(port: u16, host: &str, max_fragment: Option<usize>) -> TlsClient {
    let mut config = client_config();
    config.max_fragment_size = max_fragment;
    tls_connect_config(port, host, Arc::new(config))
}

/// A client configuration that accepts any certificate, with its own session store (so it resumes only sessions
/// it was given itself).
fn client_config() -> rustls::ClientConfig {
    client_config_for(rustls::DEFAULT_VERSIONS)
}

fn client_config_for(versions: &[&'static rustls::SupportedProtocolVersion]) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCert(provider)))
        .with_no_client_auth()
}

fn tls_connect_config(port: u16, host: &str, config: Arc<rustls::ClientConfig>) -> TlsClient {
    let name = rustls::pki_types::ServerName::try_from(host.to_owned()).unwrap();
    let conn = rustls::ClientConnection::new(config, name).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    rustls::StreamOwned::new(conn, tcp)
}

fn read_exact_or_panic(c: &mut TlsClient, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    c.read_exact(&mut buf).unwrap();
    buf
}

#[test]
fn websocket_over_tls() {
    let up = Upstream::start(ws_echo());
    let proxy = Proxy::start(&config(&Opts::default()), &routes(&[("ws.test", up.port)]));
    let mut c = tls_connect(proxy.web_port, "ws.test");
    let key = "dGhlIHNhbXBsZSBub25jZQ==";
    c.write_all(
        format!(
            "GET /chat HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .as_bytes(),
    )
    .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.extend(read_exact_or_panic(&mut c, 1));
        assert!(head.len() < 4096, "no end of the response head");
    }
    let head = String::from_utf8_lossy(&head).to_string();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(head.contains(&ws::accept_key(key)), "{head}");
    let xfp = up.requests()[0].header("x-forwarded-proto").map(str::to_owned);
    assert_eq!(xfp.as_deref(), Some("wss"));
    for payload in [b"hello over tls".to_vec(), common::pattern_bytes(100_000)] {
        c.write_all(&ws::encode_frame(ws::OP_BINARY, &payload, Some([1, 2, 3, 4])))
            .unwrap();
        let hdr = read_exact_or_panic(&mut c, 2);
        let len = match hdr[1] & 0x7f {
            126 => u16::from_be_bytes(read_exact_or_panic(&mut c, 2).try_into().unwrap()) as usize,
            127 => u64::from_be_bytes(read_exact_or_panic(&mut c, 8).try_into().unwrap()) as usize,
            n => n as usize,
        };
        assert_eq!(len, payload.len());
        assert_eq!(read_exact_or_panic(&mut c, len), payload);
    }
}

#[test]
fn tls_routers_serve_tls_and_plain_routers_serve_plain_http() {
    let app = Upstream::start(echo());
    let tagged_app = Upstream::start(tagged("plain-side"));
    let cp = ControlPlane::start(Mode::Empty, None);
    let dynamic = Dynamic::new()
        .router_value(
            "secure",
            json!({"rule": "Host(`sec.test`)", "service": "secure", "tls": {"certResolver": "letsencrypt"}}),
        )
        .service("secure", &[app.port])
        .app("open", "open.test", app.port)
        // Same host twice: the TLS router (longer rule, higher priority) for https, the other one for http.
        .router_value(
            "both-tls",
            json!({"rule": "Host(`both.test`) && PathPrefix(`/`)", "service": "secure", "tls": {}}),
        )
        .router_value(
            "both-plain",
            json!({"rule": "Host(`both.test`)", "service": "plainside"}),
        )
        .service("plainside", &[tagged_app.port]);
    cp.set_mode(Mode::Json(dynamic.json()));
    let proxy = Proxy::start(&provider_config(&ProviderOpts::new(cp.endpoint())), "");

    // Wait until the provider's routers are served (over TLS, where both kinds serve).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = curl(
            proxy.web_port,
            "https",
            "sec.test",
            "/",
            &["-w", "\nstatus=%{http_code}\n"],
        );
        if text(&out).contains("status=200") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "sec.test never served over TLS: {}",
            text(&out)
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let get = try_request(proxy.web_port, "GET", "sec.test", "/a/b?x=1", "").unwrap();
    assert_eq!(get.status, 301, "{}", get.body_str());
    assert_eq!(get.header("location"), Some("https://sec.test/a/b?x=1"));
    let post = try_request(proxy.web_port, "POST", "sec.test", "/form", "").unwrap();
    assert_eq!(post.status, 308);
    assert_eq!(post.header("location"), Some("https://sec.test/form"));
    assert!(app
        .requests()
        .iter()
        .all(|r| r.header("host") != Some("sec.test") || r.target == "/"));

    // As in Traefik, a provider router without `tls` serves plain HTTP only.
    let plain = try_request(proxy.web_port, "GET", "open.test", "/", "").unwrap();
    assert_eq!(plain.status, 200);
    let out = curl(
        proxy.web_port,
        "https",
        "open.test",
        "/",
        &["-w", "\nstatus=%{http_code}\n"],
    );
    assert!(text(&out).contains("status=404"), "{}", text(&out));

    // A host with both kinds: plain HTTP falls through to the plain router instead of redirecting.
    let plain = try_request(proxy.web_port, "GET", "both.test", "/", "").unwrap();
    assert_eq!(plain.status, 200, "{}", plain.body_str());
    assert_eq!(tag_of(&plain).as_deref(), Some("plain-side"));
    let out = curl(
        proxy.web_port,
        "https",
        "both.test",
        "/",
        &["-w", "\nstatus=%{http_code}\n"],
    );
    assert!(text(&out).contains("status=200"), "{}", text(&out));
    assert!(!text(&out).contains("plain-side"), "{}", text(&out));
}

#[test]
fn a_broken_handshake_does_not_hurt_the_worker() {
    let (_up, proxy) = echo_proxy();
    // A TLS record header followed by garbage, then a client that goes away mid-handshake.
    let mut s = TcpStream::connect(("127.0.0.1", proxy.web_port)).unwrap();
    s.write_all(&[0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 64];
    let _ = s.read(&mut buf);
    drop(s);
    let mut s = TcpStream::connect(("127.0.0.1", proxy.web_port)).unwrap();
    s.write_all(&[0x16, 0x03, 0x01]).unwrap();
    drop(s);
    let out = curl(
        proxy.web_port,
        "https",
        "app.test",
        "/",
        &["-w", "\nstatus=%{http_code}\n"],
    );
    assert!(text(&out).contains("status=200"), "{}", text(&out));
}

#[test]
fn close_delimited_body_ends_with_close_notify() {
    let body = common::pattern_bytes(300_000);
    let up = Upstream::start(close_delimited(body.clone()));
    let proxy = Proxy::start(&config(&Opts::default()), &routes(&[("cd.test", up.port)]));
    let dir = TempDir::new("tls-cd");
    let got = dir.path().join("cd.bin");
    let out = curl(
        proxy.web_port,
        "https",
        "cd.test",
        "/",
        &["-o", got.to_str().unwrap(), "-w", "status=%{http_code}"],
    );
    // curl fails (exit 56, unexpected eof) if the proxy closes without close_notify.
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("status=200"), "{}", text(&out));
    assert_eq!(std::fs::read(&got).unwrap(), body);
}

/// Reads one response with a Content-Length body from a TLS client; returns the head.
fn tls_response(c: &mut TlsClient) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.extend(read_exact_or_panic(c, 1));
        assert!(head.len() < 8192, "no end of the response head");
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_owned())
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    read_exact_or_panic(c, len);
    head
}

/// One request on a new connection made with `config`; returns how its handshake went.
fn one_request(port: u16, config: &Arc<rustls::ClientConfig>) -> rustls::HandshakeKind {
    let mut c = tls_connect_config(port, "app.test", config.clone());
    c.write_all(b"GET / HTTP/1.1\r\nHost: app.test\r\n\r\n").unwrap();
    let head = tls_response(&mut c);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    c.conn.handshake_kind().expect("handshake done")
}

#[test]
fn a_tls_session_resumes_after_hundreds_of_other_clients() {
    // Session tickets are self-contained (encrypted with the worker's ticket key), so resumption does not depend
    // on how many other clients got tickets meanwhile. A server-side session cache (256 entries, two tickets per
    // handshake) forgot a returning client after ~128 others: a full handshake again, for both sides.
    let (_up, proxy) = echo_proxy();
    let returning = Arc::new(client_config());
    assert_eq!(one_request(proxy.web_port, &returning), rustls::HandshakeKind::Full);
    for _ in 0..300 {
        let other = Arc::new(client_config());
        assert_eq!(one_request(proxy.web_port, &other), rustls::HandshakeKind::Full);
    }
    assert_eq!(
        one_request(proxy.web_port, &returning),
        rustls::HandshakeKind::Resumed,
        "the returning client's session was not resumed"
    );
}

#[test]
fn a_tls_session_resumes_on_either_worker() {
    // Each new connection lands on one of the two workers' SO_REUSEPORT listeners; with a ticket key per worker,
    // about half of these reconnections would be full handshakes.
    let up = Upstream::start(echo());
    let opts = Opts {
        workers: 2,
        ..Opts::default()
    };
    let proxy = Proxy::start(&config(&opts), &routes(&[("app.test", up.port)]));
    let returning = Arc::new(client_config());
    full_then_resumed(proxy.web_port, &returning, 16);
    // The reconnections really went to both workers (else this test would show nothing across workers).
    let metrics = proxy.admin_get("/metrics").body_str();
    for worker in ["0", "1"] {
        let line = format!("ringress_worker_connections_total{{worker=\"{worker}\"}} ");
        let accepted: u64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix(&line))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no connection count for worker {worker} in:\n{metrics}"));
        assert!(accepted > 0, "worker {worker} took none of the 17 connections");
    }
    let tls12 = Arc::new(client_config_for(&[&rustls::version::TLS12]));
    full_then_resumed(proxy.web_port, &tls12, 8);
}

/// One full handshake with `config`, then `times` reconnections that must all resume.
fn full_then_resumed(port: u16, config: &Arc<rustls::ClientConfig>, times: usize) {
    assert_eq!(one_request(port, config), rustls::HandshakeKind::Full);
    for i in 0..times {
        let kind = one_request(port, config);
        assert_eq!(
            kind,
            rustls::HandshakeKind::Resumed,
            "reconnection {i} was a full handshake"
        );
    }
}

#[test]
fn an_idle_tls_connection_serves_again_and_closes_at_its_idle_timeout() {
    let up = Upstream::start(echo());
    let proxy = Proxy::start(
        &config(&Opts {
            idle_timeout: "2s",
            ..Opts::default()
        }),
        &routes(&[("idle.test", up.port)]),
    );
    let mut c = tls_connect(proxy.web_port, "idle.test");
    for pause in [0, 300, 1200] {
        // Between requests the connection holds no buffer: the next request must still find everything in place.
        thread::sleep(Duration::from_millis(pause));
        c.write_all(b"GET /again HTTP/1.1\r\nHost: idle.test\r\n\r\n").unwrap();
        let head = tls_response(&mut c);
        assert!(head.starts_with("HTTP/1.1 200"), "after {pause} ms idle: {head}");
    }
    // Idle past the timeout (2 s, checked once a second): the proxy closes the connection.
    let start = Instant::now();
    let mut byte = [0u8; 1];
    let r = c.read(&mut byte);
    let took = start.elapsed();
    assert!(matches!(r, Ok(0) | Err(_)), "expected a close, got {r:?}");
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_millis(4500),
        "closed after {took:?} idle, timeout 2 s"
    );
}

#[test]
fn requests_pipelined_behind_the_handshake_in_tiny_records_then_a_key_update_and_close_notify() {
    let up = Upstream::start(echo());
    let proxy = Proxy::start(&config(&Opts::default()), &routes(&[("pipe.test", up.port)]));
    // 32-byte records: every handshake message and request arrives in fragments that span socket reads.
    let mut c = tls_connect_with(proxy.web_port, "pipe.test", Some(32));
    // Written before the handshake is complete: the client sends both requests right behind its Finished.
    c.conn
        .writer()
        .write_all(b"GET /one HTTP/1.1\r\nHost: pipe.test\r\n\r\nGET /two HTTP/1.1\r\nHost: pipe.test\r\n\r\n")
        .unwrap();
    for _ in 0..2 {
        let head = tls_response(&mut c);
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    }
    // The client updates its keys and asks the proxy to update its own: the next response must still decrypt.
    c.conn.refresh_traffic_keys().unwrap();
    c.write_all(b"GET /three HTTP/1.1\r\nHost: pipe.test\r\n\r\n").unwrap();
    let head = tls_response(&mut c);
    assert!(head.starts_with("HTTP/1.1 200"), "after a key update: {head}");
    // A request followed by close_notify: the response still comes, then the proxy closes cleanly.
    c.write_all(b"GET /four HTTP/1.1\r\nHost: pipe.test\r\n\r\n").unwrap();
    c.conn.send_close_notify();
    c.flush().unwrap();
    let head = tls_response(&mut c);
    assert!(head.starts_with("HTTP/1.1 200"), "after close_notify: {head}");
    let mut rest = Vec::new();
    let r = c.read_to_end(&mut rest);
    assert!(r.is_ok(), "expected a clean close (close_notify), got {r:?}");
    assert!(rest.is_empty(), "{rest:?}");
    let paths: Vec<String> = up.requests().iter().map(|r| r.target.clone()).collect();
    assert_eq!(paths, ["/one", "/two", "/three", "/four"]);
}
