//! The running proxy and a real ACME CA (pebble on loopback): certificates ordered per hostname over real HTTP-01
//! (answered by the proxy on its web entrypoint), stored in Traefik's acme.json, served by SNI on websecure, reused
//! after a restart, imported from Traefik, renewed at one third of their lifetime; the reachability pre-check; the
//! 0600 rule; `ringress certs ls`.
//!
//! Every test has its own pebble + challtestsrv (pebble validates HTTP-01 on the proxy's web port, so that port is
//! chosen before pebble starts), stand-in control plane, tagged upstreams and temp dir, all on 127.0.0.1. The proxy
//! is a child process killed by PID; on failure its stderr and pebble's logs are printed. What pebble did is read
//! from its log: one `Added order` line per order, one `Attempting to validate w/ HTTP: http://<name>:` per attempt.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs::File;
use std::io::Write;
use std::net::{Ipv4Addr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine;
use common::control_plane::{tagged, try_get, ControlPlane, Dynamic, Mode};
use common::pebble::{normalize_serial, Pebble};
use common::proxy::{kill, run_cli, ChildGuard, CliOutput, BIN};
use common::upstream::Upstream;
use common::{free_port, TempDir};
use ringress::acme::store::AcmeFile;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{json, Value};

/// The resolver name in the static config and the top-level key of acme.json.
const RESOLVER: &str = "pebble";
/// How long an issuance may take (pre-check, order, HTTP-01, finalize, store, serve).
const ISSUANCE: Duration = Duration::from_secs(60);
/// How often a wait re-checks.
const EVERY: Duration = Duration::from_millis(200);
const DAY: Duration = Duration::from_secs(24 * 3600);

// ---------------------------------------------------------------------------------------
// One test's world: pebble, control plane, config, storage and the proxy process.
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
struct Ports {
    web: u16,
    websecure: u16,
    admin: u16,
}

impl Ports {
    fn pick() -> Ports {
        let web = free_port();
        let mut websecure = free_port();
        while websecure == web {
            websecure = free_port();
        }
        let mut admin = free_port();
        while admin == web || admin == websecure {
            admin = free_port();
        }
        Ports { web, websecure, admin }
    }
}

struct Env {
    /// The running proxy, if any (killed by PID on drop).
    proxy: Option<ChildGuard>,
    /// How many times the proxy was spawned (each run logs to its own files).
    runs: usize,
    pebble: Pebble,
    cp: ControlPlane,
    ports: Ports,
    config: PathBuf,
    storage: PathBuf,
    /// A directory URL to use instead of pebble's (the ARI stand-in in front of pebble), and its CA.
    directory: Option<(String, String)>,
    // Last: removed after the processes are gone.
    dir: TempDir,
}

impl Env {
    /// Control plane answering `dynamic`, ports, pebble validating on the web port, and the static config. The proxy
    /// is not started: write acme.json to `storage` first if the test needs one.
    fn new(tag: &str, dynamic: &Dynamic) -> Env {
        let dir = TempDir::new(tag);
        let cp = ControlPlane::start(Mode::Json(dynamic.json()), None);
        let ports = Ports::pick();
        let pebble = Pebble::start(ports.web);
        let storage = dir.path().join("acme.json");
        let config = dir.path().join("ringress.yml");
        let env = Env {
            proxy: None,
            runs: 0,
            pebble,
            cp,
            ports,
            config,
            storage,
            directory: None,
            dir,
        };
        env.write_config();
        env
    }

    /// Points `caServer` at `url` instead of pebble's directory, trusting `ca_pem` as well as pebble's TLS CA.
    fn use_directory(&mut self, url: String, ca_pem: String) {
        self.directory = Some((url, ca_pem));
        self.write_config();
    }

    fn write_config(&self) {
        let mut trusted = self.pebble.tls_ca_pem().to_string();
        if let Some((_, extra)) = &self.directory {
            trusted.push_str(extra);
        }
        let ca = self.dir.write("pebble-tls-ca.pem", &trusted);
        let yaml = format!(
            r#"entryPoints:
  web: {{ address: "127.0.0.1:{web}" }}
  websecure: {{ address: "127.0.0.1:{websecure}" }}
providers:
  http: {{ endpoint: "{endpoint}", pollInterval: "1s" }}
certificatesResolvers:
  {RESOLVER}:
    acme:
      email: it@ringress.test
      storage: "{storage}"
      caServer: "{directory}"
      httpChallenge: {{ entryPoint: web }}
ringress:
  workers: 2
  admin: {{ address: "127.0.0.1:{admin}" }}
  acme:
    caCertificates: "{ca}"
    dnsServer: "{dns}"
"#,
            web = self.ports.web,
            websecure = self.ports.websecure,
            admin = self.ports.admin,
            endpoint = self.cp.endpoint(),
            storage = self.storage.display(),
            directory = match &self.directory {
                Some((url, _)) => url.clone(),
                None => self.pebble.directory_url(),
            },
            ca = ca.display(),
            dns = self.pebble.dns_address(),
        );
        std::fs::write(&self.config, yaml).expect("write config");
    }

    /// New ports and a new pebble validating on the new web port (after a port clash at start-up).
    fn reroll(&mut self) {
        self.ports = Ports::pick();
        self.pebble = Pebble::start(self.ports.web);
        self.write_config();
    }

    fn stderr_path(&self, run: usize) -> PathBuf {
        self.dir.path().join(format!("ringress-{run}.stderr.log"))
    }

    /// Everything the current (last) run of the proxy wrote to stderr.
    fn log(&self) -> String {
        std::fs::read_to_string(self.stderr_path(self.runs)).unwrap_or_default()
    }

    fn pid(&self) -> u32 {
        self.proxy.as_ref().expect("proxy running").pid()
    }

    /// Spawns `ringress run -c <config>` in the temp dir.
    fn spawn(&mut self) {
        assert!(self.proxy.is_none(), "proxy already running");
        self.runs += 1;
        let stdout = self.dir.path().join(format!("ringress-{}.stdout.log", self.runs));
        let child = Command::new(BIN)
            .arg("run")
            .arg("-c")
            .arg(&self.config)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(File::create(stdout).expect("stdout file"))
            .stderr(File::create(self.stderr_path(self.runs)).expect("stderr file"))
            .env("RUST_BACKTRACE", "1")
            .spawn()
            .expect("spawn ringress");
        self.proxy = Some(ChildGuard { child, status: None });
    }

    /// Waits until `GET /ping` on the admin port answers 200. `Err((stderr, port clash))` if the proxy exits first.
    fn wait_ready(&mut self) -> Result<(), (String, bool)> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let proxy = self.proxy.as_mut().expect("proxy spawned");
            if let Some(status) = proxy.wait_timeout(Duration::ZERO) {
                self.proxy = None;
                let err = self.log();
                let lower = err.to_ascii_lowercase();
                let clash = lower.contains("in use") || lower.contains("already");
                return Err((
                    format!("ringress exited during start-up ({status}); stderr:\n{err}"),
                    clash,
                ));
            }
            if try_get(self.ports.admin, "localhost", "/ping").is_ok_and(|r| r.status == 200) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err((
                    format!("ringress did not answer /ping within 15 s; stderr:\n{}", self.log()),
                    false,
                ));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the proxy and waits until it is ready; on a port clash, new ports and a new pebble (twice at most).
    fn start_proxy(&mut self) {
        for attempt in 0..3 {
            self.spawn();
            match self.wait_ready() {
                Ok(()) => return,
                Err((_, true)) if attempt < 2 => self.reroll(),
                Err((e, _)) => panic!("{e}"),
            }
        }
    }

    /// SIGTERM, then the exit status (within 15 s).
    fn stop_proxy(&mut self) -> ExitStatus {
        let mut proxy = self.proxy.take().expect("proxy running");
        if let Some(status) = proxy.status {
            return status;
        }
        kill(proxy.pid(), libc::SIGTERM);
        let status = proxy.wait_timeout(Duration::from_secs(15));
        status.unwrap_or_else(|| panic!("ringress did not exit within 15 s of SIGTERM; stderr:\n{}", self.log()))
    }

    /// pebble's issuing root (`/roots/0`) as a file for `curl --cacert`.
    fn pebble_root(&self) -> PathBuf {
        let path = self.dir.path().join("pebble-root.pem");
        if !path.exists() {
            std::fs::write(&path, self.pebble.issuing_root_pem()).expect("write pebble root");
        }
        path
    }

    /// acme.json as JSON.
    fn stored(&self) -> Value {
        let bytes = std::fs::read(&self.storage).unwrap_or_else(|e| panic!("read {}: {e}", self.storage.display()));
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("acme.json is not JSON: {e}"))
    }

    /// `ringress certs ls --config <config>`.
    fn certs_ls(&self) -> CliOutput {
        run_cli(
            self.dir.path(),
            &["certs", "ls", "--config", self.config.to_str().expect("utf-8 path")],
        )
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(mut proxy) = self.proxy.take() {
            proxy.kill_now();
        }
        if thread::panicking() {
            for run in 1..=self.runs {
                let err = std::fs::read_to_string(self.stderr_path(run)).unwrap_or_default();
                eprintln!(
                    "---- ringress stderr, run {run} (web {}, websecure {}, admin {}) ----\n{}\n---- end ----",
                    self.ports.web,
                    self.ports.websecure,
                    self.ports.admin,
                    tail(&err, 12_000)
                );
            }
            eprintln!("---- pebble ----\n{}\n---- end ----", tail(&self.pebble.logs(), 20_000));
        }
    }
}

