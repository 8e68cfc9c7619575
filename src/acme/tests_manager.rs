//! Planning decisions of the ACME manager: which wanted names get an order, which wait, which are renewed. No CA is
//! reached: the pre-check is off and orders are only planned, never stepped.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::manager::Manager;
use super::store::{AcmeFile, DomainState, StoredCert};
use crate::challenge::Receipts;
use crate::control::compile::CertWant;

const DAY: Duration = Duration::from_secs(24 * 3600);

struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("ringress-manager-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    fn storage(&self) -> PathBuf {
        self.0.join("acme.json")
    }

    /// A manager over this directory's acme.json; `extra` goes under `ringress.acme`.
    fn manager(&self, extra: &str) -> Manager {
        let config = format!(
            "entryPoints:\n  web: {{ address: \"127.0.0.1:1\" }}\ncertificatesResolvers:\n  le:\n    acme:\n      \
             storage: {}\n      caServer: https://127.0.0.1:1/dir\n      httpChallenge: {{ entryPoint: web }}\n\
             ringress:\n  acme: {{ precheck: false{extra} }}\n",
            self.storage().display()
        );
        let path = self.0.join("ringress.yml");
        std::fs::write(&path, config).expect("config");
        let loaded = crate::config::load(&path).expect("config loads");
        let default = crate::tls::default_cert::generate().expect("default cert");
        Manager::new(&loaded.config, Arc::new(Receipts::new(1)), default)
            .expect("manager")
            .expect("a resolver is configured")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn want(main: &str) -> CertWant {
    CertWant {
        resolver: "le".into(),
        main: main.into(),
        sans: Vec::new(),
        router: format!("{main}@http"),
    }
}

/// A self-signed certificate for `name`, `age` old with `left` to live.
fn cert(name: &str, age: Duration, left: Duration) -> StoredCert {
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::new(vec![name.to_string()]).expect("params");
    let now = SystemTime::now();
    params.not_before = (now - age).into();
    params.not_after = (now + left).into();
    let c = params.self_signed(&key).expect("cert");
    StoredCert::new(name, &[], &c.pem(), &key.serialize_pem())
}

fn preload(path: &Path, certs: Vec<StoredCert>, states: Vec<(&str, DomainState)>) {
    let mut file = AcmeFile::load(path).expect("load");
    let resolver = file.store.resolver_mut("le");
    for c in certs {
        resolver.upsert(c);
    }
    for (main, state) in states {
        resolver.ringress.domains.insert(main.to_string(), state);
    }
    file.save().expect("save");
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).expect("after the epoch").as_secs()
}

fn planned(m: &mut Manager, wants: &[&str]) -> Vec<(String, bool)> {
    m.set_wants(wants.iter().map(|w| want(w)).collect());
    m.plan(Instant::now());
    let mut orders = m.orders();
    orders.sort();
    orders
}

#[test]
fn orders_missing_and_due_names_and_leaves_fresh_ones() {
    let s = Scratch::new("due");
    preload(
        &s.storage(),
        vec![
            cert("fresh.test", DAY, 80 * DAY),
            cert("due.test", 70 * DAY, 20 * DAY),
            cert("expired.test", 100 * DAY, Duration::ZERO),
        ],
        Vec::new(),
    );
    let mut m = s.manager("");
    let orders = planned(
        &mut m,
        &["fresh.test", "due.test", "expired.test", "new.test", "*.wild.test"],
    );
    assert_eq!(
        orders,
        [
            ("due.test".to_string(), true),
            ("expired.test".to_string(), true),
            ("new.test".to_string(), false)
        ]
    );
    // Planning again does not start a second order for the same name.
    m.plan(Instant::now());
    assert_eq!(m.orders().len(), 3);
}

#[test]
fn backoff_from_acme_json_is_honoured() {
    let s = Scratch::new("backoff");
    let now = SystemTime::now();
    let waiting = DomainState {
        failures: 2,
        next_attempt: Some(unix(now + Duration::from_secs(120))),
        last_error: Some("boom".into()),
        ..DomainState::default()
    };
    let over = DomainState {
        failures: 5,
        next_attempt: Some(unix(now) - 1),
        ..DomainState::default()
    };
    preload(
        &s.storage(),
        Vec::new(),
        vec![("waiting.test", waiting), ("over.test", over)],
    );
    let mut m = s.manager("");
    assert_eq!(
        planned(&mut m, &["waiting.test", "over.test"]),
        [("over.test".to_string(), false)]
    );
}

#[test]
fn the_global_order_cap_holds() {
    let s = Scratch::new("cap");
    let mut m = s.manager(", maxNewOrders: 2");
    assert_eq!(planned(&mut m, &["a.test", "b.test", "c.test"]).len(), 2);
}

#[test]
fn unwanted_certificates_are_renewed_for_thirty_days_after_their_last_use() {
    let s = Scratch::new("unused");
    let now = SystemTime::now();
    let used = |days: u32| DomainState {
        last_used: Some(unix(now - days * DAY)),
        ..DomainState::default()
    };
    preload(
        &s.storage(),
        vec![
            cert("recent.test", 70 * DAY, 20 * DAY),
            cert("gone.test", 70 * DAY, 20 * DAY),
            cert("quiet.test", DAY, 80 * DAY),
        ],
        vec![
            ("recent.test", used(10)),
            ("gone.test", used(40)),
            ("quiet.test", used(40)),
        ],
    );
    let mut m = s.manager("");
    assert_eq!(planned(&mut m, &[]), [("recent.test".to_string(), true)]);
}

#[test]
fn names_of_unknown_resolvers_get_no_order() {
    let s = Scratch::new("unknown");
    let mut m = s.manager("");
    let mut other = want("x.test");
    other.resolver = "nope".into();
    m.set_wants(vec![other]);
    m.plan(Instant::now());
    assert!(m.orders().is_empty());
}
