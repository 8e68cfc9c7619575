//! ACME against a real CA (pebble on loopback) and the acme.json store on a real file system.
//!
//! The issuance test runs the whole client sequence with real HTTP-01 validation, checks the chain against pebble's
//! issuing root with webpki, then stores, reloads and inspects it. The store tests cover Traefik's layout, the 0600
//! rule, corrupt files (refused, never overwritten) and crash safety of saving (SIGKILL mid-loop).

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine;
use common::pebble::{ChallengeServer, Pebble};
use common::TempDir;
use ringress::acme::client::{
    fetch_certificate, finalize, open_account, poll, restore_account, set_ready, start_order, ClientConfig, OrderStep,
};
use ringress::acme::store::{AcmeFile, StoreError, StoredCert};
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

const NAMES: [&str; 2] = ["ringress-it.test", "www.ringress-it.test"];

#[test]
fn issues_a_certificate_through_pebble_and_stores_it() {
    let challenges = ChallengeServer::start();
    let pebble = Pebble::start(challenges.port());
    let config = ClientConfig {
        directory_url: pebble.directory_url(),
        root_pem: Some(pebble.tls_ca_pem().as_bytes().to_vec()),
        timeout: Duration::from_secs(10),
    };
    let started = Instant::now();

    let opened = open_account(&config, None, &["mailto:it@ringress.test"]).expect("register account");
    let credentials = opened.new_credentials.expect("new account has credentials");
    let account = restore_account(&config, &credentials).expect("restore account from credentials");
    assert_eq!(account.id(), opened.account.id());

    let names: Vec<String> = NAMES.iter().map(|n| n.to_string()).collect();
    let mut pending = start_order(&account, &names, None).expect("start order");
    assert_eq!(pending.challenges.len(), 2, "one HTTP-01 challenge per name");
    for c in &pending.challenges {
        assert!(c.key_authorization.starts_with(&format!("{}.", c.token)));
        challenges.publish(&c.token, &c.key_authorization);
    }
    set_ready(&mut pending).expect("set ready");

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match poll(&mut pending.order).expect("poll") {
            OrderStep::Ready => break,
            OrderStep::Invalid(why) => panic!("order invalid: {why}\n{}", pebble.logs()),
            step => assert!(Instant::now() < deadline, "order stuck at {step:?}\n{}", pebble.logs()),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let hits = challenges.hits();
    for c in &pending.challenges {
        assert!(hits.iter().any(|h| h.ends_with(&c.token)), "pebble fetched {hits:?}");
    }
    let key_pem = finalize(&mut pending.order).expect("finalize");
    let chain_pem = loop {
        if let Some(chain) = fetch_certificate(&mut pending.order).expect("fetch certificate") {
            break chain;
        }
        assert!(Instant::now() < deadline, "certificate never issued\n{}", pebble.logs());
        std::thread::sleep(Duration::from_millis(50));
    };
    eprintln!("issued in {:?}", started.elapsed());

    verify_chain(&chain_pem, &pebble.issuing_root_pem());
    assert!(matches!(
        PrivateKeyDer::from_pem_slice(key_pem.as_bytes()),
        Ok(PrivateKeyDer::Pkcs8(_))
    ));

    let dir = TempDir::new("acme-issued");
    let path = dir.path().join("acme.json");
    let mut file = AcmeFile::load(&path).expect("load missing file");
    let resolver = file.store.resolver_mut("pebble");
    resolver.upsert(StoredCert::new(&names[0], &names[1..], &chain_pem, &key_pem));
    resolver.ringress.account = Some(credentials.clone());
    file.save().expect("save");

    let back = AcmeFile::load(&path).expect("reload");
    let resolver = &back.store.resolvers["pebble"];
    let cert = resolver.certificate(NAMES[0]).expect("stored certificate");
    assert_eq!(cert.store, "default");
    assert_eq!(cert.chain_pem().expect("chain"), chain_pem.as_bytes());
    assert_eq!(cert.key_pem().expect("key"), key_pem.as_bytes());
    let info = cert.info().expect("inspect");
    assert_eq!(info.sans.iter().map(String::as_str).collect::<Vec<_>>().len(), 2);
    for name in NAMES {
        assert!(info.sans.iter().any(|s| s == name), "{:?}", info.sans);
    }
    assert!(info.issuer.contains("Pebble"), "{}", info.issuer);
    assert!(
        !info.serial.is_empty() && info.serial.chars().all(|c| c.is_ascii_hexdigit()),
        "{}",
        info.serial
    );
    let now = SystemTime::now();
    assert!(info.not_before <= now + Duration::from_secs(60) && now < info.not_after);
    assert!(!info.renew_due(now), "fresh certificate is not due");
    let late = info.not_after - info.lifetime() / 4;
    assert!(info.renew_due(late), "due with a quarter of the lifetime left");
    assert!(info.renew_due(info.not_after + Duration::from_secs(1)));

    // The stored credentials open the same account again (no new registration).
    let stored = resolver.ringress.account.as_ref().expect("stored credentials");
    let again = open_account(&config, Some(stored), &[]).expect("reopen");
    assert!(again.new_credentials.is_none());
    assert_eq!(again.account.id(), account.id());
}

fn verify_chain(chain_pem: &str, root_pem: &str) {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(chain_pem.as_bytes())
        .collect::<Result<_, _>>()
        .expect("chain PEM");
    assert!(chain.len() >= 2, "leaf and intermediate");
    let mut roots = rustls::RootCertStore::empty();
    for root in CertificateDer::pem_slice_iter(root_pem.as_bytes()) {
        roots.add(root.expect("root PEM")).expect("add root");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .expect("verifier");
    for name in NAMES {
        let server_name = ServerName::try_from(name).expect("name");
        verifier
            .verify_server_cert(&chain[0], &chain[1..], &server_name, &[], UnixTime::now())
            .unwrap_or_else(|e| panic!("chain does not verify for {name}: {e}"));
    }
    let other = ServerName::try_from("other.test").expect("name");
    assert!(verifier
        .verify_server_cert(&chain[0], &chain[1..], &other, &[], UnixTime::now())
        .is_err());
}

fn write_0600(path: &Path, contents: &[u8]) {
    std::fs::write(path, contents).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

#[test]
fn world_readable_store_is_refused() {
    let dir = TempDir::new("acme-0644");
    let path = dir.path().join("acme.json");
    write_0600(&path, b"{}");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let err = AcmeFile::load(&path).expect_err("0644 must be refused");
    assert!(matches!(err, StoreError::TooOpen { mode: 0o644, .. }), "{err}");
    assert!(err.to_string().contains("too open"), "{err}");
}

#[test]
fn corrupt_store_is_refused_and_left_untouched() {
    let dir = TempDir::new("acme-corrupt");
    let path = dir.path().join("acme.json");
    let garbage = b"{\"letsencrypt\": {\"Certificates\": [ {\"domain\": ";
    write_0600(&path, garbage);
    let err = AcmeFile::load(&path).expect_err("corrupt must be refused");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("left untouched"), "{err}");
    assert_eq!(std::fs::read(&path).expect("read"), garbage);

    write_0600(&path, br#"{"letsencrypt": {"Certificates": {"not": "a list"}}}"#);
    assert!(matches!(AcmeFile::load(&path), Err(StoreError::Corrupt { .. })));
}

#[test]
fn unreadable_store_is_an_error() {
    let dir = TempDir::new("acme-dir");
    let path = dir.path().join("acme.json");
    std::fs::create_dir(&path).expect("mkdir");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    assert!(matches!(AcmeFile::load(&path), Err(StoreError::NotAFile { .. })));
}

/// A self-signed certificate as Traefik would have stored it, with fields ringress does not know.
fn traefik_file() -> (String, String) {
    let key = rcgen::KeyPair::generate().expect("key");
    let params =
        rcgen::CertificateParams::new(vec!["app.example".to_string(), "www.app.example".to_string()]).expect("params");
    let cert = params.self_signed(&key).expect("cert");
    let b64 = base64::engine::general_purpose::STANDARD;
    let json = serde_json::json!({
        "letsencrypt": {
            "Account": {
                "Email": "ops@example.com",
                "Registration": {"body": {"status": "valid", "contact": ["mailto:ops@example.com"]},
                                 "uri": "https://acme-v02.api.letsencrypt.org/acme/acct/123"},
                "PrivateKey": b64.encode(b"not a real key"),
                "KeyType": "4096"
            },
            "Certificates": [{
                "domain": {"main": "app.example", "sans": ["www.app.example"]},
                "certificate": b64.encode(cert.pem()),
                "key": b64.encode(key.serialize_pem()),
                "Store": "default",
                "FutureTraefikField": {"a": 1}
            }]
        },
        "staging": {"Account": null, "Certificates": null}
    });
    (serde_json::to_string_pretty(&json).expect("json"), cert.pem())
}

#[test]
fn traefik_store_import_round_trips() {
    let dir = TempDir::new("acme-traefik");
    let path = dir.path().join("acme.json");
    let (text, cert_pem) = traefik_file();
    write_0600(&path, text.as_bytes());

    let mut file = AcmeFile::load(&path).expect("load Traefik file");
    let le = &file.store.resolvers["letsencrypt"];
    assert_eq!(le.account.as_ref().map(|a| a.key_type.as_str()), Some("4096"));
    let cert = le.certificate("app.example").expect("certificate");
    assert_eq!(cert.chain_pem().expect("pem"), cert_pem.as_bytes());
    let info = cert.info().expect("inspect");
    assert_eq!(info.sans, ["app.example", "www.app.example"]);
    assert!(!info.renew_due(SystemTime::now()));

    let state = file
        .store
        .resolver_mut("letsencrypt")
        .ringress
        .domains
        .entry("app.example".into())
        .or_default();
    state.failures = 1;
    state.last_used = Some(1_700_000_000);
    file.save().expect("save");

    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
    let original: serde_json::Value = serde_json::from_str(&text).expect("json");
    // Everything Traefik wrote is still there, byte-for-byte equal as JSON values.
    assert_eq!(saved["letsencrypt"]["Account"], original["letsencrypt"]["Account"]);
    assert_eq!(
        saved["letsencrypt"]["Certificates"],
        original["letsencrypt"]["Certificates"]
    );
    assert_eq!(
        saved["letsencrypt"]["ringress"]["domains"]["app.example"]["failures"],
        1
    );
    assert!(saved.get("staging").is_some());
    let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(AcmeFile::load(&path).expect("reload").store, file.store);
}

const WRITER_ENV: &str = "RINGRESS_ACME_WRITER_PATH";

/// Not a test on its own: when started by `save_survives_sigkill` it saves a growing store in a loop until killed.
#[test]
fn atomic_writer_child() {
    let Ok(path) = std::env::var(WRITER_ENV) else { return };
    let mut file = AcmeFile::load(Path::new(&path)).expect("child load");
    let chain = "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n";
    for i in 0u64.. {
        let name = format!("n{i}.example");
        file.store
            .resolver_mut("le")
            .upsert(StoredCert::new(&name, &[], chain, &"k".repeat(4096)));
        file.save().expect("child save");
    }
}

#[test]
fn save_survives_sigkill() {
    let dir = TempDir::new("acme-kill");
    let path = dir.path().join("acme.json");
    let exe = std::env::current_exe().expect("test binary");
    for round in 0..5u64 {
        let mut child = Command::new(&exe)
            .args(["--exact", "atomic_writer_child", "--nocapture", "--test-threads=1"])
            .env(WRITER_ENV, &path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn writer");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !path.exists() {
            assert!(Instant::now() < deadline, "writer never wrote");
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(40 + 37 * round));
        child.kill().expect("SIGKILL writer");
        let _ = child.wait();
        let file = AcmeFile::load(&path).unwrap_or_else(|e| panic!("round {round}: {e}"));
        let count = file.store.resolvers.get("le").map_or(0, |r| r.certificates.len());
        assert!(count > 0, "round {round}: the file holds a complete store");
    }
}