fn tail(s: &str, max: usize) -> &str {
    let mut from = s.len().saturating_sub(max);
    while !s.is_char_boundary(from) {
        from += 1;
    }
    &s[from..]
}

// ---------------------------------------------------------------------------------------
// Routers, waiting, clients.
// ---------------------------------------------------------------------------------------

/// Router and service `name` for `rule` with `tls.certResolver: pebble`, served by `port`.
fn tls_router(d: Dynamic, name: &str, rule: &str, port: u16) -> Dynamic {
    d.router_value(
        name,
        json!({"rule": rule, "service": name, "tls": {"certResolver": RESOLVER}}),
    )
    .service(name, &[port])
}

/// Calls `f` every 200 ms until it succeeds or `timeout` has passed; the last error then.
fn wait_for<T>(timeout: Duration, mut f: impl FnMut() -> Result<T, String>) -> Result<T, String> {
    let deadline = Instant::now() + timeout;
    loop {
        match f() {
            Ok(v) => return Ok(v),
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(_) => thread::sleep(EVERY),
        }
    }
}

/// `curl --cacert <ca> https://<host>:<port>/` resolved to 127.0.0.1: `Ok(body)` on a verified 200.
fn curl_https(port: u16, host: &str, ca: &Path) -> Result<String, String> {
    let out = Command::new("curl")
        .args([
            "-sS",
            "--noproxy",
            "*",
            "--max-time",
            "10",
            "-w",
            "\nstatus=%{http_code}\n",
        ])
        .arg("--cacert")
        .arg(ca)
        .args(["--resolve", &format!("{host}:{port}:127.0.0.1")])
        .arg(format!("https://{host}:{port}/"))
        .stdin(Stdio::null())
        .output()
        .expect("run curl");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() && text.contains("\nstatus=200\n") {
        Ok(text)
    } else {
        Err(format!("curl https://{host}:{port}/ ({}): {text}", out.status))
    }
}

