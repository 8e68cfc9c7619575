//! A real ACME CA on loopback for the ACME tests: Debian's `pebble` and `pebble-challtestsrv` (both in package
//! `pebble`) as child processes, plus a tiny HTTP-01 responder the test fills with tokens.
//!
//! pebble gets its own TLS certificate for 127.0.0.1/localhost, signed by a CA generated here with rcgen (Debian ships
//! no test certificates); that CA PEM is what the ACME client must trust. challtestsrv answers every A query with
//! 127.0.0.1, so pebble's validation authority fetches `http://<name>:<http_port>/.well-known/acme-challenge/<token>`
//! from the responder. Validation is real (no `PEBBLE_VA_ALWAYS_VALID`), only its sleep is off (`PEBBLE_VA_NOSLEEP`).
//! Processes are killed by PID and the temp directory removed on drop.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
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
