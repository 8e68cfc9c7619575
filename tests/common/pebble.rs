//! A real ACME CA on loopback for the ACME tests: Debian's `pebble` and `pebble-challtestsrv` (both in package
//! `pebble`) as child processes, plus a tiny HTTP-01 responder the test fills with tokens.
//!
//! pebble gets its own TLS certificate for 127.0.0.1/localhost, signed by a CA generated here with rcgen (Debian ships
//! no test certificates); that CA PEM is what the ACME client must trust. challtestsrv answers every A query with
//! 127.0.0.1, so pebble's validation authority fetches `http://<name>:<http_port>/.well-known/acme-challenge/<token>`
//! from the responder. Validation is real (no `PEBBLE_VA_ALWAYS_VALID`), only its sleep is off (`PEBBLE_VA_NOSLEEP`).
//! Processes are killed by PID and the temp directory removed on drop.
//!
//! For tests of the running proxy: `set_a` points one name elsewhere (challtestsrv's management API), `lookup_a` asks
//! challtestsrv's DNS server directly, and `order_count` / `validated_names` / `issued_serials` read what pebble did
//! from its log (pebble has no API listing orders).

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{free_port, TempDir};

/// Installs Debian's `pebble` package when the binaries are missing (as root; otherwise says what to do).
pub fn ensure_pebble_installed() {
    let have = |bin: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {bin}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if have("pebble") && have("pebble-challtestsrv") {
        return;
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    assert!(
        root,
        "pebble is not installed: run `apt-get install -y pebble` (it ships pebble-challtestsrv too)"
    );
    let status = Command::new("sh")
        .args(["-c", "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pebble || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pebble)"])
        .status()
        .expect("run apt-get");
    assert!(status.success() && have("pebble"), "apt-get install pebble failed");
}

/// A running pebble + challtestsrv pair.
pub struct Pebble {
    children: Vec<Child>,
    dir: TempDir,
    ca_pem: String,
    acme_port: u16,
    management_port: u16,
    dns_port: u16,
    dns_management_port: u16,
}

impl Pebble {
    /// Starts both servers; pebble validates HTTP-01 on `http_port` of 127.0.0.1.
    pub fn start(http_port: u16) -> Pebble {
        ensure_pebble_installed();
        let dir = TempDir::new("pebble");
        let (ca_pem, cert_pem, key_pem) = tls_material();
        let cert = dir.write("cert.pem", &cert_pem);
        let key = dir.write("key.pem", &key_pem);
        let (acme_port, management_port, tls_port) = (free_port(), free_port(), free_port());
        let (dns_port, dns_mgmt_port) = (free_port(), free_port());
        let config = serde_json::json!({"pebble": {
            "listenAddress": format!("127.0.0.1:{acme_port}"),
            "managementListenAddress": format!("127.0.0.1:{management_port}"),
            "certificate": cert, "privateKey": key,
            "httpPort": http_port, "tlsPort": tls_port,
            "ocspResponderURL": "", "externalAccountBindingRequired": false
        }});
        let config_path = dir.write("pebble-config.json", &config.to_string());
        let mut pebble = Pebble {
            children: Vec::new(),
            dir,
            ca_pem,
            acme_port,
            management_port,
            dns_port,
            dns_management_port: dns_mgmt_port,
        };

        let dns = Command::new("pebble-challtestsrv")
            .args(["-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""])
            .args(["-dns01", &format!("127.0.0.1:{dns_port}")])
            .args(["-http01", "", "-https01", "", "-tlsalpn01", ""])
            .args(["-management", &format!("127.0.0.1:{dns_mgmt_port}")])
            .stdout(pebble.log("challtestsrv.log"))
            .stderr(pebble.log("challtestsrv.err"))
            .spawn()
            .expect("spawn pebble-challtestsrv");
        pebble.children.push(dns);
        wait_listening(dns_mgmt_port, &pebble);

        let ca = Command::new("pebble")
            .arg("-config")
            .arg(&config_path)
            .args(["-dnsserver", &format!("127.0.0.1:{dns_port}")])
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env_remove("PEBBLE_VA_ALWAYS_VALID")
            .stdout(pebble.log("pebble.log"))
            .stderr(pebble.log("pebble.err"))
            .spawn()
            .expect("spawn pebble");
        pebble.children.push(ca);
        wait_listening(acme_port, &pebble);
        wait_listening(management_port, &pebble);
        pebble
    }

    /// `https://127.0.0.1:<port>/dir`.
    pub fn directory_url(&self) -> String {
        format!("https://127.0.0.1:{}/dir", self.acme_port)
    }

    /// The CA that signed pebble's own TLS certificate (trust this to talk to pebble).
    pub fn tls_ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The root of the chains pebble issues, from the management interface (`/roots/0`).
    pub fn issuing_root_pem(&self) -> String {
        let client = ringress::acme::http::UreqClient::new(Some(self.ca_pem.as_bytes()), Duration::from_secs(10))
            .expect("ureq client");
        let url = format!("https://127.0.0.1:{}/roots/0", self.management_port);
        let mut resp = client.agent().get(&url).call().expect("GET /roots/0");
        assert_eq!(resp.status(), 200, "GET {url}");
        resp.body_mut().read_to_string().expect("root body")
    }

    /// Both servers' output so far, for failure messages.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for name in ["pebble.log", "pebble.err", "challtestsrv.log", "challtestsrv.err"] {
            let text = std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
            out.push_str(&format!("--- {name}\n{text}\n"));
        }
        out
    }

    /// The UDP (and TCP) port of challtestsrv's DNS server on 127.0.0.1, which pebble resolves names through.
    pub fn dns_port(&self) -> u16 {
        self.dns_port
    }

    /// `127.0.0.1:<dns port>`, e.g. for the proxy's `ringress.acme.dnsServer`.
    pub fn dns_address(&self) -> String {
        format!("127.0.0.1:{}", self.dns_port)
    }

    /// Makes challtestsrv answer A queries for `host` with `ip` instead of 127.0.0.1 (management API `/add-a`).
    /// The name is sent lower-case and fully qualified: challtestsrv's lookup is case-sensitive.
    pub fn set_a(&self, host: &str, ip: &str) {
        let body = serde_json::json!({"host": fqdn(host), "addresses": [ip]}).to_string();
        self.dns_management_post("/add-a", &body);
    }

    /// Back to the default answer (127.0.0.1) for `host` (management API `/clear-a`).
    pub fn clear_a(&self, host: &str) {
        let body = serde_json::json!({"host": fqdn(host)}).to_string();
        self.dns_management_post("/clear-a", &body);
    }

    /// Asks challtestsrv's DNS server for the A records of `host` (over UDP, as pebble and the proxy do).
    pub fn lookup_a(&self, host: &str) -> Vec<Ipv4Addr> {
        dns_query_a(self.dns_port, host).unwrap_or_else(|e| panic!("DNS A query for {host}: {e}\n{}", self.logs()))
    }

    /// pebble's own log (stdout) so far.
    pub fn pebble_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pebble.log")).unwrap_or_default()
    }

    /// Orders pebble created so far: one `Added order "<id>" to the db` line each. (Counting `POST /order-plz`
    /// instead would count the retries after the 5% of nonces pebble rejects on purpose.)
    pub fn order_count(&self) -> usize {
        self.pebble_log()
            .lines()
            .filter(|l| l.contains("Added order \""))
            .count()
    }

    /// Every name pebble tried to validate over HTTP-01 so far (from `Attempting to validate w/ HTTP: http://<name>:`).
    pub fn validated_names(&self) -> BTreeSet<String> {
        let marker = "Attempting to validate w/ HTTP: http://";
        self.pebble_log()
            .lines()
            .filter_map(|l| {
                let rest = &l[l.find(marker)? + marker.len()..];
                let end = rest.find([':', '/']).unwrap_or(rest.len());
                Some(rest[..end].to_ascii_lowercase())
            })
            .collect()
    }

    /// Whether pebble did anything for `host`: a validation task, an HTTP-01 attempt, or any other log line naming it.
    pub fn mentions(&self, host: &str) -> bool {
        let log = self.pebble_log();
        log.contains(&format!("\"{host}\""))
            || log.contains(&format!("//{host}:"))
            || log.contains(&format!("//{host}/"))
    }

    /// Serials of the certificates pebble issued so far, lower-case hex without leading zeros
    /// (from `Issued certificate serial <hex> for order <id>`).
    pub fn issued_serials(&self) -> Vec<String> {
        let marker = "Issued certificate serial ";
        self.pebble_log()
            .lines()
            .filter_map(|l| {
                let rest = &l[l.find(marker)? + marker.len()..];
                rest.split_whitespace().next().map(normalize_serial)
            })
            .collect()
    }

    fn dns_management_post(&self, path: &str, body: &str) {
        let status = http_post(self.dns_management_port, path, body)
            .unwrap_or_else(|e| panic!("challtestsrv POST {path}: {e}\n{}", self.logs()));
        assert_eq!(status, 200, "challtestsrv POST {path} {body}\n{}", self.logs());
    }

    fn log(&self, name: &str) -> Stdio {
        Stdio::from(std::fs::File::create(self.dir.path().join(name)).expect("create log file"))
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn wait_listening(port: u16, pebble: &Pebble) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "port {port} never listened\n{}",
            pebble.logs()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// (CA PEM, pebble's leaf PEM for 127.0.0.1 and localhost, leaf key PEM).
fn tls_material() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let ca_key = KeyPair::generate().expect("ca key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "ringress test CA for pebble");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).expect("ca cert");
    let leaf_key = KeyPair::generate().expect("leaf key");
    let leaf_params = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).expect("leaf");
    let leaf = leaf_params.signed_by(&leaf_key, &ca).expect("leaf cert");
    (ca.pem(), leaf.pem(), leaf_key.serialize_pem())
}

/// A minimal HTTP/1.1 responder for `/.well-known/acme-challenge/<token>` on 127.0.0.1.
pub struct ChallengeServer {
    port: u16,
    tokens: Arc<Mutex<HashMap<String, String>>>,
    hits: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ChallengeServer {
    pub fn start() -> ChallengeServer {
        let listener = TcpListener::bind(("127.0.0.1", free_port())).expect("bind challenge server");
        let port = listener.local_addr().expect("addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let tokens: Arc<Mutex<HashMap<String, String>>> = Arc::default();
        let hits: Arc<Mutex<Vec<String>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (t, h, s) = (tokens.clone(), hits.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => serve_one(conn, &t, &h),
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        ChallengeServer {
            port,
            tokens,
            hits,
            stop,
            thread: Some(thread),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn publish(&self, token: &str, key_authorization: &str) {
        self.tokens
            .lock()
            .expect("tokens")
            .insert(token.to_string(), key_authorization.to_string());
    }

    /// The request targets served so far.
    pub fn hits(&self) -> Vec<String> {
        self.hits.lock().expect("hits").clone()
    }
}

impl Drop for ChallengeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve_one(conn: TcpStream, tokens: &Mutex<HashMap<String, String>>, hits: &Mutex<Vec<String>>) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(&conn);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if line == "\r\n" || line == "\n" => break,
            Ok(_) => {}
        }
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("").to_string();
    hits.lock().expect("hits").push(target.clone());
    let answer = target
        .strip_prefix("/.well-known/acme-challenge/")
        .and_then(|token| tokens.lock().expect("tokens").get(token).cloned());
    let response = match answer {
        Some(body) => format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
        None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string(),
    };
    let mut conn = conn;
    let _ = conn.write_all(response.as_bytes());
}

/// `host` lower-case with exactly one trailing dot.
fn fqdn(host: &str) -> String {
    format!("{}.", host.trim_end_matches('.').to_ascii_lowercase())
}

/// A certificate serial as lower-case hex without separators or leading zeros (`0A:1b` → `a1b`).
pub fn normalize_serial(serial: &str) -> String {
    let hex: String = serial
        .chars()
        .filter(char::is_ascii_hexdigit)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let trimmed = hex.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".to_string()
    } else {
        trimmed.to_string()
    }
}

/// A one-shot HTTP/1.1 POST of a JSON body to 127.0.0.1:`port`; the response status.
fn http_post(port: u16, path: &str, body: &str) -> std::io::Result<u16> {
    let mut conn = TcpStream::connect(("127.0.0.1", port))?;
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    conn.set_write_timeout(Some(Duration::from_secs(5)))?;
    conn.write_all(
        format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )?;
    let mut response = String::new();
    conn.read_to_string(&mut response)?;
    response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("bad response {response:?}")))
}

/// The A records of `host` from the DNS server on 127.0.0.1:`port` (one UDP query, no recursion).
fn dns_query_a(port: u16, host: &str) -> Result<Vec<Ipv4Addr>, String> {
    let id: u16 = 0x5eed;
    let mut query = Vec::with_capacity(64);
    query.extend_from_slice(&id.to_be_bytes());
    query.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]); // RD, one question
    for label in host.trim_end_matches('.').split('.') {
        query.push(u8::try_from(label.len()).map_err(|_| format!("label too long in {host}"))?);
        query.extend_from_slice(label.as_bytes());
    }
    query.push(0);
    let question_end = query.len() + 4;
    query.extend_from_slice(&[0, 1, 0, 1]); // type A, class IN
    let socket = UdpSocket::bind(("127.0.0.1", 0)).map_err(|e| e.to_string())?;
    socket
        .set_read_timeout(Some(Duration::from_secs(3)))
        .map_err(|e| e.to_string())?;
    socket.send_to(&query, ("127.0.0.1", port)).map_err(|e| e.to_string())?;
    let mut buf = [0u8; 1500];
    let n = socket.recv(&mut buf).map_err(|e| e.to_string())?;
    let msg = &buf[..n];
    let short = || format!("short DNS answer {msg:?}");
    if n < 12 || msg[..2] != id.to_be_bytes() {
        return Err(short());
    }
    let answers = u16::from_be_bytes([msg[6], msg[7]]);
    let mut i = question_end;
    let mut out = Vec::new();
    for _ in 0..answers {
        // Owner name: a compression pointer or a sequence of labels.
        loop {
            let len = *msg.get(i).ok_or_else(short)?;
            if len & 0xc0 == 0xc0 {
                i += 2;
                break;
            }
            i += 1 + usize::from(len);
            if len == 0 {
                break;
            }
        }
        let fixed = msg.get(i..i + 10).ok_or_else(short)?;
        let rtype = u16::from_be_bytes([fixed[0], fixed[1]]);
        let rdlen = usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
        i += 10;
        let rdata = msg.get(i..i + rdlen).ok_or_else(short)?;
        if rtype == 1 && rdlen == 4 {
            out.push(Ipv4Addr::new(rdata[0], rdata[1], rdata[2], rdata[3]));
        }
        i += rdlen;
    }
    Ok(out)
}