/// `curl_https` that also wants the body of the upstream tagged `tag`.
fn serves(port: u16, host: &str, ca: &Path, tag: &str) -> Result<(), String> {
    let body = curl_https(port, host, ca)?;
    if body.starts_with(&format!("upstream={tag}\n")) {
        Ok(())
    } else {
        Err(format!("{host}: not upstream {tag}: {body}"))
    }
}

/// Accepts any server certificate: `served_chain` only looks at what is served; curl does the verifying.
#[derive(Debug)]
struct AnyCert(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The certificate chain served for SNI `host` on 127.0.0.1:`port` (leaf first).
fn served_chain(port: u16, host: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCert(provider)))
        .with_no_client_auth();
    let name = ServerName::try_from(host.to_owned()).map_err(|e| e.to_string())?;
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect {port}: {e}"))?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    tcp.set_write_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp)
            .map_err(|e| format!("TLS handshake for {host}: {e}"))?;
    }
    let chain = conn
        .peer_certificates()
        .ok_or_else(|| format!("{host}: no server certificate"))?
        .iter()
        .map(|c| c.clone().into_owned())
        .collect();
    conn.send_close_notify();
    let _ = conn.complete_io(&mut tcp);
    Ok(chain)
}

/// What the tests look at in a certificate.
#[derive(Debug)]
struct Leaf {
    sans: Vec<String>,
    issuer: String,
    serial: String,
}

fn leaf_facts(der: &[u8]) -> Leaf {
    let (_, cert) = x509_parser::parse_x509_certificate(der).expect("parse certificate");
    let sans = match cert.subject_alternative_name().expect("SAN extension") {
        Some(ext) => ext
            .value
            .general_names
            .iter()
            .filter_map(|n| match n {
                x509_parser::extensions::GeneralName::DNSName(d) => Some(d.to_string()),
                _ => None,
            })
            .collect(),
        None => Vec::new(),
    };
    Leaf {
        sans,
        issuer: cert.issuer().to_string(),
        serial: normalize_serial(&cert.tbs_certificate.raw_serial_as_string()),
    }
}

/// The names of every `/proc/<pid>/task/*/comm`.
fn thread_names(pid: u32) -> Vec<String> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .expect("read /proc/<pid>/task")
        .filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
        .map(|c| c.trim().to_string())
        .collect()
}

fn write_mode(path: &Path, contents: &[u8], mode: u32) {
    std::fs::write(path, contents).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
}

// ---------------------------------------------------------------------------------------
// acme.json contents.
// ---------------------------------------------------------------------------------------

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// The `Certificates` entries of the resolver in acme.json (empty when absent or null).
fn stored_certs(v: &Value) -> Vec<Value> {
    v.get(RESOLVER)
        .and_then(|r| r.get("Certificates"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn main_of(cert: &Value) -> &str {
    cert.pointer("/domain/main").and_then(Value::as_str).unwrap_or("")
}

/// The DER certificates of a stored entry's base64 PEM chain.
fn stored_chain(cert: &Value) -> Vec<CertificateDer<'static>> {
    let pem = b64()
        .decode(cert.get("certificate").and_then(Value::as_str).unwrap_or(""))
        .expect("certificate is base64");
    CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .expect("certificate is a PEM chain")
}

/// A Traefik (lego) account block; the key is not a real account key.
fn traefik_account() -> Value {
    json!({
        "Email": "x@y",
        "Registration": {"body": {"status": "valid", "contact": ["mailto:x@y"]},
                         "uri": "https://127.0.0.1:1/acme/acct/1"},
        "PrivateKey": b64().encode(b"\x30\x82\x02\x5c not a real RSA-4096 key in PKCS#1 DER"),
        "KeyType": "4096"
    })
}

/// A Traefik certificate entry for `main` (no SANs).
fn traefik_cert(main: &str, chain_pem: &str, key_pem: &str) -> Value {
    json!({
        "domain": {"main": main},
        "certificate": b64().encode(chain_pem),
        "key": b64().encode(key_pem),
        "Store": "default"
    })
}

// ---------------------------------------------------------------------------------------
// A test CA (not pebble) for certificates that exist before the proxy starts.
// ---------------------------------------------------------------------------------------

struct TestCa {
    issuer: rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
}

struct TestLeaf {
    pem: String,
    der: Vec<u8>,
    key_pem: String,
}

impl TestCa {
    fn new(name: &str) -> TestCa {
        let key = rcgen::KeyPair::generate().expect("CA key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
        TestCa {
            issuer: rcgen::CertifiedIssuer::self_signed(params, key).expect("CA certificate"),
        }
    }

    fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A leaf for `host` valid from `now - age` to `now + left`, key as PKCS#8 PEM.
    fn leaf(&self, host: &str, age: Duration, left: Duration) -> TestLeaf {
        let key = rcgen::KeyPair::generate().expect("leaf key");
        let mut params = rcgen::CertificateParams::new(vec![host.to_string()]).expect("leaf params");
        params.distinguished_name.push(rcgen::DnType::CommonName, host);
        let now = SystemTime::now();
        params.not_before = (now - age).into();
        params.not_after = (now + left).into();
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params.signed_by(&key, &self.issuer).expect("leaf certificate");
        TestLeaf {
            pem: cert.pem(),
            der: cert.der().to_vec(),
            key_pem: key.serialize_pem(),
        }
    }
}

/// A PKCS#8 PEM key in the "traditional" form Traefik (lego) writes: `EC PRIVATE KEY` (SEC1).
fn traditional_key(pkcs8_pem: &str) -> String {
    let mut child = Command::new("openssl")
        .args(["pkey", "-traditional"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run openssl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(pkcs8_pem.as_bytes())
        .expect("write key to openssl");
    let out = child.wait_with_output().expect("openssl output");
    let pem = String::from_utf8(out.stdout).expect("PEM is text");
    assert!(
        out.status.success() && pem.starts_with("-----BEGIN EC PRIVATE KEY-----"),
        "openssl pkey -traditional: {pem}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    pem
}

// ---------------------------------------------------------------------------------------
// `ringress certs ls`.
// ---------------------------------------------------------------------------------------

const COLUMNS: [&str; 7] = [
    "DOMAIN",
    "ISSUER",
    "NOT BEFORE",
    "NOT AFTER",
    "DAYS LEFT",
    "SERIAL",
    "STATUS",
];

/// The rows of the table `certs ls` prints, as cells cut at the header's column starts. Checks the header and that
/// no cell runs into the next column.
fn certs_table(out: &str) -> Result<Vec<[String; 7]>, String> {
    let lines: Vec<&str> = out.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("DOMAIN"))
        .ok_or_else(|| format!("no header line starting with DOMAIN in:\n{out}"))?;
    let header = lines[at];
    if header.split_whitespace().collect::<Vec<_>>().join(" ") != COLUMNS.join(" ") {
        return Err(format!("header is not `{}`:\n{out}", COLUMNS.join(" ")));
    }
    let mut starts = [0usize; 7];
    let mut from = 0;
    for (i, column) in COLUMNS.iter().enumerate() {
        let pos = from + header[from..].find(column).expect("checked above");
        starts[i] = pos;
        from = pos + column.len();
    }
    let mut rows = Vec::new();
    for line in lines[at + 1..].iter().take_while(|l| !l.trim().is_empty()) {
        let mut cells: [String; 7] = Default::default();
        for i in 0..7 {
            let (a, b) = (
                starts[i].min(line.len()),
                starts.get(i + 1).map_or(line.len(), |&s| s.min(line.len())),
            );
            if i > 0 && a < line.len() && line.as_bytes()[a - 1] != b' ' {
                return Err(format!("row not aligned with column {}: {line:?}\n{out}", COLUMNS[i]));
            }
            cells[i] = line
                .get(a..b)
                .ok_or_else(|| format!("row not aligned with column {}: {line:?}", COLUMNS[i]))?
                .trim()
                .to_string();
        }
        rows.push(cells);
    }
    Ok(rows)
}

/// The row for `domain`, if any.
fn row<'a>(rows: &'a [[String; 7]], domain: &str) -> Option<&'a [String; 7]> {
    rows.iter().find(|r| r[0] == domain)
}

/// Leading digits of a cell as a number (`1825`, `1825d`, `1825.9` → 1825).
fn leading_number(cell: &str) -> Option<u64> {
    let digits: String = cell.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

// ---------------------------------------------------------------------------------------
// Tests.
// ---------------------------------------------------------------------------------------

#[test]
fn issues_one_certificate_per_hostname_and_serves_them() {
    let one = Upstream::start(tagged("one"));
    let two = Upstream::start(tagged("two"));
    let both = Upstream::start(tagged("both"));
    let dynamic = tls_router(Dynamic::new(), "one", "Host(`one.test`)", one.port);
    let dynamic = tls_router(dynamic, "two", "Host(`two.test`)", two.port);
    let dynamic = tls_router(dynamic, "both", "Host(`three.test`) || Host(`four.test`)", both.port);
    let names = [
        ("one.test", "one"),
        ("two.test", "two"),
        ("three.test", "both"),
        ("four.test", "both"),
    ];
    let mut env = Env::new("acme-per-host", &dynamic);
    env.start_proxy();
    let root = env.pebble_root();

    for (name, tag) in names {
        if let Err(e) = wait_for(ISSUANCE, || serves(env.ports.websecure, name, &root, tag)) {
            panic!("{name} never served with a certificate from pebble: {e}");
        }
    }

    // One certificate per hostname, each naming exactly its host, issued by pebble.
    let issued = env.pebble.issued_serials();
    let mut serials = Vec::new();
    for (name, _) in names {
        let chain = served_chain(env.ports.websecure, name).unwrap();
        let leaf = leaf_facts(&chain[0]);
        assert_eq!(leaf.sans, [name], "{name}: served leaf {leaf:?}");
        assert!(leaf.issuer.contains("Pebble"), "{name}: {leaf:?}");
        assert!(
            issued.contains(&leaf.serial),
            "{name}: serial {} not in pebble's {issued:?}",
            leaf.serial
        );
        serials.push(leaf.serial);
    }
    serials.sort();
    serials.dedup();
    assert_eq!(serials.len(), 4, "four names, four certificates");

    // acme.json: 0600, four Traefik entries, each the chain being served.
    let stored = wait_for(Duration::from_secs(10), || {
        let v = env.stored();
        let certs = stored_certs(&v);
        if certs.len() == 4 {
            Ok(certs)
        } else {
            Err(format!("acme.json lists {} certificates (want 4):\n{v:#}", certs.len()))
        }
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(mode_of(&env.storage), 0o600);
    for (name, _) in names {
        let entry = stored
            .iter()
            .find(|c| main_of(c) == name)
            .unwrap_or_else(|| panic!("no acme.json entry with domain.main {name}: {stored:?}"));
        let sans = entry.pointer("/domain/sans").and_then(Value::as_array);
        assert!(sans.is_none_or(Vec::is_empty), "{name}: {entry}");
        assert_eq!(entry.get("Store").and_then(Value::as_str), Some("default"), "{name}");
        assert!(
            !entry.get("key").and_then(Value::as_str).unwrap_or("").is_empty(),
            "{name}: no key"
        );
        let served = served_chain(env.ports.websecure, name).unwrap();
        assert_eq!(
            stored_chain(entry)[0],
            served[0],
            "{name}: stored and served leaf differ"
        );
    }
    AcmeFile::load(&env.storage).expect("acme.json loads");

    // pebble: an order per name (more only if one had to be retried) and real HTTP-01 for each.
    let orders = env.pebble.order_count();
    eprintln!("pebble orders in the first run: {orders}");
    assert!(orders >= 4, "{orders} orders for 4 names");
    let validated = env.pebble.validated_names();
    for (name, _) in names {
        assert!(validated.contains(name), "pebble never validated {name}: {validated:?}");
    }

    // Plain HTTP to a TLS router: a redirect to https.
    let r = try_get(env.ports.web, "one.test", "/plain?q=1").unwrap();
    assert!(
        matches!(r.status, 301 | 302 | 307 | 308),
        "plain HTTP: {} {}",
        r.status,
        r.body_str()
    );
    let location = r.header("location").unwrap_or("");
    assert!(
        location.starts_with("https://one.test/") || location.starts_with("https://one.test:"),
        "Location {location:?}"
    );

    // No tokio anywhere in the process.
    let threads = thread_names(env.pid());
    assert!(!threads.is_empty());
    assert!(
        !threads.iter().any(|t| t.contains("tokio")),
        "tokio threads in the proxy: {threads:?}"
    );

    // Restart with the same config and storage: everything is served at once, nothing is ordered.
    let status = env.stop_proxy();
    assert!(status.success(), "SIGTERM exit: {status}");
    env.start_proxy();
    let ready = Instant::now();
    for (name, tag) in names {
        if let Err(e) = wait_for(Duration::from_secs(5).saturating_sub(ready.elapsed()), || {
            serves(env.ports.websecure, name, &root, tag)
        }) {
            panic!("{name} not served within 5 s of the restart: {e}");
        }
    }
    thread::sleep(Duration::from_secs(5).saturating_sub(ready.elapsed()));
    assert_eq!(env.pebble.order_count(), orders, "the restarted proxy ordered again");
    assert_eq!(stored_certs(&env.stored()).len(), 4);
}

#[test]
fn precheck_refuses_a_name_whose_dns_points_elsewhere() {
    let good = Upstream::start(tagged("good"));
    let elsewhere = Upstream::start(tagged("elsewhere"));
    let dynamic = tls_router(Dynamic::new(), "good", "Host(`good.test`)", good.port);
    let dynamic = tls_router(dynamic, "elsewhere", "Host(`elsewhere.test`)", elsewhere.port);
    let mut env = Env::new("acme-precheck", &dynamic);
    env.pebble.set_a("elsewhere.test", "127.0.0.2");
    assert_eq!(env.pebble.lookup_a("elsewhere.test"), [Ipv4Addr::new(127, 0, 0, 2)]);
    assert_eq!(env.pebble.lookup_a("good.test"), [Ipv4Addr::LOCALHOST]);
    env.start_proxy();
    let root = env.pebble_root();

    if let Err(e) = wait_for(ISSUANCE, || serves(env.ports.websecure, "good.test", &root, "good")) {
        panic!("good.test never served with a certificate from pebble: {e}");
    }
    let line = "elsewhere.test does not reach this proxy:";
    let count = || env.log().matches(line).count();
    let logged = wait_for(ISSUANCE, || {
        if count() > 0 {
            Ok(())
        } else {
            Err(format!("no `{line}` in the proxy's log within {ISSUANCE:?}"))
        }
    });
    logged.unwrap_or_else(|e| panic!("{e}"));
    // Backing off (first retry after a minute): no second attempt right away.
    let first = count();
    thread::sleep(Duration::from_secs(3));
    assert_eq!(
        count(),
        first,
        "the pre-check for elsewhere.test was retried within seconds"
    );

    assert!(
        !env.pebble.mentions("elsewhere.test"),
        "pebble was asked about elsewhere.test:\n{}",
        env.pebble.pebble_log()
    );
    assert!(env.pebble.validated_names().contains("good.test"));
    assert!(
        curl_https(env.ports.websecure, "elsewhere.test", &root).is_err(),
        "elsewhere.test is served with a certificate from pebble"
    );

    let rows = wait_for(Duration::from_secs(15), || {
        let out = env.certs_ls();
        if !out.status.success() {
            return Err(format!(
                "certs ls failed ({}): {}{}",
                out.status, out.stdout, out.stderr
            ));
        }
        let rows = certs_table(&out.stdout)?;
        match row(&rows, "elsewhere.test") {
            Some(r) if r[6].starts_with("failing until ") => Ok(rows),
            _ => Err(format!("no `failing until` row for elsewhere.test:\n{}", out.stdout)),
        }
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let status = &row(&rows, "elsewhere.test").unwrap()[6];
    assert!(status.contains(": "), "`failing until <time>: <reason>`: {status:?}");
    assert_eq!(row(&rows, "good.test").map(|r| r[6].as_str()), Some("ok"), "{rows:?}");
}

#[test]
fn imports_a_traefik_acme_json_without_ordering() {
    let app = Upstream::start(tagged("imported"));
    let dynamic = tls_router(Dynamic::new(), "imported", "Host(`imported.test`)", app.port);
    let mut env = Env::new("acme-import", &dynamic);
    let ca = TestCa::new("ringress test CA for imports");
    let ca_file = env.dir.write("test-ca.pem", &ca.pem());
    let leaf = ca.leaf("imported.test", DAY, 89 * DAY);
    let chain_pem = format!("{}{}", leaf.pem, ca.pem());
    let key_pem = traditional_key(&leaf.key_pem);
    let original = json!({RESOLVER: {
        "Account": traefik_account(),
        "Certificates": [traefik_cert("imported.test", &chain_pem, &key_pem)]
    }});
    write_mode(
        &env.storage,
        serde_json::to_string_pretty(&original).unwrap().as_bytes(),
        0o600,
    );
    // The file is one ringress's own store reads, and the certificate is not due.
    let loaded = AcmeFile::load(&env.storage).expect("load the Traefik file");
    let info = loaded.store.resolvers[RESOLVER]
        .certificate("imported.test")
        .unwrap()
        .info()
        .unwrap();
    assert_eq!(info.sans, ["imported.test"]);
    assert!(!info.renew_due(SystemTime::now()));

    env.start_proxy();
    let ready = Instant::now();
    if let Err(e) = wait_for(Duration::from_secs(15), || {
        serves(env.ports.websecure, "imported.test", &ca_file, "imported")
    }) {
        panic!("imported.test not served with the imported certificate: {e}");
    }
    let chain = served_chain(env.ports.websecure, "imported.test").unwrap();
    assert_eq!(
        chain[0].as_ref(),
        leaf.der.as_slice(),
        "served leaf is not the imported one"
    );

    thread::sleep(Duration::from_secs(5).saturating_sub(ready.elapsed()));
    assert_eq!(
        env.pebble.order_count(),
        0,
        "an order although acme.json had a good certificate"
    );
    assert!(!env.pebble.mentions("imported.test"));

    // After the proxy ran, Traefik's fields are still there and unchanged.
    let status = env.stop_proxy();
    assert!(status.success(), "SIGTERM exit: {status}");
    assert_eq!(mode_of(&env.storage), 0o600);
    let after = env.stored();
    assert_eq!(after[RESOLVER]["Account"], original[RESOLVER]["Account"]);
    let certs = stored_certs(&after);
    assert_eq!(certs.len(), 1, "{after:#}");
    for field in ["domain", "certificate", "key", "Store"] {
        assert_eq!(
            certs[0].get(field),
            original[RESOLVER]["Certificates"][0].get(field),
            "Certificates[0].{field}"
        );
    }
}

#[test]
fn world_readable_storage_is_refused() {
    let app = Upstream::start(tagged("open"));
    let dynamic = tls_router(Dynamic::new(), "open", "Host(`open.test`)", app.port);
    let mut env = Env::new("acme-0644", &dynamic);
    let contents =
        serde_json::to_vec_pretty(&json!({RESOLVER: {"Account": traefik_account(), "Certificates": null}})).unwrap();
    write_mode(&env.storage, &contents, 0o644);

    env.spawn();
    let status = env
        .proxy
        .as_mut()
        .unwrap()
        .wait_timeout(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("ringress still running 10 s after start with a 0644 acme.json"));
    env.proxy = None;
    assert!(!status.success(), "exit status {status}");
    let err = env.log();
    assert!(
        err.contains("permissions 644 are too open, please use 600"),
        "stderr:\n{err}"
    );
    assert_eq!(std::fs::read(&env.storage).unwrap(), contents, "acme.json was modified");
    assert_eq!(mode_of(&env.storage), 0o644, "acme.json mode was changed");
}

#[test]
fn renews_a_certificate_with_less_than_a_third_of_its_life_left() {
    let app = Upstream::start(tagged("renew"));
    let dynamic = tls_router(Dynamic::new(), "renew", "Host(`renew.test`)", app.port);
    let mut env = Env::new("acme-renew", &dynamic);
    let ca = TestCa::new("ringress test CA for renewals");
    // 90 days of life, 20 left: less than a third.
    let old = ca.leaf("renew.test", 70 * DAY, 20 * DAY);
    let old_entry = traefik_cert("renew.test", &old.pem, &old.key_pem);
    let original = json!({RESOLVER: {"Account": null, "Certificates": [old_entry.clone()]}});
    write_mode(
        &env.storage,
        serde_json::to_string_pretty(&original).unwrap().as_bytes(),
        0o600,
    );
    let loaded = AcmeFile::load(&env.storage).expect("load the preloaded file");
    let info = loaded.store.resolvers[RESOLVER]
        .certificate("renew.test")
        .unwrap()
        .info()
        .unwrap();
    assert!(
        info.renew_due(SystemTime::now()),
        "the preloaded certificate must be due: {info:?}"
    );
    assert!(!info.expired(SystemTime::now()));

    env.start_proxy();
    let root = env.pebble_root();
    if let Err(e) = wait_for(ISSUANCE, || serves(env.ports.websecure, "renew.test", &root, "renew")) {
        panic!("renew.test never served with a renewed certificate from pebble: {e}");
    }
    let chain = served_chain(env.ports.websecure, "renew.test").unwrap();
    assert_ne!(chain[0].as_ref(), old.der.as_slice());
    let leaf = leaf_facts(&chain[0]);
    assert_eq!(leaf.sans, ["renew.test"]);
    assert!(env.pebble.issued_serials().contains(&leaf.serial), "{leaf:?}");
    assert!(env.pebble.order_count() >= 1);
    assert!(env.pebble.validated_names().contains("renew.test"));

    // acme.json holds the new certificate, in place of the old one.
    let entry = wait_for(Duration::from_secs(10), || {
        let v = env.stored();
        let certs: Vec<Value> = stored_certs(&v)
            .into_iter()
            .filter(|c| main_of(c) == "renew.test")
            .collect();
        match certs.as_slice() {
            [c] if c.get("certificate") != old_entry.get("certificate") => Ok(c.clone()),
            _ => Err(format!(
                "acme.json does not hold exactly one new certificate for renew.test:\n{v:#}"
            )),
        }
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored_chain(&entry)[0], chain[0], "stored and served leaf differ");
    assert_ne!(entry.get("key"), old_entry.get("key"), "renewal reused the old key");
    assert_eq!(mode_of(&env.storage), 0o600);
}

#[test]
fn certs_ls_prints_the_table() {
    let app = Upstream::start(tagged("ls"));
    let dynamic = tls_router(Dynamic::new(), "ls-a", "Host(`ls-a.test`)", app.port);
    let dynamic = tls_router(dynamic, "ls-b", "Host(`ls-b.test`)", app.port);
    let mut env = Env::new("acme-certs-ls", &dynamic);
    env.start_proxy();
    let root = env.pebble_root();
    let names = ["ls-a.test", "ls-b.test"];
    for name in names {
        if let Err(e) = wait_for(ISSUANCE, || serves(env.ports.websecure, name, &root, "ls")) {
            panic!("{name} never served with a certificate from pebble: {e}");
        }
    }

    let (out, rows) = wait_for(Duration::from_secs(10), || {
        let out = env.certs_ls();
        if !out.status.success() {
            return Err(format!(
                "certs ls failed ({}): {}{}",
                out.status, out.stdout, out.stderr
            ));
        }
        let rows = certs_table(&out.stdout)?;
        if names.iter().all(|n| row(&rows, n).is_some_and(|r| r[6] == "ok")) {
            Ok((out.stdout, rows))
        } else {
            Err(format!("not every name has an `ok` row:\n{}", out.stdout))
        }
    })
    .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("{out}");
    for name in names {
        let r = row(&rows, name).unwrap();
        assert_eq!(
            rows.iter().filter(|r| r[0] == name).count(),
            1,
            "one row per domain:\n{out}"
        );
        let leaf = leaf_facts(&served_chain(env.ports.websecure, name).unwrap()[0]);
        assert!(r[1].contains("Pebble"), "ISSUER of {name}:\n{out}");
        assert!(
            !r[2].is_empty() && !r[3].is_empty(),
            "NOT BEFORE / NOT AFTER of {name}:\n{out}"
        );
        assert!(
            leading_number(&r[4]).is_some_and(|d| d > 0),
            "DAYS LEFT of {name}: {:?}\n{out}",
            r[4]
        );
        assert_eq!(
            normalize_serial(&r[5]),
            leaf.serial,
            "SERIAL of {name} (served leaf):\n{out}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// ARI: pebble 2.4 offers no renewal information, so a stand-in serves pebble's directory with a `renewalInfo`
// URL added and answers it; every other ACME request goes to pebble itself (the directory's URLs are pebble's).
// ---------------------------------------------------------------------------------------

/// Serves `GET /dir` (pebble's directory plus `renewalInfo`) and `GET /ari/<id>` (a window in the past for the
/// first certificate asked about, a window a month ahead for any other) over HTTPS on 127.0.0.1, with a certificate
/// from its own test CA.
struct AriStandIn {
    port: u16,
    ca_pem: String,
    asked: Arc<std::sync::Mutex<Vec<String>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl AriStandIn {
    fn start(pebble: &Pebble) -> AriStandIn {
        let client =
            ringress::acme::http::UreqClient::new(Some(pebble.tls_ca_pem().as_bytes()), Duration::from_secs(10))
                .expect("ureq client");
        let text = client
            .agent()
            .get(&pebble.directory_url())
            .call()
            .expect("pebble directory")
            .body_mut()
            .read_to_string()
            .expect("directory body");
        let mut dir: Value = serde_json::from_str(&text).expect("directory JSON");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind stand-in");
        let port = listener.local_addr().expect("addr").port();
        dir["renewalInfo"] = json!(format!("https://127.0.0.1:{port}/ari"));
        let dir = dir.to_string();

        let ca = TestCa::new("ringress test CA for the ARI stand-in");
        let leaf_key = rcgen::KeyPair::generate().expect("leaf key");
        let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
            .expect("leaf params")
            .signed_by(&leaf_key, &ca.issuer)
            .expect("leaf");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone()],
                rustls::pki_types::PrivateKeyDer::from_pem_slice(leaf_key.serialize_pem().as_bytes()).expect("key"),
            )
            .expect("server config");
        let tls = Arc::new(tls);

        listener.set_nonblocking(true).expect("nonblocking");
        let asked: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (asked2, stop2) = (asked.clone(), stop.clone());
        let thread = thread::spawn(move || {
            while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
                match listener.accept() {
                    Ok((tcp, _)) => {
                        let _ = tcp.set_nonblocking(false);
                        let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
                        let conn = rustls::ServerConnection::new(tls.clone()).expect("server connection");
                        ari_answer(rustls::StreamOwned::new(conn, tcp), &dir, &asked2);
                    }
                    Err(_) => thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        AriStandIn {
            port,
            ca_pem: ca.pem(),
            asked,
            stop,
            thread: Some(thread),
        }
    }

    fn directory_url(&self) -> String {
        format!("https://127.0.0.1:{}/dir", self.port)
    }

    /// The certificate identifiers asked about, in order.
    fn asked(&self) -> Vec<String> {
        self.asked.lock().expect("asked").clone()
    }
}

impl Drop for AriStandIn {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn ari_answer<S: std::io::Read + Write>(mut conn: S, dir: &str, asked: &std::sync::Mutex<Vec<String>>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
        match std::io::Read::read(&mut conn, &mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let target = head.split_whitespace().nth(1).unwrap_or("").to_string();
    let rfc3339 = |t: SystemTime| {
        time::OffsetDateTime::from(t)
            .format(&time::format_description::well_known::Rfc3339)
            .expect("format time")
    };
    let (status, body) = if target == "/dir" {
        ("200 OK", dir.to_string())
    } else if let Some(id) = target.strip_prefix("/ari/") {
        let mut asked = asked.lock().expect("asked");
        let first = asked.first().is_none_or(|f| f == id);
        asked.push(id.to_string());
        let now = SystemTime::now();
        let (start, end) = if first {
            (now - Duration::from_secs(2 * 3600), now - Duration::from_secs(3600))
        } else {
            (now + 30 * DAY, now + 31 * DAY)
        };
        (
            "200 OK",
            json!({"suggestedWindow": {"start": rfc3339(start), "end": rfc3339(end)}}).to_string(),
        )
    } else {
        ("404 Not Found", String::new())
    };
    let _ = write!(
        conn,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nRetry-After: 3600\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = conn.flush();
}

#[test]
fn renews_early_when_the_ca_renewal_window_has_opened() {
    let app = Upstream::start(tagged("ari"));
    let dynamic = tls_router(Dynamic::new(), "ari", "Host(`ari.test`)", app.port);
    let mut env = Env::new("acme-ari", &dynamic);
    let stand_in = AriStandIn::start(&env.pebble);
    env.use_directory(stand_in.directory_url(), stand_in.ca_pem.clone());
    env.start_proxy();
    let root = env.pebble_root();

    if let Err(e) = wait_for(ISSUANCE, || serves(env.ports.websecure, "ari.test", &root, "ari")) {
        panic!("ari.test never served with a certificate from pebble: {e}");
    }
    let first = leaf_facts(&served_chain(env.ports.websecure, "ari.test").unwrap()[0]).serial;
    // The CA's window for the first certificate is already open: a new certificate replaces it well before a third
    // of its (five-year) lifetime is left.
    let renewed = wait_for(ISSUANCE, || {
        let serial = leaf_facts(&served_chain(env.ports.websecure, "ari.test")?[0]).serial;
        if serial != first {
            Ok(serial)
        } else {
            Err(format!("still serving {first}; ARI asked about {:?}", stand_in.asked()))
        }
    })
    .unwrap_or_else(|e| panic!("{e}"));
    serves(env.ports.websecure, "ari.test", &root, "ari").unwrap();
    let asked = stand_in.asked();
    assert!(!asked.is_empty(), "the proxy never asked for renewal information");
    // The new certificate's window lies ahead: it is asked about, and no third order follows.
    let settled = wait_for(Duration::from_secs(20), || {
        let asked = stand_in.asked();
        if asked.iter().any(|a| a != &asked[0]) {
            Ok(())
        } else {
            Err(format!("the renewed certificate was never checked: {asked:?}"))
        }
    });
    settled.unwrap_or_else(|e| panic!("{e}"));
    let orders = env.pebble.order_count();
    thread::sleep(Duration::from_secs(3));
    assert_eq!(env.pebble.order_count(), orders, "orders kept coming after the renewal");
    // pebble 2.4 ignores `replaces`, which the ACME client notices: the proxy orders once more without it.
    assert_eq!(orders, 3, "the first order, the refused replacement, the renewal");
    assert!(
        env.log()
            .contains("did not take the renewal of ari.test as a replacement"),
        "{}",
        env.log()
    );
    let stored = stored_certs(&env.stored());
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(
        normalize_serial(&leaf_facts(&stored_chain(&stored[0])[0]).serial),
        normalize_serial(&renewed)
    );
}
